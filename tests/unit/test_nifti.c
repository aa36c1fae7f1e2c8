#include "twin_test.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "nifti.h"

/* cmocka 1.1.5 compares floats only; this prints both doubles. */
#define assert_near(a, b, eps) do { \
	double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (eps))) \
		fail_msg("%s = %.17g, want %.17g (within %g)", #a, a_, b_, (double)(eps)); \
} while (0)

/* Python with nibabel, from Debian's python3-nibabel. */
#define NIBABEL_PYTHON "/usr/bin/python3"

static int setup(void **state)
{
	*state = twin_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

/* --- a NIfTI-1 header builder, written from the standard's field offsets --- */

struct spec {
	int sizeof_hdr;
	int dim[8];
	int datatype;
	int bitpix;
	float pixdim[8];
	float vox_offset;
	float slope, inter;
	int qform_code, sform_code;
	float quatern[3], qoffset[3];
	float srow[3][4];
	char magic[4];
	int big_endian;   /* swap every field and voxel */
};

static void spec_init(struct spec *s, int datatype, int bitpix, int nx, int ny, int nz)
{
	memset(s, 0, sizeof(*s));
	s->sizeof_hdr = 348;
	s->dim[0] = 3;
	s->dim[1] = nx;
	s->dim[2] = ny;
	s->dim[3] = nz;
	for (int i = 4; i < 8; i++)
		s->dim[i] = 1;
	s->datatype = datatype;
	s->bitpix = bitpix;
	for (int i = 0; i < 8; i++)
		s->pixdim[i] = 1.0f;
	s->vox_offset = 352.0f;
	memcpy(s->magic, "n+1", 4);
}

static void put(unsigned char *b, size_t off, const void *x, size_t n, int swap)
{
	for (size_t i = 0; i < n; i++)
		b[off + i] = ((const unsigned char *)x)[swap ? n - 1 - i : i];
}

static void put16(unsigned char *b, size_t off, int x, int swap)
{
	int16_t v = (int16_t)x;

	put(b, off, &v, 2, swap);
}

static void put32(unsigned char *b, size_t off, int32_t x, int swap)
{
	put(b, off, &x, 4, swap);
}

static void putf(unsigned char *b, size_t off, float x, int swap)
{
	put(b, off, &x, 4, swap);
}

/* Header + voxels (each of bitpix / 8 bytes, given in host order). Returns a malloc'd file image. */
static unsigned char *spec_file(const struct spec *s, const void *vox, size_t nvox, size_t *len)
{
	size_t es = (size_t)s->bitpix / 8, off = (size_t)s->vox_offset;
	unsigned char *b;
	int sw = s->big_endian;

	off = off < 352 ? 352 : off;
	*len = off + nvox * es;
	b = calloc(1, *len);
	assert_non_null(b);
	put32(b, 0, s->sizeof_hdr, sw);
	for (int i = 0; i < 8; i++)
		put16(b, 40 + 2 * (size_t)i, s->dim[i], sw);
	put16(b, 70, s->datatype, sw);
	put16(b, 72, s->bitpix, sw);
	for (int i = 0; i < 8; i++)
		putf(b, 76 + 4 * (size_t)i, s->pixdim[i], sw);
	putf(b, 108, s->vox_offset, sw);
	putf(b, 112, s->slope, sw);
	putf(b, 116, s->inter, sw);
	b[123] = 2;
	put16(b, 252, s->qform_code, sw);
	put16(b, 254, s->sform_code, sw);
	for (int i = 0; i < 3; i++) {
		putf(b, 256 + 4 * (size_t)i, s->quatern[i], sw);
		putf(b, 268 + 4 * (size_t)i, s->qoffset[i], sw);
		for (int c = 0; c < 4; c++)
			putf(b, 280 + 16 * (size_t)i + 4 * (size_t)c, s->srow[i][c], sw);
	}
	memcpy(b + 344, s->magic, 4);
	for (size_t n = 0; n < nvox; n++)
		put(b, off + n * es, (const unsigned char *)vox + n * es, es, sw);
	return b;
}

static float get_f32(const unsigned char *b, size_t off)
{
	float f;

	memcpy(&f, b + off, 4);
	return f;
}

static int16_t get_i16(const unsigned char *b, size_t off)
{
	int16_t x;

	memcpy(&x, b + off, 2);
	return x;
}

/*
 * Loads buf from memory (named "mem.nii") and from a file in dir; both must
 * agree. Returns the volume from memory and leaves its error in err.
 */
static struct twin_volume *load_both(const char *dir, struct twin_err *err, const void *buf, size_t len)
{
	struct twin_err ferr;
	struct twin_volume *mv, *fv;
	char path[4096];

	snprintf(path, sizeof(path), "%s/file.nii", dir);
	twin_test_write_file(path, buf, len);
	twin_err_init(err);
	twin_err_init(&ferr);
	mv = twin_nifti_load_mem(err, "mem.nii", buf, len);
	fv = twin_nifti_load(&ferr, path);
	assert_int_equal(mv == NULL, fv == NULL);
	assert_int_equal(err->code, ferr.code);
	if (mv) {
		assert_int_equal(mv->dtype, fv->dtype);
		assert_memory_equal(mv->dim, fv->dim, sizeof(mv->dim));
		assert_memory_equal(&mv->affine, &fv->affine, sizeof(mv->affine));
		assert_memory_equal(mv->data, fv->data, twin_volume_bytes(mv));
	} else {
		assert_non_null(strstr(err->msg, "'mem.nii'"));
		assert_non_null(strstr(ferr.msg, path));
	}
	twin_volume_free(fv);
	return mv;
}

/* --- writing and reading back -------------------------------------------- */

/* Entries that float32 holds exactly, since NIfTI stores the sform as float32. */
static void round_to_float(struct twin_affine *a)
{
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			a->m[r][c] = (float)a->m[r][c];
}

static void oblique_affine(struct twin_affine *a)
{
	/* Rotation by 0.5 rad about (1, 2, 3) (Rodrigues), spacing (0.7, 0.8, 2.5). */
	const double s[3] = { 0.7, 0.8, 2.5 }, t[3] = { -40.5, 112.25, -80.1 };
	const double n = sqrt(14.0), u[3] = { 1 / n, 2 / n, 3 / n }, c = cos(0.5), sn = sin(0.5);
	double r[3][3];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[i][j] = (i == j ? c : 0.0) + u[i] * u[j] * (1 - c);
	r[0][1] -= u[2] * sn;
	r[0][2] += u[1] * sn;
	r[1][0] += u[2] * sn;
	r[1][2] -= u[0] * sn;
	r[2][0] -= u[1] * sn;
	r[2][1] += u[0] * sn;
	twin_affine_identity(a);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			a->m[i][j] = r[i][j] * s[j];
		a->m[i][3] = t[i];
	}
	round_to_float(a);
}

