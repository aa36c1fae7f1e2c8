/*
 * The twin-export writers on a two-tetrahedron mesh whose every id is known:
 * tet 1 (myocardium) and tet 2 (LV blood) share the endocardium; tet 1
 * carries the epicardium, tet 2 the mitral and aortic valves.
 */
#include "twin_test.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <hdf5.h>

#include "../../export/export.h"
#include "../../export/fibres.h"
#include "files.h"
#include "msh.h"
#include "xml.h"

struct fixture {
	char *dir;
	struct twin_err err;
	struct twin_tetmesh *mesh;
	struct twin_export x;
	char path[4096];
};

static const double xyz[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1 };
static const uint32_t tets[] = { 0, 1, 2, 3, 1, 2, 3, 4 };
static const int32_t regions[] = { 1, 3 };
/* endocardium listed in the blood tet's order, so the side rule must pick tet 1 */
static const uint32_t tris[] = { 3, 2, 1, 0, 2, 1, 1, 2, 4, 2, 3, 4 };
static const int32_t tags[] = { 1, 2, 3, 4 };

/* The mesh above; ntris of its triangles (the first ones). */
static struct twin_tetmesh *make_mesh(size_t ntris)
{
	static const char *const names[] = { "endocardium_lv", "epicardium", "mitral_valve", "aortic_valve" };
	struct twin_err err;
	struct twin_tetmesh *m;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 5, 2, ntris);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->tets, tets, sizeof(tets));
	memcpy(m->tet_region, regions, sizeof(regions));
	memcpy(m->tris, tris, 3 * ntris * sizeof(*tris));
	memcpy(m->tri_surface, tags, ntris * sizeof(*tags));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 1, "heart_myocardium"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	for (size_t i = 0; i < ntris; i++)
		assert_ok(err, twin_tetmesh_set_surface_name(&err, m, tags[i], names[i]));
	return m;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = twin_test_tmpdir();
	twin_err_init(&fx->err);
	fx->mesh = make_mesh(4);
	assert_ok(fx->err, twin_export_init(&fx->err, &fx->x, fx->mesh));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_export_release(&fx->x);
	twin_tetmesh_free(fx->mesh);
	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static const char *at(struct fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
	return fx->path;
}

/* The text of dir/name (free). */
static char *slurp(struct fixture *fx, const char *name)
{
	size_t len;

	return twin_test_read_file(at(fx, name), &len);
}

static void assert_has(const char *text, const char *want)
{
	if (!text)
		fail_msg("want '%s' in a file that was not read", want);
	else if (!strstr(text, want))
		fail_msg("want '%s' in:\n%.2000s", want, text);
}

static const struct twin_export_target *target(const char *name)
{
	size_t n, i;
	const struct twin_export_target *t = twin_export_targets(&n);

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	fail_msg("no target '%s'", name);
	return NULL;
}

static void test_targets_match_the_setting(void **state)
{
	static const char *const want[] = { "vtu", "svmp", "abaqus", "febio", "opencarp", "openfoam", "xdmf", "msh22" };
	size_t n, i;
	const struct twin_export_target *t = twin_export_targets(&n);

	(void)state;
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_string_equal(t[i].name, want[i]);
		assert_non_null(t[i].write);
	}
}

static void test_side_prefers_the_myocardium(void **state)
{
	struct fixture *fx = *state;
	uint32_t tet;
	uint8_t face;

	twin_export_side(&fx->x, 0, TWIN_LABEL_WALL, &tet, &face);
	assert_int_equal(tet, 0);
	assert_int_equal(face, 0); /* opposite node 0 */
	twin_export_side(&fx->x, 0, TWIN_LABEL_BLOOD, &tet, &face);
	assert_int_equal(tet, 1);
	assert_int_equal(face, 3); /* opposite node 4, the 4th of tet 2 */
}

static void test_init_rejects_a_stray_triangle(void **state)
{
	struct fixture *fx = *state;
	struct twin_export x;
	struct twin_err err;

	fx->mesh->tris[0] = 4; /* (4, 0, 1) is a face of neither tetrahedron */
	fx->mesh->tris[1] = 0;
	twin_err_init(&err);
	assert_int_equal(twin_export_init(&err, &x, fx->mesh), -1);
	assert_err(err, TWIN_EINPUT, "triangle");
}

