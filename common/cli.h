/*
 * cli: what every stage's main() shares: the command line (getopt_long with
 * the common options -h -v -q -c --set --version), the settings it loads,
 * diagnostics on stderr and a progress line. Owns the loaded settings.
 * Includes err.h and conf.h only.
 *
 *	static const char *out;
 *	static int force;
 *	static const struct twin_cli_option opts[] = {
 *		{ 'o', "out", "DIR", "write the case here", &out, NULL },
 *		{ 0, "force", NULL, "overwrite what is there", NULL, &force },
 *	};
 *	static const struct twin_cli_spec spec = {
 *		"twin-ingest", "DICOM_DIR CASE_DIR", 2, 2,
 *		"converts a DICOM study to image.nii.gz", opts, 2,
 *	};
 *
 *	int main(int argc, char **argv)
 *	{
 *		struct twin_err err;
 *		struct twin_cli cli;
 *		int rc = 0;
 *
 *		twin_err_init(&err);
 *		if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
 *			rc = twin_cli_error(&cli, &err);  // usage errors exit 2
 *		else if (!cli.done)
 *			rc = run(&err, &cli) ? twin_cli_error(&cli, &err) : 0;
 *		twin_cli_release(&cli);
 *		return rc;
 *	}
 */
#ifndef TWIN_CLI_H
#define TWIN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A stage option. With arg set it takes a value, stored in *value (a pointer
 * into argv; the last one given wins); without, it is a flag and *count is
 * incremented each time it is given.
 */
struct twin_cli_option {
	int short_name;     /* 'o', or 0 for none */
	const char *name;   /* long name without "--" */
	const char *arg;    /* "DIR" for usage, or NULL for a flag */
	const char *help;   /* one line */
	const char **value; /* options with arg */
	int *count;         /* flags */
};

struct twin_cli_spec {
	const char *prog;    /* "twin-ingest", the prefix of every diagnostic */
	const char *args;    /* positional arguments for usage: "DICOM_DIR CASE_DIR" */
	size_t min_args, max_args;
	const char *summary; /* one line: what the program does */
	const struct twin_cli_option *opts;
	size_t nopts;
};

struct twin_cli {
	const struct twin_cli_spec *spec;
	int done;           /* --help or --version was printed: exit 0 */
	int verbose;        /* -v, once per -v */
	int quiet;          /* -q */
	const char *config; /* -c FILE, or NULL */
	struct twin_conf *conf; /* defaults, then -c FILE, then each --set in order */
	char **args;        /* positional arguments, inside argv */
	size_t nargs;
};

/*
 * Parses the command line and loads the settings. --help prints the usage to
 * stdout, --version "<prog> <version>"; both set cli->done and skip the rest.
 * Errors: TWIN_EUSAGE for a bad command line, and those of twin_conf_load_file
 * and twin_conf_set. argv may be permuted (GNU getopt). cli needs
 * twin_cli_release afterwards, also after a failure.
 */
int twin_cli_parse(struct twin_err *err, struct twin_cli *cli, const struct twin_cli_spec *spec,
		   int argc, char **argv);
void twin_cli_release(struct twin_cli *cli);

/* The version the programs report, TWIN_VERSION from the Makefile. */
const char *twin_cli_version(void);

/*
 * Prints "<prog>: <message>" on stderr, and after a usage error a short usage
 * and a pointer to --help. Returns the exit code for err.
 */
int twin_cli_error(const struct twin_cli *cli, const struct twin_err *err);
/* "<prog>: warning: ..." on stderr, even with -q. */
void twin_cli_warn(const struct twin_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "<prog>: ..." on stderr, only with -v. */
void twin_cli_info(const struct twin_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A one-line progress display, "\r<prog>: <title> 42%", drawn on stderr only
 * when stderr is a terminal and -q was not given, at most ten times a second.
 * total 0 means unknown: the count is shown instead of a percent.
 */
struct twin_progress {
	const char *prog;
	const char *title;
	uint64_t total;
	int enabled;
	int drawn;           /* something was drawn */
	uint64_t shown;      /* the percent (or count) last drawn */
	uint64_t value;      /* the latest update */
	uint64_t last_ms;    /* when it was last drawn */
};

/* Fills p; allocates nothing. title must stay valid until twin_progress_done. */
void twin_progress_init(struct twin_progress *p, const struct twin_cli *cli,
			const char *title, uint64_t total);
void twin_progress_update(struct twin_progress *p, uint64_t done);
/* Draws the final state followed by ", done" and a newline. */
void twin_progress_done(struct twin_progress *p);

#ifdef __cplusplus
}
#endif

#endif
