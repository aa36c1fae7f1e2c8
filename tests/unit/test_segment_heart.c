/*
 * segment/heart: the checks before the pipeline runs (image size, seed
 * labels), a CT without lungs, and the Dice overlap the tests use. The
 * pipeline itself is checked against twin-phantom's truth in
 * tests/e2e/segment_phantom.sh.
 */
#include "twin_test.h"

#include <math.h>

#include "../../segment/heart.h"
#include "volume.h"

static struct twin_volume *cube(size_t n, double spacing, enum twin_dtype dtype, double value)
{
	struct twin_err err;
	struct twin_affine a;
	size_t dim[3] = { n, n, n };
	struct twin_volume *v;

	twin_err_init(&err);
	twin_affine_identity(&a);
	a.m[0][0] = a.m[1][1] = a.m[2][2] = spacing;
	v = twin_volume_new(&err, dtype, dim, &a);
	assert_ptr_ok(err, v);
	for (size_t k = 0; k < n; k++)
		for (size_t j = 0; j < n; j++)
			for (size_t i = 0; i < n; i++)
				twin_volume_set(v, i, j, k, value);
	return v;
}

static void test_too_small(void **state)
{
	struct twin_err err;
	struct twin_volume *img = cube(20, 2.0, TWIN_I16, 40.0);
	struct twin_heart_opts opts = { 1.0, 0, NULL, 0, NULL, NULL };
	struct twin_heart_report rep;

	(void)state;
	twin_err_init(&err);
	assert_null(twin_heart_segment(&err, img, &opts, &rep));
	assert_err(err, TWIN_EUNSUPPORTED, "image too small: 20x20x20 voxels cover 40x40x40 mm");
	twin_volume_free(img);
}

static void test_seed_label(void **state)
{
	struct twin_err err;
	struct twin_volume *img = cube(40, 2.0, TWIN_I16, 40.0);
	struct twin_seed seed = { 1, { 0, 0, 0 }, "'s.csv':4" };
	struct twin_heart_opts opts = { 1.0, 0, &seed, 1, NULL, NULL };
	struct twin_heart_report rep;

	(void)state;
	twin_err_init(&err);
	assert_null(twin_heart_segment(&err, img, &opts, &rep));
	assert_err(err, TWIN_EINPUT, "seed 's.csv':4: label 1 is not a blood pool (2..7)");
	twin_volume_free(img);
}

static void test_no_lungs(void **state)
{
	struct twin_err err;
	/* a CT of soft tissue in air, 80 mm each way, with no lung at all */
	struct twin_volume *img = cube(40, 2.0, TWIN_I16, -1000.0);
	struct twin_heart_opts opts = { 2.0, 0, NULL, 0, NULL, NULL };
	struct twin_heart_report rep;

	(void)state;
	for (size_t k = 0; k < 40; k++)
		for (size_t j = 5; j < 35; j++)
			for (size_t i = 5; i < 35; i++)
				twin_volume_set(img, i, j, k, 40.0);
	twin_err_init(&err);
	assert_null(twin_heart_segment(&err, img, &opts, &rep));
	assert_err(err, TWIN_EUNSUPPORTED, "no heart: the image shows 0 mL of lung");
	assert_int_equal(rep.is_ct, 1);
	twin_volume_free(img);
}

static void test_dice(void **state)
{
	struct twin_volume *a = cube(10, 1.0, TWIN_U8, 0.0), *b = cube(10, 1.0, TWIN_U8, 0.0);

	(void)state;
	/* 4 voxels of 3 in a, 4 in b, 2 shared: 2 * 2 / 8 */
	for (size_t i = 0; i < 4; i++) {
		twin_volume_set(a, i, 0, 0, 3);
		twin_volume_set(b, i + 2, 0, 0, 3);
	}
	assert_true(fabs(twin_heart_dice(a, b, 3) - 0.5) < 1e-12);
	assert_true(fabs(twin_heart_dice(a, a, 3) - 1.0) < 1e-12);
	/* a label in neither counts as agreement */
	assert_true(fabs(twin_heart_dice(a, b, 5) - 1.0) < 1e-12);
	twin_volume_set(b, 9, 9, 9, 5);
	assert_true(fabs(twin_heart_dice(a, b, 5)) < 1e-12);
	twin_volume_free(a);
	twin_volume_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_seed_label),
		cmocka_unit_test(test_no_lungs),
		cmocka_unit_test(test_dice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
