#include "twin_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

struct fixture {
	char *dir;
	struct twin_conf *conf;
	struct twin_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = twin_test_tmpdir();
	twin_err_init(&fx->err);
	fx->conf = twin_conf_new(&fx->err);
	assert_ptr_ok(fx->err, fx->conf);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_conf_free(fx->conf);
	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static char *write_text(const struct twin_conf *conf, const char *section)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	twin_conf_write(conf, f, section);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * The one helper through which the parser is tested: loads text into a fresh
 * conf from a string named "pipeline.conf", then from a file of that text,
 * and checks that both give the same result: success when want_code is
 * TWIN_OK, else that code and a message "<name>:<want>". Returns the conf
 * loaded from the file (twin_conf_free), or NULL after a wanted failure.
 */
static struct twin_conf *load_both(const char *dir, const char *text,
				   enum twin_code want_code, const char *want)
{
	struct twin_conf *conf[2] = { NULL, NULL };
	char *first = NULL, *second = NULL;
	char expect[TWIN_ERR_MSG_MAX + 4096];
	char path[4096];

	snprintf(path, sizeof(path), "%s/pipeline.conf", dir);
	twin_test_write_file(path, text, strlen(text));
	for (int from_file = 0; from_file < 2; from_file++) {
		const char *name = from_file ? path : "pipeline.conf";
		struct twin_err err;
		int rc;

		twin_err_init(&err);
		conf[from_file] = twin_conf_new(&err);
		assert_ptr_ok(err, conf[from_file]);
		if (from_file)
			rc = twin_conf_load_file(&err, conf[from_file], path);
		else
			rc = twin_conf_load_string(&err, conf[from_file], name, text);
		if (want_code == TWIN_OK) {
			assert_ok(err, rc);
			continue;
		}
		assert_int_equal(rc, -1);
		snprintf(expect, sizeof(expect), "%s:%s", name, want);
		assert_err(err, want_code, expect);
		/* the name comes first */
		assert_memory_equal(err.msg, name, strlen(name));
	}
	if (want_code != TWIN_OK) {
		twin_conf_free(conf[0]);
		twin_conf_free(conf[1]);
		return NULL;
	}
	/* string and file agree on every value */
	first = write_text(conf[0], NULL);
	second = write_text(conf[1], NULL);
	assert_string_equal(first, second);
	free(first);
	free(second);
	twin_conf_free(conf[0]);
	return conf[1];
}

static void defaults_are_declared(void **state)
{
	struct fixture *fx = *state;
	static const char *const labels[] = {
		"heart_myocardium", "heart_atrium_left", "heart_ventricle_left",
		"heart_atrium_right", "heart_ventricle_right", "aorta", "pulmonary_artery",
	};
	static const char *const targets[] = {
		"vtu", "svmp", "abaqus", "febio", "opencarp", "openfoam", "xdmf", "msh22",
	};
	struct twin_phase ph;
	char key[64];

	assert_string_equal(twin_conf_string(fx->conf, "ingest.series"), "");
	assert_string_equal(twin_conf_string(fx->conf, "ingest.phase"), "75%");
	assert_int_equal(twin_conf_bool(fx->conf, "ingest.all_phases"), 0);
	assert_string_equal(twin_conf_string(fx->conf, "ingest.uneven"), "resample");
	assert_int_equal(twin_conf_bool(fx->conf, "ingest.keep_phi"), 0);
	assert_int_equal(twin_conf_int(fx->conf, "ingest.threads"), 0);
	assert_true(twin_conf_double(fx->conf, "segment.spacing") == 1.0);
	assert_string_equal(twin_conf_string(fx->conf, "segment.partial"), "error");
	assert_string_equal(twin_conf_string(fx->conf, "segment.seeds"), "");
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 1.5);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		snprintf(key, sizeof(key), "mesh.size.%s", labels[i]);
		assert_true(twin_conf_double(fx->conf, key) == 0.0);
	}
	assert_string_equal(twin_conf_string(fx->conf, "mesh.labels"), "all");
	assert_true(twin_conf_double(fx->conf, "mesh.vessel_length") == 0.0);
	assert_int_equal(twin_conf_int(fx->conf, "mesh.max_tets"), 5000000);
	assert_int_equal(twin_conf_int(fx->conf, "mesh.smooth_iterations"), 20);
	assert_true(twin_conf_double(fx->conf, "mesh.rv_wall") == 0.0);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		assert_int_equal(twin_conf_list_has(fx->conf, "export.targets", targets[i]), 1);
	assert_int_equal(twin_conf_list_has(fx->conf, "export.targets", "stl"), 0);
	assert_true(twin_conf_double(fx->conf, "fibres.alpha_endo") == 60.0);
	assert_true(twin_conf_double(fx->conf, "fibres.alpha_epi") == -60.0);
	assert_true(twin_conf_double(fx->conf, "fibres.beta_endo") == -65.0);
	assert_true(twin_conf_double(fx->conf, "fibres.beta_epi") == 25.0);
	twin_conf_phase(fx->conf, &ph);
	assert_int_equal(ph.is_percent, 1);
	assert_true(ph.percent == 75.0);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.size"), "default");
}

