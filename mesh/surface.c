#include "surface.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_VERT UINT32_MAX

static int meshed(const struct twin_grid *g, uint8_t v)
{
	return v < TWIN_GRID_LABELS && (g->meshed >> v & 1);
}

/* The vertex at corner (x, y, z), made on first use. */
static uint32_t corner(struct twin_surface *s, uint32_t *ids, const size_t cd[3],
		       size_t x, size_t y, size_t z)
{
	size_t c = x + cd[0] * (y + cd[1] * z);

	if (ids[c] == NO_VERT) {
		ids[c] = (uint32_t)s->n_verts;
		s->xyz[3 * s->n_verts] = (double)x - 0.5;
		s->xyz[3 * s->n_verts + 1] = (double)y - 0.5;
		s->xyz[3 * s->n_verts + 2] = (double)z - 0.5;
		s->n_verts++;
	}
	return ids[c];
}

int twin_surface_extract(struct twin_err *err, struct twin_surface *s, const struct twin_grid *g)
{
	const size_t nx = g->dim[0], ny = g->dim[1], nz = g->dim[2];
	const size_t cd[3] = { nx + 1, ny + 1, nz + 1 }, step[3] = { 1, nx, nx * ny };
	uint32_t *ids = NULL;
	size_t nq = 0, ncorner = cd[0] * cd[1] * cd[2], nv = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	/* count first, so that every array is allocated once */
	for (size_t z = 0; z < nz; z++)
		for (size_t y = 0; y < ny; y++)
			for (size_t x = 0; x < nx; x++) {
				size_t p = x + nx * (y + ny * z), c[3] = { x, y, z };

				for (int a = 0; a < 3; a++) {
					uint8_t u = g->cell[p], w;

					if (c[a] + 1 >= g->dim[a])
						continue;
					w = g->cell[p + step[a]];
					if (u != w && (meshed(g, u) || meshed(g, w)))
						nq++;
				}
			}
	if (nq == 0) {
		twin_err_set(err, TWIN_EINPUT, "the labels to mesh have no surface");
		goto out;
	}
	nv = ncorner < 4 * nq ? ncorner : 4 * nq;
	ids = malloc(ncorner * sizeof(*ids));
	s->xyz = malloc(3 * nv * sizeof(*s->xyz));
	s->quads = malloc(4 * nq * sizeof(*s->quads));
	s->side = malloc(2 * nq);
	if (!ids || !s->xyz || !s->quads || !s->side) {
		twin_err_set(err, TWIN_EFAIL, "surface of %zu faces: out of memory", nq);
		goto out;
	}
	memset(ids, 0xff, ncorner * sizeof(*ids));
	for (size_t z = 0; z < nz; z++)
		for (size_t y = 0; y < ny; y++)
			for (size_t x = 0; x < nx; x++) {
				size_t p = x + nx * (y + ny * z), c[3] = { x, y, z };

				for (int a = 0; a < 3; a++) {
					int b = (a + 1) % 3, d = (a + 2) % 3;
					uint8_t u = g->cell[p], w;
					uint32_t *q = s->quads + 4 * s->n_quads;
					size_t k[4][3];

					if (c[a] + 1 >= g->dim[a])
						continue;
					w = g->cell[p + step[a]];
					if (u == w || !(meshed(g, u) || meshed(g, w)))
						continue;
					/* corners of the face, counter-clockwise seen from +a */
					for (int i = 0; i < 4; i++) {
						k[i][0] = c[0];
						k[i][1] = c[1];
						k[i][2] = c[2];
						k[i][a] += 1;
					}
					k[1][b]++;
					k[2][b]++;
					k[2][d]++;
					k[3][d]++;
					for (int i = 0; i < 4; i++)
						q[u < w ? i : 3 - i] = corner(s, ids, cd, k[i][0], k[i][1], k[i][2]);
					s->side[2 * s->n_quads] = u < w ? u : w;
					s->side[2 * s->n_quads + 1] = u < w ? w : u;
					s->n_quads++;
				}
			}
	s->home = malloc(3 * s->n_verts * sizeof(*s->home));
	if (!s->home) {
		twin_err_set(err, TWIN_EFAIL, "surface of %zu faces: out of memory", nq);
		goto out;
	}
	memcpy(s->home, s->xyz, 3 * s->n_verts * sizeof(*s->home));
	rc = 0;
out:
	free(ids);
	return rc;
}

struct edge {
	uint32_t lo, hi;
	uint16_t pair;
};

static int cmp_edge(const void *pa, const void *pb)
{
	const struct edge *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return (a->pair > b->pair) - (a->pair < b->pair);
}

