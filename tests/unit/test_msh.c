#include "twin_test.h"

#include <math.h>

#include "files.h"
#include "msh.h"

/*
 * A hand-written ASCII file: sparse node tags in unsorted blocks, one block
 * with parametric coordinates, a point and a line element to skip, a
 * triangle on a surface entity without physical tag, an unused node, and
 * sections to skip before and after the mesh.
 * Sorted by tag the kept nodes are B(10) C(20) A(30) D(40) E(50); tet 5 is
 * (A B D C), negative, so it is reoriented to (A B C D).
 */
static const char tiny[] =
	"$MeshFormat\n4.1 0 8\n$EndMeshFormat\n"
	"$Comments\nanything, even $Nodes\n$EndComments\n"
	"$PhysicalNames\n4\n3 3 \"heart_ventricle_left\"\n3 1 \"heart_myocardium\"\n"
	"2 5 \"mitral_valve\"\n1 9 \"a line\"\n$EndPhysicalNames\n"
	"$Entities\n1 1 2 2\n"
	"1 0 0 0 0\n"
	"1 0 0 0 1 0 0 0 2 1 -2\n"
	"7 0 0 0 1 1 1 1 5 3 1 2 3\n"
	"9 0 0 0 1 1 1 0 0\n"
	"4 0 0 0 1 1 1 1 3 0\n"
	"8 0 0 0 1 1 1 1 1 0\n"
	"$EndEntities\n"
	"$Nodes\n3 6 10 60\n"
	"3 4 0 3\n30\n10\n60\n0 0 0\n1 0 0\n5 5 5\n"
	"2 7 1 2\n20\n40\n0 1 0 0.5 0.5\n0 0 1 0.25 0.75\n"
	"0 1 0 1\n50\n1 1 1\n"
	"$EndNodes\n"
	"$Elements\n6 6 1 6\n"
	"1 1 1 1\n1 30 10\n"
	"0 1 15 1\n2 50\n"
	"2 7 2 1\n3 10 20 40\n"
	"2 9 2 1\n4 30 10 20\n"
	"3 4 4 1\n5 30 10 40 20\n"
	"3 8 4 1\n6 10 20 40 50\n"
	"$EndElements\n"
	"$NodeData\n1\n\"x\"\n1\n0.0\n3\n0\n1\n1\n10 1.0\n$EndNodeData\n";

