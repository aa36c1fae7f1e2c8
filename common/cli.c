#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef TWIN_VERSION
#define TWIN_VERSION "unknown"
#endif

enum { OPT_CONFIG, OPT_SET, OPT_VERBOSE, OPT_QUIET, OPT_HELP, OPT_VERSION, NCOMMON };

/* The options every stage has; the stage's own are listed before them. */
static const struct twin_cli_option common_opts[NCOMMON] = {
	{ 'c', "config", "FILE", "read settings from FILE (see pipeline.conf)", NULL, NULL },
	{ 0, "set", "KEY=VALUE", "change one setting, e.g. mesh.size=1.2; repeatable", NULL, NULL },
	{ 'v', "verbose", NULL, "explain what is done", NULL, NULL },
	{ 'q', "quiet", NULL, "show no progress", NULL, NULL },
	{ 'h', "help", NULL, "show this help and exit", NULL, NULL },
	{ 0, "version", NULL, "show the version and exit", NULL, NULL },
};

/* getopt_long's val for a long option: 256 + its index, never a short name. */
#define LONG_BASE 256

const char *twin_cli_version(void)
{
	return TWIN_VERSION;
}

/* Option id (0..NCOMMON-1 common, then the stage's) to its description. */
static const struct twin_cli_option *opt_by_id(const struct twin_cli_spec *spec, size_t id)
{
	return id < NCOMMON ? &common_opts[id] : &spec->opts[id - NCOMMON];
}

static void print_usage_line(FILE *f, const struct twin_cli_spec *spec)
{
	fprintf(f, "usage: %s [options]%s%s\n", spec->prog,
		spec->args && *spec->args ? " " : "", spec->args ? spec->args : "");
}

static void print_option(FILE *f, const struct twin_cli_option *o, int width)
{
	char left[128];

	snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	if (o->short_name)
		fprintf(f, "  -%c, %-*s  %s\n", o->short_name, width, left, o->help);
	else
		fprintf(f, "      %-*s  %s\n", width, left, o->help);
}

static void print_help(FILE *f, const struct twin_cli_spec *spec)
{
	size_t n = NCOMMON + spec->nopts;
	int width = 16;

	for (size_t i = 0; i < n; i++) {
		const struct twin_cli_option *o = opt_by_id(spec, (i + NCOMMON) % n);
		int w = 2 + (int)strlen(o->name) + (o->arg ? 1 + (int)strlen(o->arg) : 0);
		if (w > width)
			width = w;
	}
	print_usage_line(f, spec);
	if (spec->summary)
		fprintf(f, "%s\n", spec->summary);
	fprintf(f, "\noptions:\n");
	/* the stage's options first, then the common ones */
	for (size_t i = 0; i < n; i++)
		print_option(f, opt_by_id(spec, (i + NCOMMON) % n), width);
}

/* A stage option that reuses a common name is a programming error. */
static int check_spec(struct twin_err *err, const struct twin_cli_spec *spec)
{
	for (size_t i = 0; i < spec->nopts; i++) {
		const struct twin_cli_option *o = &spec->opts[i];
		for (size_t j = 0; j < NCOMMON + i; j++) {
			const struct twin_cli_option *c = opt_by_id(spec, j);
			if (strcmp(o->name, c->name) == 0 || (o->short_name && o->short_name == c->short_name))
				return twin_err_set(err, TWIN_EFAIL, "%s: option '--%s' is declared twice",
						    spec->prog, o->name);
		}
	}
	return 0;
}

/* The getopt_long tables for the common and the stage's options (free both). */
static int build_getopt(struct twin_err *err, const struct twin_cli_spec *spec,
			struct option **longopts, char **shortopts)
{
	size_t n = NCOMMON + spec->nopts;
	size_t s = 0;