/* Gantry tilt: the slice axis leans 15 degrees along y, so the columns are not orthogonal. */
static void sheared_affine(struct twin_affine *a)
{
	twin_affine_identity(a);
	a->m[0][0] = 0.75;
	a->m[1][1] = 0.75;
	a->m[1][2] = 2.0 * sin(15.0 * M_PI / 180.0);
	a->m[2][2] = 2.0 * cos(15.0 * M_PI / 180.0);
	a->m[0][3] = -120.0;
	a->m[1][3] = -95.5;
	a->m[2][3] = 33.3;
	round_to_float(a);
}

static void fill(struct twin_volume *v)
{
	uint32_t x = 777;

	for (size_t n = 0; n < twin_volume_count(v); n++) {
		x = x * 1103515245u + 12345u;
		switch (v->dtype) {
		case TWIN_U8: ((uint8_t *)v->data)[n] = (uint8_t)(x >> 20); break;
		case TWIN_I16: ((int16_t *)v->data)[n] = (int16_t)((int)(x >> 21) - 1024); break;
		case TWIN_F32: ((float *)v->data)[n] = (float)(int32_t)x / 65536.0f; break;
		}
	}
}

static void round_trip_one(const char *dir, enum twin_dtype dtype, const struct twin_affine *a,
			   const size_t dim[3], const char *name)
{
	struct twin_err err;
	struct twin_volume *v, *back;
	const char *path = twin_test_path(dir, name);
	unsigned char *b;
	size_t len = 0;
	struct stat st;

	twin_err_init(&err);
	v = twin_volume_new(&err, dtype, dim, a);
	assert_ptr_ok(err, v);
	fill(v);
	assert_ok(err, twin_nifti_save(&err, path, v));
	back = twin_nifti_load(&err, path);
	assert_ptr_ok(err, back);
	assert_int_equal(back->dtype, dtype);
	assert_memory_equal(back->dim, dim, sizeof(back->dim));
	assert_memory_equal(back->data, v->data, twin_volume_bytes(v));
	assert_true(twin_affine_corner_distance(&back->affine, a, dim) < 1e-6);
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_near(back->affine.m[r][c], a->m[r][c], 0.0);
	/* The .gz really is gzip (and smaller, for 11-bit int16 noise); the .nii is not. */
	assert_int_equal(stat(path, &st), 0);
	b = twin_test_read_file(path, &len);
	if (strstr(name, ".gz")) {
		assert_true(b[0] == 0x1f && b[1] == 0x8b);
		if (dtype == TWIN_I16)
			assert_true((size_t)st.st_size < 352 + twin_volume_bytes(v));
	} else {
		assert_int_equal(st.st_size, 352 + twin_volume_bytes(v));
		assert_memory_equal(b + 344, "n+1", 4);
	}
	free(b);
	twin_volume_free(back);
	twin_volume_free(v);
}

static void round_trip_all_dtypes(void **state)
{
	const size_t dim[3] = { 13, 11, 7 };
	struct twin_affine ob, sh;
	const enum twin_dtype types[3] = { TWIN_U8, TWIN_I16, TWIN_F32 };
	char name[64];

	oblique_affine(&ob);
	sheared_affine(&sh);
	for (int t = 0; t < 3; t++) {
		snprintf(name, sizeof(name), "ob%d.nii", t);
		round_trip_one(*state, types[t], &ob, dim, name);
		snprintf(name, sizeof(name), "ob%d.nii.gz", t);
		round_trip_one(*state, types[t], &ob, dim, name);
		snprintf(name, sizeof(name), "sh%d.nii", t);
		round_trip_one(*state, types[t], &sh, dim, name);
		snprintf(name, sizeof(name), "sh%d.nii.gz", t);
		round_trip_one(*state, types[t], &sh, dim, name);
	}
}

/* Over 4 MiB: the writer makes several gzip members, which the reader joins. */
static void round_trip_multi_member_gzip(void **state)
{
	const size_t dim[3] = { 170, 160, 90 };
	struct twin_affine ob;
	size_t len = 0, members = 0;
	unsigned char *b;

	oblique_affine(&ob);
	round_trip_one(*state, TWIN_I16, &ob, dim, "big.nii.gz");
	b = twin_test_read_file(twin_test_path(*state, "big.nii.gz"), &len);
	/* Count member headers: 1f 8b 08 at a member start; at least two must exist. */
	for (size_t i = 0; i + 3 < len; i++)
		if (b[i] == 0x1f && b[i + 1] == 0x8b && b[i + 2] == 8 && b[i + 3] == 0)
			members++;
	assert_true(members >= 2);
	free(b);
}

/* The size and SHA-256 found while writing are those of the file written. */
static void save_hashed_matches_file(void **state)
{
	const size_t small[3] = { 13, 11, 7 }, big[3] = { 170, 160, 90 };
	const char *names[4] = { "s.nii", "s.nii.gz", "b.nii", "b.nii.gz" };
	char hex[TWIN_SHA256_HEX], want[TWIN_SHA256_HEX];
	struct twin_affine ob;
	struct twin_err err;
	uint64_t size, want_size;

	twin_err_init(&err);
	oblique_affine(&ob);
	for (int i = 0; i < 4; i++) {
		const char *path = twin_test_path(*state, names[i]);
		struct twin_volume *v = twin_volume_new(&err, TWIN_I16, i < 2 ? small : big, &ob);

		assert_ptr_ok(err, v);
		fill(v);
		size = 0;
		memset(hex, 0, sizeof(hex));
		assert_ok(err, twin_nifti_save_hashed(&err, path, v, &size, hex));
		assert_ok(err, twin_sha256_file(&err, path, want, &want_size));
		assert_string_equal(hex, want);
		assert_true(size == want_size);
		if (!strstr(names[i], ".gz"))
			assert_true(size == 352 + twin_volume_bytes(v));
		twin_volume_free(v);
	}
}

/* Files in dir other than . and .. */
static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/*
 * A stream takes each slice as it is told it is final: the file equals
 * what twin_nifti_save writes of the whole, its digest is the file's; a
 * stream given up or closed early leaves nothing.
 */
