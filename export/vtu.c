/*
 * vtu: heart.vtu (cell arrays region and, with fibres, fibre, sheet and
 * sheet_normal) and surfaces/<surface>.vtp, VTK XML with appended raw data.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "vtk.h"

static int region_fields(struct twin_err *err, const struct twin_tetmesh *m,
			 struct twin_vtk_field **out)
{
	size_t i;

	*out = malloc((m->n_regions ? m->n_regions : 1) * sizeof(**out));
	if (!*out)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	for (i = 0; i < m->n_regions; i++) {
		(*out)[i].name = m->regions[i].name;
		(*out)[i].value = m->regions[i].tag;
	}
	return 0;
}

int twin_export_vtu(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_groups g = { 0, NULL, NULL };
	struct twin_vtk_field *fields = NULL;
	const double *fib = x->fibres;
	size_t k;
	int rc = -1;

	if (region_fields(err, m, &fields) != 0)
		return -1;
	{
		/* the fibres straight from their 9 values per tetrahedron */
		const struct twin_vtk_array cd[] = {
			{ "region", TWIN_VTK_INT32, 1, m->tet_region, 0 },
			{ "fibre", TWIN_VTK_FLOAT64, 3, fib, 9 },
			{ "sheet", TWIN_VTK_FLOAT64, 3, fib ? fib + 3 : NULL, 9 },
			{ "sheet_normal", TWIN_VTK_FLOAT64, 3, fib ? fib + 6 : NULL, 9 },
		};
		struct twin_vtk_piece p = { 0, m->n_nodes, m->xyz, m->n_tets, m->tets, NULL, 0, cd,
					    fib ? 4 : 1, fields, m->n_regions };

		if (twin_vtk_write(err, dir, "heart.vtu", &p) != 0)
			goto out;
	}
	if (twin_export_groups_init(err, &g, m) != 0 || twin_export_mkdir(err, dir, "surfaces") != 0)
		goto out;
	for (k = 0; k < g.n; k++)
		if (g.start[k + 1] > g.start[k]) {
			char name[TWIN_TETMESH_NAME_MAX + 32], id[TWIN_TETMESH_NAME_MAX + 3];

			twin_export_ident(id, m->surfaces[k].name);
			snprintf(name, sizeof(name), "surfaces/%s.vtp", id);
			if (twin_vtk_write_surface(err, x, &g, k, dir, name, "surface") != 0)
				goto out;
		}
	rc = 0;
out:
	twin_export_groups_release(&g);
	free(fields);
	return rc;
}
