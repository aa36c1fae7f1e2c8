#include "twin_test.h"

#include <math.h>

#include "../../ingest/frame.h"
#include "../../ingest/group.h"

#define MAXF 128

struct fixture {
	struct twin_frame f[MAXF];
	size_t n;
	struct twin_study study;
	struct twin_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	twin_err_init(&fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < fx->n; i++)
		free(fx->f[i].path);
	twin_group_release(&fx->study);
	free(fx);
	return 0;
}

static const double axial[6] = { 1, 0, 0, 0, 1, 0 };
static const double coronal[6] = { 1, 0, 0, 0, 0, -1 };
static const double sagittal[6] = { 0, 1, 0, 0, 0, -1 };

/* Appends a frame of series uid at height z (along the normal of iop). */
static struct twin_frame *add(struct fixture *fx, const char *uid, int number, const double iop[6], double z)
{
	struct twin_frame *f;
	char name[64];
	double nrm[3] = { iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
			  iop[0] * iop[4] - iop[1] * iop[3] };

	assert_true(fx->n < MAXF);
	f = &fx->f[fx->n];
	snprintf(name, sizeof(name), "%s_%03zu.dcm", uid, fx->n);
	fx->n++;
	f->path = strdup(name);
	f->n_frames = 1;
	snprintf(f->series_uid, sizeof(f->series_uid), "%s", uid);
	snprintf(f->sop_class, sizeof(f->sop_class), "1.2.840.10008.5.1.4.1.1.2");
	snprintf(f->modality, sizeof(f->modality), "CT");
	snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\AXIAL");
	snprintf(f->photometric, sizeof(f->photometric), "MONOCHROME2");
	f->series_number = number;
	f->rows = 32;
	f->cols = 32;
	f->samples_per_pixel = 1;
	f->bits_allocated = 16;
	f->bits_stored = 12;
	f->has_pixels = 1;
	f->has_position = 1;
	memcpy(f->iop, iop, sizeof(f->iop));
	for (int i = 0; i < 3; i++)
		f->ipp[i] = z * nrm[i];
	f->spacing[0] = f->spacing[1] = 1;
	f->slope = 1;
	f->trigger_time = NAN;
	f->phase_percent = NAN;
	f->temporal_position = -1;
	return f;
}

static void group(struct fixture *fx)
{
	assert_ok(fx->err, twin_group_frames(&fx->err, &fx->study, fx->f, fx->n));
}

static const struct twin_series *find(const struct fixture *fx, const char *uid, unsigned part)
{
	for (size_t i = 0; i < fx->study.n; i++)
		if (strcmp(fx->study.series[i].first->series_uid, uid) == 0 && fx->study.series[i].part == part)
			return &fx->study.series[i];
	fail_msg("no series '%s' part %u", uid, part);
	return NULL;
}

static void groups_by_uid_and_orders_by_number(void **state)
{
	struct fixture *fx = *state;
	const struct twin_series *s;

	for (int k = 0; k < 5; k++) {
		add(fx, "1.2.3", 7, axial, k);
		add(fx, "1.2.4", 2, axial, 2.0 * k);
	}
	group(fx);
	assert_int_equal(fx->study.n, 2);
	assert_string_equal(fx->study.series[0].first->series_uid, "1.2.4");
	assert_string_equal(fx->study.series[1].first->series_uid, "1.2.3");
	s = find(fx, "1.2.4", 0);
	assert_int_equal(s->n_frames, 5);
	assert_int_equal(s->n_phases, 1);
	assert_int_equal(s->slices, 5);
	assert_true(fabs(s->slice_step - 2.0) < 1e-12);
	assert_null(s->skip);
	assert_true(isnan(s->phases[0].percent));
	assert_string_equal(twin_group_plane(s->first), "axial");
}

