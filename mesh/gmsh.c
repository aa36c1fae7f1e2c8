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

/* The patch (0-based) of each value pair a * 256 + b; the pairs of each patch. */
struct patches {
	int *of;         /* 65536 entries */
	uint16_t *pair;
	size_t n;
};

static int find_patches(struct twin_err *err, struct patches *p, const struct twin_surface *s)
{
	p->of = malloc(65536 * sizeof(*p->of));
	p->pair = malloc(65536 * sizeof(*p->pair));
	p->n = 0;
	if (!p->of || !p->pair)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	for (size_t i = 0; i < 65536; i++)
		p->of[i] = NO_PATCH;
	for (size_t t = 0; t < s->n_tris; t++) {
		uint16_t code = (uint16_t)(s->tri_side[2 * t] << 8 | s->tri_side[2 * t + 1]);

		if (p->of[code] == NO_PATCH) {
			p->of[code] = (int)p->n;
			p->pair[p->n++] = code;
		}
	}
	return 0;
}

/* Hands the surface to Gmsh: nodes on the first patch that uses them. */
static int add_surfaces(struct twin_err *err, const struct twin_surface *s, const struct patches *p)
{
	int *owner = malloc((s->n_verts ? s->n_verts : 1) * sizeof(*owner));
	size_t *tags = malloc((s->n_verts + 3 * s->n_tris + 1) * sizeof(*tags));
	double *xyz = malloc((3 * s->n_verts + 1) * sizeof(*xyz));
	size_t next_elem = 1;
	int ierr = 0, rc = -1;

	if (!owner || !tags || !xyz) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (size_t v = 0; v < s->n_verts; v++)
		owner[v] = NO_PATCH;
	for (size_t t = 0; t < s->n_tris; t++) {
		int patch = p->of[s->tri_side[2 * t] << 8 | s->tri_side[2 * t + 1]];

		for (int k = 0; k < 3; k++)
			if (owner[s->tris[3 * t + k]] == NO_PATCH)
				owner[s->tris[3 * t + k]] = patch;
	}
	/* every node first: a triangle may use the nodes of a later patch */
	for (size_t i = 0; i < p->n; i++) {
		size_t nn = 0;

		gmshModelAddDiscreteEntity(2, (int)i + 1, NULL, 0, &ierr);
		if (gmsh_failed(err, ierr, "adding a surface"))
			goto out;
		for (size_t v = 0; v < s->n_verts; v++)
			if (owner[v] == (int)i) {
				tags[nn] = v + 1;
				memcpy(xyz + 3 * nn, s->xyz + 3 * v, 3 * sizeof(*xyz));
				nn++;
			}
		if (nn) {
			gmshModelMeshAddNodes(2, (int)i + 1, tags, nn, xyz, 3 * nn, NULL, 0, &ierr);
			if (gmsh_failed(err, ierr, "adding nodes"))
				goto out;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		size_t ne = 0, *etags;

		/* element tags first, then their nodes, in one buffer */
		for (size_t t = 0; t < s->n_tris; t++)
			if (p->of[s->tri_side[2 * t] << 8 | s->tri_side[2 * t + 1]] == (int)i)
				tags[ne++] = next_elem++;
		etags = tags;
		for (size_t t = 0, k = 0; t < s->n_tris; t++)
			if (p->of[s->tri_side[2 * t] << 8 | s->tri_side[2 * t + 1]] == (int)i) {
				for (int c = 0; c < 3; c++)
					tags[ne + 3 * k + c] = s->tris[3 * t + c] + 1;
				k++;
			}
		gmshModelMeshAddElementsByType((int)i + 1, 2, etags, ne, tags + ne, 3 * ne, &ierr);
		if (gmsh_failed(err, ierr, "adding triangles"))
			goto out;
	}
	rc = 0;
out:
	free(xyz);
	free(tags);
	free(owner);
	return rc;
}

/* One volume per meshed label: a surface loop of the discrete patches on its side. */
static int add_volumes(struct twin_err *err, const struct twin_grid *g, const struct patches *p)
{
	int bound[512], ierr = 0;

	for (unsigned l = 1; l < TWIN_GRID_LABELS; l++) {
		size_t nb = 0;

		if (!(g->meshed >> l & 1) || !g->count[l])
			continue;
		for (size_t i = 0; i < p->n && nb < 512; i++)
			if ((p->pair[i] >> 8) == l || (p->pair[i] & 255) == l)
				bound[nb++] = (int)i + 1;
		gmshModelGeoAddSurfaceLoop(bound, nb, (int)l, &ierr);
		if (gmsh_failed(err, ierr, "adding a surface loop"))
			return -1;
		gmshModelGeoAddVolume((int[]){ (int)l }, 1, (int)l, &ierr);
		if (gmsh_failed(err, ierr, "adding a volume"))
			return -1;
	}
	gmshModelGeoSynchronize(&ierr);
	return gmsh_failed(err, ierr, "synchronising");
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
	twin_tetmesh_orient(m);
	if (twin_tetmesh_check(err, m) != 0) {
		twin_err_prefix(err, "gmsh's mesh");
		goto out;
	}
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
	struct patches p = { NULL, NULL, 0 };
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
	 * generate() runs Gmsh's own optimiser (Mesh.Optimize) on every tet of
	 * radius ratio below 0.7, not only below the default 0.3: fewer slivers
	 * are left; Netgen's optimiser comes after
	 */
	if (set_option(err, "Mesh.Optimize", opt->optimize ? 1 : 0) ||
	    set_option(err, "Mesh.OptimizeThreshold", 0.7))
		goto out;
	gmshModelMeshSetSizeCallback(size_at, (void *)opt, &ierr);
	if (gmsh_failed(err, ierr, "setting the size"))
		goto out;
	lap(info, 0, &w, &c);
	gmshModelMeshGenerate(3, &ierr);
	lap(info, 1, &w, &c);
	if (gmsh_failed(err, ierr, "tetrahedralising"))
		goto out;
	if (opt->optimize && netgen(err, &used) != 0)
		goto out;
	lap(info, 2, &w, &c);
	if (info)
		info->netgen = used;
	m = read_back(err, g, &p, info);
	lap(info, 3, &w, &c);
out:
	free(p.of);
	free(p.pair);
	gmshFinalize(&ierr);
	return m;
}
