/*
 * openfoam: an icoFoam case of the blood pool: constant/polyMesh (binary,
 * 32-bit labels, metres) with one patch per tagged surface that bounds the
 * blood, 0/U and 0/p, constant/transportProperties and system/. Blood
 * enters through inlets (inlet_* caps, or a mitral or tricuspid valve that
 * bounds the pool) and leaves through outlets (outlet_* caps, or an aortic
 * or pulmonary valve); every other boundary face is a no-slip wall. The
 * blood pool has no fibres.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "surfaces.h"

enum patch_type { P_WALL, P_INLET, P_OUTLET };

struct patch {
	char name[TWIN_TETMESH_NAME_MAX + 3];
	enum patch_type type;
	size_t start, n;
};

/* An internal face (owner < neighbour) or a boundary face (neighbour UINT32_MAX). */
struct pface {
	uint32_t owner, neighbour, local, patch;
};

/* A face's sorted nodes and the cell face (4 * cell + k) that holds it. */
struct slot {
	uint32_t key[3];
	uint32_t cf;
};

static enum patch_type patch_type_of(const char *name)
{
	int kind = twin_surface_kind_of(name);

	if (kind == TWIN_SURFACE_INLET || strcmp(name, "mitral_valve") == 0 ||
	    strcmp(name, "tricuspid_valve") == 0)
		return P_INLET;
	if (kind == TWIN_SURFACE_OUTLET || strcmp(name, "aortic_valve") == 0 ||
	    strcmp(name, "pulmonary_valve") == 0)
		return P_OUTLET;
	return P_WALL;
}

static void header(FILE *f, const char *cls, const char *location, const char *object,
		   int binary, const char *note)
{
	fprintf(f, "/* dcm2twin twin-export */\nFoamFile\n{\n    version     2.0;\n    format      %s;\n",
		binary ? "binary" : "ascii");
	if (binary)
		fprintf(f, "    arch        \"LSB;label=32;scalar=64\";\n");
	fprintf(f, "    class       %s;\n", cls);
	if (note)
		fprintf(f, "    note        \"%s\";\n", note);
	fprintf(f, "    location    \"%s\";\n    object      %s;\n}\n\n", location, object);
}

/* A binary list as OpenFOAM writes it: the count, then (raw bytes) unless empty. */
static void raw_list(FILE *f, const void *data, size_t n, size_t size)
{
	fprintf(f, "%zu\n", n);
	if (n) {
		fputc('(', f);
		fwrite(data, size, n, f);
		fputc(')', f);
	}
	fputc('\n', f);
}

struct foam {
	const struct twin_export *x;
	uint32_t *cell_of;    /* per tet: cell index or UINT32_MAX */
	uint32_t *point_of;   /* per node: point index or UINT32_MAX */
	uint32_t *face_patch; /* per 4 * cell + local face: 1 + surface index, or 0 */
	uint32_t *tet_of;     /* per cell: its tetrahedron */
	struct pface *faces;
	size_t n_cells, n_points, n_faces, n_internal;
	struct patch *patches; /* one per surface index, then "wall" */
	size_t n_patches;
};

static void foam_release(struct foam *m)
{
	free(m->cell_of);
	free(m->point_of);
	free(m->face_patch);
	free(m->tet_of);
	free(m->faces);
	free(m->patches);
}

/* The sorted nodes of local face k of tetrahedron t. */
static void face_key(const struct twin_tetmesh *m, size_t t, int k, uint32_t key[3])
{
	uint32_t a = m->tets[4 * t + twin_tetmesh_face_nodes[k][0]];
	uint32_t b = m->tets[4 * t + twin_tetmesh_face_nodes[k][1]];
	uint32_t c = m->tets[4 * t + twin_tetmesh_face_nodes[k][2]], x;

	if (a > b) { x = a; a = b; b = x; }
	if (b > c) { x = b; b = c; c = x; }
	if (a > b) { x = a; a = b; b = x; }
	key[0] = a;
	key[1] = b;
	key[2] = c;
}

/*
 * Pairs the cells' faces (bucketed by their lowest node, then chained by
 * their second), then lists the internal faces in upper-triangular order
 * (by owner, then neighbour) and the boundary faces by patch, each patch in
 * cell order.
 */
