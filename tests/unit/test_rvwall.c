#include "twin_test.h"

#include <math.h>

#include "../../mesh/rvwall.h"
#include "volume.h"

/*
 * A synthetic heart on a grid of 40 mm a side with spacing sp (mm): the RV
 * blood, a sphere of radius R about C; the LV wall, a slab x >= 26 mm
 * that cuts the sphere (the septum); the RA, a box below it (-y) and the
 * PA, a box above it (+z), both cutting into the sphere (the valves).
 */
#define R 8.0
static const double C[3] = { 20, 20, 20 };
static const double RA_LO[3] = { 15, 4, 15 }, RA_HI[3] = { 25, 13.5, 25 };
static const double PA_LO[3] = { 17, 17, 26.5 }, PA_HI[3] = { 23, 23, 36 };
static const double LV_LO[3] = { 26, 6, 6 }, LV_HI[3] = { 34, 34, 34 };

static struct twin_volume *new_map(const double sp[3], double extent)
{
	struct twin_err err;
	struct twin_affine a;
	size_t dim[3];
	struct twin_volume *v;

	twin_err_init(&err);
	twin_affine_identity(&a);
	for (int i = 0; i < 3; i++) {
		a.m[i][i] = sp[i];
		dim[i] = (size_t)lround(extent / sp[i]);
	}
	v = twin_volume_new(&err, TWIN_U8, dim, &a);
	assert_ptr_ok(err, v);
	return v;
}

static void world(const struct twin_volume *v, size_t i, double p[3])
{
	size_t x = i % v->dim[0], y = i / v->dim[0] % v->dim[1], z = i / (v->dim[0] * v->dim[1]);

	for (int r = 0; r < 3; r++)
		p[r] = v->affine.m[r][0] * (double)x + v->affine.m[r][1] * (double)y +
		       v->affine.m[r][2] * (double)z + v->affine.m[r][3];
}

static int in_box(const double p[3], const double lo[3], const double hi[3])
{
	return p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] &&
	       p[2] <= hi[2];
}

/* Euclidean distance from p to the box [lo, hi] (0 inside). */
static double box_distance(const double p[3], const double lo[3], const double hi[3])
{
	double s = 0;

	for (int i = 0; i < 3; i++) {
		double d = p[i] < lo[i] ? lo[i] - p[i] : p[i] > hi[i] ? p[i] - hi[i] : 0;

		s += d * d;
	}
	return sqrt(s);
}

static double radius(const double p[3])
{
	return sqrt((p[0] - C[0]) * (p[0] - C[0]) + (p[1] - C[1]) * (p[1] - C[1]) + (p[2] - C[2]) * (p[2] - C[2]));
}

static struct twin_volume *heart(const double sp[3])
{
	struct twin_volume *v = new_map(sp, 40);
	uint8_t *c = v->data;
	size_t n = twin_volume_count(v);

	for (size_t i = 0; i < n; i++) {
		double p[3];

		world(v, i, p);
		if (radius(p) <= R)
			c[i] = 5;
		if (in_box(p, RA_LO, RA_HI))
			c[i] = 4;
		if (in_box(p, PA_LO, PA_HI))
			c[i] = 7;
		if (in_box(p, LV_LO, LV_HI))
			c[i] = 1;
	}
	return v;
}

/* The voxel of out at the world position of voxel i of in (same spacing, maybe padded). */
static uint8_t same_place(const struct twin_volume *out, const struct twin_volume *in, size_t i)
{
	double p[3];
	long q[3];

	world(in, i, p);
	for (int a = 0; a < 3; a++) {
		q[a] = lround((p[a] - out->affine.m[a][3]) / out->affine.m[a][a]);
		if (q[a] < 0 || q[a] >= (long)out->dim[a])
			fail_msg("voxel %zu of the input is outside the output", i);
	}
	return ((const uint8_t *)out->data)[q[0] + out->dim[0] * (q[1] + out->dim[1] * q[2])];
}

