#include "quality.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

static void sub(double *out, const double *a, const double *b)
{
	for (int i = 0; i < 3; i++)
		out[i] = a[i] - b[i];
}

static void cross(double *out, const double *a, const double *b)
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double *a, const double *b)
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Dihedral angles (degrees) at the 6 edges, the radius ratio, the 6 edge lengths. */
static void tet_measure(const double *p[4], double dihedral[6], double *gamma, double edge[6])
{
	static const int e[6][2] = { { 0, 1 }, { 0, 2 }, { 0, 3 }, { 1, 2 }, { 1, 3 }, { 2, 3 } };
	double n[4][3], area[4], a[3], b[3], c[3], vol, sum = 0, l[6];

	for (int f = 0; f < 4; f++) {
		const uint8_t *k = twin_tetmesh_face_nodes[f];

		sub(a, p[k[1]], p[k[0]]);
		sub(b, p[k[2]], p[k[0]]);
		cross(n[f], a, b);
		area[f] = 0.5 * sqrt(dot(n[f], n[f]));
		sum += area[f];
	}
	sub(a, p[1], p[0]);
	sub(b, p[2], p[0]);
	sub(c, p[3], p[0]);
	{
		double t[3];

		cross(t, a, b);
		vol = dot(t, c) / 6;
	}
	for (int i = 0; i < 6; i++) {
		double d[3];

		sub(d, p[e[i][0]], p[e[i][1]]);
		l[i] = edge[i] = sqrt(dot(d, d));
	}
	/* the faces at edge (i, j) are those opposite the two other nodes */
	for (int i = 0; i < 6; i++) {
		int k = -1, m = -1;
		double cs, nn;

		for (int v = 0; v < 4; v++)
			if (v != e[i][0] && v != e[i][1]) {
				if (k < 0)
					k = v;
				else
					m = v;
			}
		nn = sqrt(dot(n[k], n[k]) * dot(n[m], n[m]));
		cs = nn > 0 ? -dot(n[k], n[m]) / nn : 1;
		cs = cs > 1 ? 1 : cs < -1 ? -1 : cs;
		dihedral[i] = acos(cs) * 180 / M_PI;
	}
	/* circumradius from the products of opposite edges: (0,1)-(2,3), (0,2)-(1,3), (0,3)-(1,2) */
	{
		double x = l[0] * l[5], y = l[1] * l[4], z = l[2] * l[3];
		double q = (x + y + z) * (x + y - z) * (x - y + z) * (-x + y + z);
		double rin = sum > 0 ? 3 * fabs(vol) / sum : 0, rcirc;

		rcirc = vol != 0 && q > 0 ? sqrt(q) / (24 * fabs(vol)) : INFINITY;
		*gamma = vol > 0 && isfinite(rcirc) ? 3 * rin / rcirc : 0;
	}
}

double twin_quality_min_dihedral(const double *p[4])
{
	double dih[6], gamma, edge[6], least = 180;

	tet_measure(p, dih, &gamma, edge);
	for (int k = 0; k < 6; k++)
		if (dih[k] < least)
			least = dih[k];
	return least;
}

static int fits(const struct twin_quality_side *s, const int32_t r[2], unsigned n)
{
	unsigned want = s->region[1] ? 2 : 1;

	if (n != want)
		return 0;
	if (n == 1)
		return r[0] == s->region[0];
	return (r[0] == s->region[0] && r[1] == s->region[1]) || (r[0] == s->region[1] && r[1] == s->region[0]);
}

/*
 * Counts the tagged triangles that are a face of no tet (loose) or not of the
 * tets of the regions their tag separates (misplaced). A repeated triangle
 * shares its first copy's tets.
 */
