#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int twin_atomic_open(struct twin_err *err, struct twin_atomic *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dirlen;
	size_t n = strlen(path) + 16;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->path = strdup(path);
	a->tmp = malloc(n);
	if (!a->path || !a->tmp) {
		twin_atomic_abort(a);
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
	}
	snprintf(a->tmp, n, "%.*s.%s.tmp.XXXXXX", (int)dirlen, path, base);
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0) {
		twin_err_errno(err, "cannot create", a->tmp);
		free(a->tmp);
		a->tmp = NULL;
		twin_atomic_abort(a);
		return -1;
	}
	/* mkstemp makes 0600; give the final file the usual 0666 & ~umask. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(a->fd, 0666 & ~mask);
	a->f = fdopen(a->fd, "wb");
	if (!a->f) {
		twin_err_errno(err, "cannot open", a->tmp);
		twin_atomic_abort(a);
		return -1;
	}
	return 0;
}

int twin_atomic_commit(struct twin_err *err, struct twin_atomic *a)
{
	int bad = 0;

	if (!a->f || !a->tmp)
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': file is not open", a->path);
	if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)
		bad = 1;
	if (fclose(a->f) != 0)
		bad = 1;
	a->f = NULL;
	a->fd = -1;
	if (bad) {
		twin_err_errno(err, "cannot write", a->path);
		twin_atomic_abort(a);
		return -1;
	}
	if (rename(a->tmp, a->path) != 0) {
		twin_err_errno(err, "cannot rename into", a->path);
		twin_atomic_abort(a);
		return -1;
	}
	free(a->tmp);
	a->tmp = NULL;
	twin_atomic_abort(a);
	return 0;
}

void twin_atomic_abort(struct twin_atomic *a)
{
	if (a->f)
		fclose(a->f);
	else if (a->fd >= 0)
		close(a->fd);
	a->f = NULL;
	a->fd = -1;
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->tmp = NULL;
	a->path = NULL;
}

int twin_file_write(struct twin_err *err, const char *path, const void *buf, size_t len)
{
	struct twin_atomic a;

	if (twin_atomic_open(err, &a, path) != 0)
		return -1;
	if (len && fwrite(buf, 1, len, a.f) != len) {
		twin_err_errno(err, "cannot write", path);
		twin_atomic_abort(&a);
		return -1;
	}
	return twin_atomic_commit(err, &a);
}

void *twin_file_read(struct twin_err *err, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		twin_err_errno(err, "cannot open", path);
		return NULL;
	}
	for (;;) {
		if (cap - n < 65536) {
			size_t ncap = cap ? cap * 2 : 65536 + 1;
			char *nbuf = realloc(buf, ncap);
			if (!nbuf) {
				twin_err_set(err, TWIN_EFAIL, "cannot read '%s': out of memory", path);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		twin_err_errno(err, "cannot read", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

int twin_mkdir_p(struct twin_err *err, const char *path)
{
	char *p = strdup(path);
	struct stat st;

	if (!p)
		return twin_err_set(err, TWIN_EFAIL, "cannot create '%s': out of memory", path);
	for (char *s = p + 1; ; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			twin_err_errno(err, "cannot create folder", p);
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return twin_err_set(err, TWIN_EIO, "cannot create folder '%s': a file is in the way", path);
	return 0;
}

char *twin_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p;

	if (b[0] == '/' || la == 0)
		return strdup(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	p = malloc(la + lb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

int twin_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
