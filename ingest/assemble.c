#include "assemble.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64

/* What the threads share while reading a stack. */
struct job {
	const struct twin_assemble_opt *opt;
	const struct twin_frame **frames;
	size_t n, plane;        /* frames, voxels per frame */
	int ct;                 /* apply the rescale */
	struct twin_volume *vol; /* n slices, int16 or float32 */
	struct twin_affine vol_affine;
	unsigned char *failed;  /* per frame */
	unsigned char *stored;  /* per frame, while streaming */
	size_t next, done, shown, nfailed;
	size_t final;           /* leading frames stored, told to opt->slices */
	int streaming;
	int overflow;           /* an int16 volume met a value it cannot hold */
	struct twin_err first;  /* the first reader error */
	pthread_mutex_t lock;
};

/*
 * out = s * v + c as int16, and the smallest and largest of v, in one pass
 * of eight lanes that the compiler vectorises. Where v is out of range the
 * products wrap (unsigned, so defined): the caller sees it in lo and hi.
 */
static void rescale_i16(int16_t *restrict out, const int32_t *restrict v, size_t n, int32_t s, int32_t c,
			int32_t *lo, int32_t *hi)
{
	uint32_t us = (uint32_t)s, uc = (uint32_t)c;
	int32_t l[8], h[8];
	size_t i = 0;

	for (int k = 0; k < 8; k++) {
		l[k] = INT32_MAX;
		h[k] = INT32_MIN;
	}
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++) {
			int32_t x = v[i + k];

			l[k] = x < l[k] ? x : l[k];
			h[k] = x > h[k] ? x : h[k];
			out[i + k] = (int16_t)(us * (uint32_t)x + uc);
		}
	for (; i < n; i++) {
		l[0] = v[i] < l[0] ? v[i] : l[0];
		h[0] = v[i] > h[0] ? v[i] : h[0];
		out[i] = (int16_t)(us * (uint32_t)v[i] + uc);
	}
	for (int k = 1; k < 8; k++) {
		l[0] = l[k] < l[0] ? l[k] : l[0];
		h[0] = h[k] > h[0] ? h[k] : h[0];
	}
	*lo = l[0];
	*hi = h[0];
}

/*
 * Rescales frame k's stored values into the volume. An int16 volume has
 * whole-number rescales only (see choose_dtype); 1 when a value does not
 * fit in int16 (the slice then holds wrapped values, and the volume is
 * read again as float32), else 0.
 */
static int store(struct job *job, size_t k, const int32_t *v)
{
	const struct twin_frame *f = job->frames[k];
	double slope = job->ct ? f->slope : 1, icpt = job->ct ? f->intercept : 0;
	size_t i;

	if (job->vol->dtype == TWIN_I16) {
		int16_t *out = (int16_t *)job->vol->data + k * job->plane;
		int64_t s = (int64_t)slope, c = (int64_t)icpt, a, b;
		int32_t lo, hi;

		rescale_i16(out, v, job->plane, (int32_t)s, (int32_t)c, &lo, &hi);
		a = s * lo + c;
		b = s * hi + c;
		return a < INT16_MIN || a > INT16_MAX || b < INT16_MIN || b > INT16_MAX;
	} else {
		float *out = (float *)job->vol->data + k * job->plane;

		for (i = 0; i < job->plane; i++)
			out[i] = (float)(slope * v[i] + icpt);
		return 0;
	}
}

/* Under job->lock: frame k is stored (ok) or not; the streaming caller hears of it. */
static void tell_slices(struct job *job, size_t k, int ok)
{
	size_t was = job->final;

	if (!ok) {
		job->streaming = 0;
		job->opt->slices(job->opt->slices_ctx, NULL, 0);
		return;
	}
	job->stored[k] = 1;
	while (job->final < job->n && job->stored[job->final])
		job->final++;
	if (job->final > was)
		job->opt->slices(job->opt->slices_ctx, job->vol, job->final);
}

static void *worker(void *arg)
{
	struct job *job = arg;
	int32_t *buf = malloc(job->plane * sizeof(*buf));
	struct twin_err err;
	char msg[TWIN_ERR_MSG_MAX + 32];

	for (;;) {
		size_t k;
		int rc, over;

		pthread_mutex_lock(&job->lock);
		k = job->overflow ? job->n : job->next++;
		/* a frame that failed before a restart stays left out, warned once */
		while (k < job->n && job->failed[k]) {
			job->done++;
			k = job->next++;
		}
		pthread_mutex_unlock(&job->lock);
		if (k >= job->n)
			break;
		twin_err_init(&err);
		if (!buf)
			rc = twin_err_set(&err, TWIN_EFAIL, "reading '%s': out of memory", job->frames[k]->path);
		else
			rc = job->opt->read(&err, job->opt->read_ctx, job->frames[k], buf);
		over = rc == 0 && store(job, k, buf) != 0;
		pthread_mutex_lock(&job->lock);
		job->overflow |= over;
		/* after a restart as float32, progress resumes where it was */
		if (++job->done > job->shown) {
			job->shown = job->done;
			if (job->opt->progress)
				job->opt->progress(job->opt->progress_ctx, job->done, job->n);
		}
		if (job->streaming)
			tell_slices(job, k, rc == 0 && !over);
		if (rc == 0) {
			pthread_mutex_unlock(&job->lock);
			continue;
		}
		job->failed[k] = 1;
		job->nfailed++;
		if (job->first.code == TWIN_OK)
			job->first = err;
		if (job->opt->warn) {
			snprintf(msg, sizeof(msg), "%s; the slice is left out", err.msg);
			job->opt->warn(job->opt->warn_ctx, msg);
		}
		pthread_mutex_unlock(&job->lock);
	}
	free(buf);
	return NULL;
}