/* Whether the 8 voxels of v form one 6-connected piece that shares a face with label 1. */
static void assert_one_piece_joined(const struct twin_volume *v)
{
	const uint8_t *c = v->data;
	size_t n = twin_volume_count(v), nx = v->dim[0], ny = v->dim[1], total = 0, seen = 0, top = 0;
	size_t *stack = malloc(n * sizeof(*stack));
	uint8_t *mark = calloc(n, 1);
	int joined = 0;

	assert_non_null(stack);
	assert_non_null(mark);
	for (size_t i = 0; i < n; i++)
		if (c[i] == 8) {
			if (!total)
				stack[top++] = i, mark[i] = 1;
			total++;
		}
	while (top) {
		size_t p = stack[--top], x = p % nx, y = p / nx % ny, z = p / (nx * ny), nb[6];
		int m = 0;

		seen++;
		if (x > 0) nb[m++] = p - 1;
		if (x + 1 < nx) nb[m++] = p + 1;
		if (y > 0) nb[m++] = p - nx;
		if (y + 1 < ny) nb[m++] = p + nx;
		if (z > 0) nb[m++] = p - nx * ny;
		if (z + 1 < v->dim[2]) nb[m++] = p + nx * ny;
		for (int k = 0; k < m; k++) {
			joined |= c[nb[k]] == 1;
			if (c[nb[k]] == 8 && !mark[nb[k]]) {
				mark[nb[k]] = 1;
				stack[top++] = nb[k];
			}
		}
	}
	free(stack);
	free(mark);
	assert_true(total > 0);
	if (seen != total)
		fail_msg("the RV wall is in pieces: %zu of %zu voxels connected", seen, total);
	assert_true(joined);
}

/*
 * The wall of the synthetic heart, thickness t: measured against the
 * sphere in world mm, so the grid's spacing does not enter the truth.
 */
