/*
 * conf: the settings of pipeline.conf and --set. Every key is declared once,
 * in the table in conf.c, with its type, range, default, unit and help; the
 * documented default pipeline.conf is written from that table.
 * Owns the effective value of each key and where it came from. Includes err.h only.
 *
 * The file is INI style: "[section]" lines, then "key = value" lines; '#' and
 * ';' start a comment line, " # ..." ends a value with a comment, values may be
 * enclosed in double quotes. The full name of a key is "section.key".
 */
#ifndef TWIN_CONF_H
#define TWIN_CONF_H

#include <stdio.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct twin_conf;

/* Every key at its default. Returns an owned pointer (twin_conf_free) or NULL. */
struct twin_conf *twin_conf_new(struct twin_err *err);
void twin_conf_free(struct twin_conf *conf);

/*
 * Reads settings from a file, or from text with name used in messages, over
 * the current values. A failed load changes nothing. Errors are TWIN_ECONFIG,
 * "name:line: what is wrong: the line", or TWIN_EIO when the file cannot be read.
 */
int twin_conf_load_file(struct twin_err *err, struct twin_conf *conf, const char *path);
int twin_conf_load_string(struct twin_err *err, struct twin_conf *conf,
			  const char *name, const char *text);

/* Applies one "section.key=value" from --set; errors begin "--set 'arg': ". */
int twin_conf_set(struct twin_err *err, struct twin_conf *conf, const char *arg);

/*
 * Sets key, a declared key, from a program's own option ("--size") that
 * stands for it; the option becomes the key's origin. Errors begin
 * "--size 'value': ". An undeclared key is a programming error: it aborts.
 */
int twin_conf_set_value(struct twin_err *err, struct twin_conf *conf, const char *option,
			const char *key, const char *value);

/*
 * Typed getters. Asking for a key that is not declared, or with the wrong
 * type, is a programming error: it prints the name and aborts.
 * twin_conf_string also reads enum keys; its pointer stays valid until the
 * key changes or conf is freed.
 */
int twin_conf_bool(const struct twin_conf *conf, const char *key);
long twin_conf_int(const struct twin_conf *conf, const char *key);
double twin_conf_double(const struct twin_conf *conf, const char *key);
const char *twin_conf_string(const struct twin_conf *conf, const char *key);
/* 1 when choice is in the list key ("all" holds every choice), else 0. */
int twin_conf_list_has(const struct twin_conf *conf, const char *key, const char *choice);

/* ingest.phase, parsed: a percent of the R-R interval, or a 0-based index. */
struct twin_phase {
	int is_percent;
	double percent; /* 0 <= percent < 100, when is_percent */
	long index;     /* >= 0, when !is_percent */
};
void twin_conf_phase(const struct twin_conf *conf, struct twin_phase *phase);

/* "default", "name:line" or "--set": where the key's value came from. */
const char *twin_conf_origin(const struct twin_conf *conf, const char *key);

/*
 * Calls fn for each key of section (every key when section is NULL), in table
 * order, with the full key name, its value as text and its origin. Stops at
 * the first non-zero return of fn and returns it; returns 0 otherwise.
 */
typedef int twin_conf_fn(void *ctx, const char *key, const char *value, const char *origin);
int twin_conf_foreach(const struct twin_conf *conf, const char *section,
		      twin_conf_fn *fn, void *ctx);

/*
 * Writes the effective settings of section (all when NULL) as a valid
 * pipeline.conf. The caller checks ferror(f).
 */
void twin_conf_write(const struct twin_conf *conf, FILE *f, const char *section);

/* Writes the documented default pipeline.conf: every key, its help and default. */
void twin_conf_doc(FILE *f);

#ifdef __cplusplus
}
#endif

#endif