/*
 * int16 when every frame's rescale is a whole number: the values read then
 * decide, and store() reports one that int16 cannot hold. Else float32.
 */
static enum twin_dtype choose_dtype(const struct job *job)
{
	for (size_t k = 0; k < job->n; k++) {
		const struct twin_frame *f = job->frames[k];
		double slope = job->ct ? f->slope : 1, icpt = job->ct ? f->intercept : 0;

		if (slope != floor(slope) || icpt != floor(icpt) || fabs(slope) > 65536 || fabs(icpt) > 65536)
			return TWIN_F32;
	}
	return TWIN_I16;
}

/* A float32 volume as int16 when every value is a whole number that fits; else NULL. */
static struct twin_volume *narrow(struct twin_err *err, const struct twin_volume *v)
{
	const float *in = v->data;
	size_t i, count = twin_volume_count(v);
	struct twin_volume *out;

	for (i = 0; i < count; i++)
		if (in[i] != floorf(in[i]) || in[i] < INT16_MIN || in[i] > INT16_MAX)
			return NULL;
	out = twin_volume_new(err, TWIN_I16, v->dim, &v->affine);
	if (!out)
		return NULL;
	for (i = 0; i < count; i++)
		((int16_t *)out->data)[i] = (int16_t)in[i];
	return out;
}

static int thread_count(const struct twin_assemble_opt *opt, size_t n)
{
	long t = opt->threads;

	if (t <= 0)
		t = sysconf(_SC_NPROCESSORS_ONLN);
	if (t < 1)
		t = 1;
	if (t > MAX_THREADS)
		t = MAX_THREADS;
	if ((size_t)t > n)
		t = (long)n;
	return (int)t;
}

