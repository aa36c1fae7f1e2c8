#include "geometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Direction cosines must be unit and orthogonal to within this. */
#define COSINE_TOL 1e-3
/* Pixel spacings of two slices are equal within this fraction. */
#define SPACING_TOL 1e-4
/* A slice may lie this far (mm) off the line through the first and the last. */
#define LINE_TOL_MM 0.05
/* Resampling uneven slices may make at most this many times the slices read. */
#define UNEVEN_GROWTH 8

void twin_geometry_normal(const double iop[6], double normal[3])
{
	double len;

	normal[0] = iop[1] * iop[5] - iop[2] * iop[4];
	normal[1] = iop[2] * iop[3] - iop[0] * iop[5];
	normal[2] = iop[0] * iop[4] - iop[1] * iop[3];
	len = sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
	if (len > 0)
		for (int i = 0; i < 3; i++)
			normal[i] /= len;
}

void twin_geometry_affine(struct twin_affine *a, const double iop[6], const double spacing[2],
			  const double ipp[3], const double kstep[3])
{
	int r;

	memset(a, 0, sizeof(*a));
	for (r = 0; r < 3; r++) {
		a->m[r][0] = iop[r] * spacing[1];
		a->m[r][1] = iop[3 + r] * spacing[0];
		a->m[r][2] = kstep[r];
		a->m[r][3] = ipp[r];
	}
	a->m[3][3] = 1;
}