static int check_faces(struct twin_err *err, struct twin_quality *q, const struct twin_tetmesh *m,
		       const struct twin_quality_side *sides, size_t nsides)
{
	struct twin_tetmesh_parent *par = twin_tetmesh_face_parents(err, m);

	q->first_bad_triangle = SIZE_MAX;
	if (!par)
		return twin_err_prefix(err, "mesh quality");
	for (size_t i = 0; i < m->n_tris; i++) {
		const struct twin_tetmesh_parent *p = par + i;
		unsigned c = p->tet[0] == TWIN_TETMESH_NONE ? 0 : p->tet[1] == TWIN_TETMESH_NONE ? 1 :
			     p->face[1] == TWIN_TETMESH_FACE_SHARED ? 3 : 2;
		int32_t r[2] = { c > 0 ? m->tet_region[p->tet[0]] : 0, c > 1 ? m->tet_region[p->tet[1]] : 0 };
		int32_t tag = m->tri_surface[i];
		int known = 0, ok = 0;

		if (c == 0) {
			q->loose_triangles++;
			if (q->first_bad_triangle == SIZE_MAX)
				q->first_bad_triangle = i;
			continue;
		}
		for (size_t s = 0; s < nsides && !ok; s++)
			if (sides[s].tag == tag) {
				known = 1;
				ok = fits(&sides[s], r, c);
			}
		if (!known)
			ok = c == 1 || (c == 2 && r[0] != r[1]);
		if (!ok) {
			q->misplaced_triangles++;
			if (q->first_bad_triangle == SIZE_MAX)
				q->first_bad_triangle = i;
		}
	}
	free(par);
	return 0;
}

int twin_quality_measure(struct twin_err *err, struct twin_quality *q, const struct twin_tetmesh *m,
			 const double label_volume[TWIN_GRID_LABELS],
			 const struct twin_quality_side *sides, size_t nsides)
{
	struct twin_tetmesh_count *rc = NULL, *sc = NULL;
	size_t nr = 0, ns = 0;
	int ret = -1;

	memset(q, 0, sizeof(*q));
	q->nodes = m->n_nodes;
	q->tets = m->n_tets;
	q->triangles = m->n_tris;
	q->min_dihedral = 180;
	if (check_faces(err, q, m, sides, nsides) != 0 ||
	    twin_tetmesh_region_counts(err, m, &rc, &nr) != 0 ||
	    twin_tetmesh_surface_counts(err, m, &sc, &ns) != 0)
		goto out;
	q->regions = calloc(nr ? nr : 1, sizeof(*q->regions));
	q->surfaces = calloc(ns ? ns : 1, sizeof(*q->surfaces));
	if (!q->regions || !q->surfaces) {
		twin_err_set(err, TWIN_EFAIL, "mesh quality: out of memory");
		goto out;
	}
	q->nregions = nr;
	q->nsurfaces = ns;
	for (size_t i = 0; i < nr; i++) {
		struct twin_quality_region *r = &q->regions[i];

		r->id = rc[i].tag;
		r->name = twin_tetmesh_region_name(m, rc[i].tag);
		r->min_dihedral = 180;
		r->min_gamma = 1;
		r->min_edge = INFINITY;
		if (r->id >= 0 && r->id < TWIN_GRID_LABELS)
			r->label_volume = label_volume[r->id];
	}
	for (size_t t = 0; t < m->n_tets; t++) {
		const double *p[4];
		double dih[6], gamma, edge[6], v = twin_tetmesh_tet_volume(m, t);
		struct twin_quality_region *r = NULL;

		for (size_t i = 0; i < nr && !r; i++)
			if (q->regions[i].id == m->tet_region[t])
				r = &q->regions[i];
		for (int k = 0; k < 4; k++)
			p[k] = m->xyz + 3 * m->tets[4 * t + k];
		tet_measure(p, dih, &gamma, edge);
		if (v <= 0)
			q->inverted++;
		r->tets++;
		r->volume += v;
		r->mean_gamma += gamma;
		if (gamma < r->min_gamma)
			r->min_gamma = gamma;
		for (int k = 0; k < 6; k++)
			if (dih[k] < TWIN_QUALITY_MIN_DIHEDRAL) {
				r->below_min_dihedral++;
				q->below_min_dihedral++;
				break;
			}
		for (int k = 0; k < 6; k++) {
			r->mean_dihedral += dih[k];
			if (dih[k] < r->min_dihedral)
				r->min_dihedral = dih[k];
			r->mean_edge += edge[k];
			if (edge[k] < r->min_edge)
				r->min_edge = edge[k];
			if (edge[k] > r->max_edge)
				r->max_edge = edge[k];
		}
	}
	for (size_t i = 0; i < nr; i++) {
		struct twin_quality_region *r = &q->regions[i];
		double e;

		r->mean_gamma /= (double)r->tets;
		r->mean_dihedral /= 6.0 * (double)r->tets;
		r->mean_edge /= 6.0 * (double)r->tets;
		r->volume_error = r->label_volume > 0 ? 100 * (r->volume - r->label_volume) / r->label_volume : 0;
		e = fabs(r->volume_error);
		if (e > q->max_volume_error)
			q->max_volume_error = e;
		if (r->min_dihedral < q->min_dihedral)
			q->min_dihedral = r->min_dihedral;
	}
	for (size_t i = 0; i < ns; i++) {
		q->surfaces[i].tag = sc[i].tag;
		q->surfaces[i].name = twin_tetmesh_surface_name(m, sc[i].tag);
		q->surfaces[i].triangles = sc[i].count;
	}
	for (size_t t = 0; t < m->n_tris; t++)
		for (size_t i = 0; i < ns; i++)
			if (q->surfaces[i].tag == m->tri_surface[t]) {
				q->surfaces[i].area += twin_tetmesh_tri_area(m, t);
				break;
			}
	ret = 0;
out:
	free(rc);
	free(sc);
	return ret;
}

