#include "repair.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"

/* Node -> the items (tets or triangles) that use it, as compressed rows. */
struct incidence {
	size_t *start;
	uint32_t *item;
};

static int incidence_build(struct incidence *inc, size_t n_nodes, const uint32_t *nodes, size_t n_items,
			   int per_item)
{
	size_t *fill = calloc(n_nodes + 1, sizeof(*fill));

	inc->start = calloc(n_nodes + 1, sizeof(*inc->start));
	inc->item = malloc((n_items * per_item + 1) * sizeof(*inc->item));
	if (!fill || !inc->start || !inc->item) {
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < n_items * per_item; i++)
		inc->start[nodes[i] + 1]++;
	for (size_t v = 0; v < n_nodes; v++)
		inc->start[v + 1] += inc->start[v];
	for (size_t i = 0; i < n_items * per_item; i++) {
		uint32_t v = nodes[i];

		inc->item[inc->start[v] + fill[v]++] = (uint32_t)(i / per_item);
	}
	free(fill);
	return 0;
}

static void incidence_release(struct incidence *inc)
{
	free(inc->start);
	free(inc->item);
	inc->start = NULL;
	inc->item = NULL;
}

static int has(const uint32_t *nodes, int n, uint32_t v)
{
	for (int k = 0; k < n; k++)
		if (nodes[k] == v)
			return 1;
	return 0;
}

/* The triangle with nodes {a, b, c}, or -1. */
static long find_tri(const struct twin_tetmesh *m, const struct incidence *tris, uint32_t a, uint32_t b, uint32_t c)
{
	for (size_t k = tris->start[a]; k < tris->start[a + 1]; k++) {
		const uint32_t *t = m->tris + 3 * tris->item[k];

		if (has(t, 3, b) && has(t, 3, c))
			return (long)tris->item[k];
	}
	return -1;
}

/* How many triangles have the edge (a, b). */
static int edge_tris(const struct twin_tetmesh *m, const struct incidence *tris, uint32_t a, uint32_t b)
{
	int n = 0;

	for (size_t k = tris->start[a]; k < tris->start[a + 1]; k++)
		n += has(m->tris + 3 * tris->item[k], 3, b);
	return n;
}

static double volume6(const double *p[4])
{
	double a[3], b[3], c[3];

	for (int i = 0; i < 3; i++) {
		a[i] = p[1][i] - p[0][i];
		b[i] = p[2][i] - p[0][i];
		c[i] = p[3][i] - p[0][i];
	}
	return a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
	       a[2] * (b[0] * c[1] - b[1] * c[0]);
}

static double tet_volume6(const struct twin_tetmesh *m, const uint32_t *n)
{
	const double *p[4];

	for (int k = 0; k < 4; k++)
		p[k] = m->xyz + 3 * n[k];
	return volume6(p);
}

/* Sets tet nodes (a, b, c, d), positively oriented; returns its smallest dihedral angle. */
static double make_tet(const struct twin_tetmesh *m, uint32_t out[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	const double *p[4];

	out[0] = a, out[1] = b, out[2] = c, out[3] = d;
	for (int k = 0; k < 4; k++)
		p[k] = m->xyz + 3 * out[k];
	if (volume6(p) < 0) {
		uint32_t t = out[2];

		out[2] = out[3];
		out[3] = t;
		p[2] = m->xyz + 3 * out[2];
		p[3] = m->xyz + 3 * out[3];
	}
	return volume6(p) > 0 ? twin_quality_min_dihedral(p) : 0;
}

/* Replaces triangle i by (a, b, c), turned to face the way it faced before. */
static void retri(struct twin_tetmesh *m, long i, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t *t = m->tris + 3 * i;
	double n0[3], n1[3], u[3], v[3];
	const double *x = m->xyz;

	for (int k = 0; k < 3; k++) {
		u[k] = x[3 * t[1] + k] - x[3 * t[0] + k];
		v[k] = x[3 * t[2] + k] - x[3 * t[0] + k];
	}
	n0[0] = u[1] * v[2] - u[2] * v[1], n0[1] = u[2] * v[0] - u[0] * v[2], n0[2] = u[0] * v[1] - u[1] * v[0];
	for (int k = 0; k < 3; k++) {
		u[k] = x[3 * b + k] - x[3 * a + k];
		v[k] = x[3 * c + k] - x[3 * a + k];
	}
	n1[0] = u[1] * v[2] - u[2] * v[1], n1[1] = u[2] * v[0] - u[0] * v[2], n1[2] = u[0] * v[1] - u[1] * v[0];
	t[0] = a;
	if (n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2] >= 0)
		t[1] = b, t[2] = c;
	else
		t[1] = c, t[2] = b;
}

/* The smallest dihedral angle over tets ts[0..n-1], 0 when one is not positive. */
static double worst_of(const struct twin_tetmesh *m, const uint32_t *ts, size_t n)
{
	double least = 180;

	for (size_t i = 0; i < n; i++) {
		const double *p[4];
		double d;

		for (int k = 0; k < 4; k++)
			p[k] = m->xyz + 3 * m->tets[4 * ts[i] + k];
		if (volume6(p) <= 0)
			return 0;
		d = twin_quality_min_dihedral(p);
		if (d < least)
			least = d;
	}
	return least;
}

/*
 * Room for one more tet at the end of m (its arrays grow by doubling, and
 * gone with them): returns its index, or -1 on no memory.
 */
static long add_tet(struct twin_tetmesh *m, size_t *cap, uint8_t **gone)
{
	if (m->n_tets == *cap) {
		size_t want = *cap * 2 + 16;
		uint32_t *t;
		int32_t *r;
		uint8_t *g;

		/* the arrays are malloc'd by twin_tetmesh_new and freed with free */
		t = realloc(m->tets, 4 * want * sizeof(*t));
		if (!t)
			return -1;
		m->tets = t;
		r = realloc(m->tet_region, want * sizeof(*r));
		if (!r)
			return -1;
		m->tet_region = r;
		g = realloc(*gone, want);
		if (!g)
			return -1;
		*gone = g;
		*cap = want;
	}
	(*gone)[m->n_tets] = 0;
	return (long)m->n_tets++;
}

