#include "select.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

int twin_select_uid_hash(struct twin_err *err, const char *uid, char out[TWIN_UID_HASH])
{
	char hex[TWIN_SHA256_HEX];

	if (twin_sha256_mem(err, uid, strlen(uid), hex) != 0)
		return -1;
	snprintf(out, TWIN_UID_HASH, "h:%.16s", hex);
	return 0;
}

static int modality_rank(const struct twin_series *s)
{
	if (strcmp(s->first->modality, "CT") == 0)
		return 2;
	if (strcmp(s->first->modality, "MR") == 0)
		return 1;
	return 0;
}

/* Is a a better default than b? */
static int better(const struct twin_series *a, const struct twin_series *b)
{
	int soft_a = a->skip != NULL, soft_b = b->skip != NULL;

	if (soft_a != soft_b)
		return soft_b;
	if (modality_rank(a) != modality_rank(b))
		return modality_rank(a) > modality_rank(b);
	if (a->slices != b->slices)
		return a->slices > b->slices;
	if (a->slice_step != b->slice_step) {
		if (a->slice_step <= 0 || b->slice_step <= 0)
			return a->slice_step > 0;
		return a->slice_step < b->slice_step;
	}
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int looks_like_uid(const char *s)
{
	int dots = 0;

	for (; *s; s++) {
		if (*s == '.')
			dots++;
		else if (!isdigit((unsigned char)*s))
			return 0;
	}
	return dots > 0;
}

/* 1 when s matches spec, 0 when not, -1 on error. */
static int matches(struct twin_err *err, const struct twin_series *s, const char *spec)
{
	char hash[TWIN_UID_HASH];

	if (all_digits(spec))
		return s->first->series_number == atoi(spec);
	if (strncmp(spec, "h:", 2) == 0) {
		if (twin_select_uid_hash(err, s->first->series_uid, hash) != 0)
			return -1;
		return strlen(spec) > 2 && strncmp(hash, spec, strlen(spec)) == 0;
	}
	if (looks_like_uid(spec)) {
		unsigned part;
		int number, used = 0;

		if (strcmp(s->first->series_uid, spec) == 0)
			return 1;
		/* "3.2": part 2 of series 3, as --list numbers the parts of a split series */
		if (sscanf(spec, "%d.%u%n", &number, &part, &used) == 2 && spec[used] == 0)
			return s->first->series_number == number && s->part == part;
		return 0;
	}
	return fnmatch(spec, s->first->description, 0) == 0;
}

/* Appends "series N 'desc': reason" for each unusable series, as far as it fits. */
static void list_reasons(char *buf, size_t size, const struct twin_study *study, const int *cand)
{
	size_t i, len = 0, shown = 0;

	buf[0] = 0;
	for (i = 0; i < study->n && len + 1 < size; i++) {
		const struct twin_series *s = &study->series[i];

		if (!cand[i] || !s->skip)
			continue;
		if (shown == 3) {
			snprintf(buf + len, size - len, "; ...");
			break;
		}
		len += (size_t)snprintf(buf + len, size - len, "%sseries %d: %s", shown ? "; " : "",
					s->first->series_number, s->skip_detail);
		shown++;
	}
}

int twin_select_series(struct twin_err *err, const struct twin_study *study, const char *spec,
		       size_t *index)
{
	int *cand = NULL;
	size_t i, n_match = 0;
	long best = -1;
	char why[900];
	int rc = -1;

	if (study->n == 0)
		return twin_err_set(err, TWIN_EINPUT, "no DICOM images found");
	cand = calloc(study->n, sizeof(*cand));
	if (!cand)
		return twin_err_set(err, TWIN_EFAIL, "choosing a series: out of memory");
	for (i = 0; i < study->n; i++) {
		int m = 1;

		if (spec && *spec) {
			m = matches(err, &study->series[i], spec);
			if (m < 0)
				goto out;
		}
		cand[i] = m;
		n_match += (size_t)m;
	}
	if (n_match == 0) {
		twin_err_set(err, TWIN_ECONFIG,
			     "no series matches ingest.series '%s' (twin-ingest --list shows the series)", spec);
		goto out;
	}
	for (i = 0; i < study->n; i++) {
		const struct twin_series *s = &study->series[i];

		if (!cand[i] || (s->skip && !s->skip_soft))
			continue;
		if (best < 0 || better(s, &study->series[best]))
			best = (long)i;
	}
	if (best < 0) {
		enum twin_code code = TWIN_EUNSUPPORTED;

		/* unsupported only when every candidate is valid data of a kind not handled */
		for (i = 0; i < study->n; i++)
			if (cand[i] && !study->series[i].skip_unsupported)
				code = TWIN_EINPUT;
		list_reasons(why, sizeof(why), study, cand);
		if (spec && *spec)
			twin_err_set(err, code, "series '%s' cannot be used: %s", spec, why);
		else
			twin_err_set(err, code, "no usable series: %s", why);
		goto out;
	}
	*index = (size_t)best;
	rc = 0;
out:
	free(cand);
	return rc;
}

int twin_select_phase(struct twin_err *err, const struct twin_series *s, const struct twin_phase *want,
		      size_t *index)
{
	size_t i, best = 0;

	if (s->n_phases <= 1) {
		*index = 0;
		return 0;
	}
	if (!want->is_percent) {
		if (want->index < 0 || (size_t)want->index >= s->n_phases)
			return twin_err_set(err, TWIN_ECONFIG,
					    "ingest.phase %ld: the series has %zu phases, 0 to %zu",
					    want->index, s->n_phases, s->n_phases - 1);
		*index = (size_t)want->index;
		return 0;
	}
	for (i = 1; i < s->n_phases; i++)
		if (fabs(s->phases[i].percent - want->percent) < fabs(s->phases[best].percent - want->percent))
			best = i;
	*index = best;
	return 0;
}
