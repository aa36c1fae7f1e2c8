#include "twin_test.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "files.h"
#include "hash.h"
#include "manifest.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static int setup(void **state)
{
	*state = twin_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

static char *join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *p = join(dir, name);

	twin_test_write_file(p, text, strlen(text));
	free(p);
}

/* Appends a finished record of program with one setting to dir's manifest. */
static void append_simple(const char *dir, const char *program, const char *key, const char *value)
{
	struct twin_manifest_record *rec;
	struct twin_err err;

	twin_err_init(&err);
	rec = twin_manifest_record_new(&err, program, "1.0");
	assert_ptr_ok(err, rec);
	twin_manifest_add_setting(rec, key, value);
	assert_ok(err, twin_manifest_append(&err, dir, rec));
	twin_manifest_record_free(rec);
}

static struct twin_manifest *load_case(const char *dir)
{
	char *p = join(dir, "manifest.xml");
	struct twin_manifest *m;
	struct twin_err err;

	twin_err_init(&err);
	m = twin_manifest_load(&err, p);
	free(p);
	assert_ptr_ok(err, m);
	return m;
}

static void hashes_known_vectors(void **state)
{
	const char *dir = *state;
	char hex[TWIN_SHA256_HEX], hex2[TWIN_SHA256_HEX];
	struct twin_err err;
	uint64_t size = 1;
	size_t big = 2621440 + 7; /* 2.5 MiB and a bit: three reads */
	char *buf, *p;

	twin_err_init(&err);
	write_text(dir, "empty", "");
	p = join(dir, "empty");
	assert_ok(err, twin_sha256_file(&err, p, hex, &size));
	assert_string_equal(hex, SHA_EMPTY);
	assert_true(size == 0);
	free(p);

	buf = malloc(big);
	assert_non_null(buf);
	memset(buf, 'a', 1000000);
	p = join(dir, "million");
	twin_test_write_file(p, buf, 1000000);
	assert_ok(err, twin_sha256_file(&err, p, hex, &size));
	assert_string_equal(hex, SHA_MILLION_A);
	assert_true(size == 1000000);
	free(p);

	for (size_t i = 0; i < big; i++)
		buf[i] = (char)(i * 131 + (i >> 9));
	p = join(dir, "big");
	twin_test_write_file(p, buf, big);
	assert_ok(err, twin_sha256_file(&err, p, hex, &size));
	assert_ok(err, twin_sha256_mem(&err, buf, big, hex2));
	assert_string_equal(hex, hex2);
	assert_true(size == big);
	assert_ok(err, twin_sha256_mem(&err, "abc", 3, hex2));
	assert_string_equal(hex2, SHA_ABC);
	free(p);
	free(buf);

	assert_int_equal(twin_sha256_file(&err, dir, hex, NULL), -1);
	assert_err(err, TWIN_EIO, "': not a regular file");
	twin_err_init(&err);
	p = join(dir, "absent");
	assert_int_equal(twin_sha256_file(&err, p, hex, NULL), -1);
	assert_err(err, TWIN_EIO, "absent': No such file or directory");
	free(p);
}

/* Hashed piece by piece, the same digest as in one piece. */
static void hashes_in_pieces(void **state)
{
	char hex[TWIN_SHA256_HEX], hex2[TWIN_SHA256_HEX];
	struct twin_sha256 *h;
	struct twin_err err;
	uint64_t size = 0;
	char *buf = malloc(1000000);

	(void)state;
	twin_err_init(&err);
	assert_non_null(buf);
	memset(buf, 'a', 1000000);
	h = twin_sha256_new(&err);
	assert_ptr_ok(err, h);
	assert_ok(err, twin_sha256_update(&err, h, buf, 1));
	assert_ok(err, twin_sha256_update(&err, h, buf, 0));
	assert_ok(err, twin_sha256_update(&err, h, buf + 1, 654320));
	assert_ok(err, twin_sha256_update(&err, h, buf + 654321, 1000000 - 654321));
	assert_ok(err, twin_sha256_final(&err, h, hex, &size));
	assert_string_equal(hex, SHA_MILLION_A);
	assert_true(size == 1000000);
	twin_sha256_free(h);

	h = twin_sha256_new(&err);
	assert_ptr_ok(err, h);
	assert_ok(err, twin_sha256_final(&err, h, hex2, NULL));
	assert_string_equal(hex2, SHA_EMPTY);
	twin_sha256_free(h);
	twin_sha256_free(NULL);
	free(buf);
}

