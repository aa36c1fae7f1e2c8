#include "twin_test.h"

#include <math.h>
#include <stdio.h>

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

/* A mesh of the given nodes, tets (region ids) and triangles (surface tags), named and oriented. */
static struct twin_tetmesh *build(const double *xyz, size_t nn, const uint32_t *tets, const int32_t *region,
				  size_t nt, const uint32_t *tris, const int32_t *tag, size_t ntr)
{
	static const char *names[] = { "", "heart_myocardium", "heart_atrium_left", "heart_ventricle_left" };
	struct twin_err err;
	struct twin_tetmesh *m;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, nn, nt, ntr);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, 3 * nn * sizeof(*xyz));
	memcpy(m->tets, tets, 4 * nt * sizeof(*tets));
	memcpy(m->tet_region, region, nt * sizeof(*region));
	memcpy(m->tris, tris, 3 * ntr * sizeof(*tris));
	memcpy(m->tri_surface, tag, ntr * sizeof(*tag));
	for (size_t t = 0; t < nt; t++)
		assert_ok(err, twin_tetmesh_set_region_name(&err, m, region[t], names[region[t]]));
	for (size_t i = 0; i < ntr; i++) {
		char name[32];

		snprintf(name, sizeof(name), "surface_%d", tag[i]);
		assert_ok(err, twin_tetmesh_set_surface_name(&err, m, tag[i], name));
	}
	twin_tetmesh_orient(m);
	assert_ok(err, twin_tetmesh_check(&err, m));
	return m;
}

/* The volume of region id. */
static double region_volume(const struct twin_tetmesh *m, int32_t id)
{
	double v = 0;

	for (size_t t = 0; t < m->n_tets; t++)
		if (m->tet_region[t] == id)
			v += twin_tetmesh_tet_volume(m, t);
	return v;
}

/*
 * The invariants every repair keeps: a valid mesh, each triangle a face of
 * one tet on the outer boundary (tag < 10 here) or of one tet in each of two
 * regions (tag >= 10).
 */
static void assert_conforming(const struct twin_tetmesh *m)
{
	struct twin_err err;
	struct twin_tetmesh_parent *par;

	twin_err_init(&err);
	assert_ok(err, twin_tetmesh_check(&err, m));
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	for (size_t i = 0; i < m->n_tris; i++)
		if (m->tri_surface[i] < 10) {
			assert_int_equal(par[i].tet[1], TWIN_TETMESH_NONE);
		} else {
			assert_true(par[i].tet[1] != TWIN_TETMESH_NONE);
			assert_true(m->tet_region[par[i].tet[0]] != m->tet_region[par[i].tet[1]]);
		}
	free(par);
}

/* No tet has both nodes a and b. */
static void assert_no_edge(const struct twin_tetmesh *m, uint32_t a, uint32_t b)
{
	for (size_t t = 0; t < m->n_tets; t++) {
		int ha = 0, hb = 0;

		for (int k = 0; k < 4; k++) {
			ha |= m->tets[4 * t + k] == a;
			hb |= m->tets[4 * t + k] == b;
		}
		assert_false(ha && hb);
	}
}

/*
 * Five tets around an inner edge (a, b) whose ring leaves a gap of 175
 * degrees: the tet across the gap is a sliver (its edges (a, b) and (r0, r1)
 * cross). The edge goes, and the five become six tets joining a and b to
 * three triangles of the pentagon.
 */