static void syntax_forms(void **state)
{
	struct fixture *fx = *state;
	struct twin_conf *conf;
	const char *text =
		"\xef\xbb\xbf# a comment\r\n"
		"; another comment\n"
		"\n"
		"   [ mesh ]   # trailing comment\n"
		"size=2.5\n"
		"  smooth_iterations   =   7   # seven passes\n"
		"size.aorta = 0.8\n"
		"[ingest]\n"
		"series = \"CTA #2; arterial\"  # quoted, so '#' stays\n"
		"phase = \"40%\"\n"
		"all_phases = YES\n"
		"keep_phi = off\n"
		"uneven = error\r\n"
		"[segment]\n"
		"seeds =\n"
		"[export]\n"
		"targets = vtu , openfoam,msh22\n"
		"[fibres]\n"
		"alpha_endo = -7.5e1";

	conf = load_both(fx->dir, text, TWIN_OK, NULL);
	assert_true(twin_conf_double(conf, "mesh.size") == 2.5);
	assert_int_equal(twin_conf_int(conf, "mesh.smooth_iterations"), 7);
	assert_true(twin_conf_double(conf, "mesh.size.aorta") == 0.8);
	assert_string_equal(twin_conf_string(conf, "ingest.series"), "CTA #2; arterial");
	assert_string_equal(twin_conf_string(conf, "ingest.phase"), "40%");
	assert_int_equal(twin_conf_bool(conf, "ingest.all_phases"), 1);
	assert_int_equal(twin_conf_bool(conf, "ingest.keep_phi"), 0);
	assert_string_equal(twin_conf_string(conf, "ingest.uneven"), "error");
	assert_string_equal(twin_conf_string(conf, "segment.seeds"), "");
	assert_int_equal(twin_conf_list_has(conf, "export.targets", "vtu"), 1);
	assert_int_equal(twin_conf_list_has(conf, "export.targets", "openfoam"), 1);
	assert_int_equal(twin_conf_list_has(conf, "export.targets", "msh22"), 1);
	assert_int_equal(twin_conf_list_has(conf, "export.targets", "abaqus"), 0);
	assert_string_equal(twin_conf_string(conf, "ingest.uneven"), "error");
	assert_true(twin_conf_double(conf, "fibres.alpha_endo") == -75.0);
	/* the origin is "name:line" (the file's name: its path) */
	assert_non_null(strstr(twin_conf_origin(conf, "mesh.smooth_iterations"), "pipeline.conf:6"));
	assert_non_null(strstr(twin_conf_origin(conf, "ingest.uneven"), "pipeline.conf:13"));
	assert_string_equal(twin_conf_origin(conf, "mesh.labels"), "default");
	twin_conf_free(conf);
}

