/*
 * qc: the pictures a technician checks before a case goes on: axial,
 * coronal and sagittal slices through the heart's centre and a 3x3 montage
 * of axial slices, the labels drawn in their colours over the image.
 * Owns nothing it does not free. Includes err.h and volume.h only.
 */
#ifndef TWIN_SEGMENT_QC_H
#define TWIN_SEGMENT_QC_H

#include <stddef.h>

#include "err.h"
#include "volume.h"

/* The files twin_qc_write writes into its folder, in order. */
extern const char *const twin_qc_names[4];

/*
 * Writes twin_qc_names into dir (which must exist), each PNG atomically.
 * labels is on img's grid; window is the grey range [lo, hi] of img;
 * centre is an LPS point the three planes pass through. On failure the
 * pictures already written stay: the caller removes them.
 */
int twin_qc_write(struct twin_err *err, const char *dir, const struct twin_volume *img,
		  const struct twin_volume *labels, const double window[2], const double centre[3]);

#endif
