/*
 * grid: a label map made ready for surface extraction: the labels to mesh
 * chosen, each kept as its largest piece, cropped to them with a margin, and
 * planar caps where blood leaves the image. Owns its cells.
 * Includes err.h and volume.h only.
 */
#ifndef TWIN_MESH_GRID_H
#define TWIN_MESH_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "volume.h"

#define TWIN_GRID_LABELS 9      /* label ids 0..7 of ARCHITECTURE.md, 8 the grown RV wall */
#define TWIN_GRID_CAP0 64       /* a cell value >= this is cap (value - TWIN_GRID_CAP0) */
#define TWIN_GRID_MAX_CAPS 120 /* so that cap values stay below 200 */

/*
 * A planar cap: where a blood label leaves the image (an image face, the
 * plane index[axis] == coord of cell index space), or where a vessel is cut
 * across its centreline (vessels.h: axis -1, any plane). Either way the cap
 * lies in the plane through point with normal, in cell index space, normal
 * of unit length there and pointing out of the label.
 */
struct twin_grid_cap {
	uint8_t label;    /* the blood label it closes */
	unsigned n;       /* 1-based number among that label's caps */
	int axis;         /* 0..2 for an image face, -1 for a vessel's cut */
	double coord;     /* an image face's: a cell face lies at i + 0.5 */
	double point[3];
	double normal[3];
};

/*
 * Cell (i, j, k) is cell[i + dim[0] * (j + dim[1] * k)]; the outermost layer
 * of cells is never a meshed label, so every meshed surface is closed.
 */
struct twin_grid {
	size_t dim[3];
	uint8_t *cell;
	struct twin_affine affine;      /* cell index -> LPS mm */
	unsigned meshed;                /* bit id set: label id is meshed */
	struct twin_grid_cap caps[TWIN_GRID_MAX_CAPS];
	size_t ncaps;
	uint64_t count[TWIN_GRID_LABELS]; /* cells of each label */
	double cell_volume;             /* mm^3 */
};

/* Receives one warning line (no prefix, no newline). */
typedef void twin_grid_warn_fn(void *ctx, const char *msg);

struct twin_grid_opt {
	unsigned meshed;        /* bit id set: mesh label id (1..8) */
	double spacing;         /* > 0: coarser voxels are resampled to this (mm) */
	double vessel_length;   /* > 0: vessels cut this far beyond their valve or chamber (mm) */
	twin_grid_warn_fn *warn;
	void *warn_ctx;
	const char *name;       /* the label map's file, for messages */
};

/* The bits of mesh.labels: "all", "blood" or "myocardium"; 0 for another word. */
unsigned twin_grid_selection(const char *which);

/*
 * Builds g from a label map. Errors (TWIN_EINPUT, naming opt->name): a value
 * that is not a label id, a map with no label to mesh or with one value only.
 * Warnings: a label in pieces (the largest is kept), labels that do not touch
 * where the anatomy says they do. g needs twin_grid_release, also on failure.
 */
int twin_grid_build(struct twin_err *err, struct twin_grid *g, const struct twin_volume *labels,
		    const struct twin_grid_opt *opt);
void twin_grid_release(struct twin_grid *g);

#endif