/* Each bad line, alone in a [mesh] section unless it brings its own. */
static void errors_name_line_and_echo(void **state)
{
	static const struct {
		const char *text;
		const char *msg; /* after "name:" */
	} cases[] = {
		{ "[mesh]\nsise = 1.0\n",
		  "2: unknown key 'mesh.sise' (did you mean 'mesh.size'?): sise = 1.0" },
		{ "[mesh]\nspacing = 1.0\n",
		  "2: unknown key 'mesh.spacing' (did you mean 'segment.spacing'?): spacing = 1.0" },
		{ "[mesh]\nwhatever = 1\n", "2: unknown key 'mesh.whatever': whatever = 1" },
		{ "[mesh]\n\n[meshh]\n", "3: unknown section 'meshh' (did you mean 'mesh'?): [meshh]" },
		{ "[fibers]\n", "1: unknown section 'fibers' (did you mean 'fibres'?): [fibers]" },
		{ "[solver]\n", "1: unknown section 'solver': [solver]" },
		{ "size = 1\n", "1: key 'size' comes before any [section]: size = 1" },
		{ "[mesh]\njust words\n", "2: expected 'key = value' or '[section]': just words" },
		{ "[mesh]\n = 3\n", "2: missing key before '=':  = 3" },
		{ "[mesh\n", "1: missing ']': [mesh" },
		{ "[mesh] x\n", "1: text after ']': [mesh] x" },
		{ "[mesh]\nsize = 1\n# c\nsize = 2\n",
		  "4: duplicate key 'mesh.size' (first set on line 2): size = 2" },
		{ "[mesh]\nsize = 20\n", "2: 'mesh.size' = '20' is out of range (0.2 to 10 mm): size = 20" },
		{ "[mesh]\nsize = 0.1\n", "2: 'mesh.size' = '0.1' is out of range" },
		{ "[mesh]\nsize = 0\n", "2: 'mesh.size' = '0' is out of range" },
		{ "[mesh]\nsize.aorta = 0.1\n",
		  "2: 'mesh.size.aorta' = '0.1' is out of range (0, or 0.2 to 10 mm): size.aorta = 0.1" },
		{ "[mesh]\nsize = big\n", "2: 'mesh.size' = 'big' is not a number: size = big" },
		{ "[mesh]\nsize = nan\n", "2: 'mesh.size' = 'nan' is not a number" },
		{ "[mesh]\nsize = inf\n", "2: 'mesh.size' = 'inf' is not a number" },
		{ "[mesh]\nsize = 0x1p1\n", "2: 'mesh.size' = '0x1p1' is not a number" },
		{ "[mesh]\nsize = 1.5 mm\n", "2: 'mesh.size' = '1.5 mm' is not a number" },
		{ "[mesh]\nsize =\n", "2: 'mesh.size' = '' is not a number" },
		{ "[mesh]\nmax_tets = 2000.5\n", "2: 'mesh.max_tets' = '2000.5' is not a whole number" },
		{ "[mesh]\nmax_tets = 999\n",
		  "2: 'mesh.max_tets' = '999' is out of range (1000 to 100000000): max_tets = 999" },
		{ "[mesh]\nlabels = some\n",
		  "2: 'mesh.labels' = 'some' is not one of all, blood, myocardium: labels = some" },
		{ "[mesh]\nlabels = All\n", "2: 'mesh.labels' = 'All' is not one of" },
		{ "[ingest]\nkeep_phi = maybe\n",
		  "2: 'ingest.keep_phi' = 'maybe' is not true or false" },
		{ "[ingest]\nthreads = -1\n", "2: 'ingest.threads' = '-1' is out of range (0 to 256)" },
		{ "[ingest]\nphase = 100%\n", "2: 'ingest.phase' = '100%' is neither a percent below 100" },
		{ "[ingest]\nphase = 40 %\n", "2: 'ingest.phase' = '40 %' is neither" },
		{ "[ingest]\nphase = -1\n", "2: 'ingest.phase' = '-1' is neither" },
		{ "[ingest]\nphase = 3.%\n", "2: 'ingest.phase' = '3.%' is neither" },
		{ "[ingest]\nphase = late\n", "2: 'ingest.phase' = 'late' is neither" },
		{ "[export]\ntargets = vtu,stl\n",
		  "2: 'export.targets' = 'vtu,stl' names 'stl', which is not one of all, vtu, svmp" },
		{ "[export]\ntargets = vtu,,xdmf\n", "2: 'export.targets' = 'vtu,,xdmf' has an empty item" },
		{ "[export]\ntargets = vtu,xdmf,vtu\n", "2: 'export.targets' = 'vtu,xdmf,vtu' names 'vtu' twice" },
		{ "[export]\ntargets = all,vtu\n", "2: 'export.targets' = 'all,vtu' mixes 'all' with other names" },
		{ "[export]\ntargets =\n", "2: 'export.targets' = '' has an empty item" },
		{ "[fibres]\nbeta_epi = 91\n", "2: 'fibres.beta_epi' = '91' is out of range (-90 to 90 degrees)" },
		{ "[ingest]\nseries = \"CTA\n", "2: 'ingest.series': unterminated quote: series = \"CTA" },
		{ "[ingest]\nseries = \"CTA\" x\n", "2: 'ingest.series': text after the closing quote" },
		{ "[ingest]\nseries = CT\"A\n", "2: 'ingest.series': a '\"' may only enclose a whole value" },
		{ "[ingest]\nseries = a\x01z\n", "2: 'ingest.series': control character in the value" },
	};
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(load_both(fx->dir, cases[i].text, TWIN_ECONFIG, cases[i].msg));
	}
}