/* A digest the caller computed is noted as given, and the file is not read. */
static void hashed_files_are_noted_as_given(void **state)
{
	const char *dir = *state;
	char *in = join(dir, "a.dcm"), *out = join(dir, "image.nii"), *gone = join(dir, "gone.nii");
	char hex[TWIN_SHA256_HEX];
	const struct twin_manifest_record *r;
	struct twin_manifest_record *rec;
	struct twin_manifest *m;
	struct twin_err err;
	uint64_t size;

	twin_err_init(&err);
	write_text(dir, "a.dcm", "abc");
	write_text(dir, "image.nii", "");
	rec = twin_manifest_record_new(&err, "twin-ingest", "1.0");
	assert_ptr_ok(err, rec);
	assert_ok(err, twin_sha256_file(&err, in, hex, &size));
	assert_ok(err, twin_manifest_add_input_hashed(&err, rec, in, size, hex));
	/* taken as given: the caller hashed the bytes it wrote */
	assert_ok(err, twin_manifest_add_output_hashed(&err, rec, out, 3, SHA_ABC));

	assert_int_equal(twin_manifest_add_output_hashed(&err, rec, out, 3, "ABC"), -1);
	assert_err(err, TWIN_EFAIL, "image.nii': 'ABC' is not a SHA-256");
	twin_err_init(&err);
	assert_int_equal(twin_manifest_add_output_hashed(&err, rec, gone, 3, SHA_ABC), -1);
	assert_err(err, TWIN_EIO, "gone.nii");
	twin_err_init(&err);
	assert_int_equal(rec->ninputs, 1);
	assert_int_equal(rec->noutputs, 1);
	assert_ok(err, twin_manifest_append(&err, dir, rec));

	m = load_case(dir);
	r = &m->records[0];
	assert_int_equal(r->ninputs, 1);
	assert_string_equal(r->inputs[0].path, "a.dcm");
	assert_string_equal(r->inputs[0].sha256, SHA_ABC);
	assert_true(r->inputs[0].size == 3);
	assert_int_equal(r->noutputs, 1);
	assert_string_equal(r->outputs[0].path, "image.nii");
	assert_string_equal(r->outputs[0].sha256, SHA_ABC);
	assert_true(r->outputs[0].size == 3);
	twin_manifest_free(m);
	twin_manifest_record_free(rec);
	free(in);
	free(out);
	free(gone);
}

/* One section of the effective settings, and only that section, is noted. */
static void settings_of_a_section(void **state)
{
	struct twin_manifest_record *rec;
	struct twin_conf *conf;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	conf = twin_conf_new(&err);
	assert_ptr_ok(err, conf);
	assert_ok(err, twin_conf_set(&err, conf, "mesh.size=2.5"));
	rec = twin_manifest_record_new(&err, "twin-mesh", "1");
	assert_ptr_ok(err, rec);
	twin_manifest_add_settings(rec, conf, "mesh");
	assert_string_equal(twin_manifest_record_setting(rec, "mesh.size"), "2.5");
	assert_string_equal(twin_manifest_record_setting(rec, "mesh.labels"), "all");
	assert_null(twin_manifest_record_setting(rec, "segment.spacing"));
	twin_manifest_record_free(rec);
	twin_conf_free(conf);
}

