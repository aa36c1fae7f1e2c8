#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "xml.h"

#define WHAT "manifest"
#define FORMAT_VERSION "1"

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * arr grown, when needed, to hold n + 1 items of size bytes. Capacity is not
 * stored: it doubles whenever n reaches a power of two. NULL on no memory,
 * arr untouched then.
 */
static void *grow(void *arr, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return arr;
	if (n > SIZE_MAX / 2 / size)
		return NULL;
	return realloc(arr, (n ? 2 * n : 1) * size);
}

static void file_release(struct twin_manifest_file *f)
{
	free(f->path);
}

static void record_release(struct twin_manifest_record *rec)
{
	size_t i;

	free(rec->program);
	free(rec->version);
	free(rec->start);
	free(rec->message);
	for (i = 0; i < rec->nsettings; i++) {
		free(rec->settings[i].key);
		free(rec->settings[i].value);
	}
	free(rec->settings);
	for (i = 0; i < rec->ninputs; i++)
		file_release(&rec->inputs[i]);
	free(rec->inputs);
	for (i = 0; i < rec->noutputs; i++)
		file_release(&rec->outputs[i]);
	free(rec->outputs);
	for (i = 0; i < rec->nwarnings; i++)
		free(rec->warnings[i]);
	free(rec->warnings);
	memset(rec, 0, sizeof(*rec));
}

void twin_manifest_record_free(struct twin_manifest_record *rec)
{
	if (!rec)
		return;
	record_release(rec);
	free(rec);
}

struct twin_manifest_record *twin_manifest_record_new(struct twin_err *err, const char *program,
						      const char *version)
{
	struct twin_manifest_record *rec = calloc(1, sizeof(*rec));
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);

	if (!rec)
		goto nomem;
	rec->program = twin_xml_text_dup(program);
	rec->version = twin_xml_text_dup(version);
	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "1970-01-01T00:00:00Z");
	rec->start = strdup(stamp);
	if (!rec->program || !rec->version || !rec->start)
		goto nomem;
	if (!rec->program[0] || !rec->version[0]) {
		twin_err_set(err, TWIN_EFAIL, "manifest record: program '%s' or version '%s' is empty",
			     rec->program, rec->version);
		twin_manifest_record_free(rec);
		return NULL;
	}
	rec->clock0 = monotonic_seconds();
	return rec;
nomem:
	twin_manifest_record_free(rec);
	twin_err_set(err, TWIN_EFAIL, "manifest record of '%s': out of memory", program);
	return NULL;
}

static int add_one(void *ctx, const char *key, const char *value, const char *origin)
{
	(void)origin;
	twin_manifest_add_setting(ctx, key, value);
	return 0;
}

void twin_manifest_add_settings(struct twin_manifest_record *rec, const struct twin_conf *conf,
				const char *section)
{
	twin_conf_foreach(conf, section, add_one, rec);
}

void twin_manifest_add_setting(struct twin_manifest_record *rec, const char *key, const char *value)
{
	char *k = twin_xml_text_dup(key);
	char *v = twin_xml_text_dup(value);
	struct twin_manifest_setting *s;
	size_t i;

	if (!k || !v)
		goto nomem;
	for (i = 0; i < rec->nsettings; i++) {
		if (strcmp(rec->settings[i].key, k) == 0) {
			free(rec->settings[i].value);
			rec->settings[i].value = v;
			free(k);
			return;
		}
	}
	s = grow(rec->settings, rec->nsettings, sizeof(*s));
	if (!s)
		goto nomem;
	rec->settings = s;
	s[rec->nsettings].key = k;
	s[rec->nsettings].value = v;
	rec->nsettings++;
	return;
nomem:
	free(k);
	free(v);
	rec->nomem = 1;
}

void twin_manifest_add_warning(struct twin_manifest_record *rec, const char *fmt, ...)
{
	char *text = NULL, *clean = NULL;
	char **w;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(text = malloc((size_t)n + 1)))
		goto nomem;
	va_start(ap, fmt);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	clean = twin_xml_text_dup(text);
	w = clean ? grow(rec->warnings, rec->nwarnings, sizeof(*w)) : NULL;
	if (!w)
		goto nomem;
	rec->warnings = w;
	w[rec->nwarnings++] = clean;
	free(text);
	return;
