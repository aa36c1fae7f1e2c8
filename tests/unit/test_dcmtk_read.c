/*
 * The DICOM reader of the DCMTK shim, from plain C (which proves the header
 * is C), against real data: dcm_qa_ts against dcm2niix's NIfTI, pydicom's
 * compressed/uncompressed twins, enhanced multi-frame CT and MR, broken files,
 * and files from the writing half of the shim read back.
 */
#include "twin_test.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "../../ingest/dcmtk.h"
#include "files.h"
#include "nifti.h"

/* ---- helpers ------------------------------------------------------------ */

/* Scans path, which must hold at least one frame; fails with err.msg. */
static struct twin_frame *scan_ok(const char *path, size_t *n)
{
	struct twin_err err;
	struct twin_frame *frames = NULL;

	twin_err_init(&err);
	if (twin_dcm_scan(&err, path, &frames, n) != 0)
		fail_msg("scanning '%s': %s", path, err.msg);
	assert_true(*n >= 1);
	return frames;
}

/* The file read into memory by the caller decodes to the same values as from its path. */
static void decoded_from_memory(const char *path, const int32_t *want, size_t nframes, size_t frame_size)
{
	struct twin_err err;
	struct twin_dcm_file *f;
	size_t len = 0;
	unsigned char *buf = twin_test_read_file(path, &len);
	int32_t *px = malloc(frame_size * sizeof(*px));

	assert_non_null(px);
	twin_err_init(&err);
	f = twin_dcm_open_mem(&err, path, buf, len);
	if (!f)
		fail_msg("opening '%s' from memory: %s", path, err.msg);
	/* the values were copied out of buf */
	memset(buf, 0, len);
	for (size_t k = 0; k < nframes; k++) {
		if (twin_dcm_read_frame(&err, f, (unsigned)k, px, frame_size) != 0)
			fail_msg("decoding frame %zu of '%s' from memory: %s", k, path, err.msg);
		if (memcmp(px, want + k * frame_size, frame_size * sizeof(*px)) != 0)
			fail_msg("frame %zu of '%s' differs when read from memory", k, path);
	}
	twin_dcm_close(f);
	free(px);
	free(buf);
}

/* All frames of path, one after the other; *frame_size values each. */
static int32_t *decode_all(const char *path, size_t *nframes, size_t *frame_size)
{
	struct twin_err err;
	struct twin_frame *fr;
	struct twin_dcm_file *f;
	int32_t *px;

	fr = scan_ok(path, nframes);
	*frame_size = (size_t)fr[0].rows * fr[0].cols;
	twin_dcm_frames_free(fr, *nframes);
	px = malloc(*nframes * *frame_size * sizeof(*px));
	assert_non_null(px);
	twin_err_init(&err);
	f = twin_dcm_open(&err, path);
	if (!f)
		fail_msg("opening '%s': %s", path, err.msg);
	for (size_t k = 0; k < *nframes; k++) {
		if (twin_dcm_read_frame(&err, f, (unsigned)k, px + k * *frame_size, *frame_size) != 0)
			fail_msg("decoding frame %zu of '%s': %s", k, path, err.msg);
	}
	twin_dcm_close(f);
	decoded_from_memory(path, px, *nframes, *frame_size);
	return px;
}

static char *data_path(const char *rel)
{
	const char *p = twin_test_data(rel);

	return p ? strdup(p) : NULL;
}

/* ---- (a) dcm_qa_ts against dcm2niix ------------------------------------- */

/*
 * Each file is one Siemens mosaic; its reference is the NIfTI that dcm2niix
 * wrote (Ref/<n>.nii). Every voxel of every tile is placed in world space
 * from the frame record (twin_dcm_mosaic_position, pixel spacing and the row
 * and column cosines), looked up in the reference through its affine, and
 * must land on a grid point and hold the same value. So both the voxels and
 * the mosaic geometry are checked, whatever rows dcm2niix flipped.
 */
static void qa_ts_file(void **state)
{
	const char *name = *state;
	char in[64], ref[64];
	char *in_path, *ref_path;
	struct twin_err err;
	struct twin_frame *fr;
	struct twin_volume *vol;
	int32_t *mosaic, *tiles;
	size_t n, bad = 0, tile;

	snprintf(in, sizeof(in), "dicom/dcm_qa_ts/In/%s.dcm", name);
	snprintf(ref, sizeof(ref), "dicom/dcm_qa_ts/Ref/%s.nii", name);
	in_path = data_path(in);
	ref_path = data_path(ref);
	if (!in_path || !ref_path) {
		free(in_path);
		free(ref_path);
		skip();
	}
	fr = scan_ok(in_path, &n);
	assert_int_equal(n, 1);
	assert_int_equal(fr->mosaic_images, 35);
	assert_int_equal(fr->mosaic_rows, 64);
	assert_int_equal(fr->mosaic_cols, 64);
	assert_true(fr->has_position && fr->has_slice_normal);
	twin_err_init(&err);
	vol = twin_nifti_load(&err, ref_path);
	assert_ptr_ok(err, vol);
	assert_int_equal(vol->dim[0] * vol->dim[1] * vol->dim[2], 35 * 64 * 64);

	mosaic = malloc((size_t)fr->rows * fr->cols * sizeof(*mosaic));
	tile = (size_t)fr->mosaic_rows * fr->mosaic_cols;
	tiles = malloc(fr->mosaic_images * tile * sizeof(*tiles));
	assert_non_null(mosaic);
	assert_non_null(tiles);
	if (twin_dcm_read_pixels(&err, in_path, 0, mosaic, (size_t)fr->rows * fr->cols) != 0)
		fail_msg("%s: %s", name, err.msg);
	assert_ok(err, twin_dcm_mosaic_split(&err, fr, mosaic, tiles));

	for (unsigned k = 0; k < fr->mosaic_images; k++) {
		double p0[3];

		twin_dcm_mosaic_position(fr, k, p0);
		for (unsigned r = 0; r < fr->mosaic_rows; r++) {
			for (unsigned c = 0; c < fr->mosaic_cols; c++) {
				double xyz[3], ijk[3];
				long idx[3];
				int32_t want;

				for (int a = 0; a < 3; a++)
					xyz[a] = p0[a] + c * fr->spacing[1] * fr->iop[a] + r * fr->spacing[0] * fr->iop[3 + a];
				twin_volume_world_to_index(vol, xyz, ijk);
				for (int a = 0; a < 3; a++) {
					idx[a] = lround(ijk[a]);
					if (fabs(ijk[a] - idx[a]) > 1e-3 || idx[a] < 0 || (size_t)idx[a] >= vol->dim[a])
						fail_msg("%s: tile %u (%u,%u) is at index (%g,%g,%g) of the reference, off the grid",
							 name, k, r, c, ijk[0], ijk[1], ijk[2]);
				}
				want = (int32_t)twin_volume_get(vol, (size_t)idx[0], (size_t)idx[1], (size_t)idx[2]);
				if (tiles[k * tile + (size_t)r * fr->mosaic_cols + c] != want && bad++ == 0)
					print_error("%s: tile %u (%u,%u): %d, reference %d\n", name, k, r, c,
						    tiles[k * tile + (size_t)r * fr->mosaic_cols + c], want);
			}
		}
	}
	if (bad)
		fail_msg("%s: %zu of %zu voxels differ from dcm2niix's", name, bad, fr->mosaic_images * tile);
	free(mosaic);
	free(tiles);
	twin_volume_free(vol);
	twin_dcm_frames_free(fr, n);
	free(in_path);
	free(ref_path);
}

