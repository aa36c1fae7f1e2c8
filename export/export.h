/*
 * export: what every twin-export writer shares: the table of targets, the
 * prepared mesh they read (with each triangle's parent tetrahedra and the
 * per-element fibres when there are any), a buffered output file, the README of a
 * target folder and the temporary folder that is renamed into place.
 * Owns the face index it builds. Includes common headers only.
 */
#ifndef TWIN_EXPORT_H
#define TWIN_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "labels.h"
#include "tetmesh.h"

/*
 * A writer's input. parents[i] are the tetrahedra of triangle i (see
 * twin_tetmesh_face_index). fibres is NULL, or 9 doubles per tetrahedron as
 * twin_fibres_compute gives them (fibre, sheet, sheet normal, unit vectors;
 * zeros outside the myocardium, regions 1 and 8); every writer but msh22
 * and openfoam writes them when present. No writer changes the mesh.
 */
struct twin_export {
	const struct twin_tetmesh *mesh;
	struct twin_tetmesh_parent *parents;
	const double *fibres;
};

/* Fills x for mesh (borrowed, checked here) and builds the face index. */
int twin_export_init(struct twin_err *err, struct twin_export *x, const struct twin_tetmesh *mesh);
void twin_export_release(struct twin_export *x);

/*
 * The side of triangle i that a format attaches it to: the parent whose
 * region has label kind want when there is one, else the first parent.
 * Sets *tet and its local face *face (twin_tetmesh_face_nodes).
 */
void twin_export_side(const struct twin_export *x, size_t i, enum twin_label_kind want,
		      uint32_t *tet, uint8_t *face);

/* The label kind of region id (TWIN_LABEL_BACKGROUND for an unknown id). */
enum twin_label_kind twin_export_region_kind(int32_t id);

/* A target: its name in export.targets, the units it writes, its writer. */
struct twin_export_target {
	const char *name;
	const char *units;    /* "millimetres" */
	const char *summary;  /* one line for the README */
	/* where the fibres go, for the README; NULL when the format has no place for them */
	const char *fibres;
	/* how numbers are written, their precision in text formats, for the README */
	const char *numbers;
	/* writes the target's files into dir, an empty folder */
	int (*write)(struct twin_err *err, const struct twin_export *x, const char *dir);
};

/* The targets in export.targets order; *n gets their count. Static. */
const struct twin_export_target *twin_export_targets(size_t *n);

/*
 * Writes target t into out_dir/<t->name>: its files and README.txt go to a
 * temporary folder beside it that replaces any old folder by rename. On
 * failure nothing is left and an old folder stays as it was.
 */
int twin_export_target_write(struct twin_err *err, const struct twin_export_target *t,
			     const struct twin_export *x, const char *out_dir);

/*
 * A file written by a writer inside its (temporary) folder: buffered, every
 * write error caught at twin_export_close. path is owned.
 */
struct twin_export_file {
	FILE *f;
	char *path;
	char *buf;      /* lines being built, see twin_export_line */
	size_t len;
};

/* The longest line twin_export_line makes room for. */
#define TWIN_EXPORT_LINE_MAX 512

/* Opens dir/name for writing; "sub/name" works once sub exists. */
int twin_export_open(struct twin_err *err, struct twin_export_file *o, const char *dir,
		     const char *name);
/* Flushes and closes; fails naming the file when any write failed. */
int twin_export_close(struct twin_err *err, struct twin_export_file *o);
/* Closes without checking, after another error; safe twice. */
void twin_export_abort(struct twin_export_file *o);
/*
 * Bulk lines without stdio's per-call cost: twin_export_line returns room
 * for TWIN_EXPORT_LINE_MAX bytes, twin_export_end_line takes the end of what
 * was written there. Call twin_export_flush before writing through o->f.
 */
char *twin_export_line(struct twin_export_file *o);
void twin_export_end_line(struct twin_export_file *o, char *end);
void twin_export_flush(struct twin_export_file *o);

/*
 * Many lines formatted on every core: fn writes line i at p (room for
 * TWIN_EXPORT_LINE_MAX bytes; writing nothing is allowed) and returns its
 * end. The lines of [0, n) reach sink in order, in blocks of any size; a
 * sink returns 0, or -1 to stop. fn must only read shared data.
 */
