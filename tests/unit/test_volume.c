#include "twin_test.h"

#include <math.h>

#include "volume.h"

/* cmocka 1.1.5 compares floats only; this prints both doubles. */
#define assert_near(a, b, eps) do { \
	double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (eps))) \
		fail_msg("%s = %.17g, want %.17g (within %g)", #a, a_, b_, (double)(eps)); \
} while (0)

/* Rotation by angle (radians) about the unit axis u, then column scales s, then offset t. */
static void make_affine(struct twin_affine *a, const double u_in[3], double angle, const double s[3],
			const double t[3])
{
	double n = sqrt(u_in[0] * u_in[0] + u_in[1] * u_in[1] + u_in[2] * u_in[2]);
	double u[3] = { u_in[0] / n, u_in[1] / n, u_in[2] / n };
	double c = cos(angle), sn = sin(angle), r[3][3];

	r[0][0] = c + u[0] * u[0] * (1 - c);
	r[0][1] = u[0] * u[1] * (1 - c) - u[2] * sn;
	r[0][2] = u[0] * u[2] * (1 - c) + u[1] * sn;
	r[1][0] = u[1] * u[0] * (1 - c) + u[2] * sn;
	r[1][1] = c + u[1] * u[1] * (1 - c);
	r[1][2] = u[1] * u[2] * (1 - c) - u[0] * sn;
	r[2][0] = u[2] * u[0] * (1 - c) - u[1] * sn;
	r[2][1] = u[2] * u[1] * (1 - c) + u[0] * sn;
	r[2][2] = c + u[2] * u[2] * (1 - c);
	twin_affine_identity(a);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			a->m[i][j] = r[i][j] * s[j];
		a->m[i][3] = t[i];
	}
}

static void oblique(struct twin_affine *a)
{
	const double u[3] = { 1, 2, 3 }, s[3] = { 0.7, 0.8, 2.5 }, t[3] = { -40.5, 12.25, 80 };

	make_affine(a, u, 0.5, s, t);
}

static void index_world_oblique(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	struct twin_volume *v;
	const size_t dim[3] = { 4, 5, 6 };
	double ijk[3] = { 2, 3, 4.5 }, xyz[3], back[3], sp[3], dir[3][3];

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = twin_volume_new(&err, TWIN_I16, dim, &a);
	assert_ptr_ok(err, v);
	assert_int_equal(twin_volume_count(v), 120);
	assert_int_equal(twin_volume_bytes(v), 240);
	twin_volume_index_to_world(v, ijk, xyz);
	for (int r = 0; r < 3; r++)
		assert_near(xyz[r], a.m[r][0] * 2 + a.m[r][1] * 3 + a.m[r][2] * 4.5 + a.m[r][3], 1e-12);
	twin_volume_world_to_index(v, xyz, back);
	for (int r = 0; r < 3; r++)
		assert_near(back[r], ijk[r], 1e-9);
	twin_volume_spacing(v, sp);
	assert_near(sp[0], 0.7, 1e-12);
	assert_near(sp[1], 0.8, 1e-12);
	assert_near(sp[2], 2.5, 1e-12);
	twin_volume_direction(v, dir);
	for (int c = 0; c < 3; c++) {
		double len = 0.0;

		for (int r = 0; r < 3; r++) {
			assert_near(dir[c][r], a.m[r][c] / sp[c], 1e-12);
			len += dir[c][r] * dir[c][r];
		}
		assert_near(len, 1.0, 1e-12);
	}
	/* Orthogonal directions: the affine is a rotation times scales. */
	assert_near(dir[0][0] * dir[1][0] + dir[0][1] * dir[1][1] + dir[0][2] * dir[1][2], 0.0, 1e-12);
	twin_volume_free(v);
}

