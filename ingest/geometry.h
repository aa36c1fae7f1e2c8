/*
 * geometry: where the slices of one stack lie. Sorts them along the slice
 * normal, checks that they form one volume, and gives the voxel -> LPS
 * affine of the grid as read and of the orthogonal, evenly spaced grid that
 * is written (gantry tilt and uneven spacing are resampled). Owns the
 * positions it computes. Includes frame.h, volume.h and err.h only.
 */
#ifndef TWIN_INGEST_GEOMETRY_H
#define TWIN_INGEST_GEOMETRY_H

#include <stddef.h>

#include "err.h"
#include "frame.h"
#include "volume.h"

/* Neighbouring slices whose distance differs from the median by more than this fraction are uneven. */
#define TWIN_GEOMETRY_UNEVEN_TOL 0.01
/* Slices closer than this along the normal (mm) are at the same position. */
#define TWIN_GEOMETRY_SAME_MM 0.01
/* The slice step is tilted when it leaves the normal by more than this angle (degrees)... */
#define TWIN_GEOMETRY_TILT_DEG 0.05
/* ...and the last slice lies more than this far (mm) beside the normal through the first. */
#define TWIN_GEOMETRY_TILT_MM 0.01

enum twin_uneven {
	TWIN_UNEVEN_RESAMPLE = 0, /* resample to the smallest spacing */
	TWIN_UNEVEN_ERROR = 1     /* refuse the series */
};

struct twin_geometry {
	size_t n;                 /* slices as read */
	double normal[3];         /* row x column direction; slices ascend along it */
	double *z;                /* owned: each sorted slice's position along the normal, mm */
	double min_step, max_step; /* between neighbouring slices, along the normal */
	double tilt_deg;          /* angle between the slice step and the normal */
	int uneven;               /* slices were not evenly spaced: interpolated to step */
	int tilted;               /* the step leaves the normal: resampled to an orthogonal grid */
	/*
	 * The even grid along the line through the slice positions: i along the
	 * rows, j along the columns, k = one step along that line. Sheared when
	 * tilted. dim[2] slices at step mm along the normal.
	 */
	size_t dim[3];
	double step;
	struct twin_affine even;
	/* The grid written: even, or with k turned onto the normal when tilted. */
	struct twin_affine affine;
};

/*
 * Sorts frames[0..n) in place by position along the normal (never by
 * InstanceNumber or file name) and fills g. All frames must have the same
 * orientation. Errors (TWIN_EINPUT, naming the file(s)): a single slice,
 * a missing position, image sizes or pixel spacings that differ, spacing
 * that is zero or negative, two slices at one position, slices off one
 * line, and with TWIN_UNEVEN_ERROR uneven spacing or a missing slice.
 * g needs twin_geometry_release afterwards, also after a failure.
 */
int twin_geometry_build(struct twin_err *err, struct twin_geometry *g,
			const struct twin_frame **frames, size_t n, enum twin_uneven uneven);
void twin_geometry_release(struct twin_geometry *g);

/* Unit normal of an orientation: row direction x column direction. */
void twin_geometry_normal(const double iop[6], double normal[3]);

/*
 * The affine of a slice stack: column i = row direction * PixelSpacing[1],
 * j = column direction * PixelSpacing[0], k = kstep, origin = ipp.
 */
void twin_geometry_affine(struct twin_affine *a, const double iop[6], const double spacing[2],
			  const double ipp[3], const double kstep[3]);

#endif
