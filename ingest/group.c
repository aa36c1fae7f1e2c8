#include "group.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"

/* Orientations whose cosines differ by no more than this are the same. */
#define SAME_IOP 1e-4
/* A localizer: a UID split into parts of at most this many slices with different orientations. */
#define LOCALIZER_SLICES 3

/* Does the backslash-separated value list hold the token word? */
static int has_token(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, '\\');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n > 0 && p[n - 1] == ' ')
			n--;
		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		if (n == len && strncmp(p, word, len) == 0)
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int same_iop(const struct twin_frame *a, const struct twin_frame *b)
{
	int i;

	if (a->has_position != b->has_position)
		return 0;
	if (!a->has_position)
		return 1;
	for (i = 0; i < 6; i++)
		if (fabs(a->iop[i] - b->iop[i]) > SAME_IOP)
			return 0;
	return 1;
}

static int same_part(const struct twin_frame *a, const struct twin_frame *b)
{
	/* a file without SeriesInstanceUID is a series of its own */
	if (!*a->series_uid && strcmp(a->path, b->path) != 0)
		return 0;
	/* frames without pixel data form a part of their own, which is skipped */
	return strcmp(a->series_uid, b->series_uid) == 0 && a->rows == b->rows &&
	       a->cols == b->cols && a->has_pixels == b->has_pixels && same_iop(a, b);
}

/* One series being collected: its frames, in the order met. */
struct part {
	const struct twin_frame **frames;
	size_t n, cap;
};

static int part_add(struct part *p, const struct twin_frame *f)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		const struct twin_frame **a = realloc(p->frames, cap * sizeof(*a));

		if (!a)
			return -1;
		p->frames = a;
		p->cap = cap;
	}
	p->frames[p->n++] = f;
	return 0;
}

static double frame_z(const struct twin_frame *f)
{
	double nrm[3];

	twin_geometry_normal(f->iop, nrm);
	return nrm[0] * f->ipp[0] + nrm[1] * f->ipp[1] + nrm[2] * f->ipp[2];
}

static int cmp_z(const void *a, const void *b)
{
	const struct twin_frame *fa = *(const struct twin_frame *const *)a;
	const struct twin_frame *fb = *(const struct twin_frame *const *)b;
	double za = fa->has_position ? frame_z(fa) : 0;
	double zb = fb->has_position ? frame_z(fb) : 0;

	if (za != zb)
		return za < zb ? -1 : 1;
	/* the same position: earlier in time first, then the file, for a stable order */
	if (fa->trigger_time != fb->trigger_time && !isnan(fa->trigger_time) && !isnan(fb->trigger_time))
		return fa->trigger_time < fb->trigger_time ? -1 : 1;
	if (fa->temporal_position != fb->temporal_position)
		return fa->temporal_position < fb->temporal_position ? -1 : 1;
	return strcmp(fa->path, fb->path) != 0 ? strcmp(fa->path, fb->path) :
		(fa->frame < fb->frame ? -1 : fa->frame > fb->frame);
}

static int cmp_time(const void *a, const void *b)
{
	const struct twin_frame *fa = *(const struct twin_frame *const *)a;
	const struct twin_frame *fb = *(const struct twin_frame *const *)b;

	if (fa->trigger_time != fb->trigger_time)
		return fa->trigger_time < fb->trigger_time ? -1 : 1;
	return strcmp(fa->path, fb->path) != 0 ? strcmp(fa->path, fb->path) :
		(fa->frame < fb->frame ? -1 : fa->frame > fb->frame);
}

static int cmp_instance(const void *a, const void *b)
{
	const struct twin_frame *fa = *(const struct twin_frame *const *)a;
	const struct twin_frame *fb = *(const struct twin_frame *const *)b;

	if (fa->instance_number != fb->instance_number)
		return fa->instance_number < fb->instance_number ? -1 : 1;
	return strcmp(fa->path, fb->path) != 0 ? strcmp(fa->path, fb->path) :
		(fa->frame < fb->frame ? -1 : fa->frame > fb->frame);
}

/* The phase tags of a frame as one key, for frames tagged explicitly. */
static int same_tag(const struct twin_frame *a, const struct twin_frame *b)
{
	if (a->temporal_position != b->temporal_position)
		return 0;
	if (isnan(a->phase_percent) != isnan(b->phase_percent))
		return 0;
	return isnan(a->phase_percent) || fabs(a->phase_percent - b->phase_percent) < 1e-3;
}

