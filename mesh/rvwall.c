#include "rvwall.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RA 4
#define PA 7
#define FAR 1e30 /* a squared distance larger than any in a volume */

/* A box of voxel indices: lo <= i < hi on each axis. */
struct box {
	size_t lo[3], hi[3], dim[3], n;
};

/*
 * The labels as bytes, extended by pad[a][0] voxels before and pad[a][1]
 * after each axis, every new voxel a copy of the nearest edge voxel.
 */
static struct twin_volume *padded_copy(struct twin_err *err, const struct twin_volume *in,
				       const size_t pad[3][2], const char *name)
{
	struct twin_affine a = in->affine;
	struct twin_volume *out;
	size_t dim[3];

	for (int k = 0; k < 3; k++) {
		dim[k] = in->dim[k] + pad[k][0] + pad[k][1];
		for (int r = 0; r < 3; r++)
			a.m[r][3] -= in->affine.m[r][k] * (double)pad[k][0];
	}
	out = twin_volume_new(err, TWIN_U8, dim, &a);
	if (!out)
		return NULL;
	for (size_t z = 0; z < dim[2]; z++)
		for (size_t y = 0; y < dim[1]; y++)
			for (size_t x = 0; x < dim[0]; x++) {
				size_t p[3] = { x, y, z }, i;
				double v;

				for (int k = 0; k < 3; k++) {
					p[k] = p[k] < pad[k][0] ? 0 : p[k] - pad[k][0];
					if (p[k] >= in->dim[k])
						p[k] = in->dim[k] - 1;
				}
				i = p[0] + in->dim[0] * (p[1] + in->dim[1] * p[2]);
				switch (in->dtype) {
				case TWIN_U8: v = ((const uint8_t *)in->data)[i]; break;
				case TWIN_I16: v = ((const int16_t *)in->data)[i]; break;
				default: v = ((const float *)in->data)[i]; break;
				}
				if (!(v >= 0 && v <= 255 && v == floor(v))) {
					twin_err_set(err, TWIN_EINPUT, "label map '%s': voxel %zu holds %g, which is not a label id",
						     name, i, v);
					twin_volume_free(out);
					return NULL;
				}
				((uint8_t *)out->data)[x + dim[0] * (y + dim[1] * z)] = (uint8_t)v;
			}
	return out;
}

/* The value of voxel i of v as a double (u8, i16 or f32). */
static double value(const struct twin_volume *v, size_t i)
{
	switch (v->dtype) {
	case TWIN_U8: return ((const uint8_t *)v->data)[i];
	case TWIN_I16: return ((const int16_t *)v->data)[i];
	default: return ((const float *)v->data)[i];
	}
}

/*
 * The padding of rvwall.h: reach[k] voxels on each side where an RV voxel
 * lies within reach[k] of that side. Returns 0 when the map has no RV.
 */
static int find_padding(const struct twin_volume *in, const size_t reach[3], size_t pad[3][2])
{
	size_t lo[3] = { SIZE_MAX, SIZE_MAX, SIZE_MAX }, hi[3] = { 0, 0, 0 };
	int any = 0;

	for (size_t z = 0, i = 0; z < in->dim[2]; z++)
		for (size_t y = 0; y < in->dim[1]; y++)
			for (size_t x = 0; x < in->dim[0]; x++, i++) {
				size_t p[3] = { x, y, z };

				if (value(in, i) != TWIN_RVWALL_RV)
					continue;
				any = 1;
				for (int k = 0; k < 3; k++) {
					if (p[k] < lo[k])
						lo[k] = p[k];
					if (p[k] > hi[k])
						hi[k] = p[k];
				}
			}
	memset(pad, 0, 6 * sizeof(size_t));
	if (!any)
		return 0;
	for (int k = 0; k < 3; k++) {
		if (in->dim[k] == 1)
			continue; /* a single slice has no inside to grow into */
		pad[k][0] = lo[k] < reach[k] ? reach[k] - lo[k] : 0;
		pad[k][1] = hi[k] + reach[k] >= in->dim[k] ? hi[k] + reach[k] + 1 - in->dim[k] : 0;
	}
	return 1;
}

/*
 * One line of the exact squared Euclidean distance transform, by the lower
 * envelope of parabolas of Felzenszwalb and Huttenlocher (Distance
 * transforms of sampled functions, Theory of Computing 8, 2012):
 * f[q] <- min over p of w2 (q - p)^2 + f[p], for the n samples f[0],
 * f[stride], ... w2 is the squared sample spacing in mm^2; v, z and d are
 * scratch of n, n + 1 and n. Written here because mesh/ may not use ITK's
 * (ITK lives behind segment/itk.cc alone), and no C library that the build
 * uses has a 3D one (OpenCV's is 2D, VIGRA's C++). Exact, O(n) per line.
 */
