#include "twin_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "../../workflow/skip.h"
#include "../../workflow/stages.h"
#include "conf.h"
#include "files.h"
#include "manifest.h"

/*
 * Each test gets a scratch folder with a case whose twin-ingest and twin-mesh
 * ran once: DIR/dicom/a.dcm -> DIR/case/ingest/image.nii.gz, and
 * DIR/case/segment/labels.nii.gz -> DIR/case/mesh/heart.msh and quality.xml.
 * Inputs are dated 100 s ago, outputs 50 s ago.
 */
struct fixture {
	char *dir;
	char *case_dir;
	char *dicom;
	struct twin_conf *conf;
	struct twin_manifest *m;
	char why[1024];
};

static const struct twin_stage *stage(const char *name)
{
	size_t n;
	const struct twin_stage *s = twin_stages(&n);
	int i = twin_stage_find(name);

	assert_true(i >= 0 && (size_t)i < n);
	return &s[i];
}

static void write_dated(const char *path, const char *text, time_t age)
{
	struct timespec t[2];

	twin_test_write_file(path, text, strlen(text));
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void date_file(const char *path, time_t age)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Appends a record of program with conf's settings of section, one input and the outputs. */
static void record(struct fixture *f, const char *program, const char *section, const char *input,
		   const char *const *outputs)
{
	struct twin_manifest_record *rec;
	struct twin_err err;

	twin_err_init(&err);
	rec = twin_manifest_record_new(&err, program, "1.0");
	assert_ptr_ok(err, rec);
	twin_manifest_add_settings(rec, f->conf, section);
	assert_ok(err, twin_manifest_add_input(&err, rec, input));
	for (; *outputs; outputs++)
		assert_ok(err, twin_manifest_add_output(&err, rec, twin_test_path(f->case_dir, *outputs)));
	assert_ok(err, twin_manifest_append(&err, f->case_dir, rec));
	twin_manifest_record_free(rec);
}

static void reload(struct fixture *f)
{
	struct twin_err err;

	twin_err_init(&err);
	twin_manifest_free(f->m);
	f->m = twin_manifest_load(&err, twin_test_path(f->case_dir, "manifest.xml"));
	assert_ptr_ok(err, f->m);
}

static int setup(void **state)
{
	static const char *const mesh_out[] = { "mesh/heart.msh", "mesh/quality.xml", NULL };
	static const char *const ingest_out[] = { "ingest/image.nii.gz", NULL };
	struct fixture *f = calloc(1, sizeof(*f));
	struct twin_err err;
	char *input;

	assert_non_null(f);
	twin_err_init(&err);
	f->dir = twin_test_tmpdir();
	f->case_dir = strdup(twin_test_path(f->dir, "case"));
	f->dicom = strdup(twin_test_path(f->dir, "dicom"));
	assert_ok(err, twin_mkdir_p(&err, f->dicom));
	assert_ok(err, twin_mkdir_p(&err, twin_test_path(f->case_dir, "ingest")));
	assert_ok(err, twin_mkdir_p(&err, twin_test_path(f->case_dir, "segment")));
	assert_ok(err, twin_mkdir_p(&err, twin_test_path(f->case_dir, "mesh")));
	f->conf = twin_conf_new(&err);
	assert_ptr_ok(err, f->conf);

	write_dated(twin_test_path(f->dicom, "a.dcm"), "a slice", 100);
	date_file(f->dicom, 100);
	write_dated(twin_test_path(f->case_dir, "ingest/image.nii.gz"), "an image", 50);
	input = strdup(twin_test_path(f->dicom, "a.dcm"));
	record(f, "twin-ingest", "ingest", input, ingest_out);
	free(input);

	write_dated(twin_test_path(f->case_dir, "segment/labels.nii.gz"), "labels", 100);
	write_dated(twin_test_path(f->case_dir, "mesh/heart.msh"), "a mesh", 50);
	write_dated(twin_test_path(f->case_dir, "mesh/quality.xml"), "<quality/>", 50);
	input = strdup(twin_test_path(f->case_dir, "segment/labels.nii.gz"));
	record(f, "twin-mesh", "mesh", input, mesh_out);
	free(input);
	reload(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	twin_manifest_free(f->m);
	twin_conf_free(f->conf);
	twin_test_rmdir(f->dir);
	free(f->case_dir);
	free(f->dicom);
	free(f);
	return 0;
}

/* twin_skip_check of stage name; fails the test on an error. */
static int check(struct fixture *f, const char *name)
{
	struct twin_err err;
	int rc;

	twin_err_init(&err);
	rc = twin_skip_check(&err, stage(name), f->m, f->conf, f->case_dir, f->dicom, f->why,
			     sizeof(f->why));
	if (rc < 0)
		fail_msg("unexpected error %d: %s", err.code, err.msg);
	return rc;
}

#define assert_runs(f, name, reason) do { \
	if (check(f, name) != 0) \
		fail_msg("%s was skipped, want it to run because of \"%s\"", name, reason); \
	if (!strstr((f)->why, reason)) \
		fail_msg("%s runs because \"%s\", want \"%s\"", name, (f)->why, reason); \
} while (0)

static void unchanged_stages_are_up_to_date(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f, "ingest"), 1);
	assert_int_equal(check(f, "mesh"), 1);
}

