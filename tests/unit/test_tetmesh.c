#include "twin_test.h"

#include <math.h>

#include "tetmesh.h"

/*
 * Two tetrahedra sharing the face (1 2 3): A = (0 1 2 3), volume 1/6, region 3;
 * B = (1 2 3 4), volume 1/3, region 1. Triangle 0 is the shared face,
 * triangle 1 the face (0 1 2) of A on the outside.
 */
static struct twin_tetmesh *two_tets(void)
{
	static const double xyz[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1 };
	static const uint32_t tets[] = { 0, 1, 2, 3, 1, 2, 3, 4 };
	static const uint32_t tris[] = { 3, 2, 1, 0, 2, 1 };
	struct twin_err err;
	struct twin_tetmesh *m;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 5, 2, 2);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tris, tris, sizeof(tris));
	m->tet_region[0] = 3;
	m->tet_region[1] = 1;
	m->tri_surface[0] = 7;
	m->tri_surface[1] = 2;
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 1, "heart_myocardium"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 7, "endocardium_lv"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 2, "epicardium"));
	return m;
}

static void new_is_zeroed_and_named(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_tetmesh *z;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	z = twin_tetmesh_new(&err, 3, 2, 1);
	assert_ptr_ok(err, z);
	assert_int_equal(z->n_nodes, 3);
	assert_int_equal(z->n_tets, 2);
	assert_int_equal(z->n_tris, 1);
	for (size_t i = 0; i < 9; i++)
		assert_true(z->xyz[i] == 0.0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(z->tets[i], 0);
	assert_int_equal(z->tet_region[1], 0);
	assert_int_equal(z->n_regions, 0);
	assert_null(twin_tetmesh_region_name(z, 1));
	twin_tetmesh_free(z);

	/* Names are kept sorted by tag, and setting again replaces. */
	assert_int_equal(m->n_regions, 2);
	assert_int_equal(m->regions[0].tag, 1);
	assert_string_equal(m->regions[1].name, "heart_ventricle_left");
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "lv"));
	assert_int_equal(m->n_regions, 2);
	assert_string_equal(twin_tetmesh_region_name(m, 3), "lv");
	assert_string_equal(twin_tetmesh_surface_name(m, 2), "epicardium");
	assert_null(twin_tetmesh_surface_name(m, 3));
	twin_tetmesh_free(m);
	twin_tetmesh_free(NULL);
}

static void bad_names_are_refused(void **state)
{
	struct twin_tetmesh *m = two_tets();
	char longname[200];
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_set_region_name(&err, m, 0, "background"), -1);
	assert_err(err, TWIN_EINPUT, "region 0: a named tag must be positive");
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_set_surface_name(&err, m, 4, "mitral \"valve\""), -1);
	assert_err(err, TWIN_EINPUT, "surface 4: name 'mitral \"valve\"' holds a quote");
	twin_err_init(&err);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(twin_tetmesh_set_surface_name(&err, m, 4, longname), -1);
	assert_err(err, TWIN_EINPUT, "must have 1 to 127 characters");
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_set_surface_name(&err, m, 4, ""), -1);
	assert_err(err, TWIN_EINPUT, "surface 4: name '' must have");
	assert_int_equal(m->n_surfaces, 2);
	twin_tetmesh_free(m);
}

static void too_many_nodes_is_refused(void **state)
{
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_null(twin_tetmesh_new(&err, (size_t)UINT32_MAX + 1, 1, 1));
	assert_err(err, TWIN_EUNSUPPORTED, "4294967296 nodes");
}

static void volumes_and_areas(void **state)
{
	struct twin_tetmesh *m = two_tets();

	(void)state;
	assert_true(fabs(twin_tetmesh_tet_volume(m, 0) - 1.0 / 6) < 1e-15);
	assert_true(fabs(twin_tetmesh_tet_volume(m, 1) - 1.0 / 3) < 1e-15);
	assert_true(fabs(twin_tetmesh_tri_area(m, 0) - sqrt(3.0) / 2) < 1e-15);
	assert_true(fabs(twin_tetmesh_tri_area(m, 1) - 0.5) < 1e-15);
	twin_tetmesh_free(m);
}

static void check_accepts_valid(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_tetmesh_check(&err, m));
	twin_tetmesh_free(m);
}

