#include "twin_test.h"

#include <math.h>

#include "../../mesh/vessels.h"
#include "volume.h"

#define N 48          /* voxels per side */
#define SPACING 1.5   /* mm */

/*
 * A ball of radius 11 voxels (the LA, label 2) at (16, 24, 24), with a tube
 * of radius 3.5 voxels (a pulmonary vein) along dir from its centre that ends
 * length voxels from it, rounded, inside the image; an LV (label 3) below the
 * ball, touching it at the mitral valve.
 */
static struct twin_volume *atrium(const double dir[3], double length)
{
	struct twin_volume *v;
	const double c[3] = { 16, 24, 24 };

	v = twin_test_label_map(N, SPACING, 0);
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			for (size_t i = 0; i < N; i++) {
				double p[3] = { (double)i - c[0], (double)j - c[1], (double)k - c[2] }, t, r2 = 0;

				t = p[0] * dir[0] + p[1] * dir[1] + p[2] * dir[2];
				t = t < 0 ? 0 : t > length ? length : t;
				for (int e = 0; e < 3; e++)
					r2 += (p[e] - t * dir[e]) * (p[e] - t * dir[e]);
				if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] <= 11 * 11 || r2 <= 3.5 * 3.5)
					twin_volume_set(v, i, j, k, 2);
				else if (p[0] * p[0] + p[1] * p[1] + (p[2] + 14) * (p[2] + 14) <= 6 * 6)
					twin_volume_set(v, i, j, k, 3);
			}
	return v;
}

/* The angle (degrees) between the cut's normal and dir, in world space (isotropic here). */
static double angle(const struct twin_vessel_cut *c, const double dir[3])
{
	double d = c->normal[0] * dir[0] + c->normal[1] * dir[1] + c->normal[2] * dir[2];

	return acos(fmin(1, d)) * 180 / M_PI;
}

static size_t count(const struct twin_volume *v, unsigned value)
{
	const uint8_t *c = v->data;
	size_t n = 0;

	for (size_t i = 0; i < twin_volume_count(v); i++)
		n += c[i] == value;
	return n;
}

/* A vein that ends inside the image is cut across its axis, before its rounded end. */
static void vein_ends_inside(void **state)
{
	const double dir[3] = { 0.6, 0.64, 0.48 }; /* unit, oblique to every axis */
	struct twin_volume *v = atrium(dir, 24);
	struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS];
	struct twin_err err;
	size_t n = 99;
	double s, from = 0;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_vessels_cut(&err, v, 1u << 2 | 1u << 3, 0, cuts, &n, "pv.nii.gz"));
	assert_int_equal(n, 1);
	assert_int_equal(cuts[0].label, 2);
	if (angle(&cuts[0], dir) > 3)
		fail_msg("the cut is %.1f degrees off the vein's axis", angle(&cuts[0], dir));
	/* beyond the ball (radius 11), about a radius before the end (24 + 3.5) */
	for (int a = 0; a < 3; a++)
		from += (cuts[0].point[a] - (a == 0 ? 16 : 24)) * dir[a];
	if (!(from > 13 && from < 24))
		fail_msg("the cut lies %.1f voxels along the vein", from);
	/* the point lies on the axis */
	s = 0;
	for (int a = 0; a < 3; a++) {
		double q = cuts[0].point[a] - (a == 0 ? 16 : 24) - from * dir[a];

		s += q * q;
	}
	assert_true(sqrt(s) < 1);
	assert_true(count(v, TWIN_VESSELS_CUT0) > 30);
	assert_int_equal(count(v, TWIN_VESSELS_CUT0 + 1), 0);
	twin_volume_free(v);
}

/* A vein that leaves the image is cut inside it, so that no blood touches the image's border. */
static void vein_leaves_image(void **state)
{
	const double dir[3] = { 0.8, 0, 0.6 };
	struct twin_volume *v = atrium(dir, 100);
	struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS];
	struct twin_err err;
	const uint8_t *c;
	size_t n = 0;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_vessels_cut(&err, v, 1u << 2 | 1u << 3, 0, cuts, &n, "pv.nii.gz"));
	assert_int_equal(n, 1);
	if (angle(&cuts[0], dir) > 3)
		fail_msg("the cut is %.1f degrees off the vein's axis", angle(&cuts[0], dir));
	c = v->data;
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			for (size_t i = 0; i < N; i++)
				if (i == 0 || j == 0 || k == 0 || i == N - 1 || j == N - 1 || k == N - 1)
					assert_true(c[i + N * (j + N * k)] != 2);
	twin_volume_free(v);
}

/* A vessel end shorter than about two radii, and the neck of the mitral valve, are no vessels. */
static void short_vessel_end(void **state)
{
	const double dir[3] = { 0, 1, 0 };
	struct twin_volume *v = atrium(dir, 13);
	struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS];
	struct twin_err err;
	size_t n = 99;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_vessels_cut(&err, v, 1u << 2 | 1u << 3, 0, cuts, &n, "pv.nii.gz"));
	assert_int_equal(n, 0);
	twin_volume_free(v);
}

/* An unmeshed label is left alone. */
static void not_meshed(void **state)
{
	const double dir[3] = { 0.6, 0.64, 0.48 };
	struct twin_volume *v = atrium(dir, 24);
	struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS];
	struct twin_err err;
	size_t n = 99;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_vessels_cut(&err, v, 1u << 3, 0, cuts, &n, "pv.nii.gz"));
	assert_int_equal(n, 0);
	assert_int_equal(count(v, TWIN_VESSELS_CUT0), 0);
	twin_volume_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vein_ends_inside),
		cmocka_unit_test(vein_leaves_image),
		cmocka_unit_test(short_vessel_end),
		cmocka_unit_test(not_meshed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
