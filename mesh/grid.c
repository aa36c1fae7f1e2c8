#include "grid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "surfaces.h"
#include "vessels.h"

#define CAP_MARK 255 /* an outside cell next to blood, before caps are numbered */

/* Pairs the anatomy says touch, and what their touching makes. */
static const struct {
	uint8_t a, b;
	const char *what;
} touching[] = {
	{ 1, 3, "LV endocardium" },
	{ 2, 3, "mitral valve" },
	{ 3, 6, "aortic valve" },
	{ 4, 5, "tricuspid valve" },
	{ 5, 7, "pulmonary valve" },
};

static void warn(const struct twin_grid_opt *opt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(const struct twin_grid_opt *opt, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!opt->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt->warn(opt->warn_ctx, msg);
}

unsigned twin_grid_selection(const char *which)
{
	unsigned all = 0, blood = 0;

	for (long id = 1; id < TWIN_GRID_LABELS; id++) {
		const struct twin_label *l = twin_label_by_id(id);

		if (!l)
			continue;
		all |= 1u << id;
		if (l->kind == TWIN_LABEL_BLOOD)
			blood |= 1u << id;
	}
	if (strcmp(which, "all") == 0)
		return all;
	if (strcmp(which, "blood") == 0)
		return blood;
	if (strcmp(which, "myocardium") == 0)
		return all & ~blood;
	return 0;
}

static int is_blood(unsigned v)
{
	const struct twin_label *l = v < TWIN_GRID_LABELS ? twin_label_by_id(v) : NULL;

	return l && l->kind == TWIN_LABEL_BLOOD;
}

/* The label map as bytes on its own grid, or on a coarser one; *present: the values held. */
static struct twin_volume *prepare(struct twin_err *err, const struct twin_volume *in,
				   const struct twin_grid_opt *opt, unsigned *present)
{
	struct twin_volume *bytes = NULL, *v = NULL;
	double sp[3], dir[3][3];
	size_t dim[3], i, n = twin_volume_count(in);
	int coarser = 0;

	bytes = twin_volume_new(err, TWIN_U8, in->dim, &in->affine);
	if (!bytes)
		return NULL;
	*present = 0;
	for (i = 0; i < n; i++) {
		double x;

		switch (in->dtype) {
		case TWIN_U8: x = ((const uint8_t *)in->data)[i]; break;
		case TWIN_I16: x = ((const int16_t *)in->data)[i]; break;
		default: x = ((const float *)in->data)[i]; break;
		}
		if (!(x >= 0 && x < TWIN_GRID_LABELS && x == floor(x))) {
			twin_err_set(err, TWIN_EINPUT, "label map '%s': voxel %zu holds %g, which is not a label id 0..%d",
				     opt->name, i, x, TWIN_GRID_LABELS - 1);
			twin_volume_free(bytes);
			return NULL;
		}
		((uint8_t *)bytes->data)[i] = (uint8_t)x;
		*present |= 1u << (unsigned)x;
	}
	twin_volume_spacing(in, sp);
	twin_volume_direction(in, dir);
	for (i = 0; i < 3; i++) {
		dim[i] = in->dim[i];
		if (opt->spacing > 0 && sp[i] < 0.8 * opt->spacing && in->dim[i] > 1) {
			/* whole cells over the same extent, so that the image's faces stay */
			dim[i] = (size_t)lround((double)in->dim[i] * sp[i] / opt->spacing);
			dim[i] = dim[i] ? dim[i] : 1;
			coarser = 1;
		}
	}
	if (!coarser)
		return bytes;
	{
		struct twin_affine a = in->affine;

		for (i = 0; i < 3; i++) {
			double s = sp[i] * (double)in->dim[i] / (double)dim[i];

			for (size_t r = 0; r < 3; r++) {
				a.m[r][i] = dir[i][r] * s;
				a.m[r][3] += dir[i][r] * 0.5 * (s - sp[i]);
			}
		}
		v = twin_volume_resample(err, bytes, dim, &a, TWIN_NEAREST, 0);
	}
	twin_volume_free(bytes);
	return v;
}

/*
 * How a piece of label l is attached: 2 when it touches a label it meets at a
 * valve or an endocardium (the aortic root touches the LV), 1 when it touches
 * another label, 0 when it touches none.
 */
static int attachment(uint8_t l, uint8_t other)
{
	char name[TWIN_SURFACE_NAME_MAX];
	int kind;

	if (other == 0 || other == l)
		return 0;
	kind = twin_surface_interface(name, l, other);
	return kind == TWIN_SURFACE_VALVE || kind == TWIN_SURFACE_ENDOCARDIUM ? 2 : 1;
}

/*
 * Keeps one 6-connected piece of each meshed label in the cells c of size
 * dim and makes the rest background: the best attached piece, then the
 * largest. A field of view that cuts the aortic arch leaves the aorta in two
 * pieces, and the ascending one, which holds the aortic valve, must win over
 * a longer descending one. Adds the cells made background to *dropped.
 */
static int keep_largest(struct twin_err *err, const size_t dim[3], uint8_t *c, unsigned meshed,
			const struct twin_grid_opt *opt, int quiet, size_t *dropped)
{
	const size_t nx = dim[0], ny = dim[1], nz = dim[2], n = nx * ny * nz;
	uint32_t *comp = calloc(n, sizeof(*comp));
	size_t *stack = malloc(n * sizeof(*stack));
	size_t *size = NULL, ncomp = 0, cap = 0;
	uint8_t *attached = NULL;
	size_t best[TWIN_GRID_LABELS] = { 0 }, pieces[TWIN_GRID_LABELS] = { 0 }, total[TWIN_GRID_LABELS] = { 0 };
	int table[TWIN_GRID_LABELS][TWIN_GRID_LABELS];
	int rc = -1;

	if (!comp || !stack)
		goto out;
	for (unsigned a = 0; a < TWIN_GRID_LABELS; a++)
		for (unsigned b = 0; b < TWIN_GRID_LABELS; b++)
			table[a][b] = attachment((uint8_t)a, (uint8_t)b);
	for (size_t s = 0; s < n; s++) {
		uint8_t l = c[s];
		size_t top = 0, count = 0;

		if (comp[s] || l == 0 || l >= TWIN_GRID_LABELS || !(meshed >> l & 1))
			continue;
		if (ncomp + 1 >= cap) {
			size_t *t = realloc(size, (cap ? 2 * cap : 64) * sizeof(*t));
			uint8_t *u;

			if (!t)
				goto out;
			size = t;
			u = realloc(attached, cap ? 2 * cap : 64);
			if (!u)
				goto out;
			attached = u;
			cap = cap ? 2 * cap : 64;
		}
		ncomp++;
		attached[ncomp] = 0;
		comp[s] = (uint32_t)ncomp;
		stack[top++] = s;
		while (top) {
			size_t p = stack[--top], x = p % nx, y = p / nx % ny, z = p / (nx * ny);
			size_t nb[6];
			int m = 0;

			count++;
			if (x > 0) nb[m++] = p - 1;
			if (x + 1 < nx) nb[m++] = p + 1;
			if (y > 0) nb[m++] = p - nx;
			if (y + 1 < ny) nb[m++] = p + nx;
			if (z > 0) nb[m++] = p - nx * ny;
			if (z + 1 < nz) nb[m++] = p + nx * ny;
			for (int k = 0; k < m; k++) {
				uint8_t o = c[nb[k]];

				if (o == l && !comp[nb[k]]) {
					comp[nb[k]] = (uint32_t)ncomp;
					stack[top++] = nb[k];
				} else if (o < TWIN_GRID_LABELS && table[l][o] > attached[ncomp]) {
					attached[ncomp] = (uint8_t)table[l][o];
				}
			}
		}
		size[ncomp] = count;
		pieces[l]++;
		total[l] += count;
		if (!best[l] || attached[ncomp] > attached[best[l]] ||
		    (attached[ncomp] == attached[best[l]] && count > size[best[l]]))
			best[l] = ncomp;
	}
	for (size_t s = 0; s < n; s++)
		if (comp[s] && comp[s] != best[c[s]]) {
			c[s] = 0;
			(*dropped)++;
		}
	for (unsigned l = 1; l < TWIN_GRID_LABELS; l++)
		if (pieces[l] > 1 && !quiet)
			warn(opt, "label map '%s': label '%s' is in %zu pieces: kept the %s, %zu of %zu voxels",
			     opt->name, twin_label_by_id(l)->name, pieces[l],
			     attached[best[l]] == 2 ? "one attached to the heart" :
			     attached[best[l]] == 1 ? "largest one touching another label" : "largest",
			     size[best[l]], total[l]);
	rc = 0;
out:
	/* the only failure here is running out of memory */
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", opt->name);
	free(attached);
	free(size);
	free(stack);
	free(comp);
	return rc;
}

/* Warns about labels present that do not touch where the anatomy says they do. */
static void check_touching(const struct twin_volume *v, const struct twin_grid_opt *opt)
{
	const size_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
	const uint8_t *c = v->data;
	unsigned present = 0;
	unsigned pair[TWIN_GRID_LABELS] = { 0 }; /* bit b of pair[a]: a and b share a face */

	for (size_t z = 0; z < nz; z++)
		for (size_t y = 0; y < ny; y++)
			for (size_t x = 0; x < nx; x++) {
				size_t p = x + nx * (y + ny * z);
				uint8_t a = c[p];

				present |= 1u << a;
				if (x + 1 < nx && c[p + 1] != a)
					pair[a] |= 1u << c[p + 1];
				if (y + 1 < ny && c[p + nx] != a)
					pair[a] |= 1u << c[p + nx];
				if (z + 1 < nz && c[p + nx * ny] != a)
					pair[a] |= 1u << c[p + nx * ny];
			}
	for (size_t i = 0; i < sizeof(touching) / sizeof(touching[0]); i++) {
		unsigned a = touching[i].a, b = touching[i].b;

		if ((present >> a & 1) && (present >> b & 1) && ((opt->meshed >> a | opt->meshed >> b) & 1) &&
		    !(pair[a] >> b & 1) && !(pair[b] >> a & 1))
			warn(opt, "label map '%s': '%s' and '%s' do not touch, so there is no %s",
			     opt->name, twin_label_by_id(a)->name, twin_label_by_id(b)->name, touching[i].what);
	}
}

/* 1 when the cells of mask (bit dx + 2dy + 4dz) are 6-connected within a 2x2x2 cube. */
static int cube_connected(unsigned mask)
{
	unsigned seen, grow;

	if (!mask)
		return 1;
	seen = mask & -mask;
	do {
		grow = seen;
		for (unsigned b = 0; b < 8; b++)
			if (seen >> b & 1)
				grow |= (1u << (b ^ 1) | 1u << (b ^ 2) | 1u << (b ^ 4)) & mask;
		if (grow == seen)
			break;
		seen = grow;
	} while (1);
	return seen == mask;
}

/*
 * Changes cells until around every cell corner each meshed label and its
 * complement are face-connected, so that each label's surface is a manifold
 * there. Cells of the outer layer never change. Returns the cells changed.
 */
static size_t make_manifold(struct twin_grid *g)
{
	const size_t nx = g->dim[0], ny = g->dim[1], nz = g->dim[2];
	uint8_t conn[256];
	size_t changed = 0;

	for (unsigned m = 0; m < 256; m++)
		conn[m] = (uint8_t)cube_connected(m);
	for (int pass = 0; pass < 64; pass++) {
		size_t before = changed;

		for (size_t z = 0; z + 1 < nz; z++)
			for (size_t y = 0; y + 1 < ny; y++)
				for (size_t x = 0; x + 1 < nx; x++) {
					size_t at[8];
					uint8_t v[8];

					for (unsigned b = 0; b < 8; b++) {
						at[b] = (x + (b & 1)) + nx * ((y + (b >> 1 & 1)) + ny * (z + (b >> 2)));
						v[b] = g->cell[at[b]];
					}
					for (unsigned b = 0; b < 8; b++) {
						uint8_t l = v[b];
						unsigned mask = 0;

						if (!(l < TWIN_GRID_LABELS && (g->meshed >> l & 1)))
							continue;
						for (unsigned k = 0; k < 8; k++)
							mask |= (unsigned)(v[k] == l) << k;
						if (conn[mask] && conn[~mask & 255])
							continue;
						/* fill a cell between two pieces, or open a pinch of the rest */
						for (unsigned k = 0; k < 8; k++) {
							size_t p = at[k], px = p % nx, py = p / nx % ny, pz = p / (nx * ny);
							unsigned nb = (1u << (k ^ 1) | 1u << (k ^ 2) | 1u << (k ^ 4));
							int inner = px > 0 && py > 0 && pz > 0 && px + 1 < nx &&
								    py + 1 < ny && pz + 1 < nz;
							int in = mask >> k & 1;

							if (!inner || __builtin_popcount((in ? ~mask : mask) & nb) < 2)
								continue;
							if (!conn[mask] && !in) {
								g->cell[p] = l;
							} else if (conn[mask] && in) {
								unsigned o = __builtin_ctz(~mask & nb);
								g->cell[p] = v[o] < TWIN_GRID_LABELS ? v[o] : 0;
							} else {
								continue;
							}
							changed++;
							break;
						}
						break;
					}
				}
		if (changed == before)
			break;
	}
	return changed;
}

/* Numbers the caps: each face-connected patch of marked outside cells of one label. */
static int number_caps(struct twin_err *err, struct twin_grid *g, const uint8_t *cap_label,
		       const struct twin_grid_opt *opt)
{
	const size_t nx = g->dim[0], ny = g->dim[1], n = nx * ny * g->dim[2];
	size_t *stack = malloc(n * sizeof(*stack));
	unsigned per_label[TWIN_GRID_LABELS] = { 0 };

	if (!stack)
		return twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", opt->name);
	for (size_t s = 0; s < n; s++) {
		size_t top = 0, sx = s % nx, sy = s / nx % ny, sz = s / (nx * ny);
		size_t sc[3] = { sx, sy, sz };
		struct twin_grid_cap *cap;
		uint8_t l = cap_label[s];
		int axis = -1;

		if (g->cell[s] != CAP_MARK)
			continue;
		if (g->ncaps == TWIN_GRID_MAX_CAPS) {
			free(stack);
			return twin_err_set(err, TWIN_EUNSUPPORTED, "label map '%s': more than %d places where blood leaves the image",
					    opt->name, TWIN_GRID_MAX_CAPS);
		}
		for (int a = 0; a < 3; a++)
			if (sc[a] == 0 || sc[a] + 1 == g->dim[a])
				axis = a;
		cap = &g->caps[g->ncaps];
		cap->label = l;
		cap->n = ++per_label[l];
		cap->axis = axis;
		cap->coord = sc[axis] == 0 ? 0.5 : (double)g->dim[axis] - 1.5;
		for (int a = 0; a < 3; a++) {
			cap->point[a] = a == axis ? cap->coord : 0;
			cap->normal[a] = a == axis ? (sc[axis] == 0 ? -1 : 1) : 0;
		}
		g->cell[s] = (uint8_t)(TWIN_GRID_CAP0 + g->ncaps);
		stack[top++] = s;
		while (top) {
			size_t p = stack[--top], c[3] = { p % nx, p / nx % ny, p / (nx * ny) };

			for (int a = 0; a < 3; a++) {
				size_t step = a == 0 ? 1 : a == 1 ? nx : nx * ny;

				if (a == axis)
					continue;
				if (c[a] > 0 && g->cell[p - step] == CAP_MARK && cap_label[p - step] == l) {
					g->cell[p - step] = g->cell[s];
					stack[top++] = p - step;
				}
				if (c[a] + 1 < g->dim[a] && g->cell[p + step] == CAP_MARK && cap_label[p + step] == l) {
					g->cell[p + step] = g->cell[s];
					stack[top++] = p + step;
				}
			}
		}
		g->ncaps++;
	}
	free(stack);
	return 0;
}

/* A cap for each vessel cut (vessels.h), in the grid's index space; its cells become that cap. */
static int number_cuts(struct twin_err *err, struct twin_grid *g, const struct twin_vessel_cut *cuts,
		       size_t ncuts, const long lo[3], const struct twin_grid_opt *opt)
{
	const size_t n = g->dim[0] * g->dim[1] * g->dim[2];
	size_t first = g->ncaps;

	for (size_t k = 0; k < ncuts; k++) {
		struct twin_grid_cap *cap;
		unsigned count = 0;

		if (g->ncaps == TWIN_GRID_MAX_CAPS)
			return twin_err_set(err, TWIN_EUNSUPPORTED, "label map '%s': more than %d caps",
					    opt->name, TWIN_GRID_MAX_CAPS);
		cap = &g->caps[g->ncaps];
		for (size_t i = 0; i < g->ncaps; i++)
			if (g->caps[i].label == cuts[k].label)
				count++;
		cap->label = cuts[k].label;
		cap->n = count + 1;
		cap->axis = -1;
		cap->coord = 0;
		for (int a = 0; a < 3; a++) {
			cap->point[a] = cuts[k].point[a] - (double)lo[a];
			cap->normal[a] = cuts[k].normal[a];
		}
		g->ncaps++;
	}
	for (size_t i = 0; i < n; i++)
		if (g->cell[i] >= TWIN_VESSELS_CUT0 && g->cell[i] < TWIN_VESSELS_CUT0 + ncuts)
			g->cell[i] = (uint8_t)(TWIN_GRID_CAP0 + first + (g->cell[i] - TWIN_VESSELS_CUT0));
	return 0;
}

/* Crops v to its meshed labels with one layer around, marking outside cells next to blood. */
static int crop(struct twin_err *err, struct twin_grid *g, const struct twin_volume *v,
		uint8_t **cap_label, const struct twin_grid_opt *opt, long lo[3])
{
	const size_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
	const uint8_t *c = v->data;
	long hi[3] = { -1, -1, -1 };
	size_t n;

	lo[0] = (long)nx;
	lo[1] = (long)ny;
	lo[2] = (long)nz;

	for (size_t z = 0; z < nz; z++)
		for (size_t y = 0; y < ny; y++)
			for (size_t x = 0; x < nx; x++) {
				uint8_t l = c[x + nx * (y + ny * z)];
				long p[3] = { (long)x, (long)y, (long)z };

				if (!l || l >= TWIN_GRID_LABELS || !(g->meshed >> l & 1))
					continue;
				for (int a = 0; a < 3; a++) {
					if (p[a] < lo[a])
						lo[a] = p[a];
					if (p[a] > hi[a])
						hi[a] = p[a];
				}
			}
	if (hi[0] < 0)
		return twin_err_set(err, TWIN_EINPUT, "label map '%s': no label to mesh", opt->name);
	for (int a = 0; a < 3; a++) {
		lo[a]--;
		hi[a]++;
		g->dim[a] = (size_t)(hi[a] - lo[a] + 1);
	}
	n = g->dim[0] * g->dim[1] * g->dim[2];
	g->cell = calloc(n, 1);
	*cap_label = calloc(n, 1);
	if (!g->cell || !*cap_label)
		return twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", opt->name);
	g->affine = v->affine;
	for (int r = 0; r < 3; r++)
		for (int a = 0; a < 3; a++)
			g->affine.m[r][3] += v->affine.m[r][a] * (double)lo[a];
	for (size_t z = 0; z < g->dim[2]; z++)
		for (size_t y = 0; y < g->dim[1]; y++)
			for (size_t x = 0; x < g->dim[0]; x++) {
				long p[3] = { (long)x + lo[0], (long)y + lo[1], (long)z + lo[2] };
				size_t q = x + g->dim[0] * (y + g->dim[1] * z);
				int out = 0, axis = 0;

				for (int a = 0; a < 3; a++)
					if (p[a] < 0 || p[a] >= (long)v->dim[a]) {
						out++;
						axis = a;
					}
				if (!out) {
					g->cell[q] = c[p[0] + nx * (p[1] + ny * p[2])];
				} else if (out == 1) {
					uint8_t l;

					p[axis] = p[axis] < 0 ? 0 : (long)v->dim[axis] - 1;
					l = c[p[0] + nx * (p[1] + ny * p[2])];
					if (is_blood(l) && (g->meshed >> l & 1)) {
						g->cell[q] = CAP_MARK;
						(*cap_label)[q] = l;
					}
				}
			}
	return 0;
}

int twin_grid_build(struct twin_err *err, struct twin_grid *g, const struct twin_volume *labels,
		    const struct twin_grid_opt *opt)
{
	struct twin_volume *v = NULL;
	uint8_t *cap_label = NULL;
	unsigned present = 0;
	struct twin_vessel_cut cuts[TWIN_VESSELS_MAX_CUTS];
	long lo[3];
	size_t n, i, fixed, ncuts = 0, dropped = 0;
	int rc = -1;

	memset(g, 0, sizeof(*g));
	g->meshed = opt->meshed & ~1u;
	v = prepare(err, labels, opt, &present);
	if (!v)
		goto out;
	if (!(present & (present - 1))) {
		twin_err_set(err, TWIN_EINPUT, "label map '%s': every voxel holds %d, so there is nothing to mesh",
			     opt->name, __builtin_ctz(present));
		goto out;
	}
	if (!(present & g->meshed)) {
		twin_err_set(err, TWIN_EINPUT, "label map '%s': none of the labels to mesh is present", opt->name);
		goto out;
	}
	if (keep_largest(err, v->dim, v->data, g->meshed, opt, 0, &dropped) != 0)
		goto out;
	check_touching(v, opt);
	if (twin_vessels_cut(err, v, g->meshed, opt->vessel_length, cuts, &ncuts, opt->name) != 0 ||
	    (ncuts && keep_largest(err, v->dim, v->data, g->meshed, opt, 1, &dropped) != 0))
		goto out;
	if (crop(err, g, v, &cap_label, opt, lo) != 0)
		goto out;
	/*
	 * Filling a cell or opening a pinch may cut a thin neck of a label off
	 * (the real CTA: 21 cells of the RV), and a volume of two shells fails
	 * in Gmsh (HXT: 'some volumes of the BRep were not found'; Delaunay:
	 * 'No elements in volume 5'). The piece goes: two pieces share no
	 * 2x2x2 cube once the labels are manifold, so no surface stops being one.
	 */
	fixed = make_manifold(g);
	dropped = 0;
	if (keep_largest(err, g->dim, g->cell, g->meshed, opt, 1, &dropped) != 0)
		goto out;
	fixed += dropped;
	if (fixed)
		warn(opt, "label map '%s': %zu voxel%s changed so that every surface is a manifold",
		     opt->name, fixed, fixed == 1 ? "" : "s");
	if (number_caps(err, g, cap_label, opt) != 0 || number_cuts(err, g, cuts, ncuts, lo, opt) != 0)
		goto out;
	n = g->dim[0] * g->dim[1] * g->dim[2];
	for (i = 0; i < n; i++)
		if (g->cell[i] < TWIN_GRID_LABELS)
			g->count[g->cell[i]]++;
	{
		double d[3][3], sp[3];

		twin_volume_spacing(v, sp);
		twin_volume_direction(v, d);
		g->cell_volume = fabs(d[0][0] * (d[1][1] * d[2][2] - d[1][2] * d[2][1]) -
				      d[0][1] * (d[1][0] * d[2][2] - d[1][2] * d[2][0]) +
				      d[0][2] * (d[1][0] * d[2][1] - d[1][1] * d[2][0])) * sp[0] * sp[1] * sp[2];
	}
	rc = 0;
out:
	free(cap_label);
	twin_volume_free(v);
	return rc;
}

void twin_grid_release(struct twin_grid *g)
{
	free(g->cell);
	g->cell = NULL;
}
