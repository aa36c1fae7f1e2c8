/*
 * The report page. It is written top to bottom into one temporary file, each
 * section reading its own file of the case; a section whose stage has not
 * run says so. Every piece of text from a file goes through put_text (HTML
 * escaped, made valid UTF-8), every link through put_url (percent-encoded,
 * relative to the case folder). The page is also well-formed XML, so a test
 * can read it back with libxml2.
 *
 * manifest.xml and labels.xml are read through their validating loaders.
 * series.xml and quality.xml have no loader in libtwin and their schemas are
 * compiled into libingest.a and libmesh.a, which link before libworkflow.a;
 * so they are parsed with twin_xml_load and read attribute by attribute, a
 * malformed number being TWIN_EINPUT with the file and line.
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libxml/tree.h>

#include "cli.h"
#include "files.h"
#include "labels.h"
#include "manifest.h"
#include "msh.h"
#include "render.h"
#include "xml.h"

/* The mesh pictures: size and files inside the case folder. */
#define PIC_W 800
#define PIC_H 600
/* At most this many files per export folder, and lines of a README, are shown. */
#define MAX_LIST 60
/* A folder of more files than this shows its list folded away. */
#define FOLD_LIST 12
#define MAX_README_LINES 400
#define MAX_DEPTH 8

struct report {
	FILE *f;
	const char *dir;
	struct twin_manifest *m;  /* NULL when the case has no manifest.xml */
	int nomem;                /* some text could not be copied: the page is not written */
};

/* The four stages, in pipeline order, and the file that shows each has run. */
static const struct stage {
	const char *program;
	const char *anchor;   /* the section of the page that shows its result */
	const char *product;  /* relative to the case folder */
} stages[] = {
	{ "twin-ingest", "series", "ingest/series.xml" },
	{ "twin-segment", "segmentation", "segment/labels.xml" },
	{ "twin-mesh", "mesh", "mesh/heart.msh" },
	{ "twin-export", "exports", "export" },
};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

static const struct {
	const char *file, *view;
	const struct twin_render_view *v;
} mesh_pics[] = {
	{ "report/mesh-anterior.png", "the front, from the patient's left (LAO 30°, cranial 20°)",
	  &twin_render_anterior },
	{ "report/mesh-posterior.png", "the back, from the patient's right (30° oblique, cranial 20°)",
	  &twin_render_posterior },
};

/* --- writing ---------------------------------------------------------------- */

static void put(struct report *r, const char *s)
{
	fputs(s, r->f);
}

/* Markup, numbers and the names of this file: text from a file goes through put_text. */
__attribute__((format(printf, 2, 3)))
static void putf(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(r->f, fmt, ap);
	va_end(ap);
}

/* Writes s escaped for HTML text and attribute values. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* Text from a file: made valid UTF-8 without control characters, then escaped. */
static void put_text(struct report *r, const char *s)
{
	char *safe;

	if (!s)
		return;
	safe = twin_xml_text_dup(s);
	if (!safe) {
		r->nomem = 1;
		return;
	}
	put_escaped(r->f, safe);
	free(safe);
}

