#include "twin_test.h"

#include <math.h>

#include "../../ingest/dcmtk.h"
#include "../../ingest/mosaic.h"

/* A 6x6 mosaic of four 3x3 tiles, axial, 2 mm between slices. */
static void mosaic_record(struct twin_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->path = (char *)"mosaic.dcm";
	f->rows = 6;
	f->cols = 6;
	f->iop[0] = f->iop[4] = 1;
	f->ipp[0] = 10;
	f->ipp[1] = 20;
	f->ipp[2] = 30;
	f->spacing[0] = 1.5;
	f->spacing[1] = 0.5;
	f->slice_spacing = 2;
	f->mosaic_images = 4;
	f->mosaic_rows = 3;
	f->mosaic_cols = 3;
}

static void cuts_one_record_per_tile(void **state)
{
	struct twin_frame in[2], out[5];

	(void)state;
	mosaic_record(&in[0]);
	memset(&in[1], 0, sizeof(in[1]));
	in[1].path = (char *)"plain.dcm";
	in[1].rows = 8;
	assert_int_equal(twin_mosaic_count(in, 2), 5);
	twin_mosaic_cut(out, in, 2);
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(out[k].tile, k + 1);
		assert_int_equal(out[k].rows, 3);
		assert_int_equal(out[k].cols, 3);
		assert_ptr_equal(out[k].path, in[0].path);
		/* the corner moves by half the mosaic minus a tile: 1.5 columns of 0.5 mm, 1.5 rows of 1.5 mm */
		assert_true(fabs(out[k].ipp[0] - 10.75) < 1e-12);
		assert_true(fabs(out[k].ipp[1] - 22.25) < 1e-12);
		assert_true(fabs(out[k].ipp[2] - (30 + 2.0 * k)) < 1e-12);
	}
	assert_int_equal(out[4].tile, 0);
	assert_int_equal(out[4].rows, 8);
	assert_string_equal(out[4].path, "plain.dcm");
	/* a record already cut is not cut again */
	assert_int_equal(twin_mosaic_count(out, 5), 5);
}

static void reads_tiles_of_a_real_mosaic(void **state)
{
	const char *dir = twin_test_data("dicom/dcm_qa_orientation/In/ax/axasc35");
	struct twin_err err;
	struct twin_mosaic_cache *c = NULL;
	struct twin_frame *recs = NULL, *tiles = NULL;
	char path[4096], cmd[4200];
	int32_t *whole = NULL, *split = NULL, *tile = NULL;
	size_t n = 0, plane, count;
	FILE *p;

	(void)state;
	if (!dir)
		skip();
	snprintf(cmd, sizeof(cmd), "ls '%s'/MR.* | head -n 1", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, sizeof(path), p));
	pclose(p);
	path[strcspn(path, "\n")] = 0;
	twin_err_init(&err);
	assert_ok(err, twin_dcm_scan(&err, path, &recs, &n));
	assert_int_equal(recs[0].mosaic_images, 35);
	count = twin_mosaic_count(recs, n);
	assert_int_equal(count, 35);
	tiles = calloc(count, sizeof(*tiles));
	assert_non_null(tiles);
	twin_mosaic_cut(tiles, recs, n);
	plane = (size_t)tiles[0].rows * tiles[0].cols;
	whole = malloc((size_t)recs[0].rows * recs[0].cols * sizeof(*whole));
	split = malloc(count * plane * sizeof(*split));
	tile = malloc(plane * sizeof(*tile));
	assert_true(whole && split && tile);
	assert_ok(err, twin_dcm_read_pixels(&err, path, 0, whole, (size_t)recs[0].rows * recs[0].cols));
	assert_ok(err, twin_dcm_mosaic_split(&err, &recs[0], whole, split));
	c = twin_mosaic_cache_new(&err);
	assert_ptr_ok(err, c);
	/* every tile, in reverse order, then the first again after the mosaic was freed */
	for (size_t k = count; k-- > 0;) {
		assert_ok(err, twin_mosaic_read(&err, c, &tiles[k], tile));
		assert_memory_equal(tile, split + k * plane, plane * sizeof(*tile));
	}
	assert_ok(err, twin_mosaic_read(&err, c, &tiles[0], tile));
	assert_memory_equal(tile, split, plane * sizeof(*tile));
	/* a record that is not a tile */
	assert_int_equal(twin_mosaic_read(&err, c, &recs[0], tile), -1);
	assert_err(err, TWIN_EFAIL, "is not a mosaic tile");
	twin_mosaic_cache_free(c);
	free(tile);
	free(split);
	free(whole);
	free(tiles);
	twin_dcm_frames_free(recs, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cuts_one_record_per_tile),
		cmocka_unit_test(reads_tiles_of_a_real_mosaic),
	};

	return cmocka_run_group_tests_name("ingest_mosaic", tests, NULL, NULL);
}
