#include "twin_test.h"

#include "../../mesh/quality.h"
#include "../../mesh/repair.h"
#include "tetmesh.h"

/*
 * A sliver on a fold: a, b, c, d nearly in one plane, the wall folded along
 * (a, b) into triangles (a, b, c) and (a, b, d), and two good tets above it up
 * to e; nothing lies below the fold.
 */
static struct twin_tetmesh *fold(void)
{
	static const double xyz[] = {
		0, 0, 0,     2, 0, 0,     1, 1, 0.05,   1, -1, 0.05,   1, 0, 1.5,
	};
	static const uint32_t tets[] = { 0, 1, 2, 3,  0, 2, 3, 4,  1, 2, 3, 4 };
	static const uint32_t tris[] = { 0, 1, 2,  0, 1, 3,  0, 2, 4,  0, 3, 4,  1, 2, 4,  1, 3, 4 };
	struct twin_err err;
	struct twin_tetmesh *m;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 5, 3, 6);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tris, tris, sizeof(tris));
	for (size_t t = 0; t < 3; t++)
		m->tet_region[t] = 3;
	for (size_t i = 0; i < 6; i++)
		m->tri_surface[i] = 1;
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 1, "wall_lv"));
	twin_tetmesh_orient(m);
	assert_ok(err, twin_tetmesh_check(&err, m));
	return m;
}

static double least(const struct twin_tetmesh *m)
{
	double best = 180;

	for (size_t t = 0; t < m->n_tets; t++) {
		const double *p[4];
		double d;

		for (int k = 0; k < 4; k++)
			p[k] = m->xyz + 3 * m->tets[4 * t + k];
		d = twin_quality_min_dihedral(p);
		if (d < best)
			best = d;
	}
	return best;
}

static void sliver_on_fold_leaves(void **state)
{
	struct twin_tetmesh *m = fold();
	struct twin_tetmesh_parent *par;
	struct twin_err err;
	size_t fixed = 0;

	(void)state;
	twin_err_init(&err);
	assert_true(least(m) < 10);
	assert_ok(err, twin_repair_slivers(&err, m, 10, &fixed));
	assert_int_equal(fixed, 1);
	assert_int_equal(m->n_tets, 2);
	assert_true(least(m) > 10);
	assert_ok(err, twin_tetmesh_check(&err, m));
	/* the fold's triangles are now the faces (a, c, d) and (b, c, d) of the tets left */
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	for (size_t i = 0; i < m->n_tris; i++)
		assert_int_equal(par[i].tet[1], TWIN_TETMESH_NONE);
	free(par);
	twin_tetmesh_free(m);
}

/* Once the sliver is gone, nothing more changes. */
static void good_mesh_stays(void **state)
{
	struct twin_tetmesh *m = fold();
	struct twin_err err;
	size_t fixed = 9, improved = 9;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_repair_slivers(&err, m, 10, &fixed));
	assert_ok(err, twin_repair_slivers(&err, m, 10, &fixed));
	assert_int_equal(fixed, 0);
	assert_ok(err, twin_repair_improve(&err, m, 10, &improved));
	assert_int_equal(improved, 0);
	assert_int_equal(m->n_tets, 2);
	twin_tetmesh_free(m);
}

/* Two tets sharing a face, one of them flat: flipped into three good ones around the apexes' edge. */
static void flip_two_to_three(void **state)
{
	static const double xyz[] = {
		0, 0, 0,   2, 0, 0,   1, 1.7, 0,   1, 0.6, 0.02,   1, 0.6, -1.5,
	};
	static const uint32_t tets[] = { 0, 1, 2, 3,  0, 1, 2, 4 };
	static const uint32_t tris[] = { 0, 1, 3,  1, 2, 3,  0, 2, 3,  0, 1, 4,  1, 2, 4,  0, 2, 4 };
	struct twin_err err;
	struct twin_tetmesh *m;
	size_t improved = 0;
	double before = 0, worst;

	(void)state;
	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 5, 2, 6);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tris, tris, sizeof(tris));
	m->tet_region[0] = m->tet_region[1] = 2;
	twin_tetmesh_orient(m);
	for (size_t t = 0; t < 2; t++)
		before += twin_tetmesh_tet_volume(m, t);
	worst = least(m);
	assert_true(worst < 10);
	assert_ok(err, twin_repair_improve(&err, m, 10, &improved));
	assert_int_equal(improved, 1);
	assert_int_equal(m->n_tets, 3);
	assert_true(least(m) > worst);
	{
		double after = 0;

		for (size_t t = 0; t < 3; t++) {
			assert_true(twin_tetmesh_tet_volume(m, t) > 0);
			after += twin_tetmesh_tet_volume(m, t);
		}
		assert_true(after > before - 1e-9 && after < before + 1e-9);
	}
	twin_tetmesh_free(m);
}