static void stream_writes_as_filled(void **state)
{
	const size_t dim[3] = { 170, 160, 90 };
	char hex[TWIN_SHA256_HEX], want[TWIN_SHA256_HEX];
	struct twin_nifti_stream *s;
	struct twin_volume *v, *ref;
	struct twin_affine ob;
	struct twin_err err;
	uint64_t size = 0, want_size;
	size_t slice, len, want_len;
	unsigned char *a, *b;

	twin_err_init(&err);
	oblique_affine(&ob);
	ref = twin_volume_new(&err, TWIN_I16, dim, &ob);
	v = twin_volume_new(&err, TWIN_I16, dim, &ob);
	assert_ptr_ok(err, ref);
	assert_ptr_ok(err, v);
	fill(ref);
	slice = dim[0] * dim[1] * sizeof(int16_t);
	s = twin_nifti_stream_open(&err, twin_test_path(*state, "st.nii"), v, 1);
	assert_ptr_ok(err, s);
	for (size_t k = 0; k < dim[2]; k++) {
		memcpy((char *)v->data + k * slice, (char *)ref->data + k * slice, slice);
		twin_nifti_stream_ready(s, (k + 1) * slice);
	}
	assert_ok(err, twin_nifti_stream_close(&err, s, 1, &size, hex));
	assert_ok(err, twin_nifti_save(&err, twin_test_path(*state, "ref.nii"), ref));
	a = twin_test_read_file(twin_test_path(*state, "st.nii"), &len);
	b = twin_test_read_file(twin_test_path(*state, "ref.nii"), &want_len);
	assert_int_equal(len, want_len);
	assert_memory_equal(a, b, len);
	assert_ok(err, twin_sha256_file(&err, twin_test_path(*state, "st.nii"), want, &want_size));
	assert_string_equal(hex, want);
	assert_true(size == want_size);
	free(a);
	free(b);
	assert_int_equal(files_in(*state), 2);

	/* given up half-way, or closed before the last slice: no file, no temporary */
	for (int ok = 0; ok < 2; ok++) {
		s = twin_nifti_stream_open(&err, twin_test_path(*state, "half.nii"), v, 1);
		assert_ptr_ok(err, s);
		twin_nifti_stream_ready(s, dim[2] / 2 * slice);
		assert_int_equal(twin_nifti_stream_close(&err, s, ok, &size, hex), -1);
		if (ok)
			assert_err(err, TWIN_EFAIL, "closed before its data was ready");
		twin_err_init(&err);
		assert_int_equal(files_in(*state), 2);
	}
	twin_volume_free(v);
	twin_volume_free(ref);
}

static void header_holds_ras(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 3, 4, 5 };
	struct twin_volume *v;
	const char *path = twin_test_path(*state, "ras.nii");
	unsigned char *b;
	size_t len = 0;
	const float want[3][4] = { { -1, 0, 0, -10 }, { 0, -2, 0, -20 }, { 0, 0, 3, 30 } };

	twin_err_init(&err);
	twin_affine_identity(&a);
	a.m[0][0] = 1;
	a.m[1][1] = 2;
	a.m[2][2] = 3;
	a.m[0][3] = 10;
	a.m[1][3] = 20;
	a.m[2][3] = 30;
	v = twin_volume_new(&err, TWIN_I16, dim, &a);
	assert_ptr_ok(err, v);
	assert_ok(err, twin_nifti_save(&err, path, v));
	b = twin_test_read_file(path, &len);
	assert_int_equal(len, 352 + 3 * 4 * 5 * 2);
	assert_memory_equal(b + 344, "n+1", 4);
	assert_int_equal(get_i16(b, 40), 3);
	assert_int_equal(get_i16(b, 42), 3);
	assert_int_equal(get_i16(b, 46), 5);
	assert_int_equal(get_i16(b, 70), 4);   /* int16 */
	assert_int_equal(get_i16(b, 72), 16);
	assert_int_equal(get_i16(b, 252), 1);  /* qform_code scanner */
	assert_int_equal(get_i16(b, 254), 1);  /* sform_code scanner */
	assert_int_equal(b[123], 2);           /* mm */
	assert_near(get_f32(b, 108), 352.0, 0.0);
	assert_near(get_f32(b, 80), 1.0, 0.0);
	assert_near(get_f32(b, 84), 2.0, 0.0);
	assert_near(get_f32(b, 88), 3.0, 0.0);
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_near(get_f32(b, 280 + 16 * (size_t)r + 4 * (size_t)c), want[r][c], 0.0);
	/* diag(-1, -1, 1) is a half turn about z: quaternion (0, 0, 0, 1), qfac 1. */
	assert_near(get_f32(b, 76), 1.0, 0.0);
	assert_near(get_f32(b, 256), 0.0, 1e-7);
	assert_near(get_f32(b, 260), 0.0, 1e-7);
	assert_near(get_f32(b, 264), 1.0, 1e-7);
	assert_near(get_f32(b, 268), -10.0, 0.0);
	assert_near(get_f32(b, 272), -20.0, 0.0);
	assert_near(get_f32(b, 276), 30.0, 0.0);
	free(b);
	twin_volume_free(v);
}

/* Writes v, clears sform_code in the bytes, and reads the affine from the qform alone. */
static struct twin_volume *reload_by_qform(const char *dir, const struct twin_affine *a, const char *name)
{
	struct twin_err err;
	const size_t dim[3] = { 4, 3, 2 };
	struct twin_volume *v, *q;
	unsigned char *b;
	size_t len = 0;

	twin_err_init(&err);
	v = twin_volume_new(&err, TWIN_U8, dim, a);
	assert_ptr_ok(err, v);
	assert_ok(err, twin_nifti_save(&err, twin_test_path(dir, name), v));
	b = twin_test_read_file(twin_test_path(dir, name), &len);
	b[254] = b[255] = 0;
	q = load_both(dir, &err, b, len);
	assert_ptr_ok(err, q);
	free(b);
	twin_volume_free(v);
	return q;
}

static void qform_written_matches_affine(void **state)
{
	struct twin_affine ob, left;
	struct twin_volume *q;
	const size_t dim[3] = { 4, 3, 2 };

	oblique_affine(&ob);
	q = reload_by_qform(*state, &ob, "q1.nii");
	assert_true(twin_affine_corner_distance(&q->affine, &ob, dim) < 1e-4);
	twin_volume_free(q);
	/* A left-handed grid needs qfac -1. */
	left = ob;
	for (int r = 0; r < 3; r++)
		left.m[r][2] = -left.m[r][2];
	q = reload_by_qform(*state, &left, "q2.nii");
	assert_true(twin_affine_corner_distance(&q->affine, &left, dim) < 1e-4);
	twin_volume_free(q);
}

static void qform_of_sheared_is_closest_rotation(void **state)
{
	struct twin_affine sh;
	struct twin_volume *q;
	double dir[3][3], sp[3];

	sheared_affine(&sh);
	q = reload_by_qform(*state, &sh, "q3.nii");
	twin_volume_direction(q, dir);
	twin_volume_spacing(q, sp);
	/* Orthonormal directions, spacing from the column norms, same origin. */
	for (int c = 0; c < 3; c++)
		for (int d = 0; d < 3; d++)
			assert_near(dir[c][0] * dir[d][0] + dir[c][1] * dir[d][1] + dir[c][2] * dir[d][2],
				    c == d ? 1.0 : 0.0, 1e-6);
	assert_near(sp[0], 0.75, 1e-6);
	assert_near(sp[2], 2.0, 1e-6);
	assert_near(q->affine.m[1][3], sh.m[1][3], 1e-5);
	/* The closest rotation to the tilted frame tilts its y and z axes halfway (7.5 degrees). */
	assert_near(dir[2][1], sin(7.5 * M_PI / 180.0), 1e-6);
	assert_near(dir[1][2], -sin(7.5 * M_PI / 180.0), 1e-6);
	twin_volume_free(q);
}