static void check_heart(const double sp[3], double t)
{
	struct twin_volume *in = heart(sp), *out;
	struct twin_rvwall_info info;
	struct twin_err err;
	const uint8_t *a = in->data;
	double h = fmax(sp[0], fmax(sp[1], sp[2])), thickest = 0, thinnest_gap = INFINITY;
	double reach = t + 0.5 * fmin(sp[0], fmin(sp[1], sp[2])); /* rvwall.h: from the RV's surface */
	size_t n = twin_volume_count(in), grown = 0, free_wall = 0, over_valve = 0, on_far_valve = 0;
	size_t in_septal_gap = 0;

	twin_err_init(&err);
	out = twin_rvwall_grow(&err, in, t, "heart.nii.gz", &info);
	assert_ptr_ok(err, out);
	assert_int_equal(out->dtype, TWIN_U8);
	/* the RV lies 4 mm inside the grid: more than t from every edge */
	for (int k = 0; k < 3; k++)
		assert_true(info.pad[k][0] == 0 && info.pad[k][1] == 0);
	assert_true(out->dim[0] == in->dim[0] && out->dim[1] == in->dim[1] && out->dim[2] == in->dim[2]);
	for (size_t i = 0; i < n; i++) {
		const uint8_t b = ((const uint8_t *)out->data)[i];
		double p[3], r, u[3], d_valve;

		/* no label but the background changes */
		if (a[i] != 0) {
			if (b != a[i])
				fail_msg("voxel %zu: label %u became %u", i, a[i], b);
			continue;
		}
		assert_true(b == 0 || b == 8);
		world(in, i, p);
		r = radius(p);
		for (int k = 0; k < 3; k++)
			u[k] = (p[k] - C[k]) / r;
		d_valve = fmin(box_distance(p, RA_LO, RA_HI), box_distance(p, PA_LO, PA_HI));
		if (b == 8) {
			grown++;
			/* never farther than t from the RV: r - R is at most the distance to it */
			thickest = fmax(thickest, r - R);
			/* never on the atrium's or the artery's side of the valves */
			over_valve += r - R > d_valve + h;
		}
		/* the free wall, away from the septum, the RA and the PA */
		if (u[0] < 0.3 && u[1] > -0.3 && u[2] < 0.3) {
			free_wall += b == 8;
			if (b == 0 && r - R < thinnest_gap)
				thinnest_gap = r - R;
		}
	}
	/* no wall on the RA or PA away from the valve rings; none between the RV and the septum */
	for (size_t i = 0; i < n; i++) {
		size_t x = i % in->dim[0], y = i / in->dim[0] % in->dim[1], z = i / (in->dim[0] * in->dim[1]);
		const uint8_t *b = out->data;
		double p[3];

		if (b[i] == 8) {
			size_t nb[6];
			int m = 0, rv = 0, lv = 0;

			if (x > 0) nb[m++] = i - 1;
			if (x + 1 < in->dim[0]) nb[m++] = i + 1;
			if (y > 0) nb[m++] = i - in->dim[0];
			if (y + 1 < in->dim[1]) nb[m++] = i + in->dim[0];
			if (z > 0) nb[m++] = i - in->dim[0] * in->dim[1];
			if (z + 1 < in->dim[2]) nb[m++] = i + in->dim[0] * in->dim[1];
			for (int q = 0; q < m; q++) {
				rv |= a[nb[q]] == 5;
				lv |= a[nb[q]] == 1;
			}
			in_septal_gap += rv && lv;
		}
		if (a[i] != 4 && a[i] != 7)
			continue;
		world(in, i, p);
		if (radius(p) - R < reach + h)
			continue;
		on_far_valve += (x > 0 && b[i - 1] == 8) || (x + 1 < in->dim[0] && b[i + 1] == 8) ||
				(y > 0 && b[i - in->dim[0]] == 8) || (y + 1 < in->dim[1] && b[i + in->dim[0]] == 8) ||
				(z > 0 && b[i - in->dim[0] * in->dim[1]] == 8) ||
				(z + 1 < in->dim[2] && b[i + in->dim[0] * in->dim[1]] == 8);
	}
	printf("# spacing %g x %g x %g, t %g: %zu voxels grown (%zu in the free wall), wall %.2f mm thick "
	       "at most, free-wall background from %.2f mm out; %zu voxels in %zu crumbs dropped\n",
	       sp[0], sp[1], sp[2], t, grown, free_wall, thickest, thinnest_gap, info.dropped, info.pieces - 1);
	assert_int_equal(info.voxels, grown);
	/* crumbs in the corners between the RV and the valve boxes, no more */
	assert_true(info.dropped * 50 < info.voxels);
	assert_int_equal(info.joins_lv_wall, 1);
	assert_true(free_wall > 100);
	/* [t - voxel, t + voxel]: no grown voxel beyond t + half a voxel, no gap within t - voxel */
	assert_true(thickest <= reach + 1e-9);
	assert_true(thickest > t - h);
	assert_true(thinnest_gap > t - h);
	assert_int_equal(over_valve, 0);
	assert_int_equal(on_far_valve, 0);
	assert_int_equal(in_septal_gap, 0);
	assert_one_piece_joined(out);
	twin_volume_free(out);
	twin_volume_free(in);
}

static void wall_isotropic(void **state)
{
	const double sp[3] = { 1, 1, 1 };

	(void)state;
	check_heart(sp, 3);
}

static void wall_anisotropic(void **state)
{
	const double sp[3] = { 0.8, 1.0, 1.6 };

	(void)state;
	check_heart(sp, 3);
	check_heart(sp, 4.5);
}

/*
 * One RV voxel: the grown set is exactly the voxels within t plus half the
 * finest spacing of it in world mm, which checks the distance transform
 * against brute force.
 */
