#include "export.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fibres.h"
#include "files.h"
#include "surfaces.h"

static const struct twin_export_target targets[] = {
	{ "vtu", "millimetres", "VTK XML: heart.vtu (volume, cell array region) and surfaces/<surface>.vtp, for ParaView",
	  "cell arrays fibre, sheet and sheet_normal of heart.vtu (Float64, 3 components, zeros outside the myocardium)",
	  "binary (raw appended, little-endian): coordinates and fibres Float64 exactly as in heart.msh and as computed, ids Int32",
	  twin_export_vtu },
	{ "svmp", "millimetres", "svMultiPhysics: mesh-complete/mesh-complete.mesh.vtu, mesh-complete/mesh-surfaces/<surface>.vtp and the mesh section of solver.xml",
	  "fibres/fibre.vtu and fibres/sheet.vtu (the volume mesh with cell array FIB_DIR, Float64, 3 components, zeros outside the myocardium), named in that order by <Fiber_direction_file_path> in solver.xml (svMultiPhysics takes the sheet normal as their cross product; the vtu target has all three for ParaView)",
	  "binary (raw appended, little-endian): coordinates and fibres Float64 exactly as in heart.msh and as computed, ids Int32",
	  twin_export_svmp },
	{ "abaqus", "millimetres", "Abaqus / CalculiX: heart.inp with C3D4 elements, one ELSET per region, NSETs and an element-face SURFACE per surface",
	  "*DISTRIBUTION FIBRE_AXES (per myocardium element: fibre as local axis 1, sheet in the 1-2 plane; default global axes) and *ORIENTATION FIBRES that uses it: give ORIENTATION=FIBRES on the myocardium's *SOLID SECTION. CalculiX reads it and warns once that it does not know the *DISTRIBUTION TABLE line, which Abaqus needs",
	  "text: coordinates in text with at most 6 decimals (the MSH doubles rounded to the nearest 0.000001 mm, 1 nm; trailing zeros dropped); fibre and sheet components with at most 5 decimals (within 0.0005 degrees)",
	  twin_export_abaqus },
	{ "febio", "millimetres", "FEBio 4.0: heart.feb with Nodes, Elements per region, Surfaces, NodeSets, MeshDomains and placeholder materials",
	  "MeshData: an ElementData of type mat_axis per myocardium region (elem_set the region, <a> fibre, <d> sheet per element)",
	  "text: coordinates in text with at most 6 decimals (the MSH doubles rounded to the nearest 0.000001 mm, 1 nm; trailing zeros dropped); fibre and sheet components with at most 5 decimals (within 0.0005 degrees)",
	  twin_export_febio },
	{ "opencarp", "micrometres", "openCARP: heart.pts, heart.elem (region tags), heart.<surface>.surf and heart.<surface>.vtx, 0-based",
	  "heart.lon: header 2, then per element of heart.elem the fibre and the sheet (6 numbers; zeros outside the myocardium)",
	  "text: coordinates in micrometres with at most 6 decimals (the MSH doubles in mm times 1000, rounded to the nearest 0.000001 um; trailing zeros dropped); fibre and sheet components with at most 5 decimals (within 0.0005 degrees)",
	  twin_export_opencarp },
	{ "openfoam", "metres", "OpenFOAM: an icoFoam case of the blood pool: constant/polyMesh (binary) with one patch per tagged surface that bounds it (inlets and outlets as patch, the rest as wall), 0/U (5 L/min into each circulation), 0/p, system/",
	  NULL, "binary polyMesh (32-bit labels, 64-bit scalars): points are the MSH doubles times 0.001, exactly as computed; dictionaries in text",
	  twin_export_openfoam },
	{ "xdmf", "millimetres", "XDMF + HDF5 for dolfinx: heart.xdmf + heart.h5 (grid mesh, with the region ids as cell tags) and facets.xdmf + facets.h5 (grid facet_tags, the surface tags)",
	  "cell attributes fibre, sheet and sheet_normal of grid mesh (vectors, Float64, heart.h5:/mesh/fibre, /mesh/sheet, /mesh/sheet_normal; zeros outside the myocardium)",
	  "binary HDF5: coordinates and fibres 64-bit floats exactly as in heart.msh and as computed, ids 32-bit",
	  twin_export_xdmf },
	{ "msh22", "millimetres", "Gmsh MSH 2.2 (ASCII) with physical names, for gmshToFoam and older tools; surface tags are offset by 100 so that none equals a region id (gmshToFoam looks names up by tag alone)",
	  NULL, "text (MSH 2.2 ASCII, which gmshToFoam reads): coordinates in text with at most 6 decimals (the MSH doubles rounded to the nearest 0.000001 mm, 1 nm; trailing zeros dropped)",
	  twin_export_msh22 },
};