/* The most tets around an edge that an edge removal looks at. */
#define RING_MAX 12

/*
 * The tets around edge (a, b) in order, around[0..n-1], and the ring of their
 * other nodes: tet around[i] has a, b, ring[i] and ring[i + 1]. A closed ring
 * has n nodes (ring[n] is ring[0]); an open one (an edge on the outer
 * boundary) has n + 1, and *open is set. Returns n, or 0 when a node comes
 * twice or there are more than RING_MAX tets.
 */
static int edge_ring(const struct twin_tetmesh *m, const struct incidence *tets, const uint8_t *gone,
		     uint32_t a, uint32_t b, uint32_t around[RING_MAX], uint32_t ring[RING_MAX + 1], int *open)
{
	uint32_t all[RING_MAX], first = UINT32_MAX;
	int n = 0, used[RING_MAX] = { 0 }, start = 0;

	for (size_t k = tets->start[a]; k < tets->start[a + 1]; k++) {
		uint32_t x = tets->item[k];

		if (gone[x] || !has(m->tets + 4 * x, 4, b))
			continue;
		if (n == RING_MAX)
			return 0;
		all[n++] = x;
	}
	if (n == 0)
		return 0;
	/* an open ring starts at a node that only one tet has */
	for (int i = 0; i < n && first == UINT32_MAX; i++)
		for (int k = 0; k < 4 && first == UINT32_MAX; k++) {
			uint32_t v = m->tets[4 * all[i] + k];
			int c = 0;

			if (v == a || v == b)
				continue;
			for (int j = 0; j < n; j++)
				c += has(m->tets + 4 * all[j], 4, v);
			if (c == 1) {
				first = v;
				start = i;
			}
		}
	*open = first != UINT32_MAX;
	ring[0] = first;
	for (int k = 0; k < 4; k++) {
		uint32_t v = m->tets[4 * all[start] + k];

		if (v != a && v != b && v != first) {
			if (ring[0] == UINT32_MAX)
				ring[0] = v;
			else
				ring[1] = v;
		}
	}
	around[0] = all[start];
	used[start] = 1;
	for (int i = 1; i < n; i++) {
		uint32_t next = UINT32_MAX;

		for (int j = 0; j < n && next == UINT32_MAX; j++) {
			const uint32_t *o = m->tets + 4 * all[j];

			if (used[j] || !has(o, 4, ring[i]))
				continue;
			used[j] = 1;
			around[i] = all[j];
			for (int k = 0; k < 4; k++)
				if (o[k] != a && o[k] != b && o[k] != ring[i])
					next = o[k];
		}
		if (next == UINT32_MAX || (has(ring, i + 1, next) && !(i == n - 1 && next == ring[0])))
			return 0;
		ring[i + 1] = next;
	}
	if (!*open)
		return ring[n] == ring[0] && n >= 3 ? n : 0;
	return n;
}

/*
 * The smallest dihedral angle of the tets (a, x, y, z) and (b, x, y, z), 0
 * when either lies on the wrong side of (x, y, z): seen from a, the polygon
 * turns the way sign says (the sign of det(b - a, p[i] - a, p[i+1] - a)).
 */
static double ring_pair(const struct twin_tetmesh *m, uint32_t a, uint32_t b, uint32_t x, uint32_t y, uint32_t z,
			double sign)
{
	const double *p[4] = { m->xyz + 3 * x, m->xyz + 3 * y, m->xyz + 3 * z, m->xyz + 3 * a };
	double qa, qb;

	if (volume6(p) * sign >= 0)
		return 0;
	qa = twin_quality_min_dihedral(p);
	p[3] = m->xyz + 3 * b;
	if (volume6(p) * sign <= 0)
		return 0;
	qb = twin_quality_min_dihedral(p);
	return qa < qb ? qa : qb;
}

/*
 * The triangulation of polygon p[0..n-1] whose tets with a and b have the
 * best worst dihedral angle, by dynamic programming over its sub-polygons
 * (Shewchuk, "Two Discrete Optimization Algorithms for the Topological
 * Improvement of Tetrahedral Meshes", 2002): appends its 2(n - 2) tets to
 * out[*nout ..] and returns that angle (180 for no tets, 0 when none is valid).
 */
static double triangulate(const struct twin_tetmesh *m, uint32_t a, uint32_t b, const uint32_t *p, int n,
			  double sign, uint32_t (*out)[4], int *nout)
{
	double best[RING_MAX + 1][RING_MAX + 1];
	int pick[RING_MAX + 1][RING_MAX + 1], stack[RING_MAX + 1][2], top = 0;

	if (n < 3)
		return 180;
	for (int len = 2; len < n; len++)
		for (int i = 0; i + len < n; i++) {
			int j = i + len;

			best[i][j] = -1;
			for (int k = i + 1; k < j; k++) {
				double q = ring_pair(m, a, b, p[i], p[k], p[j], sign);

				if (k - i >= 2 && best[i][k] < q)
					q = best[i][k];
				if (j - k >= 2 && best[k][j] < q)
					q = best[k][j];
				if (q > best[i][j]) {
					best[i][j] = q;
					pick[i][j] = k;
				}
			}
		}
	if (best[0][n - 1] <= 0)
		return 0;
	stack[top][0] = 0;
	stack[top++][1] = n - 1;
	while (top > 0) {
		int i, j, k;

		top--;
		i = stack[top][0];
		j = stack[top][1];
		k = pick[i][j];
		make_tet(m, out[(*nout)++], p[i], p[k], p[j], a);
		make_tet(m, out[(*nout)++], p[i], p[k], p[j], b);
		if (k - i >= 2) {
			stack[top][0] = i;
			stack[top++][1] = k;
		}
		if (j - k >= 2) {
			stack[top][0] = k;
			stack[top++][1] = j;
		}
	}
	return best[0][n - 1];
}

