#include "vessels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FAR UINT32_MAX
/* chamfer distances count a face step 3, an edge step 4, a corner step 5 */
#define UNIT 3u

/* The labels with vessels, and the ventricle each opens into at a valve. */
static const struct {
	uint8_t label, ventricle;
	int chamber; /* 1: vessels leave the chamber's body; 0: all of it is vessel from the valve on */
} kinds[] = {
	{ 2, 3, 1 }, /* LA: pulmonary veins */
	{ 4, 5, 1 }, /* RA: venae cavae */
	{ 6, 3, 0 }, /* aorta */
	{ 7, 5, 0 }, /* pulmonary artery */
};

struct bucket {
	uint32_t *v;
	size_t n, cap;
};

struct work {
	struct twin_volume *vol;
	size_t dim[3], n;
	uint8_t *c;
	uint32_t *bg;      /* chamfer distance to the nearest voxel of another value */
	uint32_t *d;       /* chamfer distance from the root: the valve or the chamber's body */
	uint32_t *tmp;
	uint8_t *claimed;  /* 1: belongs to a vessel end found, or to the root */
	uint32_t *list;    /* a flood's voxels */
	uint32_t *order;
	struct bucket q[6];
	struct twin_vessel_cut *cuts;
	size_t ncuts;
};

static int push(struct bucket *b, uint32_t p)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		uint32_t *t = realloc(b->v, cap * sizeof(*t));

		if (!t)
			return -1;
		b->v = t;
		b->cap = cap;
	}
	b->v[b->n++] = p;
	return 0;
}

/*
 * Chamfer distances from the voxels where dist is 0 through the voxels of
 * label: Dijkstra with a bucket per distance modulo 6 (Dial's algorithm).
 */
static int chamfer(struct work *w, uint32_t *dist, uint8_t label)
{
	static const uint32_t step[4] = { 0, 3, 4, 5 };
	const size_t nx = w->dim[0], ny = w->dim[1], nz = w->dim[2];
	size_t pending = 0;

	for (size_t p = 0; p < w->n; p++)
		if (dist[p] == 0) {
			if (push(&w->q[0], (uint32_t)p) != 0)
				return -1;
			pending++;
		}
	for (uint32_t D = 0; pending; D++) {
		struct bucket *b = &w->q[D % 6];

		for (size_t i = 0; i < b->n; i++) {
			size_t p = b->v[i], x = p % nx, y = p / nx % ny, z = p / (nx * ny);

			pending--;
			if (dist[p] != D)
				continue;
			for (int dz = -1; dz <= 1; dz++) {
				if ((dz < 0 && z == 0) || (dz > 0 && z + 1 == nz))
					continue;
				for (int dy = -1; dy <= 1; dy++) {
					if ((dy < 0 && y == 0) || (dy > 0 && y + 1 == ny))
						continue;
					for (int dx = -1; dx <= 1; dx++) {
						size_t q;
						uint32_t nd;

						if ((dx < 0 && x == 0) || (dx > 0 && x + 1 == nx) || (!dx && !dy && !dz))
							continue;
						q = (size_t)((ptrdiff_t)p + dx + (ptrdiff_t)nx * (dy + (ptrdiff_t)ny * dz));
						if (w->c[q] != label)
							continue;
						nd = D + step[abs(dx) + abs(dy) + abs(dz)];
						if (nd < dist[q]) {
							dist[q] = nd;
							if (push(&w->q[nd % 6], (uint32_t)q) != 0)
								return -1;
							pending++;
						}
					}
				}
			}
		}
		b->n = 0;
	}
	return 0;
}

/* The up to six face neighbours of p; returns how many. */
static int neighbours(const struct work *w, size_t p, size_t nb[6])
{
	const size_t nx = w->dim[0], ny = w->dim[1], x = p % nx, y = p / nx % ny, z = p / (nx * ny);
	int m = 0;

	if (x > 0) nb[m++] = p - 1;
	if (x + 1 < nx) nb[m++] = p + 1;
	if (y > 0) nb[m++] = p - nx;
	if (y + 1 < ny) nb[m++] = p + nx;
	if (z > 0) nb[m++] = p - nx * ny;
	if (z + 1 < w->dim[2]) nb[m++] = p + nx * ny;
	return m;
}

