#include "msh.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

/*
 * Gmsh's own reader lives in the Gmsh library, which needs a model, a
 * session and C++; twin-export must read meshes without any of that, so the
 * MSH 4.1 layout is parsed here, from the format's documentation.
 */

/* --- reading: a cursor over the file ------------------------------------- */

struct rd {
	struct twin_err *err;
	const char *name;
	const char *p;
	const char *end;
	int binary;
	int swap;          /* binary file of the other byte order */
	const char *sec;   /* the section being read, for messages */
};

static int rd_vfail(struct rd *r, enum twin_code code, int with_sec, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_sec && r->sec)
		return twin_err_set(r->err, code, "cannot read '%s': %s: %s", r->name, r->sec, msg);
	return twin_err_set(r->err, code, "cannot read '%s': %s", r->name, msg);
}

/* A fault in the current section: TWIN_EINPUT. */
static int fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rd_vfail(r, TWIN_EINPUT, 1, fmt, ap);
	va_end(ap);
	return -1;
}

/* Valid data that this reader does not take: TWIN_EUNSUPPORTED. */
static int unsupported(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int unsupported(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rd_vfail(r, TWIN_EUNSUPPORTED, 0, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

/*
 * Fails unless count items of at least each bytes can still be in the file,
 * so that no count read from the file allocates more than the file holds.
 */
static int need(struct rd *r, size_t count, size_t each, const char *what)
{
	if (count > left(r) / each)
		return fail(r, "%zu %s cannot fit in the %zu bytes left", count, what, left(r));
	return 0;
}

/* How much of the text at p to quote in a message: up to 20 printable characters of one line. */
static int quote_len(const struct rd *r)
{
	int n = 0;

	while (n < 20 && r->p + n < r->end && (unsigned char)r->p[n] >= 0x20 && (unsigned char)r->p[n] < 0x7f)
		n++;
	return n;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct rd *r)
{
	while (r->p < r->end && is_space(*r->p))
		r->p++;
}

/* The next ASCII token, NUL-terminated in buf. */
static int token(struct rd *r, char *buf, size_t cap, const char *what)
{
	size_t n = 0;

	skip_space(r);
	if (r->p == r->end)
		return fail(r, "truncated: %s is missing", what);
	if (*r->p == '$')
		return fail(r, "%s is missing before '%.*s'", what, quote_len(r), r->p);
	while (r->p < r->end && !is_space(*r->p)) {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20 || c >= 0x7f)
			return fail(r, "%s holds the byte 0x%02x, which is not text", what, c);
		if (n + 1 >= cap)
			return fail(r, "%s '%.*s...' is too long", what, (int)n, r->p - n);
		buf[n++] = *r->p++;
	}
	buf[n] = '\0';
	return 0;
}

static void swap_bytes(void *v, size_t n)
{
	unsigned char *b = v;

	for (size_t i = 0; i < n / 2; i++) {
		unsigned char t = b[i];
		b[i] = b[n - 1 - i];
		b[n - 1 - i] = t;
	}
}

static int take(struct rd *r, void *v, size_t n, const char *what)
{
	if (left(r) < n)
		return fail(r, "truncated: %s is missing", what);
	memcpy(v, r->p, n);
	r->p += n;
	if (r->swap)
		swap_bytes(v, n);
	return 0;
}

/* A size_t of the format: unsigned decimal, or 8 binary bytes. */
static int rd_size(struct rd *r, uint64_t *v, const char *what)
{
	char tok[32];
	uint64_t x = 0;

	if (r->binary)
		return take(r, v, 8, what);
	if (token(r, tok, sizeof(tok), what) != 0)
		return -1;
	for (const char *c = tok; *c; c++) {
		if (*c < '0' || *c > '9' || x > (UINT64_MAX - 9) / 10)
			return fail(r, "bad %s '%s'", what, tok);
		x = 10 * x + (uint64_t)(*c - '0');
	}
	*v = x;
	return 0;
}

/* An int of the format: signed decimal, or 4 binary bytes. */
static int rd_int(struct rd *r, int *v, const char *what)
{
	char tok[32];
	char *e = NULL;
	long x;

	if (r->binary) {
		int32_t b;
		if (take(r, &b, 4, what) != 0)
			return -1;
		*v = b;
		return 0;
	}
	if (token(r, tok, sizeof(tok), what) != 0)
		return -1;
	errno = 0;
	x = strtol(tok, &e, 10);
	if (errno || *e || e == tok || x < INT_MIN || x > INT_MAX)
		return fail(r, "bad %s '%s'", what, tok);
	*v = (int)x;
	return 0;
}

static int rd_double(struct rd *r, double *v, const char *what)
{
	char tok[64];
	char *e = NULL;

	if (r->binary) {
		if (take(r, v, 8, what) != 0)
			return -1;
	} else {
		if (token(r, tok, sizeof(tok), what) != 0)
			return -1;
		*v = strtod(tok, &e);
		if (*e || e == tok)
			return fail(r, "bad %s '%s'", what, tok);
	}
	if (!isfinite(*v))
		return fail(r, "%s is not finite", what);
	return 0;
}

/* Skips an ASCII token or binary bytes without reading them. */
static int skip_items(struct rd *r, uint64_t count, size_t bytes, const char *what)
{
	char tok[64];

	if (r->binary) {
		if (need(r, count, bytes, what) != 0)
			return -1;
		r->p += count * bytes;
		return 0;
	}
	for (uint64_t i = 0; i < count; i++)
		if (token(r, tok, sizeof(tok), what) != 0)
			return -1;
	return 0;
}

/* Reads "$<word>" at a line start into name. 0 at end of file, 1 when read. */
static int section_header(struct rd *r, char *name, size_t cap)
{
	size_t n = 0;

	skip_space(r);
	if (r->p == r->end)
		return 0;
	if (*r->p != '$')
		return fail(r, "unexpected text '%.*s' between sections", quote_len(r), r->p);
	while (r->p < r->end && !is_space(*r->p)) {
		if (n + 1 >= cap || (unsigned char)*r->p < 0x20 || (unsigned char)*r->p > 0x7e)
			return fail(r, "bad section header '%.*s'", (int)n, r->p - n);
		name[n++] = *r->p++;
	}
	name[n] = '\0';
	/* Binary data starts right after the header line. */
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
	if (r->p < r->end && *r->p == '\n')
		r->p++;
	return 1;
}

/* Expects "$End<name>" after the current section. */
static int section_end(struct rd *r, const char *sec)
{
	char want[80];
	size_t n;

	snprintf(want, sizeof(want), "$End%s", sec + 1);
	n = strlen(want);
	skip_space(r);
	if (left(r) < n || memcmp(r->p, want, n) != 0 || (left(r) > n && !is_space(r->p[n]))) {
		if (r->p == r->end)
			return fail(r, "missing %s", want);
		return fail(r, "missing %s (found '%.*s')", want, quote_len(r), r->p);
	}
	r->p += n;
	return 0;
}

/* Skips a section this reader does not use, up to its $End line. */
static int section_skip(struct rd *r, const char *sec)
{
	char want[80];
	size_t n;

	snprintf(want, sizeof(want), "$End%s", sec + 1);
	n = strlen(want);
	while (r->p < r->end) {
		const char *d = memchr(r->p, '$', left(r));
		if (!d)
			break;
		r->p = d;
		if ((d[-1] == '\n' || d[-1] == '\r') && left(r) >= n && memcmp(d, want, n) == 0 &&
		    (left(r) == n || is_space(d[n]))) {
			r->p += n;
			return 0;
		}
		r->p++;
	}
	return fail(r, "missing %s", want);
}

/* --- reading: the sections ------------------------------------------------ */

struct phys_name {
	int dim;
	int tag;
	const char *name;  /* into the file, not NUL-terminated */
	size_t len;
};

struct entity {
	int tag;
	int phys;          /* first physical tag, 0 when none */
};

struct msh {
	struct phys_name *names;
	size_t n_names;
	struct entity *ent[4];  /* by dimension; 0 and 1 are read and dropped */
	size_t n_ent[4];
	int have_names, have_entities, have_nodes, have_elements;

	/* nodes, sorted by tag */
	size_t n_nodes;
	uint64_t *tags;
	double *xyz;
	uint32_t *dense;        /* tag -> index + 1 when tags are dense, else NULL */
	uint64_t dense_len;

	/* kept elements: node indices and entity tags */
	uint32_t *tets;
	int32_t *tet_ent;
	size_t n_tets, cap_tets;
	uint32_t *tris;
	int32_t *tri_ent;
	size_t n_tris, cap_tris;
	size_t skipped;
	int high_order_tri;     /* the first high-order triangle type met */
};

static void msh_release(struct msh *m)
{
	free(m->names);
	for (int d = 0; d < 4; d++)
		free(m->ent[d]);
	free(m->tags);
	free(m->xyz);
	free(m->dense);
	free(m->tets);
	free(m->tet_ent);
	free(m->tris);
	free(m->tri_ent);
}

static int nomem(struct rd *r)
{
	return twin_err_set(r->err, TWIN_EFAIL, "cannot read '%s': %s: out of memory",
			    r->name, r->sec ? r->sec : "");
}

static int read_format(struct rd *r)
{
	char ver[32];
	int type = 0;
	uint64_t size = 0;

	r->sec = "$MeshFormat";
	if (token(r, ver, sizeof(ver), "version") != 0)
		return -1;
	if (strcmp(ver, "4.1") != 0) {
		char *e = NULL;
		double v = strtod(ver, &e);
		if (*e || e == ver || !(v >= 1 && v < 100))
			return fail(r, "bad version '%s'", ver);
		return unsupported(r, "MSH version %s is not supported, only 4.1; "
				   "convert the file with 'gmsh %s -save -format msh41 -o new.msh'",
				   ver, r->name);
	}
	if (rd_int(r, &type, "file type") != 0 || rd_size(r, &size, "data size") != 0)
		return -1;
	if (type != 0 && type != 1)
		return fail(r, "bad file type %d (0 is ASCII, 1 binary)", type);
	if (type == 1) {
		int32_t one = 0;
		if (size != 8)
			return unsupported(r, "binary data size %llu is not supported, only 8",
					   (unsigned long long)size);
		while (r->p < r->end && *r->p != '\n')
			r->p++;
		if (r->p == r->end)
			return fail(r, "truncated before the byte order mark");
		r->p++;
		if (take(r, &one, 4, "byte order mark") != 0)
			return -1;
		if (one == 0x01000000)
			r->swap = 1;
		else if (one != 1)
			return fail(r, "bad byte order mark 0x%08x", (unsigned)one);
		r->binary = 1;
	}
	return 0;
}

/* $PhysicalNames is ASCII in binary files too. */
static int read_names(struct rd *r, struct msh *m)
{
	int binary = r->binary;
	uint64_t n = 0;
	int rc = -1;

	r->binary = 0;
	if (rd_size(r, &n, "number of names") != 0 || need(r, n, 8, "names") != 0)
		goto out;
	m->names = calloc(n ? n : 1, sizeof(*m->names));
	if (!m->names) {
		nomem(r);
		goto out;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct phys_name *pn = m->names + i;
		const char *q;
		if (rd_int(r, &pn->dim, "dimension") != 0 || rd_int(r, &pn->tag, "physical tag") != 0)
			goto out;
		while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
			r->p++;
		if (r->p == r->end || *r->p != '"') {
			fail(r, "name of physical group %d is not in quotes", pn->tag);
			goto out;
		}
		q = ++r->p;
		while (r->p < r->end && *r->p != '"' && *r->p != '\n')
			r->p++;
		if (r->p == r->end || *r->p != '"') {
			fail(r, "name of physical group %d has no closing quote", pn->tag);
			goto out;
		}
		pn->name = q;
		pn->len = (size_t)(r->p - q);
		r->p++;
		m->n_names++;
	}
	m->have_names = 1;
	rc = 0;
out:
	r->binary = binary;
	return rc;
}

static int read_entities(struct rd *r, struct msh *m)
{
	static const char *const what[4] = { "points", "curves", "surfaces", "volumes" };
	uint64_t count[4];

	for (int d = 0; d < 4; d++)
		if (rd_size(r, &count[d], "number of entities") != 0)
			return -1;
	for (int d = 0; d < 4; d++) {
		/* the fewest bytes an entity takes: a point 4 numbers, others 9 */
		size_t least = r->binary ? (d ? 68 : 36) : (d ? 18 : 8);
		if (need(r, count[d], least, what[d]) != 0)
			return -1;
		m->ent[d] = calloc(count[d] ? count[d] : 1, sizeof(*m->ent[d]));
		if (!m->ent[d])
			return nomem(r);
		for (uint64_t i = 0; i < count[d]; i++) {
			struct entity *e = m->ent[d] + i;
			uint64_t nphys = 0, nbound = 0;
			double box[6];
			if (rd_int(r, &e->tag, "entity tag") != 0)
				return -1;
			for (int k = 0; k < (d ? 6 : 3); k++)
				if (rd_double(r, &box[k], "bounding box") != 0)
					return -1;
			if (rd_size(r, &nphys, "number of physical tags") != 0 ||
			    need(r, nphys, r->binary ? 4 : 2, "physical tags") != 0)
				return -1;
			for (uint64_t k = 0; k < nphys; k++) {
				int phys;
				if (rd_int(r, &phys, "physical tag") != 0)
					return -1;
				if (k == 0)
					e->phys = phys;
			}
			if (d > 0 && (rd_size(r, &nbound, "number of bounding entities") != 0 ||
				      skip_items(r, nbound, 4, "bounding entities") != 0))
				return -1;
			m->n_ent[d]++;
		}
	}
	m->have_entities = 1;
	return 0;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Orders the nodes by tag and builds the tag lookup. */
static int index_nodes(struct rd *r, struct msh *m)
{
	int sorted = 1;

	for (size_t i = 1; i < m->n_nodes && sorted; i++)
		sorted = m->tags[i - 1] < m->tags[i];
	if (!sorted) {
		/* Sort (tag, index) pairs, then gather the coordinates. */
		uint64_t *pair = malloc(m->n_nodes * 2 * sizeof(*pair));
		double *xyz = malloc(m->n_nodes * 3 * sizeof(*xyz));
		if (!pair || !xyz) {
			free(pair);
			free(xyz);
			return nomem(r);
		}
		for (size_t i = 0; i < m->n_nodes; i++) {
			pair[2 * i] = m->tags[i];
			pair[2 * i + 1] = i;
		}
		qsort(pair, m->n_nodes, 2 * sizeof(*pair), by_u64);
		for (size_t i = 0; i < m->n_nodes; i++) {
			m->tags[i] = pair[2 * i];
			memcpy(xyz + 3 * i, m->xyz + 3 * pair[2 * i + 1], 3 * sizeof(double));
		}
		free(pair);
		free(m->xyz);
		m->xyz = xyz;
		for (size_t i = 1; i < m->n_nodes; i++)
			if (m->tags[i - 1] == m->tags[i])
				return fail(r, "node tag %llu is defined twice",
					    (unsigned long long)m->tags[i]);
	}
	if (m->n_nodes && m->tags[m->n_nodes - 1] <= 2 * (uint64_t)m->n_nodes + 1024) {
		m->dense_len = m->tags[m->n_nodes - 1] + 1;
		m->dense = calloc(m->dense_len, sizeof(*m->dense));
		if (!m->dense)
			return nomem(r);
		for (size_t i = 0; i < m->n_nodes; i++)
			m->dense[m->tags[i]] = (uint32_t)i + 1;
	}
	return 0;
}

static int read_nodes(struct rd *r, struct msh *m)
{
	uint64_t blocks = 0, total = 0, lo = 0, hi = 0;
	size_t done = 0;

	if (rd_size(r, &blocks, "number of blocks") != 0 || rd_size(r, &total, "number of nodes") != 0 ||
	    rd_size(r, &lo, "minimum node tag") != 0 || rd_size(r, &hi, "maximum node tag") != 0)
		return -1;
	if (need(r, total, r->binary ? 32 : 8, "nodes") != 0)
		return -1;
	if (total > UINT32_MAX - 1)
		return unsupported(r, "%llu nodes are more than this reader takes",
				   (unsigned long long)total);
	m->tags = malloc((total ? total : 1) * sizeof(*m->tags));
	m->xyz = malloc((total ? total : 1) * 3 * sizeof(*m->xyz));
	if (!m->tags || !m->xyz)
		return nomem(r);
	for (uint64_t b = 0; b < blocks; b++) {
		int dim = 0, tag = 0, param = 0;
		uint64_t count = 0;
		size_t extra;
		if (rd_int(r, &dim, "entity dimension") != 0 || rd_int(r, &tag, "entity tag") != 0 ||
		    rd_int(r, &param, "parametric flag") != 0 || rd_size(r, &count, "number of nodes in block") != 0)
			return -1;
		if (dim < 0 || dim > 3)
			return fail(r, "block %llu: bad entity dimension %d", (unsigned long long)b, dim);
		if (param != 0 && param != 1)
			return fail(r, "block %llu: bad parametric flag %d", (unsigned long long)b, param);
		if (count > total - done)
			return fail(r, "blocks hold more nodes than the %llu announced",
				    (unsigned long long)total);
		extra = param ? (size_t)dim : 0;
		for (uint64_t i = 0; i < count; i++) {
			if (rd_size(r, &m->tags[done + i], "node tag") != 0)
				return -1;
			if (m->tags[done + i] == 0)
				return fail(r, "node tag 0 is not valid");
		}
		for (uint64_t i = 0; i < count; i++) {
			double *x = m->xyz + 3 * (done + i);
			for (int k = 0; k < 3; k++)
				if (rd_double(r, &x[k], "node coordinate") != 0)
					return -1;
			for (size_t k = 0; k < extra; k++) {
				double u;
				if (rd_double(r, &u, "parametric coordinate") != 0)
					return -1;
			}
		}
		done += count;
	}
	if (done != total)
		return fail(r, "blocks hold %zu nodes, not the %llu announced", done,
			    (unsigned long long)total);
	m->n_nodes = done;
	m->have_nodes = 1;
	return index_nodes(r, m);
}

static int node_index(struct rd *r, const struct msh *m, uint64_t tag, uint32_t *out)
{
	if (m->dense) {
		if (tag < m->dense_len && m->dense[tag]) {
			*out = m->dense[tag] - 1;
			return 0;
		}
	} else {
		size_t lo = 0, hi = m->n_nodes;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->tags[mid] < tag)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < m->n_nodes && m->tags[lo] == tag) {
			*out = (uint32_t)lo;
			return 0;
		}
	}
	return fail(r, "node tag %llu is not defined", (unsigned long long)tag);
}

/* Nodes per element of the Gmsh element types, 0 for unknown types. */
static size_t type_nodes(int type)
{
	static const unsigned char n[] = {
		0, 2, 3, 4, 4, 8, 6, 5, 3, 6, 9, 10, 27, 18, 14, 1, 8, 20, 15, 13,
		9, 10, 12, 15, 15, 21, 4, 5, 6, 20, 35, 56
	};

	if (type >= 0 && type < (int)sizeof(n))
		return n[type];
	if (type == 92)
		return 64;
	if (type == 93)
		return 125;
	return 0;
}

/* Grows an element array pair to hold more elements of nn nodes. */
static int reserve(struct rd *r, uint32_t **nodes, int32_t **ent, size_t *cap,
		   size_t have, uint64_t more, size_t nn)
{
	size_t want = have + more;
	uint32_t *nv;
	int32_t *ne;

	if (want <= *cap)
		return 0;
	if (*cap * 2 > want)
		want = *cap * 2;
	nv = realloc(*nodes, want * nn * sizeof(**nodes));
	if (!nv)
		return nomem(r);
	*nodes = nv;
	ne = realloc(*ent, want * sizeof(**ent));
	if (!ne)
		return nomem(r);
	*ent = ne;
	*cap = want;
	return 0;
}

static int read_block_elements(struct rd *r, struct msh *m, int tag, uint64_t count,
			       size_t nn, uint32_t *nodes, int32_t *ent)
{
	for (uint64_t i = 0; i < count; i++) {
		uint64_t etag, nt;
		if (rd_size(r, &etag, "element tag") != 0)
			return -1;
		for (size_t k = 0; k < nn; k++)
			if (rd_size(r, &nt, "node tag") != 0 ||
			    node_index(r, m, nt, nodes + i * nn + k) != 0)
				return -1;
		ent[i] = tag;
	}
	return 0;
}

static int read_elements(struct rd *r, struct msh *m)
{
	uint64_t blocks = 0, total = 0, lo = 0, hi = 0, done = 0;

	if (!m->have_nodes)
		return fail(r, "the section comes before $Nodes");
	if (rd_size(r, &blocks, "number of blocks") != 0 || rd_size(r, &total, "number of elements") != 0 ||
	    rd_size(r, &lo, "minimum element tag") != 0 || rd_size(r, &hi, "maximum element tag") != 0)
		return -1;
	if (need(r, total, r->binary ? 16 : 4, "elements") != 0)
		return -1;
	for (uint64_t b = 0; b < blocks; b++) {
		int dim = 0, tag = 0, type = 0;
		uint64_t count = 0;
		size_t nn;
		if (rd_int(r, &dim, "entity dimension") != 0 || rd_int(r, &tag, "entity tag") != 0 ||
		    rd_int(r, &type, "element type") != 0 || rd_size(r, &count, "number of elements in block") != 0)
			return -1;
		if (count > total - done)
			return fail(r, "blocks hold more elements than the %llu announced",
				    (unsigned long long)total);
		nn = type_nodes(type);
		if (type == 11)
			return unsupported(r, "second-order tetrahedra (type 11) are not supported");
		if (type == 29 || type == 30 || type == 31)
			return unsupported(r, "high-order tetrahedra (type %d) are not supported", type);
		if (nn == 0)
			return unsupported(r, "element type %d is unknown", type);
		if (need(r, count, (r->binary ? 8 : 2) * (nn + 1), "elements") != 0)
			return -1;
		if (count == 0)
			continue;
		if (type == 4) {
			if (reserve(r, &m->tets, &m->tet_ent, &m->cap_tets, m->n_tets, count, 4) != 0 ||
			    read_block_elements(r, m, tag, count, 4, m->tets + 4 * m->n_tets,
						m->tet_ent + m->n_tets) != 0)
				return -1;
			m->n_tets += count;
		} else if (type == 2) {
			if (reserve(r, &m->tris, &m->tri_ent, &m->cap_tris, m->n_tris, count, 3) != 0 ||
			    read_block_elements(r, m, tag, count, 3, m->tris + 3 * m->n_tris,
						m->tri_ent + m->n_tris) != 0)
				return -1;
			m->n_tris += count;
		} else {
			if ((type == 9 || (type >= 20 && type <= 25)) && !m->high_order_tri)
				m->high_order_tri = type;
			if (skip_items(r, count * (nn + 1), 8, "elements") != 0)
				return -1;
			m->skipped += count;
		}
		done += count;
	}
	if (done != total)
		return fail(r, "blocks hold %llu elements, not the %llu announced",
			    (unsigned long long)done, (unsigned long long)total);
	m->have_elements = 1;
	return 0;
}

/* --- reading: from the sections to a mesh --------------------------------- */

static int by_entity_tag(const void *a, const void *b)
{
	int x = ((const struct entity *)a)->tag, y = ((const struct entity *)b)->tag;

	return (x > y) - (x < y);
}

/* Replaces entity tags by the first physical tag of each entity. */
static int to_physical(struct rd *r, struct msh *m, int dim, int32_t *tags, size_t n)
{
	struct entity *e = m->ent[dim];
	size_t ne = m->n_ent[dim];
	int32_t last_tag = 0, last_phys = 0;
	int have_last = 0;

	if (ne)
		qsort(e, ne, sizeof(*e), by_entity_tag);
	for (size_t i = 1; i < ne; i++)
		if (e[i - 1].tag == e[i].tag)
			return fail(r, "%s entity %d is defined twice", dim == 3 ? "volume" : "surface",
				    e[i].tag);
	for (size_t i = 0; i < n; i++) {
		if (!have_last || tags[i] != last_tag) {
			struct entity key = { .tag = tags[i], .phys = 0 };
			struct entity *hit = ne ? bsearch(&key, e, ne, sizeof(*e), by_entity_tag) : NULL;
			last_tag = tags[i];
			last_phys = hit ? hit->phys : 0;
			have_last = 1;
		}
		tags[i] = last_phys;
	}
	return 0;
}

static struct twin_tetmesh *build_mesh(struct rd *r, struct msh *m, struct twin_msh_info *info)
{
	struct twin_tetmesh *mesh = NULL;
	uint32_t *remap = NULL;
	size_t used = 0;

	r->sec = NULL;
	if (m->n_tets == 0) {
		fail(r, "no tetrahedra (type 4) in the file; is it a surface mesh?");
		goto fail;
	}
	if (m->high_order_tri) {
		unsupported(r, "second-order triangles (type %d) are not supported", m->high_order_tri);
		goto fail;
	}
	r->sec = "$Entities";
	if (to_physical(r, m, 3, m->tet_ent, m->n_tets) != 0 ||
	    to_physical(r, m, 2, m->tri_ent, m->n_tris) != 0)
		goto fail;
	r->sec = NULL;
	/* Keep the nodes that elements use, in tag order. */
	remap = malloc(m->n_nodes * sizeof(*remap));
	if (!remap) {
		nomem(r);
		goto fail;
	}
	memset(remap, 0xff, m->n_nodes * sizeof(*remap));
	for (size_t i = 0; i < 4 * m->n_tets; i++)
		remap[m->tets[i]] = 0;
	for (size_t i = 0; i < 3 * m->n_tris; i++)
		remap[m->tris[i]] = 0;
	for (size_t i = 0; i < m->n_nodes; i++)
		if (remap[i] == 0)
			remap[i] = (uint32_t)used++;
	mesh = twin_tetmesh_new(r->err, used, m->n_tets, m->n_tris);
	if (!mesh) {
		twin_err_prefix(r->err, "cannot read '%s'", r->name);
		goto fail;
	}
	for (size_t i = 0; i < m->n_nodes; i++)
		if (remap[i] != UINT32_MAX)
			memcpy(mesh->xyz + 3 * (size_t)remap[i], m->xyz + 3 * i, 3 * sizeof(double));
	for (size_t i = 0; i < 4 * m->n_tets; i++)
		mesh->tets[i] = remap[m->tets[i]];
	for (size_t i = 0; i < 3 * m->n_tris; i++)
		mesh->tris[i] = remap[m->tris[i]];
	memcpy(mesh->tet_region, m->tet_ent, m->n_tets * sizeof(int32_t));
	if (m->n_tris)
		memcpy(mesh->tri_surface, m->tri_ent, m->n_tris * sizeof(int32_t));
	for (size_t i = 0; i < m->n_names; i++) {
		const struct phys_name *pn = m->names + i;
		char name[TWIN_TETMESH_NAME_MAX + 2];
		int rc = 0;
		if (pn->dim != 2 && pn->dim != 3)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(pn->len < sizeof(name) - 1 ? pn->len : sizeof(name) - 1),
			 pn->name);
		if (pn->dim == 3)
			rc = twin_tetmesh_set_region_name(r->err, mesh, pn->tag, name);
		else
			rc = twin_tetmesh_set_surface_name(r->err, mesh, pn->tag, name);
		if (rc != 0) {
			twin_err_prefix(r->err, "cannot read '%s': $PhysicalNames", r->name);
			goto fail;
		}
	}
	twin_tetmesh_orient(mesh);
	if (info) {
		info->binary = r->binary;
		info->skipped_elements = m->skipped;
		info->dropped_nodes = m->n_nodes - used;
	}
	free(remap);
	return mesh;
fail:
	free(remap);
	twin_tetmesh_free(mesh);
	return NULL;
}

