#include "pipeline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gmsh.h"
#include "labels.h"
#include "repair.h"
#include "rvwall.h"
#include "surface.h"

/*
 * Mean volume of one tetrahedron of edge length h, as a fraction of h^3,
 * measured on twin-phantom meshes (a regular tetrahedron has 0.118).
 */
#define TET_VOLUME_FRACTION 0.18

static void step(const struct twin_mesh_settings *set, unsigned done)
{
	if (set->progress)
		set->progress(set->progress_ctx, done);
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Adds the time since *w, *c to stage k of res, and restarts. */
static void lap(struct twin_mesh_result *res, int k, double *w, double *c)
{
	double w1 = twin_gmsh_wall(), c1 = twin_gmsh_cpu();

	res->wall[k] += w1 - *w;
	res->cpu[k] += c1 - *c;
	*w = w1;
	*c = c1;
}

void twin_mesh_settings_from_conf(struct twin_mesh_settings *set, const struct twin_conf *conf)
{
	memset(set, 0, sizeof(*set));
	set->size = twin_conf_double(conf, "mesh.size");
	for (long id = 1; id < TWIN_GRID_LABELS; id++) {
		const struct twin_label *l = twin_label_by_id(id);
		char key[96];

		if (!l)
			continue;
		snprintf(key, sizeof(key), "mesh.size.%s", l->name);
		set->label_size[id] = twin_conf_double(conf, key);
	}
	set->meshed = twin_grid_selection(twin_conf_string(conf, "mesh.labels"));
	set->vessel_length = twin_conf_double(conf, "mesh.vessel_length");
	set->max_tets = twin_conf_int(conf, "mesh.max_tets");
	set->smooth_iterations = (int)twin_conf_int(conf, "mesh.smooth_iterations");
	set->rv_wall = twin_conf_double(conf, "mesh.rv_wall");
}

/* The edge length inside label id. */
static double size_of(const struct twin_mesh_settings *set, unsigned id)
{
	return set->label_size[id] > 0 ? set->label_size[id] : set->size;
}

/*
 * Gmsh on s, adding its times to res. When HXT fails (Gmsh's error), the
 * same surface again with Delaunay, with a warning, and Delaunay after.
 */
static struct twin_tetmesh *tetrahedralise(struct twin_err *err, struct twin_mesh_result *res,
					   const struct twin_surface *s, const struct twin_grid *g,
					   struct twin_gmsh_opt *mopt, struct twin_gmsh_info *info,
					   const char *name, twin_grid_warn_fn *warn, void *ctx)
{
	for (;;) {
		struct twin_tetmesh *m;

		twin_err_init(err);
		m = twin_gmsh_mesh(err, s, g, mopt, info);
		for (int k = 0; k < 4; k++) {
			res->wall[2 + k] += info->wall[k];
			res->cpu[2 + k] += info->cpu[k];
		}
		if (m || mopt->algorithm != TWIN_GMSH_HXT || err->code != TWIN_EDEP)
			return m;
		mopt->algorithm = TWIN_GMSH_DELAUNAY;
		if (warn) {
			char msg[TWIN_ERR_MSG_MAX + 1100];

			snprintf(msg, sizeof(msg), "'%.1000s': Gmsh's HXT failed (%s): meshed with Delaunay",
				 name, err->msg);
			warn(ctx, msg);
		}
	}
}

int twin_mesh_build(struct twin_err *err, struct twin_mesh_result *res, const struct twin_volume *labels,
		    const char *name, const struct twin_mesh_settings *set, twin_grid_warn_fn *warn, void *ctx)
{
	struct twin_grid g;
	struct twin_surface s;
	struct twin_grid_opt gopt;
	struct twin_gmsh_opt mopt;
	struct twin_gmsh_info info;
	struct twin_volume *walled = NULL;
	double t0 = seconds(), w = twin_gmsh_wall(), c = twin_gmsh_cpu(), finest = set->size, label_volume[TWIN_GRID_LABELS] = { 0 }, sp[3], estimate = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	memset(&g, 0, sizeof(g));
	memset(&gopt, 0, sizeof(gopt));
	memset(&mopt, 0, sizeof(mopt));
	for (unsigned id = 1; id < TWIN_GRID_LABELS; id++)
		if ((set->meshed >> id & 1) && size_of(set, id) < finest)
			finest = size_of(set, id);
	gopt.meshed = set->meshed;
	gopt.spacing = finest;
	gopt.vessel_length = set->vessel_length;
	gopt.warn = warn;
	gopt.warn_ctx = ctx;
	gopt.name = name;
	if (set->rv_wall > 0 && !(walled = twin_rvwall_add(err, labels, set->rv_wall, name, warn, ctx)))
		goto out;
	if (twin_grid_build(err, &g, walled ? walled : labels, &gopt) != 0)
		goto out;
	for (unsigned id = 1; id < TWIN_GRID_LABELS; id++) {
		double h = size_of(set, id);

		label_volume[id] = (double)g.count[id] * g.cell_volume;
		if (set->meshed >> id & 1)
			estimate += label_volume[id] / (TET_VOLUME_FRACTION * h * h * h);
	}
	res->estimate = (size_t)estimate;
	lap(res, 0, &w, &c);
	step(set, 1);
	if (estimate > (double)set->max_tets) {
		twin_err_set(err, TWIN_ECONFIG, "mesh.size %g mm would give about %.0f tetrahedra for '%s', more than mesh.max_tets %ld",
			     set->size, estimate, name, set->max_tets);
		goto out;
	}
	mopt.size = set->size;
	for (unsigned id = 1; id < TWIN_GRID_LABELS; id++)
		mopt.region_size[id] = set->label_size[id];
	mopt.algorithm = TWIN_GMSH_HXT;
	mopt.optimize = 1;
	mopt.threads = set->threads;
	mopt.verbose = set->verbose;
	/* a smoothed surface may cut itself where labels are thin: less smoothing then */
	for (int attempt = 0;; attempt++) {
		static const double clamp[] = { 0.25, 0.12, 0.05 };
		struct twin_err gerr;

		twin_surface_release(&s);
		if (twin_surface_extract(err, &s, &g) != 0 ||
		    twin_surface_smooth(err, &s, &g, set->smooth_iterations >> attempt, clamp[attempt]) != 0 ||
		    twin_surface_triangulate(err, &s) != 0)
			goto out;
		twin_surface_to_world(&s, &g);
		res->quality.surface_offset = twin_surface_label_distance(&s, walled ? walled : labels, &g);
		lap(res, 1, &w, &c);
		res->surface_triangles = s.n_tris;
		if (attempt == 0) {
			res->seconds_surface = seconds() - t0;
			step(set, 2);
		}
		res->mesh = tetrahedralise(&gerr, res, &s, &g, &mopt, &info, name, warn, ctx);
		w = twin_gmsh_wall();
		c = twin_gmsh_cpu();
		if (res->mesh)
			break;
		if (attempt == 2 || gerr.code != TWIN_EDEP ||
		    !(strstr(gerr.msg, "intersect") || strstr(gerr.msg, "overlapping"))) {
			twin_err_set(err, gerr.code, "%s", gerr.msg);
			goto out;
		}
		if (warn) {
			char msg[2 * TWIN_ERR_MSG_MAX + 128];

			snprintf(msg, sizeof(msg), "'%.1000s': the smoothed surface cuts itself (%.1000s): meshed again with less smoothing",
				 name, gerr.msg);
			warn(ctx, msg);
		}
	}
	step(set, 3);
	if (twin_repair_slivers(err, res->mesh, TWIN_QUALITY_MIN_DIHEDRAL, &res->repaired) != 0 ||
	    twin_repair_improve(err, res->mesh, TWIN_QUALITY_MIN_DIHEDRAL, &res->improved) != 0)
		goto out;
	if (twin_tetmesh_check(err, res->mesh) != 0) {
		twin_err_prefix(err, "the repaired mesh");
		goto out;
	}
	lap(res, 6, &w, &c);
	step(set, 4);
	{
		double offset = res->quality.surface_offset;

		if (twin_quality_measure(err, &res->quality, res->mesh, label_volume, info.sides, info.nsides) != 0)
			goto out;
		res->quality.surface_offset = offset;
	}
	/* a triangle on no tet (a sheet one voxel thin that Gmsh left empty) would break every reader */
	if (twin_quality_conforming(err, &res->quality, res->mesh) != 0) {
		twin_err_prefix(err, "'%s'", name);
		goto out;
	}
	res->quality.netgen = info.netgen;
	for (int a = 0; a < 3; a++)
		sp[a] = sqrt(g.affine.m[0][a] * g.affine.m[0][a] + g.affine.m[1][a] * g.affine.m[1][a] +
			     g.affine.m[2][a] * g.affine.m[2][a]);
	res->quality.voxel_size = fmin(sp[0], fmin(sp[1], sp[2]));
	res->seconds_volume = seconds() - t0 - res->seconds_surface;
	lap(res, 7, &w, &c);
	step(set, 5);
	rc = 0;
out:
	twin_surface_release(&s);
	twin_grid_release(&g);
	twin_volume_free(walled);
	return rc;
}

void twin_mesh_result_release(struct twin_mesh_result *res)
{
	twin_quality_release(&res->quality);
	twin_tetmesh_free(res->mesh);
	res->mesh = NULL;
}
