#include "skip.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "files.h"
#include "xml.h"

/* What each check returns: the stage must run, it may be skipped, or no memory. */
enum { RUN = 0, UP_TO_DATE = 1, NOMEM = -1 };

/* Folders under DICOM_DIR are looked into at most this deep, as twin-ingest does. */
#define MAX_DEPTH 32

static int later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

struct compare {
	const struct twin_manifest_record *rec;
	char *why;
	size_t whylen;
};

/* twin_conf_foreach callback: 1 when key's value differs from the recorded one. */
static int compare_setting(void *ctx, const char *key, const char *value, const char *origin)
{
	struct compare *c = ctx;
	const char *was = twin_manifest_record_setting(c->rec, key);
	/* the text twin_manifest_add_settings records */
	char *now = twin_xml_text_dup(value);
	int differs = 0;

	(void)origin;
	if (!now)
		return -1;
	if (!was) {
		snprintf(c->why, c->whylen, "%s is not among the settings of its last run", key);
		differs = 1;
	} else if (strcmp(was, now) != 0) {
		snprintf(c->why, c->whylen, "%s was '%s', now '%s'", key, was, now);
		differs = 1;
	}
	free(now);
	return differs;
}

static int same_settings(const struct twin_stage *s, const struct twin_manifest_record *rec,
			 const struct twin_conf *conf, char *why, size_t whylen)
{
	struct compare c = { rec, why, whylen };

	for (size_t i = 0; s->sections[i]; i++) {
		int rc = twin_conf_foreach(conf, s->sections[i], compare_setting, &c);

		if (rc < 0)
			return NOMEM;
		if (rc > 0)
			return RUN;
	}
	return UP_TO_DATE;
}

static int has_file(const struct twin_manifest_file *files, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].path, path) == 0)
			return 1;
	return 0;
}

/*
 * The folder of the DICOM study, resolved: DICOM_DIR itself, or the folder
 * of a DICOMDIR. malloc'd (free); NULL with why set when it cannot be resolved.
 */
static char *dicom_root(const char *dicom_dir, char *why, size_t whylen)
{
	char *real = realpath(dicom_dir, NULL);
	struct stat st;
	char *slash;

	if (!real) {
		snprintf(why, whylen, "'%s': %s", dicom_dir, strerror(errno));
		return NULL;
	}
	if (stat(real, &st) == 0 && !S_ISDIR(st.st_mode) && (slash = strrchr(real, '/')))
		slash[slash == real ? 1 : 0] = '\0';
	return real;
}

/* Whether every input of rec lies in root; relative paths lie in case_dir. */
static int inputs_inside(const struct twin_manifest_record *rec, const char *case_dir,
			 const char *root, const char *dicom_dir, char *why, size_t whylen)
{
	char *case_real = realpath(case_dir, NULL);
	size_t n = strlen(root);
	int rc = UP_TO_DATE;

	if (!case_real) {
		snprintf(why, whylen, "'%s': %s", case_dir, strerror(errno));
		return RUN;
	}
	if (strcmp(root, "/") == 0)
		n = 0;
	for (size_t i = 0; i < rec->ninputs && rc == UP_TO_DATE; i++) {
		char *abs = twin_path_join(case_real, rec->inputs[i].path);

		if (!abs) {
			rc = NOMEM;
		} else if (strncmp(abs, root, n) != 0 || abs[n] != '/') {
			snprintf(why, whylen, "its last run read '%s', which is not in '%s'",
				 rec->inputs[i].path, dicom_dir);
			rc = RUN;
		}
		free(abs);
	}
	free(case_real);
	return rc;
}

/* The latest modification time of dir and of everything in it, hidden names left out. */
static void newest_in(const char *dir, int depth, struct timespec *newest)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = twin_path_join(dir, e->d_name);
		if (p && stat(p, &st) == 0) {
			if (later(&st.st_mtim, newest))
				*newest = st.st_mtim;
			if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
				newest_in(p, depth + 1, newest);
		}
		free(p);
	}
	closedir(d);
}

/* The modification time of a file of rec, or RUN with why set when it is gone. */
static int file_time(const char *case_dir, const char *path, struct timespec *t, char *why,
		     size_t whylen)
{
	char *p = twin_path_join(case_dir, path);
	struct stat st;
	int rc;

	if (!p)
		return NOMEM;
	rc = stat(p, &st);
	free(p);
	if (rc != 0) {
		snprintf(why, whylen, "'%s' is gone: %s", path, strerror(errno));
		return RUN;
	}
	*t = st.st_mtim;
	return UP_TO_DATE;
}