static void distance_is_exact(void **state)
{
	const double sp[3] = { 0.7, 1.1, 1.9 }, t = 5;
	struct twin_volume *in = new_map(sp, 24), *out;
	struct twin_rvwall_info info;
	struct twin_err err;
	size_t n = twin_volume_count(in), centre, want = 0, got = 0;
	double pc[3];

	(void)state;
	twin_err_init(&err);
	centre = in->dim[0] / 2 + in->dim[0] * (in->dim[1] / 2 + in->dim[1] * (in->dim[2] / 2));
	((uint8_t *)in->data)[centre] = 5;
	world(in, centre, pc);
	out = twin_rvwall_grow(&err, in, t, "dot.nii.gz", &info);
	assert_ptr_ok(err, out);
	for (size_t i = 0; i < n; i++) {
		double p[3], d;
		int inside;

		world(in, i, p);
		d = sqrt((p[0] - pc[0]) * (p[0] - pc[0]) + (p[1] - pc[1]) * (p[1] - pc[1]) +
			 (p[2] - pc[2]) * (p[2] - pc[2]));
		inside = i != centre && d <= t + 0.35 + 1e-9;
		want += inside;
		got += ((uint8_t *)out->data)[i] == 8;
		if (inside != (((uint8_t *)out->data)[i] == 8))
			fail_msg("voxel at %.2f mm: %s", d, inside ? "not grown" : "grown");
	}
	assert_int_equal(got, want);
	assert_int_equal(info.voxels, want);
	/* no LV wall here: one piece, not joined */
	assert_int_equal(info.joins_lv_wall, 0);
	twin_volume_free(out);
	twin_volume_free(in);
}

/* An RV near the image's edge: the map grows by copies of its edge so the wall stays whole. */
static void padded_at_the_edge(void **state)
{
	const double sp[3] = { 1, 1, 2 };
	struct twin_volume *in = new_map(sp, 20), *out;
	struct twin_rvwall_info info;
	struct twin_err err;
	uint8_t *c = in->data;
	size_t n = twin_volume_count(in), grown = 0, beyond = 0;

	(void)state;
	twin_err_init(&err);
	/* an RV box 1 mm from x = 0 and 2 mm (one slice) from the last z; an aorta that leaves at x = 0 */
	for (size_t i = 0; i < n; i++) {
		double p[3];

		world(in, i, p);
		if (p[0] >= 1 && p[0] <= 8 && p[1] >= 6 && p[1] <= 14 && p[2] >= 6 && p[2] <= 16)
			c[i] = 5;
		if (p[0] <= 0 && p[1] >= 16 && p[1] <= 18 && p[2] >= 0 && p[2] <= 4)
			c[i] = 6;
	}
	out = twin_rvwall_grow(&err, in, 3, "edge.nii.gz", &info);
	assert_ptr_ok(err, out);
	/* 3 mm + half of 1 mm: x: 4 voxels, 1 free: 3 before; z: 2 voxels of 2 mm, 1 free: 1 after */
	assert_int_equal(info.pad[0][0], 3);
	assert_int_equal(info.pad[0][1], 0);
	assert_int_equal(info.pad[1][0], 0);
	assert_int_equal(info.pad[1][1], 0);
	assert_int_equal(info.pad[2][0], 0);
	assert_int_equal(info.pad[2][1], 1);
	assert_int_equal(out->dim[0], in->dim[0] + 3);
	assert_int_equal(out->dim[2], in->dim[2] + 1);
	/* every input voxel keeps its place in the world, and its label unless it grew */
	for (size_t i = 0; i < n; i++) {
		uint8_t b = same_place(out, in, i);

		assert_true(b == c[i] || (c[i] == 0 && b == 8));
	}
	for (size_t i = 0; i < twin_volume_count(out); i++) {
		double p[3];
		uint8_t b = ((uint8_t *)out->data)[i];

		world(out, i, p);
		grown += b == 8;
		beyond += b == 8 && p[0] < 0;
		/* the aorta still reaches the new edge x = -3 */
		if (p[0] < 0 && p[1] >= 16 && p[1] <= 18 && p[2] >= 0 && p[2] <= 4)
			assert_int_equal(b, 6);
	}
	assert_true(beyond > 0);
	assert_int_equal(grown, info.voxels);
	twin_volume_free(out);
	twin_volume_free(in);
}

struct warnings {
	char text[4][1024];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (w->n < 4)
		snprintf(w->text[w->n++], sizeof(w->text[0]), "%s", msg);
}