static int match_faces(struct twin_err *err, struct foam *fm)
{
	const struct twin_tetmesh *m = fm->x->mesh;
	size_t nf = 4 * fm->n_cells, c, i, j, k, *count = NULL, *start = NULL;
	uint32_t *nb = NULL, *head = NULL, *link = NULL;
	struct slot *bucket = NULL;
	int rc = -1;

	start = calloc(m->n_nodes + 2, sizeof(*start));
	head = malloc((m->n_nodes ? m->n_nodes : 1) * sizeof(*head));
	link = malloc(nf * sizeof(*link));
	bucket = malloc(nf * sizeof(*bucket));
	nb = malloc(nf * sizeof(*nb));
	count = calloc(m->n_surfaces + 3, sizeof(*count));
	fm->faces = malloc(nf * sizeof(*fm->faces));
	if (!start || !head || !link || !bucket || !nb || !count || !fm->faces) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		head[i] = UINT32_MAX;
	for (i = 0; i < nf; i++) {
		uint32_t key[3];

		face_key(m, fm->tet_of[i / 4], (int)(i % 4), key);
		start[key[0] + 2]++;
		nb[i] = UINT32_MAX;
	}
	for (k = 2; k < m->n_nodes + 2; k++)
		start[k] += start[k - 1];
	for (i = 0; i < nf; i++) {
		uint32_t key[3];
		struct slot *sl;

		face_key(m, fm->tet_of[i / 4], (int)(i % 4), key);
		sl = &bucket[start[key[0] + 1]++];
		memcpy(sl->key, key, sizeof(key));
		sl->cf = (uint32_t)i;
	}
	/*
	 * start[v] .. start[v + 1] is now the bucket of node v. Within it, the
	 * faces with the same second node are chained from head[] through link[].
	 */
	for (k = 0; k < m->n_nodes; k++) {
		for (i = start[k]; i < start[k + 1]; i++) {
			const struct slot *a = &bucket[i];
			uint32_t *h = &head[a->key[1]];

			for (j = *h; j != UINT32_MAX; j = link[j]) {
				const struct slot *b = &bucket[j];

				if (a->key[2] != b->key[2])
					continue;
				if (nb[a->cf] != UINT32_MAX || nb[b->cf] != UINT32_MAX) {
					twin_err_set(err, TWIN_EINPUT, "a face of tetrahedron %u is shared by more than two tetrahedra",
						     fm->tet_of[a->cf / 4] + 1);
					goto out;
				}
				nb[a->cf] = b->cf / 4;
				nb[b->cf] = a->cf / 4;
			}
			link[i] = *h;
			*h = (uint32_t)i;
		}
		for (i = start[k]; i < start[k + 1]; i++)
			head[bucket[i].key[1]] = UINT32_MAX;
	}
	/* internal faces: each cell's higher neighbours, sorted */
	for (c = 0; c < fm->n_cells; c++) {
		size_t first = fm->n_faces;

		for (k = 0; k < 4; k++) {
			uint32_t n = nb[4 * c + k];

			if (n == UINT32_MAX || n < c)
				continue;
			for (j = fm->n_faces++; j > first && fm->faces[j - 1].neighbour > n; j--)
				fm->faces[j] = fm->faces[j - 1];
			fm->faces[j].owner = (uint32_t)c;
			fm->faces[j].neighbour = n;
			fm->faces[j].local = 4 * fm->tet_of[c] + (uint32_t)k;
			fm->faces[j].patch = 0;
		}
	}
	fm->n_internal = fm->n_faces;
	/* boundary faces: a counting sort by patch keeps the cell order */
	for (i = 0; i < nf; i++)
		if (nb[i] == UINT32_MAX) {
			uint32_t s = fm->face_patch[i];

			count[(s ? s : m->n_surfaces + 1) + 1]++;
		}
	count[0] = fm->n_internal;
	for (k = 1; k < m->n_surfaces + 3; k++)
		count[k] += count[k - 1];
	for (i = 0; i < nf; i++)
		if (nb[i] == UINT32_MAX) {
			uint32_t local = 4 * fm->tet_of[i / 4] + (uint32_t)(i % 4);
			uint32_t s = fm->face_patch[i];
			struct pface *f;

			s = s ? s : (uint32_t)m->n_surfaces + 1;
			f = &fm->faces[count[s]++];
			f->owner = (uint32_t)(i / 4);
			f->neighbour = UINT32_MAX;
			f->local = local;
			f->patch = s;
			fm->n_faces++;
		}
	rc = 0;
out:
	free(start);
	free(head);
	free(link);
	free(bucket);
	free(nb);
	free(count);
	return rc;
}