struct fx {
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dir = twin_test_tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	twin_test_rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Loads buf from memory and, written to dir/name, from the file; both must
 * agree: on the mesh, or on the error code and message. Returns the mesh
 * loaded from the file, and its error in *err.
 */
static struct twin_tetmesh *load_both(const char *dir, const char *name, const void *buf,
				      size_t len, struct twin_err *err, struct twin_msh_info *info)
{
	char path[4096];
	struct twin_err merr;
	struct twin_tetmesh *mm, *fm;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	twin_test_write_file(path, buf, len);
	twin_err_init(&merr);
	twin_err_init(err);
	mm = twin_msh_parse(&merr, path, buf, len, info);
	fm = twin_msh_load(err, path);
	if (!mm || !fm) {
		assert_null(mm);
		assert_null(fm);
		assert_int_equal(merr.code, err->code);
		assert_string_equal(merr.msg, err->msg);
		return NULL;
	}
	assert_int_equal(mm->n_nodes, fm->n_nodes);
	assert_int_equal(mm->n_tets, fm->n_tets);
	assert_memory_equal(mm->xyz, fm->xyz, 3 * fm->n_nodes * sizeof(double));
	assert_memory_equal(mm->tets, fm->tets, 4 * fm->n_tets * sizeof(uint32_t));
	twin_tetmesh_free(mm);
	return fm;
}

static char *edit(const char *from, const char *to);

static void assert_xyz(const struct twin_tetmesh *m, size_t n, double x, double y, double z)
{
	assert_true(m->xyz[3 * n] == x && m->xyz[3 * n + 1] == y && m->xyz[3 * n + 2] == z);
}

static void assert_tiny(const struct twin_tetmesh *m)
{
	static const uint32_t tets[] = { 2, 0, 1, 3, 0, 1, 3, 4 };
	static const uint32_t tris[] = { 0, 1, 3, 2, 0, 1 };

	assert_int_equal(m->n_nodes, 5);
	assert_int_equal(m->n_tets, 2);
	assert_int_equal(m->n_tris, 2);
	assert_xyz(m, 0, 1, 0, 0);
	assert_xyz(m, 1, 0, 1, 0);
	assert_xyz(m, 2, 0, 0, 0);
	assert_xyz(m, 3, 0, 0, 1);
	assert_xyz(m, 4, 1, 1, 1);
	assert_memory_equal(m->tets, tets, sizeof(tets));
	assert_memory_equal(m->tris, tris, sizeof(tris));
	assert_int_equal(m->tet_region[0], 3);
	assert_int_equal(m->tet_region[1], 1);
	assert_int_equal(m->tri_surface[0], 5);
	assert_int_equal(m->tri_surface[1], 0);
	assert_int_equal(m->n_regions, 2);
	assert_string_equal(twin_tetmesh_region_name(m, 3), "heart_ventricle_left");
	assert_string_equal(twin_tetmesh_region_name(m, 1), "heart_myocardium");
	assert_int_equal(m->n_surfaces, 1);
	assert_string_equal(twin_tetmesh_surface_name(m, 5), "mitral_valve");
}

static void ascii_sparse_tags_and_skips(void **state)
{
	struct fx *f = *state;
	struct twin_msh_info info;
	struct twin_tetmesh *m;
	struct twin_err err;

	m = load_both(f->dir, "tiny.msh", tiny, strlen(tiny), &err, &info);
	assert_ptr_ok(err, m);
	assert_tiny(m);
	assert_int_equal(info.binary, 0);
	assert_int_equal(info.skipped_elements, 2);
	assert_int_equal(info.dropped_nodes, 1);
	/* The surface without physical tag got tag 0, which has no name. */
	assert_int_equal(twin_tetmesh_check(&err, m), -1);
	assert_err(err, TWIN_EINPUT, "surface 0 is used by 1 triangles but has no name");
	twin_tetmesh_free(m);
}

/* Empty node and element blocks (a fuzzer's find) change nothing. */
static void empty_blocks(void **state)
{
	struct fx *f = *state;
	char *text = edit("$Elements\n6 6 1 6\n", "$Elements\n8 6 1 6\n3 4 4 0\n2 7 2 0\n");
	char *nodes = NULL;
	struct twin_tetmesh *m;
	struct twin_err err;
	size_t n = strlen(text) + 16;

	m = load_both(f->dir, "empty.msh", text, strlen(text), &err, NULL);
	assert_ptr_ok(err, m);
	assert_tiny(m);
	twin_tetmesh_free(m);
	nodes = malloc(n);
	assert_non_null(nodes);
	/* and an empty node block */
	{
		const char *at = strstr(text, "$Nodes\n3 6 10 60\n");
		assert_non_null(at);
		snprintf(nodes, n, "%.*s$Nodes\n4 6 10 60\n1 1 0 0\n%s", (int)(at - text), text,
			 at + strlen("$Nodes\n3 6 10 60\n"));
	}
	m = load_both(f->dir, "empty.msh", nodes, strlen(nodes), &err, NULL);
	assert_ptr_ok(err, m);
	assert_tiny(m);
	twin_tetmesh_free(m);
	free(nodes);
	free(text);
}

/* --- a binary file built byte by byte, in either byte order ---------------- */

struct bb {
	unsigned char buf[4096];
	size_t n;
	int swap;
};

static void bb_raw(struct bb *b, const void *p, size_t n)
{
	const unsigned char *c = p;

	assert_true(b->n + n <= sizeof(b->buf));
	for (size_t i = 0; i < n; i++)
		b->buf[b->n + i] = c[b->swap ? n - 1 - i : i];
	b->n += n;
}

static void bb_text(struct bb *b, const char *s)
{
	size_t n = strlen(s);

	assert_true(b->n + n <= sizeof(b->buf));
	memcpy(b->buf + b->n, s, n);
	b->n += n;
}

static void bb_i(struct bb *b, int32_t v)
{
	bb_raw(b, &v, 4);
}

static void bb_u(struct bb *b, uint64_t v)
{
	bb_raw(b, &v, 8);
}

static void bb_d(struct bb *b, double v)
{
	bb_raw(b, &v, 8);
}

/* The mesh of `tiny` (without the skipped sections and the line) in binary. */
static void tiny_binary(struct bb *b, int swap)
{
	static const double box[6] = { 0, 0, 0, 1, 1, 1 };

	memset(b, 0, sizeof(*b));
	b->swap = swap;
	bb_text(b, "$MeshFormat\n4.1 1 8\n");
	bb_i(b, 1);
	bb_text(b, "\n$EndMeshFormat\n$PhysicalNames\n3\n3 3 \"heart_ventricle_left\"\n"
		"3 1 \"heart_myocardium\"\n2 5 \"mitral_valve\"\n$EndPhysicalNames\n$Entities\n");
	bb_u(b, 0); bb_u(b, 0); bb_u(b, 2); bb_u(b, 2);
	/* surface 7: physical 5, three bounding curves; surface 9: none */
	bb_i(b, 7);
	for (int k = 0; k < 6; k++)
		bb_d(b, box[k]);
	bb_u(b, 1); bb_i(b, 5); bb_u(b, 3); bb_i(b, 1); bb_i(b, 2); bb_i(b, -3);
	bb_i(b, 9);
	for (int k = 0; k < 6; k++)
		bb_d(b, box[k]);
	bb_u(b, 0); bb_u(b, 0);
	bb_i(b, 4);
	for (int k = 0; k < 6; k++)
		bb_d(b, box[k]);
	bb_u(b, 1); bb_i(b, 3); bb_u(b, 0);
	bb_i(b, 8);
	for (int k = 0; k < 6; k++)
		bb_d(b, box[k]);
	bb_u(b, 2); bb_i(b, 1); bb_i(b, 77); bb_u(b, 0);
	bb_text(b, "\n$EndEntities\n$Nodes\n");
	bb_u(b, 2); bb_u(b, 6); bb_u(b, 10); bb_u(b, 60);
	bb_i(b, 3); bb_i(b, 4); bb_i(b, 0); bb_u(b, 3);
	bb_u(b, 30); bb_u(b, 10); bb_u(b, 60);
	bb_d(b, 0); bb_d(b, 0); bb_d(b, 0);
	bb_d(b, 1); bb_d(b, 0); bb_d(b, 0);
	bb_d(b, 5); bb_d(b, 5); bb_d(b, 5);
	bb_i(b, 2); bb_i(b, 7); bb_i(b, 1); bb_u(b, 3);
	bb_u(b, 20); bb_u(b, 40); bb_u(b, 50);
	bb_d(b, 0); bb_d(b, 1); bb_d(b, 0); bb_d(b, 0.5); bb_d(b, 0.5);
	bb_d(b, 0); bb_d(b, 0); bb_d(b, 1); bb_d(b, 0.25); bb_d(b, 0.75);
	bb_d(b, 1); bb_d(b, 1); bb_d(b, 1); bb_d(b, 0); bb_d(b, 0);
	bb_text(b, "\n$EndNodes\n$Elements\n");
	bb_u(b, 5); bb_u(b, 5); bb_u(b, 1); bb_u(b, 6);
	bb_i(b, 0); bb_i(b, 1); bb_i(b, 15); bb_u(b, 1);
	bb_u(b, 2); bb_u(b, 50);
	bb_i(b, 2); bb_i(b, 7); bb_i(b, 2); bb_u(b, 1);
	bb_u(b, 3); bb_u(b, 10); bb_u(b, 20); bb_u(b, 40);
	bb_i(b, 2); bb_i(b, 9); bb_i(b, 2); bb_u(b, 1);
	bb_u(b, 4); bb_u(b, 30); bb_u(b, 10); bb_u(b, 20);
	bb_i(b, 3); bb_i(b, 4); bb_i(b, 4); bb_u(b, 1);
	bb_u(b, 5); bb_u(b, 30); bb_u(b, 10); bb_u(b, 40); bb_u(b, 20);
	bb_i(b, 3); bb_i(b, 8); bb_i(b, 4); bb_u(b, 1);
	bb_u(b, 6); bb_u(b, 10); bb_u(b, 20); bb_u(b, 40); bb_u(b, 50);
	bb_text(b, "\n$EndElements\n");
}

static void binary_both_byte_orders(void **state)
{
	struct fx *f = *state;
	struct twin_msh_info info;
	struct twin_tetmesh *m;
	struct twin_err err;
	struct bb b;

	for (int swap = 0; swap < 2; swap++) {
		tiny_binary(&b, swap);
		m = load_both(f->dir, "tiny.msh", b.buf, b.n, &err, &info);
		assert_ptr_ok(err, m);
		assert_tiny(m);
		assert_int_equal(info.binary, 1);
		assert_int_equal(info.skipped_elements, 1);
		assert_int_equal(info.dropped_nodes, 1);
		twin_tetmesh_free(m);
	}
}

/*
 * Every strict prefix of a valid file fails with a message naming it; a file
 * with one byte changed loads or fails the same way, and never crashes.
 */
static void every_prefix_and_flip_fails_cleanly(void **state)
{
	struct bb b;
	char name[64];

	(void)state;
	tiny_binary(&b, 0);
	for (int pass = 0; pass < 2; pass++) {
		const unsigned char *buf = pass ? b.buf : (const unsigned char *)tiny;
		size_t len = pass ? b.n : strlen(tiny);
		size_t end = pass ? len - 1 : (size_t)(strstr(tiny, "$EndElements") - tiny) + 12;
		unsigned char *copy = malloc(len);

		assert_non_null(copy);
		snprintf(name, sizeof(name), "cut%d.msh", pass);
		for (size_t cut = 0; cut < end; cut++) {
			struct twin_err err;
			struct twin_tetmesh *m;
			memcpy(copy, buf, cut);
			twin_err_init(&err);
			m = twin_msh_load_mem(&err, name, copy, cut);
			if (m)
				fail_msg("prefix of %zu bytes of %s loaded", cut, name);
			if (err.code != TWIN_EINPUT && err.code != TWIN_EUNSUPPORTED)
				fail_msg("prefix %zu: code %d: %s", cut, err.code, err.msg);
			assert_true(strncmp(err.msg, "cannot read 'cut", 16) == 0);
		}
		for (size_t at = 0; at < len; at++) {
			struct twin_err err;
			struct twin_tetmesh *m;
			memcpy(copy, buf, len);
			copy[at] ^= (unsigned char)(at % 7 == 0 ? 0x80 : 0xff);
			twin_err_init(&err);
			m = twin_msh_load_mem(&err, name, copy, len);
			if (!m)
				assert_true(err.code != TWIN_OK && strncmp(err.msg, "cannot read 'cut", 16) == 0);
			twin_tetmesh_free(m);
		}
		free(copy);
	}
}

/* --- bad files: input, code, message ------------------------------------- */

/* tiny with the first occurrence of from replaced by to. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(tiny, from);
	size_t n = strlen(tiny) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);

	assert_non_null(at);
	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(at - tiny), tiny, to, at + strlen(from));
	return s;
}

static void bad_files(void **state)
{
	static const struct {
		const char *from, *to;
		enum twin_code code;
		const char *msg;
	} cases[] = {
		{ "$EndNodes\n", "", TWIN_EINPUT,
		  "cannot read 'bad.msh': $Nodes: missing $EndNodes (found '$Elements" },
		{ "6 10 20 40 50\n", "6 10 20 40 99\n", TWIN_EINPUT,
		  "cannot read 'bad.msh': $Elements: node tag 99 is not defined" },
		{ "3 6 10 60", "3 -6 10 60", TWIN_EINPUT,
		  "cannot read 'bad.msh': $Nodes: bad number of nodes '-6'" },
		{ "3 6 10 60", "3 100000000000000 10 60", TWIN_EINPUT,
		  "$Nodes: 100000000000000 nodes cannot fit in the" },
		{ "3 6 10 60", "3 18446744073709551616 10 60", TWIN_EINPUT,
		  "$Nodes: bad number of nodes '18446744073709551616'" },
		{ "3 6 10 60", "3 7 10 60", TWIN_EINPUT,
		  "$Nodes: blocks hold 6 nodes, not the 7 announced" },
		{ "3 6 10 60", "3 5 10 60", TWIN_EINPUT,
		  "$Nodes: blocks hold more nodes than the 5 announced" },
		{ "2 7 1 2\n20\n", "2 7 1 2\n30\n", TWIN_EINPUT,
		  "$Nodes: node tag 30 is defined twice" },
		{ "0 0 1 0.25 0.75", "0 0 1e999 0.25 0.75", TWIN_EINPUT,
		  "$Nodes: node coordinate is not finite" },
		{ "0 0 1 0.25 0.75", "0 0 1 0.2x5 0.75", TWIN_EINPUT,
		  "$Nodes: bad parametric coordinate '0.2x5'" },
		{ "4.1 0 8", "2.2 0 8", TWIN_EUNSUPPORTED,
		  "cannot read 'bad.msh': MSH version 2.2 is not supported, only 4.1; convert the file with "
		  "'gmsh bad.msh -save -format msh41 -o new.msh'" },
		{ "4.1 0 8", "4 0 8", TWIN_EUNSUPPORTED, "MSH version 4 is not supported" },
		{ "4.1 0 8", "4.1x 0 8", TWIN_EINPUT, "cannot read 'bad.msh': $MeshFormat: bad version '4.1x'" },
		{ "4.1 0 8", "4.1 2 8", TWIN_EINPUT, "$MeshFormat: bad file type 2" },
		{ "$EndMeshFormat", "$EndMeshFormats", TWIN_EINPUT,
		  "$MeshFormat: missing $EndMeshFormat (found '$EndMeshFormats" },
		{ "$MeshFormat\n", "$MeshFormatx\n", TWIN_EINPUT,
		  "cannot read 'bad.msh': not an MSH file: it does not start with $MeshFormat" },
		{ "3 8 4 1\n6 10 20 40 50", "3 8 11 1\n6 10 20 40 50 1 2 3 4 5 6", TWIN_EUNSUPPORTED,
		  "cannot read 'bad.msh': second-order tetrahedra (type 11) are not supported" },
		{ "2 9 2 1\n4 30 10 20", "2 9 9 1\n4 30 10 20 1 2 3", TWIN_EUNSUPPORTED,
		  "cannot read 'bad.msh': second-order triangles (type 9) are not supported" },
		{ "0 1 15 1\n", "0 1 77 1\n", TWIN_EUNSUPPORTED, "'bad.msh': element type 77 is unknown" },
		{ "3 4 4 1\n5 30 10 40 20\n3 8 4 1\n6 10 20 40 50\n",
		  "3 4 1 1\n5 30 10\n3 8 1 1\n6 10 20\n", TWIN_EINPUT,
		  "cannot read 'bad.msh': no tetrahedra (type 4) in the file" },
		{ "3 8 4 1\n6 10 20 40 50\n", "3 8 4 1\n6 10 20 40\n", TWIN_EINPUT,
		  "$Elements: node tag is missing before '$EndElements" },
		{ "$EndComments", "$EndComment", TWIN_EINPUT, "$Comments: missing $EndComments" },
		{ "\"a line\"", "\"a line", TWIN_EINPUT,
		  "$PhysicalNames: name of physical group 9 has no closing quote" },
		{ "3 1 \"heart_myocardium\"", "3 0 \"heart_myocardium\"", TWIN_EINPUT,
		  "cannot read 'bad.msh': $PhysicalNames: region 0: a named tag must be positive" },
		{ "$EndEntities\n", "$EndEntities\n$Entities\n$EndEntities\n", TWIN_EINPUT,
		  "$Entities: the section appears twice" },
		{ "8 0 0 0 1 1 1 1 1 0\n", "4 0 0 0 1 1 1 1 1 0\n", TWIN_EINPUT,
		  "$Entities: volume entity 4 is defined twice" },
		{ "$Elements\n6 6 1 6\n", "$Elements\n6 5 1 6\n", TWIN_EINPUT,
		  "$Elements: blocks hold more elements than the 5 announced" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = edit(cases[i].from, cases[i].to);
		struct twin_tetmesh *m;
		struct twin_err err;
		char path[4096];

		/* Messages name the file as given: load from a relative name. */
		twin_err_init(&err);
		m = twin_msh_load_mem(&err, "bad.msh", text, strlen(text));
		if (m || err.code != cases[i].code || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: want %d '%s', got %d '%s'", i, (int)cases[i].code,
				 cases[i].msg, (int)err.code, err.msg);
		/* and the same from the file, named by its path */
		snprintf(path, sizeof(path), "%s/bad.msh", f->dir);
		twin_test_write_file(path, text, strlen(text));
		twin_err_init(&err);
		assert_null(twin_msh_load(&err, path));
		assert_int_equal(err.code, cases[i].code);
		assert_true(strstr(err.msg, path) != NULL);
		free(text);
	}
}

