/*
 * frame: what twin-ingest knows of one 2-D DICOM image — a classic
 * single-frame file, or one frame of an enhanced multi-frame file — before
 * reading its pixels. Plain C data filled by the DCMTK shim (dcmtk.h) and
 * used by grouping, geometry and selection. Includes nothing.
 */
#ifndef TWIN_INGEST_FRAME_H
#define TWIN_INGEST_FRAME_H

#define TWIN_UID_MAX 65   /* 64 characters + NUL */
#define TWIN_CS_MAX 65    /* a short text value + NUL */

struct twin_frame {
	char *path;                  /* owned (free): the file */
	unsigned frame;              /* 0-based frame number within the file */
	unsigned n_frames;           /* frames in the file: 1 for classic */
	char sop_class[TWIN_UID_MAX];
	char sop_uid[TWIN_UID_MAX];
	char study_uid[TWIN_UID_MAX];
	char series_uid[TWIN_UID_MAX];
	char frame_of_ref[TWIN_UID_MAX];
	char transfer_syntax[TWIN_UID_MAX];
	char modality[TWIN_CS_MAX];
	char image_type[TWIN_CS_MAX];    /* e.g. ORIGINAL\PRIMARY\AXIAL */
	char description[TWIN_CS_MAX];   /* SeriesDescription */
	char manufacturer[TWIN_CS_MAX];
	char model[TWIN_CS_MAX];
	char kernel[TWIN_CS_MAX];        /* ConvolutionKernel */
	int series_number;
	int instance_number;
	unsigned rows, cols;
	unsigned samples_per_pixel;
	unsigned bits_allocated, bits_stored;
	unsigned pixel_signed;           /* PixelRepresentation */
	char photometric[TWIN_CS_MAX];
	int has_pixels;                  /* PixelData present */
	int has_position;                /* ipp and iop were present */
	double ipp[3];                   /* ImagePositionPatient, LPS mm */
	double iop[6];                   /* ImageOrientationPatient: row, column cosines */
	double spacing[2];               /* PixelSpacing: between rows, between columns (mm) */
	double thickness;                /* SliceThickness, 0 when absent */
	double slope, intercept;         /* Rescale, 1 and 0 when absent */
	double kvp;
	double gantry_tilt;              /* degrees */
	/* cardiac phase: each is NaN / -1 when absent */
	double trigger_time;             /* ms */
	double phase_percent;            /* NominalPercentageOfCardiacPhase */
	int temporal_position;           /* TemporalPositionIdentifier or TemporalPositionIndex */
	/* appended for the DCMTK reader */
	double slice_spacing;            /* SpacingBetweenSlices, 0 when absent */
	int acquisition_number;          /* AcquisitionNumber or FrameAcquisitionNumber, -1 when absent */
	int stack_position;              /* InStackPositionNumber, -1 when absent */
	/* Siemens mosaic: the frame is a grid of mosaic_images tiles of
	 * mosaic_rows x mosaic_cols (dcmtk.h splits it); all 0 otherwise */
	unsigned mosaic_images;
	unsigned mosaic_rows, mosaic_cols;
	int has_slice_normal;            /* slice_normal was in the CSA header */
	double slice_normal[3];          /* CSA SliceNormalVector, LPS */
	/* appended for twin-ingest's mosaic cutting (mosaic.h); the reader leaves it 0 */
	unsigned tile;                   /* 1-based tile of a mosaic record cut into tiles, else 0 */
	/* appended for twin_dcm_read_tail16 */
	unsigned high_bit;               /* HighBit, bits_stored - 1 when absent */
};

#endif
