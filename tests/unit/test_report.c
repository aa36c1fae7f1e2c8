#include "twin_test.h"

#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../../workflow/render.h"
#include "../../workflow/report.h"
#include "files.h"
#include "labels.h"
#include "manifest.h"
#include "msh.h"
#include "tetmesh.h"

static int setup(void **state)
{
	*state = twin_test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	twin_test_rmdir(*state);
	return 0;
}

/* dir/rel with its parent folders made. Returns a static buffer. */
static const char *make_path(const char *dir, const char *rel)
{
	static char buf[4096];
	char parent[4096];
	struct twin_err err;
	char *slash;

	snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", buf);
	slash = strrchr(parent, '/');
	*slash = '\0';
	twin_err_init(&err);
	assert_ok(err, twin_mkdir_p(&err, parent));
	return buf;
}

static void write_text(const char *dir, const char *rel, const char *text)
{
	twin_test_write_file(make_path(dir, rel), text, strlen(text));
}

/*
 * Two unit cubes of five tetrahedra each, side by side along x (LPS: the
 * patient's left): region 3 (left ventricle, red) at x 0..1, region 5 (right
 * ventricle, blue) at x 1..2. Cube corners share nodes only within a cube.
 */
static struct twin_tetmesh *two_cubes(void)
{
	/* The five tetrahedra of a cube with corners c = x + 2y + 4z. */
	static const uint32_t five[5][4] = {
		{ 0, 1, 2, 4 }, { 1, 3, 2, 7 }, { 1, 4, 5, 7 }, { 2, 6, 4, 7 }, { 1, 2, 4, 7 },
	};
	struct twin_tetmesh *m;
	struct twin_err err;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 16, 10, 0);
	assert_ptr_ok(err, m);
	for (size_t cube = 0; cube < 2; cube++) {
		for (size_t c = 0; c < 8; c++) {
			double *p = m->xyz + 3 * (8 * cube + c);

			p[0] = (double)cube + (double)(c & 1);
			p[1] = (double)((c >> 1) & 1);
			p[2] = (double)((c >> 2) & 1);
		}
		for (size_t t = 0; t < 5; t++) {
			for (size_t k = 0; k < 4; k++)
				m->tets[4 * (5 * cube + t) + k] = (uint32_t)(8 * cube + five[t][k]);
			m->tet_region[5 * cube + t] = cube ? 5 : 3;
		}
	}
	twin_tetmesh_orient(m);
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 3, "heart_ventricle_left"));
	assert_ok(err, twin_tetmesh_set_region_name(&err, m, 5, "heart_ventricle_right"));
	assert_ok(err, twin_tetmesh_check(&err, m));
	return m;
}

static int is_bg(const unsigned char *p)
{
	return p[0] == TWIN_RENDER_BG_R && p[1] == TWIN_RENDER_BG_G && p[2] == TWIN_RENDER_BG_B;
}

/* A shade of the left ventricle's red (190, 25, 35), or the right ventricle's blue (40, 90, 220). */
static int is_red(const unsigned char *p)
{
	return !is_bg(p) && p[0] > 40 && p[0] > 4 * p[1] && p[0] > 3 * p[2];
}

static int is_blue(const unsigned char *p)
{
	return !is_bg(p) && p[2] > 60 && p[2] > 3 * p[0] && p[2] > 2 * p[1];
}

/* Reads a PNG back as 8-bit RGB; *w and *h its size. Returns a malloc'd buffer. */
static unsigned char *read_png(const char *path, unsigned *w, unsigned *h)
{
	png_image img;
	unsigned char *rgb;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		fail_msg("cannot read PNG '%s': %s", path, img.message);
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(rgb);
	if (!png_image_finish_read(&img, NULL, rgb, 0, NULL))
		fail_msg("cannot decode PNG '%s': %s", path, img.message);
	*w = img.width;
	*h = img.height;
	return rgb;
}