nomem:
	free(text);
	free(clean);
	rec->nomem = 1;
}

/* Notes path with its size and digest; sha256 is NULL when path is to be hashed here. */
static int add_file(struct twin_err *err, struct twin_manifest_file **files, size_t *n,
		    const char *path, uint64_t size, const char *sha256)
{
	struct twin_manifest_file f = { 0 };
	struct twin_manifest_file *grown;
	char *abs = NULL;

	if (!sha256) {
		if (twin_sha256_file(err, path, f.sha256, &f.size) != 0)
			return -1;
	} else {
		if (strlen(sha256) != TWIN_SHA256_HEX - 1 || strspn(sha256, "0123456789abcdef") != TWIN_SHA256_HEX - 1)
			return twin_err_set(err, TWIN_EFAIL, "manifest: cannot note '%s': '%s' is not a SHA-256",
					    path, sha256);
		memcpy(f.sha256, sha256, TWIN_SHA256_HEX);
		f.size = size;
	}
	abs = realpath(path, NULL);
	if (!abs)
		return twin_err_errno(err, "cannot resolve", path);
	f.path = twin_xml_text_dup(abs);
	free(abs);
	grown = f.path ? grow(*files, *n, sizeof(**files)) : NULL;
	if (!grown) {
		free(f.path);
		return twin_err_set(err, TWIN_EFAIL, "manifest: cannot note '%s': out of memory", path);
	}
	*files = grown;
	grown[(*n)++] = f;
	return 0;
}

int twin_manifest_add_input(struct twin_err *err, struct twin_manifest_record *rec, const char *path)
{
	return add_file(err, &rec->inputs, &rec->ninputs, path, 0, NULL);
}

int twin_manifest_add_output(struct twin_err *err, struct twin_manifest_record *rec, const char *path)
{
	return add_file(err, &rec->outputs, &rec->noutputs, path, 0, NULL);
}

int twin_manifest_add_input_hashed(struct twin_err *err, struct twin_manifest_record *rec,
				   const char *path, uint64_t size, const char *sha256)
{
	return add_file(err, &rec->inputs, &rec->ninputs, path, size, sha256);
}

int twin_manifest_add_output_hashed(struct twin_err *err, struct twin_manifest_record *rec,
				    const char *path, uint64_t size, const char *sha256)
{
	return add_file(err, &rec->outputs, &rec->noutputs, path, size, sha256);
}

void twin_manifest_record_fail(struct twin_manifest_record *rec, const struct twin_err *stage_err)
{
	char *msg = twin_xml_text_dup(stage_err->msg[0] ? stage_err->msg : "failed");

	rec->status = TWIN_MANIFEST_FAILED;
	rec->code = stage_err->code == TWIN_OK ? TWIN_EFAIL : stage_err->code;
	free(rec->message);
	rec->message = msg;
	if (!msg)
		rec->nomem = 1;
}

/* --- reading ------------------------------------------------------------- */

static int read_file_node(struct twin_err *err, const char *name, xmlNode *node,
			  struct twin_manifest_file **files, size_t *n)
{
	struct twin_manifest_file f = { 0 };
	struct twin_manifest_file *grown;
	char *sha = twin_xml_attr(node, "sha256", NULL);

	f.path = twin_xml_attr(node, "path", NULL);
	if (!f.path || !sha || strlen(sha) != 64) {
		free(f.path);
		free(sha);
		return twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: %s without path or sha256",
				    name, xmlGetLineNo(node), (const char *)node->name);
	}
	memcpy(f.sha256, sha, sizeof(f.sha256));
	free(sha);
	if (twin_xml_attr_u64(err, WHAT, name, node, "size", &f.size) != 0) {
		free(f.path);
		return -1;
	}
	grown = grow(*files, *n, sizeof(**files));
	if (!grown) {
		free(f.path);
		return twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", name);
	}
	*files = grown;
	grown[(*n)++] = f;
	return 0;
}

static char *node_text(xmlNode *node)
{
	xmlChar *t = xmlNodeGetContent(node);
	char *copy = strdup(t ? (const char *)t : "");

	xmlFree(t);
	return copy;
}