static void skips_with_reasons(void **state)
{
	struct fixture *fx = *state;
	struct twin_frame *f;

	for (int k = 0; k < 4; k++) {
		add(fx, "9.1", 1, axial, k);                       /* usable */
		f = add(fx, "9.2", 2, axial, k);                   /* derived: soft */
		snprintf(f->image_type, sizeof(f->image_type), "DERIVED\\SECONDARY\\AXIAL");
		f = add(fx, "9.3", 3, axial, k);                   /* colour */
		f->samples_per_pixel = 3;
		snprintf(f->photometric, sizeof(f->photometric), "RGB");
		f = add(fx, "9.4", 4, axial, k);                   /* secondary capture */
		snprintf(f->sop_class, sizeof(f->sop_class), "1.2.840.10008.5.1.4.1.1.7");
		f = add(fx, "9.5", 5, axial, k);                   /* localizer by ImageType */
		snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\LOCALIZER");
		f = add(fx, "9.6", 6, axial, k);                   /* not CT or MR */
		snprintf(f->modality, sizeof(f->modality), "PT");
	}
	f = add(fx, "9.7", 7, axial, 0);                           /* dose report */
	f->has_pixels = 0;
	f->has_position = 0;
	snprintf(f->sop_class, sizeof(f->sop_class), "1.2.840.10008.5.1.4.1.1.88.67");
	f = add(fx, "9.8", 8, axial, 0);                           /* no pixels, unknown class */
	f->has_pixels = 0;
	add(fx, "9.9", 9, axial, 0);                               /* one slice */
	add(fx, "9.9", 9, axial, 0.001);                           /* ...at the same place */
	group(fx);
	assert_int_equal(fx->study.n, 9);
	assert_null(find(fx, "9.1", 0)->skip);
	assert_string_equal(find(fx, "9.2", 0)->skip, "derived image");
	assert_true(find(fx, "9.2", 0)->skip_soft);
	assert_string_equal(find(fx, "9.3", 0)->skip, "colour image");
	assert_string_equal(find(fx, "9.4", 0)->skip, "secondary capture");
	assert_string_equal(find(fx, "9.5", 0)->skip, "localizer");
	assert_string_equal(find(fx, "9.6", 0)->skip, "modality is neither CT nor MR");
	assert_string_equal(find(fx, "9.7", 0)->skip, "not an image: a structured report (e.g. a dose report)");
	assert_string_equal(find(fx, "9.8", 0)->skip, "no pixel data");
	assert_string_equal(find(fx, "9.8", 0)->skip_detail, "'9.8_025.dcm': no pixel data");
	assert_string_equal(find(fx, "9.9", 0)->skip, "single slice");
	assert_false(find(fx, "9.9", 0)->skip_soft);
}

static void splits_orientations_and_spots_localizers(void **state)
{
	struct fixture *fx = *state;

	/* a three-plane scout without LOCALIZER in ImageType */
	for (int k = 0; k < 2; k++) {
		add(fx, "5.1", 1, axial, 10.0 * k);
		add(fx, "5.1", 1, coronal, 10.0 * k);
		add(fx, "5.1", 1, sagittal, 10.0 * k);
	}
	/* one UID with two real stacks */
	for (int k = 0; k < 6; k++) {
		add(fx, "5.2", 2, axial, k);
		add(fx, "5.2", 2, coronal, k);
	}
	group(fx);
	assert_int_equal(fx->study.n, 5);
	for (unsigned p = 1; p <= 3; p++)
		assert_string_equal(find(fx, "5.1", p)->skip, "localizer (a few slices in several orientations)");
	assert_null(find(fx, "5.2", 1)->skip);
	assert_null(find(fx, "5.2", 2)->skip);
	assert_string_equal(twin_group_plane(find(fx, "5.2", 2)->first), "coronal");
	assert_string_equal(twin_group_plane(find(fx, "5.1", 3)->first), "sagittal");
}

