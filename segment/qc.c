/*
 * QC pictures. Each plane is sampled straight from the input grid (nearest
 * voxel) on a square pixel grid in LPS, drawn in radiological convention
 * (patient's left on the right, anterior or superior at the top); labels
 * are blended at 40 % and outlined in full colour. Each picture has the
 * patient's directions at its edges and a legend on its right: each
 * structure's colour, name and volume in mL, or "not found".
 */
#include "qc.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
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


/* ---- text: a 5x7 font (upper case, digits, a few signs), drawn 2x ------------ */

#define GLYPH_PX 2               /* each font pixel is this many picture pixels */
#define CHAR_W (6 * GLYPH_PX)    /* advance */
#define LINE_H (10 * GLYPH_PX)   /* line height */
#define LEGEND_CHARS 30          /* "LV MYOCARDIUM       156.7 ML" */

static const struct {
	char c;
	unsigned char col[5]; /* one byte per column, bit 0 at the top */
} font[] = {
	{ '0', { 0x3E, 0x51, 0x49, 0x45, 0x3E } }, { '1', { 0x00, 0x42, 0x7F, 0x40, 0x00 } },
	{ '2', { 0x42, 0x61, 0x51, 0x49, 0x46 } }, { '3', { 0x21, 0x41, 0x45, 0x4B, 0x31 } },
	{ '4', { 0x18, 0x14, 0x12, 0x7F, 0x10 } }, { '5', { 0x27, 0x45, 0x45, 0x45, 0x39 } },
	{ '6', { 0x3C, 0x4A, 0x49, 0x49, 0x30 } }, { '7', { 0x01, 0x71, 0x09, 0x05, 0x03 } },
	{ '8', { 0x36, 0x49, 0x49, 0x49, 0x36 } }, { '9', { 0x06, 0x49, 0x49, 0x29, 0x1E } },
	{ 'A', { 0x7E, 0x11, 0x11, 0x11, 0x7E } }, { 'B', { 0x7F, 0x49, 0x49, 0x49, 0x36 } },
	{ 'C', { 0x3E, 0x41, 0x41, 0x41, 0x22 } }, { 'D', { 0x7F, 0x41, 0x41, 0x22, 0x1C } },
	{ 'E', { 0x7F, 0x49, 0x49, 0x49, 0x41 } }, { 'F', { 0x7F, 0x09, 0x09, 0x09, 0x01 } },
	{ 'G', { 0x3E, 0x41, 0x49, 0x49, 0x7A } }, { 'H', { 0x7F, 0x08, 0x08, 0x08, 0x7F } },
	{ 'I', { 0x00, 0x41, 0x7F, 0x41, 0x00 } }, { 'J', { 0x20, 0x40, 0x41, 0x3F, 0x01 } },
	{ 'K', { 0x7F, 0x08, 0x14, 0x22, 0x41 } }, { 'L', { 0x7F, 0x40, 0x40, 0x40, 0x40 } },
	{ 'M', { 0x7F, 0x02, 0x0C, 0x02, 0x7F } }, { 'N', { 0x7F, 0x04, 0x08, 0x10, 0x7F } },
	{ 'O', { 0x3E, 0x41, 0x41, 0x41, 0x3E } }, { 'P', { 0x7F, 0x09, 0x09, 0x09, 0x06 } },
	{ 'Q', { 0x3E, 0x41, 0x51, 0x21, 0x5E } }, { 'R', { 0x7F, 0x09, 0x19, 0x29, 0x46 } },
	{ 'S', { 0x46, 0x49, 0x49, 0x49, 0x31 } }, { 'T', { 0x01, 0x01, 0x7F, 0x01, 0x01 } },
	{ 'U', { 0x3F, 0x40, 0x40, 0x40, 0x3F } }, { 'V', { 0x1F, 0x20, 0x40, 0x20, 0x1F } },
	{ 'W', { 0x3F, 0x40, 0x38, 0x40, 0x3F } }, { 'X', { 0x63, 0x14, 0x08, 0x14, 0x63 } },
	{ 'Y', { 0x07, 0x08, 0x70, 0x08, 0x07 } }, { 'Z', { 0x61, 0x51, 0x49, 0x45, 0x43 } },
	{ '.', { 0x00, 0x60, 0x60, 0x00, 0x00 } }, { '-', { 0x08, 0x08, 0x08, 0x08, 0x08 } },
	{ ':', { 0x00, 0x36, 0x36, 0x00, 0x00 } }, { '(', { 0x00, 0x1C, 0x22, 0x41, 0x00 } },
	{ ')', { 0x00, 0x41, 0x22, 0x1C, 0x00 } },
};

