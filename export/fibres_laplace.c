#include "fibres_laplace.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cholmod.h>

/* Free nodes below which the factorisation is simplicial. */
#define SIMPLICIAL_BELOW 8000

/* The upper triangle of the stiffness matrix, compressed by columns. */
struct twin_fibres_laplace {
	size_t n;
	size_t *colp;  /* n + 1 */
	uint32_t *row; /* colp[n]; rows <= column, sorted */
	double *val;
	int *perm;     /* NULL, or METIS's fill-reducing order of all n nodes */
};

/* Gradients of the four barycentric coordinates of tet; returns 6 x volume. */
static double shape_gradients(double g[4][3], const double *xyz, const uint32_t tet[4])
{
	const double *p0 = xyz + 3 * (size_t)tet[0];
	double e[3][3], det;

	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 3; i++)
			e[k][i] = xyz[3 * (size_t)tet[k + 1] + i] - p0[i];
	for (int k = 0; k < 3; k++) {
		const double *a = e[(k + 1) % 3], *b = e[(k + 2) % 3];

		g[k + 1][0] = a[1] * b[2] - a[2] * b[1];
		g[k + 1][1] = a[2] * b[0] - a[0] * b[2];
		g[k + 1][2] = a[0] * b[1] - a[1] * b[0];
	}
	det = e[0][0] * g[1][0] + e[0][1] * g[1][1] + e[0][2] * g[1][2];
	for (int i = 0; i < 3; i++) {
		for (int k = 1; k < 4; k++)
			g[k][i] = det != 0 ? g[k][i] / det : 0;
		g[0][i] = -(g[1][i] + g[2][i] + g[3][i]);
	}
	return det;
}

double twin_fibres_laplace_shape(double g[4][3], const double *xyz, const uint32_t tet[4])
{
	return fabs(shape_gradients(g, xyz, tet)) / 6;
}

void twin_fibres_laplace_gradient(double g[3], const double *xyz, const uint32_t tet[4],
				  const double *u)
{
	double s[4][3];

	shape_gradients(s, xyz, tet);
	for (int i = 0; i < 3; i++)
		g[i] = u[tet[0]] * s[0][i] + u[tet[1]] * s[1][i] + u[tet[2]] * s[2][i] +
		       u[tet[3]] * s[3][i];
}

