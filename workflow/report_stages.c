/*
 * The stages as the report shows them: the summary box atop the page (one
 * row a stage: not run, ok, warned, failed) and the note atop each stage's
 * section (failed last, partly written, may be out of date).
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"

const struct twin_page_stage twin_page_stages[TWIN_PAGE_NSTAGES] = {
	{ "twin-ingest", "series", "Series", "ingest/series.xml" },
	{ "twin-segment", "segmentation", "Segmentation", "segment/labels.xml" },
	{ "twin-mesh", "mesh", "Mesh", "mesh/heart.msh" },
	{ "twin-export", "exports", "Exports", "export" },
};

/* 1 when rel is in the case folder, 0 when not. */
static int case_has(const struct twin_page *r, const char *rel)
{
	char *p = twin_path_join(r->dir, rel);
	int yes = p && twin_path_exists(p);

	free(p);
	return yes;
}

const struct twin_manifest_record *twin_page_latest(const struct twin_page *r, const char *program)
{
	for (size_t i = r->m ? r->m->nrecords : 0; i-- > 0;)
		if (strcmp(r->m->records[i].program, program) == 0)
			return &r->m->records[i];
	return NULL;
}

/*
 * The stage before stage s that ran (and succeeded) after s last succeeded,
 * so that what s made may be out of date; NULL when none did.
 */
static const char *newer_upstream(const struct twin_page *r, size_t s)
{
	const struct twin_manifest_record *mine;

	if (!r->m || s == 0 || !(mine = twin_manifest_last_ok(r->m, twin_page_stages[s].program)))
		return NULL;
	for (size_t u = s; u-- > 0;) {
		const struct twin_manifest_record *up = twin_manifest_last_ok(r->m, twin_page_stages[u].program);

		if (up && up > mine)
			return twin_page_stages[u].program;
	}
	return NULL;
}

static size_t stage_index(const char *program)
{
	size_t i = 0;

	while (i + 1 < TWIN_PAGE_NSTAGES && strcmp(twin_page_stages[i].program, program) != 0)
		i++;
	return i;
}

enum state { NOT_RUN, NO_RECORD, OK, WARNED, FAILED };

static enum state stage_state(const struct twin_page *r, const struct twin_page_stage *s,
			      const struct twin_manifest_record **rec)
{
	*rec = twin_page_latest(r, s->program);
	if (!*rec)
		return case_has(r, s->product) ? NO_RECORD : NOT_RUN;
	if ((*rec)->status == TWIN_MANIFEST_FAILED)
		return FAILED;
	return (*rec)->nwarnings ? WARNED : OK;
}

static void put_badge(struct twin_page *r, enum state st, const struct twin_manifest_record *rec)
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

void twin_page_error(struct twin_page *r, const struct twin_manifest_record *rec)
{
	putf(r, "<p class=\"error\">exit code %d (", (int)rec->code);
	put(r, twin_err_code_name(rec->code));
	put(r, "): ");
	twin_page_text(r, rec->message ? rec->message : "no message");
	put(r, "</p>\n");
}

void twin_page_summary(struct twin_page *r)
{
	size_t failed = 0, missing = 0, warned = 0;
	const char *cls, *headline;

	for (size_t i = 0; i < TWIN_PAGE_NSTAGES; i++) {
		const struct twin_manifest_record *rec;
		enum state st = stage_state(r, &twin_page_stages[i], &rec);

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
	for (size_t i = 0; i < TWIN_PAGE_NSTAGES; i++) {
		const struct twin_page_stage *s = &twin_page_stages[i];
		const struct twin_manifest_record *rec;
		enum state st = stage_state(r, s, &rec);

		putf(r, "<tr><td><a href=\"#%s\">%s</a></td><td>", s->anchor, s->program);
		put_badge(r, st, rec);
		put(r, "</td><td>");
		if (rec) {
			twin_page_time(r, rec->start);
			putf(r, ", %.1f s", rec->wall_seconds);
		} else {
			put(r, "—");
		}
		put(r, "</td><td>");
		if (st == FAILED) {
			putf(r, "<span class=\"errtext\">exit code %d (%s): ", (int)rec->code,
			     twin_err_code_name(rec->code));
			twin_page_text(r, rec->message);
			put(r, "</span>");
		} else if (st == WARNED) {
			twin_page_text(r, rec->warnings[0]);
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

int twin_page_stage_section(struct twin_page *r, const char *program, int have_output)
{
	size_t s = stage_index(program);
	const struct twin_manifest_record *rec = twin_page_latest(r, program);
	const struct twin_manifest_record *ok = r->m ? twin_manifest_last_ok(r->m, program) : NULL;
	const char *up = newer_upstream(r, s);

	putf(r, "<section id=\"%s\">\n<h2>%s</h2>\n", twin_page_stages[s].anchor, twin_page_stages[s].title);
	if (!have_output) {
		put(r, "<p class=\"notrun\">");
		put(r, program);
		if (rec && rec->status == TWIN_MANIFEST_FAILED)
			put(r, " failed, so there is nothing to show here.</p>\n");
		else
			put(r, " has not run: nothing to show yet.</p>\n");
		if (rec && rec->status == TWIN_MANIFEST_FAILED)
			twin_page_error(r, rec);
		put(r, "</section>\n");
		return 0;
	}
	if (rec && rec->status == TWIN_MANIFEST_FAILED && rec->code == TWIN_EPARTIAL) {
		put(r, "<p class=\"stale\">The latest run of ");
		put(r, program);
		put(r, " wrote only part of its outputs; what follows is what the folder holds now.</p>\n");
		twin_page_error(r, rec);
	} else if (rec && rec->status == TWIN_MANIFEST_FAILED) {
		put(r, "<p class=\"stale\">The latest run of ");
		put(r, program);
		put(r, " failed; what follows is from ");
		if (ok) {
			put(r, "its run of ");
			twin_page_time(r, ok->start);
		} else {
			put(r, "an earlier run");
		}
		put(r, ".</p>\n");
		twin_page_error(r, rec);
	}
	if (up) {
		put(r, "<p class=\"stale\">This may be out of date: ");
		put(r, up);
		put(r, " ran again after it.</p>\n");
	}
	return 1;
}
