/*
 * seeds: a technician's seed points, from a CSV file (`label,x,y,z`, LPS mm)
 * or a 3D Slicer markups file (.mrk.json, RAS or LPS as its coordinateSystem
 * says). A label is an id (2..7), a table name, a short name or a display
 * name. Owns the arrays it returns. Includes err.h and heart.h only.
 */
#ifndef TWIN_SEGMENT_SEEDS_H
#define TWIN_SEGMENT_SEEDS_H

#include <stddef.h>

#include "err.h"
#include "heart.h"

/*
 * Reads the seeds of path into a new array (free) of *n seeds, each with
 * "file:line" (CSV) or "file: point N" (JSON) in where. A file that holds
 * no seed, a bad line or bad JSON is TWIN_EINPUT naming the file and the
 * place; an unreadable file TWIN_EIO.
 */
int twin_seeds_load(struct twin_err *err, const char *path, struct twin_seed **seeds, size_t *n);
/* The same from memory; name stands for the file in messages. */
int twin_seeds_load_mem(struct twin_err *err, const char *name, const char *buf, size_t len,
			struct twin_seed **seeds, size_t *n);

#endif
