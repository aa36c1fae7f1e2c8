#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "files.h"

enum type { T_BOOL, T_INT, T_DOUBLE, T_STRING, T_ENUM, T_LIST };

/* A number key with this flag also accepts 0, meaning "use the general key". */
#define F_ZERO 1u

struct key {
	const char *name;    /* full name, "section.key" */
	enum type type;
	double min, max;     /* numbers only */
	const char *def;     /* default, as it is written in pipeline.conf */
	const char *choices; /* enum and list: "a,b,c" */
	const char *unit;    /* "mm", "degrees", or NULL */
	unsigned flags;
	const char *help;    /* one line */
};

struct section {
	const char *name;
	const char *help;
};

static const struct section sections[] = {
	{ "ingest", "twin-ingest: the DICOM study to image.nii.gz and series.xml" },
	{ "segment", "twin-segment: image.nii.gz to labels.nii.gz" },
	{ "mesh", "twin-mesh: labels.nii.gz to heart.msh" },
	{ "export", "twin-export: heart.msh to the solvers' input files" },
	{ "fibres", "twin-export: rule-based fibre directions in the myocardium" },
};

#define LABEL_SIZE(label) \
	{ "mesh.size." label, T_DOUBLE, 0.2, 10, "0", NULL, "mm", F_ZERO, \
	  "edge length inside " label "; 0 uses mesh.size" }

