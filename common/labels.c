#include "labels.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "xml.h"

#define WHAT "labels"
#define FORMAT_VERSION "1"
#define SPAN ((size_t)(TWIN_LABELS_MAP_MAX - TWIN_LABELS_MAP_MIN + 1))
#define LINE_MAX_LEN 1024

/*
 * The label table: TotalSegmentator's heartchambers_highres ids 0..7, and
 * 8, the RV wall that twin-mesh grows around the RV blood pool when
 * mesh.rv_wall > 0 (no segmentation gives it). A new label is one more row
 * here, with the next id.
 */
static const struct twin_label table[] = {
	{ 0, "background", "background", "BG", TWIN_LABEL_BACKGROUND, { 0, 0, 0 }, 0 },
	{ 1, "heart_myocardium", "LV myocardium", "LV_myo", TWIN_LABEL_WALL, { 196, 140, 92 }, 0 },
	{ 2, "heart_atrium_left", "left atrium", "LA", TWIN_LABEL_BLOOD, { 250, 150, 180 }, 0 },
	{ 3, "heart_ventricle_left", "left ventricle", "LV", TWIN_LABEL_BLOOD, { 190, 25, 35 }, 0 },
	{ 4, "heart_atrium_right", "right atrium", "RA", TWIN_LABEL_BLOOD, { 130, 200, 250 }, 0 },
	{ 5, "heart_ventricle_right", "right ventricle", "RV", TWIN_LABEL_BLOOD, { 40, 90, 220 }, 0 },
	{ 6, "aorta", "aorta", "Ao", TWIN_LABEL_BLOOD, { 230, 30, 120 }, 0 },
	{ 7, "pulmonary_artery", "pulmonary artery", "PA", TWIN_LABEL_BLOOD, { 30, 40, 130 }, 0 },
	{ 8, "heart_myocardium_right", "RV myocardium", "RV_myo", TWIN_LABEL_WALL, { 140, 110, 30 }, 1 },
};

#define NLABELS (sizeof(table) / sizeof(table[0]))

size_t twin_label_count(void)
{
	return NLABELS;
}

const struct twin_label *twin_label_by_id(long id)
{
	return id >= 0 && (size_t)id < NLABELS ? &table[id] : NULL;
}

