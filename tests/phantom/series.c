#include "series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

#define PI 3.14159265358979323846
#define EXTRA_SLICE_MM 5.0
#define LOCALIZER_SIZE 192
#define LOCALIZER_MM 2.0
#define HEART_RATE 60.0

const char *twin_phantom_orient_name(enum twin_phantom_orient o)
{
	static const char *names[] = {"axial", "coronal", "sagittal", "oblique"};

	return (unsigned)o < 4 ? names[o] : NULL;
}

/* ---- grids ---------------------------------------------------------------- */

/* Row and column direction cosines of the main series. */
static void cosines(const struct twin_phantom_study *st, double row[3], double col[3])
{
	double ax = 20 * PI / 180, ay = 15 * PI / 180, t = st->tilt * PI / 180;

	memset(row, 0, 3 * sizeof(*row));
	memset(col, 0, 3 * sizeof(*col));
	switch (st->orientation) {
	case TWIN_PHANTOM_AXIAL:
		/* the sign dcm2niix expects: it estimates the tilt from the slice vector */
		row[0] = 1;
		col[1] = cos(t);
		col[2] = -sin(t);
		break;
	case TWIN_PHANTOM_CORONAL:
		row[0] = 1;
		col[2] = -1;
		break;
	case TWIN_PHANTOM_SAGITTAL:
		row[1] = 1;
		col[2] = -1;
		break;
	case TWIN_PHANTOM_OBLIQUE:
		/* Ry(ay) * Rx(ax) applied to the axial cosines */
		row[0] = cos(ay);
		row[2] = -sin(ay);
		col[0] = sin(ay) * sin(ax);
		col[1] = cos(ax);
		col[2] = cos(ay) * sin(ax);
		break;
	}
}

static void cross(const double a[3], const double b[3], double out[3])
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

/* The affine with columns step[0..2] whose grid of dim is centred on the heart. */
static void centred(struct twin_affine *a, const double step[3][3], const size_t dim[3])
{
	double c[3];

	twin_phantom_heart_centre(c);
	twin_affine_identity(a);
	for (int x = 0; x < 3; x++) {
		a->m[x][3] = c[x];
		for (int axis = 0; axis < 3; axis++) {
			a->m[x][axis] = step[axis][x];
			a->m[x][3] -= step[axis][x] * (double)(dim[axis] - 1) / 2;
		}
	}
}

/* Steps between columns, rows and slices of the main series; slice_mm between positions. */
static void main_steps(const struct twin_phantom_study *st, double slice_mm, double step[3][3])
{
	double row[3], col[3], normal[3];

	cosines(st, row, col);
	cross(row, col, normal);
	for (int x = 0; x < 3; x++) {
		step[0][x] = row[x] * st->spacing[0];
		step[1][x] = col[x] * st->spacing[1];
		/* tilted CT steps the table along z, not along the normal */
		step[2][x] = st->tilt != 0 ? (x == 2) * slice_mm : normal[x] * slice_mm;
	}
}

void twin_phantom_main_grid(const struct twin_phantom_study *st, struct twin_affine *affine)
{
	double step[3][3];

	main_steps(st, st->spacing[2], step);
	centred(affine, step, st->dim);
}

void twin_phantom_extra_grid(const struct twin_phantom_study *st, size_t dim[3], struct twin_affine *affine)
{
	double step[3][3];
	double range = (double)(st->dim[2] - 1) * st->spacing[2];

	dim[0] = st->dim[0];
	dim[1] = st->dim[1];
	dim[2] = (size_t)floor(range / EXTRA_SLICE_MM) + 1;
	main_steps(st, EXTRA_SLICE_MM, step);
	centred(affine, step, dim);
}

void twin_phantom_localizer_grid(int n, size_t dim[3], struct twin_affine *affine)
{
	/* coronal, then sagittal; the slice step is only there to make the affine invertible */
	static const double steps[2][3][3] = {
		{{LOCALIZER_MM, 0, 0}, {0, 0, -LOCALIZER_MM}, {0, LOCALIZER_MM, 0}},
		{{0, LOCALIZER_MM, 0}, {0, 0, -LOCALIZER_MM}, {-LOCALIZER_MM, 0, 0}},
	};

	dim[0] = dim[1] = LOCALIZER_SIZE;
	dim[2] = 1;
	centred(affine, steps[n], dim);
}

