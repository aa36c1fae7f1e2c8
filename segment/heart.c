/*
 * The automatic segmentation. Everything runs on a working copy of the image
 * resampled onto an LPS-aligned grid of opts->spacing mm, so that "axial",
 * "left" and "posterior" are index axes; the labels go back onto the input
 * grid at the end.
 */
#include "heart.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "itk.h"

#define MIN_EXTENT_MM 60.0   /* an image must cover this much each way */
#define MIN_POOL_ML 30.0     /* a heart's blood pool is larger */
#define MIN_LUNG_ML 150.0    /* a chest CT shows at least this much lung */
#define CONTRAST_HU 150.0    /* contrast-filled blood is brighter */
#define OPEN_MM 4.0          /* opening that cuts the lung vessels off the mediastinum */
#define NEAR_MM 15.0         /* pool parts this close to the largest one belong to the heart */
#define TUBE_MM 40.0         /* a vertical tube this close (the descending aorta) too */
#define WALL_MM 13.0
#define MARROW_MM2 2500.0    /* the largest bone cross-section (a vertebral body) */         /* the LV wall is at most this thick */
#define BONE_GAP_MM 2.0      /* blood this close to bone goes with it */
#define ARTERY_RISE_MM 20.0  /* the aorta's and the PA's seeds lie this much above the ventricles' */
#define RA_DEPTH_MM 8.0      /* the RA's body is this deep at least */
#define RA_FRONT_MM 20.0     /* and lies this far in front of the LA's seed: behind are the pulmonary veins */
#define NEAR_SEED_MM 45.0    /* a structure without a peak is looked for this far from where the fit puts it */

/* The expected place of each blood label relative to the pool's centre, LPS mm. */
static const struct {
	int label;
	double at[3];
} anatomy[] = {
	{ 3, { 30.0, -15.0, -20.0 } },  /* LV: left, anterior, inferior */
	{ 5, { 0.0, -40.0, -20.0 } },   /* RV: in front */
	{ 2, { 8.0, 30.0, 15.0 } },     /* LA: behind, up */
	{ 4, { -45.0, 2.0, -6.0 } },    /* RA: to the right */
	{ 6, { 0.0, -5.0, 30.0 } },     /* ascending aorta: up, in the middle */
	{ 7, { 12.0, -12.0, 42.0 } },   /* PA trunk: up, in front, left */
};
#define NANATOMY (sizeof(anatomy) / sizeof(anatomy[0]))

/* The working grid and what is found on it. */
struct work {
	struct twin_volume *img;  /* float32, smoothed */
	size_t nx, ny, nz, n;
	double sp, vox_ml;
	float *w;
	struct twin_volume *pool; /* uint8: the blood pool */
	struct twin_volume *lab;  /* uint8: the labels */
	struct twin_volume *med;  /* uint8: the mediastinum, lung vessels cut off */
	double wall_lo, wall_hi;  /* myocardial intensities */
	int cut;                  /* the pool reaches the first or last slice */
};

static size_t at(const struct work *k, size_t i, size_t j, size_t z)
{
	return i + k->nx * (j + k->ny * z);
}

static void index_of(const struct work *k, size_t v, size_t ijk[3])
{
	ijk[0] = v % k->nx;
	ijk[1] = (v / k->nx) % k->ny;
	ijk[2] = v / (k->nx * k->ny);
}

static void world_of(const struct work *k, size_t v, double xyz[3])
{
	size_t ijk[3];

	index_of(k, v, ijk);
	for (int a = 0; a < 3; a++)
		xyz[a] = k->img->affine.m[a][3] + k->sp * (double)ijk[a];
}

static struct twin_volume *mask_like(struct twin_err *err, const struct work *k)
{
	return twin_volume_new(err, TWIN_U8, k->img->dim, &k->img->affine);
}

/* mask grown (r > 0) or shrunk (r < 0) by |r| mm, in place. */
static int morph(struct twin_err *err, struct twin_volume *mask, double r)
{
	struct twin_volume *d = twin_itk_distance(err, mask);
	unsigned char *m = mask->data;
	const float *dd;
	size_t n = twin_volume_count(mask);

	if (!d)
		return -1;
	dd = d->data;
	for (size_t i = 0; i < n; i++)
		m[i] = dd[i] <= r;
	twin_volume_free(d);
	return 0;
}

/* ---- the working grid -------------------------------------------------------- */

static int make_grid(struct twin_err *err, struct work *k, const struct twin_volume *img, double sp,
		     double outside)
{
	double lo[3] = { HUGE_VAL, HUGE_VAL, HUGE_VAL }, hi[3] = { -HUGE_VAL, -HUGE_VAL, -HUGE_VAL };
	double spacing[3];
	size_t dim[3];
	struct twin_affine a;
	struct twin_volume *f = NULL;

	twin_volume_spacing(img, spacing);
	for (int c = 0; c < 8; c++) {
		double ijk[3], xyz[3];

		for (int ax = 0; ax < 3; ax++)
			ijk[ax] = (c >> ax & 1) ? (double)img->dim[ax] - 0.5 : -0.5;
		twin_volume_index_to_world(img, ijk, xyz);
		for (int ax = 0; ax < 3; ax++) {
			lo[ax] = fmin(lo[ax], xyz[ax]);
			hi[ax] = fmax(hi[ax], xyz[ax]);
		}
	}
	for (int ax = 0; ax < 3; ax++) {
		double ext = (double)img->dim[ax] * spacing[ax];

		if (ext < MIN_EXTENT_MM || img->dim[ax] < 8)
			return twin_err_set(err, TWIN_EUNSUPPORTED,
					    "image too small: %zux%zux%zu voxels cover %.0fx%.0fx%.0f mm; "
					    "a heart needs at least %.0f mm and 8 voxels each way",
					    img->dim[0], img->dim[1], img->dim[2], img->dim[0] * spacing[0],
					    img->dim[1] * spacing[1], img->dim[2] * spacing[2], MIN_EXTENT_MM);
		dim[ax] = (size_t)floor((hi[ax] - lo[ax]) / sp);
		if (dim[ax] > 1000)
			return twin_err_set(err, TWIN_EUNSUPPORTED, "image too large: %.0f mm along axis %d at "
					    "%.2f mm is over 1000 voxels; raise segment.spacing",
					    hi[ax] - lo[ax], ax, sp);
	}
	twin_affine_identity(&a);
	for (int ax = 0; ax < 3; ax++) {
		a.m[ax][ax] = sp;
		a.m[ax][3] = lo[ax] + 0.5 * sp;
	}
	if (img->dtype == TWIN_F32) {
		k->img = twin_volume_resample(err, img, dim, &a, TWIN_LINEAR, outside);
	} else {
		/* resample keeps the dtype: go through float32 so that nothing is rounded */
		f = twin_volume_new(err, TWIN_F32, img->dim, &img->affine);
		if (!f)
			return -1;
		for (size_t i = 0, n = twin_volume_count(img); i < n; i++)
			((float *)f->data)[i] = img->dtype == TWIN_U8 ? ((uint8_t *)img->data)[i]
								       : ((int16_t *)img->data)[i];
		k->img = twin_volume_resample(err, f, dim, &a, TWIN_LINEAR, outside);
		twin_volume_free(f);
	}
	if (!k->img)
		return -1;
	k->nx = dim[0];
	k->ny = dim[1];
	k->nz = dim[2];
	k->n = dim[0] * dim[1] * dim[2];
	k->sp = sp;
	k->vox_ml = sp * sp * sp / 1000.0;
	k->w = k->img->data;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of the values of the input (every 7th voxel of a large one). */
static double quantile(const struct twin_volume *img, double q)
{
	size_t n = twin_volume_count(img), m = 0, step = n > 70000 ? 7 : 1;
	double *v = malloc((n / step + 1) * sizeof(*v)), r;

	if (!v)
		return 0.0;
	for (size_t i = 0; i < n; i += step)
		v[m++] = twin_volume_get(img, i % img->dim[0], (i / img->dim[0]) % img->dim[1],
					 i / (img->dim[0] * img->dim[1]));
	qsort(v, m, sizeof(*v), cmp_double);
	r = v[(size_t)(q * (double)(m - 1))];
	free(v);
	return r;
}

/* Median and robust spread (1.4826 MAD) of the working image where mask is set. */
static int masked_stats(struct twin_err *err, const struct work *k, const unsigned char *mask,
			double *median, double *spread)
{
	size_t m = 0;
	double *v = NULL;

	for (size_t i = 0; i < k->n; i++)
		m += mask[i] != 0;
	*median = *spread = 0.0;
	if (m == 0)
		return 0;
	v = malloc(m * sizeof(*v));
	if (!v)
		return twin_err_set(err, TWIN_EFAIL, "statistics: out of memory");
	m = 0;
	for (size_t i = 0; i < k->n; i++)
		if (mask[i])
			v[m++] = k->w[i];
	qsort(v, m, sizeof(*v), cmp_double);
	*median = v[m / 2];
	for (size_t i = 0; i < m; i++)
		v[i] = fabs(v[i] - *median);
	qsort(v, m, sizeof(*v), cmp_double);
	*spread = 1.4826 * v[m / 2];
	free(v);
	return 0;
}

/* ---- body, lungs, mediastinum ------------------------------------------------ */

static int find_mediastinum(struct twin_err *err, struct work *k, struct twin_heart_report *rep)
{
	struct twin_volume *all = NULL;
	unsigned char *m;
	double t[2], lung_ml = 0.0;
	int rc = -1;

	if (rep->is_ct) {
		rep->t_air = -400.0; /* HU are calibrated: air and lung lie below */
	} else {
		if (!(all = mask_like(err, k)))
			goto out;
		memset(all->data, 1, k->n);
		if (twin_itk_otsu(err, k->img, all, 2, 256, t) != 0)
			goto out;
		rep->t_air = t[0];
	}
	if (!(k->med = mask_like(err, k)))
		goto out;
	m = k->med->data;
	if (rep->is_ct) {
		/* lung: between air and soft tissue, and more than the blur at the skin */
		for (size_t i = 0; i < k->n; i++)
			m[i] = k->w[i] <= rep->t_air && k->w[i] > -950.0;
		if (morph(err, k->med, -3.0) != 0)
			goto out;
		for (size_t i = 0; i < k->n; i++)
			lung_ml += m[i] ? k->vox_ml : 0.0;
	}
	for (size_t i = 0; i < k->n; i++)
		m[i] = k->w[i] > rep->t_air;
	if (rep->is_ct && lung_ml < MIN_LUNG_ML) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "no heart: the image shows %.0f mL of lung, a chest "
			     "CT at least %.0f mL", lung_ml, MIN_LUNG_ML);
		goto out;
	}
	/* an opening: lung vessels and airway walls come off, the mediastinum stays */
	if (morph(err, k->med, -OPEN_MM) != 0 || morph(err, k->med, OPEN_MM) != 0)
		goto out;
	rc = 0;
out:
	twin_volume_free(all);
	return rc;
}

/* ---- the blood pool ----------------------------------------------------------- */

/*
 * Fills, in place, the holes of each axial slice of mask that are at most
 * max_mm2 large: what the slice's edge cannot reach. A ring of ribs around
 * the whole chest is not a hole of bone.
 */