static void record_round_trip(void **state)
{
	const char *dir = *state;
	char *outside_dir = twin_test_tmpdir();
	char *in = join(dir, "image.nii.gz"), *out = join(dir, "sub/labels.nii.gz");
	char *ext = join(outside_dir, "dicom.dcm");
	const struct twin_manifest_record *r;
	struct twin_manifest_record *rec;
	struct twin_manifest *m;
	struct twin_err err;
	struct timespec nap = { 0, 60 * 1000000 };

	twin_err_init(&err);
	write_text(dir, "image.nii.gz", "abc");
	assert_ok(err, twin_mkdir_p(&err, twin_test_path(dir, "sub")));
	write_text(dir, "sub/labels.nii.gz", "");
	write_text(outside_dir, "dicom.dcm", "abc");

	rec = twin_manifest_record_new(&err, "twin-segment", "0.3-g1234");
	assert_ptr_ok(err, rec);
	assert_int_equal(strlen(rec->start), 20);
	assert_true(rec->start[10] == 'T' && rec->start[19] == 'Z');
	twin_manifest_add_setting(rec, "segment.method", "threshold");
	twin_manifest_add_setting(rec, "segment.smooth", "1.0");
	twin_manifest_add_setting(rec, "segment.method", "atlas");
	twin_manifest_add_setting(rec, "odd\x01key", "caf\xc3\xa9 & <x>");
	assert_ok(err, twin_manifest_add_input(&err, rec, in));
	assert_ok(err, twin_manifest_add_input(&err, rec, ext));
	assert_ok(err, twin_manifest_add_output(&err, rec, out));
	twin_manifest_add_warning(rec, "slice %d: %s", 14, "spacing 0.8 mm differs\xff");
	nanosleep(&nap, NULL);
	assert_ok(err, twin_manifest_append(&err, dir, rec));
	assert_true(rec->wall_seconds >= 0.06 && rec->wall_seconds < 30);

	m = load_case(dir);
	assert_int_equal(m->nrecords, 1);
	r = &m->records[0];
	assert_string_equal(r->program, "twin-segment");
	assert_string_equal(r->version, "0.3-g1234");
	assert_string_equal(r->start, rec->start);
	assert_true(r->wall_seconds >= 0.06 && r->wall_seconds - rec->wall_seconds < 0.001);
	assert_int_equal(r->status, TWIN_MANIFEST_OK);
	assert_null(r->message);
	assert_int_equal(r->nsettings, 3);
	assert_string_equal(twin_manifest_record_setting(r, "segment.method"), "atlas");
	assert_string_equal(twin_manifest_record_setting(r, "segment.smooth"), "1.0");
	assert_string_equal(twin_manifest_record_setting(r, "odd?key"), "caf\xc3\xa9 & <x>");
	assert_null(twin_manifest_record_setting(r, "segment.none"));
	assert_int_equal(r->ninputs, 2);
	assert_string_equal(r->inputs[0].path, "image.nii.gz");
	assert_string_equal(r->inputs[0].sha256, SHA_ABC);
	assert_true(r->inputs[0].size == 3);
	/* A file outside the case folder keeps its absolute path. */
	assert_true(r->inputs[1].path[0] == '/');
	assert_non_null(strstr(r->inputs[1].path, "/dicom.dcm"));
	assert_string_equal(r->inputs[1].sha256, SHA_ABC);
	assert_int_equal(r->noutputs, 1);
	assert_string_equal(r->outputs[0].path, "sub/labels.nii.gz");
	assert_string_equal(r->outputs[0].sha256, SHA_EMPTY);
	assert_true(r->outputs[0].size == 0);
	assert_int_equal(r->nwarnings, 1);
	assert_string_equal(r->warnings[0], "slice 14: spacing 0.8 mm differs?");

	/* The driver's check: unchanged, then changed, then gone. */
	assert_int_equal(twin_manifest_record_unchanged(&err, r, dir), 1);
	write_text(dir, "sub/labels.nii.gz", "x");
	assert_int_equal(twin_manifest_record_unchanged(&err, r, dir), 0);
	write_text(dir, "sub/labels.nii.gz", "");
	assert_int_equal(twin_manifest_record_unchanged(&err, r, dir), 1);
	unlink(in);
	assert_int_equal(twin_manifest_record_unchanged(&err, r, dir), 0);
	assert_int_equal(err.code, TWIN_OK);

	twin_manifest_free(m);
	twin_manifest_record_free(rec);
	free(in);
	free(out);
	free(ext);
	twin_test_rmdir(outside_dir);
}