static void size_change_within_series_is_flagged(void **state)
{
	struct fixture *fx = *state;
	const struct twin_series *s;

	for (int k = 0; k < 5; k++)
		add(fx, "6.1", 1, axial, k);
	fx->f[3].rows = 16;
	group(fx);
	assert_int_equal(fx->study.n, 2);
	s = find(fx, "6.1", 1);
	assert_string_equal(s->skip, "image size differs within the series");
	assert_non_null(strstr(s->skip_detail, "'6.1_003.dcm' is 32x16"));
	assert_non_null(strstr(find(fx, "6.1", 2)->skip_detail, "'6.1_000.dcm' is 32x32"));
}

static void splits_phases_by_trigger_time_rank(void **state)
{
	struct fixture *fx = *state;
	const struct twin_series *s;
	struct twin_frame *f;

	/* 4 slices x 3 phases; trigger times jitter from slice to slice as in real cine MR */
	for (int k = 3; k >= 0; k--)
		for (int ph = 2; ph >= 0; ph--) {
			f = add(fx, "7.1", 1, axial, 8.0 * k);
			f->trigger_time = 250.0 * ph + 0.7 * k;
		}
	group(fx);
	assert_int_equal(fx->study.n, 1);
	s = &fx->study.series[0];
	assert_null(s->skip);
	assert_int_equal(s->n_phases, 3);
	assert_int_equal(s->slices, 4);
	assert_true(fabs(s->slice_step - 8) < 1e-12);
	for (int ph = 0; ph < 3; ph++) {
		assert_int_equal(s->phases[ph].n, 4);
		assert_true(s->phases[ph].percent_estimated);
		assert_true(fabs(s->phases[ph].percent - 100.0 * ph / 3) < 1e-9);
		assert_true(fabs(s->phases[ph].trigger_time - (250.0 * ph + 0.7 * 1.5)) < 1e-9);
		for (size_t i = 0; i < 4; i++)
			assert_true(fabs(s->phases[ph].frames[i]->trigger_time - 250.0 * ph) < 3);
	}
}

static void splits_phases_by_nominal_percent(void **state)
{
	struct fixture *fx = *state;
	const struct twin_series *s;
	struct twin_frame *f;
	const double pc[4] = { 75, 0, 50, 25 };

	for (int ph = 0; ph < 4; ph++)
		for (int k = 0; k < 5; k++) {
			f = add(fx, "8.1", 1, axial, k);
			f->phase_percent = pc[ph];
			f->trigger_time = 10.0 * pc[ph] + k; /* varies per slice: not a key here */
		}
	group(fx);
	s = &fx->study.series[0];
	assert_int_equal(s->n_phases, 4);
	for (int ph = 0; ph < 4; ph++) {
		assert_int_equal(s->phases[ph].n, 5);
		assert_false(s->phases[ph].percent_estimated);
		assert_true(fabs(s->phases[ph].percent - 25.0 * ph) < 1e-12);
	}
}

static void one_phase_when_positions_do_not_repeat(void **state)
{
	struct fixture *fx = *state;
	struct twin_frame *f;

	/* prospectively gated CT: every slice has its own trigger time */
	for (int k = 0; k < 6; k++) {
		f = add(fx, "4.1", 1, axial, k);
		f->trigger_time = 700 + 3.0 * k;
	}
	group(fx);
	assert_int_equal(fx->study.series[0].n_phases, 1);
	assert_int_equal(fx->study.series[0].phases[0].n, 6);
	assert_true(isnan(fx->study.series[0].phases[0].percent));
}