/*
 * For an edge (a, b) inside one tagged surface, with the triangles tri[0] =
 * (a, b, u) and tri[1] = (a, b, w): turns a closed ring to start at u (an
 * open one must run from u to w) and sets *cut to where w is in it, and
 * *roof to the volume of (a, b, u, w) that leaves the mesh when the ring is
 * open. Returns 0 when the triangles cannot flip into (a, u, w) and (b, u,
 * w): one is there already, or the surface would move by more than a tenth
 * of an edge (the distance between the lines (a, b) and (u, w)).
 */
static int surface_cut(const struct twin_tetmesh *m, const struct incidence *tris, const long tri[2], uint32_t a,
		       uint32_t b, uint32_t *around, uint32_t *ring, int n, int open, int *cut, double *roof)
{
	uint32_t u = UINT32_MAX, w = UINT32_MAX;
	const double *p[4];
	double cr[3], e[2][3], len[2];
	int c = 0;

	for (int k = 0; k < 3; k++) {
		if (m->tris[3 * tri[0] + k] != a && m->tris[3 * tri[0] + k] != b)
			u = m->tris[3 * tri[0] + k];
		if (m->tris[3 * tri[1] + k] != a && m->tris[3 * tri[1] + k] != b)
			w = m->tris[3 * tri[1] + k];
	}
	/* turn a closed ring to start at u; an open one must run from u to w */
	if (open) {
		if (ring[n] == u) {
			uint32_t t = u;

			u = w;
			w = t;
		}
		if (ring[0] != u || ring[n] != w)
			return 0;
	} else {
		int s = 0;
		uint32_t rot[RING_MAX], ra[RING_MAX];

		while (s < n && ring[s] != u)
			s++;
		if (s == n)
			return 0;
		for (int i = 0; i < n; i++) {
			rot[i] = ring[(s + i) % n];
			ra[i] = around[(s + i) % n];
		}
		memcpy(ring, rot, n * sizeof(*ring));
		memcpy(around, ra, n * sizeof(*around));
		ring[n] = u;
	}
	while (c < n && ring[c] != w)
		c++;
	if (c == 0 || (c == n && !open) || find_tri(m, tris, a, u, w) >= 0 || find_tri(m, tris, b, u, w) >= 0)
		return 0;
	/* how far the surface moves */
	p[0] = m->xyz + 3 * a, p[1] = m->xyz + 3 * b, p[2] = m->xyz + 3 * u, p[3] = m->xyz + 3 * w;
	for (int k = 0; k < 3; k++) {
		e[0][k] = p[1][k] - p[0][k];
		e[1][k] = p[3][k] - p[2][k];
	}
	cr[0] = e[0][1] * e[1][2] - e[0][2] * e[1][1];
	cr[1] = e[0][2] * e[1][0] - e[0][0] * e[1][2];
	cr[2] = e[0][0] * e[1][1] - e[0][1] * e[1][0];
	for (int s = 0; s < 2; s++)
		len[s] = sqrt(e[s][0] * e[s][0] + e[s][1] * e[s][1] + e[s][2] * e[s][2]);
	if (fabs(volume6(p)) > 0.1 * fmin(len[0], len[1]) * sqrt(cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]))
		return 0;
	*cut = c;
	*roof = open ? fabs(volume6(p)) : 0;
	return 1;
}

/*
 * Edge removal: the tets around edge (a, b) become tets that join a and b to
 * triangulations of their ring (triangulate), when their worst dihedral
 * angle is better than that of the old ones. An edge inside a region: the
 * whole ring. An edge inside one tagged surface (two triangles (a, b, u) and
 * (a, b, w) of the same tag) flips them into (a, u, w) and (b, u, w), and the
 * ring is cut at u and w, each side triangulated for its region (a side of
 * one sliver, a fold of the surface, is left with none, and the sliver goes);
 * only where the surface moves by less than a tenth of the edges, the
 * distance between the lines (a, b) and (u, w). Gmsh 4.8's C API has no such
 * operation on a mesh it did not make, hence here. Returns 1 when done, 0
 * when not, -1 on no memory.
 */
static int remove_edge(struct twin_tetmesh *m, const struct incidence *tets, const struct incidence *tris,
		       size_t *cap, uint8_t **gone, uint8_t *dirty, uint32_t a, uint32_t b)
{
	uint32_t around[RING_MAX], ring[RING_MAX + 1], out[4 * RING_MAX][4];
	long tri[2] = { -1, -1 };
	int open = 0, n, ntri = 0, cut = 0, nout = 0, made[2] = { 0, 0 };
	int32_t sreg[2];
	double worst = 180, before, vol = 0, after = 0, roof = 0;

	n = edge_ring(m, tets, *gone, a, b, around, ring, &open);
	if (n == 0 || dirty[a] || dirty[b])
		return 0;
	for (size_t k = tris->start[a]; k < tris->start[a + 1]; k++)
		if (has(m->tris + 3 * tris->item[k], 3, b)) {
			if (ntri == 2)
				return 0;
			tri[ntri++] = (long)tris->item[k];
		}
	if (ntri == 1 || (ntri == 0 && open) || (ntri == 2 && m->tri_surface[tri[0]] != m->tri_surface[tri[1]]))
		return 0;
	for (int i = 0; i <= n; i++)
		if (dirty[ring[i % (n + open)]])
			return 0;
	if (ntri == 2) {
		if (!surface_cut(m, tris, tri, a, b, around, ring, n, open, &cut, &roof))
			return 0;
	} else {
		cut = n;
		ring[n] = ring[0];
	}
	/*
	 * side 0: tets around[0 .. cut-1] and polygon ring[0 .. cut] (the whole
	 * ring ring[0 .. n-1] for an inner edge); side 1: the rest and ring[cut .. n]
	 */
	before = worst_of(m, around, (size_t)n);
	for (int s = 0; s < 2; s++) {
		int lo = s ? cut : 0, hi = s ? n : cut, np = ntri ? hi - lo + 1 : n;
		double sign = 0, q;

		sreg[s] = -1;
		for (int i = lo; i < hi; i++) {
			const double *p[4] = { m->xyz + 3 * a, m->xyz + 3 * b, m->xyz + 3 * ring[i],
					       m->xyz + 3 * ring[i + 1] };

			if (sreg[s] >= 0 && m->tet_region[around[i]] != sreg[s])
				return 0;
			sreg[s] = m->tet_region[around[i]];
			sign += volume6(p);
		}
		if (lo == hi)
			continue;
		q = triangulate(m, a, b, ring + lo, np, sign, out, &nout);
		if (q < worst)
			worst = q;
		made[s] = nout - (s ? made[0] : 0);
	}
	if (worst <= before)
		return 0;
	for (int i = 0; i < n; i++)
		vol += fabs(tet_volume6(m, m->tets + 4 * around[i]));
	for (int i = 0; i < nout; i++)
		after += tet_volume6(m, out[i]);
	/* the new tets fill the old ones, less the tet (a, b, u, w) on the outer boundary */
	if (fabs(fabs(after - vol) - roof) > 1e-9 * vol)
		return 0;
	for (int i = 0; i < nout; i++) {
		long t = i < n ? (long)around[i] : add_tet(m, cap, gone);

		if (t < 0)
			return -1;
		memcpy(m->tets + 4 * t, out[i], sizeof(out[i]));
		m->tet_region[t] = sreg[i < made[0] ? 0 : 1];
	}
	for (int i = nout; i < n; i++)
		(*gone)[around[i]] = 1;
	if (ntri == 2) {
		uint32_t u = ring[0], w = ring[cut];

		retri(m, tri[0], a, u, w);
		retri(m, tri[1], b, u, w);
	}
	for (int i = 0; i <= n; i++)
		dirty[ring[i]] = 1;
	dirty[a] = dirty[b] = 1;
	return 1;
}