static void edt_line(float *f, size_t n, size_t stride, double w2, size_t *v, double *z, double *d)
{
	size_t k = 0, j = 0;
	int started = 0;

	for (size_t q = 0; q < n; q++) {
		double fq = f[q * stride], s;

		if (fq >= FAR)
			continue;
		if (!started) {
			started = 1;
			v[0] = q;
			z[0] = -INFINITY;
			z[1] = INFINITY;
			continue;
		}
		/* z[0] is -inf: the loop stops at k == 0 at the latest */
		for (;;) {
			double fv = f[v[k] * stride], dq = (double)q, dv = (double)v[k];

			s = ((fq + w2 * dq * dq) - (fv + w2 * dv * dv)) / (2 * w2 * (dq - dv));
			if (s > z[k])
				break;
			k--;
		}
		k++;
		v[k] = q;
		z[k] = s;
		z[k + 1] = INFINITY;
	}
	if (!started)
		return;
	for (size_t q = 0; q < n; q++) {
		double dq;

		while (z[j + 1] < (double)q)
			j++;
		dq = (double)q - (double)v[j];
		d[q] = w2 * dq * dq + f[v[j] * stride];
	}
	for (size_t q = 0; q < n; q++)
		f[q * stride] = (float)d[q];
}

/*
 * The squared distance in mm^2 from each voxel of box b to the nearest
 * voxel of v inside b whose label is a or c, separably along x, y and z
 * (exact for a grid whose axes are orthogonal, as twin-ingest writes them).
 */
static int edt(struct twin_err *err, float *f, const struct twin_volume *v, const struct box *b,
	       uint8_t a, uint8_t c, const double sp[3], const char *name)
{
	const uint8_t *cell = v->data;
	size_t longest = b->dim[0] > b->dim[1] ? b->dim[0] : b->dim[1];
	size_t *vv;
	double *z, *d;

	longest = longest > b->dim[2] ? longest : b->dim[2];
	vv = malloc(longest * sizeof(*vv));
	z = malloc((longest + 1) * sizeof(*z));
	d = malloc(longest * sizeof(*d));
	if (!vv || !z || !d) {
		free(vv);
		free(z);
		free(d);
		return twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", name);
	}
	for (size_t zz = 0, i = 0; zz < b->dim[2]; zz++)
		for (size_t y = 0; y < b->dim[1]; y++)
			for (size_t x = 0; x < b->dim[0]; x++, i++) {
				uint8_t l = cell[(x + b->lo[0]) + v->dim[0] * ((y + b->lo[1]) + v->dim[1] * (zz + b->lo[2]))];

				f[i] = l == a || l == c ? 0.0f : (float)FAR;
			}
	for (size_t zz = 0; zz < b->dim[2]; zz++)
		for (size_t y = 0; y < b->dim[1]; y++)
			edt_line(f + b->dim[0] * (y + b->dim[1] * zz), b->dim[0], 1, sp[0] * sp[0], vv, z, d);
	for (size_t zz = 0; zz < b->dim[2]; zz++)
		for (size_t x = 0; x < b->dim[0]; x++)
			edt_line(f + x + b->dim[0] * b->dim[1] * zz, b->dim[1], b->dim[0], sp[1] * sp[1], vv, z, d);
	for (size_t y = 0; y < b->dim[1]; y++)
		for (size_t x = 0; x < b->dim[0]; x++)
			edt_line(f + x + b->dim[0] * y, b->dim[2], b->dim[0] * b->dim[1], sp[2] * sp[2], vv, z, d);
	free(vv);
	free(z);
	free(d);
	return 0;
}

/* Face neighbours of box index i that lie in b; returns how many. */
static int neighbours(const struct box *b, size_t i, size_t nb[6])
{
	size_t nx = b->dim[0], ny = b->dim[1], x = i % nx, y = i / nx % ny, z = i / (nx * ny);
	int m = 0;

	if (x > 0) nb[m++] = i - 1;
	if (x + 1 < nx) nb[m++] = i + 1;
	if (y > 0) nb[m++] = i - nx;
	if (y + 1 < ny) nb[m++] = i + nx;
	if (z > 0) nb[m++] = i - nx * ny;
	if (z + 1 < b->dim[2]) nb[m++] = i + nx * ny;
	return m;
}

/* The volume index of box index i. */
static size_t at(const struct twin_volume *v, const struct box *b, size_t i)
{
	size_t x = i % b->dim[0], y = i / b->dim[0] % b->dim[1], z = i / (b->dim[0] * b->dim[1]);

	return (x + b->lo[0]) + v->dim[0] * ((y + b->lo[1]) + v->dim[1] * (z + b->lo[2]));
}