/* A link relative to the case folder: every byte but [A-Za-z0-9/._~-] percent-encoded. */
static void put_url(struct report *r, const char *rel)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '/' || *p == '.' || *p == '_' || *p == '~' || *p == '-')
			fputc(*p, r->f);
		else
			fprintf(r->f, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

/* "12.3 kB", "4.56 MB": sizes as a person reads them. */
static void put_size(struct report *r, uint64_t bytes)
{
	if (bytes < 1000)
		putf(r, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1000000)
		putf(r, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		putf(r, "%.1f MB", (double)bytes / 1e6);
	else
		putf(r, "%.2f GB", (double)bytes / 1e9);
}

static void put_swatch(struct report *r, const unsigned char rgb[3])
{
	putf(r, "<span class=\"sw\" style=\"background:#%02x%02x%02x\"></span>", rgb[0], rgb[1], rgb[2]);
}

/* A table row of a name and a value from a file; nothing when the value is absent. */
static void put_row(struct report *r, const char *name, const char *value, const char *unit)
{
	if (!value || !*value)
		return;
	put(r, "<tr><th>");
	put(r, name);
	put(r, "</th><td>");
	put_text(r, value);
	if (unit)
		put(r, unit);
	put(r, "</td></tr>\n");
}

/* --- small helpers ------------------------------------------------------------ */

/* dir/rel, malloc'd; sets err on no memory. */
static char *case_path(struct twin_err *err, const struct report *r, const char *rel)
{
	char *p = twin_path_join(r->dir, rel);

	if (!p)
		twin_err_set(err, TWIN_EFAIL, "report: out of memory");
	return p;
}

/* 1 when rel is in the case folder, 0 when not. */
static int case_has(const struct report *r, const char *rel)
{
	char *p = twin_path_join(r->dir, rel);
	int yes = p && twin_path_exists(p);

	free(p);
	return yes;
}

/* The latest record of program, or NULL. Borrowed from r->m. */
static const struct twin_manifest_record *latest(const struct report *r, const char *program)
{
	for (size_t i = r->m ? r->m->nrecords : 0; i-- > 0;)
		if (strcmp(r->m->records[i].program, program) == 0)
			return &r->m->records[i];
	return NULL;
}

/* "2024-05-01T12:00:00Z" as "2024-05-01 12:00:00 UTC"; other forms as they are. */
static void put_time(struct report *r, const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n == 20 && t[10] == 'T' && t[19] == 'Z') {
		putf(r, "%.10s %.8s UTC", t, t + 11);
		return;
	}
	put_text(r, t);
}

/*
 * The stage before stage s that ran (and succeeded) after s last succeeded,
 * so that what s made may be out of date; NULL when none did.
 */
static const char *newer_upstream(const struct report *r, size_t s)
{
	const struct twin_manifest_record *mine;

	if (!r->m || s == 0 || !(mine = twin_manifest_last_ok(r->m, stages[s].program)))
		return NULL;
	for (size_t u = s; u-- > 0;) {
		const struct twin_manifest_record *up = twin_manifest_last_ok(r->m, stages[u].program);

		if (up && up > mine)
			return stages[u].program;
	}
	return NULL;
}

static size_t stage_index(const char *program)
{
	size_t i = 0;

	while (i + 1 < NSTAGES && strcmp(stages[i].program, program) != 0)
		i++;
	return i;
}

/* --- summary ----------------------------------------------------------------- */

enum state { NOT_RUN, NO_RECORD, OK, WARNED, FAILED };

static enum state stage_state(const struct report *r, const struct stage *s,
			      const struct twin_manifest_record **rec)
{
	*rec = latest(r, s->program);
	if (!*rec)
		return case_has(r, s->product) ? NO_RECORD : NOT_RUN;
	if ((*rec)->status == TWIN_MANIFEST_FAILED)
		return FAILED;
	return (*rec)->nwarnings ? WARNED : OK;
}

static void put_badge(struct report *r, enum state st, const struct twin_manifest_record *rec)
{
	size_t nwarnings = rec ? rec->nwarnings : 0;

	switch (st) {
	case NOT_RUN: put(r, "<span class=\"badge notrun\">not run</span>"); break;
	case NO_RECORD: put(r, "<span class=\"badge notrun\">no record</span>"); break;
	case OK: put(r, "<span class=\"badge ok\">ok</span>"); break;
	case WARNED:
		putf(r, "<span class=\"badge warn\">ok, %zu warning%s</span>", nwarnings, nwarnings == 1 ? "" : "s");
		break;
	case FAILED:
		put(r, rec->code == TWIN_EPARTIAL ? "<span class=\"badge failed\">partly failed</span>"
						  : "<span class=\"badge failed\">failed</span>");
		break;
	}
}

static void put_error(struct report *r, const struct twin_manifest_record *rec)
{
	putf(r, "<p class=\"error\">exit code %d (", (int)rec->code);
	put(r, twin_err_code_name(rec->code));
	put(r, "): ");
	put_text(r, rec->message ? rec->message : "no message");
	put(r, "</p>\n");
}

static void write_summary(struct report *r)
{
	size_t failed = 0, missing = 0, warned = 0;
	const char *cls, *headline;

	for (size_t i = 0; i < NSTAGES; i++) {
		const struct twin_manifest_record *rec;
		enum state st = stage_state(r, &stages[i], &rec);

		failed += st == FAILED;
		missing += st == NOT_RUN;
		warned += st == WARNED;
	}
	if (failed) {
		cls = "failed";
		headline = failed == 1 ? "A stage failed" : "Stages failed";
	} else if (missing) {
		cls = "notrun";
		headline = "Not finished: some stages have not run";
	} else if (warned) {
		cls = "warn";
		headline = "Every stage ran, with warnings to read";
	} else {
		cls = "ok";
		headline = "Every stage ran without a warning";
	}
	putf(r, "<section id=\"summary\" class=\"box %s\">\n<h2>", cls);
	put(r, headline);
	put(r, "</h2>\n<table class=\"stages\">\n"
	       "<tr><th>stage</th><th>state</th><th>latest run</th><th>what it says</th></tr>\n");
	for (size_t i = 0; i < NSTAGES; i++) {
		const struct stage *s = &stages[i];
		const struct twin_manifest_record *rec;
		enum state st = stage_state(r, s, &rec);

		putf(r, "<tr><td><a href=\"#%s\">%s</a></td><td>", s->anchor, s->program);
		put_badge(r, st, rec);
		put(r, "</td><td>");
		if (rec) {
			put_time(r, rec->start);
			putf(r, ", %.1f s", rec->wall_seconds);
		} else {
			put(r, "—");
		}
		put(r, "</td><td>");
		if (st == FAILED) {
			putf(r, "<span class=\"errtext\">exit code %d (%s): ", (int)rec->code,
			     twin_err_code_name(rec->code));
			put_text(r, rec->message);
			put(r, "</span>");
		} else if (st == WARNED) {
			put_text(r, rec->warnings[0]);
			if (rec->nwarnings > 1)
				putf(r, " <a href=\"#log-%s\">and %zu more</a>", s->program, rec->nwarnings - 1);
		} else if (st == NOT_RUN) {
			put(r, "has not run yet");
		} else if (st == NO_RECORD) {
			put(r, "its files are here, but manifest.xml has no run of it (another tool wrote them?)");
		}
		if (newer_upstream(r, i))
			putf(r, "%s<span class=\"stale\">may be out of date: %s ran again after it</span>",
			     st == OK ? "" : " ", newer_upstream(r, i));
		put(r, "</td></tr>\n");
	}
	put(r, "</table>\n</section>\n");
}

/* The paragraph a section shows when its stage has not run, or failed last. */
static void put_stage_note(struct report *r, const char *program, int have_output)
{
	const struct twin_manifest_record *rec = latest(r, program);
	const struct twin_manifest_record *ok = r->m ? twin_manifest_last_ok(r->m, program) : NULL;
	const char *up = newer_upstream(r, stage_index(program));

	if (!have_output) {
		put(r, "<p class=\"notrun\">");
		put(r, program);
		if (rec && rec->status == TWIN_MANIFEST_FAILED)
			put(r, " failed, so there is nothing to show here.</p>\n");
		else
			put(r, " has not run: nothing to show yet.</p>\n");
		if (rec && rec->status == TWIN_MANIFEST_FAILED)
			put_error(r, rec);
		return;
	}
	if (rec && rec->status == TWIN_MANIFEST_FAILED && rec->code == TWIN_EPARTIAL) {
		put(r, "<p class=\"stale\">The latest run of ");
		put(r, program);
		put(r, " wrote only part of its outputs; what follows is what the folder holds now.</p>\n");
		put_error(r, rec);
	} else if (rec && rec->status == TWIN_MANIFEST_FAILED) {
		put(r, "<p class=\"stale\">The latest run of ");
		put(r, program);
		put(r, " failed; what follows is from ");
		if (ok) {
			put(r, "its run of ");
			put_time(r, ok->start);
		} else {
			put(r, "an earlier run");
		}
		put(r, ".</p>\n");
		put_error(r, rec);
	}
	if (up) {
		put(r, "<p class=\"stale\">This may be out of date: ");
		put(r, up);
		put(r, " ran again after it.</p>\n");
	}
}

/* --- series ------------------------------------------------------------------ */

/* A hashed UID as series.xml writes it ("h:" and 16 hex digits), or NULL. */
static const char *hashed_uid(const char *s)
{
	if (!s || strlen(s) != 18 || s[0] != 'h' || s[1] != ':')
		return NULL;
	for (size_t i = 2; i < 18; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return NULL;
	return s;
}

/* Attribute name of node as a table row. */
static void attr_row(struct report *r, const xmlNode *node, const char *attr, const char *name,
		     const char *unit)
{
	char *v = node ? twin_xml_attr(node, attr, NULL) : NULL;

	put_row(r, name, v, unit);
	free(v);
}

/* A hashed UID attribute as a row; anything else in it is left out. */
static void uid_row(struct report *r, const xmlNode *node, const char *attr, const char *name)
{
	char *v = node ? twin_xml_attr(node, attr, NULL) : NULL;

	if (v)
		put_row(r, name, hashed_uid(v) ? v : "(not hashed: left out)", NULL);
	free(v);
}

/* note when boolean attribute attr of node is true. */
static void flag_note(struct report *r, const xmlNode *node, const char *attr, const char *note)
{
	char *v = twin_xml_attr(node, attr, NULL);

	if (v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
		put(r, note);
	free(v);
}

static void series_volume(struct report *r, const xmlNode *vol)
{
	static const char *const attrs[] = { "file", "phase", "percent", "trigger-time", "size", "spacing",
					     "dtype", "values", "slices-read", "tilt-degrees" };

	put(r, "<tr>");
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		char *v = twin_xml_attr(vol, attrs[i], NULL);

		put(r, "<td>");
		put_text(r, v ? v : "—");
		put(r, "</td>");
		free(v);
	}
	put(r, "<td>");
	flag_note(r, vol, "uneven-resampled", "uneven slices resampled. ");
	flag_note(r, vol, "tilt-corrected", "gantry tilt corrected. ");
	flag_note(r, vol, "percent-estimated", "phase percent estimated. ");
	put(r, "</td></tr>\n");
}

static int write_series(struct twin_err *err, struct report *r)
{
	char *path = case_path(err, r, "ingest/series.xml");
	xmlDoc *doc = NULL;
	xmlNode *root, *source, *sel, *n;
	int rc = -1;

	if (!path)
		return -1;
	put(r, "<section id=\"series\">\n<h2>Series</h2>\n");
	if (!twin_path_exists(path)) {
		put_stage_note(r, "twin-ingest", 0);
		rc = 0;
		goto out;
	}
	put_stage_note(r, "twin-ingest", 1);
	doc = twin_xml_load(err, "series", path);
	if (!doc)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (strcmp((const char *)root->name, "series") != 0) {
		twin_err_set(err, TWIN_EINPUT, "series '%s': line %d: root element is '%s', not 'series'", path,
			     root->line, (const char *)root->name);
		goto out;
	}
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
	uid_row(r, sel, "uid", "series (hashed UID)");
	uid_row(r, sel, "study", "study (hashed UID)");
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
		put_text(r, (const char *)text);
		put(r, "</p>\n");
		xmlFree(text);
	}
	if (twin_xml_next(root->children, "identifiers"))
		put(r, "<p class=\"stale\">series.xml also holds the patient's identifiers (ingest.keep_phi "
		       "was set); this page leaves them out.</p>\n");
	rc = 0;
out:
	if (rc == 0)
		put(r, "</section>\n");
	xmlFreeDoc(doc);
	free(path);
	return rc;
}

/* --- segmentation ------------------------------------------------------------- */

/* Width and height from a PNG's IHDR; 0 when path is not a PNG. */
static int png_size(const char *path, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char b[24];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(b, 1, sizeof(b), f) : 0;

	if (f)
		fclose(f);
	if (n != sizeof(b) || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
		return 0;
	*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
	*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
	return *w > 0 && *h > 0;
}

/* A picture of the case: rel relative to the case folder. */
static void put_img(struct report *r, const char *rel, const char *alt, const char *caption)
{
	char *path = twin_path_join(r->dir, rel);
	unsigned w = 0, h = 0;

	if (!path || !png_size(path, &w, &h)) {
		put(r, "<figure><p class=\"error\">");
		put_text(r, rel);
		put(r, " is missing or not a PNG.</p></figure>\n");
		free(path);
		return;
	}
	put(r, "<figure><a href=\"");
	put_url(r, rel);
	put(r, "\"><img src=\"");
	put_url(r, rel);
	putf(r, "\" width=\"%u\" height=\"%u\" alt=\"", w, h);
	put_text(r, alt);
	put(r, "\"/></a><figcaption>");
	put_text(r, caption);
	put(r, "</figcaption></figure>\n");
	free(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The QC pictures: axial, coronal, sagittal and montage first, then any other. */
static int qc_rank(const char *name)
{
	static const char *const order[] = { "axial.png", "coronal.png", "sagittal.png", "montage.png" };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strcmp(name, order[i]) == 0)
			return (int)i;
	return 4;
}

static int cmp_qc(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int rx = qc_rank(x), ry = qc_rank(y);

	return rx != ry ? rx - ry : strcmp(x, y);
}

static int write_qc(struct twin_err *err, struct report *r)
{
	char *dir = case_path(err, r, "segment/qc");
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	struct dirent *e;
	int rc = -1;

	if (!dir)
		return -1;
	d = opendir(dir);
	if (!d) {
		put(r, "<p class=\"notrun\">No QC pictures (segment/qc is missing).</p>\n");
		rc = 0;
		goto out;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".png") != 0)
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap ? 2 * cap : 8) * sizeof(*names));

			if (!more)
				goto nomem;
			names = more;
			cap = cap ? 2 * cap : 8;
		}
		names[n] = strdup(e->d_name);
		if (!names[n])
			goto nomem;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_qc);
	put(r, "<h3>QC pictures</h3>\n<p>The labels drawn over the image, as twin-segment saw them "
	       "(patient's left on the right). Click a picture for full size.</p>\n<div class=\"pics qc\">\n");
	for (size_t i = 0; i < n; i++) {
		char rel[512], alt[600];

		snprintf(rel, sizeof(rel), "segment/qc/%s", names[i]);
		snprintf(alt, sizeof(alt), "QC overlay %s", names[i]);
		put_img(r, rel, alt, names[i]);
	}
	if (!n)
		put(r, "<p class=\"notrun\">segment/qc holds no pictures.</p>\n");
	put(r, "</div>\n");
	rc = 0;
	goto out;