struct twin_tetmesh *twin_msh_parse(struct twin_err *err, const char *name,
				    const void *buf, size_t len, struct twin_msh_info *info)
{
	struct rd r = { .err = err, .name = name, .p = buf, .end = (const char *)buf + len };
	struct msh m;
	struct twin_tetmesh *mesh = NULL;
	char sec[72];
	int got;

	memset(&m, 0, sizeof(m));
	if (info)
		memset(info, 0, sizeof(*info));
	skip_space(&r);
	if (left(&r) < 12 || memcmp(r.p, "$MeshFormat", 11) != 0 || !is_space(r.p[11])) {
		fail(&r, "not an MSH file: it does not start with $MeshFormat");
		goto out;
	}
	r.p += 11;
	if (read_format(&r) != 0 || section_end(&r, "$MeshFormat") != 0)
		goto out;
	r.sec = NULL;
	while ((got = section_header(&r, sec, sizeof(sec))) == 1) {
		int rc, *seen = NULL;
		r.sec = sec;
		if (strcmp(sec, "$PhysicalNames") == 0)
			seen = &m.have_names;
		else if (strcmp(sec, "$Entities") == 0)
			seen = &m.have_entities;
		else if (strcmp(sec, "$Nodes") == 0)
			seen = &m.have_nodes;
		else if (strcmp(sec, "$Elements") == 0)
			seen = &m.have_elements;
		else if (strcmp(sec, "$MeshFormat") == 0) {
			fail(&r, "the section appears twice");
			goto out;
		}
		if (seen && *seen) {
			fail(&r, "the section appears twice");
			goto out;
		}
		if (seen == &m.have_names)
			rc = read_names(&r, &m);
		else if (seen == &m.have_entities)
			rc = read_entities(&r, &m);
		else if (seen == &m.have_nodes)
			rc = read_nodes(&r, &m);
		else if (seen == &m.have_elements)
			rc = read_elements(&r, &m);
		else
			rc = section_skip(&r, sec);
		if (rc != 0 || (seen && section_end(&r, sec) != 0))
			goto out;
		r.sec = NULL;
	}
	if (got < 0)
		goto out;
	mesh = build_mesh(&r, &m, info);
out:
	msh_release(&m);
	return mesh;
}

