/*
 * msh22: heart.msh in Gmsh's legacy ASCII format 2.2 with $PhysicalNames,
 * which gmshToFoam and older tools read. Triangles first, then tetrahedra;
 * each element carries its physical tag and, as elementary tag, the same.
 */
#include <string.h>

#include "export.h"

int twin_export_msh22(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o;
	char *q;
	size_t i;

	if (twin_export_open(err, &o, dir, "heart.msh") != 0)
		return -1;
	fprintf(o.f, "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$PhysicalNames\n%zu\n",
		m->n_surfaces + m->n_regions);
	for (i = 0; i < m->n_surfaces; i++)
		fprintf(o.f, "2 %d \"%s\"\n", (int)m->surfaces[i].tag, m->surfaces[i].name);
	for (i = 0; i < m->n_regions; i++)
		fprintf(o.f, "3 %d \"%s\"\n", (int)m->regions[i].tag, m->regions[i].name);
	fprintf(o.f, "$EndPhysicalNames\n$Nodes\n%zu\n", m->n_nodes);
	for (i = 0; i < m->n_nodes; i++) {
		q = twin_export_put_u(twin_export_line(&o), i + 1);
		*q++ = ' ';
		q = twin_export_put_xyz(q, m->xyz + 3 * i, 1, " ");
		*q++ = '\n';
		twin_export_end_line(&o, q);
	}
	twin_export_flush(&o);
	fprintf(o.f, "$EndNodes\n$Elements\n%zu\n", m->n_tris + m->n_tets);
	for (i = 0; i < m->n_tris + m->n_tets; i++) {
		int tri = i < m->n_tris;
		size_t e = tri ? i : i - m->n_tris;
		uint32_t tag[2];

		tag[0] = tag[1] = (uint32_t)(tri ? m->tri_surface[e] : m->tet_region[e]);
		q = twin_export_put_u(twin_export_line(&o), i + 1);
		q = stpcpy(q, tri ? " 2 2 " : " 4 2 ");
		q = twin_export_put_ids(q, tag, 2, 0, " ");
		*q++ = ' ';
		q = twin_export_put_ids(q, tri ? m->tris + 3 * e : m->tets + 4 * e, tri ? 3 : 4, 1, " ");
		*q++ = '\n';
		twin_export_end_line(&o, q);
	}
	twin_export_flush(&o);
	fprintf(o.f, "$EndElements\n");
	return twin_export_close(err, &o);
}
