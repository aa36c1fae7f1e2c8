#include "twin_test.h"

#include <math.h>
#include <time.h>

#include "../../ingest/assemble.h"

#define MAXF 16

struct fixture {
	struct twin_frame f[MAXF];
	const struct twin_frame *p[MAXF];
	size_t n;
	struct twin_geometry g;
	struct twin_volume *v;
	struct twin_err err;
	char warnings[2048];
	int nwarn;
	size_t progress_calls, progress_last;
	const char *slow;                /* a file that takes 20 ms to read */
	const struct twin_volume *told;  /* what opt.slices was told last */
	size_t told_done, told_calls, told_off;
	struct twin_assemble_opt opt;
};

/* The value of truth at the origin; a test may raise it past what int16 holds. */
static double base = 100;

/* The true image: a linear function of LPS position, so that linear interpolation is exact. */
static double truth(const double p[3])
{
	return 4 * p[0] + 2 * p[1] + 10 * p[2] + base;
}

static void world(const struct twin_frame *f, double c, double r, double p[3])
{
	for (int i = 0; i < 3; i++)
		p[i] = f->ipp[i] + c * f->spacing[1] * f->iop[i] + r * f->spacing[0] * f->iop[3 + i];
}

/* Stored values (whole numbers) that rescale to truth; files named "bad*" cannot be read. */
static int fake_read(struct twin_err *err, void *ctx, const struct twin_frame *f, int32_t *out)
{
	const struct fixture *fx = ctx;
	struct timespec nap = { 0, 20 * 1000 * 1000 };

	if (fx->slow && strcmp(f->path, fx->slow) == 0)
		nanosleep(&nap, NULL);
	if (strncmp(f->path, "bad", 3) == 0)
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': truncated pixel data", f->path);
	for (unsigned r = 0; r < f->rows; r++)
		for (unsigned c = 0; c < f->cols; c++) {
			double p[3];

			world(f, c, r, p);
			out[r * f->cols + c] = (int32_t)lrint((truth(p) - f->intercept) / f->slope);
		}
	return 0;
}

static void note(void *ctx, const char *msg)
{
	struct fixture *fx = ctx;
	size_t len = strlen(fx->warnings);

	snprintf(fx->warnings + len, sizeof(fx->warnings) - len, "%s\n", msg);
	fx->nwarn++;
}

static void count(void *ctx, size_t done, size_t total)
{
	struct fixture *fx = ctx;

	assert_true(done == fx->progress_last + 1 && done <= total);
	fx->progress_last = done;
	fx->progress_calls++;
}

/* opt.slices: the slices told final are final, in a count that only grows, of one volume. */
static void slices(void *ctx, const struct twin_volume *v, size_t done)
{
	struct fixture *fx = ctx;
	const struct twin_frame *f = &fx->f[0];
	int ct = strcmp(f->modality, "CT") == 0;
	size_t k = done - 1;

	if (!v) {
		fx->told_off++;
		return;
	}
	assert_true(done > fx->told_done && done <= v->dim[2]);
	assert_true(!fx->told || fx->told == v);
	fx->told = v;
	fx->told_done = done;
	fx->told_calls++;
	for (size_t j = 0; j < v->dim[1]; j++)
		for (size_t i = 0; i < v->dim[0]; i++) {
			double ijk[3] = { (double)i, (double)j, (double)k }, p[3], want;

			twin_volume_index_to_world(v, ijk, p);
			/* MR keeps the stored values */
			want = ct ? truth(p) : (double)lrint((truth(p) - f->intercept) / f->slope);
			if (twin_volume_get(v, i, j, k) != want)
				fail_msg("slice %zu told final, voxel %zu,%zu is %g, want %g", k, i, j,
					 twin_volume_get(v, i, j, k), want);
		}
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	twin_err_init(&fx->err);
	base = 100;
	fx->opt.read = fake_read;
	fx->opt.read_ctx = fx;
	fx->opt.warn = note;
	fx->opt.warn_ctx = fx;
	fx->opt.threads = 2;
	fx->opt.progress = count;
	fx->opt.progress_ctx = fx;
	fx->opt.uneven = TWIN_UNEVEN_RESAMPLE;
	fx->opt.slices = slices;
	fx->opt.slices_ctx = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < MAXF; i++)
		free(fx->f[i].path);
	twin_geometry_release(&fx->g);
	twin_volume_free(fx->v);
	free(fx);
	return 0;
}

