/*
 * walk: the files of a DICOM study: a folder tree walked recursively, or the
 * folder of a DICOMDIR file. Hidden files and folders (".name") and DICOMDIR
 * files themselves are left out. Owns the list it returns. Includes err.h only.
 */
#ifndef TWIN_INGEST_WALK_H
#define TWIN_INGEST_WALK_H

#include <stddef.h>

#include "err.h"

struct twin_paths {
	char **path; /* owned, each malloc'd; sorted byte-wise */
	size_t n;
};

/*
 * Lists the regular files under root (a folder, a DICOMDIR file, or one
 * file) into paths, which must be empty ({0}). Symbolic links are followed,
 * except one back to a folder above; folders nest at most 32 deep. TWIN_EIO
 * when root or a folder cannot be read.
 * paths needs twin_walk_release afterwards, also after a failure.
 */
int twin_walk(struct twin_err *err, struct twin_paths *paths, const char *root);
void twin_walk_release(struct twin_paths *paths);

#endif