static void check_catches_inverted(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->tets[4 + 2] = 4;
	m->tets[4 + 3] = 3;
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "tetrahedron 1 is inverted: volume -0.333333 mm^3");
	twin_tetmesh_free(m);
}

static void check_catches_flat(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->xyz[3 * 4 + 0] = 1.0 / 3; /* node 4 onto the plane x + y + z = 1 */
	m->xyz[3 * 4 + 1] = 1.0 / 3;
	m->xyz[3 * 4 + 2] = 1.0 / 3;
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "tetrahedron 1 has zero volume");
	twin_tetmesh_free(m);
}

static void check_catches_out_of_range(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->tets[6] = 5;
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "tetrahedron 1: node index 5 is out of range (5 nodes)");
	m->tets[6] = 3;
	m->tris[5] = 9;
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "triangle 1: node index 9 is out of range (5 nodes)");
	m->tris[5] = 0;
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "triangle 1 repeats a node (0 2 0)");
	m->tris[5] = 1;
	m->xyz[7] = NAN;
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "node 2 has a coordinate that is not finite");
	twin_tetmesh_free(m);
}

static void check_catches_unnamed_and_duplicate(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->tet_region[1] = 5;
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "region 5 is used by 1 tetrahedra but has no name");
	m->tet_region[1] = 1;
	m->tri_surface[1] = 0;
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "surface 0 is used by 1 triangles but has no name");
	m->tri_surface[1] = 2;
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 2, "endocardium_lv"));
	twin_err_init(&err);
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "surface name 'endocardium_lv' is given to surfaces 2 and 7");
	twin_tetmesh_free(m);
}

static void orient_flips_negative(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->tets[0] = 1; /* A = (1 0 2 3): negative */
	m->tets[1] = 0;
	assert_true(twin_tetmesh_tet_volume(m, 0) < 0);
	assert_int_equal(twin_tetmesh_orient(m), 1);
	assert_true(fabs(twin_tetmesh_tet_volume(m, 0) - 1.0 / 6) < 1e-15);
	assert_int_equal(m->tets[0], 1);
	assert_int_equal(m->tets[1], 0);
	assert_int_equal(m->tets[2], 3);
	assert_int_equal(m->tets[3], 2);
	assert_int_equal(twin_tetmesh_orient(m), 0);
	assert_ok(err, twin_tetmesh_check(&err, m));
	twin_tetmesh_free(m);
}

static void counts_per_tag(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_tetmesh_count *c = NULL;
	struct twin_err err;
	size_t n = 0;

	(void)state;
	twin_err_init(&err);
	m->tri_surface[0] = 2;
	assert_ok(err, twin_tetmesh_region_counts(&err, m, &c, &n));
	assert_int_equal(n, 2);
	assert_int_equal(c[0].tag, 1);
	assert_int_equal(c[0].count, 1);
	assert_int_equal(c[1].tag, 3);
	assert_int_equal(c[1].count, 1);
	free(c);
	assert_ok(err, twin_tetmesh_surface_counts(&err, m, &c, &n));
	assert_int_equal(n, 1);
	assert_int_equal(c[0].tag, 2);
	assert_int_equal(c[0].count, 2);
	free(c);
	twin_tetmesh_free(m);
}

/* Every local face, in the table's order, has its normal pointing away from the opposite node. */
static void face_table_points_out(void **state)
{
	struct twin_tetmesh *m = two_tets();

	(void)state;
	for (size_t t = 0; t < m->n_tets; t++) {
		for (int f = 0; f < 4; f++) {
			const double *p[3], *o = m->xyz + 3 * m->tets[4 * t + f];
			double u[3], v[3], nrm[3], dot = 0;
			for (int k = 0; k < 3; k++)
				p[k] = m->xyz + 3 * m->tets[4 * t + twin_tetmesh_face_nodes[f][k]];
			for (int k = 0; k < 3; k++) {
				u[k] = p[1][k] - p[0][k];
				v[k] = p[2][k] - p[0][k];
			}
			nrm[0] = u[1] * v[2] - u[2] * v[1];
			nrm[1] = u[2] * v[0] - u[0] * v[2];
			nrm[2] = u[0] * v[1] - u[1] * v[0];
			for (int k = 0; k < 3; k++)
				dot += nrm[k] * (p[0][k] - o[k]);
			assert_true(dot > 0);
			for (int k = 0; k < 3; k++)
				assert_int_not_equal(twin_tetmesh_face_nodes[f][k], f);
		}
	}
	twin_tetmesh_free(m);
}

