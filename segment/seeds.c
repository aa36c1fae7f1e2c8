/*
 * Seed files. The CSV reader works line by line; the markups reader parses
 * the JSON into a small tree (objects, arrays, strings, numbers, literals)
 * and reads markups[].controlPoints[].{label, position}.
 */
#include "seeds.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "files.h"
#include "labels.h"

#define MAX_DEPTH 64

/* A blood label from an id, a table name, a short name or a display name; -1 if none. */
static int parse_label(const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);

	if (*s && !*end)
		return id >= 2 && id <= 7 ? (int)id : -1;
	for (int i = 2; i <= 7; i++) {
		const struct twin_label *l = twin_label_by_id(i);

		if (strcasecmp(s, l->name) == 0 || strcasecmp(s, l->short_name) == 0 ||
		    strcasecmp(s, l->display) == 0)
			return i;
	}
	return -1;
}

static int push(struct twin_err *err, const char *name, struct twin_seed **seeds, size_t *n,
		int label, const double xyz[3], const char *where)
{
	struct twin_seed *s = realloc(*seeds, (*n + 1) * sizeof(*s));

	if (!s)
		return twin_err_set(err, TWIN_EFAIL, "seeds '%s': out of memory", name);
	*seeds = s;
	s += *n;
	s->label = label;
	memcpy(s->xyz, xyz, sizeof(s->xyz));
	snprintf(s->where, sizeof(s->where), "%s", where);
	(*n)++;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_number(const char *s, double *out)
{
	char *end;

	if (!*s)
		return -1;
	*out = strtod(s, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

static const char wanted[] = "want LA, LV, RA, RV, Ao, PA or an id 2..7";

/* ---- CSV ------------------------------------------------------------------ */

static int load_csv(struct twin_err *err, const char *name, const char *buf, size_t len,
		    struct twin_seed **seeds, size_t *n)
{
	size_t pos = 0, line = 0;
	int first = 1; /* only comments and blank lines so far: the next may be a header */

	while (pos < len) {
		char text[512], copy[512], *f[5], *p, where[64];
		size_t e = pos, nf = 0;
		double xyz[3];
		int label;

		while (e < len && buf[e] != '\n')
			e++;
		line++;
		if (e - pos >= sizeof(text))
			return twin_err_set(err, TWIN_EINPUT, "seeds '%s':%zu: line too long", name, line);
		memcpy(text, buf + pos, e - pos);
		text[e - pos] = 0;
		pos = e + 1;
		p = trim(text);
		snprintf(copy, sizeof(copy), "%s", p);
		if (!*p || *p == '#')
			continue;
		for (char *tok = p; nf < 5; ) {
			char *c = strchr(tok, ',');

			f[nf++] = tok;
			if (!c)
				break;
			*c = 0;
			tok = c + 1;
		}
		if (nf != 4)
			return twin_err_set(err, TWIN_EINPUT, "seeds '%s':%zu: want label,x,y,z: '%s'", name, line, copy);
		for (size_t i = 0; i < nf; i++)
			f[i] = trim(f[i]);
		if (first && strcasecmp(f[0], "label") == 0) {
			first = 0;
			continue; /* a header */
		}
		first = 0;
		if ((label = parse_label(f[0])) < 0)
			return twin_err_set(err, TWIN_EINPUT, "seeds '%s':%zu: '%s' is not a blood pool (%s): '%s'",
					    name, line, f[0], wanted, copy);
		for (int a = 0; a < 3; a++)
			if (parse_number(f[a + 1], &xyz[a]) != 0)
				return twin_err_set(err, TWIN_EINPUT, "seeds '%s':%zu: '%s' is not a number: '%s'",
						    name, line, f[a + 1], copy);
		snprintf(where, sizeof(where), "'%.40s':%zu", name, line);
		if (push(err, name, seeds, n, label, xyz, where) != 0)
			return -1;
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	double num;
	char *str;          /* J_STR */
	struct jv *items;   /* J_ARR and J_OBJ values */
	char **keys;        /* J_OBJ */
	size_t n;
};

struct jparse {
	const char *s, *name;
	size_t len, pos;
	struct twin_err *err;
};

static void jfree(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

static int jfail(struct jparse *p, const char *what)
{
	size_t line = 1;

	for (size_t i = 0; i < p->pos && i < p->len; i++)
		line += p->s[i] == '\n';
	return twin_err_set(p->err, TWIN_EINPUT, "seeds '%s': line %zu: bad JSON: %s", p->name, line, what);
}

static void skip_ws(struct jparse *p)
{
	while (p->pos < p->len && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static int jvalue(struct jparse *p, struct jv *v, int depth);

static int jstring(struct jparse *p, char **out)
{
	size_t cap = 16, n = 0;
	char *s = malloc(cap);

	if (!s)
		return jfail(p, "out of memory");
	p->pos++; /* the quote */
	while (p->pos < p->len && p->s[p->pos] != '"') {
		char c = p->s[p->pos++];

		if ((unsigned char)c < 0x20) {
			free(s);
			return jfail(p, "control character in a string");
		}
		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			c = p->s[p->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': /* kept as '?': labels are ASCII */
				if (p->len - p->pos < 4) {
					free(s);
					return jfail(p, "short \\u escape");
				}
				p->pos += 4;
				c = '?';
				break;
			case '"': case '\\': case '/': break;
			default:
				free(s);
				return jfail(p, "bad escape in a string");
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				return jfail(p, "out of memory");
			}
			s = t;
		}
		s[n++] = c;
	}
	if (p->pos >= p->len) {
		free(s);
		return jfail(p, "unterminated string");
	}
	p->pos++;
	s[n] = 0;
	*out = s;
	return 0;
}

static int jappend(struct jparse *p, struct jv *v, char *key)
{
	struct jv *items = realloc(v->items, (v->n + 1) * sizeof(*items));
	char **keys = v->t == J_OBJ ? realloc(v->keys, (v->n + 1) * sizeof(*keys)) : NULL;

	if (items)
		v->items = items;
	if (keys)
		v->keys = keys;
	if (!items || (v->t == J_OBJ && !keys)) {
		free(key);
		return jfail(p, "out of memory");
	}
	memset(&v->items[v->n], 0, sizeof(*items));
	if (keys)
		keys[v->n] = key;
	v->n++;
	return 0;
}

static int jcontainer(struct jparse *p, struct jv *v, int depth)
{
	char close = p->s[p->pos] == '{' ? '}' : ']';

	v->t = close == '}' ? J_OBJ : J_ARR;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		skip_ws(p);
		if (v->t == J_OBJ) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return jfail(p, "want a key in quotes");
			if (jstring(p, &key) != 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return jfail(p, "want ':' after a key");
			}
			p->pos++;
		}
		if (jappend(p, v, key) != 0 || jvalue(p, &v->items[v->n - 1], depth + 1) != 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return jfail(p, close == '}' ? "want ',' or '}'" : "want ',' or ']'");
	}
}

static int jvalue(struct jparse *p, struct jv *v, int depth)
{
	static const struct { const char *word; enum jtype t; double num; } words[] = {
		{ "true", J_BOOL, 1 }, { "false", J_BOOL, 0 }, { "null", J_NULL, 0 },
	};
	char c;

	if (depth > MAX_DEPTH)
		return jfail(p, "nested too deep");
	skip_ws(p);
	if (p->pos >= p->len)
		return jfail(p, "unexpected end");
	c = p->s[p->pos];
	if (c == '{' || c == '[')
		return jcontainer(p, v, depth);
	if (c == '"') {
		v->t = J_STR;
		return jstring(p, &v->str);
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].word);

		if (p->len - p->pos >= wl && memcmp(p->s + p->pos, words[i].word, wl) == 0) {
			v->t = words[i].t;
			v->num = words[i].num;
			p->pos += wl;
			return 0;
		}
	}
	if (c == '-' || isdigit((unsigned char)c)) {
		char num[64];
		size_t n = 0;

		while (p->pos < p->len && n + 1 < sizeof(num) && strchr("+-.eE0123456789", p->s[p->pos]))
			num[n++] = p->s[p->pos++];
		num[n] = 0;
		v->t = J_NUM;
		if (parse_number(num, &v->num) != 0)
			return jfail(p, "bad number");
		return 0;
	}
	return jfail(p, "unexpected character");
}

static const struct jv *jget(const struct jv *obj, const char *key)
{
	if (obj->t != J_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

static int load_json(struct twin_err *err, const char *name, const char *buf, size_t len,
		     struct twin_seed **seeds, size_t *n)
{
	struct jparse p = { buf, name, len, 0, err };
	struct jv root;
	const struct jv *markups;
	size_t point = 0;
	int rc = -1;

	memset(&root, 0, sizeof(root));
	if (jvalue(&p, &root, 0) != 0)
		goto out;
	skip_ws(&p);
	if (p.pos != len) {
		jfail(&p, "text after the end");
		goto out;
	}
	markups = jget(&root, "markups");
	if (!markups || markups->t != J_ARR) {
		twin_err_set(err, TWIN_EINPUT, "seeds '%s': not a 3D Slicer markups file: no \"markups\" list", name);
		goto out;
	}
	for (size_t m = 0; m < markups->n; m++) {
		const struct jv *mk = &markups->items[m], *cs = jget(mk, "coordinateSystem");
		const struct jv *cps = jget(mk, "controlPoints");
		int ras = 0;

		if (cs && (cs->t != J_STR || (strcmp(cs->str, "RAS") != 0 && strcmp(cs->str, "LPS") != 0))) {
			twin_err_set(err, TWIN_EINPUT, "seeds '%s': markup %zu: coordinateSystem is not RAS or LPS",
				     name, m + 1);
			goto out;
		}
		ras = cs && strcmp(cs->str, "RAS") == 0;
		if (!cps)
			continue;
		if (cps->t != J_ARR) {
			twin_err_set(err, TWIN_EINPUT, "seeds '%s': markup %zu: controlPoints is not a list", name, m + 1);
			goto out;
		}
		for (size_t i = 0; i < cps->n; i++) {
			const struct jv *cp = &cps->items[i], *lab = jget(cp, "label"), *pos = jget(cp, "position");
			double xyz[3];
			char where[64];
			int label;

			point++;
			if (!lab || lab->t != J_STR || (label = parse_label(lab->str)) < 0) {
				twin_err_set(err, TWIN_EINPUT, "seeds '%s': point %zu: label %s%s%s is not a blood pool (%s)",
					     name, point, lab && lab->t == J_STR ? "'" : "",
					     lab && lab->t == J_STR ? lab->str : "missing", lab && lab->t == J_STR ? "'" : "",
					     wanted);
				goto out;
			}
			if (!pos || pos->t != J_ARR || pos->n != 3 || pos->items[0].t != J_NUM ||
			    pos->items[1].t != J_NUM || pos->items[2].t != J_NUM) {
				twin_err_set(err, TWIN_EINPUT, "seeds '%s': point %zu: position is not 3 numbers", name, point);
				goto out;
			}
			for (int a = 0; a < 3; a++)
				xyz[a] = pos->items[a].num * (ras && a < 2 ? -1.0 : 1.0);
			snprintf(where, sizeof(where), "'%.40s': point %zu", name, point);
			if (push(err, name, seeds, n, label, xyz, where) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	jfree(&root);
	return rc;
}

int twin_seeds_load_mem(struct twin_err *err, const char *name, const char *buf, size_t len,
			struct twin_seed **seeds, size_t *n)
{
	size_t i = 0;
	int rc;

	*seeds = NULL;
	*n = 0;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM, as spreadsheets write */
		buf += 3;
		len -= 3;
	}
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '{')
		rc = load_json(err, name, buf, len, seeds, n);
	else
		rc = load_csv(err, name, buf, len, seeds, n);
	if (rc == 0 && *n == 0)
		rc = twin_err_set(err, TWIN_EINPUT, "seeds '%s': no seed points", name);
	if (rc != 0) {
		free(*seeds);
		*seeds = NULL;
		*n = 0;
	}
	return rc;
}

int twin_seeds_load(struct twin_err *err, const char *path, struct twin_seed **seeds, size_t *n)
{
	size_t len = 0;
	char *buf = twin_file_read(err, path, &len);
	int rc;

	*seeds = NULL;
	*n = 0;
	if (!buf)
		return twin_err_prefix(err, "seeds");
	rc = twin_seeds_load_mem(err, path, buf, len, seeds, n);
	free(buf);
	return rc;
}
