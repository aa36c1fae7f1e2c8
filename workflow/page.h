/*
 * page: what the files of the report (report.c and report_*.c) share: the
 * page being written, the helpers that put text, links and pictures on it,
 * the stages as the page shows them, and one function per section. Internal
 * to libworkflow. Includes err.h, manifest.h and libxml2 only.
 */
#ifndef TWIN_WORKFLOW_PAGE_H
#define TWIN_WORKFLOW_PAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "err.h"
#include "manifest.h"

struct twin_page {
	FILE *f;
	const char *dir;          /* the case folder */
	struct twin_manifest *m;  /* NULL when the case has no manifest.xml */
	int nomem;                /* some text could not be copied: the page is not written */
};

/* Markup, numbers and the names of this program: text from a file goes through twin_page_text. */
static inline void put(struct twin_page *r, const char *s)
{
	fputs(s, r->f);
}

__attribute__((format(printf, 2, 3)))
static inline void putf(struct twin_page *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(r->f, fmt, ap);
	va_end(ap);
}

/* --- writing (page.c) --------------------------------------------------------- */

/* Text from a file (s may be NULL): made valid UTF-8 without control characters, HTML-escaped. */
void twin_page_text(struct twin_page *r, const char *s);
/* A link relative to the case folder: every byte but [A-Za-z0-9/._~-] percent-encoded. */
void twin_page_url(struct twin_page *r, const char *rel);
/* "12.3 kB", "4.56 MB": sizes as a person reads them. */
void twin_page_size(struct twin_page *r, uint64_t bytes);
/* A small square of colour rgb. */
void twin_page_swatch(struct twin_page *r, const unsigned char rgb[3]);
/* "2024-05-01T12:00:00Z" as "2024-05-01 12:00:00 UTC"; other forms as they are. */
void twin_page_time(struct twin_page *r, const char *t);
/* A PNG of the case (rel inside the case folder) as a linked figure, or a line saying it is missing. */
void twin_page_img(struct twin_page *r, const char *rel, const char *alt, const char *caption);

/* The case folder joined with rel, malloc'd (free); NULL with err set on no memory. */
char *twin_page_path(struct twin_err *err, const struct twin_page *r, const char *rel);

/*
 * Parses path and validates it against xsd: TWIN_EINPUT "what 'path': line
 * N: ..." when it is not. Returns an owned document (xmlFreeDoc) or NULL.
 */
xmlDoc *twin_page_load_xml(struct twin_err *err, const char *what, const char *path, const char *xsd);

/* --- the stages (report_stages.c) --------------------------------------------- */

struct twin_page_stage {
	const char *program;
	const char *anchor;   /* the section of the page that shows its result */
	const char *title;    /* that section's heading */
	const char *product;  /* the file that shows it has run, relative to the case folder */
};

/* The four stages in pipeline order. */
#define TWIN_PAGE_NSTAGES 4
extern const struct twin_page_stage twin_page_stages[TWIN_PAGE_NSTAGES];

/* The latest record of program, or NULL. Borrowed from r->m. */
const struct twin_manifest_record *twin_page_latest(const struct twin_page *r, const char *program);
/* A failed run's exit code and message as a paragraph. */
void twin_page_error(struct twin_page *r, const struct twin_manifest_record *rec);
/*
 * Opens the section of program's results with the paragraphs on its stage:
 * it failed last or partly, it may be out of date. When the stage left
 * nothing to show (have_output 0) they say it has not run or failed, and
 * the section is closed. Returns have_output.
 */
int twin_page_stage_section(struct twin_page *r, const char *program, int have_output);

/* --- the sections, in page order ----------------------------------------------- */

void twin_page_summary(struct twin_page *r);                        /* report_stages.c */
int twin_page_series(struct twin_err *err, struct twin_page *r);       /* report_series.c */
int twin_page_segmentation(struct twin_err *err, struct twin_page *r); /* report_segment.c */
int twin_page_mesh(struct twin_err *err, struct twin_page *r);         /* report_mesh.c */
int twin_page_quality(struct twin_err *err, struct twin_page *r);      /* report_quality.c */
int twin_page_exports(struct twin_err *err, struct twin_page *r);      /* report_exports.c */
void twin_page_log(struct twin_page *r);                            /* report_log.c */

#endif