/* ---- (b) pydicom_data twins --------------------------------------------- */

/*
 * The pairs of pydicom-data whose second file is the uncompressed twin of
 * the first. The corpus has no README of its own; the pairs follow pydicom's
 * pixel reference table (tests/pixels/pixels_reference.py), which compares
 * the same files. Left out: the colour files (US1_*, SC_rgb*, JLSL_RGB*,
 * HTJ2K*; the reader decodes monochrome only), and files without a twin
 * (RG1/RG3 J2K, JLSL_08_07/16_15, JPEG-LL, JPGLosslessP14SV1, mlut/vlut).
 */
struct pair {
	const char *file, *twin;
	int tolerance;       /* largest allowed |difference| */
	const char *why;     /* what the pair exercises */
};

static const struct pair pairs[] = {
	{ "693_J2KR.dcm", "693_UNCR.dcm", 0, "J2K lossless, signed; codestream precision 14 where the dataset says 16" },
	{ "MR2_J2KR.dcm", "MR2_UNCR.dcm", 0, "J2K lossless, 12 bits stored" },
	/* lossy: UNCI is the reference decoder's output; pydicom allows 1 */
	{ "MR2_J2KI.dcm", "MR2_UNCI.dcm", 1, "J2K lossy (irreversible), within 1 of the reference decoding" },
	{ "emri_small_RLE.dcm", "emri_small.dcm", 0, "enhanced MR, 10 frames, RLE" },
	{ "emri_small_big_endian.dcm", "emri_small.dcm", 0, "enhanced MR, 10 frames, explicit big endian" },
	{ "emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm", 0, "enhanced MR, 10 frames, J2K (precision 16, 12 bits stored)" },
	{ "emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm", 0, "enhanced MR, 10 frames, JPEG-LS" },
	{ "liver_expb.dcm", "liver.dcm", 0, "1-bit, 3 frames, big endian" },
	{ "liver_rle.dcm", "liver.dcm", 0, "1-bit, 3 frames, RLE" },
	{ "liver_j2k.dcm", "liver.dcm", 0, "1-bit, 3 frames, J2K" },
	{ "liver_deflate.dcm", "liver.dcm", 0, "1-bit, 3 frames, deflated image frames" },
	{ "liver_nonbyte_aligned_rle.dcm", "liver_nonbyte_aligned.dcm", 0, "1-bit frames not byte aligned, RLE" },
	{ "liver_nonbyte_aligned_j2k.dcm", "liver_nonbyte_aligned.dcm", 0, "1-bit frames not byte aligned, J2K" },
	{ "liver_nonbyte_aligned_deflate.dcm", "liver_nonbyte_aligned.dcm", 0, "1-bit frames not byte aligned, deflated" },
	/* palette colour: one sample per pixel, so the stored indices compare */
	{ "OBXXXX1A_rle.dcm", "OBXXXX1A.dcm", 0, "8-bit palette indices, RLE" },
	{ "OBXXXX1A_expb.dcm", "OBXXXX1A.dcm", 0, "8-bit palette indices, big endian" },
	{ "OBXXXX1A_rle_2frame.dcm", "OBXXXX1A_2frame.dcm", 0, "8-bit, 2 frames, RLE" },
	{ "OBXXXX1A_expb_2frame.dcm", "OBXXXX1A_2frame.dcm", 0, "8-bit, 2 frames, big endian" },
	{ "gdcm-US-ALOKA-16_big.dcm", "gdcm-US-ALOKA-16.dcm", 0, "16-bit, big endian against implicit little endian" },
};

static void pydicom_pair(void **state)
{
	const struct pair *p = *state;
	char rel[128];
	char *a, *b;
	int32_t *pa, *pb;
	size_t na, nb, sa, sb, bad = 0;
	long worst = 0;

	snprintf(rel, sizeof(rel), "dicom/pydicom_data/%s", p->file);
	a = data_path(rel);
	snprintf(rel, sizeof(rel), "dicom/pydicom_data/%s", p->twin);
	b = data_path(rel);
	if (!a || !b) {
		free(a);
		free(b);
		skip();
	}
	pa = decode_all(a, &na, &sa);
	pb = decode_all(b, &nb, &sb);
	if (na != nb || sa != sb)
		fail_msg("%s: %zu frames of %zu values, twin %s: %zu of %zu", p->file, na, sa, p->twin, nb, sb);
	for (size_t i = 0; i < na * sa; i++) {
		long d = labs((long)pa[i] - pb[i]);
		if (d > worst)
			worst = d;
		if (d > p->tolerance && bad++ == 0)
			print_error("%s: frame %zu value %zu: %d, twin %s: %d\n", p->file, i / sa, i % sa,
				    pa[i], p->twin, pb[i]);
	}
	if (bad)
		fail_msg("%s (%s): %zu of %zu values differ from %s by more than %d (worst %ld)",
			 p->file, p->why, bad, na * sa, p->twin, p->tolerance, worst);
	free(pa);
	free(pb);
	free(a);
	free(b);
}

