/*
 * twin-mesh: CASE/segment/labels.nii.gz (or --labels FILE) to
 * CASE/mesh/heart.msh and quality.xml, and a record in CASE/manifest.xml.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "manifest.h"
#include "msh.h"
#include "nifti.h"

#include "gmsh.h"
#include "pipeline.h"
#include "quality.h"

#define PROG "twin-mesh"

static const char *opt_labels, *opt_size, *opt_select;

static const struct twin_cli_option options[] = {
	{ 0, "labels", "FILE", "mesh this label map instead of CASE_DIR/segment/labels.nii.gz", &opt_labels, NULL },
	{ 0, "size", "MM", "target edge length (mesh.size)", &opt_size, NULL },
	{ 0, "select", "WHICH", "labels to mesh: all, blood or myocardium (mesh.labels)", &opt_select, NULL },
};

static const struct twin_cli_spec spec = {
	PROG, "CASE_DIR", 1, 1,
	"meshes a label map into CASE_DIR/mesh/heart.msh (tetrahedra, tagged surfaces) and quality.xml",
	options, sizeof(options) / sizeof(options[0]),
};

/* What one run holds; released by run_release. */
struct run {
	const struct twin_cli *cli;
	struct twin_manifest_record *rec;
	char *written[2];  /* outputs written so far, removed on failure */
	size_t nwritten;
};

static void warn_cb(void *ctx, const char *msg)
{
	struct run *r = ctx;

	twin_cli_warn(r->cli, "%s", msg);
	if (r->rec)
		twin_manifest_add_warning(r->rec, "%s", msg);
}

static void progress_cb(void *ctx, unsigned done)
{
	twin_progress_update(ctx, done);
}

static int apply_options(struct twin_err *err, struct twin_conf *conf)
{
	if (opt_size && twin_conf_set_value(err, conf, "--size", "mesh.size", opt_size) != 0)
		return -1;
	if (opt_select && twin_conf_set_value(err, conf, "--select", "mesh.labels", opt_select) != 0)
		return -1;
	return 0;
}

/* Writes heart.msh and quality.xml into CASE/mesh, each noted as an output. */
static int write_outputs(struct twin_err *err, struct run *r, const char *case_dir,
			 const struct twin_mesh_result *res)
{
	char *dir = twin_path_join(case_dir, "mesh");
	int rc = -1;

	if (!dir || !(r->written[0] = twin_path_join(dir, "heart.msh")) ||
	    !(r->written[1] = twin_path_join(dir, "quality.xml"))) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_mkdir_p(err, dir) != 0)
		goto out;
	if (twin_msh_save(err, r->written[0], res->mesh, 1) != 0)
		goto out;
	r->nwritten = 1;
	if (twin_quality_save(err, r->written[1], &res->quality) != 0)
		goto out;
	r->nwritten = 2;
	if (twin_manifest_add_output(err, r->rec, r->written[0]) != 0 ||
	    twin_manifest_add_output(err, r->rec, r->written[1]) != 0)
		goto out;
	rc = 0;
out:
	free(dir);
	return rc;
}

static int run(struct twin_err *err, struct run *r)
{
	const struct twin_cli *cli = r->cli;
	const char *case_dir = cli->args[0];
	struct twin_mesh_settings set;
	struct twin_mesh_result res;
	struct twin_progress progress;
	struct twin_volume *labels = NULL;
	char *input = NULL;
	double w, c;
	int rc = -1;

	memset(&res, 0, sizeof(res));
	if (apply_options(err, cli->conf) != 0)
		return -1;
	input = opt_labels ? strdup(opt_labels) : twin_path_join(case_dir, "segment/labels.nii.gz");
	r->rec = twin_manifest_record_new(err, PROG, twin_cli_version());
	if (!input || !r->rec) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	twin_manifest_add_settings(r->rec, cli->conf, "mesh");
	labels = twin_nifti_load(err, input);
	if (!labels)
		goto out;
	if (twin_manifest_add_input(err, r->rec, input) != 0)
		goto out;
	twin_mesh_settings_from_conf(&set, cli->conf);
	set.verbose = cli->verbose > 1 ? cli->verbose - 1 : 0;
	twin_progress_init(&progress, cli, "meshing", TWIN_MESH_STEPS);
	set.progress = progress_cb;
	set.progress_ctx = &progress;
	if (twin_mesh_build(err, &res, labels, input, &set, warn_cb, r) != 0) {
		/* end the progress line before the error */
		if (progress.drawn)
			fputc('\n', stderr);
		goto out;
	}
	twin_progress_done(&progress);
	twin_cli_info(cli, "surface: %zu triangles in %.2f s", res.surface_triangles, res.seconds_surface);
	twin_cli_info(cli, "volume: %zu tetrahedra (about %zu foreseen) in %.2f s, %zu slivers repaired, %zu improved",
		      res.mesh->n_tets, res.estimate, res.seconds_volume, res.repaired, res.improved);
	twin_quality_requirements(&res.quality, warn_cb, r);
	w = twin_gmsh_wall();
	c = twin_gmsh_cpu();
	if (write_outputs(err, r, case_dir, &res) != 0)
		goto out;
	if (cli->verbose) {
		static const char *const stage[] = TWIN_MESH_STAGES;
		char line[1024];
		size_t len = 0;
		double tw = twin_gmsh_wall() - w, tc = twin_gmsh_cpu() - c;

		for (int k = 0; k < TWIN_MESH_NSTAGES; k++) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s %.2f/%.2f, ", stage[k], res.wall[k], res.cpu[k]);
			tw += res.wall[k];
			tc += res.cpu[k];
		}
		twin_cli_info(cli, "time (wall/CPU s): %swrite %.2f/%.2f; total %.2f/%.2f s, %.0f tetrahedra per CPU second",
			      line, twin_gmsh_wall() - w, twin_gmsh_cpu() - c, tw, tc, (double)res.mesh->n_tets / tc);
	}
	if (twin_manifest_append(err, case_dir, r->rec) != 0)
		goto out;
	twin_cli_info(cli, "wrote '%s': %zu tetrahedra, smallest dihedral angle %.1f degrees",
		      r->written[0], res.mesh->n_tets, res.quality.min_dihedral);
	rc = 0;
out:
	twin_mesh_result_release(&res);
	twin_volume_free(labels);
	free(input);
	return rc;
}

static void run_release(struct run *r, int failed)
{
	for (size_t i = 0; i < 2; i++) {
		if (failed && i < r->nwritten)
			unlink(r->written[i]);
		free(r->written[i]);
	}
	twin_manifest_record_free(r->rec);
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	struct run r;
	int rc = 0;

	twin_err_init(&err);
	memset(&r, 0, sizeof(r));
	r.cli = &cli;
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		rc = twin_cli_error(&cli, &err);
	else if (!cli.done)
		rc = run(&err, &r) ? twin_cli_error(&cli, &err) : 0;
	run_release(&r, rc != 0);
	twin_cli_release(&cli);
	return rc;
}
