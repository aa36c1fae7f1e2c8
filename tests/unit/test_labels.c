#include "twin_test.h"

#include <math.h>

#include <libxml/parser.h>

#include "labels.h"

static int setup(void **state)
{
	*state = twin_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

static struct twin_volume *new_volume(enum twin_dtype dtype, size_t x, size_t y, size_t z)
{
	const size_t dim[3] = { x, y, z };
	struct twin_affine a;
	struct twin_volume *v;
	struct twin_err err;

	twin_err_init(&err);
	twin_affine_identity(&a);
	a.m[0][3] = -12.5;
	a.m[2][3] = 40.0;
	v = twin_volume_new(&err, dtype, dim, &a);
	assert_ptr_ok(err, v);
	return v;
}

static void lookup_both_ways(void **state)
{
	static const char *names[] = {
		"background", "heart_myocardium", "heart_atrium_left", "heart_ventricle_left",
		"heart_atrium_right", "heart_ventricle_right", "aorta", "pulmonary_artery",
		"heart_myocardium_right",
	};
	static const char *shorts[] = { "BG", "LV_myo", "LA", "LV", "RA", "RV", "Ao", "PA", "RV_myo" };

	(void)state;
	assert_int_equal(twin_label_count(), 9);
	for (long id = 0; id < 9; id++) {
		const struct twin_label *l = twin_label_by_id(id);

		assert_non_null(l);
		assert_int_equal(l->id, id);
		assert_string_equal(l->name, names[id]);
		assert_string_equal(l->short_name, shorts[id]);
		assert_ptr_equal(twin_label_by_name(names[id]), l);
		assert_true(strlen(l->display) > 0);
		assert_int_equal(l->kind, id == 0 ? TWIN_LABEL_BACKGROUND :
					  id == 1 || id == 8 ? TWIN_LABEL_WALL : TWIN_LABEL_BLOOD);
		/* only the RV wall comes from twin-mesh rather than a segmentation */
		assert_int_equal(l->grown, id == 8);
	}
	assert_string_equal(twin_label_by_id(1)->display, "LV myocardium");
	assert_string_equal(twin_label_by_id(2)->display, "left atrium");
	assert_null(twin_label_by_id(-1));
	assert_string_equal(twin_label_by_id(8)->display, "RV myocardium");
	assert_null(twin_label_by_id(9));
	assert_null(twin_label_by_name("LV"));
	assert_null(twin_label_by_name("Aorta"));
	assert_null(twin_label_by_name(""));
	assert_string_equal(twin_label_kind_name(TWIN_LABEL_WALL), "wall");
}

static void colours_are_distinct(void **state)
{
	size_t n = twin_label_count();

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			const unsigned char *a = twin_label_by_id((long)i)->rgb, *b = twin_label_by_id((long)j)->rgb;
			double d = sqrt(pow(a[0] - b[0], 2) + pow(a[1] - b[1], 2) + pow(a[2] - b[2], 2));

			if (d < 80)
				fail_msg("labels %zu and %zu have colours only %.0f apart", i, j, d);
		}
	}
	/* LV blood is red, RV blue: the usual reading. */
	assert_true(twin_label_by_id(3)->rgb[0] > 150 && twin_label_by_id(3)->rgb[2] < 80);
	assert_true(twin_label_by_id(5)->rgb[2] > 150 && twin_label_by_id(5)->rgb[0] < 80);
}