typedef char *twin_export_line_fn(void *ctx, size_t i, char *p);
typedef int twin_export_sink_fn(void *sink_ctx, const char *buf, size_t len);
int twin_export_lines(struct twin_err *err, size_t n, twin_export_line_fn *fn, void *ctx,
		      twin_export_sink_fn *sink, void *sink_ctx);
/*
 * CPU seconds of the calling thread plus those of every helper thread of
 * twin_export_lines so far: the work of twin-export itself, without the
 * threads that libraries keep (OpenBLAS's spin while idle).
 */
double twin_export_cpu(void);

/* twin_export_lines into o (flushed first). */
int twin_export_file_lines(struct twin_err *err, struct twin_export_file *o, size_t n,
			   twin_export_line_fn *fn, void *ctx);

/* Whether region id is myocardium that carries fibres (1 or 8). */
int twin_export_fibre_region(int32_t id);

/*
 * x->fibres as three arrays of 3 doubles per tetrahedron, one after the
 * other in *out (malloc'd, free): fibre at 0, sheet at 3 n_tets, sheet
 * normal at 6 n_tets, as VTK and HDF5 want them.
 */
int twin_export_fibre_arrays(struct twin_err *err, const struct twin_export *x, double **out);

/* Creates dir/name; fails naming it. */
int twin_export_mkdir(struct twin_err *err, const char *dir, const char *name);

/*
 * Triangles of each surface tag: for tag s (index k in mesh->surfaces),
 * tris[start[k] .. start[k+1]) are its triangle indices in mesh order.
 * malloc'd arrays, freed by twin_export_groups_release.
 */
struct twin_export_groups {
	size_t n;        /* mesh->n_surfaces */
	size_t *start;   /* n + 1 */
	uint32_t *tris;
};
int twin_export_groups_init(struct twin_err *err, struct twin_export_groups *g,
			    const struct twin_tetmesh *mesh);
void twin_export_groups_release(struct twin_export_groups *g);

/*
 * Fast text for the ASCII formats. Each writes at p, NUL-terminates and
 * returns the end: an unsigned integer; a number with at most `decimals`
 * (0..9) digits after the point, trailing zeros dropped ("12.5", "-3",
 * "0.000001"), or %.17g when |v| * 10^decimals does not fit 2^62.
 * Room needed: 21 and 32 bytes.
 */
char *twin_export_put_u(char *p, uint64_t v);
/* A signed integer, INT64_MIN included. Room: 21 bytes. */
char *twin_export_put_i(char *p, int64_t v);
char *twin_export_put_fixed(char *p, double v, int decimals);

/*
 * The text of node ids 0 .. n - 1 plus base, formatted once per writer: a
 * node is in about 24 places of a tetrahedral mesh's connectivity, and
 * copying a ready slot costs less than formatting it each time. A slot
 * holds the digits, zeros after them and, in byte 15, their count.
 */
struct twin_export_ids {
	char (*slot)[16];
	size_t n;
};
int twin_export_ids_init(struct twin_err *err, struct twin_export_ids *t, size_t n, uint32_t base);
void twin_export_ids_release(struct twin_export_ids *t);
/* n node ids (each below t->n) separated by sep: "4, 9, 12". Room: 16 + |sep| per id. */
char *twin_export_put_ids(char *p, const struct twin_export_ids *t, const uint32_t *ids, int n,
			  const char *sep);
/*
 * Decimals of a fibre, sheet or normal component in the text formats. A
 * unit vector whose components are each within 0.000005 of the computed
 * ones points within 0.000009 rad (0.0005 degrees) of it, far below what
 * the rule-based fibres mean (their angles are set in whole degrees).
 */
#define TWIN_EXPORT_FIBRE_DECIMALS 5

/* A point times scale with 6 decimals, separated by sep. Room: 3 * (32 + |sep|). */
char *twin_export_put_xyz(char *p, const double *xyz, double scale, const char *sep);

/* Writes s to f with XML's five special characters escaped. */
void twin_export_xml_text(FILE *f, const char *s);

/*
 * name as a keyword-safe identifier in out: letters, digits and '_' kept,
 * anything else '_', and "n_" in front when it does not start with a letter.
 */
void twin_export_ident(char out[TWIN_TETMESH_NAME_MAX + 3], const char *name);

/* The writers, one file each. */
int twin_export_vtu(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_svmp(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_abaqus(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_febio(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_opencarp(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_openfoam(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_xdmf(struct twin_err *err, const struct twin_export *x, const char *dir);
int twin_export_msh22(struct twin_err *err, const struct twin_export *x, const char *dir);

#endif
