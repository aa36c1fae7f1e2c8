/*
 * stages: the four stage programs dcm2twin runs, in order, what each reads
 * and writes inside the case folder, and running one of them as a child
 * process. Owns the argument lists it builds. Includes err.h only.
 */
#ifndef TWIN_WORKFLOW_STAGES_H
#define TWIN_WORKFLOW_STAGES_H

#include <stddef.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct twin_stage {
	const char *name;        /* "mesh": what --from takes */
	const char *prog;        /* "twin-mesh": the executable and its manifest records */
	const char *sections[3]; /* the conf sections it records, NULL-terminated */
	const char *input;       /* what it reads inside CASE_DIR; NULL for twin-ingest */
	const char *output;      /* what the next stage reads, inside CASE_DIR; NULL for twin-export */
	int dicom;               /* it takes DICOM_DIR before CASE_DIR */
};

/* The stages in the order they run; *n of them. Static, never freed. */
const struct twin_stage *twin_stages(size_t *n);

/* The index of the stage called name ("mesh"), or -1. */
int twin_stage_find(const char *name);

/*
 * A NULL-terminated argument list; every string is owned by it. Fill it with
 * twin_stage_args_add, free it with twin_stage_args_release.
 */
struct twin_stage_args {
	char **v;
	size_t n, cap;
};

void twin_stage_args_init(struct twin_stage_args *a);
/* Appends a copy of s. */
int twin_stage_args_add(struct twin_err *err, struct twin_stage_args *a, const char *s);
void twin_stage_args_release(struct twin_stage_args *a);

/*
 * Where to find prog: beside the running executable (the folder of
 * /proc/self/exe) when it is there, else prog alone, to be looked up in PATH.
 * malloc'd (free), NULL on no memory.
 */
char *twin_stage_path(const char *prog);

/*
 * Runs path with args (args->v[0] is the name the child sees) and waits for
 * it; its standard streams are ours. Sets *status to its exit code. A child
 * that cannot start (or exits 127, as a shell says so) is TWIN_EDEP, one
 * killed by a signal TWIN_EFAIL.
 */
int twin_stage_run(struct twin_err *err, const char *path, const struct twin_stage_args *args,
		   int *status);

#ifdef __cplusplus
}
#endif

#endif
