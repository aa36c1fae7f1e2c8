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

/* The regions on the two sides of each triangle (0 for none), smaller first. */
static int32_t *triangle_sides(const struct twin_tetmesh *m)
{
	struct twin_err err;
	struct twin_tetmesh_parent *par;
	int32_t *sides = calloc(2 * m->n_tris, sizeof(*sides));

	twin_err_init(&err);
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	assert_non_null(sides);
	for (size_t i = 0; i < m->n_tris; i++) {
		int32_t r0 = m->tet_region[par[i].tet[0]];
		int32_t r1 = par[i].tet[1] == TWIN_TETMESH_NONE ? 0 : m->tet_region[par[i].tet[1]];

		sides[2 * i] = r0 < r1 ? r0 : r1;
		sides[2 * i + 1] = r0 < r1 ? r1 : r0;
	}
	free(par);
	return sides;
}

/*
 * A sliver all of whose nodes lie on the interface of a wall one tet thick
 * (the RV wall grown 3 mm, meshed at 2.4 mm): its four short sides are
 * surface edges, its two long ones inner edges whose removal gives worse
 * tets. Cut from twin-mesh's output (the phantom at --size 2.4 --set
 * mesh.rv_wall=3): the 71 tets that share a node with it, the regions
 * renumbered (3 the blood, 1 the wall), the surface tags as found. An inner
 * edge is split and its new node moves off the sliver's plane. Nothing on
 * the surface moves: each triangle keeps its nodes and the regions on its
 * sides, and each region its volume.
 */
