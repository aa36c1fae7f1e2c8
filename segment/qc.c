/*
 * QC pictures. Each plane is sampled straight from the input grid (nearest
 * voxel) on a square pixel grid in LPS, drawn in radiological convention
 * (patient's left on the right, anterior or superior at the top); labels
 * are blended at 40 % and outlined in full colour.
 */
#include "qc.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "labels.h"

const char *const twin_qc_names[4] = { "axial.png", "coronal.png", "sagittal.png", "montage.png" };

/* An RGB picture. */
struct pic {
	size_t w, h;
	unsigned char *rgb;
};

/* A plane: pixel (c, r) is at o + c * du + r * dv. */
struct plane {
	double o[3], du[3], dv[3];
	size_t w, h;
};

struct src {
	const struct twin_volume *img, *lab;
	struct twin_affine inv;
	double lo, hi;
};

static int sample(const struct src *s, const double x[3], double *grey, int *label)
{
	long ijk[3];

	for (int a = 0; a < 3; a++) {
		double f = s->inv.m[a][0] * x[0] + s->inv.m[a][1] * x[1] + s->inv.m[a][2] * x[2] + s->inv.m[a][3];

		ijk[a] = lround(f);
		if (ijk[a] < 0 || ijk[a] >= (long)s->img->dim[a])
			return 0;
	}
	*grey = twin_volume_get(s->img, (size_t)ijk[0], (size_t)ijk[1], (size_t)ijk[2]);
	*label = (int)twin_volume_get(s->lab, (size_t)ijk[0], (size_t)ijk[1], (size_t)ijk[2]);
	return 1;
}

/* Draws plane p into pic at (x0, y0). */
static void draw(const struct src *s, const struct plane *p, struct pic *pic, size_t x0, size_t y0)
{
	int *lab = calloc(p->w * p->h, sizeof(*lab));

	for (size_t r = 0; r < p->h; r++)
		for (size_t c = 0; c < p->w; c++) {
			double x[3], g = s->lo;
			int l = 0;
			unsigned char *px = pic->rgb + 3 * ((y0 + r) * pic->w + x0 + c);
			double v;

			for (int a = 0; a < 3; a++)
				x[a] = p->o[a] + (double)c * p->du[a] + (double)r * p->dv[a];
			if (!sample(s, x, &g, &l)) {
				px[0] = px[1] = px[2] = 24;
				continue;
			}
			v = 255.0 * (g - s->lo) / (s->hi - s->lo);
			v = v < 0 ? 0 : v > 255 ? 255 : v;
			px[0] = px[1] = px[2] = (unsigned char)v;
			if (lab)
				lab[r * p->w + c] = l;
		}
	for (size_t r = 0; lab && r < p->h; r++)
		for (size_t c = 0; c < p->w; c++) {
			int l = lab[r * p->w + c], edge;
			const struct twin_label *t = twin_label_by_id(l);
			unsigned char *px = pic->rgb + 3 * ((y0 + r) * pic->w + x0 + c);

			if (l <= 0 || !t)
				continue;
			edge = c == 0 || r == 0 || c + 1 == p->w || r + 1 == p->h || lab[r * p->w + c - 1] != l ||
			       lab[r * p->w + c + 1] != l || lab[(r - 1) * p->w + c] != l || lab[(r + 1) * p->w + c] != l;
			for (int k = 0; k < 3; k++)
				px[k] = edge ? t->rgb[k] : (unsigned char)(0.6 * px[k] + 0.4 * t->rgb[k]);
		}
	free(lab);
}

struct membuf {
	unsigned char *data;
	size_t len, cap;
	int nomem;
};