static void missing_file_and_truncated_binary(void **state)
{
	struct fx *f = *state;
	struct twin_err err;
	struct bb b;

	twin_err_init(&err);
	assert_null(twin_msh_load(&err, twin_test_path(f->dir, "none.msh")));
	assert_err(err, TWIN_EIO, "none.msh': No such file or directory");

	tiny_binary(&b, 0);
	twin_err_init(&err);
	assert_null(twin_msh_load_mem(&err, "cut.msh", b.buf, b.n - 30));
	assert_err(err, TWIN_EINPUT, "cannot read 'cut.msh': $Elements: 1 elements cannot fit in the 24 bytes left");
	twin_err_init(&err);
	assert_null(twin_msh_load_mem(&err, "cut.msh", b.buf, b.n - 6));
	assert_err(err, TWIN_EINPUT, "cannot read 'cut.msh': $Elements: missing $EndElements (found '$EndEle')");
	twin_err_init(&err);
	b.buf[20] = 2; /* the byte order mark */
	assert_null(twin_msh_load_mem(&err, "bom.msh", b.buf, b.n));
	assert_err(err, TWIN_EINPUT, "cannot read 'bom.msh': $MeshFormat: bad byte order mark 0x00000002");
	twin_err_init(&err);
	assert_null(twin_msh_load_mem(&err, "empty.msh", "", 0));
	assert_err(err, TWIN_EINPUT, "cannot read 'empty.msh': not an MSH file");
}