/* Wall grown behind a thin aorta is a piece of its own and is dropped; no RV grows nothing. */
static void pieces_and_no_rv(void **state)
{
	const double sp[3] = { 1, 1, 1 };
	struct twin_volume *in = new_map(sp, 30), *out;
	struct twin_rvwall_info info;
	struct twin_err err;
	uint8_t *c = in->data;
	size_t n = twin_volume_count(in), behind = 0;
	struct warnings w;

	(void)state;
	twin_err_init(&err);
	for (size_t i = 0; i < n; i++) {
		double p[3];

		world(in, i, p);
		if (p[0] >= 8 && p[0] <= 20 && p[1] >= 8 && p[1] <= 20 && p[2] >= 8 && p[2] <= 20)
			c[i] = 5;
		/* a one-voxel aortic plate 2 mm beyond the RV's x = 20 face, wider than the RV */
		if (p[0] == 22 && p[1] >= 2 && p[1] <= 26 && p[2] >= 2 && p[2] <= 26)
			c[i] = 6;
		/* the LV wall at the RV's y = 8 face */
		if (p[1] >= 4 && p[1] <= 7 && p[0] >= 8 && p[0] <= 20 && p[2] >= 8 && p[2] <= 20)
			c[i] = 1;
	}
	out = twin_rvwall_grow(&err, in, 3, "plate.nii.gz", &info);
	assert_ptr_ok(err, out);
	for (size_t i = 0; i < n; i++) {
		double p[3];

		world(out, i, p);
		behind += p[0] > 22 && ((uint8_t *)out->data)[i] == 8;
	}
	assert_int_equal(behind, 0);
	assert_true(info.pieces >= 2);
	assert_true(info.dropped > 0);
	assert_int_equal(info.joins_lv_wall, 1);
	assert_one_piece_joined(out);
	twin_volume_free(out);

	/* twin-mesh's wrapper says what it dropped */
	memset(&w, 0, sizeof(w));
	out = twin_rvwall_add(&err, in, 3, "plate.nii.gz", collect, &w);
	assert_ptr_ok(err, out);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.text[0], "label map 'plate.nii.gz': the RV wall grew in "));
	assert_non_null(strstr(w.text[0], "kept the largest one joined to the LV wall"));
	twin_volume_free(out);
	twin_volume_free(in);

	/* no RV at all: an unchanged copy, and a warning */
	in = new_map(sp, 10);
	((uint8_t *)in->data)[5] = 3;
	out = twin_rvwall_grow(&err, in, 3, "lv.nii.gz", &info);
	assert_ptr_ok(err, out);
	assert_int_equal(info.voxels, 0);
	assert_memory_equal(out->data, in->data, twin_volume_count(in));
	twin_volume_free(out);
	memset(&w, 0, sizeof(w));
	out = twin_rvwall_add(&err, in, 3, "lv.nii.gz", collect, &w);
	assert_ptr_ok(err, out);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.text[0], "label map 'lv.nii.gz': mesh.rv_wall 3 mm: no RV wall grown, for there is "
			    "no 'heart_ventricle_right' or no background around it");
	twin_volume_free(out);
	twin_volume_free(in);
}

/* A voxel that holds no label id is refused, naming the file. */
static void not_a_label(void **state)
{
	const double sp[3] = { 1, 1, 1 };
	struct twin_volume *in = new_map(sp, 4), *f;
	struct twin_err err;
	size_t n = twin_volume_count(in);

	(void)state;
	twin_err_init(&err);
	f = twin_volume_new(&err, TWIN_F32, in->dim, &in->affine);
	assert_ptr_ok(err, f);
	for (size_t i = 0; i < n; i++)
		((float *)f->data)[i] = i == 7 ? 2.5f : i == 9 ? 5.0f : 0.0f;
	assert_null(twin_rvwall_grow(&err, f, 2, "f.nii.gz", NULL));
	assert_err(err, TWIN_EINPUT, "label map 'f.nii.gz': voxel 7 holds 2.5, which is not a label id");
	twin_volume_free(f);
	twin_volume_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wall_isotropic),
		cmocka_unit_test(wall_anisotropic),
		cmocka_unit_test(distance_is_exact),
		cmocka_unit_test(padded_at_the_edge),
		cmocka_unit_test(pieces_and_no_rv),
		cmocka_unit_test(not_a_label),
	};

	return cmocka_run_group_tests_name("rvwall", tests, NULL, NULL);
}