static void affine_algebra(void **state)
{
	struct twin_err err;
	struct twin_affine a, inv, prod, b;
	const size_t dim[3] = { 11, 1, 5 };

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	assert_ok(err, twin_affine_invert(&err, &inv, &a));
	twin_affine_mul(&prod, &a, &inv);
	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++)
			assert_near(prod.m[r][c], r == c ? 1.0 : 0.0, 1e-12);
	/* mul may alias its output. */
	b = a;
	twin_affine_mul(&b, &b, &inv);
	assert_near(b.m[1][1], 1.0, 1e-12);
	assert_near(b.m[0][3], 0.0, 1e-12);

	assert_near(twin_affine_corner_distance(&a, &a, dim), 0.0, 0.0);
	b = a;
	b.m[1][3] += 0.25;
	assert_near(twin_affine_corner_distance(&a, &b, dim), 0.25, 1e-12);
	/* A change of the k column moves the k = 4 corners by 4 times it. */
	b = a;
	b.m[2][2] += 0.5;
	assert_near(twin_affine_corner_distance(&a, &b, dim), 2.0, 1e-12);

	b = a;
	for (int r = 0; r < 3; r++)
		b.m[r][2] = 2 * b.m[r][0] - b.m[r][1];
	assert_int_equal(twin_affine_invert(&err, &inv, &b), -1);
	assert_err(err, TWIN_EINPUT, "affine is singular");
}

static void get_set_round_and_clamp(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 3, 2, 2 };
	struct twin_volume *u8, *i16, *f32;

	(void)state;
	twin_err_init(&err);
	twin_affine_identity(&a);
	u8 = twin_volume_new(&err, TWIN_U8, dim, &a);
	i16 = twin_volume_new(&err, TWIN_I16, dim, &a);
	f32 = twin_volume_new(&err, TWIN_F32, dim, &a);
	assert_ptr_ok(err, u8);
	assert_ptr_ok(err, i16);
	assert_ptr_ok(err, f32);
	assert_near(twin_volume_get(u8, 2, 1, 1), 0.0, 0.0);
	twin_volume_set(u8, 2, 1, 1, 300.0);
	twin_volume_set(u8, 0, 0, 0, -5.0);
	twin_volume_set(u8, 1, 0, 0, 2.5);
	twin_volume_set(u8, 2, 0, 0, 2.49);
	twin_volume_set(u8, 0, 1, 0, NAN);
	assert_near(twin_volume_get(u8, 2, 1, 1), 255.0, 0.0);
	assert_int_equal(((uint8_t *)u8->data)[11], 255);
	assert_near(twin_volume_get(u8, 0, 0, 0), 0.0, 0.0);
	assert_near(twin_volume_get(u8, 1, 0, 0), 3.0, 0.0);
	assert_near(twin_volume_get(u8, 2, 0, 0), 2.0, 0.0);
	assert_near(twin_volume_get(u8, 0, 1, 0), 0.0, 0.0);

	twin_volume_set(i16, 1, 1, 0, 40000.0);
	twin_volume_set(i16, 2, 1, 0, -40000.0);
	twin_volume_set(i16, 0, 0, 1, -2.5);
	twin_volume_set(i16, 1, 0, 1, 1023.4);
	assert_near(twin_volume_get(i16, 1, 1, 0), 32767.0, 0.0);
	assert_near(twin_volume_get(i16, 2, 1, 0), -32768.0, 0.0);
	assert_near(twin_volume_get(i16, 0, 0, 1), -3.0, 0.0);
	assert_int_equal(((int16_t *)i16->data)[7], 1023);

	twin_volume_set(f32, 2, 1, 0, 1.25);
	assert_near(twin_volume_get(f32, 2, 1, 0), 1.25, 0.0);
	assert_near(((float *)f32->data)[5], 1.25f, 0.0);

	assert_int_equal(twin_dtype_size(TWIN_I16), 2);
	assert_string_equal(twin_dtype_name(TWIN_F32), "float32");
	twin_volume_free(u8);
	twin_volume_free(i16);
	twin_volume_free(f32);
}