nomem:
	twin_err_set(err, TWIN_EFAIL, "report: out of memory listing '%s'", dir);
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return rc;
}

static int write_segmentation(struct twin_err *err, struct report *r)
{
	char *path = case_path(err, r, "segment/labels.xml");
	struct twin_labels_file *lf = NULL;
	int rc = -1;

	if (!path)
		return -1;
	put(r, "<section id=\"segmentation\">\n<h2>Segmentation</h2>\n");
	if (!twin_path_exists(path)) {
		put_stage_note(r, "twin-segment", 0);
		put(r, "</section>\n");
		rc = 0;
		goto out;
	}
	put_stage_note(r, "twin-segment", 1);
	lf = twin_labels_load(err, path);
	if (!lf)
		goto out;
	put(r, "<h3>Structure volumes</h3>\n<table class=\"grid\">\n"
	       "<tr><th>colour</th><th>id</th><th>structure</th><th>short</th><th>kind</th>"
	       "<th>voxels</th><th>volume mL</th></tr>\n");
	for (size_t i = 0; i < lf->count; i++) {
		const struct twin_labels_entry *e = &lf->entries[i];

		if (e->label->id == 0)
			continue;
		put(r, "<tr><td>");
		put_swatch(r, e->rgb);
		putf(r, "</td><td>%u</td><td>", e->label->id);
		put_text(r, e->label->display);
		put(r, "</td><td>");
		put_text(r, e->label->short_name);
		put(r, "</td><td>");
		put(r, twin_label_kind_name(e->label->kind));
		if (e->measured)
			putf(r, "</td><td class=\"num\">%llu</td><td class=\"num\">%.1f</td></tr>\n",
			     (unsigned long long)e->voxels, e->volume_ml);
		else
			put(r, "</td><td class=\"num\">—</td><td class=\"num\">—</td></tr>\n");
	}
	put(r, "</table>\n");
	if (write_qc(err, r) != 0)
		goto out;
	put(r, "</section>\n");
	rc = 0;
out:
	twin_labels_file_free(lf);
	free(path);
	return rc;
}

/* --- mesh ---------------------------------------------------------------------- */

/* Draws the mesh pictures into CASE/report/. */
static int render_pictures(struct twin_err *err, struct report *r, const struct twin_tetmesh *mesh)
{
	unsigned char *rgb = malloc(3 * PIC_W * PIC_H);
	char *dir = case_path(err, r, "report");
	int rc = -1;

	if (!rgb || !dir) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory for the mesh pictures");
		goto out;
	}
	if (twin_mkdir_p(err, dir) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(mesh_pics) / sizeof(mesh_pics[0]); i++) {
		char *path = case_path(err, r, mesh_pics[i].file);
		int bad = !path || twin_render_mesh(err, mesh, mesh_pics[i].v, PIC_W, PIC_H, rgb) != 0 ||
			  twin_render_save_png(err, path, rgb, PIC_W, PIC_H) != 0;

		free(path);
		if (bad)
			goto out;
	}
	rc = 0;
out:
	free(dir);
	free(rgb);
	return rc;
}

/* Removes mesh pictures of an earlier report when there is no mesh now. */
static void remove_pictures(const struct report *r)
{
	for (size_t i = 0; i < sizeof(mesh_pics) / sizeof(mesh_pics[0]); i++) {
		char *path = twin_path_join(r->dir, mesh_pics[i].file);

		if (path)
			remove(path);
		free(path);
	}
}

static int write_mesh(struct twin_err *err, struct report *r)
{
	char *path = case_path(err, r, "mesh/heart.msh");
	struct twin_tetmesh *mesh = NULL;
	struct twin_tetmesh_count *counts = NULL;
	size_t ncounts = 0;
	int rc = -1;

	if (!path)
		return -1;
	put(r, "<section id=\"mesh\">\n<h2>Mesh</h2>\n");
	if (!twin_path_exists(path)) {
		remove_pictures(r);
		put_stage_note(r, "twin-mesh", 0);
		put(r, "</section>\n");
		rc = 0;
		goto out;
	}
	put_stage_note(r, "twin-mesh", 1);
	mesh = twin_msh_load(err, path);
	if (!mesh || render_pictures(err, r, mesh) != 0 ||
	    twin_tetmesh_region_counts(err, mesh, &counts, &ncounts) != 0)
		goto out;
	putf(r, "<p><a href=\"mesh/heart.msh\">mesh/heart.msh</a>: %zu nodes, %zu tetrahedra, "
	     "%zu tagged triangles. The outside of the mesh, each region in its colour; patient's "
	     "head up.</p>\n<div class=\"pics\">\n", mesh->n_nodes, mesh->n_tets, mesh->n_tris);
	for (size_t i = 0; i < sizeof(mesh_pics) / sizeof(mesh_pics[0]); i++) {
		char alt[160];

		snprintf(alt, sizeof(alt), "the mesh seen from %s", mesh_pics[i].view);
		put_img(r, mesh_pics[i].file, alt, mesh_pics[i].view);
	}
	put(r, "</div>\n<p class=\"legend\">");
	for (size_t i = 0; i < ncounts; i++) {
		const struct twin_label *l = twin_label_by_id(counts[i].tag);
		const char *name = twin_tetmesh_region_name(mesh, counts[i].tag);
		static const unsigned char grey[3] = { 160, 160, 160 };

		put(r, "<span class=\"item\">");
		put_swatch(r, l && counts[i].tag > 0 ? l->rgb : grey);
		put_text(r, name ? name : l ? l->name : "unnamed");
		putf(r, " (%zu)</span> ", counts[i].count);
	}
	put(r, "</p>\n</section>\n");
	rc = 0;
out:
	free(counts);
	twin_tetmesh_free(mesh);
	free(path);
	return rc;
}

/* --- mesh quality ------------------------------------------------------------------ */

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

static int quality_requirement(struct twin_err *err, struct report *r, const char *path, const xmlNode *n)
{
	static const char *const num[] = { "value", "limit" };
	char *name = twin_xml_attr(n, "name", NULL), *met = twin_xml_attr(n, "met", NULL);
	const char *what = NULL, *unit = "";
	double v[2];
	int rc = -1, pass;

	if (!name || !met) {
		twin_err_set(err, TWIN_EINPUT, "quality '%s': line %d: requirement without %s", path, n->line,
			     name ? "'met'" : "'name'");
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
	put_text(r, what ? what : name);
	putf(r, "</td><td class=\"num\">%g%s</td><td class=\"num\">%g%s</td><td>", v[0], unit, v[1], unit);
	put(r, pass ? "<span class=\"badge ok\">met</span>" : "<span class=\"badge failed\">not met</span>");
	put(r, "</td></tr>\n");
	rc = 0;
out:
	free(name);
	free(met);
	return rc;
}

static int quality_region(struct twin_err *err, struct report *r, const char *path, const xmlNode *n)
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
		put_swatch(r, l->rgb);
	putf(r, "%.0f</td><td>", v[0]);
	put_text(r, name ? name : "—");
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

static int quality_surface(struct twin_err *err, struct report *r, const char *path, const xmlNode *n)
{
	static const char *const num[] = { "tag", "triangles", "area_mm2" };
	char *name = twin_xml_attr(n, "name", NULL);
	double v[3];
	int rc = -1;

	if (read_numbers(err, path, n, num, v, 3) != 0)
		goto out;
	putf(r, "<tr><td>%.0f</td><td>", v[0]);
	put_text(r, name ? name : "—");
	putf(r, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.1f</td></tr>\n", v[1], v[2] / 100.0);
	rc = 0;
out:
	free(name);
	return rc;
}

static int write_quality(struct twin_err *err, struct report *r)
{
	char *path = case_path(err, r, "mesh/quality.xml");
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	int rc = -1;

	if (!path)
		return -1;
	put(r, "<section id=\"quality\">\n<h2>Mesh quality</h2>\n");
	if (!twin_path_exists(path)) {
		put(r, "<p class=\"notrun\">No mesh/quality.xml: twin-mesh has not run.</p>\n</section>\n");
		rc = 0;
		goto out;
	}
	doc = twin_xml_load(err, "quality", path);
	if (!doc)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (strcmp((const char *)root->name, "quality") != 0) {
		twin_err_set(err, TWIN_EINPUT, "quality '%s': line %d: root element is '%s', not 'quality'", path,
			     root->line, (const char *)root->name);
		goto out;
	}
	put(r, "<p>From <a href=\"mesh/quality.xml\">mesh/quality.xml</a>.</p>\n<h3>Requirements</h3>\n"
	       "<table class=\"grid\">\n<tr><th>requirement</th><th>value</th><th>limit</th><th>state</th></tr>\n");
	for (n = twin_xml_next(root->children, "requirement"); n; n = twin_xml_next(n->next, "requirement"))
		if (quality_requirement(err, r, path, n) != 0)
			goto out;
	put(r, "</table>\n<h3>Regions</h3>\n<table class=\"grid\">\n"
	       "<tr><th>id</th><th>region</th><th>tetrahedra</th><th>volume mL</th><th>labels mL</th>"
	       "<th>error %</th><th>min dihedral °</th><th>mean dihedral °</th><th>below 10°</th>"
	       "<th>min γ</th><th>mean γ</th><th>min edge mm</th><th>mean edge mm</th><th>max edge mm</th></tr>\n");
	for (n = twin_xml_next(root->children, "region"); n; n = twin_xml_next(n->next, "region"))
		if (quality_region(err, r, path, n) != 0)
			goto out;
	put(r, "</table>\n<p class=\"note\">γ is the radius ratio 3 r<sub>in</sub> / r<sub>circ</sub>: 1 for a "
	       "regular tetrahedron, 0 for a flat one.</p>\n"
	       "<details><summary>Surfaces</summary>\n<table class=\"grid\">\n"
	       "<tr><th>tag</th><th>surface</th><th>triangles</th><th>area cm²</th></tr>\n");
	for (n = twin_xml_next(root->children, "surface"); n; n = twin_xml_next(n->next, "surface"))
		if (quality_surface(err, r, path, n) != 0)
			goto out;
	put(r, "</table>\n</details>\n</section>\n");
	rc = 0;
out:
	xmlFreeDoc(doc);
	free(path);
	return rc;
}

/* --- exports -------------------------------------------------------------------------- */

struct listed {
	char *rel;       /* relative to the target folder */
	uint64_t size;
};

struct listing {
	struct listed *files;
	size_t n, cap;
	uint64_t total;
};

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->files[i].rel);
	free(l->files);
	memset(l, 0, sizeof(*l));
}

/* Adds every regular file under root/rel (rel "" for root itself), depth first. */
static int list_files(struct twin_err *err, struct listing *l, const char *root, const char *rel, int depth)
{
	char *dir = *rel ? twin_path_join(root, rel) : strdup(root);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int rc = -1;

	if (!dir) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory");
		goto out;
	}
	if (!d) {
		twin_err_errno(err, "cannot list", dir);
		goto out;
	}
	while ((e = readdir(d))) {
		char *sub, *full;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		sub = *rel ? twin_path_join(rel, e->d_name) : strdup(e->d_name);
		full = sub ? twin_path_join(root, sub) : NULL;
		if (!full || lstat(full, &st) != 0) {
			free(full);
			free(sub);
			continue;
		}
		free(full);
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			int bad = list_files(err, l, root, sub, depth + 1);

			free(sub);
			if (bad)
				goto out;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			free(sub);
			continue;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 32;
			struct listed *more = realloc(l->files, cap * sizeof(*more));

			if (!more) {
				free(sub);
				twin_err_set(err, TWIN_EFAIL, "report: out of memory listing '%s'", root);
				goto out;
			}
			l->files = more;
			l->cap = cap;
		}
		l->files[l->n].rel = sub;
		l->files[l->n].size = (uint64_t)st.st_size;
		l->total += (uint64_t)st.st_size;
		l->n++;
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	free(dir);
	return rc;
}

static int cmp_listed(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;
	/* Files of the folder itself before those of its subfolders. */
	int dx = strchr(x->rel, '/') != NULL, dy = strchr(y->rel, '/') != NULL;

	return dx != dy ? dx - dy : strcmp(x->rel, y->rel);
}

/* README.txt of a target: its first line as a heading line, all of it folded away. */
static void put_readme(struct report *r, const char *target, const char *path)
{
	size_t len = 0, lines = 0;
	struct twin_err ignore;
	char *text, *p;
	int truncated;

	twin_err_init(&ignore);
	text = twin_file_read(&ignore, path, &len);
	if (!text) {
		put(r, "<p class=\"notrun\">No README.txt.</p>\n");
		return;
	}
	for (p = text; *p && lines < MAX_README_LINES; p++)
		if (*p == '\n')
			lines++;
	truncated = *p != '\0';
	*p = '\0';
	if (!truncated && p > text && p[-1] != '\n')
		lines++;
	put(r, "<details><summary>README.txt");
	putf(r, " (%s%zu lines)</summary>\n<pre>", truncated ? "the first " : "", lines);
	put_text(r, text);
	if (truncated)
		put(r, "\n…");
	put(r, "</pre>\n<p><a href=\"export/");
	put_url(r, target);
	put(r, "/README.txt\">README.txt</a> in full.</p></details>\n");
	free(text);
}

static int write_target(struct twin_err *err, struct report *r, const char *exp, const char *target)
{
	char *root = twin_path_join(exp, target), *readme = NULL;
	struct listing l = { NULL, 0, 0, 0 };
	int rc = -1;

	if (!root) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory");
		goto out;
	}
	if (list_files(err, &l, root, "", 0) != 0)
		goto out;
	if (l.n)
		qsort(l.files, l.n, sizeof(*l.files), cmp_listed);
	put(r, "<h3 id=\"export-");
	put_url(r, target);
	put(r, "\">");
	put_text(r, target);
	putf(r, "</h3>\n<p>%zu file%s, ", l.n, l.n == 1 ? "" : "s");
	put_size(r, l.total);
	put(r, ".</p>\n");
	readme = twin_path_join(root, "README.txt");
	if (readme) {
		/* Its first line says what the folder is for. */
		struct twin_err ignore;
		size_t len = 0;
		char *text;

		twin_err_init(&ignore);
		text = twin_file_read(&ignore, readme, &len);
		if (text) {
			char *nl = strchr(text, '\n'), *second = nl ? nl + 1 : NULL;

			if (second) {
				char *nl2 = strchr(second, '\n');

				if (nl2)
					*nl2 = '\0';
				if (*second) {
					put(r, "<p class=\"what\">");
					put_text(r, second);
					put(r, "</p>\n");
				}
			}
			free(text);
		}
	}
	/* A long list folds away; the README says what the files are. */
	if (l.n > FOLD_LIST)
		putf(r, "<details><summary>the %zu files</summary>\n", l.n);
	put(r, "<table class=\"files\">\n");
	for (size_t i = 0; i < l.n && i < MAX_LIST; i++) {
		put(r, "<tr><td><a href=\"export/");
		put_url(r, target);
		put(r, "/");
		put_url(r, l.files[i].rel);
		put(r, "\">");
		put_text(r, l.files[i].rel);
		put(r, "</a></td><td class=\"num\">");
		put_size(r, l.files[i].size);
		put(r, "</td></tr>\n");
	}
	if (l.n > MAX_LIST)
		putf(r, "<tr><td colspan=\"2\">… and %zu more files</td></tr>\n", l.n - MAX_LIST);
	put(r, "</table>\n");
	if (l.n > FOLD_LIST)
		put(r, "</details>\n");
	if (readme)
		put_readme(r, target, readme);
	rc = 0;
out:
	listing_release(&l);
	free(readme);
	free(root);
	return rc;
}

static int write_exports(struct twin_err *err, struct report *r)
{
	char *exp = case_path(err, r, "export");
	char **targets = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	struct dirent *e;
	int rc = -1;

	if (!exp)
		return -1;
	put(r, "<section id=\"exports\">\n<h2>Exports</h2>\n");
	d = opendir(exp);
	if (!d) {
		put_stage_note(r, "twin-export", 0);
		put(r, "</section>\n");
		rc = 0;
		goto out;
	}
	put_stage_note(r, "twin-export", 1);
	while ((e = readdir(d))) {
		char *full;
		struct stat st;
		int isdir;

		if (e->d_name[0] == '.')
			continue;
		full = twin_path_join(exp, e->d_name);
		isdir = full && stat(full, &st) == 0 && S_ISDIR(st.st_mode);
		free(full);
		if (!isdir)
			continue;
		if (n == cap) {
			char **more = realloc(targets, (cap ? 2 * cap : 16) * sizeof(*targets));

			if (!more)
				goto nomem;
			targets = more;
			cap = cap ? 2 * cap : 16;
		}
		targets[n] = strdup(e->d_name);
		if (!targets[n])
			goto nomem;
		n++;
	}
	if (n)
		qsort(targets, n, sizeof(*targets), cmp_str);
	if (!n)
		put(r, "<p class=\"notrun\">export/ holds no target folder.</p>\n");
	for (size_t i = 0; i < n; i++)
		if (write_target(err, r, exp, targets[i]) != 0)
			goto out;
	put(r, "</section>\n");
	rc = 0;
	goto out;
nomem:
	twin_err_set(err, TWIN_EFAIL, "report: out of memory listing '%s'", exp);
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	free(exp);
	return rc;
}

/* --- warnings and failures -------------------------------------------------------------- */

static void put_record(struct report *r, const struct twin_manifest_record *rec, int with_settings)
{
	put(r, "<p class=\"run\">");
	put_text(r, rec->program);
	put(r, " ");
	put_text(r, rec->version);
	put(r, ", started ");
	put_time(r, rec->start);
	putf(r, ", %.1f s: ", rec->wall_seconds);
	if (rec->status == TWIN_MANIFEST_FAILED)
		put(r, "<span class=\"badge failed\">failed</span>");
	else if (rec->nwarnings)
		putf(r, "<span class=\"badge warn\">ok, %zu warning%s</span>", rec->nwarnings,
		     rec->nwarnings == 1 ? "" : "s");
	else
		put(r, "<span class=\"badge ok\">ok</span>");
	put(r, "</p>\n");
	if (rec->status == TWIN_MANIFEST_FAILED)
		put_error(r, rec);
	if (rec->nwarnings) {
		put(r, "<ul class=\"warnings\">\n");
		for (size_t i = 0; i < rec->nwarnings; i++) {
			put(r, "<li>");
			put_text(r, rec->warnings[i]);
			put(r, "</li>\n");
		}
		put(r, "</ul>\n");
	}
	if (with_settings && rec->nsettings) {
		putf(r, "<details><summary>%zu settings</summary>\n<table class=\"kv\">\n", rec->nsettings);
		for (size_t i = 0; i < rec->nsettings; i++) {
			put(r, "<tr><th>");
			put_text(r, rec->settings[i].key);
			put(r, "</th><td>");
			put_text(r, rec->settings[i].value);
			put(r, "</td></tr>\n");
		}
		put(r, "</table>\n</details>\n");
	}
}

/* 1 when rec is the latest record of its program. */
static int is_latest(const struct report *r, const struct twin_manifest_record *rec)
{
	return latest(r, rec->program) == rec;
}

static void write_log(struct report *r)
{
	size_t earlier = 0;

	put(r, "<section id=\"log\">\n<h2>Warnings and failures</h2>\n");
	if (!r->m) {
		put(r, "<p class=\"notrun\">The case has no manifest.xml: no stage has run.</p>\n</section>\n");
		return;
	}
	put(r, "<p>Every warning and failure that <a href=\"manifest.xml\">manifest.xml</a> records. "
	       "The latest run of each stage first.</p>\n");
	for (size_t i = 0; i < NSTAGES; i++) {
		const struct twin_manifest_record *rec = latest(r, stages[i].program);

		putf(r, "<h3 id=\"log-%s\">%s</h3>\n", stages[i].program, stages[i].program);
		if (!rec)
			put(r, "<p class=\"notrun\">Not run yet.</p>\n");
		else
			put_record(r, rec, 1);
	}
	/* Other programs (the driver, a tool), latest run of each. */
	for (size_t i = 0; i < r->m->nrecords; i++) {
		const struct twin_manifest_record *rec = &r->m->records[i];
		int known = 0;

		for (size_t s = 0; s < NSTAGES; s++)
			known |= strcmp(rec->program, stages[s].program) == 0;
		if (known || !is_latest(r, rec))
			continue;
		put(r, "<h3>");
		put_text(r, rec->program);
		put(r, "</h3>\n");
		put_record(r, rec, 1);
	}
	for (size_t i = 0; i < r->m->nrecords; i++)
		earlier += !is_latest(r, &r->m->records[i]);
	if (earlier) {
		putf(r, "<h3>Earlier runs (%zu)</h3>\n<div class=\"earlier\">\n", earlier);
		for (size_t i = r->m->nrecords; i-- > 0;)
			if (!is_latest(r, &r->m->records[i]))
				put_record(r, &r->m->records[i], 0);
		put(r, "</div>\n");
	}
	put(r, "</section>\n");
}

/* --- the page ------------------------------------------------------------------------------ */

