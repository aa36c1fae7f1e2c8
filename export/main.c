/*
 * twin-export: CASE/mesh/heart.msh to one folder per solver format,
 * CASE/export/<target>/, for each target in export.targets, and a record in
 * CASE/manifest.xml. A target that cannot be written (say, openfoam without
 * an inlet) fails alone: the others are written and the exit code is 8.
 * When the mesh has myocardium (regions 1, 8), the fibres are computed once
 * and every target that has a place for them carries them; when they cannot
 * be computed (say, no epicardium), a warning says why, the manifest notes
 * it and the targets are written without fibres: that alone is no failure.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "manifest.h"
#include "msh.h"

#include "export.h"
#include "fibres.h"

#define PROG "twin-export"

static const char *opt_targets;

static const struct twin_cli_option options[] = {
	{ 't', "targets", "LIST", "formats to write, comma separated (export.targets): vtu,svmp,abaqus,febio,opencarp,openfoam,xdmf,msh22 or all",
	  &opt_targets, NULL },
};

static const struct twin_cli_spec spec = {
	PROG, "CASE_DIR", 1, 1,
	"writes CASE_DIR/mesh/heart.msh as solver input folders in CASE_DIR/export/<target>/",
	options, sizeof(options) / sizeof(options[0]),
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Notes every file under dir as an output of rec. */
static int add_outputs(struct twin_err *err, struct twin_manifest_record *rec, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return twin_err_errno(err, "cannot list", dir);
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = twin_path_join(dir, e->d_name);
		if (!p) {
			rc = twin_err_set(err, TWIN_EFAIL, "out of memory");
			break;
		}
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rc = add_outputs(err, rec, p);
		else
			rc = twin_manifest_add_output(err, rec, p);
		free(p);
	}
	closedir(d);
	return rc;
}

/* Whether the mesh has myocardium, where fibres belong. */
static int has_myocardium(const struct twin_tetmesh *mesh)
{
	for (size_t i = 0; i < mesh->n_regions; i++)
		if (twin_export_fibre_region(mesh->regions[i].tag))
			return 1;
	return 0;
}

/*
 * x->fibres for mesh (*fibres owns them), or none with a warning when they
 * cannot be computed. Fails only when out of memory.
 */
static int compute_fibres(struct twin_err *err, const struct twin_cli *cli,
			  struct twin_manifest_record *rec, const char *msh,
			  const struct twin_tetmesh *mesh, double **fibres)
{
	struct twin_fibres_opts opts;
	struct twin_fibres_info info;
	struct twin_err ferr;
	double t0 = now();

	*fibres = NULL;
	if (!has_myocardium(mesh))
		return 0;
	twin_err_init(&ferr);
	twin_fibres_opts_init(&opts);
	twin_fibres_opts_conf(&opts, cli->conf);
	if (twin_fibres_compute(&ferr, mesh, &opts, fibres, &info) != 0) {
		if (ferr.code == TWIN_EFAIL) {
			*err = ferr;
			return -1;
		}
		twin_err_prefix(&ferr, "fibres: mesh '%s'", msh);
		twin_cli_warn(cli, "%s; the targets are written without fibres", ferr.msg);
		twin_manifest_add_warning(rec, "%s; the targets are written without fibres", ferr.msg);
		*fibres = NULL;
		return 0;
	}
	twin_cli_info(cli, "fibres of %zu myocardium tetrahedra (%s) in %.3f s", info.n_tets,
		      info.biventricular ? "biventricular" : "LV only", now() - t0);
	twin_fibres_info_release(&info);
	return 0;
}

