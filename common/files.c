#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * mkstemp would create the file 0600; open(O_EXCL) with mode 0666 lets the
 * umask apply without changing it, which is not thread-safe.
 */
static int open_unique(char *tmp, size_t len)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	struct timespec ts;
	unsigned long long r;
	int fd = -1;

	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		r = (unsigned long long)ts.tv_nsec * 2654435761u ^ (unsigned long long)getpid() << 20 ^
		    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 40503u;
		for (size_t i = len - 6; i < len; i++, r /= 36)
			tmp[i] = digits[r % 36];
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

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
	a->fd = open_unique(a->tmp, strlen(a->tmp));
	if (a->fd < 0) {
		twin_err_errno(err, "cannot create", path);
		free(a->tmp);
		a->tmp = NULL;
		twin_atomic_abort(a);
		return -1;
	}
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
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': file is not open",
				    a->path ? a->path : "(closed file)");
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
	size_t cap = 0, n = 0, got;

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
		got = fread(buf + n, 1, cap - n - 1, f);
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
	char *p;
	struct stat st;

	if (!*path)
		return twin_err_set(err, TWIN_EIO, "cannot create folder '': empty path");
	p = strdup(path);
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
	int sep;

	if (b[0] == '/' || la == 0)
		return strdup(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	sep = a[la - 1] != '/';
	p = malloc(la + (size_t)sep + lb + 1);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (sep)
		p[la] = '/';
	memcpy(p + la + (size_t)sep, b, lb + 1);
	return p;
}

int twin_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
