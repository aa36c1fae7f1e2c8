/*
 * dcmtk: the C face of DCMTK, the only C++ in ingest/ (ingest/dcmtk.cc).
 * Writing: one classic single-frame or enhanced multi-frame CT/MR object from
 * a plain C description. Owns nothing the caller passes in; no exception or
 * DCMTK type crosses this header. Reading: a file's header as frame records
 * (frame.h), the files of a DICOMDIR, and the stored values of one frame.
 * Includes err.h and frame.h only.
 */
#ifndef TWIN_DCMTK_H
#define TWIN_DCMTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "err.h"
#include "frame.h"

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

/* ---- reading ------------------------------------------------------------ */

/*
 * Reading: the header of a file as frame records (frame.h), the files that a
 * DICOMDIR names, and the stored values of one frame, from every transfer
 * syntax that twin-ingest accepts. The functions may run on several threads
 * at once; a struct twin_dcm_file is used by one thread at a time.
 */

/*
 * Reads the header of one file, without its pixel data, into one record per
 * frame: one for a classic file, NumberOfFrames for a multi-frame file. For
 * enhanced CT and MR, position, orientation, pixel measures, rescale and
 * cardiac timing are read per frame from the Per-frame Functional Groups,
 * falling back to the Shared Functional Groups, then to the top level.
 * A Siemens mosaic gives one record with mosaic_images > 0.
 * MONOCHROME1 is reported in photometric; the values stay as stored, so a
 * caller that wants MONOCHROME2 inverts them itself.
 * A DICOMDIR scans as one record with has_pixels 0 and sop_class
 * TWIN_DCM_DICOMDIR_UID.
 *
 * Returns 0 with an owned array in *frames of *n >= 1 records, freed by
 * twin_dcm_frames_free, or -1 with err set:
 *   TWIN_EUNSUPPORTED  "'path': not a DICOM file": neither a DICM preamble nor
 *                      a plausible first element; the only use of that code here;
 *   TWIN_EINPUT        DICOM but corrupt or truncated ("cannot read 'path': ...");
 *   TWIN_EIO           the file cannot be opened.
 */
int twin_dcm_scan(struct twin_err *err, const char *path, struct twin_frame **frames, size_t *n);

/* Frees n records from twin_dcm_scan and the array. frames may be NULL. */
void twin_dcm_frames_free(struct twin_frame *frames, size_t n);

#define TWIN_PHI_MAX 200  /* a PN of three 64-character groups + NUL */

/* The patient and study fields that outputs leave out unless asked to keep them. */
struct twin_dcm_phi {
	char patient_name[TWIN_PHI_MAX];     /* PatientName */
	char patient_id[TWIN_PHI_MAX];       /* PatientID */
	char birth_date[TWIN_PHI_MAX];       /* PatientBirthDate */
	char accession[TWIN_PHI_MAX];        /* AccessionNumber */
	char physician[TWIN_PHI_MAX];        /* ReferringPhysicianName */
	char institution[TWIN_PHI_MAX];      /* InstitutionName */
};

/*
 * Reads the fields of struct twin_dcm_phi from the header of path (twin_dcm_scan
 * does not read them); an absent field is "". Returns 0, or -1 with err set
 * as twin_dcm_scan.
 */
int twin_dcm_read_phi(struct twin_err *err, const char *path, struct twin_dcm_phi *phi);

#define TWIN_DCM_DICOMDIR_UID "1.2.840.10008.1.3.10"

/*
 * The files that the directory records of a DICOMDIR reference
 * (ReferencedFileID), as paths joined to the DICOMDIR's folder, in record
 * order. A component whose case differs on disk (DICOMDIR IDs are upper case)
 * is matched without regard to case. Files that do not exist are left out
 * and counted in *missing (may be NULL). Returns 0 and an owned array in
 * *files of *n paths, freed by twin_dcm_files_free, or -1: TWIN_EINPUT when
 * path is not a readable DICOMDIR.
 */