/*
 * Files without an uncompressed twin, checked at the values that pydicom's
 * pixel reference table gives for them (row or column runs).
 */
struct spot {
	const char *file;
	unsigned row, col;
	int down;            /* 1: run down a column, 0: along a row */
	int n;
	int32_t want[10];
	const char *why;
};

static const struct spot spots[] = {
	{ "JPEG-LL.dcm", 400, 124, 0, 8, { 60, 58, 61, 68, 59, 65, 64, 67 }, "JPEG lossless SV1, 16-bit signed" },
	{ "JPEG-LL.dcm", 600, 124, 0, 8, { 3, 1, 2, 0, 2, 1, 2, 0 }, "JPEG lossless SV1, 16-bit signed" },
	{ "JPGLosslessP14SV1_1s_1f_8b.dcm", 300, 512, 0, 8, { 26, 26, 25, 22, 19, 16, 14, 15 },
	  "JPEG lossless SV1, 8-bit" },
	{ "JPGLosslessP14SV1_1s_1f_8b.dcm", 600, 512, 0, 8, { 45, 43, 41, 38, 33, 30, 26, 21 },
	  "JPEG lossless SV1, 8-bit" },
	{ "JLSL_16_15_1_1F.dcm", 59, 58, 1, 6, { -2073, -2629, -1167, 5566, 11808, 15604 },
	  "JPEG-LS, 15 bits stored, signed" },
};

static void spot_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		const struct spot *s = &spots[i];
		char rel[128];
		char *path;
		int32_t *px;
		size_t n, size;
		struct twin_frame *fr;
		unsigned cols;

		snprintf(rel, sizeof(rel), "dicom/pydicom_data/%s", s->file);
		if (!(path = data_path(rel)))
			skip();
		fr = scan_ok(path, &n);
		cols = fr[0].cols;
		twin_dcm_frames_free(fr, n);
		px = decode_all(path, &n, &size);
		for (int k = 0; k < s->n; k++) {
			size_t at = s->down ? (size_t)(s->row + k) * cols + s->col : (size_t)s->row * cols + s->col + k;
			if (px[at] != s->want[k])
				fail_msg("%s (%s): value %d of the run at (%u,%u) is %d, pydicom says %d",
					 s->file, s->why, k, s->row, s->col, px[at], s->want[k]);
		}
		free(px);
		free(path);
	}
}

/* ---- (c) headers: classic CT, enhanced multi-frame ------------------------ */

/* A classic CT slice: the values dcmdump shows for 693_UNCR.dcm. */
static void classic_ct(void **state)
{
	char *path = data_path("dicom/pydicom_data/693_UNCR.dcm");
	static const double ipp[3] = { -122.5, -112.4, 47 }, iop[6] = { 1, 0, 0, 0, 1, 0 };
	struct twin_frame *fr;
	size_t n;

	(void)state;
	if (!path)
		skip();
	fr = scan_ok(path, &n);
	assert_int_equal(n, 1);
	assert_int_equal(fr->frame, 0);
	assert_int_equal(fr->n_frames, 1);
	assert_string_equal(fr->path, path);
	assert_string_equal(fr->modality, "CT");
	assert_string_equal(fr->sop_class, "1.2.840.10008.5.1.4.1.1.2");
	assert_string_equal(fr->transfer_syntax, "1.2.840.10008.1.2.1");
	assert_string_equal(fr->kernel, "STANDARD");
	assert_string_equal(fr->manufacturer, "");
	assert_string_equal(fr->photometric, "MONOCHROME2");
	assert_int_equal(fr->series_number, 2);
	assert_int_equal(fr->instance_number, 21);
	assert_int_equal(fr->acquisition_number, 6);
	assert_int_equal(fr->rows, 512);
	assert_int_equal(fr->cols, 512);
	assert_int_equal(fr->samples_per_pixel, 1);
	assert_int_equal(fr->bits_allocated, 16);
	assert_int_equal(fr->bits_stored, 14);
	assert_int_equal(fr->pixel_signed, 1);
	assert_true(fr->has_pixels && fr->has_position);
	for (int a = 0; a < 3; a++)
		assert_true(fabs(fr->ipp[a] - ipp[a]) < 1e-9);
	for (int a = 0; a < 6; a++)
		assert_true(fabs(fr->iop[a] - iop[a]) < 1e-9);
	assert_true(fabs(fr->spacing[0] - 0.478516) < 1e-9 && fabs(fr->spacing[1] - 0.478516) < 1e-9);
	assert_true(fabs(fr->thickness - 5) < 1e-9);
	assert_true(fabs(fr->slope - 1) < 1e-9 && fabs(fr->intercept + 1024) < 1e-9);
	assert_true(fabs(fr->kvp - 140) < 1e-9);
	/* no cardiac timing in this file */
	assert_true(isnan(fr->trigger_time) && isnan(fr->phase_percent));
	assert_int_equal(fr->temporal_position, -1);
	assert_int_equal(fr->mosaic_images, 0);
	twin_dcm_frames_free(fr, n);
	free(path);
}


