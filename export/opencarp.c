/*
 * opencarp: heart.pts (micrometres), heart.elem (Tt with the region id as
 * tag), and per tagged surface heart.<surface>.surf (Tr triangles) and
 * heart.<surface>.vtx (its nodes, intra), all 0-based; with fibres,
 * heart.lon: "2", then the fibre and the sheet of each element of
 * heart.elem (zeros outside the myocardium).
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"

static int write_surface(struct twin_err *err, const struct twin_export *x,
			 const struct twin_export_groups *g, const struct twin_export_ids *ids, size_t k,
			 const char *dir, uint8_t *mark)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o;
	char name[TWIN_TETMESH_NAME_MAX + 32], id[TWIN_TETMESH_NAME_MAX + 3];
	size_t i, c, n = 0;

	twin_export_ident(id, m->surfaces[k].name);
	snprintf(name, sizeof(name), "heart.%s.surf", id);
	if (twin_export_open(err, &o, dir, name) != 0)
		return -1;
	fprintf(o.f, "%zu\n", g->start[k + 1] - g->start[k]);
	memset(mark, 0, m->n_nodes);
	for (i = g->start[k]; i < g->start[k + 1]; i++) {
		const uint32_t *t;
		uint32_t tet, v[3];
		uint8_t f;
		char *q;

		/* normals out of the myocardium where the surface bounds it */
		twin_export_side(x, g->tris[i], TWIN_LABEL_WALL, &tet, &f);
		t = m->tets + 4 * (size_t)tet;
		for (c = 0; c < 3; c++)
			v[c] = t[twin_tetmesh_face_nodes[f][c]];
		q = twin_export_put_ids(stpcpy(twin_export_line(&o), "Tr "), ids, v, 3, " ");
		*q++ = '\n';
		twin_export_end_line(&o, q);
		for (c = 0; c < 3; c++)
			mark[m->tris[3 * (size_t)g->tris[i] + c]] = 1;
	}
	if (twin_export_close(err, &o) != 0)
		return -1;
	snprintf(name, sizeof(name), "heart.%s.vtx", id);
	if (twin_export_open(err, &o, dir, name) != 0)
		return -1;
	for (i = 0; i < m->n_nodes; i++)
		n += mark[i];
	fprintf(o.f, "%zu\nintra\n", n);
	for (i = 0; i < m->n_nodes; i++)
		if (mark[i]) {
			char *q = twin_export_put_u(twin_export_line(&o), i);

			*q++ = '\n';
			twin_export_end_line(&o, q);
		}
	return twin_export_close(err, &o);
}

/* "x y z" in micrometres */
static char *point_line(void *ctx, size_t i, char *p)
{
	const struct twin_tetmesh *m = ctx;

	p = twin_export_put_xyz(p, m->xyz + 3 * i, 1000, " ");
	*p++ = '\n';
	return p;
}

struct lines {
	const struct twin_tetmesh *m;
	const struct twin_export_ids *ids;
};

/* "Tt n0 n1 n2 n3 region" */
static char *element_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;
	const struct twin_tetmesh *m = l->m;

	memcpy(p, "Tt ", 3);
	p = twin_export_put_ids(p + 3, l->ids, m->tets + 4 * i, 4, " ");
	*p++ = ' ';
	p = twin_export_put_i(p, m->tet_region[i]);
	*p++ = '\n';
	return p;
}

/* "fx fy fz sx sy sz" */
static char *fibre_line(void *ctx, size_t i, char *p)
{
	const double *f = (const double *)ctx + 9 * i;

	/* outside the myocardium (a third of the heart) all six are zero */
	if (!(f[0] || f[1] || f[2] || f[3] || f[4] || f[5])) {
		memcpy(p, "0 0 0 0 0 0\n", 12);
		return p + 12;
	}
	for (int c = 0; c < 6; c++) {
		if (c)
			*p++ = ' ';
		p = twin_export_put_fixed(p, f[c], TWIN_EXPORT_FIBRE_DECIMALS);
	}
	*p++ = '\n';
	return p;
}

int twin_export_opencarp(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_groups g = { 0, NULL, NULL };
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	uint8_t *mark = malloc(m->n_nodes ? m->n_nodes : 1);
	struct twin_export_ids ids = { NULL, 0 };
	struct lines lines = { m, &ids };
	size_t k;
	int rc = -1;

	if (!mark) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_export_ids_init(err, &ids, m->n_nodes, 0) != 0 ||
	    twin_export_open(err, &o, dir, "heart.pts") != 0)
		goto out;
	fprintf(o.f, "%zu\n", m->n_nodes);
	if (twin_export_file_lines(err, &o, m->n_nodes, point_line, (void *)m) != 0)
		goto out;
	if (twin_export_close(err, &o) != 0)
		goto out;
	if (twin_export_open(err, &o, dir, "heart.elem") != 0)
		goto out;
	fprintf(o.f, "%zu\n", m->n_tets);
	if (twin_export_file_lines(err, &o, m->n_tets, element_line, &lines) != 0)
		goto out;
	if (twin_export_close(err, &o) != 0)
		goto out;
	if (x->fibres) {
		if (twin_export_open(err, &o, dir, "heart.lon") != 0)
			goto out;
		fprintf(o.f, "2\n");
		if (twin_export_file_lines(err, &o, m->n_tets, fibre_line, (void *)x->fibres) != 0 ||
		    twin_export_close(err, &o) != 0)
			goto out;
	}
	if (twin_export_groups_init(err, &g, m) != 0)
		goto out;
	for (k = 0; k < g.n; k++)
		if (write_surface(err, x, &g, &ids, k, dir, mark) != 0)
			goto out;
	rc = 0;
out:
	twin_export_abort(&o);
	twin_export_groups_release(&g);
	twin_export_ids_release(&ids);
	free(mark);
	return rc;
}
