/*
 * gmsh: tetrahedralises a triangulated multi-label surface (surface.h) with
 * the Gmsh SDK through its C API: one discrete surface per interface or cap,
 * one volume per meshed label bounded by a surface loop of its discrete
 * surfaces (Gmsh 4.8 does not fill discrete volumes), HXT or Delaunay,
 * Gmsh's and Netgen's optimisers, read back as a tet mesh whose regions and
 * surfaces carry the names of labels.h and surfaces.h.
 * Owns nothing beyond what it returns. Includes err.h, grid.h, quality.h,
 * surface.h, tetmesh.h.
 */
#ifndef TWIN_MESH_GMSH_H
#define TWIN_MESH_GMSH_H

#include "err.h"
#include "grid.h"
#include "quality.h"
#include "surface.h"
#include "tetmesh.h"

/*
 * Gmsh's Mesh.Algorithm3D numbers. twin-mesh uses HXT, which rebuilds the
 * volumes once each enclosed region has its own surfaces (find_patches
 * splits them so); it can run on several threads (threads below; Gmsh's
 * default is one, the one measured). Delaunay, on one thread in Gmsh 4.8 and
 * with about ten times the CPU time, is the fallback.
 */
enum twin_gmsh_algorithm {
	TWIN_GMSH_HXT = 10,
	TWIN_GMSH_DELAUNAY = 1
};

struct twin_gmsh_opt {
	double size;                            /* target edge length inside, mm */
	double region_size[TWIN_GRID_LABELS];   /* > 0: the size inside that label */
	enum twin_gmsh_algorithm algorithm;
	int optimize;                           /* run the optimisers */
	int threads;                            /* 0: Gmsh's default */
	int verbose;                            /* > 0: Gmsh talks on stdout, more when higher */
};

/* Surface tags whose regions a run records, at most. */
#define TWIN_GMSH_MAX_SIDES 1024

/* What a run did. */
struct twin_gmsh_info {
	int netgen;   /* 1: Netgen's optimiser ran; 0: this Gmsh lacks it */
	/* the regions each surface tag separates, for twin_quality_measure */
	struct twin_quality_side sides[TWIN_GMSH_MAX_SIDES];
	size_t nsides;
	/* seconds, wall and CPU of every thread: input, tetrahedralising, optimising, reading back */
	double wall[4], cpu[4];
};

/* Wall and CPU seconds (every thread of the process) since some fixed time. */
double twin_gmsh_wall(void);
double twin_gmsh_cpu(void);

/*
 * The tet mesh of s (triangulated, in world coordinates) for the meshed
 * labels of g. Region id = label id, named by labels.h; each surface tag is
 * one interface or cap, named by surfaces.h; the tets are oriented, but a
 * flat one that Gmsh's optimiser left stays (for repair.h to take out, before
 * twin_tetmesh_check). Gmsh prints nothing; its failures are TWIN_EDEP with
 * Gmsh's last error. Returns an owned mesh (twin_tetmesh_free) or NULL.
 * info (may be NULL) is filled on success.
 * Not thread-safe: Gmsh has one global state.
 */
struct twin_tetmesh *twin_gmsh_mesh(struct twin_err *err, const struct twin_surface *s,
				    const struct twin_grid *g, const struct twin_gmsh_opt *opt,
				    struct twin_gmsh_info *info);

/* The name of the surface between values a < b of g (a label pair or a cap). */
int twin_gmsh_surface_name(char name[64], const struct twin_grid *g, unsigned a, unsigned b);

#endif