static void long_line_is_cut_in_the_echo(void **state)
{
	struct fixture *fx = *state;
	char text[1200];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "[ingest]\nseries = \"");
	memset(text + n, 'x', 1000);
	text[n + 1000] = '\0';
	assert_null(load_both(fx->dir, text, TWIN_ECONFIG, "2: 'ingest.series': unterminated quote: series = \"xxx"));
	/* the echo stops after 160 bytes of the line */
	assert_int_equal(twin_conf_load_string(&fx->err, fx->conf, "p", text), -1);
	assert_non_null(strstr(fx->err.msg, "xxx..."));
	assert_true(strlen(fx->err.msg) < 300);
}

static void nul_byte_is_an_error(void **state)
{
	struct fixture *fx = *state;
	static const char text[] = "[mesh]\nsize = 1\0 2\n";
	const char *path = twin_test_path(fx->dir, "nul.conf");

	twin_test_write_file(path, text, sizeof(text) - 1);
	assert_int_equal(twin_conf_load_file(&fx->err, fx->conf, path), -1);
	assert_err(fx->err, TWIN_ECONFIG, "nul.conf:2: NUL byte in the line");
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 1.5);
}

static void missing_file_names_path(void **state)
{
	struct fixture *fx = *state;
	const char *path = twin_test_path(fx->dir, "absent.conf");

	assert_int_equal(twin_conf_load_file(&fx->err, fx->conf, path), -1);
	assert_err(fx->err, TWIN_EIO, "absent.conf': No such file or directory");
	assert_non_null(strstr(fx->err.msg, fx->dir));
}

static void failed_load_changes_nothing(void **state)
{
	struct fixture *fx = *state;

	assert_ok(fx->err, twin_conf_load_string(&fx->err, fx->conf, "a.conf", "[mesh]\nsize = 2\n"));
	assert_int_equal(twin_conf_load_string(&fx->err, fx->conf, "b.conf",
					       "[mesh]\nsize = 3\nsmooth_iterations = 5\nlabels = x\n"), -1);
	assert_err(fx->err, TWIN_ECONFIG, "b.conf:4: 'mesh.labels' = 'x' is not one of");
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 2.0);
	assert_int_equal(twin_conf_int(fx->conf, "mesh.smooth_iterations"), 20);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.size"), "a.conf:2");
}

static void later_load_overrides(void **state)
{
	struct fixture *fx = *state;

	assert_ok(fx->err, twin_conf_load_string(&fx->err, fx->conf, "site.conf",
						 "[mesh]\nsize = 2\nrv_wall = 3\n"));
	/* the same key in another load is not a duplicate */
	assert_ok(fx->err, twin_conf_load_string(&fx->err, fx->conf, "case.conf",
						 "[fibres]\n[mesh]\n\nsize = 0.5\n"));
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 0.5);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.size"), "case.conf:4");
	assert_true(twin_conf_double(fx->conf, "mesh.rv_wall") == 3.0);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.rv_wall"), "site.conf:3");
	/* an empty text changes nothing */
	assert_ok(fx->err, twin_conf_load_string(&fx->err, fx->conf, "empty.conf", ""));
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 0.5);
}

static void set_overrides(void **state)
{
	struct fixture *fx = *state;
	struct twin_phase ph;

	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "mesh.size=2"));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, " mesh.size = 3.5 "));
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 3.5);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.size"), "--set");
	/* on the command line '#' is part of the value */
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.series=CTA #2"));
	assert_string_equal(twin_conf_string(fx->conf, "ingest.series"), "CTA #2");
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.series=\" lead\""));
	assert_string_equal(twin_conf_string(fx->conf, "ingest.series"), " lead");
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.phase=3"));
	twin_conf_phase(fx->conf, &ph);
	assert_int_equal(ph.is_percent, 0);
	assert_int_equal(ph.index, 3);
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.phase=37.5%"));
	twin_conf_phase(fx->conf, &ph);
	assert_int_equal(ph.is_percent, 1);
	assert_true(ph.percent == 37.5);
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "export.targets=abaqus"));
	assert_int_equal(twin_conf_list_has(fx->conf, "export.targets", "abaqus"), 1);
	assert_int_equal(twin_conf_list_has(fx->conf, "export.targets", "vtu"), 0);
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.keep_phi=1"));
	assert_int_equal(twin_conf_bool(fx->conf, "ingest.keep_phi"), 1);
	assert_string_equal(twin_conf_origin(fx->conf, "ingest.all_phases"), "default");
}