/* --- real files from dcm2niix -------------------------------------------- */

/* The volume's affine is the header's srow with x and y negated. */
static void assert_affine_is_srow(const struct twin_volume *v, const unsigned char *b)
{
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_near(v->affine.m[r][c], (r < 2 ? -1.0 : 1.0) * get_f32(b, 280 + 16 * (size_t)r + 4 * (size_t)c),
				    0.0);
}

static void dcm2niix_transfer_syntaxes(void **state)
{
	const char *root = twin_test_data("dicom/dcm_qa_ts/Ref");
	struct twin_volume *first = NULL;
	char path[4096];

	(void)state;
	if (!root)
		skip();
	snprintf(path, sizeof(path), "%s", root);
	for (int n = 1; n <= 9; n++) {
		struct twin_err err;
		struct twin_volume *v;
		char file[4200];
		unsigned char *b;
		size_t len = 0;

		snprintf(file, sizeof(file), "%s/%d.nii", path, n);
		twin_err_init(&err);
		v = twin_nifti_load(&err, file);
		assert_ptr_ok(err, v);
		assert_int_equal(v->dtype, TWIN_I16);
		assert_int_equal(v->dim[0], 64);
		assert_int_equal(v->dim[1], 64);
		assert_int_equal(v->dim[2], 35);
		b = twin_test_read_file(file, &len);
		assert_affine_is_srow(v, b);
		assert_memory_equal(v->data, b + 352, twin_volume_bytes(v));
		free(b);
		/* All nine are the same image. */
		if (first) {
			assert_memory_equal(v->data, first->data, twin_volume_bytes(v));
			twin_volume_free(v);
		} else {
			first = v;
		}
	}
	twin_volume_free(first);
}

static void dcm2niix_orientations(void **state)
{
	static const char *names[] = {
		"ax_asc_35sl_6", "ax_desc_36sl_10", "cor_asc_36sl_13", "cor_int_35sl_18",
		"sag_desc_35sl_23", "sag_int_36sl_21",
	};
	const char *root = twin_test_data("dicom/dcm_qa_orientation/Ref");
	char dir[4096];

	(void)state;
	if (!root)
		skip();
	snprintf(dir, sizeof(dir), "%s", root);
	for (size_t n = 0; n < sizeof(names) / sizeof(*names); n++) {
		struct twin_err err;
		struct twin_volume *v;
		char file[4200], want[256];
		unsigned char *b;
		size_t len = 0;
		int nz = strstr(names[n], "36sl") ? 36 : 35;

		snprintf(file, sizeof(file), "%s/%s.nii", dir, names[n]);
		/* These hold two volumes (64x64xNx2): 4-D, which is refused. */
		twin_err_init(&err);
		assert_null(twin_nifti_load(&err, file));
		snprintf(want, sizeof(want), "4-D image (64x64x%dx2) is not supported", nz);
		assert_err(err, TWIN_EUNSUPPORTED, want);
		assert_non_null(strstr(err.msg, file));
		/* Frame by frame, each with the file's own affine. */
		b = twin_test_read_file(file, &len);
		for (size_t f = 0; f < 2; f++) {
			twin_err_init(&err);
			v = twin_nifti_load_frame(&err, file, f);
			assert_ptr_ok(err, v);
			assert_int_equal(v->dim[0], 64);
			assert_int_equal(v->dim[1], 64);
			assert_int_equal(v->dim[2], (size_t)nz);
			assert_affine_is_srow(v, b);
			assert_int_equal(len, 352 + 2 * twin_volume_bytes(v));
			assert_memory_equal(v->data, b + 352 + f * twin_volume_bytes(v), twin_volume_bytes(v));
			twin_volume_free(v);
		}
		twin_err_init(&err);
		assert_null(twin_nifti_load_frame(&err, file, 2));
		snprintf(want, sizeof(want), "no frame 2 in a 64x64x%dx2 image", nz);
		assert_err(err, TWIN_EINPUT, want);
		free(b);
	}
}

/* --- headers built by hand ----------------------------------------------- */

static void scl_slope_applied(void **state)
{
	struct twin_err err;
	struct spec s;
	struct twin_volume *v;
	unsigned char *b;
	size_t len;
	const uint8_t u8[4] = { 0, 1, 200, 255 };
	const int16_t i16[4] = { -3, 0, 7, 1000 };

	/* uint8 * 2 - 10: whole numbers beyond 0..255 -> int16. dim[0] 4 with dim[4] 1 is 3-D. */
	spec_init(&s, 2, 8, 2, 2, 1);
	s.dim[0] = 4;
	s.slope = 2.0f;
	s.inter = -10.0f;
	b = spec_file(&s, u8, 4, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_I16);
	assert_near(twin_volume_get(v, 0, 0, 0), -10.0, 0.0);
	assert_near(twin_volume_get(v, 1, 1, 0), 500.0, 0.0);
	twin_volume_free(v);
	free(b);

	/* uint8 + 0: a slope of 1 and no intercept change nothing. */
	s.slope = 1.0f;
	s.inter = 0.0f;
	b = spec_file(&s, u8, 4, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_U8);
	assert_memory_equal(v->data, u8, 4);
	twin_volume_free(v);
	free(b);

	/* int16 * 0.5 + 1: fractions -> float32. */
	spec_init(&s, 4, 16, 4, 1, 1);
	s.slope = 0.5f;
	s.inter = 1.0f;
	b = spec_file(&s, i16, 4, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_F32);
	assert_near(twin_volume_get(v, 0, 0, 0), -0.5, 0.0);
	assert_near(twin_volume_get(v, 2, 0, 0), 4.5, 0.0);
	assert_near(twin_volume_get(v, 3, 0, 0), 501.0, 0.0);
	twin_volume_free(v);
	free(b);

	/* int16 - 1024, as CT writers do: still whole numbers -> int16. */
	s.slope = 1.0f;
	s.inter = -1024.0f;
	b = spec_file(&s, i16, 4, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_I16);
	assert_near(twin_volume_get(v, 3, 0, 0), -24.0, 0.0);
	twin_volume_free(v);
	free(b);
}