/* Every key, once. The documented pipeline.conf follows this order. */
static const struct key keys[] = {
	{ "ingest.series", T_STRING, 0, 0, "", NULL, NULL, 0,
	  "series to use: a series number, a SeriesInstanceUID or a description pattern with * and ?; empty chooses automatically" },
	{ "ingest.phase", T_STRING, 0, 0, "75%", NULL, NULL, 0,
	  "cardiac phase: a percent of the R-R interval (\"75%\") or a 0-based phase index (\"3\")" },
	{ "ingest.all_phases", T_BOOL, 0, 0, "false", NULL, NULL, 0,
	  "convert every cardiac phase, not only ingest.phase" },
	{ "ingest.uneven", T_ENUM, 0, 0, "resample", "resample,error", NULL, 0,
	  "unevenly spaced slices: resample them to even spacing, or fail" },
	{ "ingest.keep_phi", T_BOOL, 0, 0, "false", NULL, NULL, 0,
	  "keep patient names, IDs and dates in the outputs instead of removing them" },
	{ "ingest.threads", T_INT, 0, 256, "0", NULL, NULL, 0,
	  "worker threads; 0 uses every core" },

	{ "segment.spacing", T_DOUBLE, 0.3, 3, "1.0", NULL, "mm", 0,
	  "voxel size the image is resampled to before segmentation" },
	{ "segment.partial", T_ENUM, 0, 0, "error", "error,allow", NULL, 0,
	  "a heart cut by the edge of the image: fail, or segment what is there" },
	{ "segment.seeds", T_STRING, 0, 0, "", NULL, NULL, 0,
	  "file of seed points that guide the segmentation; empty uses none" },

	{ "mesh.size", T_DOUBLE, 0.2, 10, "1.5", NULL, "mm", 0,
	  "target edge length of the tetrahedra" },
	LABEL_SIZE("heart_myocardium"),
	LABEL_SIZE("heart_atrium_left"),
	LABEL_SIZE("heart_ventricle_left"),
	LABEL_SIZE("heart_atrium_right"),
	LABEL_SIZE("heart_ventricle_right"),
	LABEL_SIZE("aorta"),
	LABEL_SIZE("pulmonary_artery"),
	LABEL_SIZE("heart_myocardium_right"),
	{ "mesh.labels", T_ENUM, 0, 0, "all", "all,blood,myocardium", NULL, 0,
	  "labels that become mesh regions: all, the blood pools only, or the myocardium only" },
	{ "mesh.vessel_length", T_DOUBLE, 0, 500, "0", NULL, "mm", 0,
	  "length of each vessel (aorta, pulmonary artery, pulmonary veins, venae cavae) kept beyond its valve or chamber; 0 keeps all that is in the image" },
	{ "mesh.max_tets", T_INT, 1000, 100000000, "5000000", NULL, NULL, 0,
	  "fail rather than write a mesh with more tetrahedra than this" },
	{ "mesh.smooth_iterations", T_INT, 0, 200, "20", NULL, NULL, 0,
	  "smoothing passes over the label surfaces before meshing" },
	{ "mesh.rv_wall", T_DOUBLE, 0, 6, "0", NULL, "mm", 0,
	  "thickness of a right-ventricle wall grown around the RV blood pool; 0 grows none" },

	{ "export.targets", T_LIST, 0, 0, "all",
	  "vtu,svmp,abaqus,febio,opencarp,openfoam,xdmf,msh22", NULL, 0,
	  "solver formats to write, comma separated, or all of them" },

	{ "fibres.alpha_endo", T_DOUBLE, -90, 90, "60", NULL, "degrees", 0,
	  "fibre helix angle at the endocardium" },
	{ "fibres.alpha_epi", T_DOUBLE, -90, 90, "-60", NULL, "degrees", 0,
	  "fibre helix angle at the epicardium" },
	{ "fibres.beta_endo", T_DOUBLE, -90, 90, "-65", NULL, "degrees", 0,
	  "sheet angle at the endocardium" },
	{ "fibres.beta_epi", T_DOUBLE, -90, 90, "25", NULL, "degrees", 0,
	  "sheet angle at the epicardium" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* The longest line echoed in an error message. */
#define ECHO_MAX 160

struct val {
	char *text;   /* the value as text, owned */
	char *origin; /* "name:line" or "--set", owned; NULL for the default */
	long i;       /* bool and int */
	double d;
	unsigned list; /* bit i: choice i */
};

struct twin_conf {
	struct val v[NKEYS];
};

static int find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int find_section(const char *name)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(sections[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* 1 when key lies in section. */
static int in_section(const struct key *k, const char *section)
{
	size_t n = strlen(section);

	return strncmp(k->name, section, n) == 0 && k->name[n] == '.';
}

/* Index of item[0..n) in the comma-separated choices, or -1. */
static int find_choice(const char *choices, const char *item, size_t n)
{
	int i = 0;

	for (const char *c = choices; *c; i++) {
		size_t len = strcspn(c, ",");
		if (len == n && strncmp(c, item, n) == 0)
			return i;
		c += len;
		if (*c == ',')
			c++;
	}
	return -1;
}

/* Levenshtein distance, or a large number for names too long to be typos. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t row[64];
	size_t la = strlen(a), lb = strlen(b);

	if (la >= 64 || lb >= 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The declared key closest to an unknown full name, or NULL. */
static const char *suggest_key(const char *name)
{
	const char *dot = strchr(name, '.');
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(name, keys[i].name);
		/* the right key in the wrong section */
		if (dot && strcmp(dot, strchr(keys[i].name, '.')) == 0)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best;
}

static const char *suggest_section(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < NSECTIONS; i++) {
		size_t d = edit_distance(name, sections[i].name);
		if (d < best_d) {
			best_d = d;
			best = sections[i].name;
		}
	}
	return best;
}

/* ingest.phase: "40%" or "37.5%" below 100, or a phase index "3". */
static int parse_phase(const char *s, struct twin_phase *out)
{
	size_t digits = strspn(s, "0123456789");
	size_t frac = 0;

	if (digits == 0 || digits > 6)
		return -1;
	if (s[digits] == '\0') {
		out->is_percent = 0;
		out->index = strtol(s, NULL, 10);
		out->percent = 0;
		return 0;
	}
	if (s[digits] == '.') {
		frac = strspn(s + digits + 1, "0123456789");
		if (frac == 0)
			return -1;
		frac++;
	}
	if (strcmp(s + digits + frac, "%") != 0)
		return -1;
	out->is_percent = 1;
	out->index = 0;
	out->percent = strtod(s, NULL);
	return out->percent < 100 ? 0 : -1;
}

static void range_text(const struct key *k, char *buf, size_t n)
{
	snprintf(buf, n, "%s%.15g to %.15g%s%s", k->flags & F_ZERO ? "0, or " : "",
		 k->min, k->max, k->unit ? " " : "", k->unit ? k->unit : "");
}

/* Writes "a, b, c" for the comma-separated choices. */
static void choices_text(const char *choices, char *buf, size_t n)
{
	size_t o = 0;

	for (const char *c = choices; *c && o + 3 < n; c++) {
		buf[o++] = *c;
		if (*c == ',')
			buf[o++] = ' ';
	}
	buf[o < n ? o : n - 1] = '\0';
}

static int parse_bool(const char *s, long *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* 1 when s is a plain decimal number (no hex, inf, nan or spaces). */
static int is_decimal(const char *s)
{
	return *s && strspn(s, "0123456789.eE+-") == strlen(s);
}

static int parse_list(const struct key *k, const char *s, unsigned *out, char *why, size_t n)
{
	char choices[256];
	const char *p = s;

	*out = 0;
	choices_text(k->choices, choices, sizeof(choices));
	if (strcmp(s, "all") == 0) {
		*out = ~0u;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		int c;

		while (len && isspace((unsigned char)*item)) {
			item++;
			len--;
		}
		while (len && isspace((unsigned char)item[len - 1]))
			len--;
		c = len ? find_choice(k->choices, item, len) : -1;
		if (len == 0) {
			snprintf(why, n, "has an empty item (use all, or names from: %s)", choices);
			return -1;
		}
		if (len == 3 && strncmp(item, "all", 3) == 0) {
			snprintf(why, n, "mixes 'all' with other names");
			return -1;
		}
		if (c < 0) {
			snprintf(why, n, "names '%.*s', which is not one of all, %s",
				 (int)(len > 64 ? 64 : len), item, choices);
			return -1;
		}
		if (*out & (1u << c)) {
			snprintf(why, n, "names '%.*s' twice", (int)len, item);
			return -1;
		}
		*out |= 1u << c;
		p = item + len;
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

/* The chosen names in table order, "vtu,febio". */
static void list_text(const char *choices, unsigned list, char *buf, size_t n)
{
	size_t o = 0;
	int i = 0;

	buf[0] = '\0';
	for (const char *c = choices; *c; i++) {
		size_t len = strcspn(c, ",");
		if ((list & (1u << i)) && o + len + 2 < n) {
			if (o)
				buf[o++] = ',';
			memcpy(buf + o, c, len);
			o += len;
			buf[o] = '\0';
		}
		c += len;
		if (*c == ',')
			c++;
	}
}

/*
 * Checks s against k and fills out (text owned). Returns 0, -1 with why set
 * ("is out of range ..."), or -2 when out of memory.
 */
static int parse_value(const struct key *k, const char *s, struct val *out, char *why, size_t n)
{
	char buf[256];
	char *end = NULL;
	double d = 0;

	memset(out, 0, sizeof(*out));
	switch (k->type) {
	case T_BOOL:
		if (parse_bool(s, &out->i) != 0) {
			snprintf(why, n, "is not true or false (or yes, no, on, off, 1, 0)");
			return -1;
		}
		s = out->i ? "true" : "false";
		break;
	case T_INT:
	case T_DOUBLE:
		errno = 0;
		if (is_decimal(s))
			d = strtod(s, &end);
		if (!end || *end || errno == ERANGE || !isfinite(d)) {
			snprintf(why, n, "is not a number");
			return -1;
		}
		if (k->type == T_INT && d != floor(d)) {
			snprintf(why, n, "is not a whole number");
			return -1;
		}
		if ((d < k->min || d > k->max) && !(d == 0 && (k->flags & F_ZERO))) {
			range_text(k, buf, sizeof(buf));
			snprintf(why, n, "is out of range (%s)", buf);
			return -1;
		}
		out->d = d;
		out->i = (long)d;
		break;
	case T_STRING:
		if (strcmp(k->name, "ingest.phase") == 0) {
			struct twin_phase ph;
			if (parse_phase(s, &ph) != 0) {
				snprintf(why, n, "is neither a percent below 100 (\"75%%\") nor a phase index (\"3\")");
				return -1;
			}
		}
		break;
	case T_ENUM:
		if (find_choice(k->choices, s, strlen(s)) < 0) {
			choices_text(k->choices, buf, sizeof(buf));
			snprintf(why, n, "is not one of %s", buf);
			return -1;
		}
		break;
	case T_LIST:
		if (parse_list(k, s, &out->list, why, n) != 0)
			return -1;
		if (out->list != ~0u) {
			list_text(k->choices, out->list, buf, sizeof(buf));
			s = buf;
		}
		break;
	}
	out->text = strdup(s);
	return out->text ? 0 : -2;
}

static void val_release(struct val *v)
{
	free(v->text);
	free(v->origin);
	memset(v, 0, sizeof(*v));
}

/*
 * Takes the value out of s[0..n): trims it, removes enclosing double quotes
 * and, when comments is set, a trailing " # comment". Returns a malloc'd
 * string, or NULL with why set (why empty when out of memory).
 */
static char *unquote(const char *s, size_t n, int comments, char *why, size_t wn)
{
	const char *end;
	char *out;

	why[0] = '\0';
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	if (n && *s == '"') {
		const char *close = memchr(s + 1, '"', n - 1);
		const char *rest;
		if (!close) {
			snprintf(why, wn, "unterminated quote");
			return NULL;
		}
		rest = close + 1;
		while (rest < s + n && isspace((unsigned char)*rest))
			rest++;
		if (rest < s + n && !(comments && (*rest == '#' || *rest == ';'))) {
			snprintf(why, wn, "text after the closing quote");
			return NULL;
		}
		s++;
		n = (size_t)(close - s);
	} else {
		if (comments) {
			for (size_t i = 0; i < n; i++) {
				if (s[i] == '#' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
					n = i;
					break;
				}
			}
		}
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		if (memchr(s, '"', n)) {
			snprintf(why, wn, "a '\"' may only enclose a whole value");
			return NULL;
		}
	}
	end = s + n;
	for (const char *p = s; p < end; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			snprintf(why, wn, "control character in the value");
			return NULL;
		}
		if (*p == 0x7f) {
			snprintf(why, wn, "control character in the value");
			return NULL;
		}
	}
	out = malloc(n + 1);
	if (!out)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

struct twin_conf *twin_conf_new(struct twin_err *err)
{
	struct twin_conf *conf = calloc(1, sizeof(*conf));
	char why[256];

	if (!conf) {
		twin_err_set(err, TWIN_EFAIL, "cannot make the settings: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		int rc = parse_value(&keys[i], keys[i].def, &conf->v[i], why, sizeof(why));
		if (rc != 0) {
			if (rc == -1)
				twin_err_set(err, TWIN_EFAIL, "default of '%s' %s", keys[i].name, why);
			else
				twin_err_set(err, TWIN_EFAIL, "cannot make the settings: out of memory");
			twin_conf_free(conf);
			return NULL;
		}
	}
	return conf;
}

void twin_conf_free(struct twin_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		val_release(&conf->v[i]);
	free(conf);
}

/* Sets "name:line: msg: line" (the line cut to ECHO_MAX bytes). Returns -1. */
static int line_error(struct twin_err *err, const char *name, size_t lineno,
		      const char *line, size_t len, const char *msg)
{
	return twin_err_set(err, TWIN_ECONFIG, "%s:%zu: %s: %.*s%s", name, lineno, msg,
			    (int)(len > ECHO_MAX ? ECHO_MAX : len), line, len > ECHO_MAX ? "..." : "");
}

/* "unknown key 'x'", with a suggestion when one is close. */
static void unknown_key_text(const char *key, char *buf, size_t n)
{
	const char *hint = suggest_key(key);

	if (hint)
		snprintf(buf, n, "unknown key '%s' (did you mean '%s'?)", key, hint);
	else
		snprintf(buf, n, "unknown key '%s'", key);
}

/* Parser state for one load. */
struct loader {
	struct twin_err *err;
	const char *name;
	struct val pending[NKEYS];
	size_t first_line[NKEYS]; /* where a key was set in this load, 0 if not */
	int section;              /* index in sections[], -1 before the first */
};

/* One "[section]" line; s[0] is '['. */
static int load_section(struct loader *ld, size_t lineno, const char *line, size_t len,
			const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	const char *name = s + 1;
	char msg[512];
	char sec[64];
	size_t sn;
	int idx;

	if (!close)
		return line_error(ld->err, ld->name, lineno, line, len, "missing ']'");
	for (const char *p = close + 1; p < s + n; p++) {
		if (*p == '#' || *p == ';')
			break;
		if (!isspace((unsigned char)*p))
			return line_error(ld->err, ld->name, lineno, line, len, "text after ']'");
	}
	sn = (size_t)(close - name);
	while (sn && isspace((unsigned char)*name)) {
		name++;
		sn--;
	}
	while (sn && isspace((unsigned char)name[sn - 1]))
		sn--;
	snprintf(sec, sizeof(sec), "%.*s", (int)(sn < sizeof(sec) ? sn : sizeof(sec) - 1), name);
	idx = sn < sizeof(sec) ? find_section(sec) : -1;
	if (idx < 0) {
		const char *hint = sn < sizeof(sec) ? suggest_section(sec) : NULL;
		if (hint)
			snprintf(msg, sizeof(msg), "unknown section '%.*s' (did you mean '%s'?)",
				 (int)(sn > 64 ? 64 : sn), name, hint);
		else
			snprintf(msg, sizeof(msg), "unknown section '%.*s'", (int)(sn > 64 ? 64 : sn), name);
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	ld->section = idx;
	return 0;
}

/* One "key = value" line. */
static int load_pair(struct loader *ld, size_t lineno, const char *line, size_t len,
		     const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	char msg[768], why[512], full[128];
	size_t kn;
	char *value = NULL;
	struct val v;
	int k, rc;

	if (!eq)
		return line_error(ld->err, ld->name, lineno, line, len,
				  "expected 'key = value' or '[section]'");
	kn = (size_t)(eq - s);
	while (kn && isspace((unsigned char)s[kn - 1]))
		kn--;
	if (kn == 0)
		return line_error(ld->err, ld->name, lineno, line, len, "missing key before '='");
	if (ld->section < 0) {
		snprintf(msg, sizeof(msg), "key '%.*s' comes before any [section]",
			 (int)(kn > 64 ? 64 : kn), s);
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	if (kn > 64) {
		snprintf(msg, sizeof(msg), "unknown key '%s.%.64s...'", sections[ld->section].name, s);
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	snprintf(full, sizeof(full), "%s.%.*s", sections[ld->section].name, (int)kn, s);
	k = find_key(full);
	if (k < 0) {
		unknown_key_text(full, msg, sizeof(msg));
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	if (ld->first_line[k]) {
		snprintf(msg, sizeof(msg), "duplicate key '%s' (first set on line %zu)",
			 full, ld->first_line[k]);
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	value = unquote(eq + 1, (size_t)(s + n - eq - 1), 1, why, sizeof(why));
	if (!value && !why[0])
		return twin_err_set(ld->err, TWIN_EFAIL, "cannot read '%s': out of memory", ld->name);
	if (!value) {
		snprintf(msg, sizeof(msg), "'%s': %s", full, why);
		return line_error(ld->err, ld->name, lineno, line, len, msg);
	}
	rc = parse_value(&keys[k], value, &v, why, sizeof(why));
	if (rc == 0) {
		char origin[64];
		snprintf(origin, sizeof(origin), ":%zu", lineno);
		v.origin = malloc(strlen(ld->name) + strlen(origin) + 1);
		if (!v.origin) {
			val_release(&v);
			rc = -2;
		} else {
			strcpy(v.origin, ld->name);
			strcat(v.origin, origin);
		}
	}
	if (rc == -1) {
		snprintf(msg, sizeof(msg), "'%s' = '%.*s' %s", full, 64, value, why);
		line_error(ld->err, ld->name, lineno, line, len, msg);
	} else if (rc == -2) {
		twin_err_set(ld->err, TWIN_EFAIL, "cannot read '%s': out of memory", ld->name);
	} else {
		ld->pending[k] = v;
		ld->first_line[k] = lineno;
	}
	free(value);
	return rc == 0 ? 0 : -1;
}

static int load_line(struct loader *ld, size_t lineno, const char *line, size_t len)
{
	const char *s = line;
	size_t n = len;

	if (memchr(line, '\0', len))
		return twin_err_set(ld->err, TWIN_ECONFIG, "%s:%zu: NUL byte in the line", ld->name, lineno);
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return load_section(ld, lineno, line, len, s, n);
	return load_pair(ld, lineno, line, len, s, n);
}

static int load_mem(struct twin_err *err, struct twin_conf *conf, const char *name,
		    const char *text, size_t len)
{
	struct loader *ld = calloc(1, sizeof(*ld));
	const char *p = text, *end = text + len;
	size_t lineno = 0;
	int rc = -1;

	if (!ld)
		return twin_err_set(err, TWIN_EFAIL, "cannot read '%s': out of memory", name);
	ld->err = err;
	ld->name = name;
	ld->section = -1;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (load_line(ld, lineno, p, n) != 0)
			goto out;
		p = nl ? nl + 1 : end;
	}
	/* Everything parsed: only now replace the current values. */
	for (size_t i = 0; i < NKEYS; i++) {
		if (!ld->pending[i].text)
			continue;
		val_release(&conf->v[i]);
		conf->v[i] = ld->pending[i];
		memset(&ld->pending[i], 0, sizeof(ld->pending[i]));
	}
	rc = 0;
out:
	for (size_t i = 0; i < NKEYS; i++)
		val_release(&ld->pending[i]);
	free(ld);
	return rc;
}

int twin_conf_load_string(struct twin_err *err, struct twin_conf *conf,
			  const char *name, const char *text)
{
	return load_mem(err, conf, name, text, strlen(text));
}

int twin_conf_load_file(struct twin_err *err, struct twin_conf *conf, const char *path)
{
	size_t len = 0;
	char *text = twin_file_read(err, path, &len);
	int rc;

	if (!text)
		return -1;
	rc = load_mem(err, conf, path, text, len);
	free(text);
	return rc;
}

/*
 * Sets key k to the text value, noting origin. Errors: "'key' = 'value'
 * must be ...", or out of memory.
 */
static int set_key(struct twin_err *err, struct twin_conf *conf, int k, const char *value,
		   const char *origin)
{
	char why[512];
	struct val v;
	int rc = parse_value(&keys[k], value, &v, why, sizeof(why));

	if (rc == -1)
		return twin_err_set(err, TWIN_ECONFIG, "'%s' = '%s' %s", keys[k].name, value, why);
	if (rc == 0 && !(v.origin = strdup(origin))) {
		val_release(&v);
		rc = -2;
	}
	if (rc != 0)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	val_release(&conf->v[k]);
	conf->v[k] = v;
	return 0;
}

int twin_conf_set(struct twin_err *err, struct twin_conf *conf, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *key = arg;
	char msg[768], why[512], full[128];
	char *value = NULL;
	size_t kn;
	int k, rc;

	if (!eq)
		return twin_err_set(err, TWIN_ECONFIG, "--set '%s': expected section.key=value", arg);
	kn = (size_t)(eq - arg);
	while (kn && isspace((unsigned char)*key)) {
		key++;
		kn--;
	}
	while (kn && isspace((unsigned char)key[kn - 1]))
		kn--;
	if (kn == 0)
		return twin_err_set(err, TWIN_ECONFIG, "--set '%s': missing key before '='", arg);
	if (kn >= sizeof(full))
		return twin_err_set(err, TWIN_ECONFIG, "--set '%s': unknown key", arg);
	snprintf(full, sizeof(full), "%.*s", (int)kn, key);
	k = find_key(full);
	if (k < 0) {
		unknown_key_text(full, msg, sizeof(msg));
		return twin_err_set(err, TWIN_ECONFIG, "--set '%s': %s", arg, msg);
	}
	value = unquote(eq + 1, strlen(eq + 1), 0, why, sizeof(why));
	if (!value && !why[0])
		return twin_err_set(err, TWIN_EFAIL, "--set '%s': out of memory", arg);
	if (!value)
		return twin_err_set(err, TWIN_ECONFIG, "--set '%s': '%s': %s", arg, full, why);
	rc = set_key(err, conf, k, value, "--set");
	if (rc != 0)
		twin_err_prefix(err, "--set '%s'", arg);
	free(value);
	return rc;
}

int twin_conf_set_value(struct twin_err *err, struct twin_conf *conf, const char *option,
			const char *key, const char *value)
{
	int k = find_key(key);

	if (k < 0) {
		fprintf(stderr, "twin_conf_set_value: '%s' is not a declared key\n", key);
		abort();
	}
	if (set_key(err, conf, k, value, option) != 0)
		return twin_err_prefix(err, "%s '%s'", option, value);
	return 0;
}

static const char *type_name(enum type t)
{
	switch (t) {
	case T_BOOL: return "bool";
	case T_INT: return "int";
	case T_DOUBLE: return "double";
	case T_STRING: return "string";
	case T_ENUM: return "enum";
	case T_LIST: return "list";
	}
	return "?";
}

/* The key's value; a key that is not declared as one of the types aborts. */
static const struct val *get(const struct twin_conf *conf, const char *key, enum type t1, enum type t2)
{
	int k = find_key(key);

	if (k < 0 || (keys[k].type != t1 && keys[k].type != t2)) {
		fprintf(stderr, "twin_conf: '%s' is not a declared %s key\n", key, type_name(t1));
		abort();
	}
	return &conf->v[k];
}

int twin_conf_bool(const struct twin_conf *conf, const char *key)
{
	return (int)get(conf, key, T_BOOL, T_BOOL)->i;
}

long twin_conf_int(const struct twin_conf *conf, const char *key)
{
	return get(conf, key, T_INT, T_INT)->i;
}

double twin_conf_double(const struct twin_conf *conf, const char *key)
{
	return get(conf, key, T_DOUBLE, T_DOUBLE)->d;
}

const char *twin_conf_string(const struct twin_conf *conf, const char *key)
{
	return get(conf, key, T_STRING, T_ENUM)->text;
}

int twin_conf_list_has(const struct twin_conf *conf, const char *key, const char *choice)
{
	const struct val *v = get(conf, key, T_LIST, T_LIST);
	int c = find_choice(keys[find_key(key)].choices, choice, strlen(choice));

	return c >= 0 && (v->list & (1u << c)) != 0;
}

void twin_conf_phase(const struct twin_conf *conf, struct twin_phase *phase)
{
	const struct val *v = get(conf, "ingest.phase", T_STRING, T_STRING);

	/* checked when it was set */
	if (parse_phase(v->text, phase) != 0)
		abort();
}

const char *twin_conf_origin(const struct twin_conf *conf, const char *key)
{
	int k = find_key(key);

	if (k < 0) {
		fprintf(stderr, "twin_conf: '%s' is not a declared key\n", key);
		abort();
	}
	return conf->v[k].origin ? conf->v[k].origin : "default";
}

int twin_conf_foreach(const struct twin_conf *conf, const char *section,
		      twin_conf_fn *fn, void *ctx)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct val *v = &conf->v[i];
		int rc;

		if (section && !in_section(&keys[i], section))
			continue;
		rc = fn(ctx, keys[i].name, v->text, v->origin ? v->origin : "default");
		if (rc)
			return rc;
	}
	return 0;
}

/* "short = value", quoted when the value would not read back as it is. */
static void write_pair(FILE *f, const char *name, const char *value)
{
	const char *shortname = strchr(name, '.') + 1;
	size_t n = strlen(value);
	int quote = n && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[n - 1])
			  || strpbrk(value, "#;\""));

	if (n == 0)
		fprintf(f, "%s =\n", shortname);
	else if (quote)
		fprintf(f, "%s = \"%s\"\n", shortname, value);
	else
		fprintf(f, "%s = %s\n", shortname, value);
}

void twin_conf_write(const struct twin_conf *conf, FILE *f, const char *section)
{
	int last = -1;

	for (size_t s = 0; s < NSECTIONS; s++) {
		if (section && strcmp(section, sections[s].name) != 0)
			continue;
		for (size_t i = 0; i < NKEYS; i++) {
			if (!in_section(&keys[i], sections[s].name))
				continue;
			if (last != (int)s)
				fprintf(f, "%s[%s]\n", last < 0 ? "" : "\n", sections[s].name);
			last = (int)s;
			write_pair(f, keys[i].name, conf->v[i].text);
		}
	}
}

/* The comment line that says what values a key takes, if it needs one. */
static void doc_type(FILE *f, const struct key *k)
{
	char buf[256];

	switch (k->type) {
	case T_BOOL:
		fprintf(f, "# true or false\n");
		break;
	case T_INT:
	case T_DOUBLE:
		fprintf(f, "# %sa %snumber from %.15g to %.15g%s%s\n", k->flags & F_ZERO ? "0, or " : "",
			k->type == T_INT ? "whole " : "", k->min, k->max,
			k->unit ? " " : "", k->unit ? k->unit : "");
		break;
	case T_STRING:
		break;
	case T_ENUM:
		choices_text(k->choices, buf, sizeof(buf));
		fprintf(f, "# one of: %s\n", buf);
		break;
	case T_LIST:
		choices_text(k->choices, buf, sizeof(buf));
		fprintf(f, "# all, or a comma-separated list of: %s\n", buf);
		break;
	}
}

void twin_conf_doc(FILE *f)
{
	fprintf(f, "# pipeline.conf: the settings of dcm2twin and of its stages twin-ingest,\n"
		   "# twin-segment, twin-mesh and twin-export (each reads it with -c FILE).\n"
		   "# Every key is listed here at its default; keep only those you change.\n"
		   "# One setting can be changed on a command line: --set mesh.size=1.2\n"
		   "# This file is written from the table of keys in common/conf.c.\n");
	for (size_t s = 0; s < NSECTIONS; s++) {
		fprintf(f, "\n# %s\n[%s]\n", sections[s].help, sections[s].name);
		for (size_t i = 0; i < NKEYS; i++) {
			if (!in_section(&keys[i], sections[s].name))
				continue;
			fprintf(f, "\n# %s\n", keys[i].help);
			doc_type(f, &keys[i]);
			write_pair(f, keys[i].name, keys[i].def);
		}
	}
}