/* One pass; returns the slivers taken out, or -1 on no memory. */
static long pass(struct twin_tetmesh *m, double min_deg, size_t *cap, uint8_t **gone)
{
	struct incidence tets = { NULL, NULL }, tris = { NULL, NULL };
	uint8_t *dirty = calloc(m->n_nodes ? m->n_nodes : 1, 1);
	long fixed = -1;

	if (!dirty || incidence_build(&tets, m->n_nodes, m->tets, m->n_tets, 4) != 0 ||
	    incidence_build(&tris, m->n_nodes, m->tris, m->n_tris, 3) != 0)
		goto out;
	fixed = 0;
	for (uint32_t t = 0; t < m->n_tets; t++) {
		const uint32_t *n = m->tets + 4 * t;
		long tri[4];
		int nb = 0, f1 = -1, f2 = -1, rc;
		uint32_t a, b;

		if ((*gone)[t] || dirty[n[0]] || dirty[n[1]] || dirty[n[2]] || dirty[n[3]])
			continue;
		if (worst_of(m, &t, 1) >= min_deg)
			continue;
		for (int f = 0; f < 4; f++) {
			const uint8_t *fn = twin_tetmesh_face_nodes[f];

			tri[f] = find_tri(m, &tris, n[fn[0]], n[fn[1]], n[fn[2]]);
			if (tri[f] >= 0) {
				nb++;
				if (f1 < 0)
					f1 = f;
				else
					f2 = f;
			}
		}
		if (nb != 2 || m->tri_surface[tri[f1]] != m->tri_surface[tri[f2]])
			continue;
		/* the fold's edge (a, b): the nodes of neither n[f1] nor n[f2] */
		a = b = UINT32_MAX;
		for (int k = 0; k < 4; k++)
			if (k != f1 && k != f2) {
				if (a == UINT32_MAX)
					a = n[k];
				else
					b = n[k];
			}
		/* the tets beyond the fold take the sliver in, or it leaves the mesh */
		rc = remove_edge(m, &tets, &tris, cap, gone, dirty, a, b);
		if (rc < 0) {
			fixed = -1;
			goto out;
		}
		if (rc == 0)
			continue;
		fixed++;
	}
out:
	incidence_release(&tets);
	incidence_release(&tris);
	free(dirty);
	return fixed;
}

int twin_repair_slivers(struct twin_err *err, struct twin_tetmesh *m, double min_deg, size_t *fixed)
{
	uint8_t *gone = calloc(m->n_tets ? m->n_tets : 1, 1);
	size_t total = 0, kept = 0, cap = m->n_tets;
	int rc = -1;

	if (!gone)
		goto out;
	for (int it = 0; it < 8; it++) {
		long n = pass(m, min_deg, &cap, &gone);

		if (n < 0)
			goto out;
		total += (size_t)n;
		if (n == 0)
			break;
	}
	for (size_t t = 0; t < m->n_tets; t++)
		if (!gone[t]) {
			memmove(m->tets + 4 * kept, m->tets + 4 * t, 4 * sizeof(*m->tets));
			m->tet_region[kept] = m->tet_region[t];
			kept++;
		}
	m->n_tets = kept;
	if (fixed)
		*fixed = total;
	rc = 0;
out:
	/* the only failure here is running out of memory */
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "repairing %zu tetrahedra: out of memory", m->n_tets);
	free(gone);
	return rc;
}

/* ---- improving slivers inside a region ------------------------------------- */

/*
 * Moves interior node v where its tets' smallest dihedral angle is larger:
 * towards the centre of its neighbours, then by a compass search (steps
 * along the axes and the diagonals, halved when none helps).
 */
