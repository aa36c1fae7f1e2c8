/* Fuzz target: the manifest.xml reader, from memory. */
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_manifest *m;
	struct twin_err err;

	twin_err_init(&err);
	m = twin_manifest_load_mem(&err, "fuzz.xml", data, size);
	if (m) {
		for (size_t i = 0; i < m->nrecords; i++)
			twin_manifest_record_setting(&m->records[i], "key");
		if (m->nrecords)
			twin_manifest_last_ok(m, m->records[0].program);
	}
	twin_manifest_free(m);
	return 0;
}