static int read_record(struct twin_err *err, const char *name, xmlNode *node,
		       struct twin_manifest_record *rec)
{
	long line = xmlGetLineNo(node);
	char *status = NULL;
	xmlNode *c;
	int rc = -1;

	rec->program = twin_xml_attr(node, "program", NULL);
	rec->version = twin_xml_attr(node, "version", NULL);
	rec->start = twin_xml_attr(node, "start", NULL);
	status = twin_xml_attr(node, "status", NULL);
	if (!rec->program || !rec->version || !rec->start || !status) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: record without program, version, "
			     "start or status", name, line);
		goto out;
	}
	if (twin_xml_attr_double(err, WHAT, name, node, "wall_seconds", &rec->wall_seconds) != 0)
		goto out;
	if (strcmp(status, "ok") == 0) {
		rec->status = TWIN_MANIFEST_OK;
	} else if (strcmp(status, "failed") == 0) {
		rec->status = TWIN_MANIFEST_FAILED;
	} else {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: unknown status '%s'", name, line, status);
		goto out;
	}
	for (c = node->children; c; c = c->next) {
		const char *el = (const char *)c->name;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp(el, "setting") == 0) {
			struct twin_manifest_setting *s = grow(rec->settings, rec->nsettings, sizeof(*s));

			if (!s)
				goto nomem;
			rec->settings = s;
			s[rec->nsettings].key = twin_xml_attr(c, "key", NULL);
			s[rec->nsettings].value = twin_xml_attr(c, "value", NULL);
			rec->nsettings++;
			if (!s[rec->nsettings - 1].key || !s[rec->nsettings - 1].value) {
				twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: setting without key or value",
					     name, xmlGetLineNo(c));
				goto out;
			}
		} else if (strcmp(el, "input") == 0) {
			if (read_file_node(err, name, c, &rec->inputs, &rec->ninputs) != 0)
				goto out;
		} else if (strcmp(el, "output") == 0) {
			if (read_file_node(err, name, c, &rec->outputs, &rec->noutputs) != 0)
				goto out;
		} else if (strcmp(el, "warning") == 0) {
			char **w = grow(rec->warnings, rec->nwarnings, sizeof(*w));

			if (!w)
				goto nomem;
			rec->warnings = w;
			if (!(w[rec->nwarnings] = node_text(c)))
				goto nomem;
			rec->nwarnings++;
		} else if (strcmp(el, "error") == 0) {
			uint64_t code = 0;

			if (twin_xml_attr_u64(err, WHAT, name, c, "code", &code) != 0)
				goto out;
			rec->code = code > 0 && code < 128 ? (enum twin_code)code : TWIN_EFAIL;
			free(rec->message);
			if (!(rec->message = node_text(c)))
				goto nomem;
		}
	}
	if ((rec->status == TWIN_MANIFEST_FAILED) != (rec->message != NULL)) {
		twin_err_set(err, TWIN_EINPUT, WHAT " '%s': line %ld: record of '%s' has status '%s' %s",
			     name, line, rec->program, status,
			     rec->message ? "but an error" : "but no error");
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", name);
out:
	free(status);
	return rc;
}

/* The records of a parsed, valid manifest. */
static struct twin_manifest *from_doc(struct twin_err *err, const char *name, xmlDoc *doc)
{
	struct twin_manifest *m = calloc(1, sizeof(*m));
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *r;

	if (!m) {
		twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", name);
		return NULL;
	}
	for (r = twin_xml_next(root->children, "record"); r; r = twin_xml_next(r->next, "record")) {
		struct twin_manifest_record *grown = grow(m->records, m->nrecords, sizeof(*grown));

		if (!grown) {
			twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", name);
			goto fail;
		}
		m->records = grown;
		memset(&grown[m->nrecords], 0, sizeof(*grown));
		m->nrecords++;
		if (read_record(err, name, r, &grown[m->nrecords - 1]) != 0)
			goto fail;
	}
	return m;
fail:
	twin_manifest_free(m);
	return NULL;
}

