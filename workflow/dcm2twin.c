/*
 * dcm2twin: the one command. Runs twin-ingest, twin-segment, twin-mesh and
 * twin-export on a DICOM study into a case folder with the settings of one
 * pipeline.conf, skips the stages that are up to date, and writes
 * CASE/report.html. --print-config prints the effective settings and
 * --report only writes the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "manifest.h"

#include "report.h"
#include "settings.h"
#include "skip.h"
#include "stages.h"

#define PROG "dcm2twin"

static const char *opt_from;
static int opt_force, opt_print_config, opt_report;

static const struct twin_cli_option options[] = {
	{ 0, "from", "STAGE", "run STAGE and every stage after it: ingest, segment, mesh or export", &opt_from, NULL },
	{ 0, "force", NULL, "run every stage, up to date or not", NULL, &opt_force },
	{ 0, "print-config", NULL, "print the effective settings as a pipeline.conf and exit (no arguments)", NULL, &opt_print_config },
	{ 0, "report", NULL, "only write CASE_DIR/report.html (CASE_DIR alone)", NULL, &opt_report },
};

static const struct twin_cli_spec spec = {
	PROG, "DICOM_DIR CASE_DIR", 0, 2,
	"runs twin-ingest, twin-segment, twin-mesh and twin-export on DICOM_DIR into CASE_DIR,\n"
	"skipping the stages that are up to date, and writes CASE_DIR/report.html\n"
	"  dcm2twin --print-config [-c FILE] [--set KEY=VALUE]...\n"
	"  dcm2twin --report CASE_DIR",
	options, sizeof(options) / sizeof(options[0]),
};

/* What one run holds; run() frees the manifest. */
struct run {
	const struct twin_cli *cli;
	const char *dicom_dir, *case_dir;
	struct twin_manifest *manifest; /* NULL when the case has none (yet) */
};

/* The arguments that choose what dcm2twin does, checked together. */
static int check_usage(struct twin_err *err, const struct twin_cli *cli)
{
	const char *mode = opt_print_config ? "--print-config" : "--report";

	if (opt_print_config && opt_report)
		return twin_err_set(err, TWIN_EUSAGE, "--print-config and --report exclude each other");
	if ((opt_print_config || opt_report) && (opt_from || opt_force))
		return twin_err_set(err, TWIN_EUSAGE, "%s runs no stage: %s does not apply", mode,
				    opt_from ? "--from" : "--force");
	if (opt_print_config && cli->nargs > 0)
		return twin_err_set(err, TWIN_EUSAGE, "unexpected argument '%s': --print-config takes none",
				    cli->args[0]);
	if (opt_report && cli->nargs != 1)
		return twin_err_set(err, TWIN_EUSAGE, "--report takes CASE_DIR alone");
	if (!opt_print_config && !opt_report && cli->nargs < 2)
		return twin_err_set(err, TWIN_EUSAGE, "missing arguments: expected DICOM_DIR CASE_DIR");
	if (opt_from && twin_stage_find(opt_from) < 0)
		return twin_err_set(err, TWIN_EUSAGE,
				    "--from '%s': not a stage: ingest, segment, mesh or export", opt_from);
	return 0;
}

static int print_config(struct twin_err *err, const struct twin_cli *cli)
{
	twin_settings_print(stdout, cli->conf);
	if (fflush(stdout) != 0 || ferror(stdout))
		return twin_err_set(err, TWIN_EIO, "cannot write the settings to stdout");
	return 0;
}

/*
 * CASE/manifest.xml, when there is one. One that cannot be read is no
 * reason to stop here: every stage runs, and the first to append a record
 * says what is wrong with it.
 */
static int load_manifest(struct twin_err *err, struct run *r)
{
	char *path = twin_path_join(r->case_dir, "manifest.xml");
	struct twin_err merr;

	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	twin_err_init(&merr);
	if (twin_path_exists(path)) {
		r->manifest = twin_manifest_load(&merr, path);
		if (!r->manifest && merr.code == TWIN_EFAIL) {
			*err = merr;
			free(path);
			return -1;
		}
		if (!r->manifest)
			twin_cli_warn(r->cli, "%s; every stage runs", merr.msg);
	}
	free(path);
	return 0;
}

