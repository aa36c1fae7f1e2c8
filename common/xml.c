#include "xml.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "files.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_BIG_LINES)

/* The first error libxml2 reports while a helper runs. */
struct capture {
	int set;
	int line;
	char msg[512];
};

/* The handlers that were in place before a helper silenced libxml2. */
struct quiet {
	xmlGenericErrorFunc generic;
	void *generic_ctx;
	xmlStructuredErrorFunc structured;
	void *structured_ctx;
};

static void on_error(void *data, xmlErrorPtr e)
{
	struct capture *c = data;
	size_t n;

	if (!c || c->set || !e || e->level < XML_ERR_ERROR)
		return;
	c->set = 1;
	c->line = e->line;
	snprintf(c->msg, sizeof(c->msg), "%s", e->message ? e->message : "unknown error");
	/* libxml2 ends its messages with ".\n"; the house style has neither. */
	n = strlen(c->msg);
	while (n > 0 && (isspace((unsigned char)c->msg[n - 1]) || c->msg[n - 1] == '.'))
		c->msg[--n] = '\0';
	if (isupper((unsigned char)c->msg[0]) && islower((unsigned char)c->msg[1]))
		c->msg[0] = (char)tolower((unsigned char)c->msg[0]);
}

static void on_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void quiet_begin(struct quiet *q, struct capture *c)
{
	memset(c, 0, sizeof(*c));
	xmlInitParser();
	q->generic = xmlGenericError;
	q->generic_ctx = xmlGenericErrorContext;
	q->structured = xmlStructuredError;
	q->structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, on_generic);
	xmlSetStructuredErrorFunc(c, on_error);
}

static void quiet_end(const struct quiet *q)
{
	xmlSetGenericErrorFunc(q->generic_ctx, q->generic);
	xmlSetStructuredErrorFunc(q->structured_ctx, q->structured);
}

/* Sets "head: line N: msg", or "head: fallback" when libxml2 said nothing. */
static int set_captured(struct twin_err *err, enum twin_code code, const char *head,
			const struct capture *c, const char *fallback)
{
	if (!c->set)
		return twin_err_set(err, code, "%s: %s", head, fallback);
	if (c->line > 0)
		return twin_err_set(err, code, "%s: line %d: %s", head, c->line, c->msg);
	return twin_err_set(err, code, "%s: %s", head, c->msg);
}

static xmlDoc *parse(struct twin_err *err, const char *head, const char *name,
		     const void *buf, size_t len)
{
	struct capture cap;
	struct quiet q;
	xmlDoc *doc;

	if (len == 0) {
		twin_err_set(err, TWIN_EINPUT, "%s: file is empty", head);
		return NULL;
	}
	if (len > INT_MAX) {
		twin_err_set(err, TWIN_EINPUT, "%s: %zu bytes is too large for an XML file", head, len);
		return NULL;
	}
	quiet_begin(&q, &cap);
	doc = xmlReadMemory(buf, (int)len, name, NULL, PARSE_OPTIONS);
	quiet_end(&q);
	if (doc && cap.set) {
		/* Recovered errors still make the file unusable. */
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (!doc) {
		set_captured(err, TWIN_EINPUT, head, &cap, "not an XML document");
	} else if (doc->intSubset || doc->extSubset) {
		/* Our files have none, and a DTD is how entity tricks get in. */
		twin_err_set(err, TWIN_EINPUT, "%s: a document type declaration (DOCTYPE) is not allowed", head);
		xmlFreeDoc(doc);
		doc = NULL;
	} else if (!xmlDocGetRootElement(doc)) {
		twin_err_set(err, TWIN_EINPUT, "%s: no root element", head);
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

xmlDoc *twin_xml_load_mem(struct twin_err *err, const char *what, const char *name,
			  const void *buf, size_t len)
{
	char head[TWIN_ERR_MSG_MAX];

	snprintf(head, sizeof(head), "%s '%s'", what, name);
	return parse(err, head, name, buf, len);
}

xmlDoc *twin_xml_load(struct twin_err *err, const char *what, const char *path)
{
	xmlDoc *doc = NULL;
	size_t len = 0;
	void *buf;

	buf = twin_file_read(err, path, &len);
	if (!buf) {
		twin_err_prefix(err, "%s", what);
		return NULL;
	}
	doc = twin_xml_load_mem(err, what, path, buf, len);
	free(buf);
	return doc;
}

static int validate(struct twin_err *err, enum twin_code code, const char *head,
		    xmlDoc *doc, const char *xsd)
{
	xmlSchemaParserCtxt *pctx = NULL;
	xmlSchemaValidCtxt *vctx = NULL;
	xmlSchema *schema = NULL;
	struct capture cap;
	struct quiet q;
	int rc = -1;

	quiet_begin(&q, &cap);
	pctx = xmlSchemaNewMemParserCtxt(xsd, (int)strlen(xsd));
	if (!pctx) {
		twin_err_set(err, TWIN_EFAIL, "%s: cannot load the schema: out of memory", head);
		goto out;
	}
	xmlSchemaSetParserStructuredErrors(pctx, on_error, &cap);
	schema = xmlSchemaParse(pctx);
	if (!schema) {
		char h[TWIN_ERR_MSG_MAX];

		snprintf(h, sizeof(h), "%s: the compiled-in schema is broken", head);
		set_captured(err, TWIN_EFAIL, h, &cap, "it does not compile");
		goto out;
	}
	vctx = xmlSchemaNewValidCtxt(schema);
	if (!vctx) {
		twin_err_set(err, TWIN_EFAIL, "%s: cannot validate: out of memory", head);
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vctx, on_error, &cap);
	rc = xmlSchemaValidateDoc(vctx, doc);
	if (rc > 0 || (rc == 0 && cap.set)) {
		set_captured(err, code, head, &cap, "not valid against its schema");
		rc = -1;
	} else if (rc < 0) {
		set_captured(err, TWIN_EFAIL, head, &cap, "the validator failed");
	}
out:
	quiet_end(&q);
	xmlSchemaFreeValidCtxt(vctx);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctx);
	return rc == 0 ? 0 : -1;
}

int twin_xml_validate(struct twin_err *err, const char *what, const char *name,
		      xmlDoc *doc, const char *xsd)
{
	char head[TWIN_ERR_MSG_MAX];

	snprintf(head, sizeof(head), "%s '%s'", what, name);
	return validate(err, TWIN_EINPUT, head, doc, xsd);
}

int twin_xml_save(struct twin_err *err, const char *what, const char *path,
		  xmlDoc *doc, const char *xsd)
{
	char head[TWIN_ERR_MSG_MAX];
	xmlChar *text = NULL;
	xmlDoc *back = NULL;
	struct capture cap;
	struct quiet q;
	int len = 0;
	int rc = -1;

	snprintf(head, sizeof(head), "cannot write %s '%s'", what, path);
	quiet_begin(&q, &cap);
	xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
	quiet_end(&q);
	if (!text || len <= 0) {
		set_captured(err, TWIN_EFAIL, head, &cap, "cannot serialise the document");
		goto out;
	}
	if (xsd) {
		/* Check the very text that goes to disk, so line numbers are real. */
		back = parse(err, head, path, text, (size_t)len);
		if (!back)
			goto out;
		if (validate(err, TWIN_EFAIL, head, back, xsd) != 0)
			goto out;
	}
	rc = twin_file_write(err, path, text, (size_t)len);
out:
	xmlFreeDoc(back);
	xmlFree(text);
	return rc;
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

char *twin_xml_text_dup(const char *s)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len + 1);
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t n = utf8_len(p);

		if (n == 0) {
			out[i++] = '?';
		} else if (n == 1) {
			out[i++] = (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f ?
				   '?' : *p;
		} else {
			memcpy(out + i, p, n);
			i += n;
		}
	}
	out[len] = '\0';
	return (char *)out;
}

int twin_xml_set_attr(xmlNode *node, const char *name, const char *fmt, ...)
{
	char buf[1024], *safe;
	va_list ap;
	int ok;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	safe = twin_xml_text_dup(buf);
	if (!safe)
		return -1;
	ok = xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)safe) != NULL;
	free(safe);
	return ok ? 0 : -1;
}