static int add_stack(struct twin_series *s, size_t cap)
{
	struct twin_stack *st = &s->phases[s->n_phases];

	memset(st, 0, sizeof(*st));
	st->frames = malloc((cap ? cap : 1) * sizeof(*st->frames));
	if (!st->frames)
		return -1;
	st->percent = NAN;
	st->trigger_time = NAN;
	st->temporal_position = -1;
	s->n_phases++;
	return 0;
}

/*
 * Splits the frames of p (sorted by position) into phases: by explicit tags
 * (TemporalPositionIdentifier, NominalPercentageOfCardiacPhase) when the
 * files carry them; else, when every position repeats the same number of
 * times, by the rank of TriggerTime among the frames at each position, or
 * without trigger times by the rank of InstanceNumber (repeated
 * acquisitions); else one phase.
 */
static int split_phases(struct twin_series *s, const struct part *p)
{
	size_t i, j, tagged = 0, timed = 0, groups = 0, per = 0;
	int by_rank = 0, consistent = 1;

	for (i = 0; i < p->n; i++) {
		if (p->frames[i]->temporal_position >= 0 || !isnan(p->frames[i]->phase_percent))
			tagged++;
		if (!isnan(p->frames[i]->trigger_time))
			timed++;
	}
	s->repeats = timed == 0;
	/* positions that repeat: how many frames at each */
	if (!tagged && p->n > 1 && p->frames[0]->has_position) {
		for (i = 0; i < p->n; i = j) {
			double zi = frame_z(p->frames[i]);

			for (j = i + 1; j < p->n; j++)
				if (fabs(frame_z(p->frames[j]) - zi) > TWIN_GEOMETRY_SAME_MM)
					break;
			qsort(p->frames + i, j - i, sizeof(*p->frames), timed ? cmp_time : cmp_instance);
			if (groups == 0)
				per = j - i;
			else if (per != j - i)
				consistent = 0;
			for (size_t k = i; timed && k < j; k++)
				if (isnan(p->frames[k]->trigger_time) ||
				    (k > i && p->frames[k]->trigger_time == p->frames[k - 1]->trigger_time))
					consistent = 0;
			groups++;
		}
		by_rank = consistent && per > 1;
	}

	s->phases = calloc(p->n ? p->n : 1, sizeof(*s->phases));
	if (!s->phases)
		return -1;
	if (by_rank) {
		for (j = 0; j < per; j++) {
			if (add_stack(s, groups) != 0)
				return -1;
			for (i = 0; i < groups; i++)
				s->phases[j].frames[s->phases[j].n++] = p->frames[i * per + j];
		}
	} else if (tagged) {
		for (i = 0; i < p->n; i++) {
			const struct twin_frame *f = p->frames[i];

			for (j = 0; j < s->n_phases; j++)
				if (same_tag(s->phases[j].frames[0], f))
					break;
			if (j == s->n_phases && add_stack(s, p->n) != 0)
				return -1;
			s->phases[j].frames[s->phases[j].n++] = f;
		}
	} else {
		if (add_stack(s, p->n) != 0)
			return -1;
		for (i = 0; i < p->n; i++)
			s->phases[0].frames[s->phases[0].n++] = p->frames[i];
	}

	for (j = 0; j < s->n_phases; j++) {
		struct twin_stack *st = &s->phases[j];
		double sum = 0;
		size_t nt = 0;

		for (i = 0; i < st->n; i++)
			if (!isnan(st->frames[i]->trigger_time)) {
				sum += st->frames[i]->trigger_time;
				nt++;
			}
		st->trigger_time = nt ? sum / (double)nt : NAN;
		st->temporal_position = st->frames[0]->temporal_position;
		st->percent = st->frames[0]->phase_percent;
		if (st->n > s->slices)
			s->slices = st->n;
	}
	return 0;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct twin_stack *sa = a, *sb = b;

	if (sa->temporal_position != sb->temporal_position)
		return sa->temporal_position < sb->temporal_position ? -1 : 1;
	if (!isnan(sa->percent) && !isnan(sb->percent) && sa->percent != sb->percent)
		return sa->percent < sb->percent ? -1 : 1;
	if (!isnan(sa->trigger_time) && !isnan(sb->trigger_time) && sa->trigger_time != sb->trigger_time)
		return sa->trigger_time < sb->trigger_time ? -1 : 1;
	return cmp_instance(&sa->frames[0], &sb->frames[0]);
}

