/*
 * The warnings and failures section: every run manifest.xml records, the
 * latest of each stage first with its settings, then other programs, then
 * the earlier runs.
 */
#include "page.h"

#include <string.h>

static void put_record(struct twin_page *r, const struct twin_manifest_record *rec, int with_settings)
{
	put(r, "<p class=\"run\">");
	twin_page_text(r, rec->program);
	put(r, " ");
	twin_page_text(r, rec->version);
	put(r, ", started ");
	twin_page_time(r, rec->start);
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
		twin_page_error(r, rec);
	if (rec->nwarnings) {
		put(r, "<ul class=\"warnings\">\n");
		for (size_t i = 0; i < rec->nwarnings; i++) {
			put(r, "<li>");
			twin_page_text(r, rec->warnings[i]);
			put(r, "</li>\n");
		}
		put(r, "</ul>\n");
	}
	if (with_settings && rec->nsettings) {
		putf(r, "<details><summary>%zu settings</summary>\n<table class=\"kv\">\n", rec->nsettings);
		for (size_t i = 0; i < rec->nsettings; i++) {
			put(r, "<tr><th>");
			twin_page_text(r, rec->settings[i].key);
			put(r, "</th><td>");
			twin_page_text(r, rec->settings[i].value);
			put(r, "</td></tr>\n");
		}
		put(r, "</table>\n</details>\n");
	}
}

/* 1 when rec is the latest record of its program. */
static int is_latest(const struct twin_page *r, const struct twin_manifest_record *rec)
{
	return twin_page_latest(r, rec->program) == rec;
}

void twin_page_log(struct twin_page *r)
{
	size_t earlier = 0;

	put(r, "<section id=\"log\">\n<h2>Warnings and failures</h2>\n");
	if (!r->m) {
		put(r, "<p class=\"notrun\">The case has no manifest.xml: no stage has run.</p>\n</section>\n");
		return;
	}
	put(r, "<p>Every warning and failure that <a href=\"manifest.xml\">manifest.xml</a> records. "
	       "The latest run of each stage first.</p>\n");
	for (size_t i = 0; i < TWIN_PAGE_NSTAGES; i++) {
		const struct twin_manifest_record *rec = twin_page_latest(r, twin_page_stages[i].program);

		putf(r, "<h3 id=\"log-%s\">%s</h3>\n", twin_page_stages[i].program, twin_page_stages[i].program);
		if (!rec)
			put(r, "<p class=\"notrun\">Not run yet.</p>\n");
		else
			put_record(r, rec, 1);
	}
	/* Other programs (the driver, a tool), latest run of each. */
	for (size_t i = 0; i < r->m->nrecords; i++) {
		const struct twin_manifest_record *rec = &r->m->records[i];
		int known = 0;

		for (size_t s = 0; s < TWIN_PAGE_NSTAGES; s++)
			known |= strcmp(rec->program, twin_page_stages[s].program) == 0;
		if (known || !is_latest(r, rec))
			continue;
		put(r, "<h3>");
		twin_page_text(r, rec->program);
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