static int relocate(struct twin_tetmesh *m, const struct incidence *tets, uint32_t v)
{
	const uint32_t *ts = tets->item + tets->start[v];
	size_t n = tets->start[v + 1] - tets->start[v], count = 0;
	double c[3] = { 0, 0, 0 }, old[3], cur[3], before, best, edge = 0;
	int moved = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 4; k++) {
			uint32_t o = m->tets[4 * ts[i] + k];
			double e2 = 0;

			if (o == v)
				continue;
			for (int a = 0; a < 3; a++) {
				c[a] += m->xyz[3 * o + a];
				e2 += (m->xyz[3 * o + a] - m->xyz[3 * v + a]) * (m->xyz[3 * o + a] - m->xyz[3 * v + a]);
			}
			edge += sqrt(e2);
			count++;
		}
	edge /= (double)count;
	before = best = worst_of(m, ts, n);
	memcpy(old, m->xyz + 3 * v, sizeof(old));
	memcpy(cur, old, sizeof(cur));
	for (double f = 1; f > 0.1; f /= 2) {
		double w;

		for (int a = 0; a < 3; a++)
			m->xyz[3 * v + a] = old[a] + f * (c[a] / (double)count - old[a]);
		w = worst_of(m, ts, n);
		if (w > best) {
			best = w;
			memcpy(cur, m->xyz + 3 * v, sizeof(cur));
			break;
		}
	}
	for (double h = 0.2 * edge; h > 0.005 * edge && moved < 64;) {
		int better = 0;

		for (int d = 0; d < 26 && !better; d++) {
			int dx = d % 3 - 1, dy = d / 3 % 3 - 1, dz = d / 9 - 1;
			double w, len;

			if (d >= 13)
				dx = (d + 1) % 3 - 1, dy = (d + 1) / 3 % 3 - 1, dz = (d + 1) / 9 - 1;
			len = sqrt((double)(dx * dx + dy * dy + dz * dz));
			m->xyz[3 * v] = cur[0] + h * dx / len;
			m->xyz[3 * v + 1] = cur[1] + h * dy / len;
			m->xyz[3 * v + 2] = cur[2] + h * dz / len;
			w = worst_of(m, ts, n);
			if (w > best) {
				best = w;
				memcpy(cur, m->xyz + 3 * v, sizeof(cur));
				better = 1;
				moved++;
			}
		}
		if (!better)
			h /= 2;
	}
	memcpy(m->xyz + 3 * v, best > before ? cur : old, sizeof(old));
	return best > before;
}

/* The unit normal of triangle t of m, and its doubled area. */
static double tri_normal(const struct twin_tetmesh *m, uint32_t t, double nrm[3])
{
	const double *a = m->xyz + 3 * m->tris[3 * t], *b = m->xyz + 3 * m->tris[3 * t + 1];
	const double *c = m->xyz + 3 * m->tris[3 * t + 2];
	double u[3], w[3], len;

	for (int k = 0; k < 3; k++) {
		u[k] = b[k] - a[k];
		w[k] = c[k] - a[k];
	}
	nrm[0] = u[1] * w[2] - u[2] * w[1];
	nrm[1] = u[2] * w[0] - u[0] * w[2];
	nrm[2] = u[0] * w[1] - u[1] * w[0];
	len = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
	for (int k = 0; k < 3 && len > 0; k++)
		nrm[k] /= len;
	return len;
}

#define SURFACE_TRIS 32    /* at most this many surface triangles around a node moved */
#define CREASE_COS 0.64    /* cos 50 degrees: a node where the surface bends more stays */
#define TURN_COS 0.94      /* cos 20 degrees: how far a moved node's triangles may turn */

/*
 * A compass search for surface node v: steps along each of dirs, from 0.1 of
 * scale down to 0.005, at most 0.3 of scale from where v was and only so far
 * that none of its triangles tr turns from its normal no by more than
 * TURN_COS; v ends where its tets ts have the largest smallest dihedral
 * angle. Returns 1 when v moved.
 */
static int compass(struct twin_tetmesh *m, uint32_t v, const uint32_t *ts, size_t n, const uint32_t *tr,
		   size_t nt, double (*no)[3], double (*dirs)[3], int ndirs, double scale)
{
	double old[3], cur[3], before, best;
	int moved = 0;

	before = best = worst_of(m, ts, n);
	memcpy(old, m->xyz + 3 * v, sizeof(old));
	memcpy(cur, old, sizeof(cur));
	for (double h = 0.1 * scale; h > 0.005 * scale && moved < 32;) {
		int better = 0;

		for (int d = 0; d < ndirs && !better; d++) {
			double off = 0, turn = 1, w;

			for (int k = 0; k < 3; k++) {
				m->xyz[3 * v + k] = cur[k] + h * dirs[d][k];
				off += (m->xyz[3 * v + k] - old[k]) * (m->xyz[3 * v + k] - old[k]);
			}
			if (off > 0.09 * scale * scale)
				continue;
			for (size_t i = 0; i < nt && turn >= TURN_COS; i++) {
				double nn[3];

				tri_normal(m, tr[i], nn);
				turn = nn[0] * no[i][0] + nn[1] * no[i][1] + nn[2] * no[i][2];
			}
			if (turn < TURN_COS)
				continue;
			w = worst_of(m, ts, n);
			if (w > best) {
				best = w;
				memcpy(cur, m->xyz + 3 * v, sizeof(cur));
				better = 1;
				moved++;
			}
		}
		if (!better)
			h /= 2;
	}
	memcpy(m->xyz + 3 * v, best > before ? cur : old, sizeof(old));
	return best > before;
}

/*
 * Moves surface node v within the plane of its surface where its tets'
 * smallest dihedral angle is larger, by a compass search, at most 0.3 of its
 * mean edge: only a node inside one tagged surface (no junction, at most two
 * regions around it) where that surface bends by less than 50 degrees, and
 * only so far that none of its triangles turns by more than 20 degrees, so
 * that the surface stays where it was to a fraction of an edge. A sliver
 * whose four nodes lie on the surface needs this.
 */