static xmlDoc *load_valid(struct twin_err *err, const char *name, const void *buf, size_t len)
{
	xmlDoc *doc = twin_xml_load_mem(err, WHAT, name, buf, len);

	if (doc && twin_xml_validate(err, WHAT, name, doc, twin_manifest_xsd) != 0) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

struct twin_manifest *twin_manifest_load_mem(struct twin_err *err, const char *name,
					     const void *buf, size_t len)
{
	struct twin_manifest *m = NULL;
	xmlDoc *doc = load_valid(err, name, buf, len);

	if (doc)
		m = from_doc(err, name, doc);
	xmlFreeDoc(doc);
	return m;
}

struct twin_manifest *twin_manifest_load(struct twin_err *err, const char *path)
{
	struct twin_manifest *m;
	size_t len = 0;
	void *buf = twin_file_read(err, path, &len);

	if (!buf)
		return NULL;
	m = twin_manifest_load_mem(err, path, buf, len);
	free(buf);
	return m;
}

void twin_manifest_free(struct twin_manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nrecords; i++)
		record_release(&m->records[i]);
	free(m->records);
	free(m);
}

const struct twin_manifest_record *twin_manifest_last_ok(const struct twin_manifest *m,
							 const char *program)
{
	size_t i;

	for (i = m->nrecords; i-- > 0;)
		if (m->records[i].status == TWIN_MANIFEST_OK && strcmp(m->records[i].program, program) == 0)
			return &m->records[i];
	return NULL;
}

const char *twin_manifest_record_setting(const struct twin_manifest_record *rec, const char *key)
{
	size_t i;

	for (i = 0; i < rec->nsettings; i++)
		if (strcmp(rec->settings[i].key, key) == 0)
			return rec->settings[i].value;
	return NULL;
}

static int files_unchanged(struct twin_err *err, const struct twin_manifest_file *files, size_t n,
			   const char *case_dir)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char hex[TWIN_SHA256_HEX];
		uint64_t size = 0;
		char *path = twin_path_join(case_dir, files[i].path);
		int rc;

		if (!path)
			return twin_err_set(err, TWIN_EFAIL, "cannot check '%s': out of memory", files[i].path);
		if (!twin_path_exists(path)) {
			free(path);
			return 0;
		}
		rc = twin_sha256_file(err, path, hex, &size);
		free(path);
		if (rc != 0)
			return -1;
		if (size != files[i].size || strcmp(hex, files[i].sha256) != 0)
			return 0;
	}
	return 1;
}

int twin_manifest_record_unchanged(struct twin_err *err, const struct twin_manifest_record *rec,
				   const char *case_dir)
{
	int rc = files_unchanged(err, rec->inputs, rec->ninputs, case_dir);

	if (rc == 1)
		rc = files_unchanged(err, rec->outputs, rec->noutputs, case_dir);
	return rc;
}

/* --- appending ----------------------------------------------------------- */

/* path relative to root when it lies inside root, else path itself. Borrowed. */
static const char *relative(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/' && path[1] ? path + 1 : path;
	if (strncmp(path, root, n) == 0 && path[n] == '/' && path[n + 1])
		return path + n + 1;
	return path;
}

static int add_prop(xmlNode *node, const char *name, const char *value)
{
	return xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -1;
}

static int add_file_nodes(xmlNode *r, const char *el, const struct twin_manifest_file *files,
			  size_t n, const char *root)
{
	char size[32];
	size_t i;

	for (i = 0; i < n; i++) {
		xmlNode *f = xmlNewChild(r, NULL, (const xmlChar *)el, NULL);

		snprintf(size, sizeof(size), "%llu", (unsigned long long)files[i].size);
		if (!f || add_prop(f, "path", relative(files[i].path, root)) != 0 ||
		    add_prop(f, "size", size) != 0 || add_prop(f, "sha256", files[i].sha256) != 0)
			return -1;
	}
	return 0;
}