static void render_two_cubes(void **state)
{
	const struct twin_render_view front = { 0.0, 0.0 };
	const size_t w = 160, h = 90;
	struct twin_tetmesh *m = two_cubes();
	unsigned char *rgb = malloc(3 * w * h), *back;
	size_t red_left = 0, red_right = 0, blue_left = 0, blue_right = 0, bg = 0;
	const char *path = twin_test_path(*state, "cubes.png");
	struct twin_err err;
	unsigned pw, ph;

	assert_non_null(rgb);
	twin_err_init(&err);
	/* Seen from the front, the patient's left (x) is on the picture's right. */
	assert_ok(err, twin_render_mesh(&err, m, &front, w, h, rgb));
	for (size_t y = 0; y < h; y++)
		for (size_t x = 0; x < w; x++) {
			const unsigned char *p = rgb + 3 * (y * w + x);

			bg += is_bg(p);
			if (is_red(p))
				*(x < w / 2 ? &red_left : &red_right) += 1;
			if (is_blue(p))
				*(x < w / 2 ? &blue_left : &blue_right) += 1;
		}
	/* Two squares 2:1 fitted into 16:9 fill most of the picture. */
	assert_true(red_left > w * h / 4 && blue_right > w * h / 4);
	assert_true(red_right < w * h / 50 && blue_left < w * h / 50);
	assert_true(bg > 0 && bg < w * h / 3);
	/* The corners stay background. */
	assert_true(is_bg(rgb) && is_bg(rgb + 3 * (w * h - 1)));

	/* The PNG holds the same pixels at the same size. */
	assert_ok(err, twin_render_save_png(&err, path, rgb, w, h));
	back = read_png(path, &pw, &ph);
	assert_int_equal(pw, w);
	assert_int_equal(ph, h);
	assert_memory_equal(back, rgb, 3 * w * h);
	free(back);

	/* The oblique views see both regions too. */
	for (int v = 0; v < 2; v++) {
		size_t red = 0, blue = 0;

		assert_ok(err, twin_render_mesh(&err, m, v ? &twin_render_posterior : &twin_render_anterior,
						w, h, rgb));
		for (size_t i = 0; i < w * h; i++) {
			red += is_red(rgb + 3 * i);
			blue += is_blue(rgb + 3 * i);
		}
		assert_true(red > w * h / 20 && blue > w * h / 20);
	}
	free(rgb);
	twin_tetmesh_free(m);
}

static void render_edge_cases(void **state)
{
	struct twin_tetmesh *m;
	unsigned char rgb[3 * 8 * 6];
	struct twin_err err;

	twin_err_init(&err);
	m = twin_tetmesh_new(&err, 0, 0, 0);
	assert_ptr_ok(err, m);
	assert_ok(err, twin_render_mesh(&err, m, &twin_render_anterior, 8, 6, rgb));
	for (size_t i = 0; i < 8 * 6; i++)
		assert_true(is_bg(rgb + 3 * i));
	assert_int_equal(twin_render_mesh(&err, m, &twin_render_anterior, 0, 6, rgb), -1);
	assert_err(err, TWIN_EFAIL, "0x6 pixels");
	twin_tetmesh_free(m);

	twin_err_init(&err);
	assert_int_equal(twin_render_save_png(&err, twin_test_path(*state, "no/such/dir.png"), rgb, 8, 6), -1);
	assert_err(err, TWIN_EIO, "no/such/dir.png");
}

/* --- the page --------------------------------------------------------------------- */

