/*
 * Rendering onto a grid: labels are the tissue at each voxel centre; the
 * image is the tissue intensity there, blurred by a Gaussian of blur_mm along
 * each index axis, plus Gaussian noise from a hash of the seed and the voxel
 * index. Threads take interleaved slices or rows; since every voxel depends
 * only on its index, the bytes do not depend on the thread count.
 */
#include "model.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 16
#define MAX_RADIUS 64

enum pass {
	PASS_SAMPLE,
	PASS_BLUR,
	PASS_NOISE
};

struct job {
	enum pass pass;
	const struct twin_anatomy *anat;
	const struct twin_phantom_render *opt;
	size_t d[3];
	const struct twin_affine *aff;
	uint8_t *lab;
	float *buf;
	int16_t *img;
	int axis;                    /* PASS_BLUR: along which index */
	float w[2 * MAX_RADIUS + 1]; /* PASS_BLUR: the kernel, w[rad + t] */
	int rad;
	int nthreads;
};

struct worker {
	struct job *job;
	int id;
	int failed;
	pthread_t th;
};

static void sample_slice(const struct job *job, size_t k)
{
	const double (*m)[4] = job->aff->m;
	size_t d0 = job->d[0], d1 = job->d[1];

	for (size_t j = 0; j < d1; j++) {
		size_t at = d0 * (j + d1 * k);
		for (size_t i = 0; i < d0; i++) {
			struct twin_v3 p = twin_v3(m[0][0] * i + m[0][1] * j + m[0][2] * k + m[0][3],
						   m[1][0] * i + m[1][1] * j + m[1][2] * k + m[1][3],
						   m[2][0] * i + m[2][1] * j + m[2][2] * k + m[2][3]);
			enum twin_tissue t = twin_anatomy_tissue(job->anat, p);

			job->lab[at + i] = (uint8_t)twin_tissue_label(t);
			job->buf[at + i] = (float)twin_tissue_value(t, job->opt->modality, p);
		}
	}
}

static size_t clampi(long v, size_t n)
{
	return v < 0 ? 0 : (size_t)v >= n ? n - 1 : (size_t)v;
}

/*
 * Blurs `lines` lines of n samples: line l, sample s is at base[l * lstride +
 * s * sstride]. tmp holds n * lines floats.
 */
static void blur_lines(const struct job *job, float *base, size_t n, size_t sstride,
		       size_t lines, size_t lstride, float *tmp)
{
	for (size_t s = 0; s < n; s++)
		for (size_t l = 0; l < lines; l++)
			tmp[s * lines + l] = base[l * lstride + s * sstride];
	for (size_t s = 0; s < n; s++) {
		float *out = base + s * sstride;
		for (size_t l = 0; l < lines; l++)
			out[l * lstride] = 0.0f;
		for (int t = -job->rad; t <= job->rad; t++) {
			const float *row = tmp + clampi((long)s + t, n) * lines;
			float w = job->w[job->rad + t];
			for (size_t l = 0; l < lines; l++)
				out[l * lstride] += w * row[l];
		}
	}
}

/* Axis 0 and 1 blur within slice k; axis 2 blurs the rows of plane j = k. */
static int blur_unit(const struct job *job, size_t k, float **tmp)
{
	size_t d0 = job->d[0], d1 = job->d[1], d2 = job->d[2];

	if (!*tmp) {
		size_t n = job->axis == 0 ? d0 : job->axis == 1 ? d0 * d1 : d0 * d2;
		if (!(*tmp = malloc(n * sizeof(float))))
			return -1;
	}
	if (job->axis == 0)
		for (size_t j = 0; j < d1; j++)
			blur_lines(job, job->buf + d0 * (j + d1 * k), d0, 1, 1, 0, *tmp);
	else if (job->axis == 1)
		blur_lines(job, job->buf + d0 * d1 * k, d1, d0, d0, 1, *tmp);
	else
		blur_lines(job, job->buf + d0 * k, d2, d0 * d1, d0, 1, *tmp);
	return 0;
}