char *twin_xml_attr(const xmlNode *node, const char *name, int *absent)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *copy;

	if (absent)
		*absent = v == NULL;
	if (!v)
		return NULL;
	copy = strdup((const char *)v);
	xmlFree(v);
	return copy;
}

static int attr_error(struct twin_err *err, const char *what, const char *file,
		      const xmlNode *node, const char *name, const char *fault, const char *value)
{
	return twin_err_set(err, TWIN_EINPUT, "%s '%s': line %ld: attribute '%s': %s%s%s%s",
			    what, file, xmlGetLineNo(node), name, fault,
			    value ? " '" : "", value ? value : "", value ? "'" : "");
}

int twin_xml_attr_u64(struct twin_err *err, const char *what, const char *file,
		      const xmlNode *node, const char *name, uint64_t *out)
{
	unsigned long long v;
	char *s, *end = NULL;
	int absent = 0;
	int rc = -1;

	s = twin_xml_attr(node, name, &absent);
	if (!s)
		return absent ? attr_error(err, what, file, node, name, "is missing", NULL)
			      : twin_err_set(err, TWIN_EFAIL, "%s '%s': out of memory", what, file);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0')
		attr_error(err, what, file, node, name, "not a whole number:", s);
	else if (errno == ERANGE)
		attr_error(err, what, file, node, name, "out of range:", s);
	else {
		*out = (uint64_t)v;
		rc = 0;
	}
	free(s);
	return rc;
}

int twin_xml_attr_double(struct twin_err *err, const char *what, const char *file,
			 const xmlNode *node, const char *name, double *out)
{
	char *s, *end = NULL;
	int absent = 0;
	int rc = -1;
	double v;

	s = twin_xml_attr(node, name, &absent);
	if (!s)
		return absent ? attr_error(err, what, file, node, name, "is missing", NULL)
			      : twin_err_set(err, TWIN_EFAIL, "%s '%s': out of memory", what, file);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || isspace((unsigned char)s[0]))
		attr_error(err, what, file, node, name, "not a number:", s);
	else if (errno == ERANGE || !isfinite(v))
		attr_error(err, what, file, node, name, "out of range:", s);
	else {
		*out = v;
		rc = 0;
	}
	free(s);
	return rc;
}

xmlNode *twin_xml_next(xmlNode *node, const char *name)
{
	for (; node; node = node->next)
		if (node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, (const xmlChar *)name))
			return node;
	return NULL;
}