static const char series_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<series program=\"twin-ingest\" version=\"1\">\n"
	"  <source files=\"48\" unreadable-files=\"0\" frames=\"48\" series=\"1\"/>\n"
	"  <selected number=\"2\" part=\"0\" uid=\"h:3d09cee733c48587\" study=\"h:9b1c07e2a4d6f380\""
	" frame-of-reference=\"h:455c58cb20d48a59\" modality=\"CT\" manufacturer=\"Acme &amp; Sons\""
	" model=\"X\" kernel=\"Bv36\" image-type=\"ORIGINAL\" transfer-syntax=\"1.2.840.10008.1.2.1\""
	" orientation=\"axial\" rows=\"64\" columns=\"64\" pixel-spacing=\"2 2\" slice-thickness=\"2\""
	" slices=\"48\" phases=\"1\" frames=\"48\"/>\n"
	"  <volume file=\"image.nii.gz\" phase=\"0\" slices-read=\"48\" size=\"64 64 48\" spacing=\"2 2 2\""
	" dtype=\"int16\" values=\"HU\" min-step=\"2\" max-step=\"2\" uneven-resampled=\"false\""
	" tilt-degrees=\"0\" tilt-corrected=\"false\"/>\n"
	"  <identifiers series-uid=\"1.2.3\" study-uid=\"1.2.840.99.7\" frame-of-reference-uid=\"1.2.5\""
	" description=\"CTA\" patient-name=\"DOE^JANE\" patient-id=\"PID-4711\"/>\n"
	"</series>\n";

static const char quality_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<quality nodes=\"16\" tetrahedra=\"10\" triangles=\"0\" netgen=\"false\">\n"
	"  <requirement name=\"no_inverted_tetrahedra\" met=\"true\" value=\"0\" limit=\"0\"/>\n"
	"  <requirement name=\"min_dihedral_deg\" met=\"false\" value=\"6.5\" limit=\"10\"/>\n"
	"  <requirement name=\"max_volume_error_percent\" met=\"true\" value=\"0.4\" limit=\"3\"/>\n"
	"  <requirement name=\"surface_distance_mm\" met=\"true\" value=\"0.8\" limit=\"2\"/>\n"
	"  <region id=\"3\" name=\"heart_ventricle_left\" tetrahedra=\"5\" volume_mm3=\"1\""
	" label_volume_mm3=\"1\" volume_error_percent=\"0\" min_dihedral_deg=\"6.5\" mean_dihedral_deg=\"70\""
	" below_min_dihedral=\"1\" min_gamma=\"0.2\" mean_gamma=\"0.7\" min_edge_mm=\"1\" mean_edge_mm=\"1.2\""
	" max_edge_mm=\"1.5\"/>\n"
	"  <region id=\"5\" name=\"heart_ventricle_right\" tetrahedra=\"5\" volume_mm3=\"1\""
	" label_volume_mm3=\"1\" volume_error_percent=\"0\" min_dihedral_deg=\"35\" mean_dihedral_deg=\"70\""
	" below_min_dihedral=\"0\" min_gamma=\"0.7\" mean_gamma=\"0.8\" min_edge_mm=\"1\" mean_edge_mm=\"1.2\""
	" max_edge_mm=\"1.5\"/>\n"
	"  <surface tag=\"1\" name=\"epicardium\" triangles=\"4\" area_mm2=\"2\"/>\n"
	"</quality>\n";

/* Appends a record of program: failed with code and message when message is not NULL, with warnings. */
static void add_record(const char *dir, const char *program, enum twin_code code, const char *message,
		       const char *const *warnings, size_t nwarnings)
{
	struct twin_manifest_record *rec;
	struct twin_err err, stage;

	twin_err_init(&err);
	rec = twin_manifest_record_new(&err, program, "1.0");
	assert_ptr_ok(err, rec);
	for (size_t i = 0; i < nwarnings; i++)
		twin_manifest_add_warning(rec, "%s", warnings[i]);
	if (message) {
		twin_err_init(&stage);
		twin_err_set(&stage, code, "%s", message);
		twin_manifest_record_fail(rec, &stage);
	}
	assert_ok(err, twin_manifest_append(&err, dir, rec));
	twin_manifest_record_free(rec);
}

