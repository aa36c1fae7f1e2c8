#include "tetmesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const uint8_t twin_tetmesh_face_nodes[4][3] = {
	{ 1, 2, 3 }, { 0, 3, 2 }, { 0, 1, 3 }, { 0, 2, 1 }
};

struct twin_tetmesh *twin_tetmesh_new(struct twin_err *err, size_t n_nodes,
				      size_t n_tets, size_t n_tris)
{
	struct twin_tetmesh *m = NULL;

	if (n_nodes > UINT32_MAX || n_tets > SIZE_MAX / (4 * sizeof(uint32_t)) ||
	    n_tris > SIZE_MAX / (3 * sizeof(uint32_t)) || n_nodes > SIZE_MAX / (3 * sizeof(double))) {
		twin_err_set(err, TWIN_EUNSUPPORTED,
			     "mesh of %zu nodes, %zu tetrahedra, %zu triangles is too large",
			     n_nodes, n_tets, n_tris);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto nomem;
	m->n_nodes = n_nodes;
	m->n_tets = n_tets;
	m->n_tris = n_tris;
	/* calloc(0) may return NULL; ask for at least one element. */
	m->xyz = calloc(n_nodes ? 3 * n_nodes : 1, sizeof(double));
	m->tets = calloc(n_tets ? 4 * n_tets : 1, sizeof(uint32_t));
	m->tet_region = calloc(n_tets ? n_tets : 1, sizeof(int32_t));
	m->tris = calloc(n_tris ? 3 * n_tris : 1, sizeof(uint32_t));
	m->tri_surface = calloc(n_tris ? n_tris : 1, sizeof(int32_t));
	if (!m->xyz || !m->tets || !m->tet_region || !m->tris || !m->tri_surface)
		goto nomem;
	return m;
nomem:
	twin_tetmesh_free(m);
	twin_err_set(err, TWIN_EFAIL, "mesh of %zu nodes, %zu tetrahedra: out of memory",
		     n_nodes, n_tets);
	return NULL;
}

static void names_release(struct twin_tetmesh_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void twin_tetmesh_free(struct twin_tetmesh *mesh)
{
	if (!mesh)
		return;
	free(mesh->xyz);
	free(mesh->tets);
	free(mesh->tet_region);
	free(mesh->tris);
	free(mesh->tri_surface);
	names_release(mesh->regions, mesh->n_regions);
	names_release(mesh->surfaces, mesh->n_surfaces);
	free(mesh);
}

static int set_name(struct twin_err *err, struct twin_tetmesh_name **v, size_t *n,
		    const char *what, int32_t tag, const char *name)
{
	size_t len = strlen(name), at = 0;
	struct twin_tetmesh_name *nv;
	char *copy;

	if (tag <= 0)
		return twin_err_set(err, TWIN_EINPUT, "%s %d: a named tag must be positive",
				    what, (int)tag);
	if (len == 0 || len > TWIN_TETMESH_NAME_MAX)
		return twin_err_set(err, TWIN_EINPUT, "%s %d: name '%.40s' must have 1 to %d characters",
				    what, (int)tag, name, TWIN_TETMESH_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == '"')
			return twin_err_set(err, TWIN_EINPUT,
					    "%s %d: name '%s' holds a quote or control character",
					    what, (int)tag, name);
	}
	copy = strdup(name);
	if (!copy)
		return twin_err_set(err, TWIN_EFAIL, "%s %d: out of memory", what, (int)tag);
	while (at < *n && (*v)[at].tag < tag)
		at++;
	if (at < *n && (*v)[at].tag == tag) {
		free((*v)[at].name);
		(*v)[at].name = copy;
		return 0;
	}
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv) {
		free(copy);
		return twin_err_set(err, TWIN_EFAIL, "%s %d: out of memory", what, (int)tag);
	}
	memmove(nv + at + 1, nv + at, (*n - at) * sizeof(*nv));
	nv[at].tag = tag;
	nv[at].name = copy;
	*v = nv;
	(*n)++;
	return 0;
}

int twin_tetmesh_set_region_name(struct twin_err *err, struct twin_tetmesh *mesh,
				 int32_t id, const char *name)
{
	return set_name(err, &mesh->regions, &mesh->n_regions, "region", id, name);
}

int twin_tetmesh_set_surface_name(struct twin_err *err, struct twin_tetmesh *mesh,
				  int32_t tag, const char *name)
{
	return set_name(err, &mesh->surfaces, &mesh->n_surfaces, "surface", tag, name);
}

static const char *find_name(const struct twin_tetmesh_name *v, size_t n, int32_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].tag == tag)
			return v[i].name;
	return NULL;
}

const char *twin_tetmesh_region_name(const struct twin_tetmesh *mesh, int32_t id)
{
	return find_name(mesh->regions, mesh->n_regions, id);
}