const struct twin_label *twin_label_by_name(const char *name)
{
	for (size_t i = 0; i < NLABELS; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

const char *twin_label_kind_name(enum twin_label_kind kind)
{
	switch (kind) {
	case TWIN_LABEL_BACKGROUND: return "background";
	case TWIN_LABEL_WALL: return "wall";
	case TWIN_LABEL_BLOOD: return "blood";
	}
	return "unknown";
}

/* --- remap tables -------------------------------------------------------- */

struct twin_labels_map {
	char *name;
	int16_t target[SPAN];  /* by source - TWIN_LABELS_MAP_MIN; -1 when unmapped */
};

struct preset {
	const char *name;
	int pairs[8][2];
};

static const struct preset presets[] = {
	{ "totalsegmentator", { { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 }, { 6, 6 }, { 7, 7 } } },
	/* MM-WHS: LV myocardium, LA, LV, RA, RV blood cavities, ascending aorta, pulmonary artery. */
	{ "mmwhs", { { 205, 1 }, { 420, 2 }, { 500, 3 }, { 550, 4 }, { 600, 5 }, { 820, 6 }, { 850, 7 } } },
};

static struct twin_labels_map *map_alloc(struct twin_err *err, const char *name)
{
	struct twin_labels_map *map = malloc(sizeof(*map));

	if (map)
		map->name = strdup(name);
	if (!map || !map->name) {
		free(map);
		twin_err_set(err, TWIN_EFAIL, "label map '%s': out of memory", name);
		return NULL;
	}
	memset(map->target, 0xff, sizeof(map->target));
	return map;
}

void twin_labels_map_free(struct twin_labels_map *map)
{
	if (!map)
		return;
	free(map->name);
	free(map);
}

int twin_labels_map_get(const struct twin_labels_map *map, long source)
{
	if (source < TWIN_LABELS_MAP_MIN || source > TWIN_LABELS_MAP_MAX)
		return -1;
	return map->target[source - TWIN_LABELS_MAP_MIN];
}

/* Background stays background unless the map said otherwise. */
static void map_finish(struct twin_labels_map *map)
{
	if (map->target[-TWIN_LABELS_MAP_MIN] < 0)
		map->target[-TWIN_LABELS_MAP_MIN] = 0;
}

struct twin_labels_map *twin_labels_map_new(struct twin_err *err, const char *preset)
{
	struct twin_labels_map *map;

	for (size_t p = 0; p < sizeof(presets) / sizeof(presets[0]); p++) {
		if (strcmp(presets[p].name, preset) != 0)
			continue;
		map = map_alloc(err, preset);
		if (!map)
			return NULL;
		for (size_t i = 0; i < 8 && presets[p].pairs[i][0]; i++)
			map->target[presets[p].pairs[i][0] - TWIN_LABELS_MAP_MIN] = (int16_t)presets[p].pairs[i][1];
		map_finish(map);
		return map;
	}
	twin_err_set(err, TWIN_ECONFIG, "unknown label map '%s': use totalsegmentator, mmwhs or a .csv file",
		     preset);
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* A whole decimal number, optionally signed, nothing else. */
static int parse_long(const char *s, long *out)
{
	char *end = NULL;
	long v;

	if (!*s || !(isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

/* One data line of a CSV map, already trimmed and without its comment. */
static int csv_line(struct twin_err *err, struct twin_labels_map *map, int lineno, char *text,
		    const char *orig)
{
	const struct twin_label *target = NULL;
	char *comma = strchr(text, ',');
	char *src, *dst;
	long source, id;

	if (!comma || strchr(comma + 1, ','))
		return twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: expected 'source_id,target': '%s'",
				    map->name, lineno, orig);
	*comma = '\0';
	src = trim(text);
	dst = trim(comma + 1);
	if (parse_long(src, &source) != 0)
		return twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: source id '%s' is not a whole number: '%s'",
				    map->name, lineno, src, orig);
	if (source < TWIN_LABELS_MAP_MIN || source > TWIN_LABELS_MAP_MAX)
		return twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: source id %ld is outside %ld..%ld: '%s'",
				    map->name, lineno, source, TWIN_LABELS_MAP_MIN, TWIN_LABELS_MAP_MAX, orig);
	if (parse_long(dst, &id) == 0)
		target = twin_label_by_id(id);
	else
		target = twin_label_by_name(dst);
	if (!target)
		return twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: target '%s' is not a label id or name: '%s'",
				    map->name, lineno, dst, orig);
	if (map->target[source - TWIN_LABELS_MAP_MIN] >= 0)
		return twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: source id %ld is mapped twice: '%s'",
				    map->name, lineno, source, orig);
	map->target[source - TWIN_LABELS_MAP_MIN] = (int16_t)target->id;
	return 0;
}

/* Whether text is the optional first line "source_id,target". */
static int is_header(const char *text)
{
	char copy[LINE_MAX_LEN + 1];
	char *comma;

	snprintf(copy, sizeof(copy), "%s", text);
	comma = strchr(copy, ',');
	if (!comma)
		return 0;
	*comma = '\0';
	return strcmp(trim(copy), "source_id") == 0 && strcmp(trim(comma + 1), "target") == 0;
}

struct twin_labels_map *twin_labels_map_load_mem(struct twin_err *err, const char *name,
						 const void *buf, size_t len)
{
	struct twin_labels_map *map = map_alloc(err, name);
	const char *p = buf, *end = p + len;
	char line[LINE_MAX_LEN + 1], orig[LINE_MAX_LEN + 1];
	int lineno = 0, rows = 0;

	if (!map)
		return NULL;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;  /* the UTF-8 byte order mark that spreadsheets write */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char *hash, *text;

		lineno++;
		if (n > LINE_MAX_LEN) {
			twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: line is longer than %d bytes",
				     name, lineno, LINE_MAX_LEN);
			goto fail;
		}
		if (memchr(p, '\0', n)) {
			twin_err_set(err, TWIN_ECONFIG, "label map '%s':%d: line holds a NUL byte", name, lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		text = trim(line);
		if (!*text)
			continue;
		snprintf(orig, sizeof(orig), "%s", text);
		if (rows == 0 && is_header(text))
			continue;
		if (csv_line(err, map, lineno, text, orig) != 0)
			goto fail;
		rows++;
	}
	if (rows == 0) {
		twin_err_set(err, TWIN_ECONFIG, "label map '%s': no 'source_id,target' lines", name);
		goto fail;
	}
	map_finish(map);
	return map;
fail:
	twin_labels_map_free(map);
	return NULL;
}

struct twin_labels_map *twin_labels_map_load(struct twin_err *err, const char *path)
{
	struct twin_labels_map *map;
	size_t len = 0;
	void *buf = twin_file_read(err, path, &len);

	if (!buf) {
		twin_err_prefix(err, "label map");
		return NULL;
	}
	map = twin_labels_map_load_mem(err, path, buf, len);
	free(buf);
	return map;
}

/* --- counting ids -------------------------------------------------------- */

/* The id of voxel i of v; -1 when it is not a whole number in range. */
static int voxel_id(const struct twin_volume *v, size_t i, long *id)
{
	float f;

	switch (v->dtype) {
	case TWIN_U8:
		*id = ((const uint8_t *)v->data)[i];
		return 0;
	case TWIN_I16:
		*id = ((const int16_t *)v->data)[i];
		return 0;
	case TWIN_F32:
		f = ((const float *)v->data)[i];
		if (!(f >= (float)TWIN_LABELS_MAP_MIN && f <= (float)TWIN_LABELS_MAP_MAX) || floorf(f) != f)
			return -1;
		*id = (long)f;
		return 0;
	}
	return -1;
}

/* Voxel counts by id - TWIN_LABELS_MAP_MIN; calloc'd (free), NULL on error. */
static uint64_t *histogram(struct twin_err *err, const struct twin_volume *v)
{
	size_t n = twin_volume_count(v);
	uint64_t *count;

	if (v->dtype != TWIN_U8 && v->dtype != TWIN_I16 && v->dtype != TWIN_F32) {
		twin_err_set(err, TWIN_EUNSUPPORTED, "label volume: datatype %s cannot hold labels",
			     twin_dtype_name(v->dtype));
		return NULL;
	}
	count = calloc(SPAN, sizeof(*count));
	if (!count) {
		twin_err_set(err, TWIN_EFAIL, "label volume: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		long id;

		if (voxel_id(v, i, &id) != 0) {
			size_t x = i % v->dim[0], y = i / v->dim[0] % v->dim[1], z = i / v->dim[0] / v->dim[1];

			twin_err_set(err, TWIN_EINPUT, "label volume: voxel (%zu, %zu, %zu) holds %g, not a label id",
				     x, y, z, (double)((const float *)v->data)[i]);
			free(count);
			return NULL;
		}
		count[id - TWIN_LABELS_MAP_MIN]++;
	}
	return count;
}

/*
 * Sets "<head>: id 421 (1200 voxels), id 999 (3 voxels) <verb> <tail>" for
 * the ids with voxels that known() rejects; returns 0 when there is none.
 */
static int report_unknown(struct twin_err *err, const uint64_t *count, const char *head, const char *tail,
			  int (*known)(const void *ctx, long id), const void *ctx)
{
	char list[TWIN_ERR_MSG_MAX] = "";
	size_t used = 0, shown = 0, more = 0;

	for (size_t s = 0; s < SPAN; s++) {
		long id = (long)s + TWIN_LABELS_MAP_MIN;

		if (!count[s] || known(ctx, id))
			continue;
		if (shown < 6) {
			int w = snprintf(list + used, sizeof(list) - used, "%sid %ld (%llu voxel%s)",
					 shown ? ", " : "", id, (unsigned long long)count[s], count[s] == 1 ? "" : "s");
			if (w > 0 && (size_t)w < sizeof(list) - used)
				used += (size_t)w;
			shown++;
		} else {
			more++;
		}
	}
	if (!shown)
		return 0;
	if (more)
		return twin_err_set(err, TWIN_EINPUT, "%s: %s and %zu more ids have %s", head, list, more, tail);
	return twin_err_set(err, TWIN_EINPUT, "%s: %s %s %s", head, list, shown == 1 ? "has" : "have", tail);
}

static int map_knows(const void *ctx, long id)
{
	return twin_labels_map_get(ctx, id) >= 0;
}

struct twin_volume *twin_labels_remap(struct twin_err *err, const struct twin_labels_map *map,
				      const struct twin_volume *v)
{
	struct twin_volume *out = NULL;
	uint64_t *count = histogram(err, v);
	char head[TWIN_ERR_MSG_MAX];
	size_t n;

	if (!count)
		return NULL;
	snprintf(head, sizeof(head), "label map '%s'", map->name);
	if (report_unknown(err, count, head, "no mapping", map_knows, map) != 0)
		goto out;
	out = twin_volume_new(err, TWIN_U8, v->dim, &v->affine);
	if (!out)
		goto out;
	n = twin_volume_count(v);
	for (size_t i = 0; i < n; i++) {
		long id = 0;

		voxel_id(v, i, &id);
		((uint8_t *)out->data)[i] = (uint8_t)map->target[id - TWIN_LABELS_MAP_MIN];
	}
out:
	free(count);
	return out;
}

/* --- labels.xml ---------------------------------------------------------- */

struct twin_labels_file *twin_labels_file_new(struct twin_err *err)
{
	struct twin_labels_file *lf = calloc(1, sizeof(*lf));

	if (lf)
		lf->entries = calloc(NLABELS, sizeof(*lf->entries));
	if (!lf || !lf->entries) {
		free(lf);
		twin_err_set(err, TWIN_EFAIL, WHAT ": out of memory");
		return NULL;
	}
	for (size_t i = 0; i < NLABELS; i++) {
		lf->entries[i].label = &table[i];
		memcpy(lf->entries[i].rgb, table[i].rgb, 3);
	}
	lf->count = NLABELS;
	return lf;
}

void twin_labels_file_free(struct twin_labels_file *lf)
{
	if (!lf)
		return;
	free(lf->entries);
	free(lf);
}

static int file_knows(const void *ctx, long id)
{
	const struct twin_labels_file *lf = ctx;

	for (size_t i = 0; i < lf->count; i++)
		if ((long)lf->entries[i].label->id == id)
			return 1;
	return 0;
}

int twin_labels_measure(struct twin_err *err, struct twin_labels_file *lf, const struct twin_volume *v)
{
	const double (*m)[4] = v->affine.m;
	double det, voxel_ml;
	uint64_t *count = histogram(err, v);
	int rc = -1;

	if (!count)
		return -1;
	if (report_unknown(err, count, "label volume", "no row in the label table", file_knows, lf) != 0)
		goto out;
	det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
	      m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
	      m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
	voxel_ml = fabs(det) / 1000.0;
	for (size_t i = 0; i < lf->count; i++) {
		struct twin_labels_entry *e = &lf->entries[i];

		e->voxels = count[(long)e->label->id - TWIN_LABELS_MAP_MIN];
		e->volume_ml = (double)e->voxels * voxel_ml;
		e->measured = 1;
	}
	rc = 0;
out:
	free(count);
	return rc;
}

static int parse_colour(const char *s, unsigned char rgb[3])
{
	unsigned int r, g, b;
	char end;

	if (!s || strlen(s) != 7 || sscanf(s, "#%2x%2x%2x%c", &r, &g, &b, &end) != 3 ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != 6)
		return -1;
	rgb[0] = (unsigned char)r;
	rgb[1] = (unsigned char)g;
	rgb[2] = (unsigned char)b;
	return 0;
}

static int read_entry(struct twin_err *err, const char *name, xmlNode *node, struct twin_labels_entry *e)
{
	long line = xmlGetLineNo(node);
	char *label_name = twin_xml_attr(node, "name", NULL);
	char *colour = twin_xml_attr(node, "color", NULL);
	int has_voxels = xmlHasProp(node, (const xmlChar *)"voxels") != NULL;
	int has_ml = xmlHasProp(node, (const xmlChar *)"volume_ml") != NULL;
	uint64_t id = 0;
	int rc = -1;

	if (twin_xml_attr_u64(err, WHAT, name, node, "id", &id) != 0)
		goto out;
	e->label = id < (uint64_t)NLABELS ? twin_label_by_id((long)id) : NULL;
	if (!e->label) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: id %llu is not in the label table (0..%zu)",
			     name, line, (unsigned long long)id, NLABELS - 1);
		goto out;
	}
	if (!label_name || strcmp(label_name, e->label->name) != 0) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: label %llu is named '%s', the table says '%s'",
			     name, line, (unsigned long long)id, label_name ? label_name : "", e->label->name);
		goto out;
	}
	if (parse_colour(colour, e->rgb) != 0) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: colour '%s' is not #rrggbb",
			     name, line, colour ? colour : "");
		goto out;
	}
	if (has_voxels != has_ml) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: label '%s' has %s but no %s", name, line,
			     e->label->name, has_voxels ? "voxels" : "volume_ml", has_voxels ? "volume_ml" : "voxels");
		goto out;
	}
	if (has_voxels) {
		if (twin_xml_attr_u64(err, WHAT, name, node, "voxels", &e->voxels) != 0 ||
		    twin_xml_attr_double(err, WHAT, name, node, "volume_ml", &e->volume_ml) != 0)
			goto out;
		e->measured = 1;
	}
	rc = 0;