/* --- round trips ----------------------------------------------------------- */

/*
 * A grid of nx * ny * nz cubes of 1.5 mm, each split into 6 tetrahedra
 * (Kuhn), conforming. Regions: 3 for x < mid, 1 beyond, or alternating per
 * cube when mixed. Triangles: the x = 0 faces (tag 4), the x = max faces
 * (tag 2), the y = 0 faces (tag 0), and the interface x = mid from the
 * region 3 side (tag 5).
 */
static struct twin_tetmesh *grid(int nx, int ny, int nz, int mixed)
{
	static const int perm[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	size_t n_nodes = (size_t)(nx + 1) * (ny + 1) * (nz + 1);
	size_t n_tets = 6 * (size_t)nx * ny * nz, n_tris = 0, t = 0;
	uint32_t *tris = malloc(n_tets * 4 * 3 * sizeof(*tris));
	int32_t *tags = malloc(n_tets * 4 * sizeof(*tags));
	struct twin_tetmesh *m, *out;
	struct twin_err err;
	int mid = nx / 2;

	assert_non_null(tris);
	assert_non_null(tags);
	twin_err_init(&err);
	m = twin_tetmesh_new(&err, n_nodes, n_tets, 0);
	assert_ptr_ok(err, m);
	for (int k = 0; k <= nz; k++)
		for (int j = 0; j <= ny; j++)
			for (int i = 0; i <= nx; i++) {
				size_t n = (size_t)i + (size_t)(nx + 1) * (j + (size_t)(ny + 1) * k);
				m->xyz[3 * n] = -3 + 1.5 * i;
				m->xyz[3 * n + 1] = 2 + 1.5 * j;
				m->xyz[3 * n + 2] = 7.25 + 1.5 * k;
			}
	for (int k = 0; k < nz; k++)
		for (int j = 0; j < ny; j++)
			for (int i = 0; i < nx; i++)
				for (int p = 0; p < 6; p++, t++) {
					int v[3] = { i, j, k };
					int region = mixed ? ((i + j + k + p) % 2 ? 3 : 1) : (i < mid ? 3 : 1);
					for (int q = 0; q < 4; q++) {
						if (q)
							v[perm[p][q - 1]]++;
						m->tets[4 * t + q] = (uint32_t)(v[0] + (nx + 1) * (v[1] + (ny + 1) * v[2]));
					}
					m->tet_region[t] = region;
				}
	twin_tetmesh_orient(m);
	for (t = 0; t < n_tets; t++) {
		for (int f = 0; f < 4; f++) {
			uint32_t n[3];
			int allx0 = 1, allxm = 1, ally0 = 1, allmid = 1;
			for (int q = 0; q < 3; q++) {
				const double *x;
				n[q] = m->tets[4 * t + twin_tetmesh_face_nodes[f][q]];
				x = m->xyz + 3 * n[q];
				allx0 &= x[0] == -3;
				allxm &= x[0] == -3 + 1.5 * nx;
				ally0 &= x[1] == 2;
				allmid &= x[0] == -3 + 1.5 * mid;
			}
			if (allx0 || allxm || ally0 || (allmid && !mixed && m->tet_region[t] == 3)) {
				memcpy(tris + 3 * n_tris, n, sizeof(n));
				tags[n_tris++] = allx0 ? 4 : allxm ? 2 : ally0 ? 0 : 5;
			}
		}
	}
	out = twin_tetmesh_new(&err, n_nodes, n_tets, n_tris);
	assert_ptr_ok(err, out);
	memcpy(out->xyz, m->xyz, 3 * n_nodes * sizeof(double));
	memcpy(out->tets, m->tets, 4 * n_tets * sizeof(uint32_t));
	memcpy(out->tet_region, m->tet_region, n_tets * sizeof(int32_t));
	memcpy(out->tris, tris, 3 * n_tris * sizeof(uint32_t));
	memcpy(out->tri_surface, tags, n_tris * sizeof(int32_t));
	assert_ok(err, twin_tetmesh_set_region_name(&err, out, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, out, 1, "heart_myocardium"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, out, 4, "outlet_aorta"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, out, 2, "epicardium"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, out, 5, "mitral_valve"));
	assert_ok(err, twin_tetmesh_set_surface_name(&err, out, 9, "unused surface"));
	twin_tetmesh_free(m);
	free(tris);
	free(tags);
	return out;
}

static void assert_same_mesh(const struct twin_tetmesh *a, const struct twin_tetmesh *b)
{
	assert_int_equal(a->n_nodes, b->n_nodes);
	assert_int_equal(a->n_tets, b->n_tets);
	assert_int_equal(a->n_tris, b->n_tris);
	assert_memory_equal(a->xyz, b->xyz, 3 * a->n_nodes * sizeof(double));
	assert_memory_equal(a->tets, b->tets, 4 * a->n_tets * sizeof(uint32_t));
	assert_memory_equal(a->tet_region, b->tet_region, a->n_tets * sizeof(int32_t));
	assert_memory_equal(a->tris, b->tris, 3 * a->n_tris * sizeof(uint32_t));
	assert_memory_equal(a->tri_surface, b->tri_surface, a->n_tris * sizeof(int32_t));
	assert_int_equal(a->n_regions, b->n_regions);
	assert_int_equal(a->n_surfaces, b->n_surfaces);
	for (size_t i = 0; i < a->n_regions; i++) {
		assert_int_equal(a->regions[i].tag, b->regions[i].tag);
		assert_string_equal(a->regions[i].name, b->regions[i].name);
	}
	for (size_t i = 0; i < a->n_surfaces; i++) {
		assert_int_equal(a->surfaces[i].tag, b->surfaces[i].tag);
		assert_string_equal(a->surfaces[i].name, b->surfaces[i].name);
	}
}

/* Runs a shell command quietly; its output goes to dir/gmsh.log. */
static int run(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(const char *dir, const char *fmt, ...)
{
	char cmd[8192];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n < sizeof(cmd) - 4200);
	snprintf(cmd + n, sizeof(cmd) - n, " >'%s/gmsh.log' 2>&1", dir);
	return system(cmd);
}

static int by_xyz(const void *a, const void *b)
{
	const double *x = a, *y = b;

	for (int k = 0; k < 3; k++)
		if (x[k] != y[k])
			return x[k] < y[k] ? -1 : 1;
	return 0;
}

/* Sums of volume per region and area per surface tag, in slots tag 0..15. */
static void sums(const struct twin_tetmesh *m, double vol[16], size_t nt[16], double area[16], size_t ns[16])
{
	memset(vol, 0, 16 * sizeof(double));
	memset(area, 0, 16 * sizeof(double));
	memset(nt, 0, 16 * sizeof(size_t));
	memset(ns, 0, 16 * sizeof(size_t));
	for (size_t t = 0; t < m->n_tets; t++) {
		assert_in_range(m->tet_region[t], 0, 15);
		vol[m->tet_region[t]] += twin_tetmesh_tet_volume(m, t);
		nt[m->tet_region[t]]++;
	}
	for (size_t i = 0; i < m->n_tris; i++) {
		assert_in_range(m->tri_surface[i], 0, 15);
		area[m->tri_surface[i]] += twin_tetmesh_tri_area(m, i);
		ns[m->tri_surface[i]]++;
	}
}

/*
 * The same mesh up to the order of nodes and elements, which gmsh may
 * change: names, counts, nodes, and volume or area per tag.
 */
static void assert_same_content(const struct twin_tetmesh *a, const struct twin_tetmesh *b)
{
	double va[16], vb[16], aa[16], ab[16];
	size_t ta[16], tb[16], sa[16], sb[16];
	double *xa, *xb;

	assert_int_equal(a->n_nodes, b->n_nodes);
	assert_int_equal(a->n_tets, b->n_tets);
	assert_int_equal(a->n_tris, b->n_tris);
	assert_int_equal(a->n_regions, b->n_regions);
	assert_int_equal(a->n_surfaces, b->n_surfaces);
	for (size_t i = 0; i < a->n_regions; i++) {
		assert_int_equal(a->regions[i].tag, b->regions[i].tag);
		assert_string_equal(a->regions[i].name, b->regions[i].name);
	}
	for (size_t i = 0; i < a->n_surfaces; i++) {
		assert_int_equal(a->surfaces[i].tag, b->surfaces[i].tag);
		assert_string_equal(a->surfaces[i].name, b->surfaces[i].name);
	}
	xa = malloc(3 * a->n_nodes * sizeof(double));
	xb = malloc(3 * a->n_nodes * sizeof(double));
	assert_non_null(xa);
	assert_non_null(xb);
	memcpy(xa, a->xyz, 3 * a->n_nodes * sizeof(double));
	memcpy(xb, b->xyz, 3 * a->n_nodes * sizeof(double));
	qsort(xa, a->n_nodes, 3 * sizeof(double), by_xyz);
	qsort(xb, a->n_nodes, 3 * sizeof(double), by_xyz);
	assert_memory_equal(xa, xb, 3 * a->n_nodes * sizeof(double));
	free(xa);
	free(xb);
	sums(a, va, ta, aa, sa);
	sums(b, vb, tb, ab, sb);
	for (int k = 0; k < 16; k++) {
		assert_int_equal(ta[k], tb[k]);
		assert_int_equal(sa[k], sb[k]);
		assert_true(fabs(va[k] - vb[k]) <= 1e-12 * fabs(va[k]));
		assert_true(fabs(aa[k] - ab[k]) <= 1e-12 * fabs(aa[k]));
	}
}

/* gmsh reads path and writes it again (binary: exact); the result loads to the same mesh. */
static void gmsh_rereads(const char *dir, const char *path, const struct twin_tetmesh *want)
{
	char out[4096];
	struct twin_tetmesh *m;
	struct twin_err err;

	snprintf(out, sizeof(out), "%s/regmsh.msh", dir);
	if (run(dir, "gmsh '%s' -save -format msh41 -bin -o '%s'", path, out) != 0)
		fail_msg("gmsh could not read '%s', see %s/gmsh.log", path, dir);
	twin_err_init(&err);
	m = twin_msh_load(&err, out);
	assert_ptr_ok(err, m);
	assert_same_content(want, m);
	twin_tetmesh_free(m);
}

static void round_trip(void **state, int mixed)
{
	struct fx *f = *state;
	struct twin_tetmesh *m = grid(4, 3, 2, mixed);
	struct twin_err err;

	twin_err_init(&err);
	assert_true(m->n_tris > 0);
	for (int binary = 0; binary < 2; binary++) {
		const char *path = twin_test_path(f->dir, binary ? "rt.bin.msh" : "rt.msh");
		struct twin_msh_info info;
		struct twin_tetmesh *back;
		size_t len;
		char *text;

		assert_ok(err, twin_msh_save(&err, path, m, binary));
		text = twin_test_read_file(path, &len);
		back = twin_msh_parse(&err, path, text, len, &info);
		assert_ptr_ok(err, back);
		assert_int_equal(info.binary, binary);
		assert_int_equal(info.skipped_elements, 0);
		assert_int_equal(info.dropped_nodes, 0);
		assert_same_mesh(m, back);
		twin_tetmesh_free(back);
		free(text);
		if (twin_test_have_gmsh()) {
			/* gmsh saves the elements of physical groups: the y = 0 faces (tag 0) go. */
			struct twin_tetmesh *want = grid(4, 3, 2, mixed);
			size_t k = 0;
			for (size_t i = 0; i < want->n_tris; i++) {
				if (want->tri_surface[i] == 0)
					continue;
				memmove(want->tris + 3 * k, want->tris + 3 * i, 3 * sizeof(uint32_t));
				want->tri_surface[k++] = want->tri_surface[i];
			}
			assert_true(k < want->n_tris);
			want->n_tris = k;
			gmsh_rereads(f->dir, twin_test_path(f->dir, binary ? "rt.bin.msh" : "rt.msh"), want);
			twin_tetmesh_free(want);
		}
	}
	twin_tetmesh_free(m);
}

static void round_trip_sorted(void **state)
{
	round_trip(state, 0);
}

static void round_trip_interleaved_regions(void **state)
{
	round_trip(state, 1);
}

static void save_refuses_bad_index(void **state)
{
	struct fx *f = *state;
	struct twin_tetmesh *m = grid(2, 1, 1, 0);
	const char *path = twin_test_path(f->dir, "bad.msh");
	struct twin_err err;

	twin_err_init(&err);
	m->tets[5] = 1000;
	assert_int_equal(twin_msh_save(&err, path, m, 1), -1);
	assert_err(err, TWIN_EINPUT, "bad.msh': tetrahedron 1: node index 1000 is out of range");
	assert_false(twin_path_exists(path));
	twin_tetmesh_free(m);
}

/* --- a file that the gmsh program wrote ---------------------------------- */

static void assert_two_regions(const struct twin_tetmesh *m)
{
	static const struct {
		const char *name;
		double area;
	} surf[] = {
		{ "mitral_valve", 48 }, { "outlet_aorta", 48 }, { "epicardium", 48 }, { "endocardium_lv", 128 },
	};
	struct twin_tetmesh_parent *par;
	struct twin_err err;
	double vol[2] = { 0, 0 };
	size_t count[2] = { 0, 0 }, interface = 0;
	int32_t mitral = 0;

	twin_err_init(&err);
	assert_ok(err, twin_tetmesh_check(&err, m));
	assert_int_equal(m->n_regions, 2);
	assert_string_equal(twin_tetmesh_region_name(m, 3), "heart_ventricle_left");
	assert_string_equal(twin_tetmesh_region_name(m, 2), "heart_atrium_left");
	for (size_t t = 0; t < m->n_tets; t++) {
		int r = m->tet_region[t] == 3 ? 0 : 1;
		assert_true(m->tet_region[t] == 3 || m->tet_region[t] == 2);
		vol[r] += twin_tetmesh_tet_volume(m, t);
		count[r]++;
	}
	assert_true(count[0] > 0 && count[1] > 0);
	assert_true(fabs(vol[0] - 480) < 1e-9 * 480);
	assert_true(fabs(vol[1] - 288) < 1e-9 * 288);
	assert_int_equal(m->n_surfaces, 4);
	for (size_t s = 0; s < 4; s++) {
		int32_t tag = -1;
		double area = 0;
		for (size_t i = 0; i < m->n_surfaces; i++)
			if (strcmp(m->surfaces[i].name, surf[s].name) == 0)
				tag = m->surfaces[i].tag;
		if (tag < 0)
			fail_msg("surface '%s' is missing", surf[s].name);
		if (s == 0)
			mitral = tag;
		for (size_t i = 0; i < m->n_tris; i++)
			if (m->tri_surface[i] == tag)
				area += twin_tetmesh_tri_area(m, i);
		if (fabs(area - surf[s].area) > 1e-9 * surf[s].area)
			fail_msg("surface '%s' has area %.12g, not %g", surf[s].name, area, surf[s].area);
	}
	/* Conformity: each interface triangle is a face of a tet on either side. */
	par = twin_tetmesh_face_index(&err, m);
	assert_ptr_ok(err, par);
	for (size_t i = 0; i < m->n_tris; i++) {
		if (m->tri_surface[i] == mitral) {
			assert_true(par[i].tet[1] != TWIN_TETMESH_NONE);
			assert_int_not_equal(m->tet_region[par[i].tet[0]], m->tet_region[par[i].tet[1]]);
			interface++;
		} else {
			assert_int_equal(par[i].tet[1], TWIN_TETMESH_NONE);
		}
	}
	assert_true(interface >= 2);
	free(par);
}

static void gmsh_written_file(void **state)
{
	struct fx *f = *state;

	if (!twin_test_have_gmsh())
		skip();
	for (int binary = 0; binary < 2; binary++) {
		char in[4096], ours[4096];
		struct twin_msh_info info;
		struct twin_tetmesh *m, *again;
		struct twin_err err;
		size_t len;
		char *buf;

		snprintf(in, sizeof(in), "%s/gmsh%d.msh", f->dir, binary);
		if (run(f->dir, "gmsh -3 tests/data/msh/two_regions.geo -format msh41 %s -o '%s'",
			binary ? "-bin" : "", in) != 0)
			fail_msg("gmsh failed on tests/data/msh/two_regions.geo, see %s/gmsh.log", f->dir);
		buf = twin_test_read_file(in, &len);
		twin_err_init(&err);
		m = twin_msh_parse(&err, in, buf, len, &info);
		free(buf);
		assert_ptr_ok(err, m);
		assert_int_equal(info.binary, binary);
		assert_two_regions(m);

		/* Ours, in the other encoding, read back by us and by gmsh. */
		snprintf(ours, sizeof(ours), "%s/ours%d.msh", f->dir, binary);
		assert_ok(err, twin_msh_save(&err, ours, m, !binary));
		again = twin_msh_load(&err, ours);
		assert_ptr_ok(err, again);
		assert_same_mesh(m, again);
		twin_tetmesh_free(again);
		gmsh_rereads(f->dir, ours, m);
		twin_tetmesh_free(m);
	}
}

static void gmsh_second_order(void **state)
{
	struct fx *f = *state;
	char in[4096];
	struct twin_err err;

	if (!twin_test_have_gmsh())
		skip();
	snprintf(in, sizeof(in), "%s/order2.msh", f->dir);
	if (run(f->dir, "gmsh -3 -order 2 tests/data/msh/two_regions.geo -format msh41 -o '%s'", in) != 0)
		fail_msg("gmsh failed, see %s/gmsh.log", f->dir);
	twin_err_init(&err);
	assert_null(twin_msh_load(&err, in));
	assert_err(err, TWIN_EUNSUPPORTED, "order2.msh': second-order tetrahedra (type 11) are not supported");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ascii_sparse_tags_and_skips, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_both_byte_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(every_prefix_and_flip_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_and_truncated_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip_interleaved_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(save_refuses_bad_index, setup, teardown),
		cmocka_unit_test_setup_teardown(gmsh_written_file, setup, teardown),
		cmocka_unit_test_setup_teardown(gmsh_second_order, setup, teardown),
	};

	return cmocka_run_group_tests_name("msh", tests, NULL, NULL);
}