/* A program's own option stands for a key: its name is the origin and starts its errors. */
static void set_value_from_option(void **state)
{
	struct fixture *fx = *state;

	assert_ok(fx->err, twin_conf_set_value(&fx->err, fx->conf, "--size", "mesh.size", "2.5"));
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 2.5);
	assert_string_equal(twin_conf_origin(fx->conf, "mesh.size"), "--size");
	/* taken as it is: no quotes removed, '#' kept */
	assert_ok(fx->err, twin_conf_set_value(&fx->err, fx->conf, "--series", "ingest.series", "\"CTA #2\""));
	assert_string_equal(twin_conf_string(fx->conf, "ingest.series"), "\"CTA #2\"");
	assert_int_equal(twin_conf_set_value(&fx->err, fx->conf, "--size", "mesh.size", "3x"), -1);
	assert_int_equal(fx->err.code, TWIN_ECONFIG);
	assert_true(strncmp(fx->err.msg, "--size '3x': 'mesh.size' = '3x' ", 32) == 0);
	/* a failed set keeps the earlier value */
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 2.5);
}

static void set_errors(void **state)
{
	static const struct {
		const char *arg;
		const char *msg;
	} cases[] = {
		{ "mesh.sise=1", "--set 'mesh.sise=1': unknown key 'mesh.sise' (did you mean 'mesh.size'?)" },
		{ "mesh.size", "--set 'mesh.size': expected section.key=value" },
		{ "=1", "--set '=1': missing key before '='" },
		{ "mesh.size=11", "--set 'mesh.size=11': 'mesh.size' = '11' is out of range (0.2 to 10 mm)" },
		{ "mesh.labels=none", "--set 'mesh.labels=none': 'mesh.labels' = 'none' is not one of all, blood, myocardium" },
		{ "ingest.series=\"x", "--set 'ingest.series=\"x': 'ingest.series': unterminated quote" },
		{ "ingest.series=a\nb", "control character in the value" },
		{ "size=1", "--set 'size=1': unknown key 'size'" },
	};
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twin_err_init(&fx->err);
		assert_int_equal(twin_conf_set(&fx->err, fx->conf, cases[i].arg), -1);
		assert_err(fx->err, TWIN_ECONFIG, cases[i].msg);
	}
	assert_true(twin_conf_double(fx->conf, "mesh.size") == 1.5);
	assert_string_equal(twin_conf_string(fx->conf, "ingest.series"), "");
}

struct collect {
	char text[4096];
	size_t n;
	int stop_at;
};

static int collect_one(void *ctx, const char *key, const char *value, const char *origin)
{
	struct collect *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s=%s@%s\n", key, value, origin);
	c->n++;
	return (int)c->n == c->stop_at ? 42 : 0;
}

static void write_reads_back(void **state)
{
	struct fixture *fx = *state;
	struct collect a, b;
	struct twin_conf *back = NULL;
	char *text = NULL;

	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.series=CTA #2; late"));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "segment.seeds=\" seeds.txt\""));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "mesh.size=0.75"));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "export.targets= vtu, febio "));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "ingest.all_phases=on"));
	text = write_text(fx->conf, NULL);
	assert_non_null(strstr(text, "[ingest]\nseries = \"CTA #2; late\"\n"));
	assert_non_null(strstr(text, "seeds = \" seeds.txt\"\n"));
	assert_non_null(strstr(text, "\n[mesh]\nsize = 0.75\n"));
	assert_non_null(strstr(text, "targets = vtu,febio\n"));
	assert_non_null(strstr(text, "all_phases = true\n"));
	back = load_both(fx->dir, text, TWIN_OK, NULL);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(twin_conf_foreach(fx->conf, NULL, collect_one, &a), 0);
	assert_int_equal(twin_conf_foreach(back, NULL, collect_one, &b), 0);
	assert_int_equal(a.n, b.n);
	/* same keys and values; only the origins differ */
	for (char *p = a.text; (p = strchr(p, '@')); ) {
		char *nl = strchr(p, '\n');
		memmove(p, nl, strlen(nl) + 1);
	}
	for (char *p = b.text; (p = strchr(p, '@')); ) {
		char *nl = strchr(p, '\n');
		memmove(p, nl, strlen(nl) + 1);
	}
	assert_string_equal(a.text, b.text);
	twin_conf_free(back);
	free(text);

	text = write_text(fx->conf, "mesh");
	assert_memory_equal(text, "[mesh]\nsize = 0.75\n", 19);
	assert_null(strstr(text, "[ingest]"));
	assert_null(strstr(text, "fibres"));
	free(text);
}