static void test_abaqus(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_abaqus(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.inp");
	assert_has(t, "*NODE, NSET=NALL\n1, 0, 0, 0\n2, 1, 0, 0\n");
	assert_has(t, "*ELEMENT, TYPE=C3D4, ELSET=heart_myocardium\n1, 1, 2, 3, 4\n");
	assert_has(t, "*ELEMENT, TYPE=C3D4, ELSET=heart_ventricle_left\n2, 2, 3, 4, 5\n");
	assert_has(t, "*NSET, NSET=endocardium_lv\n2, 3, 4\n");
	/* face 2-3-4 of element 1 is S3; 1-2-3 is S1; element 2's 2-3-5 is S2 */
	assert_has(t, "*SURFACE, TYPE=ELEMENT, NAME=endocardium_lv\n1, S3\n");
	assert_has(t, "*SURFACE, TYPE=ELEMENT, NAME=epicardium\n1, S1\n");
	assert_has(t, "*SURFACE, TYPE=ELEMENT, NAME=mitral_valve\n2, S2\n");
	assert_has(t, "*SURFACE, TYPE=ELEMENT, NAME=aortic_valve\n2, S3\n");
	free(t);
}

static void test_msh22(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_msh22(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.msh");
	/* surface tags offset by 100: gmshToFoam would take tag 1 for both names */
	assert_has(t, "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$PhysicalNames\n6\n2 101 \"endocardium_lv\"\n");
	assert_has(t, "3 3 \"heart_ventricle_left\"\n$EndPhysicalNames\n$Nodes\n5\n1 0 0 0\n");
	assert_has(t, "$Elements\n6\n1 2 2 101 101 4 3 2\n");
	assert_has(t, "6 4 2 3 3 2 3 4 5\n$EndElements\n");
	free(t);
}

static void test_opencarp_micrometres_zero_based(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_opencarp(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.pts");
	assert_has(t, "5\n0 0 0\n1000 0 0\n0 1000 0\n0 0 1000\n1000 1000 1000\n");
	free(t);
	t = slurp(fx, "heart.elem");
	assert_string_equal(t, "2\nTt 0 1 2 3 1\nTt 1 2 3 4 3\n");
	free(t);
	t = slurp(fx, "heart.endocardium_lv.surf");
	assert_string_equal(t, "1\nTr 1 2 3\n");
	free(t);
	t = slurp(fx, "heart.mitral_valve.vtx");
	assert_string_equal(t, "3\nintra\n1\n2\n4\n");
	free(t);
}

static void test_openfoam_patches(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_openfoam(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "constant/polyMesh/boundary");
	/* one blood cell: four boundary faces, one per patch */
	assert_has(t, "4\n(\n    endocardium_lv\n    {\n        type            wall;\n");
	assert_has(t, "    mitral_valve\n    {\n        type            patch;\n        nFaces          1;\n        startFace       1;\n");
	assert_has(t, "    wall_untagged\n    {\n        type            wall;\n        inGroups        1(wall);\n        nFaces          1;\n        startFace       3;\n");
	free(t);
	t = slurp(fx, "constant/polyMesh/owner");
	assert_has(t, "note        \"nPoints:4  nCells:1  nFaces:4  nInternalFaces:0\"");
	free(t);
	t = slurp(fx, "constant/polyMesh/cellZones");
	assert_has(t, "1\n(\nheart_ventricle_left\n{\n    type cellZone;\ncellLabels      List<label> 1\n(");
	free(t);
	t = slurp(fx, "0/U");
	assert_has(t, "mitral_valve { type flowRateInletVelocity; volumetricFlowRate constant 8.33e-05;");
	assert_has(t, "aortic_valve { type zeroGradient; }");
	free(t);
	t = slurp(fx, "0/p");
	assert_has(t, "aortic_valve { type fixedValue; value uniform 0; }");
	free(t);
}

static void test_openfoam_needs_an_inlet(void **state)
{
	struct fixture *fx = *state;
	struct twin_tetmesh *m = make_mesh(2); /* no valves */
	struct twin_export x;

	assert_ok(fx->err, twin_export_init(&fx->err, &x, m));
	assert_int_equal(twin_export_target_write(&fx->err, target("openfoam"), &x, fx->dir), -1);
	assert_err(fx->err, TWIN_EINPUT, "the blood pool has no inlet (inlet_* cap, or a mitral or tricuspid valve on its boundary) and no outlet");
	assert_false(twin_path_exists(at(fx, "openfoam")));
	twin_export_release(&x);
	twin_tetmesh_free(m);
}

/* A second pool, a lone RV tetrahedron far away, has no opening of its own. */
static void test_openfoam_each_pool_needs_openings(void **state)
{
	static const double far[] = { 10, 0, 0, 11, 0, 0, 10, 1, 0, 10, 0, 1 };
	struct fixture *fx = *state;
	struct twin_tetmesh *m;
	struct twin_export x;
	struct twin_err err;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 9, 3, 4);
	assert_ptr_ok(err, m);
	memcpy(m->xyz, xyz, sizeof(xyz));
	memcpy(m->xyz + 15, far, sizeof(far));
	memcpy(m->tets, tets, sizeof(tets));
	m->tets[8] = 5;
	m->tets[9] = 6;
	m->tets[10] = 7;
	m->tets[11] = 8;
	memcpy(m->tet_region, regions, sizeof(regions));
	m->tet_region[2] = 5;
	memcpy(m->tris, tris, sizeof(tris));
	memcpy(m->tri_surface, tags, sizeof(tags));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 1, "heart_myocardium"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 5, "heart_ventricle_right"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 1, "endocardium_lv"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 2, "epicardium"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 3, "mitral_valve"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, m, 4, "aortic_valve"));
	assert_ok(err, twin_export_init(&err, &x, m));
	assert_int_equal(twin_export_openfoam(&fx->err, &x, fx->dir), -1);
	assert_err(fx->err, TWIN_EINPUT, "the blood pool around 'heart_ventricle_right' has no inlet (inlet_* cap, or a mitral or tricuspid valve on its boundary) and no outlet");
	twin_export_release(&x);
	twin_tetmesh_free(m);
}