/* Adds rec as a <record> under root; -1 on no memory. */
static int add_record_node(xmlNode *root, const struct twin_manifest_record *rec, const char *case_root)
{
	xmlNode *r = xmlNewChild(root, NULL, (const xmlChar *)"record", NULL);
	char num[64];
	size_t i;

	if (!r)
		return -1;
	snprintf(num, sizeof(num), "%.3f", rec->wall_seconds);
	if (add_prop(r, "program", rec->program) != 0 || add_prop(r, "version", rec->version) != 0 ||
	    add_prop(r, "start", rec->start) != 0 || add_prop(r, "wall_seconds", num) != 0 ||
	    add_prop(r, "status", rec->status == TWIN_MANIFEST_OK ? "ok" : "failed") != 0)
		return -1;
	for (i = 0; i < rec->nsettings; i++) {
		xmlNode *s = xmlNewChild(r, NULL, (const xmlChar *)"setting", NULL);

		if (!s || add_prop(s, "key", rec->settings[i].key) != 0 ||
		    add_prop(s, "value", rec->settings[i].value) != 0)
			return -1;
	}
	if (add_file_nodes(r, "input", rec->inputs, rec->ninputs, case_root) != 0 ||
	    add_file_nodes(r, "output", rec->outputs, rec->noutputs, case_root) != 0)
		return -1;
	for (i = 0; i < rec->nwarnings; i++)
		if (!xmlNewTextChild(r, NULL, (const xmlChar *)"warning", (const xmlChar *)rec->warnings[i]))
			return -1;
	if (rec->status == TWIN_MANIFEST_FAILED) {
		xmlNode *e = xmlNewTextChild(r, NULL, (const xmlChar *)"error",
					     (const xmlChar *)(rec->message ? rec->message : "failed"));

		snprintf(num, sizeof(num), "%d", (int)rec->code);
		if (!e || add_prop(e, "code", num) != 0)
			return -1;
	}
	return 0;
}

static xmlDoc *new_doc(void)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"manifest", NULL) : NULL;

	if (!root) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, root);
	if (add_prop(root, "version", FORMAT_VERSION) != 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* Reads the existing manifest, checks it whole, or makes an empty one. */
static xmlDoc *open_doc(struct twin_err *err, const char *path)
{
	struct twin_manifest *check = NULL;
	size_t len = 0;
	xmlDoc *doc;
	void *buf;

	if (!twin_path_exists(path)) {
		doc = new_doc();
		if (!doc)
			twin_err_set(err, TWIN_EFAIL, WHAT " '%s': out of memory", path);
		return doc;
	}
	buf = twin_file_read(err, path, &len);
	if (!buf)
		return NULL;
	doc = load_valid(err, path, buf, len);
	free(buf);
	if (doc) {
		check = from_doc(err, path, doc);
		if (!check) {
			xmlFreeDoc(doc);
			doc = NULL;
		}
	}
	twin_manifest_free(check);
	return doc;
}

static int lock_case(struct twin_err *err, const char *case_dir)
{
	char *path = twin_path_join(case_dir, ".manifest.lock");
	int fd;

	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "cannot lock '%s': out of memory", case_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		twin_err_errno(err, "cannot open lock file", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			twin_err_errno(err, "cannot lock", path);
			close(fd);
			free(path);
			return -1;
		}
	}
	free(path);
	return fd;
}

int twin_manifest_append(struct twin_err *err, const char *case_dir, struct twin_manifest_record *rec)
{
	char *path = NULL, *root = NULL;
	xmlDoc *doc = NULL;
	int lock = -1;
	int rc = -1;

	rec->wall_seconds = monotonic_seconds() - rec->clock0;
	if (rec->wall_seconds < 0)
		rec->wall_seconds = 0;
	path = twin_path_join(case_dir, "manifest.xml");
	if (!path || rec->nomem) {
		twin_err_set(err, TWIN_EFAIL, "cannot append to " WHAT " of '%s': out of memory", case_dir);
		goto out;
	}
	root = realpath(case_dir, NULL);
	if (!root) {
		twin_err_errno(err, "cannot find case folder", case_dir);
		goto out;
	}
	lock = lock_case(err, case_dir);
	if (lock < 0)
		goto out;
	doc = open_doc(err, path);
	if (!doc)
		goto out;
	if (add_record_node(xmlDocGetRootElement(doc), rec, root) != 0) {
		twin_err_set(err, TWIN_EFAIL, "cannot append to " WHAT " '%s': out of memory", path);
		goto out;
	}
	rc = twin_xml_save(err, WHAT, path, doc, twin_manifest_xsd);
out:
	xmlFreeDoc(doc);
	if (lock >= 0)
		close(lock);
	free(root);
	free(path);
	return rc;
}