/* Writes text (lower case drawn as upper) at (x, y) in colour rgb, on a dark box; clipped to pic. */
static void text(struct pic *pic, size_t x, size_t y, const char *t, const unsigned char rgb[3])
{
	for (size_t n = 0; t[n]; n++) {
		char c = t[n] >= 'a' && t[n] <= 'z' ? (char)(t[n] - 'a' + 'A') : t[n];
		const unsigned char *col = NULL;

		for (size_t f = 0; f < sizeof(font) / sizeof(font[0]) && !col; f++)
			if (font[f].c == c)
				col = font[f].col;
		for (size_t dx = 0; dx < CHAR_W; dx++)
			for (size_t dy = 0; dy < LINE_H; dy++) {
				size_t px = x + n * CHAR_W + dx, py = y + dy;
				size_t fx = dx / GLYPH_PX, fy = dy / GLYPH_PX;
				int on = col && fx < 5 && fy >= 1 && fy < 8 && (col[fx] >> (fy - 1) & 1);
				unsigned char *o;

				if (px >= pic->w || py >= pic->h)
					continue;
				o = pic->rgb + 3 * (py * pic->w + px);
				for (int k = 0; k < 3; k++)
					o[k] = on ? rgb[k] : (unsigned char)(o[k] / 3);
			}
	}
}

static const unsigned char white[3] = { 235, 235, 235 };

/* The width of the legend panel beside a picture, and the least height it needs. */
#define LEGEND_W (LEGEND_CHARS * CHAR_W + 3 * LINE_H)
#define LEGEND_H (10 * LINE_H)

/*
 * The legend at (x0, y0): for each structure a swatch of its colour, its
 * name and its volume in mL (ml[id]), or "not found" in its colour.
 */
static void legend(struct pic *pic, size_t x0, size_t y0, const double ml[8])
{
	text(pic, x0 + LINE_H / 2, y0 + LINE_H / 2, "STRUCTURE              ML", white);
	for (int id = 1; id <= 7; id++) {
		const struct twin_label *t = twin_label_by_id(id);
		size_t y = y0 + (size_t)(id + 1) * LINE_H;
		char line[64];

		if (!t)
			continue;
		for (size_t dy = 2; dy + 4 < LINE_H; dy++)
			for (size_t dx = 0; dx + 4 < LINE_H; dx++) {
				size_t px = x0 + LINE_H / 2 + dx, py = y + dy;

				if (px < pic->w && py < pic->h)
					memcpy(pic->rgb + 3 * (py * pic->w + px), t->rgb, 3);
			}
		if (ml[id] > 0.0)
			snprintf(line, sizeof(line), "%-17.17s %7.1f", t->display, ml[id]);
		else
			snprintf(line, sizeof(line), "%-17.17s NOT FOUND", t->display);
		text(pic, x0 + 2 * LINE_H, y, line, ml[id] > 0.0 ? white : t->rgb);
	}
}