static int build(struct twin_err *err, struct foam *fm)
{
	const struct twin_tetmesh *m = fm->x->mesh;
	size_t i, k, np;
	int rc = -1, blood = 0;

	fm->cell_of = malloc(m->n_tets * sizeof(*fm->cell_of));
	fm->point_of = malloc((m->n_nodes ? m->n_nodes : 1) * sizeof(*fm->point_of));
	fm->patches = calloc(m->n_surfaces + 1, sizeof(*fm->patches));
	fm->tet_of = malloc(m->n_tets * sizeof(*fm->tet_of));
	if (!fm->cell_of || !fm->point_of || !fm->patches || !fm->tet_of) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		fm->point_of[i] = UINT32_MAX;
	for (i = 0; i < m->n_tets; i++) {
		/* the kind of a region looked up when it changes, not per tetrahedron */
		if (i == 0 || m->tet_region[i] != m->tet_region[i - 1])
			blood = twin_export_region_kind(m->tet_region[i]) == TWIN_LABEL_BLOOD;
		fm->cell_of[i] = UINT32_MAX;
		if (!blood)
			continue;
		fm->tet_of[fm->n_cells] = (uint32_t)i;
		fm->cell_of[i] = (uint32_t)fm->n_cells++;
		for (k = 0; k < 4; k++)
			fm->point_of[m->tets[4 * i + k]] = 0;
	}
	if (fm->n_cells == 0) {
		twin_err_set(err, TWIN_EINPUT, "no blood region (heart_ventricle_left, aorta, ...): the case is a blood-pool mesh");
		goto out;
	}
	/* per cell, not per tetrahedron: a third of the size to clear */
	fm->face_patch = calloc(4 * fm->n_cells, sizeof(*fm->face_patch));
	if (!fm->face_patch) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0, np = 0; i < m->n_nodes; i++)
		if (fm->point_of[i] == 0)
			fm->point_of[i] = (uint32_t)np++;
	fm->n_points = np;
	/* tagged triangles on the blood side; one between two blood cells stays internal */
	for (i = 0; i < m->n_tris; i++) {
		const struct twin_tetmesh_parent *p = &fm->x->parents[i];
		int b0 = fm->cell_of[p->tet[0]] != UINT32_MAX;
		int b1 = p->tet[1] != TWIN_TETMESH_NONE && fm->cell_of[p->tet[1]] != UINT32_MAX;

		if (b0 == b1 || m->tri_surface[i] == 0)
			continue;
		for (k = 0; k < m->n_surfaces; k++)
			if (m->surfaces[k].tag == m->tri_surface[i])
				break;
		if (k < m->n_surfaces)
			fm->face_patch[4 * (size_t)fm->cell_of[p->tet[b1]] + p->face[b1]] = (uint32_t)k + 1;
	}
	if (match_faces(err, fm) != 0)
		goto out;
	/* patches in surface order, then the untagged wall; empty ones are dropped */
	for (k = 0, i = fm->n_internal; k <= m->n_surfaces; k++) {
		struct patch *p = &fm->patches[fm->n_patches];

		p->start = i;
		while (i < fm->n_faces && fm->faces[i].patch == k + 1)
			i++;
		p->n = i - p->start;
		if (p->n == 0)
			continue;
		if (k < m->n_surfaces) {
			twin_export_ident(p->name, m->surfaces[k].name);
			p->type = patch_type_of(m->surfaces[k].name);
		} else {
			snprintf(p->name, sizeof(p->name), "wall_untagged");
			p->type = P_WALL;
		}
		fm->n_patches++;
	}
	rc = 0;
out:
	return rc;
}

static uint32_t find(uint32_t *up, uint32_t c)
{
	while (up[c] != c) {
		up[c] = up[up[c]];
		c = up[c];
	}
	return c;
}

/*
 * Every connected blood pool (the left and the right heart are two) needs an
 * inlet and an outlet; the message names the pool's regions and what is
 * missing.
 */
