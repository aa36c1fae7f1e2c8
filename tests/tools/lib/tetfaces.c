/*
 * Face matching by sorting: libtwin's twin_tetmesh_face_index matches the
 * mesh's triangles to tets, not tets to each other, and a test needs no
 * faster table than this one.
 */
#include "tetfaces.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int twin_tetface_cmp(const void *a, const void *b)
{
	const struct twin_tetface *x = a, *y = b;

	for (int i = 0; i < 3; i++)
		if (x->v[i] != y->v[i])
			return x->v[i] < y->v[i] ? -1 : 1;
	return 0;
}

struct twin_tetface *twin_tetfaces(const struct twin_tetmesh *m, int (*keep)(int32_t region), size_t *n)
{
	struct twin_tetface *k = malloc(4 * (m->n_tets ? m->n_tets : 1) * sizeof(*k));

	*n = 0;
	if (!k)
		return NULL;
	for (size_t t = 0; t < m->n_tets; t++) {
		if (keep && !keep(m->tet_region[t]))
			continue;
		for (int f = 0; f < 4; f++) {
			uint32_t *v = k[*n].v;

			for (int i = 0, j = 0; i < 4; i++)
				if (i != f)
					v[j++] = m->tets[4 * t + i];
			/* three nodes sorted by hand */
			for (int a = 0; a < 2; a++)
				for (int b = 0; b < 2 - a; b++)
					if (v[b] > v[b + 1]) {
						uint32_t x = v[b];

						v[b] = v[b + 1];
						v[b + 1] = x;
					}
			k[(*n)++].tet = (uint32_t)t;
		}
	}
	qsort(k, *n, sizeof(*k), twin_tetface_cmp);
	return k;
}

uint32_t *twin_tetfaces_neighbours(const struct twin_tetmesh *m, int (*keep)(int32_t region))
{
	uint32_t *nb = malloc(4 * (m->n_tets ? m->n_tets : 1) * sizeof(*nb));
	size_t n = 0;
	struct twin_tetface *k = nb ? twin_tetfaces(m, keep, &n) : NULL;

	if (!k) {
		free(nb);
		return NULL;
	}
	for (size_t t = 0; t < 4 * m->n_tets; t++)
		nb[t] = UINT32_MAX;
	for (size_t i = 0; i + 1 < n; i++)
		if (twin_tetface_cmp(&k[i], &k[i + 1]) == 0) {
			uint32_t a = k[i].tet, b = k[i + 1].tet;
			int fa = 0, fb = 0;

			while (fa < 4 && nb[4 * a + fa] != UINT32_MAX)
				fa++;
			while (fb < 4 && nb[4 * b + fb] != UINT32_MAX)
				fb++;
			/* a face of more than two tets (not a valid mesh) adds no more */
			if (fa < 4 && fb < 4) {
				nb[4 * a + fa] = b;
				nb[4 * b + fb] = a;
			}
		}
	free(k);
	return nb;
}

static double dot(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

double twin_tetfaces_neighbour_angle(const uint32_t *nb, const double *fibres, size_t t)
{
	double s[3][3] = { { 0 } }, v[3], c;
	int n = 0;

	for (int f = 0; f < 4; f++) {
		const double *g;

		if (nb[4 * t + f] == UINT32_MAX)
			continue;
		g = fibres + 9 * (size_t)nb[4 * t + f];
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				s[i][j] += g[i] * g[j];
		n++;
	}
	if (!n)
		return -1;
	/* power iteration from the tet's own fibre: a 3x3 needs no LAPACK */
	memcpy(v, fibres + 9 * t, sizeof(v));
	for (int it = 0; it < 100; it++) {
		double w[3], len;

		for (int i = 0; i < 3; i++)
			w[i] = dot(s[i], v);
		len = sqrt(dot(w, w));
		if (!(len > 0))
			break;
		for (int i = 0; i < 3; i++)
			v[i] = w[i] / len;
	}
	c = fabs(dot(fibres + 9 * t, v)) / sqrt(dot(fibres + 9 * t, fibres + 9 * t) * dot(v, v));
	return acos(c > 1 ? 1 : c) * 180 / M_PI;
}