/* One pass of the threads over the frames not yet read or failed. */
static void read_pass(struct job *job)
{
	pthread_t tid[MAX_THREADS];
	int started = 0, nthreads = thread_count(job->opt, job->n);

	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[started], NULL, worker, job) != 0)
			break;
		started++;
	}
	worker(job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

/*
 * Reads frames[0..n) into job->vol; failed frames are marked. An int16
 * volume that meets a value it cannot hold is read again as float32: the
 * two are never held at once.
 */
static int read_all(struct twin_err *err, struct job *job)
{
	size_t dim[3];

	pthread_mutex_init(&job->lock, NULL);
	read_pass(job);
	if (job->overflow) {
		memcpy(dim, job->vol->dim, sizeof(dim));
		twin_volume_free(job->vol);
		job->vol = twin_volume_new(err, TWIN_F32, dim, &job->vol_affine);
		if (!job->vol) {
			pthread_mutex_destroy(&job->lock);
			return -1;
		}
		job->overflow = 0;
		job->next = job->done = 0;
		read_pass(job);
		job->overflow = 1;
	}
	pthread_mutex_destroy(&job->lock);
	if (job->nfailed == job->n) {
		twin_err_set(err, job->first.code == TWIN_EFAIL ? TWIN_EFAIL : TWIN_EINPUT,
			     "no slice of the series can be read: %s", job->first.msg);
		return -1;
	}
	return 0;
}

/* Value at fraction w between slices a and b of v, into slice k of out. */
static void blend(struct twin_volume *out, size_t k, const struct twin_volume *v, size_t a, size_t b, double w)
{
	size_t plane = v->dim[0] * v->dim[1], i;

	if (v->dtype == TWIN_I16) {
		const int16_t *pa = (const int16_t *)v->data + a * plane, *pb = (const int16_t *)v->data + b * plane;
		int16_t *o = (int16_t *)out->data + k * plane;

		for (i = 0; i < plane; i++)
			o[i] = (int16_t)lrint((1 - w) * pa[i] + w * pb[i]);
	} else {
		const float *pa = (const float *)v->data + a * plane, *pb = (const float *)v->data + b * plane;
		float *o = (float *)out->data + k * plane;

		for (i = 0; i < plane; i++)
			o[i] = (float)((1 - w) * pa[i] + w * pb[i]);
	}
}

/* The stack (slices at g->z) interpolated along the slice line onto g->dim[2] even slices. */
static struct twin_volume *even_out(struct twin_err *err, const struct twin_volume *stack,
				    const struct twin_geometry *g)
{
	struct twin_volume *out = twin_volume_new(err, stack->dtype, g->dim, &g->even);
	size_t k, a = 0;

	if (!out)
		return NULL;
	for (k = 0; k < g->dim[2]; k++) {
		double z = g->z[0] + g->step * (double)k, w;

		while (a + 2 < g->n && g->z[a + 1] <= z)
			a++;
		w = (z - g->z[a]) / (g->z[a + 1] - g->z[a]);
		if (w < 0)
			w = 0;
		if (w > 1)
			w = 1;
		blend(out, k, stack, a, a + 1, w);
	}
	return out;
}

static double min_value(const struct twin_volume *v)
{
	size_t i, count = twin_volume_count(v);
	double lo = HUGE_VAL;

	for (i = 0; i < count; i++) {
		double x = v->dtype == TWIN_I16 ? ((const int16_t *)v->data)[i] : ((const float *)v->data)[i];

		if (x < lo)
			lo = x;
	}
	return count ? lo : 0;
}

/* Drops the failed frames from frames and from job->vol; rebuilds g. */
static int drop_failed(struct twin_err *err, struct job *job, size_t *n, struct twin_geometry *g)
{
	struct twin_volume *kept = NULL;
	size_t dim[3], k, m = 0, bytes = job->plane * twin_dtype_size(job->vol->dtype);

	for (k = 0; k < job->n; k++)
		if (!job->failed[k]) {
			job->frames[m] = job->frames[k];
			memmove((char *)job->vol->data + m * bytes, (char *)job->vol->data + k * bytes, bytes);
			m++;
		}
	*n = m;
	twin_geometry_release(g);
	if (twin_geometry_build(err, g, job->frames, m, job->opt->uneven) != 0)
		return twin_err_prefix(err, "after leaving out %zu unreadable slice%s", job->nfailed,
				       job->nfailed == 1 ? "" : "s");
	dim[0] = job->vol->dim[0];
	dim[1] = job->vol->dim[1];
	dim[2] = m;
	kept = twin_volume_new(err, job->vol->dtype, dim, &g->even);
	if (!kept)
		return -1;
	memcpy(kept->data, job->vol->data, m * bytes);
	twin_volume_free(job->vol);
	job->vol = kept;
	return 0;
}

struct twin_volume *twin_assemble(struct twin_err *err, const struct twin_assemble_opt *opt,
				  const struct twin_frame **frames, size_t *n, struct twin_geometry *g)
{
	struct job job;
	struct twin_volume *even = NULL, *out = NULL, *tmp;
	size_t dim[3];

	memset(&job, 0, sizeof(job));
	if (twin_geometry_build(err, g, frames, *n, opt->uneven) != 0)
		return NULL;
	job.opt = opt;
	job.frames = frames;
	job.n = *n;
	job.plane = g->dim[0] * g->dim[1];
	job.ct = strcmp(frames[0]->modality, "CT") == 0;
	twin_err_init(&job.first);
	job.failed = calloc(job.n, 1);
	if (!job.failed) {
		twin_err_set(err, TWIN_EFAIL, "reading %zu slices: out of memory", job.n);
		goto out;
	}
	dim[0] = g->dim[0];
	dim[1] = g->dim[1];
	dim[2] = job.n;
	job.vol_affine = g->even;
	job.vol = twin_volume_new(err, choose_dtype(&job), dim, &g->even);
	if (!job.vol)
		goto out;
	/* the volume read is the one returned: the caller may take its slices as they come */
	if (opt->slices && job.vol->dtype == TWIN_I16 && !g->uneven && !g->tilted) {
		job.stored = calloc(job.n, 1);
		job.streaming = job.stored != NULL;
	}
	if (read_all(err, &job) != 0)
		goto out;
	if (job.nfailed && drop_failed(err, &job, n, g) != 0)
		goto out;
	/* a fractional rescale may still give whole numbers */
	if (job.vol->dtype == TWIN_F32 && !job.overflow) {
		twin_err_init(&job.first);
		tmp = narrow(&job.first, job.vol);
		if (tmp) {
			twin_volume_free(job.vol);
			job.vol = tmp;
		}
	}
	if (g->uneven) {
		even = even_out(err, job.vol, g);
		if (!even)
			goto out;
	} else {
		even = job.vol;
		job.vol = NULL;
	}
	if (g->tilted) {
		out = twin_volume_resample(err, even, g->dim, &g->affine, TWIN_LINEAR, min_value(even));
	} else {
		out = even;
		even = NULL;
	}
out:
	twin_volume_free(even);
	twin_volume_free(job.vol);
	free(job.failed);
	free(job.stored);
	return out;
}