static void inner_edge_of_five(void **state)
{
	static const double deg[] = { 0, 175, 225, 270, 315 };
	double xyz[3 * 7] = { 0, 0, 1,  0, 0, -1 };
	uint32_t tets[4 * 5], tris[3 * 10];
	int32_t region[5], tag[10];
	struct twin_tetmesh *m;
	struct twin_err err;
	size_t improved = 0;
	double before, worst;

	(void)state;
	twin_err_init(&err);
	for (int i = 0; i < 5; i++) {
		xyz[6 + 3 * i] = cos(deg[i] * M_PI / 180);
		xyz[7 + 3 * i] = sin(deg[i] * M_PI / 180);
		xyz[8 + 3 * i] = 0;
		tets[4 * i] = 0, tets[4 * i + 1] = 1, tets[4 * i + 2] = 2 + i, tets[4 * i + 3] = 2 + (i + 1) % 5;
		region[i] = 3;
		tris[6 * i] = 0, tris[6 * i + 1] = 2 + i, tris[6 * i + 2] = 2 + (i + 1) % 5;
		tris[6 * i + 3] = 1, tris[6 * i + 4] = 2 + i, tris[6 * i + 5] = 2 + (i + 1) % 5;
		tag[2 * i] = tag[2 * i + 1] = 1;
	}
	m = build(xyz, 7, tets, region, 5, tris, tag, 10);
	before = region_volume(m, 3);
	worst = least(m);
	assert_true(worst < 10);
	assert_ok(err, twin_repair_improve(&err, m, 10, &improved));
	assert_true(improved >= 1);
	assert_int_equal(m->n_tets, 6);
	assert_true(least(m) > 10);
	assert_no_edge(m, 0, 1);
	assert_conforming(m);
	assert_true(fabs(region_volume(m, 3) - before) < 1e-9 * before);
	twin_tetmesh_free(m);
}

/*
 * A flat interface between the LV (above) and the LA (below) whose edge
 * (a, b) runs close to u and w: the four tets on it are flat. The interface
 * flips to (a, u, w) and (b, u, w), each side is remeshed for its region, and
 * as the interface is flat, no volume moves between the regions.
 */
static void flat_interface_edge_flips(void **state)
{
	enum { A, B, U, W, TOP, BOT };
	static const double xyz[] = {
		-1, 0, 0,   1, 0, 0,   0, 0.1, 0,   0, -0.1, 0,   0, 0, 1,   0, 0, -1,
	};
	static const uint32_t tets[] = { A, B, U, TOP,  A, B, W, TOP,  A, B, U, BOT,  A, B, W, BOT };
	static const int32_t region[] = { 3, 3, 2, 2 };
	static const uint32_t tris[] = {
		A, B, U,  A, B, W,                                   /* the interface */
		A, U, TOP,  B, U, TOP,  A, W, TOP,  B, W, TOP,       /* LV wall */
		A, U, BOT,  B, U, BOT,  A, W, BOT,  B, W, BOT,       /* LA wall */
	};
	static const int32_t tag[] = { 10, 10, 1, 1, 1, 1, 2, 2, 2, 2 };
	struct twin_tetmesh *m;
	struct twin_err err;
	size_t improved = 0;
	double lv, la, worst;

	(void)state;
	twin_err_init(&err);
	m = build(xyz, 6, tets, region, 4, tris, tag, 10);
	lv = region_volume(m, 3);
	la = region_volume(m, 2);
	worst = least(m);
	assert_true(worst < 10);
	assert_ok(err, twin_repair_improve(&err, m, 10, &improved));
	assert_true(improved >= 1);
	assert_true(least(m) > worst);
	assert_no_edge(m, A, B);
	assert_conforming(m);
	for (size_t i = 0; i < 2; i++) {
		const uint32_t *t = m->tris + 3 * i;

		assert_true((t[0] == U || t[1] == U || t[2] == U) && (t[0] == W || t[1] == W || t[2] == W));
	}
	assert_true(fabs(region_volume(m, 3) - lv) < 1e-9 * lv);
	assert_true(fabs(region_volume(m, 2) - la) < 1e-9 * la);
	twin_tetmesh_free(m);
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
		cmocka_unit_test(inner_edge_of_five),
		cmocka_unit_test(flat_interface_edge_flips),
	};

	return cmocka_run_group_tests_name("mesh_repair", tests, NULL, NULL);
}
