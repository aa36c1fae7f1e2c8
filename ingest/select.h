/*
 * select: which series and which cardiac phase of a study to convert, named
 * by series number, UID (or its hash) or a description pattern, or chosen by
 * default. Borrows the study. Includes group.h, conf.h and err.h only.
 */
#ifndef TWIN_INGEST_SELECT_H
#define TWIN_INGEST_SELECT_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "group.h"

/* "h:" and 16 hex digits of the SHA-256 of a UID, and a NUL. */
#define TWIN_UID_HASH 19

/* The stable hash that stands for a UID in lists and in series.xml: "h:" + 16 hex digits. */
int twin_select_uid_hash(struct twin_err *err, const char *uid, char out[TWIN_UID_HASH]);

/*
 * Picks a series. spec is empty or NULL for the default: the usable CT series
 * with the most slices at the thinnest spacing (MR when there is no CT),
 * derived images only when nothing else is usable. Otherwise spec is a
 * series number ("3"), a part of a series split by orientation or size as
 * --list numbers it ("3.2"), a SeriesInstanceUID, its hash ("h:..."), or an
 * fnmatch pattern of the description ("*CTA*"); among several matches the
 * default rule decides. Errors: TWIN_ECONFIG when nothing matches spec;
 * when no usable series is left (naming why, with files) TWIN_EUNSUPPORTED
 * if all are of kinds not handled (colour, mosaic, other modalities), else
 * TWIN_EINPUT.
 */
int twin_select_series(struct twin_err *err, const struct twin_study *study, const char *spec,
		       size_t *index);

/*
 * Picks a phase of s: the one nearest want's percent, or want's 0-based
 * index. A series with one phase always gives 0. TWIN_ECONFIG when the index
 * is out of range.
 */
int twin_select_phase(struct twin_err *err, const struct twin_series *s, const struct twin_phase *want,
		      size_t *index);

#endif