static int relocate_surface(struct twin_tetmesh *m, const struct incidence *tets, const struct incidence *tris,
			    uint32_t v)
{
	const uint32_t *ts = tets->item + tets->start[v], *tr = tris->item + tris->start[v];
	size_t n = tets->start[v + 1] - tets->start[v], nt = tris->start[v + 1] - tris->start[v];
	double no[SURFACE_TRIS][3], N[3] = { 0, 0, 0 }, t1[3], t2[3], dirs[8][3], edge = 0, len;
	int32_t r0 = 0, r1 = 0;

	if (n == 0 || nt == 0 || nt > SURFACE_TRIS)
		return 0;
	for (size_t i = 0; i < nt; i++) {
		double a = tri_normal(m, tr[i], no[i]);

		if (m->tri_surface[tr[i]] != m->tri_surface[tr[0]])
			return 0;
		for (int k = 0; k < 3; k++)
			N[k] += a * no[i][k];
	}
	for (size_t i = 0; i < n; i++) {
		int32_t r = m->tet_region[ts[i]];

		if (!r0 || r == r0)
			r0 = r;
		else if (!r1 || r == r1)
			r1 = r;
		else
			return 0;
	}
	len = sqrt(N[0] * N[0] + N[1] * N[1] + N[2] * N[2]);
	if (len == 0)
		return 0;
	for (int k = 0; k < 3; k++)
		N[k] /= len;
	for (size_t i = 0; i < nt; i++)
		if (no[i][0] * N[0] + no[i][1] * N[1] + no[i][2] * N[2] < CREASE_COS)
			return 0;
	/* two directions in the surface's plane */
	if (fabs(N[0]) < 0.6) {
		t1[0] = 0, t1[1] = N[2], t1[2] = -N[1];
	} else {
		t1[0] = N[2], t1[1] = 0, t1[2] = -N[0];
	}
	len = sqrt(t1[0] * t1[0] + t1[1] * t1[1] + t1[2] * t1[2]);
	for (int k = 0; k < 3; k++)
		t1[k] /= len;
	t2[0] = N[1] * t1[2] - N[2] * t1[1];
	t2[1] = N[2] * t1[0] - N[0] * t1[2];
	t2[2] = N[0] * t1[1] - N[1] * t1[0];
	for (size_t i = 0; i < nt; i++)
		for (int k = 0; k < 3; k++) {
			uint32_t o = m->tris[3 * tr[i] + k];

			if (o != v)
				edge += sqrt((m->xyz[3 * o] - m->xyz[3 * v]) * (m->xyz[3 * o] - m->xyz[3 * v]) +
					     (m->xyz[3 * o + 1] - m->xyz[3 * v + 1]) * (m->xyz[3 * o + 1] - m->xyz[3 * v + 1]) +
					     (m->xyz[3 * o + 2] - m->xyz[3 * v + 2]) * (m->xyz[3 * o + 2] - m->xyz[3 * v + 2]));
		}
	edge /= (double)(2 * nt);
	for (int d = 0; d < 8; d++)
		for (int k = 0; k < 3; k++)
			dirs[d][k] = cos(d * M_PI / 4) * t1[k] + sin(d * M_PI / 4) * t2[k];
	return compass(m, v, ts, n, tr, nt, no, dirs, 8, edge);
}

/*
 * Moves node v along the line where its surfaces meet (a cap's rim, a triple
 * line), between its two neighbours on that line, where its tets' smallest
 * dihedral angle is larger, at most 0.3 of its mean edge, and only so far
 * that none of its triangles turns by more than 20 degrees. Only a node with
 * exactly two neighbours on such lines (no point where lines meet).
 */
static int relocate_line(struct twin_tetmesh *m, const struct incidence *tets, const struct incidence *tris,
			 uint32_t v)
{
	const uint32_t *ts = tets->item + tets->start[v], *tr = tris->item + tris->start[v];
	size_t n = tets->start[v + 1] - tets->start[v], nt = tris->start[v + 1] - tris->start[v];
	double no[SURFACE_TRIS][3], t[3], dirs[2][3], len = 0, span;
	uint32_t ends[2];
	int nends = 0;

	if (n == 0 || nt == 0 || nt > SURFACE_TRIS)
		return 0;
	/* the neighbours across an edge whose triangles carry two tags or more */
	for (size_t i = 0; i < nt; i++) {
		tri_normal(m, tr[i], no[i]);
		for (int k = 0; k < 3; k++) {
			uint32_t o = m->tris[3 * tr[i] + k];
			int junction = 0, seen = 0;

			if (o == v)
				continue;
			for (size_t j = 0; j < nt; j++)
				if (has(m->tris + 3 * tr[j], 3, o) && m->tri_surface[tr[j]] != m->tri_surface[tr[i]])
					junction = 1;
			for (int e = 0; e < nends; e++)
				seen |= ends[e] == o;
			if (!junction || seen)
				continue;
			if (nends == 2)
				return 0;
			ends[nends++] = o;
		}
	}
	if (nends != 2)
		return 0;
	for (int k = 0; k < 3; k++) {
		t[k] = m->xyz[3 * ends[1] + k] - m->xyz[3 * ends[0] + k];
		len += t[k] * t[k];
	}
	len = sqrt(len);
	if (len == 0)
		return 0;
	for (int k = 0; k < 3; k++)
		t[k] /= len;
	span = 0.5 * len;
	for (int k = 0; k < 3; k++) {
		dirs[0][k] = -t[k];
		dirs[1][k] = t[k];
	}
	return compass(m, v, ts, n, tr, nt, no, dirs, 2, span);
}

/*
 * Room for one more node at the end of m (its coordinates grow by doubling,
 * and dirty and onsurf with them): returns its index, or -1 on no memory.
 */
static long add_node(struct twin_tetmesh *m, size_t *ncap, uint8_t **dirty, uint8_t **onsurf)
{
	if (m->n_nodes >= UINT32_MAX - 1)
		return -1;
	if (m->n_nodes == *ncap) {
		size_t want = *ncap * 2 + 16;
		double *x;
		uint8_t *d, *s;

		x = realloc(m->xyz, 3 * want * sizeof(*x));
		if (!x)
			return -1;
		m->xyz = x;
		d = realloc(*dirty, want);
		if (!d)
			return -1;
		*dirty = d;
		s = realloc(*onsurf, want);
		if (!s)
			return -1;
		*onsurf = s;
		*ncap = want;
	}
	(*dirty)[m->n_nodes] = 1;
	(*onsurf)[m->n_nodes] = 0;
	return (long)m->n_nodes++;
}

/*
 * Edge split: the n tets around an inner edge (a, b) of a region (no
 * triangle on it) become 2n, each cut in two by a new node on the edge,
 * which then moves (a compass search) where the worst of the 2n is best;
 * kept when that is better than the worst of the n. A sliver whose small
 * angles are at surface edges (its four nodes on the surface, across a thin
 * wall) has its inner edges' new node to open them. The surface and the
 * region's volume stay as they were. Returns 1 when done, 0 when not, -1 on
 * no memory.
 */