static inline uint64_t splitmix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Two standard normal deviates that depend only on (key, idx): Box-Muller. */
static void gauss2(uint64_t key, uint64_t idx, double g[2])
{
	uint64_t h1 = splitmix64(key + idx), h2 = splitmix64(h1);
	double u1 = ((double)(h1 >> 11) + 0.5) / 9007199254740992.0;
	double u2 = (double)(h2 >> 11) / 9007199254740992.0;
	double r = sqrt(-2.0 * log(u1));

	g[0] = r * cos(2.0 * M_PI * u2);
	g[1] = r * sin(2.0 * M_PI * u2);
}

static void noise_slice(const struct job *job, size_t k)
{
	size_t n = job->d[0] * job->d[1], at = n * k;
	uint64_t key = splitmix64(job->opt->seed);
	double sd = job->opt->noise;

	for (size_t i = at; i < at + n; i++) {
		double v = job->buf[i], g[2];

		if (sd > 0.0) {
			gauss2(key, i, g);
			/* MR magnitude images have Rician noise, never below zero */
			if (job->opt->modality == TWIN_PHANTOM_MR)
				v = sqrt((v + sd * g[0]) * (v + sd * g[0]) + sd * g[1] * sd * g[1]);
			else
				v += sd * g[0];
		}
		v = floor(v + 0.5);
		job->img[i] = (int16_t)(v < -32768.0 ? -32768.0 : v > 32767.0 ? 32767.0 : v);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct job *job = w->job;
	size_t units = job->pass == PASS_BLUR && job->axis == 2 ? job->d[1] : job->d[2];
	float *tmp = NULL;

	for (size_t u = (size_t)w->id; u < units; u += (size_t)job->nthreads) {
		if (job->pass == PASS_SAMPLE)
			sample_slice(job, u);
		else if (job->pass == PASS_NOISE)
			noise_slice(job, u);
		else if (blur_unit(job, u, &tmp) < 0) {
			w->failed = 1;
			break;
		}
	}
	free(tmp);
	return NULL;
}

/* Runs job->pass on all workers; a worker whose thread cannot start runs here. */
static int run(struct twin_err *err, struct job *job)
{
	struct worker w[MAX_THREADS];
	int started[MAX_THREADS] = { 0 };
	int rc = 0;

	for (int t = 0; t < job->nthreads; t++) {
		w[t].job = job;
		w[t].id = t;
		w[t].failed = 0;
		if (t > 0)
			started[t] = pthread_create(&w[t].th, NULL, work, &w[t]) == 0;
	}
	work(&w[0]);
	for (int t = 1; t < job->nthreads; t++) {
		if (started[t])
			pthread_join(w[t].th, NULL);
		else
			work(&w[t]);
	}
	for (int t = 0; t < job->nthreads; t++)
		if (w[t].failed)
			rc = twin_err_set(err, TWIN_EFAIL, "out of memory blurring the image");
	return rc;
}

/* Sets the kernel for axis; returns 0 when the blur along it is negligible. */
static int set_kernel(struct job *job, int axis, double blur_mm)
{
	const double (*m)[4] = job->aff->m;
	double spacing = sqrt(m[0][axis] * m[0][axis] + m[1][axis] * m[1][axis] + m[2][axis] * m[2][axis]);
	double sigma = blur_mm / spacing, sum = 0.0;

	if (!(sigma > 0.1) || job->d[axis] < 2)
		return 0;
	job->axis = axis;
	job->rad = (int)ceil(3.0 * sigma);
	if (job->rad > MAX_RADIUS)
		job->rad = MAX_RADIUS;
	for (int t = -job->rad; t <= job->rad; t++)
		sum += exp(-0.5 * t * t / (sigma * sigma));
	for (int t = -job->rad; t <= job->rad; t++)
		job->w[job->rad + t] = (float)(exp(-0.5 * t * t / (sigma * sigma)) / sum);
	return 1;
}

static int thread_count(size_t slices)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	if ((size_t)n > slices)
		n = (long)slices;
	return (int)n;
}

