/*
 * The report page: its head, style and table of contents, then each section
 * in turn (report_*.c), written top to bottom into one temporary file that
 * is renamed into place only when every section could be written. Each
 * section reads its own file of the case and says so when its stage has not
 * run. The page is also well-formed XML, so a test can read it back with
 * libxml2.
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "files.h"
#include "manifest.h"
#include "page.h"

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

static int write_page(struct twin_err *err, struct twin_page *r)
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
	twin_page_text(r, name);
	put(r, "</title>\n<style>\n");
	put(r, style);
	put(r, "</style>\n</head>\n<body>\n<h1>dcm2twin report: ");
	twin_page_text(r, name);
	put(r, "</h1>\n<p class=\"meta\">Written ");
	put(r, when);
	put(r, " by dcm2twin ");
	twin_page_text(r, twin_cli_version());
	put(r, " from the case folder as it was then.</p>\n"
	       "<nav><a href=\"#series\">series</a><a href=\"#segmentation\">segmentation</a>"
	       "<a href=\"#mesh\">mesh</a><a href=\"#quality\">quality</a><a href=\"#exports\">exports</a>"
	       "<a href=\"#log\">warnings and failures</a></nav>\n");
	twin_page_summary(r);
	if (twin_page_series(err, r) != 0 || twin_page_segmentation(err, r) != 0 || twin_page_mesh(err, r) != 0 ||
	    twin_page_quality(err, r) != 0 || twin_page_exports(err, r) != 0)
		return -1;
	twin_page_log(r);
	put(r, "</body>\n</html>\n");
	return 0;
}

int twin_report_write(struct twin_err *err, const char *case_dir)
{
	struct twin_page r = { NULL, case_dir, NULL, 0 };
	struct twin_atomic a = { NULL, -1, NULL, NULL };
	char *manifest = NULL, *html = NULL;
	struct stat st;
	int rc = -1;

	if (stat(case_dir, &st) != 0)
		return twin_err_errno(err, "cannot read case folder", case_dir);
	if (!S_ISDIR(st.st_mode))
		return twin_err_set(err, TWIN_EIO, "cannot read case folder '%s': not a folder", case_dir);
	manifest = twin_page_path(err, &r, "manifest.xml");
	html = twin_page_path(err, &r, "report.html");
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