static void new_rejects_bad_input(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t zero[3] = { 4, 0, 3 }, huge[3] = { SIZE_MAX / 2, 4, 4 }, ok[3] = { 2, 2, 2 };

	(void)state;
	twin_affine_identity(&a);
	twin_err_init(&err);
	assert_null(twin_volume_new(&err, TWIN_U8, zero, &a));
	assert_err(err, TWIN_EINPUT, "bad dimensions 4x0x3");
	twin_err_init(&err);
	assert_null(twin_volume_new(&err, TWIN_I16, huge, &a));
	assert_err(err, TWIN_EINPUT, "too large");
	twin_err_init(&err);
	a.m[2][2] = 0.0;
	assert_null(twin_volume_new(&err, TWIN_F32, ok, &a));
	assert_err(err, TWIN_EINPUT, "affine is singular");
	twin_err_init(&err);
	a.m[2][2] = NAN;
	assert_null(twin_volume_new(&err, TWIN_F32, ok, &a));
	assert_err(err, TWIN_EINPUT, "affine is singular");
}

/* A float volume with value i + 10 j + 100 k. */
static struct twin_volume *index_volume(struct twin_err *err, const size_t dim[3], const struct twin_affine *a)
{
	struct twin_volume *v = twin_volume_new(err, TWIN_F32, dim, a);

	if (!v)
		return NULL;
	for (size_t k = 0; k < dim[2]; k++)
		for (size_t j = 0; j < dim[1]; j++)
			for (size_t i = 0; i < dim[0]; i++)
				twin_volume_set(v, i, j, k, (double)(i + 10 * j + 100 * k));
	return v;
}

static void crop_keeps_world_positions(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 10, 9, 8 }, lo[3] = { 2, 3, 1 }, size[3] = { 5, 4, 7 };
	const size_t past[3] = { 5, 7, 2 }, empty[3] = { 5, 0, 7 }, far[3] = { 10, 0, 0 }, one[3] = { 1, 1, 1 };
	struct twin_volume *v, *c;

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = index_volume(&err, dim, &a);
	assert_ptr_ok(err, v);
	c = twin_volume_crop(&err, v, lo, size);
	assert_ptr_ok(err, c);
	assert_int_equal(c->dim[0], 5);
	assert_int_equal(c->dim[2], 7);
	for (size_t k = 0; k < size[2]; k++)
		for (size_t j = 0; j < size[1]; j++)
			for (size_t i = 0; i < size[0]; i++) {
				double ci[3] = { (double)i, (double)j, (double)k };
				double vi[3] = { (double)(i + lo[0]), (double)(j + lo[1]), (double)(k + lo[2]) };
				double cw[3], vw[3];

				assert_near(twin_volume_get(c, i, j, k),
						    twin_volume_get(v, i + lo[0], j + lo[1], k + lo[2]), 0.0);
				twin_volume_index_to_world(c, ci, cw);
				twin_volume_index_to_world(v, vi, vw);
				for (int r = 0; r < 3; r++)
					assert_near(cw[r], vw[r], 1e-9);
			}
	twin_volume_free(c);

	c = twin_volume_crop(&err, v, lo, past);
	assert_null(c);
	assert_err(err, TWIN_EINPUT, "crop box [2,3,1]+[5,7,2] is not inside the 10x9x8 volume");
	twin_err_init(&err);
	assert_null(twin_volume_crop(&err, v, lo, empty));
	assert_err(err, TWIN_EINPUT, "is not inside");
	twin_err_init(&err);
	assert_null(twin_volume_crop(&err, v, far, one));
	assert_err(err, TWIN_EINPUT, "crop box [10,0,0]+[1,1,1]");
	twin_volume_free(v);
}

static void resample_identity_is_exact(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	/* More than 2^20 voxels, so that the threaded path runs. */
	const size_t dim[3] = { 130, 120, 70 };
	struct twin_volume *v, *lin, *near;
	uint32_t x = 12345;
	float *p;

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = twin_volume_new(&err, TWIN_F32, dim, &a);
	assert_ptr_ok(err, v);
	p = v->data;
	for (size_t n = 0; n < twin_volume_count(v); n++) {
		x = x * 1103515245u + 12345u;
		p[n] = (float)(x >> 8) / 1024.0f - 5000.0f;
	}
	lin = twin_volume_resample(&err, v, dim, &a, TWIN_LINEAR, -1.0);
	assert_ptr_ok(err, lin);
	near = twin_volume_resample(&err, v, dim, &a, TWIN_NEAREST, 0.0);
	assert_ptr_ok(err, near);
	assert_int_equal(lin->dtype, TWIN_F32);
	assert_memory_equal(lin->data, v->data, twin_volume_bytes(v));
	assert_memory_equal(near->data, v->data, twin_volume_bytes(v));
	twin_volume_free(lin);
	twin_volume_free(near);
	twin_volume_free(v);
}