const struct twin_export_target *twin_export_targets(size_t *n)
{
	*n = sizeof(targets) / sizeof(targets[0]);
	return targets;
}

enum twin_label_kind twin_export_region_kind(int32_t id)
{
	const struct twin_label *l = twin_label_by_id(id);

	return l ? l->kind : TWIN_LABEL_BACKGROUND;
}

int twin_export_init(struct twin_err *err, struct twin_export *x, const struct twin_tetmesh *mesh)
{
	memset(x, 0, sizeof(*x));
	if (twin_tetmesh_check(err, mesh) != 0)
		return -1;
	if (mesh->n_tets == 0)
		return twin_err_set(err, TWIN_EINPUT, "the mesh has no tetrahedra");
	x->mesh = mesh;
	x->parents = twin_tetmesh_face_index(err, mesh);
	return x->parents ? 0 : -1;
}

void twin_export_release(struct twin_export *x)
{
	free(x->parents);
	x->parents = NULL;
}

void twin_export_side(const struct twin_export *x, size_t i, enum twin_label_kind want,
		      uint32_t *tet, uint8_t *face)
{
	const struct twin_tetmesh_parent *p = &x->parents[i];
	int k = 0;

	if (p->tet[1] != TWIN_TETMESH_NONE &&
	    twin_export_region_kind(x->mesh->tet_region[p->tet[0]]) != want &&
	    twin_export_region_kind(x->mesh->tet_region[p->tet[1]]) == want)
		k = 1;
	*tet = p->tet[k];
	*face = p->face[k];
}