/*
 * Keeps one 6-connected piece of label 8 inside b, the largest of those
 * that share a face with label 1, else the largest; the others become 0.
 */
static int keep_one(struct twin_err *err, struct twin_volume *v, const struct box *b,
		    struct twin_rvwall_info *info, const char *name)
{
	uint8_t *cell = v->data;
	uint32_t *comp = calloc(b->n, sizeof(*comp));
	size_t *stack = malloc(b->n * sizeof(*stack));
	size_t *size = NULL, cap = 0, ncomp = 0, best = 0;
	uint8_t *joins = NULL;
	int rc = -1;

	if (!comp || !stack)
		goto out;
	for (size_t s = 0; s < b->n; s++) {
		size_t top = 0, count = 0;
		int touch = 0;

		if (comp[s] || cell[at(v, b, s)] != TWIN_RVWALL_LABEL)
			continue;
		if (ncomp + 1 >= cap) {
			size_t *t = realloc(size, (cap ? 2 * cap : 16) * sizeof(*t));
			uint8_t *u;

			if (!t)
				goto out;
			size = t;
			u = realloc(joins, cap ? 2 * cap : 16);
			if (!u)
				goto out;
			joins = u;
			cap = cap ? 2 * cap : 16;
		}
		comp[s] = (uint32_t)++ncomp;
		stack[top++] = s;
		while (top) {
			size_t p = stack[--top], nb[6];
			int m = neighbours(b, p, nb);

			count++;
			for (int k = 0; k < m; k++) {
				uint8_t l = cell[at(v, b, nb[k])];

				if (l == TWIN_RVWALL_LABEL && !comp[nb[k]]) {
					comp[nb[k]] = (uint32_t)ncomp;
					stack[top++] = nb[k];
				} else if (l == TWIN_RVWALL_LV_WALL) {
					touch = 1;
				}
			}
		}
		size[ncomp] = count;
		joins[ncomp] = (uint8_t)touch;
		if (!best || touch > joins[best] || (touch == joins[best] && count > size[best]))
			best = ncomp;
	}
	info->pieces = ncomp;
	info->joins_lv_wall = best ? joins[best] : 0;
	for (size_t s = 0; s < b->n; s++) {
		if (!comp[s])
			continue;
		if (comp[s] == best) {
			info->voxels++;
		} else {
			cell[at(v, b, s)] = 0;
			info->dropped++;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", name);
	free(joins);
	free(size);
	free(stack);
	free(comp);
	return rc;
}

struct twin_volume *twin_rvwall_grow(struct twin_err *err, const struct twin_volume *labels,
				     double thickness, const char *name, struct twin_rvwall_info *info)
{
	struct twin_rvwall_info mine;
	struct twin_volume *v = NULL;
	struct box b;
	float *d_rv = NULL, *d_other = NULL;
	double sp[3], reach_mm, t2;
	size_t reach[3], pad[3][2], lo[3] = { SIZE_MAX, SIZE_MAX, SIZE_MAX }, hi[3] = { 0, 0, 0 };
	uint8_t *cell;

	if (!info)
		info = &mine;
	memset(info, 0, sizeof(*info));
	if (labels->dtype != TWIN_U8 && labels->dtype != TWIN_I16 && labels->dtype != TWIN_F32) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "label map '%s': datatype %s cannot hold labels", name,
			     twin_dtype_name(labels->dtype));
		return NULL;
	}
	twin_volume_spacing(labels, sp);
	/*
	 * Distances run between voxel centres, but the RV's surface lies half
	 * a voxel beyond its centres, and so does the wall's: a voxel whose
	 * centre is within thickness + half the finest spacing of an RV centre
	 * gives a wall thickness between the surfaces off by at most half a
	 * voxel, not a whole one short on faces along the grid.
	 */
	reach_mm = thickness + 0.5 * fmin(sp[0], fmin(sp[1], sp[2]));
	t2 = reach_mm * reach_mm * (1 + 1e-9);
	for (int k = 0; k < 3; k++)
		reach[k] = (size_t)ceil(reach_mm / sp[k]);
	if (!find_padding(labels, reach, pad))
		return padded_copy(err, labels, pad, name); /* no RV: nothing grows */
	memcpy(info->pad, pad, sizeof(pad));
	v = padded_copy(err, labels, pad, name);
	if (!v)
		return NULL;
	cell = v->data;
	/*
	 * The box around the RV within which anything is decided: the RV's
	 * bounds, then reach for the wall and reach again for the RA and PA
	 * voxels that may be nearer than the RV to a voxel of the wall.
	 */
	for (size_t z = 0, i = 0; z < v->dim[2]; z++)
		for (size_t y = 0; y < v->dim[1]; y++)
			for (size_t x = 0; x < v->dim[0]; x++, i++) {
				size_t p[3] = { x, y, z };

				if (cell[i] != TWIN_RVWALL_RV)
					continue;
				for (int k = 0; k < 3; k++) {
					lo[k] = p[k] < lo[k] ? p[k] : lo[k];
					hi[k] = p[k] > hi[k] ? p[k] : hi[k];
				}
			}
	b.n = 1;
	for (int k = 0; k < 3; k++) {
		b.lo[k] = lo[k] > 2 * reach[k] ? lo[k] - 2 * reach[k] : 0;
		b.hi[k] = hi[k] + 2 * reach[k] + 1 < v->dim[k] ? hi[k] + 2 * reach[k] + 1 : v->dim[k];
		b.dim[k] = b.hi[k] - b.lo[k];
		b.n *= b.dim[k];
	}
	d_rv = malloc(b.n * sizeof(*d_rv));
	d_other = malloc(b.n * sizeof(*d_other));
	if (!d_rv || !d_other) {
		twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", name);
		goto fail;
	}
	if (edt(err, d_rv, v, &b, TWIN_RVWALL_RV, TWIN_RVWALL_RV, sp, name) != 0 ||
	    edt(err, d_other, v, &b, RA, PA, sp, name) != 0)
		goto fail;
	/* decide on the distances first, then write: a grown voxel is no RV */
	for (size_t i = 0; i < b.n; i++) {
		size_t q = at(v, &b, i), nb[6];
		int m, next_to_rv = 0, next_to_lv = 0;

		if (cell[q] != 0 || !(d_rv[i] <= t2))
			continue;
		m = neighbours(&b, i, nb);
		for (int k = 0; k < m; k++) {
			next_to_rv |= cell[at(v, &b, nb[k])] == TWIN_RVWALL_RV;
			next_to_lv |= cell[at(v, &b, nb[k])] == TWIN_RVWALL_LV_WALL;
		}
		if (next_to_rv && next_to_lv)
			continue; /* a gap in the septum's staircase, not free wall */
		if (d_rv[i] <= d_other[i] || next_to_rv)
			d_rv[i] = -1; /* grows */
	}
	for (size_t i = 0; i < b.n; i++)
		if (d_rv[i] < 0)
			cell[at(v, &b, i)] = TWIN_RVWALL_LABEL;
	if (keep_one(err, v, &b, info, name) != 0)
		goto fail;
	free(d_rv);
	free(d_other);
	return v;
fail:
	free(d_rv);
	free(d_other);
	twin_volume_free(v);
	return NULL;
}