static const char style[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d2330;"
	"max-width:1200px;margin:0 auto;padding:1em 1.5em 3em;background:#fff}\n"
	"h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #dde2ea;padding-bottom:.2em;margin-top:1.8em}\n"
	"h3{margin:1.2em 0 .4em}.meta{color:#5a6475;margin-top:0}\n"
	"nav a{margin-right:1em}\n"
	"table{border-collapse:collapse;margin:.4em 0}th,td{padding:.25em .6em;text-align:left;vertical-align:top}\n"
	"table.grid th,table.stages th{background:#eef1f5}table.grid td,table.stages td,table.files td{"
	"border-top:1px solid #e3e7ee}\n"
	"table.kv th{font-weight:normal;color:#5a6475;padding-left:0}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}td.bad{color:#b3261e;font-weight:bold}\n"
	".box{border:2px solid;border-radius:8px;padding:.3em 1em .8em;margin:1em 0}\n"
	".box h2{border:0;margin:.4em 0}\n"
	".box.ok{border-color:#2e7d32;background:#f1f8f1}.box.warn{border-color:#c77800;background:#fff8ec}\n"
	".box.failed{border-color:#b3261e;background:#fdf0ef}.box.notrun{border-color:#7a8394;background:#f5f6f8}\n"
	".badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.9em;font-weight:600;"
	"white-space:nowrap}\n"
	".badge.ok{background:#d7efd8;color:#1b5e20}.badge.warn{background:#ffe6bf;color:#7a4a00}\n"
	".badge.failed{background:#b3261e;color:#fff}.badge.notrun{background:#e3e6eb;color:#4a5263}\n"
	".error,.errtext{color:#b3261e}p.error{border-left:4px solid #b3261e;padding:.2em .6em;"
	"background:#fdf0ef}\n"
	".notrun{color:#5a6475;font-style:italic}.stale{color:#7a4a00}.note{color:#5a6475}\n"
	"tr.fail td{background:#fdf0ef}\n"
	".sw{display:inline-block;width:1em;height:1em;border:1px solid #0003;border-radius:2px;"
	"vertical-align:-.15em;margin-right:.3em}\n"
	".pics{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}\n"
	"figure img{max-width:100%;height:auto;border:1px solid #d5dae3;display:block}\n"
	".pics figure{max-width:48%}.qc figure{max-width:360px}figcaption{color:#5a6475;font-size:.9em}\n"
	"table.stages td:first-child,td.id{white-space:nowrap}\n"
	".legend .item{margin-right:1.2em;white-space:nowrap}\n"
	"ul.warnings li{color:#7a4a00}.earlier{color:#4a5263}\n"
	"pre{background:#f5f6f8;padding:.6em;overflow:auto;max-height:30em;font-size:13px}\n"
	"details{margin:.4em 0}summary{cursor:pointer;color:#2a5db0}\n";

/* The case folder's last name, for the title. */
static const char *case_name(const char *dir)
{
	size_t n = strlen(dir);
	const char *p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	for (p = dir + n; p > dir && p[-1] != '/'; p--)
		;
	return p;
}

static int write_page(struct twin_err *err, struct report *r)
{
	char name[256], when[64];
	time_t now = time(NULL);
	struct tm tm;
	const char *base = case_name(r->dir);
	size_t n = strcspn(base, "/");

	snprintf(name, sizeof(name), "%.*s", (int)(n < 200 ? n : 200), base);
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(when, sizeof(when), "(unknown time)");
	put(r, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>dcm2twin report: ");
	put_text(r, name);
	put(r, "</title>\n<style>\n");
	put(r, style);
	put(r, "</style>\n</head>\n<body>\n<h1>dcm2twin report: ");
	put_text(r, name);
	put(r, "</h1>\n<p class=\"meta\">Written ");
	put(r, when);
	put(r, " by dcm2twin ");
	put_text(r, twin_cli_version());
	put(r, " from the case folder as it was then.</p>\n"
	       "<nav><a href=\"#series\">series</a><a href=\"#segmentation\">segmentation</a>"
	       "<a href=\"#mesh\">mesh</a><a href=\"#quality\">quality</a><a href=\"#exports\">exports</a>"
	       "<a href=\"#log\">warnings and failures</a></nav>\n");
	write_summary(r);
	if (write_series(err, r) != 0 || write_segmentation(err, r) != 0 || write_mesh(err, r) != 0 ||
	    write_quality(err, r) != 0 || write_exports(err, r) != 0)
		return -1;
	write_log(r);
	put(r, "</body>\n</html>\n");
	return 0;
}

int twin_report_write(struct twin_err *err, const char *case_dir)
{
	struct report r = { NULL, case_dir, NULL, 0 };
	struct twin_atomic a = { NULL, -1, NULL, NULL };
	char *manifest = NULL, *html = NULL;
	struct stat st;
	int rc = -1;

	if (stat(case_dir, &st) != 0)
		return twin_err_errno(err, "cannot read case folder", case_dir);
	if (!S_ISDIR(st.st_mode))
		return twin_err_set(err, TWIN_EIO, "cannot read case folder '%s': not a folder", case_dir);
	manifest = case_path(err, &r, "manifest.xml");
	html = case_path(err, &r, "report.html");
	if (!manifest || !html)
		goto out;
	if (twin_path_exists(manifest)) {
		r.m = twin_manifest_load(err, manifest);
		if (!r.m)
			goto out;
	}
	if (twin_atomic_open(err, &a, html) != 0)
		goto out;
	r.f = a.f;
	if (write_page(err, &r) != 0 || (r.nomem && twin_err_set(err, TWIN_EFAIL, "report: out of memory"))) {
		twin_atomic_abort(&a);
		goto out;
	}
	rc = twin_atomic_commit(err, &a);
out:
	twin_manifest_free(r.m);
	free(manifest);
	free(html);
	return rc;
}