	*longopts = calloc(n + 1, sizeof(**longopts));
	*shortopts = malloc(2 * n + 2);
	if (!*longopts || !*shortopts)
		return twin_err_set(err, TWIN_EFAIL, "%s: out of memory", spec->prog);
	(*shortopts)[s++] = ':';
	for (size_t i = 0; i < n; i++) {
		const struct twin_cli_option *o = opt_by_id(spec, i);
		(*longopts)[i].name = o->name;
		(*longopts)[i].has_arg = o->arg ? required_argument : no_argument;
		(*longopts)[i].val = LONG_BASE + (int)i;
		if (o->short_name) {
			(*shortopts)[s++] = (char)o->short_name;
			if (o->arg)
				(*shortopts)[s++] = ':';
		}
	}
	(*shortopts)[s] = '\0';
	return 0;
}

/* The option id for getopt_long's return value c, or -1. */
static int option_id(const struct twin_cli_spec *spec, int c)
{
	size_t n = NCOMMON + spec->nopts;

	if (c >= LONG_BASE && (size_t)(c - LONG_BASE) < n)
		return c - LONG_BASE;
	for (size_t i = 0; i < n; i++)
		if (opt_by_id(spec, i)->short_name == c)
			return (int)i;
	return -1;
}

/* "--ver" may abbreviate several long options; getopt_long does not say which. */
static int unknown_long(struct twin_err *err, const struct twin_cli_spec *spec, const char *arg)
{
	size_t len = strcspn(arg, "=");
	const char *first = NULL, *second = NULL;

	if (len > 2 && strncmp(arg, "--", 2) == 0) {
		for (size_t i = 0; i < NCOMMON + spec->nopts; i++) {
			const char *name = opt_by_id(spec, i)->name;
			if (strncmp(name, arg + 2, len - 2) != 0)
				continue;
			if (!first)
				first = name;
			else if (!second)
				second = name;
		}
	}
	if (second)
		return twin_err_set(err, TWIN_EUSAGE, "ambiguous option '%.*s': --%s or --%s?",
				    (int)len, arg, first, second);
	return twin_err_set(err, TWIN_EUSAGE, "unknown option '%s'", arg);
}

/* The usage error for getopt_long's '?' or ':'. */
static int option_error(struct twin_err *err, const struct twin_cli_spec *spec, int c,
			char **argv)
{
	const struct twin_cli_option *o = NULL;
	int id = optopt ? option_id(spec, optopt) : -1;

	if (id >= 0)
		o = opt_by_id(spec, (size_t)id);
	if (c == ':' && optopt >= LONG_BASE)
		return twin_err_set(err, TWIN_EUSAGE, "option '--%s' needs a value (%s)", o->name, o->arg);
	if (c == ':')
		return twin_err_set(err, TWIN_EUSAGE, "option '-%c' needs a value (%s)", optopt, o->arg);
	if (optopt >= LONG_BASE)
		return twin_err_set(err, TWIN_EUSAGE, "option '--%s' takes no value", o->name);
	if (optopt)
		return twin_err_set(err, TWIN_EUSAGE, "unknown option '-%c'", optopt);
	return unknown_long(err, spec, argv[optind - 1]);
}

int twin_cli_parse(struct twin_err *err, struct twin_cli *cli, const struct twin_cli_spec *spec,
		   int argc, char **argv)
{
	struct option *longopts = NULL;
	char *shortopts = NULL;
	const char **sets = NULL;
	size_t nsets = 0;
	int help = 0, version = 0;
	int rc = -1;
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->spec = spec;
	if (check_spec(err, spec) != 0 || build_getopt(err, spec, &longopts, &shortopts) != 0)
		goto out;
	sets = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*sets));
	if (!sets) {
		twin_err_set(err, TWIN_EFAIL, "%s: out of memory", spec->prog);
		goto out;
	}
	optind = 0; /* a full restart of GNU getopt */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int id = (c == '?' || c == ':') ? -1 : option_id(spec, c);
		const struct twin_cli_option *o;

		if (id < 0) {
			option_error(err, spec, c, argv);
			goto out;
		}
		switch (id) {
		case OPT_HELP: help = 1; break;
		case OPT_VERSION: version = 1; break;
		case OPT_VERBOSE: cli->verbose++; break;
		case OPT_QUIET: cli->quiet = 1; break;
		case OPT_CONFIG:
			if (cli->config) {
				twin_err_set(err, TWIN_EUSAGE, "option '-c' given twice ('%s', '%s')",
					     cli->config, optarg);
				goto out;
			}
			cli->config = optarg;
			break;
		case OPT_SET: sets[nsets++] = optarg; break;
		default:
			o = opt_by_id(spec, (size_t)id);
			if (o->arg && o->value)
				*o->value = optarg;
			else if (!o->arg && o->count)
				(*o->count)++;
			break;
		}
	}
	if (help || version) {
		if (help)
			print_help(stdout, spec);
		else
			printf("%s %s\n", spec->prog, twin_cli_version());
		fflush(stdout);
		cli->done = 1;
		rc = 0;
		goto out;
	}
	cli->args = argv + optind;
	cli->nargs = (size_t)(argc - optind);
	if (cli->nargs < spec->min_args) {
		twin_err_set(err, TWIN_EUSAGE, "missing arguments: expected %s", spec->args);
		goto out;
	}
	if (cli->nargs > spec->max_args) {
		twin_err_set(err, TWIN_EUSAGE, "unexpected argument '%s'", cli->args[spec->max_args]);
		goto out;
	}
	cli->conf = twin_conf_new(err);
	if (!cli->conf)
		goto out;
	if (cli->config && twin_conf_load_file(err, cli->conf, cli->config) != 0)
		goto out;
	for (size_t i = 0; i < nsets; i++)
		if (twin_conf_set(err, cli->conf, sets[i]) != 0)
			goto out;
	rc = 0;