/* Whether every output of rec exists and none is older than an input. */
static int outputs_newer(const struct twin_stage *s, const struct twin_manifest_record *rec,
			 const char *case_dir, const char *root, char *why, size_t whylen)
{
	struct timespec oldest = { 0, 0 }, t;
	int rc;

	for (size_t i = 0; i < rec->noutputs; i++) {
		if ((rc = file_time(case_dir, rec->outputs[i].path, &t, why, whylen)) != UP_TO_DATE)
			return rc;
		if (i == 0 || later(&oldest, &t))
			oldest = t;
	}
	if (s->dicom) {
		struct stat st;

		if (stat(root, &st) != 0) {
			snprintf(why, whylen, "'%s': %s", root, strerror(errno));
			return RUN;
		}
		t = st.st_mtim;
		newest_in(root, 0, &t);
		if (later(&t, &oldest)) {
			snprintf(why, whylen, "the DICOM folder changed after its last run");
			return RUN;
		}
		return UP_TO_DATE;
	}
	for (size_t i = 0; i < rec->ninputs; i++) {
		if ((rc = file_time(case_dir, rec->inputs[i].path, &t, why, whylen)) != UP_TO_DATE)
			return rc;
		if (later(&t, &oldest)) {
			snprintf(why, whylen, "'%s' is newer than its outputs", rec->inputs[i].path);
			return RUN;
		}
	}
	return UP_TO_DATE;
}

/* Whether every file of rec still has its SHA-256; a file that cannot be read is a reason to run. */
static int same_content(const struct twin_manifest_record *rec, const char *case_dir, char *why,
			size_t whylen)
{
	struct twin_err herr;
	int rc;

	twin_err_init(&herr);
	rc = twin_manifest_record_unchanged(&herr, rec, case_dir);
	if (rc == 1)
		return UP_TO_DATE;
	if (rc < 0 && herr.code == TWIN_EFAIL)
		return NOMEM;
	if (rc < 0)
		snprintf(why, whylen, "%s", herr.msg);
	else
		snprintf(why, whylen, "an input or output is not the file of its last run (SHA-256)");
	return RUN;
}

/* The checks of twin_skip_check after the record is found, cheap ones first. */
static int check_record(const struct twin_stage *s, const struct twin_manifest_record *rec,
			const struct twin_conf *conf, const char *case_dir, const char *dicom_dir,
			char *why, size_t whylen)
{
	char *root = NULL;
	int rc;

	if ((rc = same_settings(s, rec, conf, why, whylen)) != UP_TO_DATE)
		return rc;
	if (rec->ninputs == 0 || rec->noutputs == 0) {
		snprintf(why, whylen, "its last run noted no %s", rec->ninputs ? "output" : "input");
		return RUN;
	}
	if (s->input && !has_file(rec->inputs, rec->ninputs, s->input)) {
		snprintf(why, whylen, "its last run did not read '%s'", s->input);
		return RUN;
	}
	if (s->output && !has_file(rec->outputs, rec->noutputs, s->output)) {
		snprintf(why, whylen, "its last run did not write '%s'", s->output);
		return RUN;
	}
	if (s->dicom) {
		if (!(root = dicom_root(dicom_dir, why, whylen)))
			return RUN;
		rc = inputs_inside(rec, case_dir, root, dicom_dir, why, whylen);
	}
	if (rc == UP_TO_DATE)
		rc = outputs_newer(s, rec, case_dir, root, why, whylen);
	free(root);
	if (rc == UP_TO_DATE)
		rc = same_content(rec, case_dir, why, whylen);
	return rc;
}

int twin_skip_check(struct twin_err *err, const struct twin_stage *s, const struct twin_manifest *m,
		    const struct twin_conf *conf, const char *case_dir, const char *dicom_dir,
		    char *why, size_t whylen)
{
	const struct twin_manifest_record *rec = m ? twin_manifest_last_ok(m, s->prog) : NULL;
	int rc;

	if (whylen)
		why[0] = '\0';
	if (!rec) {
		snprintf(why, whylen, "no earlier run of it succeeded");
		return 0;
	}
	rc = check_record(s, rec, conf, case_dir, dicom_dir, why, whylen);
	if (rc == NOMEM)
		return twin_err_set(err, TWIN_EFAIL, "%s: checking its last run: out of memory", s->prog);
	return rc;
}
