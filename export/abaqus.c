/*
 * abaqus: heart.inp for Abaqus and CalculiX: *NODE, one *ELEMENT block
 * (C3D4) per region with ELSET=<region>, an NSET per region and surface,
 * and an element-face *SURFACE per tagged surface. Ids are 1-based.
 * With fibres, *DISTRIBUTION FIBRE_AXES gives each myocardium element its
 * fibre (local axis 1) and sheet (in the 1-2 plane), and *ORIENTATION
 * FIBRES uses it; a *SOLID SECTION names it with ORIENTATION=FIBRES.
 * CalculiX (2.20) reads that per-element distribution but not the
 * *DISTRIBUTION TABLE line that Abaqus requires: it warns and goes on.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"

/* Abaqus face label of local face f (twin_tetmesh_face_nodes): S1..S4. */
static const char *const face_label[4] = { "S3", "S4", "S2", "S1" };

struct lines {
	const struct twin_tetmesh *m;
	const struct twin_export_ids *ids;
	int32_t region;
};

/* "id, x, y, z" */
static char *node_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;

	p = twin_export_put_u(p, i + 1);
	*p++ = ',';
	*p++ = ' ';
	p = twin_export_put_xyz(p, l->m->xyz + 3 * i, 1, ", ");
	*p++ = '\n';
	return p;
}

/* "id, n1, n2, n3, n4" for the tetrahedra of l->region */
static char *element_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;

	if (l->m->tet_region[i] != l->region)
		return p;
	p = twin_export_put_u(p, i + 1);
	*p++ = ',';
	*p++ = ' ';
	p = twin_export_put_ids(p, l->ids, l->m->tets + 4 * i, 4, ", ");
	*p++ = '\n';
	return p;
}

/* "id, fx, fy, fz, sx, sy, sz" for the myocardium tetrahedra */
static char *axes_line(void *ctx, size_t i, char *p)
{
	const struct twin_export *x = ctx;
	const double *f = x->fibres + 9 * i;

	if (!twin_export_fibre_region(x->mesh->tet_region[i]))
		return p;
	p = twin_export_put_u(p, i + 1);
	for (int c = 0; c < 6; c++) {
		*p++ = ',';
		*p++ = ' ';
		p = twin_export_put_fixed(p, f[c], TWIN_EXPORT_FIBRE_DECIMALS);
	}
	*p++ = '\n';
	return p;
}

/* Writes the sorted 1-based ids of the marked nodes, 16 per line. */
static void write_nset(FILE *f, const char *name, const uint8_t *mark, size_t n)
{
	char line[16 * 14], *q = line;
	size_t i, k = 0;

	fprintf(f, "*NSET, NSET=%s\n", name);
	for (i = 0; i < n; i++)
		if (mark[i]) {
			if (k % 16)
				q = stpcpy(q, ", ");
			q = twin_export_put_u(q, i + 1);
			if (++k % 16 == 0) {
				*q++ = '\n';
				fwrite(line, 1, (size_t)(q - line), f);
				q = line;
			}
		}
	if (k % 16) {
		*q++ = '\n';
		fwrite(line, 1, (size_t)(q - line), f);
	}
}

int twin_export_abaqus(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	struct twin_export_groups g = { 0, NULL, NULL };
	char id[TWIN_TETMESH_NAME_MAX + 3];
	struct twin_export_ids ids = { NULL, 0 };
	struct lines lines = { NULL, &ids, 0 };
	uint8_t *mark = NULL;
	size_t i, r, k;
	int rc = -1;

	mark = malloc(m->n_nodes ? m->n_nodes : 1);
	if (!mark) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_export_groups_init(err, &g, m) != 0 || twin_export_ids_init(err, &ids, m->n_nodes, 1) != 0 ||
	    twin_export_open(err, &o, dir, "heart.inp") != 0)
		goto out;
	fprintf(o.f, "** dcm2twin heart mesh: %zu nodes, %zu C3D4 elements, %zu regions, %zu surfaces\n"
		"** units: millimetres; element ids are the tetrahedra in heart.msh order, 1-based\n"
		"*HEADING\ndcm2twin heart mesh (mm)\n*NODE, NSET=NALL\n",
		m->n_nodes, m->n_tets, m->n_regions, m->n_surfaces);
	lines.m = m;
	if (twin_export_file_lines(err, &o, m->n_nodes, node_line, &lines) != 0)
		goto out;
	/* one block per region; tetrahedra of an unnamed region go to ELSET unnamed_<id> */
	for (r = 0; r < m->n_regions; r++) {
		twin_export_ident(id, m->regions[r].name);
		fprintf(o.f, "*ELEMENT, TYPE=C3D4, ELSET=%s\n", id);
		lines.region = m->regions[r].tag;
		if (twin_export_file_lines(err, &o, m->n_tets, element_line, &lines) != 0)
			goto out;
	}
	twin_export_flush(&o);
	for (r = 0; r < m->n_regions; r++) {
		memset(mark, 0, m->n_nodes);
		for (i = 0; i < m->n_tets; i++)
			if (m->tet_region[i] == m->regions[r].tag)
				for (k = 0; k < 4; k++)
					mark[m->tets[4 * i + k]] = 1;
		twin_export_ident(id, m->regions[r].name);
		write_nset(o.f, id, mark, m->n_nodes);
	}
	for (k = 0; k < g.n; k++) {
		memset(mark, 0, m->n_nodes);
		for (i = g.start[k]; i < g.start[k + 1]; i++)
			for (r = 0; r < 3; r++)
				mark[m->tris[3 * (size_t)g.tris[i] + r]] = 1;
		twin_export_ident(id, m->surfaces[k].name);
		write_nset(o.f, id, mark, m->n_nodes);
	}
	/* element faces, on the myocardium's side where a surface bounds it */
	for (k = 0; k < g.n; k++) {
		twin_export_ident(id, m->surfaces[k].name);
		twin_export_flush(&o);
		fprintf(o.f, "*SURFACE, TYPE=ELEMENT, NAME=%s\n", id);
		for (i = g.start[k]; i < g.start[k + 1]; i++) {
			uint32_t tet;
			uint8_t face;
			char *q;

			twin_export_side(x, g.tris[i], TWIN_LABEL_WALL, &tet, &face);
			q = twin_export_put_u(twin_export_line(&o), (uint64_t)tet + 1);
			q = stpcpy(stpcpy(q, ", "), face_label[face]);
			*q++ = '\n';
			twin_export_end_line(&o, q);
		}
	}
	if (x->fibres) {
		twin_export_flush(&o);
		fprintf(o.f, "** fibres (LDRB): local axis 1 the fibre, 2 in the plane of fibre and sheet;\n"
			"** use with *SOLID SECTION, ELSET=<myocardium>, MATERIAL=..., ORIENTATION=FIBRES\n"
			"*DISTRIBUTION TABLE, NAME=FIBRE_AXES_TABLE\nCOORD3D, COORD3D\n"
			"*DISTRIBUTION, NAME=FIBRE_AXES, LOCATION=ELEMENT, TABLE=FIBRE_AXES_TABLE\n"
			", 1., 0., 0., 0., 1., 0.\n");
		if (twin_export_file_lines(err, &o, m->n_tets, axes_line, (void *)x) != 0)
			goto out;
		twin_export_flush(&o);
		fprintf(o.f, "*ORIENTATION, NAME=FIBRES, SYSTEM=RECTANGULAR\nFIBRE_AXES\n");
	}
	rc = twin_export_close(err, &o);
out:
	twin_export_abort(&o);
	twin_export_groups_release(&g);
	twin_export_ids_release(&ids);
	free(mark);
	return rc;
}
