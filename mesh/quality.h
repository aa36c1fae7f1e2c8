/*
 * quality: the measures of a heart mesh that quality.xml reports (per region
 * count, volume against the label's voxels, dihedral angles, radius ratio,
 * edge lengths; per surface triangles and area) and the requirements they
 * must meet. Owns its arrays. Includes err.h, grid.h and tetmesh.h only.
 */
#ifndef TWIN_MESH_QUALITY_H
#define TWIN_MESH_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "grid.h"
#include "tetmesh.h"

/* The schema quality.xml is validated against, compiled in. */
extern const char twin_quality_xsd[];

/* Requirements. */
#define TWIN_QUALITY_MIN_DIHEDRAL 10.0   /* degrees */
#define TWIN_QUALITY_MAX_VOLUME_ERROR 3.0 /* percent of the label's voxel volume */

struct twin_quality_region {
	int32_t id;
	const char *name;      /* borrowed from the mesh */
	size_t tets;
	double volume;         /* mm^3 */
	double label_volume;   /* mm^3 of the label's voxels as meshed */
	double volume_error;   /* percent, signed */
	double min_dihedral, mean_dihedral;  /* degrees */
	size_t below_min_dihedral;           /* tets with an angle below TWIN_QUALITY_MIN_DIHEDRAL */
	double min_gamma, mean_gamma;        /* radius ratio 3 r_in / r_circ, 1 for a regular tet */
	double min_edge, mean_edge, max_edge; /* mm */
};

struct twin_quality_surface {
	int32_t tag;
	const char *name;      /* borrowed from the mesh */
	size_t triangles;
	double area;           /* mm^2 */
};

/*
 * The regions on the two sides of the triangles of one surface tag: region[1]
 * is 0 where the surface bounds the mesh (a cap, a wall against a label not
 * meshed). A tag may have several (one name for several label pairs).
 */
struct twin_quality_side {
	int32_t tag;
	int32_t region[2];
};

struct twin_quality {
	size_t nodes, tets, triangles;
	size_t inverted;             /* tets of volume <= 0 */
	size_t loose_triangles;      /* tagged triangles that are a face of no tet */
	size_t misplaced_triangles;  /* faces of tets, but not of the regions their tag separates */
	size_t first_bad_triangle;   /* the first of either, when there is one */
	double min_dihedral;         /* degrees, over every region */
	size_t below_min_dihedral;   /* tets with an angle below TWIN_QUALITY_MIN_DIHEDRAL */
	double max_volume_error;     /* percent, largest |error| */
	double surface_offset;       /* mm: how far the surface lies from the label map's boundary at most */
	double voxel_size;           /* mm: the smallest cell edge, the Hausdorff limit */
	int netgen;                  /* Netgen's optimiser ran */
	struct twin_quality_region *regions;
	size_t nregions;
	struct twin_quality_surface *surfaces;
	size_t nsurfaces;
};

/*
 * Measures m. label_volume[id] is the voxel volume (mm^3) of each label as
 * meshed. sides[0 .. nsides-1] (may be NULL) say which regions each surface
 * tag separates: a triangle must be a face of one tet in each (of exactly one
 * when region[1] is 0). A triangle whose tag has no side, or all of them when
 * sides is NULL, must be a face of one tet, or of two in different regions.
 * The names stay borrowed from m. q needs twin_quality_release.
 */
int twin_quality_measure(struct twin_err *err, struct twin_quality *q, const struct twin_tetmesh *m,
			 const double label_volume[TWIN_GRID_LABELS],
			 const struct twin_quality_side *sides, size_t nsides);
void twin_quality_release(struct twin_quality *q);

/* The smallest dihedral angle (degrees) of the tetrahedron p[0..3]. */
double twin_quality_min_dihedral(const double *p[4]);

/*
 * The surface requirement that no mesh is written without: every tagged
 * triangle a face of the tets it bounds. TWIN_EFAIL naming how many are not
 * and the first one (its surface and where it is) when q says so.
 */
int twin_quality_conforming(struct twin_err *err, const struct twin_quality *q, const struct twin_tetmesh *m);

/* Calls warn once per requirement not met; returns how many are not met. */
size_t twin_quality_requirements(const struct twin_quality *q, twin_grid_warn_fn *warn, void *ctx);

/* Writes quality.xml, validated and atomically. */
int twin_quality_save(struct twin_err *err, const char *path, const struct twin_quality *q);

#endif