int twin_dcm_dicomdir_files(struct twin_err *err, const char *path, char ***files, size_t *n,
			    size_t *missing);
void twin_dcm_files_free(char **files, size_t n);

/* An open file whose frames are decoded one at a time. */
struct twin_dcm_file;

/*
 * Opens path for decoding; the pixel data stays on disk until a frame is
 * read. Returns an owned handle (twin_dcm_close) or NULL: errors as
 * twin_dcm_scan, and TWIN_EINPUT when the file has no pixel data.
 */
struct twin_dcm_file *twin_dcm_open(struct twin_err *err, const char *path);

/*
 * As twin_dcm_open, from the len bytes of path's content at buf, which the
 * caller has read (and may hash) itself: the file is not opened, and path
 * only names it in messages. Every value is copied out of buf, which may be
 * reused once the call returns.
 */
struct twin_dcm_file *twin_dcm_open_mem(struct twin_err *err, const char *path, const void *buf, size_t len);
void twin_dcm_close(struct twin_dcm_file *f);

/*
 * Decodes 0-based frame `frame` into out[rows * cols], row after row: the
 * stored values, exact, sign-extended from BitsStored when
 * PixelRepresentation is 1; no rescale, no MONOCHROME1 inversion. count is
 * the size of out. Bits allocated: 1, 8, 16, and 32 when signed. Transfer
 * syntaxes: implicit and explicit little endian, explicit big endian,
 * deflated (the dataset, or each frame: Deflated Image Frame Compression),
 * RLE, JPEG baseline, extended and lossless, JPEG-LS, JPEG 2000 and HTJ2K
 * through OpenJPEG. A J2K codestream whose precision differs from BitsStored
 * is taken as the codestream says, and an unsigned codestream in a signed
 * dataset is sign-extended from its precision, as pydicom does.
 * Returns 0, or -1: TWIN_EINPUT for corrupt pixel data, TWIN_EUNSUPPORTED for
 * colour, float pixel data, unsigned 32-bit values or a transfer syntax
 * without a decoder, TWIN_EFAIL when frame or count is wrong.
 */
int twin_dcm_read_frame(struct twin_err *err, struct twin_dcm_file *f, unsigned frame,
			int32_t *out, size_t count);

/*
 * The common CT slice without parsing its header a second time: when the len
 * bytes of fr's file at buf are a single-frame image in implicit or explicit
 * little endian whose last element is PixelData of exactly rows * cols
 * 16-bit values, fills out[rows * cols] as twin_dcm_read_frame would, from
 * what the scan found (fr), and returns 1. Returns 0, having done nothing,
 * for any other file: open it then. Cannot fail.
 */
int twin_dcm_read_tail16(const struct twin_frame *fr, const void *buf, size_t len, int32_t *out);

/* twin_dcm_open, twin_dcm_read_frame and twin_dcm_close in one call. */
int twin_dcm_read_pixels(struct twin_err *err, const char *path, unsigned frame,
			 int32_t *out, size_t count);

/*
 * Siemens mosaic (fr->mosaic_images > 0): copies the tiles of a decoded
 * mosaic (fr->rows x fr->cols values) into tiles[mosaic_images][mosaic_rows]
 * [mosaic_cols], tile k being the k-th along the slice normal. Returns 0, or
 * -1 with TWIN_EFAIL when fr is not a mosaic.
 */
int twin_dcm_mosaic_split(struct twin_err *err, const struct twin_frame *fr,
			  const int32_t *mosaic, int32_t *tiles);

/*
 * ImagePositionPatient of tile k of a mosaic, LPS mm: the file's position
 * moved to the first tile's corner (as dcm2niix does), then k slice spacings
 * (SpacingBetweenSlices, else SliceThickness) along the slice normal (the CSA
 * SliceNormalVector, else row x column).
 */
void twin_dcm_mosaic_position(const struct twin_frame *fr, unsigned k, double ipp[3]);

#ifdef __cplusplus
}
#endif

#endif