const char *twin_tetmesh_surface_name(const struct twin_tetmesh *mesh, int32_t tag)
{
	return find_name(mesh->surfaces, mesh->n_surfaces, tag);
}

static void sub(double out[3], const double *a, const double *b)
{
	out[0] = a[0] - b[0];
	out[1] = a[1] - b[1];
	out[2] = a[2] - b[2];
}

static void cross(double out[3], const double u[3], const double v[3])
{
	out[0] = u[1] * v[2] - u[2] * v[1];
	out[1] = u[2] * v[0] - u[0] * v[2];
	out[2] = u[0] * v[1] - u[1] * v[0];
}

double twin_tetmesh_tet_volume(const struct twin_tetmesh *mesh, size_t t)
{
	const uint32_t *n = mesh->tets + 4 * t;
	const double *a = mesh->xyz + 3 * (size_t)n[0];
	double u[3], v[3], w[3], c[3];

	sub(u, mesh->xyz + 3 * (size_t)n[1], a);
	sub(v, mesh->xyz + 3 * (size_t)n[2], a);
	sub(w, mesh->xyz + 3 * (size_t)n[3], a);
	cross(c, v, w);
	return (u[0] * c[0] + u[1] * c[1] + u[2] * c[2]) / 6.0;
}

double twin_tetmesh_tri_area(const struct twin_tetmesh *mesh, size_t i)
{
	const uint32_t *n = mesh->tris + 3 * i;
	const double *a = mesh->xyz + 3 * (size_t)n[0];
	double u[3], v[3], c[3];

	sub(u, mesh->xyz + 3 * (size_t)n[1], a);
	sub(v, mesh->xyz + 3 * (size_t)n[2], a);
	cross(c, u, v);
	return 0.5 * sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
}

size_t twin_tetmesh_orient(struct twin_tetmesh *mesh)
{
	size_t flipped = 0;

	for (size_t t = 0; t < mesh->n_tets; t++) {
		if (twin_tetmesh_tet_volume(mesh, t) < 0) {
			uint32_t *n = mesh->tets + 4 * t;
			uint32_t s = n[2];
			n[2] = n[3];
			n[3] = s;
			flipped++;
		}
	}
	return flipped;
}

/* Longest edge of tetrahedron t, the length scale for "zero volume". */
static double longest_edge(const struct twin_tetmesh *mesh, size_t t)
{
	const uint32_t *n = mesh->tets + 4 * t;
	double best = 0;

	for (int i = 0; i < 4; i++) {
		for (int j = i + 1; j < 4; j++) {
			double d[3];
			sub(d, mesh->xyz + 3 * (size_t)n[i], mesh->xyz + 3 * (size_t)n[j]);
			d[0] = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
			if (d[0] > best)
				best = d[0];
		}
	}
	return sqrt(best);
}

static int check_indices(struct twin_err *err, const struct twin_tetmesh *mesh)
{
	for (size_t i = 0; i < 3 * mesh->n_nodes; i++)
		if (!isfinite(mesh->xyz[i]))
			return twin_err_set(err, TWIN_EINPUT, "node %zu has a coordinate that is not finite",
					    i / 3);
	for (size_t i = 0; i < 4 * mesh->n_tets; i++)
		if (mesh->tets[i] >= mesh->n_nodes)
			return twin_err_set(err, TWIN_EINPUT,
					    "tetrahedron %zu: node index %u is out of range (%zu nodes)",
					    i / 4, (unsigned)mesh->tets[i], mesh->n_nodes);
	for (size_t i = 0; i < mesh->n_tris; i++) {
		const uint32_t *n = mesh->tris + 3 * i;
		for (int k = 0; k < 3; k++)
			if (n[k] >= mesh->n_nodes)
				return twin_err_set(err, TWIN_EINPUT,
						    "triangle %zu: node index %u is out of range (%zu nodes)",
						    i, (unsigned)n[k], mesh->n_nodes);
		if (n[0] == n[1] || n[1] == n[2] || n[0] == n[2])
			return twin_err_set(err, TWIN_EINPUT, "triangle %zu repeats a node (%u %u %u)",
					    i, (unsigned)n[0], (unsigned)n[1], (unsigned)n[2]);
	}
	return 0;
}

static int check_names(struct twin_err *err, const struct twin_tetmesh_name *v, size_t n,
		       const char *what)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(v[i].name, v[j].name) == 0)
				return twin_err_set(err, TWIN_EINPUT, "%s name '%s' is given to %ss %d and %d",
						    what, v[i].name, what, (int)v[i].tag, (int)v[j].tag);
	return 0;
}

