/*
 * err: the error slot every fallible function takes first, and the exit codes.
 * The caller owns the struct; setting an error allocates nothing.
 * Plain C; includes nothing else from dcm2twin.
 */
#ifndef TWIN_ERR_H
#define TWIN_ERR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes. The README's table lists the same numbers. */
enum twin_code {
	TWIN_OK = 0,
	TWIN_EFAIL = 1,        /* an internal failure */
	TWIN_EUSAGE = 2,       /* bad command line */
	TWIN_EINPUT = 3,       /* bad input data: corrupt, truncated, inconsistent */
	TWIN_EUNSUPPORTED = 4, /* valid input that dcm2twin cannot use */
	TWIN_EDEP = 5,         /* a library or external program failed */
	TWIN_EIO = 6,          /* a file cannot be read, written or renamed */
	TWIN_ECONFIG = 7,      /* a bad setting in pipeline.conf or --set */
	TWIN_EPARTIAL = 8      /* some outputs were written, others failed */
};

#define TWIN_ERR_MSG_MAX 1024

struct twin_err {
	enum twin_code code;
	char msg[TWIN_ERR_MSG_MAX];
};

/* Clears err: code TWIN_OK, empty message. */
void twin_err_init(struct twin_err *err);

/*
 * Sets code and message, printf style. An error is set once: if err already
 * holds one, the call changes nothing. Returns -1 so that a caller may write
 * `return twin_err_set(err, ...);`. err may be NULL.
 */
int twin_err_set(struct twin_err *err, enum twin_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int twin_err_vset(struct twin_err *err, enum twin_code code, const char *fmt, va_list ap);

/* Prefixes context to the message: "ctx: old message". Returns -1. */
int twin_err_prefix(struct twin_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets a TWIN_EIO error from errno: "what 'path': strerror(errno)". */
int twin_err_errno(struct twin_err *err, const char *what, const char *path);

/* The exit code for err: TWIN_OK when no error is set. */
int twin_err_exit_code(const struct twin_err *err);

/* A short name for a code, as the README's table gives it ("bad input"). */
const char *twin_err_code_name(enum twin_code code);

#ifdef __cplusplus
}
#endif

#endif
