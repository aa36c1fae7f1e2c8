/*
 * mosaic: Siemens mosaics (every slice of a volume as a tile of one image)
 * cut into one frame record per tile, and the reading of a tile: a mosaic
 * is decoded once and kept until each of its tiles has been read. Owns the
 * decoded mosaics; borrows the paths of the records. Includes frame.h and
 * err.h only.
 */
#ifndef TWIN_INGEST_MOSAIC_H
#define TWIN_INGEST_MOSAIC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"

/* The number of records frames[0..n) make once every mosaic is cut into tiles. */
size_t twin_mosaic_count(const struct twin_frame *frames, size_t n);

/*
 * Copies frames[0..n) to out, which has room for twin_mosaic_count records;
 * a mosaic record (mosaic_images > 0) becomes one record per tile: tile
 * k + 1, the rows and columns of a tile, and the position of tile k as
 * twin_dcm_mosaic_position gives it. Paths are borrowed from frames.
 */
void twin_mosaic_cut(struct twin_frame *out, const struct twin_frame *frames, size_t n);

struct twin_mosaic_cache;

/* An empty cache: owned, twin_mosaic_cache_free. NULL on no memory. */
struct twin_mosaic_cache *twin_mosaic_cache_new(struct twin_err *err);
void twin_mosaic_cache_free(struct twin_mosaic_cache *c);

/*
 * Stored values of a tile record (tile > 0) into out[rows * cols]. Decodes
 * its mosaic on the first call and frees it after the last tile. May be
 * called from several threads at once. Errors are the reader's, naming the file.
 */
int twin_mosaic_read(struct twin_err *err, struct twin_mosaic_cache *c, const struct twin_frame *tile,
		     int32_t *out);

#endif
