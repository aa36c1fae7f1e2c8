/*
 * labels: the label table (ids, names, colours, blood or wall), the remap
 * tables that read other conventions (MM-WHS, a CSV file), per-label voxel
 * counts and volumes, and labels.xml. The table is one array in labels.c.
 * Owns what it returns. Includes err.h and volume.h only.
 */
#ifndef TWIN_LABELS_H
#define TWIN_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema every labels.xml is validated against, compiled in. */
extern const char twin_labels_xsd[];

enum twin_label_kind {
	TWIN_LABEL_BACKGROUND = 0,
	TWIN_LABEL_WALL = 1,   /* myocardium */
	TWIN_LABEL_BLOOD = 2   /* a chamber or vessel lumen */
};

/* One row of the table. Ids run 0 .. twin_label_count() - 1. */
struct twin_label {
	unsigned id;
	const char *name;        /* TotalSegmentator's: "heart_ventricle_left" */
	const char *display;     /* for people: "left ventricle" */
	const char *short_name;  /* for solver region names: "LV" */
	enum twin_label_kind kind;
	unsigned char rgb[3];
	int grown;               /* 1: twin-mesh adds it (mesh.rv_wall), no segmentation has it */
};

/* Number of rows in the table. */
size_t twin_label_count(void);
/* The row with this id, or NULL. Static: never freed. */
const struct twin_label *twin_label_by_id(long id);
/* The row with this name ("aorta"), or NULL. Static: never freed. */
const struct twin_label *twin_label_by_name(const char *name);
/* "blood", "wall" or "background". */
const char *twin_label_kind_name(enum twin_label_kind kind);

/* --- remapping other conventions ------------------------------------------ */

/* Source ids a map can hold: every int16 and uint16 value. */
#define TWIN_LABELS_MAP_MIN (-32768L)
#define TWIN_LABELS_MAP_MAX 65535L

/* Source id -> table id. Source 0 maps to 0 unless the map says otherwise. */
struct twin_labels_map;

/*
 * A built-in map: "totalsegmentator" (heartchambers_highres, identity on
 * 1..7) or "mmwhs" (205, 420, 500, 550, 600, 820, 850 -> 1..7). Another name
 * is TWIN_ECONFIG. Returns an owned map (twin_labels_map_free) or NULL.
 */
struct twin_labels_map *twin_labels_map_new(struct twin_err *err, const char *preset);

/*
 * A map from a CSV file: one `source_id,target` per line, target a table id
 * or a table name; '#' starts a comment; an optional first line
 * `source_id,target`. A bad line is TWIN_ECONFIG "label map 'f.csv':3: ...: 'line'".
 */
struct twin_labels_map *twin_labels_map_load(struct twin_err *err, const char *path);
/* The same from memory; name stands for the file in messages. */
struct twin_labels_map *twin_labels_map_load_mem(struct twin_err *err, const char *name,
						 const void *buf, size_t len);
void twin_labels_map_free(struct twin_labels_map *map);

/* The table id that source maps to, or -1 when it has no mapping. */
int twin_labels_map_get(const struct twin_labels_map *map, long source);

/*
 * A new uint8 label volume (twin_volume_free) with every voxel of v mapped,
 * same grid and affine. v may be uint8, int16, or float32 holding whole
 * numbers. Ids present in v without a mapping are TWIN_EINPUT, naming each id
 * and how many voxels carry it.
 */
struct twin_volume *twin_labels_remap(struct twin_err *err, const struct twin_labels_map *map,
				      const struct twin_volume *v);

/* --- labels.xml -------------------------------------------------------- */

struct twin_labels_entry {
	const struct twin_label *label;  /* its table row; static */
	unsigned char rgb[3];            /* the colour the file gives */
	int measured;                    /* voxels and volume_ml are set */
	uint64_t voxels;
	double volume_ml;
};

/* What labels.xml holds: some rows of the table, each maybe measured. */
struct twin_labels_file {
	struct twin_labels_entry *entries;
	size_t count;
};

/* Every row of the table with its colour, not measured. Owned (twin_labels_file_free). */
struct twin_labels_file *twin_labels_file_new(struct twin_err *err);
void twin_labels_file_free(struct twin_labels_file *lf);

/*
 * Counts the voxels of each entry's id in v and their volume in mL (voxel
 * volume = |det| of the affine's 3x3, in mm^3, / 1000). A voxel whose id has
 * no entry is TWIN_EINPUT naming the id and its voxel count.
 */
int twin_labels_measure(struct twin_err *err, struct twin_labels_file *lf, const struct twin_volume *v);

/*
 * Reads labels.xml. Every id must be in the table under its table name.
 * Returns an owned file (twin_labels_file_free) or NULL: TWIN_EIO, or
 * TWIN_EINPUT "labels 'x/labels.xml': line N: ..." when corrupt.
 */
struct twin_labels_file *twin_labels_load(struct twin_err *err, const char *path);
struct twin_labels_file *twin_labels_load_mem(struct twin_err *err, const char *name,
					      const void *buf, size_t len);

/* Writes labels.xml, validated and atomically. */
int twin_labels_save(struct twin_err *err, const char *path, const struct twin_labels_file *lf);

#ifdef __cplusplus
}
#endif

#endif
