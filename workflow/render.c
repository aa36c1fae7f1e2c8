/*
 * The mesh picture. Nodes are projected once (orthographic); then every face
 * of every tetrahedron that faces the eye is filled with its region's colour
 * in a z-buffer at twice the resolution, which is averaged down 2x2 to smooth
 * the edges. Faces inside the mesh always lie behind the boundary, so the
 * z-buffer leaves the outside; this costs no face hashing and no memory per
 * tetrahedron, and a million tetrahedra draw in well under a second.
 */
#include "render.h"

#include <float.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "labels.h"

/* Samples per pixel along each axis. */
#define SS 2
#define MAX_SIDE 8192
/* Free border around the mesh, as a fraction of each side. */
#define MARGIN 0.04

const struct twin_render_view twin_render_anterior = { 30.0, 20.0 };
const struct twin_render_view twin_render_posterior = { 210.0, 20.0 };

/* The eye's frame in LPS: right and up span the picture, eye points at the viewer. */
struct camera {
	double right[3], up[3], eye[3];
};

static void camera_init(struct camera *c, const struct twin_render_view *v)
{
	double az = v->azimuth_deg * M_PI / 180.0, el = v->elevation_deg * M_PI / 180.0, n;

	/* Anterior is -y in LPS; turning towards the patient's left is towards +x. */
	c->eye[0] = sin(az) * cos(el);
	c->eye[1] = -cos(az) * cos(el);
	c->eye[2] = sin(el);
	/* right = superior x eye, so superior stays up. */
	c->right[0] = -c->eye[1];
	c->right[1] = c->eye[0];
	c->right[2] = 0.0;
	n = hypot(c->right[0], c->right[1]);
	if (n < 1e-9) {
		c->right[0] = 1.0;
		c->right[1] = 0.0;
	} else {
		c->right[0] /= n;
		c->right[1] /= n;
	}
	/* up = eye x right */
	c->up[0] = c->eye[1] * c->right[2] - c->eye[2] * c->right[1];
	c->up[1] = c->eye[2] * c->right[0] - c->eye[0] * c->right[2];
	c->up[2] = c->eye[0] * c->right[1] - c->eye[1] * c->right[0];
}

/* The picture being drawn, at SS times the output size. */
struct canvas {
	size_t w, h;
	unsigned char *rgb;
	float *z;
};

/*
 * A face in canvas coordinates: x right, y down, z towards the eye. On a
 * face large enough, samples within a sample of an edge take edge_rgb, so
 * that the triangles show.
 */
struct face {
	float x[3], y[3], z[3];
	unsigned char rgb[3], edge_rgb[3];
};

/* Edges are drawn on faces whose every altitude spans this many samples. */
#define EDGE_MIN_ALTITUDE 8.0f

