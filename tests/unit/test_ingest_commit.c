#include "twin_test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../ingest/commit.h"

struct fixture {
	char *dir;
	struct twin_commit c;
	struct twin_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->dir = twin_test_tmpdir();
	twin_err_init(&fx->err);
	twin_commit_init(&fx->c);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_commit_release(&fx->c);
	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static void put(const char *dir, const char *name, const char *text)
{
	twin_test_write_file(twin_test_path(dir, name), text, strlen(text));
}

/* Fails unless dir/name holds exactly text; NULL: it must not exist. */
static void expect(const char *dir, const char *name, const char *text)
{
	const char *path = twin_test_path(dir, name);
	size_t len = 0;
	char *got;

	if (!text) {
		if (access(path, F_OK) == 0)
			fail_msg("'%s' should not exist", path);
		return;
	}
	got = twin_test_read_file(path, &len);
	if (len != strlen(text) || memcmp(got, text, len) != 0)
		fail_msg("'%s' holds '%.*s', want '%s'", path, (int)len, got, text);
	free(got);
}

/* The entries of dir other than . and .., counted. */
static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Stages a.nii.gz and series.xml over earlier files and drops old.nii: all at once. */
static void stage(struct fixture *fx)
{
	const char *p;

	put(fx->dir, "a.nii.gz", "old image");
	put(fx->dir, "series.xml", "old series");
	put(fx->dir, "old.nii", "stale image");
	assert_ok(fx->err, twin_commit_open(&fx->err, &fx->c, fx->dir));
	assert_ptr_ok(fx->err, p = twin_commit_file(&fx->err, &fx->c, "a.nii.gz"));
	twin_test_write_file(p, "new image", 9);
	assert_ptr_ok(fx->err, p = twin_commit_file(&fx->err, &fx->c, "series.xml"));
	twin_test_write_file(p, "new series", 10);
	assert_ok(fx->err, twin_commit_drop(&fx->err, &fx->c, "old.nii"));
	/* nothing shows before apply */
	expect(fx->dir, "a.nii.gz", "old image");
	expect(fx->dir, "series.xml", "old series");
	expect(fx->dir, "old.nii", "stale image");
}

static void apply_puts_every_file_in_place(void **state)
{
	struct fixture *fx = *state;

	stage(fx);
	assert_ok(fx->err, twin_commit_apply(&fx->err, &fx->c));
	expect(fx->dir, "a.nii.gz", "new image");
	expect(fx->dir, "series.xml", "new series");
	expect(fx->dir, "old.nii", NULL);
	twin_commit_release(&fx->c);
	/* the private folder is gone with the earlier files */
	assert_int_equal(entries(fx->dir), 2);
}

static void release_without_apply_keeps_the_earlier_files(void **state)
{
	struct fixture *fx = *state;

	stage(fx);
	twin_commit_release(&fx->c);
	expect(fx->dir, "a.nii.gz", "old image");
	expect(fx->dir, "series.xml", "old series");
	expect(fx->dir, "old.nii", "stale image");
	assert_int_equal(entries(fx->dir), 3);
}

static void undo_after_apply_restores_everything(void **state)
{
	struct fixture *fx = *state;
	const char *p;

	stage(fx);
	assert_ptr_ok(fx->err, p = twin_commit_file(&fx->err, &fx->c, "b.nii.gz"));
	twin_test_write_file(p, "new b", 5);
	assert_ok(fx->err, twin_commit_apply(&fx->err, &fx->c));
	expect(fx->dir, "b.nii.gz", "new b");
	twin_commit_undo(&fx->c);
	twin_commit_release(&fx->c);
	expect(fx->dir, "a.nii.gz", "old image");
	expect(fx->dir, "series.xml", "old series");
	expect(fx->dir, "old.nii", "stale image");
	expect(fx->dir, "b.nii.gz", NULL);
	assert_int_equal(entries(fx->dir), 3);
}

/* A rename that fails half way (a folder in the way of the second file) puts the first back. */
static void failed_apply_puts_back_what_it_moved(void **state)
{
	struct fixture *fx = *state;
	const char *p;

	put(fx->dir, "a.nii.gz", "old image");
	assert_int_equal(mkdir(twin_test_path(fx->dir, "series.xml"), 0777), 0);
	put(fx->dir, "series.xml/keep", "x");
	assert_ok(fx->err, twin_commit_open(&fx->err, &fx->c, fx->dir));
	assert_ptr_ok(fx->err, p = twin_commit_file(&fx->err, &fx->c, "a.nii.gz"));
	twin_test_write_file(p, "new image", 9);
	assert_ptr_ok(fx->err, p = twin_commit_file(&fx->err, &fx->c, "series.xml"));
	twin_test_write_file(p, "new series", 10);
	assert_int_equal(twin_commit_apply(&fx->err, &fx->c), -1);
	assert_err(fx->err, TWIN_EIO, "series.xml");
	expect(fx->dir, "a.nii.gz", "old image");
	expect(fx->dir, "series.xml/keep", "x");
	twin_commit_release(&fx->c);
	assert_int_equal(entries(fx->dir), 2);
}

static void bad_names_are_refused(void **state)
{
	struct fixture *fx = *state;

	assert_null(twin_commit_file(&fx->err, &fx->c, "a.nii"));
	assert_err(fx->err, TWIN_EFAIL, "no folder to write into");
	assert_ok(fx->err, twin_commit_open(&fx->err, &fx->c, fx->dir));
	twin_err_init(&fx->err);
	assert_null(twin_commit_file(&fx->err, &fx->c, "../a.nii"));
	assert_err(fx->err, TWIN_EFAIL, "'../a.nii': not a plain file name");
	twin_err_init(&fx->err);
	assert_non_null(twin_commit_file(&fx->err, &fx->c, "a.nii"));
	assert_int_equal(twin_commit_drop(&fx->err, &fx->c, "a.nii"), -1);
	assert_err(fx->err, TWIN_EFAIL, "'a.nii': named twice");
}

static void open_in_a_missing_folder_fails(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(twin_commit_open(&fx->err, &fx->c, twin_test_path(fx->dir, "nowhere")), -1);
	assert_err(fx->err, TWIN_EIO, "nowhere");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apply_puts_every_file_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(release_without_apply_keeps_the_earlier_files, setup, teardown),
		cmocka_unit_test_setup_teardown(undo_after_apply_restores_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_apply_puts_back_what_it_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_names_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(open_in_a_missing_folder_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