/* Letters for the patient's directions at the edges of plane p drawn at (x0, y0). */
static void directions(struct pic *pic, const struct plane *p, size_t x0, size_t y0)
{
	static const char *name[3][2] = { { "R", "L" }, { "A", "P" }, { "I", "S" } };
	int u = 0, v = 0;

	for (int a = 0; a < 3; a++) {
		u = p->du[a] != 0.0 ? a : u;
		v = p->dv[a] != 0.0 ? a : v;
	}
	text(pic, x0 + 4, y0 + p->h / 2, name[u][p->du[u] < 0.0], white);
	text(pic, x0 + p->w - CHAR_W - 4, y0 + p->h / 2, name[u][p->du[u] > 0.0], white);
	text(pic, x0 + p->w / 2, y0 + 4, name[v][p->dv[v] < 0.0], white);
	text(pic, x0 + p->w / 2, y0 + p->h - LINE_H - 4, name[v][p->dv[v] > 0.0], white);
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
		       const struct plane *p, const double ml[8])
{
	size_t h = p->h > LEGEND_H ? p->h : LEGEND_H;
	struct pic pic = { p->w + LEGEND_W, h, calloc(3 * (p->w + LEGEND_W) * h, 1) };
	char *path = twin_path_join(dir, name);
	int rc = -1;

	if (!pic.rgb || !path) {
		twin_err_set(err, TWIN_EFAIL, "qc: out of memory");
		goto out;
	}
	draw(s, p, &pic, 0, 0);
	directions(&pic, p, 0, 0);
	legend(&pic, p->w, 0, ml);
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
	double lo[3], hi[3], pitch, px, zlo = HUGE_VAL, zhi = -HUGE_VAL, ext = 0.0, ml[8] = { 0 }, sp[3];
	struct plane p;
	struct pic pic = { 0, 0, NULL };
	char *path = NULL;
	int rc = -1;

	if (twin_affine_invert(err, &s.inv, &img->affine) != 0)
		return -1;
	if (s.hi <= s.lo)
		s.hi = s.lo + 1.0;
	/* the volume of each structure, for the legend */
	twin_volume_spacing(labels, sp);
	for (size_t v = 0, n = twin_volume_count(labels); v < n; v++) {
		unsigned char l = ((const unsigned char *)labels->data)[v];

		if (l < 8)
			ml[l] += sp[0] * sp[1] * sp[2] / 1000.0;
	}
	bounds(img, lo, hi, &pitch);
	for (int a = 0; a < 3; a++)
		ext = fmax(ext, hi[a] - lo[a]);
	/* at least 512 pixels across the widest side, at most 1024 */
	px = fmax(fmin(pitch, ext / 512.0), ext / 1024.0);
	make_plane(&p, lo, hi, centre, 0, 1, px);
	if (write_plane(err, dir, twin_qc_names[0], &s, &p, ml) != 0)
		return -1;
	make_plane(&p, lo, hi, centre, 0, 2, px);
	if (write_plane(err, dir, twin_qc_names[1], &s, &p, ml) != 0)
		return -1;
	make_plane(&p, lo, hi, centre, 1, 2, px);
	if (write_plane(err, dir, twin_qc_names[2], &s, &p, ml) != 0)
		return -1;
	/*
	 * the montage: nine axial slices over the heart's height (the chambers and
	 * the wall; the aorta may run down the whole image), top left the highest
	 */
	for (size_t v = 0, n = twin_volume_count(labels); v < n; v++) {
		size_t i = v % labels->dim[0], j = (v / labels->dim[0]) % labels->dim[1];
		size_t k = v / (labels->dim[0] * labels->dim[1]);
		double ijk[3] = { (double)i, (double)j, (double)k }, x[3];
		unsigned char l = ((const unsigned char *)labels->data)[v];

		if (l == 0 || l > 5)
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
	pic.w = 3 * p.w + 4 + LEGEND_W;
	pic.h = 3 * p.h + 4 > LEGEND_H ? 3 * p.h + 4 : LEGEND_H;
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
	directions(&pic, &p, 0, 0);
	legend(&pic, 3 * p.w + 4, 0, ml);
	rc = save_png(err, path, &pic);
out:
	free(pic.rgb);
	free(path);
	return rc;
}
