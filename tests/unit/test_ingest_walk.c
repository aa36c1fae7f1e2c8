#include "twin_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "../../ingest/walk.h"

static int setup(void **state)
{
	char *dir = twin_test_tmpdir();
	const char *names[] = { "b/IM2", "a/IM1", "a/deep/IM3", ".hidden", ".git/IM4", "DICOMDIR", "b/.DS_Store" };
	char path[4096];

	snprintf(path, sizeof(path), "%s/a/deep", dir);
	assert_int_equal(mkdir(twin_test_path(dir, "a"), 0777), 0);
	assert_int_equal(mkdir(path, 0777), 0);
	assert_int_equal(mkdir(twin_test_path(dir, "b"), 0777), 0);
	assert_int_equal(mkdir(twin_test_path(dir, ".git"), 0777), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		twin_test_write_file(twin_test_path(dir, names[i]), "x", 1);
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

static void check_tree(const struct twin_paths *p, const char *dir)
{
	char want[4096];

	assert_int_equal(p->n, 3);
	snprintf(want, sizeof(want), "%s/a/IM1", dir);
	assert_string_equal(p->path[0], want);
	snprintf(want, sizeof(want), "%s/a/deep/IM3", dir);
	assert_string_equal(p->path[1], want);
	snprintf(want, sizeof(want), "%s/b/IM2", dir);
	assert_string_equal(p->path[2], want);
}

static void folder_tree_without_hidden_files(void **state)
{
	struct twin_err err;
	struct twin_paths p;

	twin_err_init(&err);
	assert_ok(err, twin_walk(&err, &p, *state));
	check_tree(&p, *state);
	twin_walk_release(&p);
}

static void link_loop_is_not_followed(void **state)
{
	struct twin_err err;
	struct twin_paths p;
	char link[4096];

	snprintf(link, sizeof(link), "%s/a/deep/up", (char *)*state);
	assert_int_equal(symlink("../..", link), 0);
	twin_err_init(&err);
	assert_ok(err, twin_walk(&err, &p, *state));
	check_tree(&p, *state);
	twin_walk_release(&p);
}

static void dicomdir_means_its_folder(void **state)
{
	struct twin_err err;
	struct twin_paths p;
	char path[4096];

	twin_err_init(&err);
	snprintf(path, sizeof(path), "%s/DICOMDIR", (char *)*state);
	assert_ok(err, twin_walk(&err, &p, path));
	check_tree(&p, *state);
	twin_walk_release(&p);
}

static void one_file_and_missing_root(void **state)
{
	struct twin_err err;
	struct twin_paths p;
	char path[4096];

	twin_err_init(&err);
	snprintf(path, sizeof(path), "%s/b/IM2", (char *)*state);
	assert_ok(err, twin_walk(&err, &p, path));
	assert_int_equal(p.n, 1);
	assert_string_equal(p.path[0], path);
	twin_walk_release(&p);

	snprintf(path, sizeof(path), "%s/nothing", (char *)*state);
	assert_int_equal(twin_walk(&err, &p, path), -1);
	assert_err(err, TWIN_EIO, "nothing': No such file or directory");
	twin_walk_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(folder_tree_without_hidden_files, setup, teardown),
		cmocka_unit_test_setup_teardown(link_loop_is_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(dicomdir_means_its_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(one_file_and_missing_root, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest_walk", tests, NULL, NULL);
}
