#include "series_xml.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"
#include "xml.h"

static int hashed(struct twin_err *err, xmlNode *node, const char *name, const char *uid)
{
	char h[TWIN_UID_HASH];

	if (twin_select_uid_hash(err, uid, h) != 0)
		return -1;
	return twin_xml_set_attr(node, name, "%s", h);
}

static const char *plane(const struct twin_frame *f)
{
	const char *p = twin_group_plane(f);

	return strcmp(p, "-") == 0 ? "oblique" : p;
}

static int add_selected(struct twin_err *err, xmlNode *root, const struct twin_series_info *info)
{
	const struct twin_series *s = info->s;
	const struct twin_frame *f = s->first;
	xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"selected", NULL);
	int bad = !n;

	if (bad)
		return -1;
	bad |= twin_xml_set_attr(n, "number", "%d", f->series_number);
	bad |= twin_xml_set_attr(n, "part", "%u", s->part);
	if (hashed(err, n, "uid", f->series_uid) != 0 || hashed(err, n, "study", f->study_uid) != 0 ||
	    hashed(err, n, "frame-of-reference", f->frame_of_ref) != 0)
		return -1;
	bad |= twin_xml_set_attr(n, "modality", "%s", f->modality);
	bad |= twin_xml_set_attr(n, "manufacturer", "%s", f->manufacturer);
	bad |= twin_xml_set_attr(n, "model", "%s", f->model);
	if (f->kvp > 0)
		bad |= twin_xml_set_attr(n, "kvp", "%g", f->kvp);
	bad |= twin_xml_set_attr(n, "kernel", "%s", f->kernel);
	bad |= twin_xml_set_attr(n, "image-type", "%s", f->image_type);
	bad |= twin_xml_set_attr(n, "transfer-syntax", "%s", f->transfer_syntax);
	bad |= twin_xml_set_attr(n, "orientation", "%s", plane(f));
	bad |= twin_xml_set_attr(n, "rows", "%u", f->rows);
	bad |= twin_xml_set_attr(n, "columns", "%u", f->cols);
	bad |= twin_xml_set_attr(n, "pixel-spacing", "%.6g %.6g", f->spacing[0], f->spacing[1]);
	bad |= twin_xml_set_attr(n, "slice-thickness", "%.6g", f->thickness);
	bad |= twin_xml_set_attr(n, "slices", "%zu", s->slices);
	bad |= twin_xml_set_attr(n, "phases", "%zu", s->n_phases);
	bad |= twin_xml_set_attr(n, "frames", "%zu", s->n_frames);
	return bad ? -1 : 0;
}

static int add_volume(xmlNode *root, const struct twin_series_info *info, const struct twin_series_volume *v)
{
	const struct twin_stack *st = &info->s->phases[v->phase];
	const struct twin_geometry *g = v->g;
	xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"volume", NULL);
	double sx = sqrt(g->affine.m[0][0] * g->affine.m[0][0] + g->affine.m[1][0] * g->affine.m[1][0] +
			 g->affine.m[2][0] * g->affine.m[2][0]);
	double sy = sqrt(g->affine.m[0][1] * g->affine.m[0][1] + g->affine.m[1][1] * g->affine.m[1][1] +
			 g->affine.m[2][1] * g->affine.m[2][1]);
	int bad = !n;

	if (bad)
		return -1;
	bad |= twin_xml_set_attr(n, "file", "%s", v->file);
	bad |= twin_xml_set_attr(n, "phase", "%zu", v->phase);
	if (!isnan(st->percent)) {
		bad |= twin_xml_set_attr(n, "percent", "%.6g", st->percent);
		bad |= twin_xml_set_attr(n, "percent-estimated", "%s", st->percent_estimated ? "true" : "false");
	}
	if (!isnan(st->trigger_time))
		bad |= twin_xml_set_attr(n, "trigger-time", "%.6g", st->trigger_time);
	bad |= twin_xml_set_attr(n, "slices-read", "%zu", v->slices_read);
	bad |= twin_xml_set_attr(n, "size", "%zu %zu %zu", g->dim[0], g->dim[1], g->dim[2]);
	bad |= twin_xml_set_attr(n, "spacing", "%.6g %.6g %.6g", sx, sy, g->step);
	bad |= twin_xml_set_attr(n, "dtype", "%s", twin_dtype_name(v->dtype));
	bad |= twin_xml_set_attr(n, "values", "%s", strcmp(info->s->first->modality, "CT") == 0 ? "HU" : "stored");
	bad |= twin_xml_set_attr(n, "min-step", "%.6g", g->min_step);
	bad |= twin_xml_set_attr(n, "max-step", "%.6g", g->max_step);
	bad |= twin_xml_set_attr(n, "uneven-resampled", "%s", g->uneven ? "true" : "false");
	bad |= twin_xml_set_attr(n, "tilt-degrees", "%.4f", g->tilt_deg);
	bad |= twin_xml_set_attr(n, "tilt-corrected", "%s", g->tilted ? "true" : "false");
	return bad ? -1 : 0;
}