/* Moves x (cell index space) onto the plane of cap c. */
static void project(double x[3], const struct twin_grid_cap *c)
{
	double t = 0;

	for (int a = 0; a < 3; a++)
		t += (x[a] - c->point[a]) * c->normal[a];
	for (int a = 0; a < 3; a++)
		x[a] -= t * c->normal[a];
}

/*
 * Taubin's filter keeps a shape whose frequency k lies below its pass band,
 * 1 / 0.5 + 1 / -0.53 = 0.113, and shrinks the others. The shape of a line
 * that closes on itself through n vertices has k = 1 - cos(2 pi / n), above
 * 0.113 for n < 14: the rim of a cap of one or two cells, or of a small
 * island, would shrink to a point (0.01 mm: tets of a few degrees that no
 * repair can mend). The vertices of such a loop (jdeg 2 all along) stay at
 * their corners: start[v + 1] = start[v] would move a later vertex's list,
 * so their lists point to themselves.
 */
#define LOOP_MIN 14

static void freeze_small_loops(const uint32_t *start, uint32_t *nb, const uint32_t *jdeg, size_t nv)
{
	for (size_t v = 0; v < nv; v++) {
		uint32_t prev = (uint32_t)v, cur, n = 1;

		if (jdeg[v] != 2 || nb[start[v]] == v)
			continue;
		cur = nb[start[v]];
		while (cur != v && jdeg[cur] == 2 && n < LOOP_MIN) {
			uint32_t next = nb[start[cur]] != prev ? nb[start[cur]] : nb[start[cur] + 1];

			prev = cur;
			cur = next;
			n++;
		}
		if (cur != v || n >= LOOP_MIN)
			continue;
		/* a closed loop of n vertices: walk it again, pinning each */
		prev = (uint32_t)v;
		cur = nb[start[v]];
		nb[start[v]] = nb[start[v] + 1] = (uint32_t)v;
		while (cur != v) {
			uint32_t next = nb[start[cur]] != prev ? nb[start[cur]] : nb[start[cur] + 1];

			nb[start[cur]] = nb[start[cur] + 1] = cur;
			prev = cur;
			cur = next;
		}
	}
}

int twin_surface_smooth(struct twin_err *err, struct twin_surface *s, const struct twin_grid *g,
			int iterations, double clamp)
{
	const size_t nv = s->n_verts, ne = 4 * s->n_quads;
	struct edge *e = malloc((ne ? ne : 1) * sizeof(*e));
	uint32_t *deg = calloc(nv + 1, sizeof(*deg)), *jdeg = calloc(nv, sizeof(*jdeg));
	uint32_t *start = NULL, *nb = NULL, *fill = NULL;
	int16_t *capof = malloc((nv ? nv : 1) * sizeof(*capof));
	double *next = malloc(3 * (nv ? nv : 1) * sizeof(*next));
	size_t i, u;
	int rc = -1;

	if (!e || !deg || !jdeg || !capof || !next)
		goto out;
	for (i = 0; i < nv; i++)
		capof[i] = -1;
	for (size_t q = 0; q < s->n_quads; q++) {
		uint16_t pair = (uint16_t)(s->side[2 * q] << 8 | s->side[2 * q + 1]);

		for (int k = 0; k < 4; k++) {
			uint32_t a = s->quads[4 * q + k], b = s->quads[4 * q + (k + 1) % 4];

			e[4 * q + k].lo = a < b ? a : b;
			e[4 * q + k].hi = a < b ? b : a;
			e[4 * q + k].pair = pair;
			/* a cap's vertices stay in its plane */
			for (int sd = 0; sd < 2; sd++)
				if (s->side[2 * q + sd] >= TWIN_GRID_CAP0)
					capof[a] = (int16_t)(s->side[2 * q + sd] - TWIN_GRID_CAP0);
		}
	}
	qsort(e, ne, sizeof(*e), cmp_edge);
	/* unique edges: junction when not exactly two quads of one pair */
	for (i = 0, u = 0; i < ne; u++) {
		size_t j = i;
		int junction;

		while (j < ne && e[j].lo == e[i].lo && e[j].hi == e[i].hi)
			j++;
		junction = j - i != 2 || e[i].pair != e[j - 1].pair;
		e[u] = e[i];
		e[u].pair = (uint16_t)junction;
		deg[e[u].lo]++;
		deg[e[u].hi]++;
		if (junction) {
			jdeg[e[u].lo]++;
			jdeg[e[u].hi]++;
		}
		i = j;
	}
	start = malloc((nv + 1) * sizeof(*start));
	fill = calloc(nv ? nv : 1, sizeof(*fill));
	if (!start || !fill)
		goto out;
	start[0] = 0;
	for (i = 0; i < nv; i++) {
		uint32_t keep = jdeg[i] == 0 ? deg[i] : jdeg[i] == 2 ? 2 : 0;

		start[i + 1] = start[i] + keep;
	}
	nb = malloc((start[nv] ? start[nv] : 1) * sizeof(*nb));
	if (!nb)
		goto out;
	for (i = 0; i < u; i++) {
		uint32_t ends[2] = { e[i].lo, e[i].hi };

		for (int k = 0; k < 2; k++) {
			uint32_t v = ends[k], o = ends[1 - k];

			if (jdeg[v] == 0 || (jdeg[v] == 2 && e[i].pair))
				nb[start[v] + fill[v]++] = o;
		}
	}
	freeze_small_loops(start, nb, jdeg, nv);
	for (int it = 0; it < 2 * iterations; it++) {
		double f = it % 2 ? -0.53 : 0.5;

		for (i = 0; i < nv; i++) {
			double m[3] = { 0, 0, 0 };
			uint32_t n = start[i + 1] - start[i];
			/* a cap's vertex may go further within its plane, so that the cap's staircase flattens */
			double most = capof[i] >= 0 ? 0.5 : clamp;

			for (int a = 0; a < 3; a++)
				next[3 * i + a] = s->xyz[3 * i + a];
			if (n) {
				for (uint32_t k = start[i]; k < start[i + 1]; k++)
					for (int a = 0; a < 3; a++)
						m[a] += s->xyz[3 * nb[k] + a];
				for (int a = 0; a < 3; a++) {
					double x = s->xyz[3 * i + a] + f * (m[a] / n - s->xyz[3 * i + a]);
					double h = s->home[3 * i + a];

					next[3 * i + a] = x < h - most ? h - most : x > h + most ? h + most : x;
				}
			}
			if (capof[i] >= 0)
				project(next + 3 * i, &g->caps[capof[i]]);
		}
		memcpy(s->xyz, next, 3 * nv * sizeof(*next));
	}
	for (i = 0; i < nv; i++)
		if (capof[i] >= 0)
			project(s->xyz + 3 * i, &g->caps[capof[i]]);
	rc = 0;
out:
	/* the only failure here is running out of memory */
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "smoothing %zu vertices: out of memory", nv);
	free(next);
	free(capof);
	free(nb);
	free(fill);
	free(start);
	free(jdeg);
	free(deg);
	free(e);
	return rc;
}