static float edge_fn(float ax, float ay, float bx, float by, float px, float py)
{
	return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

/* Fills f where it is nearer than what the canvas holds. */
static void fill(struct canvas *cv, const struct face *f)
{
	float area = edge_fn(f->x[0], f->y[0], f->x[1], f->y[1], f->x[2], f->y[2]);
	float lo_x = fminf(f->x[0], fminf(f->x[1], f->x[2]));
	float hi_x = fmaxf(f->x[0], fmaxf(f->x[1], f->x[2]));
	float lo_y = fminf(f->y[0], fminf(f->y[1], f->y[2]));
	float hi_y = fmaxf(f->y[0], fmaxf(f->y[1], f->y[2]));
	float alt[3];
	long x0, x1, y0, y1;
	float inv;

	/* Written so that a NaN coordinate also returns. */
	if (!(area != 0.0f && hi_x >= 0.0f && hi_y >= 0.0f && lo_x < (float)cv->w && lo_y < (float)cv->h))
		return;
	inv = 1.0f / area;
	/* Weight w_i times alt[i] is the distance in samples from the edge opposite node i. */
	for (int i = 0; i < 3; i++) {
		int a = (i + 1) % 3, b = (i + 2) % 3;

		alt[i] = fabsf(area) / hypotf(f->x[b] - f->x[a], f->y[b] - f->y[a]);
	}
	if (fminf(alt[0], fminf(alt[1], alt[2])) < EDGE_MIN_ALTITUDE)
		alt[0] = 0.0f; /* too small: no edges */
	/* Pixel (x, y) is sampled at its centre (x + 0.5, y + 0.5). */
	x0 = lo_x < 0.0f ? 0 : (long)ceilf(lo_x - 0.5f);
	y0 = lo_y < 0.0f ? 0 : (long)ceilf(lo_y - 0.5f);
	x1 = hi_x - 0.5f >= (float)cv->w ? (long)cv->w - 1 : (long)floorf(hi_x - 0.5f);
	y1 = hi_y - 0.5f >= (float)cv->h ? (long)cv->h - 1 : (long)floorf(hi_y - 0.5f);
	for (long y = y0; y <= y1; y++) {
		float py = (float)y + 0.5f, px = (float)x0 + 0.5f;
		/* Barycentric weights of nodes 0, 1, 2, stepped along the row. */
		float w0 = edge_fn(f->x[1], f->y[1], f->x[2], f->y[2], px, py) * inv;
		float w1 = edge_fn(f->x[2], f->y[2], f->x[0], f->y[0], px, py) * inv;
		float w2 = edge_fn(f->x[0], f->y[0], f->x[1], f->y[1], px, py) * inv;
		float d0 = -(f->y[2] - f->y[1]) * inv, d1 = -(f->y[0] - f->y[2]) * inv;
		float d2 = -(f->y[1] - f->y[0]) * inv;
		size_t row = (size_t)y * cv->w;

		for (long x = x0; x <= x1; x++, w0 += d0, w1 += d1, w2 += d2) {
			size_t i = row + (size_t)x;
			int on_edge;
			float z;

			if (!(w0 >= 0.0f && w1 >= 0.0f && w2 >= 0.0f))
				continue; /* outside, or NaN */
			z = w0 * f->z[0] + w1 * f->z[1] + w2 * f->z[2];
			if (z <= cv->z[i])
				continue;
			cv->z[i] = z;
			on_edge = alt[0] > 0.0f && (w0 * alt[0] < 1.0f || w1 * alt[1] < 1.0f || w2 * alt[2] < 1.0f);
			memcpy(cv->rgb + 3 * i, on_edge ? f->edge_rgb : f->rgb, 3);
		}
	}
}

/* The colour of region id: its label's, grey without one. */
static void region_rgb(int32_t id, unsigned char rgb[3])
{
	const struct twin_label *l = id > 0 ? twin_label_by_id(id) : NULL;

	if (l) {
		memcpy(rgb, l->rgb, 3);
	} else {
		rgb[0] = 160;
		rgb[1] = 160;
		rgb[2] = 160;
	}
}

/*
 * Projects every node into the eye's frame (cam: 3 floats a node) and finds
 * the extent of the nodes that tetrahedra use. Returns 0 when none do.
 */
static int project(const struct twin_tetmesh *m, const struct camera *c, float *cam,
		   double lo[2], double hi[2])
{
	int any = 0;

	for (size_t n = 0; n < m->n_nodes; n++) {
		const double *p = m->xyz + 3 * n;

		cam[3 * n + 0] = (float)(p[0] * c->right[0] + p[1] * c->right[1] + p[2] * c->right[2]);
		cam[3 * n + 1] = (float)(p[0] * c->up[0] + p[1] * c->up[1] + p[2] * c->up[2]);
		cam[3 * n + 2] = (float)(p[0] * c->eye[0] + p[1] * c->eye[1] + p[2] * c->eye[2]);
	}
	lo[0] = lo[1] = DBL_MAX;
	hi[0] = hi[1] = -DBL_MAX;
	for (size_t k = 0; k < 4 * m->n_tets; k++) {
		const float *q = cam + 3 * (size_t)m->tets[k];

		for (int a = 0; a < 2; a++) {
			if (q[a] < lo[a])
				lo[a] = q[a];
			if (q[a] > hi[a])
				hi[a] = q[a];
		}
		any = 1;
	}
	return any;
}

/* Where the eye's frame lands on the canvas. */
struct fit {
	double scale, ox, oy;
};

/* Fills local face k of tetrahedron t when it faces the eye. */
static void draw_face(struct canvas *cv, const struct twin_tetmesh *m, const float *cam,
		      const struct fit *fit, size_t t, int k)
{
	/* Light from the viewer's upper left, a little in front. */
	static const double light[3] = { -0.35, 0.45, 0.82 };
	const uint32_t *tet = m->tets + 4 * t;
	const float *a = cam + 3 * (size_t)tet[twin_tetmesh_face_nodes[k][0]];
	const float *b = cam + 3 * (size_t)tet[twin_tetmesh_face_nodes[k][1]];
	const float *c = cam + 3 * (size_t)tet[twin_tetmesh_face_nodes[k][2]];
	double u[3], v[3], nrm[3], len, shade;
	unsigned char base[3];
	struct face f;

	for (int i = 0; i < 3; i++) {
		u[i] = b[i] - a[i];
		v[i] = c[i] - a[i];
	}
	nrm[2] = u[0] * v[1] - u[1] * v[0];
	if (nrm[2] <= 0.0)
		return; /* faces away from the eye */
	nrm[0] = u[1] * v[2] - u[2] * v[1];
	nrm[1] = u[2] * v[0] - u[0] * v[2];
	len = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
	shade = (nrm[0] * light[0] + nrm[1] * light[1] + nrm[2] * light[2]) / len;
	shade = 0.30 + 0.70 * (shade > 0.0 ? shade : 0.0);
	region_rgb(m->tet_region[t], base);
	for (int i = 0; i < 3; i++) {
		const float *p = i == 0 ? a : i == 1 ? b : c;

		f.x[i] = (float)(fit->ox + p[0] * fit->scale);
		f.y[i] = (float)(fit->oy - p[1] * fit->scale);
		f.z[i] = p[2];
		f.rgb[i] = (unsigned char)lround(base[i] * shade);
		f.edge_rgb[i] = (unsigned char)lround(base[i] * shade * 0.72);
	}
	fill(cv, &f);
}

/* A face keyed by its smallest node: the other two in order, and tet * 4 + local face. */
struct face_key {
	uint32_t b, c;
	uint32_t code;
};

/* Marks a face_key's code as shared by two tetrahedra. */
#define SHARED 0x80000000u

static void sort3(uint32_t n[3])
{
	uint32_t t;

	if (n[0] > n[1]) { t = n[0]; n[0] = n[1]; n[1] = t; }
	if (n[1] > n[2]) { t = n[1]; n[1] = n[2]; n[2] = t; }
	if (n[0] > n[1]) { t = n[0]; n[0] = n[1]; n[1] = t; }
}

/*
 * Draws the faces that belong to one tetrahedron only: the boundary. Faces
 * are bucketed by their smallest node (a counting sort), and a face whose
 * other two nodes recur in its bucket is inside. Drawing only these keeps a
 * fine mesh from filling each pixel a hundred times over.
 */
static int draw_boundary(struct twin_err *err, struct canvas *cv, const struct twin_tetmesh *m,
			 const float *cam, const struct fit *fit)
{
	size_t nf = 4 * m->n_tets;
	uint32_t *start = calloc(m->n_nodes + 1, sizeof(*start));
	uint32_t *next = malloc((m->n_nodes + 1) * sizeof(*next));
	struct face_key *keys = malloc((nf ? nf : 1) * sizeof(*keys));
	int rc = -1;

	if (!start || !next || !keys) {
		twin_err_set(err, TWIN_EFAIL, "mesh picture: out of memory for %zu tetrahedra", m->n_tets);
		goto out;
	}
	for (size_t f = 0; f < nf; f++) {
		const uint32_t *tet = m->tets + 4 * (f / 4);
		const uint8_t *fn = twin_tetmesh_face_nodes[f % 4];
		uint32_t lo = tet[fn[0]];

		if (tet[fn[1]] < lo)
			lo = tet[fn[1]];
		if (tet[fn[2]] < lo)
			lo = tet[fn[2]];
		start[lo + 1]++;
	}
	for (size_t n = 0; n < m->n_nodes; n++)
		start[n + 1] += start[n];
	memcpy(next, start, (m->n_nodes + 1) * sizeof(*next));
	for (size_t f = 0; f < nf; f++) {
		const uint32_t *tet = m->tets + 4 * (f / 4);
		const uint8_t *fn = twin_tetmesh_face_nodes[f % 4];
		uint32_t n[3] = { tet[fn[0]], tet[fn[1]], tet[fn[2]] };
		struct face_key *k;

		sort3(n);
		k = &keys[next[n[0]]++];
		k->b = n[1];
		k->c = n[2];
		k->code = (uint32_t)f;
	}
	for (size_t n = 0; n < m->n_nodes; n++)
		for (uint32_t i = start[n]; i < start[n + 1]; i++) {
			if (keys[i].code & SHARED)
				continue;
			for (uint32_t j = i + 1; j < start[n + 1]; j++)
				if (keys[j].b == keys[i].b && keys[j].c == keys[i].c) {
					keys[i].code |= SHARED;
					keys[j].code |= SHARED;
					break;
				}
			if (!(keys[i].code & SHARED))
				draw_face(cv, m, cam, fit, keys[i].code / 4, (int)(keys[i].code % 4));
		}
	rc = 0;
out:
	free(keys);
	free(next);
	free(start);
	return rc;
}

static int draw(struct twin_err *err, struct canvas *cv, const struct twin_tetmesh *m, const float *cam,
		const double lo[2], const double hi[2])
{
	double span_x = hi[0] - lo[0], span_y = hi[1] - lo[1];
	struct fit fit;

	fit.scale = fmin((double)cv->w * (1.0 - 2.0 * MARGIN) / fmax(span_x, 1e-9),
			 (double)cv->h * (1.0 - 2.0 * MARGIN) / fmax(span_y, 1e-9));
	fit.ox = 0.5 * (double)cv->w - 0.5 * (lo[0] + hi[0]) * fit.scale;
	fit.oy = 0.5 * (double)cv->h + 0.5 * (lo[1] + hi[1]) * fit.scale;
	if (m->n_tets <= (SHARED - 1) / 4)
		return draw_boundary(err, cv, m, cam, &fit);
	/* Too many to key in 31 bits: every face, the z-buffer keeps the outside. */
	for (size_t t = 0; t < m->n_tets; t++)
		for (int k = 0; k < 4; k++)
			draw_face(cv, m, cam, &fit, t, k);
	return 0;
}

/* Averages SS x SS samples into each output pixel. */
static void downsample(const struct canvas *cv, unsigned char *rgb, size_t width, size_t height)
{
	for (size_t y = 0; y < height; y++)
		for (size_t x = 0; x < width; x++)
			for (int k = 0; k < 3; k++) {
				unsigned sum = 0;

				for (size_t sy = 0; sy < SS; sy++)
					for (size_t sx = 0; sx < SS; sx++)
						sum += cv->rgb[3 * ((y * SS + sy) * cv->w + x * SS + sx) + (size_t)k];
				rgb[3 * (y * width + x) + (size_t)k] = (unsigned char)((sum + SS * SS / 2) / (SS * SS));
			}
}

int twin_render_mesh(struct twin_err *err, const struct twin_tetmesh *mesh,
		     const struct twin_render_view *view, size_t width, size_t height,
		     unsigned char *rgb)
{
	struct canvas cv = { width * SS, height * SS, NULL, NULL };
	float *cam = NULL;
	struct camera c;
	double lo[2], hi[2];
	int rc = -1;

	if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE)
		return twin_err_set(err, TWIN_EFAIL, "mesh picture: %zux%zu pixels is not a size to draw",
				    width, height);
	cv.rgb = malloc(3 * cv.w * cv.h);
	cv.z = malloc(cv.w * cv.h * sizeof(*cv.z));
	cam = malloc((mesh->n_nodes ? mesh->n_nodes : 1) * 3 * sizeof(*cam));
	if (!cv.rgb || !cv.z || !cam) {
		twin_err_set(err, TWIN_EFAIL, "mesh picture: out of memory for %zu nodes", mesh->n_nodes);
		goto out;
	}
	for (size_t i = 0; i < cv.w * cv.h; i++) {
		cv.rgb[3 * i + 0] = TWIN_RENDER_BG_R;
		cv.rgb[3 * i + 1] = TWIN_RENDER_BG_G;
		cv.rgb[3 * i + 2] = TWIN_RENDER_BG_B;
		cv.z[i] = -FLT_MAX;
	}
	camera_init(&c, view);
	if (project(mesh, &c, cam, lo, hi) && draw(err, &cv, mesh, cam, lo, hi) != 0)
		goto out;
	downsample(&cv, rgb, width, height);
	rc = 0;
out:
	free(cam);
	free(cv.z);
	free(cv.rgb);
	return rc;
}