static int add_note(xmlNode *root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_note(xmlNode *root, const char *fmt, ...)
{
	char buf[1024], *safe;
	va_list ap;
	xmlNode *n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	safe = twin_xml_text_dup(buf);
	if (!safe)
		return -1;
	n = xmlNewTextChild(root, NULL, (const xmlChar *)"note", (const xmlChar *)safe);
	free(safe);
	return n ? 0 : -1;
}

static int add_notes(xmlNode *root, const struct twin_series_info *info)
{
	size_t i;

	for (i = 0; i < info->n_volumes; i++) {
		const struct twin_geometry *g = info->volumes[i].g;
		const char *file = info->volumes[i].file;

		if (g->tilted && add_note(root, "%s: gantry tilt of %.2f degrees: resampled (linear) to an "
					  "orthogonal grid", file, g->tilt_deg) != 0)
			return -1;
		if (g->uneven && add_note(root, "%s: slices %.3f to %.3f mm apart: resampled (linear) to "
					  "%zu slices %.3f mm apart", file, g->min_step, g->max_step,
					  g->dim[2], g->step) != 0)
			return -1;
	}
	for (i = 0; i < info->n_notes; i++)
		if (add_note(root, "%s", info->notes[i]) != 0)
			return -1;
	return 0;
}

xmlDoc *twin_series_xml_build(struct twin_err *err, const struct twin_series_info *info)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"series", NULL) : NULL;
	xmlNode *n;
	size_t i;

	if (!root)
		goto nomem;
	xmlDocSetRootElement(doc, root);
	if (twin_xml_set_attr(root, "program", "twin-ingest") != 0 || twin_xml_set_attr(root, "version", "%s", info->version) != 0)
		goto nomem;
	n = xmlNewChild(root, NULL, (const xmlChar *)"source", NULL);
	if (!n || twin_xml_set_attr(n, "files", "%zu", info->files) != 0 ||
	    twin_xml_set_attr(n, "unreadable-files", "%zu", info->unreadable_files) != 0 ||
	    twin_xml_set_attr(n, "frames", "%zu", info->frames) != 0 || twin_xml_set_attr(n, "series", "%zu", info->n_series) != 0)
		goto nomem;
	if (add_selected(err, root, info) != 0)
		goto fail;
	for (i = 0; i < info->n_volumes; i++)
		if (add_volume(root, info, &info->volumes[i]) != 0)
			goto nomem;
	if (add_notes(root, info) != 0)
		goto nomem;
	if (info->keep_phi) {
		const struct twin_frame *f = info->s->first;

		n = xmlNewChild(root, NULL, (const xmlChar *)"identifiers", NULL);
		if (!n || twin_xml_set_attr(n, "series-uid", "%s", f->series_uid) != 0 ||
		    twin_xml_set_attr(n, "study-uid", "%s", f->study_uid) != 0 ||
		    twin_xml_set_attr(n, "frame-of-reference-uid", "%s", f->frame_of_ref) != 0 ||
		    twin_xml_set_attr(n, "description", "%s", f->description) != 0)
			goto nomem;
		if (info->phi && (twin_xml_set_attr(n, "patient-name", "%s", info->phi->patient_name) != 0 ||
				  twin_xml_set_attr(n, "patient-id", "%s", info->phi->patient_id) != 0 ||
				  twin_xml_set_attr(n, "birth-date", "%s", info->phi->birth_date) != 0 ||
				  twin_xml_set_attr(n, "accession", "%s", info->phi->accession) != 0 ||
				  twin_xml_set_attr(n, "physician", "%s", info->phi->physician) != 0 ||
				  twin_xml_set_attr(n, "institution", "%s", info->phi->institution) != 0))
			goto nomem;
	}
	return doc;
nomem:
	twin_err_set(err, TWIN_EFAIL, "series.xml: out of memory");
fail:
	xmlFreeDoc(doc);
	return NULL;
}

int twin_series_xml_save(struct twin_err *err, const char *path, const struct twin_series_info *info)
{
	xmlDoc *doc = twin_series_xml_build(err, info);
	int rc;

	if (!doc)
		return -1;
	rc = twin_xml_save(err, "series", path, doc, twin_series_xsd);
	xmlFreeDoc(doc);
	return rc;
}
