/*
 * xdmf: XDMF 3 + HDF5 for dolfinx: heart.xdmf (grid "mesh": tetrahedra,
 * geometry and the cell tags, region ids, in heart.h5) and facets.xdmf
 * (grid "facet_tags": the tagged triangles and their surface tags, in
 * facets.h5; dolfinx opens the .h5 named like the .xdmf). Names travel in each grid's Information, as meshio writes
 * them (<map key="name" dim="3">id</map>). With fibres, grid "mesh" has
 * the cell vectors fibre, sheet and sheet_normal (heart.h5:/mesh/<name>).
 */
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "export.h"
#include "files.h"

/* Writes one 1-D or 2-D dataset; type is an HDF5 native type. */
/*
 * Dataset name of rows x cols values (a vector when cols is 0). In data a
 * row starts every stride values (0: cols), so columns of a wider array
 * are written without a copy.
 */
static int put_strided(struct twin_err *err, hid_t file, const char *path, const char *name,
		       hid_t type, size_t rows, size_t cols, const void *data, size_t stride)
{
	hsize_t dims[2] = { rows, cols }, mdims[2] = { rows, stride }, start[2] = { 0, 0 };
	hid_t space, mspace = H5S_ALL, set;
	int rc = 0;

	space = H5Screate_simple(cols ? 2 : 1, dims, NULL);
	if (space < 0)
		return twin_err_set(err, TWIN_EDEP, "cannot write '%s': hdf5: no dataspace for %s", path, name);
	if (stride && stride != cols && rows) {
		mspace = H5Screate_simple(2, mdims, NULL);
		if (mspace < 0 || H5Sselect_hyperslab(mspace, H5S_SELECT_SET, start, NULL, dims, NULL) < 0) {
			if (mspace >= 0)
				H5Sclose(mspace);
			H5Sclose(space);
			return twin_err_set(err, TWIN_EDEP, "cannot write '%s': hdf5: no memory selection for %s",
					    path, name);
		}
	}
	set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (set < 0 || (rows && H5Dwrite(set, type, mspace, H5S_ALL, H5P_DEFAULT, data) < 0))
		rc = twin_err_set(err, TWIN_EIO, "cannot write '%s': hdf5: dataset %s failed", path, name);
	if (set >= 0)
		H5Dclose(set);
	if (mspace != H5S_ALL)
		H5Sclose(mspace);
	H5Sclose(space);
	return rc;
}

static int put(struct twin_err *err, hid_t file, const char *path, const char *name, hid_t type,
	       size_t rows, size_t cols, const void *data)
{
	return put_strided(err, file, path, name, type, rows, cols, data, 0);
}

static int write_h5(struct twin_err *err, const struct twin_export *x, const char *dir, int facets)
{
	static const char *const fib_sets[3] = { "/mesh/fibre", "/mesh/sheet", "/mesh/sheet_normal" };
	const struct twin_tetmesh *m = x->mesh;
	char *path = twin_path_join(dir, facets ? "facets.h5" : "heart.h5");
	hid_t file = -1;
	int rc = -1;

	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (file < 0) {
		twin_err_set(err, TWIN_EIO, "cannot create '%s': hdf5 failed", path);
		goto out;
	}
	if (H5Gclose(H5Gcreate2(file, facets ? "facets" : "mesh", H5P_DEFAULT, H5P_DEFAULT,
				H5P_DEFAULT)) < 0) {
		twin_err_set(err, TWIN_EIO, "cannot write '%s': hdf5: group failed", path);
		goto out;
	}
	if (facets) {
		if (put(err, file, path, "/facets/topology", H5T_NATIVE_UINT32, m->n_tris, 3, m->tris) != 0 ||
		    put(err, file, path, "/facets/facet_tags", H5T_NATIVE_INT32, m->n_tris, 0,
			m->tri_surface) != 0)
			goto out;
	} else if (put(err, file, path, "/mesh/geometry", H5T_NATIVE_DOUBLE, m->n_nodes, 3, m->xyz) != 0 ||
		   put(err, file, path, "/mesh/topology", H5T_NATIVE_UINT32, m->n_tets, 4, m->tets) != 0 ||
		   put(err, file, path, "/mesh/cell_tags", H5T_NATIVE_INT32, m->n_tets, 0,
		       m->tet_region) != 0) {
		goto out;
	} else if (x->fibres) {
		/* columns 3c .. 3c + 2 of the 9 fibre values per tetrahedron */
		for (int c = 0; c < 3; c++)
			if (put_strided(err, file, path, fib_sets[c], H5T_NATIVE_DOUBLE, m->n_tets, 3,
					x->fibres + 3 * c, 9) != 0)
				goto out;
	}
	rc = 0;
out:
	if (file >= 0 && H5Fclose(file) < 0 && rc == 0)
		rc = twin_err_set(err, TWIN_EIO, "cannot write '%s': hdf5: close failed", path);
	free(path);
	return rc;
}