/* ---- hashes and uids ------------------------------------------------------ */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t twin_phantom_hash(uint64_t seed, const char *what, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of what, then mixed with seed and n */

	for (const unsigned char *p = (const unsigned char *)what; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return splitmix(splitmix(h ^ splitmix(seed)) ^ n);
}

void twin_phantom_uid(char out[64], uint64_t seed, const char *what, uint64_t n)
{
	uint64_t hi = twin_phantom_hash(seed, what, n);
	uint64_t lo = twin_phantom_hash(hi, what, n + 1);
	uint32_t limb[4] = {(uint32_t)(hi >> 32), (uint32_t)hi, (uint32_t)(lo >> 32), (uint32_t)lo};
	char digits[48];
	int nd = 0;

	/* the decimal of the 128-bit value, by repeated division by 10 */
	do {
		uint64_t rem = 0;
		int zero = 1;

		for (int i = 0; i < 4; i++) {
			uint64_t cur = (rem << 32) | limb[i];
			limb[i] = (uint32_t)(cur / 10);
			rem = cur % 10;
			zero &= limb[i] == 0;
		}
		digits[nd++] = (char)('0' + rem);
		if (zero)
			break;
	} while (1);
	memcpy(out, "2.25.", 5);
	for (int i = 0; i < nd; i++)
		out[5 + i] = digits[nd - 1 - i];
	out[5 + nd] = '\0';
}

double twin_phantom_phase(int p, int n)
{
	return n <= 1 ? 0.75 : (double)p / n;
}

/* ---- series description ----------------------------------------------------- */

static double norm(const double v[3])
{
	return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* Column axis of the affine as a vector. */
static void axis_of(const struct twin_affine *a, int axis, double v[3])
{
	for (int x = 0; x < 3; x++)
		v[x] = a->m[x][axis];
}

void twin_phantom_series_init(struct twin_dcm_series *d, struct twin_phantom_uids *uids,
			      const struct twin_phantom_study *st, int number,
			      const size_t dim[3], const struct twin_affine *affine)
{
	double row[3], col[3], slice[3], normal[3];
	int ct = st->modality == TWIN_PHANTOM_CT;

	axis_of(affine, 0, row);
	axis_of(affine, 1, col);
	axis_of(affine, 2, slice);
	memset(d, 0, sizeof(*d));
	twin_phantom_uid(uids->study, st->seed, "study", 0);
	twin_phantom_uid(uids->series, st->seed, "series", (uint64_t)number);
	twin_phantom_uid(uids->frame_of_reference, st->seed, "frame of reference", 0);
	d->modality = ct ? TWIN_DCM_CT : TWIN_DCM_MR;
	d->ts = st->ts;
	d->patient_name = "PHANTOM^PHI^TESTNAME";
	d->patient_id = "PHI-ID-4711";
	d->patient_birth_date = "19700101";
	d->patient_sex = "O";
	d->study_uid = uids->study;
	d->study_id = "4711";
	d->study_date = "20240315";
	d->study_time = "093000";
	d->study_description = ct ? "CT coronary angiography (phantom)" : "cardiac MR cine (phantom)";
	d->accession_number = "PHIACC42";
	d->referring_physician = "PHI^DOCTOR";
	d->institution = "PHI Test Hospital";
	d->manufacturer = "dcm2twin";
	d->model_name = "twin-phantom";
	d->software_version = TWIN_VERSION;
	d->series_uid = uids->series;
	d->frame_of_reference_uid = uids->frame_of_reference;
	d->body_part = "HEART";
	d->series_number = number;
	d->kvp = 100;
	d->gantry_tilt = number == TWIN_PHANTOM_SERIES_LOCALIZER ? 0 : st->tilt;
	d->convolution_kernel = "Bv36";
	d->field_strength = 1.5;
	d->repetition_time = 3.2;
	d->echo_time = 1.4;
	d->flip_angle = 55;
	if (number != TWIN_PHANTOM_SERIES_LOCALIZER) {
		d->heart_rate = HEART_RATE;
		d->temporal_positions = number == TWIN_PHANTOM_SERIES_MAIN ? st->phases : 1;
	}
	d->columns = (unsigned)dim[0];
	d->rows = (unsigned)dim[1];
	d->pixel_spacing[0] = norm(col);
	d->pixel_spacing[1] = norm(row);
	for (int x = 0; x < 3; x++) {
		d->orientation[x] = row[x] / norm(row);
		d->orientation[3 + x] = col[x] / norm(col);
	}
	/* the distance between slice planes, which a tilt makes shorter than the table step */
	cross(d->orientation, d->orientation + 3, normal);
	d->slice_thickness = fabs(slice[0] * normal[0] + slice[1] * normal[1] + slice[2] * normal[2]);
	d->slice_spacing = dim[2] > 1 ? d->slice_thickness : 0;
	if (ct) {
		d->bits_stored = 16;
		d->pixel_signed = 1;
		d->rescale_slope = 1;
		d->rescale_intercept = -1024;
		d->window_center = 300;
		d->window_width = 800;
	} else {
		d->bits_stored = 12;
		d->pixel_signed = 0;
		d->window_center = 600;
		d->window_width = 1200;
	}
}

void twin_phantom_clamp(const struct twin_phantom_study *st, struct twin_volume *image)
{
	int16_t *v = image->data;
	size_t n = twin_volume_count(image);
	int lo = st->modality == TWIN_PHANTOM_CT ? -1024 : 0;
	int hi = st->modality == TWIN_PHANTOM_CT ? 32767 - 1024 : 4095;

	for (size_t i = 0; i < n; i++)
		v[i] = (int16_t)(v[i] < lo ? lo : v[i] > hi ? hi : v[i]);
}

/* ---- writing ---------------------------------------------------------------- */

/* One file to write: a slice (phase p, slice k) or, with k < 0, a multi-frame file. */
struct job {
	int p, k;
	char name[32];
};

/* Any image of the series, for its grid: phases already written are freed. */
static const struct twin_volume *any_image(const struct twin_phantom_series *s)
{
	for (int p = 0; p < s->phases; p++)
		if (s->images[p])
			return s->images[p];
	return NULL;
}

size_t twin_phantom_series_files(const struct twin_phantom_series *s, int p)
{
	if (s->multiframe)
		return 1;
	return any_image(s)->dim[2] * (size_t)(p < 0 ? s->phases : 1);
}

/* The stored values of slice k of image: CT HU + 1024, MR as they are. */
static void stored_slice(const struct twin_volume *image, int ct, size_t k, int16_t *out)
{
	size_t per = image->dim[0] * image->dim[1];
	const int16_t *in = (const int16_t *)image->data + per * k;

	for (size_t i = 0; i < per; i++)
		out[i] = (int16_t)(ct ? in[i] + 1024 : in[i]);
}

static void frame_of(const struct twin_phantom_series *s, int p, size_t k, const int16_t *pixels,
		     struct twin_dcm_frame *f)
{
	const struct twin_volume *image = s->images[p];
	double ijk[3] = {0, 0, (double)k};
	double phase = twin_phantom_phase(p, s->phases);

	memset(f, 0, sizeof(*f));
	f->pixels = pixels;
	twin_volume_index_to_world(image, ijk, f->position);
	f->stack_position = (int)k + 1;
	f->temporal_position = p + 1;
	f->trigger_time = phase * 60000.0 / HEART_RATE;
	f->cardiac_percent = phase * 100;
}

/* Instance numbers count slices from the top (last k) down, phase after phase. */
static int instance_of(const struct twin_phantom_series *s, int p, size_t k)
{
	size_t nk = any_image(s)->dim[2];

	return s->first_instance + (int)((size_t)p * nk + (nk - k));
}

static int write_multiframe(struct twin_err *err, const char *path, const struct twin_phantom_series *s,
			    const struct twin_dcm_series *d)
{
	size_t nk = s->images[0]->dim[2], per = s->images[0]->dim[0] * s->images[0]->dim[1];
	size_t n = nk * (size_t)s->phases;
	struct twin_dcm_frame *frames = calloc(n, sizeof(*frames));
	int16_t *pixels = malloc(n * per * sizeof(*pixels));
	char sop[64];
	int rc = -1;

	if (!frames || !pixels) {
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
		goto out;
	}
	/* frames in position order, phase after phase */
	for (int p = 0; p < s->phases; p++)
		for (size_t k = 0; k < nk; k++) {
			size_t f = (size_t)p * nk + k;

			stored_slice(s->images[p], d->modality == TWIN_DCM_CT, k, pixels + f * per);
			frame_of(s, p, k, pixels + f * per, &frames[f]);
		}
	twin_phantom_uid(sop, s->st->seed, "sop", (uint64_t)s->number << 32);
	rc = twin_dcm_write_multiframe(err, path, d, sop, s->first_instance + 1, frames, n);
out:
	free(frames);
	free(pixels);
	return rc;
}

/* Jobs for phase p (or all phases), named and, with --shuffle, in seeded random order. */
static struct job *make_jobs(const struct twin_phantom_series *s, int p, size_t *n)
{
	const struct twin_phantom_study *st = s->st;
	size_t nk = any_image(s)->dim[2], count = twin_phantom_series_files(s, p), i = 0;
	struct job *jobs = calloc(count, sizeof(*jobs));

	if (!jobs)
		return NULL;
	if (s->multiframe) {
		jobs[0].p = -1;
		jobs[0].k = -1;
		snprintf(jobs[0].name, sizeof(jobs[0].name), "s%02d_multiframe.dcm", s->number);
	}
	for (int q = p < 0 ? 0 : p; !s->multiframe && q < (p < 0 ? s->phases : p + 1); q++)
		for (size_t k = 0; k < nk; k++, i++) {
			jobs[i].p = q;
			jobs[i].k = (int)k;
			snprintf(jobs[i].name, sizeof(jobs[i].name), "s%02d_%05d.dcm", s->number,
				 instance_of(s, q, k));
		}
	if (st->shuffle) {
		uint64_t base = ((uint64_t)s->number << 40) | ((uint64_t)(p + 1) << 32);

		for (i = 0; i < count; i++) {
			/* names from a hash of the file: random-looking and unrelated to order */
			uint64_t h = twin_phantom_hash(st->seed, "file name",
						       base | (uint64_t)(jobs[i].p + 1) << 24 | (uint64_t)(jobs[i].k + 1));
			snprintf(jobs[i].name, sizeof(jobs[i].name), "%016llX", (unsigned long long)h);
		}
		for (i = count; i > 1; i--) {
			size_t j = (size_t)(twin_phantom_hash(st->seed, "write order", base | i) % i);
			struct job t = jobs[i - 1];

			jobs[i - 1] = jobs[j];
			jobs[j] = t;
		}
	}
	*n = count;
	return jobs;
}

int twin_phantom_write_series(struct twin_err *err, const char *dir, const struct twin_phantom_series *s,
			      int p, void (*progress)(void *ctx), void *ctx)
{
	struct twin_dcm_series d;
	struct twin_phantom_uids uids;
	const struct twin_volume *first = s->images[p < 0 ? 0 : p];
	size_t n = 0, per = first->dim[0] * first->dim[1];
	struct job *jobs = make_jobs(s, p, &n);
	int16_t *pixels = malloc(per * sizeof(*pixels));
	char *path = NULL;
	int rc = -1;

	if (!jobs || !pixels) {
		twin_err_set(err, TWIN_EFAIL, "cannot write series %d: out of memory", s->number);
		goto out;
	}
	twin_phantom_series_init(&d, &uids, s->st, s->number, first->dim, &first->affine);
	d.image_type = s->image_type;
	d.series_description = s->description;
	for (size_t i = 0; i < n; i++) {
		free(path);
		path = twin_path_join(dir, jobs[i].name);
		if (!path) {
			twin_err_set(err, TWIN_EFAIL, "cannot write series %d: out of memory", s->number);
			goto out;
		}
		if (jobs[i].k < 0) {
			if (write_multiframe(err, path, s, &d) != 0)
				goto out;
		} else {
			struct twin_dcm_frame f;
			char sop[64];
			int inst = instance_of(s, jobs[i].p, (size_t)jobs[i].k);

			stored_slice(s->images[jobs[i].p], d.modality == TWIN_DCM_CT, (size_t)jobs[i].k, pixels);
			frame_of(s, jobs[i].p, (size_t)jobs[i].k, pixels, &f);
			twin_phantom_uid(sop, s->st->seed, "sop", (uint64_t)s->number << 32 | (uint64_t)inst);
			if (twin_dcm_write_slice(err, path, &d, sop, inst, &f) != 0)
				goto out;
		}
		if (progress)
			progress(ctx);
	}
	rc = 0;
out:
	free(path);
	free(pixels);
	free(jobs);
	return rc;
}