static double dot(const double a[3], const double b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* A slice and its position along the normal, for sorting. */
struct slice {
	double z;
	const struct twin_frame *f;
};

static int cmp_slice(const void *a, const void *b)
{
	const struct slice *sa = a, *sb = b;
	int c;

	if (sa->z != sb->z)
		return sa->z < sb->z ? -1 : 1;
	c = strcmp(sa->f->path, sb->f->path);
	if (c)
		return c;
	return sa->f->frame < sb->f->frame ? -1 : sa->f->frame > sb->f->frame;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Size, spacing, position and orientation of every slice. */
static int check_slices(struct twin_err *err, const struct twin_frame **frames, size_t n)
{
	const struct twin_frame *f0 = frames[0];
	double rr, cc, rc;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct twin_frame *f = frames[i];

		if (!f->has_position)
			return twin_err_set(err, TWIN_EINPUT, "'%s': no image position or orientation", f->path);
		if (f->rows != f0->rows || f->cols != f0->cols)
			return twin_err_set(err, TWIN_EINPUT,
					    "image size differs within the series: '%s' is %ux%u, '%s' is %ux%u",
					    f0->path, f0->cols, f0->rows, f->path, f->cols, f->rows);
		if (!(f->spacing[0] > 0) || !(f->spacing[1] > 0))
			return twin_err_set(err, TWIN_EINPUT, "'%s': pixel spacing %g x %g mm is not positive",
					    f->path, f->spacing[0], f->spacing[1]);
		if (fabs(f->spacing[0] - f0->spacing[0]) > SPACING_TOL * f0->spacing[0] ||
		    fabs(f->spacing[1] - f0->spacing[1]) > SPACING_TOL * f0->spacing[1])
			return twin_err_set(err, TWIN_EINPUT,
					    "pixel spacing differs within the series: '%s' has %g x %g mm, '%s' %g x %g mm",
					    f0->path, f0->spacing[0], f0->spacing[1], f->path, f->spacing[0], f->spacing[1]);
		for (int k = 0; k < 6; k++)
			if (fabs(f->iop[k] - f0->iop[k]) > COSINE_TOL)
				return twin_err_set(err, TWIN_EINPUT,
						    "orientation differs within the series: '%s' and '%s'",
						    f0->path, f->path);
	}
	rr = dot(f0->iop, f0->iop);
	cc = dot(f0->iop + 3, f0->iop + 3);
	rc = dot(f0->iop, f0->iop + 3);
	if (fabs(rr - 1) > COSINE_TOL || fabs(cc - 1) > COSINE_TOL || fabs(rc) > COSINE_TOL)
		return twin_err_set(err, TWIN_EINPUT,
				    "'%s': image orientation %g\\%g\\%g\\%g\\%g\\%g is not two unit, orthogonal directions",
				    f0->path, f0->iop[0], f0->iop[1], f0->iop[2], f0->iop[3], f0->iop[4], f0->iop[5]);
	return 0;
}

int twin_geometry_build(struct twin_err *err, struct twin_geometry *g,
			const struct twin_frame **frames, size_t n, enum twin_uneven uneven)
{
	const struct twin_frame *first, *last;
	struct slice *sl = NULL;
	double *steps = NULL, median, len, line[3], lateral[3], kstep[3], lat, span;
	size_t i;
	int rc = -1;

	memset(g, 0, sizeof(*g));
	if (n == 0)
		return twin_err_set(err, TWIN_EINPUT, "no slices");
	if (n == 1)
		return twin_err_set(err, TWIN_EINPUT, "'%s': a single slice, not a volume", frames[0]->path);
	if (check_slices(err, frames, n) != 0)
		return -1;

	twin_geometry_normal(frames[0]->iop, g->normal);
	g->n = n;
	g->z = malloc(n * sizeof(*g->z));
	steps = malloc((n - 1) * sizeof(*steps));
	sl = malloc(n * sizeof(*sl));
	if (!g->z || !steps || !sl) {
		twin_err_set(err, TWIN_EFAIL, "geometry of %zu slices: out of memory", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		sl[i].z = dot(frames[i]->ipp, g->normal);
		sl[i].f = frames[i];
	}
	qsort(sl, n, sizeof(*sl), cmp_slice);
	for (i = 0; i < n; i++) {
		frames[i] = sl[i].f;
		g->z[i] = sl[i].z;
	}
	for (i = 1; i < n; i++) {
		steps[i - 1] = g->z[i] - g->z[i - 1];
		if (steps[i - 1] < TWIN_GEOMETRY_SAME_MM) {
			twin_err_set(err, TWIN_EINPUT, "'%s' and '%s' are at the same position (%.3f mm along the normal)",
				     frames[i - 1]->path, frames[i]->path, g->z[i]);
			goto out;
		}
	}
	g->min_step = g->max_step = steps[0];
	for (i = 1; i < n - 1; i++) {
		if (steps[i] < g->min_step)
			g->min_step = steps[i];
		if (steps[i] > g->max_step)
			g->max_step = steps[i];
	}
	/* the median step, from a sorted copy */
	qsort(steps, n - 1, sizeof(*steps), cmp_double);
	median = steps[(n - 1) / 2];
	g->uneven = median - g->min_step > TWIN_GEOMETRY_UNEVEN_TOL * median ||
		    g->max_step - median > TWIN_GEOMETRY_UNEVEN_TOL * median;
	if (g->uneven && uneven == TWIN_UNEVEN_ERROR) {
		for (i = 1; i < n; i++)
			if (fabs(g->z[i] - g->z[i - 1] - median) > TWIN_GEOMETRY_UNEVEN_TOL * median)
				break;
		twin_err_set(err, TWIN_EINPUT,
			     "slices are unevenly spaced: '%s' to '%s' is %.3f mm, the median step is %.3f mm "
			     "(a missing slice?), and ingest.uneven is error",
			     frames[i - 1]->path, frames[i]->path, g->z[i] - g->z[i - 1], median);
		goto out;
	}

	/* the line through the slice positions, per mm along the normal */
	first = frames[0];
	last = frames[n - 1];
	span = g->z[n - 1] - g->z[0];
	for (i = 0; i < 3; i++)
		line[i] = (last->ipp[i] - first->ipp[i]) / span;
	for (i = 1; i + 1 < n; i++) {
		double off = 0;

		for (int k = 0; k < 3; k++) {
			double d = frames[i]->ipp[k] - (first->ipp[k] + line[k] * (g->z[i] - g->z[0]));

			off += d * d;
		}
		if (sqrt(off) > LINE_TOL_MM) {
			twin_err_set(err, TWIN_EINPUT,
				     "'%s': slice position is %.2f mm off the line through '%s' and '%s'",
				     frames[i]->path, sqrt(off), first->path, last->path);
			goto out;
		}
	}
	for (i = 0; i < 3; i++)
		lateral[i] = line[i] - g->normal[i];
	lat = sqrt(dot(lateral, lateral));
	g->tilt_deg = atan(lat) * 180.0 / M_PI;
	g->tilted = g->tilt_deg > TWIN_GEOMETRY_TILT_DEG && lat * span > TWIN_GEOMETRY_TILT_MM;

	g->dim[0] = first->cols;
	g->dim[1] = first->rows;
	if (g->uneven) {
		g->step = g->min_step;
		g->dim[2] = (size_t)floor(span / g->step + 1e-6) + 1;
		if (g->dim[2] > UNEVEN_GROWTH * n) {
			twin_err_set(err, TWIN_EUNSUPPORTED,
				     "slices are unevenly spaced (%.3f to %.3f mm): resampling to %.3f mm "
				     "would make %zu slices of %zu",
				     g->min_step, g->max_step, g->step, g->dim[2], n);
			goto out;
		}
	} else {
		g->step = span / (double)(n - 1);
		g->dim[2] = n;
	}
	len = g->step;
	for (i = 0; i < 3; i++)
		kstep[i] = line[i] * len;
	twin_geometry_affine(&g->even, first->iop, first->spacing, first->ipp, kstep);
	if (g->tilted)
		for (i = 0; i < 3; i++)
			kstep[i] = g->normal[i] * len;
	twin_geometry_affine(&g->affine, first->iop, first->spacing, first->ipp, kstep);
	rc = 0;
out:
	free(sl);
	free(steps);
	return rc;
}

void twin_geometry_release(struct twin_geometry *g)
{
	if (!g)
		return;
	free(g->z);
	g->z = NULL;
}