out:
	free(sets);
	free(longopts);
	free(shortopts);
	return rc;
}

void twin_cli_release(struct twin_cli *cli)
{
	twin_conf_free(cli->conf);
	cli->conf = NULL;
}

static const char *prog_name(const struct twin_cli *cli)
{
	return cli && cli->spec && cli->spec->prog ? cli->spec->prog : "dcm2twin";
}

int twin_cli_error(const struct twin_cli *cli, const struct twin_err *err)
{
	const char *prog = prog_name(cli);
	int code = twin_err_exit_code(err);

	if (code == TWIN_OK)
		code = TWIN_EFAIL;
	fprintf(stderr, "%s: %s\n", prog, err && err->msg[0] ? err->msg : "failed");
	if (code == TWIN_EUSAGE && cli && cli->spec) {
		print_usage_line(stderr, cli->spec);
		fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	}
	return code;
}

static void vprint(const struct twin_cli *cli, const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vprint(const struct twin_cli *cli, const char *kind, const char *fmt, va_list ap)
{
	char msg[TWIN_ERR_MSG_MAX];

	/* one fprintf, so that lines from several threads do not interleave */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", prog_name(cli), kind, msg);
}

void twin_cli_warn(const struct twin_cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(cli, "warning: ", fmt, ap);
	va_end(ap);
}

void twin_cli_info(const struct twin_cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (!cli || cli->verbose <= 0)
		return;
	va_start(ap, fmt);
	vprint(cli, "", fmt, ap);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void twin_progress_init(struct twin_progress *p, const struct twin_cli *cli,
			const char *title, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->prog = prog_name(cli);
	p->title = title;
	p->total = total;
	p->enabled = !(cli && cli->quiet) && isatty(STDERR_FILENO);
}

/* The number shown: a percent, or the count when the total is unknown. */
static uint64_t shown_value(const struct twin_progress *p)
{
	if (p->total == 0)
		return p->value;
	if (p->value >= p->total)
		return 100;
	return p->value * 100 / p->total;
}

static void draw(struct twin_progress *p, const char *end)
{
	p->shown = shown_value(p);
	p->drawn = 1;
	p->last_ms = now_ms();
	fprintf(stderr, "\r%s: %s %llu%s%s", p->prog, p->title, (unsigned long long)p->shown,
		p->total ? "%" : "", end);
	fflush(stderr);
}

void twin_progress_update(struct twin_progress *p, uint64_t done)
{
	p->value = done;
	if (!p->enabled)
		return;
	if (p->drawn && (shown_value(p) == p->shown || now_ms() - p->last_ms < 100))
		return;
	draw(p, "");
}

void twin_progress_done(struct twin_progress *p)
{
	if (!p->enabled)
		return;
	if (p->total)
		p->value = p->total;
	draw(p, ", done\n");
	p->enabled = 0;
}
