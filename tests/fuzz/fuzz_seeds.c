/*
 * Fuzz target for the seeds reader (segment/seeds.c): a CSV `label,x,y,z`
 * or a 3D Slicer .mrk.json, from memory. What loads must be at least one
 * seed, each of a blood label 2..7 at a finite point; what fails must be
 * TWIN_EINPUT with a message and no seeds. A breach aborts, so the fuzzer
 * reports it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../segment/seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void breach(const char *what, const char *msg)
{
	fprintf(stderr, "seeds: %s (%s)\n", what, msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_seed *seeds = NULL;
	struct twin_err err;
	size_t n = 0;

	twin_err_init(&err);
	if (twin_seeds_load_mem(&err, "fuzz.csv", (const char *)data, size, &seeds, &n) != 0) {
		if (seeds || n)
			breach("a failure returns seeds", err.msg);
		if (err.code != TWIN_EINPUT || !err.msg[0])
			breach("a failure is not TWIN_EINPUT with a message", err.msg);
		return 0;
	}
	if (!seeds || !n)
		breach("a success without seeds", "");
	for (size_t i = 0; i < n; i++) {
		if (seeds[i].label < 2 || seeds[i].label > 7)
			breach("a seed is not a blood label", seeds[i].where);
		for (int a = 0; a < 3; a++)
			if (!isfinite(seeds[i].xyz[a]))
				breach("a seed is not a finite point", seeds[i].where);
		if (!memchr(seeds[i].where, 0, sizeof(seeds[i].where)))
			breach("a seed's place is not terminated", "");
	}
	free(seeds);
	return 0;
}