static void remap_mmwhs(void **state)
{
	static const int16_t codes[] = { 0, 205, 420, 500, 550, 600, 820, 850, 500, 0, 205, 850 };
	static const uint8_t want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 3, 0, 1, 7 };
	struct twin_labels_map *map;
	struct twin_volume *v, *out;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	map = twin_labels_map_new(&err, "mmwhs");
	assert_ptr_ok(err, map);
	v = new_volume(TWIN_I16, 3, 2, 2);
	memcpy(v->data, codes, sizeof(codes));
	out = twin_labels_remap(&err, map, v);
	assert_ptr_ok(err, out);
	assert_int_equal(out->dtype, TWIN_U8);
	assert_true(out->dim[0] == 3 && out->dim[1] == 2 && out->dim[2] == 2);
	assert_memory_equal(out->data, want, sizeof(want));
	assert_memory_equal(&out->affine, &v->affine, sizeof(v->affine));
	assert_int_equal(twin_labels_map_get(map, 820), 6);
	assert_int_equal(twin_labels_map_get(map, 0), 0);
	assert_int_equal(twin_labels_map_get(map, 1), -1);
	assert_int_equal(twin_labels_map_get(map, 70000), -1);
	twin_volume_free(out);

	/* An id without a mapping names itself and its voxels. */
	((int16_t *)v->data)[0] = 421;
	((int16_t *)v->data)[9] = 421;
	((int16_t *)v->data)[4] = 421;
	assert_null(twin_labels_remap(&err, map, v));
	assert_err(err, TWIN_EINPUT, "label map 'mmwhs': id 421 (3 voxels) has no mapping");
	((int16_t *)v->data)[5] = -7;
	twin_err_init(&err);
	assert_null(twin_labels_remap(&err, map, v));
	assert_err(err, TWIN_EINPUT, "label map 'mmwhs': id -7 (1 voxel), id 421 (3 voxels) have no mapping");
	twin_volume_free(v);
	twin_labels_map_free(map);

	twin_err_init(&err);
	assert_null(twin_labels_map_new(&err, "mmwhs2"));
	assert_err(err, TWIN_ECONFIG, "unknown label map 'mmwhs2'");
}

static void remap_totalsegmentator_and_float(void **state)
{
	struct twin_labels_map *map;
	struct twin_volume *v, *out;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	map = twin_labels_map_new(&err, "totalsegmentator");
	assert_ptr_ok(err, map);
	v = new_volume(TWIN_U8, 8, 1, 1);
	for (int i = 0; i < 8; i++)
		((uint8_t *)v->data)[i] = (uint8_t)(7 - i);
	out = twin_labels_remap(&err, map, v);
	assert_ptr_ok(err, out);
	assert_memory_equal(out->data, v->data, 8);
	twin_volume_free(out);
	((uint8_t *)v->data)[2] = 8;
	assert_null(twin_labels_remap(&err, map, v));
	assert_err(err, TWIN_EINPUT, "label map 'totalsegmentator': id 8 (1 voxel) has no mapping");
	twin_volume_free(v);

	v = new_volume(TWIN_F32, 2, 2, 1);
	((float *)v->data)[1] = 3.0f;
	((float *)v->data)[3] = 6.0f;
	twin_err_init(&err);
	out = twin_labels_remap(&err, map, v);
	assert_ptr_ok(err, out);
	assert_int_equal(((uint8_t *)out->data)[1], 3);
	assert_int_equal(((uint8_t *)out->data)[3], 6);
	twin_volume_free(out);
	((float *)v->data)[2] = 2.5f;
	assert_null(twin_labels_remap(&err, map, v));
	assert_err(err, TWIN_EINPUT, "label volume: voxel (0, 1, 0) holds 2.5, not a label id");
	twin_volume_free(v);
	twin_labels_map_free(map);
}

/* Loads a CSV map from memory (from_file 0) or from a file; same name either way. */
static struct twin_labels_map *load_csv(struct twin_err *err, const char *dir, const char *text,
					size_t len, int from_file)
{
	const char *path = twin_test_path(dir, "map.csv");

	twin_err_init(err);
	if (!from_file)
		return twin_labels_map_load_mem(err, path, text, len);
	twin_test_write_file(path, text, len);
	return twin_labels_map_load(err, path);
}

