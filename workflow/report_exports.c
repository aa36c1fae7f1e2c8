/*
 * The exports section: one part per folder of export/, with the first line
 * of what its README.txt says, its files and their sizes (a long list folded
 * away), and the README itself folded away.
 */
#include "page.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"

/* At most this many files per export folder, and lines of a README, are shown. */
#define MAX_LIST 60
/* A folder of more files than this shows its list folded away. */
#define FOLD_LIST 12
#define MAX_README_LINES 400
#define MAX_DEPTH 8

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

/* A README's second line: what the folder is for. */
static void put_purpose(struct twin_page *r, const char *text)
{
	const char *nl = strchr(text, '\n');
	char *line;

	if (!nl || nl[1] == '\n' || !nl[1])
		return;
	line = strndup(nl + 1, strcspn(nl + 1, "\n"));
	if (!line) {
		r->nomem = 1;
		return;
	}
	put(r, "<p class=\"what\">");
	twin_page_text(r, line);
	put(r, "</p>\n");
	free(line);
}

/*
 * A target's README.txt (text, NULL when there is none; cut short here):
 * its line count and a link, all of it folded away.
 */
static void put_readme(struct twin_page *r, const char *target, char *text)
{
	size_t lines = 0;
	char *p;
	int truncated;

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
	twin_page_text(r, text);
	if (truncated)
		put(r, "\n…");
	put(r, "</pre>\n<p><a href=\"export/");
	twin_page_url(r, target);
	put(r, "/README.txt\">README.txt</a> in full.</p></details>\n");
}

static int write_target(struct twin_err *err, struct twin_page *r, const char *exp, const char *target)
{
	char *root = twin_path_join(exp, target), *readme = NULL, *text = NULL;
	struct listing l = { NULL, 0, 0, 0 };
	struct twin_err ignore;
	size_t len = 0;
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
	twin_page_url(r, target);
	put(r, "\">");
	twin_page_text(r, target);
	putf(r, "</h3>\n<p>%zu file%s, ", l.n, l.n == 1 ? "" : "s");
	twin_page_size(r, l.total);
	put(r, ".</p>\n");
	readme = twin_path_join(root, "README.txt");
	twin_err_init(&ignore);
	text = readme ? twin_file_read(&ignore, readme, &len) : NULL;
	if (text)
		put_purpose(r, text);
	/* A long list folds away; the README says what the files are. */
	if (l.n > FOLD_LIST)
		putf(r, "<details><summary>the %zu files</summary>\n", l.n);
	put(r, "<table class=\"files\">\n");
	for (size_t i = 0; i < l.n && i < MAX_LIST; i++) {
		put(r, "<tr><td><a href=\"export/");
		twin_page_url(r, target);
		put(r, "/");
		twin_page_url(r, l.files[i].rel);
		put(r, "\">");
		twin_page_text(r, l.files[i].rel);
		put(r, "</a></td><td class=\"num\">");
		twin_page_size(r, l.files[i].size);
		put(r, "</td></tr>\n");
	}
	if (l.n > MAX_LIST)
		putf(r, "<tr><td colspan=\"2\">… and %zu more files</td></tr>\n", l.n - MAX_LIST);
	put(r, "</table>\n");
	if (l.n > FOLD_LIST)
		put(r, "</details>\n");
	if (readme)
		put_readme(r, target, text);
	rc = 0;
out:
	listing_release(&l);
	free(text);
	free(readme);
	free(root);
	return rc;
}

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int twin_page_exports(struct twin_err *err, struct twin_page *r)
{
	char *exp = twin_page_path(err, r, "export");
	struct dirent **names = NULL;
	size_t targets = 0;
	int n = -1, rc = -1;

	if (!exp)
		return -1;
	n = scandir(exp, &names, not_hidden, alphasort);
	if (n < 0 && errno == ENOMEM) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory listing '%s'", exp);
		goto out;
	}
	if (!twin_page_stage_section(r, "twin-export", n >= 0)) {
		rc = 0;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char *full = twin_path_join(exp, names[i]->d_name);
		struct stat st;
		int isdir = full && stat(full, &st) == 0 && S_ISDIR(st.st_mode);

		free(full);
		if (!isdir)
			continue;
		targets++;
		if (write_target(err, r, exp, names[i]->d_name) != 0)
			goto out;
	}
	if (!targets)
		put(r, "<p class=\"notrun\">export/ holds no target folder.</p>\n");
	put(r, "</section>\n");
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(exp);
	return rc;
}