static size_t find_row(const struct twin_fibres_laplace *lp, size_t col, uint32_t r)
{
	size_t lo = lp->colp[col], hi = lp->colp[col + 1];

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (lp->row[mid] <= r)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The pattern: every pair of nodes that share a tetrahedron, upper triangle. */
static int build_pattern(struct twin_err *err, struct twin_fibres_laplace *lp, size_t n_tets,
			 const uint32_t *tets)
{
	size_t n = lp->n, *fill = NULL, k = 0;
	uint32_t *rows = NULL;
	int rc = -1;

	lp->colp = calloc(n + 1, sizeof(*lp->colp));
	fill = calloc(n + 1, sizeof(*fill));
	if (!lp->colp || !fill)
		goto out;
	for (size_t t = 0; t < n_tets; t++)
		for (int a = 0; a < 4; a++)
			for (int b = 0; b < 4; b++)
				if (tets[4 * t + a] <= tets[4 * t + b] && (a <= b || tets[4 * t + a] != tets[4 * t + b]))
					fill[tets[4 * t + b] + 1]++;
	for (size_t j = 0; j < n; j++)
		fill[j + 1] += fill[j];
	rows = malloc((fill[n] ? fill[n] : 1) * sizeof(*rows));
	if (!rows)
		goto out;
	for (size_t t = 0; t < n_tets; t++)
		for (int a = 0; a < 4; a++)
			for (int b = 0; b < 4; b++)
				if (tets[4 * t + a] <= tets[4 * t + b] && (a <= b || tets[4 * t + a] != tets[4 * t + b]))
					rows[fill[tets[4 * t + b]]++] = tets[4 * t + a];
	/* fill[j] is now the end of column j: sort each, drop repeats, compact */
	for (size_t j = 0, start = 0; j < n; j++) {
		size_t end = fill[j];

		for (size_t i = start + 1; i < end; i++) {
			uint32_t v = rows[i];
			size_t m = i;

			for (; m > start && rows[m - 1] > v; m--)
				rows[m] = rows[m - 1];
			rows[m] = v;
		}
		lp->colp[j] = k;
		for (size_t i = start; i < end; i++)
			if (i == start || rows[i] != rows[i - 1])
				rows[k++] = rows[i];
		start = end;
	}
	lp->colp[n] = k;
	lp->row = realloc(rows, (k ? k : 1) * sizeof(*rows));
	if (!lp->row)
		goto out;
	rows = NULL;
	lp->val = calloc(k ? k : 1, sizeof(*lp->val));
	if (!lp->val)
		goto out;
	rc = 0;
out:
	if (rc)
		twin_err_set(err, TWIN_EFAIL, "laplace: out of memory for %zu nodes", n);
	free(rows);
	free(fill);
	return rc;
}

struct twin_fibres_laplace *twin_fibres_laplace_new(struct twin_err *err, size_t n_nodes,
						    const double *xyz, size_t n_tets,
						    const uint32_t *tets)
{
	struct twin_fibres_laplace *lp = calloc(1, sizeof(*lp));

	if (!lp) {
		twin_err_set(err, TWIN_EFAIL, "laplace: out of memory");
		return NULL;
	}
	lp->n = n_nodes;
	if (build_pattern(err, lp, n_tets, tets) != 0)
		goto fail;
	for (size_t t = 0; t < n_tets; t++) {
		const uint32_t *tet = tets + 4 * t;
		double g[4][3], vol = shape_gradients(g, xyz, tet) / 6;

		if (!(fabs(vol) > 0)) {
			twin_err_set(err, TWIN_EINPUT, "laplace: tetrahedron %zu is flat", t);
			goto fail;
		}
		vol = fabs(vol);
		for (int a = 0; a < 4; a++)
			for (int b = 0; b < 4; b++) {
				uint32_t r = tet[a], c = tet[b];

				if (r > c || (r == c && a > b))
					continue;
				lp->val[find_row(lp, c, r)] +=
					vol * (g[a][0] * g[b][0] + g[a][1] * g[b][1] + g[a][2] * g[b][2]);
			}
	}
	return lp;
fail:
	twin_fibres_laplace_free(lp);
	return NULL;
}

void twin_fibres_laplace_free(struct twin_fibres_laplace *lp)
{
	if (!lp)
		return;
	free(lp->colp);
	free(lp->row);
	free(lp->val);
	free(lp->perm);
	free(lp);
}

/* 0 when every node is fixed or joined to a fixed node through the matrix. */
static int check_reached(struct twin_err *err, const struct twin_fibres_laplace *lp,
			 const unsigned char *fixed)
{
	size_t n = lp->n, head = 0, tail = 0, *adjp = NULL, *queue = NULL;
	uint32_t *adj = NULL;
	unsigned char *seen = NULL;
	int rc = -1;

	adjp = calloc(n + 1, sizeof(*adjp));
	queue = malloc((n ? n : 1) * sizeof(*queue));
	seen = calloc(n ? n : 1, 1);
	adj = malloc((2 * lp->colp[n] + 1) * sizeof(*adj));
	if (!adjp || !queue || !seen || !adj) {
		twin_err_set(err, TWIN_EFAIL, "laplace: out of memory");
		goto out;
	}
	for (size_t j = 0; j < n; j++)
		for (size_t k = lp->colp[j]; k < lp->colp[j + 1]; k++)
			if (lp->row[k] != j) {
				adjp[j + 1]++;
				adjp[lp->row[k] + 1]++;
			}
	for (size_t j = 0; j < n; j++)
		adjp[j + 1] += adjp[j];
	{
		size_t *pos = queue; /* borrowed as a cursor per node */

		for (size_t j = 0; j < n; j++)
			pos[j] = adjp[j];
		for (size_t j = 0; j < n; j++)
			for (size_t k = lp->colp[j]; k < lp->colp[j + 1]; k++)
				if (lp->row[k] != j) {
					adj[pos[j]++] = lp->row[k];
					adj[pos[lp->row[k]]++] = (uint32_t)j;
				}
	}
	for (size_t i = 0; i < n; i++)
		if (fixed[i]) {
			seen[i] = 1;
			queue[tail++] = i;
		}
	while (head < tail) {
		size_t i = queue[head++];

		for (size_t k = adjp[i]; k < adjp[i + 1]; k++)
			if (!seen[adj[k]]) {
				seen[adj[k]] = 1;
				queue[tail++] = adj[k];
			}
	}
	if (tail == 0) {
		twin_err_set(err, TWIN_EINPUT, "laplace: no node has a fixed value");
		goto out;
	}
	if (tail < n) {
		twin_err_set(err, TWIN_EINPUT,
			     "laplace: %zu of %zu nodes lie in parts that touch no fixed node",
			     n - tail, n);
		goto out;
	}
	rc = 0;
out:
	free(adjp);
	free(queue);
	free(seen);
	free(adj);
	return rc;
}

/*
 * Orders all nodes once with METIS, for every later set of fixed nodes: the
 * order of the free ones is a good order for their matrix, and it saves one
 * METIS run per problem.
 */
static int order_all(struct twin_err *err, struct twin_fibres_laplace *lp, cholmod_common *c)
{
	size_t n = lp->n, nnz = lp->colp[n];
	cholmod_sparse *a = cholmod_allocate_sparse(n, n, nnz, 1, 1, 1, CHOLMOD_PATTERN, c);
	int *ap, *ai, rc = -1;

	lp->perm = malloc(n * sizeof(*lp->perm));
	if (!a || !lp->perm) {
		twin_err_set(err, TWIN_EDEP, "cholmod: cannot allocate a %zu x %zu matrix", n, n);
		goto out;
	}
	ap = a->p;
	ai = a->i;
	for (size_t j = 0; j <= n; j++)
		ap[j] = (int)lp->colp[j];
	for (size_t k = 0; k < nnz; k++)
		ai[k] = (int)lp->row[k];
	if (!cholmod_metis(a, NULL, 0, 1, lp->perm, c)) {
		twin_err_set(err, TWIN_EDEP, "cholmod: METIS cannot order %zu nodes (status %d)", n,
			     c->status);
		goto out;
	}
	rc = 0;
out:
	if (rc) {
		free(lp->perm);
		lp->perm = NULL;
	}
	cholmod_free_sparse(&a, c);
	return rc;
}

int twin_fibres_laplace_solve(struct twin_err *err, struct twin_fibres_laplace *lp,
			      const unsigned char *fixed, size_t n_rhs, double *u)
{
	size_t n = lp->n, nf = 0, nnz = 0;
	size_t *map = NULL;
	cholmod_common c;
	cholmod_sparse *a = NULL;
	cholmod_factor *l = NULL;
	cholmod_dense *b = NULL, *x = NULL;
	int *ap, *ai, *perm = NULL, rc = -1;
	double *ax, *bx;

	if (check_reached(err, lp, fixed) != 0)
		return -1;
	map = malloc((n ? n : 1) * sizeof(*map));
	if (!map)
		return twin_err_set(err, TWIN_EFAIL, "laplace: out of memory");
	for (size_t i = 0; i < n; i++)
		map[i] = fixed[i] ? SIZE_MAX : nf++;
	if (nf == 0) {
		free(map);
		return 0;
	}
	for (size_t j = 0; j < n; j++)
		for (size_t k = lp->colp[j]; k < lp->colp[j + 1]; k++)
			if (!fixed[j] && !fixed[lp->row[k]])
				nnz++;
	if (nnz >= INT_MAX) {
		free(map);
		return twin_err_set(err, TWIN_EUNSUPPORTED,
				    "laplace: %zu matrix entries are too many for CHOLMOD's int indices", nnz);
	}
	cholmod_start(&c);
	c.print = 0;
	/*
	 * Small systems factorise faster simplicially, and without the OpenMP
	 * thread pool of the supernodal code (whose threads outlive the call).
	 * Large ones take their order from order_all: for these 3-D Laplacians
	 * METIS beats AMD on fill, so CHOLMOD's default of trying both only
	 * costs time.
	 */
	if (nf < SIMPLICIAL_BELOW) {
		c.supernodal = CHOLMOD_SIMPLICIAL;
	} else {
		if (!lp->perm && order_all(err, lp, &c) != 0)
			goto out;
		perm = malloc(nf * sizeof(*perm));
		if (!perm) {
			twin_err_set(err, TWIN_EFAIL, "laplace: out of memory");
			goto out;
		}
		for (size_t i = 0, k = 0; i < n; i++)
			if (!fixed[lp->perm[i]])
				perm[k++] = (int)map[lp->perm[i]];
		c.nmethods = 1;
		c.method[0].ordering = CHOLMOD_GIVEN;
	}
	a = cholmod_allocate_sparse(nf, nf, nnz, 1, 1, 1, CHOLMOD_REAL, &c);
	b = cholmod_zeros(nf, n_rhs, CHOLMOD_REAL, &c);
	if (!a || !b) {
		twin_err_set(err, TWIN_EDEP, "cholmod: cannot allocate a %zu x %zu matrix", nf, nf);
		goto out;
	}
	ap = a->p;
	ai = a->i;
	ax = a->x;
	bx = b->x;
	nnz = 0;
	for (size_t j = 0; j < n; j++) {
		if (!fixed[j])
			ap[map[j]] = (int)nnz;
		for (size_t k = lp->colp[j]; k < lp->colp[j + 1]; k++) {
			size_t i = lp->row[k];

			if (!fixed[j] && !fixed[i]) {
				ai[nnz] = (int)map[i];
				ax[nnz++] = lp->val[k];
			} else if (!fixed[j]) {
				for (size_t r = 0; r < n_rhs; r++)
					bx[r * nf + map[j]] -= lp->val[k] * u[r * n + i];
			} else if (!fixed[i]) {
				for (size_t r = 0; r < n_rhs; r++)
					bx[r * nf + map[i]] -= lp->val[k] * u[r * n + j];
			}
		}
	}
	ap[nf] = (int)nnz;
	l = perm ? cholmod_analyze_p(a, perm, NULL, 0, &c) : cholmod_analyze(a, &c);
	if (!l || !cholmod_factorize(a, l, &c) || c.status != CHOLMOD_OK) {
		twin_err_set(err, TWIN_EDEP, "cholmod: cannot factorise the %zu x %zu matrix (status %d)",
			     nf, nf, c.status);
		goto out;
	}
	x = cholmod_solve(CHOLMOD_A, l, b, &c);
	if (!x) {
		twin_err_set(err, TWIN_EDEP, "cholmod: solve failed (status %d)", c.status);
		goto out;
	}
	for (size_t r = 0; r < n_rhs; r++)
		for (size_t i = 0; i < n; i++)
			if (!fixed[i])
				u[r * n + i] = ((double *)x->x)[r * nf + map[i]];
	rc = 0;
out:
	cholmod_free_dense(&x, &c);
	cholmod_free_dense(&b, &c);
	cholmod_free_factor(&l, &c);
	cholmod_free_sparse(&a, &c);
	cholmod_finish(&c);
	free(map);
	free(perm);
	return rc;
}
