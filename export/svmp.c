/*
 * svmp: the svMultiPhysics layout: mesh-complete/mesh-complete.mesh.vtu with
 * GlobalNodeID, GlobalElementID and ModelRegionID, one
 * mesh-complete/mesh-surfaces/<surface>.vtp per surface with GlobalNodeID,
 * GlobalElementID (the parent tetrahedron) and ModelFaceID, and solver.xml
 * holding the <Add_mesh> section that names them. With fibres,
 * fibres/fibre.vtu and fibres/sheet.vtu: the volume with one cell array
 * FIB_DIR each, named in that order by <Fiber_direction_file_path>. The
 * mesh-complete volume does not carry them again: svMultiPhysics reads them
 * only from those files, and the vtu target has all three for ParaView.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "vtk.h"

static int write_solver_xml(struct twin_err *err, const struct twin_export *x,
			    const struct twin_export_groups *g, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o;
	char id[TWIN_TETMESH_NAME_MAX + 3];
	size_t k;

	if (twin_export_open(err, &o, dir, "solver.xml") != 0)
		return -1;
	fprintf(o.f, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
		"<!-- dcm2twin: the mesh section of an svMultiPhysics input file; lengths in mm\n"
		"     (Mesh_scale_factor 0.1 gives cm). Add the equations and solver settings. -->\n"
		"<svMultiPhysicsFile version=\"0.1\">\n"
		"<Add_mesh name=\"heart\">\n"
		"  <Mesh_file_path> mesh-complete/mesh-complete.mesh.vtu </Mesh_file_path>\n");
	for (k = 0; k < g->n; k++) {
		if (g->start[k + 1] == g->start[k])
			continue;
		twin_export_ident(id, m->surfaces[k].name);
		fprintf(o.f, "  <Add_face name=\"");
		twin_export_xml_text(o.f, m->surfaces[k].name);
		fprintf(o.f, "\">\n    <Face_file_path> mesh-complete/mesh-surfaces/%s.vtp </Face_file_path>\n"
			"  </Add_face>\n", id);
	}
	if (x->fibres)
		fprintf(o.f, "  <Fiber_direction_file_path> fibres/fibre.vtu </Fiber_direction_file_path>\n"
			"  <Fiber_direction_file_path> fibres/sheet.vtu </Fiber_direction_file_path>\n");
	fprintf(o.f, "  <Mesh_scale_factor> 1.0 </Mesh_scale_factor>\n</Add_mesh>\n</svMultiPhysicsFile>\n");
	return twin_export_close(err, &o);
}

int twin_export_svmp(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_groups g = { 0, NULL, NULL };
	struct twin_vtk_field *fields = NULL;
	int32_t *node_id = NULL, *elem_id = NULL;
	const double *fib = x->fibres;
	size_t i, k;
	int rc = -1;

	node_id = malloc((m->n_nodes ? m->n_nodes : 1) * sizeof(*node_id));
	elem_id = malloc(m->n_tets * sizeof(*elem_id));
	fields = malloc((m->n_regions ? m->n_regions : 1) * sizeof(*fields));
	if (!node_id || !elem_id || !fields) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		node_id[i] = (int32_t)i + 1;
	for (i = 0; i < m->n_tets; i++)
		elem_id[i] = (int32_t)i + 1;
	for (i = 0; i < m->n_regions; i++) {
		fields[i].name = m->regions[i].name;
		fields[i].value = m->regions[i].tag;
	}
	if (twin_export_mkdir(err, dir, "mesh-complete") != 0 ||
	    twin_export_mkdir(err, dir, "mesh-complete/mesh-surfaces") != 0)
		goto out;
	{
		const struct twin_vtk_array pd[] = { { "GlobalNodeID", TWIN_VTK_INT32, 1, node_id, 0 } };
		const struct twin_vtk_array cd[] = {
			{ "GlobalElementID", TWIN_VTK_INT32, 1, elem_id, 0 },
			{ "ModelRegionID", TWIN_VTK_INT32, 1, m->tet_region, 0 },
		};
		struct twin_vtk_piece p = { 0, m->n_nodes, m->xyz, m->n_tets, m->tets, pd, 1, cd, 2,
					    fields, m->n_regions };

		if (twin_vtk_write(err, dir, "mesh-complete/mesh-complete.mesh.vtu", &p) != 0)
			goto out;
	}
	if (fib) {
		/* svMultiPhysics reads one direction per file, from the array FIB_DIR */
		const struct twin_vtk_array gd[] = { { "GlobalNodeID", TWIN_VTK_INT32, 1, node_id, 0 } };
		const struct twin_vtk_array fd[] = { { "FIB_DIR", TWIN_VTK_FLOAT64, 3, fib, 9 } };
		const struct twin_vtk_array sd[] = { { "FIB_DIR", TWIN_VTK_FLOAT64, 3, fib + 3, 9 } };
		struct twin_vtk_piece p = { 0, m->n_nodes, m->xyz, m->n_tets, m->tets, gd, 1, fd, 1,
					    NULL, 0 };

		if (twin_export_mkdir(err, dir, "fibres") != 0 ||
		    twin_vtk_write(err, dir, "fibres/fibre.vtu", &p) != 0)
			goto out;
		p.cell_data = sd;
		if (twin_vtk_write(err, dir, "fibres/sheet.vtu", &p) != 0)
			goto out;
	}
	if (twin_export_groups_init(err, &g, m) != 0)
		goto out;
	for (k = 0; k < g.n; k++) {
		char name[TWIN_TETMESH_NAME_MAX + 64], id[TWIN_TETMESH_NAME_MAX + 3];

		if (g.start[k + 1] == g.start[k])
			continue;
		twin_export_ident(id, m->surfaces[k].name);
		snprintf(name, sizeof(name), "mesh-complete/mesh-surfaces/%s.vtp", id);
		if (twin_vtk_write_surface(err, x, &g, k, dir, name, "ModelFaceID") != 0)
			goto out;
	}
	rc = write_solver_xml(err, x, &g, dir);
out:
	twin_export_groups_release(&g);
	free(node_id);
	free(elem_id);
	free(fields);
	return rc;
}
