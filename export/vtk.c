#include "vtk.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"

static const char *type_name(enum twin_vtk_type t)
{
	switch (t) {
	case TWIN_VTK_INT32: return "Int32";
	case TWIN_VTK_INT64: return "Int64";
	case TWIN_VTK_FLOAT64: return "Float64";
	}
	return "Int32";
}

static size_t type_size(enum twin_vtk_type t)
{
	return t == TWIN_VTK_INT32 ? 4 : 8;
}

/* Writes the header of a DataArray in the appended block at *offset. */
static void array_header(FILE *f, const char *name, const char *type, int ncomp, uint64_t *offset,
			 uint64_t bytes)
{
	fprintf(f, "        <DataArray type=\"%s\"", type);
	if (name)
		fprintf(f, " Name=\"%s\"", name);
	if (ncomp > 1)
		fprintf(f, " NumberOfComponents=\"%d\"", ncomp);
	fprintf(f, " format=\"appended\" offset=\"%llu\"/>\n", (unsigned long long)*offset);
	*offset += 8 + bytes;
}

/* A block of raw bytes after its UInt64 size, past o's buffer. */
static void block(struct twin_export_file *o, const void *data, uint64_t bytes)
{
	twin_export_flush(o);
	fwrite(&bytes, 8, 1, o->f);
	if (bytes)
		fwrite(data, 1, bytes, o->f);
}

/*
 * Array a of n tuples: as it is, or gathered from its stride straight into
 * o's buffer, 4 bytes at a time (a copy of a variable length is a call per
 * tuple, which cost more than the copy).
 */
static void array_block(struct twin_export_file *o, const struct twin_vtk_array *a, size_t n)
{
	size_t size = type_size(a->type), tuple = (size_t)a->ncomp * size, step = a->stride * size;
	const char *src = a->data;
	uint64_t bytes = n * tuple;
	size_t i, c;
	char *p;

	if (a->stride == 0 || a->stride == (size_t)a->ncomp) {
		block(o, src, bytes);
		return;
	}
	p = twin_export_line(o);
	memcpy(p, &bytes, 8);
	twin_export_end_line(o, p + 8);
	for (i = 0; i < n; i++, src += step) {
		p = twin_export_line(o);
		for (c = 0; c < tuple; c += 4)
			memcpy(p + c, src + c, 4);
		twin_export_end_line(o, p + tuple);
	}
}

/* Offsets (npc, 2 npc, ...) as Int32, or cell types as UInt8 when types. */
static void count_block(struct twin_export_file *o, size_t n, int npc, int types)
{
	uint64_t bytes = types ? n : n * 4;
	size_t i, k, per = TWIN_EXPORT_LINE_MAX / 4;
	char *p = twin_export_line(o);

	memcpy(p, &bytes, 8);
	twin_export_end_line(o, p + 8);
	for (i = 0; i < n; i += k) {
		p = twin_export_line(o);
		if (types) {
			k = n - i < TWIN_EXPORT_LINE_MAX ? n - i : TWIN_EXPORT_LINE_MAX;
			memset(p, npc == 4 ? 10 : 5, k);
			twin_export_end_line(o, p + k);
			continue;
		}
		k = n - i < per ? n - i : per;
		for (size_t j = 0; j < k; j++) {
			int32_t v = (int32_t)(i + j + 1) * npc;

			memcpy(p + 4 * j, &v, 4);
		}
		twin_export_end_line(o, p + 4 * k);
	}
}

int twin_vtk_write(struct twin_err *err, const char *dir, const char *name,
		   const struct twin_vtk_piece *p)
{
	const char *kind = p->poly ? "PolyData" : "UnstructuredGrid";
	const char *cells = p->poly ? "Polys" : "Cells";
	int npc = p->poly ? 3 : 4;
	struct twin_export_file o;
	uint64_t off = 0;
	size_t i;

	if (twin_export_open(err, &o, dir, name) != 0)
		return -1;
	fprintf(o.f, "<?xml version=\"1.0\"?>\n"
		"<VTKFile type=\"%s\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n"
		"  <%s>\n", kind, kind);
	if (p->n_fields) {
		fprintf(o.f, "    <FieldData>\n");
		for (i = 0; i < p->n_fields; i++) {
			fprintf(o.f, "      <DataArray type=\"Int32\" Name=\"");
			twin_export_xml_text(o.f, p->fields[i].name);
			fprintf(o.f, "\" NumberOfTuples=\"1\" format=\"ascii\">%d</DataArray>\n",
				(int)p->fields[i].value);
		}
		fprintf(o.f, "    </FieldData>\n");
	}
	if (p->poly)
		fprintf(o.f, "    <Piece NumberOfPoints=\"%zu\" NumberOfVerts=\"0\" NumberOfLines=\"0\" NumberOfStrips=\"0\" NumberOfPolys=\"%zu\">\n",
			p->n_points, p->n_cells);
	else
		fprintf(o.f, "    <Piece NumberOfPoints=\"%zu\" NumberOfCells=\"%zu\">\n", p->n_points, p->n_cells);
	fprintf(o.f, "      <PointData>\n");
	for (i = 0; i < p->n_point_data; i++) {
		const struct twin_vtk_array *a = &p->point_data[i];

		array_header(o.f, a->name, type_name(a->type), a->ncomp, &off,
			     p->n_points * a->ncomp * type_size(a->type));
	}
	fprintf(o.f, "      </PointData>\n      <CellData>\n");
	for (i = 0; i < p->n_cell_data; i++) {
		const struct twin_vtk_array *a = &p->cell_data[i];

		array_header(o.f, a->name, type_name(a->type), a->ncomp, &off,
			     p->n_cells * a->ncomp * type_size(a->type));
	}
	fprintf(o.f, "      </CellData>\n      <Points>\n");
	array_header(o.f, "Points", "Float64", 3, &off, p->n_points * 24);
	fprintf(o.f, "      </Points>\n      <%s>\n", cells);
	array_header(o.f, "connectivity", "Int32", 1, &off, p->n_cells * npc * 4);
	array_header(o.f, "offsets", "Int32", 1, &off, p->n_cells * 4);
	if (!p->poly)
		array_header(o.f, "types", "UInt8", 1, &off, p->n_cells);
	fprintf(o.f, "      </%s>\n    </Piece>\n  </%s>\n  <AppendedData encoding=\"raw\">\n   _",
		cells, kind);
	for (i = 0; i < p->n_point_data; i++)
		array_block(&o, &p->point_data[i], p->n_points);
	for (i = 0; i < p->n_cell_data; i++)
		array_block(&o, &p->cell_data[i], p->n_cells);
	block(&o, p->xyz, p->n_points * 24);
	/* the ids are below 2^31: uint32_t is Int32 as it is */
	block(&o, p->conn, p->n_cells * npc * 4);
	count_block(&o, p->n_cells, npc, 0);
	if (!p->poly)
		count_block(&o, p->n_cells, npc, 1);
	twin_export_flush(&o);
	fprintf(o.f, "\n  </AppendedData>\n</VTKFile>\n");
	return twin_export_close(err, &o);
}

