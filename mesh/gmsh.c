#include "gmsh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmshc.h>

#include "labels.h"
#include "surfaces.h"

#define NO_PATCH (-1)

/* Sets TWIN_EDEP with Gmsh's last error when ierr is set; returns -1 then. */
static int gmsh_failed(struct twin_err *err, int ierr, const char *what)
{
	char *msg = NULL;
	int e2 = 0;

	if (!ierr)
		return 0;
	gmshLoggerGetLastError(&msg, &e2);
	twin_err_set(err, TWIN_EDEP, "gmsh: %s: %s", what, !e2 && msg && *msg ? msg : "failed");
	gmshFree(msg);
	return -1;
}

int twin_gmsh_surface_name(char name[64], const struct twin_grid *g, unsigned a, unsigned b)
{
	if (b >= TWIN_GRID_CAP0) {
		const struct twin_grid_cap *c = &g->caps[b - TWIN_GRID_CAP0];

		return twin_surface_cap(name, c->label, c->n);
	}
	return twin_surface_interface(name, a, b);
}

static double size_at(int dim, int tag, double x, double y, double z, void *data)
{
	const struct twin_gmsh_opt *opt = data;

	(void)x, (void)y, (void)z;
	if (dim == 3 && tag > 0 && tag < TWIN_GRID_LABELS && opt->region_size[tag] > 0)
		return opt->region_size[tag];
	return opt->size;
}

/*
 * The patches: one per value pair a * 256 + b and the connected regions on
 * its two sides, so that no two enclosed regions (a pocket of background
 * between chambers) have the same set of bounding surfaces: HXT rebuilds
 * the volumes from those sets.
 * Triangle t is on patch of[t]; patch i has pair[i] and triangles
 * tri[start[i] .. start[i+1]-1], in order.
 */
struct patches {
	int *of;
	uint16_t *pair;
	size_t *start;
	uint32_t *tri;
	size_t n;
};

static void patches_release(struct patches *p)
{
	free(p->of);
	free(p->pair);
	free(p->start);
	free(p->tri);
	memset(p, 0, sizeof(*p));
}

struct edge {
	uint64_t key;   /* the two vertices, the smaller first */
	uint32_t tri;
};

static int by_key(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->tri > y->tri) - (x->tri < y->tri);
}

static uint32_t root(uint32_t *up, uint32_t t)
{
	while (up[t] != t) {
		up[t] = up[up[t]];
		t = up[t];
	}
	return t;
}

static uint16_t code_of(const struct twin_surface *s, size_t t)
{
	return (uint16_t)(s->tri_side[2 * t] << 8 | s->tri_side[2 * t + 1]);
}

