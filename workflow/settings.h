/*
 * settings: the effective settings of a dcm2twin run, printed as a
 * pipeline.conf that says where each value came from, and handed on to the
 * stages as the -c and --set arguments they take. Owns nothing. Includes
 * conf.h, err.h and stages.h only.
 */
#ifndef TWIN_WORKFLOW_SETTINGS_H
#define TWIN_WORKFLOW_SETTINGS_H

#include <stdio.h>

#include "conf.h"
#include "err.h"
#include "stages.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes every key of conf, section by section, as "key = value  # origin"
 * ("default", "FILE:LINE" or "--set"): a pipeline.conf that reads back to
 * the same settings. The caller checks ferror(f).
 */
void twin_settings_print(FILE *f, const struct twin_conf *conf);

/*
 * Appends to args what gives a stage the same settings: "-c config" when
 * config is not NULL, then "--set key=value" for each key whose value came
 * from --set, at its final value.
 */
int twin_settings_args(struct twin_err *err, struct twin_stage_args *args,
		       const struct twin_conf *conf, const char *config);

#ifdef __cplusplus
}
#endif

#endif