/*
 * Floods from p over the unclaimed voxels of label with d >= level into
 * w->list and claims them; returns their count. *touched: the flood met a
 * claimed voxel of label with d >= level (another end, or the root).
 */
static size_t flood(struct work *w, size_t p, uint8_t label, uint32_t level, int *touched)
{
	size_t n = 0, top = 0;

	*touched = 0;
	w->claimed[p] = 2;
	w->list[n++] = (uint32_t)p;
	while (top < n) {
		size_t nb[6], at = w->list[top++];
		int m = neighbours(w, at, nb);

		for (int k = 0; k < m; k++) {
			size_t q = nb[k];

			if (w->c[q] != label || w->d[q] == FAR || w->d[q] < level)
				continue;
			if (w->claimed[q]) {
				*touched |= w->claimed[q] == 1;
				continue;
			}
			w->claimed[q] = 2;
			w->list[n++] = (uint32_t)q;
		}
	}
	for (size_t i = 0; i < n; i++)
		w->claimed[w->list[i]] = 1;
	return n;
}

/*
 * The voxels of label with d >= level connected to p, into w->list; returns
 * their count. Marks them with stamp in w->tmp, which must hold no stamp yet.
 */
static size_t stretch(struct work *w, size_t p, uint8_t label, uint32_t level, uint32_t stamp)
{
	size_t n = 0, top = 0;

	w->tmp[p] = stamp;
	w->list[n++] = (uint32_t)p;
	while (top < n) {
		size_t nb[6];
		int m = neighbours(w, w->list[top++], nb);

		for (int k = 0; k < m; k++) {
			size_t q = nb[k];

			if (w->c[q] != label || w->d[q] == FAR || w->d[q] < level || w->tmp[q] == stamp)
				continue;
			w->tmp[q] = stamp;
			w->list[n++] = (uint32_t)q;
		}
	}
	return n;
}

/*
 * Cuts the voxels of list (of label, with d >= c - 2 band) beyond the plane
 * through the end of the centreline at level c, perpendicular to it there:
 * the centreline's direction from the centres of the stretches [c - 2band,
 * c - band) and [c - band, c).
 */