/* report.html of dir as text (free), after checking it is well-formed and its pictures are there. */
static char *read_report(const char *dir, size_t *nimg)
{
	char *html;
	size_t len;
	xmlDoc *doc;
	xmlNode *stack[64];
	int depth = 0;

	html = twin_test_read_file(twin_test_path(dir, "report.html"), &len);
	doc = xmlReadMemory(html, (int)len, "report.html", NULL, XML_PARSE_NONET);
	if (!doc)
		fail_msg("report.html is not well-formed");
	*nimg = 0;
	/* Every <img> has alt, width and height, and its src is a PNG of that size. */
	stack[depth++] = xmlDocGetRootElement(doc);
	while (depth > 0) {
		xmlNode *n = stack[--depth];

		for (; n; n = n->next) {
			if (n->type != XML_ELEMENT_NODE)
				continue;
			if (strcmp((const char *)n->name, "img") == 0) {
				char *src = (char *)xmlGetProp(n, (const xmlChar *)"src");
				char *alt = (char *)xmlGetProp(n, (const xmlChar *)"alt");
				char *wa = (char *)xmlGetProp(n, (const xmlChar *)"width");
				char *ha = (char *)xmlGetProp(n, (const xmlChar *)"height");
				unsigned w, h;
				unsigned char *px;

				assert_true(src && alt && wa && ha && *alt);
				assert_true(src[0] != '/' && !strstr(src, "://"));
				px = read_png(twin_test_path(dir, src), &w, &h);
				assert_int_equal(w, strtoul(wa, NULL, 10));
				assert_int_equal(h, strtoul(ha, NULL, 10));
				free(px);
				xmlFree(src);
				xmlFree(alt);
				xmlFree(wa);
				xmlFree(ha);
				(*nimg)++;
			}
			if (n->children && depth < 64)
				stack[depth++] = n->children;
		}
	}
	xmlFreeDoc(doc);
	return html;
}

static void partial_case(void **state)
{
	const char *dir = *state;
	static const char *const warn[] = { "slice 3 is missing: interpolated" };
	struct twin_err err;
	size_t nimg;
	char *html;

	write_text(dir, "ingest/series.xml", series_xml);
	add_record(dir, "twin-ingest", TWIN_OK, NULL, warn, 1);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	assert_int_equal(nimg, 0);
	/* The summary says what is missing; each later stage says it has not run. */
	assert_non_null(strstr(html, "class=\"box notrun\""));
	assert_non_null(strstr(html, "Not finished"));
	assert_non_null(strstr(html, "twin-segment has not run"));
	assert_non_null(strstr(html, "twin-mesh has not run"));
	assert_non_null(strstr(html, "twin-export has not run"));
	assert_non_null(strstr(html, "ok, 1 warning"));
	assert_non_null(strstr(html, "slice 3 is missing: interpolated"));
	/* The series, anonymised: the hashed UID, never the raw one nor the patient. */
	assert_non_null(strstr(html, "h:3d09cee733c48587"));
	assert_non_null(strstr(html, "Acme &amp; Sons"));
	assert_null(strstr(html, "1.2.840.99.7"));
	assert_null(strstr(html, "DOE"));
	assert_null(strstr(html, "PID-4711"));
	assert_non_null(strstr(html, "leaves them out"));
	assert_false(twin_path_exists(twin_test_path(dir, "report/mesh-anterior.png")));
	free(html);

}

/* An empty folder: no manifest, nothing run, still a page. */
static void empty_case(void **state)
{
	struct twin_err err;
	size_t nimg;
	char *html;

	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, *state));
	html = read_report(*state, &nimg);
	assert_int_equal(nimg, 0);
	assert_non_null(strstr(html, "twin-ingest has not run"));
	assert_non_null(strstr(html, "no stage has run"));
	free(html);
}

