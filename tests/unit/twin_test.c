#include "twin_test.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "volume.h"

char *twin_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = malloc(4096);

	assert_non_null(dir);
	snprintf(dir, 4096, "%s/twin-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp '%s' failed", dir);
	return dir;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void twin_test_rmdir(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

const char *twin_test_path(const char *dir, const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

const char *twin_test_data(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("TWIN_SHARED_DATA");
	struct stat st;

	if (!root || !*root)
		root = "../shared/data";
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	if (stat(buf, &st) != 0) {
		printf("# SKIP shared data '%s' is absent\n", buf);
		fprintf(stderr, "SKIP: shared data '%s' is absent\n", buf);
		return NULL;
	}
	return buf;
}

struct twin_volume *twin_test_label_map(size_t n, double spacing, double origin)
{
	struct twin_err err;
	struct twin_affine a;
	size_t dim[3] = { n, n, n };
	struct twin_volume *v;

	twin_err_init(&err);
	twin_affine_identity(&a);
	for (int i = 0; i < 3; i++) {
		a.m[i][i] = spacing;
		a.m[i][3] = origin;
	}
	v = twin_volume_new(&err, TWIN_U8, dim, &a);
	assert_ptr_ok(err, v);
	return v;
}

int twin_test_have_gmsh(void)
{
	static int have = -1;

	if (have < 0)
		have = system("gmsh --version >/dev/null 2>&1") == 0;
	if (!have)
		printf("# SKIP the gmsh program is absent\n");
	return have;
}

void twin_test_write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("cannot create '%s'", path);
	if (len && fwrite(buf, 1, len, f) != len)
		fail_msg("cannot write '%s'", path);
	if (fclose(f) != 0)
		fail_msg("cannot close '%s'", path);
}

void *twin_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = 0;

	if (!f)
		fail_msg("cannot open '%s'", path);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		fail_msg("cannot size '%s'", path);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	if (n && fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read '%s'", path);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}
