/*
 * twin_test: helpers shared by the cmocka suites: assertions that print
 * err.msg, a scratch folder per test, and the path of the shared real data.
 */
#ifndef TWIN_TEST_H
#define TWIN_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

/* Fails with err.msg when the call did not succeed. */
#define assert_ok(err, rc) do { \
	if ((rc) != 0) \
		fail_msg("unexpected error %d: %s", (err).code, (err).msg); \
} while (0)
#define assert_ptr_ok(err, p) do { \
	if ((p) == NULL) \
		fail_msg("unexpected error %d: %s", (err).code, (err).msg); \
} while (0)

/* Fails unless err holds code and a message containing substr. */
#define assert_err(err, want_code, substr) do { \
	if ((err).code != (want_code) || !strstr((err).msg, (substr))) \
		fail_msg("want error %d with '%s', got %d: '%s'", \
			 (int)(want_code), (substr), (int)(err).code, (err).msg); \
} while (0)

/* A fresh scratch folder (mkdtemp), removed with everything in it by twin_test_rmdir. */
char *twin_test_tmpdir(void);
void twin_test_rmdir(char *dir);

/* dir/name in a static buffer that the next call overwrites. */
const char *twin_test_path(const char *dir, const char *name);

/*
 * The shared real data folder ($TWIN_SHARED_DATA) joined with rel, or NULL
 * after printing a visible SKIP when it is absent. Returns a static buffer.
 */
const char *twin_test_data(const char *rel);

struct twin_volume;

/* An n^3 uint8 label map of zeros: voxels of spacing mm, its first at (origin, origin, origin). */
struct twin_volume *twin_test_label_map(size_t n, double spacing, double origin);

/* Whether the gmsh program runs; prints a visible SKIP when it does not. */
int twin_test_have_gmsh(void);

/* Writes len bytes to path; fails the test on error. */
void twin_test_write_file(const char *path, const void *buf, size_t len);
/* Reads a whole file into a malloc'd buffer; fails the test on error. */
void *twin_test_read_file(const char *path, size_t *len);

#endif