static void qform_only_and_pixdim_only(void **state)
{
	struct twin_err err;
	struct spec s;
	struct twin_volume *v;
	unsigned char *b;
	size_t len;
	const uint8_t vox[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	/* Quarter turn about z, pixdim 2 3 4, qfac -1, offset 10 20 30 (RAS), in LPS. */
	const double want_q[3][4] = { { 0, 3, 0, -10 }, { -2, 0, 0, -20 }, { 0, 0, -4, 30 } };
	const double want_p[3][4] = { { -2, 0, 0, 0 }, { 0, -3, 0, 0 }, { 0, 0, 4, 0 } };

	spec_init(&s, 2, 8, 2, 2, 2);
	s.pixdim[0] = -1.0f;
	s.pixdim[1] = 2.0f;
	s.pixdim[2] = 3.0f;
	s.pixdim[3] = 4.0f;
	s.qform_code = 1;
	s.quatern[2] = (float)sqrt(0.5);
	s.qoffset[0] = 10;
	s.qoffset[1] = 20;
	s.qoffset[2] = 30;
	/* An sform that must be ignored, since sform_code is 0. */
	s.srow[0][0] = s.srow[1][1] = s.srow[2][2] = 9.0f;
	b = spec_file(&s, vox, 8, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_near(v->affine.m[r][c], want_q[r][c], 1e-6);
	assert_near(twin_volume_get(v, 1, 0, 1), 6.0, 0.0);
	twin_volume_free(v);
	free(b);

	s.qform_code = 0;
	b = spec_file(&s, vox, 8, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_near(v->affine.m[r][c], want_p[r][c], 0.0);
	twin_volume_free(v);
	free(b);
}

static void big_endian_reads_the_same(void **state)
{
	struct twin_err err;
	struct spec s;
	struct twin_volume *le, *be;
	unsigned char *b;
	size_t len;
	const int16_t vox[6] = { -32768, -2, 0, 1, 300, 32767 };
	const float fvox[6] = { -1.5f, 0.0f, 2.25f, 1e6f, -3e-3f, 7.0f };

	spec_init(&s, 4, 16, 3, 2, 1);
	s.sform_code = 2;
	s.srow[0][0] = -0.5f;
	s.srow[1][1] = 0.6f;
	s.srow[2][2] = 0.7f;
	s.srow[0][3] = 12.0f;
	b = spec_file(&s, vox, 6, &len);
	le = load_both(*state, &err, b, len);
	assert_ptr_ok(err, le);
	free(b);
	s.big_endian = 1;
	b = spec_file(&s, vox, 6, &len);
	assert_int_equal(b[0], 0);  /* really swapped */
	be = load_both(*state, &err, b, len);
	assert_ptr_ok(err, be);
	free(b);
	assert_int_equal(be->dtype, TWIN_I16);
	assert_memory_equal(be->data, vox, sizeof(vox));
	assert_memory_equal(&be->affine, &le->affine, sizeof(le->affine));
	assert_near(be->affine.m[0][0], 0.5, 0.0);
	assert_near(be->affine.m[0][3], -12.0, 0.0);
	twin_volume_free(le);
	twin_volume_free(be);

	spec_init(&s, 16, 32, 3, 2, 1);
	s.big_endian = 1;
	b = spec_file(&s, fvox, 6, &len);
	be = load_both(*state, &err, b, len);
	assert_ptr_ok(err, be);
	assert_int_equal(be->dtype, TWIN_F32);
	assert_memory_equal(be->data, fvox, sizeof(fvox));
	twin_volume_free(be);
	free(b);
}

static void other_integer_types(void **state)
{
	struct twin_err err;
	struct spec s;
	struct twin_volume *v;
	unsigned char *b;
	size_t len;
	const int8_t i8[2] = { -128, 127 };
	const uint16_t u16[2] = { 0, 32767 }, u16big[2] = { 1, 40000 };
	const int32_t i32[2] = { -32768, 5 }, i32big[2] = { -32769, 5 };
	const double f64[2] = { 0.1, -1e300 };

	spec_init(&s, 256, 8, 2, 1, 1);
	b = spec_file(&s, i8, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_I16);
	assert_near(twin_volume_get(v, 0, 0, 0), -128.0, 0.0);
	twin_volume_free(v);
	free(b);

	spec_init(&s, 512, 16, 2, 1, 1);
	b = spec_file(&s, u16, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_I16);
	assert_near(twin_volume_get(v, 1, 0, 0), 32767.0, 0.0);
	twin_volume_free(v);
	free(b);
	b = spec_file(&s, u16big, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_F32);
	assert_near(twin_volume_get(v, 1, 0, 0), 40000.0, 0.0);
	twin_volume_free(v);
	free(b);

	spec_init(&s, 8, 32, 2, 1, 1);
	b = spec_file(&s, i32, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_I16);
	assert_near(twin_volume_get(v, 0, 0, 0), -32768.0, 0.0);
	twin_volume_free(v);
	free(b);
	b = spec_file(&s, i32big, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_F32);
	assert_near(twin_volume_get(v, 0, 0, 0), -32769.0, 0.0);
	twin_volume_free(v);
	free(b);

	/* float64 is read as float32. */
	spec_init(&s, 64, 64, 1, 2, 1);
	s.dim[0] = 2;
	b = spec_file(&s, f64, 2, &len);
	v = load_both(*state, &err, b, len);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_F32);
	assert_int_equal(v->dim[2], 1);
	assert_near(twin_volume_get(v, 0, 0, 0), (float)0.1, 0.0);
	assert_true(isinf(twin_volume_get(v, 0, 1, 0)));
	twin_volume_free(v);
	free(b);
}

/* Loads a hand-made file that must fail with code and message. */
static void assert_refused(const char *dir, const struct spec *s, size_t nvox, size_t cut, enum twin_code code,
			   const char *want)
{
	struct twin_err err;
	unsigned char *b;
	size_t len;
	void *vox = calloc(nvox ? nvox : 1, 16);

	assert_non_null(vox);
	b = spec_file(s, vox, nvox, &len);
	assert_true(cut <= len);
	assert_null(load_both(dir, &err, b, len - cut));
	assert_err(err, code, want);
	free(b);
	free(vox);
}

static void frames_of_a_4d_file(void **state)
{
	struct twin_err err;
	struct spec s;
	struct twin_volume *v;
	unsigned char *b;
	size_t len;
	int16_t vox[24];
	const char *path = twin_test_path(*state, "t.nii");

	for (int n = 0; n < 24; n++)
		vox[n] = (int16_t)(100 * (n / 8) + n % 8);
	spec_init(&s, 4, 16, 2, 2, 2);
	s.dim[0] = 4;
	s.dim[4] = 3;
	s.big_endian = 1;
	b = spec_file(&s, vox, 24, &len);
	twin_test_write_file(path, b, len);
	for (size_t f = 0; f < 3; f++) {
		twin_err_init(&err);
		v = twin_nifti_load_frame(&err, path, f);
		assert_ptr_ok(err, v);
		assert_int_equal(twin_volume_count(v), 8);
		assert_memory_equal(v->data, vox + 8 * f, 16);
		twin_volume_free(v);
	}
	twin_err_init(&err);
	assert_null(twin_nifti_load_frame(&err, path, 3));
	assert_err(err, TWIN_EINPUT, "no frame 3 in a 2x2x2x3 image");
	/* The last frame cut short. */
	twin_test_write_file(path, b, len - 1);
	twin_err_init(&err);
	assert_null(twin_nifti_load_frame(&err, path, 2));
	assert_err(err, TWIN_EINPUT, "truncated voxel data (got 47 of 48 bytes)");
	free(b);
	/* A fifth dimension stays unsupported. */
	s.dim[0] = 5;
	s.dim[4] = 1;
	s.dim[5] = 3;
	b = spec_file(&s, vox, 24, &len);
	twin_test_write_file(path, b, len);
	twin_err_init(&err);
	assert_null(twin_nifti_load_frame(&err, path, 0));
	assert_err(err, TWIN_EUNSUPPORTED, "5-D image (2x2x2x1x3) is not supported");
	free(b);
	/* A 3-D file is its own frame 0. */
	spec_init(&s, 4, 16, 2, 2, 2);
	b = spec_file(&s, vox, 8, &len);
	twin_test_write_file(path, b, len);
	twin_err_init(&err);
	v = twin_nifti_load_frame(&err, path, 0);
	assert_ptr_ok(err, v);
	assert_memory_equal(v->data, vox, 16);
	twin_volume_free(v);
	twin_err_init(&err);
	assert_null(twin_nifti_load_frame(&err, path, 1));
	assert_err(err, TWIN_EINPUT, "no frame 1 in a 2x2x2 image");
	free(b);
}

static void refuses_bad_headers(void **state)
{
	struct spec s;

	spec_init(&s, 4, 16, 4, 4, 4);
	s.sizeof_hdr = 540;
	assert_refused(*state, &s, 300, 0, TWIN_EUNSUPPORTED,
		       "cannot read 'mem.nii': NIfTI-2 (sizeof_hdr 540) is not supported");

	spec_init(&s, 4, 16, 2, 2, 2);
	s.dim[0] = 4;
	s.dim[4] = 3;
	assert_refused(*state, &s, 24, 0, TWIN_EUNSUPPORTED, "4-D image (2x2x2x3) is not supported, only 3-D");

	spec_init(&s, 32, 64, 2, 2, 2);
	assert_refused(*state, &s, 8, 0, TWIN_EUNSUPPORTED, "datatype 32 (complex64) is not supported");

	spec_init(&s, 4, 16, 2, 2, 2);
	memcpy(s.magic, "n+2", 4);
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "bad magic (bytes 6e 2b 32 00, want 'n+1')");
	memcpy(s.magic, "ni1", 4);
	assert_refused(*state, &s, 8, 0, TWIN_EUNSUPPORTED, "header/image pair");

	spec_init(&s, 4, 16, 2, 2, 2);
	s.sizeof_hdr = 1234;
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "not a NIfTI-1 file (sizeof_hdr 1234, want 348)");

	spec_init(&s, 4, 16, 2, 0, 2);
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "bad dimension dim[2] = 0");
	spec_init(&s, 4, 16, 2, -3, 2);
	s.big_endian = 1;
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "bad dimension dim[2] = -3");
	spec_init(&s, 4, 16, 2, 2, 2);
	s.dim[0] = 9;
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "bad dim[0] 9 (want 1 to 7)");

	/* 32767^3 voxels claimed by a tiny file. */
	spec_init(&s, 16, 32, 32767, 32767, 32767);
	assert_refused(*state, &s, 4, 0, TWIN_EINPUT, "truncated voxel data (got 16 of 140724603846652 bytes)");

	spec_init(&s, 4, 16, 2, 2, 2);
	assert_refused(*state, &s, 8, 200, TWIN_EINPUT, "cannot read 'mem.nii': truncated header (got 168 of 348 bytes)");
	assert_refused(*state, &s, 8, 3, TWIN_EINPUT, "cannot read 'mem.nii': truncated voxel data (got 13 of 16 bytes)");

	s.vox_offset = 100000.0f;
	assert_refused(*state, &s, 0, 100000 - 400, TWIN_EINPUT,
		       "vox_offset 100000 lies beyond the end of the file (400 bytes)");
	s.vox_offset = 352.5f;
	assert_refused(*state, &s, 0, 0, TWIN_EINPUT, "bad vox_offset 352.5");
	s.vox_offset = 100.0f;
	assert_refused(*state, &s, 0, 0, TWIN_EINPUT, "bad vox_offset 100");

	spec_init(&s, 4, 16, 2, 2, 2);
	s.sform_code = 1;  /* an all-zero sform */
	assert_refused(*state, &s, 8, 0, TWIN_EINPUT, "cannot read 'mem.nii': sform: affine is singular");
}

