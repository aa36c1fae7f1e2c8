/*
 * Fuzz target for the pipeline.conf parser: loads the input as a settings
 * text and as a --set argument. What loads must write out and read back to
 * the same settings; a difference aborts, so the fuzzer reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_text(const struct twin_conf *conf)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	twin_conf_write(conf, f, NULL);
	fclose(f);
	return buf;
}

/* Writes conf, reads it back into a fresh conf, and checks both agree. */
static void round_trip(const struct twin_conf *conf)
{
	struct twin_err err;
	struct twin_conf *back = NULL;
	char *first = write_text(conf), *second = NULL;

	twin_err_init(&err);
	back = twin_conf_new(&err);
	if (!first || !back)
		goto out;
	if (twin_conf_load_string(&err, back, "written", first) != 0) {
		fprintf(stderr, "written settings do not read back: %s\n", err.msg);
		abort();
	}
	second = write_text(back);
	if (second && strcmp(first, second) != 0) {
		fprintf(stderr, "written settings read back differently\n");
		abort();
	}
out:
	free(first);
	free(second);
	twin_conf_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twin_err err;
	struct twin_conf *conf = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	twin_err_init(&err);
	conf = twin_conf_new(&err);
	if (!conf)
		goto out;
	if (twin_conf_load_string(&err, conf, "fuzz.conf", text) == 0)
		round_trip(conf);
	twin_err_init(&err);
	if (twin_conf_set(&err, conf, text) == 0)
		round_trip(conf);
out:
	twin_conf_free(conf);
	free(text);
	return 0;
}
