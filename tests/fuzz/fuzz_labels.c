/* Fuzz target: the labels.xml reader and the CSV label map reader, from memory. */
#include <stddef.h>
#include <stdint.h>

#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_labels_file *lf;
	struct twin_labels_map *map;
	struct twin_err err;

	twin_err_init(&err);
	lf = twin_labels_load_mem(&err, "fuzz.xml", data, size);
	twin_labels_file_free(lf);
	twin_err_init(&err);
	map = twin_labels_map_load_mem(&err, "fuzz.csv", data, size);
	twin_labels_map_free(map);
	return 0;
}