struct twin_tetmesh *twin_msh_load_mem(struct twin_err *err, const char *name,
				       const void *buf, size_t len)
{
	return twin_msh_parse(err, name, buf, len, NULL);
}

struct twin_tetmesh *twin_msh_load(struct twin_err *err, const char *path)
{
	struct twin_tetmesh *mesh;
	size_t len = 0;
	void *buf = twin_file_read(err, path, &len);

	if (!buf)
		return NULL;
	mesh = twin_msh_parse(err, path, buf, len, NULL);
	free(buf);
	return mesh;
}

/* --- writing --------------------------------------------------------------- */

struct wr {
	FILE *f;
	int binary;
	int bad;
	size_t n;
	char buf[1 << 16];
};

static void w_flush(struct wr *w)
{
	if (w->n && fwrite(w->buf, 1, w->n, w->f) != w->n)
		w->bad = 1;
	w->n = 0;
}

static void w_bytes(struct wr *w, const void *p, size_t n)
{
	if (sizeof(w->buf) - w->n < n) {
		w_flush(w);
		if (n > sizeof(w->buf)) {
			if (fwrite(p, 1, n, w->f) != n)
				w->bad = 1;
			return;
		}
	}
	memcpy(w->buf + w->n, p, n);
	w->n += n;
}

