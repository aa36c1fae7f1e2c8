/*
 * assemble: one volume from the frames of one stack. Reads every frame's
 * pixels through a reader callback on several threads and rescales them
 * (CT to HU; MR kept as stored) straight into the volume: int16 when every
 * value fits (one that does not makes the stack be read again as float32),
 * float32 for a fractional rescale. Drops unreadable frames with a warning,
 * and resamples uneven spacing and gantry tilt as the geometry says. Owns nothing it does
 * not return. Includes frame.h, geometry.h, volume.h and err.h only.
 */
#ifndef TWIN_INGEST_ASSEMBLE_H
#define TWIN_INGEST_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "geometry.h"
#include "volume.h"

/*
 * Fills out[rows * cols] with the stored values of frame f, row after row.
 * Called from several threads at once, each with its own out.
 */
typedef int twin_pixels_fn(struct twin_err *err, void *ctx, const struct twin_frame *f, int32_t *out);

/* Called once per dropped frame with a message naming its file and fault. */
typedef void twin_warn_fn(void *ctx, const char *msg);

struct twin_assemble_opt {
	twin_pixels_fn *read;
	void *read_ctx;
	twin_warn_fn *warn;      /* may be NULL */
	void *warn_ctx;
	/* Called after each frame, one call at a time, with frames done so far; may be NULL. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
	/*
	 * When the volume is read as it will be returned (int16, nothing to
	 * resample), called one call at a time with it and the number of its
	 * leading slices that are final, as that grows; then with NULL when a
	 * frame fails or overflows: the volume returned will be another. May
	 * be NULL.
	 */
	void (*slices)(void *ctx, const struct twin_volume *v, size_t done);
	void *slices_ctx;
	int threads;             /* 0: every core */
	enum twin_uneven uneven;
};

/*
 * Builds the geometry of frames[0..*n) into g (sorting and, after dropped
 * frames, compacting the array and lowering *n), reads the pixels and
 * returns the volume on the grid g->dim, g->affine: owned, twin_volume_free.
 * Errors: those of twin_geometry_build; TWIN_EINPUT when no frame, or too
 * few to form a volume, can be read (the first reader error is kept).
 * g needs twin_geometry_release afterwards, also after a failure.
 */
struct twin_volume *twin_assemble(struct twin_err *err, const struct twin_assemble_opt *opt,
				  const struct twin_frame **frames, size_t *n, struct twin_geometry *g);

#endif