static void repeats_split_by_instance_number(void **state)
{
	struct fixture *fx = *state;
	const struct twin_series *s;
	struct twin_frame *f;

	/* two acquisitions of 3 slices, no cardiac timing; one more series with a doubled slice */
	for (int rep = 1; rep >= 0; rep--)
		for (int k = 0; k < 3; k++) {
			f = add(fx, "3.1", 1, axial, 4.0 * k);
			f->instance_number = 10 * rep + k;
		}
	for (int k = 0; k < 4; k++)
		add(fx, "3.2", 2, axial, k == 3 ? 2 : k);
	group(fx);
	s = find(fx, "3.1", 0);
	assert_true(s->repeats);
	assert_int_equal(s->n_phases, 2);
	for (int rep = 0; rep < 2; rep++) {
		assert_int_equal(s->phases[rep].n, 3);
		assert_true(isnan(s->phases[rep].percent));
		for (size_t i = 0; i < 3; i++)
			assert_true(s->phases[rep].frames[i]->instance_number / 10 == rep);
	}
	/* one doubled position is not a repeat: left for geometry to refuse */
	assert_int_equal(find(fx, "3.2", 0)->n_phases, 1);
	assert_int_equal(find(fx, "3.2", 0)->phases[0].n, 4);
}

static void mosaic_only_when_not_cut(void **state)
{
	struct fixture *fx = *state;
	struct twin_frame *f;

	for (int k = 0; k < 3; k++) {
		f = add(fx, "2.1", 1, axial, k);
		snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC");
		f = add(fx, "2.2", 2, axial, k);
		snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC");
		f->tile = (unsigned)k + 1;
	}
	group(fx);
	assert_string_equal(find(fx, "2.1", 0)->skip, "siemens mosaic: not cut into slices");
	assert_true(find(fx, "2.1", 0)->skip_unsupported);
	assert_null(find(fx, "2.2", 0)->skip);
}

static void files_without_uid_stand_alone(void **state)
{
	struct fixture *fx = *state;

	for (int k = 0; k < 3; k++)
		add(fx, "", 1, axial, k);
	fx->f[1].rows = 16;
	group(fx);
	assert_int_equal(fx->study.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(fx->study.series[i].part, 0);
		assert_string_equal(fx->study.series[i].skip, "single slice");
	}
}

static void file_without_pixels_is_set_apart(void **state)
{
	struct fixture *fx = *state;

	for (int k = 0; k < 6; k++)
		add(fx, "8.8", 1, axial, k);
	fx->f[2].has_pixels = 0;
	group(fx);
	assert_int_equal(fx->study.n, 2);
	assert_null(find(fx, "8.8", 1)->skip);
	assert_int_equal(find(fx, "8.8", 1)->n_frames, 5);
	assert_string_equal(find(fx, "8.8", 2)->skip_detail, "'8.8_002.dcm': no pixel data");
}

static void plane_names(void **state)
{
	struct twin_frame f;
	const double oblique[6] = { 0.8, 0.6, 0, 0, 0, -1 };
	const double tilted[6] = { 1, 0, 0, 0, 0.9962, -0.0872 }; /* 5 degrees off axial */

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_string_equal(twin_group_plane(&f), "-");
	f.has_position = 1;
	memcpy(f.iop, oblique, sizeof(f.iop));
	assert_string_equal(twin_group_plane(&f), "oblique");
	memcpy(f.iop, tilted, sizeof(f.iop));
	assert_string_equal(twin_group_plane(&f), "axial");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(groups_by_uid_and_orders_by_number, setup, teardown),
		cmocka_unit_test_setup_teardown(skips_with_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(splits_orientations_and_spots_localizers, setup, teardown),
		cmocka_unit_test_setup_teardown(size_change_within_series_is_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(splits_phases_by_trigger_time_rank, setup, teardown),
		cmocka_unit_test_setup_teardown(splits_phases_by_nominal_percent, setup, teardown),
		cmocka_unit_test_setup_teardown(one_phase_when_positions_do_not_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(repeats_split_by_instance_number, setup, teardown),
		cmocka_unit_test_setup_teardown(mosaic_only_when_not_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(files_without_uid_stand_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(file_without_pixels_is_set_apart, setup, teardown),
		cmocka_unit_test(plane_names),
	};

	return cmocka_run_group_tests_name("ingest_group", tests, NULL, NULL);
}