static int find_patches(struct twin_err *err, struct patches *p, const struct twin_surface *s)
{
	size_t nt = s->n_tris ? s->n_tris : 1, ne = 3 * s->n_tris, hsize = 16;
	struct edge *e = malloc(3 * nt * sizeof(*e));
	uint32_t *up = malloc(2 * nt * sizeof(*up));
	size_t *fill = NULL;
	uint64_t *hkey = NULL;
	int *hval = NULL, rc = -1;

	memset(p, 0, sizeof(*p));
	p->of = malloc(nt * sizeof(*p->of));
	p->pair = malloc(nt * sizeof(*p->pair));
	p->tri = malloc(nt * sizeof(*p->tri));
	while (hsize < 2 * nt)
		hsize *= 2;
	hkey = malloc(hsize * sizeof(*hkey));
	hval = malloc(hsize * sizeof(*hval));
	if (!e || !up || !p->of || !p->pair || !p->tri || !hkey || !hval) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (s->n_tris >= UINT32_MAX / 2) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "%zu surface triangles are too many", s->n_tris);
		goto out;
	}
	for (size_t t = 0; t < s->n_tris; t++) {
		up[2 * t] = (uint32_t)(2 * t);
		up[2 * t + 1] = (uint32_t)(2 * t + 1);
		for (int k = 0; k < 3; k++) {
			uint64_t a = s->tris[3 * t + k], b = s->tris[3 * t + (k + 1) % 3];

			e[3 * t + k].key = a < b ? a << 32 | b : b << 32 | a;
			e[3 * t + k].tri = (uint32_t)t;
		}
	}
	qsort(e, ne, sizeof(*e), by_key);
	/*
	 * Node 2t + k is the region on side k of triangle t. Around an edge,
	 * the two sides that hold one value face one region (where more hold
	 * it, a pinch, they stay apart). A patch is a pair and the regions on
	 * its two sides: an enclosed pocket gets surfaces of its own.
	 */
	for (size_t i = 0, j; i < ne; i = j) {
		for (j = i + 1; j < ne && e[j].key == e[i].key; j++)
			;
		for (size_t a = 2 * i; a < 2 * j; a++) {
			uint8_t v = s->tri_side[2 * (size_t)e[a / 2].tri + a % 2];
			size_t b = 2 * j, same = 0;

			for (size_t c = 2 * i; c < 2 * j; c++)
				if (c != a && s->tri_side[2 * (size_t)e[c / 2].tri + c % 2] == v) {
					same++;
					b = c;
				}
			if (same == 1 && b > a) {
				uint32_t ra = root(up, 2 * e[a / 2].tri + (uint32_t)(a % 2));
				uint32_t rb = root(up, 2 * e[b / 2].tri + (uint32_t)(b % 2));

				if (ra != rb)
					up[ra > rb ? ra : rb] = ra < rb ? ra : rb;
			}
		}
	}
	/* patches numbered by their first triangle */
	for (size_t i = 0; i < hsize; i++)
		hkey[i] = UINT64_MAX;
	for (size_t t = 0; t < s->n_tris; t++) {
		uint64_t key = (uint64_t)root(up, 2 * (uint32_t)t) << 32 | root(up, 2 * (uint32_t)t + 1);
		size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (hsize - 1);

		while (hkey[h] != UINT64_MAX && hkey[h] != key)
			h = (h + 1) & (hsize - 1);
		if (hkey[h] == UINT64_MAX) {
			hkey[h] = key;
			hval[h] = (int)p->n;
			p->pair[p->n++] = code_of(s, t);
		}
		p->of[t] = hval[h];
	}
	p->start = calloc(p->n + 1, sizeof(*p->start));
	fill = calloc(p->n + 1, sizeof(*fill));
	if (!p->start || !fill) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (size_t t = 0; t < s->n_tris; t++)
		p->start[p->of[t] + 1]++;
	for (size_t i = 0; i < p->n; i++)
		p->start[i + 1] += p->start[i];
	for (size_t t = 0; t < s->n_tris; t++)
		p->tri[p->start[p->of[t]] + fill[p->of[t]]++] = (uint32_t)t;
	rc = 0;
out:
	free(hkey);
	free(hval);
	free(fill);
	free(e);
	free(up);
	return rc;
}

