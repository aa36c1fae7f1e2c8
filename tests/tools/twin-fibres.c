/*
 * twin-fibres: computes the fibres of a heart.msh (export/fibres.h) and
 * prints how long each part took, for bench/fibres.sh. Prints one line:
 * "tets N nodes N biventricular 0|1 assemble S solve S frames S total S",
 * each time the fastest of --repeat runs. Exits 0, 2 on usage, or the twin
 * exit code of the failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "msh.h"
#include "tetmesh.h"
#include "../../export/fibres.h"

#define PROG "twin-fibres"

static const char *repeat_arg;

static const struct twin_cli_option options[] = {
	{ 0, "repeat", "N", "compute the fibres N times, print the fastest (default 1)", &repeat_arg, NULL },
};

static const struct twin_cli_spec spec = {
	PROG, "heart.msh", 1, 1, "times the fibres of a heart mesh: assembly, solves, frames",
	options, sizeof(options) / sizeof(options[0]),
};

/* Fibre vectors that are not unit length, in wall tets. */
static size_t bad_vectors(const struct twin_tetmesh *m, const double *f)
{
	size_t bad = 0;

	for (size_t t = 0; t < m->n_tets; t++) {
		if (m->tet_region[t] != TWIN_FIBRES_LV_WALL && m->tet_region[t] != TWIN_FIBRES_RV_WALL)
			continue;
		for (int k = 0; k < 3; k++) {
			const double *v = f + 9 * t + 3 * k;

			bad += !(fabs(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - 1) < 1e-9);
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	struct twin_tetmesh *mesh = NULL;
	struct twin_fibres_opts opts;
	struct twin_fibres_info info, best;
	double *fibres = NULL;
	const char *path = NULL;
	long repeat = 1;
	size_t bad = 0;
	int rc = 1;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		goto out;
	if (cli.done) {
		rc = 0;
		goto out;
	}
	path = cli.args[0];
	if (repeat_arg) {
		char *end = NULL;

		repeat = strtol(repeat_arg, &end, 10);
		if (!*repeat_arg || *end || repeat < 1) {
			twin_err_set(&err, TWIN_EUSAGE, "bad repeat count '%s': want a whole number >= 1", repeat_arg);
			goto out;
		}
	}
	twin_fibres_opts_init(&opts);
	mesh = twin_msh_load(&err, path);
	if (!mesh)
		goto out;
	memset(&best, 0, sizeof(best));
	for (long r = 0; r < repeat; r++) {
		free(fibres);
		if (twin_fibres_compute(&err, mesh, &opts, &fibres, &info) != 0) {
			twin_err_prefix(&err, "mesh '%s'", path);
			goto out;
		}
		twin_fibres_info_release(&info);
		if (r == 0 || info.seconds_assemble + info.seconds_solve + info.seconds_frames <
				      best.seconds_assemble + best.seconds_solve + best.seconds_frames)
			best = info;
	}
	bad = bad_vectors(mesh, fibres);
	printf("tets %zu nodes %zu biventricular %d assemble %.3f solve %.3f frames %.3f total %.3f\n",
	       best.n_tets, best.n_nodes, best.biventricular, best.seconds_assemble, best.seconds_solve,
	       best.seconds_frames, best.seconds_assemble + best.seconds_solve + best.seconds_frames);
	if (bad) {
		fprintf(stderr, PROG ": '%s': %zu fibre vectors are not unit length\n", path, bad);
		goto out;
	}
	rc = 0;
out:
	if (err.code != TWIN_OK)
		rc = twin_cli_error(&cli, &err);
	free(fibres);
	twin_tetmesh_free(mesh);
	twin_cli_release(&cli);
	return rc;
}
