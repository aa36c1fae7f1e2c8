/*
 * Replays a fuzz target's corpus without libFuzzer, as a TAP program: one
 * result per file of tests/fuzz/corpus/<target>/. A crash, a leak or a
 * sanitizer report fails the run; the target must return 0.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');
	char dir[4096];
	char *names[4096];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	self = self ? self + 1 : argv[0];
	if (strncmp(self, "replay_", 7) == 0)
		self += 7;
	snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "tests/fuzz/corpus");
	if (argc <= 1) {
		size_t l = strlen(dir);
		snprintf(dir + l, sizeof(dir) - l, "/%s", self);
	}
	d = opendir(dir);
	if (!d) {
		printf("1..1\nnot ok 1 - corpus '%s' is missing\n", dir);
		return 1;
	}
	while ((e = readdir(d)) && n < 4096)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		struct twin_err err;
		char path[8192];
		size_t len = 0;
		void *buf;

		twin_err_init(&err);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		buf = twin_file_read(&err, path, &len);
		if (!buf) {
			printf("not ok %zu - %s: %s\n", i + 1, names[i], err.msg);
		} else {
			int rc = LLVMFuzzerTestOneInput(buf, len);
			printf("%sok %zu - %s %s\n", rc ? "not " : "", i + 1, self, names[i]);
		}
		fflush(stdout);
		free(buf);
		free(names[i]);
	}
	return 0;
}
