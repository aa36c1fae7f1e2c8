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

#include "msh.h"
#include "tetmesh.h"
#include "../../export/fibres.h"

#define PROG "twin-fibres"

static const char usage_text[] = "usage: " PROG " [--repeat N] heart.msh\n";

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
	struct twin_tetmesh *mesh = NULL;
	struct twin_fibres_opts opts;
	struct twin_fibres_info info, best;
	double *fibres = NULL;
	const char *path = NULL;
	long repeat = 1;
	size_t bad = 0;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf(PROG " %s\n", TWIN_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
			repeat = strtol(argv[++i], NULL, 10);
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (!path || repeat < 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	twin_err_init(&err);
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
	if (err.code != TWIN_OK) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		rc = twin_err_exit_code(&err);
	}
	free(fibres);
	twin_tetmesh_free(mesh);
	return rc;
}
