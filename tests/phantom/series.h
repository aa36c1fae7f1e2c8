/*
 * series: the layout of a twin-phantom study: the grids of the main series,
 * its cardiac phases, the localizer and the extra series; deterministic UIDs
 * and file names; and writing a rendered volume as DICOM through
 * ingest/dcmtk.h. Owns nothing it does not return. Includes volume.h,
 * anatomy.h and ingest/dcmtk.h.
 */
#ifndef TWIN_PHANTOM_SERIES_H
#define TWIN_PHANTOM_SERIES_H

#include <stdint.h>

#include "../../ingest/dcmtk.h"
#include "anatomy.h"
#include "volume.h"

enum twin_phantom_orient {
	TWIN_PHANTOM_AXIAL = 0,
	TWIN_PHANTOM_CORONAL,
	TWIN_PHANTOM_SAGITTAL,
	TWIN_PHANTOM_OBLIQUE /* rotated 20 degrees about x, then 15 about y */
};

/* The settings of a study, as twin-phantom's options give them. */
struct twin_phantom_study {
	size_t dim[3];        /* columns, rows, slices of the main series */
	double spacing[3];    /* mm between columns, between rows, between slice positions */
	enum twin_phantom_modality modality;
	enum twin_phantom_orient orientation;
	double tilt;          /* gantry tilt in degrees; axial only */
	double noise, blur_mm;
	uint64_t seed;
	enum twin_dcm_ts ts;
	int multiframe, phases, shuffle, localizer, extra_series;
};

const char *twin_phantom_orient_name(enum twin_phantom_orient o);

/*
 * The main series' grid. Voxel (i, j, k) is column i, row j of the k-th slice
 * in ascending order along the slice normal (row cosine x column cosine);
 * the affine maps it to LPS mm. With a gantry tilt the slices step along z,
 * not along the normal, so the affine is sheared. The grid is centred on
 * twin_phantom_heart_centre.
 */
void twin_phantom_main_grid(const struct twin_phantom_study *st, struct twin_affine *affine);

/* The extra series: the main in-plane grid with 5 mm slices over the same range. */
void twin_phantom_extra_grid(const struct twin_phantom_study *st, size_t dim[3], struct twin_affine *affine);

/* Localizer image n (0: coronal, 1: sagittal) through the heart centre; dim[2] is 1. */
void twin_phantom_localizer_grid(int n, size_t dim[3], struct twin_affine *affine);
#define TWIN_PHANTOM_LOCALIZERS 2

/* A 64-bit value for (seed, what, n), for render seeds and shuffling. */
uint64_t twin_phantom_hash(uint64_t seed, const char *what, uint64_t n);

/* "2.25." and the decimal of a 128-bit hash of (seed, what, n): at most 44 characters. */
void twin_phantom_uid(char out[64], uint64_t seed, const char *what, uint64_t n);

/* The fraction of the R-R interval of phase p of n: 0.75 when n is 1, else p / n. */
double twin_phantom_phase(int p, int n);

/* Series numbers. */
enum {
	TWIN_PHANTOM_SERIES_LOCALIZER = 1,
	TWIN_PHANTOM_SERIES_MAIN = 2,
	TWIN_PHANTOM_SERIES_EXTRA = 3
};

/*
 * Fills d with what every file of series number `number` shares: PHI,
 * study, UIDs, modality, pixel encoding, and the geometry of (dim, affine),
 * whose first two columns must be the row and column steps. Strings point
 * into static storage or into uids, which must outlive d.
 */
struct twin_phantom_uids {
	char study[64], series[64], frame_of_reference[64];
};
void twin_phantom_series_init(struct twin_dcm_series *d, struct twin_phantom_uids *uids,
			      const struct twin_phantom_study *st, int number,
			      const size_t dim[3], const struct twin_affine *affine);

/* CT: HU clamped to what the stored range holds; MR: clamped to 0..4095. In place. */
void twin_phantom_clamp(const struct twin_phantom_study *st, struct twin_volume *image);

/*
 * A series being written: images[p] holds phase p (int16, clamped, all on
 * one grid). twin_phantom_write_series writes phase p, or every phase when p
 * is -1 (a multi-frame file needs them all at once), into dir as single
 * files or one enhanced file, in shuffled order and with random names when
 * the study asks. progress, when not NULL, is called after every file.
 */
struct twin_phantom_series {
	const struct twin_phantom_study *st;
	int number;
	const char *image_type;
	const char *description;
	int multiframe;
	int first_instance;          /* added to every InstanceNumber; 0 normally */
	int phases;
	struct twin_volume **images; /* borrowed; phases already written may be NULL */
};
int twin_phantom_write_series(struct twin_err *err, const char *dir, const struct twin_phantom_series *s,
			      int p, void (*progress)(void *ctx), void *ctx);

/* The number of files twin_phantom_write_series writes for one call. */
size_t twin_phantom_series_files(const struct twin_phantom_series *s, int p);

#endif