/* n axial 8x6 slices at heights z, shifted by shear * z along y; path "bad" for the ones listed. */
static void stack(struct fixture *fx, const char *modality, const double *z, size_t n, double shear,
		  double slope, double icpt, unsigned bits, int bad)
{
	for (size_t k = 0; k < n; k++) {
		struct twin_frame *f = &fx->f[k];
		char name[32];

		free(f->path);
		memset(f, 0, sizeof(*f));
		snprintf(name, sizeof(name), "%s%02zu.dcm", (int)k == bad ? "bad" : "im", k);
		f->path = strdup(name);
		snprintf(f->modality, sizeof(f->modality), "%s", modality);
		f->rows = 6;
		f->cols = 8;
		f->bits_stored = bits;
		f->samples_per_pixel = 1;
		f->has_pixels = f->has_position = 1;
		f->iop[0] = f->iop[4] = 1;
		f->spacing[0] = 1.5;
		f->spacing[1] = 0.5;
		f->ipp[0] = -4;
		f->ipp[1] = 7 + shear * z[k];
		f->ipp[2] = z[k];
		f->slope = slope;
		f->intercept = icpt;
		fx->p[k] = f;
	}
	fx->n = n;
}

static void run(struct fixture *fx)
{
	fx->v = twin_assemble(&fx->err, &fx->opt, fx->p, &fx->n, &fx->g);
	assert_ptr_ok(fx->err, fx->v);
}

/* Every voxel of the result against truth at its world position. */
static void check_all(const struct twin_volume *v, double tol)
{
	for (size_t k = 0; k < v->dim[2]; k++)
		for (size_t j = 0; j < v->dim[1]; j++)
			for (size_t i = 0; i < v->dim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, p[3];

				twin_volume_index_to_world(v, ijk, p);
				if (fabs(twin_volume_get(v, i, j, k) - truth(p)) > tol)
					fail_msg("voxel %zu,%zu,%zu is %g, want %g", i, j, k,
						 twin_volume_get(v, i, j, k), truth(p));
			}
}

static void ct_rescale_to_int16(void **state)
{
	struct fixture *fx = *state;
	const double z[5] = { 8, 0, 4, 2, 6 };

	/* the lowest slice ends last: the others are told final only after it */
	fx->slow = "im01.dcm";
	stack(fx, "CT", z, 5, 0, 1, -1024, 12, -1);
	run(fx);
	assert_int_equal(fx->v->dtype, TWIN_I16);
	assert_int_equal(fx->v->dim[0], 8);
	assert_int_equal(fx->v->dim[1], 6);
	assert_int_equal(fx->v->dim[2], 5);
	check_all(fx->v, 0);
	assert_int_equal(fx->nwarn, 0);
	assert_int_equal(fx->progress_calls, 5);
	/* every slice was told final, of the volume returned */
	assert_ptr_equal(fx->told, fx->v);
	assert_int_equal(fx->told_done, 5);
	assert_int_equal(fx->told_off, 0);
}

static void ct_fractional_slope_is_float(void **state)
{
	struct fixture *fx = *state;
	const double z[3] = { 0, 1.25, 2.5 };

	stack(fx, "CT", z, 3, 0, 0.3, -1000.5, 12, -1);
	run(fx);
	assert_int_equal(fx->v->dtype, TWIN_F32);
	/* stored values are whole numbers: truth within half a slope */
	check_all(fx->v, 0.15 + 1e-3);
}