static int check_used(struct twin_err *err, const struct twin_tetmesh_count *c, size_t n,
		      const struct twin_tetmesh_name *names, size_t n_names,
		      const char *what, const char *elements)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].tag < 0)
			return twin_err_set(err, TWIN_EINPUT, "%s %d is negative (used by %zu %s)",
					    what, (int)c[i].tag, c[i].count, elements);
		if (!find_name(names, n_names, c[i].tag))
			return twin_err_set(err, TWIN_EINPUT, "%s %d is used by %zu %s but has no name",
					    what, (int)c[i].tag, c[i].count, elements);
	}
	return 0;
}

int twin_tetmesh_check(struct twin_err *err, const struct twin_tetmesh *mesh)
{
	struct twin_tetmesh_count *counts = NULL;
	size_t n = 0;
	int rc = -1;

	if (check_indices(err, mesh) != 0)
		goto out;
	for (size_t t = 0; t < mesh->n_tets; t++) {
		double vol = twin_tetmesh_tet_volume(mesh, t);
		double len = longest_edge(mesh, t);
		/* Rounding leaves about 1e-16 * len^3 on a flat tetrahedron. */
		if (fabs(vol) <= 1e-12 * len * len * len) {
			twin_err_set(err, TWIN_EINPUT, "tetrahedron %zu has zero volume (%g mm^3)", t, vol);
			goto out;
		}
		if (vol < 0) {
			twin_err_set(err, TWIN_EINPUT, "tetrahedron %zu is inverted: volume %g mm^3", t, vol);
			goto out;
		}
	}
	if (check_names(err, mesh->regions, mesh->n_regions, "region") != 0 ||
	    check_names(err, mesh->surfaces, mesh->n_surfaces, "surface") != 0)
		goto out;
	if (twin_tetmesh_region_counts(err, mesh, &counts, &n) != 0 ||
	    check_used(err, counts, n, mesh->regions, mesh->n_regions, "region", "tetrahedra") != 0)
		goto out;
	free(counts);
	counts = NULL;
	if (twin_tetmesh_surface_counts(err, mesh, &counts, &n) != 0 ||
	    check_used(err, counts, n, mesh->surfaces, mesh->n_surfaces, "surface", "triangles") != 0)
		goto out;
	rc = 0;
out:
	free(counts);
	return rc;
}

static int by_tag(const void *a, const void *b)
{
	int32_t x = ((const struct twin_tetmesh_count *)a)->tag;
	int32_t y = ((const struct twin_tetmesh_count *)b)->tag;

	return (x > y) - (x < y);
}

static int count_tags(struct twin_err *err, const int32_t *tags, size_t n_tags,
		      struct twin_tetmesh_count **counts, size_t *n)
{
	struct twin_tetmesh_count *c = NULL;
	size_t nc = 0, cap = 0, last = 0;

	*counts = NULL;
	*n = 0;
	for (size_t i = 0; i < n_tags; i++) {
		size_t k;
		/* Tags come in runs; try the last one first. */
		if (nc && c[last].tag == tags[i]) {
			c[last].count++;
			continue;
		}
		for (k = 0; k < nc && c[k].tag != tags[i]; k++)
			;
		if (k == nc) {
			if (nc == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct twin_tetmesh_count *nv = realloc(c, ncap * sizeof(*c));
				if (!nv) {
					free(c);
					return twin_err_set(err, TWIN_EFAIL, "counting tags: out of memory");
				}
				c = nv;
				cap = ncap;
			}
			c[nc].tag = tags[i];
			c[nc].count = 0;
			nc++;
		}
		c[k].count++;
		last = k;
	}
	if (nc)
		qsort(c, nc, sizeof(*c), by_tag);
	*counts = c;
	*n = nc;
	return 0;
}

int twin_tetmesh_region_counts(struct twin_err *err, const struct twin_tetmesh *mesh,
			       struct twin_tetmesh_count **counts, size_t *n)
{
	return count_tags(err, mesh->tet_region, mesh->n_tets, counts, n);
}

int twin_tetmesh_surface_counts(struct twin_err *err, const struct twin_tetmesh *mesh,
				struct twin_tetmesh_count **counts, size_t *n)
{
	return count_tags(err, mesh->tri_surface, mesh->n_tris, counts, n);
}

/* The three nodes of a face, sorted, as the key of the face hash. */
static void sort3(uint32_t k[3], uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t s;

	if (a > b) { s = a; a = b; b = s; }
	if (b > c) { s = b; b = c; c = s; }
	if (a > b) { s = a; a = b; b = s; }
	k[0] = a;
	k[1] = b;
	k[2] = c;
}

static size_t hash3(const uint32_t k[3], size_t mask)
{
	uint64_t h = k[0] * 0x9E3779B97F4A7C15ull;

	h ^= k[1] + 0x7F4A7C15ull + (h << 6) + (h >> 2);
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= k[2] + (h >> 31);
	h *= 0x94D049BB133111EBull;
	return (size_t)(h ^ (h >> 29)) & mask;
}

