#include "twin_test.h"

#include <math.h>

#include "../../ingest/frame.h"
#include "../../ingest/geometry.h"

#define MAXF 32

struct fixture {
	struct twin_frame f[MAXF];
	const struct twin_frame *p[MAXF];
	size_t n;
	struct twin_geometry g;
	struct twin_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	twin_err_init(&fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < MAXF; i++)
		free(fx->f[i].path);
	twin_geometry_release(&fx->g);
	free(fx);
	return 0;
}

/* Slice k of a stack at origin + z[k] * step, one file each, named "sl<k>.dcm". */
static void stack(struct fixture *fx, const double iop[6], const double sp[2], const double origin[3],
		  const double step[3], const double *z, size_t n)
{
	char name[32];
	size_t k;

	assert_true(n <= MAXF);
	for (k = 0; k < n; k++) {
		struct twin_frame *f = &fx->f[k];

		free(f->path);
		memset(f, 0, sizeof(*f));
		snprintf(name, sizeof(name), "sl%02zu.dcm", k);
		f->path = strdup(name);
		f->n_frames = 1;
		f->rows = 48;
		f->cols = 64;
		f->samples_per_pixel = 1;
		f->has_pixels = 1;
		f->has_position = 1;
		memcpy(f->iop, iop, sizeof(f->iop));
		memcpy(f->spacing, sp, sizeof(f->spacing));
		for (int i = 0; i < 3; i++)
			f->ipp[i] = origin[i] + z[k] * step[i];
		f->instance_number = (int)k + 1;
		f->trigger_time = NAN;
		f->phase_percent = NAN;
		f->temporal_position = -1;
		fx->p[k] = f;
	}
	fx->n = n;
}

static const double axial[6] = { 1, 0, 0, 0, 1, 0 };
static const double zero3[3] = { 0, 0, 0 };
static const double up[3] = { 0, 0, 1 };

static void assert_affine(const struct twin_affine *a, const double want[3][4])
{
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			if (fabs(a->m[r][c] - want[r][c]) > 1e-9)
				fail_msg("affine[%d][%d] = %.9f, want %.9f", r, c, a->m[r][c], want[r][c]);
	assert_true(a->m[3][0] == 0 && a->m[3][1] == 0 && a->m[3][2] == 0 && a->m[3][3] == 1);
}

static void sorts_shuffled_slices_by_position(void **state)
{
	struct fixture *fx = *state;
	/* InstanceNumber and file names disagree with the positions on purpose */
	const double z[8] = { 7.5, 0, 12.5, 2.5, 17.5, 5, 10, 15 };
	const double sp[2] = { 0.7, 0.5 };
	const double want[3][4] = { { 0.5, 0, 0, 0 }, { 0, 0.7, 0, 0 }, { 0, 0, 2.5, 0 } };
	size_t k;

	stack(fx, axial, sp, zero3, up, z, 8);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE));
	for (k = 0; k < 8; k++)
		assert_true(fabs(fx->p[k]->ipp[2] - 2.5 * (double)k) < 1e-12);
	assert_string_equal(fx->p[0]->path, "sl01.dcm");
	assert_string_equal(fx->p[7]->path, "sl04.dcm");
	assert_int_equal(fx->g.dim[0], 64);
	assert_int_equal(fx->g.dim[1], 48);
	assert_int_equal(fx->g.dim[2], 8);
	assert_false(fx->g.tilted);
	assert_false(fx->g.uneven);
	assert_affine(&fx->g.affine, want);
	assert_affine(&fx->g.even, want);
}

static void oblique_affine_by_hand(void **state)
{
	struct fixture *fx = *state;
	/* row (0.8, 0.6, 0), column (0, 0, -1): normal = row x column = (-0.6, 0.8, 0) */
	const double iop[6] = { 0.8, 0.6, 0, 0, 0, -1 };
	const double sp[2] = { 2.0, 1.0 };
	const double origin[3] = { 10, 20, 30 };
	const double step[3] = { -0.6, 0.8, 0 };
	/* given in descending order: the first slice written must be the lowest along the normal */
	const double z[5] = { 12, 9, 6, 3, 0 };
	const double want[3][4] = {
		{ 0.8, 0, -1.8, 10 },
		{ 0.6, 0, 2.4, 20 },
		{ 0, -2.0, 0, 30 },
	};
	double p[3];

	stack(fx, iop, sp, origin, step, z, 5);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE));
	assert_string_equal(fx->p[0]->path, "sl04.dcm");
	assert_true(fabs(fx->g.normal[0] + 0.6) < 1e-12 && fabs(fx->g.normal[1] - 0.8) < 1e-12);
	assert_affine(&fx->g.affine, want);
	/* voxel (2, 3, 4) by hand: origin + 2 * 1.0 * row + 3 * 2.0 * column + 4 * 3 * normal */
	for (int r = 0; r < 3; r++)
		p[r] = fx->g.affine.m[r][0] * 2 + fx->g.affine.m[r][1] * 3 + fx->g.affine.m[r][2] * 4 +
		       fx->g.affine.m[r][3];
	assert_true(fabs(p[0] - 4.4) < 1e-9);
	assert_true(fabs(p[1] - 30.8) < 1e-9);
	assert_true(fabs(p[2] - 24.0) < 1e-9);
	assert_true(fabs(fx->g.step - 3.0) < 1e-12);
}