static int cut(struct work *w, const uint32_t *list, size_t n, uint8_t label, uint32_t c, uint32_t band)
{
	const size_t nx = w->dim[0], ny = w->dim[1];
	const struct twin_affine *A = &w->vol->affine;
	double mean[3] = { 0, 0, 0 }, cov[3] = { 0, 0, 0 }, md = 0, var = 0, idx[3], wv[3], m[3], pt[3];
	double len = 0, mlen = 0, shift = 0;
	size_t used = 0, faces = 0;
	struct twin_vessel_cut *k;

	if (w->ncuts == TWIN_VESSELS_MAX_CUTS || c < 2 * band)
		return -1;
	/*
	 * the centreline: the least-squares line of the voxels' positions against
	 * their distance from the root, whose every level's centre lies on it
	 */
	for (size_t i = 0; i < n; i++) {
		size_t p = list[i];

		if (w->d[p] < c - 2 * band || w->d[p] >= c)
			continue;
		mean[0] += (double)(p % nx);
		mean[1] += (double)(p / nx % ny);
		mean[2] += (double)(p / (nx * ny));
		md += w->d[p];
		used++;
	}
	if (used < 8)
		return -1;
	for (int a = 0; a < 3; a++)
		mean[a] /= (double)used;
	md /= (double)used;
	for (size_t i = 0; i < n; i++) {
		size_t p = list[i];
		double q[3] = { (double)(p % nx), (double)(p / nx % ny), (double)(p / (nx * ny)) };
		double d = w->d[p];

		if (w->d[p] < c - 2 * band || w->d[p] >= c)
			continue;
		for (int a = 0; a < 3; a++)
			cov[a] += (d - md) * (q[a] - mean[a]);
		var += (d - md) * (d - md);
	}
	if (var <= 0)
		return -1;
	/* the plane through the line's point at level c */
	for (int a = 0; a < 3; a++) {
		idx[a] = cov[a] / var;
		pt[a] = mean[a] + idx[a] * ((double)c - md);
	}
	for (int r = 0; r < 3; r++) {
		wv[r] = A->m[r][0] * idx[0] + A->m[r][1] * idx[1] + A->m[r][2] * idx[2];
		len += wv[r] * wv[r];
	}
	len = sqrt(len);
	if (len == 0)
		return -1;
	/* the plane in index space: A^T n, so that (q - pt) . m is the distance in mm */
	for (int a = 0; a < 3; a++) {
		m[a] = (A->m[0][a] * wv[0] + A->m[1][a] * wv[1] + A->m[2][a] * wv[2]) / len;
		mlen += m[a] * m[a];
	}
	mlen = sqrt(mlen);
	/* a cap borders its vessel and the background only: none where the vessel meets another label */
	for (size_t i = 0; i < n; i++) {
		size_t p = list[i], nb[6];
		double q[3] = { (double)(p % nx), (double)(p / nx % ny), (double)(p / (nx * ny)) };
		int j = neighbours(w, p, nb);

		if ((q[0] - pt[0]) * m[0] + (q[1] - pt[1]) * m[1] + (q[2] - pt[2]) * m[2] <= 0)
			continue;
		for (int e = 0; e < j; e++)
			if (w->c[nb[e]] != 0 && w->c[nb[e]] != label && w->c[nb[e]] < TWIN_VESSELS_CUT0)
				return -1;
	}
	k = &w->cuts[w->ncuts];
	k->label = label;
	for (int a = 0; a < 3; a++) {
		k->point[a] = pt[a];
		k->normal[a] = m[a] / mlen;
	}
	for (size_t i = 0; i < n; i++) {
		size_t p = list[i];
		double q[3] = { (double)(p % nx), (double)(p / nx % ny), (double)(p / (nx * ny)) };

		if ((q[0] - pt[0]) * m[0] + (q[1] - pt[1]) * m[1] + (q[2] - pt[2]) * m[2] > 0)
			w->c[p] = (uint8_t)(TWIN_VESSELS_CUT0 + w->ncuts);
	}
	/* the cap's plane through the mean of the faces between the vessel and what was cut off */
	for (size_t i = 0; i < n; i++) {
		size_t p = list[i], nb[6];
		int j = neighbours(w, p, nb);

		if (w->c[p] != TWIN_VESSELS_CUT0 + w->ncuts)
			continue;
		for (int e = 0; e < j; e++) {
			size_t o = nb[e];

			if (w->c[o] != label)
				continue;
			shift += ((double)(p % nx + o % nx) / 2 - pt[0]) * k->normal[0] +
				 ((double)(p / nx % ny + o / nx % ny) / 2 - pt[1]) * k->normal[1] +
				 ((double)(p / (nx * ny) + o / (nx * ny)) / 2 - pt[2]) * k->normal[2];
			faces++;
		}
	}
	if (faces)
		for (int a = 0; a < 3; a++)
			k->point[a] += shift / (double)faces * k->normal[a];
	w->ncuts++;
	return 0;
}

static int on_border(const struct work *w, size_t p)
{
	const size_t nx = w->dim[0], ny = w->dim[1], x = p % nx, y = p / nx % ny, z = p / (nx * ny);

	return x == 0 || y == 0 || z == 0 || x + 1 == nx || y + 1 == ny || z + 1 == w->dim[2];
}

/* 1 when a voxel of list has a face neighbour of value other. */
static int touches(const struct work *w, const uint32_t *list, size_t n, uint8_t other)
{
	for (size_t i = 0; i < n; i++) {
		size_t nb[6];
		int m = neighbours(w, list[i], nb);

		for (int k = 0; k < m; k++)
			if (w->c[nb[k]] == other)
				return 1;
	}
	return 0;
}

