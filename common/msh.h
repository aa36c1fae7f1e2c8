/*
 * msh: read and write Gmsh MSH 4.1 files (ASCII and binary) as tet meshes.
 * Owns nothing beyond what it returns. Includes tetmesh.h and err.h only.
 */
#ifndef TWIN_MSH_H
#define TWIN_MSH_H

#include <stddef.h>

#include "tetmesh.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a load met besides the mesh. */
struct twin_msh_info {
	int binary;               /* 1 for a binary file */
	size_t skipped_elements;  /* points, lines, quads, hexahedra, ... */
	size_t dropped_nodes;     /* nodes that no tetrahedron or triangle uses */
};

/*
 * Reads an MSH 4.1 file. Tetrahedra (type 4) and triangles (type 2) are kept;
 * an element's region id / surface tag is the first physical tag of its
 * entity in $Entities, or 0 when the entity has none. Names come from
 * $PhysicalNames: dimension 3 names regions, dimension 2 surfaces. Nodes are
 * ordered by tag; nodes no kept element uses are dropped. Tetrahedra of
 * negative volume are reoriented. Other elements are skipped, unknown
 * sections too. The mesh is not checked: call twin_tetmesh_check.
 *
 * Returns an owned mesh (twin_tetmesh_free) or NULL: TWIN_EIO when the file
 * cannot be read, TWIN_EINPUT for a corrupt or truncated file,
 * TWIN_EUNSUPPORTED for MSH 2.x, 3.x, 4.0 and for high-order elements.
 */
struct twin_tetmesh *twin_msh_load(struct twin_err *err, const char *path);

/* The same from memory; name is used in messages. buf needs no NUL. */
struct twin_tetmesh *twin_msh_load_mem(struct twin_err *err, const char *name,
				       const void *buf, size_t len);

/* twin_msh_load_mem that also fills info (which may be NULL). */
struct twin_tetmesh *twin_msh_parse(struct twin_err *err, const char *name,
				    const void *buf, size_t len, struct twin_msh_info *info);

/*
 * Writes mesh as MSH 4.1, binary when binary is non-zero, through a temporary
 * file renamed into place. One volume entity per region id and one surface
 * entity per surface tag, each carrying its tag as physical tag (none for
 * tag 0); names go to $PhysicalNames. Node tag n + 1 is node n. Gmsh reads
 * the result. The mesh must have its indices in range.
 */
int twin_msh_save(struct twin_err *err, const char *path,
		  const struct twin_tetmesh *mesh, int binary);

#ifdef __cplusplus
}
#endif

#endif
