/*
 * msh22: heart.msh in Gmsh's legacy ASCII format 2.2 with $PhysicalNames,
 * which gmshToFoam and older tools read. Triangles first, then tetrahedra;
 * each element carries its physical tag and, as elementary tag, the same.
 * gmshToFoam looks names up by tag alone, whatever the dimension, so the
 * surface tags are offset (by 100 while region ids stay below 100) to
 * differ from every region id. MSH 2.2 carries no fibres.
 */
#include <string.h>

#include "export.h"

/* "id x y z" */
static char *node_line(void *ctx, size_t i, char *p)
{
	const struct twin_tetmesh *m = ctx;

	p = twin_export_put_u(p, i + 1);
	*p++ = ' ';
	p = twin_export_put_xyz(p, m->xyz + 3 * i, 1, " ");
	*p++ = '\n';
	return p;
}

struct lines {
	const struct twin_tetmesh *m;
	const struct twin_export_ids *ids;
	uint32_t offset; /* added to every surface tag but 0 */
};

/* "id type 2 tag tag nodes": the triangles, then the tetrahedra */
static char *element_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;
	const struct twin_tetmesh *m = l->m;
	int tri = i < m->n_tris;
	size_t e = tri ? i : i - m->n_tris;
	uint32_t tag;

	if (tri)
		tag = (uint32_t)m->tri_surface[e] + (m->tri_surface[e] ? l->offset : 0);
	else
		tag = (uint32_t)m->tet_region[e];
	p = twin_export_put_u(p, i + 1);
	memcpy(p, tri ? " 2 2 " : " 4 2 ", 5);
	p = twin_export_put_u(p + 5, tag);
	*p++ = ' ';
	p = twin_export_put_u(p, tag);
	*p++ = ' ';
	p = twin_export_put_ids(p, l->ids, tri ? m->tris + 3 * e : m->tets + 4 * e, tri ? 3 : 4, " ");
	*p++ = '\n';
	return p;
}

int twin_export_msh22(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	struct twin_export_ids ids = { NULL, 0 };
	struct lines lines = { m, &ids, 100 };
	size_t i;
	int rc = -1;

	if (twin_export_ids_init(err, &ids, m->n_nodes, 1) != 0)
		return -1;
	if (twin_export_open(err, &o, dir, "heart.msh") != 0)
		goto out;
	fprintf(o.f, "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$PhysicalNames\n%zu\n",
		m->n_surfaces + m->n_regions);
	for (i = 0; i < m->n_regions; i++)
		while (m->regions[i].tag >= (int32_t)lines.offset)
			lines.offset += 100;
	for (i = 0; i < m->n_surfaces; i++)
		fprintf(o.f, "2 %u \"%s\"\n", (uint32_t)m->surfaces[i].tag + lines.offset,
			m->surfaces[i].name);
	for (i = 0; i < m->n_regions; i++)
		fprintf(o.f, "3 %d \"%s\"\n", (int)m->regions[i].tag, m->regions[i].name);
	fprintf(o.f, "$EndPhysicalNames\n$Nodes\n%zu\n", m->n_nodes);
	if (twin_export_file_lines(err, &o, m->n_nodes, node_line, (void *)m) != 0)
		goto out;
	fprintf(o.f, "$EndNodes\n$Elements\n%zu\n", m->n_tris + m->n_tets);
	if (twin_export_file_lines(err, &o, m->n_tris + m->n_tets, element_line, &lines) != 0)
		goto out;
	fprintf(o.f, "$EndElements\n");
	rc = twin_export_close(err, &o);
out:
	twin_export_abort(&o);
	twin_export_ids_release(&ids);
	return rc;
}
