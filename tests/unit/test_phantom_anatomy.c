/*
 * The phantom's anatomy, on coarse grids: label volumes, connectivity, valve
 * contacts, separations, intensities, determinism, oblique and sheared grids,
 * the cardiac cycle and MR. The phantom's sources are compiled in, since they
 * belong to twin-phantom and not to a library.
 */
#include "twin_test.h"

#include "../phantom/shapes.c"
#include "../phantom/anatomy.c"
#include "../phantom/tissue.c"
#include "../phantom/render.c"

#define SP 2.0   /* mm */
#define N 100    /* voxels per side: a 200 mm cube around the heart */
#define SPHERE 95.0 /* grids are compared inside this radius around the heart centre, mm */

struct grid {
	struct twin_volume *lab, *img;
};

/* The axial CT at mid-diastole without noise, shared by the suite. */
static struct grid axial;

/* An N^3 grid of SP mm centred on the heart, with direction columns dir (unit). */
static void grid_affine(struct twin_affine *a, const double dir[3][3], const size_t dim[3])
{
	double c[3];

	twin_phantom_heart_centre(c);
	twin_affine_identity(a);
	for (int r = 0; r < 3; r++) {
		a->m[r][3] = c[r];
		for (int k = 0; k < 3; k++) {
			a->m[r][k] = SP * dir[k][r];
			a->m[r][3] -= SP * dir[k][r] * (dim[k] - 1) / 2.0;
		}
	}
}

static void render(struct grid *g, const struct twin_phantom_render *opt, const size_t dim[3],
		   const struct twin_affine *aff)
{
	struct twin_err err;

	twin_err_init(&err);
	assert_ok(err, twin_phantom_render(&err, opt, dim, aff, &g->lab, &g->img));
	assert_int_equal(g->lab->dtype, TWIN_U8);
	assert_int_equal(g->img->dtype, TWIN_I16);
}