static void a_stage_never_run_runs(void **state)
{
	struct fixture *f = *state;

	assert_runs(f, "segment", "no earlier run of it succeeded");
	twin_manifest_free(f->m);
	f->m = NULL;
	assert_runs(f, "mesh", "no earlier run of it succeeded");
}

static void a_changed_setting_runs_it(void **state)
{
	struct fixture *f = *state;
	struct twin_err err;

	twin_err_init(&err);
	assert_ok(err, twin_conf_set(&err, f->conf, "mesh.size=3"));
	assert_runs(f, "mesh", "mesh.size was '1.5', now '3'");
	/* a setting of another stage is not this one's */
	assert_int_equal(check(f, "ingest"), 1);
	/* set back to the recorded value, from anywhere: up to date again */
	assert_ok(err, twin_conf_load_string(&err, f->conf, "x.conf", "[mesh]\nsize = 1.5\n"));
	assert_int_equal(check(f, "mesh"), 1);
}

static void a_newer_input_runs_it(void **state)
{
	struct fixture *f = *state;

	date_file(twin_test_path(f->case_dir, "segment/labels.nii.gz"), 10);
	assert_runs(f, "mesh", "'segment/labels.nii.gz' is newer than its outputs");
}

static void a_missing_output_runs_it(void **state)
{
	struct fixture *f = *state;

	unlink(twin_test_path(f->case_dir, "mesh/quality.xml"));
	assert_runs(f, "mesh", "'mesh/quality.xml' is gone");
}

static void changed_content_runs_it(void **state)
{
	struct fixture *f = *state;

	/* the same size and date, other bytes */
	write_dated(twin_test_path(f->case_dir, "mesh/heart.msh"), "A mesh", 50);
	assert_runs(f, "mesh", "SHA-256");
}

static void a_later_failure_leaves_the_good_run(void **state)
{
	struct fixture *f = *state;
	struct twin_manifest_record *rec;
	struct twin_err err, fail;

	twin_err_init(&err);
	twin_err_init(&fail);
	twin_err_set(&fail, TWIN_ECONFIG, "mesh.size too small");
	rec = twin_manifest_record_new(&err, "twin-mesh", "1.0");
	assert_ptr_ok(err, rec);
	twin_manifest_add_setting(rec, "mesh.size", "0.2");
	twin_manifest_record_fail(rec, &fail);
	assert_ok(err, twin_manifest_append(&err, f->case_dir, rec));
	twin_manifest_record_free(rec);
	reload(f);
	assert_int_equal(check(f, "mesh"), 1);
}

static void another_input_runs_it(void **state)
{
	static const char *const mesh_out[] = { "mesh/heart.msh", "mesh/quality.xml", NULL };
	struct fixture *f = *state;
	char *other = strdup(twin_test_path(f->dir, "ts.nii.gz"));

	/* twin-mesh --labels ts.nii.gz ran last: not what twin-segment wrote */
	write_dated(other, "other labels", 100);
	record(f, "twin-mesh", "mesh", other, mesh_out);
	free(other);
	reload(f);
	assert_runs(f, "mesh", "its last run did not read 'segment/labels.nii.gz'");
}

static void a_changed_dicom_folder_runs_ingest(void **state)
{
	struct fixture *f = *state;
	struct twin_err err;
	char *copy = strdup(twin_test_path(f->dir, "copy"));

	twin_err_init(&err);
	/* another folder with the same file and date */
	assert_ok(err, twin_mkdir_p(&err, copy));
	write_dated(twin_test_path(copy, "a.dcm"), "a slice", 100);
	date_file(copy, 100);
	free(f->dicom);
	f->dicom = copy;
	assert_runs(f, "ingest", "which is not in");

	/* a file added to the folder itself */
	free(f->dicom);
	f->dicom = strdup(twin_test_path(f->dir, "dicom"));
	twin_test_write_file(twin_test_path(f->dicom, "b.dcm"), "b", 1);
	assert_runs(f, "ingest", "the DICOM folder changed after its last run");

	/* no folder at all: ingest runs and says why it fails */
	free(f->dicom);
	f->dicom = strdup(twin_test_path(f->dir, "nowhere"));
	assert_runs(f, "ingest", "No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unchanged_stages_are_up_to_date, setup, teardown),
		cmocka_unit_test_setup_teardown(a_stage_never_run_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(a_changed_setting_runs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_newer_input_runs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_output_runs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_content_runs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_later_failure_leaves_the_good_run, setup, teardown),
		cmocka_unit_test_setup_teardown(another_input_runs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_changed_dicom_folder_runs_ingest, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("workflow_skip", tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
