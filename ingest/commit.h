/*
 * commit: the outputs of one run appear together or not at all. Files are
 * written into a private folder beside their destination, then renamed into
 * place together; the files they replace are kept until the run is over, so
 * a failure at any point leaves the earlier outputs as they were. Owns the
 * private folder and its paths. Includes err.h only.
 */
#ifndef TWIN_INGEST_COMMIT_H
#define TWIN_INGEST_COMMIT_H

#include <stddef.h>

#include "err.h"

struct twin_commit {
	char *dir;          /* the destination folder */
	char *stage;        /* dir/.commit.XXXXXX, private */
	struct twin_commit_file {
		char *name;     /* a plain file name inside dir */
		char *staged;   /* stage/name: where it is written */
		char *final;    /* dir/name */
		char *old;      /* stage/old.name: the earlier file while the run lasts */
		int write;      /* 1: staged replaces final; 0: final is removed */
		int had_old;    /* final existed and was kept at old */
		int placed;     /* the rename (or removal) was done */
	} *files;
	size_t n;
	int applied;
};

/* Fills c; allocates nothing. twin_commit_release is safe on it. */
void twin_commit_init(struct twin_commit *c);

/* Creates the private folder inside dir, which must exist. */
int twin_commit_open(struct twin_err *err, struct twin_commit *c, const char *dir);

/*
 * Where to write the output name (a file name without '/'): a path inside
 * the private folder, borrowed from c until twin_commit_release. NULL on no
 * memory or a bad name.
 */
const char *twin_commit_file(struct twin_err *err, struct twin_commit *c, const char *name);

/* Notes that dir/name, an output of an earlier run, goes when c is applied. */
int twin_commit_drop(struct twin_err *err, struct twin_commit *c, const char *name);

/*
 * Renames every staged file into place and moves the files it replaces, and
 * those dropped, aside. On failure puts everything back as it was: TWIN_EIO
 * naming the file.
 */
int twin_commit_apply(struct twin_err *err, struct twin_commit *c);

/* After twin_commit_apply: puts the earlier files back (a later step failed). */
void twin_commit_undo(struct twin_commit *c);

/* Removes the private folder with what is left in it (staged or earlier files). */
void twin_commit_release(struct twin_commit *c);

#endif
