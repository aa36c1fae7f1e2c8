/* Fuzz target for the MSH 4.1 reader: any bytes load or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>

#include "msh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_err err;
	struct twin_tetmesh *mesh;

	twin_err_init(&err);
	mesh = twin_msh_load_mem(&err, "fuzz.msh", data, size);
	if (mesh) {
		/* What the exporters run next must not crash on a loaded mesh either. */
		struct twin_tetmesh_parent *par;
		if (twin_tetmesh_check(&err, mesh) == 0) {
			par = twin_tetmesh_face_index(&err, mesh);
			free(par);
		}
	}
	twin_tetmesh_free(mesh);
	return 0;
}