static int fill_slices(struct twin_err *err, const struct work *k, unsigned char *mask, double max_mm2)
{
	size_t nxy = k->nx * k->ny, *stack = malloc(nxy * sizeof(*stack)), *hole = malloc(nxy * sizeof(*hole));
	size_t max_px = (size_t)(max_mm2 / (k->sp * k->sp));
	unsigned char *seen = malloc(nxy);

	if (!stack || !seen || !hole) {
		free(stack);
		free(seen);
		free(hole);
		return twin_err_set(err, TWIN_EFAIL, "filling slices: out of memory");
	}
	for (size_t z = 0; z < k->nz; z++) {
		unsigned char *s = mask + z * nxy;

		memset(seen, 0, nxy);
		for (size_t start = 0; start < nxy; start++) {
			size_t top = 0, n = 0;
			int edge = 0;

			if (s[start] || seen[start])
				continue;
			/* one region of the background, and whether it reaches the edge */
			seen[start] = 1;
			stack[top++] = start;
			while (top) {
				size_t p = stack[--top], i = p % k->nx, j = p / k->nx, nb[4];
				int nn = 0;

				hole[n++] = p;
				edge |= i == 0 || j == 0 || i + 1 == k->nx || j + 1 == k->ny;
				if (i > 0)
					nb[nn++] = p - 1;
				if (i + 1 < k->nx)
					nb[nn++] = p + 1;
				if (j > 0)
					nb[nn++] = p - k->nx;
				if (j + 1 < k->ny)
					nb[nn++] = p + k->nx;
				for (int q = 0; q < nn; q++)
					if (!seen[nb[q]] && !s[nb[q]]) {
						seen[nb[q]] = 1;
						stack[top++] = nb[q];
					}
			}
			if (!edge && n <= max_px)
				for (size_t q = 0; q < n; q++)
					s[hole[q]] = 1;
		}
	}
	free(stack);
	free(seen);
	free(hole);
	return 0;
}

/* Calls fn(ctx, v, u) for each face neighbour u of voxel v. */
#define FACES 6
static int neighbours(const struct work *k, size_t v, size_t nb[FACES])
{
	size_t ijk[3];
	int n = 0;

	index_of(k, v, ijk);
	if (ijk[0] > 0)
		nb[n++] = v - 1;
	if (ijk[0] + 1 < k->nx)
		nb[n++] = v + 1;
	if (ijk[1] > 0)
		nb[n++] = v - k->nx;
	if (ijk[1] + 1 < k->ny)
		nb[n++] = v + k->nx;
	if (ijk[2] > 0)
		nb[n++] = v - k->nx * k->ny;
	if (ijk[2] + 1 < k->nz)
		nb[n++] = v + k->nx * k->ny;
	return n;
}

/*
 * For each component of cc (int16), the voxels 2 to 4 mm outside it (a
 * breadth-first walk from every component at once) in shell[c], and those of
 * them darker than blood in low[c]. Right at the edge the blur mixes bone in.
 */
static int ring_stats(struct twin_err *err, const struct work *k, const struct twin_volume *cc,
		      double t_blood, size_t *shell, size_t *low)
{
	int16_t *owner = malloc(k->n * sizeof(*owner));
	unsigned char *step = malloc(k->n);
	size_t *queue = malloc(k->n * sizeof(*queue)), head = 0, tail = 0;
	int far = (int)ceil(4.0 / k->sp), near = (int)ceil(2.0 / k->sp);

	if (!owner || !step || !queue) {
		free(owner);
		free(step);
		free(queue);
		return twin_err_set(err, TWIN_EFAIL, "bone: out of memory");
	}
	memcpy(owner, cc->data, k->n * sizeof(*owner));
	for (size_t v = 0; v < k->n; v++) {
		step[v] = 0;
		if (owner[v] > 0)
			queue[tail++] = v;
	}
	while (head < tail) {
		size_t v = queue[head++], nb[FACES];
		int nn = neighbours(k, v, nb);

		if (step[v] >= far)
			continue;
		for (int q = 0; q < nn; q++)
			if (owner[nb[q]] == 0) {
				owner[nb[q]] = owner[v];
				step[nb[q]] = (unsigned char)(step[v] + 1);
				queue[tail++] = nb[q];
				if (step[nb[q]] >= near) {
					shell[owner[v]]++;
					low[owner[v]] += k->w[nb[q]] < t_blood;
				}
			}
	}
	free(owner);
	free(step);
	free(queue);
	return 0;
}

/*
 * Marrow that the cortex does not close joins the blood through a thin layer
 * (cortex, fat, the RV wall) that the blur lifts above t_blood, though not to
 * the blood's own level. So the pool splits into parts: each component of
 * its core (at least t_core) grown along the pool over the voxels nearer to
 * it than to any other (a breadth-first walk from all of them at once), and
 * each pool component without a core. A part with more than half its
 * surface on bone is marrow: it leaves the pool.
 */
#define CORE_PARTS 32767 /* core components kept; the pool's own go after them */
static int drop_marrow(struct twin_err *err, struct work *k, const unsigned char *bone, double t_core)
{
	struct twin_volume *core = NULL, *cc = NULL, *pc = NULL;
	unsigned char *pool = k->pool->data;
	int32_t *part = malloc(k->n * sizeof(*part));
	size_t *queue = malloc(k->n * sizeof(*queue)), head = 0, tail = 0, ncc = 0;
	size_t *edge = calloc(2 * CORE_PARTS + 2, sizeof(*edge)), *on_bone = calloc(2 * CORE_PARTS + 2, sizeof(*on_bone));
	int rc = -1;

	if (!part || !queue || !edge || !on_bone) {
		twin_err_set(err, TWIN_EFAIL, "bone: out of memory");
		goto out;
	}
	if (!(core = mask_like(err, k)))
		goto out;
	for (size_t v = 0; v < k->n; v++)
		((unsigned char *)core->data)[v] = pool[v] && k->w[v] >= t_core;
	if (!(cc = twin_itk_components(err, core, CORE_PARTS, &ncc)) ||
	    !(pc = twin_itk_components(err, k->pool, CORE_PARTS, &ncc)))
		goto out;
	for (size_t v = 0; v < k->n; v++) {
		part[v] = ((int16_t *)cc->data)[v];
		if (part[v] > 0)
			queue[tail++] = v;
	}
	while (head < tail) {
		size_t v = queue[head++], nb[FACES];
		int nn = neighbours(k, v, nb);

		for (int q = 0; q < nn; q++)
			if (pool[nb[q]] && part[nb[q]] == 0) {
				part[nb[q]] = part[v];
				queue[tail++] = nb[q];
			}
	}
	for (size_t v = 0; v < k->n; v++)
		if (pool[v] && part[v] == 0 && ((int16_t *)pc->data)[v] > 0)
			part[v] = CORE_PARTS + ((int16_t *)pc->data)[v];
	for (size_t v = 0; v < k->n; v++) {
		size_t nb[FACES];
		int nn, p = part[v], at_edge = 0, at_bone = 0;

		if (!pool[v] || p <= 0)
			continue;
		nn = neighbours(k, v, nb);
		for (int q = 0; q < nn; q++)
			if (part[nb[q]] != p || !pool[nb[q]]) {
				at_edge = 1;
				at_bone |= bone[nb[q]];
			}
		edge[p] += (size_t)at_edge;
		on_bone[p] += (size_t)at_bone;
	}
	for (size_t v = 0; v < k->n; v++)
		if (pool[v] && part[v] > 0 && on_bone[part[v]] * 2 > edge[part[v]])
			pool[v] = 0;
	rc = 0;
out:
	free(part);
	free(queue);
	free(edge);
	free(on_bone);
	twin_volume_free(core);
	twin_volume_free(cc);
	twin_volume_free(pc);
	return rc;
}

/*
 * CT: bone is as bright as contrast but sits in soft tissue and fat. Each
 * component brighter than any blood is bone when a good part of the voxels
 * around it is not blood; bone's marrow is what its cortex encloses in a
 * slice; drop_marrow finds the marrow it does not close. Clears them from
 * pool.
 */
static int remove_bone(struct twin_err *err, struct work *k, struct twin_heart_report *rep)
{
	struct twin_volume *high = NULL, *cc = NULL, *bone = NULL;
	unsigned char *h, *b, *pool = k->pool->data;
	double med, spread, t_bone;
	size_t ncc = 0, *shell = NULL, *low = NULL;
	int rc = -1;

	if (masked_stats(err, k, pool, &med, &spread) != 0)
		goto out;
	t_bone = med + fmax(3.0 * spread, 150.0);
	if (!(high = mask_like(err, k)) || !(bone = mask_like(err, k)))
		goto out;
	h = high->data;
	b = bone->data;
	for (size_t i = 0; i < k->n; i++)
		h[i] = k->w[i] >= t_bone;
	if (!(cc = twin_itk_components(err, high, 32767, &ncc)))
		goto out;
	shell = calloc(32768, sizeof(*shell));
	low = calloc(32768, sizeof(*low));
	if (!shell || !low) {
		twin_err_set(err, TWIN_EFAIL, "bone: out of memory");
		goto out;
	}
	if (ring_stats(err, k, cc, rep->t_blood, shell, low) != 0)
		goto out;
	for (size_t v = 0; v < k->n; v++) {
		int c = ((int16_t *)cc->data)[v];

		b[v] = c > 0 && low[c] * 4 > shell[c];
	}
	/* a closing first: a blurred cortex has gaps */
	if (morph(err, bone, 3.0) != 0 || fill_slices(err, k, b, MARROW_MM2) != 0 ||
	    morph(err, bone, -(3.0 - BONE_GAP_MM)) != 0)
		goto out;
	for (size_t v = 0; v < k->n; v++)
		if (b[v])
			pool[v] = 0;
	if (drop_marrow(err, k, b, 0.5 * (rep->t_blood + med)) != 0)
		goto out;
	rc = 0;
out:
	free(shell);
	free(low);
	twin_volume_free(high);
	twin_volume_free(cc);
	twin_volume_free(bone);
	return rc;
}

/* A vertical tube: much taller than wide, such as the descending aorta. */
static int is_tube(const double lo[3], const double hi[3])
{
	double ez = hi[2] - lo[2];

	return ez >= 40.0 && ez >= 2.0 * fmax(hi[0] - lo[0], hi[1] - lo[1]);
}