/* The index of tag in the sorted surface names, or n when it has none. */
static size_t surface_index(const struct twin_tetmesh *mesh, int32_t tag)
{
	size_t lo = 0, hi = mesh->n_surfaces;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mesh->surfaces[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < mesh->n_surfaces && mesh->surfaces[lo].tag == tag ? lo : mesh->n_surfaces;
}

int twin_export_groups_init(struct twin_err *err, struct twin_export_groups *g,
			    const struct twin_tetmesh *mesh)
{
	size_t i, k, *fill = NULL;

	memset(g, 0, sizeof(*g));
	g->n = mesh->n_surfaces;
	g->start = calloc(g->n + 2, sizeof(*g->start));
	g->tris = malloc((mesh->n_tris ? mesh->n_tris : 1) * sizeof(*g->tris));
	fill = calloc(g->n + 1, sizeof(*fill));
	if (!g->start || !g->tris || !fill) {
		free(fill);
		twin_export_groups_release(g);
		return twin_err_set(err, TWIN_EFAIL, "surface groups: out of memory");
	}
	for (i = 0; i < mesh->n_tris; i++) {
		k = surface_index(mesh, mesh->tri_surface[i]);
		if (k < g->n)
			g->start[k + 1]++;
	}
	for (k = 0; k < g->n; k++)
		g->start[k + 1] += g->start[k];
	for (i = 0; i < mesh->n_tris; i++) {
		k = surface_index(mesh, mesh->tri_surface[i]);
		if (k < g->n)
			g->tris[g->start[k] + fill[k]++] = (uint32_t)i;
	}
	free(fill);
	return 0;
}

void twin_export_groups_release(struct twin_export_groups *g)
{
	free(g->start);
	free(g->tris);
	g->start = NULL;
	g->tris = NULL;
}

/* ---- output files ---------------------------------------------------------- */

/* The line buffer of a file: stdio is unbuffered, so this is the only one. */
#define EXPORT_BUF (1 << 20)

int twin_export_open(struct twin_err *err, struct twin_export_file *o, const char *dir,
		     const char *name)
{
	o->path = twin_path_join(dir, name);
	o->f = NULL;
	o->len = 0;
	o->buf = malloc(EXPORT_BUF);
	if (!o->path || !o->buf) {
		free(o->path);
		free(o->buf);
		o->path = o->buf = NULL;
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", name);
	}
	o->f = fopen(o->path, "wb");
	if (!o->f) {
		twin_err_errno(err, "cannot create", o->path);
		free(o->path);
		free(o->buf);
		o->path = o->buf = NULL;
		return -1;
	}
	setvbuf(o->f, NULL, _IOFBF, EXPORT_BUF);
	return 0;
}

void twin_export_flush(struct twin_export_file *o)
{
	if (o->len)
		fwrite(o->buf, 1, o->len, o->f);
	o->len = 0;
}

char *twin_export_line(struct twin_export_file *o)
{
	if (o->len + TWIN_EXPORT_LINE_MAX > EXPORT_BUF)
		twin_export_flush(o);
	return o->buf + o->len;
}

void twin_export_end_line(struct twin_export_file *o, char *end)
{
	o->len = (size_t)(end - o->buf);
}

int twin_export_close(struct twin_err *err, struct twin_export_file *o)
{
	int bad, rc = 0;

	twin_export_flush(o);
	bad = ferror(o->f);
	errno = 0;
	if (fclose(o->f) != 0 || bad) {
		if (errno)
			twin_err_errno(err, "cannot write", o->path);
		else
			twin_err_set(err, TWIN_EIO, "cannot write '%s': write error", o->path);
		rc = -1;
	}
	o->f = NULL;
	free(o->path);
	free(o->buf);
	o->path = o->buf = NULL;
	return rc;
}

void twin_export_abort(struct twin_export_file *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	free(o->path);
	free(o->buf);
	o->path = o->buf = NULL;
}

/* ---- lines on every core ---------------------------------------------------- */

/* CPU nanoseconds of the helper threads of twin_export_lines that have ended. */
static atomic_llong helper_ns;

static long long thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double twin_export_cpu(void)
{
	return (double)(thread_ns() + atomic_load(&helper_ns)) * 1e-9;
}

/* Below this many lines one thread does it all. */
#define LINES_PARALLEL 20000
#define LINES_THREADS 4
/*
 * Lines per thread and round: the buffers of a round are reused by the
 * next, so they stay small and in cache instead of faulting in fresh pages.
 */
#define LINES_ROUND 16384

struct chunk {
	twin_export_line_fn *fn;
	void *ctx;
	size_t from, to;
	char *buf;
	size_t len, cap;
	int nomem;
};

static void format_lines(struct chunk *c)
{
	c->len = 0;
	for (size_t i = c->from; i < c->to; i++) {
		if (c->cap - c->len < TWIN_EXPORT_LINE_MAX) {
			size_t cap = c->cap ? 2 * c->cap : (size_t)(c->to - c->from) * 64 + TWIN_EXPORT_LINE_MAX;
			char *b = realloc(c->buf, cap);

			if (!b) {
				c->nomem = 1;
				return;
			}
			c->buf = b;
			c->cap = cap;
		}
		c->len = (size_t)(c->fn(c->ctx, i, c->buf + c->len) - c->buf);
	}
}

/* A helper thread: its lines, and its CPU time into helper_ns. */
static void *format_chunk(void *arg)
{
	format_lines(arg);
	atomic_fetch_add(&helper_ns, thread_ns());
	return NULL;
}

int twin_export_lines(struct twin_err *err, size_t n, twin_export_line_fn *fn, void *ctx,
		      twin_export_sink_fn *sink, void *sink_ctx)
{
	struct chunk c[LINES_THREADS];
	pthread_t tid[LINES_THREADS];
	int started[LINES_THREADS] = { 0 };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t, from, nt = n < LINES_PARALLEL || cores < 2 ? 1 : (size_t)(cores < LINES_THREADS ? cores : LINES_THREADS);
	int rc = 0;

	memset(c, 0, sizeof(c));
	for (t = 0; t < nt; t++) {
		c[t].fn = fn;
		c[t].ctx = ctx;
	}
	for (from = 0; from < n && rc == 0; from += nt * LINES_ROUND) {
		size_t round = n - from < nt * LINES_ROUND ? n - from : nt * LINES_ROUND;

		for (t = 0; t < nt; t++) {
			c[t].from = from + round * t / nt;
			c[t].to = from + round * (t + 1) / nt;
		}
		/* the calling thread formats the first chunk */
		for (t = 1; t < nt; t++)
			started[t] = pthread_create(&tid[t], NULL, format_chunk, &c[t]) == 0;
		format_lines(&c[0]);
		for (t = 1; t < nt; t++)
			if (started[t])
				pthread_join(tid[t], NULL);
			else
				format_lines(&c[t]);
		for (t = 0; t < nt && rc == 0; t++) {
			if (c[t].nomem)
				rc = twin_err_set(err, TWIN_EFAIL, "%zu lines: out of memory", n);
			else if (c[t].len && sink(sink_ctx, c[t].buf, c[t].len) != 0)
				rc = -1;
		}
	}
	for (t = 0; t < nt; t++)
		free(c[t].buf);
	return rc;
}

static int file_sink(void *ctx, const char *buf, size_t len)
{
	struct twin_export_file *o = ctx;

	return fwrite(buf, 1, len, o->f) == len ? 0 : -1;
}

int twin_export_file_lines(struct twin_err *err, struct twin_export_file *o, size_t n,
			   twin_export_line_fn *fn, void *ctx)
{
	twin_export_flush(o);
	if (twin_export_lines(err, n, fn, ctx, file_sink, o) != 0)
		return twin_err_set(err, TWIN_EIO, "cannot write '%s': write error", o->path);
	return 0;
}

int twin_export_fibre_region(int32_t id)
{
	return id == TWIN_FIBRES_LV_WALL || id == TWIN_FIBRES_RV_WALL;
}

int twin_export_fibre_arrays(struct twin_err *err, const struct twin_export *x, double **out)
{
	size_t n = x->mesh->n_tets, i, c;
	double *a = malloc(9 * n * sizeof(*a));

	*out = NULL;
	if (!a)
		return twin_err_set(err, TWIN_EFAIL, "fibres: out of memory");
	for (i = 0; i < n; i++)
		for (c = 0; c < 9; c++)
			a[(c / 3) * 3 * n + 3 * i + c % 3] = x->fibres[9 * i + c];
	*out = a;
	return 0;
}

int twin_export_mkdir(struct twin_err *err, const char *dir, const char *name)
{
	char *path = twin_path_join(dir, name);
	int rc = 0;

	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "cannot create '%s': out of memory", name);
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		rc = twin_err_errno(err, "cannot create", path);
	free(path);
	return rc;
}

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* How many decimal digits v has. */
static int count_digits(uint64_t v)
{
	int n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * The last count digits of v (with leading zeros), written backwards so
 * that they end at e: four digits per division by a constant (the two pairs
 * of a block do not wait for each other), in 32 bits where v fits. No call
 * to memcpy of a variable length: that call cost more than the digits.
 */
static void put_digits(char *e, uint64_t v, int count)
{
	uint32_t w;

	while (v > UINT32_MAX && count >= 4) {
		uint32_t r = (uint32_t)(v % 10000);

		v /= 10000;
		e -= 4;
		memcpy(e, digit_pairs + 2 * (r / 100), 2);
		memcpy(e + 2, digit_pairs + 2 * (r % 100), 2);
		count -= 4;
	}
	w = (uint32_t)v;
	for (; count >= 4; count -= 4) {
		uint32_t r = w % 10000;

		w /= 10000;
		e -= 4;
		memcpy(e, digit_pairs + 2 * (r / 100), 2);
		memcpy(e + 2, digit_pairs + 2 * (r % 100), 2);
	}
	if (count >= 2) {
		e -= 2;
		memcpy(e, digit_pairs + 2 * (w % 100), 2);
		w /= 100;
		count -= 2;
	}
	if (count)
		e[-1] = (char)('0' + w % 10);
}

/*
 * The 8 decimal digits of v < 10^8, one per byte in text order (byte k the
 * digit of 10^(7 - k), not yet ASCII): v in two halves, each half in two
 * pairs, each pair in two digits, every split made in all lanes of one
 * 64-bit word by a multiplication with a reciprocal. A fraction then needs
 * no loop over its digits or its trailing zeros: its last digit that is
 * not zero is the highest byte that is not zero.
 */
static inline uint64_t digits8(uint32_t v)
{
	uint64_t x = v / 10000 | (uint64_t)(v % 10000) << 32, q;

	q = (x * 10486) >> 20 & 0x0000007f0000007full;   /* / 100 below 10000 */
	x = q | (x - q * 100) << 16;
	q = (x * 103) >> 10 & 0x000f000f000f000full;     /* / 10 below 100 */
	return q | (x - q * 10) << 8;
}

char *twin_export_put_u(char *p, uint64_t v)
{
	int n;

	if (v < 100000000) {
		/* all 8 digits at once, less the leading zeros (0 keeps one) */
		uint64_t x = digits8((uint32_t)v);
		int lead = x ? __builtin_ctzll(x) >> 3 : 7;

		x = (x + 0x3030303030303030ull) >> (8 * lead);
		memcpy(p, &x, 8);
		p += 8 - lead;
		*p = '\0';
		return p;
	}
	n = count_digits(v);

	put_digits(p + n, v, n);
	p[n] = '\0';
	return p + n;
}

char *twin_export_put_i(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return twin_export_put_u(p, (uint64_t)0 - (uint64_t)v);
	}
	return twin_export_put_u(p, (uint64_t)v);
}