static void render_axial(struct grid *g, enum twin_phantom_modality m, double phase, double noise, uint64_t seed)
{
	static const double eye[3][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
	struct twin_phantom_render opt = { m, phase, noise, noise > 0 ? 0.8 : 0.0, seed };
	size_t dim[3] = { N, N, N };
	struct twin_affine aff;

	grid_affine(&aff, eye, dim);
	render(g, &opt, dim, &aff);
}

static void grid_release(struct grid *g)
{
	twin_volume_free(g->lab);
	twin_volume_free(g->img);
	g->lab = g->img = NULL;
}

/* Volume in mL of each label; inside the comparison sphere only when sphere is set. */
static void label_ml(const struct twin_volume *lab, int sphere, double ml[8])
{
	const uint8_t *l = lab->data;
	const double (*m)[4] = lab->affine.m;
	double c[3], vox;
	size_t count[8] = { 0 };

	twin_phantom_heart_centre(c);
	/* the volume of a (possibly sheared) voxel is the affine's determinant */
	vox = fabs(m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
		   m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
		   m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / 1000.0;
	for (size_t k = 0; k < lab->dim[2]; k++)
		for (size_t j = 0; j < lab->dim[1]; j++)
			for (size_t i = 0; i < lab->dim[0]; i++) {
				double ijk[3] = { (double)i, (double)j, (double)k }, w[3];

				if (sphere) {
					twin_volume_index_to_world(lab, ijk, w);
					if ((w[0] - c[0]) * (w[0] - c[0]) + (w[1] - c[1]) * (w[1] - c[1]) +
					    (w[2] - c[2]) * (w[2] - c[2]) > SPHERE * SPHERE)
						continue;
				}
				count[l[i + lab->dim[0] * (j + lab->dim[1] * k)]]++;
			}
	for (int i = 0; i < 8; i++)
		ml[i] = count[i] * vox;
}

/* Face-adjacent voxel pairs with labels a and b (either order). */
static void adjacency(const struct twin_volume *lab, size_t pairs[8][8])
{
	const uint8_t *l = lab->data;
	size_t d0 = lab->dim[0], d1 = lab->dim[1], d2 = lab->dim[2];

	memset(pairs, 0, 64 * sizeof(size_t));
	for (size_t k = 0; k < d2; k++)
		for (size_t j = 0; j < d1; j++)
			for (size_t i = 0; i < d0; i++) {
				size_t at = i + d0 * (j + d1 * k);
				size_t nb[3] = { i + 1 < d0 ? at + 1 : at, j + 1 < d1 ? at + d0 : at,
						 k + 1 < d2 ? at + d0 * d1 : at };
				for (int q = 0; q < 3; q++)
					if (l[at] != l[nb[q]]) {
						pairs[l[at]][l[nb[q]]]++;
						pairs[l[nb[q]]][l[at]]++;
					}
			}
}

/* Number of 6-connected components of label id: a flood fill with an explicit stack. */
static int components(const struct twin_volume *lab, uint8_t id)
{
	const uint8_t *l = lab->data;
	size_t d0 = lab->dim[0], d1 = lab->dim[1], n = twin_volume_count(lab);
	uint8_t *seen = calloc(n, 1);
	size_t *stack = malloc(n * sizeof(size_t));
	int comps = 0;

	assert_non_null(seen);
	assert_non_null(stack);
	for (size_t s = 0; s < n; s++) {
		size_t top = 0;

		if (l[s] != id || seen[s])
			continue;
		comps++;
		seen[s] = 1;
		stack[top++] = s;
		while (top) {
			size_t at = stack[--top], i = at % d0, j = at / d0 % d1, k = at / (d0 * d1);
			size_t nb[6];
			int m = 0;

			if (i > 0) nb[m++] = at - 1;
			if (i + 1 < d0) nb[m++] = at + 1;
			if (j > 0) nb[m++] = at - d0;
			if (j + 1 < d1) nb[m++] = at + d0;
			if (k > 0) nb[m++] = at - d0 * d1;
			if (k + 1 < lab->dim[2]) nb[m++] = at + d0 * d1;
			for (int q = 0; q < m; q++)
				if (l[nb[q]] == id && !seen[nb[q]]) {
					seen[nb[q]] = 1;
					stack[top++] = nb[q];
				}
		}
	}
	free(seen);
	free(stack);
	return comps;
}

static void mean_by_label(const struct grid *g, double mean[8])
{
	const uint8_t *l = g->lab->data;
	const int16_t *v = g->img->data;
	double sum[8] = { 0 };
	size_t cnt[8] = { 0 }, n = twin_volume_count(g->lab);

	for (size_t i = 0; i < n; i++) {
		sum[l[i]] += v[i];
		cnt[l[i]]++;
	}
	for (int i = 0; i < 8; i++)
		mean[i] = cnt[i] ? sum[i] / cnt[i] : NAN;
}

static int setup(void **state)
{
	(void)state;
	render_axial(&axial, TWIN_PHANTOM_CT, 0.75, 0.0, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	grid_release(&axial);
	return 0;
}

static void volumes_are_realistic(void **state)
{
	/* mL at mid-diastole; RA counts the venae cavae and Ao, PA the vessels inside the cube */
	static const double lo[8] = { 0, 100, 60, 105, 80, 120, 120, 50 };
	static const double hi[8] = { 0, 200, 100, 145, 130, 170, 220, 110 };
	double ml[8];

	(void)state;
	label_ml(axial.lab, 0, ml);
	for (int i = 1; i < 8; i++)
		if (!(ml[i] >= lo[i] && ml[i] <= hi[i]))
			fail_msg("label %d: %.1f mL, want %.0f..%.0f", i, ml[i], lo[i], hi[i]);
}

static void each_label_is_one_piece(void **state)
{
	(void)state;
	for (uint8_t id = 1; id < 8; id++)
		if (components(axial.lab, id) != 1)
			fail_msg("label %d has %d 6-connected components", id, components(axial.lab, id));
}

static void valves_touch_and_chambers_keep_apart(void **state)
{
	static const int valve[4][2] = { { 3, 2 }, { 3, 6 }, { 5, 7 }, { 4, 5 } };
	size_t pairs[8][8];

	(void)state;
	adjacency(axial.lab, pairs);
	for (int v = 0; v < 4; v++)
		if (pairs[valve[v][0]][valve[v][1]] < 40)
			fail_msg("labels %d and %d share only %zu faces", valve[v][0], valve[v][1],
				 pairs[valve[v][0]][valve[v][1]]);
	/* LV blood is enclosed by myocardium and the two valves */
	assert_int_equal(pairs[3][0], 0);
	assert_int_equal(pairs[3][4], 0);
	assert_int_equal(pairs[3][5], 0);
	assert_int_equal(pairs[3][7], 0);
	assert_true(pairs[3][1] > 1000);
	/* the septum: RV blood on the LV wall */
	assert_true(pairs[5][1] > 500);
	/* no other two blood pools touch */
	for (int a = 2; a < 8; a++)
		for (int b = a + 1; b < 8; b++) {
			int ok = 0;
			for (int v = 0; v < 4; v++)
				ok |= (valve[v][0] == a && valve[v][1] == b) || (valve[v][0] == b && valve[v][1] == a);
			if (!ok && pairs[a][b])
				fail_msg("labels %d and %d touch on %zu faces", a, b, pairs[a][b]);
		}
}

static void ct_intensities(void **state)
{
	const uint8_t *l = axial.lab->data;
	const int16_t *v = axial.img->data;
	size_t d0 = N, d1 = N, cortical = 0, bone_by_blood = 0;
	struct twin_anatomy *anat = calloc(1, sizeof(*anat));
	double mean[8];

	(void)state;
	assert_non_null(anat);
	mean_by_label(&axial, mean);
	for (int i = 2; i < 8; i++)
		if (!(mean[i] >= 300 && mean[i] <= 450))
			fail_msg("label %d: mean %.1f HU", i, mean[i]);
	assert_true(fmin(mean[2], fmin(mean[3], mean[6])) > fmax(mean[4], fmax(mean[5], mean[7])));
	assert_true(mean[1] > 50 && mean[1] < 150);

	/* bone exists, and no bone voxel is next to a blood voxel */
	twin_anatomy_build(anat, 0.75);
	for (size_t at = 0; at < twin_volume_count(axial.lab); at++) {
		size_t i = at % d0, j = at / d0 % d1, k = at / (d0 * d1);
		long off[6][3] = { { 1, 0, 0 }, { -1, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 }, { 0, 0, 1 }, { 0, 0, -1 } };

		cortical += l[at] == 0 && v[at] > 700;
		if (l[at] < 2)
			continue;
		for (int q = 0; q < 6; q++) {
			double ijk[3] = { (double)i + off[q][0], (double)j + off[q][1], (double)k + off[q][2] }, w[3];
			enum twin_tissue t;

			twin_volume_index_to_world(axial.lab, ijk, w);
			t = twin_anatomy_tissue(anat, twin_v3(w[0], w[1], w[2]));
			bone_by_blood += t == TWIN_T_CORTICAL || t == TWIN_T_CANCELLOUS;
		}
	}
	twin_anatomy_release(anat);
	free(anat);
	assert_true(cortical > 500);
	assert_int_equal(bone_by_blood, 0);
}

static void labels_and_image_agree(void **state)
{
	/* without blur and noise each label has its tissue's intensity (with the slow shading) */
	static const double base[8] = { 0, 100, 410, 400, 330, 320, 420, 310 };
	const uint8_t *l = axial.lab->data;
	const int16_t *v = axial.img->data;

	(void)state;
	for (size_t at = 0; at < twin_volume_count(axial.lab); at++)
		if (l[at] && fabs(v[at] - base[l[at]]) > 0.05 * base[l[at]] + 1.0)
			fail_msg("voxel %zu: label %d with %d HU", at, l[at], v[at]);
}

static void same_seed_same_bytes(void **state)
{
	static const double eye[3][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
	struct twin_phantom_render opt = { TWIN_PHANTOM_CT, 0.2, 25.0, 1.0, 42 };
	size_t dim[3] = { 40, 36, 30 };
	struct twin_affine aff;
	struct grid a, b, c;

	(void)state;
	grid_affine(&aff, eye, dim);
	render(&a, &opt, dim, &aff);
	render(&b, &opt, dim, &aff);
	opt.seed = 43;
	render(&c, &opt, dim, &aff);
	assert_memory_equal(a.img->data, b.img->data, twin_volume_bytes(a.img));
	assert_memory_equal(a.lab->data, b.lab->data, twin_volume_bytes(a.lab));
	assert_memory_equal(a.lab->data, c.lab->data, twin_volume_bytes(a.lab));
	assert_memory_not_equal(a.img->data, c.img->data, twin_volume_bytes(a.img));
	grid_release(&a);
	grid_release(&b);
	grid_release(&c);
}

static void compare_in_sphere(const struct twin_volume *lab)
{
	double want[8], got[8];

	label_ml(axial.lab, 1, want);
	label_ml(lab, 1, got);
	for (int i = 1; i < 8; i++)
		if (fabs(got[i] - want[i]) > 0.03 * want[i])
			fail_msg("label %d: %.1f mL, %.1f mL on the axial grid", i, got[i], want[i]);
}

static void oblique_grid_same_volumes(void **state)
{
	double c = cos(M_PI / 6), s = sin(M_PI / 6);
	/* 30 degrees about x, then 30 degrees about y: the columns of R = Ry * Rx */
	double dir[3][3] = { { c, 0, -s }, { s * s, c, c * s }, { s * c, -s, c * c } };
	struct twin_phantom_render opt = { TWIN_PHANTOM_CT, 0.75, 0.0, 0.0, 1 };
	size_t dim[3] = { N, N, N };
	struct twin_affine aff;
	struct grid g;

	(void)state;
	grid_affine(&aff, dir, dim);
	render(&g, &opt, dim, &aff);
	compare_in_sphere(g.lab);
	grid_release(&g);
}

static void sheared_grid_same_volumes(void **state)
{
	/* a 20 degree gantry tilt: slices step along z and y; rows still along y */
	double t = tan(20.0 * M_PI / 180.0);
	double dir[3][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, t, 1 } };
	struct twin_phantom_render opt = { TWIN_PHANTOM_CT, 0.75, 0.0, 0.0, 1 };
	size_t dim[3] = { N, N + 24, N };
	struct twin_affine aff;
	struct grid g;

	(void)state;
	grid_affine(&aff, dir, dim);
	render(&g, &opt, dim, &aff);
	compare_in_sphere(g.lab);
	grid_release(&g);
}

static void systole_ejects(void **state)
{
	struct grid es;
	double d[8], s[8], ef;

	(void)state;
	render_axial(&es, TWIN_PHANTOM_CT, 0.35, 0.0, 1);
	label_ml(axial.lab, 0, d);
	label_ml(es.lab, 0, s);
	ef = (d[3] - s[3]) / d[3];
	if (!(ef >= 0.45 && ef <= 0.70))
		fail_msg("ejection fraction %.2f from %.1f and %.1f mL", ef, d[3], s[3]);
	if (fabs(s[1] - d[1]) > 0.10 * d[1])
		fail_msg("myocardium %.1f mL in systole, %.1f mL in diastole", s[1], d[1]);
	assert_true(s[5] < d[5]);
	assert_true(s[2] > d[2]);
	grid_release(&es);
}

static void mr_is_bright_blood(void **state)
{
	struct grid mr;
	double mean[8];
	const int16_t *v;

	(void)state;
	render_axial(&mr, TWIN_PHANTOM_MR, 0.75, 30.0, 5);
	v = mr.img->data;
	for (size_t i = 0; i < twin_volume_count(mr.img); i++)
		if (v[i] < 0)
			fail_msg("voxel %zu: %d", i, v[i]);
	mean_by_label(&mr, mean);
	for (int i = 2; i < 8; i++)
		if (!(mean[i] > 2.0 * mean[1]))
			fail_msg("label %d: %.1f, myocardium %.1f", i, mean[i], mean[1]);
	grid_release(&mr);
}

static void bad_settings_are_refused(void **state)
{
	static const double eye[3][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
	struct twin_phantom_render opt = { TWIN_PHANTOM_CT, 1.0, 0.0, 0.0, 1 };
	size_t dim[3] = { 4, 4, 4 };
	struct twin_affine aff;
	struct twin_volume *l = NULL, *i = NULL;
	struct twin_err err;

	(void)state;
	grid_affine(&aff, eye, dim);
	twin_err_init(&err);
	assert_int_equal(twin_phantom_render(&err, &opt, dim, &aff, &l, &i), -1);
	assert_err(err, TWIN_EUSAGE, "phase 1 is outside [0, 1)");
	assert_null(l);
	assert_null(i);
	opt.phase = 0.5;
	opt.blur_mm = -1.0;
	twin_err_init(&err);
	assert_int_equal(twin_phantom_render(&err, &opt, dim, &aff, &l, &i), -1);
	assert_err(err, TWIN_EUSAGE, "blur -1 mm is not between 0 and 50");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(volumes_are_realistic),
		cmocka_unit_test(each_label_is_one_piece),
		cmocka_unit_test(valves_touch_and_chambers_keep_apart),
		cmocka_unit_test(ct_intensities),
		cmocka_unit_test(labels_and_image_agree),
		cmocka_unit_test(same_seed_same_bytes),
		cmocka_unit_test(oblique_grid_same_volumes),
		cmocka_unit_test(sheared_grid_same_volumes),
		cmocka_unit_test(systole_ejects),
		cmocka_unit_test(mr_is_bright_blood),
		cmocka_unit_test(bad_settings_are_refused),
	};

	return cmocka_run_group_tests_name("phantom_anatomy", tests, setup, teardown);
}