/* Finds and cuts the vessels of one label (kinds[kind]). */
static int cut_label(struct work *w, size_t kind, double vessel_length)
{
	const uint8_t l = kinds[kind].label, ventricle = kinds[kind].ventricle;
	uint32_t rmax = 0, rl, band, lb, t = FAR, zone, dmax = 0, stamp = 0;
	size_t nroot = 0, nl = 0, *count = NULL;
	double sp[3];
	int rc = -1;

	for (size_t p = 0; p < w->n; p++) {
		w->bg[p] = FAR;
		w->d[p] = FAR;
		w->claimed[p] = 0;
	}
	for (size_t p = 0; p < w->n; p++) {
		size_t nb[6];
		int m;

		if (w->c[p] != l)
			continue;
		nl++;
		m = neighbours(w, p, nb);
		for (int k = 0; k < m; k++)
			if (w->c[nb[k]] != l)
				w->bg[nb[k]] = 0;
	}
	if (!nl)
		return 0;
	if (chamfer(w, w->bg, l) != 0)
		return -1;
	for (size_t p = 0; p < w->n; p++)
		if (w->c[p] == l && w->bg[p] != FAR && w->bg[p] > rmax)
			rmax = w->bg[p];
	if (kinds[kind].chamber) {
		/* the body: an opening by a ball of radius rl */
		rl = (uint32_t)(0.6 * rmax);
		for (size_t p = 0; p < w->n; p++)
			w->tmp[p] = w->c[p] == l && w->bg[p] != FAR && w->bg[p] >= rl ? 0 : FAR;
		if (chamfer(w, w->tmp, l) != 0)
			return -1;
		for (size_t p = 0; p < w->n; p++)
			if (w->c[p] == l && w->tmp[p] <= rl) {
				w->d[p] = 0;
				nroot++;
			}
	} else {
		rl = rmax;
		for (size_t p = 0; p < w->n; p++) {
			size_t nb[6];
			int m;

			if (w->c[p] != l)
				continue;
			m = neighbours(w, p, nb);
			for (int k = 0; k < m; k++)
				if (w->c[nb[k]] == ventricle) {
					w->d[p] = 0;
					nroot++;
					break;
				}
		}
	}
	if (!nroot)
		return 0;
	if (chamfer(w, w->d, l) != 0)
		return -1;
	for (size_t p = 0; p < w->n; p++) {
		if (w->c[p] != l || w->d[p] == FAR || w->d[p] == 0)
			w->claimed[p] = 1;
		else if (w->d[p] > dmax)
			dmax = w->d[p];
	}
	band = rl / 2 > 2 * UNIT ? rl / 2 : 2 * UNIT;
	twin_volume_spacing(w->vol, sp);
	if (vessel_length > 0)
		t = (uint32_t)fmin(4e9, ceil(vessel_length / ((sp[0] + sp[1] + sp[2]) / 3) * UNIT));
	/* vessel_length: each branch that goes on beyond it is cut there */
	/* a short vessel_length: the stretches the plane is fitted to are shorter */
	lb = t == FAR || 2 * band <= t ? band : t / 2 > UNIT ? t / 2 : UNIT;
	for (size_t p = 0; p < w->n; p++)
		w->tmp[p] = 0;
	if (t != FAR && t >= 2 * lb) {
		for (size_t p = 0; p < w->n; p++) {
			size_t n;
			uint32_t most = 0;

			if (w->c[p] != l || w->d[p] == FAR || w->d[p] < t || w->claimed[p] || w->tmp[p])
				continue;
			/* from the valve or chamber on when vessel_length is short */
			n = stretch(w, p, l, t - 2 * lb, ++stamp);
			for (size_t i = 0; i < n; i++)
				if (w->d[w->list[i]] > most)
					most = w->d[w->list[i]];
			if (most < t + lb)
				continue;
			/* no cap where the vessel still touches another label: a little further then */
			for (uint32_t c = t; c + lb <= most && cut(w, w->list, n, l, c, lb) != 0; c += lb)
				;
			for (size_t i = 0; i < n; i++)
				w->claimed[w->list[i]] = 1;
		}
	}
	/* the ends, from the farthest: each end not within zone of another is a vessel's */
	count = calloc((size_t)dmax + 2, sizeof(*count));
	if (!count)
		return -1;
	for (size_t p = 0; p < w->n; p++)
		if (!w->claimed[p])
			count[dmax - w->d[p] + 1]++;
	for (size_t i = 1; i <= (size_t)dmax + 1; i++)
		count[i] += count[i - 1];
	for (size_t p = 0; p < w->n; p++)
		if (!w->claimed[p])
			w->order[count[dmax - w->d[p]]++] = (uint32_t)p;
	zone = rl + UNIT + 2 * band;
	for (size_t i = 0; i < count[dmax]; i++) {
		size_t p = w->order[i], n, k;
		uint32_t D = w->d[p], r = 0, low = FAR, margin, b, c;
		int touched;

		if (w->claimed[p])
			continue;
		n = flood(w, p, l, D > zone ? D - zone : 0, &touched);
		if (touched || D <= zone)
			continue;
		for (k = 0; k < n; k++) {
			size_t q = w->list[k];

			if (w->d[q] + rl + UNIT >= D && w->bg[q] > r)
				r = w->bg[q];
			if (on_border(w, q) && w->d[q] < low)
				low = w->d[q];
		}
		r = r < rl ? r : rl;
		b = r > 2 * UNIT ? r : 2 * UNIT;
		margin = r + UNIT;
		/* a vessel that leaves the image is cut inside it */
		if (low != FAR && D - low + UNIT > margin)
			margin = D - low + UNIT;
		if (margin >= D)
			continue;
		c = D - margin;
		if (t != FAR && c > t)
			c = t;
		/*
		 * and before it first touches the image's border, which may lie below
		 * the end's zone; but not past a fork (the stretch reaches beyond the
		 * end), where an image face closes the vessel instead
		 */
		for (int again = 0; again < 16 && c >= 2 * b + UNIT; again++) {
			uint32_t first = FAR, most = 0;

			nl = stretch(w, p, l, c - 2 * b, ++stamp);
			for (k = 0; k < nl; k++) {
				uint32_t dk = w->d[w->list[k]];

				most = dk > most ? dk : most;
				if (dk <= c && dk < first && on_border(w, w->list[k]))
					first = dk;
			}
			if (most > D)
				c = 0;
			if (first == FAR || most > D)
				break;
			c = first > UNIT ? first - UNIT : 0;
		}
		if (c < 2 * b + UNIT)
			continue;
		/* where the vessel still touches another label, a little nearer its end */
		for (;; c += b) {
			nl = stretch(w, p, l, c - 2 * b, ++stamp);
			for (k = 0; k < nl; k++)
				w->claimed[w->list[k]] = 1;
			/* the neck of an atrium's valve is no vessel */
			if (kinds[kind].chamber && touches(w, w->list, nl, ventricle))
				break;
			if (c + b + UNIT > D || cut(w, w->list, nl, l, c, b) == 0)
				break;
		}
	}
	rc = 0;
	free(count);
	return rc;
}

