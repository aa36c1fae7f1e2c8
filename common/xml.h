/*
 * xml: the libxml2 helpers every XML file of a case goes through: parse a
 * file or a buffer, validate against a compiled-in XSD, save validated and
 * atomically. libxml2 never prints; its first error lands in err with its
 * line. Owns nothing beyond what it returns. Includes err.h and libxml2 only.
 */
#ifndef TWIN_XML_H
#define TWIN_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parses the file at path. `what` names the kind of file in messages:
 * "manifest 'CASE/manifest.xml': line 3: opening and ending tag mismatch ...".
 * No network access, no entity expansion, no DTD loading. Returns an owned
 * document (xmlFreeDoc) or NULL: TWIN_EIO when the file cannot be read,
 * TWIN_EINPUT when it is not well-formed XML.
 */
xmlDoc *twin_xml_load(struct twin_err *err, const char *what, const char *path);

/* The same from len bytes of memory; name stands for the file in messages. */
xmlDoc *twin_xml_load_mem(struct twin_err *err, const char *what, const char *name,
			  const void *buf, size_t len);

/*
 * Validates doc against xsd, the NUL-terminated text of a schema. On the
 * first violation sets TWIN_EINPUT "what 'name': line N: element 'x': ...".
 * A schema that does not compile is TWIN_EFAIL.
 */
int twin_xml_validate(struct twin_err *err, const char *what, const char *name,
		      xmlDoc *doc, const char *xsd);

/*
 * Serialises doc (UTF-8, indented), parses the text back and validates it
 * against xsd when xsd is not NULL, then writes it to path through a
 * temporary file and a rename. On any failure path is left as it was.
 */
int twin_xml_save(struct twin_err *err, const char *what, const char *path,
		  xmlDoc *doc, const char *xsd);

/*
 * A copy of s that is safe as XML text: bytes that XML 1.0 forbids (control
 * characters other than tab, newline and return) become '?', and so does
 * every non-ASCII byte when s is not valid UTF-8. malloc'd (free), NULL on
 * no memory.
 */
char *twin_xml_text_dup(const char *s);

/*
 * Sets attribute name of node from printf-style text, made safe as by
 * twin_xml_text_dup (at most 1023 bytes). Returns 0, or -1 on no memory.
 */
int twin_xml_set_attr(xmlNode *node, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Attribute name of node as a malloc'd string (free), or NULL when absent
 * or on no memory; *absent (may be NULL) tells the two apart.
 */
char *twin_xml_attr(const xmlNode *node, const char *name, int *absent);

/*
 * Attribute name of node as a number. Absent, empty, trailing junk or out
 * of range is TWIN_EINPUT "what 'name': line N: attribute 'x': ...".
 */
int twin_xml_attr_u64(struct twin_err *err, const char *what, const char *file,
		      const xmlNode *node, const char *name, uint64_t *out);
int twin_xml_attr_double(struct twin_err *err, const char *what, const char *file,
			 const xmlNode *node, const char *name, double *out);

/* The next element sibling named name from node on (node itself included), or NULL. */
xmlNode *twin_xml_next(xmlNode *node, const char *name);

#ifdef __cplusplus
}
#endif

#endif
