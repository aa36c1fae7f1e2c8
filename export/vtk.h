/*
 * vtk: one VTK XML file (.vtu of tetrahedra or .vtp of triangles) with raw
 * appended binary data, UInt64 headers, little-endian, Int32 connectivity
 * and offsets. Shared by the vtu and svmp writers. Owns nothing. Includes
 * err.h and export.h only.
 */
#ifndef TWIN_VTK_H
#define TWIN_VTK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "export.h"

/* An array: n tuples of ncomp values of a VTK type. */
enum twin_vtk_type { TWIN_VTK_INT32, TWIN_VTK_INT64, TWIN_VTK_FLOAT64 };

struct twin_vtk_array {
	const char *name;
	enum twin_vtk_type type;
	int ncomp;
	const void *data;       /* n tuples of ncomp values of type */
	size_t stride;          /* values from one tuple to the next in data; 0: ncomp */
};

/* A named integer kept in FieldData: a region or surface name and its id. */
struct twin_vtk_field {
	const char *name;
	int32_t value;
};

/*
 * A piece. Cells are tetrahedra (poly 0, UnstructuredGrid) or triangles
 * (poly 1, PolyData); conn holds 4 or 3 0-based point ids per cell, below
 * 2^31.
 */
struct twin_vtk_piece {
	int poly;
	size_t n_points;
	const double *xyz;
	size_t n_cells;
	const uint32_t *conn;
	const struct twin_vtk_array *point_data;
	size_t n_point_data;
	const struct twin_vtk_array *cell_data;
	size_t n_cell_data;
	const struct twin_vtk_field *fields;
	size_t n_fields;
};

/* Writes p to dir/name. */
int twin_vtk_write(struct twin_err *err, const char *dir, const char *name,
		   const struct twin_vtk_piece *p);

/*
 * The points and triangles of surface group k (twin_export_groups) with
 * local point ids: *xyz (3 per point), *conn (3 per triangle) and *global
 * (the mesh node of each local point), all malloc'd (free).
 */
int twin_vtk_surface(struct twin_err *err, const struct twin_tetmesh *mesh,
		     const uint32_t *tris, size_t n_tris, double **xyz, uint32_t **conn,
		     uint32_t **global, size_t *n_points);

/*
 * Writes surface group k of g to dir/name as .vtp: point array
 * GlobalNodeID (1-based mesh node), cell arrays tag_name (the surface tag)
 * and GlobalElementID (1-based parent tetrahedron, on the myocardium's
 * side where the surface bounds it), and the surface name in FieldData.
 */
int twin_vtk_write_surface(struct twin_err *err, const struct twin_export *x,
			   const struct twin_export_groups *g, size_t k, const char *dir,
			   const char *name, const char *tag_name);

#endif