char *twin_export_put_fixed(char *p, double v, int decimals)
{
	static const double scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	static const uint32_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
					  100000000, 1000000000 };
	uint64_t n, whole, frac;
	double a;

	if (decimals < 0 || decimals > 9)
		decimals = 9;
	a = fabs(v) * scale[decimals];
	if (!(a < 4.6e18))
		return p + snprintf(p, 32, "%.17g", v);
	/* |v| rounded to a whole number of 10^-decimals; below 2^63, so signed */
	n = (uint64_t)(int64_t)(a + 0.5);
	/* the writers' precisions divide by a constant; others by a variable */
	switch (decimals) {
	case 5: whole = n / 100000; break;
	case 6: whole = n / 1000000; break;
	case 8: whole = n / 100000000; break;
	default: whole = n / pow10[decimals]; break;
	}
	frac = n - whole * pow10[decimals];
	/* no branch on the sign: half the numbers are negative, at random */
	*p = '-';
	p += (v < 0) & (n != 0);
	/* a unit vector's whole part is one digit: no call for it */
	if (whole < 10)
		*p++ = (char)('0' + whole);
	else
		p = twin_export_put_u(p, whole);
	*p = '\0';
	if (frac) {
		uint64_t x;

		*p++ = '.';
		if (decimals == 9) {
			*p++ = (char)('0' + frac / 100000000);
			frac %= 100000000;
		} else {
			frac *= pow10[8 - decimals];
		}
		/* the digits up to the last that is not zero */
		x = digits8((uint32_t)frac);
		memcpy(p, &(uint64_t){ x + 0x3030303030303030ull }, 8);
		p += x ? ((63 - __builtin_clzll(x)) >> 3) + 1 : 0;
		*p = '\0';
	}
	return p;
}