struct twin_volume *twin_rvwall_add(struct twin_err *err, const struct twin_volume *labels,
				    double thickness, const char *name, twin_grid_warn_fn *warn, void *ctx)
{
	struct twin_rvwall_info info;
	struct twin_volume *v = twin_rvwall_grow(err, labels, thickness, name, &info);
	char msg[1024];
	size_t padded = 0;

	if (!v || !warn)
		return v;
	for (int k = 0; k < 3; k++)
		padded += info.pad[k][0] + info.pad[k][1];
	if (!info.voxels) {
		snprintf(msg, sizeof(msg), "label map '%s': mesh.rv_wall %g mm: no RV wall grown, for there is no "
			 "'heart_ventricle_right' or no background around it", name, thickness);
		warn(ctx, msg);
		return v;
	}
	if (padded) {
		snprintf(msg, sizeof(msg), "label map '%s': the RV lies within mesh.rv_wall %g mm of the image's edge: "
			 "the map was extended there by copies of its edge voxels (%zu, %zu, %zu before; %zu, %zu, %zu after)",
			 name, thickness, info.pad[0][0], info.pad[1][0], info.pad[2][0], info.pad[0][1], info.pad[1][1],
			 info.pad[2][1]);
		warn(ctx, msg);
	}
	if (info.pieces > 1) {
		snprintf(msg, sizeof(msg), "label map '%s': the RV wall grew in %zu pieces: kept the %s, %zu voxels; "
			 "dropped %zu", name, info.pieces,
			 info.joins_lv_wall ? "largest one joined to the LV wall" : "largest", info.voxels,
			 info.dropped);
		warn(ctx, msg);
	}
	if (!info.joins_lv_wall) {
		snprintf(msg, sizeof(msg), "label map '%s': the RV wall does not touch 'heart_myocardium': the "
			 "myocardium is not one biventricular body", name);
		warn(ctx, msg);
	}
	return v;
}