static int check_openings(struct twin_err *err, const struct foam *fm)
{
	const struct twin_tetmesh *m = fm->x->mesh;
	uint32_t *up = malloc(fm->n_cells * sizeof(*up));
	uint8_t *has = calloc(fm->n_cells, 1); /* per root: 1 inlet, 2 outlet */
	size_t c, f, k, pools = 0;
	int rc = 0;

	if (!up || !has) {
		free(up);
		free(has);
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	}
	for (c = 0; c < fm->n_cells; c++)
		up[c] = (uint32_t)c;
	/* the higher root goes under the lower: with owners ascending the trees stay flat */
	for (f = 0; f < fm->n_internal; f++) {
		uint32_t a = find(up, fm->faces[f].owner), b = find(up, fm->faces[f].neighbour);

		if (a < b)
			up[b] = a;
		else
			up[a] = b;
	}
	for (k = 0; k < fm->n_patches; k++) {
		const struct patch *p = &fm->patches[k];

		for (f = p->start; p->type != P_WALL && f < p->start + p->n; f++)
			has[find(up, fm->faces[f].owner)] |= p->type == P_INLET ? 1 : 2;
	}
	for (c = 0; c < fm->n_cells; c++)
		pools += find(up, (uint32_t)c) == c;
	for (c = 0; c < fm->n_cells && rc == 0; c++) {
		char where[TWIN_TETMESH_NAME_MAX * 2 + 32];
		uint8_t h = has[c];

		if (find(up, (uint32_t)c) != c || h == 3)
			continue;
		where[0] = '\0';
		if (pools > 1) {
			const char *name = twin_tetmesh_region_name(m, m->tet_region[fm->tet_of[c]]);

			snprintf(where, sizeof(where), " around '%s'", name ? name : "?");
		}
		rc = twin_err_set(err, TWIN_EINPUT, "the blood pool%s has no %s%s%s: the flow needs %s", where,
				  h & 1 ? "" : "inlet (inlet_* cap, or a mitral or tricuspid valve on its boundary)",
				  !h ? " and no " : "",
				  h & 2 ? "" : "outlet (outlet_* cap, or an aortic or pulmonary valve on its boundary)",
				  !h ? "both" : "one");
	}
	free(up);
	free(has);
	return rc;
}

/* The cells of region id into out (0-based, ascending); returns how many. */
static size_t region_cells(const struct foam *fm, int32_t id, int32_t *out)
{
	size_t c, n = 0;

	for (c = 0; c < fm->n_cells; c++)
		if (fm->x->mesh->tet_region[fm->tet_of[c]] == id)
			out[n++] = (int32_t)c;
	return n;
}

