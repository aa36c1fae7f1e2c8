/*
 * msh22: heart.msh in Gmsh's legacy ASCII format 2.2 with $PhysicalNames,
 * which gmshToFoam and older tools read. Triangles first, then tetrahedra;
 * each element carries its physical tag and, as elementary tag, the same.
 */
#include "export.h"

int twin_export_msh22(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o;
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
		const double *p = m->xyz + 3 * i;

		fprintf(o.f, "%zu %.10g %.10g %.10g\n", i + 1, p[0], p[1], p[2]);
	}
	fprintf(o.f, "$EndNodes\n$Elements\n%zu\n", m->n_tris + m->n_tets);
	for (i = 0; i < m->n_tris; i++) {
		const uint32_t *t = m->tris + 3 * i;
		int tag = (int)m->tri_surface[i];

		fprintf(o.f, "%zu 2 2 %d %d %u %u %u\n", i + 1, tag, tag, t[0] + 1, t[1] + 1, t[2] + 1);
	}
	for (i = 0; i < m->n_tets; i++) {
		const uint32_t *t = m->tets + 4 * i;
		int tag = (int)m->tet_region[i];

		fprintf(o.f, "%zu 4 2 %d %d %u %u %u %u\n", m->n_tris + i + 1, tag, tag, t[0] + 1,
			t[1] + 1, t[2] + 1, t[3] + 1);
	}
	fprintf(o.f, "$EndElements\n");
	return twin_export_close(err, &o);
}
