#include "mosaic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dcmtk.h"

size_t twin_mosaic_count(const struct twin_frame *frames, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += frames[i].mosaic_images > 0 && frames[i].tile == 0 ? frames[i].mosaic_images : 1;
	return count;
}

void twin_mosaic_cut(struct twin_frame *out, const struct twin_frame *frames, size_t n)
{
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		const struct twin_frame *f = &frames[i];

		if (f->mosaic_images == 0 || f->tile != 0) {
			out[m++] = *f;
			continue;
		}
		for (unsigned k = 0; k < f->mosaic_images; k++) {
			struct twin_frame *t = &out[m++];

			*t = *f;
			t->tile = k + 1;
			t->rows = f->mosaic_rows;
			t->cols = f->mosaic_cols;
			twin_dcm_mosaic_position(f, k, t->ipp);
		}
	}
}

/* One decoded mosaic, cut into tiles. */
struct entry {
	const char *path;  /* borrowed from the records */
	unsigned frame;
	int32_t *tiles;    /* mosaic_images tiles of rows * cols, or NULL once all are read */
	size_t left;       /* tiles not read yet */
};

struct twin_mosaic_cache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t n, cap;
};

struct twin_mosaic_cache *twin_mosaic_cache_new(struct twin_err *err)
{
	struct twin_mosaic_cache *c = calloc(1, sizeof(*c));

	if (!c) {
		twin_err_set(err, TWIN_EFAIL, "mosaic cache: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void twin_mosaic_cache_free(struct twin_mosaic_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].tiles);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Decodes the mosaic that tile t comes from into e->tiles. */
static int decode(struct twin_err *err, const struct twin_frame *t, struct entry *e)
{
	struct twin_frame *recs = NULL, *m;
	size_t nrecs = 0, count;
	int32_t *whole = NULL;
	int rc = -1;

	/* the mosaic's own record again, for its full size */
	if (twin_dcm_scan(err, t->path, &recs, &nrecs) != 0)
		return -1;
	if (t->frame >= nrecs || recs[t->frame].mosaic_images != t->mosaic_images ||
	    recs[t->frame].mosaic_rows != t->rows || recs[t->frame].mosaic_cols != t->cols) {
		twin_err_set(err, TWIN_EINPUT, "'%s': the mosaic changed while it was read", t->path);
		goto out;
	}
	m = &recs[t->frame];
	count = (size_t)m->rows * m->cols;
	whole = malloc(count * sizeof(*whole));
	e->tiles = malloc((size_t)m->mosaic_images * m->mosaic_rows * m->mosaic_cols * sizeof(*e->tiles));
	if (!whole || !e->tiles) {
		twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", t->path);
		goto out;
	}
	if (twin_dcm_read_pixels(err, t->path, t->frame, whole, count) != 0 ||
	    twin_dcm_mosaic_split(err, m, whole, e->tiles) != 0)
		goto out;
	e->left = m->mosaic_images;
	rc = 0;
out:
	if (rc != 0) {
		free(e->tiles);
		e->tiles = NULL;
	}
	free(whole);
	twin_dcm_frames_free(recs, nrecs);
	return rc;
}

int twin_mosaic_read(struct twin_err *err, struct twin_mosaic_cache *c, const struct twin_frame *tile,
		     int32_t *out)
{
	size_t i, plane = (size_t)tile->rows * tile->cols;
	struct entry *e = NULL;
	int rc = -1;

	if (tile->tile == 0 || tile->tile > tile->mosaic_images)
		return twin_err_set(err, TWIN_EFAIL, "'%s': frame %u is not a mosaic tile", tile->path, tile->frame);
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		if (c->e[i].frame == tile->frame && strcmp(c->e[i].path, tile->path) == 0)
			e = &c->e[i];
	if (!e) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			struct entry *a = realloc(c->e, cap * sizeof(*a));

			if (!a) {
				twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", tile->path);
				goto out;
			}
			c->e = a;
			c->cap = cap;
		}
		e = &c->e[c->n];
		memset(e, 0, sizeof(*e));
		e->path = tile->path;
		e->frame = tile->frame;
		if (decode(err, tile, e) != 0)
			goto out;
		c->n++;
	} else if (!e->tiles && decode(err, tile, e) != 0) {
		/* every tile was read and freed: a second volume of the same phase reads it again */
		goto out;
	}
	memcpy(out, e->tiles + (tile->tile - 1) * plane, plane * sizeof(*out));
	if (--e->left == 0) {
		free(e->tiles);
		e->tiles = NULL;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}