static void face_index_finds_parents(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_tetmesh_parent *p;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	p = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, p);
	/* Shared face (1 2 3): opposite node 0 of A, opposite node 4 (local 3) of B. */
	assert_int_equal(p[0].tet[0], 0);
	assert_int_equal(p[0].face[0], 0);
	assert_int_equal(p[0].tet[1], 1);
	assert_int_equal(p[0].face[1], 3);
	/* Outer face (0 1 2) of A: opposite node 3. */
	assert_int_equal(p[1].tet[0], 0);
	assert_int_equal(p[1].face[0], 3);
	assert_int_equal(p[1].tet[1], TWIN_TETMESH_NONE);
	free(p);
	twin_tetmesh_free(m);
}

static void face_index_repeated_triangle(void **state)
{
	static const uint32_t tris[] = { 3, 2, 1, 1, 2, 3, 4, 3, 2 };
	struct twin_tetmesh *m = two_tets();
	struct twin_tetmesh *r;
	struct twin_tetmesh_parent *p;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	r = twin_tetmesh_new(&err, 5, 2, 3);
	assert_ptr_ok(err, r);
	memcpy(r->xyz, m->xyz, 15 * sizeof(double));
	memcpy(r->tets, m->tets, 8 * sizeof(uint32_t));
	memcpy(r->tris, tris, sizeof(tris));
	p = twin_tetmesh_face_index(&err, r);
	assert_ptr_ok(err, p);
	assert_int_equal(p[1].tet[0], 0);
	assert_int_equal(p[1].tet[1], 1);
	assert_int_equal(p[1].face[1], 3);
	assert_int_equal(p[2].tet[0], 1);
	assert_int_equal(p[2].face[0], 0);
	assert_int_equal(p[2].tet[1], TWIN_TETMESH_NONE);
	free(p);
	twin_tetmesh_free(r);
	twin_tetmesh_free(m);
}

static void face_index_refuses_stray_triangle(void **state)
{
	struct twin_tetmesh *m = two_tets();
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	m->tris[3] = 0;
	m->tris[4] = 4;
	m->tris[5] = 1;
	assert_null(twin_tetmesh_face_index(&err, m));
	assert_err(err, TWIN_EINPUT, "triangle 1 (nodes 0 4 1) is not a face of any tetrahedron");
	twin_tetmesh_free(m);
}

static void face_index_refuses_three_parents(void **state)
{
	static const uint32_t tets[] = { 0, 1, 2, 3, 1, 2, 3, 4, 1, 3, 2, 5 };
	struct twin_tetmesh *m = two_tets();
	struct twin_tetmesh *r;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	r = twin_tetmesh_new(&err, 6, 3, 2);
	assert_ptr_ok(err, r);
	memcpy(r->xyz, m->xyz, 15 * sizeof(double));
	r->xyz[15] = r->xyz[16] = r->xyz[17] = 2;
	memcpy(r->tets, tets, sizeof(tets));
	memcpy(r->tris, m->tris, 6 * sizeof(uint32_t));
	assert_null(twin_tetmesh_face_index(&err, r));
	assert_err(err, TWIN_EINPUT, "triangle 0 is a face of more than two tetrahedra (0, 1, 2)");
	twin_tetmesh_free(r);
	twin_tetmesh_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_is_zeroed_and_named),
		cmocka_unit_test(bad_names_are_refused),
		cmocka_unit_test(too_many_nodes_is_refused),
		cmocka_unit_test(volumes_and_areas),
		cmocka_unit_test(check_accepts_valid),
		cmocka_unit_test(check_catches_inverted),
		cmocka_unit_test(check_catches_flat),
		cmocka_unit_test(check_catches_out_of_range),
		cmocka_unit_test(check_catches_unnamed_and_duplicate),
		cmocka_unit_test(orient_flips_negative),
		cmocka_unit_test(counts_per_tag),
		cmocka_unit_test(face_table_points_out),
		cmocka_unit_test(face_index_finds_parents),
		cmocka_unit_test(face_index_repeated_triangle),
		cmocka_unit_test(face_index_refuses_stray_triangle),
		cmocka_unit_test(face_index_refuses_three_parents),
	};

	return cmocka_run_group_tests_name("tetmesh", tests, NULL, NULL);
}