/* sep at p, without a call: it is a character or two */
static char *put_sep(char *p, const char *sep)
{
	while (*sep)
		*p++ = *sep++;
	return p;
}

int twin_export_ids_init(struct twin_err *err, struct twin_export_ids *t, size_t n, uint32_t base)
{
	t->n = n;
	t->slot = calloc(n ? n : 1, sizeof(*t->slot));
	if (!t->slot)
		return twin_err_set(err, TWIN_EFAIL, "text of %zu node ids: out of memory", n);
	for (size_t i = 0; i < n; i++)
		t->slot[i][15] = (char)(twin_export_put_u(t->slot[i], (uint64_t)i + base) - t->slot[i]);
	return 0;
}

void twin_export_ids_release(struct twin_export_ids *t)
{
	free(t->slot);
	t->slot = NULL;
}

char *twin_export_put_ids(char *p, const struct twin_export_ids *t, const uint32_t *ids, int n,
			  const char *sep)
{
	for (int k = 0; k < n; k++) {
		const char *s = t->slot[ids[k]];

		if (k)
			p = put_sep(p, sep);
		/* the whole slot: its digits, then zeros (the NUL) */
		memcpy(p, s, 16);
		p += s[15];
	}
	return p;
}

char *twin_export_put_xyz(char *p, const double *xyz, double scale, const char *sep)
{
	for (int k = 0; k < 3; k++) {
		if (k)
			p = put_sep(p, sep);
		p = twin_export_put_fixed(p, xyz[k] * scale, 6);
	}
	return p;
}

