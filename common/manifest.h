/*
 * manifest: CASE/manifest.xml, the provenance of a case folder. Each stage
 * run appends one record (program, version, start, settings, inputs and
 * outputs with SHA-256, warnings, wall time, ok or the error); the driver
 * reads the records back to skip stages whose inputs are unchanged.
 * Owns the records it returns. Includes err.h, hash.h and conf.h only.
 */
#ifndef TWIN_MANIFEST_H
#define TWIN_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema every manifest.xml is validated against, compiled in. */
extern const char twin_manifest_xsd[];

enum twin_manifest_status {
	TWIN_MANIFEST_OK = 0,
	TWIN_MANIFEST_FAILED = 1
};

struct twin_manifest_setting {
	char *key;
	char *value;
};

struct twin_manifest_file {
	char *path;     /* relative to the case folder when inside it */
	uint64_t size;  /* bytes */
	char sha256[TWIN_SHA256_HEX];
};

/*
 * One stage run. Build one with twin_manifest_record_new and the _add
 * functions, or read them with twin_manifest_load; treat the fields as
 * read-only. Every string is owned by the record.
 */
struct twin_manifest_record {
	char *program;                   /* "twin-ingest" */
	char *version;
	char *start;                     /* xs:dateTime, "2024-05-01T12:00:00Z" when written here */
	double wall_seconds;
	enum twin_manifest_status status;
	enum twin_code code;             /* when status is failed */
	char *message;                   /* when status is failed */
	struct twin_manifest_setting *settings;
	size_t nsettings;
	struct twin_manifest_file *inputs;
	size_t ninputs;
	struct twin_manifest_file *outputs;
	size_t noutputs;
	char **warnings;
	size_t nwarnings;
	/* private to manifest.c */
	double clock0;                   /* monotonic seconds at record_new */
	int nomem;                       /* an _add without err ran out of memory */
};

/* All records of one manifest.xml, oldest first. */
struct twin_manifest {
	struct twin_manifest_record *records;
	size_t nrecords;
};

/*
 * A new record with status ok; notes the start time (UTC) and starts a
 * monotonic clock that twin_manifest_append stops. Returns an owned record
 * (twin_manifest_record_free) or NULL.
 */
struct twin_manifest_record *twin_manifest_record_new(struct twin_err *err, const char *program,
						      const char *version);
void twin_manifest_record_free(struct twin_manifest_record *rec);

/*
 * Notes a setting (a later value for the same key replaces the earlier) and
 * a warning. They cannot fail here: running out of memory is remembered and
 * reported by twin_manifest_append. Text that XML cannot hold becomes '?'.
 */
void twin_manifest_add_setting(struct twin_manifest_record *rec, const char *key, const char *value);
/* Notes every effective setting of one section of conf ("mesh"). */
void twin_manifest_add_settings(struct twin_manifest_record *rec, const struct twin_conf *conf,
				const char *section);
void twin_manifest_add_warning(struct twin_manifest_record *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Hashes the regular file at path (SHA-256, streamed) and notes it as an
 * input or an output with its size. The path is kept absolute until
 * twin_manifest_append makes it relative to the case folder.
 */
int twin_manifest_add_input(struct twin_err *err, struct twin_manifest_record *rec, const char *path);
int twin_manifest_add_output(struct twin_err *err, struct twin_manifest_record *rec, const char *path);

/*
 * The same for a file whose size and SHA-256 (64 lower-case hex digits) the
 * caller already has from the bytes it read or wrote, so it is not read
 * again; path must exist. TWIN_EFAIL when sha256 is not such a digest.
 */
int twin_manifest_add_input_hashed(struct twin_err *err, struct twin_manifest_record *rec,
				   const char *path, uint64_t size, const char *sha256);
int twin_manifest_add_output_hashed(struct twin_err *err, struct twin_manifest_record *rec,
				    const char *path, uint64_t size, const char *sha256);

/* Marks the run failed with the code and message of stage_err. */
void twin_manifest_record_fail(struct twin_manifest_record *rec, const struct twin_err *stage_err);

/*
 * Stops the clock and appends rec to case_dir/manifest.xml, creating it when
 * missing. Holds an exclusive flock on case_dir/.manifest.lock from read to
 * rename, so concurrent writers lose no record. An existing manifest that is
 * not XML or not valid is TWIN_EINPUT ("manifest 'CASE/manifest.xml': line
 * 3: ...") and is left untouched. The result is validated, then written to a
 * temporary file and renamed.
 */
int twin_manifest_append(struct twin_err *err, const char *case_dir, struct twin_manifest_record *rec);

/*
 * Reads and validates a manifest. Returns an owned manifest
 * (twin_manifest_free) or NULL: TWIN_EIO when unreadable, TWIN_EINPUT when
 * not XML, not valid, or a failed record without its error.
 */
struct twin_manifest *twin_manifest_load(struct twin_err *err, const char *path);
/* The same from memory; name stands for the file in messages. */
struct twin_manifest *twin_manifest_load_mem(struct twin_err *err, const char *name,
					     const void *buf, size_t len);
void twin_manifest_free(struct twin_manifest *m);

/* The last record of program with status ok, or NULL. Borrowed from m. */
const struct twin_manifest_record *twin_manifest_last_ok(const struct twin_manifest *m,
							 const char *program);

/* The value of setting key in rec, or NULL. Borrowed from rec. */
const char *twin_manifest_record_setting(const struct twin_manifest_record *rec, const char *key);

/*
 * Whether every input and output of rec still has its size and SHA-256,
 * paths taken relative to case_dir: 1 when all do, 0 when one differs or is
 * gone, -1 on a read error.
 */
int twin_manifest_record_unchanged(struct twin_err *err, const struct twin_manifest_record *rec,
				   const char *case_dir);

#ifdef __cplusplus
}
#endif

#endif