static void w_text(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_text(struct wr *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		w->bad = 1;
	else
		w_bytes(w, line, (size_t)n);
}

/* Numbers of the format: binary, or ASCII followed by sep. */
static void w_size(struct wr *w, uint64_t v, char sep)
{
	if (w->binary)
		w_bytes(w, &v, 8);
	else
		w_text(w, "%llu%c", (unsigned long long)v, sep);
}

static void w_int(struct wr *w, int32_t v, char sep)
{
	if (w->binary)
		w_bytes(w, &v, 4);
	else
		w_text(w, "%d%c", (int)v, sep);
}

static void w_double(struct wr *w, double v, char sep)
{
	if (w->binary)
		w_bytes(w, &v, 8);
	else
		w_text(w, "%.17g%c", v, sep);
}

/* An entity of the written file: volumes first, then surfaces. */
struct went {
	int dim;
	int tag;
	int32_t phys;
	double box[6];
	int empty;
	size_t n_nodes;
};

struct wplan {
	struct twin_tetmesh_count *regions, *surfaces;
	size_t n_regions, n_surfaces;
	struct went *ent;
	size_t n_ent;
	uint32_t *owner;  /* per node: its entity */
	uint32_t *order;  /* nodes grouped by entity */
	size_t *start;    /* per entity: first position in order */
};

static void wplan_release(struct wplan *p)
{
	free(p->regions);
	free(p->surfaces);
	free(p->ent);
	free(p->owner);
	free(p->order);
	free(p->start);
}

static size_t find_count(const struct twin_tetmesh_count *c, size_t n, int32_t tag)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void expand(struct went *e, const double *x)
{
	if (e->empty) {
		for (int k = 0; k < 3; k++)
			e->box[k] = e->box[k + 3] = x[k];
		e->empty = 0;
		return;
	}
	for (int k = 0; k < 3; k++) {
		if (x[k] < e->box[k])
			e->box[k] = x[k];
		if (x[k] > e->box[k + 3])
			e->box[k + 3] = x[k];
	}
}

/* The entity of each element, the owner and bounding box of each node. */
static int plan(struct twin_err *err, const char *path, const struct twin_tetmesh *mesh,
		struct wplan *p)
{
	size_t nv, n_ent;

	if (twin_tetmesh_region_counts(err, mesh, &p->regions, &p->n_regions) != 0 ||
	    twin_tetmesh_surface_counts(err, mesh, &p->surfaces, &p->n_surfaces) != 0)
		return twin_err_prefix(err, "cannot write '%s'", path);
	if (p->n_regions && p->regions[0].tag < 0)
		return twin_err_set(err, TWIN_EINPUT, "cannot write '%s': region %d is negative",
				    path, (int)p->regions[0].tag);
	if (p->n_surfaces && p->surfaces[0].tag < 0)
		return twin_err_set(err, TWIN_EINPUT, "cannot write '%s': surface %d is negative",
				    path, (int)p->surfaces[0].tag);
	/* Nodes need an entity: without elements, one volume entity holds them. */
	nv = p->n_regions || p->n_surfaces ? p->n_regions : 1;
	n_ent = nv + p->n_surfaces;
	p->n_ent = n_ent;
	p->ent = calloc(n_ent, sizeof(*p->ent));
	p->owner = malloc((mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*p->owner));
	p->order = malloc((mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*p->order));
	p->start = calloc(n_ent + 1, sizeof(*p->start));
	if (!p->ent || !p->owner || !p->order || !p->start)
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
	for (size_t e = 0; e < n_ent; e++) {
		struct went *w = p->ent + e;
		w->dim = e < nv ? 3 : 2;
		w->tag = (int)(e < nv ? e + 1 : e - nv + 1);
		if (e < p->n_regions)
			w->phys = p->regions[e].tag;
		else if (e >= nv)
			w->phys = p->surfaces[e - nv].tag;
		w->empty = 1;
	}
	memset(p->owner, 0xff, (mesh->n_nodes ? mesh->n_nodes : 1) * sizeof(*p->owner));
	for (size_t t = 0; t < mesh->n_tets; t++) {
		size_t e = find_count(p->regions, p->n_regions, mesh->tet_region[t]);
		for (int k = 0; k < 4; k++) {
			uint32_t n = mesh->tets[4 * t + k];
			if (n >= mesh->n_nodes)
				return twin_err_set(err, TWIN_EINPUT,
						    "cannot write '%s': tetrahedron %zu: node index %u is out of range",
						    path, t, (unsigned)n);
			if (p->owner[n] == UINT32_MAX)
				p->owner[n] = (uint32_t)e;
			expand(p->ent + e, mesh->xyz + 3 * (size_t)n);
		}
	}
	for (size_t i = 0; i < mesh->n_tris; i++) {
		size_t e = nv + find_count(p->surfaces, p->n_surfaces, mesh->tri_surface[i]);
		for (int k = 0; k < 3; k++) {
			uint32_t n = mesh->tris[3 * i + k];
			if (n >= mesh->n_nodes)
				return twin_err_set(err, TWIN_EINPUT,
						    "cannot write '%s': triangle %zu: node index %u is out of range",
						    path, i, (unsigned)n);
			if (p->owner[n] == UINT32_MAX)
				p->owner[n] = (uint32_t)e;
			expand(p->ent + e, mesh->xyz + 3 * (size_t)n);
		}
	}
	for (size_t n = 0; n < mesh->n_nodes; n++) {
		if (p->owner[n] == UINT32_MAX) {
			p->owner[n] = 0;
			expand(p->ent, mesh->xyz + 3 * n);
		}
		p->ent[p->owner[n]].n_nodes++;
	}
	/* Counting sort of the nodes by entity, keeping index order within one. */
	for (size_t e = 0; e < n_ent; e++)
		p->start[e + 1] = p->start[e] + p->ent[e].n_nodes;
	{
		size_t *at = malloc((n_ent ? n_ent : 1) * sizeof(*at));
		if (!at)
			return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
		memcpy(at, p->start, n_ent * sizeof(*at));
		for (size_t n = 0; n < mesh->n_nodes; n++)
			p->order[at[p->owner[n]]++] = (uint32_t)n;
		free(at);
	}
	return 0;
}

static void write_names(struct wr *w, const struct twin_tetmesh *mesh)
{
	w_text(w, "$PhysicalNames\n%zu\n", mesh->n_regions + mesh->n_surfaces);
	for (size_t i = 0; i < mesh->n_surfaces; i++)
		w_text(w, "2 %d \"%s\"\n", (int)mesh->surfaces[i].tag, mesh->surfaces[i].name);
	for (size_t i = 0; i < mesh->n_regions; i++)
		w_text(w, "3 %d \"%s\"\n", (int)mesh->regions[i].tag, mesh->regions[i].name);
	w_text(w, "$EndPhysicalNames\n");
}

static void write_entities(struct wr *w, const struct wplan *p)
{
	size_t nv = p->n_ent - p->n_surfaces;

	w_text(w, "$Entities\n");
	w_size(w, 0, ' ');
	w_size(w, 0, ' ');
	w_size(w, p->n_surfaces, ' ');
	w_size(w, nv, '\n');
	/* Surfaces come first in the file, volumes first in p->ent. */
	for (size_t i = 0; i < p->n_ent; i++) {
		const struct went *e = p->ent + (i < p->n_surfaces ? nv + i : i - p->n_surfaces);
		w_int(w, e->tag, ' ');
		for (int k = 0; k < 6; k++)
			w_double(w, e->box[k], ' ');
		if (e->phys > 0) {
			w_size(w, 1, ' ');
			w_int(w, e->phys, ' ');
		} else {
			w_size(w, 0, ' ');
		}
		w_size(w, 0, '\n');
	}
	w_text(w, "%s$EndEntities\n", w->binary ? "\n" : "");
}

static void write_nodes(struct wr *w, const struct twin_tetmesh *mesh, const struct wplan *p)
{
	size_t blocks = 0;

	for (size_t e = 0; e < p->n_ent; e++)
		blocks += p->ent[e].n_nodes > 0;
	w_text(w, "$Nodes\n");
	w_size(w, blocks, ' ');
	w_size(w, mesh->n_nodes, ' ');
	w_size(w, mesh->n_nodes ? 1 : 0, ' ');
	w_size(w, mesh->n_nodes, '\n');
	for (size_t e = 0; e < p->n_ent; e++) {
		const struct went *ent = p->ent + e;
		if (!ent->n_nodes)
			continue;
		w_int(w, ent->dim, ' ');
		w_int(w, ent->tag, ' ');
		w_int(w, 0, ' ');
		w_size(w, ent->n_nodes, '\n');
		for (size_t k = p->start[e]; k < p->start[e + 1]; k++)
			w_size(w, (uint64_t)p->order[k] + 1, '\n');
		for (size_t k = p->start[e]; k < p->start[e + 1]; k++) {
			const double *x = mesh->xyz + 3 * (size_t)p->order[k];
			w_double(w, x[0], ' ');
			w_double(w, x[1], ' ');
			w_double(w, x[2], '\n');
		}
	}
	w_text(w, "%s$EndNodes\n", w->binary ? "\n" : "");
}

/* Consecutive elements of one tag form a block. */
static size_t count_runs(const int32_t *tags, size_t n)
{
	size_t runs = 0;

	for (size_t i = 0; i < n; i++)
		runs += i == 0 || tags[i] != tags[i - 1];
	return runs;
}

static void write_runs(struct wr *w, int dim, const int32_t *tags, const uint32_t *nodes, size_t n,
		       size_t nn, const struct twin_tetmesh_count *c, size_t nc, uint64_t first_tag)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && tags[j] == tags[i])
			j++;
		w_int(w, dim, ' ');
		w_int(w, (int32_t)find_count(c, nc, tags[i]) + 1, ' ');
		w_int(w, nn == 4 ? 4 : 2, ' ');
		w_size(w, j - i, '\n');
		for (size_t k = i; k < j; k++) {
			uint64_t rec[5];
			rec[0] = first_tag + k;
			for (size_t m = 0; m < nn; m++)
				rec[m + 1] = (uint64_t)nodes[nn * k + m] + 1;
			if (w->binary) {
				w_bytes(w, rec, (nn + 1) * 8);
			} else {
				for (size_t m = 0; m <= nn; m++)
					w_size(w, rec[m], m == nn ? '\n' : ' ');
			}
		}
		i = j;
	}
}