static void failed_runs_are_recorded(void **state)
{
	const char *dir = *state;
	const struct twin_manifest_record *r;
	struct twin_manifest_record *rec;
	struct twin_err err, stage;
	struct twin_manifest *m;

	append_simple(dir, "twin-ingest", "ingest.series", "first");
	append_simple(dir, "twin-mesh", "mesh.size", "1.5");
	append_simple(dir, "twin-ingest", "ingest.series", "second");

	twin_err_init(&err);
	twin_err_init(&stage);
	twin_err_set(&stage, TWIN_EINPUT, "series '1.2.3': slice 14: spacing 0.8 mm differs from 1.0 mm");
	rec = twin_manifest_record_new(&err, "twin-ingest", "1.0");
	assert_ptr_ok(err, rec);
	twin_manifest_add_setting(rec, "ingest.series", "third");
	twin_manifest_record_fail(rec, &stage);
	assert_ok(err, twin_manifest_append(&err, dir, rec));
	twin_manifest_record_free(rec);

	m = load_case(dir);
	assert_int_equal(m->nrecords, 4);
	assert_int_equal(m->records[3].status, TWIN_MANIFEST_FAILED);
	assert_int_equal(m->records[3].code, TWIN_EINPUT);
	assert_string_equal(m->records[3].message, "series '1.2.3': slice 14: spacing 0.8 mm differs from 1.0 mm");
	r = twin_manifest_last_ok(m, "twin-ingest");
	assert_non_null(r);
	assert_string_equal(twin_manifest_record_setting(r, "ingest.series"), "second");
	r = twin_manifest_last_ok(m, "twin-mesh");
	assert_ptr_equal(r, &m->records[1]);
	assert_null(twin_manifest_last_ok(m, "twin-export"));
	twin_manifest_free(m);
}

/* Loads text as a manifest from memory and from a file; both must agree. */
static struct twin_manifest *load_both(struct twin_err *err, const char *dir, const char *text, int from_file)
{
	char *p = join(dir, "manifest.xml");
	struct twin_manifest *m;

	twin_err_init(err);
	if (from_file) {
		twin_test_write_file(p, text, strlen(text));
		m = twin_manifest_load(err, p);
	} else {
		m = twin_manifest_load_mem(err, p, text, strlen(text));
	}
	free(p);
	return m;
}

static const char good_head[] = "<?xml version=\"1.0\"?>\n<manifest version=\"1\">\n";
static const char good_rec[] =
	"<record program=\"twin-ingest\" version=\"1\" start=\"2024-05-01T12:00:00Z\" "
	"wall_seconds=\"1.5\" status=\"ok\">\n"
	"<input path=\"a\" size=\"3\" sha256=\"" SHA_ABC "\"/>\n</record>\n";