static double dist2(const double *a, const double *b)
{
	return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]);
}

int twin_surface_triangulate(struct twin_err *err, struct twin_surface *s)
{
	free(s->tris);
	free(s->tri_side);
	s->tris = malloc(6 * (s->n_quads ? s->n_quads : 1) * sizeof(*s->tris));
	s->tri_side = malloc(4 * (s->n_quads ? s->n_quads : 1));
	if (!s->tris || !s->tri_side)
		return twin_err_set(err, TWIN_EFAIL, "triangulating %zu quads: out of memory", s->n_quads);
	for (size_t q = 0; q < s->n_quads; q++) {
		const uint32_t *v = s->quads + 4 * q;
		uint32_t *t = s->tris + 6 * q;
		int alt = dist2(s->xyz + 3 * v[1], s->xyz + 3 * v[3]) < dist2(s->xyz + 3 * v[0], s->xyz + 3 * v[2]);

		if (alt) {
			t[0] = v[0], t[1] = v[1], t[2] = v[3];
			t[3] = v[1], t[4] = v[2], t[5] = v[3];
		} else {
			t[0] = v[0], t[1] = v[1], t[2] = v[2];
			t[3] = v[0], t[4] = v[2], t[5] = v[3];
		}
		for (int k = 0; k < 2; k++) {
			s->tri_side[4 * q + 2 * k] = s->side[2 * q];
			s->tri_side[4 * q + 2 * k + 1] = s->side[2 * q + 1];
		}
	}
	s->n_tris = 2 * s->n_quads;
	return 0;
}

void twin_surface_to_world(struct twin_surface *s, const struct twin_grid *g)
{
	for (size_t v = 0; v < s->n_verts; v++) {
		double p[3], *x = s->xyz + 3 * v;

		for (int r = 0; r < 3; r++)
			p[r] = g->affine.m[r][0] * x[0] + g->affine.m[r][1] * x[1] + g->affine.m[r][2] * x[2] +
			       g->affine.m[r][3];
		memcpy(x, p, sizeof(p));
	}
}

void twin_surface_release(struct twin_surface *s)
{
	free(s->xyz);
	free(s->home);
	free(s->quads);
	free(s->side);
	free(s->tris);
	free(s->tri_side);
	memset(s, 0, sizeof(*s));
}