void twin_export_xml_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
}

void twin_export_ident(char out[TWIN_TETMESH_NAME_MAX + 3], const char *name)
{
	size_t n = 0;

	if (!isalpha((unsigned char)name[0])) {
		out[n++] = 'n';
		out[n++] = '_';
	}
	for (; *name && n < TWIN_TETMESH_NAME_MAX + 2; name++)
		out[n++] = isalnum((unsigned char)*name) || *name == '_' ? *name : '_';
	out[n] = '\0';
}

/* ---- the target folder ------------------------------------------------------ */

static const char *kind_name(int kind)
{
	switch (kind) {
	case TWIN_SURFACE_VALVE: return "valve";
	case TWIN_SURFACE_ENDOCARDIUM: return "endocardium";
	case TWIN_SURFACE_EPICARDIUM: return "epicardium";
	case TWIN_SURFACE_WALL: return "wall";
	case TWIN_SURFACE_INTERFACE: return "interface";
	case TWIN_SURFACE_INLET: return "inlet";
	case TWIN_SURFACE_OUTLET: return "outlet";
	}
	return "other";
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the files under dir (relative to top) to the README, sorted. */
static int list_files(struct twin_err *err, FILE *f, const char *top, const char *rel)
{
	char *path = rel ? twin_path_join(top, rel) : strdup(top);
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *e;
	DIR *d = NULL;
	int rc = -1;

	if (!path || !(d = opendir(path))) {
		if (path)
			twin_err_errno(err, "cannot list", path);
		else
			twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	while ((e = readdir(d))) {
		char **a;

		if (e->d_name[0] == '.')
			continue;
		a = realloc(names, (n + 1) * sizeof(*a));
		if (!a) {
			twin_err_set(err, TWIN_EFAIL, "out of memory");
			goto out;
		}
		names = a;
		names[n] = rel ? twin_path_join(rel, e->d_name) : strdup(e->d_name);
		if (!names[n]) {
			twin_err_set(err, TWIN_EFAIL, "out of memory");
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		char *full = twin_path_join(top, names[i]);
		struct stat st;

		if (!full) {
			twin_err_set(err, TWIN_EFAIL, "out of memory");
			goto out;
		}
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(full);
			if (list_files(err, f, top, names[i]) != 0)
				goto out;
			continue;
		}
		free(full);
		if (strcmp(names[i], "README.txt") != 0)
			fprintf(f, "  %s\n", names[i]);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	free(path);
	return rc;
}

static int write_readme(struct twin_err *err, const struct twin_export_target *t,
			const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_tetmesh_count *rc = NULL, *sc = NULL;
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	size_t nr = 0, ns = 0, i;
	int ret = -1;

	if (twin_tetmesh_region_counts(err, m, &rc, &nr) != 0 ||
	    twin_tetmesh_surface_counts(err, m, &sc, &ns) != 0)
		goto out;
	if (twin_export_open(err, &o, dir, "README.txt") != 0)
		goto out;
	fprintf(o.f, "twin-export target '%s'\n%s.\n\n", t->name, t->summary);
	fprintf(o.f, "Units: %s. Coordinates are patient LPS.\n", t->units);
	fprintf(o.f, "Numbers: %s.\n", t->numbers);
	fprintf(o.f, "Mesh: %zu nodes, %zu linear tetrahedra, %zu tagged triangles.\n\n",
		m->n_nodes, m->n_tets, m->n_tris);
	fprintf(o.f, "Regions (id, name, tetrahedra):\n");
	for (i = 0; i < nr; i++) {
		const char *name = twin_tetmesh_region_name(m, rc[i].tag);

		fprintf(o.f, "  %d %s %zu\n", rc[i].tag, name ? name : "(unnamed)", rc[i].count);
	}
	fprintf(o.f, "\nSurfaces (tag, name, kind, triangles):\n");
	for (i = 0; i < ns; i++) {
		const char *name = twin_tetmesh_surface_name(m, sc[i].tag);

		if (!name)
			continue;
		fprintf(o.f, "  %d %s %s %zu\n", sc[i].tag, name, kind_name(twin_surface_kind_of(name)),
			sc[i].count);
	}
	if (!t->fibres)
		fprintf(o.f, "\nFibres: none; this format has no place for them.\n");
	else if (x->fibres)
		fprintf(o.f, "\nFibres (fibre, sheet, sheet normal per tetrahedron, rule-based, LDRB): %s.\n",
			t->fibres);
	else
		fprintf(o.f, "\nFibres: none; the mesh has no myocardium or twin-export could not compute them (see its warning). With fibres: %s.\n",
			t->fibres);
	fprintf(o.f, "\nFiles:\n");
	if (list_files(err, o.f, dir, NULL) != 0)
		goto out;
	ret = twin_export_close(err, &o);
out:
	twin_export_abort(&o);
	free(rc);
	free(sc);
	return ret;
}

/*
 * Removes a folder tree, or the file or link that stood where a target folder
 * goes (never what a link points to); errors are ignored (it is our own
 * temporary or old folder).
 */
static void remove_tree(const char *path)
{
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			char *p;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if ((p = twin_path_join(path, e->d_name)))
				remove_tree(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(path);
}

int twin_export_target_write(struct twin_err *err, const struct twin_export_target *t,
			     const struct twin_export *x, const char *out_dir)
{
	char *final = twin_path_join(out_dir, t->name);
	char *tmp = NULL, *old = NULL;
	mode_t mask;
	size_t n;
	int rc = -1;

	if (!final)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	n = strlen(out_dir) + strlen(t->name) + 32;
	tmp = malloc(n);
	old = malloc(n);
	if (!tmp || !old) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	snprintf(tmp, n, "%s/.%s.tmp.XXXXXX", out_dir, t->name);
	snprintf(old, n, "%s/.%s.old.XXXXXX", out_dir, t->name);
	if (twin_mkdir_p(err, out_dir) != 0)
		goto out;
	if (!mkdtemp(tmp)) {
		twin_err_errno(err, "cannot create", tmp);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* mkdtemp makes the folder 0700; give it what mkdir would */
	mask = umask(0);
	umask(mask);
	chmod(tmp, 0777 & ~mask);
	if (t->write(err, x, tmp) != 0 || write_readme(err, t, x, tmp) != 0)
		goto out;
	if (twin_path_exists(final)) {
		/* move the old folder aside, then the new one in */
		if (!mkdtemp(old) || rmdir(old) != 0 || rename(final, old) != 0) {
			twin_err_errno(err, "cannot replace", final);
			goto out;
		}
		if (rename(tmp, final) != 0) {
			twin_err_errno(err, "cannot rename into", final);
			rename(old, final);
			goto out;
		}
		remove_tree(old);
	} else if (rename(tmp, final) != 0) {
		twin_err_errno(err, "cannot rename into", final);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && tmp)
		remove_tree(tmp);
	free(tmp);
	free(old);
	free(final);
	return rc;
}