static void write_elements(struct wr *w, const struct twin_tetmesh *mesh, const struct wplan *p)
{
	size_t total = mesh->n_tris + mesh->n_tets;

	w_text(w, "$Elements\n");
	w_size(w, count_runs(mesh->tri_surface, mesh->n_tris) + count_runs(mesh->tet_region, mesh->n_tets), ' ');
	w_size(w, total, ' ');
	w_size(w, total ? 1 : 0, ' ');
	w_size(w, total, '\n');
	write_runs(w, 2, mesh->tri_surface, mesh->tris, mesh->n_tris, 3, p->surfaces, p->n_surfaces, 1);
	write_runs(w, 3, mesh->tet_region, mesh->tets, mesh->n_tets, 4, p->regions, p->n_regions,
		   (uint64_t)mesh->n_tris + 1);
	w_text(w, "%s$EndElements\n", w->binary ? "\n" : "");
}

int twin_msh_save(struct twin_err *err, const char *path,
		  const struct twin_tetmesh *mesh, int binary)
{
	struct wplan p;
	struct twin_atomic a;
	struct wr *w = NULL;
	int opened = 0, rc = -1;

	memset(&p, 0, sizeof(p));
	if (plan(err, path, mesh, &p) != 0)
		goto out;
	w = malloc(sizeof(*w));
	if (!w) {
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
		goto out;
	}
	if (twin_atomic_open(err, &a, path) != 0)
		goto out;
	opened = 1;
	w->f = a.f;
	w->binary = binary != 0;
	w->bad = 0;
	w->n = 0;
	w_text(w, "$MeshFormat\n4.1 %d 8\n", w->binary);
	if (w->binary) {
		int32_t one = 1;
		w_bytes(w, &one, 4);
		w_text(w, "\n");
	}
	w_text(w, "$EndMeshFormat\n");
	write_names(w, mesh);
	write_entities(w, &p);
	write_nodes(w, mesh, &p);
	write_elements(w, mesh, &p);
	w_flush(w);
	if (w->bad) {
		twin_err_errno(err, "cannot write", path);
		goto out;
	}
	opened = 0;
	rc = twin_atomic_commit(err, &a);
out:
	if (opened)
		twin_atomic_abort(&a);
	free(w);
	wplan_release(&p);
	return rc;
}
