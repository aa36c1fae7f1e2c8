/*
 * The series section: what twin-ingest read and converted, from
 * ingest/series.xml once it is valid against ingest/series.xsd. The schema
 * lets only hashed UIDs into <selected>; the patient's identifiers, which
 * keep_phi adds in <identifiers>, are never shown.
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "xml.h"
#include "../ingest/series_xml.h"

/* Attribute attr of node as a table row named name; nothing when it is absent or empty. */
static void attr_row(struct twin_page *r, const xmlNode *node, const char *attr, const char *name,
		     const char *unit)
{
	char *v = twin_xml_attr(node, attr, NULL);

	if (v && *v) {
		put(r, "<tr><th>");
		put(r, name);
		put(r, "</th><td>");
		twin_page_text(r, v);
		if (unit)
			put(r, unit);
		put(r, "</td></tr>\n");
	}
	free(v);
}

/* Note when boolean attribute attr of node is true. */
static void flag_note(struct twin_page *r, const xmlNode *node, const char *attr, const char *note)
{
	char *v = twin_xml_attr(node, attr, NULL);

	if (v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
		put(r, note);
	free(v);
}

static void series_volume(struct twin_page *r, const xmlNode *vol)
{
	static const char *const attrs[] = { "file", "phase", "percent", "trigger-time", "size", "spacing",
					     "dtype", "values", "slices-read", "tilt-degrees" };

	put(r, "<tr>");
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		char *v = twin_xml_attr(vol, attrs[i], NULL);

		put(r, "<td>");
		twin_page_text(r, v ? v : "—");
		put(r, "</td>");
		free(v);
	}
	put(r, "<td>");
	flag_note(r, vol, "uneven-resampled", "uneven slices resampled. ");
	flag_note(r, vol, "tilt-corrected", "gantry tilt corrected. ");
	flag_note(r, vol, "percent-estimated", "phase percent estimated. ");
	put(r, "</td></tr>\n");
}

int twin_page_series(struct twin_err *err, struct twin_page *r)
{
	char *path = twin_page_path(err, r, "ingest/series.xml");
	xmlDoc *doc = NULL;
	xmlNode *root, *source, *sel, *n;
	int rc = -1;

	if (!path)
		return -1;
	if (!twin_page_stage_section(r, "twin-ingest", twin_path_exists(path))) {
		rc = 0;
		goto out;
	}
	doc = twin_page_load_xml(err, "series", path, twin_series_xsd);
	if (!doc)
		goto out;
	root = xmlDocGetRootElement(doc);
	source = twin_xml_next(root->children, "source");
	sel = twin_xml_next(root->children, "selected");
	put(r, "<p>From <a href=\"ingest/series.xml\">ingest/series.xml</a>. Identifiers are shown only "
	       "as their hashes; names, IDs and dates of the patient never appear on this page.</p>\n"
	       "<table class=\"kv\">\n");
	attr_row(r, sel, "modality", "modality", NULL);
	attr_row(r, sel, "manufacturer", "manufacturer", NULL);
	attr_row(r, sel, "model", "model", NULL);
	attr_row(r, sel, "kernel", "kernel", NULL);
	attr_row(r, sel, "kvp", "tube voltage", " kV");
	attr_row(r, sel, "image-type", "image type", NULL);
	attr_row(r, sel, "orientation", "slice orientation", NULL);
	attr_row(r, sel, "rows", "rows", NULL);
	attr_row(r, sel, "columns", "columns", NULL);
	attr_row(r, sel, "pixel-spacing", "pixel spacing", " mm");
	attr_row(r, sel, "slice-thickness", "slice thickness", " mm");
	attr_row(r, sel, "slices", "slices", NULL);
	attr_row(r, sel, "phases", "cardiac phases", NULL);
	attr_row(r, sel, "number", "series number", NULL);
	attr_row(r, sel, "uid", "series (hashed UID)", NULL);
	attr_row(r, sel, "study", "study (hashed UID)", NULL);
	attr_row(r, sel, "transfer-syntax", "transfer syntax", NULL);
	attr_row(r, source, "files", "files read", NULL);
	attr_row(r, source, "unreadable-files", "unreadable files", NULL);
	attr_row(r, source, "series", "series found", NULL);
	put(r, "</table>\n");

	put(r, "<table class=\"grid\">\n<tr><th>volume</th><th>phase</th><th>%</th><th>trigger ms</th>"
	       "<th>size</th><th>spacing mm</th><th>type</th><th>values</th><th>slices</th>"
	       "<th>tilt °</th><th>notes</th></tr>\n");
	for (n = twin_xml_next(root->children, "volume"); n; n = twin_xml_next(n->next, "volume"))
		series_volume(r, n);
	put(r, "</table>\n");
	for (n = twin_xml_next(root->children, "note"); n; n = twin_xml_next(n->next, "note")) {
		xmlChar *text = xmlNodeGetContent(n);

		put(r, "<p class=\"note\">");
		twin_page_text(r, (const char *)text);
		put(r, "</p>\n");
		xmlFree(text);
	}
	if (twin_xml_next(root->children, "identifiers"))
		put(r, "<p class=\"stale\">series.xml also holds the patient's identifiers (ingest.keep_phi "
		       "was set); this page leaves them out.</p>\n");
	put(r, "</section>\n");
	rc = 0;
out:
	xmlFreeDoc(doc);
	free(path);
	return rc;
}

