/*
 * febio: heart.feb in FEBio 4.0 (written with libxml2's text writer): Nodes,
 * one Elements block (tet4) per region, a Surface (tri3, normals out of the
 * element they are attached to) and a NodeSet per tagged surface, one
 * SolidDomain per region and a placeholder neo-Hookean material each.
 * Ids are 1-based; elements are numbered in file order, region by region.
 * With fibres, MeshData holds an ElementData of type mat_axis per
 * myocardium region: per element (lid, 1-based in the region's Elements)
 * <a> the fibre and <d> the sheet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "export.h"

#define W(call) ok = ok && (call) >= 0

static const xmlChar *X(const char *s)
{
	return (const xmlChar *)s;
}

/*
 * Bulk text, built here and handed to libxml2 raw in 64 KiB chunks; it holds
 * only numbers and fixed tags, so nothing needs escaping.
 */
struct raw {
	xmlTextWriter *w;
	char buf[1 << 16];
	size_t len;
	int ok;
};

static void raw_flush(struct raw *r)
{
	r->buf[r->len] = '\0';
	if (r->len && xmlTextWriterWriteRaw(r->w, X(r->buf)) < 0)
		r->ok = 0;
	r->len = 0;
}

/* Room for one line of at most 256 bytes at the end of the buffer. */
static char *raw_line(struct raw *r)
{
	if (r->len + 256 >= sizeof(r->buf))
		raw_flush(r);
	return r->buf + r->len;
}

static void raw_end(struct raw *r, const char *end)
{
	r->len = (size_t)(stpcpy(r->buf + r->len, end) - r->buf);
}

/* "\n   <tag id="id">"; tag has 4 letters */
static char *raw_open(char *q, const char *tag, size_t id)
{
	memcpy(q, "\n   <", 5);
	memcpy(q + 5, tag, 4);
	memcpy(q + 9, " id=\"", 5);
	q = twin_export_put_u(q + 14, id);
	memcpy(q, "\">", 2);
	return q + 2;
}

/* Appends "</tag>" (4 letters) at q and makes it the end of r's text. */
static void raw_close(struct raw *r, char *q, const char *tag)
{
	memcpy(q, "</", 2);
	memcpy(q + 2, tag, 4);
	q[6] = '>';
	r->len = (size_t)(q + 7 - r->buf);
}

struct lines {
	const struct twin_tetmesh *m;
	const struct twin_export_ids *ids;
	const uint32_t *fid; /* FEBio id of each tetrahedron */
	int32_t region;
	uint32_t first;      /* FEBio id of the region's first element, less one */
	const double *fibres;
};

static char *node_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;

	p = twin_export_put_xyz(raw_open(p, "node", i + 1), l->m->xyz + 3 * i, 1, ",");
	memcpy(p, "</node>", 7);
	return p + 7;
}

static char *element_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;

	if (l->m->tet_region[i] != l->region)
		return p;
	p = twin_export_put_ids(raw_open(p, "elem", l->fid[i]), l->ids, l->m->tets + 4 * i, 4, ",");
	memcpy(p, "</elem>", 7);
	return p + 7;
}

/* "<elem lid="n"><a>fibre</a><d>sheet</d></elem>" for the elements of l->region */
static char *axis_line(void *ctx, size_t i, char *p)
{
	const struct lines *l = ctx;
	const double *f = l->fibres + 9 * i;

	if (l->m->tet_region[i] != l->region)
		return p;
	memcpy(p, "\n   <elem lid=\"", 15);
	p = twin_export_put_u(p + 15, l->fid[i] - l->first);
	memcpy(p, "\"><a>", 5);
	p += 5;
	for (int c = 0; c < 6; c++) {
		if (c == 3) {
			memcpy(p, "</a><d>", 7);
			p += 7;
		} else if (c) {
			*p++ = ',';
		}
		p = twin_export_put_fixed(p, f[c], TWIN_EXPORT_FIBRE_DECIMALS);
	}
	memcpy(p, "</d></elem>", 11);
	return p + 11;
}