static void detects_gantry_tilt(void **state)
{
	struct fixture *fx = *state;
	/* each slice 2 mm up and 0.3 mm along y: tilt atan(0.15) = 8.53 degrees */
	const double step[3] = { 0, 0.15, 1 };
	const double z[6] = { 0, 2, 4, 6, 8, 10 };
	const double sp[2] = { 1, 1 };
	const double want_even[3][4] = { { 1, 0, 0, 0 }, { 0, 1, 0.3, 0 }, { 0, 0, 2, 0 } };
	const double want[3][4] = { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 2, 0 } };

	stack(fx, axial, sp, zero3, step, z, 6);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE));
	assert_true(fx->g.tilted);
	assert_false(fx->g.uneven);
	assert_true(fabs(fx->g.tilt_deg - atan(0.15) * 180 / M_PI) < 1e-9);
	assert_affine(&fx->g.even, want_even);
	assert_affine(&fx->g.affine, want);
}

static void rounding_noise_is_not_tilt_or_uneven(void **state)
{
	struct fixture *fx = *state;
	const double z[6] = { 0, 1.0004, 1.9996, 3.0003, 4, 5.0001 };
	const double sp[2] = { 1, 1 };
	const double step[3] = { 0.0001, 0, 1 };

	stack(fx, axial, sp, zero3, step, z, 6);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_ERROR));
	assert_false(fx->g.tilted);
	assert_false(fx->g.uneven);
	assert_int_equal(fx->g.dim[2], 6);
}

static void missing_slice_resamples_or_refuses(void **state)
{
	struct fixture *fx = *state;
	const double z[6] = { 0, 1, 2, 3, 5, 6 };
	const double sp[2] = { 1, 1 };

	stack(fx, axial, sp, zero3, up, z, 6);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE));
	assert_true(fx->g.uneven);
	assert_false(fx->g.tilted);
	assert_true(fabs(fx->g.min_step - 1) < 1e-12 && fabs(fx->g.max_step - 2) < 1e-12);
	assert_true(fabs(fx->g.step - 1) < 1e-12);
	assert_int_equal(fx->g.dim[2], 7);
	twin_geometry_release(&fx->g);

	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_ERROR), -1);
	assert_err(fx->err, TWIN_EINPUT, "slices are unevenly spaced: 'sl03.dcm' to 'sl04.dcm' is 2.000 mm");
}

static void uneven_resamples_to_smallest_step(void **state)
{
	struct fixture *fx = *state;
	const double z[5] = { 0, 2, 4, 5, 7 };
	const double sp[2] = { 1, 1 };

	stack(fx, axial, sp, zero3, up, z, 5);
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE));
	assert_true(fx->g.uneven);
	assert_true(fabs(fx->g.step - 1) < 1e-12);
	assert_int_equal(fx->g.dim[2], 8);
	assert_true(fabs(fx->g.affine.m[2][2] - 1) < 1e-12);
}

static void duplicate_positions_are_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[4] = { 0, 1, 1, 2 };
	const double sp[2] = { 1, 1 };

	stack(fx, axial, sp, zero3, up, z, 4);
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "'sl01.dcm' and 'sl02.dcm' are at the same position");
}

static void single_slice_is_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[1] = { 0 };
	const double sp[2] = { 1, 1 };

	stack(fx, axial, sp, zero3, up, z, 1);
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "'sl00.dcm': a single slice");
}

static void bad_sizes_and_spacings_are_errors(void **state)
{
	struct fixture *fx = *state;
	const double z[3] = { 0, 1, 2 };
	const double sp[2] = { 1, 1 };
	const double zero[2] = { 0, 1 };

	stack(fx, axial, sp, zero3, up, z, 3);
	fx->f[2].rows = 32;
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "image size differs within the series: 'sl00.dcm' is 64x48, 'sl02.dcm' is 64x32");

	twin_err_init(&fx->err);
	stack(fx, axial, zero, zero3, up, z, 3);
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "'sl00.dcm': pixel spacing 0 x 1 mm is not positive");

	twin_err_init(&fx->err);
	stack(fx, axial, sp, zero3, up, z, 3);
	fx->f[1].spacing[1] = -1;
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "'sl01.dcm': pixel spacing 1 x -1 mm is not positive");

	twin_err_init(&fx->err);
	stack(fx, axial, sp, zero3, up, z, 3);
	fx->f[1].spacing[0] = 1.2;
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "pixel spacing differs within the series");
}

static void slices_off_one_line_are_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[4] = { 0, 1, 2, 3 };
	const double sp[2] = { 1, 1 };

	stack(fx, axial, sp, zero3, up, z, 4);
	fx->f[2].ipp[0] += 0.5;
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "'sl02.dcm': slice position is 0.50 mm off the line");
}

static void bad_orientation_is_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[3] = { 0, 1, 2 };
	const double sp[2] = { 1, 1 };
	const double iop[6] = { 1, 0, 0, 1, 0, 0 };

	stack(fx, iop, sp, zero3, up, z, 3);
	assert_int_equal(twin_geometry_build(&fx->err, &fx->g, fx->p, fx->n, TWIN_UNEVEN_RESAMPLE), -1);
	assert_err(fx->err, TWIN_EINPUT, "is not two unit, orthogonal directions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sorts_shuffled_slices_by_position, setup, teardown),
		cmocka_unit_test_setup_teardown(oblique_affine_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(detects_gantry_tilt, setup, teardown),
		cmocka_unit_test_setup_teardown(rounding_noise_is_not_tilt_or_uneven, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_slice_resamples_or_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(uneven_resamples_to_smallest_step, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_positions_are_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(single_slice_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sizes_and_spacings_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(slices_off_one_line_are_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_orientation_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest_geometry", tests, NULL, NULL);
}