static void refuses_bad_gzip(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 20, 20, 20 };
	struct twin_volume *v;
	const char *path = twin_test_path(*state, "g.nii.gz");
	unsigned char *b;
	size_t len = 0;

	twin_err_init(&err);
	oblique_affine(&a);
	v = twin_volume_new(&err, TWIN_I16, dim, &a);
	assert_ptr_ok(err, v);
	fill(v);
	assert_ok(err, twin_nifti_save(&err, path, v));
	twin_volume_free(v);
	b = twin_test_read_file(path, &len);

	/* A wrong CRC at the end. */
	b[len - 8] ^= 0x55;
	assert_null(load_both(*state, &err, b, len));
	assert_err(err, TWIN_EINPUT, "cannot read 'mem.nii': corrupt gzip data (incorrect data check)");
	b[len - 8] ^= 0x55;

	/* The stream cut short: what arrives is too little. */
	assert_null(load_both(*state, &err, b, len / 2));
	assert_err(err, TWIN_EINPUT, "cannot read 'mem.nii': truncated voxel data (got ");
	assert_non_null(strstr(err.msg, " of 16000 bytes)"));
	assert_null(load_both(*state, &err, b, 40));
	assert_err(err, TWIN_EINPUT, "truncated header (got ");

	/* An unknown compression method in the gzip header. */
	b[2] = 7;
	assert_null(load_both(*state, &err, b, len));
	assert_err(err, TWIN_EINPUT, "cannot read 'mem.nii': corrupt gzip data (unknown compression method)");
	free(b);
}

static void missing_file(void **state)
{
	struct twin_err err;
	const char *path = twin_test_path(*state, "none.nii.gz");

	twin_err_init(&err);
	assert_null(twin_nifti_load(&err, path));
	assert_err(err, TWIN_EIO, "cannot open '");
	assert_non_null(strstr(err.msg, "none.nii.gz': No such file or directory"));
}

