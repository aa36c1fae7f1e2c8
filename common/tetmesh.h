/*
 * tetmesh: a linear tetrahedral mesh in LPS millimetres with a region id per
 * tetrahedron, tagged boundary triangles, and the names of regions and
 * surfaces. Owns its arrays and names. Plain C; includes only err.h.
 */
#ifndef TWIN_TETMESH_H
#define TWIN_TETMESH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "No tetrahedron" in struct twin_tetmesh_parent. */
#define TWIN_TETMESH_NONE UINT32_MAX

/* Longest region or surface name, as MSH's $PhysicalNames allows. */
#define TWIN_TETMESH_NAME_MAX 127

/* A positive tag and its name (owned). */
struct twin_tetmesh_name {
	int32_t tag;
	char *name;
};

/*
 * Node n is at xyz[3n .. 3n+2]. Tetrahedron t has nodes tets[4t .. 4t+3]
 * (0-based) and region tet_region[t]; triangle i has nodes tris[3i .. 3i+2]
 * and surface tag tri_surface[i]. Region ids are the label ids of
 * ARCHITECTURE.md (1..7); surface tags are small positive integers. Tag 0
 * means "none" and can carry no name.
 *
 * A valid mesh (twin_tetmesh_check) has every index in range, every
 * tetrahedron of positive volume det(b-a, c-a, d-a) / 6, and a unique name
 * for every region and surface tag in use.
 *
 * Make one with twin_tetmesh_new; the builder fills the arrays, whose sizes
 * are fixed. Names change only through twin_tetmesh_set_*_name.
 */
struct twin_tetmesh {
	size_t n_nodes;
	size_t n_tets;
	size_t n_tris;
	double *xyz;
	uint32_t *tets;
	int32_t *tet_region;
	uint32_t *tris;
	int32_t *tri_surface;
	struct twin_tetmesh_name *regions;  /* n_regions, sorted by tag */
	size_t n_regions;
	struct twin_tetmesh_name *surfaces; /* n_surfaces, sorted by tag */
	size_t n_surfaces;
};

/*
 * A new mesh with zero-filled arrays of the given sizes and no names.
 * n_nodes must fit in uint32_t. Returns an owned pointer that
 * twin_tetmesh_free frees, or NULL.
 */
struct twin_tetmesh *twin_tetmesh_new(struct twin_err *err, size_t n_nodes,
				      size_t n_tets, size_t n_tris);
void twin_tetmesh_free(struct twin_tetmesh *mesh);

/*
 * Names region id / surface tag (> 0), replacing an earlier name. A name is
 * 1..127 printable characters without '"'. The name is copied.
 */
int twin_tetmesh_set_region_name(struct twin_err *err, struct twin_tetmesh *mesh,
				 int32_t id, const char *name);
int twin_tetmesh_set_surface_name(struct twin_err *err, struct twin_tetmesh *mesh,
				  int32_t tag, const char *name);

/* The name of a region / surface tag, or NULL. Valid until the name changes. */
const char *twin_tetmesh_region_name(const struct twin_tetmesh *mesh, int32_t id);
const char *twin_tetmesh_surface_name(const struct twin_tetmesh *mesh, int32_t tag);

/* Signed volume of tetrahedron t in mm^3; positive when correctly oriented. */
double twin_tetmesh_tet_volume(const struct twin_tetmesh *mesh, size_t t);
/* Area of triangle i in mm^2. */
double twin_tetmesh_tri_area(const struct twin_tetmesh *mesh, size_t i);

/*
 * Makes every tetrahedron of negative volume positive by swapping its last
 * two nodes. Returns how many were swapped. Indices must be in range.
 */
size_t twin_tetmesh_orient(struct twin_tetmesh *mesh);

/*
 * Validates the invariants above. The message names the first fault:
 * "tetrahedron 12 is inverted: volume -0.25 mm^3",
 * "region 3 is used by 120 tetrahedra but has no name".
 */
int twin_tetmesh_check(struct twin_err *err, const struct twin_tetmesh *mesh);

/* How many tetrahedra (triangles) carry each region id (surface tag). */
struct twin_tetmesh_count {
	int32_t tag;
	size_t count;
};

/*
 * The tags in use with their counts, sorted by tag, as a malloc'd array of
 * *n entries (free; NULL when *n is 0).
 */
int twin_tetmesh_region_counts(struct twin_err *err, const struct twin_tetmesh *mesh,
			       struct twin_tetmesh_count **counts, size_t *n);
int twin_tetmesh_surface_counts(struct twin_err *err, const struct twin_tetmesh *mesh,
				struct twin_tetmesh_count **counts, size_t *n);

/*
 * Local faces: face f of a tetrahedron is the one opposite its local node f,
 * with nodes twin_tetmesh_face_nodes[f], ordered so that the normal (right
 * hand rule) points out of a positively oriented tetrahedron.
 * Abaqus C3D4 faces S1, S2, S3, S4 are local faces 3, 2, 0, 1.
 */
extern const uint8_t twin_tetmesh_face_nodes[4][3];

/*
 * The tetrahedra that triangle i is a face of: tet[0] < tet[1], and tet[1]
 * is TWIN_TETMESH_NONE on the outer boundary; face[k] is the local face of
 * tet[k] (0..3).
 */
struct twin_tetmesh_parent {
	uint32_t tet[2];
	uint8_t face[2];
};

/*
 * For every triangle, its parent tetrahedra, as a malloc'd array of n_tris
 * entries (free). Fails (TWIN_EINPUT) when a triangle is not a face of any
 * tetrahedron or a face is shared by more than two. Indices must be in range.
 */
struct twin_tetmesh_parent *twin_tetmesh_face_index(struct twin_err *err,
						    const struct twin_tetmesh *mesh);

/* face[1] of a triangle that is a face of more than two tetrahedra. */
#define TWIN_TETMESH_FACE_SHARED 4

/*
 * The same for checking a mesh: never fails on a bad triangle. One that is a
 * face of no tetrahedron keeps tet[0] == TWIN_TETMESH_NONE; one that is a
 * face of more than two keeps its first two, with face[1] ==
 * TWIN_TETMESH_FACE_SHARED. Errors: out of memory, too many triangles.
 */
struct twin_tetmesh_parent *twin_tetmesh_face_parents(struct twin_err *err,
						      const struct twin_tetmesh *mesh);

#ifdef __cplusplus
}
#endif

#endif
