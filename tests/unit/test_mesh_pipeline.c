#include "twin_test.h"

#include <math.h>

#include "../../mesh/pipeline.h"
#include "../../mesh/quality.h"
#include "conf.h"
#include "msh.h"
#include "surfaces.h"
#include "tetmesh.h"
#include "xml.h"

#define N 22          /* voxels per side */
#define SPACING 2.0   /* mm */

/*
 * A ball of radius r voxels at the centre, cut at z = N/2 into LA (below)
 * and LV (above); with wall > 0, a myocardium shell of that many voxels
 * around the LV half; with vessel, an aorta tube from the ball up through the
 * top of the image.
 */
static struct twin_volume *heart(double r, double wall, int vessel)
{
	struct twin_volume *v;
	double c = (N - 1) / 2.0;

	v = twin_test_label_map(N, SPACING, -20);
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			for (size_t i = 0; i < N; i++) {
				double d = sqrt((i - c) * (i - c) + (j - c) * (j - c) + (k - c) * (k - c));
				double t = sqrt((i - c) * (i - c) + (j - c) * (j - c));

				if (vessel && t <= 2.5 && k > c)
					twin_volume_set(v, i, j, k, 6);
				else if (d <= r)
					twin_volume_set(v, i, j, k, k < N / 2 ? 2 : 3);
				else if (wall > 0 && d <= r + wall && k >= N / 2)
					twin_volume_set(v, i, j, k, 1);
			}
	return v;
}

static void settings(struct twin_mesh_settings *set, const char *which)
{
	memset(set, 0, sizeof(*set));
	set->size = 2;
	set->meshed = twin_grid_selection(which);
	set->max_tets = 5000000;
	set->smooth_iterations = 20;
	set->threads = 1;
}

