/*
 * group: sorts the frames of a study into series (one SeriesInstanceUID,
 * split where orientation or image size differs) and each series into
 * cardiac phases, and says why a series cannot be used. Borrows the frames:
 * they must outlive the study. Includes frame.h and err.h only.
 */
#ifndef TWIN_INGEST_GROUP_H
#define TWIN_INGEST_GROUP_H

#include <stddef.h>

#include "err.h"
#include "frame.h"

/* The frames of one cardiac phase of a series: one 3-D volume. */
struct twin_stack {
	const struct twin_frame **frames; /* owned array of borrowed frames */
	size_t n;
	double percent;        /* of the R-R interval; NaN when untagged and one phase or repeats */
	int percent_estimated; /* percent was not in the files: 100 * rank / phases */
	double trigger_time;   /* mean TriggerTime in ms, NaN when absent */
	int temporal_position; /* -1 when absent */
};

struct twin_series {
	const struct twin_frame *first; /* stands for the series: UIDs, number, size, orientation */
	unsigned part;         /* 1, 2, ... when one UID was split by orientation or size, else 0 */
	size_t n_frames;
	struct twin_stack *phases; /* owned, ordered by time */
	size_t n_phases;
	int repeats;           /* no cardiac timing: the phases are repeated acquisitions, without percent */
	size_t slices;         /* frames of the largest phase */
	double slice_step;     /* median distance of neighbouring slices along the normal, mm; 0 when unknown */
	/*
	 * Why the series cannot be used (a static string), or NULL. A soft reason
	 * (derived or secondary images) only lowers it in the default choice: it
	 * can still be named, and is taken when nothing else is usable.
	 */
	const char *skip;
	int skip_soft;
	int skip_unsupported;  /* valid data that twin-ingest cannot use (colour, mosaic, modality) */
	char skip_detail[512]; /* the skip reason with the file(s), for messages */
};

struct twin_study {
	struct twin_series *series; /* owned, by series number, then UID, then part */
	size_t n;
};

/*
 * Groups n frames into study, which must be empty ({0}). Returns 0, or -1
 * on no memory. A study needs twin_group_release afterwards, also after a
 * failure.
 */
int twin_group_frames(struct twin_err *err, struct twin_study *study,
		      const struct twin_frame *frames, size_t n);
void twin_group_release(struct twin_study *study);

/* "axial", "coronal", "sagittal" or "oblique" for a series' orientation; "-" without one. */
const char *twin_group_plane(const struct twin_frame *f);

#endif