static void resample_onto_crop_grid_equals_crop(void **state)
{
	struct twin_err err;
	struct twin_affine a;
	const size_t dim[3] = { 10, 9, 8 }, lo[3] = { 1, 2, 3 }, size[3] = { 6, 5, 4 };
	struct twin_volume *v, *c, *r;

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = index_volume(&err, dim, &a);
	assert_ptr_ok(err, v);
	c = twin_volume_crop(&err, v, lo, size);
	assert_ptr_ok(err, c);
	r = twin_volume_resample(&err, v, c->dim, &c->affine, TWIN_LINEAR, 0.0);
	assert_ptr_ok(err, r);
	assert_memory_equal(r->data, c->data, twin_volume_bytes(c));
	twin_volume_free(r);
	twin_volume_free(c);
	twin_volume_free(v);
}

static double ramp(const double w[3])
{
	return 3.0 + 0.5 * w[0] - 0.25 * w[1] + 0.125 * w[2];
}

static void resample_linear_reproduces_a_ramp(void **state)
{
	struct twin_err err;
	struct twin_affine a, t;
	const size_t dim[3] = { 20, 22, 24 }, tdim[3] = { 30, 28, 26 };
	const double u[3] = { -2, 1, 0.5 }, s[3] = { 0.9, 1.1, 1.3 }, zero[3] = { 0, 0, 0 };
	struct twin_volume *v, *r;
	size_t inside = 0, outside = 0;

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = twin_volume_new(&err, TWIN_F32, dim, &a);
	assert_ptr_ok(err, v);
	for (size_t k = 0; k < dim[2]; k++)
		for (size_t j = 0; j < dim[1]; j++)
			for (size_t i = 0; i < dim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, w[3];

				twin_volume_index_to_world(v, ijk, w);
				twin_volume_set(v, i, j, k, ramp(w));
			}
	/* A rotated, differently spaced grid centred on v, bigger than v in places. */
	make_affine(&t, u, 0.35, s, zero);
	for (int row = 0; row < 3; row++) {
		double centre = a.m[row][0] * 9.5 + a.m[row][1] * 10.5 + a.m[row][2] * 11.5 + a.m[row][3];

		t.m[row][3] = centre - (t.m[row][0] * 14.5 + t.m[row][1] * 13.5 + t.m[row][2] * 12.5);
	}
	r = twin_volume_resample(&err, v, tdim, &t, TWIN_LINEAR, -1000.0);
	assert_ptr_ok(err, r);
	for (size_t k = 0; k < tdim[2]; k++)
		for (size_t j = 0; j < tdim[1]; j++)
			for (size_t i = 0; i < tdim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, w[3], src[3];
				int in = 1, out = 0;

				twin_volume_index_to_world(r, ijk, w);
				twin_volume_world_to_index(v, w, src);
				for (int ax = 0; ax < 3; ax++) {
					in = in && src[ax] >= 0.0 && src[ax] <= (double)(dim[ax] - 1);
					out = out || src[ax] < -0.5 - 1e-6 || src[ax] > (double)dim[ax] - 0.5 + 1e-6;
				}
				if (in) {
					assert_near(twin_volume_get(r, i, j, k), ramp(w), 1e-4);
					inside++;
				} else if (out) {
					assert_near(twin_volume_get(r, i, j, k), -1000.0, 0.0);
					outside++;
				}
			}
	/* Both kinds of point were seen in numbers. */
	printf("# ramp: %zu points inside, %zu outside\n", inside, outside);
	assert_true(inside > 2000);
	assert_true(outside > 2000);
	twin_volume_free(r);
	twin_volume_free(v);
}

