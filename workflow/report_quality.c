/*
 * The mesh-quality section: the requirements, regions and surfaces of
 * mesh/quality.xml once it is valid against mesh/quality.xsd.
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "labels.h"
#include "xml.h"
#include "../mesh/quality.h"

static const struct {
	const char *name, *what, *unit;
} requirements[] = {
	{ "no_inverted_tetrahedra", "inverted tetrahedra", "" },
	{ "surface_triangles_on_tetrahedra", "surface triangles not on the tetrahedra they bound", "" },
	{ "min_dihedral_deg", "smallest dihedral angle", " °" },
	{ "max_volume_error_percent", "largest region volume error against the labels", " %" },
	{ "surface_distance_mm", "surface distance from the label boundary", " mm" },
};

/* Reads number attributes of node in order; TWIN_EINPUT names the file and line. */
static int read_numbers(struct twin_err *err, const char *path, const xmlNode *node,
			const char *const *names, double *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (twin_xml_attr_double(err, "quality", path, node, names[i], &out[i]) != 0)
			return -1;
	return 0;
}

static int quality_requirement(struct twin_err *err, struct twin_page *r, const char *path, const xmlNode *n)
{
	static const char *const num[] = { "value", "limit" };
	char *name = twin_xml_attr(n, "name", NULL), *met = twin_xml_attr(n, "met", NULL);
	const char *what = NULL, *unit = "";
	double v[2];
	int rc = -1, pass;

	if (!name || !met) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory");
		goto out;
	}
	if (read_numbers(err, path, n, num, v, 2) != 0)
		goto out;
	pass = strcmp(met, "true") == 0 || strcmp(met, "1") == 0;
	for (size_t i = 0; i < sizeof(requirements) / sizeof(requirements[0]); i++)
		if (strcmp(name, requirements[i].name) == 0) {
			what = requirements[i].what;
			unit = requirements[i].unit;
		}
	putf(r, "<tr class=\"%s\"><td>", pass ? "pass" : "fail");
	twin_page_text(r, what ? what : name);
	putf(r, "</td><td class=\"num\">%g%s</td><td class=\"num\">%g%s</td><td>", v[0], unit, v[1], unit);
	put(r, pass ? "<span class=\"badge ok\">met</span>" : "<span class=\"badge failed\">not met</span>");
	put(r, "</td></tr>\n");
	rc = 0;
out:
	free(name);
	free(met);
	return rc;
}

static int quality_region(struct twin_err *err, struct twin_page *r, const char *path, const xmlNode *n)
{
	static const char *const num[] = { "id", "tetrahedra", "volume_mm3", "label_volume_mm3",
					   "volume_error_percent", "min_dihedral_deg", "mean_dihedral_deg",
					   "below_min_dihedral", "min_gamma", "mean_gamma", "min_edge_mm",
					   "mean_edge_mm", "max_edge_mm" };
	char *name = twin_xml_attr(n, "name", NULL);
	const struct twin_label *l;
	double v[13];
	int rc = -1;

	if (read_numbers(err, path, n, num, v, 13) != 0)
		goto out;
	l = v[0] >= 1 && v[0] <= 255 ? twin_label_by_id((long)v[0]) : NULL;
	put(r, "<tr><td class=\"id\">");
	if (l)
		twin_page_swatch(r, l->rgb);
	putf(r, "%.0f</td><td>", v[0]);
	twin_page_text(r, name ? name : "—");
	putf(r, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
	     "<td class=\"num%s\">%+.2f</td>",
	     v[1], v[2] / 1000.0, v[3] / 1000.0, v[4] > 3.0 || v[4] < -3.0 ? " bad" : "", v[4]);
	putf(r, "<td class=\"num%s\">%.1f</td><td class=\"num\">%.1f</td><td class=\"num\">%.0f</td>",
	     v[5] < 10.0 ? " bad" : "", v[5], v[6], v[7]);
	putf(r, "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>", v[8], v[9]);
	putf(r, "<td class=\"num\">%.2f</td><td class=\"num\">%.2f</td><td class=\"num\">%.2f</td></tr>\n",
	     v[10], v[11], v[12]);
	rc = 0;
out:
	free(name);
	return rc;
}

static int quality_surface(struct twin_err *err, struct twin_page *r, const char *path, const xmlNode *n)
{
	static const char *const num[] = { "tag", "triangles", "area_mm2" };
	char *name = twin_xml_attr(n, "name", NULL);
	double v[3];
	int rc = -1;

	if (read_numbers(err, path, n, num, v, 3) != 0)
		goto out;
	putf(r, "<tr><td>%.0f</td><td>", v[0]);
	twin_page_text(r, name ? name : "—");
	putf(r, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.1f</td></tr>\n", v[1], v[2] / 100.0);
	rc = 0;
out:
	free(name);
	return rc;
}

/* A table row by row() for each element of root's children named element. */
static int rows(struct twin_err *err, struct twin_page *r, const char *path, xmlNode *root, const char *element,
		int (*row)(struct twin_err *, struct twin_page *, const char *, const xmlNode *))
{
	for (xmlNode *n = twin_xml_next(root->children, element); n; n = twin_xml_next(n->next, element))
		if (row(err, r, path, n) != 0)
			return -1;
	return 0;
}

int twin_page_quality(struct twin_err *err, struct twin_page *r)
{
	char *path = twin_page_path(err, r, "mesh/quality.xml");
	xmlDoc *doc = NULL;
	xmlNode *root;
	int rc = -1;

	if (!path)
		return -1;
	put(r, "<section id=\"quality\">\n<h2>Mesh quality</h2>\n");
	if (!twin_path_exists(path)) {
		put(r, "<p class=\"notrun\">No mesh/quality.xml: twin-mesh has not run.</p>\n</section>\n");
		rc = 0;
		goto out;
	}
	doc = twin_page_load_xml(err, "quality", path, twin_quality_xsd);
	if (!doc)
		goto out;
	root = xmlDocGetRootElement(doc);
	put(r, "<p>From <a href=\"mesh/quality.xml\">mesh/quality.xml</a>.</p>\n<h3>Requirements</h3>\n"
	       "<table class=\"grid\">\n<tr><th>requirement</th><th>value</th><th>limit</th><th>state</th></tr>\n");
	if (rows(err, r, path, root, "requirement", quality_requirement) != 0)
		goto out;
	put(r, "</table>\n<h3>Regions</h3>\n<table class=\"grid\">\n"
	       "<tr><th>id</th><th>region</th><th>tetrahedra</th><th>volume mL</th><th>labels mL</th>"
	       "<th>error %</th><th>min dihedral °</th><th>mean dihedral °</th><th>below 10°</th>"
	       "<th>min γ</th><th>mean γ</th><th>min edge mm</th><th>mean edge mm</th><th>max edge mm</th></tr>\n");
	if (rows(err, r, path, root, "region", quality_region) != 0)
		goto out;
	put(r, "</table>\n<p class=\"note\">γ is the radius ratio 3 r<sub>in</sub> / r<sub>circ</sub>: 1 for a "
	       "regular tetrahedron, 0 for a flat one.</p>\n"
	       "<details><summary>Surfaces</summary>\n<table class=\"grid\">\n"
	       "<tr><th>tag</th><th>surface</th><th>triangles</th><th>area cm²</th></tr>\n");
	if (rows(err, r, path, root, "surface", quality_surface) != 0)
		goto out;
	put(r, "</table>\n</details>\n</section>\n");
	rc = 0;
out:
	xmlFreeDoc(doc);
	free(path);
	return rc;
}