static void enhanced_ct(void **state)
{
	char *path = data_path("dicom/pydicom_data/eCT_Supplemental.dcm");
	struct twin_frame *fr;
	size_t n;
	double nrm[3], d = 0;

	(void)state;
	if (!path)
		skip();
	fr = scan_ok(path, &n);
	assert_int_equal(n, 2);
	assert_string_equal(fr[0].sop_class, "1.2.840.10008.5.1.4.1.1.2.1");
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(fr[k].frame, k);
		assert_int_equal(fr[k].n_frames, 2);
		assert_true(fr[k].has_position);
		assert_true(fr[k].has_pixels);
		assert_true(fabs(fr[k].spacing[0] - 0.388672) < 1e-6 && fabs(fr[k].spacing[1] - 0.388672) < 1e-6);
		assert_true(fabs(fr[k].thickness - 10) < 1e-9);
		/* rescale from the PixelValueTransformationSequence */
		assert_true(fabs(fr[k].slope - 1) < 1e-9 && fabs(fr[k].intercept + 1024) < 1e-9);
	}
	/* per frame: the stack positions and positions differ along the normal */
	assert_int_equal(fr[0].stack_position, 2);
	assert_int_equal(fr[1].stack_position, 1);
	nrm[0] = fr[0].iop[1] * fr[0].iop[5] - fr[0].iop[2] * fr[0].iop[4];
	nrm[1] = fr[0].iop[2] * fr[0].iop[3] - fr[0].iop[0] * fr[0].iop[5];
	nrm[2] = fr[0].iop[0] * fr[0].iop[4] - fr[0].iop[1] * fr[0].iop[3];
	for (int a = 0; a < 3; a++)
		d += (fr[1].ipp[a] - fr[0].ipp[a]) * nrm[a];
	if (fabs(fabs(d) - 10) > 1e-6)
		fail_msg("frames are %g mm apart along the normal, want 10", d);
	assert_true(fabs(fr[0].ipp[2] + 159) < 1e-9 && fabs(fr[1].ipp[2] + 149) < 1e-9);
	twin_dcm_frames_free(fr, n);
	free(path);
}

static void enhanced_mr(void **state)
{
	static const char *files[] = {
		"emri_small.dcm", "emri_small_RLE.dcm", "emri_small_big_endian.dcm",
		"emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		char *path;
		struct twin_frame *fr;
		size_t n;

		snprintf(rel, sizeof(rel), "dicom/pydicom_data/%s", files[i]);
		if (!(path = data_path(rel)))
			skip();
		fr = scan_ok(path, &n);
		if (n != 10)
			fail_msg("%s: %zu frames, want 10", files[i], n);
		assert_string_equal(fr[0].sop_class, "1.2.840.10008.5.1.4.1.1.4.1");
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(fr[k].frame, k);
			assert_int_equal(fr[k].rows, 64);
			assert_int_equal(fr[k].cols, 64);
			assert_int_equal(fr[k].bits_stored, 12);
			assert_true(fabs(fr[k].slice_spacing - 1.2) < 1e-9);
			/* this file carries no functional groups: no position to invent */
			assert_false(fr[k].has_position);
		}
		twin_dcm_frames_free(fr, n);
		free(path);
	}
}

/* ---- (d, e) bad input ----------------------------------------------------- */

static void broken_files(void **state)
{
	char *path = data_path("dicom/pydicom_data/emri_small_jpeg_2k_lossless_too_short.dcm");
	struct twin_err err;
	struct twin_frame *fr = NULL;
	size_t n = 0;

	(void)state;
	if (!path)
		skip();
	twin_err_init(&err);
	assert_int_equal(twin_dcm_scan(&err, path, &fr, &n), -1);
	assert_err(err, TWIN_EINPUT, "emri_small_jpeg_2k_lossless_too_short.dcm");
	assert_err(err, TWIN_EINPUT, "cannot read");
	assert_null(fr);
	twin_err_init(&err);
	assert_null(twin_dcm_open(&err, path));
	assert_err(err, TWIN_EINPUT, "emri_small_jpeg_2k_lossless_too_short.dcm");
	free(path);
}

/* Real files cut short: in the header, in the pixel data, in a J2K fragment. */
static void truncated_files(void **state)
{
	static const struct {
		const char *file;
		size_t keep;
	} cuts[] = {
		{ "1.dcm", 1000 },      /* inside the header */
		{ "1.dcm", 300000 },    /* inside native pixel data */
		{ "9.dcm", 200000 },    /* inside the J2K codestream */
		{ "5.dcm", 150000 },    /* inside the JPEG lossless fragment */
	};
	char *dir = twin_test_tmpdir();

	(void)state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char rel[64], name[64];
		char *src;
		void *buf;
		size_t len;
		struct twin_err err;
		struct twin_frame *fr = NULL;
		size_t n = 0;
		int32_t *px;
		struct twin_dcm_file *f;

		snprintf(rel, sizeof(rel), "dicom/dcm_qa_ts/In/%s", cuts[i].file);
		if (!(src = data_path(rel))) {
			twin_test_rmdir(dir);
			skip();
		}
		buf = twin_test_read_file(src, &len);
		assert_true(len > cuts[i].keep);
		snprintf(name, sizeof(name), "cut%zu-%s", cuts[i].keep, cuts[i].file);
		twin_test_write_file(twin_test_path(dir, name), buf, cuts[i].keep);
		free(buf);
		free(src);

		/* the error comes from the scan or, at the latest, from the decode */
		twin_err_init(&err);
		if (twin_dcm_scan(&err, twin_test_path(dir, name), &fr, &n) == 0) {
			px = malloc((size_t)fr[0].rows * fr[0].cols * sizeof(*px));
			assert_non_null(px);
			assert_int_equal(twin_dcm_read_pixels(&err, twin_test_path(dir, name), 0, px,
							      (size_t)fr[0].rows * fr[0].cols), -1);
			free(px);
			twin_dcm_frames_free(fr, n);
		}
		if (err.code != TWIN_EINPUT || !strstr(err.msg, name))
			fail_msg("%s: want a bad-input error naming the file, got %d: '%s'", name, err.code, err.msg);

		/* the same from memory: from the open or, at the latest, from the decode */
		twin_err_init(&err);
		buf = twin_test_read_file(twin_test_path(dir, name), &len);
		f = twin_dcm_open_mem(&err, twin_test_path(dir, name), buf, len);
		if (f) {
			size_t count = 0;

			if (twin_dcm_scan(&err, twin_test_path(dir, name), &fr, &n) == 0) {
				count = (size_t)fr[0].rows * fr[0].cols;
				twin_dcm_frames_free(fr, n);
			}
			px = malloc((count ? count : 1) * sizeof(*px));
			assert_non_null(px);
			assert_int_equal(twin_dcm_read_frame(&err, f, 0, px, count), -1);
			free(px);
			twin_dcm_close(f);
		}
		free(buf);
		if (err.code != TWIN_EINPUT || !strstr(err.msg, name))
			fail_msg("%s from memory: want a bad-input error naming the file, got %d: '%s'", name,
				 err.code, err.msg);
	}
	twin_test_rmdir(dir);
}