static void resample_nearest_keeps_labels(void **state)
{
	struct twin_err err;
	struct twin_affine a, t;
	const size_t dim[3] = { 16, 16, 12 }, tdim[3] = { 40, 36, 30 };
	const double u[3] = { 0, 0.3, 1 }, s[3] = { 0.5, 0.6, 0.7 }, off[3] = { -48, 0, 70 };
	const uint8_t labels[6] = { 0, 1, 2, 3, 5, 7 };
	struct twin_volume *v, *r;
	int seen[256] = { 0 };
	size_t checked = 0;

	(void)state;
	twin_err_init(&err);
	oblique(&a);
	v = twin_volume_new(&err, TWIN_U8, dim, &a);
	assert_ptr_ok(err, v);
	for (size_t k = 0; k < dim[2]; k++)
		for (size_t j = 0; j < dim[1]; j++)
			for (size_t i = 0; i < dim[0]; i++)
				twin_volume_set(v, i, j, k, labels[(i / 4 + j / 4 + k / 3) % 6]);
	make_affine(&t, u, -0.4, s, off);
	r = twin_volume_resample(&err, v, tdim, &t, TWIN_NEAREST, 99.0);
	assert_ptr_ok(err, r);
	assert_int_equal(r->dtype, TWIN_U8);
	for (size_t k = 0; k < tdim[2]; k++)
		for (size_t j = 0; j < tdim[1]; j++)
			for (size_t i = 0; i < tdim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, w[3], src[3];
				double got = twin_volume_get(r, i, j, k), want = 0.0;
				int tie = 0, in = 1;
				size_t n[3];

				seen[(int)got] = 1;
				twin_volume_index_to_world(r, ijk, w);
				twin_volume_world_to_index(v, w, src);
				for (int ax = 0; ax < 3; ax++) {
					double fr = src[ax] - floor(src[ax]);

					tie = tie || fabs(fr - 0.5) < 1e-6;
					in = in && src[ax] >= -0.5 && src[ax] < (double)dim[ax] - 0.5;
					n[ax] = in ? (size_t)floor(src[ax] + 0.5) : 0;
				}
				if (tie)
					continue;
				if (in)
					want = twin_volume_get(v, n[0], n[1], n[2]);
				assert_near(got, want, 0.0);
				checked++;
			}
	assert_true(checked > 40000);
	for (int l = 0; l < 256; l++) {
		int in_set = 0;

		for (int m = 0; m < 6; m++)
			in_set = in_set || labels[m] == l;
		assert_int_equal(seen[l], in_set);
	}
	twin_volume_free(r);
	twin_volume_free(v);
}

static void resample_rejects_bad_grids(void **state)
{
	struct twin_err err;
	struct twin_affine a, bad;
	const size_t dim[3] = { 3, 3, 3 }, zero[3] = { 3, 0, 3 };
	struct twin_volume *v;

	(void)state;
	twin_err_init(&err);
	twin_affine_identity(&a);
	v = twin_volume_new(&err, TWIN_I16, dim, &a);
	assert_ptr_ok(err, v);
	assert_null(twin_volume_resample(&err, v, zero, &a, TWIN_LINEAR, 0.0));
	assert_err(err, TWIN_EINPUT, "bad dimensions 3x0x3");
	twin_err_init(&err);
	bad = a;
	bad.m[0][0] = 0.0;
	assert_null(twin_volume_resample(&err, v, dim, &bad, TWIN_NEAREST, 0.0));
	assert_err(err, TWIN_EINPUT, "affine is singular");
	twin_volume_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_world_oblique),
		cmocka_unit_test(affine_algebra),
		cmocka_unit_test(get_set_round_and_clamp),
		cmocka_unit_test(new_rejects_bad_input),
		cmocka_unit_test(crop_keeps_world_positions),
		cmocka_unit_test(resample_identity_is_exact),
		cmocka_unit_test(resample_onto_crop_grid_equals_crop),
		cmocka_unit_test(resample_linear_reproduces_a_ramp),
		cmocka_unit_test(resample_nearest_keeps_labels),
		cmocka_unit_test(resample_rejects_bad_grids),
	};

	return cmocka_run_group_tests_name("volume", tests, NULL, NULL);
}
