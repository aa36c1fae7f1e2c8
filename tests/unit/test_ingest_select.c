#include "twin_test.h"

#include <math.h>

#include "../../ingest/frame.h"
#include "../../ingest/group.h"
#include "../../ingest/select.h"

#define MAXF 256

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

/* A series of n axial slices step mm apart, each with phases percents. */
static void series(struct fixture *fx, const char *uid, int number, const char *modality, const char *desc,
		   size_t n, double step, const double *percent, size_t phases)
{
	for (size_t ph = 0; ph < (phases ? phases : 1); ph++)
		for (size_t k = 0; k < n; k++) {
			struct twin_frame *f = &fx->f[fx->n];
			char name[64];

			assert_true(fx->n < MAXF);
			snprintf(name, sizeof(name), "%s_%03zu.dcm", uid, fx->n);
			fx->n++;
			f->path = strdup(name);
			snprintf(f->series_uid, sizeof(f->series_uid), "%s", uid);
			snprintf(f->sop_class, sizeof(f->sop_class), "1.2.840.10008.5.1.4.1.1.4");
			snprintf(f->modality, sizeof(f->modality), "%s", modality);
			snprintf(f->description, sizeof(f->description), "%s", desc);
			snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\AXIAL");
			snprintf(f->photometric, sizeof(f->photometric), "MONOCHROME2");
			f->series_number = number;
			f->rows = f->cols = 16;
			f->samples_per_pixel = 1;
			f->has_pixels = 1;
			f->has_position = 1;
			f->iop[0] = f->iop[4] = 1;
			f->ipp[2] = step * (double)k;
			f->spacing[0] = f->spacing[1] = 1;
			f->trigger_time = NAN;
			f->phase_percent = phases ? percent[ph] : NAN;
			f->temporal_position = -1;
		}
}

static void group(struct fixture *fx)
{
	assert_ok(fx->err, twin_group_frames(&fx->err, &fx->study, fx->f, fx->n));
}

static const char *chosen(struct fixture *fx, const char *spec)
{
	size_t i = 999;

	assert_ok(fx->err, twin_select_series(&fx->err, &fx->study, spec, &i));
	assert_true(i < fx->study.n);
	return fx->study.series[i].first->series_uid;
}

static void default_is_thinnest_largest_ct(void **state)
{
	struct fixture *fx = *state;

	series(fx, "1.1", 1, "MR", "cine", 60, 1.0, NULL, 0);
	series(fx, "1.2", 2, "CT", "thick", 40, 1.0, NULL, 0);
	series(fx, "1.3", 3, "CT", "thin", 40, 0.5, NULL, 0);
	series(fx, "1.4", 4, "CT", "few", 20, 0.25, NULL, 0);
	group(fx);
	assert_string_equal(chosen(fx, NULL), "1.3");
	assert_string_equal(chosen(fx, ""), "1.3");
}

static void mr_when_there_is_no_ct(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	series(fx, "2.1", 1, "MR", "short axis", 12, 8, NULL, 0);
	series(fx, "2.2", 2, "MR", "scout", 30, 8, NULL, 0);
	series(fx, "2.3", 3, "CT", "colour", 50, 1, NULL, 0);
	/* 2.2 is frames 12..41, a localizer; 2.3 is frames 42..91, colour */
	for (i = 12; i < 42; i++)
		memcpy(fx->f[i].image_type, "ORIGINAL\\PRIMARY\\LOCALIZER", 27);
	for (i = 42; i < 92; i++)
		fx->f[i].samples_per_pixel = 3;
	group(fx);
	assert_string_equal(chosen(fx, NULL), "2.1");
	assert_string_equal(fx->study.series[1].skip, "localizer");
	assert_string_equal(fx->study.series[2].skip, "colour image");
	/* only colour left: valid data of a kind not handled */
	assert_int_equal(twin_select_series(&fx->err, &fx->study, "3", &i), -1);
	assert_err(fx->err, TWIN_EUNSUPPORTED, "series '3' cannot be used: series 3: '2.3_042.dcm': colour image");
	twin_err_init(&fx->err);
	assert_int_equal(twin_select_series(&fx->err, &fx->study, "2", &i), -1);
	assert_err(fx->err, TWIN_EINPUT, "series '2' cannot be used: series 2: '2.2_012.dcm': localizer");
}

