/*
 * anatomy: twin-phantom's synthetic heart in a thorax, built from smooth
 * implicit surfaces in LPS millimetres, and its rendering onto any grid as a
 * ground-truth label map and a CT or MR image. Owns nothing it does not
 * return. Includes volume.h and err.h only.
 */
#ifndef TWIN_PHANTOM_ANATOMY_H
#define TWIN_PHANTOM_ANATOMY_H

#include <stdint.h>

#include "volume.h"

enum twin_phantom_modality {
	TWIN_PHANTOM_CT = 0, /* contrast CT angiogram, HU */
	TWIN_PHANTOM_MR = 1  /* bright-blood MR, arbitrary units */
};

struct twin_phantom_render {
	enum twin_phantom_modality modality;
	double phase;    /* fraction of the R-R interval, 0 <= phase < 1; 0.75 is mid-diastole */
	double noise;    /* standard deviation of the added noise: HU for CT, units for MR */
	double blur_mm;  /* sigma of the partial-volume blur in mm; 0 for none */
	uint64_t seed;   /* the same seed and settings give identical voxels */
};

/* The centre of the heart in LPS mm, around which the default grids are laid. */
void twin_phantom_heart_centre(double xyz[3]);

/*
 * Renders the anatomy onto the grid (dim, affine), which may be oblique or
 * sheared (gantry tilt). *labels is uint8 with the ids of ARCHITECTURE.md and
 * 0 elsewhere; *image is int16 (HU for CT, units for MR). Both are owned by
 * the caller (twin_volume_free). Returns 0, or -1 with err set.
 */
int twin_phantom_render(struct twin_err *err, const struct twin_phantom_render *opt,
			const size_t dim[3], const struct twin_affine *affine,
			struct twin_volume **labels, struct twin_volume **image);

#endif