static void save_into_missing_folder_fails(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 2, 2, 2 };
	struct twin_volume *v;
	char path[4096];

	twin_err_init(&err);
	twin_affine_identity(&a);
	v = twin_volume_new(&err, TWIN_U8, dim, &a);
	assert_ptr_ok(err, v);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.nii.gz", (char *)*state);
	assert_int_equal(twin_nifti_save(&err, path, v), -1);
	/* The message names the folder that is missing (files.c words the rest). */
	assert_err(err, TWIN_EIO, "no/such/dir/");
	assert_non_null(strstr(err.msg, "No such file or directory"));
	twin_volume_free(v);
}

/* --- nibabel, when Debian's python3-nibabel is there ---------------------- */

static int have_nibabel(void)
{
	int rc = system(NIBABEL_PYTHON " -c 'import nibabel' >/dev/null 2>&1");

	if (rc == 0)
		return 1;
	printf("# SKIP python3-nibabel is not installed\n");
	return 0;
}

static void nibabel_reads_ours_and_we_read_nibabel(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 170, 160, 90 };
	struct twin_volume *v;
	char cmd[8192], out[4096], in[4096];
	double sum = 0.0;
	FILE *p;

	if (!have_nibabel())
		skip();
	twin_err_init(&err);
	oblique_affine(&a);
	v = twin_volume_new(&err, TWIN_I16, dim, &a);
	assert_ptr_ok(err, v);
	fill(v);
	for (size_t n = 0; n < twin_volume_count(v); n++)
		sum += ((int16_t *)v->data)[n];
	snprintf(out, sizeof(out), "%s/ours.nii.gz", (char *)*state);
	assert_ok(err, twin_nifti_save(&err, out, v));

	/* nibabel reads our multi-member gzip: shape, sum, and the RAS affine. */
	snprintf(cmd, sizeof(cmd), NIBABEL_PYTHON " -c \"import nibabel, numpy; i = nibabel.load('%s'); "
		 "d = numpy.asarray(i.dataobj); a = i.affine; "
		 "print(*d.shape, d.dtype, int(d.astype('int64').sum()), *['%%.9g' %% x for x in a[:3].ravel()])\"",
		 out);
	p = popen(cmd, "r");
	assert_non_null(p);
	{
		int nx = 0, ny = 0, nz = 0;
		char dtype[32] = "";
		long long got_sum = 0;
		double m[12];
		int got = fscanf(p, "%d %d %d %31s %lld %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &nx, &ny,
				 &nz, dtype, &got_sum, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6], &m[7],
				 &m[8], &m[9], &m[10], &m[11]);

		assert_int_equal(pclose(p), 0);
		assert_int_equal(got, 17);
		assert_int_equal(nx, 170);
		assert_int_equal(ny, 160);
		assert_int_equal(nz, 90);
		assert_string_equal(dtype, "int16");
		assert_near((double)got_sum, sum, 0.0);
		for (int r = 0; r < 3; r++)
			for (int c = 0; c < 4; c++)
				assert_near(m[4 * r + c], (r < 2 ? -1 : 1) * a.m[r][c], 1e-6 * (1 + fabs(a.m[r][c])));
	}
	twin_volume_free(v);

	/* We read nibabel's: float64 data, an oblique RAS affine, sform and qform. */
	snprintf(in, sizeof(in), "%s/theirs.nii.gz", (char *)*state);
	snprintf(cmd, sizeof(cmd), NIBABEL_PYTHON " -c \"import nibabel, numpy; "
		 "d = numpy.arange(5 * 4 * 3, dtype='float64').reshape((5, 4, 3), order='F') * 0.25 - 3; "
		 "a = numpy.array([[0, 0, -1.5, 20], [0.5, 0, 0, -30], [0, 2, 0, 40], [0, 0, 0, 1]]); "
		 "nibabel.save(nibabel.Nifti1Image(d, a), '%s')\"", in);
	assert_int_equal(system(cmd), 0);
	v = twin_nifti_load(&err, in);
	assert_ptr_ok(err, v);
	assert_int_equal(v->dtype, TWIN_F32);
	assert_int_equal(v->dim[0], 5);
	assert_int_equal(v->dim[1], 4);
	assert_int_equal(v->dim[2], 3);
	assert_near(twin_volume_get(v, 4, 3, 2), (4 + 5 * 3 + 20 * 2) * 0.25 - 3, 0.0);
	assert_near(twin_volume_get(v, 1, 0, 0), 0.25 - 3, 0.0);
	assert_near(v->affine.m[0][2], 1.5, 0.0);
	assert_near(v->affine.m[1][0], -0.5, 0.0);
	assert_near(v->affine.m[2][1], 2.0, 0.0);
	assert_near(v->affine.m[0][3], -20.0, 0.0);
	assert_near(v->affine.m[1][3], 30.0, 0.0);
	assert_near(v->affine.m[2][3], 40.0, 0.0);
	twin_volume_free(v);
}

/* --- twin-niicmp, the comparison tool the e2e tests use ------------------- */

