/*
 * The mesh section: mesh/heart.msh drawn from the front and the back into
 * CASE/report/ (render.c), its counts, and a legend of its regions.
 */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>

#include "files.h"
#include "labels.h"
#include "msh.h"
#include "render.h"

/* The mesh pictures: size and files inside the case folder. */
#define PIC_W 800
#define PIC_H 600

static const struct {
	const char *file, *view;
	const struct twin_render_view *v;
} mesh_pics[] = {
	{ "report/mesh-anterior.png", "the front, from the patient's left (LAO 30°, cranial 20°)",
	  &twin_render_anterior },
	{ "report/mesh-posterior.png", "the back, from the patient's right (30° oblique, cranial 20°)",
	  &twin_render_posterior },
};

/* Draws the mesh pictures into CASE/report/. */
static int render_pictures(struct twin_err *err, struct twin_page *r, const struct twin_tetmesh *mesh)
{
	unsigned char *rgb = malloc(3 * PIC_W * PIC_H);
	char *dir = twin_page_path(err, r, "report");
	int rc = -1;

	if (!rgb || !dir) {
		twin_err_set(err, TWIN_EFAIL, "report: out of memory for the mesh pictures");
		goto out;
	}
	if (twin_mkdir_p(err, dir) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(mesh_pics) / sizeof(mesh_pics[0]); i++) {
		char *path = twin_page_path(err, r, mesh_pics[i].file);
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
static void remove_pictures(const struct twin_page *r)
{
	for (size_t i = 0; i < sizeof(mesh_pics) / sizeof(mesh_pics[0]); i++) {
		char *path = twin_path_join(r->dir, mesh_pics[i].file);

		if (path)
			remove(path);
		free(path);
	}
}

int twin_page_mesh(struct twin_err *err, struct twin_page *r)
{
	char *path = twin_page_path(err, r, "mesh/heart.msh");
	struct twin_tetmesh *mesh = NULL;
	struct twin_tetmesh_count *counts = NULL;
	size_t ncounts = 0;
	int rc = -1;

	if (!path)
		return -1;
	if (!twin_page_stage_section(r, "twin-mesh", twin_path_exists(path))) {
		remove_pictures(r);
		rc = 0;
		goto out;
	}
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
		twin_page_img(r, mesh_pics[i].file, alt, mesh_pics[i].view);
	}
	put(r, "</div>\n<p class=\"legend\">");
	for (size_t i = 0; i < ncounts; i++) {
		const struct twin_label *l = twin_label_by_id(counts[i].tag);
		const char *name = twin_tetmesh_region_name(mesh, counts[i].tag);
		static const unsigned char grey[3] = { 160, 160, 160 };

		put(r, "<span class=\"item\">");
		twin_page_swatch(r, l && counts[i].tag > 0 ? l->rgb : grey);
		twin_page_text(r, name ? name : l ? l->name : "unnamed");
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