out:
	free(label_name);
	free(colour);
	return rc;
}

struct twin_labels_file *twin_labels_load_mem(struct twin_err *err, const char *name,
					      const void *buf, size_t len)
{
	struct twin_labels_file *lf = NULL;
	xmlDoc *doc = twin_xml_load_mem(err, WHAT, name, buf, len);
	xmlNode *root, *n;
	size_t count = 0;

	if (!doc || twin_xml_validate(err, WHAT, name, doc, twin_labels_xsd) != 0)
		goto fail;
	root = xmlDocGetRootElement(doc);
	for (n = twin_xml_next(root->children, "label"); n; n = twin_xml_next(n->next, "label"))
		count++;
	lf = calloc(1, sizeof(*lf));
	if (lf)
		lf->entries = calloc(count ? count : 1, sizeof(*lf->entries));
	if (!lf || !lf->entries) {
		twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", name);
		goto fail;
	}
	for (n = twin_xml_next(root->children, "label"); n; n = twin_xml_next(n->next, "label"))
		if (read_entry(err, name, n, &lf->entries[lf->count++]) != 0)
			goto fail;
	xmlFreeDoc(doc);
	return lf;
fail:
	twin_labels_file_free(lf);
	xmlFreeDoc(doc);
	return NULL;
}