int twin_vtk_surface(struct twin_err *err, const struct twin_tetmesh *mesh,
		     const uint32_t *tris, size_t n_tris, double **xyz, uint32_t **conn,
		     uint32_t **global, size_t *n_points)
{
	uint32_t *local = malloc((mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*local));
	size_t i, k, n = 0;

	*xyz = NULL;
	*global = NULL;
	*conn = malloc((n_tris ? n_tris : 1) * 3 * sizeof(**conn));
	if (!local || !*conn)
		goto nomem;
	for (i = 0; i < mesh->n_nodes; i++)
		local[i] = UINT32_MAX;
	for (i = 0; i < n_tris; i++)
		for (k = 0; k < 3; k++) {
			uint32_t v = mesh->tris[3 * (size_t)tris[i] + k];

			if (local[v] == UINT32_MAX)
				local[v] = (uint32_t)n++;
			(*conn)[3 * i + k] = local[v];
		}
	*xyz = malloc((n ? n : 1) * 3 * sizeof(**xyz));
	*global = malloc((n ? n : 1) * sizeof(**global));
	if (!*xyz || !*global)
		goto nomem;
	for (i = 0; i < mesh->n_nodes; i++)
		if (local[i] != UINT32_MAX) {
			memcpy(*xyz + 3 * (size_t)local[i], mesh->xyz + 3 * i, 3 * sizeof(double));
			(*global)[local[i]] = (uint32_t)i;
		}
	*n_points = n;
	free(local);
	return 0;
nomem:
	free(local);
	free(*conn);
	free(*xyz);
	free(*global);
	*conn = NULL;
	*xyz = NULL;
	*global = NULL;
	return twin_err_set(err, TWIN_EFAIL, "surface points: out of memory");
}

/* One surface: its points, triangles, the mesh node of each point and the parent tet of each triangle. */
int twin_vtk_write_surface(struct twin_err *err, const struct twin_export *x,
			   const struct twin_export_groups *g, size_t k, const char *dir,
			   const char *name, const char *tag_name)
{
	const struct twin_tetmesh *m = x->mesh;
	const uint32_t *tris = g->tris + g->start[k];
	size_t i, n = g->start[k + 1] - g->start[k], np = 0;
	double *xyz = NULL;
	uint32_t *conn = NULL, *global = NULL;
	int32_t *node_id = NULL, *elem_id = NULL, *tag = NULL;
	struct twin_vtk_field field = { m->surfaces[k].name, m->surfaces[k].tag };
	int rc = -1;

	if (twin_vtk_surface(err, m, tris, n, &xyz, &conn, &global, &np) != 0)
		return -1;
	node_id = malloc((np ? np : 1) * sizeof(*node_id));
	elem_id = malloc((n ? n : 1) * sizeof(*elem_id));
	tag = malloc((n ? n : 1) * sizeof(*tag));
	if (!node_id || !elem_id || !tag) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < np; i++)
		node_id[i] = (int32_t)global[i] + 1;
	for (i = 0; i < n; i++) {
		uint32_t tet;
		uint8_t face;

		twin_export_side(x, tris[i], TWIN_LABEL_WALL, &tet, &face);
		elem_id[i] = (int32_t)tet + 1;
		tag[i] = m->surfaces[k].tag;
	}
	{
		const struct twin_vtk_array pd[] = { { "GlobalNodeID", TWIN_VTK_INT32, 1, node_id, 0 } };
		const struct twin_vtk_array cd[] = {
			{ tag_name, TWIN_VTK_INT32, 1, tag, 0 },
			{ "GlobalElementID", TWIN_VTK_INT32, 1, elem_id, 0 },
		};
		struct twin_vtk_piece p = { 1, np, xyz, n, conn, pd, 1, cd, 2, &field, 1 };

		rc = twin_vtk_write(err, dir, name, &p);
	}
out:
	free(xyz);
	free(conn);
	free(global);
	free(node_id);
	free(elem_id);
	free(tag);
	return rc;
}
