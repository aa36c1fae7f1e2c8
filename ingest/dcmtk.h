/*
 * dcmtk: the C face of DCMTK, the only C++ in ingest/ (ingest/dcmtk.cc).
 * Writing: one classic single-frame or enhanced multi-frame CT/MR object from
 * a plain C description. Owns nothing the caller passes in; no exception or
 * DCMTK type crosses this header. Includes err.h only.
 */
#ifndef TWIN_DCMTK_H
#define TWIN_DCMTK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "err.h"

/* ---- writing ------------------------------------------------------------ */

enum twin_dcm_modality {
	TWIN_DCM_CT = 0, /* CT Image Storage / Enhanced CT Image Storage */
	TWIN_DCM_MR = 1  /* MR Image Storage / Enhanced MR Image Storage */
};

enum twin_dcm_ts {
	TWIN_DCM_EXPLICIT_LE = 0,
	TWIN_DCM_IMPLICIT_LE,
	TWIN_DCM_EXPLICIT_BE,   /* retired, still met in archives */
	TWIN_DCM_DEFLATED_LE,
	TWIN_DCM_RLE,
	TWIN_DCM_JPEG_LOSSLESS, /* process 14, first-order prediction (SV1) */
	TWIN_DCM_JPEG_LS,       /* JPEG-LS lossless */
	TWIN_DCM_TS_COUNT
};

/* The transfer syntax UID, and a short name ("explicit", "jpeg-ls"); NULL when ts is unknown. */
const char *twin_dcm_ts_uid(enum twin_dcm_ts ts);
const char *twin_dcm_ts_name(enum twin_dcm_ts ts);

/*
 * What every frame of a series shares. Strings are borrowed for the duration
 * of the call; a NULL string is written as an empty (type 2) element or left
 * out. Dates are YYYYMMDD, times HHMMSS.
 */
struct twin_dcm_series {
	enum twin_dcm_modality modality;
	enum twin_dcm_ts ts;

	/* patient, study and equipment (the PHI that anonymisation must remove) */
	const char *patient_name, *patient_id, *patient_birth_date, *patient_sex;
	const char *study_uid, *study_id, *study_date, *study_time, *study_description;
	const char *accession_number, *referring_physician, *institution;
	const char *manufacturer, *model_name, *software_version;

	/* series */
	const char *series_uid, *frame_of_reference_uid, *series_description;
	const char *image_type;      /* "ORIGINAL\\PRIMARY\\AXIAL", "...\\LOCALIZER" */
	const char *body_part;
	int series_number;

	/* acquisition: CT uses kvp, tilt and kernel, MR the rest */
	double kvp;
	double gantry_tilt;          /* degrees, GantryDetectorTilt */
	const char *convolution_kernel;
	double field_strength;       /* tesla */
	double repetition_time, echo_time, flip_angle; /* ms, ms, degrees */
	double heart_rate;           /* beats per minute; 0 when not gated */
	int temporal_positions;      /* NumberOfTemporalPositions; 0 when not gated */

	/* geometry, LPS millimetres */
	unsigned rows, columns;
	double pixel_spacing[2];     /* DICOM order: between rows, between columns */
	double orientation[6];       /* row direction cosine, then column direction cosine */
	double slice_thickness;
	double slice_spacing;        /* SpacingBetweenSlices; 0 to leave it out */

	/* pixel encoding: 16 bits allocated, value = slope * stored + intercept */
	unsigned bits_stored;        /* 12..16 */
	int pixel_signed;            /* PixelRepresentation 1 */
	double rescale_slope, rescale_intercept; /* slope 0: no rescale elements */
	double window_center, window_width;      /* width 0: none */
};

/* One image plane. */
struct twin_dcm_frame {
	/* rows * columns stored values, row after row, in host byte order:
	 * int16_t when pixel_signed, else uint16_t. Borrowed for the call. */
	const void *pixels;
	double position[3];          /* ImagePositionPatient: centre of the first pixel */
	int stack_position;          /* InStackPositionNumber, 1-based (enhanced only) */
	int temporal_position;       /* 1-based; 0 when not gated */
	double trigger_time;         /* ms after the R wave */
	double cardiac_percent;      /* NominalPercentageOfCardiacPhase */
};

/*
 * Writes a classic CT or MR Image Storage file holding one frame. The file
 * goes to a temporary name beside path and is renamed into place; on failure
 * nothing is left. The same arguments give the same bytes. Returns 0, or -1
 * with err set: TWIN_EIO when path cannot be written, TWIN_EUSAGE for a bad
 * description, TWIN_EDEP when DCMTK fails.
 */
int twin_dcm_write_slice(struct twin_err *err, const char *path, const struct twin_dcm_series *s,
			 const char *sop_uid, int instance_number, const struct twin_dcm_frame *frame);

/*
 * Writes an Enhanced CT or Enhanced MR Image Storage file of nframes frames,
 * in the order given, with per-frame position and cardiac timing and shared
 * orientation, pixel measures and rescale. As twin_dcm_write_slice otherwise.
 */
int twin_dcm_write_multiframe(struct twin_err *err, const char *path, const struct twin_dcm_series *s,
			      const char *sop_uid, int instance_number,
			      const struct twin_dcm_frame *frames, size_t nframes);

#ifdef __cplusplus
}
#endif

#endif