static void reader_rejects_bad_manifests(void **state)
{
	const char *dir = *state;
	struct {
		const char *body;
		const char *want;
	} cases[] = {
		{ "<manifest version=\"1\">\n<record>\n</manifest>", "manifest.xml': line 3: opening and ending tag mismatch" },
		{ "", "manifest.xml': file is empty" },
		{ "<manifest version=\"2\"/>", "manifest.xml': line 1: element 'manifest', attribute 'version'" },
		{ "<manifest version=\"1\">\n<record program=\"p\" version=\"1\" start=\"yesterday\" "
		  "wall_seconds=\"1\" status=\"ok\"/>\n</manifest>",
		  "manifest.xml': line 2: element 'record', attribute 'start': 'yesterday' is not a valid value" },
		{ "<manifest version=\"1\">\n<record program=\"p\" version=\"1\" start=\"2024-05-01T12:00:00Z\" "
		  "wall_seconds=\"1\" status=\"ok\">\n<input path=\"a\" size=\"3\" sha256=\"ABC\"/>\n</record>\n</manifest>",
		  "manifest.xml': line 3: element 'input', attribute 'sha256': [facet 'pattern']" },
		{ "<manifest version=\"1\">\n<record program=\"p\" version=\"1\" start=\"2024-05-01T12:00:00Z\" "
		  "wall_seconds=\"1\" status=\"maybe\"/>\n</manifest>",
		  "manifest.xml': line 2: element 'record', attribute 'status': [facet 'enumeration']" },
		{ "<manifest version=\"1\">\n<record program=\"p\" version=\"1\" start=\"2024-05-01T12:00:00Z\" "
		  "wall_seconds=\"1\" status=\"failed\"/>\n</manifest>",
		  "manifest.xml': line 2: record of 'p' has status 'failed' but no error" },
		{ "<manifest version=\"1\">\n<record program=\"p\" version=\"1\" start=\"2024-05-01T12:00:00Z\" "
		  "wall_seconds=\"1\" status=\"ok\"><setting key=\"k\" value=\"1\"/><setting key=\"k\" value=\"2\"/>"
		  "</record>\n</manifest>",
		  "manifest.xml': line 2: element 'setting': Duplicate key-sequence ['k']" },
	};
	struct twin_manifest *m;
	struct twin_err err;
	char text[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int mode = 0; mode < 2; mode++) {
			m = load_both(&err, dir, cases[i].body, mode);
			if (m)
				fail_msg("case %zu mode %d was accepted", i, mode);
			assert_err(err, TWIN_EINPUT, cases[i].want);
			assert_non_null(strstr(err.msg, "manifest '"));
			assert_non_null(strstr(err.msg, dir));
		}
	}
	snprintf(text, sizeof(text), "%s%s%s</manifest>\n", good_head, good_rec, good_rec);
	for (int mode = 0; mode < 2; mode++) {
		m = load_both(&err, dir, text, mode);
		assert_ptr_ok(err, m);
		assert_int_equal(m->nrecords, 2);
		assert_true(m->records[1].wall_seconds == 1.5);
		assert_string_equal(m->records[1].inputs[0].path, "a");
		twin_manifest_free(m);
	}
	twin_err_init(&err);
	assert_null(twin_manifest_load(&err, twin_test_path(dir, "absent.xml")));
	assert_err(err, TWIN_EIO, "absent.xml': No such file or directory");
}

static void corrupt_manifest_is_never_overwritten(void **state)
{
	const char *dir = *state;
	const char *bad[] = {
		"<manifest version=\"1\">\n<record program=\"twin-ingest\"\n<oops/>\n",
		"<manifest version=\"1\">\n  <note/>\n</manifest>\n",
		"\x89PNG\r\n\x1a\n",
	};
	const char *want[] = {
		"manifest.xml': line 3: ",
		"manifest.xml': line 2: element 'note': This element is not expected",
		"manifest.xml': line 1: start tag expected",
	};

	for (size_t i = 0; i < 3; i++) {
		struct twin_manifest_record *rec;
		char *p = join(dir, "manifest.xml");
		struct twin_err err;
		char prefix[4200];
		size_t len = 0;
		char *bytes;

		twin_test_write_file(p, bad[i], strlen(bad[i]));
		twin_err_init(&err);
		rec = twin_manifest_record_new(&err, "twin-mesh", "1.0");
		assert_ptr_ok(err, rec);
		assert_int_equal(twin_manifest_append(&err, dir, rec), -1);
		snprintf(prefix, sizeof(prefix), "manifest '%s/manifest.xml': line ", dir);
		assert_err(err, TWIN_EINPUT, prefix);
		assert_err(err, TWIN_EINPUT, want[i]);
		bytes = twin_test_read_file(p, &len);
		assert_int_equal(len, strlen(bad[i]));
		assert_memory_equal(bytes, bad[i], len);
		free(bytes);
		twin_manifest_record_free(rec);
		free(p);
	}
}

static void missing_case_folder_is_an_error(void **state)
{
	struct twin_manifest_record *rec;
	struct twin_err err;
	char *p = join(*state, "no-such-case");

	twin_err_init(&err);
	rec = twin_manifest_record_new(&err, "twin-mesh", "1.0");
	assert_ptr_ok(err, rec);
	assert_int_equal(twin_manifest_append(&err, p, rec), -1);
	assert_err(err, TWIN_EIO, "no-such-case': No such file or directory");
	assert_int_equal(twin_path_exists(p), 0);
	assert_null(twin_manifest_record_new(&err, "", "1.0"));
	twin_manifest_record_free(rec);
	free(p);
}

