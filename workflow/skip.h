/*
 * skip: whether a stage of a case is up to date, so that dcm2twin need not
 * run it, from the stage's last ok record in CASE/manifest.xml and the files
 * that record names. Owns nothing. Includes err.h, conf.h, manifest.h and
 * stages.h only.
 */
#ifndef TWIN_WORKFLOW_SKIP_H
#define TWIN_WORKFLOW_SKIP_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "manifest.h"
#include "stages.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Whether stage s of case_dir is up to date: m (NULL when the case has no
 * manifest yet) holds an ok record of s->prog, the last one, whose
 *  - settings equal the effective settings of s's sections in conf,
 *  - inputs include s->input (for twin-ingest: all lie in dicom_dir) and
 *    outputs include s->output,
 *  - outputs all exist and none is older than an input (for twin-ingest:
 *    than anything in dicom_dir, a folder, or in the folder of a DICOMDIR),
 *  - inputs and outputs all still have their size and SHA-256.
 * Returns 1 when they do; 0 when s must run, with the first reason that
 * fails in why ("mesh.size was '1.5', now '3'"); -1 only when out of memory.
 */
int twin_skip_check(struct twin_err *err, const struct twin_stage *s, const struct twin_manifest *m,
		    const struct twin_conf *conf, const char *case_dir, const char *dicom_dir,
		    char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif
