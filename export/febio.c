/*
 * febio: heart.feb in FEBio 4.0 (written with libxml2's text writer): Nodes,
 * one Elements block (tet4) per region, a Surface (tri3, normals out of the
 * element they are attached to) and a NodeSet per tagged surface, one
 * SolidDomain per region and a placeholder neo-Hookean material each.
 * Ids are 1-based; elements are numbered in file order, region by region.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "export.h"
#include "files.h"

#define W(call) ok = ok && (call) >= 0

static const xmlChar *X(const char *s)
{
	return (const xmlChar *)s;
}

static int write_mesh(xmlTextWriter *w, const struct twin_export *x,
		      const struct twin_export_groups *g)
{
	const struct twin_tetmesh *m = x->mesh;
	char buf[160];
	size_t i, k, r, id = 0;
	int ok = 1;

	W(xmlTextWriterStartElement(w, X("Nodes")));
	W(xmlTextWriterWriteAttribute(w, X("name"), X("all")));
	for (i = 0; ok && i < m->n_nodes; i++) {
		const double *p = m->xyz + 3 * i;

		snprintf(buf, sizeof(buf), "%.10g,%.10g,%.10g", p[0], p[1], p[2]);
		W(xmlTextWriterStartElement(w, X("node")));
		W(xmlTextWriterWriteFormatAttribute(w, X("id"), "%zu", i + 1));
		W(xmlTextWriterWriteString(w, X(buf)));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	for (r = 0; ok && r < m->n_regions; r++) {
		W(xmlTextWriterStartElement(w, X("Elements")));
		W(xmlTextWriterWriteAttribute(w, X("type"), X("tet4")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->regions[r].name)));
		for (i = 0; ok && i < m->n_tets; i++) {
			const uint32_t *t = m->tets + 4 * i;

			if (m->tet_region[i] != m->regions[r].tag)
				continue;
			snprintf(buf, sizeof(buf), "%u,%u,%u,%u", t[0] + 1, t[1] + 1, t[2] + 1, t[3] + 1);
			W(xmlTextWriterStartElement(w, X("elem")));
			W(xmlTextWriterWriteFormatAttribute(w, X("id"), "%zu", ++id));
			W(xmlTextWriterWriteString(w, X(buf)));
			W(xmlTextWriterEndElement(w));
		}
		W(xmlTextWriterEndElement(w));
	}
	for (k = 0; ok && k < g->n; k++) {
		W(xmlTextWriterStartElement(w, X("Surface")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->surfaces[k].name)));
		for (i = g->start[k]; ok && i < g->start[k + 1]; i++) {
			const uint32_t *t;
			uint32_t tet;
			uint8_t f;

			twin_export_side(x, g->tris[i], TWIN_LABEL_WALL, &tet, &f);
			t = m->tets + 4 * (size_t)tet;
			snprintf(buf, sizeof(buf), "%u,%u,%u", t[twin_tetmesh_face_nodes[f][0]] + 1,
				 t[twin_tetmesh_face_nodes[f][1]] + 1, t[twin_tetmesh_face_nodes[f][2]] + 1);
			W(xmlTextWriterStartElement(w, X("tri3")));
			W(xmlTextWriterWriteFormatAttribute(w, X("id"), "%zu", i - g->start[k] + 1));
			W(xmlTextWriterWriteString(w, X(buf)));
			W(xmlTextWriterEndElement(w));
		}
		W(xmlTextWriterEndElement(w));
	}
	return ok ? 0 : -1;
}

/* A NodeSet per surface: its sorted 1-based nodes as "1,5,9". */
static int write_nodesets(xmlTextWriter *w, const struct twin_tetmesh *m,
			  const struct twin_export_groups *g, uint8_t *mark)
{
	size_t i, k, c;
	int ok = 1;

	for (k = 0; ok && k < g->n; k++) {
		memset(mark, 0, m->n_nodes);
		for (i = g->start[k]; i < g->start[k + 1]; i++)
			for (c = 0; c < 3; c++)
				mark[m->tris[3 * (size_t)g->tris[i] + c]] = 1;
		W(xmlTextWriterStartElement(w, X("NodeSet")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->surfaces[k].name)));
		for (i = 0, c = 0; ok && i < m->n_nodes; i++)
			if (mark[i])
				W(xmlTextWriterWriteFormatString(w, c++ ? ",%zu" : "%zu", i + 1));
		W(xmlTextWriterEndElement(w));
	}
	return ok ? 0 : -1;
}

int twin_export_febio(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_groups g = { 0, NULL, NULL };
	xmlTextWriter *w = NULL;
	char *path = twin_path_join(dir, "heart.feb");
	uint8_t *mark = malloc(m->n_nodes ? m->n_nodes : 1);
	size_t r;
	int ok = 1, rc = -1;

	if (!path || !mark) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_export_groups_init(err, &g, m) != 0)
		goto out;
	w = xmlNewTextWriterFilename(path, 0);
	if (!w) {
		twin_err_set(err, TWIN_EIO, "cannot create '%s'", path);
		goto out;
	}
	W(xmlTextWriterSetIndent(w, 1));
	W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
	W(xmlTextWriterWriteComment(w, X(" dcm2twin twin-export: lengths in mm; materials are placeholders (E in MPa) ")));
	W(xmlTextWriterStartElement(w, X("febio_spec")));
	W(xmlTextWriterWriteAttribute(w, X("version"), X("4.0")));
	W(xmlTextWriterStartElement(w, X("Module")));
	W(xmlTextWriterWriteAttribute(w, X("type"), X("solid")));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterStartElement(w, X("Material")));
	for (r = 0; ok && r < m->n_regions; r++) {
		int wall = twin_export_region_kind(m->regions[r].tag) == TWIN_LABEL_WALL;

		W(xmlTextWriterStartElement(w, X("material")));
		W(xmlTextWriterWriteFormatAttribute(w, X("id"), "%zu", r + 1));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->regions[r].name)));
		W(xmlTextWriterWriteAttribute(w, X("type"), X("neo-Hookean")));
		W(xmlTextWriterWriteElement(w, X("density"), X("1e-9")));
		W(xmlTextWriterWriteElement(w, X("E"), X(wall ? "0.01" : "1e-6")));
		W(xmlTextWriterWriteElement(w, X("v"), X(wall ? "0.45" : "0.3")));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterStartElement(w, X("Mesh")));
	if (!ok || write_mesh(w, x, &g) != 0 || write_nodesets(w, m, &g, mark) != 0)
		ok = 0;
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterStartElement(w, X("MeshDomains")));
	for (r = 0; ok && r < m->n_regions; r++) {
		W(xmlTextWriterStartElement(w, X("SolidDomain")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->regions[r].name)));
		W(xmlTextWriterWriteAttribute(w, X("mat"), X(m->regions[r].name)));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterEndDocument(w));
	xmlFreeTextWriter(w);
	w = NULL;
	if (!ok) {
		twin_err_set(err, TWIN_EIO, "cannot write '%s': write error", path);
		goto out;
	}
	rc = 0;
out:
	if (w)
		xmlFreeTextWriter(w);
	twin_export_groups_release(&g);
	free(mark);
	free(path);
	return rc;
}