static void two_writers_lose_nothing(void **state)
{
	const char *dir = *state;
	struct twin_manifest *m;
	pid_t pid[2];
	int seen[2][20] = { { 0 } };

	for (int c = 0; c < 2; c++) {
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0) {
			int bad = 0;

			for (int i = 0; i < 20 && !bad; i++) {
				struct twin_manifest_record *rec;
				struct twin_err err;
				char v[32];

				twin_err_init(&err);
				rec = twin_manifest_record_new(&err, c ? "twin-b" : "twin-a", "1.0");
				snprintf(v, sizeof(v), "%d", i);
				if (!rec)
					bad = 1;
				else
					twin_manifest_add_setting(rec, "i", v);
				if (rec && twin_manifest_append(&err, dir, rec) != 0) {
					fprintf(stderr, "child %d: %s\n", c, err.msg);
					bad = 1;
				}
				twin_manifest_record_free(rec);
			}
			xmlCleanupParser();
			_exit(bad);
		}
	}
	for (int c = 0; c < 2; c++) {
		int st = 0;

		assert_int_equal(waitpid(pid[c], &st, 0), pid[c]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	m = load_case(dir);
	assert_int_equal(m->nrecords, 40);
	for (size_t i = 0; i < m->nrecords; i++) {
		int c = strcmp(m->records[i].program, "twin-b") == 0;
		int n = atoi(twin_manifest_record_setting(&m->records[i], "i"));

		assert_true(n >= 0 && n < 20);
		seen[c][n]++;
	}
	for (int c = 0; c < 2; c++)
		for (int n = 0; n < 20; n++)
			assert_int_equal(seen[c][n], 1);
	twin_manifest_free(m);
}

static void xmllint_accepts_written_manifest(void **state)
{
	const char *dir = *state;
	char *xsd = join(dir, "manifest.xsd"), *xml = join(dir, "manifest.xml");
	char cmd[9000];
	struct twin_manifest_record *rec;
	struct twin_err err, stage;
	int rc;

	if (system("command -v xmllint >/dev/null 2>&1") != 0) {
		free(xsd);
		free(xml);
		printf("# SKIP xmllint is not installed (Debian package libxml2-utils)\n");
		skip();
	}
	write_text(dir, "in.txt", "abc");
	append_simple(dir, "twin-ingest", "a", "b");
	twin_err_init(&err);
	twin_err_init(&stage);
	twin_err_set(&stage, TWIN_EDEP, "gmsh: meshing failed");
	rec = twin_manifest_record_new(&err, "twin-mesh", "1.0");
	assert_ptr_ok(err, rec);
	assert_ok(err, twin_manifest_add_input(&err, rec, twin_test_path(dir, "in.txt")));
	twin_manifest_add_warning(rec, "a warning");
	twin_manifest_record_fail(rec, &stage);
	assert_ok(err, twin_manifest_append(&err, dir, rec));
	twin_manifest_record_free(rec);

	twin_test_write_file(xsd, twin_manifest_xsd, strlen(twin_manifest_xsd));
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s' '%s' 2>/dev/null", xsd, xml);
	rc = system(cmd);
	assert_int_equal(rc, 0);
	/* And xmllint does fail a bad one, so the check above means something. */
	write_text(dir, "manifest.xml", "<manifest version=\"1\"><oops/></manifest>");
	rc = system(cmd);
	assert_int_not_equal(rc, 0);
	free(xsd);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hashes_known_vectors, setup, teardown),
		cmocka_unit_test(hashes_in_pieces),
		cmocka_unit_test_setup_teardown(hashed_files_are_noted_as_given, setup, teardown),
		cmocka_unit_test(settings_of_a_section),
		cmocka_unit_test_setup_teardown(record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_runs_are_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_rejects_bad_manifests, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_manifest_is_never_overwritten, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_case_folder_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(two_writers_lose_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(xmllint_accepts_written_manifest, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("manifest", tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
