/*
 * heart: the automatic segmentation of the seven structures of ARCHITECTURE.md
 * from a contrast CT or a bright-blood MR image: body, lungs and bones, the
 * blood pool from the image's own histogram, seeds from anatomy (or given),
 * a watershed on the pool's distance map, the LV wall as a shell, clean-up.
 * Owns the label volumes it returns. Includes err.h and volume.h only.
 */
#ifndef TWIN_SEGMENT_HEART_H
#define TWIN_SEGMENT_HEART_H

#include <stddef.h>

#include "err.h"
#include "volume.h"

/* A point a structure grows from: a blood label (2..7) at an LPS position. */
struct twin_seed {
	int label;
	double xyz[3];
	char where[64]; /* "seeds.csv:3", for messages */
};

struct twin_heart_opts {
	double spacing;                /* mm of the working grid */
	int partial;                   /* 1: a structure not found is a warning, not an error */
	const struct twin_seed *seeds; /* given seeds replace the automatic ones of their label */
	size_t nseeds;
	/* called after each step with the steps done and their total; may be NULL */
	void (*progress)(void *ctx, unsigned done, unsigned total);
	void *ctx;
};

/* What the run found, for the QC pictures, the log and the manifest. */
struct twin_heart_report {
	int is_ct;
	double t_air, t_blood, t_wall; /* thresholds from the histogram */
	double blood_mean, wall_mean;  /* of the pool and of the LV wall */
	double window[2];              /* display window for the QC pictures */
	double centre[3];              /* LPS centre of the blood pool */
	char missing[256];             /* structures not found, when partial */
};

/*
 * Segments img (any dtype, any grid). Returns a new uint8 label volume on
 * img's grid (twin_volume_free) or NULL: TWIN_EUNSUPPORTED for an image too
 * small, without a heart, or a CT without contrast; TWIN_EINPUT for a seed
 * outside the image or outside the blood pool; TWIN_EINPUT naming each
 * structure not found and why, unless opts->partial.
 */
struct twin_volume *twin_heart_segment(struct twin_err *err, const struct twin_volume *img,
				       const struct twin_heart_opts *opts, struct twin_heart_report *rep);

/* Dice overlap of label id between two label volumes on the same grid; 1 when both lack it. */
double twin_heart_dice(const struct twin_volume *a, const struct twin_volume *b, int id);

#endif
