#include "volume.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t twin_dtype_size(enum twin_dtype dtype)
{
	switch (dtype) {
	case TWIN_U8: return 1;
	case TWIN_I16: return 2;
	case TWIN_F32: return 4;
	}
	return 0;
}

const char *twin_dtype_name(enum twin_dtype dtype)
{
	switch (dtype) {
	case TWIN_U8: return "uint8";
	case TWIN_I16: return "int16";
	case TWIN_F32: return "float32";
	}
	return "unknown";
}

/* --- affines ------------------------------------------------------------- */

void twin_affine_identity(struct twin_affine *a)
{
	memset(a, 0, sizeof(*a));
	for (int r = 0; r < 4; r++)
		a->m[r][r] = 1.0;
}

void twin_affine_mul(struct twin_affine *out, const struct twin_affine *a, const struct twin_affine *b)
{
	struct twin_affine t;

	for (int r = 0; r < 4; r++)
		for (int c = 0; c < 4; c++) {
			double s = 0.0;
			for (int k = 0; k < 4; k++)
				s += a->m[r][k] * b->m[k][c];
			t.m[r][c] = s;
		}
	*out = t;
}

static double det3(const struct twin_affine *a)
{
	const double (*m)[4] = a->m;

	return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
	     - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
	     + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/*
 * Singular when the determinant is tiny next to the product of the column
 * lengths (a scale-free test), or when an entry is not finite.
 */
static int affine_is_singular(const struct twin_affine *a)
{
	double norms = 1.0;

	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 4; c++)
			if (!isfinite(a->m[r][c]))
				return 1;
	for (int c = 0; c < 3; c++)
		norms *= sqrt(a->m[0][c] * a->m[0][c] + a->m[1][c] * a->m[1][c] + a->m[2][c] * a->m[2][c]);
	return !(norms > 0.0) || !(fabs(det3(a)) > 1e-9 * norms);
}