struct twin_labels_file *twin_labels_load(struct twin_err *err, const char *path)
{
	struct twin_labels_file *lf;
	size_t len = 0;
	void *buf = twin_file_read(err, path, &len);

	if (!buf) {
		twin_err_prefix(err, WHAT);
		return NULL;
	}
	lf = twin_labels_load_mem(err, path, buf, len);
	free(buf);
	return lf;
}

static int set_prop(xmlNode *node, const char *name, const char *value)
{
	return xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -1;
}

int twin_labels_save(struct twin_err *err, const char *path, const struct twin_labels_file *lf)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"labels", NULL) : NULL;
	int rc = -1;

	if (!root)
		goto nomem;
	xmlDocSetRootElement(doc, root);
	if (set_prop(root, "version", FORMAT_VERSION) != 0)
		goto nomem;
	for (size_t i = 0; i < lf->count; i++) {
		const struct twin_labels_entry *e = &lf->entries[i];
		xmlNode *n = xmlNewChild(root, NULL, (const xmlChar *)"label", NULL);
		char id[16], colour[8], voxels[32], ml[64];

		snprintf(id, sizeof(id), "%u", e->label->id);
		snprintf(colour, sizeof(colour), "#%02x%02x%02x", e->rgb[0], e->rgb[1], e->rgb[2]);
		if (!n || set_prop(n, "id", id) != 0 || set_prop(n, "name", e->label->name) != 0 ||
		    set_prop(n, "short", e->label->short_name) != 0 ||
		    set_prop(n, "display", e->label->display) != 0 ||
		    set_prop(n, "kind", twin_label_kind_name(e->label->kind)) != 0 ||
		    set_prop(n, "color", colour) != 0)
			goto nomem;
		if (!e->measured)
			continue;
		snprintf(voxels, sizeof(voxels), "%llu", (unsigned long long)e->voxels);
		snprintf(ml, sizeof(ml), "%.6f", e->volume_ml);
		if (set_prop(n, "voxels", voxels) != 0 || set_prop(n, "volume_ml", ml) != 0)
			goto nomem;
	}
	rc = twin_xml_save(err, WHAT, path, doc, twin_labels_xsd);
	goto out;
nomem:
	twin_err_set(err, TWIN_EFAIL, "cannot write " WHAT " '%s': out of memory", path);
out:
	xmlFreeDoc(doc);
	return rc;
}