static int write_mesh(struct twin_err *err, const struct foam *fm, const char *dir)
{
	const struct twin_tetmesh *m = fm->x->mesh;
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	const char *loc = "constant/polyMesh";
	char note[160];
	double *pts = NULL;
	int32_t *lab = NULL;
	size_t i, k;
	int rc = -1;

	pts = malloc((fm->n_points ? fm->n_points : 1) * 3 * sizeof(*pts));
	lab = malloc((3 * fm->n_faces + 1) * sizeof(*lab));
	if (!pts || !lab) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	for (i = 0; i < m->n_nodes; i++)
		if (fm->point_of[i] != UINT32_MAX)
			for (k = 0; k < 3; k++)
				pts[3 * (size_t)fm->point_of[i] + k] = m->xyz[3 * i + k] * 1e-3;
	if (twin_export_open(err, &o, dir, "constant/polyMesh/points") != 0)
		goto out;
	header(o.f, "vectorField", loc, "points", 1, NULL);
	raw_list(o.f, pts, fm->n_points, 3 * sizeof(double));
	if (twin_export_close(err, &o) != 0)
		goto out;

	if (twin_export_open(err, &o, dir, "constant/polyMesh/faces") != 0)
		goto out;
	header(o.f, "faceCompactList", loc, "faces", 1, NULL);
	for (i = 0; i <= fm->n_faces; i++)
		lab[i] = (int32_t)(3 * i);
	raw_list(o.f, lab, fm->n_faces + 1, sizeof(*lab));
	for (i = 0; i < fm->n_faces; i++) {
		uint32_t t = fm->faces[i].local / 4, f = fm->faces[i].local % 4;

		for (k = 0; k < 3; k++)
			lab[3 * i + k] = (int32_t)fm->point_of[m->tets[4 * (size_t)t + twin_tetmesh_face_nodes[f][k]]];
	}
	raw_list(o.f, lab, 3 * fm->n_faces, sizeof(*lab));
	if (twin_export_close(err, &o) != 0)
		goto out;

	snprintf(note, sizeof(note), "nPoints:%zu  nCells:%zu  nFaces:%zu  nInternalFaces:%zu",
		 fm->n_points, fm->n_cells, fm->n_faces, fm->n_internal);
	if (twin_export_open(err, &o, dir, "constant/polyMesh/owner") != 0)
		goto out;
	header(o.f, "labelList", loc, "owner", 1, note);
	for (i = 0; i < fm->n_faces; i++)
		lab[i] = (int32_t)fm->faces[i].owner;
	raw_list(o.f, lab, fm->n_faces, sizeof(*lab));
	if (twin_export_close(err, &o) != 0)
		goto out;

	if (twin_export_open(err, &o, dir, "constant/polyMesh/neighbour") != 0)
		goto out;
	header(o.f, "labelList", loc, "neighbour", 1, note);
	for (i = 0; i < fm->n_internal; i++)
		lab[i] = (int32_t)fm->faces[i].neighbour;
	raw_list(o.f, lab, fm->n_internal, sizeof(*lab));
	if (twin_export_close(err, &o) != 0)
		goto out;

	/* one cellZone per blood region keeps the region names */
	if (twin_export_open(err, &o, dir, "constant/polyMesh/cellZones") != 0)
		goto out;
	header(o.f, "regIOobject", loc, "cellZones", 1, NULL);
	for (i = 0, k = 0; i < m->n_regions; i++)
		k += region_cells(fm, m->regions[i].tag, lab) > 0;
	fprintf(o.f, "%zu\n(\n", k);
	for (i = 0; i < m->n_regions; i++) {
		size_t n = region_cells(fm, m->regions[i].tag, lab);
		char id[TWIN_TETMESH_NAME_MAX + 3];

		if (n == 0)
			continue;
		twin_export_ident(id, m->regions[i].name);
		fprintf(o.f, "%s\n{\n    type cellZone;\ncellLabels      List<label> ", id);
		raw_list(o.f, lab, n, sizeof(*lab));
		fprintf(o.f, ";\n}\n");
	}
	fprintf(o.f, ")\n");
	if (twin_export_close(err, &o) != 0)
		goto out;

	if (twin_export_open(err, &o, dir, "constant/polyMesh/boundary") != 0)
		goto out;
	header(o.f, "polyBoundaryMesh", loc, "boundary", 0, NULL);
	fprintf(o.f, "%zu\n(\n", fm->n_patches);
	for (k = 0; k < fm->n_patches; k++) {
		const struct patch *p = &fm->patches[k];

		fprintf(o.f, "    %s\n    {\n        type            %s;\n", p->name,
			p->type == P_WALL ? "wall" : "patch");
		if (p->type == P_WALL)
			fprintf(o.f, "        inGroups        1(wall);\n");
		fprintf(o.f, "        nFaces          %zu;\n        startFace       %zu;\n    }\n", p->n,
			p->start);
	}
	fprintf(o.f, ")\n");
	rc = twin_export_close(err, &o);
out:
	twin_export_abort(&o);
	free(pts);
	free(lab);
	return rc;
}

/* 1 for an inlet of the right heart (inlet_ra_*, tricuspid_valve), else 0. */
static int right_side(const char *patch)
{
	return strncmp(patch, "inlet_ra_", 9) == 0 || strcmp(patch, "tricuspid_valve") == 0;
}