static int split_edge(struct twin_tetmesh *m, const struct incidence *tets, const struct incidence *tris,
		      size_t *cap, uint8_t **gone, size_t *ncap, uint8_t **dirty, uint8_t **onsurf, uint32_t a,
		      uint32_t b)
{
	uint32_t around[RING_MAX], ring[RING_MAX + 1], keep[RING_MAX][4], slot[2 * RING_MAX];
	double dirs[26][3], len = 0, before, after;
	int open = 0, n = edge_ring(m, tets, *gone, a, b, around, ring, &open);
	size_t n_tets = m->n_tets;
	long v;

	if (n == 0 || open || (*dirty)[a] || (*dirty)[b] || edge_tris(m, tris, a, b) != 0)
		return 0;
	for (int i = 0; i < n; i++)
		if ((*dirty)[ring[i]] || m->tet_region[around[i]] != m->tet_region[around[0]])
			return 0;
	before = worst_of(m, around, (size_t)n);
	v = add_node(m, ncap, dirty, onsurf);
	if (v < 0)
		return -1;
	for (int k = 0; k < 3; k++) {
		m->xyz[3 * v + k] = 0.5 * (m->xyz[3 * a + k] + m->xyz[3 * b + k]);
		len += (m->xyz[3 * a + k] - m->xyz[3 * b + k]) * (m->xyz[3 * a + k] - m->xyz[3 * b + k]);
	}
	/* each tet keeps its slot with b, and a new one has a: both with the node in the other's place */
	for (int i = 0; i < n; i++) {
		long s = add_tet(m, cap, gone);

		if (s < 0)
			return -1;
		memcpy(keep[i], m->tets + 4 * around[i], sizeof(keep[i]));
		memcpy(m->tets + 4 * s, keep[i], sizeof(keep[i]));
		m->tet_region[s] = m->tet_region[around[i]];
		for (int k = 0; k < 4; k++) {
			if (keep[i][k] == a)
				m->tets[4 * around[i] + k] = (uint32_t)v;
			if (keep[i][k] == b)
				m->tets[4 * s + k] = (uint32_t)v;
		}
		slot[i] = around[i];
		slot[n + i] = (uint32_t)s;
	}
	for (int d = 0, k = 0; d < 27; d++) {
		int x = d % 3 - 1, y = d / 3 % 3 - 1, z = d / 9 - 1;
		double l = sqrt((double)(x * x + y * y + z * z));

		if (d == 13)
			continue;
		dirs[k][0] = x / l;
		dirs[k][1] = y / l;
		dirs[k++][2] = z / l;
	}
	compass(m, (uint32_t)v, slot, (size_t)(2 * n), NULL, 0, NULL, dirs, 26, sqrt(len));
	after = worst_of(m, slot, (size_t)(2 * n));
	if (after <= before) {
		/* put the tets back; the node and the tets added go */
		for (int i = 0; i < n; i++)
			memcpy(m->tets + 4 * around[i], keep[i], sizeof(keep[i]));
		m->n_tets = n_tets;
		m->n_nodes--;
		return 0;
	}
	for (int i = 0; i < n; i++)
		(*dirty)[ring[i]] = 1;
	(*dirty)[a] = (*dirty)[b] = 1;
	return 1;
}

/* Tet t and its neighbour across face f become three tets around the edge between their apexes. */
static int flip23(struct twin_tetmesh *m, const struct incidence *tets, const struct incidence *tris,
		  uint32_t t, int f, size_t *cap, uint8_t *dirty, uint8_t **gone)
{
	const uint8_t *fn = twin_tetmesh_face_nodes[f];
	uint32_t a = m->tets[4 * t + fn[0]], b = m->tets[4 * t + fn[1]], c = m->tets[4 * t + fn[2]];
	uint32_t d = m->tets[4 * t + f], o = UINT32_MAX, e = UINT32_MAX, nt[3][4], pair[2];
	double before, after = 0, least = 180, vol;
	long s;

	if (find_tri(m, tris, a, b, c) >= 0)
		return 0;
	for (size_t k = tets->start[a]; k < tets->start[a + 1]; k++) {
		uint32_t x = tets->item[k];
		const uint32_t *xn = m->tets + 4 * x;

		if (x != t && !(*gone)[x] && has(xn, 4, b) && has(xn, 4, c))
			o = x;
	}
	if (o == UINT32_MAX || m->tet_region[o] != m->tet_region[t])
		return 0;
	for (int k = 0; k < 4; k++)
		if (m->tets[4 * o + k] != a && m->tets[4 * o + k] != b && m->tets[4 * o + k] != c)
			e = m->tets[4 * o + k];
	if (dirty[e])
		return 0;
	pair[0] = t;
	pair[1] = o;
	before = worst_of(m, pair, 2);
	vol = fabs(tet_volume6(m, m->tets + 4 * t)) + fabs(tet_volume6(m, m->tets + 4 * o));
	{
		double q[3];

		q[0] = make_tet(m, nt[0], a, b, d, e);
		q[1] = make_tet(m, nt[1], b, c, d, e);
		q[2] = make_tet(m, nt[2], c, a, d, e);
		for (int k = 0; k < 3; k++) {
			if (q[k] < least)
				least = q[k];
			after += tet_volume6(m, nt[k]);
		}
	}
	if (least <= before || fabs(after - vol) > 1e-9 * vol)
		return 0;
	s = add_tet(m, cap, gone);
	if (s < 0)
		return -1;
	memcpy(m->tets + 4 * t, nt[0], sizeof(nt[0]));
	memcpy(m->tets + 4 * o, nt[1], sizeof(nt[1]));
	memcpy(m->tets + 4 * s, nt[2], sizeof(nt[2]));
	m->tet_region[s] = m->tet_region[t];
	dirty[a] = dirty[b] = dirty[c] = dirty[d] = dirty[e] = 1;
	return 1;
}