/* The heart's part of the pool: its largest component and the parts near it. */
static int keep_heart(struct twin_err *err, struct work *k, struct twin_heart_report *rep)
{
	struct twin_volume *cc = NULL, *big = NULL, *d = NULL;
	unsigned char *pool = k->pool->data;
	size_t ncc = 0, *size = NULL;
	double *near = NULL, med, spread, (*box)[2][3] = NULL;
	int rc = -1;

	if (!(cc = twin_itk_components(err, k->pool, 255, &ncc)) || !(big = mask_like(err, k)))
		goto out;
	size = calloc(256, sizeof(*size));
	near = malloc(256 * sizeof(*near));
	box = malloc(256 * sizeof(*box));
	if (!size || !near || !box) {
		twin_err_set(err, TWIN_EFAIL, "pool: out of memory");
		goto out;
	}
	for (size_t v = 0; v < k->n; v++) {
		int c = ((int16_t *)cc->data)[v];

		size[c > 0 ? c : 0]++;
		((unsigned char *)big->data)[v] = c == 1;
	}
	if (ncc == 0 || (double)size[1] * k->vox_ml < MIN_POOL_ML) {
		double ml = ncc ? (double)size[1] * k->vox_ml : 0.0;

		/* a chest CT (it has lungs) without a pool is most likely one without contrast */
		if (rep->is_ct)
			twin_err_set(err, TWIN_EUNSUPPORTED, "no contrast-filled blood: the largest bright region "
				     "of the mediastinum holds %.1f mL, a heart's blood pool over %.0f mL; "
				     "a non-contrast CT?", ml, MIN_POOL_ML);
		else
			twin_err_set(err, TWIN_EUNSUPPORTED, "no heart: the largest bright region of the "
				     "mediastinum holds %.1f mL, a heart's blood pool over %.0f mL", ml, MIN_POOL_ML);
		goto out;
	}
	if (!(d = twin_itk_distance(err, big)))
		goto out;
	for (int c = 0; c < 256; c++)
		near[c] = HUGE_VAL;
	for (size_t v = 0; v < k->n; v++) {
		int c = ((int16_t *)cc->data)[v];

		if (c > 0 && ((float *)d->data)[v] < near[c])
			near[c] = ((float *)d->data)[v];
	}
	for (int c = 0; c < 256; c++)
		for (int a = 0; a < 3; a++) {
			box[c][0][a] = HUGE_VAL;
			box[c][1][a] = -HUGE_VAL;
		}
	for (size_t v = 0; v < k->n; v++) {
		int c = ((int16_t *)cc->data)[v];
		double x[3];

		if (c <= 0)
			continue;
		world_of(k, v, x);
		for (int a = 0; a < 3; a++) {
			box[c][0][a] = fmin(box[c][0][a], x[a]);
			box[c][1][a] = fmax(box[c][1][a], x[a]);
		}
	}
	for (size_t v = 0; v < k->n; v++) {
		int c = ((int16_t *)cc->data)[v], tube;

		if (c <= 1) {
			pool[v] = c == 1;
			continue;
		}
		/* a vertical tube such as the descending aorta may sit further away */
		tube = is_tube(box[c][0], box[c][1]) && near[c] <= TUBE_MM;
		pool[v] = (near[c] <= NEAR_MM || tube) && (double)size[c] * k->vox_ml >= 2.0;
	}
	for (size_t v = 0; v < k->n; v++)
		if (pool[v] && (v < k->nx * k->ny || v >= k->n - k->nx * k->ny))
			k->cut = 1;
	if (masked_stats(err, k, pool, &med, &spread) != 0)
		goto out;
	rep->blood_mean = med;
	if (rep->is_ct && med < CONTRAST_HU) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "no contrast-filled blood: the brightest part of the "
			     "mediastinum has a median of %.0f HU, contrast blood over %.0f HU; a non-contrast CT?",
			     med, CONTRAST_HU);
		goto out;
	}
	rc = 0;
out:
	free(size);
	free(near);
	free(box);
	twin_volume_free(cc);
	twin_volume_free(big);
	twin_volume_free(d);
	return rc;
}

/*
 * Bright-blood MR: fat is bright too (bSSFP), a little darker than blood, and
 * the pericardial fat wraps the heart, so a pool that takes it joins every
 * chamber and vessel. Of the tissue at or above t, when its histogram has two
 * modes with a deep valley between them, blood is the upper mode: returns the
 * valley, or t when the histogram has one mode (no fat, or fat suppressed).
 */
#define FAT_BINS 64
#define FAT_VALLEY 0.35 /* the valley is this much of the lower mode's height at most */
static double above_fat(const struct work *k, const unsigned char *tissue, double t)
{
	double hi = t, h[FAT_BINS] = { 0 }, g[FAT_BINS], width, best = FAT_VALLEY, cut = t;
	size_t n = 0, above = 0;

	for (size_t i = 0; i < k->n; i++)
		if (tissue[i] && k->w[i] >= t) {
			hi = fmax(hi, k->w[i]);
			n++;
		}
	if (n == 0 || hi <= t)
		return t;
	width = (hi - t) / FAT_BINS;
	for (size_t i = 0; i < k->n; i++)
		if (tissue[i] && k->w[i] >= t)
			h[(int)fmin((k->w[i] - t) / width, FAT_BINS - 1)]++;
	for (int b = 0; b < FAT_BINS; b++)
		g[b] = 0.25 * (b > 0 ? h[b - 1] : h[b]) + 0.5 * h[b] + 0.25 * (b + 1 < FAT_BINS ? h[b + 1] : h[b]);
	/* the deepest valley: its height over the lower of the highest bins on either side */
	for (int b = 1; b + 1 < FAT_BINS; b++) {
		double left = 0.0, right = 0.0;

		for (int q = 0; q < b; q++)
			left = fmax(left, g[q]);
		for (int q = b + 1; q < FAT_BINS; q++)
			right = fmax(right, g[q]);
		if (fmin(left, right) > 0.0 && g[b] / fmin(left, right) < best) {
			best = g[b] / fmin(left, right);
			cut = t + width * (b + 0.5);
		}
	}
	/* the upper mode must hold a heart's blood */
	for (size_t i = 0; i < k->n; i++)
		above += tissue[i] && k->w[i] >= cut;
	return (double)above * k->vox_ml >= MIN_POOL_ML ? cut : t;
}

/*
 * Above the fat, the blood's blurred edge against the darker wall falls
 * short: the pool grows by EDGE_MM into voxels brighter than halfway
 * between blood and the tissue below dark (the wall).
 */
#define EDGE_MM 1.5
static int grow_edge(struct twin_err *err, struct work *k, const unsigned char *tissue, double dark)
{
	struct twin_volume *grown = NULL;
	unsigned char *pool = k->pool->data, *g;
	double blood, spread, sum = 0.0, cnt = 0.0, half;

	if (masked_stats(err, k, pool, &blood, &spread) != 0)
		return -1;
	for (size_t i = 0; i < k->n; i++)
		if (tissue[i] && k->w[i] < dark) {
			sum += k->w[i];
			cnt++;
		}
	if (cnt == 0.0)
		return 0;
	half = 0.5 * (blood + sum / cnt);
	if (!(grown = mask_like(err, k)))
		return -1;
	g = grown->data;
	memcpy(g, pool, k->n);
	if (morph(err, grown, EDGE_MM) != 0) {
		twin_volume_free(grown);
		return -1;
	}
	for (size_t i = 0; i < k->n; i++)
		pool[i] |= g[i] && tissue[i] && k->w[i] >= half;
	twin_volume_free(grown);
	return 0;
}

static int find_pool(struct twin_err *err, struct work *k, struct twin_heart_report *rep)
{
	struct twin_volume *tissue = NULL;
	unsigned char *m = k->med->data, *pool;
	double t[3];
	int rc = -1;

	if (!(tissue = mask_like(err, k)) || !(k->pool = mask_like(err, k)))
		goto out;
	for (size_t i = 0; i < k->n; i++)
		((unsigned char *)tissue->data)[i] = m[i] && k->w[i] > rep->t_air;
	if (rep->is_ct) {
		/* fat, soft tissue, contrast blood, bone: the blood's class is the first bright one */
		double mean[4] = { 0 }, cnt[4] = { 0 };
		int b = -1;

		if (twin_itk_otsu(err, k->img, tissue, 3, 512, t) != 0)
			goto out;
		for (size_t i = 0; i < k->n; i++) {
			int c = 0;

			if (!((unsigned char *)tissue->data)[i])
				continue;
			while (c < 3 && k->w[i] >= t[c])
				c++;
			mean[c] += k->w[i];
			cnt[c]++;
		}
		for (int c = 0; c < 4; c++) {
			mean[c] = cnt[c] ? mean[c] / cnt[c] : 0.0;
			if (b < 0 && c > 0 && cnt[c] && mean[c] >= CONTRAST_HU)
				b = c;
		}
		rep->t_blood = b > 0 ? t[b - 1] : t[2];
		/* the wall lies above fat, which sits near -100 HU */
		rep->t_wall = fmax(b > 1 ? t[b - 2] : -30.0, -30.0);
		k->wall_lo = rep->t_wall;
		k->wall_hi = rep->t_blood;
	} else {
		if (twin_itk_otsu(err, k->img, tissue, 2, 512, t) != 0)
			goto out;
		/* bright blood over fat over soft tissue; the fat may fall into the blood's class */
		rep->t_blood = above_fat(k, tissue->data, t[1]);
		rep->t_wall = t[0];
		k->wall_lo = rep->t_air;
		k->wall_hi = t[0];
	}
	pool = k->pool->data;
	for (size_t i = 0; i < k->n; i++)
		pool[i] = m[i] && k->w[i] >= rep->t_blood;
	if (!rep->is_ct && rep->t_blood > t[1] && grow_edge(err, k, tissue->data, t[0]) != 0)
		goto out;
	if (rep->is_ct && remove_bone(err, k, rep) != 0)
		goto out;
	if (twin_itk_fill_holes(err, k->pool) != 0 || keep_heart(err, k, rep) != 0)
		goto out;
	rc = 0;
out:
	twin_volume_free(tissue);
	return rc;
}

/* Cuts the working grid down to the pool and a margin for the wall: the rest runs faster. */
static int crop(struct twin_err *err, struct work *k)
{
	const unsigned char *pool = k->pool->data;
	size_t lo[3] = { k->nx, k->ny, k->nz }, hi[3] = { 0, 0, 0 }, size[3];
	size_t margin = (size_t)ceil((WALL_MM + 5.0) / k->sp), dim[3] = { k->nx, k->ny, k->nz };
	struct twin_volume *v[3] = { NULL, NULL, NULL };

	for (size_t p = 0; p < k->n; p++) {
		size_t ijk[3];

		if (!pool[p])
			continue;
		index_of(k, p, ijk);
		for (int a = 0; a < 3; a++) {
			lo[a] = ijk[a] < lo[a] ? ijk[a] : lo[a];
			hi[a] = ijk[a] > hi[a] ? ijk[a] : hi[a];
		}
	}
	for (int a = 0; a < 3; a++) {
		lo[a] = lo[a] > margin ? lo[a] - margin : 0;
		hi[a] = hi[a] + margin < dim[a] ? hi[a] + margin : dim[a] - 1;
		size[a] = hi[a] - lo[a] + 1;
	}
	if (!(v[0] = twin_volume_crop(err, k->img, lo, size)) || !(v[1] = twin_volume_crop(err, k->pool, lo, size)) ||
	    !(v[2] = twin_volume_crop(err, k->med, lo, size))) {
		for (int i = 0; i < 3; i++)
			twin_volume_free(v[i]);
		return -1;
	}
	twin_volume_free(k->img);
	twin_volume_free(k->pool);
	twin_volume_free(k->med);
	k->img = v[0];
	k->pool = v[1];
	k->med = v[2];
	k->nx = size[0];
	k->ny = size[1];
	k->nz = size[2];
	k->n = size[0] * size[1] * size[2];
	k->w = k->img->data;
	return 0;
}

/* ---- seeds and the split ------------------------------------------------------ */

static const char *label_short(int id)
{
	const struct twin_label *l = twin_label_by_id(id);

	return l ? l->short_name : "?";
}

/* Sets a ball marker of label around voxel v, inside the pool, radius r mm. */
static void mark(const struct work *k, unsigned char *mk, size_t v, int label, double r)
{
	size_t c[3];
	long rr = (long)ceil(r / k->sp);

	index_of(k, v, c);
	for (long dz = -rr; dz <= rr; dz++)
		for (long dy = -rr; dy <= rr; dy++)
			for (long dx = -rr; dx <= rr; dx++) {
				long i = (long)c[0] + dx, j = (long)c[1] + dy, z = (long)c[2] + dz;
				size_t u;

				if (i < 0 || j < 0 || z < 0 || i >= (long)k->nx || j >= (long)k->ny || z >= (long)k->nz ||
				    (double)(dx * dx + dy * dy + dz * dz) * k->sp * k->sp > r * r)
					continue;
				u = at(k, (size_t)i, (size_t)j, (size_t)z);
				if (((unsigned char *)k->pool->data)[u])
					mk[u] = (unsigned char)label;
			}
}