/* libxml2's output goes through the file's 1 MiB buffer */
static int out_write(void *ctx, const char *buf, int len)
{
	struct twin_export_file *o = ctx;

	return fwrite(buf, 1, (size_t)len, o->f) == (size_t)len ? len : -1;
}

static int raw_sink(void *ctx, const char *buf, size_t len)
{
	struct twin_export_file *o = ctx;

	return fwrite(buf, 1, len, o->f) == len ? 0 : -1;
}

/*
 * Lines straight into the file, past libxml2: its open start tag is closed
 * and its buffer flushed first, so the text lands where the writer stands.
 */
static int bulk(xmlTextWriter *w, struct twin_export_file *o, size_t n, twin_export_line_fn *fn,
		void *ctx)
{
	if (xmlTextWriterWriteRaw(w, X("")) < 0 || xmlTextWriterFlush(w) < 0)
		return -1;
	return twin_export_lines(NULL, n, fn, ctx, raw_sink, o);
}

static int write_mesh(xmlTextWriter *w, struct twin_export_file *o, const struct twin_export *x,
		      const struct twin_export_groups *g, const struct twin_export_ids *ids,
		      const uint32_t *fid)
{
	const struct twin_tetmesh *m = x->mesh;
	struct raw *r = malloc(sizeof(*r));
	struct lines lines = { NULL, NULL, NULL, 0, 0, NULL };
	size_t i, k, rg;
	int ok = 1;
	char *q;

	if (!r)
		return -1;
	r->w = w;
	r->len = 0;
	r->ok = 1;
	lines.m = m;
	lines.ids = ids;
	lines.fid = fid;
	W(xmlTextWriterStartElement(w, X("Nodes")));
	W(xmlTextWriterWriteAttribute(w, X("name"), X("all")));
	ok = ok && bulk(w, o, m->n_nodes, node_line, &lines) == 0;
	W(xmlTextWriterWriteRaw(w, X("\n  ")));
	W(xmlTextWriterEndElement(w));
	for (rg = 0; ok && rg < m->n_regions; rg++) {
		W(xmlTextWriterStartElement(w, X("Elements")));
		W(xmlTextWriterWriteAttribute(w, X("type"), X("tet4")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->regions[rg].name)));
		lines.region = m->regions[rg].tag;
		ok = ok && bulk(w, o, m->n_tets, element_line, &lines) == 0;
		W(xmlTextWriterWriteRaw(w, X("\n  ")));
		W(xmlTextWriterEndElement(w));
	}
	for (k = 0; ok && r->ok && k < g->n; k++) {
		W(xmlTextWriterStartElement(w, X("Surface")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->surfaces[k].name)));
		for (i = g->start[k]; i < g->start[k + 1]; i++) {
			uint32_t tet, v[3];
			uint8_t f;

			twin_export_side(x, g->tris[i], TWIN_LABEL_WALL, &tet, &f);
			for (int c = 0; c < 3; c++)
				v[c] = m->tets[4 * (size_t)tet + twin_tetmesh_face_nodes[f][c]];
			q = raw_open(raw_line(r), "tri3", i - g->start[k] + 1);
			q = twin_export_put_ids(q, ids, v, 3, ",");
			raw_close(r, q, "tri3");
		}
		raw_end(r, "\n  ");
		raw_flush(r);
		W(xmlTextWriterEndElement(w));
	}
	ok = ok && r->ok;
	free(r);
	return ok ? 0 : -1;
}

/* A NodeSet per surface: its sorted 1-based nodes as "1,5,9". */
static int write_nodesets(xmlTextWriter *w, const struct twin_tetmesh *m,
			  const struct twin_export_groups *g, uint8_t *mark)
{
	struct raw *r = malloc(sizeof(*r));
	size_t i, k, c;
	int ok = 1;

	if (!r)
		return -1;
	r->w = w;
	r->len = 0;
	r->ok = 1;
	for (k = 0; ok && r->ok && k < g->n; k++) {
		memset(mark, 0, m->n_nodes);
		for (i = g->start[k]; i < g->start[k + 1]; i++)
			for (c = 0; c < 3; c++)
				mark[m->tris[3 * (size_t)g->tris[i] + c]] = 1;
		W(xmlTextWriterStartElement(w, X("NodeSet")));
		W(xmlTextWriterWriteAttribute(w, X("name"), X(m->surfaces[k].name)));
		for (i = 0, c = 0; i < m->n_nodes; i++)
			if (mark[i]) {
				char *q = raw_line(r);

				if (c++)
					*q++ = ',';
				r->len = (size_t)(twin_export_put_u(q, i + 1) - r->buf);
			}
		raw_flush(r);
		W(xmlTextWriterEndElement(w));
	}
	ok = ok && r->ok;
	free(r);
	return ok ? 0 : -1;
}

/* <ElementData type="mat_axis" elem_set="region"> per myocardium region */
static int write_mat_axis(xmlTextWriter *w, struct twin_export_file *o, const struct twin_export *x,
			  const uint32_t *fid)
{
	const struct twin_tetmesh *m = x->mesh;
	struct lines lines = { m, NULL, fid, 0, 0, x->fibres };
	size_t rg, i;
	uint32_t before = 0;
	int ok = 1;

	W(xmlTextWriterStartElement(w, X("MeshData")));
	for (rg = 0; ok && rg < m->n_regions; rg++) {
		uint32_t count = 0;

		for (i = 0; i < m->n_tets; i++)
			count += m->tet_region[i] == m->regions[rg].tag;
		lines.region = m->regions[rg].tag;
		lines.first = before;
		before += count;
		if (!twin_export_fibre_region(m->regions[rg].tag))
			continue;
		W(xmlTextWriterStartElement(w, X("ElementData")));
		W(xmlTextWriterWriteAttribute(w, X("type"), X("mat_axis")));
		W(xmlTextWriterWriteAttribute(w, X("elem_set"), X(m->regions[rg].name)));
		ok = ok && bulk(w, o, m->n_tets, axis_line, &lines) == 0;
		W(xmlTextWriterWriteRaw(w, X("\n  ")));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	return ok ? 0 : -1;
}

int twin_export_febio(struct twin_err *err, const struct twin_export *x, const char *dir)
{
	const struct twin_tetmesh *m = x->mesh;
	struct twin_export_groups g = { 0, NULL, NULL };
	struct twin_export_file o = { NULL, NULL, NULL, 0 };
	xmlOutputBuffer *out;
	xmlTextWriter *w = NULL;
	uint8_t *mark = malloc(m->n_nodes ? m->n_nodes : 1);
	uint32_t *fid = malloc(m->n_tets * sizeof(*fid));
	struct twin_export_ids ids = { NULL, 0 };
	size_t r, i;
	uint32_t id = 0;
	int ok = 1, rc = -1;

	if (!mark || !fid) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	/* elements are numbered in file order, region by region */
	for (r = 0; r < m->n_regions; r++)
		for (i = 0; i < m->n_tets; i++)
			if (m->tet_region[i] == m->regions[r].tag)
				fid[i] = ++id;
	if (twin_export_groups_init(err, &g, m) != 0 || twin_export_ids_init(err, &ids, m->n_nodes, 1) != 0 ||
	    twin_export_open(err, &o, dir, "heart.feb") != 0)
		goto out;
	/* the writer owns out; closing it leaves o open */
	out = xmlOutputBufferCreateIO(out_write, NULL, &o, NULL);
	w = out ? xmlNewTextWriter(out) : NULL;
	if (!w) {
		if (out)
			xmlOutputBufferClose(out);
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", o.path);
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
	if (!ok || write_mesh(w, &o, x, &g, &ids, fid) != 0 || write_nodesets(w, m, &g, mark) != 0)
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
	if (ok && x->fibres && write_mat_axis(w, &o, x, fid) != 0)
		ok = 0;
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterEndDocument(w));
	xmlFreeTextWriter(w);
	w = NULL;
	if (!ok) {
		twin_err_set(err, TWIN_EIO, "cannot write '%s': write error", o.path);
		goto out;
	}
	rc = twin_export_close(err, &o);
out:
	if (w)
		xmlFreeTextWriter(w);
	twin_export_abort(&o);
	twin_export_groups_release(&g);
	twin_export_ids_release(&ids);
	free(mark);
	free(fid);
	return rc;
}
