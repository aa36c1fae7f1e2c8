/*
 * surface: the multi-label surface of a grid (grid.h): one quad per cell face
 * between two different values of which one is meshed, each interface once
 * and shared by both sides, vertices at cell corners (surface nets), smoothed
 * by Taubin's lambda|mu with triple lines and caps kept, then triangulated.
 * Owns its arrays. Includes err.h, grid.h and volume.h only.
 */
#ifndef TWIN_MESH_SURFACE_H
#define TWIN_MESH_SURFACE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "grid.h"
#include "volume.h"

/*
 * Vertex v is at xyz[3v .. 3v+2], in cell index space until
 * twin_surface_to_world. Quad q has vertices quads[4q .. 4q+3], its normal
 * pointing from the cell of value side[2q] to that of side[2q+1], with
 * side[2q] < side[2q+1]. After twin_surface_triangulate, triangle t has
 * vertices tris[3t .. 3t+2] and values tri_side[2t], tri_side[2t+1].
 */
struct twin_surface {
	size_t n_verts, n_quads, n_tris;
	double *xyz;
	double *home;      /* where each vertex started: its cell corner */
	uint32_t *quads;
	uint8_t *side;
	uint32_t *tris;
	uint8_t *tri_side;
};

/* Extracts the surface of g. s needs twin_surface_release, also on failure. */
int twin_surface_extract(struct twin_err *err, struct twin_surface *s, const struct twin_grid *g);

/*
 * Taubin smoothing, iterations times (lambda 0.5, mu -0.53). A vertex where
 * three or more surfaces meet moves only along its junction line, one where
 * lines meet stays, and so does one of a line that closes on itself through
 * fewer than 14 vertices (the rim of a one-cell cap: Taubin would shrink it
 * to a point); a cap's vertices stay in its plane; no vertex moves more
 * than clamp cells (below 0.5) along any axis from its corner.
 */
int twin_surface_smooth(struct twin_err *err, struct twin_surface *s, const struct twin_grid *g,
			int iterations, double clamp);

/* Splits each quad along its shorter diagonal. */
int twin_surface_triangulate(struct twin_err *err, struct twin_surface *s);

/*
 * How far (mm) a vertex of s (triangulated, in world coordinates) lies from
 * the boundary of its label in labels, the map that g was made from, at
 * most: each vertex against the voxel faces between its label (the lower
 * label of its pair) and any other value, within twice g's cell (a vertex
 * with none that near counts as that far). This bounds the surface's
 * Hausdorff distance to the label boundary. A cap is a plane a vessel was
 * cut along, no label's boundary: its vertices, rim too, do not count.
 * INFINITY when out of memory.
 */
double twin_surface_label_distance(const struct twin_surface *s, const struct twin_volume *labels,
				   const struct twin_grid *g);

/* Moves the vertices from cell index space to LPS mm through the grid's affine. */
void twin_surface_to_world(struct twin_surface *s, const struct twin_grid *g);

void twin_surface_release(struct twin_surface *s);

#endif
