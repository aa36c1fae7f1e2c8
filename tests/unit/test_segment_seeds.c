/*
 * segment/seeds: CSV and 3D Slicer markups, each from a string and from a
 * file through one helper, and the errors a technician's file can hold.
 */
#include "twin_test.h"

#include <math.h>
#include <stdlib.h>

#include "../../segment/seeds.h"

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || !(f->dir = twin_test_tmpdir()))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	twin_test_rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Loads text from memory and from a file named name; both must agree. Returns
 * the result code; *seeds (free) and *n as twin_seeds_load leaves them.
 */
static int load_both(struct fixture *f, const char *name, const char *text, struct twin_err *err,
		     struct twin_seed **seeds, size_t *n)
{
	struct twin_err ferr;
	struct twin_seed *fs = NULL;
	size_t fn = 0;
	const char *path = twin_test_path(f->dir, name);
	int rc, frc;

	twin_err_init(err);
	twin_err_init(&ferr);
	twin_test_write_file(path, text, strlen(text));
	frc = twin_seeds_load(&ferr, path, &fs, &fn);
	rc = twin_seeds_load_mem(err, name, text, strlen(text), seeds, n);
	assert_int_equal(rc, frc);
	assert_int_equal(*n, fn);
	assert_int_equal(err->code, ferr.code);
	for (size_t i = 0; i < fn; i++) {
		assert_int_equal((*seeds)[i].label, fs[i].label);
		for (int a = 0; a < 3; a++)
			assert_true(fabs((*seeds)[i].xyz[a] - fs[i].xyz[a]) < 1e-12);
	}
	free(fs);
	return rc;
}

static void test_csv(void **state)
{
	struct twin_err err;
	struct twin_seed *s = NULL;
	size_t n = 0;

	assert_ok(err, load_both(*state, "seeds.csv",
				 "label,x,y,z\n"
				 "# the technician's points\n"
				 "LV, 30.5, -12, -40\n"
				 "\n"
				 "heart_atrium_right,-50,3,-10\r\n"
				 "7,12,-20,32\n"
				 "pulmonary artery,1e1,0,-0.5\n", &err, &s, &n));
	assert_int_equal(n, 4);
	assert_int_equal(s[0].label, 3);
	assert_true(fabs(s[0].xyz[0] - 30.5) < 1e-12 && fabs(s[0].xyz[2] + 40.0) < 1e-12);
	assert_int_equal(s[1].label, 4);
	assert_int_equal(s[2].label, 7);
	assert_int_equal(s[3].label, 7);
	assert_true(fabs(s[3].xyz[0] - 10.0) < 1e-12);
	assert_string_equal(s[0].where, "'seeds.csv':3");
	free(s);
}

/* A spreadsheet's CSV: a UTF-8 BOM, comments, then the header. */
static void test_csv_bom_header(void **state)
{
	struct twin_err err;
	struct twin_seed *s = NULL;
	size_t n = 0;

	assert_ok(err, load_both(*state, "seeds.csv",
				 "\xEF\xBB\xBF# the technician's points\r\n"
				 "\r\n"
				 "Label,X,Y,Z\r\n"
				 "RV,1,2,3\r\n", &err, &s, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].label, 5);
	assert_string_equal(s[0].where, "'seeds.csv':4");
	free(s);
	/* only the first line that is not a comment may be a header */
	twin_err_init(&err);
	assert_int_equal(twin_seeds_load_mem(&err, "two.csv", "label,x,y,z\nlabel,x,y,z\n",
					     strlen("label,x,y,z\nlabel,x,y,z\n"), &s, &n), -1);
	assert_err(err, TWIN_EINPUT, "seeds 'two.csv':2: 'label' is not a blood pool");
}

static void test_csv_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "LV,1,2\n", "seeds 'bad.csv':1: want label,x,y,z: 'LV,1,2'" },
		{ "LV,1,2,3\nheart_myocardium,1,2,3\n", "seeds 'bad.csv':2: 'heart_myocardium' is not a blood pool" },
		{ "LV,1,2,3\nRV,1,x,3\n", "seeds 'bad.csv':2: 'x' is not a number: 'RV,1,x,3'" },
		{ "RV,1,2,inf\n", "'inf' is not a number" },
		{ "label,x,y,z\n# nothing\n", "seeds 'bad.csv': no seed points" },
		{ "9,1,2,3\n", "'9' is not a blood pool" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct twin_err err;
		struct twin_seed *s = NULL;
		size_t n = 5;

		assert_int_equal(load_both(*state, "bad.csv", bad[i].text, &err, &s, &n), -1);
		assert_err(err, TWIN_EINPUT, bad[i].msg);
		assert_null(s);
		assert_int_equal(n, 0);
	}
}

