/*
 * pipeline: a label map to a tagged tet mesh and its quality, the whole of
 * twin-mesh but the files: RV wall, grid, surface, Gmsh, quality. Owns what its
 * result holds. Includes err.h, conf.h, volume.h and the mesh modules only.
 */
#ifndef TWIN_MESH_PIPELINE_H
#define TWIN_MESH_PIPELINE_H

#include "conf.h"
#include "err.h"
#include "grid.h"
#include "quality.h"
#include "tetmesh.h"
#include "volume.h"

struct twin_mesh_settings {
	double size;                         /* mesh.size, mm */
	double label_size[TWIN_GRID_LABELS]; /* mesh.size.<label>, 0 for mesh.size */
	unsigned meshed;                     /* mesh.labels as label id bits */
	double vessel_length;                /* mesh.vessel_length, mm, 0 keeps all */
	long max_tets;                       /* mesh.max_tets */
	int smooth_iterations;               /* mesh.smooth_iterations */
	double rv_wall;                      /* mesh.rv_wall, mm, 0 grows no RV wall */
	int threads;                         /* Gmsh threads, 0 for its default */
	int verbose;                         /* > 0: Gmsh talks on stdout */
	/* called after each of TWIN_MESH_STEPS steps, when not NULL */
	void (*progress)(void *ctx, unsigned done);
	void *progress_ctx;
};

/* Steps of twin_mesh_build: label map, surface, tetrahedra, repair, quality. */
#define TWIN_MESH_STEPS 5

/* The stages whose times twin-mesh -v shows, in order. */
#define TWIN_MESH_NSTAGES 8
#define TWIN_MESH_STAGES { "label map", "surface", "gmsh input", "tetrahedralise", "optimise", \
			   "gmsh output", "repair", "quality" }

/* The settings from the mesh.* keys of conf. */
void twin_mesh_settings_from_conf(struct twin_mesh_settings *set, const struct twin_conf *conf);

struct twin_mesh_result {
	struct twin_tetmesh *mesh;           /* owned */
	struct twin_quality quality;         /* its names borrowed from mesh */
	size_t estimate;                     /* the tet count foreseen before meshing */
	size_t surface_triangles;
	size_t repaired;                     /* slivers taken off surface folds */
	size_t improved;                     /* node moves and flips on slivers inside */
	double seconds_surface, seconds_volume;
	/* wall and CPU seconds (every thread) of each stage of TWIN_MESH_STAGES */
	double wall[TWIN_MESH_NSTAGES], cpu[TWIN_MESH_NSTAGES];
};

/*
 * Meshes labels (name is its file, for messages). Warnings go to warn. A
 * size that would give more than set->max_tets is TWIN_ECONFIG, found from
 * an estimate before Gmsh runs. res needs twin_mesh_result_release, also
 * after a failure.
 */
int twin_mesh_build(struct twin_err *err, struct twin_mesh_result *res, const struct twin_volume *labels,
		    const char *name, const struct twin_mesh_settings *set, twin_grid_warn_fn *warn, void *ctx);
void twin_mesh_result_release(struct twin_mesh_result *res);

#endif