static void csv_map_from_string_and_file(void **state)
{
	const char text[] =
		"\xef\xbb\xbf# site X exports\r\n"
		"source_id , target\r\n"
		"\r\n"
		"  10, heart_ventricle_left   # LV\r\n"
		"11,7\r\n"
		"-3,background\n"
		"0,aorta\n"
		"12,heart_myocardium";

	for (int mode = 0; mode < 2; mode++) {
		struct twin_labels_map *map;
		struct twin_err err;

		map = load_csv(&err, *state, text, strlen(text), mode);
		assert_ptr_ok(err, map);
		assert_int_equal(twin_labels_map_get(map, 10), 3);
		assert_int_equal(twin_labels_map_get(map, 11), 7);
		assert_int_equal(twin_labels_map_get(map, -3), 0);
		assert_int_equal(twin_labels_map_get(map, 0), 6);
		assert_int_equal(twin_labels_map_get(map, 12), 1);
		assert_int_equal(twin_labels_map_get(map, 13), -1);
		assert_int_equal(twin_labels_map_get(map, 1), -1);
		twin_labels_map_free(map);

		/* Without a row for 0, background stays background. */
		map = load_csv(&err, *state, "5,1\n", 4, mode);
		assert_ptr_ok(err, map);
		assert_int_equal(twin_labels_map_get(map, 0), 0);
		twin_labels_map_free(map);
	}
}

static void csv_shipped_file_equals_preset(void **state)
{
	struct twin_labels_map *file, *preset;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	file = twin_labels_map_load(&err, "tests/data/labels/mmwhs.csv");
	assert_ptr_ok(err, file);
	preset = twin_labels_map_new(&err, "mmwhs");
	assert_ptr_ok(err, preset);
	for (long s = TWIN_LABELS_MAP_MIN; s <= TWIN_LABELS_MAP_MAX; s++)
		if (twin_labels_map_get(file, s) != twin_labels_map_get(preset, s))
			fail_msg("source %ld: file says %d, preset %d", s, twin_labels_map_get(file, s),
				 twin_labels_map_get(preset, s));
	twin_labels_map_free(file);
	twin_labels_map_free(preset);
	assert_null(twin_labels_map_load(&err, "tests/data/labels/absent.csv"));
	assert_err(err, TWIN_EIO, "label map: cannot open 'tests/data/labels/absent.csv'");
}

static void csv_errors_name_file_and_line(void **state)
{
	static char longline[2000];
	struct {
		const char *text;
		size_t len;
		const char *want;
	} cases[] = {
		{ "# ok\n1,2\nabc,2\n", 0, "map.csv':3: source id 'abc' is not a whole number: 'abc,2'" },
		{ "1,2\n\n3\n", 0, "map.csv':3: expected 'source_id,target': '3'" },
		{ "1,2,3 # three\n", 0, "map.csv':1: expected 'source_id,target': '1,2,3'" },
		{ "1,2\n2,left_atrium\n", 0, "map.csv':2: target 'left_atrium' is not a label id or name: '2,left_atrium'" },
		{ "1,9\n", 0, "map.csv':1: target '9' is not a label id or name: '1,9'" },
		{ "1,2\n\n1,3\n", 0, "map.csv':3: source id 1 is mapped twice: '1,3'" },
		{ "70000,2\n", 0, "map.csv':1: source id 70000 is outside -32768..65535: '70000,2'" },
		{ "1.5,2\n", 0, "map.csv':1: source id '1.5' is not a whole number: '1.5,2'" },
		{ ",2\n", 0, "map.csv':1: source id '' is not a whole number: ',2'" },
		{ "# nothing\n\nsource_id,target\n", 0, "map.csv': no 'source_id,target' lines" },
		{ "", 0, "map.csv': no 'source_id,target' lines" },
		{ "1,2\n3,\0" "4\n", 9, "map.csv':2: line holds a NUL byte" },
		{ longline, 0, "map.csv':2: line is longer than 1024 bytes" },
	};

	memset(longline, ' ', sizeof(longline) - 1);
	memcpy(longline, "1,2\n", 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int mode = 0; mode < 2; mode++) {
			size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
			struct twin_labels_map *map;
			struct twin_err err;
			char want[4200];

			map = load_csv(&err, *state, cases[i].text, len, mode);
			if (map)
				fail_msg("case %zu mode %d was accepted", i, mode);
			snprintf(want, sizeof(want), "label map '%s/%s", (const char *)*state, cases[i].want);
			assert_err(err, TWIN_ECONFIG, want);
		}
	}
}