static void wide_range_narrowed_when_values_fit(void **state)
{
	struct fixture *fx = *state;
	const double z[3] = { 0, 1, 2 };

	/* 16 unsigned bits could exceed int16; the values read do not */
	stack(fx, "CT", z, 3, 0, 1, 0, 16, -1);
	run(fx);
	assert_int_equal(fx->v->dtype, TWIN_I16);
	check_all(fx->v, 0);
}

/*
 * Values past int16 in the upper slices only: the stack starts as int16 and
 * is read again as float32, with every value exact, the unreadable slice
 * warned about once and progress counted once per frame.
 */
static void values_past_int16_restart_as_float(void **state)
{
	struct fixture *fx = *state;
	const double z[6] = { 0, 1, 2, 3, 4, 5 };

	base = 32767 - 40;
	stack(fx, "CT", z, 6, 0, 1, -1024, 16, 1);
	run(fx);
	assert_int_equal(fx->v->dtype, TWIN_F32);
	assert_true(twin_volume_get(fx->v, 7, 5, 5) > 32767);
	check_all(fx->v, 0);
	assert_int_equal(fx->n, 5);
	assert_int_equal(fx->nwarn, 1);
	assert_non_null(strstr(fx->warnings, "cannot read 'bad01.dcm'"));
	assert_int_equal(fx->progress_calls, 6);
	/* the int16 stack read first is not the volume returned: the caller heard so */
	assert_int_equal(fx->told_off, 1);
	assert_ptr_not_equal(fx->told, fx->v);
}

/* The same values below int16's floor, one thread: float32 as well. */
static void values_below_int16_restart_as_float(void **state)
{
	struct fixture *fx = *state;
	const double z[4] = { 0, 1, 2, 3 };

	base = -32768 - 10;
	fx->opt.threads = 1;
	stack(fx, "CT", z, 4, 0, 1, -1024, 16, -1);
	run(fx);
	assert_int_equal(fx->v->dtype, TWIN_F32);
	assert_true(twin_volume_get(fx->v, 0, 0, 0) < -32768);
	check_all(fx->v, 0);
	assert_int_equal(fx->progress_calls, 4);
	assert_int_equal(fx->told_off, 1);
}

static void mr_keeps_stored_values(void **state)
{
	struct fixture *fx = *state;
	const double z[3] = { 0, 1, 2 };

	stack(fx, "MR", z, 3, 0, 2, 0, 12, -1);
	run(fx);
	/* the reader stored truth / 2; MR is not rescaled */
	assert_int_equal(fx->v->dtype, TWIN_I16);
	assert_true(fabs(twin_volume_get(fx->v, 0, 0, 0) - lrint(truth(fx->f[0].ipp) / 2)) < 1e-9);
}

static void unreadable_slice_is_left_out_and_filled(void **state)
{
	struct fixture *fx = *state;
	const double z[6] = { 0, 1, 2, 3, 4, 5 };

	stack(fx, "CT", z, 6, 0, 1, 0, 12, 2);
	run(fx);
	assert_int_equal(fx->nwarn, 1);
	assert_non_null(strstr(fx->warnings, "cannot read 'bad02.dcm': truncated pixel data; the slice is left out"));
	assert_int_equal(fx->n, 5);
	assert_true(fx->g.uneven);
	assert_int_equal(fx->v->dim[2], 6);
	check_all(fx->v, 0);
	/* only the slices below the unreadable one were told */
	assert_int_equal(fx->told_off, 1);
	assert_true(fx->told_done <= 2);
}

static void no_readable_slice_is_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[2] = { 0, 1 };

	stack(fx, "CT", z, 2, 0, 1, 0, 12, 0);
	free(fx->f[1].path);
	fx->f[1].path = strdup("bad01.dcm");
	fx->v = twin_assemble(&fx->err, &fx->opt, fx->p, &fx->n, &fx->g);
	assert_null(fx->v);
	assert_err(fx->err, TWIN_EINPUT, "no slice of the series can be read: cannot read 'bad0");
	assert_int_equal(fx->nwarn, 2);
}