static void not_dicom(void **state)
{
	static const char text[] = "patient,slice\nanonymous,1\n";
	char *dir = twin_test_tmpdir();
	struct twin_err err;
	struct twin_frame *fr = NULL;
	size_t n = 0;

	(void)state;
	twin_test_write_file(twin_test_path(dir, "notes.csv"), text, sizeof(text) - 1);
	twin_err_init(&err);
	assert_int_equal(twin_dcm_scan(&err, twin_test_path(dir, "notes.csv"), &fr, &n), -1);
	assert_err(err, TWIN_EUNSUPPORTED, "notes.csv': not a DICOM file");
	twin_test_write_file(twin_test_path(dir, "empty"), "", 0);
	twin_err_init(&err);
	assert_int_equal(twin_dcm_scan(&err, twin_test_path(dir, "empty"), &fr, &n), -1);
	assert_err(err, TWIN_EUNSUPPORTED, "empty': not a DICOM file");
	twin_err_init(&err);
	assert_int_equal(twin_dcm_scan(&err, twin_test_path(dir, "absent.dcm"), &fr, &n), -1);
	assert_err(err, TWIN_EIO, "absent.dcm");
	assert_null(fr);
	twin_err_init(&err);
	assert_null(twin_dcm_open_mem(&err, "notes.csv", text, sizeof(text) - 1));
	assert_err(err, TWIN_EUNSUPPORTED, "notes.csv': not a DICOM file");
	twin_err_init(&err);
	assert_null(twin_dcm_open_mem(&err, "empty", NULL, 0));
	assert_err(err, TWIN_EUNSUPPORTED, "empty': not a DICOM file");
	twin_test_rmdir(dir);
}

/* Appends one explicit little-endian element with a short value. */
static size_t put(unsigned char *p, unsigned group, unsigned elem, const char *vr, const char *val)
{
	size_t len = strlen(val), pad = len & 1;

	p[0] = group & 0xff;
	p[1] = group >> 8;
	p[2] = elem & 0xff;
	p[3] = elem >> 8;
	p[4] = (unsigned char)vr[0];
	p[5] = (unsigned char)vr[1];
	p[6] = (len + pad) & 0xff;
	p[7] = (unsigned char)((len + pad) >> 8);
	memcpy(p + 8, val, len);
	if (pad)
		p[8 + len] = vr[0] == 'U' && vr[1] == 'I' ? '\0' : ' ';
	return 8 + len + pad;
}

