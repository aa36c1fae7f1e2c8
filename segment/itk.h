/*
 * itk: the ITK filters twin-segment uses, behind a plain C interface. Volumes
 * cross as struct twin_volume (plain C); every volume returned is a new one
 * that twin_volume_free frees. No exception crosses: each entry point turns
 * one into TWIN_EDEP. Includes err.h and volume.h only.
 */
#ifndef TWIN_SEGMENT_ITK_H
#define TWIN_SEGMENT_ITK_H

#include <stddef.h>

#include "err.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* img (float32) smoothed in place by a recursive Gaussian of sigma mm. */
int twin_itk_smooth(struct twin_err *err, struct twin_volume *img, double sigma_mm);

/*
 * Signed Euclidean distance in mm to the edge of mask (uint8, non-zero is
 * inside): negative inside, positive outside. A new float32 volume, or NULL;
 * an empty mask gives +1e9 everywhere.
 */
struct twin_volume *twin_itk_distance(struct twin_err *err, const struct twin_volume *mask);

/*
 * Face-connected components of mask (uint8), numbered 1.. by decreasing size
 * into a new int16 volume; components after the first `keep` (at most 32767)
 * are 0. *count gets the number of components found (all of them).
 */
struct twin_volume *twin_itk_components(struct twin_err *err, const struct twin_volume *mask,
					size_t keep, size_t *count);

/* Fills, in place, every hole of mask (uint8) that the outside cannot reach. */
int twin_itk_fill_holes(struct twin_err *err, struct twin_volume *mask);

/*
 * Watershed of relief (float32) flooded from markers (uint8, 0 = no marker):
 * a new uint8 volume where every voxel carries the marker label whose basin
 * it lies in.
 */
struct twin_volume *twin_itk_watershed(struct twin_err *err, const struct twin_volume *relief,
				       const struct twin_volume *markers);

/*
 * Otsu's n thresholds (1..4) of the values of img (float32) where mask
 * (uint8, same grid) is non-zero, from a histogram of `bins` bins; out[n]
 * gets them in increasing order. Fewer than 2 distinct values is TWIN_EINPUT.
 */
int twin_itk_otsu(struct twin_err *err, const struct twin_volume *img, const struct twin_volume *mask,
		  unsigned n, unsigned bins, double *out);

#ifdef __cplusplus
}
#endif

#endif