/* A whole small case: a mesh, its quality, labels with a QC picture, one export. */
static void build_case(const char *dir)
{
	struct twin_tetmesh *m = two_cubes();
	struct twin_labels_file *lf;
	unsigned char rgb[3 * 40 * 30];
	struct twin_err err;

	twin_err_init(&err);
	write_text(dir, "ingest/series.xml", series_xml);
	add_record(dir, "twin-ingest", TWIN_OK, NULL, NULL, 0);
	lf = twin_labels_file_new(&err);
	assert_ptr_ok(err, lf);
	lf->entries[3].measured = 1;
	lf->entries[3].voxels = 1000;
	lf->entries[3].volume_ml = 123.4;
	assert_ok(err, twin_labels_save(&err, make_path(dir, "segment/labels.xml"), lf));
	twin_labels_file_free(lf);
	memset(rgb, 90, sizeof(rgb));
	assert_ok(err, twin_render_save_png(&err, make_path(dir, "segment/qc/axial.png"), rgb, 40, 30));
	add_record(dir, "twin-segment", TWIN_OK, NULL, NULL, 0);
	assert_ok(err, twin_msh_save(&err, make_path(dir, "mesh/heart.msh"), m, 0));
	write_text(dir, "mesh/quality.xml", quality_xml);
	add_record(dir, "twin-mesh", TWIN_OK, NULL, NULL, 0);
	write_text(dir, "export/vtu/README.txt", "twin-export target 'vtu'\nVTK XML for ParaView.\n\nUnits: mm\n");
	write_text(dir, "export/vtu/heart.vtu", "<VTKFile/>\n");
	write_text(dir, "export/vtu/surfaces/a<b>&\"c.vtp", "x");
	add_record(dir, "twin-export", TWIN_OK, NULL, NULL, 0);
	twin_tetmesh_free(m);
}

static void whole_case(void **state)
{
	const char *dir = *state;
	struct twin_err err;
	unsigned w, h;
	unsigned char *px;
	size_t nimg;
	char *html;

	build_case(dir);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	/* One QC picture and the two mesh views. */
	assert_int_equal(nimg, 3);
	assert_non_null(strstr(html, "src=\"segment/qc/axial.png\""));
	assert_non_null(strstr(html, "src=\"report/mesh-anterior.png\""));
	px = read_png(twin_test_path(dir, "report/mesh-anterior.png"), &w, &h);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
	free(px);
	assert_non_null(strstr(html, "class=\"box ok\""));
	/* The volume with its colour swatch, the failed requirement, the export's files. */
	assert_non_null(strstr(html, "background:#be1923"));
	assert_non_null(strstr(html, "123.4"));
	assert_non_null(strstr(html, "<tr class=\"fail\"><td>smallest dihedral angle"));
	assert_non_null(strstr(html, "href=\"export/vtu/heart.vtu\""));
	assert_non_null(strstr(html, "VTK XML for ParaView."));
	free(html);

	/* A later failed run of twin-mesh: red in the summary, its code and message. */
	add_record(dir, "twin-mesh", TWIN_EINPUT, "label map 'x': no heart", NULL, 0);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	assert_non_null(strstr(html, "class=\"box failed\""));
	assert_non_null(strstr(html, "exit code 3 (bad input): label map &#39;x&#39;: no heart"));
	assert_non_null(strstr(html, "The latest run of twin-mesh failed"));
	assert_non_null(strstr(html, "Earlier runs (1)"));
	assert_null(strstr(html, "out of date"));
	free(html);

	/* twin-segment again: the mesh and the exports may be out of date. */
	add_record(dir, "twin-segment", TWIN_OK, NULL, NULL, 0);
	add_record(dir, "twin-export", TWIN_EPARTIAL, "target 'openfoam': no inlet", NULL, 0);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	assert_non_null(strstr(html, "This may be out of date: twin-segment ran again after it"));
	assert_non_null(strstr(html, "The latest run of twin-export wrote only part of its outputs"));
	assert_non_null(strstr(html, "exit code 8 (partly failed): target &#39;openfoam&#39;: no inlet"));
	free(html);
}

