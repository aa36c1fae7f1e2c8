/*
 * rvwall: the right-ventricle free wall that a segmentation lacks (3-4 mm
 * is too thin to segment), grown on the label map as label 8 around the RV
 * blood pool when mesh.rv_wall > 0. Owns what it returns.
 * Includes err.h, volume.h and grid.h (for the warning callback) only.
 */
#ifndef TWIN_MESH_RVWALL_H
#define TWIN_MESH_RVWALL_H

#include <stddef.h>

#include "err.h"
#include "grid.h"
#include "volume.h"

#define TWIN_RVWALL_RV 5       /* heart_ventricle_right */
#define TWIN_RVWALL_LV_WALL 1  /* heart_myocardium */
#define TWIN_RVWALL_LABEL 8    /* heart_myocardium_right */

/* What a growth did, for warnings and tests. */
struct twin_rvwall_info {
	size_t voxels;       /* label 8 voxels in the result */
	size_t pieces;       /* 6-connected pieces the growth gave */
	size_t dropped;      /* voxels of the pieces not kept, made background again */
	int joins_lv_wall;   /* 1: the kept piece shares a face with label 1 */
	size_t pad[3][2];    /* voxels added before and after each index axis */
};

/*
 * A copy of labels (uint8, twin_volume_free) in which label 8 is grown
 * thickness mm (> 0) outward from the RV blood (label 5):
 *
 * - only background (0) voxels become 8, so the septum (where the RV meets
 *   label 1) and every other label stay as they are; nor does a voxel that
 *   shares a face with both the RV and label 1 (a gap in the staircase
 *   where they meet, which would become a sheet of RV wall one voxel thin
 *   between blood and septum);
 * - a voxel grows when the Euclidean distance in mm (the grid's spacing,
 *   which may differ per axis) between its centre and the nearest RV voxel's
 *   is at most thickness plus half the finest spacing (the RV's surface lies
 *   half a voxel beyond its centres) and no larger than its distance to the
 *   RA (4) and the PA (7): the wall stops at the plane halfway between the
 *   RV and those, which passes through the tricuspid and pulmonary valve
 *   rings, so it never wraps the atrium or the artery nor covers a valve; a
 *   face neighbour of the RV always grows, so that no RV face stays open to
 *   the background;
 * - of the pieces grown, one is kept: the largest of those that share a
 *   face with the LV wall (label 1), else the largest, so that the
 *   myocardium is one biventricular body.
 *
 * Where the RV lies within that reach of the image's edge, the copy is
 * first extended there by that many voxels, each a copy of the edge voxel
 * (a vessel that leaves the image still leaves it), so the wall is not
 * cut by the edge. Voxel values must be whole numbers 0..255 (TWIN_EINPUT
 * otherwise, naming name). info may be NULL.
 */
struct twin_volume *twin_rvwall_grow(struct twin_err *err, const struct twin_volume *labels,
				     double thickness, const char *name, struct twin_rvwall_info *info);

/*
 * twin_rvwall_grow for twin-mesh: the same, with warnings through warn
 * (no RV, pieces dropped, a wall that misses the LV wall, an extended map).
 */
struct twin_volume *twin_rvwall_add(struct twin_err *err, const struct twin_volume *labels,
				    double thickness, const char *name, twin_grid_warn_fn *warn, void *ctx);

#endif