static void sliver_on_thin_wall_splits(void **state)
{
	static const double xyz[] = {
		-0.8183, -3.9575, -0.8320, 0.7884, -3.9575, -0.8320, -1.2770, -3.2513, 0.8134,
		-1.6116, -1.5575, 3.9299, 1.3695, -1.2003, 3.7337, 1.7710, -3.3459, -3.8538,
		-1.1761, -1.1077, -3.7236, 1.2669, -1.6635, -3.6613, 3.5053, -1.6899, -3.6388,
		-3.5316, -1.0441, -1.2992, -1.2559, -1.0258, -1.3121, 1.2593, -1.1414, -1.2693,
		3.5008, -1.1660, -1.2549, -2.2492, 0.6035, -1.0754, -3.0248, 0.7773, -0.7346,
		2.2840, 0.9346, -0.6975, -0.8183, -1.5927, 1.5141, 0.7884, -1.5927, 1.5141,
		-3.5615, 1.0567, 1.3390, -1.2731, 1.0919, 1.3130, 1.2697, 1.0753, 1.2683,
		3.5136, 0.9963, 1.3189, -1.1954, 1.3319, 3.5845, 1.2365, 1.6893, 3.0666,
		1.2470, -3.2513, 0.8134, -3.0696, 3.7723, -0.7626, -1.9054, 4.3011, 1.4257,
		2.2651, 3.2246, -0.0031, 0.3788, 3.5773, 1.9199, 0.1702, 1.1019, -2.3166,
		-0.6415, 3.0320, -0.4262, 2.1720, 0.9068, -3.0391,
	};
	static const uint32_t tets[] = {
		19, 13, 14, 30, 20, 15, 13, 30, 23, 27, 20, 28, 15, 10, 13, 29,
		15, 20, 27, 30, 19, 26, 28, 30, 15, 20, 10, 11, 23, 21, 20, 27,
		18, 22, 19, 26, 20, 28, 27, 30, 19, 20, 13, 30, 10, 6, 13, 29,
		7, 29, 11, 31, 10, 6, 9, 13, 10, 15, 11, 29, 20, 15, 27, 21,
		7, 6, 11, 29, 19, 28, 20, 30, 16, 11, 24, 2, 22, 23, 19, 28,
		24, 17, 11, 16, 11, 29, 15, 31, 24, 0, 11, 1, 0, 24, 11, 2,
		10, 11, 16, 2, 19, 23, 20, 28, 8, 7, 11, 31, 10, 11, 2, 0,
		10, 11, 6, 29, 11, 12, 31, 15, 11, 12, 8, 31, 13, 10, 20, 19,
		13, 20, 10, 15, 26, 28, 22, 19, 19, 17, 11, 20, 11, 17, 19, 16,
		11, 10, 19, 20, 19, 10, 11, 16, 14, 19, 25, 18, 14, 25, 19, 30,
		26, 25, 19, 18, 26, 19, 25, 30, 9, 10, 0, 6, 19, 14, 13, 16,
		1, 11, 12, 5, 21, 20, 15, 17, 8, 11, 7, 5, 9, 13, 16, 10,
		12, 15, 11, 17, 19, 18, 14, 16, 9, 10, 16, 2, 8, 12, 11, 5,
		11, 15, 20, 17, 24, 11, 12, 1, 9, 10, 2, 0, 17, 11, 12, 24,
		13, 10, 19, 16, 0, 5, 11, 1, 11, 5, 0, 7, 0, 6, 11, 7,
		11, 6, 0, 10, 4, 16, 19, 17, 4, 23, 19, 22, 4, 19, 3, 22,
		4, 3, 19, 16, 18, 3, 19, 22, 18, 19, 3, 16, 20, 21, 4, 17,
		4, 21, 20, 23, 4, 19, 20, 17, 20, 19, 4, 23,
	};
	static const int32_t region[] = {
		3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
		3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	};
	static const uint32_t tris[] = {
		16, 4, 17, 16, 3, 4, 10, 9, 6, 7, 11, 6, 11, 10, 6,
		8, 11, 7, 8, 12, 11, 11, 1, 0, 10, 11, 0, 2, 10, 0,
		1, 11, 24, 9, 10, 13, 19, 13, 10, 2, 16, 10, 16, 19, 10,
		11, 12, 15, 11, 15, 20, 11, 17, 24, 11, 20, 17, 13, 19, 14,
		19, 18, 14, 20, 15, 21, 16, 17, 19, 17, 20, 19, 19, 22, 18,
		20, 23, 19, 23, 22, 19, 21, 23, 20, 0, 24, 1, 0, 2, 24,
		16, 24, 2, 16, 17, 24,
	};
	static const int32_t tag[] = {
		3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
		4, 4, 4, 4, 6, 6, 6, 6,
	};

	struct twin_tetmesh *m = build(xyz, sizeof(xyz) / sizeof(xyz[0]) / 3, tets, region,
				       sizeof(region) / sizeof(region[0]), tris, tag, sizeof(tag) / sizeof(tag[0]));
	uint32_t *before_tris = malloc(sizeof(tris));
	int32_t *before_sides = triangle_sides(m), *after_sides;
	struct twin_err err;
	size_t improved = 0, nodes = m->n_nodes;
	double blood = region_volume(m, 3), wall = region_volume(m, 1);

	(void)state;
	twin_err_init(&err);
	assert_non_null(before_tris);
	memcpy(before_tris, m->tris, sizeof(tris));
	assert_true(least(m) < 10);
	assert_ok(err, twin_repair_improve(&err, m, 10, &improved));
	assert_true(improved >= 1);
	assert_true(least(m) > 10);
	assert_true(m->n_nodes > nodes);
	assert_ok(err, twin_tetmesh_check(&err, m));
	assert_memory_equal(before_tris, m->tris, sizeof(tris));
	after_sides = triangle_sides(m);
	assert_memory_equal(before_sides, after_sides, 2 * m->n_tris * sizeof(*after_sides));
	assert_true(fabs(region_volume(m, 3) - blood) < 1e-9 * blood);
	assert_true(fabs(region_volume(m, 1) - wall) < 1e-9 * wall);
	free(before_tris);
	free(before_sides);
	free(after_sides);
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
		cmocka_unit_test(sliver_on_thin_wall_splits),
	};

	return cmocka_run_group_tests_name("mesh_repair", tests, NULL, NULL);
}