/* 0/U, 0/p and the dictionaries of a short icoFoam run. */
static int write_case(struct twin_err *err, const struct foam *fm, const char *dir)
{
	static const char *const dicts[][3] = {
		{ "constant/transportProperties", "constant", "transportProperties" },
		{ "system/controlDict", "system", "controlDict" },
		{ "system/fvSchemes", "system", "fvSchemes" },
		{ "system/fvSolution", "system", "fvSolution" },
	};
	static const char *const body[] = {
		"// blood as a Newtonian fluid: kinematic viscosity in m^2/s\n"
		"nu              3.3e-06;\n",
		"application     icoFoam;\nstartFrom       startTime;\nstartTime       0;\n"
		"stopAt          endTime;\nendTime         0.005;\ndeltaT          0.0001;\n"
		"writeControl    timeStep;\nwriteInterval   50;\npurgeWrite      0;\n"
		"writeFormat     binary;\nwritePrecision  8;\ntimeFormat      general;\n"
		"timePrecision   6;\nrunTimeModifiable false;\n",
		"ddtSchemes { default Euler; }\ngradSchemes { default Gauss linear; }\n"
		"divSchemes { default none; div(phi,U) Gauss limitedLinearV 1; }\n"
		"laplacianSchemes { default Gauss linear corrected; }\n"
		"interpolationSchemes { default linear; }\nsnGradSchemes { default corrected; }\n",
		"solvers\n{\n    p { solver PCG; preconditioner DIC; tolerance 1e-06; relTol 0.05; }\n"
		"    pFinal { $p; relTol 0; }\n"
		"    U { solver smoothSolver; smoother symGaussSeidel; tolerance 1e-05; relTol 0; }\n}\n"
		"PISO\n{\n    nCorrectors 2;\n    nNonOrthogonalCorrectors 1;\n"
		"    pRefCell 0;\n    pRefValue 0;\n}\n",
	};
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	size_t i, k, n_inlets[2] = { 0, 0 };

	for (k = 0; k < fm->n_patches; k++)
		n_inlets[right_side(fm->patches[k].name)] += fm->patches[k].type == P_INLET;
	for (i = 0; i < 4; i++) {
		if (twin_export_open(err, &o, dir, dicts[i][0]) != 0)
			return -1;
		header(o.f, "dictionary", dicts[i][1], dicts[i][2], 0, NULL);
		fputs(body[i], o.f);
		if (twin_export_close(err, &o) != 0)
			return -1;
	}
	if (twin_export_open(err, &o, dir, "0/U") != 0)
		return -1;
	header(o.f, "volVectorField", "0", "U", 0, NULL);
	fprintf(o.f, "dimensions      [0 1 -1 0 0 0 0];\ninternalField   uniform (0 0 0);\n"
		"boundaryField\n{\n");
	for (k = 0; k < fm->n_patches; k++) {
		const struct patch *p = &fm->patches[k];

		if (p->type == P_INLET)
			/* 5 L/min into each circulation, shared by its inlets */
			fprintf(o.f, "    %s { type flowRateInletVelocity; volumetricFlowRate constant %.6g; value uniform (0 0 0); }\n",
				p->name, 8.33e-5 / (double)n_inlets[right_side(p->name)]);
		else if (p->type == P_OUTLET)
			fprintf(o.f, "    %s { type zeroGradient; }\n", p->name);
		else
			fprintf(o.f, "    %s { type noSlip; }\n", p->name);
	}
	fprintf(o.f, "}\n");
	if (twin_export_close(err, &o) != 0)
		return -1;
	if (twin_export_open(err, &o, dir, "0/p") != 0)
		return -1;
	header(o.f, "volScalarField", "0", "p", 0, NULL);
	fprintf(o.f, "// kinematic pressure, m^2/s^2\ndimensions      [0 2 -2 0 0 0 0];\n"
		"internalField   uniform 0;\nboundaryField\n{\n");
	for (k = 0; k < fm->n_patches; k++) {
		const struct patch *p = &fm->patches[k];

		if (p->type == P_OUTLET)
			fprintf(o.f, "    %s { type fixedValue; value uniform 0; }\n", p->name);
		else
			fprintf(o.f, "    %s { type zeroGradient; }\n", p->name);
	}
	fprintf(o.f, "}\n");
	return twin_export_close(err, &o);
}

int twin_export_openfoam(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	struct twin_export_file o;
	struct foam fm;
	int rc = -1;

	memset(&fm, 0, sizeof(fm));
	fm.x = x;
	if (build(err, &fm) != 0 || check_openings(err, &fm) != 0)
		goto out;
	if (twin_export_mkdir(err, dir, "constant") != 0 ||
	    twin_export_mkdir(err, dir, "constant/polyMesh") != 0 ||
	    twin_export_mkdir(err, dir, "system") != 0 || twin_export_mkdir(err, dir, "0") != 0)
		goto out;
	if (write_mesh(err, &fm, dir) != 0 || write_case(err, &fm, dir) != 0)
		goto out;
	/* an empty case.foam lets ParaView open the case */
	if (twin_export_open(err, &o, dir, "case.foam") != 0)
		goto out;
	rc = twin_export_close(err, &o);
out:
	foam_release(&fm);
	return rc;
}