int twin_vessels_cut(struct twin_err *err, struct twin_volume *v, unsigned meshed, double vessel_length,
		     struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS], size_t *ncuts, const char *name)
{
	struct work w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	*ncuts = 0;
	w.vol = v;
	memcpy(w.dim, v->dim, sizeof(w.dim));
	w.n = v->dim[0] * v->dim[1] * v->dim[2];
	w.c = v->data;
	w.cuts = cuts;
	if (w.n >= UINT32_MAX) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "label map '%s': too many voxels to find its vessels", name);
		return -1;
	}
	w.bg = malloc(w.n * sizeof(*w.bg));
	w.d = malloc(w.n * sizeof(*w.d));
	w.tmp = malloc(w.n * sizeof(*w.tmp));
	w.claimed = malloc(w.n);
	w.list = malloc(w.n * sizeof(*w.list));
	w.order = malloc(w.n * sizeof(*w.order));
	if (!w.bg || !w.d || !w.tmp || !w.claimed || !w.list || !w.order)
		goto out;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((meshed >> kinds[k].label & 1) && cut_label(&w, k, vessel_length) != 0)
			goto out;
	*ncuts = w.ncuts;
	rc = 0;
out:
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "label map '%s': finding its vessels: out of memory", name);
	for (int i = 0; i < 6; i++)
		free(w.q[i].v);
	free(w.order);
	free(w.list);
	free(w.claimed);
	free(w.tmp);
	free(w.d);
	free(w.bg);
	return rc;
}