int twin_affine_invert(struct twin_err *err, struct twin_affine *out, const struct twin_affine *a)
{
	const double (*m)[4] = a->m;
	struct twin_affine t;
	double d;

	if (affine_is_singular(a))
		return twin_err_set(err, TWIN_EINPUT, "affine is singular (determinant %g)", det3(a));
	d = det3(a);
	t.m[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / d;
	t.m[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / d;
	t.m[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / d;
	t.m[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / d;
	t.m[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / d;
	t.m[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / d;
	t.m[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / d;
	t.m[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / d;
	t.m[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / d;
	for (int r = 0; r < 3; r++)
		t.m[r][3] = -(t.m[r][0] * m[0][3] + t.m[r][1] * m[1][3] + t.m[r][2] * m[2][3]);
	t.m[3][0] = t.m[3][1] = t.m[3][2] = 0.0;
	t.m[3][3] = 1.0;
	*out = t;
	return 0;
}

static void affine_apply(const struct twin_affine *a, const double in[3], double out[3])
{
	for (int r = 0; r < 3; r++)
		out[r] = a->m[r][0] * in[0] + a->m[r][1] * in[1] + a->m[r][2] * in[2] + a->m[r][3];
}

double twin_affine_corner_distance(const struct twin_affine *a, const struct twin_affine *b, const size_t dim[3])
{
	double worst = 0.0;

	for (int c = 0; c < 8; c++) {
		double ijk[3], pa[3], pb[3], d2 = 0.0;

		for (int ax = 0; ax < 3; ax++)
			ijk[ax] = (c >> ax & 1) && dim[ax] > 0 ? (double)(dim[ax] - 1) : 0.0;
		affine_apply(a, ijk, pa);
		affine_apply(b, ijk, pb);
		for (int ax = 0; ax < 3; ax++)
			d2 += (pa[ax] - pb[ax]) * (pa[ax] - pb[ax]);
		/* NaN must not look like a match. */
		if (!(sqrt(d2) <= worst))
			worst = sqrt(d2);
	}
	return worst;
}

/* --- volumes ------------------------------------------------------------- */

struct twin_volume *twin_volume_new(struct twin_err *err, enum twin_dtype dtype,
				    const size_t dim[3], const struct twin_affine *affine)
{
	size_t size = twin_dtype_size(dtype), n = 1;
	struct twin_volume *v = NULL;

	if (!size) {
		twin_err_set(err, TWIN_EFAIL, "unknown voxel type %d", (int)dtype);
		return NULL;
	}
	for (int ax = 0; ax < 3; ax++) {
		if (dim[ax] < 1) {
			twin_err_set(err, TWIN_EINPUT, "bad dimensions %zux%zux%zu: each must be at least 1",
				     dim[0], dim[1], dim[2]);
			return NULL;
		}
		if (n > SIZE_MAX / size / dim[ax]) {
			twin_err_set(err, TWIN_EINPUT, "dimensions %zux%zux%zu are too large",
				     dim[0], dim[1], dim[2]);
			return NULL;
		}
		n *= dim[ax];
	}
	if (affine_is_singular(affine)) {
		twin_err_set(err, TWIN_EINPUT, "affine is singular (determinant %g)", det3(affine));
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v)
		v->data = calloc(n, size);
	if (!v || !v->data) {
		twin_volume_free(v);
		twin_err_set(err, TWIN_EFAIL, "out of memory for a %zux%zux%zu %s volume",
			     dim[0], dim[1], dim[2], twin_dtype_name(dtype));
		return NULL;
	}
	v->dtype = dtype;
	memcpy(v->dim, dim, sizeof(v->dim));
	v->affine = *affine;
	v->affine.m[3][0] = v->affine.m[3][1] = v->affine.m[3][2] = 0.0;
	v->affine.m[3][3] = 1.0;
	return v;
}

void twin_volume_free(struct twin_volume *v)
{
	if (!v)
		return;
	free(v->data);
	free(v);
}

size_t twin_volume_count(const struct twin_volume *v)
{
	return v->dim[0] * v->dim[1] * v->dim[2];
}

size_t twin_volume_bytes(const struct twin_volume *v)
{
	return twin_volume_count(v) * twin_dtype_size(v->dtype);
}

static inline double load(const void *data, enum twin_dtype dtype, size_t idx)
{
	switch (dtype) {
	case TWIN_U8: return ((const uint8_t *)data)[idx];
	case TWIN_I16: return ((const int16_t *)data)[idx];
	case TWIN_F32: return ((const float *)data)[idx];
	}
	return 0.0;
}

/* Rounds half away from zero and clamps to the dtype; NaN becomes 0 for integers. */
static inline void store(void *data, enum twin_dtype dtype, size_t idx, double value)
{
	switch (dtype) {
	case TWIN_U8:
		value = value >= 255.0 ? 255.0 : value > 0.0 ? floor(value + 0.5) : 0.0;
		((uint8_t *)data)[idx] = (uint8_t)value;
		break;
	case TWIN_I16:
		if (isnan(value))
			value = 0.0;
		value = value >= 32767.0 ? 32767.0 : value <= -32768.0 ? -32768.0 : round(value);
		((int16_t *)data)[idx] = (int16_t)value;
		break;
	case TWIN_F32:
		((float *)data)[idx] = (float)value;
		break;
	}
}

double twin_volume_get(const struct twin_volume *v, size_t i, size_t j, size_t k)
{
	return load(v->data, v->dtype, i + v->dim[0] * (j + v->dim[1] * k));
}

void twin_volume_set(struct twin_volume *v, size_t i, size_t j, size_t k, double value)
{
	store(v->data, v->dtype, i + v->dim[0] * (j + v->dim[1] * k), value);
}

void twin_volume_index_to_world(const struct twin_volume *v, const double ijk[3], double xyz[3])
{
	affine_apply(&v->affine, ijk, xyz);
}

void twin_volume_world_to_index(const struct twin_volume *v, const double xyz[3], double ijk[3])
{
	struct twin_affine inv;

	/* A volume's affine is never singular (twin_volume_new checks it). */
	if (twin_affine_invert(NULL, &inv, &v->affine) != 0) {
		ijk[0] = ijk[1] = ijk[2] = NAN;
		return;
	}
	affine_apply(&inv, xyz, ijk);
}

void twin_volume_spacing(const struct twin_volume *v, double spacing[3])
{
	for (int c = 0; c < 3; c++)
		spacing[c] = sqrt(v->affine.m[0][c] * v->affine.m[0][c] + v->affine.m[1][c] * v->affine.m[1][c]
				  + v->affine.m[2][c] * v->affine.m[2][c]);
}

void twin_volume_direction(const struct twin_volume *v, double dir[3][3])
{
	double s[3];

	twin_volume_spacing(v, s);
	for (int c = 0; c < 3; c++)
		for (int r = 0; r < 3; r++)
			dir[c][r] = s[c] > 0.0 ? v->affine.m[r][c] / s[c] : 0.0;
}

struct twin_volume *twin_volume_crop(struct twin_err *err, const struct twin_volume *v,
				     const size_t lo[3], const size_t size[3])
{
	struct twin_affine a = v->affine;
	struct twin_volume *out = NULL;
	size_t es = twin_dtype_size(v->dtype);

	for (int ax = 0; ax < 3; ax++)
		if (size[ax] < 1 || lo[ax] >= v->dim[ax] || size[ax] > v->dim[ax] - lo[ax]) {
			twin_err_set(err, TWIN_EINPUT,
				     "crop box [%zu,%zu,%zu]+[%zu,%zu,%zu] is not inside the %zux%zux%zu volume",
				     lo[0], lo[1], lo[2], size[0], size[1], size[2],
				     v->dim[0], v->dim[1], v->dim[2]);
			return NULL;
		}
	for (int r = 0; r < 3; r++)
		a.m[r][3] += a.m[r][0] * (double)lo[0] + a.m[r][1] * (double)lo[1] + a.m[r][2] * (double)lo[2];
	out = twin_volume_new(err, v->dtype, size, &a);
	if (!out)
		return NULL;
	for (size_t k = 0; k < size[2]; k++)
		for (size_t j = 0; j < size[1]; j++) {
			size_t src = lo[0] + v->dim[0] * (lo[1] + j + v->dim[1] * (lo[2] + k));
			size_t dst = size[0] * (j + size[1] * k);
			memcpy((char *)out->data + dst * es, (const char *)v->data + src * es, size[0] * es);
		}
	return out;
}

/* --- resampling ---------------------------------------------------------- */

struct resample_job {
	const struct twin_volume *src;
	struct twin_volume *dst;
	struct twin_affine t;   /* target index -> source continuous index */
	enum twin_interp interp;
	double outside;
	size_t k_next;          /* next target slice to do, under lock */
	pthread_mutex_t lock;
};

/* A fraction this close to a voxel centre snaps onto it, so that grids that line up copy exactly. */
#define SNAP 1e-6

static inline double lerp(double a, double b, double f)
{
	return f == 0.0 ? a : a + f * (b - a);
}

/*
 * One target row. dtype is passed as a constant by resample_row so that the
 * compiler specialises the loads; the source index steps by the first column
 * of t from the row start p0. Indexes come from casts, not floor(): inside the
 * range checks every coordinate is > -1, and floor() is a libm call on x86-64.
 */
static inline __attribute__((always_inline)) void
row_generic(const struct resample_job *job, enum twin_dtype dtype, const double p0[3], size_t drow)
{
	const struct twin_volume *s = job->src;
	const double d[3] = { job->t.m[0][0], job->t.m[1][0], job->t.m[2][0] };
	const double lim[3] = { (double)s->dim[0] - 0.5, (double)s->dim[1] - 0.5, (double)s->dim[2] - 0.5 };
	const size_t last[3] = { s->dim[0] - 1, s->dim[1] - 1, s->dim[2] - 1 };
	const size_t sx = s->dim[0], sxy = s->dim[0] * s->dim[1];
	const void *src = s->data;
	void *dst = job->dst->data;
	const double none = job->interp == TWIN_NEAREST ? 0.0 : job->outside;
	size_t nx = job->dst->dim[0];

	for (size_t i = 0; i < nx; i++) {
		double p[3];

		for (int ax = 0; ax < 3; ax++)
			p[ax] = p0[ax] + (double)i * d[ax];
		if (!(p[0] >= -0.5 && p[0] < lim[0] && p[1] >= -0.5 && p[1] < lim[1] && p[2] >= -0.5 && p[2] < lim[2])) {
			store(dst, dtype, drow + i, none);
			continue;
		}
		if (job->interp == TWIN_NEAREST) {
			size_t n[3];

			for (int ax = 0; ax < 3; ax++) {
				n[ax] = (size_t)(p[ax] + 0.5);
				n[ax] = n[ax] > last[ax] ? last[ax] : n[ax];
			}
			store(dst, dtype, drow + i, load(src, dtype, n[0] + sx * n[1] + sxy * n[2]));
		} else {
			size_t i0[3], i1[3];
			double f[3], c00, c10, c01, c11;

			/* Inside the outer half voxel the edge value is held. */
			for (int ax = 0; ax < 3; ax++) {
				double q = p[ax] < 0.0 ? 0.0 : p[ax] > (double)last[ax] ? (double)last[ax] : p[ax];

				i0[ax] = (size_t)q;
				f[ax] = q - (double)i0[ax];
				if (f[ax] < SNAP) {
					f[ax] = 0.0;
				} else if (f[ax] > 1.0 - SNAP) {
					f[ax] = 0.0;
					i0[ax]++;
				}
				i1[ax] = i0[ax] < last[ax] ? i0[ax] + 1 : i0[ax];
			}
			{
				size_t x0 = i0[0], x1 = i1[0], y0 = sx * i0[1], y1 = sx * i1[1];
				size_t z0 = sxy * i0[2], z1 = sxy * i1[2];

				c00 = lerp(load(src, dtype, x0 + y0 + z0), load(src, dtype, x1 + y0 + z0), f[0]);
				c10 = lerp(load(src, dtype, x0 + y1 + z0), load(src, dtype, x1 + y1 + z0), f[0]);
				c01 = lerp(load(src, dtype, x0 + y0 + z1), load(src, dtype, x1 + y0 + z1), f[0]);
				c11 = lerp(load(src, dtype, x0 + y1 + z1), load(src, dtype, x1 + y1 + z1), f[0]);
			}
			store(dst, dtype, drow + i, lerp(lerp(c00, c10, f[1]), lerp(c01, c11, f[1]), f[2]));
		}
	}
}

static void resample_row(const struct resample_job *job, const double p0[3], size_t drow)
{
	switch (job->src->dtype) {
	case TWIN_U8: row_generic(job, TWIN_U8, p0, drow); break;
	case TWIN_I16: row_generic(job, TWIN_I16, p0, drow); break;
	case TWIN_F32: row_generic(job, TWIN_F32, p0, drow); break;
	}
}

static void *resample_worker(void *arg)
{
	struct resample_job *job = arg;
	const size_t *dim = job->dst->dim;

	for (;;) {
		size_t k;

		pthread_mutex_lock(&job->lock);
		k = job->k_next++;
		pthread_mutex_unlock(&job->lock);
		if (k >= dim[2])
			break;
		for (size_t j = 0; j < dim[1]; j++) {
			double p0[3];

			for (int r = 0; r < 3; r++)
				p0[r] = job->t.m[r][1] * (double)j + job->t.m[r][2] * (double)k + job->t.m[r][3];
			resample_row(job, p0, dim[0] * (j + dim[1] * k));
		}
	}
	return NULL;
}

/* Threads for a job of n voxels: one below about a million, else one per core up to 8. */
static int thread_count(size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < ((size_t)1 << 20) || cpus < 2)
		return 1;
	return cpus > 8 ? 8 : (int)cpus;
}

struct twin_volume *twin_volume_resample(struct twin_err *err, const struct twin_volume *v,
					 const size_t dim[3], const struct twin_affine *affine,
					 enum twin_interp interp, double outside)
{
	struct resample_job job;
	struct twin_affine inv;
	pthread_t tid[8];
	int nthreads, started = 0;

	if (interp != TWIN_NEAREST && interp != TWIN_LINEAR) {
		twin_err_set(err, TWIN_EFAIL, "unknown interpolation %d", (int)interp);
		return NULL;
	}
	if (twin_affine_invert(err, &inv, &v->affine) != 0)
		return NULL;
	memset(&job, 0, sizeof(job));
	job.dst = twin_volume_new(err, v->dtype, dim, affine);
	if (!job.dst)
		return NULL;
	job.src = v;
	job.interp = interp;
	job.outside = outside;
	twin_affine_mul(&job.t, &inv, &job.dst->affine);
	pthread_mutex_init(&job.lock, NULL);
	nthreads = thread_count(twin_volume_count(job.dst));
	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[started], NULL, resample_worker, &job) != 0)
			break;
		started++;
	}
	resample_worker(&job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&job.lock);
	return job.dst;
}