/*
 * The same fold on the interface of two regions: the LV sliver (a, b, c, d)
 * sits on the valve, and three LA tets close the ring around the edge
 * (a, b) below it. The four become four LA tets without that edge.
 */
static void fold_on_interface(void **state)
{
	static const double xyz[] = {
		0, 0, 0,   2, 0, 0,   1, 1, 0.05,   1, -1, 0.05,   1, 0, 1.5,   1, 0.7, -1,   1, -0.7, -1,
	};
	enum { A, B, C, D, E, X1, X2 };
	static const uint32_t tets[] = {
		A, B, C, D,  A, C, D, E,  B, C, D, E,        /* LV */
		A, B, C, X1,  A, B, X1, X2,  A, B, X2, D,    /* LA */
	};
	static const uint32_t tris[] = {
		A, B, C,  A, B, D,                                   /* valve */
		A, C, E,  A, D, E,  B, C, E,  B, D, E,               /* LV wall */
		A, C, X1,  B, C, X1,  A, X1, X2,  B, X1, X2,  A, X2, D,  B, X2, D, /* LA wall */
	};
	struct twin_err err;
	struct twin_tetmesh *m;
	struct twin_tetmesh_parent *par;
	size_t fixed = 0, lv = 0;
	double worst;

	(void)state;
	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 7, 6, 12);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tris, tris, sizeof(tris));
	for (size_t t = 0; t < 6; t++)
		m->tet_region[t] = t < 3 ? 3 : 2;
	for (size_t i = 0; i < 12; i++)
		m->tri_surface[i] = i < 2 ? 1 : i < 6 ? 2 : 3;
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 2, "heart_atrium_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 1, "mitral_valve"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 2, "wall_lv"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 3, "wall_la"));
	twin_tetmesh_orient(m);
	assert_ok(err, twin_tetmesh_check(&err, m));
	worst = least(m);
	assert_true(worst < 10);
	assert_ok(err, twin_repair_slivers(&err, m, 10, &fixed));
	assert_int_equal(fixed, 1);
	assert_int_equal(m->n_tets, 6);
	assert_true(least(m) > worst);
	for (size_t t = 0; t < m->n_tets; t++) {
		const uint32_t *n = m->tets + 4 * t;
		int ha = 0, hb = 0;

		for (int k = 0; k < 4; k++) {
			ha |= n[k] == A;
			hb |= n[k] == B;
		}
		assert_false(ha && hb);
		lv += m->tet_region[t] == 3;
	}
	assert_int_equal(lv, 2);
	assert_ok(err, twin_tetmesh_check(&err, m));
	/* the valve's two triangles still separate the LV from the LA */
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	for (size_t i = 0; i < m->n_tris; i++)
		if (m->tri_surface[i] == 1) {
			assert_true(par[i].tet[1] != TWIN_TETMESH_NONE);
			assert_true(m->tet_region[par[i].tet[0]] != m->tet_region[par[i].tet[1]]);
		} else {
			assert_int_equal(par[i].tet[1], TWIN_TETMESH_NONE);
		}
	free(par);
	twin_tetmesh_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sliver_on_fold_leaves),
		cmocka_unit_test(good_mesh_stays),
		cmocka_unit_test(flip_two_to_three),
		cmocka_unit_test(fold_on_interface),
	};

	return cmocka_run_group_tests_name("mesh_repair", tests, NULL, NULL);
}