static void derived_only_when_nothing_else(void **state)
{
	struct fixture *fx = *state;

	series(fx, "3.1", 1, "CT", "mpr", 80, 0.5, NULL, 0);
	for (size_t i = 0; i < fx->n; i++)
		snprintf(fx->f[i].image_type, sizeof(fx->f[i].image_type), "DERIVED\\SECONDARY\\AXIAL");
	group(fx);
	assert_string_equal(chosen(fx, NULL), "3.1");
	twin_group_release(&fx->study);
	series(fx, "3.2", 2, "CT", "original", 20, 2, NULL, 0);
	group(fx);
	assert_string_equal(chosen(fx, NULL), "3.2");
	assert_string_equal(chosen(fx, "1"), "3.1");
}

static void named_by_number_uid_hash_or_pattern(void **state)
{
	struct fixture *fx = *state;
	char hash[TWIN_UID_HASH];

	series(fx, "1.2.840.5", 5, "CT", "Cardiac 0.6 CTA", 10, 1, NULL, 0);
	series(fx, "1.2.840.6", 6, "CT", "Lung 1.0", 30, 1, NULL, 0);
	group(fx);
	assert_string_equal(chosen(fx, "5"), "1.2.840.5");
	assert_string_equal(chosen(fx, "1.2.840.5"), "1.2.840.5");
	assert_string_equal(chosen(fx, "*CTA*"), "1.2.840.5");
	assert_string_equal(chosen(fx, "L*"), "1.2.840.6");
	assert_ok(fx->err, twin_select_uid_hash(&fx->err, "1.2.840.5", hash));
	assert_int_equal(strlen(hash), 18);
	assert_memory_equal(hash, "h:", 2);
	assert_string_equal(chosen(fx, hash), "1.2.840.5");
	hash[10] = 0; /* a prefix of the hash is enough */
	assert_string_equal(chosen(fx, hash), "1.2.840.5");
}

static void named_part_of_a_split_series(void **state)
{
	struct fixture *fx = *state;
	size_t i = 99;

	series(fx, "1.2.840.7", 7, "CT", "two planes", 10, 1, NULL, 0);
	series(fx, "1.2.840.7", 7, "CT", "two planes", 10, 1, NULL, 0);
	/* the second ten frames: sagittal */
	for (i = 10; i < 20; i++) {
		fx->f[i].iop[0] = 0;
		fx->f[i].iop[1] = 1;
		fx->f[i].iop[4] = 0;
		fx->f[i].iop[5] = -1;
		fx->f[i].ipp[0] = fx->f[i].ipp[2];
		fx->f[i].ipp[2] = 0;
	}
	group(fx);
	assert_int_equal(fx->study.n, 2);
	assert_ok(fx->err, twin_select_series(&fx->err, &fx->study, "7.2", &i));
	assert_int_equal(fx->study.series[i].part, 2);
	assert_ok(fx->err, twin_select_series(&fx->err, &fx->study, "7.1", &i));
	assert_int_equal(fx->study.series[i].part, 1);
	assert_int_equal(twin_select_series(&fx->err, &fx->study, "7.3", &i), -1);
	assert_err(fx->err, TWIN_ECONFIG, "no series matches ingest.series '7.3'");
}

static void uid_hash_is_stable(void **state)
{
	struct twin_err err;
	char a[TWIN_UID_HASH], b[TWIN_UID_HASH];

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_select_uid_hash(&err, "1.2.3", a));
	assert_ok(err, twin_select_uid_hash(&err, "1.2.3", b));
	assert_string_equal(a, b);
	/* SHA-256("1.2.3") begins c47f5b18b8a430e6: checked with sha256sum */
	assert_string_equal(a, "h:" "c47f5b18b8a430e6");
	assert_ok(err, twin_select_uid_hash(&err, "1.2.4", b));
	assert_string_not_equal(a, b);
}