void twin_quality_release(struct twin_quality *q)
{
	free(q->regions);
	free(q->surfaces);
	q->regions = NULL;
	q->surfaces = NULL;
}

static void say(twin_grid_warn_fn *warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(twin_grid_warn_fn *warn, void *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(ctx, msg);
}

size_t twin_quality_requirements(const struct twin_quality *q, twin_grid_warn_fn *warn, void *ctx)
{
	size_t n = 0;

	if (q->inverted) {
		n++;
		say(warn, ctx, "%zu tetrahedra are inverted or flat", q->inverted);
	}
	if (q->loose_triangles || q->misplaced_triangles) {
		n++;
		say(warn, ctx, "%zu surface triangles are a face of no tetrahedron, %zu not of the regions they separate",
		    q->loose_triangles, q->misplaced_triangles);
	}
	if (q->min_dihedral < TWIN_QUALITY_MIN_DIHEDRAL) {
		n++;
		say(warn, ctx, "the smallest dihedral angle is %.2f degrees: %zu of %zu tetrahedra have one below %.0f",
		    q->min_dihedral, q->below_min_dihedral, q->tets, TWIN_QUALITY_MIN_DIHEDRAL);
	}
	for (size_t i = 0; i < q->nregions; i++)
		if (fabs(q->regions[i].volume_error) > TWIN_QUALITY_MAX_VOLUME_ERROR) {
			n++;
			say(warn, ctx, "region '%s' has %.1f mm^3, %+.1f %% of its label's %.1f mm^3",
			    q->regions[i].name, q->regions[i].volume, q->regions[i].volume_error,
			    q->regions[i].label_volume);
		}
	if (q->surface_offset > q->voxel_size) {
		n++;
		say(warn, ctx, "the surface lies up to %.2f mm from the label boundary, more than a voxel (%.2f mm)",
		    q->surface_offset, q->voxel_size);
	}
	return n;
}

int twin_quality_conforming(struct twin_err *err, const struct twin_quality *q, const struct twin_tetmesh *m)
{
	size_t i = q->first_bad_triangle;
	const char *name;
	const double *p;

	if (!q->loose_triangles && !q->misplaced_triangles)
		return 0;
	name = i < m->n_tris ? twin_tetmesh_surface_name(m, m->tri_surface[i]) : NULL;
	p = i < m->n_tris ? m->xyz + 3 * (size_t)m->tris[3 * i] : (const double[3]){ 0, 0, 0 };
	return twin_err_set(err, TWIN_EFAIL,
			    "the mesh does not conform to its surfaces: %zu of %zu triangles are a face of no tetrahedron, "
			    "%zu are not faces of the regions they separate (the first on '%s' at %.1f %.1f %.1f mm)",
			    q->loose_triangles, m->n_tris, q->misplaced_triangles, name ? name : "?", p[0], p[1], p[2]);
}

static int requirement(xmlNode *root, const char *name, int ok, double value, double limit)
{
	xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"requirement", NULL);

	if (!n)
		return -1;
	return twin_xml_set_attr(n, "name", "%s", name) | twin_xml_set_attr(n, "met", "%s", ok ? "true" : "false") |
	       twin_xml_set_attr(n, "value", "%.6g", value) | twin_xml_set_attr(n, "limit", "%.6g", limit);
}