static void csv_zero_target_silences_an_id(void **state)
{
	struct twin_labels_map *map;
	struct twin_volume *v, *out;
	struct twin_err err;

	map = load_csv(&err, *state, "205,1\n421,background\n", 21, 0);
	assert_ptr_ok(err, map);
	v = new_volume(TWIN_I16, 3, 1, 1);
	((int16_t *)v->data)[0] = 205;
	((int16_t *)v->data)[1] = 421;
	out = twin_labels_remap(&err, map, v);
	assert_ptr_ok(err, out);
	assert_int_equal(((uint8_t *)out->data)[0], 1);
	assert_int_equal(((uint8_t *)out->data)[1], 0);
	assert_int_equal(((uint8_t *)out->data)[2], 0);
	twin_volume_free(out);
	twin_volume_free(v);
	twin_labels_map_free(map);
}

/* An anisotropic, sheared, rotated, mirrored grid: each voxel is 0.5 x 0.8 x 2.0 mm, 0.8 mm^3. */
static void oblique_affine(struct twin_affine *a)
{
	const double c = cos(M_PI / 6), s = sin(M_PI / 6);
	/* R(30 deg about z) * shear(x += 0.3 z) * diag(0.5, 0.8, -2.0) */
	const double m[3][3] = {
		{ c * 0.5, -s * 0.8, c * 0.3 * -2.0 },
		{ s * 0.5, c * 0.8, s * 0.3 * -2.0 },
		{ 0, 0, -2.0 },
	};

	twin_affine_identity(a);
	for (int r = 0; r < 3; r++)
		for (int k = 0; k < 3; k++)
			a->m[r][k] = m[r][k];
	a->m[0][3] = 10;
	a->m[1][3] = -20;
	a->m[2][3] = 30;
}

static void measure_oblique_volume(void **state)
{
	const size_t dim[3] = { 5, 4, 3 };
	struct twin_labels_file *lf;
	struct twin_volume *v;
	struct twin_affine a;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	oblique_affine(&a);
	v = twin_volume_new(&err, TWIN_U8, dim, &a);
	assert_ptr_ok(err, v);
	for (size_t i = 0; i < 12; i++)
		((uint8_t *)v->data)[i * 5 % 60] = 3;  /* 12 distinct voxels */
	for (size_t i = 0; i < 7; i++)
		((uint8_t *)v->data)[i * 5 + 1] = 1;
	lf = twin_labels_file_new(&err);
	assert_ptr_ok(err, lf);
	assert_int_equal(lf->count, 9);
	assert_int_equal(lf->entries[3].measured, 0);
	assert_ok(err, twin_labels_measure(&err, lf, v));
	/* 12 voxels of 0.8 mm^3 = 0.0096 mL; 7 -> 0.0056 mL; background 41 -> 0.0328 mL. */
	assert_true(lf->entries[3].measured && lf->entries[3].voxels == 12);
	assert_true(fabs(lf->entries[3].volume_ml - 0.0096) < 1e-12);
	assert_true(lf->entries[1].voxels == 7);
	assert_true(fabs(lf->entries[1].volume_ml - 0.0056) < 1e-12);
	assert_true(lf->entries[0].voxels == 41);
	assert_true(fabs(lf->entries[0].volume_ml - 0.0328) < 1e-12);
	assert_true(lf->entries[6].measured && lf->entries[6].voxels == 0 && lf->entries[6].volume_ml == 0);

	((uint8_t *)v->data)[59] = 9;
	((uint8_t *)v->data)[58] = 9;
	assert_int_equal(twin_labels_measure(&err, lf, v), -1);
	assert_err(err, TWIN_EINPUT, "label volume: id 9 (2 voxels) has no row in the label table");
	twin_labels_file_free(lf);
	twin_volume_free(v);
}