static int run(struct twin_err *err, const struct twin_cli *cli)
{
	const char *case_dir = cli->args[0];
	const struct twin_export_target *targets;
	struct twin_manifest_record *rec = NULL;
	struct twin_tetmesh *mesh = NULL;
	struct twin_export x = { NULL, NULL, NULL };
	double *fibres = NULL;
	struct twin_progress progress;
	char *msh = NULL, *out_dir = NULL, failed[256] = "";
	struct twin_err first;
	size_t n, i, wanted = 0, nfailed = 0;
	double t0, c0;
	int rc = -1;

	twin_err_init(&first);
	targets = twin_export_targets(&n);
	if (opt_targets &&
	    twin_conf_set_value(err, cli->conf, "--targets", "export.targets", opt_targets) != 0)
		return -1;
	msh = twin_path_join(case_dir, "mesh/heart.msh");
	out_dir = twin_path_join(case_dir, "export");
	rec = twin_manifest_record_new(err, PROG, twin_cli_version());
	if (!msh || !out_dir || !rec) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	twin_manifest_add_settings(rec, cli->conf, "export");
	twin_manifest_add_settings(rec, cli->conf, "fibres");
	t0 = now();
	c0 = twin_export_cpu();
	mesh = twin_msh_load(err, msh);
	if (!mesh)
		goto out;
	twin_cli_info(cli, "read '%s' in %.3f s, CPU %.3f s: %zu nodes, %zu tetrahedra, %zu triangles",
		      msh, now() - t0, twin_export_cpu() - c0, mesh->n_nodes, mesh->n_tets, mesh->n_tris);
	if (twin_export_init(err, &x, mesh) != 0) {
		twin_err_prefix(err, "mesh '%s'", msh);
		goto out;
	}
	if (twin_manifest_add_input(err, rec, msh) != 0)
		goto out;
	if (compute_fibres(err, cli, rec, msh, mesh, &fibres) != 0)
		goto out;
	x.fibres = fibres;
	for (i = 0; i < n; i++)
		wanted += (size_t)twin_conf_list_has(cli->conf, "export.targets", targets[i].name);
	twin_progress_init(&progress, cli, "writing", wanted);
	wanted = 0;
	for (i = 0; i < n; i++) {
		const struct twin_export_target *t = &targets[i];
		struct twin_err terr;
		char *dir;

		if (!twin_conf_list_has(cli->conf, "export.targets", t->name))
			continue;
		twin_err_init(&terr);
		t0 = now();
		c0 = twin_export_cpu();
		if (twin_export_target_write(&terr, t, &x, out_dir) != 0) {
			/* a fault of the mesh names it; a write error names its own file */
			if (terr.code == TWIN_EINPUT)
				twin_err_prefix(&terr, "%s: mesh '%s'", t->name, msh);
			else
				twin_err_prefix(&terr, "%s", t->name);
			if (progress.drawn)
				fputc('\n', stderr);
			progress.drawn = 0;
			twin_cli_warn(cli, "%s", terr.msg);
			twin_manifest_add_warning(rec, "%s", terr.msg);
			if (first.code == TWIN_OK)
				first = terr;
			if (terr.code == TWIN_EFAIL) {
				*err = terr;
				goto out;
			}
			snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s",
				 nfailed ? ", " : "", t->name);
			nfailed++;
		} else {
			dir = twin_path_join(out_dir, t->name);
			if (!dir) {
				twin_err_set(err, TWIN_EFAIL, "out of memory");
				goto out;
			}
			twin_cli_info(cli, "wrote '%s' in %.3f s, CPU %.3f s", dir, now() - t0,
				      twin_export_cpu() - c0);
			rc = add_outputs(err, rec, dir);
			free(dir);
			if (rc != 0)
				goto out;
			rc = -1;
		}
		twin_progress_update(&progress, ++wanted);
	}
	twin_progress_done(&progress);
	if (nfailed == wanted && nfailed > 0) {
		/* nothing was written: the first failure is the run's */
		*err = first;
		twin_err_prefix(err, "no target written");
		goto out;
	}
	if (nfailed) {
		struct twin_err partial;

		twin_err_init(&partial);
		twin_err_set(&partial, TWIN_EPARTIAL, "%zu of %zu targets failed (%s); the others are in '%s'",
			     nfailed, wanted, failed, out_dir);
		twin_manifest_record_fail(rec, &partial);
		if (twin_manifest_append(err, case_dir, rec) == 0)
			*err = partial;
		goto out;
	}
	if (twin_manifest_append(err, case_dir, rec) != 0)
		goto out;
	rc = 0;
out:
	twin_export_release(&x);
	free(fibres);
	twin_tetmesh_free(mesh);
	twin_manifest_record_free(rec);
	free(msh);
	free(out_dir);
	return rc;
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	int rc = 0;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		rc = twin_cli_error(&cli, &err);
	else if (!cli.done)
		rc = run(&err, &cli) ? twin_cli_error(&cli, &err) : 0;
	twin_cli_release(&cli);
	return rc;
}