static void one_readable_slice_is_an_error(void **state)
{
	struct fixture *fx = *state;
	const double z[2] = { 0, 1 };

	stack(fx, "CT", z, 2, 0, 1, 0, 12, 1);
	fx->v = twin_assemble(&fx->err, &fx->opt, fx->p, &fx->n, &fx->g);
	assert_null(fx->v);
	assert_err(fx->err, TWIN_EINPUT, "after leaving out 1 unreadable slice: 'im00.dcm': a single slice");
}

static void uneven_slices_are_interpolated(void **state)
{
	struct fixture *fx = *state;
	const double z[5] = { 0, 1, 2, 4, 5.5 };

	stack(fx, "CT", z, 5, 0, 0.5, 0, 12, -1);
	run(fx);
	assert_true(fx->g.uneven);
	/* resampled: nothing told */
	assert_int_equal(fx->told_calls + fx->told_off, 0);
	assert_int_equal(fx->v->dim[2], 6);
	assert_true(fabs(fx->v->affine.m[2][2] - 1) < 1e-12);
	check_all(fx->v, 1e-3);

	twin_geometry_release(&fx->g);
	twin_volume_free(fx->v);
	fx->v = NULL;
	fx->opt.uneven = TWIN_UNEVEN_ERROR;
	fx->v = twin_assemble(&fx->err, &fx->opt, fx->p, &fx->n, &fx->g);
	assert_null(fx->v);
	assert_err(fx->err, TWIN_EINPUT, "slices are unevenly spaced");
}

static void tilt_is_resampled_orthogonal(void **state)
{
	struct fixture *fx = *state;
	const double z[6] = { 0, 2, 4, 6, 8, 10 };
	double dir[3][3];
	size_t i, j, k, inside = 0;

	/* 0.15 mm along y per mm up: 8.5 degrees */
	stack(fx, "CT", z, 6, 0.15, 0.5, 0, 12, -1);
	run(fx);
	assert_true(fx->g.tilted);
	assert_int_equal(fx->v->dtype, TWIN_F32);
	twin_volume_direction(fx->v, dir);
	assert_true(fabs(dir[2][2] - 1) < 1e-12 && fabs(dir[2][1]) < 1e-12);
	/* inside the sheared stack the values are within half a slope (stored values are
	 * whole numbers), as interpolation keeps that bound; outside they are the minimum */
	for (k = 0; k < fx->v->dim[2]; k++)
		for (j = 0; j < fx->v->dim[1]; j++)
			for (i = 0; i < fx->v->dim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, p[3];
				double y0 = 7 + 0.15 * (double)k * 2;

				twin_volume_index_to_world(fx->v, ijk, p);
				if (p[1] < y0 || p[1] > y0 + 5 * 1.5)
					continue;
				inside++;
				if (fabs(twin_volume_get(fx->v, i, j, k) - truth(p)) > 0.25 + 1e-3)
					fail_msg("voxel %zu,%zu,%zu is %g, want %g", i, j, k,
						 twin_volume_get(fx->v, i, j, k), truth(p));
			}
	assert_true(inside > fx->v->dim[0] * fx->v->dim[1] * fx->v->dim[2] / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ct_rescale_to_int16, setup, teardown),
		cmocka_unit_test_setup_teardown(ct_fractional_slope_is_float, setup, teardown),
		cmocka_unit_test_setup_teardown(wide_range_narrowed_when_values_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(values_past_int16_restart_as_float, setup, teardown),
		cmocka_unit_test_setup_teardown(values_below_int16_restart_as_float, setup, teardown),
		cmocka_unit_test_setup_teardown(mr_keeps_stored_values, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_slice_is_left_out_and_filled, setup, teardown),
		cmocka_unit_test_setup_teardown(no_readable_slice_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(one_readable_slice_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(uneven_slices_are_interpolated, setup, teardown),
		cmocka_unit_test_setup_teardown(tilt_is_resampled_orthogonal, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest_assemble", tests, NULL, NULL);
}