static void no_match_and_nothing_usable(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	series(fx, "4.1", 1, "CT", "one", 1, 1, NULL, 0);
	group(fx);
	assert_int_equal(twin_select_series(&fx->err, &fx->study, "77", &i), -1);
	assert_err(fx->err, TWIN_ECONFIG, "no series matches ingest.series '77'");
	twin_err_init(&fx->err);
	assert_int_equal(twin_select_series(&fx->err, &fx->study, NULL, &i), -1);
	assert_err(fx->err, TWIN_EINPUT, "no usable series: series 1: '4.1_000.dcm': single slice");
	twin_err_init(&fx->err);
	assert_int_equal(twin_select_series(&fx->err, &fx->study, "1", &i), -1);
	assert_err(fx->err, TWIN_EINPUT, "series '1' cannot be used: series 1: '4.1_000.dcm': single slice");
}

static void phase_by_percent_or_index(void **state)
{
	struct fixture *fx = *state;
	const double pc[10] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 };
	struct twin_phase want;
	const struct twin_series *s;
	size_t i = 99;

	series(fx, "5.1", 1, "CT", "cardiac", 4, 1, pc, 10);
	group(fx);
	s = &fx->study.series[0];
	assert_int_equal(s->n_phases, 10);
	memset(&want, 0, sizeof(want));
	want.is_percent = 1;
	want.percent = 73;
	assert_ok(fx->err, twin_select_phase(&fx->err, s, &want, &i));
	assert_int_equal(i, 7);
	want.percent = 77;
	assert_ok(fx->err, twin_select_phase(&fx->err, s, &want, &i));
	assert_int_equal(i, 8);
	want.is_percent = 0;
	want.index = 3;
	assert_ok(fx->err, twin_select_phase(&fx->err, s, &want, &i));
	assert_int_equal(i, 3);
	want.index = 10;
	assert_int_equal(twin_select_phase(&fx->err, s, &want, &i), -1);
	assert_err(fx->err, TWIN_ECONFIG, "ingest.phase 10: the series has 10 phases, 0 to 9");
}

static void phase_75_estimated_from_rank(void **state)
{
	struct fixture *fx = *state;
	struct twin_phase want = { 1, 75, 0 };
	size_t i = 99;

	/* 20 phases by trigger time only, as in cine MR: 75 % is the 16th */
	for (size_t ph = 0; ph < 20; ph++) {
		size_t first = fx->n;

		series(fx, "6.1", 1, "MR", "cine", 6, 10, NULL, 0);
		for (size_t k = first; k < fx->n; k++)
			fx->f[k].trigger_time = 40.0 * (double)ph + 0.1 * (double)(k - first);
	}
	group(fx);
	assert_int_equal(fx->study.series[0].n_phases, 20);
	assert_ok(fx->err, twin_select_phase(&fx->err, &fx->study.series[0], &want, &i));
	assert_int_equal(i, 15);
	assert_true(fabs(fx->study.series[0].phases[15].trigger_time - 600.25) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(default_is_thinnest_largest_ct, setup, teardown),
		cmocka_unit_test_setup_teardown(mr_when_there_is_no_ct, setup, teardown),
		cmocka_unit_test_setup_teardown(derived_only_when_nothing_else, setup, teardown),
		cmocka_unit_test_setup_teardown(named_by_number_uid_hash_or_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(named_part_of_a_split_series, setup, teardown),
		cmocka_unit_test(uid_hash_is_stable),
		cmocka_unit_test_setup_teardown(no_match_and_nothing_usable, setup, teardown),
		cmocka_unit_test_setup_teardown(phase_by_percent_or_index, setup, teardown),
		cmocka_unit_test_setup_teardown(phase_75_estimated_from_rank, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest_select", tests, NULL, NULL);
}
