/*
 * Fuzz target for the NIfTI-1 reader: any bytes, plain or gzip, must give a
 * volume or an error, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "nifti.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_err err;
	struct twin_volume *v;

	twin_err_init(&err);
	v = twin_nifti_load_mem(&err, "fuzz.nii", data, size);
	/* Either a volume and no error, or an error with a message naming the input. */
	if ((v != NULL) != (err.code == TWIN_OK) || (!v && !err.msg[0]))
		abort();
	twin_volume_free(v);
	return 0;
}
