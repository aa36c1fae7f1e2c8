/*
 * The writing helpers of the report. Every piece of text from a file goes
 * through twin_page_text (HTML-escaped, made valid UTF-8), every link
 * through twin_page_url (percent-encoded, relative to the case folder), so
 * that the page is also well-formed XML.
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "xml.h"

/* Writes s escaped for HTML text and attribute values. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

void twin_page_text(struct twin_page *r, const char *s)
{
	char *safe;

	if (!s)
		return;
	safe = twin_xml_text_dup(s);
	if (!safe) {
		r->nomem = 1;
		return;
	}
	put_escaped(r->f, safe);
	free(safe);
}

void twin_page_url(struct twin_page *r, const char *rel)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '/' || *p == '.' || *p == '_' || *p == '~' || *p == '-')
			fputc(*p, r->f);
		else
			fprintf(r->f, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

void twin_page_size(struct twin_page *r, uint64_t bytes)
{
	if (bytes < 1000)
		putf(r, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1000000)
		putf(r, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		putf(r, "%.1f MB", (double)bytes / 1e6);
	else
		putf(r, "%.2f GB", (double)bytes / 1e9);
}

void twin_page_swatch(struct twin_page *r, const unsigned char rgb[3])
{
	putf(r, "<span class=\"sw\" style=\"background:#%02x%02x%02x\"></span>", rgb[0], rgb[1], rgb[2]);
}

void twin_page_time(struct twin_page *r, const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n == 20 && t[10] == 'T' && t[19] == 'Z') {
		putf(r, "%.10s %.8s UTC", t, t + 11);
		return;
	}
	twin_page_text(r, t);
}

/*
 * Width and height from a PNG's IHDR; 0 when path is not a PNG. Read by
 * hand: 24 bytes, where libpng would set up a whole decoder for them.
 */
static int png_size(const char *path, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char b[24];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(b, 1, sizeof(b), f) : 0;

	if (f)
		fclose(f);
	if (n != sizeof(b) || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
		return 0;
	*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
	*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
	return *w > 0 && *h > 0;
}

void twin_page_img(struct twin_page *r, const char *rel, const char *alt, const char *caption)
{
	char *path = twin_path_join(r->dir, rel);
	unsigned w = 0, h = 0;

	if (!path || !png_size(path, &w, &h)) {
		put(r, "<figure><p class=\"error\">");
		twin_page_text(r, rel);
		put(r, " is missing or not a PNG.</p></figure>\n");
		free(path);
		return;
	}
	put(r, "<figure><a href=\"");
	twin_page_url(r, rel);
	put(r, "\"><img src=\"");
	twin_page_url(r, rel);
	putf(r, "\" width=\"%u\" height=\"%u\" alt=\"", w, h);
	twin_page_text(r, alt);
	put(r, "\"/></a><figcaption>");
	twin_page_text(r, caption);
	put(r, "</figcaption></figure>\n");
	free(path);
}

char *twin_page_path(struct twin_err *err, const struct twin_page *r, const char *rel)
{
	char *p = twin_path_join(r->dir, rel);

	if (!p)
		twin_err_set(err, TWIN_EFAIL, "report: out of memory");
	return p;
}

xmlDoc *twin_page_load_xml(struct twin_err *err, const char *what, const char *path, const char *xsd)
{
	xmlDoc *doc = twin_xml_load(err, what, path);

	if (doc && twin_xml_validate(err, what, path, doc, xsd) != 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}