/* Files that another tool wrote, with no run in the manifest; pictures of a mesh that is gone. */
static void files_without_a_run(void **state)
{
	const char *dir = *state;
	struct twin_labels_file *lf;
	struct twin_err err;
	size_t nimg;
	char *html;

	build_case(dir);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));
	assert_true(twin_path_exists(twin_test_path(dir, "report/mesh-posterior.png")));
	assert_int_equal(remove(twin_test_path(dir, "mesh/heart.msh")), 0);
	assert_int_equal(remove(twin_test_path(dir, "manifest.xml")), 0);
	lf = twin_labels_file_new(&err);
	assert_ptr_ok(err, lf);
	assert_ok(err, twin_labels_save(&err, make_path(dir, "segment/labels.xml"), lf));
	twin_labels_file_free(lf);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	assert_int_equal(nimg, 1);
	assert_non_null(strstr(html, "<span class=\"badge notrun\">no record</span>"));
	assert_non_null(strstr(html, "twin-mesh has not run"));
	assert_false(twin_path_exists(twin_test_path(dir, "report/mesh-posterior.png")));
	/* Not measured: no volume to show. */
	assert_non_null(strstr(html, "<td class=\"num\">—</td>"));
	free(html);
}

static void text_is_escaped(void **state)
{
	const char *dir = *state;
	static const char *const warn[] = { "<script>alert(\"x\")</script> & 'q'" };
	struct twin_err err;
	size_t nimg;
	char *html;

	build_case(dir);
	add_record(dir, "twin-export", TWIN_EINPUT, "cannot write 'a<b>': <i>full</i> & \"done\"", warn, 1);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));
	html = read_report(dir, &nimg);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<i>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
	assert_non_null(strstr(html, "cannot write &#39;a&lt;b&gt;&#39;: &lt;i&gt;full&lt;/i&gt; &amp; &quot;done&quot;"));
	/* A file name: escaped as text, percent-encoded as a link. */
	assert_non_null(strstr(html, ">surfaces/a&lt;b&gt;&amp;&quot;c.vtp</a>"));
	assert_non_null(strstr(html, "href=\"export/vtu/surfaces/a%3Cb%3E%26%22c.vtp\""));
	free(html);
}

static void corrupt_files_are_named(void **state)
{
	const char *dir = *state;
	struct twin_err err;
	char want[4200];
	size_t len;
	char *before, *after, *bad, *p;

	build_case(dir);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));
	before = twin_test_read_file(twin_test_path(dir, "report.html"), &len);

	/* Cut short: not XML. The page written before stays as it was. */
	write_text(dir, "mesh/quality.xml", "<?xml version=\"1.0\"?>\n<quality nodes=\"16\"\n");
	assert_int_equal(twin_report_write(&err, dir), -1);
	snprintf(want, sizeof(want), "quality '%s/mesh/quality.xml': line", dir);
	assert_err(err, TWIN_EINPUT, want);
	after = twin_test_read_file(twin_test_path(dir, "report.html"), &len);
	assert_string_equal(after, before);
	free(after);

	/* XML, but a number that is none: its schema says so. */
	bad = strdup(quality_xml);
	assert_non_null(bad);
	p = strstr(bad, "value=\"6.5\"");
	assert_non_null(p);
	p[7] = 'x';
	write_text(dir, "mesh/quality.xml", bad);
	free(bad);
	twin_err_init(&err);
	assert_int_equal(twin_report_write(&err, dir), -1);
	assert_err(err, TWIN_EINPUT, "mesh/quality.xml': line 4: element 'requirement', attribute 'value'");

	/* The manifest and labels.xml go through their validating loaders. */
	write_text(dir, "mesh/quality.xml", quality_xml);
	write_text(dir, "segment/labels.xml", "<labels version=\"1\"><label id=\"3\"/></labels>\n");
	twin_err_init(&err);
	assert_int_equal(twin_report_write(&err, dir), -1);
	snprintf(want, sizeof(want), "labels '%s/segment/labels.xml'", dir);
	assert_err(err, TWIN_EINPUT, want);
	write_text(dir, "manifest.xml", "<manifest version=\"1\"><record/></manifest>\n");
	twin_err_init(&err);
	assert_int_equal(twin_report_write(&err, dir), -1);
	snprintf(want, sizeof(want), "manifest '%s/manifest.xml'", dir);
	assert_err(err, TWIN_EINPUT, want);

	twin_err_init(&err);
	assert_int_equal(twin_report_write(&err, twin_test_path(dir, "absent")), -1);
	assert_err(err, TWIN_EIO, "absent");
	free(before);
}

