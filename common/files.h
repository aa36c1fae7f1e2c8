/*
 * files: atomic writes (temporary file + rename), mkdir -p, path joining and
 * whole-file reads. Owns nothing beyond what it returns. Includes err.h only.
 */
#ifndef TWIN_FILES_H
#define TWIN_FILES_H

#include <stdio.h>
#include <stddef.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A file being written atomically: the data goes to "<dir>/.<name>.tmp.XXXXXX"
 * and only twin_atomic_commit renames it to path. twin_atomic_abort removes
 * the temporary file; it is safe after a failed or successful commit.
 */
struct twin_atomic {
	FILE *f;        /* write through this */
	int fd;
	char *path;     /* final path, owned */
	char *tmp;      /* temporary path, owned; NULL once committed or aborted */
};

/* Opens a temporary file beside path. The parent folder must exist. */
int twin_atomic_open(struct twin_err *err, struct twin_atomic *a, const char *path);
/* Flushes, fsyncs, closes and renames into place; on failure removes the temporary file. */
int twin_atomic_commit(struct twin_err *err, struct twin_atomic *a);
/* Closes and removes the temporary file if any; frees what a holds. */
void twin_atomic_abort(struct twin_atomic *a);

/* Writes len bytes to path atomically. */
int twin_file_write(struct twin_err *err, const char *path, const void *buf, size_t len);

/* Reads a whole file. Returns a malloc'd buffer (free) with a NUL after the data, or NULL. */
void *twin_file_read(struct twin_err *err, const char *path, size_t *len);

/* Creates path and its missing parents (mode 0777 & ~umask). */
int twin_mkdir_p(struct twin_err *err, const char *path);

/* "a/b" from a and b; "b" alone when b is absolute. malloc'd (free), NULL on no memory. */
char *twin_path_join(const char *a, const char *b);

/* 1 when path exists, 0 when it does not. */
int twin_path_exists(const char *path);

#ifdef __cplusplus
}
#endif

#endif
