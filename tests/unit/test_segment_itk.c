/*
 * segment/itk.h from plain C: this file compiles as C11, which proves the
 * header is C. Each filter on a small volume whose answer is known.
 */
#include "twin_test.h"

#include <math.h>

#include "../../segment/itk.h"
#include "volume.h"

#define N 20

static struct twin_volume *vol(enum twin_dtype dtype, double spacing)
{
	struct twin_err err;
	struct twin_affine a;
	size_t dim[3] = { N, N, N };
	struct twin_volume *v;

	twin_err_init(&err);
	twin_affine_identity(&a);
	a.m[0][0] = a.m[1][1] = a.m[2][2] = spacing;
	v = twin_volume_new(&err, dtype, dim, &a);
	assert_ptr_ok(err, v);
	return v;
}

/* A ball of radius r voxels at (c, c, c) set to value. */
static void ball(struct twin_volume *v, double c, double r, double value)
{
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			for (size_t i = 0; i < N; i++)
				if ((i - c) * (i - c) + (j - c) * (j - c) + (k - c) * (k - c) <= r * r)
					twin_volume_set(v, i, j, k, value);
}

static void test_distance(void **state)
{
	struct twin_err err;
	struct twin_volume *m = vol(TWIN_U8, 2.0), *d;

	(void)state;
	twin_err_init(&err);
	twin_volume_set(m, 10, 10, 10, 1);
	d = twin_itk_distance(&err, m);
	assert_ptr_ok(err, d);
	/* 3 voxels of 2 mm away along an axis: 6 mm */
	assert_true(fabs(twin_volume_get(d, 13, 10, 10) - 6.0) < 1e-3);
	assert_true(twin_volume_get(d, 10, 10, 10) <= 0.0);
	twin_volume_free(d);
	/* an empty mask is far from everything */
	twin_volume_set(m, 10, 10, 10, 0);
	d = twin_itk_distance(&err, m);
	assert_ptr_ok(err, d);
	assert_true(twin_volume_get(d, 0, 0, 0) > 1e8);
	twin_volume_free(d);
	twin_volume_free(m);
}

static void test_components(void **state)
{
	struct twin_err err;
	struct twin_volume *m = vol(TWIN_U8, 1.0), *c;
	size_t count = 0;

	(void)state;
	twin_err_init(&err);
	ball(m, 6, 4, 1);   /* the big one */
	twin_volume_set(m, 17, 17, 17, 1);
	twin_volume_set(m, 17, 2, 17, 1);
	twin_volume_set(m, 16, 3, 17, 1); /* diagonal only: a component of its own */
	c = twin_itk_components(&err, m, 2, &count);
	assert_ptr_ok(err, c);
	assert_int_equal(count, 4);
	assert_int_equal(twin_volume_get(c, 6, 6, 6), 1);
	assert_int_equal(twin_volume_get(c, 0, 0, 0), 0);
	/* only two are kept: the third and fourth are background */
	assert_true(twin_volume_get(c, 17, 17, 17) + twin_volume_get(c, 17, 2, 17) +
		    twin_volume_get(c, 16, 3, 17) == 2);
	twin_volume_free(c);
	twin_volume_free(m);
}

static void test_fill_holes(void **state)
{
	struct twin_err err;
	struct twin_volume *m = vol(TWIN_U8, 1.0);

	(void)state;
	twin_err_init(&err);
	ball(m, 10, 6, 1);
	ball(m, 10, 3, 0);
	assert_int_equal(twin_volume_get(m, 10, 10, 10), 0);
	assert_ok(err, twin_itk_fill_holes(&err, m));
	assert_int_equal(twin_volume_get(m, 10, 10, 10), 1);
	assert_int_equal(twin_volume_get(m, 0, 0, 0), 0);
	twin_volume_free(m);
}

static void test_watershed(void **state)
{
	struct twin_err err;
	struct twin_volume *r = vol(TWIN_F32, 1.0), *mk = vol(TWIN_U8, 1.0), *w;

	(void)state;
	twin_err_init(&err);
	/* a ridge at i = 12 splits the volume */
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			twin_volume_set(r, 12, j, k, 100.0);
	twin_volume_set(mk, 2, 2, 2, 3);
	twin_volume_set(mk, 18, 18, 18, 5);
	w = twin_itk_watershed(&err, r, mk);
	assert_ptr_ok(err, w);
	assert_int_equal(twin_volume_get(w, 11, 0, 19), 3);
	assert_int_equal(twin_volume_get(w, 13, 19, 0), 5);
	twin_volume_free(w);
	/* a wrong dtype is refused with a message */
	w = twin_itk_watershed(&err, mk, mk);
	assert_null(w);
	assert_err(err, TWIN_EDEP, "the relief must be float32");
	twin_volume_free(r);
	twin_volume_free(mk);
}

static void test_otsu_smooth(void **state)
{
	struct twin_err err;
	struct twin_volume *img = vol(TWIN_F32, 1.0), *m = vol(TWIN_U8, 1.0);
	double t[2];

	(void)state;
	twin_err_init(&err);
	/* three levels: 0 around, 100 in a ball, 300 in its core */
	ball(img, 10, 7, 100.0);
	ball(img, 10, 3, 300.0);
	memset(m->data, 1, twin_volume_bytes(m));
	assert_ok(err, twin_itk_otsu(&err, img, m, 2, 128, t));
	assert_true(t[0] > 0.0 && t[0] < 100.0);
	assert_true(t[1] > 100.0 && t[1] < 300.0);
	/* a constant region has no threshold */
	memset(m->data, 0, twin_volume_bytes(m));
	twin_volume_set(m, 0, 0, 0, 1);
	assert_int_equal(twin_itk_otsu(&err, img, m, 1, 128, t), -1);
	assert_err(err, TWIN_EINPUT, "fewer than 2 distinct values");
	/* smoothing spreads the core: the edge of the ball rises above 0 */
	twin_err_init(&err);
	assert_ok(err, twin_itk_smooth(&err, img, 1.5));
	assert_true(twin_volume_get(img, 10, 10, 18) > 1.0);
	assert_true(twin_volume_get(img, 10, 10, 10) < 300.0);
	twin_volume_free(img);
	twin_volume_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_components),
		cmocka_unit_test(test_fill_holes),
		cmocka_unit_test(test_watershed),
		cmocka_unit_test(test_otsu_smooth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