/* libpng reports through these; both stay silent, errors jump back. */
static void on_png_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Encodes rows into f. Returns 0, or -1 when libpng fails. */
static int encode(FILE *f, png_bytep *rows, size_t width, size_t height)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	volatile int ok = 0;

	if (png && info && setjmp(png_jmpbuf(png)) == 0) {
		png_init_io(png, f);
		png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
			     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
		png_write_info(png, info);
		png_write_image(png, rows);
		png_write_end(png, NULL);
		ok = 1;
	}
	png_destroy_write_struct(&png, &info);
	return ok ? 0 : -1;
}

int twin_render_save_png(struct twin_err *err, const char *path, const unsigned char *rgb,
			 size_t width, size_t height)
{
	png_bytep *rows = NULL;
	struct twin_atomic a;
	int rc = -1;

	if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE)
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': %zux%zu pixels is not a picture size",
				    path, width, height);
	rows = malloc(height * sizeof(*rows));
	if (!rows)
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
	for (size_t r = 0; r < height; r++)
		rows[r] = (png_bytep)(uintptr_t)(rgb + 3 * r * width);
	if (twin_atomic_open(err, &a, path) != 0)
		goto out;
	if (encode(a.f, rows, width, height) != 0) {
		twin_err_set(err, TWIN_EDEP, "cannot write '%s': libpng failed", path);
		twin_atomic_abort(&a);
		goto out;
	}
	rc = twin_atomic_commit(err, &a);
out:
	free(rows);
	return rc;
}