static void ignore(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static int32_t tag_of(const struct twin_tetmesh *m, const char *name)
{
	for (size_t i = 0; i < m->n_surfaces; i++)
		if (strcmp(m->surfaces[i].name, name) == 0)
			return m->surfaces[i].tag;
	fail_msg("no surface '%s'", name);
	return -1;
}

/*
 * Every triangle is a face of a tetrahedron; an interface triangle is a face
 * of one tetrahedron on each side, in the two regions it separates; a wall or
 * cap triangle has one tetrahedron only.
 */
static void assert_conforming(const struct twin_tetmesh *m)
{
	struct twin_err err;
	struct twin_tetmesh_parent *par;

	twin_err_init(&err);
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	for (size_t i = 0; i < m->n_tris; i++) {
		const char *name = twin_tetmesh_surface_name(m, m->tri_surface[i]);
		int kind = twin_surface_kind_of(name);
		int two = par[i].tet[1] != TWIN_TETMESH_NONE;

		if (kind == TWIN_SURFACE_VALVE || kind == TWIN_SURFACE_INTERFACE ||
		    (kind == TWIN_SURFACE_ENDOCARDIUM && twin_tetmesh_region_name(m, 1) &&
		     m->n_regions > 1)) {
			if (!two || m->tet_region[par[i].tet[0]] == m->tet_region[par[i].tet[1]])
				fail_msg("triangle %zu of '%s' is not shared by two regions", i, name);
		} else if (two) {
			fail_msg("triangle %zu of '%s' has tetrahedra on both sides", i, name);
		}
	}
	free(par);
}

/* The requirements of the issue, on a mesh that met them. */
static void assert_quality(const struct twin_mesh_result *res)
{
	const struct twin_quality *q = &res->quality;

	assert_int_equal(q->inverted, 0);
	if (q->max_volume_error > TWIN_QUALITY_MAX_VOLUME_ERROR)
		fail_msg("a region's volume is %.2f %% off", q->max_volume_error);
	if (q->surface_offset > q->voxel_size)
		fail_msg("the surface lies %.2f mm from the labels", q->surface_offset);
	assert_true(q->voxel_size == SPACING);
	print_message("# smallest dihedral angle %.2f degrees\n", q->min_dihedral);
	if (q->min_dihedral < 1)
		fail_msg("a dihedral angle of %.3f degrees", q->min_dihedral);
}

static void two_chambers(void **state)
{
	struct twin_volume *v = heart(8, 0, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	assert_ok(err, twin_mesh_build(&err, &res, v, "two.nii.gz", &set, ignore, NULL));
	assert_int_equal(res.mesh->n_regions, 2);
	assert_string_equal(twin_tetmesh_region_name(res.mesh, 2), "heart_atrium_left");
	assert_string_equal(twin_tetmesh_region_name(res.mesh, 3), "heart_ventricle_left");
	assert_int_equal(res.mesh->n_surfaces, 3);
	tag_of(res.mesh, "mitral_valve");
	tag_of(res.mesh, "wall_la");
	tag_of(res.mesh, "wall_lv");
	assert_conforming(res.mesh);
	assert_quality(&res);
	assert_int_equal(res.quality.loose_triangles + res.quality.misplaced_triangles, 0);
	assert_int_equal(res.quality.nregions, 2);
	assert_true(res.estimate > res.mesh->n_tets / 3 && res.estimate < 3 * res.mesh->n_tets);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/* The mesh survives MSH 4.1 and the triangles of the valve keep their nodes on both sides. */
static void through_msh(void **state)
{
	struct twin_volume *v = heart(7, 2, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_tetmesh *back;
	struct twin_err err;
	char *dir = twin_test_tmpdir();

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	assert_ok(err, twin_mesh_build(&err, &res, v, "three.nii.gz", &set, ignore, NULL));
	tag_of(res.mesh, "epicardium");
	tag_of(res.mesh, "endocardium_lv");
	assert_ok(err, twin_msh_save(&err, twin_test_path(dir, "heart.msh"), res.mesh, 1));
	back = twin_msh_load(&err, twin_test_path(dir, "heart.msh"));
	assert_ptr_ok(err, back);
	assert_ok(err, twin_tetmesh_check(&err, back));
	assert_int_equal(back->n_tets, res.mesh->n_tets);
	assert_int_equal(back->n_tris, res.mesh->n_tris);
	assert_int_equal(back->n_regions, 3);
	assert_conforming(back);
	assert_ok(err, twin_quality_save(&err, twin_test_path(dir, "quality.xml"), &res.quality));
	twin_tetmesh_free(back);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
	twin_test_rmdir(dir);
}

/* Blood only: the wall is outside, and the LV's boundary with it keeps its name. */
static void blood_only(void **state)
{
	struct twin_volume *v = heart(7, 2, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	settings(&set, "blood");
	assert_ok(err, twin_mesh_build(&err, &res, v, "b.nii.gz", &set, ignore, NULL));
	assert_int_equal(res.mesh->n_regions, 2);
	assert_null(twin_tetmesh_region_name(res.mesh, 1));
	tag_of(res.mesh, "endocardium_lv");
	tag_of(res.mesh, "mitral_valve");
	assert_conforming(res.mesh);
	assert_quality(&res);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

static void myocardium_only(void **state)
{
	struct twin_volume *v = heart(7, 2, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	settings(&set, "myocardium");
	assert_ok(err, twin_mesh_build(&err, &res, v, "m.nii.gz", &set, ignore, NULL));
	assert_int_equal(res.mesh->n_regions, 1);
	assert_string_equal(twin_tetmesh_region_name(res.mesh, 1), "heart_myocardium");
	tag_of(res.mesh, "epicardium");
	tag_of(res.mesh, "endocardium_lv");
	assert_conforming(res.mesh);
	assert_int_equal(res.quality.inverted, 0);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/* An aorta that leaves the image gets a flat outlet in the plane of the image's top. */
static void outlet(void **state)
{
	struct twin_volume *v = heart(7, 0, 1);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;
	int32_t cap;
	size_t n = 0;
	double top = -20 + SPACING * (N - 0.5);

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	assert_ok(err, twin_mesh_build(&err, &res, v, "ao.nii.gz", &set, ignore, NULL));
	tag_of(res.mesh, "aortic_valve");
	cap = tag_of(res.mesh, "outlet_ao_1");
	for (size_t i = 0; i < res.mesh->n_tris; i++)
		if (res.mesh->tri_surface[i] == cap) {
			n++;
			for (int k = 0; k < 3; k++)
				assert_true(fabs(res.mesh->xyz[3 * res.mesh->tris[3 * i + k] + 2] - top) < 1e-9);
		}
	assert_true(n > 10);
	assert_conforming(res.mesh);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/* mesh.vessel_length cuts the aorta below the image's top with a flat cap across it. */
static void vessel_length(void **state)
{
	struct twin_volume *v = heart(7, 0, 1);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;
	int32_t cap;
	size_t n = 0;
	double z = 0, top = -20 + SPACING * (N - 0.5);

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	set.vessel_length = 4;
	assert_ok(err, twin_mesh_build(&err, &res, v, "ao.nii.gz", &set, ignore, NULL));
	cap = tag_of(res.mesh, "outlet_ao_1");
	/* walls of LA, LV and aorta, mitral and aortic valves, LA | aorta at the tube's foot, one cap */
	assert_int_equal(res.mesh->n_surfaces, 7);
	for (size_t i = 0; i < res.mesh->n_tris; i++)
		if (res.mesh->tri_surface[i] == cap)
			for (int k = 0; k < 3; k++) {
				double zk = res.mesh->xyz[3 * res.mesh->tris[3 * i + k] + 2];

				if (n++ == 0)
					z = zk;
				assert_true(fabs(zk - z) < 1e-9);
			}
	assert_true(n > 10);
	/*
	 * the valve runs along the tube inside the ball; the cut lies 4 mm beyond,
	 * or a little further where the tube still touches the LV, inside the image
	 */
	assert_true(z < top - SPACING / 2);
	assert_conforming(res.mesh);
	assert_int_equal(res.quality.inverted, 0);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/* mesh.size.heart_ventricle_left makes the LV's tets smaller than the LA's. */
static void label_size(void **state)
{
	struct twin_volume *v = heart(8, 0, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;
	double la = 0, lv = 0;

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	set.size = 3;
	set.label_size[3] = 1.2;
	assert_ok(err, twin_mesh_build(&err, &res, v, "s.nii.gz", &set, ignore, NULL));
	for (size_t i = 0; i < res.quality.nregions; i++) {
		if (res.quality.regions[i].id == 2)
			la = res.quality.regions[i].mean_edge;
		if (res.quality.regions[i].id == 3)
			lv = res.quality.regions[i].mean_edge;
	}
	if (!(lv > 0 && la > 0 && lv < 0.75 * la))
		fail_msg("mean edge in the LV %.2f mm, in the LA %.2f mm", lv, la);
	assert_conforming(res.mesh);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/*
 * Two tets (LA, LV) on a shared face, and four triangles: the valve between
 * them, an LA wall face, a triangle on a node no tet has (loose), and an LV
 * face tagged as the LA wall (misplaced). The mesh is refused, and
 * quality.xml says why.
 */
static void orphan_triangle(void **state)
{
	static const double xyz[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2 };
	static const uint32_t tets[] = { 0, 1, 2, 3, 1, 2, 3, 4 };
	static const uint32_t tris[] = { 1, 2, 3, 0, 1, 2, 1, 2, 5, 4, 1, 2 };
	static const int32_t tags[] = { 1, 2, 2, 2 };
	static const struct twin_quality_side sides[] = { { 1, { 2, 3 } }, { 2, { 2, 0 } } };
	double label_volume[TWIN_GRID_LABELS] = { 0 };
	struct twin_quality q;
	struct twin_err err;
	struct twin_tetmesh *m;
	char *dir = twin_test_tmpdir(), *xml;
	size_t len;

	(void)state;
	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 6, 2, 4);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tris, tris, sizeof(tris));
	memcpy(m->tri_surface, tags, sizeof(tags));
	m->tet_region[0] = 2;
	m->tet_region[1] = 3;
	twin_tetmesh_orient(m);
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 2, "heart_atrium_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 1, "mitral_valve"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 2, "wall_la"));
	assert_ok(err, twin_tetmesh_check(&err, m));

	/* without the sides, only the loose triangle is seen */
	assert_ok(err, twin_quality_measure(&err, &q, m, label_volume, NULL, 0));
	assert_int_equal(q.loose_triangles, 1);
	assert_int_equal(q.misplaced_triangles, 0);
	twin_quality_release(&q);

	assert_ok(err, twin_quality_measure(&err, &q, m, label_volume, sides, 2));
	assert_int_equal(q.loose_triangles, 1);
	assert_int_equal(q.misplaced_triangles, 1);
	assert_int_equal(q.first_bad_triangle, 2);
	assert_int_equal(twin_quality_requirements(&q, ignore, NULL), 1);
	assert_int_equal(twin_quality_conforming(&err, &q, m), -1);
	assert_int_equal(err.code, TWIN_EFAIL);
	assert_string_equal(err.msg, "the mesh does not conform to its surfaces: 1 of 4 triangles are a face of no "
			    "tetrahedron, 1 are not faces of the regions they separate (the first on 'wall_la' at "
			    "1.0 0.0 0.0 mm)");
	assert_ok(err, twin_quality_save(&err, twin_test_path(dir, "quality.xml"), &q));
	xml = twin_test_read_file(twin_test_path(dir, "quality.xml"), &len);
	assert_non_null(strstr(xml, "<requirement name=\"surface_triangles_on_tetrahedra\" met=\"false\" value=\"2\" limit=\"0\"/>"));
	free(xml);
	twin_quality_release(&q);

	/* without the two bad triangles it conforms */
	m->n_tris = 2;
	twin_err_init(&err);
	assert_ok(err, twin_quality_measure(&err, &q, m, label_volume, sides, 2));
	assert_int_equal(q.loose_triangles + q.misplaced_triangles, 0);
	assert_ok(err, twin_quality_conforming(&err, &q, m));
	twin_quality_release(&q);
	m->n_tris = 4;
	twin_tetmesh_free(m);
	twin_test_rmdir(dir);
}

static void too_many(void **state)
{
	struct twin_volume *v = heart(8, 0, 0);
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	settings(&set, "all");
	set.size = 0.5;
	set.max_tets = 1000;
	assert_int_equal(twin_mesh_build(&err, &res, v, "big.nii.gz", &set, ignore, NULL), -1);
	assert_err(err, TWIN_ECONFIG, "for 'big.nii.gz', more than mesh.max_tets 1000");
	assert_null(res.mesh);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/*
 * An RV box joined to a small RV blob by a rod one voxel thick, which runs
 * along the missing corner of a square LV ring: the LV's cells on either
 * side of the rod meet along an edge only, and making the LV a manifold
 * there fills the rod with LV, which cuts the blob off. The blob must go: a
 * volume of two shells fails in Gmsh ('No elements in volume 5', as on the
 * real CTA).
 */
static void cut_off(void **state)
{
	struct twin_err err;
	struct twin_volume *v;
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	double rv = 0;

	(void)state;
	twin_err_init(&err);
	v = twin_test_label_map(N, SPACING, 0);
	for (size_t k = 0; k < N; k++)
		for (size_t j = 0; j < N; j++)
			for (size_t i = 0; i < N; i++) {
				int box = i >= 3 && i <= 8 && j >= 6 && j <= 16 && k >= 6 && k <= 16;
				int rod = i >= 9 && i <= 15 && j == 10 && k == 10;
				int blob = i >= 16 && i <= 18 && j >= 9 && j <= 11 && k >= 9 && k <= 11;
				int ring = j >= 7 && j <= 15 && k >= 7 && k <= 15 &&
					   (j >= 14 || k >= 14 || (j >= 11) != (k >= 11));

				if (box || rod || blob)
					twin_volume_set(v, i, j, k, 5);
				else if (i >= 11 && i <= 13 && ring)
					twin_volume_set(v, i, j, k, 3);
			}
	settings(&set, "all");
	assert_ok(err, twin_mesh_build(&err, &res, v, "cut.nii.gz", &set, ignore, NULL));
	assert_conforming(res.mesh);
	for (size_t r = 0; r < res.quality.nregions; r++)
		if (res.quality.regions[r].id == 5)
			rv = res.quality.regions[r].label_volume;
	print_message("# RV %.0f mm^3\n", rv);
	/* the box and what is left of the rod, 728 voxels, without the blob's 29 */
	assert_true(rv == 728 * SPACING * SPACING * SPACING);
	twin_mesh_result_release(&res);
	twin_volume_free(v);
}

/* The settings come from the mesh.* keys. */
static void from_conf(void **state)
{
	struct twin_err err;
	struct twin_conf *conf;
	struct twin_mesh_settings set;

	(void)state;
	twin_err_init(&err);
	conf = twin_conf_new(&err);
	assert_ptr_ok(err, conf);
	assert_ok(err, twin_conf_set(&err, conf, "mesh.size=2.5"));
	assert_ok(err, twin_conf_set(&err, conf, "mesh.size.aorta=1.25"));
	assert_ok(err, twin_conf_set(&err, conf, "mesh.labels=blood"));
	twin_mesh_settings_from_conf(&set, conf);
	assert_true(set.size == 2.5);
	assert_true(set.label_size[6] == 1.25);
	assert_true(set.label_size[3] == 0);
	assert_int_equal(set.meshed, twin_grid_selection("blood"));
	assert_int_equal(set.max_tets, 5000000);
	assert_int_equal(set.smooth_iterations, 20);
	twin_conf_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_chambers),
		cmocka_unit_test(through_msh),
		cmocka_unit_test(blood_only),
		cmocka_unit_test(myocardium_only),
		cmocka_unit_test(outlet),
		cmocka_unit_test(vessel_length),
		cmocka_unit_test(label_size),
		cmocka_unit_test(orphan_triangle),
		cmocka_unit_test(too_many),
		cmocka_unit_test(cut_off),
		cmocka_unit_test(from_conf),
	};

	return cmocka_run_group_tests_name("mesh_pipeline", tests, NULL, NULL);
}