int twin_quality_save(struct twin_err *err, const char *path, const struct twin_quality *q)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewNode(NULL, (const xmlChar *)"quality") : NULL;
	int bad = !root, rc = -1;

	if (bad)
		goto out;
	xmlDocSetRootElement(doc, root);
	bad |= twin_xml_set_attr(root, "nodes", "%zu", q->nodes) | twin_xml_set_attr(root, "tetrahedra", "%zu", q->tets) |
	       twin_xml_set_attr(root, "triangles", "%zu", q->triangles) |
	       twin_xml_set_attr(root, "netgen", "%s", q->netgen ? "true" : "false");
	bad |= requirement(root, "no_inverted_tetrahedra", q->inverted == 0, (double)q->inverted, 0);
	bad |= requirement(root, "surface_triangles_on_tetrahedra", !q->loose_triangles && !q->misplaced_triangles,
			   (double)(q->loose_triangles + q->misplaced_triangles), 0);
	bad |= requirement(root, "min_dihedral_deg", q->min_dihedral >= TWIN_QUALITY_MIN_DIHEDRAL,
			   q->min_dihedral, TWIN_QUALITY_MIN_DIHEDRAL);
	bad |= requirement(root, "max_volume_error_percent", q->max_volume_error <= TWIN_QUALITY_MAX_VOLUME_ERROR,
			   q->max_volume_error, TWIN_QUALITY_MAX_VOLUME_ERROR);
	bad |= requirement(root, "surface_distance_mm", q->surface_offset <= q->voxel_size,
			   q->surface_offset, q->voxel_size);
	for (size_t i = 0; i < q->nregions && !bad; i++) {
		const struct twin_quality_region *r = &q->regions[i];
		xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"region", NULL);

		bad |= !n;
		if (bad)
			break;
		bad |= twin_xml_set_attr(n, "id", "%d", r->id) | twin_xml_set_attr(n, "name", "%s", r->name ? r->name : "?") |
		       twin_xml_set_attr(n, "tetrahedra", "%zu", r->tets) | twin_xml_set_attr(n, "volume_mm3", "%.6g", r->volume) |
		       twin_xml_set_attr(n, "label_volume_mm3", "%.6g", r->label_volume) |
		       twin_xml_set_attr(n, "volume_error_percent", "%.4g", r->volume_error) |
		       twin_xml_set_attr(n, "min_dihedral_deg", "%.4g", r->min_dihedral) |
		       twin_xml_set_attr(n, "mean_dihedral_deg", "%.4g", r->mean_dihedral) |
		       twin_xml_set_attr(n, "below_min_dihedral", "%zu", r->below_min_dihedral) |
		       twin_xml_set_attr(n, "min_gamma", "%.4g", r->min_gamma) | twin_xml_set_attr(n, "mean_gamma", "%.4g", r->mean_gamma) |
		       twin_xml_set_attr(n, "min_edge_mm", "%.4g", r->min_edge) | twin_xml_set_attr(n, "mean_edge_mm", "%.4g", r->mean_edge) |
		       twin_xml_set_attr(n, "max_edge_mm", "%.4g", r->max_edge);
	}
	for (size_t i = 0; i < q->nsurfaces && !bad; i++) {
		const struct twin_quality_surface *s = &q->surfaces[i];
		xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"surface", NULL);

		bad |= !n;
		if (bad)
			break;
		bad |= twin_xml_set_attr(n, "tag", "%d", s->tag) | twin_xml_set_attr(n, "name", "%s", s->name ? s->name : "?") |
		       twin_xml_set_attr(n, "triangles", "%zu", s->triangles) | twin_xml_set_attr(n, "area_mm2", "%.6g", s->area);
	}
out:
	if (bad)
		twin_err_set(err, TWIN_EFAIL, "quality '%s': out of memory", path);
	else
		rc = twin_xml_save(err, "quality", path, doc, twin_quality_xsd);
	xmlFreeDoc(doc);
	return rc;
}