/* Runs one stage with our settings and streams; *status is its exit code. */
static int run_stage(struct twin_err *err, const struct run *r, const struct twin_stage *s, int *status)
{
	const struct twin_cli *cli = r->cli;
	struct twin_stage_args args;
	char *path = twin_stage_path(s->prog);
	int rc = -1;

	twin_stage_args_init(&args);
	if (!path) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_stage_args_add(err, &args, s->prog) != 0)
		goto out;
	if (cli->quiet && twin_stage_args_add(err, &args, "-q") != 0)
		goto out;
	for (int i = 0; i < cli->verbose; i++)
		if (twin_stage_args_add(err, &args, "-v") != 0)
			goto out;
	if (twin_settings_args(err, &args, cli->conf, cli->config) != 0 ||
	    twin_stage_args_add(err, &args, "--") != 0)
		goto out;
	if (s->dicom && twin_stage_args_add(err, &args, r->dicom_dir) != 0)
		goto out;
	if (twin_stage_args_add(err, &args, r->case_dir) != 0)
		goto out;
	twin_cli_info(cli, "running %s", path);
	rc = twin_stage_run(err, path, &args, status);
out:
	twin_stage_args_release(&args);
	free(path);
	return rc;
}

/*
 * Runs the stages from the first that is not up to date (or from --from,
 * or all with --force) to the end. *code is the exit code of the run: 0,
 * 8 when twin-export wrote some targets only, or the code of the stage that
 * failed, which stops the run. Returns -1 when a stage cannot be run at all.
 */
static int run_stages(struct twin_err *err, struct run *r, int *code)
{
	const struct twin_cli *cli = r->cli;
	size_t n, i;
	const struct twin_stage *stages = twin_stages(&n);
	size_t from = opt_force ? 0 : opt_from ? (size_t)twin_stage_find(opt_from) : n;
	int running = 0, status;
	char why[1024];

	*code = 0;
	if (load_manifest(err, r) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct twin_stage *s = &stages[i];

		if (!running && i < from) {
			int up = twin_skip_check(err, s, r->manifest, cli->conf, r->case_dir, r->dicom_dir,
						 why, sizeof(why));
			if (up < 0)
				return -1;
			if (up) {
				if (!cli->quiet)
					fprintf(stderr, "%s: %s is up to date, skipped\n", PROG, s->prog);
				continue;
			}
			twin_cli_info(cli, "%s runs: %s", s->prog, why);
		}
		running = 1;
		if (run_stage(err, r, s, &status) != 0)
			return -1;
		if (status == TWIN_EPARTIAL && i + 1 == n) {
			fprintf(stderr, "%s: some export targets failed (see %s above); the others are written\n",
				PROG, s->prog);
			*code = status;
		} else if (status != 0) {
			fprintf(stderr, "%s: stopped: %s failed with exit code %d (%s)\n", PROG, s->prog, status,
				twin_err_code_name((enum twin_code)status));
			*code = status;
			return 0;
		}
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* CASE/report.html from what the case holds now; says where it is. */
static int write_report(struct twin_err *err, const char *case_dir)
{
	char *path;

	if (twin_report_write(err, case_dir) != 0)
		return -1;
	path = twin_path_join(case_dir, "report.html");
	fprintf(stderr, "%s: report %s\n", PROG, path ? path : "report.html");
	free(path);
	return 0;
}

/*
 * The whole run. A stage that fails gives its exit code to dcm2twin, after
 * the report is written; so does twin-export's 8 (some targets failed).
 */
static int run(const struct twin_cli *cli)
{
	struct twin_err err, rerr;
	struct run r;
	int code = 0;

	twin_err_init(&err);
	twin_err_init(&rerr);
	memset(&r, 0, sizeof(r));
	r.cli = cli;
	r.dicom_dir = cli->args[0];
	r.case_dir = cli->args[1];
	if (run_stages(&err, &r, &code) != 0)
		code = twin_cli_error(cli, &err);
	/* a failed twin-ingest may leave no case folder: then there is nothing to report */
	if (is_dir(r.case_dir) && write_report(&rerr, r.case_dir) != 0) {
		twin_err_prefix(&rerr, "report");
		if (code == 0)
			code = twin_cli_error(cli, &rerr);
		else
			twin_cli_warn(cli, "%s", rerr.msg);
	}
	twin_manifest_free(r.manifest);
	return code;
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	int rc = 0;

	twin_err_init(&err);
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0 || (!cli.done && check_usage(&err, &cli) != 0))
		rc = twin_cli_error(&cli, &err);
	else if (cli.done)
		rc = 0;
	else if (opt_print_config)
		rc = print_config(&err, &cli) ? twin_cli_error(&cli, &err) : 0;
	else if (opt_report)
		rc = write_report(&err, cli.args[0]) ? twin_cli_error(&cli, &err) : 0;
	else
		rc = run(&cli);
	twin_cli_release(&cli);
	return rc;
}