static void foreach_filters_and_stops(void **state)
{
	struct fixture *fx = *state;
	struct collect c;

	memset(&c, 0, sizeof(c));
	assert_ok(fx->err, twin_conf_set(&fx->err, fx->conf, "fibres.beta_epi=30"));
	assert_int_equal(twin_conf_foreach(fx->conf, "fibres", collect_one, &c), 0);
	assert_string_equal(c.text,
			    "fibres.alpha_endo=60@default\n"
			    "fibres.alpha_epi=-60@default\n"
			    "fibres.beta_endo=-65@default\n"
			    "fibres.beta_epi=30@--set\n");
	memset(&c, 0, sizeof(c));
	assert_int_equal(twin_conf_foreach(fx->conf, NULL, collect_one, &c), 0);
	assert_int_equal(c.n, 28);
	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	assert_int_equal(twin_conf_foreach(fx->conf, NULL, collect_one, &c), 42);
	assert_int_equal(c.n, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(twin_conf_foreach(fx->conf, "mes", collect_one, &c), 0);
	assert_int_equal(c.n, 0);
}

/* The committed pipeline.conf is exactly what twin_conf_doc writes. */
static void doc_matches_committed_file(void **state)
{
	struct fixture *fx = *state;
	const char *src = getenv("TWIN_SRC");
	char path[4096];
	char *doc = NULL, *file = NULL;
	size_t doclen = 0, filelen = 0;
	struct collect c;
	struct twin_conf *conf;
	FILE *f;

	snprintf(path, sizeof(path), "%s%spipeline.conf", src ? src : "", src ? "/" : "");
	if (access(path, R_OK) != 0)
		fail_msg("cannot read '%s': run the tests from the top of the repository or set TWIN_SRC", path);
	f = open_memstream(&doc, &doclen);
	assert_non_null(f);
	twin_conf_doc(f);
	assert_int_equal(fclose(f), 0);
	file = twin_test_read_file(path, &filelen);
	if (filelen != doclen || memcmp(file, doc, doclen) != 0)
		fail_msg("'%s' differs from twin_conf_doc's output: regenerate it from common/conf.c", path);
	/* every key is in it, at its default */
	conf = load_both(fx->dir, doc, TWIN_OK, NULL);
	memset(&c, 0, sizeof(c));
	twin_conf_foreach(conf, NULL, collect_one, &c);
	assert_int_equal(c.n, 28);
	assert_null(strstr(c.text, "@default"));
	free(file);
	twin_conf_free(conf);
	conf = twin_conf_new(&fx->err);
	assert_ptr_ok(fx->err, conf);
	assert_ok(fx->err, twin_conf_load_string(&fx->err, conf, "doc", doc));
	file = write_text(conf, NULL);
	free(doc);
	doc = write_text(fx->conf, NULL);
	assert_string_equal(file, doc);
	assert_non_null(strstr(doc, "[export]\ntargets = all\n"));
	free(file);
	free(doc);
	twin_conf_free(conf);
}

/* Runs fn in a child and checks that it aborts. */
static void assert_aborts(void (*fn)(const struct twin_conf *), const struct twin_conf *conf)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* keep the child's message out of the TAP output */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		fn(conf);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void get_undeclared(const struct twin_conf *conf)
{
	(void)twin_conf_double(conf, "mesh.sise");
}

static void get_wrong_type(const struct twin_conf *conf)
{
	(void)twin_conf_int(conf, "mesh.size");
}

static void get_list_as_string(const struct twin_conf *conf)
{
	(void)twin_conf_string(conf, "export.targets");
}

static void undeclared_getter_aborts(void **state)
{
	struct fixture *fx = *state;

	assert_aborts(get_undeclared, fx->conf);
	assert_aborts(get_wrong_type, fx->conf);
	assert_aborts(get_list_as_string, fx->conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_are_declared, setup, teardown),
		cmocka_unit_test_setup_teardown(syntax_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_name_line_and_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(long_line_is_cut_in_the_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_byte_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_names_path, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_load_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(later_load_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(set_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(set_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(write_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(foreach_filters_and_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(doc_matches_committed_file, setup, teardown),
		cmocka_unit_test_setup_teardown(undeclared_getter_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(set_value_from_option, setup, teardown),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
