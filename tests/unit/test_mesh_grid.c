#include "twin_test.h"

#include <math.h>

#include "../../mesh/grid.h"
#include "../../mesh/surface.h"
#include "volume.h"

/* A label volume of n^3 voxels of 2 mm; fill() paints boxes into it. */
static struct twin_volume *new_map(size_t n)
{
	return twin_test_label_map(n, 2, 0);
}

/* Paints label into the box [lo, hi] (inclusive). */
static void fill(struct twin_volume *v, unsigned label, const size_t lo[3], const size_t hi[3])
{
	for (size_t k = lo[2]; k <= hi[2]; k++)
		for (size_t j = lo[1]; j <= hi[1]; j++)
			for (size_t i = lo[0]; i <= hi[0]; i++)
				twin_volume_set(v, i, j, k, label);
}

struct warnings {
	char text[8][512];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (w->n < 8)
		snprintf(w->text[w->n++], sizeof(w->text[0]), "%s", msg);
}

static int warned(const struct warnings *w, const char *substr)
{
	for (int i = 0; i < w->n; i++)
		if (strstr(w->text[i], substr))
			return 1;
	return 0;
}

static void options(struct twin_grid_opt *opt, struct warnings *w, const char *which)
{
	memset(opt, 0, sizeof(*opt));
	memset(w, 0, sizeof(*w));
	opt->meshed = twin_grid_selection(which);
	opt->warn = collect;
	opt->warn_ctx = w;
	opt->name = "x.nii.gz";
}

static void selection(void **state)
{
	(void)state;
	assert_int_equal(twin_grid_selection("all"), 0x1fe);
	assert_int_equal(twin_grid_selection("blood"), 0xfc);
	/* the LV wall and the RV wall that mesh.rv_wall grows */
	assert_int_equal(twin_grid_selection("myocardium"), 0x102);
	assert_int_equal(twin_grid_selection("lungs"), 0);
}

static void empty_map(void **state)
{
	struct twin_volume *v = new_map(6);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_int_equal(twin_grid_build(&err, &g, v, &opt), -1);
	assert_err(err, TWIN_EINPUT, "label map 'x.nii.gz': every voxel holds 0, so there is nothing to mesh");
	twin_grid_release(&g);
	twin_volume_free(v);
}

static void single_label(void **state)
{
	static const size_t lo[3] = { 0, 0, 0 }, hi[3] = { 5, 5, 5 };
	struct twin_volume *v = new_map(6);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	fill(v, 3, lo, hi);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_int_equal(twin_grid_build(&err, &g, v, &opt), -1);
	assert_err(err, TWIN_EINPUT, "every voxel holds 3");
	twin_grid_release(&g);
	twin_volume_free(v);
}

static void not_selected(void **state)
{
	static const size_t lo[3] = { 1, 1, 1 }, hi[3] = { 3, 3, 3 };
	struct twin_volume *v = new_map(6);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	fill(v, 3, lo, hi);
	twin_err_init(&err);
	options(&opt, &w, "myocardium");
	assert_int_equal(twin_grid_build(&err, &g, v, &opt), -1);
	assert_err(err, TWIN_EINPUT, "label map 'x.nii.gz': none of the labels to mesh is present");
	twin_grid_release(&g);
	twin_volume_free(v);
}

static void not_a_label(void **state)
{
	struct twin_volume *v = new_map(6);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	twin_volume_set(v, 2, 2, 2, 12);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_int_equal(twin_grid_build(&err, &g, v, &opt), -1);
	assert_err(err, TWIN_EINPUT, "holds 12, which is not a label id 0..8");
	twin_grid_release(&g);
	twin_volume_free(v);
}

/*
 * An aorta cut in two by the field of view: the smaller ascending piece on
 * the LV (the aortic valve) is kept over a larger descending piece.
 */
static void attached_piece_wins(void **state)
{
	static const size_t lv_lo[3] = { 1, 1, 1 }, lv_hi[3] = { 3, 3, 3 };
	static const size_t up_lo[3] = { 1, 1, 4 }, up_hi[3] = { 2, 2, 6 };
	static const size_t down_lo[3] = { 7, 6, 1 }, down_hi[3] = { 8, 8, 8 };
	struct twin_volume *v = new_map(10);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	fill(v, 3, lv_lo, lv_hi);
	fill(v, 6, up_lo, up_hi);
	fill(v, 6, down_lo, down_hi);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_ok(err, twin_grid_build(&err, &g, v, &opt));
	assert_true(warned(&w, "label 'aorta' is in 2 pieces: kept the one attached to the heart, 12 of 60 voxels"));
	assert_int_equal(g.count[6], 12);
	assert_int_equal(g.count[3], 27);
	assert_false(warned(&w, "no aortic valve"));
	twin_grid_release(&g);
	twin_volume_free(v);
}