static void labels_xml_round_trip(void **state)
{
	const char *path = twin_test_path(*state, "labels.xml");
	struct twin_labels_file *lf, *back;
	struct twin_volume *v;
	struct twin_err err;
	size_t len = 0;
	char *text;

	twin_err_init(&err);
	v = new_volume(TWIN_U8, 10, 10, 10);
	memset(v->data, 2, 250);
	memset((char *)v->data + 250, 7, 3);
	lf = twin_labels_file_new(&err);
	assert_ptr_ok(err, lf);
	assert_ok(err, twin_labels_measure(&err, lf, v));
	lf->entries[4].rgb[1] = 7;  /* a recoloured label keeps its colour */
	assert_ok(err, twin_labels_save(&err, path, lf));
	text = twin_test_read_file(path, &len);
	assert_non_null(strstr(text, "<labels version=\"1\">"));
	assert_non_null(strstr(text, "name=\"heart_atrium_left\" short=\"LA\" display=\"left atrium\" kind=\"blood\" "
				     "color=\"#fa96b4\" voxels=\"250\" volume_ml=\"0.250000\""));
	free(text);

	back = twin_labels_load(&err, path);
	assert_ptr_ok(err, back);
	assert_int_equal(back->count, lf->count);
	for (size_t i = 0; i < lf->count; i++) {
		assert_ptr_equal(back->entries[i].label, lf->entries[i].label);
		assert_memory_equal(back->entries[i].rgb, lf->entries[i].rgb, 3);
		assert_int_equal(back->entries[i].measured, 1);
		assert_true(back->entries[i].voxels == lf->entries[i].voxels);
		assert_true(fabs(back->entries[i].volume_ml - lf->entries[i].volume_ml) < 1e-6);
	}
	assert_int_equal(back->entries[4].rgb[1], 7);
	assert_true(back->entries[7].voxels == 3 && fabs(back->entries[7].volume_ml - 0.003) < 1e-9);
	assert_true(back->entries[0].voxels == 747);
	twin_labels_file_free(back);

	/* Unmeasured entries carry no statistics. */
	lf->entries[2].measured = 0;
	assert_ok(err, twin_labels_save(&err, path, lf));
	back = twin_labels_load(&err, path);
	assert_ptr_ok(err, back);
	assert_int_equal(back->entries[2].measured, 0);
	assert_int_equal(back->entries[3].measured, 1);
	twin_labels_file_free(back);
	twin_labels_file_free(lf);
	twin_volume_free(v);

	back = twin_labels_load(&err, "tests/data/labels/labels.xml");
	assert_ptr_ok(err, back);
	assert_int_equal(back->count, 3);
	assert_int_equal(back->entries[1].label->id, 1);
	assert_int_equal(back->entries[1].rgb[0], 0xc4);
	assert_true(back->entries[1].voxels == 1500 && back->entries[1].volume_ml == 12.0);
	assert_int_equal(back->entries[0].measured, 0);
	twin_labels_file_free(back);
}

/* Loads labels.xml text from memory and from a file; both must agree. */
static struct twin_labels_file *load_xml(struct twin_err *err, const char *dir, const char *text, int from_file)
{
	const char *path = twin_test_path(dir, "labels.xml");

	twin_err_init(err);
	if (!from_file)
		return twin_labels_load_mem(err, path, text, strlen(text));
	twin_test_write_file(path, text, strlen(text));
	return twin_labels_load(err, path);
}

