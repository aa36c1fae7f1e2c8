/*
 * repair: removes the slivers that a tetrahedraliser and its optimiser leave,
 * most on the surface (a nearly flat fold of it, where all four nodes of a
 * tetrahedron lie on it and two of its faces are surface triangles; a line
 * where surfaces meet), which no optimiser that keeps the surface can fix.
 * Works in place on a tet mesh; it may add tetrahedra.
 * Includes err.h and tetmesh.h only.
 */
#ifndef TWIN_MESH_REPAIR_H
#define TWIN_MESH_REPAIR_H

#include <stddef.h>

#include "err.h"
#include "tetmesh.h"

/*
 * Each tetrahedron with a dihedral angle below min_deg that sits on a fold
 * of one tagged surface is taken out: the fold's two triangles are swapped
 * for the tetrahedron's two other faces, and the tetrahedron goes to the
 * outside (removed) or to the region on the other side, whose tets around
 * the fold's edge are rebuilt without it (an edge removal) when that gives
 * better tetrahedra. The mesh stays conforming. Sets *fixed (may be NULL) to
 * how many were taken out.
 */
int twin_repair_slivers(struct twin_err *err, struct twin_tetmesh *m, double min_deg, size_t *fixed);

/*
 * Improves each tetrahedron with a dihedral angle below min_deg inside its
 * region: moves its inner nodes (towards their neighbours' centre, then by a
 * compass search), or flips it with its neighbours when the new tetrahedra
 * are better: 2-3 across a face, or an edge removal (the n tets around one of
 * its edges become 2(n - 2) without it) for an edge inside a region or inside
 * one tagged surface, whose two triangles then flip where the surface moves
 * by less than a tenth of an edge; or splits one of its inner edges and moves
 * the new node where the tets around it are best (the mesh gains nodes);
 * else moves its surface nodes a little within their surface, where that
 * surface is one tagged surface that bends by less than 50 degrees, or along
 * the line where surfaces meet (points where lines meet stay). Then again,
 * up to 32 times, for the tets still bad and those around what changed.
 * Sets *improved (may be NULL) to how many changes were made.
 */
int twin_repair_improve(struct twin_err *err, struct twin_tetmesh *m, double min_deg, size_t *improved);

#endif
