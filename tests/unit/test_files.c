#include "twin_test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

struct fixture {
	char *dir;
	struct twin_err err;
	char path[4096];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = twin_test_tmpdir();
	twin_err_init(&fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* fx->path = dir/name. */
static const char *at(struct fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
	return fx->path;
}

/* The number of entries in dir, and the first one's name in first (if any). */
static size_t count_entries(const char *dir, char *first, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t count = 0;

	assert_non_null(d);
	if (first)
		first[0] = '\0';
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (count++ == 0 && first)
			snprintf(first, n, "%s", e->d_name);
	}
	closedir(d);
	return count;
}

static void assert_file_is(const char *path, const char *want)
{
	size_t len = 0;
	char *got = twin_test_read_file(path, &len);

	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
}

static void write_leaves_only_the_file(void **state)
{
	struct fixture *fx = *state;
	char name[256];

	assert_ok(fx->err, twin_file_write(&fx->err, at(fx, "out.txt"), "hello\n", 6));
	assert_file_is(fx->path, "hello\n");
	assert_int_equal(count_entries(fx->dir, name, sizeof(name)), 1);
	assert_string_equal(name, "out.txt");
	/* an empty write makes an empty file */
	assert_ok(fx->err, twin_file_write(&fx->err, at(fx, "empty"), "", 0));
	assert_file_is(fx->path, "");
	assert_int_equal(count_entries(fx->dir, NULL, 0), 2);
}

static void write_into_missing_folder_fails(void **state)
{
	struct fixture *fx = *state;
	char want[4200];

	assert_int_equal(twin_file_write(&fx->err, at(fx, "missing/out.txt"), "x", 1), -1);
	snprintf(want, sizeof(want), "cannot create '%s/missing/out.txt': No such file or directory", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
}

static void write_below_a_file_fails(void **state)
{
	struct fixture *fx = *state;
	char want[4200];

	twin_test_write_file(at(fx, "plain"), "p", 1);
	assert_int_equal(twin_file_write(&fx->err, at(fx, "plain/out.txt"), "x", 1), -1);
	snprintf(want, sizeof(want), "'%s/plain/", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);
	assert_err(fx->err, TWIN_EIO, ": Not a directory");
	/* nothing new beside the file, and the file untouched */
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
	assert_file_is(at(fx, "plain"), "p");
}

static void abort_removes_the_temporary(void **state)
{
	struct fixture *fx = *state;
	struct twin_atomic a;
	char name[256];

	assert_ok(fx->err, twin_atomic_open(&fx->err, &a, at(fx, "out.bin")));
	assert_non_null(a.f);
	assert_non_null(a.tmp);
	assert_int_equal(fputs("partial", a.f) >= 0, 1);
	fflush(a.f);
	/* the data is beside the final name, as a hidden temporary file */
	assert_int_equal(twin_path_exists(fx->path), 0);
	assert_int_equal(twin_path_exists(a.tmp), 1);
	assert_int_equal(count_entries(fx->dir, name, sizeof(name)), 1);
	assert_memory_equal(name, ".out.bin.tmp.", 13);
	twin_atomic_abort(&a);
	assert_null(a.tmp);
	assert_null(a.path);
	assert_null(a.f);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 0);
	/* a second abort is harmless */
	twin_atomic_abort(&a);
}

static void commit_replaces_atomically(void **state)
{
	struct fixture *fx = *state;
	struct twin_atomic a;
	struct stat before, after;
	char other[4096];

	twin_test_write_file(at(fx, "out.txt"), "old", 3);
	snprintf(other, sizeof(other), "%s/other", fx->dir);
	assert_int_equal(link(fx->path, other), 0);
	assert_int_equal(stat(fx->path, &before), 0);
	assert_ok(fx->err, twin_atomic_open(&fx->err, &a, fx->path));
	fputs("new content", a.f);
	fflush(a.f);
	/* until the commit, readers see the old file whole */
	assert_file_is(at(fx, "out.txt"), "old");
	assert_ok(fx->err, twin_atomic_commit(&fx->err, &a));
	assert_null(a.tmp);
	assert_file_is(at(fx, "out.txt"), "new content");
	/* a new file was renamed over it: the old one lives on under its other name */
	assert_int_equal(stat(fx->path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_file_is(other, "old");
	assert_int_equal(count_entries(fx->dir, NULL, 0), 2);
	twin_atomic_abort(&a);
}

static void failed_commit_removes_the_temporary(void **state)
{
	struct fixture *fx = *state;
	struct twin_atomic a;
	char want[4200];

	/* a non-empty folder where the file should go: rename fails */
	assert_int_equal(mkdir(at(fx, "taken"), 0700), 0);
	twin_test_write_file(at(fx, "taken/x"), "x", 1);
	assert_ok(fx->err, twin_atomic_open(&fx->err, &a, at(fx, "taken")));
	fputs("data", a.f);
	assert_int_equal(twin_atomic_commit(&fx->err, &a), -1);
	snprintf(want, sizeof(want), "cannot rename into '%s/taken': Is a directory", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);
	assert_null(a.tmp);
	assert_int_equal(count_entries(fx->dir, NULL, 0), 1);
	assert_int_equal(count_entries(at(fx, "taken"), NULL, 0), 1);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void mode_respects_umask(void **state)
{
	struct fixture *fx = *state;
	mode_t old = umask(027);

	assert_ok(fx->err, twin_file_write(&fx->err, at(fx, "a"), "a", 1));
	assert_int_equal(mode_of(fx->path), 0640);
	umask(0);
	assert_ok(fx->err, twin_file_write(&fx->err, at(fx, "b"), "b", 1));
	assert_int_equal(mode_of(fx->path), 0666);
	/* a replaced file gets the umask's mode, not mkstemp's 0600 */
	umask(022);
	assert_ok(fx->err, twin_file_write(&fx->err, at(fx, "b"), "c", 1));
	assert_int_equal(mode_of(fx->path), 0644);
	umask(077);
	assert_ok(fx->err, twin_mkdir_p(&fx->err, at(fx, "d1/d2")));
	assert_int_equal(mode_of(fx->path), 0700);
	umask(old);
	/* the umask itself is left as it was */
	assert_int_equal(umask(old), old);
}

static void mkdir_p_nested(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	char cwd[4096];

	assert_ok(fx->err, twin_mkdir_p(&fx->err, at(fx, "a/b/c")));
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* again: nothing to do */
	assert_ok(fx->err, twin_mkdir_p(&fx->err, fx->path));
	assert_ok(fx->err, twin_mkdir_p(&fx->err, at(fx, "a/b/d/")));
	assert_int_equal(twin_path_exists(at(fx, "a/b/d")), 1);
	assert_ok(fx->err, twin_mkdir_p(&fx->err, at(fx, "x//y")));
	assert_int_equal(twin_path_exists(at(fx, "x/y")), 1);
	/* relative to the current folder */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx->dir), 0);
	twin_err_init(&fx->err);
	if (twin_mkdir_p(&fx->err, "rel/sub") != 0 || chdir(cwd) != 0)
		fail_msg("relative mkdir: %s", fx->err.msg);
	assert_int_equal(twin_path_exists(at(fx, "rel/sub")), 1);
}

static void mkdir_p_with_a_file_in_the_way(void **state)
{
	struct fixture *fx = *state;
	char want[4200];

	twin_test_write_file(at(fx, "f"), "f", 1);
	assert_int_equal(twin_mkdir_p(&fx->err, at(fx, "f/sub/deeper")), -1);
	snprintf(want, sizeof(want), "cannot create folder '%s/f/sub': Not a directory", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);

	twin_err_init(&fx->err);
	assert_int_equal(twin_mkdir_p(&fx->err, at(fx, "f")), -1);
	snprintf(want, sizeof(want), "cannot create folder '%s/f': a file is in the way", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);
	assert_file_is(at(fx, "f"), "f");

	twin_err_init(&fx->err);
	assert_int_equal(twin_mkdir_p(&fx->err, ""), -1);
	assert_err(fx->err, TWIN_EIO, "cannot create folder '': empty path");
}

static void path_join_cases(void **state)
{
	static const struct {
		const char *a, *b, *want;
	} cases[] = {
		{ "a", "b", "a/b" },
		{ "a/", "b", "a/b" },
		{ "a///", "b/c", "a/b/c" },
		{ "/case", "image.nii.gz", "/case/image.nii.gz" },
		{ "a", "/abs/b", "/abs/b" },
		{ "", "b", "b" },
		{ "a", "", "a/" },
		{ "../x", "y", "../x/y" },
		{ "/", "b", "/b" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = twin_path_join(cases[i].a, cases[i].b);
		assert_non_null(p);
		assert_string_equal(p, cases[i].want);
		free(p);
	}
}

/* Writes n bytes of a pattern, reads them back with twin_file_read. */
static void read_back(struct fixture *fx, size_t n)
{
	unsigned char *data = malloc(n ? n : 1);
	unsigned char *got;
	size_t len = 12345;

	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)((i * 7 + i / 251) & 0xff);
	twin_test_write_file(at(fx, "data"), data, n);
	got = twin_file_read(&fx->err, fx->path, &len);
	assert_ptr_ok(fx->err, got);
	assert_int_equal(len, n);
	if (n)
		assert_memory_equal(got, data, n);
	assert_int_equal(got[n], 0);
	free(got);
	free(data);
}

static void read_sizes(void **state)
{
	struct fixture *fx = *state;
	static const size_t sizes[] = {
		0, 1, 65535, 65536, 65537, 131072, 131073, 300001,
	};
	char *got;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		read_back(fx, sizes[i]);
	/* len may be NULL */
	twin_test_write_file(at(fx, "t"), "text", 4);
	got = twin_file_read(&fx->err, fx->path, NULL);
	assert_ptr_ok(fx->err, got);
	assert_string_equal(got, "text");
	free(got);
}

static void read_failures_name_the_path(void **state)
{
	struct fixture *fx = *state;
	char want[4200];
	size_t len = 0;

	assert_null(twin_file_read(&fx->err, at(fx, "absent"), &len));
	snprintf(want, sizeof(want), "cannot open '%s/absent': No such file or directory", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);

	twin_err_init(&fx->err);
	assert_null(twin_file_read(&fx->err, fx->dir, &len));
	snprintf(want, sizeof(want), "'%s': Is a directory", fx->dir);
	assert_err(fx->err, TWIN_EIO, want);
}

static void path_exists(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(twin_path_exists(fx->dir), 1);
	assert_int_equal(twin_path_exists(at(fx, "nope")), 0);
	twin_test_write_file(at(fx, "yes"), "", 0);
	assert_int_equal(twin_path_exists(fx->path), 1);
	assert_int_equal(twin_path_exists(at(fx, "yes/below")), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_leaves_only_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(write_into_missing_folder_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(write_below_a_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(abort_removes_the_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_replaces_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_commit_removes_the_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(mode_respects_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(mkdir_p_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(mkdir_p_with_a_file_in_the_way, setup, teardown),
		cmocka_unit_test_setup_teardown(path_join_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(read_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(read_failures_name_the_path, setup, teardown),
		cmocka_unit_test_setup_teardown(path_exists, setup, teardown),
	};

	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
