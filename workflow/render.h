/*
 * render: a picture of a tet mesh's outside without a display, for the
 * report. A small software rasteriser: every face of every tetrahedron goes
 * through a z-buffer, so what shows is the outer boundary, each region in its
 * label colour with Lambert shading, in an orthographic view. Owns nothing it
 * does not free. Includes err.h and tetmesh.h only.
 *
 * Why not Gmsh: Debian 12's gmsh 4.8 draws through FLTK and GLX only (its
 * build options list no OSMesa), so it needs an X display, which a batch
 * node or a CI runner does not have.
 */
#ifndef TWIN_RENDER_H
#define TWIN_RENDER_H

#include <stddef.h>

#include "err.h"
#include "tetmesh.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The colour of pixels that no face covers. */
#define TWIN_RENDER_BG_R 246
#define TWIN_RENDER_BG_G 247
#define TWIN_RENDER_BG_B 249

/*
 * Where the eye is, in the patient's frame (LPS): from anterior, turned
 * azimuth_deg towards the patient's left and raised elevation_deg towards
 * the head; superior is up in the picture.
 */
struct twin_render_view {
	double azimuth_deg;
	double elevation_deg;
};

/* Anterior oblique (LAO 30, cranial 20) and its opposite side. */
extern const struct twin_render_view twin_render_anterior;
extern const struct twin_render_view twin_render_posterior;

/*
 * Draws mesh, fitted to a width x height picture, into rgb (3 bytes a
 * pixel, rows top to bottom; the caller's buffer of 3 * width * height
 * bytes). A region id without a row in the label table is grey. A mesh
 * without tetrahedra gives an empty picture. Fails only on no memory
 * (TWIN_EFAIL) or a size of 0 or over 8192.
 */
int twin_render_mesh(struct twin_err *err, const struct twin_tetmesh *mesh,
		     const struct twin_render_view *view, size_t width, size_t height,
		     unsigned char *rgb);

/* Writes an RGB picture as PNG to path, through a temporary file and a rename. */
int twin_render_save_png(struct twin_err *err, const char *path, const unsigned char *rgb,
			 size_t width, size_t height);

#ifdef __cplusplus
}
#endif

#endif