/* Well-formed, but not what its schema allows: one line naming the file, the page left as it was. */
static void expect_invalid(const char *dir, const char *rel, const char *text, const char *what, int line,
			   const char *fault)
{
	struct twin_err err;
	char want[4200];
	char *before, *after;
	size_t len;

	before = twin_test_read_file(twin_test_path(dir, "report.html"), &len);
	write_text(dir, rel, text);
	twin_err_init(&err);
	assert_int_equal(twin_report_write(&err, dir), -1);
	snprintf(want, sizeof(want), "%s '%s/%s': line %d: %s", what, dir, rel, line, fault);
	assert_err(err, TWIN_EINPUT, want);
	assert_null(strchr(err.msg, '\n'));
	after = twin_test_read_file(twin_test_path(dir, "report.html"), &len);
	assert_string_equal(after, before);
	free(after);
	free(before);
}

/* quality_xml with the first from replaced by to. */
static char *quality_with(const char *from, const char *to)
{
	const char *p = strstr(quality_xml, from);
	char *s;

	assert_non_null(p);
	s = malloc(sizeof(quality_xml) + strlen(to));
	assert_non_null(s);
	sprintf(s, "%.*s%s%s", (int)(p - quality_xml), quality_xml, to, p + strlen(from));
	return s;
}

static void invalid_files_are_named(void **state)
{
	const char *dir = *state;
	struct twin_err err;
	char *bad;

	build_case(dir);
	twin_err_init(&err);
	assert_ok(err, twin_report_write(&err, dir));

	/* A region without its tetrahedra: the table would have shown a 0. */
	bad = quality_with(" tetrahedra=\"5\" volume_mm3", " volume_mm3");
	expect_invalid(dir, "mesh/quality.xml", bad, "quality", 7,
		       "element 'region': The attribute 'tetrahedra' is required but missing");
	free(bad);
	/* A requirement the schema does not know. */
	bad = quality_with("surface_distance_mm", "surface_smoothness");
	expect_invalid(dir, "mesh/quality.xml", bad, "quality", 6, "element 'requirement', attribute 'name'");
	free(bad);
	/* Another root element. */
	expect_invalid(dir, "mesh/quality.xml", "<?xml version=\"1.0\"?>\n<labels version=\"1\"/>\n", "quality",
		       2, "element 'labels'");
	write_text(dir, "mesh/quality.xml", quality_xml);

	/* A UID that is not hashed never reaches the page. */
	bad = strdup(series_xml);
	assert_non_null(bad);
	memcpy(strstr(bad, "h:9b1c07e2a4d6f380"), "1.2.840.99.7.1.2.3", 18);
	expect_invalid(dir, "ingest/series.xml", bad, "series", 4, "element 'selected', attribute 'study'");
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(render_two_cubes, setup, teardown),
		cmocka_unit_test_setup_teardown(render_edge_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(partial_case, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_case, setup, teardown),
		cmocka_unit_test_setup_teardown(files_without_a_run, setup, teardown),
		cmocka_unit_test_setup_teardown(whole_case, setup, teardown),
		cmocka_unit_test_setup_teardown(text_is_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_files_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_files_are_named, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