static void corrupt_labels_xml(void **state)
{
	struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "<labels version=\"1\">\n<label id=\"1\"\n", "labels.xml': line 3: " },
		{ "", "labels.xml': file is empty" },
		{ "<labels version=\"1\"/>", "labels.xml': line 1: element 'labels': Missing child element(s)" },
		{ "<labels version=\"1\">\n<label id=\"3\" name=\"aorta\" color=\"#ff0000\"/>\n</labels>",
		  "labels.xml': line 2: label 3 is named 'aorta', the table says 'heart_ventricle_left'" },
		{ "<labels version=\"1\">\n<label id=\"9\" name=\"heart_myocardium_right\" color=\"#ff0000\"/>\n</labels>",
		  "labels.xml': line 2: id 9 is not in the label table (0..8)" },
		{ "<labels version=\"1\">\n<label id=\"300\" name=\"aorta\" color=\"#ff0000\"/>\n</labels>",
		  "labels.xml': line 2: element 'label', attribute 'id': '300' is not a valid value" },
		{ "<labels version=\"1\">\n<label id=\"6\" name=\"aorta\" color=\"red\"/>\n</labels>",
		  "labels.xml': line 2: element 'label', attribute 'color': [facet 'pattern']" },
		{ "<labels version=\"1\">\n<label id=\"6\" name=\"aorta\" color=\"#ff0000\" voxels=\"4\"/>\n</labels>",
		  "labels.xml': line 2: label 'aorta' has voxels but no volume_ml" },
		{ "<labels version=\"1\">\n<label id=\"6\" name=\"aorta\" color=\"#ff0000\" voxels=\"4\" volume_ml=\"-1\"/>\n</labels>",
		  "labels.xml': line 2: element 'label', attribute 'volume_ml': [facet 'minInclusive']" },
		{ "<labels version=\"1\">\n<label id=\"6\" name=\"aorta\" color=\"#ff0000\"/>\n"
		  "<label id=\"6\" name=\"pulmonary_artery\" color=\"#ff0000\"/>\n</labels>",
		  "labels.xml': line 3: element 'label': Duplicate key-sequence ['6'] in unique identity-constraint 'labelId'" },
		{ "<labels version=\"1\">\n<label id=\"6\" name=\"aorta\" color=\"#ff0000\"/>\n"
		  "<label id=\"7\" name=\"aorta\" color=\"#ff0000\"/>\n</labels>",
		  "labels.xml': line 3: element 'label': Duplicate key-sequence ['aorta'] in unique identity-constraint 'labelName'" },
	};
	struct twin_labels_file *lf;
	struct twin_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int mode = 0; mode < 2; mode++) {
			char want[4200];

			lf = load_xml(&err, *state, cases[i].text, mode);
			if (lf)
				fail_msg("case %zu mode %d was accepted", i, mode);
			snprintf(want, sizeof(want), "labels '%s/%s", (const char *)*state, cases[i].want);
			assert_err(err, TWIN_EINPUT, want);
		}
	}
	twin_err_init(&err);
	assert_null(twin_labels_load(&err, twin_test_path(*state, "absent.xml")));
	assert_err(err, TWIN_EIO, "labels: cannot open '");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookup_both_ways),
		cmocka_unit_test(colours_are_distinct),
		cmocka_unit_test(remap_mmwhs),
		cmocka_unit_test(remap_totalsegmentator_and_float),
		cmocka_unit_test_setup_teardown(csv_map_from_string_and_file, setup, teardown),
		cmocka_unit_test(csv_shipped_file_equals_preset),
		cmocka_unit_test_setup_teardown(csv_errors_name_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(csv_zero_target_silences_an_id, setup, teardown),
		cmocka_unit_test(measure_oblique_volume),
		cmocka_unit_test_setup_teardown(labels_xml_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_labels_xml, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("labels", tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