/* A given seed: the deepest pool voxel within 10 mm of it. */
static int place_seed(struct twin_err *err, struct work *k, const struct twin_volume *img,
		      const float *depth, const struct twin_seed *s, size_t *v)
{
	const unsigned char *pool = k->pool->data;
	double ijk[3], best = -1.0;
	long c[3], rr = (long)ceil(10.0 / k->sp);

	twin_volume_world_to_index(img, s->xyz, ijk);
	for (int a = 0; a < 3; a++)
		if (ijk[a] < -0.5 || ijk[a] > (double)img->dim[a] - 0.5)
			return twin_err_set(err, TWIN_EINPUT, "seed %s: %s at (%.1f, %.1f, %.1f) mm LPS lies "
					    "outside the image", s->where, label_short(s->label), s->xyz[0],
					    s->xyz[1], s->xyz[2]);
	for (int a = 0; a < 3; a++)
		c[a] = lround((s->xyz[a] - k->img->affine.m[a][3]) / k->sp);
	for (long dz = -rr; dz <= rr; dz++)
		for (long dy = -rr; dy <= rr; dy++)
			for (long dx = -rr; dx <= rr; dx++) {
				long i = c[0] + dx, j = c[1] + dy, z = c[2] + dz;
				size_t u;

				if (i < 0 || j < 0 || z < 0 || i >= (long)k->nx || j >= (long)k->ny || z >= (long)k->nz ||
				    (double)(dx * dx + dy * dy + dz * dz) * k->sp * k->sp > 100.0)
					continue;
				u = at(k, (size_t)i, (size_t)j, (size_t)z);
				if (pool[u] && depth[u] - 0.2 * sqrt((double)(dx * dx + dy * dy + dz * dz)) * k->sp > best) {
					best = depth[u] - 0.2 * sqrt((double)(dx * dx + dy * dy + dz * dz)) * k->sp;
					*v = u;
				}
			}
	if (best < 0.0)
		return twin_err_set(err, TWIN_EINPUT, "seed %s: %s at (%.1f, %.1f, %.1f) mm LPS is not within "
				    "10 mm of contrast-filled blood", s->where, label_short(s->label), s->xyz[0],
				    s->xyz[1], s->xyz[2]);
	return 0;
}

/* A local maximum of the depth: the centre of a chamber or a vessel. */
struct peak {
	size_t v;
	double x[3], depth;
};

struct cand {
	float depth;
	size_t v;
};

static int cmp_cand(const void *a, const void *b)
{
	float x = ((const struct cand *)a)->depth, y = ((const struct cand *)b)->depth;

	return (x < y) - (x > y);
}

#define MAX_PEAKS 10
#define PERSIST_MM 2.0 /* a peak that is not this much above the saddle to a deeper one is the same chamber */

static size_t find_root(int32_t *parent, size_t i)
{
	while ((size_t)parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = (size_t)parent[i];
	}
	return i;
}

/*
 * The 4-connected blob of pool voxels of slice z around (i, j), into out
 * (1 per voxel) when out is set; its area in voxels, or 0 when it is larger
 * than cap. Its centre in c[2] (index units).
 */
static size_t blob(const struct work *k, size_t *stack, unsigned char *seen, size_t z, size_t i, size_t j,
		   size_t cap, unsigned char *out, double c[2])
{
	const unsigned char *pool = k->pool->data;
	size_t nxy = k->nx * k->ny, off = z * nxy, top = 0, n = 0, p0 = i + k->nx * j;
	double si = 0.0, sj = 0.0;

	if (!pool[off + p0] || seen[p0])
		return 0;
	seen[p0] = 1;
	stack[top++] = p0;
	while (top) {
		size_t p = stack[--top], pi = p % k->nx, pj = p / k->nx, nb[4];
		int nn = 0;

		n++;
		si += (double)pi;
		sj += (double)pj;
		if (out)
			out[off + p] = 1;
		if (pi > 0)
			nb[nn++] = p - 1;
		if (pi + 1 < k->nx)
			nb[nn++] = p + 1;
		if (pj > 0)
			nb[nn++] = p - k->nx;
		if (pj + 1 < k->ny)
			nb[nn++] = p + k->nx;
		for (int q = 0; q < nn; q++)
			if (!seen[nb[q]] && pool[off + nb[q]]) {
				seen[nb[q]] = 1;
				stack[top++] = nb[q];
			}
	}
	c[0] = si / (double)n;
	c[1] = sj / (double)n;
	return n > cap ? 0 : n;
}

/*
 * Follows a vessel from its cross-section of area0 voxels around c0 in slice
 * z0 through the slices above and below, while it keeps its size; its voxels
 * become markers of the aorta in mk and are set in tube.
 */
static void follow(const struct work *k, size_t *stack, unsigned char *seen, size_t z0, const double c0[2],
		   size_t area0, unsigned char *tube, unsigned char *mk)
{
	const unsigned char *pool = k->pool->data;
	size_t nxy = k->nx * k->ny;

	for (int dir = -1; dir <= 1; dir += 2) {
		size_t ci = (size_t)lround(c0[0]), cj = (size_t)lround(c0[1]), prev = area0;

		for (long z = (long)z0 + (dir > 0 ? 1 : 0); z >= 0 && z < (long)k->nz; z += dir) {
			double c[2];
			size_t n;

			/* the centre may fall on a speck of calcium: the nearest pool voxel within 3 mm */
			for (long r = 0, found = 0; r <= (long)(3.0 / k->sp) && !found; r++)
				for (long dj = -r; dj <= r && !found; dj++)
					for (long di = -r; di <= r && !found; di++) {
						long ii = (long)ci + di, jj = (long)cj + dj;

						if (ii >= 0 && jj >= 0 && ii < (long)k->nx && jj < (long)k->ny &&
						    pool[(size_t)z * nxy + (size_t)ii + k->nx * (size_t)jj]) {
							ci = (size_t)ii;
							cj = (size_t)jj;
							found = 1;
						}
					}
			/* it ends where it grows into something else or fades */
			memset(seen, 0, nxy);
			n = blob(k, stack, seen, (size_t)z, ci, cj, prev + prev / 2, NULL, c);
			if (n == 0 || 2 * n < prev)
				break;
			memset(seen, 0, nxy);
			blob(k, stack, seen, (size_t)z, ci, cj, prev + prev / 2, tube, c);
			ci = (size_t)lround(c[0]);
			cj = (size_t)lround(c[1]);
			prev = n;
		}
	}
	for (size_t v = 0; v < k->n; v++)
		if (tube[v] == 1) {
			mk[v] = 6;
			tube[v] = 2;
		}
}

/*
 * The descending aorta: of the round cross-sections in an upper axial slice,
 * the one behind the heart nearest to it, followed up and down while it
 * stays alone; its voxels are aorta markers in mk and set in tube.
 */
static int find_aorta(struct twin_err *err, const struct work *k, const double centre[3],
		      unsigned char *tube, unsigned char *mk)
{
	const unsigned char *pool = k->pool->data;
	size_t nxy = k->nx * k->ny, *stack = malloc(nxy * sizeof(*stack)), ztop = 0, z0, area = 0;
	unsigned char *seen = malloc(nxy);
	double best = HUGE_VAL, c0[2] = { 0, 0 }, a_lo = M_PI * 36.0, a_hi = M_PI * 625.0;
	double px = k->sp * k->sp;
	struct { double c[2], y; size_t n; } round[64];
	size_t nround = 0;

	if (!stack || !seen) {
		free(stack);
		free(seen);
		return twin_err_set(err, TWIN_EFAIL, "aorta: out of memory");
	}
	for (size_t v = 0; v < k->n; v++)
		if (pool[v])
			ztop = v / nxy;
	z0 = ztop > (size_t)(10.0 / k->sp) ? ztop - (size_t)(10.0 / k->sp) : 0;
	memset(seen, 0, nxy);
	for (size_t p = 0; p < nxy && nround < 64; p++) {
		double c[2], rmax = 0.0;
		size_t n = blob(k, stack, seen, z0, p % k->nx, p / k->nx, (size_t)(a_hi / px), NULL, c);

		/* round: no voxel further out than 1.5 times the radius of a disc of its area */
		for (size_t q = 0; q < nxy; q++) {
			if (seen[q] == 1 && n > 0) {
				double di = (double)(q % k->nx) - c[0], dj = (double)(q / k->nx) - c[1];

				rmax = fmax(rmax, sqrt(di * di + dj * dj));
			}
			seen[q] = seen[q] ? 2 : 0;
		}
		if (n == 0 || (double)n * px < a_lo || rmax > 1.5 * sqrt((double)n / M_PI) + 1.0)
			continue;
		memcpy(round[nround].c, c, sizeof(c));
		round[nround].y = k->img->affine.m[1][3] + k->sp * c[1];
		round[nround++].n = n;
	}
	for (size_t r = 0; r < nround; r++) {
		double x = k->img->affine.m[0][3] + k->sp * round[r].c[0], d;

		if (round[r].y < centre[1] + 15.0)
			continue;
		d = hypot(x - centre[0], round[r].y - centre[1]);
		if (d < best) {
			best = d;
			memcpy(c0, round[r].c, sizeof(c0));
			area = round[r].n;
		}
	}
	if (area)
		follow(k, stack, seen, z0, c0, area, tube, mk);
	free(stack);
	free(seen);
	return 0;
}

/*
 * The centres of the chambers and vessels: the peaks of the depth that stand
 * out by PERSIST_MM over the saddle to a deeper one (chambers meet at narrow
 * valves), deepest first, away from the given seeds. Returns how many, or -1.
 */