/* Orders the phases in time and estimates the percent where the files give none. */
static void order_phases(struct twin_series *s)
{
	size_t j;

	qsort(s->phases, s->n_phases, sizeof(*s->phases), cmp_stack);
	if (s->n_phases < 2 || s->repeats)
		return;
	for (j = 0; j < s->n_phases; j++)
		if (isnan(s->phases[j].percent)) {
			s->phases[j].percent = 100.0 * (double)j / (double)s->n_phases;
			s->phases[j].percent_estimated = 1;
		}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median distance between neighbouring distinct positions of the first phase. */
static double median_step(const struct twin_stack *st)
{
	double *d = NULL, out = 0;
	size_t i, m = 0;

	if (st->n < 2 || !st->frames[0]->has_position)
		return 0;
	d = malloc(st->n * sizeof(*d));
	if (!d)
		return 0;
	for (i = 1; i < st->n; i++) {
		double dz = fabs(frame_z(st->frames[i]) - frame_z(st->frames[i - 1]));

		if (dz > TWIN_GEOMETRY_SAME_MM)
			d[m++] = dz;
	}
	if (m) {
		qsort(d, m, sizeof(*d), cmp_double);
		out = d[m / 2];
	}
	free(d);
	return out;
}

static void set_skip(struct twin_series *s, const char *why, int soft)
{
	if (s->skip && !s->skip_soft)
		return;
	if (s->skip && soft)
		return;
	s->skip = why;
	s->skip_soft = soft;
	snprintf(s->skip_detail, sizeof(s->skip_detail), "'%s': %s", s->first->path, why);
}

/* The reasons that depend on one series alone. */
static void classify(struct twin_series *s, const struct part *p)
{
	const struct twin_frame *f = s->first;
	const char *sop = f->sop_class;
	size_t i, distinct = 0;

	for (i = 0; i < p->n; i++)
		if (!p->frames[i]->has_pixels) {
			f = p->frames[i];
			break;
		}
	if (!f->has_pixels) {
		if (strncmp(sop, "1.2.840.10008.5.1.4.1.1.88.", 27) == 0)
			set_skip(s, "not an image: a structured report (e.g. a dose report)", 0);
		else if (strncmp(sop, "1.2.840.10008.5.1.4.1.1.11.", 27) == 0)
			set_skip(s, "not an image: a presentation state", 0);
		else
			set_skip(s, "no pixel data", 0);
		return;
	}
	if (strcmp(sop, "1.2.840.10008.5.1.4.1.1.7") == 0 ||
	    strncmp(sop, "1.2.840.10008.5.1.4.1.1.7.", 26) == 0) {
		set_skip(s, "secondary capture", 0);
		return;
	}
	if (f->samples_per_pixel != 1 || strncmp(f->photometric, "MONOCHROME", 10) != 0) {
		set_skip(s, "colour image", 0);
		s->skip_unsupported = 1;
		return;
	}
	if (has_token(f->image_type, "LOCALIZER") || has_token(f->image_type, "SCOUT")) {
		set_skip(s, "localizer", 0);
		return;
	}
	/* a mosaic that was not cut into one record per tile (mosaic.h) */
	if (has_token(f->image_type, "MOSAIC") && f->tile == 0) {
		set_skip(s, "siemens mosaic: not cut into slices", 0);
		s->skip_unsupported = 1;
		return;
	}
	if (strcmp(f->modality, "CT") != 0 && strcmp(f->modality, "MR") != 0) {
		set_skip(s, "modality is neither CT nor MR", 0);
		s->skip_unsupported = 1;
		return;
	}
	if (!f->has_position) {
		set_skip(s, "no image position or orientation", 0);
		return;
	}
	for (i = 0; i < p->n; i++)
		if (i == 0 || fabs(frame_z(p->frames[i]) - frame_z(p->frames[i - 1])) > TWIN_GEOMETRY_SAME_MM)
			distinct++;
	if (distinct < 2) {
		set_skip(s, "single slice", 0);
		return;
	}
	if (has_token(f->image_type, "DERIVED"))
		set_skip(s, "derived image", 1);
	else if (has_token(f->image_type, "SECONDARY"))
		set_skip(s, "secondary image", 1);
}

/*
 * Reasons that need the other parts of the same UID: parts that differ only
 * in image size make the series inconsistent; a UID split into several
 * orientations of a few slices each is a localizer.
 */
static void classify_parts(struct twin_series *series, size_t from, size_t to)
{
	size_t i, j;
	int small = 1, orientations = 1;

	for (i = from; i < to; i++) {
		for (j = from; j < to; j++)
			if (j != i && same_iop(series[i].first, series[j].first) &&
			    series[i].first->has_pixels && series[j].first->has_pixels) {
				struct twin_series *s = &series[i];
				const struct twin_frame *o = series[j].first;

				s->skip = NULL;
				s->skip_unsupported = 0;
				set_skip(s, "image size differs within the series", 0);
				snprintf(s->skip_detail, sizeof(s->skip_detail),
					 "image size differs within the series: '%s' is %ux%u, '%s' is %ux%u",
					 s->first->path, s->first->cols, s->first->rows, o->path, o->cols, o->rows);
			}
		if (series[i].n_frames > LOCALIZER_SLICES)
			small = 0;
		if (!same_iop(series[i].first, series[from].first))
			orientations = 2;
	}
	if (orientations > 1 && small)
		for (i = from; i < to; i++)
			set_skip(&series[i], "localizer (a few slices in several orientations)", 0);
}

static int cmp_series(const void *a, const void *b)
{
	const struct twin_series *x = a, *y = b;
	int c;

	if (x->first->series_number != y->first->series_number)
		return x->first->series_number < y->first->series_number ? -1 : 1;
	c = strcmp(x->first->series_uid, y->first->series_uid);
	if (c)
		return c;
	/* parts of one UID: by the file of their lowest slice, for a stable numbering */
	c = strcmp(x->first->path, y->first->path);
	if (c)
		return c;
	return x->first->frame < y->first->frame ? -1 : x->first->frame > y->first->frame;
}

int twin_group_frames(struct twin_err *err, struct twin_study *study,
		      const struct twin_frame *frames, size_t n)
{
	struct part *parts = NULL;
	size_t nparts = 0, i, j;
	int rc = -1;

	memset(study, 0, sizeof(*study));
	parts = calloc(n ? n : 1, sizeof(*parts));
	study->series = calloc(n ? n : 1, sizeof(*study->series));
	if (!parts || !study->series) {
		twin_err_set(err, TWIN_EFAIL, "grouping %zu frames: out of memory", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < nparts; j++)
			if (same_part(parts[j].frames[0], &frames[i]))
				break;
		if (part_add(&parts[j], &frames[i]) != 0) {
			twin_err_set(err, TWIN_EFAIL, "grouping %zu frames: out of memory", n);
			goto out;
		}
		if (j == nparts)
			nparts++;
	}
	for (i = 0; i < nparts; i++) {
		struct twin_series *s = &study->series[study->n++];

		qsort(parts[i].frames, parts[i].n, sizeof(*parts[i].frames), cmp_z);
		s->first = parts[i].frames[0];
		s->n_frames = parts[i].n;
		if (split_phases(s, &parts[i]) != 0) {
			twin_err_set(err, TWIN_EFAIL, "grouping %zu frames: out of memory", n);
			goto out;
		}
		order_phases(s);
		s->slice_step = median_step(&s->phases[0]);
		classify(s, &parts[i]);
	}
	/* parts of one UID: number them and look at them together */
	qsort(study->series, study->n, sizeof(*study->series), cmp_series);
	for (i = 0; i < study->n; i = j) {
		for (j = i + 1; j < study->n; j++)
			if (strcmp(study->series[j].first->series_uid, study->series[i].first->series_uid) != 0)
				break;
		if (j - i > 1 && *study->series[i].first->series_uid) {
			for (size_t k = i; k < j; k++)
				study->series[k].part = (unsigned)(k - i + 1);
			classify_parts(study->series, i, j);
		}
	}
	rc = 0;
out:
	for (i = 0; i < nparts; i++)
		free(parts[i].frames);
	free(parts);
	return rc;
}

void twin_group_release(struct twin_study *study)
{
	size_t i, j;

	if (!study || !study->series)
		return;
	for (i = 0; i < study->n; i++) {
		for (j = 0; j < study->series[i].n_phases; j++)
			free(study->series[i].phases[j].frames);
		free(study->series[i].phases);
	}
	free(study->series);
	study->series = NULL;
	study->n = 0;
}

const char *twin_group_plane(const struct twin_frame *f)
{
	double nrm[3];
	int axis = 0, i;

	if (!f->has_position)
		return "-";
	twin_geometry_normal(f->iop, nrm);
	for (i = 1; i < 3; i++)
		if (fabs(nrm[i]) > fabs(nrm[axis]))
			axis = i;
	/* within 10 degrees of a main plane */
	if (fabs(nrm[axis]) < cos(10.0 * M_PI / 180.0))
		return "oblique";
	return axis == 2 ? "axial" : axis == 1 ? "coronal" : "sagittal";
}