static const char markups_ras[] =
	"{\n"
	"  \"@schema\": \"https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#\",\n"
	"  \"markups\": [ {\n"
	"    \"type\": \"Fiducial\", \"coordinateSystem\": \"RAS\", \"coordinateUnits\": \"mm\",\n"
	"    \"locked\": false, \"labelFormat\": \"%N-%d\",\n"
	"    \"controlPoints\": [\n"
	"      { \"id\": \"1\", \"label\": \"LV\", \"description\": \"apex \\\"side\\\"\", \"position\": [-30.5, 12.0, -40.0],\n"
	"        \"orientation\": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0], \"selected\": true, \"visibility\": true },\n"
	"      { \"id\": \"2\", \"label\": \"aorta\", \"position\": [0, 0, 25.25], \"positionStatus\": \"defined\" }\n"
	"    ],\n"
	"    \"display\": { \"visibility\": true, \"opacity\": 1.0, \"color\": [0.4, 1.0, 1.0] }\n"
	"  } ]\n"
	"}\n";

static void test_markups(void **state)
{
	struct twin_err err;
	struct twin_seed *s = NULL;
	size_t n = 0;

	/* RAS: x and y change sign into LPS */
	assert_ok(err, load_both(*state, "seeds.mrk.json", markups_ras, &err, &s, &n));
	assert_int_equal(n, 2);
	assert_int_equal(s[0].label, 3);
	assert_true(fabs(s[0].xyz[0] - 30.5) < 1e-12 && fabs(s[0].xyz[1] + 12.0) < 1e-12 &&
		    fabs(s[0].xyz[2] + 40.0) < 1e-12);
	assert_int_equal(s[1].label, 6);
	assert_true(fabs(s[1].xyz[2] - 25.25) < 1e-12);
	assert_string_equal(s[1].where, "'seeds.mrk.json': point 2");
	free(s);
	/* LPS, as Slicer writes now: kept as it is */
	assert_ok(err, load_both(*state, "lps.mrk.json",
				 "{\"markups\":[{\"coordinateSystem\":\"LPS\",\"controlPoints\":"
				 "[{\"label\":\"RA\",\"position\":[-50,3,-10]}]}]}", &err, &s, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].label, 4);
	assert_true(fabs(s[0].xyz[0] + 50.0) < 1e-12 && fabs(s[0].xyz[1] - 3.0) < 1e-12);
	free(s);
}

static void test_markups_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"LV\", \"position\": [1, 2] } ] } ] }",
		  "seeds 'bad.mrk.json': point 1: position is not 3 numbers" },
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"F-1\", \"position\": [1, 2, 3] } ] } ] }",
		  "seeds 'bad.mrk.json': point 1: label 'F-1' is not a blood pool" },
		{ "{\"markups\": [ {\"coordinateSystem\": \"IJK\", \"controlPoints\": [] } ] }",
		  "markup 1: coordinateSystem is not RAS or LPS" },
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"LV\",\n \"position\": [1, 2, 3] ] } ] }",
		  "seeds 'bad.mrk.json': line 2: bad JSON: want ',' or '}'" },
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"LV\", \"position\": [1, 2, 3] } ] } ] } x",
		  "bad JSON: text after the end" },
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"LV", "bad JSON: unterminated string" },
		{ "{\"schema\": 1}", "not a 3D Slicer markups file: no \"markups\" list" },
		{ "{\"markups\": []}", "seeds 'bad.mrk.json': no seed points" },
		{ "{\"markups\": [ {\"controlPoints\": [ {\"label\": \"LV\", \"position\": [1, 2, 1e999] } ] } ] }",
		  "bad JSON: bad number" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct twin_err err;
		struct twin_seed *s = NULL;
		size_t n = 0;

		assert_int_equal(load_both(*state, "bad.mrk.json", bad[i].text, &err, &s, &n), -1);
		assert_err(err, TWIN_EINPUT, bad[i].msg);
		assert_null(s);
	}
}

static void test_deep_json(void **state)
{
	char text[400];
	struct twin_err err;
	struct twin_seed *s = NULL;
	size_t n = 0;

	/* not an object: read as CSV, and refused as such */
	memset(text, '[', 300);
	text[300] = 0;
	assert_int_equal(load_both(*state, "deep.mrk.json", text, &err, &s, &n), -1);
	assert_err(err, TWIN_EINPUT, "seeds 'deep.mrk.json':1: want label,x,y,z");
	memcpy(text, "{\"a\":", 5);
	assert_int_equal(load_both(*state, "deep.mrk.json", text, &err, &s, &n), -1);
	assert_err(err, TWIN_EINPUT, "nested too deep");
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct twin_err err;
	struct twin_seed *s = NULL;
	size_t n = 0;

	twin_err_init(&err);
	assert_int_equal(twin_seeds_load(&err, twin_test_path(f->dir, "none.csv"), &s, &n), -1);
	assert_err(err, TWIN_EIO, "none.csv");
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_bom_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markups_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