static int find_peaks(struct twin_err *err, const struct work *k, const float *depth,
		      const unsigned char *tubes, const size_t *given, size_t ngiven, struct peak *pk)
{
	const unsigned char *pool = k->pool->data;
	struct cand *c = NULL;
	int32_t *id = NULL, *parent = NULL;
	size_t nc = 0, np = 0, nall = 0, *peak = NULL;
	struct cand *found = NULL;
	int rc = -1;

	for (size_t v = 0; v < k->n; v++)
		nc += pool[v] && !tubes[v] && depth[v] >= 2.0;
	c = malloc((nc + 1) * sizeof(*c));
	id = malloc(k->n * sizeof(*id));
	parent = malloc((nc + 1) * sizeof(*parent));
	peak = malloc((nc + 1) * sizeof(*peak));
	found = malloc((nc + 1) * sizeof(*found));
	if (!c || !id || !parent || !peak || !found) {
		twin_err_set(err, TWIN_EFAIL, "seeds: out of memory");
		goto out;
	}
	nc = 0;
	for (size_t v = 0; v < k->n; v++) {
		id[v] = -1;
		if (pool[v] && !tubes[v] && depth[v] >= 2.0) {
			c[nc].depth = depth[v];
			c[nc++].v = v;
		}
	}
	qsort(c, nc, sizeof(*c), cmp_cand);
	for (size_t i = 0; i < nc; i++) {
		size_t v = c[i].v, nb[FACES];
		int nn = neighbours(k, v, nb);

		id[v] = (int32_t)i;
		parent[i] = (int32_t)i;
		peak[i] = i; /* the candidate index of the component's deepest voxel */
		for (int q = 0; q < nn; q++) {
			size_t a, b;

			if (id[nb[q]] < 0)
				continue;
			a = find_root(parent, i);
			b = find_root(parent, (size_t)id[nb[q]]);
			if (a == b)
				continue;
			if (c[peak[a]].depth < c[peak[b]].depth) {
				size_t t = a;
				a = b;
				b = t;
			}
			/* b is the shallower: a peak of its own when it stands out */
			if (c[peak[b]].depth - c[i].depth >= PERSIST_MM && peak[b] != i)
				found[nall++] = c[peak[b]];
			parent[b] = (int32_t)a;
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (find_root(parent, i) == i)
			found[nall++] = c[peak[i]];
	qsort(found, nall, sizeof(*found), cmp_cand);
	for (size_t i = 0; i < nall && np < MAX_PEAKS; i++) {
		double x[3];
		int ok = found[i].depth >= 6.0;

		world_of(k, found[i].v, x);
		for (size_t q = 0; q < ngiven && ok; q++) {
			double y[3], r = fmax(depth[given[q]], 15.0), d2 = 0.0;

			world_of(k, given[q], y);
			for (int a = 0; a < 3; a++)
				d2 += (x[a] - y[a]) * (x[a] - y[a]);
			ok = d2 > r * r;
		}
		if (!ok)
			continue;
		pk[np].v = found[i].v;
		pk[np].depth = found[i].depth;
		memcpy(pk[np].x, x, sizeof(x));
		np++;
	}
	rc = (int)np;
out:
	free(c);
	free(id);
	free(parent);
	free(peak);
	free(found);
	return rc;
}

/* The assignment of peaks to structures that best fits the anatomy, up to a shift. */
struct fit {
	const struct peak *pk;
	int npk;
	const double (*want)[3]; /* template positions of the structures to place */
	const int *label;        /* their labels */
	int nwant;
	int cur[NANATOMY], best[NANATOMY];
	double best_cost;
	double at[3], from[3], scale; /* the best fit: template point t goes to at + scale * (t - from) */
	int used[MAX_PEAKS];
};

#define LA_RISE_MM 60.0 /* the LA's centre lies at most this much above the LV's */
#define MISSING_COST 3600.0 /* mm^2: a structure left without a peak */

/*
 * The chambers' order along the patient's axes: a - b along axis must exceed
 * more (mm) for the peaks placed as a and b. The LV lies left of the RV and
 * the RA, the RV in front of the LV and the RA, the LA behind the LV and the
 * RA, above the LV and not far above it.
 */
static const struct {
	int a, b, axis;
	double more;
} order[] = {
	{ 3, 5, 0, 0.0 }, { 3, 4, 0, 0.0 },   /* LV left of RV, of RA */
	{ 3, 5, 1, 0.0 }, { 4, 5, 1, 0.0 },   /* RV in front of LV, of RA */
	{ 2, 3, 1, 0.0 }, { 2, 4, 1, 0.0 },   /* LA behind LV, RA */
	{ 2, 3, 2, 0.0 }, { 3, 2, 2, -LA_RISE_MM }, /* LA above the LV, not far */
};

static int out_of_order(const struct fit *f)
{
	int at[8];

	for (int l = 0; l < 8; l++)
		at[l] = -1;
	for (int s = 0; s < f->nwant; s++)
		at[f->label[s]] = f->cur[s];
	for (size_t r = 0; r < sizeof(order) / sizeof(order[0]); r++) {
		int p = at[order[r].a], q = at[order[r].b];

		if (p >= 0 && q >= 0 && f->pk[p].x[order[r].axis] - f->pk[q].x[order[r].axis] <= order[r].more)
			return 1;
	}
	return 0;
}

static void fit_search(struct fit *f, int i)
{
	if (i == f->nwant) {
		double pm[3] = { 0, 0, 0 }, tm[3] = { 0, 0, 0 }, cost = 0.0, num = 0.0, den = 0.0, sc;
		int n = 0;

		/* the best scale and shift of the template onto the peaks, then what is left */
		for (int s = 0; s < f->nwant; s++)
			if (f->cur[s] >= 0) {
				for (int a = 0; a < 3; a++) {
					pm[a] += f->pk[f->cur[s]].x[a];
					tm[a] += f->want[s][a];
				}
				n++;
			} else {
				cost += MISSING_COST;
			}
		for (int a = 0; n && a < 3; a++) {
			pm[a] /= n;
			tm[a] /= n;
		}
		for (int s = 0; s < f->nwant; s++)
			for (int a = 0; a < 3 && f->cur[s] >= 0; a++) {
				num += (f->pk[f->cur[s]].x[a] - pm[a]) * (f->want[s][a] - tm[a]);
				den += (f->want[s][a] - tm[a]) * (f->want[s][a] - tm[a]);
			}
		sc = den > 0.0 ? fmin(fmax(num / den, 0.7), 1.8) : 1.0;
		if (out_of_order(f))
			return;
		/* an artery leaves its ventricle upward: its peak lies ARTERY_RISE_MM above the ventricles' */
		for (int s = 0; s < f->nwant; s++)
			for (int t = 0; t < f->nwant; t++)
				if ((f->label[s] == 6 || f->label[s] == 7) && (f->label[t] == 3 || f->label[t] == 5) &&
				    f->cur[s] >= 0 && f->cur[t] >= 0 &&
				    f->pk[f->cur[s]].x[2] < f->pk[f->cur[t]].x[2] + ARTERY_RISE_MM)
					return;
		for (int s = 0; s < f->nwant; s++)
			for (int a = 0; a < 3 && f->cur[s] >= 0; a++) {
				double r = f->pk[f->cur[s]].x[a] - pm[a] - sc * (f->want[s][a] - tm[a]);

				cost += r * r;
			}
		if (cost < f->best_cost) {
			memcpy(f->at, pm, sizeof(pm));
			memcpy(f->from, tm, sizeof(tm));
			f->scale = sc;
			f->best_cost = cost;
			memcpy(f->best, f->cur, sizeof(f->cur));
		}
		return;
	}
	for (int p = -1; p < f->npk; p++) {
		if (p >= 0 && f->used[p])
			continue;
		f->cur[i] = p;
		if (p >= 0)
			f->used[p] = 1;
		fit_search(f, i + 1);
		if (p >= 0)
			f->used[p] = 0;
	}
}

/* Pool components without a marker: a tube behind the heart is the descending aorta; others go. */
static int orphans(struct twin_err *err, struct work *k, unsigned char *mk, const float *depth)
{
	struct twin_volume *cc = NULL;
	unsigned char *pool = k->pool->data;
	size_t ncc = 0, deepest[256] = { 0 };
	double sum[256][3], cnt[256] = { 0 }, lo[256], hi[256], c[3] = { 0, 0, 0 }, all = 0.0;
	int marked[256] = { 0 }, rc = -1;

	if (!(cc = twin_itk_components(err, k->pool, 255, &ncc)))
		goto out;
	memset(sum, 0, sizeof(sum));
	for (int i = 0; i < 256; i++) {
		lo[i] = HUGE_VAL;
		hi[i] = -HUGE_VAL;
	}
	for (size_t v = 0; v < k->n; v++) {
		int q = ((int16_t *)cc->data)[v];
		double x[3];

		if (q <= 0)
			continue;
		world_of(k, v, x);
		for (int a = 0; a < 3; a++) {
			sum[q][a] += x[a];
			c[a] += x[a];
		}
		all++;
		cnt[q]++;
		lo[q] = fmin(lo[q], x[2]);
		hi[q] = fmax(hi[q], x[2]);
		marked[q] |= mk[v] != 0;
		if (depth[v] > depth[deepest[q]] || !pool[deepest[q]])
			deepest[q] = v;
	}
	for (int a = 0; a < 3; a++)
		c[a] /= all > 0 ? all : 1.0;
	for (size_t v = 0; v < k->n; v++) {
		int q = ((int16_t *)cc->data)[v];

		if (q > 0 && !marked[q]) {
			int tube = sum[q][1] / cnt[q] > c[1] + 20.0 && hi[q] - lo[q] > 40.0;

			if (!tube)
				pool[v] = 0;
			else if (v == deepest[q])
				mark(k, mk, v, 6, fmin(depth[v] * 0.5, 6.0));
		}
	}
	rc = 0;
out:
	twin_volume_free(cc);
	return rc;
}

/*
 * The deepest pool voxel (at least 4 mm deep) within NEAR_SEED_MM of x, not
 * below zmin, not marked yet, outside the balls of the seeds taken. -1 when there is none:
 * the structure is not found.
 */
static int near_seed(const struct work *k, const float *depth, const unsigned char *marked, const double x[3],
		     double zmin, const size_t *taken, size_t ntaken, size_t *v)
{
	const unsigned char *pool = k->pool->data;
	long c[3], rr = (long)ceil(NEAR_SEED_MM / k->sp);
	double best = -HUGE_VAL;

	for (int a = 0; a < 3; a++)
		c[a] = lround((x[a] - k->img->affine.m[a][3]) / k->sp);
	for (long dz = -rr; dz <= rr; dz++)
		for (long dy = -rr; dy <= rr; dy++)
			for (long dx = -rr; dx <= rr; dx++) {
				long i = c[0] + dx, j = c[1] + dy, z = c[2] + dz;
				double d = sqrt((double)(dx * dx + dy * dy + dz * dz)) * k->sp, y[3];
				size_t u;
				int ok = 1;

				if (i < 0 || j < 0 || z < 0 || i >= (long)k->nx || j >= (long)k->ny || z >= (long)k->nz ||
				    d > NEAR_SEED_MM)
					continue;
				u = at(k, (size_t)i, (size_t)j, (size_t)z);
				if (!pool[u] || marked[u] || depth[u] < 4.0 || depth[u] - 0.3 * d <= best)
					continue;
				world_of(k, u, y);
				if (y[2] < zmin)
					continue;
				for (size_t t = 0; t < ntaken && ok; t++) {
					double w[3], r = fmax(depth[taken[t]], 10.0), d2 = 0.0;

					world_of(k, taken[t], w);
					for (int a = 0; a < 3; a++)
						d2 += (y[a] - w[a]) * (y[a] - w[a]);
					ok = d2 > r * r;
				}
				if (ok) {
					best = depth[u] - 0.3 * d;
					*v = u;
				}
			}
	return best > -HUGE_VAL ? 0 : -1;
}

/* The automatic seeds placed, by label. */
struct placed {
	size_t v[8];
	int has[8];   /* an automatic seed of this label */
	int peak[8];  /* it is a peak, not a guess from the fit */
	int track[8]; /* a vessel followed through the slices */
	double r[8];  /* its marker's radius */
};

static double marker_radius(const struct work *k, double depth)
{
	return fmin(fmax(0.5 * depth, k->sp), 6.0);
}

/*
 * The highest peak in basin b of ws that is not the seed at v and lies at
 * least 10 mm above it; -1 when there is none.
 */
static int highest_in(const struct work *k, const unsigned char *ws, int b, size_t v, const struct peak *pk, int npk)
{
	double y[3];
	int best = -1;

	world_of(k, v, y);
	for (int q = 0; q < npk; q++)
		if (ws[pk[q].v] == b && pk[q].v != v && pk[q].x[2] > y[2] + 10.0 &&
		    (best < 0 || pk[q].x[2] > pk[best].x[2]))
			best = q;
	return best;
}

/*
 * The ascending aorta and the pulmonary trunk: round cross-sections of the
 * pool in the upper axial slices (a local maximum of the in-slice distance
 * whose circle, a little wider, lies mostly outside the pool),
 * linked from slice to slice downwards into tracks. Of the tracks in front
 * of the descending aorta, the widest near the middle is the ascending aorta,
 * unless a track almost as wide lies to its right and behind it: then that
 * one is the aorta and this the PA. The PA is a track left of the aorta, not
 * behind it, at least VESSEL_PA_RATIO as wide, or else the deepest blood in
 * front of the aorta and left of it (pa_beside). Each vessel's upper part
 * becomes markers. They replace the fit's seeds of the two arteries only
 * when the fit put both into one vessel.
 */
#define VESSEL_R_MM 7.0        /* a great vessel's cross-section is wider than this radius */
#define VESSEL_LEN_MM 12.0     /* and it keeps round this long */
#define VESSEL_PA_RATIO 0.7    /* the PA is at least this much of the aorta's radius, the SVC less */
#define VESSEL_MID_MM 30.0     /* the ascending aorta is this near the pool's middle; the SVC is further right */
#define MAX_RINGS 4096
#define MAX_TRACKS 256

struct ring {
	double c[2], r; /* centre (index units in the slice) and radius mm */
	size_t z;
	int track;
};

struct track {
	size_t top, bot, n, last;          /* slices; rings; the last ring */
	double x[3], r;                    /* mean world centre and radius */
};

/*
 * The in-slice distance of slices z0.. of the pool: its distance map with the
 * slices set far apart. A new volume of those slices, or NULL.
 */
static struct twin_volume *slice_distance(struct twin_err *err, const struct work *k, size_t z0)
{
	size_t size[3] = { k->nx, k->ny, k->nz - z0 }, off = z0 * k->nx * k->ny;
	struct twin_affine a = k->pool->affine;
	struct twin_volume *flat, *d;

	a.m[2][2] *= 1000.0;
	if (!(flat = twin_volume_new(err, TWIN_U8, size, &a)))
		return NULL;
	memcpy(flat->data, (const unsigned char *)k->pool->data + off, k->n - off);
	d = twin_itk_distance(err, flat);
	twin_volume_free(flat);
	return d;
}

/* Round: the circle 1.25 r + 1.5 mm around c lies outside the pool for at least 5/8 of it (a vessel may lean on another). */
static int is_round(const struct work *k, size_t z, const double c[2], double r)
{
	const unsigned char *pool = k->pool->data;
	double rr = (1.25 * r + 1.5) / k->sp;
	int out = 0;

	for (int a = 0; a < 32; a++) {
		long i = lround(c[0] + rr * cos(a * M_PI / 16.0)), j = lround(c[1] + rr * sin(a * M_PI / 16.0));

		out += i < 0 || j < 0 || i >= (long)k->nx || j >= (long)k->ny ||
		       !pool[at(k, (size_t)i, (size_t)j, z)];
	}
	return out >= 20;
}

/* The round cross-sections of slice z into rg (at most max); returns how many. d2: slice_distance from z0. */
static size_t slice_rings(const struct work *k, const float *d2, size_t z0, const unsigned char *tube, size_t z,
			  struct ring *rg, size_t max)
{
	size_t n = 0, off = z0 * k->nx * k->ny;

	for (size_t j = 1; j + 1 < k->ny; j++)
		for (size_t i = 1; i + 1 < k->nx; i++) {
			size_t v = at(k, i, j, z);
			double r = -d2[v - off], c[2] = { (double)i, (double)j };
			int top = 1;

			if (r < VESSEL_R_MM || tube[v])
				continue;
			/* a local maximum; of a plateau, the first voxel */
			for (int dj = -1; dj <= 1 && top; dj++)
				for (int di = -1; di <= 1 && top; di++) {
					size_t u = at(k, i + (size_t)di, j + (size_t)dj, z);

					if (u != v)
						top = u < v ? -d2[u - off] < r : -d2[u - off] <= r;
				}
			if (!top || !is_round(k, z, c, r))
				continue;
			/* not inside a wider ring already found */
			for (size_t q = 0; q < n && top; q++)
				top = hypot(rg[q].c[0] - c[0], rg[q].c[1] - c[1]) * k->sp > fmax(rg[q].r, r);
			if (!top || n == max)
				continue;
			rg[n].c[0] = c[0];
			rg[n].c[1] = c[1];
			rg[n].r = r;
			rg[n].z = z;
			rg[n++].track = -1;
		}
	return n;
}

/* Marks the rings of track t from its top down to keep of its length, as label, in m. */
static void mark_track(const struct work *k, const struct ring *rg, size_t nrg, const struct track *t, int id,
		       double keep, int label, unsigned char *m, unsigned char *tube, size_t *v)
{
	const unsigned char *pool = k->pool->data;
	double best = -1.0;
	size_t zlo = t->top - (size_t)((double)(t->top - t->bot) * keep);

	for (size_t q = 0; q < nrg; q++) {
		long rr;

		if (rg[q].track != id || rg[q].z < zlo)
			continue;
		rr = (long)(0.5 * rg[q].r / k->sp);
		for (long dj = -rr; dj <= rr; dj++)
			for (long di = -rr; di <= rr; di++) {
				long i = lround(rg[q].c[0]) + di, j = lround(rg[q].c[1]) + dj;
				size_t u;

				if (di * di + dj * dj > rr * rr || i < 0 || j < 0 || i >= (long)k->nx || j >= (long)k->ny)
					continue;
				u = at(k, (size_t)i, (size_t)j, rg[q].z);
				if (pool[u]) {
					m[u] = (unsigned char)label;
					tube[u] = 3;
				}
			}
		if (rg[q].r > best) {
			best = rg[q].r;
			*v = at(k, (size_t)lround(rg[q].c[0]), (size_t)lround(rg[q].c[1]), rg[q].z);
		}
	}
}



/*
 * The RA forms the right border of the heart. When the fit found no peak for
 * it, its seed goes to the deep blood furthest to the patient's right, in
 * front of the LA (behind it lie the right pulmonary veins), level with the
 * ventricles, well apart from the RV's seed and right of it.
 */
static void ra_right(const struct work *k, const float *depth, const unsigned char *tube, unsigned char *m,
		     struct placed *pl)
{
	const unsigned char *pool = k->pool->data;
	double lv[3], rv[3], la[3], best = -HUGE_VAL, bd = 0.0;
	size_t bv = 0;

	if (!pl->has[3] || !pl->has[5] || !pl->has[2])
		return;
	world_of(k, pl->v[3], lv);
	world_of(k, pl->v[5], rv);
	world_of(k, pl->v[2], la);
	for (size_t v = 0; v < k->n; v++) {
		double x[3];

		if (!pool[v] || tube[v] || m[v] || depth[v] < RA_DEPTH_MM)
			continue;
		world_of(k, v, x);
		if (x[2] < rv[2] - 10.0 || x[2] > rv[2] + 40.0 || x[0] > rv[0] - 5.0 || x[1] > la[1] - RA_FRONT_MM ||
		    hypot(hypot(x[0] - rv[0], x[1] - rv[1]), x[2] - rv[2]) < 25.0 || -x[0] + 0.5 * depth[v] <= best)
			continue;
		best = -x[0] + 0.5 * depth[v];
		bv = v;
		bd = depth[v];
	}
	if (best == -HUGE_VAL)
		return;
	if (pl->has[4])
		mark(k, m, pl->v[4], 0, pl->r[4]);
	pl->has[4] = 1;
	pl->v[4] = bv;
	pl->r[4] = marker_radius(k, bd);
	mark(k, m, bv, 4, pl->r[4]);
}

/*
 * When the watershed leaves the RA or the RV with less than a third of the
 * other, no narrowing split them: their union goes to the nearer, along the
 * blood (a breadth-first walk from both at once), of the RA's markers and
 * the middle of the RV's part. The RV's seed, the deepest point of a
 * crescent, lies near the tricuspid valve and would leave the RA little;
 * the midway surface stands for the tricuspid plane.
 */
static int split_right(struct twin_err *err, const struct work *k, const unsigned char *m, unsigned char *lab)
{
	size_t ra = 0, rv = 0, *queue = NULL, head = 0, tail = 0, centre = 0;
	unsigned char *seen = NULL;
	double mid[3] = { 0, 0, 0 }, best = HUGE_VAL;

	for (size_t v = 0; v < k->n; v++) {
		ra += lab[v] == 4;
		rv += lab[v] == 5;
	}
	if (!ra || !rv || (3 * ra >= rv && 3 * rv >= ra))
		return 0;
	queue = malloc(k->n * sizeof(*queue));
	seen = calloc(k->n, 1);
	if (!queue || !seen) {
		free(queue);
		free(seen);
		return twin_err_set(err, TWIN_EFAIL, "right heart: out of memory");
	}
	/* the RV's front starts from the middle of its part, not from its seed near the valve */
	for (size_t v = 0; v < k->n; v++)
		if (lab[v] == 5) {
			double x[3];

			world_of(k, v, x);
			for (int a = 0; a < 3; a++)
				mid[a] += x[a] / (double)rv;
		}
	for (size_t v = 0; v < k->n; v++)
		if (lab[v] == 5) {
			double x[3], d;

			world_of(k, v, x);
			d = hypot(hypot(x[0] - mid[0], x[1] - mid[1]), x[2] - mid[2]);
			if (d < best) {
				best = d;
				centre = v;
			}
		}
	for (size_t v = 0; v < k->n; v++)
		if ((lab[v] == 4 || lab[v] == 5) && (m[v] == 4 || v == centre)) {
			lab[v] = v == centre ? 5 : m[v];
			seen[v] = 1;
			queue[tail++] = v;
		}
	while (head < tail) {
		size_t v = queue[head++], nb[FACES];
		int nn = neighbours(k, v, nb);

		for (int q = 0; q < nn; q++)
			if (!seen[nb[q]] && (lab[nb[q]] == 4 || lab[nb[q]] == 5)) {
				seen[nb[q]] = 1;
				lab[nb[q]] = lab[v];
				queue[tail++] = nb[q];
			}
	}
	free(queue);
	free(seen);
	return 0;
}

/* Whether voxel v lies within the cylinder of track t (its mean centre and radius, its slices). */
static int in_track(const struct work *k, const struct track *t, size_t v)
{
	double x[3], z0 = k->img->affine.m[2][3];

	world_of(k, v, x);
	return hypot(x[0] - t->x[0], x[1] - t->x[1]) <= t->r && x[2] >= z0 + k->sp * (double)t->bot - 5.0 &&
	       x[2] <= z0 + k->sp * (double)t->top + 5.0;
}

/*
 * The PA trunk when it is not round (it wraps around the aorta): the deepest
 * blood in front of the ascending aorta t and left of it, beside it, between
 * 10 mm above the lower end of the track and its top. Replaces the PA's
 * seed in m and pl when there is such blood.
 */
static void pa_beside(const struct work *k, const struct track *t, const float *depth, const unsigned char *tube,
		      unsigned char *m, struct placed *pl)
{
	const unsigned char *pool = k->pool->data;
	double best = 4.0;
	size_t bv = 0, zlo = t->bot + (size_t)ceil(10.0 / k->sp);

	for (size_t z = zlo; z <= t->top; z++)
		for (size_t j = 0; j < k->ny; j++)
			for (size_t i = 0; i < k->nx; i++) {
				size_t v = at(k, i, j, z);
				double x[3], dx, dy;

				if (!pool[v] || tube[v] || depth[v] <= best || (m[v] && m[v] != 7))
					continue;
				world_of(k, v, x);
				dx = x[0] - t->x[0];
				dy = x[1] - t->x[1];
				if (dx < 0.5 * t->r || dy > 0.0 || hypot(dx, dy) < t->r + 3.0 || hypot(dx, dy) > 4.0 * t->r)
					continue;
				best = depth[v];
				bv = v;
			}
	if (best <= 4.0)
		return;
	if (pl->has[7])
		mark(k, m, pl->v[7], 0, pl->r[7]);
	pl->v[7] = bv;
	pl->has[7] = pl->peak[7] = pl->track[7] = 1;
	pl->r[7] = marker_radius(k, best);
	mark(k, m, bv, 7, pl->r[7]);
}

/*
 * Finds the ascending aorta and the PA trunk above the pool's centre; marks
 * them in m, and in tube, and sets pl (their seeds) for those found, unless
 * given. tube: the descending aorta already found, left alone.
 */
static int find_vessels(struct twin_err *err, const struct work *k, const double centre[3], unsigned char *tube,
			unsigned char *m, const float *depth, const int *given, struct placed *pl)
{
	struct twin_volume *d = NULL;
	struct ring *rg = malloc(MAX_RINGS * sizeof(*rg));
	struct track *tr = malloc(MAX_TRACKS * sizeof(*tr));
	size_t nrg = 0, ntr = 0, zc = (size_t)fmax(0.0, (centre[2] - k->img->affine.m[2][3]) / k->sp), ztop = 0;
	int ao = -1, pa = -1, rc = -1, confused = 0;
	const unsigned char *pool = k->pool->data;

	if (!rg || !tr) {
		twin_err_set(err, TWIN_EFAIL, "vessels: out of memory");
		goto out;
	}
	if (zc >= k->nz) {
		rc = 0;
		goto out;
	}
	if (!(d = slice_distance(err, k, zc)))
		goto out;
	for (size_t v = 0; v < k->n; v++)
		if (pool[v])
			ztop = v / (k->nx * k->ny);
	for (size_t z = ztop + 1; z-- > zc && nrg < MAX_RINGS;) {
		size_t n0 = nrg;

		nrg += slice_rings(k, d->data, zc, tube, z, rg + nrg, MAX_RINGS - nrg);
		/* each ring continues the nearest track of a like ring one or two slices up, or starts one */
		for (size_t q = n0; q < nrg; q++) {
			double best = HUGE_VAL;
			int bt = -1;

			for (size_t t = 0; t < ntr; t++) {
				const struct ring *l = &rg[tr[t].last];
				double dc = hypot(l->c[0] - rg[q].c[0], l->c[1] - rg[q].c[1]) * k->sp;

				if (l->z > z + 3 || l->z == z || dc > fmax(4.0, 0.4 * l->r) ||
				    rg[q].r > 1.4 * l->r || rg[q].r < 0.7 * l->r || dc >= best)
					continue;
				best = dc;
				bt = (int)t;
			}
			if (bt < 0 && ntr < MAX_TRACKS) {
				bt = (int)ntr++;
				memset(&tr[bt], 0, sizeof(tr[bt]));
				tr[bt].top = z;
			}
			if (bt < 0)
				continue;
			rg[q].track = bt;
			tr[bt].last = q;
			tr[bt].bot = z;
			tr[bt].n++;
			tr[bt].r += rg[q].r;
			tr[bt].x[0] += k->img->affine.m[0][3] + k->sp * rg[q].c[0];
			tr[bt].x[1] += k->img->affine.m[1][3] + k->sp * rg[q].c[1];
			tr[bt].x[2] += k->img->affine.m[2][3] + k->sp * (double)z;
		}
	}
	for (size_t t = 0; t < ntr; t++) {
		for (int a = 0; a < 3; a++)
			tr[t].x[a] /= (double)tr[t].n;
		tr[t].r /= (double)tr[t].n;
	}
	/* the fit's arterial seeds stand unless both lie in one vessel */
	for (size_t t = 0; t < ntr && pl->has[6] && pl->has[7]; t++)
		confused |= (double)tr[t].n * k->sp >= VESSEL_LEN_MM && in_track(k, &tr[t], pl->v[6]) &&
			    in_track(k, &tr[t], pl->v[7]);
	if (pl->has[6] && pl->has[7] && !confused)
		ntr = 0;
	/* the ascending aorta: the widest track in front of the descending one */
	for (size_t t = 0; t < ntr; t++)
		if ((double)tr[t].n * k->sp >= VESSEL_LEN_MM && tr[t].x[1] < centre[1] + 15.0 &&
		    fabs(tr[t].x[0] - centre[0]) <= VESSEL_MID_MM && (ao < 0 || tr[t].r > tr[ao].r))
			ao = (int)t;
	/* a track almost as wide to its right and behind it: that is the aorta, this the PA */
	for (size_t t = 0; ao >= 0 && t < ntr; t++)
		if ((int)t != ao && (double)tr[t].n * k->sp >= VESSEL_LEN_MM && tr[t].r >= 0.8 * tr[ao].r &&
		    tr[t].x[0] < tr[ao].x[0] - 8.0 && tr[t].x[1] > tr[ao].x[1] && tr[t].x[1] < centre[1] + 15.0) {
			pa = ao;
			ao = (int)t;
			break;
		}
	/* the PA: left of the aorta, not behind it, not much narrower */
	for (size_t t = 0; ao >= 0 && pa < 0 && t < ntr; t++)
		if ((int)t != ao && (double)tr[t].n * k->sp >= VESSEL_LEN_MM && tr[t].r >= VESSEL_PA_RATIO * tr[ao].r &&
		    tr[t].x[0] > tr[ao].x[0] + 8.0 && tr[t].x[1] < tr[ao].x[1] + 10.0 &&
		    (pa < 0 || tr[t].r > tr[pa].r))
			pa = (int)t;
	if (ao >= 0 && !given[6]) {
		if (pl->has[6])
			mark(k, m, pl->v[6], 0, pl->r[6]);
		mark_track(k, rg, nrg, &tr[ao], ao, 0.7, 6, m, tube, &pl->v[6]);
		pl->has[6] = pl->peak[6] = pl->track[6] = 1;
		pl->r[6] = marker_radius(k, tr[ao].r);
	}
	if (ao >= 0 && pa < 0 && !given[7])
		pa_beside(k, &tr[ao], depth, tube, m, pl);
	if (pa >= 0 && !given[7]) {
		if (pl->has[7])
			mark(k, m, pl->v[7], 0, pl->r[7]);
		mark_track(k, rg, nrg, &tr[pa], pa, 0.6, 7, m, tube, &pl->v[7]);
		pl->has[7] = pl->peak[7] = pl->track[7] = 1;
		pl->r[7] = marker_radius(k, tr[pa].r);
	}
	rc = 0;
out:
	twin_volume_free(d);
	free(rg);
	free(tr);
	return rc;
}

/*
 * The aorta opens from the LV and the PA from the RV: flooded from the four
 * chambers alone, an artery's seed lies in the basin of its ventricle. A PA
 * seed in the LV's basin is the aorta (and the other way round); the artery
 * left without a seed takes the highest peak of its ventricle's basin. An
 * artery without any seed takes the deepest blood of its ventricle's basin
 * ARTERY_RISE_MM above the ventricle's seed.
 */
static int check_arteries(struct twin_err *err, const struct work *k, const struct twin_volume *relief,
			  unsigned char *m, struct placed *pl, const struct peak *pk, int npk)
{
	struct twin_volume *mk = NULL, *ws = NULL;
	const unsigned char *w;
	int swap = 0, rc = -1;

	if (!pl->has[3] || !pl->has[5])
		return 0;
	if (!(mk = mask_like(err, k)))
		goto out;
	for (size_t v = 0; v < k->n; v++)
		((unsigned char *)mk->data)[v] = m[v] >= 2 && m[v] <= 5 ? m[v] : 0;
	if (!(ws = twin_itk_watershed(err, relief, mk)))
		goto out;
	w = ws->data;
	/* an artery without a seed: the deepest blood of its ventricle's basin well above it */
	for (int art = 6; art <= 7; art++) {
		int vent = art == 6 ? 3 : 5;
		const float *rel = relief->data;
		double y[3], best = -4.0;
		size_t bv = 0;

		if (pl->has[art])
			continue;
		world_of(k, pl->v[vent], y);
		for (size_t v = 0; v < k->n; v++) {
			double x[3];

			if (w[v] != vent || rel[v] >= best || !((unsigned char *)k->pool->data)[v])
				continue;
			world_of(k, v, x);
			if (x[2] >= y[2] + ARTERY_RISE_MM) {
				best = rel[v];
				bv = v;
			}
		}
		if (best < -4.0) {
			mark(k, m, bv, art, marker_radius(k, -best));
			pl->v[art] = bv;
			pl->has[art] = 1;
			pl->r[art] = marker_radius(k, -best);
		}
	}
	if (!pl->has[6] || !pl->has[7] || (pl->track[6] && pl->track[7]))
		swap = 0;
	else if (w[pl->v[7]] == 3 && (w[pl->v[6]] != 3 || !pl->peak[6]))
		swap = 7; /* the PA's seed is the aorta */
	else if (w[pl->v[6]] == 5 && (w[pl->v[7]] != 5 || !pl->peak[7]))
		swap = 6; /* the aorta's seed is the PA */
	if (swap) {
		int other = swap == 7 ? 6 : 7, vent = swap == 7 ? 5 : 3, q;

		mark(k, m, pl->v[other], 0, pl->r[other]);
		mark(k, m, pl->v[swap], other, pl->r[swap]);
		q = highest_in(k, w, vent, pl->v[vent], pk, npk);
		if (q >= 0)
			mark(k, m, pk[q].v, swap, marker_radius(k, pk[q].depth));
	}
	rc = 0;
out:
	twin_volume_free(mk);
	twin_volume_free(ws);
	return rc;
}

static int split_pool(struct twin_err *err, struct work *k, const struct twin_volume *img,
		      const struct twin_heart_opts *opts, struct twin_heart_report *rep)
{
	struct twin_volume *d = NULL, *mk = NULL, *tubes = NULL;
	unsigned char *pool = k->pool->data, *m;
	float *depth;
	size_t taken[64 + NANATOMY], ntaken = 0;
	struct peak pk[MAX_PEAKS];
	struct fit f;
	struct placed pl;
	double c[3] = { 0, 0, 0 }, cnt = 0.0, scale, want[NANATOMY][3], zmin;
	int npk, which[NANATOMY], given[8] = { 0 };
	int rc = -1;

	if (!(d = twin_itk_distance(err, k->pool)) || !(mk = mask_like(err, k)))
		goto out;
	depth = d->data;
	for (size_t v = 0; v < k->n; v++)
		depth[v] = -depth[v];
	m = mk->data;
	for (size_t v = 0; v < k->n; v++) {
		double x[3];

		if (!pool[v])
			continue;
		world_of(k, v, x);
		for (int a = 0; a < 3; a++)
			c[a] += x[a];
		cnt++;
	}
	for (int a = 0; a < 3; a++)
		rep->centre[a] = c[a] /= cnt;
	scale = fmin(fmax(cbrt(cnt * k->vox_ml / 650.0), 0.7), 1.4);
	/* given seeds first: they win over the automatic ones */
	for (size_t s = 0; s < opts->nseeds; s++) {
		size_t v = 0;

		if (place_seed(err, k, img, depth, &opts->seeds[s], &v) != 0)
			goto out;
		mark(k, m, v, opts->seeds[s].label, fmin(fmax(0.5 * depth[v], k->sp), 6.0));
		if (ntaken < sizeof(taken) / sizeof(taken[0]))
			taken[ntaken++] = v;
	}
	/* automatic seeds: the great vessels first, then the peaks of the depth that best fit the anatomy */
	for (size_t g = 0; g < opts->nseeds; g++)
		given[opts->seeds[g].label] = 1;
	memset(&pl, 0, sizeof(pl));
	if (!(tubes = mask_like(err, k)) || find_aorta(err, k, c, tubes->data, m) != 0)
		goto out;
	npk = find_peaks(err, k, depth, tubes->data, taken, ntaken, pk);
	if (npk < 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.pk = pk;
	f.npk = npk;
	f.want = (const double (*)[3])want;
	f.label = which;
	f.best_cost = HUGE_VAL;
	for (size_t s = 0; s < NANATOMY; s++) {
		if (given[anatomy[s].label])
			continue;
		for (int a = 0; a < 3; a++)
			want[f.nwant][a] = scale * anatomy[s].at[a];
		which[f.nwant++] = anatomy[s].label;
	}
	fit_search(&f, 0);
	for (int s = 0; s < f.nwant; s++) {
		size_t v;

		if (f.best[s] < 0)
			continue;
		v = pk[f.best[s]].v;
		mark(k, m, v, which[s], marker_radius(k, depth[v]));
		taken[ntaken++] = v;
		pl.v[which[s]] = v;
		pl.has[which[s]] = pl.peak[which[s]] = 1;
		pl.r[which[s]] = marker_radius(k, depth[v]);
	}
	/* a structure without a peak of its own: the deepest blood where the fit puts it */
	for (int s = 0; s < f.nwant; s++) {
		double x[3];
		size_t v = 0;

		if (f.best[s] >= 0)
			continue;
		for (int a = 0; a < 3; a++)
			x[a] = f.at[a] + f.scale * (f.want[s][a] - f.from[a]);
		/* an artery leaves its ventricle upward: not level with the ventricles */
		zmin = -HUGE_VAL;
		for (int vent = 3; (which[s] == 6 || which[s] == 7) && vent <= 5; vent += 2)
			if (pl.has[vent]) {
				double y[3];

				world_of(k, pl.v[vent], y);
				zmin = fmax(zmin, y[2] + ARTERY_RISE_MM);
			}
		if (near_seed(k, depth, m, x, zmin, taken, ntaken, &v) == 0) {
			mark(k, m, v, which[s], marker_radius(k, depth[v]));
			taken[ntaken++] = v;
			pl.v[which[s]] = v;
			pl.has[which[s]] = 1;
			pl.r[which[s]] = marker_radius(k, depth[v]);
		}
	}
	if (find_vessels(err, k, c, tubes->data, m, depth, given, &pl) != 0)
		goto out;
	if (!given[4] && !pl.peak[4])
		ra_right(k, depth, tubes->data, m, &pl);
	if (orphans(err, k, m, depth) != 0)
		goto out;
	/* the relief: the signed distance, low in the middle of each chamber */
	for (size_t v = 0; v < k->n; v++)
		depth[v] = -depth[v];
	if (check_arteries(err, k, d, m, &pl, pk, npk) != 0 || !(k->lab = twin_itk_watershed(err, d, mk)))
		goto out;
	for (size_t v = 0; v < k->n; v++)
		if (!pool[v])
			((unsigned char *)k->lab->data)[v] = 0;
	if (split_right(err, k, m, k->lab->data) != 0)
		goto out;
	rc = 0;
out:
	twin_volume_free(d);
	twin_volume_free(mk);
	twin_volume_free(tubes);
	return rc;
}

/* ---- the LV wall, clean-up ------------------------------------------------------ */

static struct twin_volume *label_mask(struct twin_err *err, const struct work *k, unsigned bits)
{
	struct twin_volume *m = mask_like(err, k);
	const unsigned char *l = k->lab->data;

	if (!m)
		return NULL;
	for (size_t v = 0; v < k->n; v++)
		((unsigned char *)m->data)[v] = (bits >> l[v] & 1) != 0;
	return m;
}

static int find_wall(struct twin_err *err, struct work *k)
{
	struct twin_volume *lv = NULL, *other = NULL, *dlv = NULL, *dother = NULL;
	unsigned char *l = k->lab->data;
	const float *a, *b;
	int rc = -1;

	if (!(lv = label_mask(err, k, 1u << 3)) || !(other = label_mask(err, k, 1u << 2 | 1u << 4 | 1u << 6 | 1u << 7)))
		goto out;
	if (!(dlv = twin_itk_distance(err, lv)) || !(dother = twin_itk_distance(err, other)))
		goto out;
	a = dlv->data;
	b = dother->data;
	for (size_t v = 0; v < k->n; v++)
		if (!l[v] && a[v] > 0.0f && a[v] <= WALL_MM && a[v] <= b[v] && k->w[v] >= k->wall_lo &&
		    k->w[v] < k->wall_hi)
			l[v] = 1;
	rc = 0;
out:
	twin_volume_free(lv);
	twin_volume_free(other);
	twin_volume_free(dlv);
	twin_volume_free(dother);
	return rc;
}

/* One component per label (a vessel may have more), holes filled where nothing else is. */
static int clean_up(struct twin_err *err, struct work *k)
{
	unsigned char *l = k->lab->data;

	for (int id = 1; id <= 7; id++) {
		struct twin_volume *m = label_mask(err, k, 1u << id), *cc = NULL;
		size_t ncc = 0, size[9] = { 0 };

		if (!m)
			return -1;
		if (!(cc = twin_itk_components(err, m, 8, &ncc))) {
			twin_volume_free(m);
			return -1;
		}
		for (size_t v = 0; v < k->n; v++)
			size[((int16_t *)cc->data)[v]]++;
		for (size_t v = 0; v < k->n; v++) {
			/* a vessel cut by the image's edge may come in pieces: the ascending and descending aorta */
			int c = ((int16_t *)cc->data)[v], keep = c == 1 || (c > 1 && (id == 6 || id == 7) && (double)size[c] * k->vox_ml >= 2.0 &&
					      size[c] * 10 >= size[1]);

			if (l[v] == id && !keep)
				l[v] = 0;
			((unsigned char *)m->data)[v] = keep;
		}
		twin_volume_free(cc);
		if (twin_itk_fill_holes(err, m) != 0) {
			twin_volume_free(m);
			return -1;
		}
		for (size_t v = 0; v < k->n; v++)
			if (((unsigned char *)m->data)[v] && !l[v])
				l[v] = (unsigned char)id;
		twin_volume_free(m);
	}
	return 0;
}

/* Each structure must be there, with at least a few mL. */
static int check_found(struct twin_err *err, const struct work *k, const struct twin_heart_opts *opts,
		       struct twin_heart_report *rep)
{
	double ml[8] = { 0 };
	const unsigned char *l = k->lab->data;
	char msg[512] = "";
	size_t len = 0;

	for (size_t v = 0; v < k->n; v++)
		ml[l[v]] += k->vox_ml;
	for (int id = 1; id <= 7; id++) {
		double need = id == 1 || id == 3 ? 20.0 : 5.0;

		if (ml[id] >= need)
			continue;
		len += (size_t)snprintf(msg + len, len < sizeof(msg) ? sizeof(msg) - len : 0, "%s%s (%.1f mL, want %.0f)",
					len ? ", " : "", twin_label_by_id(id)->display, ml[id], need);
		if (len >= sizeof(msg))
			len = sizeof(msg) - 1;
	}
	if (!len)
		return 0;
	if (opts->partial) {
		snprintf(rep->missing, sizeof(rep->missing), "%s", msg);
		return 0;
	}
	return twin_err_set(err, TWIN_EINPUT, "structure not found: %s; %s", msg,
			    ml[1] < 20.0 && ml[3] >= 20.0 ? "no myocardial shell around the left ventricle"
			    : k->cut ? "the heart is cut by the image's first or last slice"
			    : "the blood pool did not split into it (give a seed with --seeds)");
}

/* ---- the whole ------------------------------------------------------------------- */

#define STEPS 8

struct twin_volume *twin_heart_segment(struct twin_err *err, const struct twin_volume *img,
				       const struct twin_heart_opts *opts, struct twin_heart_report *rep)
{
	struct work k;
	struct twin_volume *out = NULL;
	size_t n = 0;
	double lo = 0.0, hi = 0.0;

	memset(&k, 0, sizeof(k));
	memset(rep, 0, sizeof(*rep));
	for (size_t s = 0; s < opts->nseeds; s++)
		if (opts->seeds[s].label < 2 || opts->seeds[s].label > 7) {
			twin_err_set(err, TWIN_EINPUT, "seed %s: label %d is not a blood pool (2..7); the LV "
				     "wall grows from the LV", opts->seeds[s].where, opts->seeds[s].label);
			return NULL;
		}
	rep->is_ct = quantile(img, 0.01) < -500.0;
	if (make_grid(err, &k, img, opts->spacing, quantile(img, 0.0)) != 0)
		goto out;
	for (unsigned step = 0; step < STEPS; step++) {
		int rc = 0;

		switch (step) {
		case 0: rc = twin_itk_smooth(err, k.img, 0.8 * k.sp); break;
		case 1: rc = find_mediastinum(err, &k, rep); break;
		case 2: rc = find_pool(err, &k, rep); break;
		case 3: rc = crop(err, &k); break;
		case 4: rc = split_pool(err, &k, img, opts, rep); break;
		case 5: rc = find_wall(err, &k); break;
		case 6: rc = clean_up(err, &k); break;
		default: rc = check_found(err, &k, opts, rep); break;
		}
		if (rc != 0)
			goto out;
		if (opts->progress)
			opts->progress(opts->ctx, step + 1, STEPS);
	}
	for (size_t v = 0; v < k.n; v++)
		if (((unsigned char *)k.lab->data)[v] == 1) {
			rep->wall_mean += k.w[v];
			n++;
		}
	rep->wall_mean = n ? rep->wall_mean / (double)n : rep->t_wall;
	lo = rep->is_ct ? fmin(rep->wall_mean, 0.0) - 250.0 : 0.0;
	hi = rep->blood_mean + (rep->blood_mean - rep->wall_mean) * 0.8;
	rep->window[0] = lo;
	rep->window[1] = hi > lo ? hi : lo + 1.0;
	out = twin_volume_resample(err, k.lab, img->dim, &img->affine, TWIN_NEAREST, 0.0);
out:
	twin_volume_free(k.img);
	twin_volume_free(k.pool);
	twin_volume_free(k.lab);
	twin_volume_free(k.med);
	return out;
}

double twin_heart_dice(const struct twin_volume *a, const struct twin_volume *b, int id)
{
	size_t n = twin_volume_count(a), both = 0, na = 0, nb = 0;

	for (size_t i = 0; i < n; i++) {
		int x = (int)twin_volume_get(a, i % a->dim[0], (i / a->dim[0]) % a->dim[1], i / (a->dim[0] * a->dim[1]));
		int y = (int)twin_volume_get(b, i % b->dim[0], (i / b->dim[0]) % b->dim[1], i / (b->dim[0] * b->dim[1]));

		na += x == id;
		nb += y == id;
		both += x == id && y == id;
	}
	return na + nb ? 2.0 * (double)both / (double)(na + nb) : 1.0;
}
