#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "files.h"

#define MAX_DEPTH 32

static int is_dicomdir(const char *path)
{
	const char *base = strrchr(path, '/');

	return strcasecmp(base ? base + 1 : path, "DICOMDIR") == 0;
}

static int push(struct twin_err *err, struct twin_paths *paths, size_t *cap, char *path)
{
	if (paths->n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		char **p = realloc(paths->path, c * sizeof(*p));

		if (!p) {
			free(path);
			return twin_err_set(err, TWIN_EFAIL, "listing files: out of memory");
		}
		paths->path = p;
		*cap = c;
	}
	paths->path[paths->n++] = path;
	return 0;
}

/* The folders on the way down, to see a link back up. */
struct trail {
	dev_t dev[MAX_DEPTH + 1];
	ino_t ino[MAX_DEPTH + 1];
};

static int walk_dir(struct twin_err *err, struct twin_paths *paths, size_t *cap, const char *dir, int depth,
		    struct trail *trail)
{
	DIR *d = NULL;
	struct dirent *e;
	struct stat self;
	int rc = -1;

	if (depth > MAX_DEPTH)
		return twin_err_set(err, TWIN_EINPUT, "'%s': folders nested deeper than %d", dir, MAX_DEPTH);
	if (stat(dir, &self) != 0)
		return twin_err_errno(err, "cannot open folder", dir);
	/* a link to a folder above: its files are listed already */
	for (int i = 0; i < depth; i++)
		if (trail->dev[i] == self.st_dev && trail->ino[i] == self.st_ino)
			return 0;
	trail->dev[depth] = self.st_dev;
	trail->ino[depth] = self.st_ino;
	d = opendir(dir);
	if (!d)
		return twin_err_errno(err, "cannot open folder", dir);
	while ((errno = 0, e = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		if (e->d_name[0] == '.')
			continue;
		path = twin_path_join(dir, e->d_name);
		if (!path) {
			twin_err_set(err, TWIN_EFAIL, "listing files: out of memory");
			goto out;
		}
		if (stat(path, &st) != 0) {
			/* a dangling link is not a file of the study */
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(err, paths, cap, path, depth + 1, trail);
			free(path);
			if (rc != 0)
				goto out;
			rc = -1;
		} else if (S_ISREG(st.st_mode) && !is_dicomdir(path)) {
			if (push(err, paths, cap, path) != 0)
				goto out;
		} else {
			free(path);
		}
	}
	if (errno) {
		twin_err_errno(err, "cannot read folder", dir);
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int twin_walk(struct twin_err *err, struct twin_paths *paths, const char *root)
{
	struct stat st;
	struct trail trail;
	size_t cap = 0;
	char *dir = NULL;
	int rc = -1;

	memset(paths, 0, sizeof(*paths));
	if (stat(root, &st) != 0)
		return twin_err_errno(err, "cannot open", root);
	if (S_ISDIR(st.st_mode)) {
		rc = walk_dir(err, paths, &cap, root, 0, &trail);
	} else if (is_dicomdir(root)) {
		/* the files a DICOMDIR names lie in the tree beside it */
		const char *slash = strrchr(root, '/');

		dir = slash ? strndup(root, (size_t)(slash - root)) : strdup(".");
		if (!dir)
			return twin_err_set(err, TWIN_EFAIL, "listing files: out of memory");
		rc = walk_dir(err, paths, &cap, *dir ? dir : "/", 0, &trail);
	} else {
		char *p = strdup(root);

		rc = p ? push(err, paths, &cap, p) : twin_err_set(err, TWIN_EFAIL, "listing files: out of memory");
	}
	free(dir);
	if (rc == 0 && paths->n > 1)
		qsort(paths->path, paths->n, sizeof(*paths->path), cmp_path);
	return rc;
}

void twin_walk_release(struct twin_paths *paths)
{
	if (!paths)
		return;
	for (size_t i = 0; i < paths->n; i++)
		free(paths->path[i]);
	free(paths->path);
	paths->path = NULL;
	paths->n = 0;
}
