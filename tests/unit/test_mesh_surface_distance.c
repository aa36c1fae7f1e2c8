#include "twin_test.h"

#include <math.h>

#include "../../mesh/grid.h"
#include "../../mesh/surface.h"
#include "volume.h"

#define N 12          /* voxels per side */
#define SPACING 2.0   /* mm */

/* A box of label 2 (voxels 3..8) in background, 2 mm voxels, and its surface in world coordinates. */
static struct twin_volume *box(struct twin_grid *g, struct twin_surface *s)
{
	struct twin_err err;
	struct twin_grid_opt opt;
	struct twin_volume *v;

	twin_err_init(&err);
	v = twin_test_label_map(N, SPACING, 10);
	for (size_t k = 3; k <= 8; k++)
		for (size_t j = 3; j <= 8; j++)
			for (size_t i = 3; i <= 8; i++)
				twin_volume_set(v, i, j, k, 2);
	memset(&opt, 0, sizeof(opt));
	opt.meshed = twin_grid_selection("all");
	opt.name = "box.nii.gz";
	assert_ok(err, twin_grid_build(&err, g, v, &opt));
	assert_ok(err, twin_surface_extract(&err, s, g));
	assert_ok(err, twin_surface_triangulate(&err, s));
	twin_surface_to_world(s, g);
	return v;
}

/* Surface nets' vertices lie on the voxel faces: no distance. */
static void on_the_boundary(void **state)
{
	struct twin_grid g;
	struct twin_surface s;
	struct twin_volume *v = box(&g, &s);
	double d;

	(void)state;
	assert_true(s.n_tris > 0);
	d = twin_surface_label_distance(&s, v, &g);
	if (!(d >= 0 && d < 1e-9))
		fail_msg("the unsmoothed surface lies %g mm from its voxel faces", d);
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(v);
}

/*
 * Moved 0.6 mm along x, the vertices of the box's x faces are 0.6 mm off
 * them, those of its y and z faces stay on them or beyond their rims by as
 * much: the largest distance is 0.6 mm, in the label map's millimetres.
 */
static void moved(void **state)
{
	struct twin_grid g;
	struct twin_surface s;
	struct twin_volume *v = box(&g, &s);
	double d;

	(void)state;
	for (size_t i = 0; i < s.n_verts; i++)
		s.xyz[3 * i] += 0.6;
	d = twin_surface_label_distance(&s, v, &g);
	if (fabs(d - 0.6) > 1e-9)
		fail_msg("moved 0.6 mm, the surface lies %g mm from its voxel faces", d);
	/* farther than the search reaches (three voxels on this grid, not resampled): that far */
	for (size_t i = 0; i < s.n_verts; i++)
		s.xyz[3 * i] += 10 * SPACING;
	d = twin_surface_label_distance(&s, v, &g);
	if (fabs(d - 3.5 * SPACING) > 1e-9)
		fail_msg("moved 10 voxels away, the surface lies %g mm from its voxel faces, not %g", d, 3.5 * SPACING);
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(v);
}

/* Scaled about the box's centre, the corners move the most: sqrt(3) times each axis's shift. */
static void scaled(void **state)
{
	struct twin_grid g;
	struct twin_surface s;
	struct twin_volume *v = box(&g, &s);
	/* the box spans voxels 3..8: world 10 + 2 * (2.5 .. 8.5), centre 21 */
	double c = 10 + SPACING * 5.5, half = SPACING * 3, f = 1.1, d;

	(void)state;
	for (size_t i = 0; i < 3 * s.n_verts; i++)
		s.xyz[i] = c + f * (s.xyz[i] - c);
	d = twin_surface_label_distance(&s, v, &g);
	if (fabs(d - sqrt(3) * (f - 1) * half) > 1e-9)
		fail_msg("scaled by %g, the surface lies %g mm from its voxel faces, not %g", f, d,
			 sqrt(3) * (f - 1) * half);
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(on_the_boundary),
		cmocka_unit_test(moved),
		cmocka_unit_test(scaled),
	};

	return cmocka_run_group_tests_name("mesh_surface_distance", tests, NULL, NULL);
}