/* The world box around the voxel centres of a grid. */
static void grid_box(struct twin_box *b, const size_t dim[3], const struct twin_affine *aff)
{
	for (int c = 0; c < 8; c++) {
		double ijk[3] = { c & 1 ? dim[0] - 1.0 : 0.0, c & 2 ? dim[1] - 1.0 : 0.0, c & 4 ? dim[2] - 1.0 : 0.0 };
		struct twin_box one;
		double w[3];

		for (int r = 0; r < 3; r++)
			w[r] = aff->m[r][0] * ijk[0] + aff->m[r][1] * ijk[1] + aff->m[r][2] * ijk[2] + aff->m[r][3];
		one.lo = one.hi = twin_v3(w[0], w[1], w[2]);
		if (c == 0)
			*b = one;
		else
			twin_box_join(b, b, &one);
	}
}

static int check_options(struct twin_err *err, const struct twin_phantom_render *opt, const size_t dim[3])
{
	if (opt->modality != TWIN_PHANTOM_CT && opt->modality != TWIN_PHANTOM_MR)
		return twin_err_set(err, TWIN_EUSAGE, "unknown modality %d", (int)opt->modality);
	if (!(opt->phase >= 0.0 && opt->phase < 1.0))
		return twin_err_set(err, TWIN_EUSAGE, "phase %g is outside [0, 1)", opt->phase);
	if (!(opt->noise >= 0.0 && opt->noise < 1e4))
		return twin_err_set(err, TWIN_EUSAGE, "noise %g is not between 0 and 10000", opt->noise);
	if (!(opt->blur_mm >= 0.0 && opt->blur_mm < 50.0))
		return twin_err_set(err, TWIN_EUSAGE, "blur %g mm is not between 0 and 50", opt->blur_mm);
	if (!dim[0] || !dim[1] || !dim[2])
		return twin_err_set(err, TWIN_EUSAGE, "grid %zux%zux%zu is empty", dim[0], dim[1], dim[2]);
	return 0;
}

int twin_phantom_render(struct twin_err *err, const struct twin_phantom_render *opt,
			const size_t dim[3], const struct twin_affine *affine,
			struct twin_volume **labels, struct twin_volume **image)
{
	struct twin_anatomy *anat = NULL;
	struct twin_volume *lab = NULL, *img = NULL;
	struct job *job = NULL;
	struct twin_box box;
	int rc = -1;

	*labels = NULL;
	*image = NULL;
	if (check_options(err, opt, dim) < 0)
		goto out;
	if (!(lab = twin_volume_new(err, TWIN_U8, dim, affine)) ||
	    !(img = twin_volume_new(err, TWIN_I16, dim, affine)))
		goto out;
	anat = calloc(1, sizeof(*anat));
	job = calloc(1, sizeof(*job));
	if (!anat || !job || !(job->buf = malloc(twin_volume_count(lab) * sizeof(float)))) {
		twin_err_set(err, TWIN_EFAIL, "out of memory for a %zux%zux%zu phantom", dim[0], dim[1], dim[2]);
		goto out;
	}
	twin_anatomy_build(anat, opt->phase);
	grid_box(&box, dim, affine);
	if (twin_anatomy_cull(anat, &box) < 0) {
		twin_err_set(err, TWIN_EFAIL, "out of memory for the phantom's cull grid");
		goto out;
	}
	job->anat = anat;
	job->opt = opt;
	memcpy(job->d, dim, sizeof(job->d));
	job->aff = affine;
	job->lab = lab->data;
	job->img = img->data;

	job->pass = PASS_SAMPLE;
	job->nthreads = thread_count(dim[2]);
	if (run(err, job) < 0)
		goto out;
	job->pass = PASS_BLUR;
	for (int axis = 0; axis < 3; axis++) {
		if (!set_kernel(job, axis, opt->blur_mm))
			continue;
		job->nthreads = thread_count(axis == 2 ? dim[1] : dim[2]);
		if (run(err, job) < 0)
			goto out;
	}
	job->pass = PASS_NOISE;
	job->nthreads = thread_count(dim[2]);
	if (run(err, job) < 0)
		goto out;
	*labels = lab;
	*image = img;
	lab = img = NULL;
	rc = 0;
out:
	if (job)
		free(job->buf);
	free(job);
	if (anat)
		twin_anatomy_release(anat);
	free(anat);
	twin_volume_free(lab);
	twin_volume_free(img);
	return rc;
}