/* Two pieces of the LV: the larger is kept, with a warning; LA apart from LV is a warning too. */
static void pieces_and_touching(void **state)
{
	static const size_t lo1[3] = { 1, 1, 1 }, hi1[3] = { 4, 4, 4 };
	static const size_t lo2[3] = { 7, 7, 7 }, hi2[3] = { 8, 8, 8 };
	static const size_t lo3[3] = { 1, 7, 1 }, hi3[3] = { 3, 8, 3 };
	struct twin_volume *v = new_map(10);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	fill(v, 3, lo1, hi1);
	fill(v, 3, lo2, hi2);
	fill(v, 2, lo3, hi3);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_ok(err, twin_grid_build(&err, &g, v, &opt));
	assert_true(warned(&w, "label 'heart_ventricle_left' is in 2 pieces: kept the largest, 64 of 72 voxels"));
	assert_true(warned(&w, "'heart_atrium_left' and 'heart_ventricle_left' do not touch, so there is no mitral valve"));
	assert_int_equal(g.count[3], 64);
	assert_int_equal(g.count[2], 18);
	assert_true(g.cell_volume > 7.999 && g.cell_volume < 8.001);
	/* cropped to the labels with one layer around */
	assert_int_equal(g.dim[0], 6);
	assert_int_equal(g.dim[1], 10);
	assert_int_equal(g.ncaps, 0);
	twin_grid_release(&g);
	twin_volume_free(v);
}

/*
 * A vessel of label 6 filling lo..hi (inclusive) of an 8^3 map, through its
 * bottom and top: the grid (two caps) and its smoothed surface.
 */
static struct twin_volume *vessel(struct twin_grid *g, struct twin_surface *s,
				  const size_t lo[3], const size_t hi[3])
{
	struct twin_volume *v = new_map(8);
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	fill(v, 6, lo, hi);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_ok(err, twin_grid_build(&err, g, v, &opt));
	assert_int_equal(g->ncaps, 2);
	assert_ok(err, twin_surface_extract(&err, s, g));
	assert_ok(err, twin_surface_smooth(&err, s, g, 20, 0.25));
	return v;
}

/* An aorta through the top and bottom of the image: two caps, in the planes of the image's faces. */
static void caps(void **state)
{
	static const size_t lo[3] = { 2, 2, 0 }, hi[3] = { 4, 4, 7 };
	struct twin_grid g;
	struct twin_surface s;
	struct twin_volume *v = vessel(&g, &s, lo, hi);
	size_t capq = 0;

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		assert_int_equal(g.caps[c].label, 6);
		assert_int_equal(g.caps[c].n, c + 1);
		assert_int_equal(g.caps[c].axis, 2);
	}
	assert_true(g.caps[0].coord == 0.5 && g.caps[1].coord == (double)g.dim[2] - 1.5);
	for (size_t q = 0; q < s.n_quads; q++)
		if (s.side[2 * q + 1] >= TWIN_GRID_CAP0) {
			const struct twin_grid_cap *c = &g.caps[s.side[2 * q + 1] - TWIN_GRID_CAP0];

			capq++;
			assert_int_equal(s.side[2 * q], 6);
			for (int k = 0; k < 4; k++)
				assert_true(s.xyz[3 * s.quads[4 * q + k] + 2] == c->coord);
		}
	assert_int_equal(capq, 18);
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(v);
}

/*
 * A vessel one voxel wide through the bottom of the image: its cap is one
 * cell face, whose rim Taubin's smoothing would shrink to a point (0.01 mm
 * on the MR phantom with a grown RV wall: tets of 0.5 degrees); it stays.
 */
static void small_cap(void **state)
{
	static const size_t lo[3] = { 3, 3, 0 }, hi[3] = { 3, 3, 7 };
	struct twin_grid g;
	struct twin_surface s;
	struct twin_volume *v = vessel(&g, &s, lo, hi);
	size_t capq = 0;

	(void)state;
	for (size_t q = 0; q < s.n_quads; q++) {
		if (s.side[2 * q + 1] < TWIN_GRID_CAP0)
			continue;
		capq++;
		for (int k = 0; k < 4; k++) {
			const double *a = s.xyz + 3 * s.quads[4 * q + k], *b = s.xyz + 3 * s.quads[4 * q + (k + 1) % 4];
			double d = sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
					(a[2] - b[2]) * (a[2] - b[2]));

			assert_true(d > 0.9);
		}
	}
	assert_int_equal(capq, 2);
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(v);
}

/* Two voxels of one label that meet only at an edge are joined, so the surface is a manifold. */
static void manifold(void **state)
{
	struct twin_volume *v = new_map(6);
	struct twin_grid g;
	struct twin_grid_opt opt;
	struct twin_err err;
	struct warnings w;

	(void)state;
	/* one piece, a loop through z, whose ends meet only along an edge */
	twin_volume_set(v, 2, 2, 2, 3);
	twin_volume_set(v, 2, 2, 3, 3);
	twin_volume_set(v, 2, 3, 3, 3);
	twin_volume_set(v, 3, 3, 3, 3);
	twin_volume_set(v, 3, 3, 2, 3);
	twin_err_init(&err);
	options(&opt, &w, "all");
	assert_ok(err, twin_grid_build(&err, &g, v, &opt));
	assert_true(warned(&w, "changed so that every surface is a manifold"));
	assert_int_equal(w.n, 1);
	assert_true(g.count[3] >= 6);
	twin_grid_release(&g);
	twin_volume_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selection),
		cmocka_unit_test(empty_map),
		cmocka_unit_test(single_label),
		cmocka_unit_test(not_selected),
		cmocka_unit_test(not_a_label),
		cmocka_unit_test(pieces_and_touching),
		cmocka_unit_test(attached_piece_wins),
		cmocka_unit_test(caps),
		cmocka_unit_test(small_cap),
		cmocka_unit_test(manifold),
	};

	return cmocka_run_group_tests_name("mesh_grid", tests, NULL, NULL);
}