static void mem_write(png_structp png, png_bytep data, png_size_t len)
{
	struct membuf *m = png_get_io_ptr(png);

	if (m->len + len > m->cap) {
		size_t cap = (m->len + len) * 2;
		unsigned char *d = realloc(m->data, cap);

		if (!d) {
			m->nomem = 1;
			return;
		}
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

static void mem_flush(png_structp png)
{
	(void)png;
}

static int save_png(struct twin_err *err, const char *path, const struct pic *pic)
{
	struct membuf m = { NULL, 0, 0, 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	png_bytep *rows = malloc(pic->h * sizeof(*rows));
	int rc = -1;

	if (!png || !info || !rows) {
		twin_err_set(err, TWIN_EFAIL, "qc '%s': out of memory", path);
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		twin_err_set(err, TWIN_EDEP, "qc '%s': libpng failed", path);
		goto out;
	}
	for (size_t r = 0; r < pic->h; r++)
		rows[r] = pic->rgb + 3 * r * pic->w;
	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, (png_uint_32)pic->w, (png_uint_32)pic->h, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	if (m.nomem) {
		twin_err_set(err, TWIN_EFAIL, "qc '%s': out of memory", path);
		goto out;
	}
	rc = twin_file_write(err, path, m.data, m.len);
out:
	png_destroy_write_struct(&png, &info);
	free(rows);
	free(m.data);
	return rc;
}

/* Bounding box of the image in LPS, and its smallest spacing. */
static void bounds(const struct twin_volume *img, double lo[3], double hi[3], double *pitch)
{
	double sp[3];

	for (int a = 0; a < 3; a++) {
		lo[a] = HUGE_VAL;
		hi[a] = -HUGE_VAL;
	}
	for (int c = 0; c < 8; c++) {
		double ijk[3], x[3];

		for (int a = 0; a < 3; a++)
			ijk[a] = (c >> a & 1) ? (double)img->dim[a] - 0.5 : -0.5;
		twin_volume_index_to_world(img, ijk, x);
		for (int a = 0; a < 3; a++) {
			lo[a] = fmin(lo[a], x[a]);
			hi[a] = fmax(hi[a], x[a]);
		}
	}
	twin_volume_spacing(img, sp);
	*pitch = fmin(sp[0], fmin(sp[1], sp[2]));
}

/*
 * The plane through centre across axes (u, v) of LPS at pixel size px; v
 * runs down the picture, so the superior end (z) goes at the top.
 */
static void make_plane(struct plane *p, const double lo[3], const double hi[3], const double centre[3],
		       int u, int v, double px)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->o, centre, sizeof(p->o));
	p->w = (size_t)((hi[u] - lo[u]) / px);
	p->h = (size_t)((hi[v] - lo[v]) / px);
	p->o[u] = lo[u] + 0.5 * px;
	p->du[u] = px;
	if (v == 2) {
		p->o[v] = hi[v] - 0.5 * px;
		p->dv[v] = -px;
	} else {
		p->o[v] = lo[v] + 0.5 * px;
		p->dv[v] = px;
	}
}

static int write_plane(struct twin_err *err, const char *dir, const char *name, const struct src *s,
		       const struct plane *p)
{
	struct pic pic = { p->w, p->h, calloc(3 * p->w * p->h, 1) };
	char *path = twin_path_join(dir, name);
	int rc = -1;

	if (!pic.rgb || !path) {
		twin_err_set(err, TWIN_EFAIL, "qc: out of memory");
		goto out;
	}
	draw(s, p, &pic, 0, 0);
	rc = save_png(err, path, &pic);
out:
	free(pic.rgb);
	free(path);
	return rc;
}

int twin_qc_write(struct twin_err *err, const char *dir, const struct twin_volume *img,
		  const struct twin_volume *labels, const double window[2], const double centre[3])
{
	struct src s = { img, labels, { { { 0 } } }, window[0], window[1] };
	double lo[3], hi[3], pitch, px, zlo = HUGE_VAL, zhi = -HUGE_VAL, ext = 0.0;
	struct plane p;
	struct pic pic = { 0, 0, NULL };
	char *path = NULL;
	int rc = -1;

	if (twin_affine_invert(err, &s.inv, &img->affine) != 0)
		return -1;
	if (s.hi <= s.lo)
		s.hi = s.lo + 1.0;
	bounds(img, lo, hi, &pitch);
	for (int a = 0; a < 3; a++)
		ext = fmax(ext, hi[a] - lo[a]);
	/* at least 512 pixels across the widest side, at most 1024 */
	px = fmax(fmin(pitch, ext / 512.0), ext / 1024.0);
	make_plane(&p, lo, hi, centre, 0, 1, px);
	if (write_plane(err, dir, twin_qc_names[0], &s, &p) != 0)
		return -1;
	make_plane(&p, lo, hi, centre, 0, 2, px);
	if (write_plane(err, dir, twin_qc_names[1], &s, &p) != 0)
		return -1;
	make_plane(&p, lo, hi, centre, 1, 2, px);
	if (write_plane(err, dir, twin_qc_names[2], &s, &p) != 0)
		return -1;
	/* the montage: nine axial slices over the labels' height, top left the highest */
	for (size_t v = 0, n = twin_volume_count(labels); v < n; v++) {
		size_t i = v % labels->dim[0], j = (v / labels->dim[0]) % labels->dim[1];
		size_t k = v / (labels->dim[0] * labels->dim[1]);
		double ijk[3] = { (double)i, (double)j, (double)k }, x[3];

		if (((const unsigned char *)labels->data)[v] == 0)
			continue;
		twin_volume_index_to_world(labels, ijk, x);
		zlo = fmin(zlo, x[2]);
		zhi = fmax(zhi, x[2]);
	}
	if (zlo > zhi) {
		zlo = lo[2];
		zhi = hi[2];
	}
	px = fmax(fmin(pitch, ext / 256.0), ext / 512.0);
	make_plane(&p, lo, hi, centre, 0, 1, px);
	pic.w = 3 * p.w + 4;
	pic.h = 3 * p.h + 4;
	pic.rgb = calloc(3 * pic.w * pic.h, 1);
	path = twin_path_join(dir, twin_qc_names[3]);
	if (!pic.rgb || !path) {
		twin_err_set(err, TWIN_EFAIL, "qc: out of memory");
		goto out;
	}
	for (int t = 0; t < 9; t++) {
		p.o[2] = zhi - (zhi - zlo) * (0.05 + 0.9 * t / 8.0);
		draw(&s, &p, &pic, (size_t)(t % 3) * (p.w + 2), (size_t)(t / 3) * (p.h + 2));
	}
	rc = save_png(err, path, &pic);
out:
	free(pic.rgb);
	free(path);
	return rc;
}