/* Hands the surface to Gmsh: nodes on the first patch that uses them. */
static int add_surfaces(struct twin_err *err, const struct twin_surface *s, const struct patches *p)
{
	int *owner = malloc((s->n_verts ? s->n_verts : 1) * sizeof(*owner));
	size_t *tags = malloc((s->n_verts + 3 * s->n_tris + 1) * sizeof(*tags));
	size_t *vstart = calloc(p->n + 1, sizeof(*vstart)), *vfill = calloc(p->n + 1, sizeof(*vfill));
	uint32_t *vert = malloc((s->n_verts ? s->n_verts : 1) * sizeof(*vert));
	double *xyz = malloc((3 * s->n_verts + 1) * sizeof(*xyz));
	size_t next_elem = 1;
	int ierr = 0, rc = -1;

	if (!owner || !tags || !xyz || !vstart || !vfill || !vert) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (size_t v = 0; v < s->n_verts; v++)
		owner[v] = NO_PATCH;
	for (size_t t = 0; t < s->n_tris; t++)
		for (int k = 0; k < 3; k++)
			if (owner[s->tris[3 * t + k]] == NO_PATCH)
				owner[s->tris[3 * t + k]] = p->of[t];
	/* the vertices of each patch, in order */
	for (size_t v = 0; v < s->n_verts; v++)
		if (owner[v] != NO_PATCH)
			vstart[owner[v] + 1]++;
	for (size_t i = 0; i < p->n; i++)
		vstart[i + 1] += vstart[i];
	for (size_t v = 0; v < s->n_verts; v++)
		if (owner[v] != NO_PATCH)
			vert[vstart[owner[v]] + vfill[owner[v]]++] = (uint32_t)v;
	/* every node first: a triangle may use the nodes of a later patch */
	for (size_t i = 0; i < p->n; i++) {
		size_t nn = 0;

		gmshModelAddDiscreteEntity(2, (int)i + 1, NULL, 0, &ierr);
		if (gmsh_failed(err, ierr, "adding a surface"))
			goto out;
		for (size_t k = vstart[i]; k < vstart[i + 1]; k++, nn++) {
			tags[nn] = vert[k] + 1;
			memcpy(xyz + 3 * nn, s->xyz + 3 * vert[k], 3 * sizeof(*xyz));
		}
		if (nn) {
			gmshModelMeshAddNodes(2, (int)i + 1, tags, nn, xyz, 3 * nn, NULL, 0, &ierr);
			if (gmsh_failed(err, ierr, "adding nodes"))
				goto out;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		size_t ne = p->start[i + 1] - p->start[i];

		/* element tags first, then their nodes, in one buffer */
		for (size_t k = 0; k < ne; k++) {
			uint32_t t = p->tri[p->start[i] + k];

			tags[k] = next_elem++;
			for (int c = 0; c < 3; c++)
				tags[ne + 3 * k + c] = s->tris[3 * t + c] + 1;
		}
		gmshModelMeshAddElementsByType((int)i + 1, 2, tags, ne, tags + ne, 3 * ne, &ierr);
		if (gmsh_failed(err, ierr, "adding triangles"))
			goto out;
	}
	rc = 0;
out:
	free(xyz);
	free(tags);
	free(owner);
	free(vstart);
	free(vfill);
	free(vert);
	return rc;
}

/* One volume per meshed label: a surface loop of the discrete patches on its side. */
static int add_volumes(struct twin_err *err, const struct twin_grid *g, const struct patches *p)
{
	int *bound = malloc((p->n ? p->n : 1) * sizeof(*bound)), ierr = 0, rc = -1;

	if (!bound) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (unsigned l = 1; l < TWIN_GRID_LABELS; l++) {
		size_t nb = 0;

		if (!(g->meshed >> l & 1) || !g->count[l])
			continue;
		for (size_t i = 0; i < p->n; i++)
			if ((p->pair[i] >> 8) == l || (p->pair[i] & 255) == l)
				bound[nb++] = (int)i + 1;
		gmshModelGeoAddSurfaceLoop(bound, nb, (int)l, &ierr);
		if (gmsh_failed(err, ierr, "adding a surface loop"))
			goto out;
		gmshModelGeoAddVolume((int[]){ (int)l }, 1, (int)l, &ierr);
		if (gmsh_failed(err, ierr, "adding a volume"))
			goto out;
	}
	gmshModelGeoSynchronize(&ierr);
	if (gmsh_failed(err, ierr, "synchronising"))
		goto out;
	rc = 0;
out:
	free(bound);
	return rc;
}

/* Reads the mesh back: the tets of each volume, the triangles of each patch. */
/* Whether value v of g is a label meshed. */
static int meshed(const struct twin_grid *g, unsigned v)
{
	return v > 0 && v < TWIN_GRID_LABELS && (g->meshed >> v & 1) && g->count[v];
}

static struct twin_tetmesh *read_back(struct twin_err *err, const struct twin_grid *g,
				      const struct patches *p, struct twin_gmsh_info *info)
{
	struct twin_tetmesh *m = NULL;
	size_t *ntag = NULL, nn = 0, *etag[TWIN_GRID_LABELS] = { 0 }, *enode[TWIN_GRID_LABELS] = { 0 };
	size_t ne[TWIN_GRID_LABELS] = { 0 }, nen[TWIN_GRID_LABELS] = { 0 }, ntets = 0, ntris = 0;
	size_t **ttag = NULL, **tnode = NULL, *nt = NULL, *ntn = NULL, maxtag = 0;
	double *coord = NULL, *par = NULL;
	size_t ncoord = 0, npar = 0;
	uint32_t *index = NULL;
	int ierr = 0, fail = 1;

	ttag = calloc(p->n, sizeof(*ttag));
	tnode = calloc(p->n, sizeof(*tnode));
	nt = calloc(p->n, sizeof(*nt));
	ntn = calloc(p->n, sizeof(*ntn));
	if (!ttag || !tnode || !nt || !ntn) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	gmshModelMeshGetNodes(&ntag, &nn, &coord, &ncoord, &par, &npar, -1, -1, 0, 0, &ierr);
	if (gmsh_failed(err, ierr, "reading nodes"))
		goto out;
	for (unsigned l = 1; l < TWIN_GRID_LABELS; l++) {
		if (!(g->meshed >> l & 1) || !g->count[l])
			continue;
		gmshModelMeshGetElementsByType(4, &etag[l], &ne[l], &enode[l], &nen[l], (int)l, 0, 1, &ierr);
		if (gmsh_failed(err, ierr, "reading tetrahedra"))
			goto out;
		if (ne[l] == 0) {
			twin_err_set(err, TWIN_EDEP, "gmsh: '%s' got no tetrahedra", twin_label_by_id(l)->name);
			goto out;
		}
		ntets += ne[l];
	}
	for (size_t i = 0; i < p->n; i++) {
		gmshModelMeshGetElementsByType(2, &ttag[i], &nt[i], &tnode[i], &ntn[i], (int)i + 1, 0, 1, &ierr);
		if (gmsh_failed(err, ierr, "reading triangles"))
			goto out;
		ntris += nt[i];
	}
	for (size_t i = 0; i < nn; i++)
		if (ntag[i] > maxtag)
			maxtag = ntag[i];
	index = malloc((maxtag + 1) * sizeof(*index));
	m = twin_tetmesh_new(err, nn, ntets, ntris);
	if (!index || !m) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nn; i++) {
		index[ntag[i]] = (uint32_t)i;
		memcpy(m->xyz + 3 * i, coord + 3 * i, 3 * sizeof(double));
	}
	ntets = 0;
	for (unsigned l = 1; l < TWIN_GRID_LABELS; l++) {
		for (size_t t = 0; t < ne[l]; t++, ntets++) {
			for (int k = 0; k < 4; k++)
				m->tets[4 * ntets + k] = index[enode[l][4 * t + k]];
			m->tet_region[ntets] = (int32_t)l;
		}
		if (ne[l] && twin_tetmesh_set_region_name(err, m, (int32_t)l, twin_label_by_id(l)->name) != 0)
			goto out;
	}
	ntris = 0;
	for (size_t i = 0; i < p->n; i++) {
		char name[64];
		int32_t tag = (int32_t)i + 1;

		if (twin_gmsh_surface_name(name, g, p->pair[i] >> 8, p->pair[i] & 255) < 0) {
			twin_err_set(err, TWIN_EFAIL, "no name for the surface between %u and %u",
				     p->pair[i] >> 8, p->pair[i] & 255);
			goto out;
		}
		/* pairs of one name (RV blood against the LV and the RV wall: endocardium_rv) share a tag */
		for (size_t k = 0; k < m->n_surfaces; k++)
			if (strcmp(m->surfaces[k].name, name) == 0)
				tag = m->surfaces[k].tag;
		for (size_t t = 0; t < nt[i]; t++, ntris++) {
			for (int k = 0; k < 3; k++)
				m->tris[3 * ntris + k] = index[tnode[i][3 * t + k]];
			m->tri_surface[ntris] = tag;
		}
		if (tag == (int32_t)i + 1 && twin_tetmesh_set_surface_name(err, m, tag, name) != 0)
			goto out;
		if (info && info->nsides < TWIN_GMSH_MAX_SIDES &&
		    (meshed(g, p->pair[i] >> 8) || meshed(g, p->pair[i] & 255))) {
			struct twin_quality_side *side = &info->sides[info->nsides++];
			unsigned a = p->pair[i] >> 8, b = p->pair[i] & 255;

			side->tag = tag;
			side->region[0] = meshed(g, a) ? (int32_t)a : (int32_t)b;
			side->region[1] = meshed(g, a) && meshed(g, b) ? (int32_t)b : 0;
		}
	}
	/* a flat tet that Gmsh's optimiser leaves is for the repair to take out; twin_mesh_build checks after it */
	twin_tetmesh_orient(m);
	fail = 0;
out:
	for (unsigned l = 0; l < TWIN_GRID_LABELS; l++) {
		gmshFree(etag[l]);
		gmshFree(enode[l]);
	}
	for (size_t i = 0; ttag && i < p->n; i++) {
		gmshFree(ttag[i]);
		gmshFree(tnode[i]);
	}
	free(ttag);
	free(tnode);
	free(nt);
	free(ntn);
	free(index);
	gmshFree(ntag);
	gmshFree(coord);
	gmshFree(par);
	if (fail) {
		twin_tetmesh_free(m);
		m = NULL;
	}
	return m;
}