/* Appends nodes v[0..n-1] to the list *l of *nl (grown by realloc); 0, or -1 on no memory. */
static int note(uint32_t **l, size_t *nl, const uint32_t *v, size_t n)
{
	uint32_t *g = realloc(*l, (*nl + n) * sizeof(*g));

	if (!g)
		return -1;
	memcpy(g + *nl, v, n * sizeof(*v));
	*l = g;
	*nl += n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The tets to look at again: those of *list still below min_deg, and every
 * tet of a node that changed (dirty, or in moved[0..nmoved-1]), each once.
 * Returns 0, or -1 on no memory.
 */
static int candidates(const struct twin_tetmesh *m, const struct incidence *tets, const uint8_t *gone,
		      const uint8_t *dirty, const uint32_t *moved, size_t nmoved, double min_deg, uint32_t **list,
		      size_t *n)
{
	size_t k = 0, want = *n;
	uint32_t *l;

	for (uint32_t v = 0; v < m->n_nodes; v++)
		if (dirty[v])
			want += tets->start[v + 1] - tets->start[v];
	for (size_t i = 0; i < nmoved; i++)
		want += tets->start[moved[i] + 1] - tets->start[moved[i]];
	l = realloc(*list, (want + 1) * sizeof(*l));
	if (!l)
		return -1;
	*list = l;
	for (size_t i = 0; i < *n; i++)
		if (!gone[l[i]] && worst_of(m, l + i, 1) < min_deg)
			l[k++] = l[i];
	for (uint32_t v = 0; v < m->n_nodes; v++)
		for (size_t j = tets->start[v]; dirty[v] && j < tets->start[v + 1]; j++)
			l[k++] = tets->item[j];
	for (size_t i = 0; i < nmoved; i++)
		for (size_t j = tets->start[moved[i]]; j < tets->start[moved[i] + 1]; j++)
			l[k++] = tets->item[j];
	qsort(l, k, sizeof(*l), cmp_u32);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || l[i] != l[i - 1])
			l[(*n)++] = l[i];
	return 0;
}

int twin_repair_improve(struct twin_err *err, struct twin_tetmesh *m, double min_deg, size_t *improved)
{
	uint8_t *gone = calloc(m->n_tets ? m->n_tets : 1, 1), *dirty = NULL, *onsurf = NULL;
	uint32_t *cand = NULL, *moved = NULL;
	size_t cap = m->n_tets, ncap = m->n_nodes, total = 0, kept = 0, ncand = 0, nmoved = 0;
	struct incidence tets = { NULL, NULL }, tris = { NULL, NULL };
	int rc = -1;

	onsurf = calloc(m->n_nodes ? m->n_nodes : 1, 1);
	dirty = calloc(m->n_nodes ? m->n_nodes : 1, 1);
	if (!gone || !onsurf || !dirty)
		goto out;
	for (size_t i = 0; i < 3 * m->n_tris; i++)
		onsurf[m->tris[i]] = 1;
	/*
	 * A change in one tet waits for the next pass where it touches another
	 * (dirty nodes); after the first pass, which looks at every tet, a pass
	 * looks only at those still bad and those around what changed.
	 */
	for (int it = 0; it < 32; it++) {
		size_t done = 0, n = m->n_tets;

		incidence_release(&tets);
		incidence_release(&tris);
		if (incidence_build(&tets, m->n_nodes, m->tets, m->n_tets, 4) != 0 ||
		    incidence_build(&tris, m->n_nodes, m->tris, m->n_tris, 3) != 0 ||
		    (it > 0 && candidates(m, &tets, gone, dirty, moved, nmoved, min_deg, &cand, &ncand) != 0))
			goto out;
		memset(dirty, 0, m->n_nodes);
		nmoved = 0;
		for (size_t c = 0; c < (it ? ncand : n); c++) {
			uint32_t t = it ? cand[c] : (uint32_t)c, tn[4];
			int r = 0;

			/* a copy: a flip may move m->tets */
			memcpy(tn, m->tets + 4 * t, sizeof(tn));
			if (gone[t] || dirty[tn[0]] || dirty[tn[1]] || dirty[tn[2]] || dirty[tn[3]] ||
			    worst_of(m, &t, 1) >= min_deg)
				continue;
			for (int k = 0; k < 4 && !r; k++)
				if (!onsurf[tn[k]] && relocate(m, &tets, tn[k]))
					r = 1;
			if (r && note(&moved, &nmoved, tn, 4) != 0)
				goto out;
			if (r && worst_of(m, &t, 1) >= min_deg) {
				done++;
				continue;
			}
			r = 0;
			for (int f = 0; f < 4 && !r; f++)
				r = flip23(m, &tets, &tris, t, f, &cap, dirty, &gone);
			for (int i = 0; i < 4 && !r; i++)
				for (int j = i + 1; j < 4 && !r; j++)
					r = remove_edge(m, &tets, &tris, &cap, &gone, dirty, tn[i], tn[j]);
			for (int i = 0; i < 4 && !r; i++)
				for (int j = i + 1; j < 4 && !r; j++)
					r = split_edge(m, &tets, &tris, &cap, &gone, &ncap, &dirty, &onsurf, tn[i], tn[j]);

			if (r < 0)
				goto out;
			/* a sliver held by the surface: its surface nodes move within it */
			for (int k = 0; k < 4 && !r; k++)
				if (onsurf[tn[k]] && (relocate_surface(m, &tets, &tris, tn[k]) ||
						      relocate_line(m, &tets, &tris, tn[k]))) {
					r = worst_of(m, &t, 1) >= min_deg || k == 3;
					if (note(&moved, &nmoved, tn, 4) != 0)
						goto out;
				}
			done += (size_t)r;
		}
		total += done;
		if (!done)
			break;
	}
	for (size_t t = 0; t < m->n_tets; t++)
		if (!gone[t]) {
			memmove(m->tets + 4 * kept, m->tets + 4 * t, 4 * sizeof(*m->tets));
			m->tet_region[kept] = m->tet_region[t];
			kept++;
		}
	m->n_tets = kept;
	if (improved)
		*improved = total;
	rc = 0;
out:
	/* the only failure here is running out of memory */
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "improving %zu tetrahedra: out of memory", m->n_tets);
	free(gone);
	free(dirty);
	free(onsurf);
	incidence_release(&tets);
	incidence_release(&tris);
	free(cand);
	free(moved);
	return rc;
}