/* A CT header without pixel data, written byte by byte. */
static void no_pixel_data(void **state)
{
	unsigned char buf[1024];
	size_t len = 128 + 4;
	char *dir = twin_test_tmpdir();
	struct twin_err err;
	struct twin_frame *fr = NULL;
	size_t n = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 128, "DICM", 4);
	len += put(buf + len, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
	len += put(buf + len, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2");
	len += put(buf + len, 0x0008, 0x0018, "UI", "1.2.3.4");
	len += put(buf + len, 0x0008, 0x0060, "CS", "CT");
	len += put(buf + len, 0x0020, 0x000e, "UI", "1.2.3.5");
	twin_test_write_file(twin_test_path(dir, "header-only.dcm"), buf, len);
	twin_err_init(&err);
	assert_ok(err, twin_dcm_scan(&err, twin_test_path(dir, "header-only.dcm"), &fr, &n));
	assert_int_equal(n, 1);
	assert_int_equal(fr[0].has_pixels, 0);
	assert_string_equal(fr[0].modality, "CT");
	assert_string_equal(fr[0].series_uid, "1.2.3.5");
	assert_string_equal(fr[0].transfer_syntax, "1.2.840.10008.1.2.1");
	twin_dcm_frames_free(fr, n);
	assert_null(twin_dcm_open(&err, twin_test_path(dir, "header-only.dcm")));
	assert_err(err, TWIN_EINPUT, "header-only.dcm': no pixel data");
	twin_test_rmdir(dir);
}

/* Float pixel data and colour are refused as unsupported, naming the file. */
static void unsupported_pixels(void **state)
{
	char *pm = data_path("dicom/pydicom_data/parametric_map_float.dcm");
	char *rgb = data_path("dicom/pydicom_data/US1_J2KR.dcm");
	struct twin_err err;
	struct twin_frame *fr;
	size_t n;

	(void)state;
	if (!pm || !rgb) {
		free(pm);
		free(rgb);
		skip();
	}
	fr = scan_ok(pm, &n);
	assert_int_equal(fr[0].has_pixels, 0);
	twin_dcm_frames_free(fr, n);
	twin_err_init(&err);
	assert_null(twin_dcm_open(&err, pm));
	assert_err(err, TWIN_EUNSUPPORTED, "parametric_map_float.dcm': float pixel data");
	twin_err_init(&err);
	assert_null(twin_dcm_open(&err, rgb));
	assert_err(err, TWIN_EUNSUPPORTED, "US1_J2KR.dcm': colour images");
	free(pm);
	free(rgb);
}

/*
 * MONOCHROME1 is reported and the stored values are left as they are: a copy
 * of emri_small.dcm relabelled MONOCHROME1 (by DCMTK's dcmodify) decodes to
 * the same values as the original. RG3 is a real MONOCHROME1 radiograph.
 */
static void monochrome1_kept(void **state)
{
	char *rg3 = data_path("dicom/pydicom_data/RG3_J2KR.dcm");
	char *src = data_path("dicom/pydicom_data/emri_small.dcm");
	char *dir, *copy;
	char cmd[8192];
	struct twin_frame *fr;
	int32_t *a, *b;
	size_t n, na, nb, sa, sb, len;
	void *buf;

	(void)state;
	if (!rg3 || !src) {
		free(rg3);
		free(src);
		skip();
	}
	fr = scan_ok(rg3, &n);
	assert_string_equal(fr[0].photometric, "MONOCHROME1");
	twin_dcm_frames_free(fr, n);
	if (system("command -v dcmodify >/dev/null 2>&1") != 0) {
		free(rg3);
		free(src);
		printf("# SKIP dcmodify (DCMTK's tools) is not installed\n");
		skip();
	}
	dir = twin_test_tmpdir();
	buf = twin_test_read_file(src, &len);
	copy = strdup(twin_test_path(dir, "m1.dcm"));
	twin_test_write_file(copy, buf, len);
	free(buf);
	snprintf(cmd, sizeof(cmd), "dcmodify -nb -m '(0028,0004)=MONOCHROME1' '%s' >/dev/null 2>&1", copy);
	if (system(cmd) != 0)
		fail_msg("dcmodify failed on '%s'", copy);
	fr = scan_ok(copy, &n);
	assert_string_equal(fr[0].photometric, "MONOCHROME1");
	twin_dcm_frames_free(fr, n);
	a = decode_all(src, &na, &sa);
	b = decode_all(copy, &nb, &sb);
	assert_int_equal(na * sa, nb * sb);
	assert_memory_equal(a, b, na * sa * sizeof(*a));
	free(a);
	free(b);
	free(copy);
	free(rg3);
	free(src);
	twin_test_rmdir(dir);
}

/* ---- threads ------------------------------------------------------------- */

struct job {
	const char *path;
	int32_t *px;
	size_t count;
	int rc;
	char msg[TWIN_ERR_MSG_MAX];
};

static void *decode_job(void *arg)
{
	struct job *j = arg;
	struct twin_err err;

	twin_err_init(&err);
	for (int round = 0; round < 4 && j->rc == 0; round++)
		j->rc = twin_dcm_read_pixels(&err, j->path, 0, j->px, j->count);
	snprintf(j->msg, sizeof(j->msg), "%s", err.msg);
	return NULL;
}

/* Two threads decode J2K and JPEG-LS at once and get what one thread gets. */
static void two_threads(void **state)
{
	char *paths[2] = { data_path("dicom/dcm_qa_ts/In/9.dcm"), data_path("dicom/dcm_qa_ts/In/7.dcm") };
	struct job jobs[2];
	pthread_t t[2];
	size_t count = 384 * 384;
	int32_t *want;
	struct twin_err err;

	(void)state;
	if (!paths[0] || !paths[1]) {
		free(paths[0]);
		free(paths[1]);
		skip();
	}
	want = malloc(count * sizeof(*want));
	assert_non_null(want);
	twin_err_init(&err);
	assert_ok(err, twin_dcm_read_pixels(&err, paths[0], 0, want, count));
	for (int i = 0; i < 2; i++) {
		jobs[i].path = paths[i];
		jobs[i].count = count;
		jobs[i].rc = 0;
		jobs[i].px = malloc(count * sizeof(int32_t));
		assert_non_null(jobs[i].px);
		assert_int_equal(pthread_create(&t[i], NULL, decode_job, &jobs[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		if (jobs[i].rc != 0)
			fail_msg("thread %d: %s", i, jobs[i].msg);
	}
	/* both files hold the same image */
	assert_memory_equal(jobs[0].px, want, count * sizeof(*want));
	assert_memory_equal(jobs[1].px, want, count * sizeof(*want));
	for (int i = 0; i < 2; i++) {
		free(jobs[i].px);
		free(paths[i]);
	}
	free(want);
}

/* ---- DICOMDIR ------------------------------------------------------------ */

/*
 * A DICOMDIR made by DCMTK's dcmmkdir over two real files, then
 * partly renamed to lower case, as a case-folding file system shows them.
 */
static void dicomdir(void **state)
{
	char *src = data_path("dicom/dcm_qa_ts/In/1.dcm");
	char *src2 = data_path("dicom/pydicom_data/MR2_UNCR.dcm");
	char *dir;
	char cmd[8192];
	void *buf;
	size_t len, n = 0, missing = 9;
	char **files = NULL;
	struct twin_err err;

	(void)state;
	if (!src || !src2) {
		free(src);
		free(src2);
		skip();
	}
	if (system("command -v dcmmkdir >/dev/null 2>&1") != 0) {
		free(src);
		free(src2);
		printf("# SKIP dcmmkdir (DCMTK's tools) is not installed\n");
		skip();
	}
	dir = twin_test_tmpdir();
	buf = twin_test_read_file(src, &len);
	assert_ok(err, twin_mkdir_p(&err, twin_test_path(dir, "IMAGES")));
	twin_test_write_file(twin_test_path(dir, "IMAGES/IM1"), buf, len);
	free(buf);
	buf = twin_test_read_file(src2, &len);
	twin_test_write_file(twin_test_path(dir, "IMAGES/IM2"), buf, len);
	free(buf);
	snprintf(cmd, sizeof(cmd), "cd '%s' && dcmmkdir -q -I +r -Pgp IMAGES/IM1 IMAGES/IM2 >/dev/null 2>&1"
		 " && mv IMAGES images && mv images/IM1 images/im1", dir);
	if (system(cmd) != 0)
		fail_msg("dcmmkdir failed in '%s'", dir);
	twin_err_init(&err);
	assert_ok(err, twin_dcm_dicomdir_files(&err, twin_test_path(dir, "DICOMDIR"), &files, &n, &missing));
	assert_int_equal(n, 2);
	assert_int_equal(missing, 0);
	assert_non_null(strstr(files[0], "/images/im1"));
	assert_non_null(strstr(files[1], "/images/IM2"));
	twin_dcm_files_free(files, n);

	/* a DICOMDIR scans as a non-image object */
	{
		struct twin_frame *fr;

		fr = scan_ok(twin_test_path(dir, "DICOMDIR"), &n);
		assert_string_equal(fr[0].sop_class, TWIN_DCM_DICOMDIR_UID);
		assert_int_equal(fr[0].has_pixels, 0);
		twin_dcm_frames_free(fr, n);
	}
	/* an image is not a DICOMDIR */
	twin_err_init(&err);
	assert_int_equal(twin_dcm_dicomdir_files(&err, src, &files, &n, NULL), -1);
	assert_err(err, TWIN_EINPUT, "not a DICOMDIR");
	free(src);
	free(src2);
	twin_test_rmdir(dir);
}

/* ---- round trip through the writing half ----------------------------------- */

#define RT_COLS 20
#define RT_ROWS 12

/* A series description for the writer: 12 bits stored, signed or not. */
static void rt_series(struct twin_dcm_series *s, enum twin_dcm_modality modality, int pixel_signed)
{
	static const double orient[6] = { 0.6, 0.8, 0, 0, 0, -1 };   /* oblique-ish coronal */

	memset(s, 0, sizeof(*s));
	s->modality = modality;
	s->study_uid = "2.25.2001";
	s->series_uid = "2.25.2002";
	s->frame_of_reference_uid = "2.25.2003";
	s->series_description = "reader round trip";
	s->image_type = "ORIGINAL\\PRIMARY\\OTHER";
	s->manufacturer = "dcm2twin";
	s->series_number = 3;
	s->kvp = 120;
	s->heart_rate = 60;
	s->rows = RT_ROWS;
	s->columns = RT_COLS;
	s->pixel_spacing[0] = 0.7;
	s->pixel_spacing[1] = 0.9;
	memcpy(s->orientation, orient, sizeof(orient));
	s->slice_thickness = 3;
	s->bits_stored = 12;
	s->pixel_signed = pixel_signed;
	s->rescale_slope = pixel_signed ? 1 : 2.5;
	s->rescale_intercept = pixel_signed ? -1000 : 7;
}

/* Stored values that use the sign and all 12 bits. */
static int32_t rt_value(int i, int j, int k, int pixel_signed)
{
	int v = (i * 211 + j * 97 + k * 1301) % 4096;

	return pixel_signed ? v - 2048 : v;
}

/*
 * twin_dcm_read_tail16 takes the little-endian files whole, with the values
 * written, and leaves every other transfer syntax, and a file cut short or
 * with an element after the pixel data, to the full reader.
 */
static void tail16(const char *name, const struct twin_frame *fr, const char *path, const int16_t *want)
{
	int little = strcmp(fr->transfer_syntax, "1.2.840.10008.1.2") == 0 ||
		     strcmp(fr->transfer_syntax, "1.2.840.10008.1.2.1") == 0;
	static const unsigned char padding[12] = { 0xfc, 0xff, 0xfc, 0xff, 'O', 'B', 0, 0, 0, 0, 0, 0 };
	int32_t got[RT_ROWS * RT_COLS];
	size_t len = 0;
	unsigned char *buf = twin_test_read_file(path, &len), *longer;

	assert_non_null(buf);
	memset(got, 0x55, sizeof(got));
	assert_int_equal(twin_dcm_read_tail16(fr, buf, len, got), little);
	for (int p = 0; little && p < RT_ROWS * RT_COLS; p++)
		if (got[p] != want[p])
			fail_msg("%s: tail16 value %d is %d, written %d", name, p, got[p], want[p]);
	assert_int_equal(twin_dcm_read_tail16(fr, buf, len - 2, got), 0);
	longer = malloc(len + sizeof(padding));
	assert_non_null(longer);
	memcpy(longer, buf, len);
	memcpy(longer + len, padding, sizeof(padding));
	assert_int_equal(twin_dcm_read_tail16(fr, longer, len + sizeof(padding), got), 0);
	free(longer);
	free(buf);
}

/* Every transfer syntax of the writer, classic slices, back through the reader. */
static void roundtrip_classic(void **state)
{
	char *dir = twin_test_tmpdir();

	(void)state;
	for (int ts = 0; ts < TWIN_DCM_TS_COUNT; ts++) {
		for (int sgn = 0; sgn <= 1; sgn++) {
			struct twin_dcm_series s;
			struct twin_dcm_frame f;
			int16_t px16[RT_ROWS * RT_COLS];
			int32_t got[RT_ROWS * RT_COLS];
			struct twin_err err;
			struct twin_frame *fr;
			size_t n;
			char name[64];

			rt_series(&s, TWIN_DCM_CT, sgn);
			s.ts = (enum twin_dcm_ts)ts;
			memset(&f, 0, sizeof(f));
			for (int j = 0; j < RT_ROWS; j++)
				for (int i = 0; i < RT_COLS; i++)
					px16[i + RT_COLS * j] = (int16_t)rt_value(i, j, ts, sgn);
			f.pixels = px16;
			f.position[0] = 1.5;
			f.position[1] = -2.5;
			f.position[2] = 3.5;
			snprintf(name, sizeof(name), "%s-%s.dcm", twin_dcm_ts_name((enum twin_dcm_ts)ts),
				 sgn ? "signed" : "unsigned");
			twin_err_init(&err);
			if (twin_dcm_write_slice(&err, twin_test_path(dir, name), &s, "2.25.2004", 1, &f) != 0)
				fail_msg("writing %s: %s", name, err.msg);
			fr = scan_ok(twin_test_path(dir, name), &n);
			assert_int_equal(n, 1);
			assert_string_equal(fr->transfer_syntax, twin_dcm_ts_uid((enum twin_dcm_ts)ts));
			assert_int_equal(fr->pixel_signed, sgn);
			assert_true(fr->has_position);
			for (int a = 0; a < 3; a++)
				assert_true(fabs(fr->ipp[a] - f.position[a]) < 1e-6);
			for (int a = 0; a < 6; a++)
				assert_true(fabs(fr->iop[a] - s.orientation[a]) < 1e-6);
			assert_true(fabs(fr->slope - s.rescale_slope) < 1e-9);
			assert_true(fabs(fr->intercept - s.rescale_intercept) < 1e-9);
			if (twin_dcm_read_pixels(&err, twin_test_path(dir, name), 0, got, RT_ROWS * RT_COLS) != 0)
				fail_msg("reading %s: %s", name, err.msg);
			for (int p = 0; p < RT_ROWS * RT_COLS; p++)
				if (got[p] != px16[p])
					fail_msg("%s: value %d is %d, written %d", name, p, got[p], px16[p]);
			tail16(name, fr, twin_test_path(dir, name), px16);
			twin_dcm_frames_free(fr, n);
		}
	}
	twin_test_rmdir(dir);
}

/*
 * An enhanced MR of 3 positions x 2 cardiac phases: position, stack position,
 * temporal index, trigger time and phase percent come back per frame.
 */
static void roundtrip_enhanced(void **state)
{
	enum { NF = 6 };
	char *dir = twin_test_tmpdir();
	struct twin_dcm_series s;
	struct twin_dcm_frame f[NF];
	uint16_t px[NF][RT_ROWS * RT_COLS];
	int32_t got[RT_ROWS * RT_COLS];
	struct twin_err err;
	struct twin_frame *fr;
	size_t n;
	const char *path;

	(void)state;
	rt_series(&s, TWIN_DCM_MR, 0);
	s.ts = TWIN_DCM_JPEG_LS;
	s.temporal_positions = 2;
	memset(f, 0, sizeof(f));
	for (int k = 0; k < NF; k++) {
		for (int p = 0; p < RT_ROWS * RT_COLS; p++)
			px[k][p] = (uint16_t)rt_value(p % RT_COLS, p / RT_COLS, k, 0);
		f[k].pixels = px[k];
		f[k].stack_position = k % 3 + 1;
		f[k].temporal_position = k / 3 + 1;
		f[k].trigger_time = k / 3 ? 750 : 100;
		f[k].cardiac_percent = k / 3 ? 75 : 10;
		/* along the normal (row x column) = (-0.8, 0.6, 0) */
		f[k].position[0] = 10 - 0.8 * 4 * (k % 3);
		f[k].position[1] = 20 + 0.6 * 4 * (k % 3);
		f[k].position[2] = 30;
	}
	path = twin_test_path(dir, "enhanced.dcm");
	twin_err_init(&err);
	if (twin_dcm_write_multiframe(&err, path, &s, "2.25.2005", 1, f, NF) != 0)
		fail_msg("writing: %s", err.msg);
	fr = scan_ok(path, &n);
	assert_int_equal(n, NF);
	for (int k = 0; k < NF; k++) {
		assert_int_equal(fr[k].frame, k);
		assert_int_equal(fr[k].stack_position, f[k].stack_position);
		assert_int_equal(fr[k].temporal_position, f[k].temporal_position);
		if (!(fabs(fr[k].trigger_time - f[k].trigger_time) < 1e-6) ||
		    !(fabs(fr[k].phase_percent - f[k].cardiac_percent) < 1e-6))
			fail_msg("frame %d: trigger %g ms at %g %%, written %g ms at %g %%", k, fr[k].trigger_time,
				 fr[k].phase_percent, f[k].trigger_time, f[k].cardiac_percent);
		assert_true(fr[k].has_position);
		for (int a = 0; a < 3; a++)
			assert_true(fabs(fr[k].ipp[a] - f[k].position[a]) < 1e-6);
		assert_true(fabs(fr[k].spacing[0] - 0.7) < 1e-9 && fabs(fr[k].spacing[1] - 0.9) < 1e-9);
		assert_true(fabs(fr[k].slope - 2.5) < 1e-9 && fabs(fr[k].intercept - 7) < 1e-9);
		twin_err_init(&err);
		if (twin_dcm_read_pixels(&err, path, (unsigned)k, got, RT_ROWS * RT_COLS) != 0)
			fail_msg("frame %d: %s", k, err.msg);
		for (int p = 0; p < RT_ROWS * RT_COLS; p++)
			if (got[p] != px[k][p])
				fail_msg("frame %d value %d is %d, written %d", k, p, got[p], px[k][p]);
	}
	twin_dcm_frames_free(fr, n);
	twin_test_rmdir(dir);
}

int main(void)
{
	static const char *qa[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };
	static const char *qa_names[] = {
		"dcm_qa_ts 1.dcm explicit little endian", "dcm_qa_ts 2.dcm implicit little endian",
		"dcm_qa_ts 3.dcm explicit big endian", "dcm_qa_ts 4.dcm RLE",
		"dcm_qa_ts 5.dcm JPEG lossless", "dcm_qa_ts 6.dcm JPEG lossless (gdcmconv)",
		"dcm_qa_ts 7.dcm JPEG-LS (gdcmconv)", "dcm_qa_ts 8.dcm JPEG-LS (dcmcjpls)",
		"dcm_qa_ts 9.dcm JPEG 2000 lossless",
	};
	enum { NQA = 9, NPAIRS = sizeof(pairs) / sizeof(pairs[0]) };
	static char pair_names[NPAIRS][160];
	struct CMUnitTest tests[NQA + NPAIRS + 16];
	size_t n = 0;

	for (size_t i = 0; i < NQA; i++)
		tests[n++] = (struct CMUnitTest){ qa_names[i], qa_ts_file, NULL, NULL, (void *)qa[i] };
	for (size_t i = 0; i < NPAIRS; i++) {
		snprintf(pair_names[i], sizeof(pair_names[i]), "pydicom %s = %s", pairs[i].file, pairs[i].twin);
		tests[n++] = (struct CMUnitTest){ pair_names[i], pydicom_pair, NULL, NULL, (void *)&pairs[i] };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(spot_values);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(classic_ct);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(enhanced_ct);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(enhanced_mr);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(broken_files);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(truncated_files);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(not_dicom);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(no_pixel_data);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(unsupported_pixels);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(monochrome1_kept);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(two_threads);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(dicomdir);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(roundtrip_classic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(roundtrip_enhanced);
	return _cmocka_run_group_tests("dcmtk_read", tests, n, NULL, NULL);
}