static void test_openfoam_needs_blood(void **state)
{
	struct fixture *fx = *state;
	struct twin_tetmesh *m = make_mesh(2);
	struct twin_export x;

	m->tet_region[1] = 1;
	assert_ok(fx->err, twin_export_init(&fx->err, &x, m));
	assert_int_equal(twin_export_openfoam(&fx->err, &x, fx->dir), -1);
	assert_err(fx->err, TWIN_EINPUT, "no blood region");
	twin_export_release(&x);
	twin_tetmesh_free(m);
}

static void test_vtu_and_svmp_ids(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *t;

	assert_ok(fx->err, twin_export_vtu(&fx->err, &fx->x, fx->dir));
	t = twin_test_read_file(at(fx, "heart.vtu"), &len);
	assert_has(t, "<VTKFile type=\"UnstructuredGrid\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">");
	assert_has(t, "Name=\"heart_ventricle_left\" NumberOfTuples=\"1\" format=\"ascii\">3</DataArray>");
	assert_has(t, "<Piece NumberOfPoints=\"5\" NumberOfCells=\"2\">");
	free(t);
	t = twin_test_read_file(at(fx, "surfaces/endocardium_lv.vtp"), &len);
	assert_has(t, "<Piece NumberOfPoints=\"3\" NumberOfVerts=\"0\" NumberOfLines=\"0\" NumberOfStrips=\"0\" NumberOfPolys=\"1\">");
	free(t);
	assert_ok(fx->err, twin_export_svmp(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "solver.xml");
	assert_has(t, "<Add_face name=\"mitral_valve\">\n    <Face_file_path> mesh-complete/mesh-surfaces/mitral_valve.vtp </Face_file_path>");
	free(t);
	t = twin_test_read_file(at(fx, "mesh-complete/mesh-surfaces/endocardium_lv.vtp"), &len);
	assert_has(t, "Name=\"GlobalElementID\" format=\"appended\" offset=\"");
	/* appended: GlobalNodeID 4 3 2 (first seen in triangle 3-2-1), ModelFaceID 1, GlobalElementID 1 (the myocardium) */
	{
		const char *d = strstr(t, "<AppendedData encoding=\"raw\">\n   _") + 34;
		int32_t v[3];
		uint64_t bytes;

		memcpy(&bytes, d, 8);
		assert_int_equal(bytes, 12);
		memcpy(v, d + 8, 12);
		assert_int_equal(v[0], 4);
		assert_int_equal(v[1], 3);
		assert_int_equal(v[2], 2);
		memcpy(&v[0], d + 20 + 8, 4);
		assert_int_equal(v[0], 1);
		memcpy(&v[0], d + 32 + 8, 4);
		assert_int_equal(v[0], 1);
	}
	free(t);
}

static void test_xdmf_datasets(void **state)
{
	struct fixture *fx = *state;
	hsize_t dims[2];
	hid_t f, d, s;
	int32_t tags_read[4];
	char *t;

	assert_ok(fx->err, twin_export_xdmf(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "facets.xdmf");
	assert_has(t, "<map key=\"mitral_valve\" dim=\"2\">3</map>");
	assert_has(t, "<Topology TopologyType=\"Triangle\" NumberOfElements=\"4\" NodesPerElement=\"3\">");
	free(t);
	f = H5Fopen(at(fx, "facets.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	d = H5Dopen2(f, "/facets/facet_tags", H5P_DEFAULT);
	assert_true(d >= 0);
	s = H5Dget_space(d);
	assert_int_equal(H5Sget_simple_extent_dims(s, dims, NULL), 1);
	assert_int_equal(dims[0], 4);
	assert_true(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, tags_read) >= 0);
	assert_memory_equal(tags_read, tags, sizeof(tags_read));
	H5Sclose(s);
	H5Dclose(d);
	H5Fclose(f);
}

static void test_febio_structure(void **state)
{
	struct fixture *fx = *state;
	xmlDoc *doc;
	char *t;

	assert_ok(fx->err, twin_export_febio(&fx->err, &fx->x, fx->dir));
	doc = twin_xml_load(&fx->err, "febio", at(fx, "heart.feb"));
	assert_ptr_ok(fx->err, doc);
	xmlFreeDoc(doc);
	t = slurp(fx, "heart.feb");
	assert_has(t, "<febio_spec version=\"4.0\">");
	assert_has(t, "<Elements type=\"tet4\" name=\"heart_ventricle_left\">\n   <elem id=\"2\">2,3,4,5</elem>");
	assert_has(t, "<Surface name=\"endocardium_lv\">\n   <tri3 id=\"1\">2,3,4</tri3>");
	assert_has(t, "<NodeSet name=\"aortic_valve\">3,4,5</NodeSet>");
	assert_has(t, "<SolidDomain name=\"heart_myocardium\" mat=\"heart_myocardium\"/>");
	free(t);
}

/* ---- fibres ------------------------------------------------------------------ */

/* Tet 1 (myocardium) has a known frame; tet 2 (blood) none, as twin_fibres_compute gives it. */
static const double fibres[18] = {
	0.6, 0.8, 0, -0.8, 0.6, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The Float64 tuples of the appended array name of a VTK XML file: checks count and values. */
static void assert_vtk_array(const char *text, size_t len, const char *name, const double *want,
			     size_t n)
{
	char key[160];
	const char *h, *data;
	unsigned long long off;
	uint64_t bytes;
	double v;

	snprintf(key, sizeof(key), "<DataArray type=\"Float64\" Name=\"%s\" NumberOfComponents=\"3\" format=\"appended\" offset=\"",
		 name);
	h = strstr(text, key);
	if (!h)
		fail_msg("no Float64 vector array '%s'", name);
	off = strtoull(h + strlen(key), NULL, 10);
	data = strstr(text, "<AppendedData encoding=\"raw\">\n   _") + 34 + off;
	assert_true((size_t)(data - text) + 8 + n * 8 <= len);
	memcpy(&bytes, data, 8);
	assert_int_equal(bytes, n * 8);
	for (size_t i = 0; i < n; i++) {
		memcpy(&v, data + 8 + 8 * i, 8);
		if (v != want[i])
			fail_msg("'%s'[%zu] is %g, want %g", name, i, v, want[i]);
	}
}

/* Component c (0 fibre, 1 sheet, 2 normal) of both tetrahedra. */
static void part(double out[6], int c)
{
	for (int i = 0; i < 2; i++)
		memcpy(out + 3 * i, fibres + 9 * i + 3 * c, 3 * sizeof(double));
}

static void test_fibres_opencarp_lon(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_opencarp(&fx->err, &fx->x, fx->dir));
	assert_false(twin_path_exists(at(fx, "heart.lon")));
	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_opencarp(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.lon");
	/* one line per element of heart.elem: fibre and sheet */
	assert_string_equal(t, "2\n0.6 0.8 0 -0.8 0.6 0\n0 0 0 0 0 0\n");
	free(t);
}

static void test_fibres_abaqus_orientation(void **state)
{
	struct fixture *fx = *state;
	char *t;

	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_abaqus(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.inp");
	/* the myocardium's element 1 only; the default line first */
	assert_has(t, "*DISTRIBUTION TABLE, NAME=FIBRE_AXES_TABLE\nCOORD3D, COORD3D\n"
		   "*DISTRIBUTION, NAME=FIBRE_AXES, LOCATION=ELEMENT, TABLE=FIBRE_AXES_TABLE\n"
		   ", 1., 0., 0., 0., 1., 0.\n1, 0.6, 0.8, 0, -0.8, 0.6, 0\n"
		   "*ORIENTATION, NAME=FIBRES, SYSTEM=RECTANGULAR\nFIBRE_AXES\n");
	free(t);
}

static void test_fibres_febio_mat_axis(void **state)
{
	struct fixture *fx = *state;
	xmlDoc *doc;
	char *t;

	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_febio(&fx->err, &fx->x, fx->dir));
	doc = twin_xml_load(&fx->err, "febio", at(fx, "heart.feb"));
	assert_ptr_ok(fx->err, doc);
	xmlFreeDoc(doc);
	t = slurp(fx, "heart.feb");
	assert_has(t, "</MeshDomains>\n <MeshData>\n  <ElementData type=\"mat_axis\" elem_set=\"heart_myocardium\">\n"
		   "   <elem lid=\"1\"><a>0.6,0.8,0</a><d>-0.8,0.6,0</d></elem>\n  </ElementData>\n </MeshData>\n");
	assert_null(strstr(t, "elem_set=\"heart_ventricle_left\""));
	free(t);
}

static void test_fibres_vtu_and_svmp(void **state)
{
	struct fixture *fx = *state;
	double want[6];
	size_t len;
	char *t;

	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_vtu(&fx->err, &fx->x, fx->dir));
	t = twin_test_read_file(at(fx, "heart.vtu"), &len);
	part(want, 0);
	assert_vtk_array(t, len, "fibre", want, 6);
	part(want, 1);
	assert_vtk_array(t, len, "sheet", want, 6);
	part(want, 2);
	assert_vtk_array(t, len, "sheet_normal", want, 6);
	free(t);
	assert_ok(fx->err, twin_export_svmp(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "solver.xml");
	assert_has(t, "  <Fiber_direction_file_path> fibres/fibre.vtu </Fiber_direction_file_path>\n"
		   "  <Fiber_direction_file_path> fibres/sheet.vtu </Fiber_direction_file_path>\n"
		   "  <Mesh_scale_factor>");
	free(t);
	/* the volume does not carry them a second time */
	t = slurp(fx, "mesh-complete/mesh-complete.mesh.vtu");
	assert_null(strstr(t, "Name=\"fibre\""));
	assert_null(strstr(t, "Name=\"sheet_normal\""));
	free(t);
	t = twin_test_read_file(at(fx, "fibres/fibre.vtu"), &len);
	part(want, 0);
	assert_vtk_array(t, len, "FIB_DIR", want, 6);
	free(t);
	t = twin_test_read_file(at(fx, "fibres/sheet.vtu"), &len);
	part(want, 1);
	assert_vtk_array(t, len, "FIB_DIR", want, 6);
	free(t);
}

static void test_fibres_xdmf(void **state)
{
	static const char *const names[3] = { "fibre", "sheet", "sheet_normal" };
	struct fixture *fx = *state;
	double got[6], want[6];
	char *t, set[64], attr[512];

	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_xdmf(&fx->err, &fx->x, fx->dir));
	t = slurp(fx, "heart.xdmf");
	for (int c = 0; c < 3; c++) {
		hsize_t dims[2];
		hid_t f, d, s;

		snprintf(attr, sizeof(attr), "<Attribute Name=\"%s\" AttributeType=\"Vector\" Center=\"Cell\">\n"
			 "        <DataItem Dimensions=\"2 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">heart.h5:/mesh/%s</DataItem>",
			 names[c], names[c]);
		assert_has(t, attr);
		snprintf(set, sizeof(set), "/mesh/%s", names[c]);
		f = H5Fopen(at(fx, "heart.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
		assert_true(f >= 0);
		d = H5Dopen2(f, set, H5P_DEFAULT);
		assert_true(d >= 0);
		s = H5Dget_space(d);
		assert_int_equal(H5Sget_simple_extent_dims(s, dims, NULL), 2);
		assert_int_equal(dims[0], 2);
		assert_int_equal(dims[1], 3);
		assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
		part(want, c);
		assert_memory_equal(got, want, sizeof(got));
		H5Sclose(s);
		H5Dclose(d);
		H5Fclose(f);
	}
	free(t);
}

static void test_fibres_readme(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_export_target_write(&fx->err, target("vtu"), &fx->x, fx->dir));
	t = slurp(fx, "vtu/README.txt");
	assert_has(t, "Fibres: none; the mesh has no myocardium or twin-export could not compute them");
	free(t);
	fx->x.fibres = fibres;
	assert_ok(fx->err, twin_export_target_write(&fx->err, target("vtu"), &fx->x, fx->dir));
	t = slurp(fx, "vtu/README.txt");
	assert_has(t, "Fibres (fibre, sheet, sheet normal per tetrahedron, rule-based, LDRB): cell arrays fibre, sheet and sheet_normal");
	free(t);
	assert_ok(fx->err, twin_export_target_write(&fx->err, target("msh22"), &fx->x, fx->dir));
	t = slurp(fx, "msh22/README.txt");
	assert_has(t, "Fibres: none; this format has no place for them.");
	free(t);
	assert_true(twin_export_fibre_region(1) && twin_export_fibre_region(8));
	assert_false(twin_export_fibre_region(3));
}

/* The 6 numbers after a line's first n_skip fields (separated by sep), or -1. */
static int six(const char *p, int n_skip, const char *sep, double out[6])
{
	char *end;

	for (int k = 0; k < n_skip; k++) {
		p = strstr(p, sep);
		if (!p)
			return -1;
		p += strlen(sep);
	}
	for (int c = 0; c < 6; c++) {
		out[c] = strtod(p, &end);
		if (end == p)
			return -1;
		p = end + strspn(end, ", \t");
	}
	return 0;
}

static void assert_close6(const double *got, const double *want, size_t tet, const char *what)
{
	for (int c = 0; c < 6; c++)
		/* half a unit of the last decimal, and the rounding of v * 10^decimals */
		if (!(fabs(got[c] - want[c]) <= 0.5 * pow(10, -TWIN_EXPORT_FIBRE_DECIMALS) * (1 + 1e-9)))
			fail_msg("%s: tetrahedron %zu, number %d is %.10g, want %.10g", what, tet, c,
				 got[c], want[c]);
}

/*
 * gmsh meshes tests/data/export/lv.geo, twin_fibres_compute gives its
 * fibres, and every writer writes exactly those: vtu and xdmf bit for bit,
 * heart.lon, the Abaqus distribution and FEBio's mat_axis to
 * TWIN_EXPORT_FIBRE_DECIMALS.
 */
static void test_fibres_of_twin_fibres_compute(void **state)
{
	struct fixture *fx = *state;
	struct twin_tetmesh *m = NULL;
	struct twin_fibres_opts o;
	struct twin_export x;
	double *fib = NULL, *split = NULL, v[6];
	char cmd[8192], *t, *p;
	size_t len, i, n_myo = 0, lid;

	if (system("gmsh --version >/dev/null 2>&1") != 0) {
		printf("# SKIP the gmsh program is absent\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "gmsh -3 -nt 1 -format msh41 tests/data/export/lv.geo -o '%s' >/dev/null 2>&1",
		 at(fx, "lv.msh"));
	assert_int_equal(system(cmd), 0);
	m = twin_msh_load(&fx->err, at(fx, "lv.msh"));
	assert_ptr_ok(fx->err, m);
	twin_fibres_opts_init(&o);
	assert_ok(fx->err, twin_fibres_compute(&fx->err, m, &o, &fib, NULL));
	assert_ok(fx->err, twin_export_init(&fx->err, &x, m));
	x.fibres = fib;
	assert_ok(fx->err, twin_export_fibre_arrays(&fx->err, &x, &split));
	for (i = 0; i < m->n_tets; i++)
		n_myo += twin_export_fibre_region(m->tet_region[i]);
	assert_true(n_myo > 0 && n_myo < m->n_tets);

	assert_ok(fx->err, twin_export_vtu(&fx->err, &x, fx->dir));
	t = twin_test_read_file(at(fx, "heart.vtu"), &len);
	assert_vtk_array(t, len, "fibre", split, 3 * m->n_tets);
	assert_vtk_array(t, len, "sheet", split + 3 * m->n_tets, 3 * m->n_tets);
	assert_vtk_array(t, len, "sheet_normal", split + 6 * m->n_tets, 3 * m->n_tets);
	free(t);

	assert_ok(fx->err, twin_export_xdmf(&fx->err, &x, fx->dir));
	{
		double *got = malloc(3 * m->n_tets * sizeof(*got));
		hid_t f = H5Fopen(at(fx, "heart.h5"), H5F_ACC_RDONLY, H5P_DEFAULT), d;

		assert_non_null(got);
		assert_true(f >= 0);
		d = H5Dopen2(f, "/mesh/sheet_normal", H5P_DEFAULT);
		assert_true(d >= 0);
		assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
		assert_memory_equal(got, split + 6 * m->n_tets, 3 * m->n_tets * sizeof(*got));
		H5Dclose(d);
		H5Fclose(f);
		free(got);
	}

	/* heart.lon: one line per element */
	assert_ok(fx->err, twin_export_opencarp(&fx->err, &x, fx->dir));
	t = slurp(fx, "heart.lon");
	assert_true(strncmp(t, "2\n", 2) == 0);
	for (i = 0, p = t + 2; i < m->n_tets; i++, p = strchr(p, '\n') + 1) {
		assert_int_equal(six(p, 0, " ", v), 0);
		assert_close6(v, fib + 9 * i, i, "heart.lon");
	}
	assert_string_equal(p, "");
	free(t);

	/* Abaqus: "id, 6 numbers" for each myocardium element, in mesh order */
	assert_ok(fx->err, twin_export_abaqus(&fx->err, &x, fx->dir));
	t = slurp(fx, "heart.inp");
	p = strstr(t, ", 1., 0., 0., 0., 1., 0.\n");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	for (i = 0; i < m->n_tets; i++) {
		if (!twin_export_fibre_region(m->tet_region[i]))
			continue;
		assert_int_equal(strtoul(p, NULL, 10), i + 1);
		assert_int_equal(six(p, 1, ", ", v), 0);
		assert_close6(v, fib + 9 * i, i, "heart.inp");
		p = strchr(p, '\n') + 1;
	}
	assert_true(strncmp(p, "*ORIENTATION, NAME=FIBRES", 25) == 0);
	free(t);

	/* FEBio: lid counts the myocardium's elements in mesh order */
	assert_ok(fx->err, twin_export_febio(&fx->err, &x, fx->dir));
	t = slurp(fx, "heart.feb");
	p = strstr(t, "<ElementData type=\"mat_axis\" elem_set=\"heart_myocardium\">");
	assert_non_null(p);
	for (i = 0, lid = 0; i < m->n_tets; i++) {
		char want[64];

		if (m->tet_region[i] != TWIN_FIBRES_LV_WALL)
			continue;
		snprintf(want, sizeof(want), "<elem lid=\"%zu\"><a>", ++lid);
		p = strstr(p, want);
		assert_non_null(p);
		p += strlen(want);
		assert_int_equal(sscanf(p, "%lf,%lf,%lf</a><d>%lf,%lf,%lf</d>", &v[0], &v[1], &v[2],
					&v[3], &v[4], &v[5]), 6);
		assert_close6(v, fib + 9 * i, i, "heart.feb");
	}
	assert_int_equal(lid, n_myo);
	free(t);

	free(split);
	free(fib);
	twin_export_release(&x);
	twin_tetmesh_free(m);
}

static void test_numbers(void **state)
{
	static const struct {
		double v;
		int decimals;
		const char *want;
	} cases[] = {
		{ 0, 6, "0" }, { -0.0000001, 6, "0" }, { 12.5, 6, "12.5" }, { -3, 6, "-3" },
		{ 0.000001, 6, "0.000001" }, { -1234.5678915, 6, "-1234.567892" },
		{ 1e300, 6, "1.0000000000000001e+300" }, { 0.125, 2, "0.13" }, { 99.9999999, 6, "100" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *end = twin_export_put_fixed(buf, cases[i].v, cases[i].decimals);

		assert_string_equal(buf, cases[i].want);
		assert_ptr_equal(end, buf + strlen(cases[i].want));
	}
	twin_export_put_u(buf, UINT64_MAX);
	assert_string_equal(buf, "18446744073709551615");
}

/* The node id table gives put_u's text of every id plus its base. */
static void test_put_ids(void **state)
{
	struct twin_export_ids t = { NULL, 0 };
	struct twin_err err;
	uint32_t ids[3] = { 0, 9, 99999 };
	char buf[80], want[24];

	(void)state;
	twin_err_init(&err);
	for (uint32_t base = 0; base < 2; base++) {
		assert_ok(err, twin_export_ids_init(&err, &t, 100000, base));
		for (uint32_t i = 0; i < 100000; i++) {
			char *end = twin_export_put_ids(buf, &t, &i, 1, ",");

			twin_export_put_u(want, (uint64_t)i + base);
			assert_string_equal(buf, want);
			assert_ptr_equal(end, buf + strlen(want));
		}
		twin_export_put_ids(buf, &t, ids, 3, ", ");
		assert_string_equal(buf, base ? "1, 10, 100000" : "0, 9, 99999");
		twin_export_ids_release(&t);
	}
}

/*
 * Every number read back is v to within half a unit of its last decimal
 * (and the rounding of v * 10^decimals); where |v| * 10^decimals is too
 * large for the fixed form, %.17g gives v back exactly.
 */
static void test_fixed_reads_back(void **state)
{
	static const double values[] = {
		0, -0.0, 1, -1, 2, 10, 100, 12345678, -987654321, 0.5, -0.5, 0.25, 1.0 / 3, -2.0 / 3,
		0.1, 0.2, 0.3, 1e-3, 1e-6, 4.9e-7, 5.1e-7, 1e-9, -1e-9, 1e-12, 4.94e-324, -1e-300,
		123.456789012345, -45.000000499, 99.99999995, 3.14159265358979, 1e9, 4.5e9,
		-4.5e9, 1e12, 1e15, 4.6e17, 1e18, 1e19, 1e300, -1.7976931348623157e308,
		0.999999999, -0.999999999, 0.12345678949, 2147483647.5, -2147483648.5,
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		for (int d = 0; d <= 9; d++) {
			double v = values[i], scaled = fabs(v) * pow(10, d), back;
			char *end = twin_export_put_fixed(buf, v, d), *stop;

			assert_true(end > buf && (size_t)(end - buf) < 32);
			assert_int_equal(*end, '\0');
			back = strtod(buf, &stop);
			assert_ptr_equal(stop, end);
			if (scaled < 4.6e18) {
				if (fabs(back - v) > 0.5 * pow(10, -d) * (1 + 1e-9) + fabs(v) * 1e-15)
					fail_msg("%.17g with %d decimals gave '%s'", v, d, buf);
				/* no exponent, no trailing zeros, no "-0" */
				assert_null(strchr(buf, 'e'));
				if (strchr(buf, '.'))
					assert_true(end[-1] != '0' && end[-1] != '.');
				assert_false(strcmp(buf, "-0") == 0);
			} else if (back != v) {
				fail_msg("%.17g with %d decimals gave '%s', not itself", v, d, buf);
			}
		}
}

/* Random doubles of every size, half a million of them, check the same. */
static void test_fixed_random(void **state)
{
	uint64_t s = 88172645463325252ull;
	char buf[64], want[64];

	(void)state;
	for (int i = 0; i < 500000; i++) {
		double v, back;
		int d = i % 10;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v = ldexp((double)(s >> 11), (int)(s % 64) - 80) * (s & 1 ? -1 : 1);
		twin_export_put_fixed(buf, v, d);
		back = strtod(buf, NULL);
		if (fabs(back - v) > 0.5 * pow(10, -d) * (1 + 1e-9) + fabs(v) * 1e-15)
			fail_msg("%.17g with %d decimals gave '%s'", v, d, buf);
		/*
		 * off a tie, and while v * 10^d is exact enough (below 2^50), the
		 * text is printf's with trailing zeros dropped
		 */
		if (fabs(v) * pow(10, d) > 1e15)
			continue;
		snprintf(want, sizeof(want), "%.*f", d, v);
		if (strchr(want, '.')) {
			char *e = want + strlen(want);

			while (e[-1] == '0')
				*--e = '\0';
			if (e[-1] == '.')
				e[-1] = '\0';
		}
		if (strcmp(want, "-0") == 0)
			strcpy(want, "0");
		if (strcmp(buf, want) != 0) {
			double f = fabs(v) * pow(10, d);

			if (fabs(f - floor(f) - 0.5) > 1e-6)
				fail_msg("%.17g with %d decimals gave '%s', printf '%s'", v, d, buf, want);
		}
	}
}

static void test_integers(void **state)
{
	static const struct {
		uint64_t v;
		const char *want;
	} u[] = {
		{ 0, "0" }, { 9, "9" }, { 10, "10" }, { 99, "99" }, { 100, "100" }, { 999, "999" },
		{ 1000, "1000" }, { 9999, "9999" }, { 10000, "10000" }, { 4294967295u, "4294967295" },
		{ 4294967296u, "4294967296" }, { 9999999999u, "9999999999" },
		{ 10000000000u, "10000000000" }, { UINT64_MAX, "18446744073709551615" },
	};
	static const struct {
		int64_t v;
		const char *want;
	} s[] = {
		{ 0, "0" }, { -1, "-1" }, { 1, "1" }, { INT32_MIN, "-2147483648" },
		{ INT32_MAX, "2147483647" }, { (int64_t)INT32_MIN - 1, "-2147483649" },
		{ INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		char *end = twin_export_put_u(buf, u[i].v);

		assert_string_equal(buf, u[i].want);
		assert_ptr_equal(end, buf + strlen(u[i].want));
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		char *end = twin_export_put_i(buf, s[i].v);

		assert_string_equal(buf, s[i].want);
		assert_ptr_equal(end, buf + strlen(s[i].want));
	}
	/* every integer below 10^6 and around each power of ten */
	for (uint64_t v = 0; v < 1000000; v++) {
		char want[32];

		twin_export_put_u(buf, v);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		assert_string_equal(buf, want);
	}
	for (uint64_t p = 10; p < UINT64_MAX / 10; p *= 10)
		for (uint64_t v = p - 2; v <= p + 2; v++) {
			char want[32];

			twin_export_put_u(buf, v);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
			assert_string_equal(buf, want);
		}
}

static char *number_line(void *ctx, size_t i, char *p)
{
	(void)ctx;
	if (i % 7 == 3)
		return p; /* an empty line is allowed */
	p = twin_export_put_u(p, i);
	*p++ = '\n';
	return p;
}

static int collect(void *ctx, const char *buf, size_t len)
{
	struct { char *text; size_t len; } *c = ctx;

	memcpy(c->text + c->len, buf, len);
	c->len += len;
	return 0;
}

static int refuse(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static void test_lines_keep_their_order(void **state)
{
	struct { char *text; size_t len; } c = { NULL, 0 };
	struct twin_err err;
	size_t n = 100000, i;
	char *p, *want = malloc(n * 8);

	(void)state;
	assert_non_null(want);
	c.text = malloc(n * 8);
	assert_non_null(c.text);
	for (i = 0, p = want; i < n; i++)
		p = number_line(NULL, i, p);
	twin_err_init(&err);
	assert_ok(err, twin_export_lines(&err, n, number_line, NULL, collect, &c));
	assert_int_equal(c.len, (size_t)(p - want));
	assert_memory_equal(c.text, want, c.len);
	assert_int_equal(twin_export_lines(&err, n, number_line, NULL, refuse, NULL), -1);
	free(c.text);
	free(want);
}

/* No folder but the target's is left beside it. */
static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

static void test_target_folder_replaced_with_readme(void **state)
{
	struct fixture *fx = *state;
	char *t;

	assert_ok(fx->err, twin_mkdir_p(&fx->err, at(fx, "abaqus")));
	twin_test_write_file(at(fx, "abaqus/stale.inp"), "x", 1);
	assert_ok(fx->err, twin_export_target_write(&fx->err, target("abaqus"), &fx->x, fx->dir));
	assert_false(twin_path_exists(at(fx, "abaqus/stale.inp")));
	assert_int_equal(entries(fx->dir), 1);
	t = slurp(fx, "abaqus/README.txt");
	assert_has(t, "Units: millimetres.");
	assert_has(t, "  3 heart_ventricle_left 1\n");
	assert_has(t, "  3 mitral_valve valve 1\n");
	assert_has(t, "Files:\n  heart.inp\n");
	free(t);
	assert_ok(fx->err, twin_export_target_write(&fx->err, target("opencarp"), &fx->x, fx->dir));
	t = slurp(fx, "opencarp/README.txt");
	assert_has(t, "Units: micrometres.");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets_match_the_setting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_put_ids),
		cmocka_unit_test(test_fixed_reads_back),
		cmocka_unit_test(test_fixed_random),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_lines_keep_their_order),
		cmocka_unit_test_setup_teardown(test_side_prefers_the_myocardium, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects_a_stray_triangle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abaqus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msh22, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opencarp_micrometres_zero_based, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openfoam_patches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openfoam_needs_an_inlet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openfoam_each_pool_needs_openings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openfoam_needs_blood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vtu_and_svmp_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xdmf_datasets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_febio_structure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_folder_replaced_with_readme, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_opencarp_lon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_abaqus_orientation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_febio_mat_axis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_vtu_and_svmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_xdmf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_readme, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fibres_of_twin_fibres_compute, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