/* Runs twin-niicmp from $TWIN_BIN with args; returns its exit code and its output line in out. */
static int run_niicmp(const char *args, char *out, size_t len)
{
	const char *bin = getenv("TWIN_BIN");
	char cmd[8192], rest[256];
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "'%s/twin-niicmp' %s 2>&1", bin, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	/* the rest too: a tool that writes into a closed pipe dies of SIGPIPE */
	while (fgets(rest, sizeof(rest), p))
		;
	status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int have_niicmp(void)
{
	const char *bin = getenv("TWIN_BIN");
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/twin-niicmp", bin ? bin : "");
	if (bin && stat(path, &st) == 0)
		return 1;
	printf("# SKIP twin-niicmp is not built in $TWIN_BIN ('%s')\n", bin ? bin : "");
	return 0;
}

/*
 * B holds A with its axes reordered as dcm2niix might: B's i runs down A's k,
 * B's j along A's i, B's k down A's j. Same world positions, same values.
 */
static struct twin_volume *reorient(const struct twin_volume *a)
{
	struct twin_err err;
	struct twin_affine p, ab;
	const size_t bdim[3] = { a->dim[2], a->dim[0], a->dim[1] };
	struct twin_volume *b;

	/* A index = p * B index. */
	memset(&p, 0, sizeof(p));
	p.m[2][0] = -1.0;
	p.m[2][3] = (double)(a->dim[2] - 1);
	p.m[0][1] = 1.0;
	p.m[1][2] = -1.0;
	p.m[1][3] = (double)(a->dim[1] - 1);
	p.m[3][3] = 1.0;
	twin_affine_mul(&ab, &a->affine, &p);
	twin_err_init(&err);
	b = twin_volume_new(&err, a->dtype, bdim, &ab);
	assert_ptr_ok(err, b);
	for (size_t k = 0; k < bdim[2]; k++)
		for (size_t j = 0; j < bdim[1]; j++)
			for (size_t i = 0; i < bdim[0]; i++)
				twin_volume_set(b, i, j, k, twin_volume_get(a, j, a->dim[1] - 1 - k, a->dim[2] - 1 - i));
	return b;
}

static void niicmp_sees_through_reorientation(void **state)
{
	struct twin_err err;
	struct twin_affine ob;
	const size_t dim[3] = { 7, 6, 5 }, other[3] = { 5, 7, 7 };
	struct twin_volume *a, *b, *c;
	char pa[4096], pb[4096], args[8300], out[1024];

	if (!have_niicmp())
		skip();
	twin_err_init(&err);
	oblique_affine(&ob);
	a = twin_volume_new(&err, TWIN_I16, dim, &ob);
	assert_ptr_ok(err, a);
	fill(a);
	b = reorient(a);
	snprintf(pa, sizeof(pa), "%s/a.nii.gz", (char *)*state);
	snprintf(pb, sizeof(pb), "%s/b.nii", (char *)*state);
	assert_ok(err, twin_nifti_save(&err, pa, a));
	assert_ok(err, twin_nifti_save(&err, pb, b));
	snprintf(args, sizeof(args), "--voxels '%s' '%s'", pa, pb);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "same: 7x6x5, B axes are A -k +i -j"));
	assert_non_null(strstr(out, "all 210 voxels agree"));

	/* One voxel changed by 3: B(2,4,1) holds A(4, 6-1-1, 5-1-2). */
	twin_volume_set(b, 2, 4, 1, twin_volume_get(b, 2, 4, 1) + 3);
	assert_ok(err, twin_nifti_save(&err, pb, b));
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "differ: voxels: 1 of 210 differ by more than 0 (max 3); first at A(4,4,2) = "));
	assert_non_null(strstr(out, "vs B(2,4,1) = "));
	snprintf(args, sizeof(args), "--voxels --tol-value 3 '%s' '%s'", pa, pb);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);
	/* Without --voxels only the geometry counts. */
	snprintf(args, sizeof(args), "'%s' '%s'", pa, pb);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);

	/* B moved by 0.01 mm along y. */
	b->affine.m[1][3] += 0.01;
	assert_ok(err, twin_nifti_save(&err, pb, b));
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "differ: affine: max corner distance 0.01"));
	snprintf(args, sizeof(args), "--tol-mm 0.02 '%s' '%s'", pa, pb);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);
	twin_volume_free(b);

	/* Other dims. */
	c = twin_volume_new(&err, TWIN_I16, other, &ob);
	assert_ptr_ok(err, c);
	assert_ok(err, twin_nifti_save(&err, pb, c));
	snprintf(args, sizeof(args), "'%s' '%s'", pa, pb);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "differ: dims: A 7x6x5, B 5x7x7"));
	twin_volume_free(c);

	/* Frames of a 4-D file: frame 1 of [zeros, A] is A. */
	{
		size_t n = twin_volume_count(a);
		struct twin_volume *t2;
		const size_t d4[3] = { 7, 6, 10 };
		unsigned char *raw;
		size_t len = 0;

		t2 = twin_volume_new(&err, TWIN_I16, d4, &ob);
		assert_ptr_ok(err, t2);
		memcpy((int16_t *)t2->data + n, a->data, 2 * n);
		assert_ok(err, twin_nifti_save(&err, pb, t2));
		twin_volume_free(t2);
		/* Make it 7x6x5x2: dim[0] 4, dim[3] 5, dim[4] 2. */
		raw = twin_test_read_file(pb, &len);
		raw[40] = 4;
		raw[46] = 5;
		raw[48] = 2;
		twin_test_write_file(pb, raw, len);
		free(raw);
		snprintf(args, sizeof(args), "--voxels --frame-b 1 '%s' '%s'", pa, pb);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);
		snprintf(args, sizeof(args), "--voxels --frame-a 1 '%s' '%s'", pb, pa);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), 0);
		snprintf(args, sizeof(args), "--voxels --frame-b 0 '%s' '%s'", pa, pb);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), 1);
		assert_non_null(strstr(out, "differ: voxels: "));
		snprintf(args, sizeof(args), "'%s' '%s'", pa, pb);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), TWIN_EUNSUPPORTED);
		assert_non_null(strstr(out, "4-D image (7x6x5x2) is not supported"));
		snprintf(args, sizeof(args), "--frame-b 2 '%s' '%s'", pa, pb);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), 3);
		assert_non_null(strstr(out, "no frame 2 in a 7x6x5x2 image"));
		/* --frame is for both, and A has only frame 0. */
		snprintf(args, sizeof(args), "--frame 1 '%s' '%s'", pa, pb);
		assert_int_equal(run_niicmp(args, out, sizeof(out)), 3);
		assert_non_null(strstr(out, "no frame 1 in a 7x6x5 image"));
	}

	/* Usage and read errors. */
	assert_int_equal(run_niicmp("--frame 1.5 x y", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "bad frame '1.5'"));
	assert_int_equal(run_niicmp("--tol-mm -1 x y", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "bad tolerance '-1'"));
	assert_int_equal(run_niicmp("only-one.nii", out, sizeof(out)), 2);
	snprintf(args, sizeof(args), "'%s' '%s/missing.nii'", pa, (char *)*state);
	assert_int_equal(run_niicmp(args, out, sizeof(out)), TWIN_EIO);
	assert_non_null(strstr(out, "twin-niicmp: cannot open '"));
	twin_volume_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_all_dtypes, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip_multi_member_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(save_hashed_matches_file, setup, teardown),
		cmocka_unit_test_setup_teardown(stream_writes_as_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(header_holds_ras, setup, teardown),
		cmocka_unit_test_setup_teardown(qform_written_matches_affine, setup, teardown),
		cmocka_unit_test_setup_teardown(qform_of_sheared_is_closest_rotation, setup, teardown),
		cmocka_unit_test(dcm2niix_transfer_syntaxes),
		cmocka_unit_test(dcm2niix_orientations),
		cmocka_unit_test_setup_teardown(scl_slope_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(qform_only_and_pixdim_only, setup, teardown),
		cmocka_unit_test_setup_teardown(big_endian_reads_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(other_integer_types, setup, teardown),
		cmocka_unit_test_setup_teardown(frames_of_a_4d_file, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_bad_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(save_into_missing_folder_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(nibabel_reads_ours_and_we_read_nibabel, setup, teardown),
		cmocka_unit_test_setup_teardown(niicmp_sees_through_reorientation, setup, teardown),
	};

	return cmocka_run_group_tests_name("nifti", tests, NULL, NULL);
}
