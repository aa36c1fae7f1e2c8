/*
 * The DICOM writer of the DCMTK shim, from plain C (which proves the header
 * is C). Files are checked with the real dcmdump and dcm2niix programs.
 */
#include "twin_test.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "../../ingest/dcmtk.h"
#include "nifti.h"

#define COLS 24
#define ROWS 16
#define SLICES 5

struct fixture {
	char *dir;
	struct twin_dcm_series series;
	struct twin_dcm_frame frames[SLICES];
	int16_t ct[SLICES][ROWS * COLS];
	uint16_t mr[SLICES][ROWS * COLS];
};

/* CT: stored = HU + 1024 >= 0, a pattern that differs in every pixel and slice. */
static int16_t ct_stored(int i, int j, int k)
{
	return (int16_t)(3 * i + 70 * j + 1000 * k + (i * j) % 7);
}

static void fill_series(struct twin_dcm_series *s)
{
	static const double orient[6] = {1, 0, 0, 0, 1, 0};

	memset(s, 0, sizeof(*s));
	s->modality = TWIN_DCM_CT;
	s->ts = TWIN_DCM_EXPLICIT_LE;
	s->patient_name = "PHANTOM^PHI^TESTNAME";
	s->patient_id = "PHI-ID-4711";
	s->patient_birth_date = "19700101";
	s->patient_sex = "O";
	s->study_uid = "2.25.1001";
	s->study_id = "1";
	s->study_date = "20240102";
	s->study_time = "101500";
	s->accession_number = "PHIACC42";
	s->referring_physician = "PHI^DOCTOR";
	s->institution = "PHI Test Hospital";
	s->manufacturer = "dcm2twin";
	s->series_uid = "2.25.1002";
	s->frame_of_reference_uid = "2.25.1003";
	s->series_description = "unit series";
	s->image_type = "ORIGINAL\\PRIMARY\\AXIAL";
	s->series_number = 7;
	s->kvp = 100;
	s->convolution_kernel = "B30f";
	s->field_strength = 1.5;
	s->repetition_time = 4;
	s->echo_time = 2;
	s->flip_angle = 50;
	s->rows = ROWS;
	s->columns = COLS;
	s->pixel_spacing[0] = 0.75; /* between rows */
	s->pixel_spacing[1] = 0.5;  /* between columns */
	memcpy(s->orientation, orient, sizeof(orient));
	s->slice_thickness = 2;
	s->bits_stored = 16;
	s->pixel_signed = 1;
	s->rescale_slope = 1;
	s->rescale_intercept = -1024;
	s->window_center = 40;
	s->window_width = 400;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = twin_test_tmpdir();
	fill_series(&fx->series);
	for (int k = 0; k < SLICES; k++) {
		for (int j = 0; j < ROWS; j++)
			for (int i = 0; i < COLS; i++) {
				fx->ct[k][i + COLS * j] = ct_stored(i, j, k);
				fx->mr[k][i + COLS * j] = (uint16_t)((i * 37 + j * 101 + k * 500) % 4096);
			}
		fx->frames[k].pixels = fx->ct[k];
		fx->frames[k].position[0] = -10;
		fx->frames[k].position[1] = 20;
		fx->frames[k].position[2] = 30 + 2.0 * k;
		fx->frames[k].stack_position = k + 1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Runs cmd and returns its stdout (malloc'd); fails the test when it exits non-zero. */
static char *run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	char *out = NULL;
	size_t len = 0, cap = 0, n;
	char buf[4096];
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		fail_msg("cannot run '%s'", cmd);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = 2 * (len + n + 1);
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	rc = pclose(p);
	if (!out)
		out = calloc(1, 1);
	out[len] = '\0';
	if (rc != 0)
		fail_msg("'%s' failed (%d): %s", cmd, rc, out);
	return out;
}

static void assert_contains(const char *text, const char *want)
{
	if (!text)
		fail_msg("no output where '%s' was expected", want);
	else if (!strstr(text, want))
		fail_msg("output lacks '%s':\n%s", want, text);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/*
 * Converts dir/in (a folder of DICOM files in transfer syntax ts) with
 * dcm2niix and loads the one NIfTI it writes. Debian's dcm2niix reads neither
 * deflate nor JPEG-LS, so DCMTK's own tools decode those first. Returns the
 * owned volume.
 */
static struct twin_volume *dcm2niix(const char *dir, const char *in, enum twin_dcm_ts ts)
{
	const char *decode = ts == TWIN_DCM_DEFLATED_LE ? "dcmconv +te" : ts == TWIN_DCM_JPEG_LS ? "dcmdjpls" : NULL;
	struct twin_err err;
	struct twin_volume *v;
	char *out;
	char nii[4096];

	if (decode) {
		out = run("mkdir %s/raw && for f in %s/%s/*; do %s \"$f\" %s/raw/\"${f##*/}\" || exit 1; done",
			  dir, dir, in, decode, dir);
		free(out);
		in = "raw";
	}
	out = run("mkdir -p %s/nii && dcm2niix -z n -b n -f img -o %s/nii %s/%s 2>&1", dir, dir, dir, in);
	free(out);
	snprintf(nii, sizeof(nii), "%s/nii/img.nii", dir);
	twin_err_init(&err);
	v = twin_nifti_load(&err, nii);
	assert_ptr_ok(err, v);
	out = run("rm -rf %s/nii %s/raw", dir, dir);
	free(out);
	return v;
}

/* Every transfer syntax: the meta header names it, and dcm2niix decodes the exact values. */
static void each_transfer_syntax(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;

	for (int ts = 0; ts < TWIN_DCM_TS_COUNT; ts++) {
		char sub[64], path[4096];
		char *dump;
		struct twin_volume *v;

		snprintf(sub, sizeof(sub), "ts%d", ts);
		snprintf(path, sizeof(path), "%s/%s", fx->dir, sub);
		assert_int_equal(mkdir(path, 0777), 0);
		fx->series.ts = (enum twin_dcm_ts)ts;
		for (int k = 0; k < SLICES; k++) {
			char uid[64];

			snprintf(uid, sizeof(uid), "2.25.2000%d", k);
			snprintf(path, sizeof(path), "%s/%s/s%d.dcm", fx->dir, sub, k);
			twin_err_init(&err);
			assert_ok(err, twin_dcm_write_slice(&err, path, &fx->series, uid, SLICES - k, &fx->frames[k]));
		}
		snprintf(path, sizeof(path), "%s/%s/s2.dcm", fx->dir, sub);
		dump = run("dcmdump -M -Un +P 0002,0010 %s", path);
		assert_contains(dump, twin_dcm_ts_uid((enum twin_dcm_ts)ts));
		free(dump);

		v = dcm2niix(fx->dir, sub, (enum twin_dcm_ts)ts);
		assert_int_equal(v->dim[0], COLS);
		assert_int_equal(v->dim[1], ROWS);
		assert_int_equal(v->dim[2], SLICES);
		/* dcm2niix flips rows; compare through world positions, not indices */
		for (int k = 0; k < SLICES; k++)
			for (int j = 0; j < ROWS; j++)
				for (int i = 0; i < COLS; i++) {
					double xyz[3] = {-10 + 0.5 * i, 20 + 0.75 * j, 30 + 2.0 * k}, ijk[3];
					size_t vi, vj, vk;

					twin_volume_world_to_index(v, xyz, ijk);
					vi = (size_t)lround(ijk[0]);
					vj = (size_t)lround(ijk[1]);
					vk = (size_t)lround(ijk[2]);
					assert_true(fabs(ijk[0] - (double)vi) < 1e-3 && fabs(ijk[2] - (double)vk) < 1e-3);
					if (twin_volume_get(v, vi, vj, vk) != ct_stored(i, j, k) - 1024)
						fail_msg("%s: voxel %d,%d,%d is %g, want %d", twin_dcm_ts_name(ts), i, j, k,
							 twin_volume_get(v, vi, vj, vk), ct_stored(i, j, k) - 1024);
				}
		twin_volume_free(v);
	}
}

/* The patient, study, series and geometry elements are present with their values. */
static void elements_present(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;
	const char *path = twin_test_path(fx->dir, "a.dcm");
	char *dump;

	fx->series.heart_rate = 60;
	fx->series.temporal_positions = 10;
	fx->frames[1].temporal_position = 4;
	fx->frames[1].trigger_time = 300;
	fx->frames[1].cardiac_percent = 30;
	fx->series.gantry_tilt = 12.5;
	twin_err_init(&err);
	assert_ok(err, twin_dcm_write_slice(&err, path, &fx->series, "2.25.31", 4, &fx->frames[1]));
	dump = run("dcmdump %s", path);
	assert_contains(dump, "(0002,0002) UI =CTImageStorage");
	assert_contains(dump, "(0010,0010) PN [PHANTOM^PHI^TESTNAME]");
	assert_contains(dump, "(0010,0020) LO [PHI-ID-4711]");
	assert_contains(dump, "(0010,0030) DA [19700101]");
	assert_contains(dump, "(0008,0080) LO [PHI Test Hospital]");
	assert_contains(dump, "(0008,0050) SH [PHIACC42]");
	assert_contains(dump, "(0008,0090) PN [PHI^DOCTOR]");
	assert_contains(dump, "(0008,0070) LO [dcm2twin]");
	assert_contains(dump, "(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]");
	assert_contains(dump, "(0020,000d) UI [2.25.1001]");
	assert_contains(dump, "(0020,000e) UI [2.25.1002]");
	assert_contains(dump, "(0020,0052) UI [2.25.1003]");
	assert_contains(dump, "(0008,0018) UI [2.25.31]");
	assert_contains(dump, "(0020,0011) IS [7]");
	assert_contains(dump, "(0020,0013) IS [4]");
	assert_contains(dump, "(0020,0032) DS [-10\\20\\32]");
	assert_contains(dump, "(0020,0037) DS [1\\0\\0\\0\\1\\0]");
	assert_contains(dump, "(0028,0030) DS [0.75\\0.5]");
	assert_contains(dump, "(0018,0050) DS [2]");
	assert_contains(dump, "(0028,1052) DS [-1024]");
	assert_contains(dump, "(0028,1053) DS [1]");
	assert_contains(dump, "(0028,0103) US 1");
	assert_contains(dump, "(0018,1120) DS [12.5]");
	assert_contains(dump, "(0018,1060) DS [300]");
	assert_contains(dump, "(0020,9241) FL 30");
	assert_contains(dump, "(0020,0100) IS [4]");
	assert_contains(dump, "(0020,0105) IS [10]");
	assert_contains(dump, "(0018,0060) DS [100]");
	assert_contains(dump, "(0018,1210) SH [B30f]");
	free(dump);
}

/* Enhanced CT and MR: one file, every frame, and dcm2niix builds the volume. */
static void multiframe(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;
	char path[4096];
	char *dump;
	struct twin_volume *v;

	for (int mr = 0; mr <= 1; mr++) {
		char sub[16];

		snprintf(sub, sizeof(sub), "mf%d", mr);
		snprintf(path, sizeof(path), "%s/%s", fx->dir, sub);
		assert_int_equal(mkdir(path, 0777), 0);
		if (mr) {
			fx->series.modality = TWIN_DCM_MR;
			fx->series.bits_stored = 12;
			fx->series.pixel_signed = 0;
			fx->series.rescale_slope = 0;
			fx->series.ts = TWIN_DCM_JPEG_LS;
			for (int k = 0; k < SLICES; k++)
				fx->frames[k].pixels = fx->mr[k];
		}
		snprintf(path, sizeof(path), "%s/%s/mf.dcm", fx->dir, sub);
		twin_err_init(&err);
		assert_ok(err, twin_dcm_write_multiframe(&err, path, &fx->series, "2.25.41", 1, fx->frames, SLICES));
		dump = run("dcmdump +P 0002,0002 +P 0028,0008 +P 0020,9057 %s", path);
		assert_contains(dump, mr ? "=EnhancedMRImageStorage" : "=EnhancedCTImageStorage");
		assert_contains(dump, "(0028,0008) IS [5]");
		assert_contains(dump, "(0020,9057) UL 5");
		free(dump);
		v = dcm2niix(fx->dir, sub, fx->series.ts);
		assert_int_equal(v->dim[0], COLS);
		assert_int_equal(v->dim[1], ROWS);
		assert_int_equal(v->dim[2], SLICES);
		{
			double xyz[3] = {-10 + 0.5 * 3, 20 + 0.75 * 2, 30 + 2.0 * 4}, ijk[3];
			double want = mr ? fx->mr[4][3 + COLS * 2] : ct_stored(3, 2, 4) - 1024;

			twin_volume_world_to_index(v, xyz, ijk);
			assert_float_equal(twin_volume_get(v, (size_t)lround(ijk[0]), (size_t)lround(ijk[1]),
							   (size_t)lround(ijk[2])), want, 0);
		}
		twin_volume_free(v);
	}
}

/* The same description gives the same bytes, for every transfer syntax. */
static void deterministic(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;

	for (int ts = 0; ts < TWIN_DCM_TS_COUNT; ts++) {
		char a[4096], b[4096];
		size_t alen, blen;
		void *abuf, *bbuf;

		fx->series.ts = (enum twin_dcm_ts)ts;
		snprintf(a, sizeof(a), "%s/a%d.dcm", fx->dir, ts);
		snprintf(b, sizeof(b), "%s/b%d.dcm", fx->dir, ts);
		twin_err_init(&err);
		assert_ok(err, twin_dcm_write_multiframe(&err, a, &fx->series, "2.25.5", 1, fx->frames, SLICES));
		assert_ok(err, twin_dcm_write_multiframe(&err, b, &fx->series, "2.25.5", 1, fx->frames, SLICES));
		abuf = twin_test_read_file(a, &alen);
		bbuf = twin_test_read_file(b, &blen);
		if (alen != blen || memcmp(abuf, bbuf, alen) != 0)
			fail_msg("%s: two writes differ", twin_dcm_ts_name(ts));
		free(abuf);
		free(bbuf);
	}
}

/* A missing folder: TWIN_EIO naming the path, and nothing written. */
static void missing_folder(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;
	char path[4096];

	snprintf(path, sizeof(path), "%s/no/such/x.dcm", fx->dir);
	twin_err_init(&err);
	assert_int_equal(twin_dcm_write_slice(&err, path, &fx->series, "2.25.6", 1, &fx->frames[0]), -1);
	assert_err(err, TWIN_EIO, path);
	assert_err(err, TWIN_EIO, "No such file or directory");
	assert_int_equal(count_entries(fx->dir), 0);
}

/* A bad description is refused before anything is written. */
static void bad_description(void **state)
{
	struct fixture *fx = *state;
	struct twin_err err;
	const char *path = twin_test_path(fx->dir, "bad.dcm");

	fx->series.bits_stored = 12;
	twin_err_init(&err);
	assert_int_equal(twin_dcm_write_slice(&err, path, &fx->series, "2.25.7", 1, &fx->frames[4]), -1);
	assert_err(err, TWIN_EUSAGE, "does not fit 12 bits");
	assert_err(err, TWIN_EUSAGE, "bad.dcm");
	fill_series(&fx->series);
	twin_err_init(&err);
	assert_int_equal(twin_dcm_write_slice(&err, path, &fx->series, "1.2.x", 1, &fx->frames[0]), -1);
	assert_err(err, TWIN_EUSAGE, "bad uid '1.2.x'");
	assert_int_equal(count_entries(fx->dir), 0);
}

static void ts_names(void **state)
{
	(void)state;
	assert_string_equal(twin_dcm_ts_uid(TWIN_DCM_EXPLICIT_LE), "1.2.840.10008.1.2.1");
	assert_string_equal(twin_dcm_ts_uid(TWIN_DCM_JPEG_LOSSLESS), "1.2.840.10008.1.2.4.70");
	assert_string_equal(twin_dcm_ts_uid(TWIN_DCM_JPEG_LS), "1.2.840.10008.1.2.4.80");
	assert_string_equal(twin_dcm_ts_name(TWIN_DCM_RLE), "rle");
	assert_null(twin_dcm_ts_uid(TWIN_DCM_TS_COUNT));
	assert_null(twin_dcm_ts_name((enum twin_dcm_ts)-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ts_names),
		cmocka_unit_test_setup_teardown(each_transfer_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(elements_present, setup, teardown),
		cmocka_unit_test_setup_teardown(multiframe, setup, teardown),
		cmocka_unit_test_setup_teardown(deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_description, setup, teardown),
	};

	return cmocka_run_group_tests_name("dcmtk", tests, NULL, NULL);
}