/* Netgen's optimiser where this Gmsh has it; sets *used. */
static int netgen(struct twin_err *err, int *used)
{
	char *msg = NULL;
	int ierr = 0, e2 = 0, rc = 0;

	*used = 0;
	gmshModelMeshOptimize("Netgen", 1, 1, NULL, 0, &ierr);
	if (!ierr) {
		*used = 1;
		return 0;
	}
	gmshLoggerGetLastError(&msg, &e2);
	if (e2 || !msg || !strstr(msg, "not compiled"))
		rc = twin_err_set(err, TWIN_EDEP, "gmsh: optimising with Netgen: %s",
				  !e2 && msg && *msg ? msg : "failed");
	gmshFree(msg);
	return rc;
}

static double clock_seconds(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double twin_gmsh_wall(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

double twin_gmsh_cpu(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

/* Adds the time since *w, *c to stage k of info, and restarts. */
static void lap(struct twin_gmsh_info *info, int k, double *w, double *c)
{
	double w1 = twin_gmsh_wall(), c1 = twin_gmsh_cpu();

	if (info) {
		info->wall[k] += w1 - *w;
		info->cpu[k] += c1 - *c;
	}
	*w = w1;
	*c = c1;
}

static int set_option(struct twin_err *err, const char *name, double value)
{
	int ierr = 0;

	gmshOptionSetNumber(name, value, &ierr);
	return gmsh_failed(err, ierr, name);
}

struct twin_tetmesh *twin_gmsh_mesh(struct twin_err *err, const struct twin_surface *s,
				    const struct twin_grid *g, const struct twin_gmsh_opt *opt,
				    struct twin_gmsh_info *info)
{
	struct twin_tetmesh *m = NULL;
	struct patches p = { NULL, NULL, NULL, NULL, 0 };
	int ierr = 0, used = 0;
	double w = twin_gmsh_wall(), c = twin_gmsh_cpu();

	if (info)
		memset(info, 0, sizeof(*info));
	gmshInitialize(0, NULL, 0, &ierr);
	if (gmsh_failed(err, ierr, "initialising"))
		goto out;
	if (set_option(err, "General.Terminal", opt->verbose > 0) ||
	    set_option(err, "General.Verbosity", opt->verbose > 0 ? 2 + opt->verbose : 1) ||
	    set_option(err, "Mesh.Algorithm3D", opt->algorithm) ||
	    set_option(err, "Mesh.MeshSizeMax", opt->size * 4) ||
	    (opt->threads > 0 && (set_option(err, "General.NumThreads", opt->threads) ||
				  set_option(err, "Mesh.MaxNumThreads3D", opt->threads))))
		goto out;
	gmshModelAdd("heart", &ierr);
	if (gmsh_failed(err, ierr, "adding a model"))
		goto out;
	if (find_patches(err, &p, s) != 0 || add_surfaces(err, s, &p) != 0 || add_volumes(err, g, &p) != 0)
		goto out;
	/*
	 * With Delaunay, generate() runs Gmsh's own optimiser (Mesh.Optimize)
	 * on every tet of radius ratio below 0.7, not only below the default
	 * 0.3: fewer slivers are left. HXT takes the threshold as the target of
	 * its own optimiser, which at 0.5 had not ended after 60 s of CPU on
	 * the phantom heart: HXT gets Gmsh's 0.3.
	 */
	if (set_option(err, "Mesh.Optimize", opt->optimize ? 1 : 0) ||
	    set_option(err, "Mesh.OptimizeThreshold", opt->algorithm == TWIN_GMSH_HXT ? 0.3 : 0.7))
		goto out;
	gmshModelMeshSetSizeCallback(size_at, (void *)opt, &ierr);
	if (gmsh_failed(err, ierr, "setting the size"))
		goto out;
	lap(info, 0, &w, &c);
	gmshModelMeshGenerate(3, &ierr);
	lap(info, 1, &w, &c);
	if (gmsh_failed(err, ierr, "tetrahedralising"))
		goto out;
	/*
	 * generate() leaves Gmsh's optimiser out after HXT: it runs here, on
	 * the tets under 0.3 (phantom heart at 1.5 mm: 1.1 s of CPU, 4 tets
	 * under 10 degrees after the repair instead of 17)
	 */
	if (opt->optimize && opt->algorithm == TWIN_GMSH_HXT) {
		gmshModelMeshOptimize("", 0, 1, NULL, 0, &ierr);
		if (gmsh_failed(err, ierr, "optimising"))
			goto out;
	}
	if (opt->optimize && netgen(err, &used) != 0)
		goto out;
	lap(info, 2, &w, &c);
	if (info)
		info->netgen = used;
	m = read_back(err, g, &p, info);
	lap(info, 3, &w, &c);
out:
	patches_release(&p);
	gmshFinalize(&ierr);
	return m;
}