static int same3(const uint32_t *tri, const uint32_t k[3])
{
	uint32_t s[3];

	sort3(s, tri[0], tri[1], tri[2]);
	return s[0] == k[0] && s[1] == k[1] && s[2] == k[2];
}

/* Parents of every triangle; strict fails on a bad one, else marks it (see tetmesh.h). */
static struct twin_tetmesh_parent *face_parents(struct twin_err *err, const struct twin_tetmesh *mesh,
						 int strict)
{
	struct twin_tetmesh_parent *par = NULL;
	uint32_t *slot = NULL, *canon = NULL;
	size_t size = 16, mask;

	if (mesh->n_tris > UINT32_MAX - 1 || mesh->n_tets > UINT32_MAX - 1) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "face index: %zu triangles, %zu tetrahedra are too many",
			     mesh->n_tris, mesh->n_tets);
		return NULL;
	}
	while (size < 2 * mesh->n_tris)
		size *= 2;
	mask = size - 1;
	par = malloc((mesh->n_tris ? mesh->n_tris : 1) * sizeof(*par));
	canon = malloc((mesh->n_tris ? mesh->n_tris : 1) * sizeof(*canon));
	slot = malloc(size * sizeof(*slot));
	if (!par || !canon || !slot) {
		twin_err_set(err, TWIN_EFAIL, "face index of %zu triangles: out of memory", mesh->n_tris);
		goto fail;
	}
	memset(slot, 0xff, size * sizeof(*slot));
	/* Open addressing on the sorted node triple; a repeated triangle points to the first. */
	for (size_t i = 0; i < mesh->n_tris; i++) {
		const uint32_t *tri = mesh->tris + 3 * i;
		uint32_t k[3];
		size_t h;

		sort3(k, tri[0], tri[1], tri[2]);
		h = hash3(k, mask);
		while (slot[h] != UINT32_MAX && !same3(mesh->tris + 3 * (size_t)slot[h], k))
			h = (h + 1) & mask;
		if (slot[h] == UINT32_MAX)
			slot[h] = (uint32_t)i;
		canon[i] = slot[h];
		par[i].tet[0] = par[i].tet[1] = TWIN_TETMESH_NONE;
		par[i].face[0] = par[i].face[1] = 0;
	}
	for (size_t t = 0; t < mesh->n_tets && mesh->n_tris; t++) {
		const uint32_t *n = mesh->tets + 4 * t;
		for (int f = 0; f < 4; f++) {
			const uint8_t *fn = twin_tetmesh_face_nodes[f];
			struct twin_tetmesh_parent *p;
			uint32_t k[3];
			size_t h;

			sort3(k, n[fn[0]], n[fn[1]], n[fn[2]]);
			h = hash3(k, mask);
			while (slot[h] != UINT32_MAX && !same3(mesh->tris + 3 * (size_t)slot[h], k))
				h = (h + 1) & mask;
			if (slot[h] == UINT32_MAX)
				continue;
			p = par + slot[h];
			if (p->tet[0] == TWIN_TETMESH_NONE) {
				p->tet[0] = (uint32_t)t;
				p->face[0] = (uint8_t)f;
			} else if (p->tet[1] == TWIN_TETMESH_NONE) {
				p->tet[1] = (uint32_t)t;
				p->face[1] = (uint8_t)f;
			} else if (strict) {
				twin_err_set(err, TWIN_EINPUT,
					     "triangle %u is a face of more than two tetrahedra (%u, %u, %zu)",
					     (unsigned)slot[h], (unsigned)p->tet[0], (unsigned)p->tet[1], t);
				goto fail;
			} else {
				p->face[1] = TWIN_TETMESH_FACE_SHARED;
			}
		}
	}
	for (size_t i = 0; i < mesh->n_tris; i++) {
		const uint32_t *tri = mesh->tris + 3 * i;
		par[i] = par[canon[i]];
		if (strict && par[i].tet[0] == TWIN_TETMESH_NONE) {
			twin_err_set(err, TWIN_EINPUT,
				     "triangle %zu (nodes %u %u %u) is not a face of any tetrahedron",
				     i, (unsigned)tri[0], (unsigned)tri[1], (unsigned)tri[2]);
			goto fail;
		}
	}
	free(slot);
	free(canon);
	return par;
fail:
	free(slot);
	free(canon);
	free(par);
	return NULL;
}

struct twin_tetmesh_parent *twin_tetmesh_face_index(struct twin_err *err,
						    const struct twin_tetmesh *mesh)
{
	return face_parents(err, mesh, 1);
}

struct twin_tetmesh_parent *twin_tetmesh_face_parents(struct twin_err *err,
						      const struct twin_tetmesh *mesh)
{
	return face_parents(err, mesh, 0);
}