/* The most voxels each way around a vertex that its label's boundary is looked for in. */
#define MAX_REACH 24

/*
 * The distance (mm) from p (voxel index space of v) to the nearest face
 * between a voxel of value l and one of another, among the voxels within
 * reach of p's; INFINITY when there is none. Outside v counts as 0. in
 * holds (2 reach + 1)^3 bytes.
 */
static double boundary_distance(const struct twin_volume *v, const double p[3], unsigned l, int reach, uint8_t *in)
{
	const int w = 2 * reach + 1;
	long c[3];
	double best = INFINITY;

	for (int a = 0; a < 3; a++)
		c[a] = lround(p[a]);
	for (int k = 0; k < w; k++)
		for (int j = 0; j < w; j++)
			for (int i = 0; i < w; i++) {
				long x = c[0] + i - reach, y = c[1] + j - reach, z = c[2] + k - reach;
				int inside = x >= 0 && y >= 0 && z >= 0 && (size_t)x < v->dim[0] &&
					     (size_t)y < v->dim[1] && (size_t)z < v->dim[2];

				in[i + w * (j + w * k)] = inside && twin_volume_get(v, (size_t)x, (size_t)y, (size_t)z) == l;
			}
	for (int k = 0; k < w; k++)
		for (int j = 0; j < w; j++)
			for (int i = 0; i < w; i++)
				for (int a = 0; a < 3; a++) {
					int n[3] = { i, j, k }, o[3] = { i, j, k };
					double d[3], w2 = 0;

					if (++o[a] >= w || in[i + w * (j + w * k)] == in[o[0] + w * (o[1] + w * o[2])])
						continue;
					/* the face's point nearest p, in index space, then its offset in mm */
					for (int b = 0; b < 3; b++) {
						double lo = (double)(c[b] + n[b] - reach) - 0.5, x = p[b];

						if (b == a)
							x = lo + 1;
						else
							x = x < lo ? lo : x > lo + 1 ? lo + 1 : x;
						d[b] = x - p[b];
					}
					for (int r = 0; r < 3; r++) {
						double e = v->affine.m[r][0] * d[0] + v->affine.m[r][1] * d[1] +
							   v->affine.m[r][2] * d[2];

						w2 += e * e;
					}
					if (w2 < best * best)
						best = sqrt(w2);
				}
	return best;
}

/* The length (mm) of each index axis of a, the smallest and the largest. */
static void axis_lengths(const struct twin_affine *a, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = 0;
	for (int c = 0; c < 3; c++) {
		double l = sqrt(a->m[0][c] * a->m[0][c] + a->m[1][c] * a->m[1][c] + a->m[2][c] * a->m[2][c]);

		*lo = fmin(*lo, l);
		*hi = fmax(*hi, l);
	}
}

double twin_surface_label_distance(const struct twin_surface *s, const struct twin_volume *labels,
				   const struct twin_grid *g)
{
	/* the label whose boundary each vertex should lie on; 0: none */
	uint8_t *label = calloc(s->n_verts ? s->n_verts : 1, 1), *cap = calloc(s->n_verts ? s->n_verts : 1, 1);
	uint8_t *in = NULL;
	double most = 0, voxel, voxel_max, cell, cell_max;
	int reach;

	axis_lengths(&labels->affine, &voxel, &voxel_max);
	axis_lengths(&g->affine, &cell, &cell_max);
	/* a grid cell, resampled from the voxels, lies within a cell of their faces */
	reach = (int)ceil(2 * cell_max / voxel) + 1;
	reach = reach > MAX_REACH ? MAX_REACH : reach;
	in = malloc((size_t)(2 * reach + 1) * (size_t)(2 * reach + 1) * (size_t)(2 * reach + 1));
	if (!label || !cap || !in) {
		most = INFINITY;
		goto out;
	}
	for (size_t t = 0; t < s->n_tris; t++) {
		uint8_t a = s->tri_side[2 * t], b = s->tri_side[2 * t + 1];

		for (int k = 0; k < 3; k++) {
			uint32_t v = s->tris[3 * t + k];

			if (b >= TWIN_GRID_CAP0)
				cap[v] = 1;
			else if (!label[v])
				label[v] = a ? a : b;
		}
	}
	for (size_t v = 0; v < s->n_verts; v++) {
		double p[3], d;

		if (cap[v] || !label[v])
			continue;
		twin_volume_world_to_index(labels, s->xyz + 3 * v, p);
		d = boundary_distance(labels, p, label[v], reach, in);
		/* no face within reach: it is farther */
		if (isinf(d))
			d = (reach + 0.5) * voxel_max;
		if (d > most)
			most = d;
	}
out:
	free(label);
	free(cap);
	free(in);
	return most;
}
