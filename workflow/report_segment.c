/*
 * The segmentation section: the structure volumes of segment/labels.xml
 * (read through its validating loader) and the QC pictures of segment/qc/.
 */
#include "page.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "labels.h"

/* The PNG files of a folder. */
static int is_png(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	return e->d_name[0] != '.' && len >= 5 && strcmp(e->d_name + len - 4, ".png") == 0;
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

static int cmp_qc(const struct dirent **a, const struct dirent **b)
{
	const char *x = (*a)->d_name, *y = (*b)->d_name;
	int rx = qc_rank(x), ry = qc_rank(y);

	return rx != ry ? rx - ry : strcmp(x, y);
}

static int write_qc(struct twin_err *err, struct twin_page *r)
{
	char *dir = twin_page_path(err, r, "segment/qc");
	struct dirent **names = NULL;
	int n;

	if (!dir)
		return -1;
	n = scandir(dir, &names, is_png, cmp_qc);
	if (n < 0 && errno == ENOMEM) {
		free(dir);
		return twin_err_set(err, TWIN_EFAIL, "report: out of memory listing 'segment/qc'");
	}
	if (n < 0) {
		put(r, "<p class=\"notrun\">No QC pictures (segment/qc is missing).</p>\n");
		free(dir);
		return 0;
	}
	put(r, "<h3>QC pictures</h3>\n<p>The labels drawn over the image, as twin-segment saw them "
	       "(patient's left on the right). Click a picture for full size.</p>\n<div class=\"pics qc\">\n");
	for (int i = 0; i < n; i++) {
		char rel[512], alt[600];

		snprintf(rel, sizeof(rel), "segment/qc/%s", names[i]->d_name);
		snprintf(alt, sizeof(alt), "QC overlay %s", names[i]->d_name);
		twin_page_img(r, rel, alt, names[i]->d_name);
	}
	if (!n)
		put(r, "<p class=\"notrun\">segment/qc holds no pictures.</p>\n");
	put(r, "</div>\n");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return 0;
}

int twin_page_segmentation(struct twin_err *err, struct twin_page *r)
{
	char *path = twin_page_path(err, r, "segment/labels.xml");
	struct twin_labels_file *lf = NULL;
	int rc = -1;

	if (!path)
		return -1;
	if (!twin_page_stage_section(r, "twin-segment", twin_path_exists(path))) {
		rc = 0;
		goto out;
	}
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
		twin_page_swatch(r, e->rgb);
		putf(r, "</td><td>%u</td><td>", e->label->id);
		twin_page_text(r, e->label->display);
		put(r, "</td><td>");
		twin_page_text(r, e->label->short_name);
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