/* The names of a grid, as meshio's field_data: <map key="name" dim="d">tag</map>. */
static void information(FILE *f, const struct twin_tetmesh_name *names, size_t n, int dim)
{
	fprintf(f, "      <Information Name=\"Information\" Value=\"%zu\"><![CDATA[<main>", n);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<map key=\"");
		twin_export_xml_text(f, names[i].name);
		fprintf(f, "\" dim=\"%d\">%d</map>", dim, (int)names[i].tag);
	}
	fprintf(f, "</main>]]></Information>\n");
}

static int write_grid(struct twin_err *err, const struct twin_export *x, const char *dir,
		      int facets)
{
	static const char *const fib_names[3] = { "fibre", "sheet", "sheet_normal" };
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_file o;
	size_t n = facets ? m->n_tris : m->n_tets;
	const char *grp = facets ? "facets" : "mesh", *tags = facets ? "facet_tags" : "cell_tags";
	const char *base = facets ? "facets" : "heart";

	if (twin_export_open(err, &o, dir, facets ? "facets.xdmf" : "heart.xdmf") != 0)
		return -1;
	fprintf(o.f, "<?xml version=\"1.0\"?>\n<!-- dcm2twin twin-export: lengths in mm -->\n"
		"<Xdmf Version=\"3.0\">\n  <Domain>\n"
		"    <Grid Name=\"%s\" GridType=\"Uniform\">\n", facets ? "facet_tags" : "mesh");
	information(o.f, facets ? m->surfaces : m->regions, facets ? m->n_surfaces : m->n_regions,
		    facets ? 2 : 3);
	fprintf(o.f, "      <Topology TopologyType=\"%s\" NumberOfElements=\"%zu\" NodesPerElement=\"%d\">\n"
		"        <DataItem Dimensions=\"%zu %d\" NumberType=\"UInt\" Precision=\"4\" Format=\"HDF\">%s.h5:/%s/topology</DataItem>\n"
		"      </Topology>\n"
		"      <Geometry GeometryType=\"XYZ\">\n"
		"        <DataItem Dimensions=\"%zu 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">heart.h5:/mesh/geometry</DataItem>\n"
		"      </Geometry>\n"
		"      <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Cell\">\n"
		"        <DataItem Dimensions=\"%zu\" NumberType=\"Int\" Precision=\"4\" Format=\"HDF\">%s.h5:/%s/%s</DataItem>\n"
		"      </Attribute>\n",
		facets ? "Triangle" : "Tetrahedron", n, facets ? 3 : 4, n, facets ? 3 : 4, base, grp,
		m->n_nodes, tags, n, base, grp, tags);
	for (int c = 0; !facets && x->fibres && c < 3; c++)
		fprintf(o.f, "      <Attribute Name=\"%s\" AttributeType=\"Vector\" Center=\"Cell\">\n"
			"        <DataItem Dimensions=\"%zu 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">heart.h5:/mesh/%s</DataItem>\n"
			"      </Attribute>\n", fib_names[c], n, fib_names[c]);
	fprintf(o.f, "    </Grid>\n  </Domain>\n</Xdmf>\n");
	return twin_export_close(err, &o);
}

int twin_export_xdmf(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	if (write_h5(err, x, dir, 0) != 0 || write_h5(err, x, dir, 1) != 0)
		return -1;
	if (write_grid(err, x, dir, 0) != 0 || write_grid(err, x, dir, 1) != 0)
		return -1;
	return 0;
}
