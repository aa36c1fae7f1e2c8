/*
 * volume: a 3-D image (uint8, int16 or float32) and its voxel-index -> LPS
 * millimetre affine; index<->world, spacing, direction, crop and resampling.
 * Owns its voxel buffer. Plain C; includes only err.h.
 */
#ifndef TWIN_VOLUME_H
#define TWIN_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum twin_dtype {
	TWIN_U8 = 1,
	TWIN_I16 = 2,
	TWIN_F32 = 3
};

/* Row-major 4x4: world = m * (i, j, k, 1). World is LPS millimetres. */
struct twin_affine {
	double m[4][4];
};

enum twin_interp {
	TWIN_NEAREST = 0, /* for label maps */
	TWIN_LINEAR = 1   /* for images */
};

/*
 * Voxel (i, j, k) is at data[i + dim[0] * (j + dim[1] * k)].
 * Make one with twin_volume_new; the fields are read-only except the voxels.
 */
struct twin_volume {
	enum twin_dtype dtype;
	size_t dim[3];
	struct twin_affine affine;
	void *data;
};

/* Size in bytes of one voxel of dtype, 0 for an unknown dtype. */
size_t twin_dtype_size(enum twin_dtype dtype);
const char *twin_dtype_name(enum twin_dtype dtype);

/* The identity affine. */
void twin_affine_identity(struct twin_affine *a);
/* out = a * b. out may alias a or b. */
void twin_affine_mul(struct twin_affine *out, const struct twin_affine *a, const struct twin_affine *b);
/* Inverse of an affine whose last row is 0 0 0 1. -1 if it is singular. */
int twin_affine_invert(struct twin_err *err, struct twin_affine *out, const struct twin_affine *a);
/* Largest absolute difference of the world positions of the 8 corners of a grid. */
double twin_affine_corner_distance(const struct twin_affine *a, const struct twin_affine *b, const size_t dim[3]);

/*
 * A new zero-filled volume. Every dim must be >= 1 and the affine must not be
 * singular. Returns an owned pointer that twin_volume_free frees, or NULL.
 */
struct twin_volume *twin_volume_new(struct twin_err *err, enum twin_dtype dtype,
				    const size_t dim[3], const struct twin_affine *affine);
void twin_volume_free(struct twin_volume *v);

size_t twin_volume_count(const struct twin_volume *v);  /* number of voxels */
size_t twin_volume_bytes(const struct twin_volume *v);  /* size of data */

/* Voxel value as double, and set from double (rounded and clamped to the dtype). */
double twin_volume_get(const struct twin_volume *v, size_t i, size_t j, size_t k);
void twin_volume_set(struct twin_volume *v, size_t i, size_t j, size_t k, double value);

/* Continuous index -> LPS mm, and back (the way back inverts the affine on each call). */
void twin_volume_index_to_world(const struct twin_volume *v, const double ijk[3], double xyz[3]);
void twin_volume_world_to_index(const struct twin_volume *v, const double xyz[3], double ijk[3]);

/* Length in mm of each index axis, and its unit direction in LPS (dir[axis][xyz]). */
void twin_volume_spacing(const struct twin_volume *v, double spacing[3]);
void twin_volume_direction(const struct twin_volume *v, double dir[3][3]);

/*
 * A new volume holding the box [lo, lo + size) of v, with the affine moved so
 * that world positions are kept. The box must lie inside v.
 */
struct twin_volume *twin_volume_crop(struct twin_err *err, const struct twin_volume *v,
				     const size_t lo[3], const size_t size[3]);

/*
 * v resampled onto the grid (dim, affine), keeping v's dtype. Points outside
 * v get 0 for labels, and `outside` for images with TWIN_LINEAR. Inside means
 * within half a voxel of v's voxel centres; in that outer half voxel
 * TWIN_LINEAR holds the edge value. Values are rounded and clamped to the
 * dtype. Runs on several threads for large grids.
 */
struct twin_volume *twin_volume_resample(struct twin_err *err, const struct twin_volume *v,
					 const size_t dim[3], const struct twin_affine *affine,
					 enum twin_interp interp, double outside);

#ifdef __cplusplus
}
#endif

#endif
