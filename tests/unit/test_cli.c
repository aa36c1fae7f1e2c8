#include "twin_test.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "cli.h"

static const char *out_dir;
static const char *level;
static int force;
static int dry_run;

static const struct twin_cli_option stage_opts[] = {
	{ 'o', "out", "DIR", "write the case here", &out_dir, NULL },
	{ 0, "force", NULL, "overwrite what is there", NULL, &force },
	{ 'n', "dry-run", NULL, "only say what would be done", NULL, &dry_run },
	{ 0, "level", "N", "how hard to try", &level, NULL },
};

static const struct twin_cli_spec spec = {
	"twin-test", "IN OUT", 2, 2, "turns IN into OUT", stage_opts, 4,
};

struct fixture {
	char *dir;
	struct twin_err err;
	struct twin_cli cli;
	char *argv[16]; /* what cli.args point into */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = twin_test_tmpdir();
	twin_err_init(&fx->err);
	out_dir = NULL;
	level = NULL;
	force = 0;
	dry_run = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	twin_cli_release(&fx->cli);
	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Parses a copy of { "twin-test", args..., NULL } with spec. */
static int parse_argv(struct fixture *fx, const struct twin_cli_spec *s, char **argv)
{
	int argc = 0;

	while (argv[argc]) {
		assert_true(argc < 15);
		fx->argv[argc] = argv[argc];
		argc++;
	}
	fx->argv[argc] = NULL;
	twin_cli_release(&fx->cli);
	twin_err_init(&fx->err);
	return twin_cli_parse(&fx->err, &fx->cli, s, argc, fx->argv);
}
#define PARSE(fx, ...) parse_argv((fx), &spec, (char *[]){ "twin-test", __VA_ARGS__, NULL })

/* Sends fd (1 or 2) to path until capture_end. Returns the saved fd. */
static int capture_start(int fd, const char *path)
{
	int saved, f;

	fflush(stdout);
	fflush(stderr);
	saved = dup(fd);
	f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && f >= 0);
	assert_int_equal(dup2(f, fd), fd);
	close(f);
	return saved;
}

/* Restores fd and returns what was written to path (free). */
static char *capture_end(int fd, int saved, const char *path)
{
	size_t len = 0;

	fflush(stdout);
	fflush(stderr);
	assert_int_equal(dup2(saved, fd), fd);
	close(saved);
	return twin_test_read_file(path, &len);
}

#define assert_prefix(text, want) do { \
	if (strncmp((text), (want), strlen(want)) != 0) \
		fail_msg("want '%s' to start with '%s'", (text), (want)); \
} while (0)

static void option_forms(void **state)
{
	struct fixture *fx = *state;
	const char *conf = twin_test_path(fx->dir, "a.conf");
	char path[4096];

	snprintf(path, sizeof(path), "%s", conf);
	twin_test_write_file(path, "[mesh]\nsize = 2\n", 16);

	assert_ok(fx->err, PARSE(fx, "-v", "in", "-vv", "--verbose", "-q", "out"));
	assert_int_equal(fx->cli.verbose, 4);
	assert_int_equal(fx->cli.quiet, 1);
	assert_int_equal(fx->cli.done, 0);
	assert_int_equal(fx->cli.nargs, 2);
	assert_string_equal(fx->cli.args[0], "in");
	assert_string_equal(fx->cli.args[1], "out");
	assert_null(fx->cli.config);
	/* no -c: every setting at its default */
	assert_non_null(fx->cli.conf);
	assert_true(twin_conf_double(fx->cli.conf, "mesh.size") == 1.5);

	assert_ok(fx->err, PARSE(fx, "-c", path, "in", "out"));
	assert_string_equal(fx->cli.config, path);
	assert_true(twin_conf_double(fx->cli.conf, "mesh.size") == 2.0);
	assert_int_equal(fx->cli.verbose, 0);
	assert_int_equal(fx->cli.quiet, 0);

	snprintf(path, sizeof(path), "-c%s", conf);
	assert_ok(fx->err, PARSE(fx, path, "in", "out"));
	assert_string_equal(fx->cli.config, conf);
	snprintf(path, sizeof(path), "--config=%s", conf);
	assert_ok(fx->err, PARSE(fx, "in", path, "out"));
	assert_string_equal(fx->cli.config, conf);
	snprintf(path, sizeof(path), "%s", conf);
	assert_ok(fx->err, PARSE(fx, "in", "out", "--config", path));
	assert_string_equal(fx->cli.config, conf);
	assert_true(twin_conf_double(fx->cli.conf, "mesh.size") == 2.0);

	assert_ok(fx->err, PARSE(fx, "-o", "d1", "in", "--force", "--force", "-n", "out", "--level=3"));
	assert_string_equal(out_dir, "d1");
	assert_string_equal(level, "3");
	assert_int_equal(force, 2);
	assert_int_equal(dry_run, 1);
	assert_ok(fx->err, PARSE(fx, "-od2", "--out=d3", "in", "out", "--level", "4"));
	assert_string_equal(out_dir, "d3");
	assert_string_equal(level, "4");
	/* "--" ends the options */
	assert_ok(fx->err, PARSE(fx, "-nv", "--", "-in", "--out"));
	assert_int_equal(dry_run, 2);
	assert_int_equal(fx->cli.verbose, 1);
	assert_string_equal(fx->cli.args[0], "-in");
	assert_string_equal(fx->cli.args[1], "--out");
}

static void set_applies_in_order_after_config(void **state)
{
	struct fixture *fx = *state;
	char path[4096];

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "b.conf"));
	twin_test_write_file(path, "[mesh]\nsize = 2\nsmooth_iterations = 5\n", 38);
	assert_ok(fx->err, PARSE(fx, "--set", "mesh.size=3", "in", "-c", path,
				 "--set=mesh.size=4", "out", "--set", "fibres.beta_epi=10"));
	assert_true(twin_conf_double(fx->cli.conf, "mesh.size") == 4.0);
	assert_string_equal(twin_conf_origin(fx->cli.conf, "mesh.size"), "--set");
	assert_int_equal(twin_conf_int(fx->cli.conf, "mesh.smooth_iterations"), 5);
	assert_non_null(strstr(twin_conf_origin(fx->cli.conf, "mesh.smooth_iterations"), "b.conf:3"));
	assert_true(twin_conf_double(fx->cli.conf, "fibres.beta_epi") == 10.0);
}

static void usage_errors(void **state)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
		{ { "--bogus", "in", "out" }, "unknown option '--bogus'" },
		{ { "--bogus=1", "in", "out" }, "unknown option '--bogus=1'" },
		{ { "--ver", "in", "out" }, "ambiguous option '--ver': --verbose or --version?" },
		{ { "in", "-x", "out" }, "unknown option '-x'" },
		{ { "-vx", "in", "out" }, "unknown option '-x'" },
		{ { "in", "out", "-c" }, "option '-c' needs a value (FILE)" },
		{ { "in", "out", "--out" }, "option '--out' needs a value (DIR)" },
		{ { "in", "out", "--set" }, "option '--set' needs a value (KEY=VALUE)" },
		{ { "--quiet=1", "in", "out" }, "option '--quiet' takes no value" },
		{ { "--force=yes", "in", "out" }, "option '--force' takes no value" },
		{ { "in" }, "missing arguments: expected IN OUT" },
		{ { NULL }, "missing arguments: expected IN OUT" },
		{ { "in", "out", "more" }, "unexpected argument 'more'" },
		{ { "-c", "a", "-c", "b" }, "option '-c' given twice ('a', 'b')" },
	};
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[6] = { "twin-test" };
		size_t n = 1;

		for (size_t j = 0; j < 4 && cases[i].args[j]; j++)
			argv[n++] = (char *)cases[i].args[j];
		argv[n] = NULL;
		assert_int_equal(parse_argv(fx, &spec, argv), -1);
		assert_err(fx->err, TWIN_EUSAGE, cases[i].msg);
		assert_null(fx->cli.conf);
	}
}

static void usage_error_prints_short_usage(void **state)
{
	struct fixture *fx = *state;
	char path[4096];
	char *text;
	int saved;

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stderr"));
	assert_int_equal(PARSE(fx, "--bogus", "in", "out"), -1);
	saved = capture_start(2, path);
	assert_int_equal(twin_cli_error(&fx->cli, &fx->err), 2);
	text = capture_end(2, saved, path);
	assert_string_equal(text, "twin-test: unknown option '--bogus'\n"
				  "usage: twin-test [options] IN OUT\n"
				  "Try 'twin-test --help' for more information.\n");
	free(text);
}

static void settings_errors(void **state)
{
	struct fixture *fx = *state;
	char path[4096];
	char *text;
	int saved;

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "absent.conf"));
	assert_int_equal(PARSE(fx, "-c", path, "in", "out"), -1);
	assert_err(fx->err, TWIN_EIO, "absent.conf': No such file or directory");

	assert_int_equal(PARSE(fx, "--set", "mesh.sise=1", "in", "out"), -1);
	assert_err(fx->err, TWIN_ECONFIG, "--set 'mesh.sise=1': unknown key 'mesh.sise' (did you mean 'mesh.size'?)");
	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stderr"));
	saved = capture_start(2, path);
	assert_int_equal(twin_cli_error(&fx->cli, &fx->err), TWIN_ECONFIG);
	text = capture_end(2, saved, path);
	/* not a usage error: no usage lines */
	assert_string_equal(text, "twin-test: --set 'mesh.sise=1': unknown key 'mesh.sise' (did you mean 'mesh.size'?)\n");
	free(text);
}

static void help_goes_to_stdout(void **state)
{
	struct fixture *fx = *state;
	char path[4096];
	char *text;
	int saved, rc;

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stdout"));
	saved = capture_start(1, path);
	/* --help wins over missing arguments and is not an error */
	rc = PARSE(fx, "-v", "--help");
	text = capture_end(1, saved, path);
	assert_ok(fx->err, rc);
	assert_int_equal(fx->cli.done, 1);
	assert_null(fx->cli.conf);
	assert_prefix(text, "usage: twin-test [options] IN OUT\nturns IN into OUT\n\noptions:\n");
	assert_non_null(strstr(text, "\n  -o, --out DIR         write the case here\n"));
	assert_non_null(strstr(text, "\n      --force           overwrite what is there\n"));
	assert_non_null(strstr(text, "\n  -n, --dry-run         only say what would be done\n"));
	assert_non_null(strstr(text, "\n  -c, --config FILE     read settings from FILE"));
	assert_non_null(strstr(text, "\n      --set KEY=VALUE   change one setting"));
	assert_non_null(strstr(text, "\n  -v, --verbose         "));
	assert_non_null(strstr(text, "\n  -q, --quiet           "));
	assert_non_null(strstr(text, "\n  -h, --help            "));
	assert_non_null(strstr(text, "\n      --version         "));
	/* the stage's options come first, then the common ones in this order */
	assert_true(strstr(text, "--out") < strstr(text, "--level"));
	assert_true(strstr(text, "--level") < strstr(text, "--config"));
	assert_true(strstr(text, "--config") < strstr(text, "--set"));
	assert_true(strstr(text, "--quiet") < strstr(text, "--help"));
	free(text);

	saved = capture_start(1, path);
	rc = PARSE(fx, "-h");
	text = capture_end(1, saved, path);
	assert_ok(fx->err, rc);
	assert_prefix(text, "usage: twin-test [options] IN OUT\n");
	free(text);
}

static void version_goes_to_stdout(void **state)
{
	struct fixture *fx = *state;
	char path[4096], want[256];
	char *text;
	int saved, rc;

	assert_true(strlen(twin_cli_version()) > 0);
	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stdout"));
	saved = capture_start(1, path);
	rc = PARSE(fx, "--version", "extra", "args", "here");
	text = capture_end(1, saved, path);
	assert_ok(fx->err, rc);
	assert_int_equal(fx->cli.done, 1);
	snprintf(want, sizeof(want), "twin-test %s\n", twin_cli_version());
	assert_string_equal(text, want);
	free(text);
}

static void bad_spec_is_refused(void **state)
{
	static const struct twin_cli_option clash[] = {
		{ 'c', "copy", NULL, "copy", NULL, NULL },
	};
	static const struct twin_cli_option clash_long[] = {
		{ 0, "set", "X", "set", NULL, NULL },
	};
	struct twin_cli_spec bad = spec;
	struct fixture *fx = *state;

	bad.opts = clash;
	bad.nopts = 1;
	assert_int_equal(parse_argv(fx, &bad, (char *[]){ "twin-test", "a", "b", NULL }), -1);
	assert_err(fx->err, TWIN_EFAIL, "twin-test: option '--copy' is declared twice");
	bad.opts = clash_long;
	assert_int_equal(parse_argv(fx, &bad, (char *[]){ "twin-test", "a", "b", NULL }), -1);
	assert_err(fx->err, TWIN_EFAIL, "twin-test: option '--set' is declared twice");
}

static void warn_and_info(void **state)
{
	struct fixture *fx = *state;
	char path[4096];
	char *text;
	int saved;

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stderr"));
	assert_ok(fx->err, PARSE(fx, "-q", "in", "out"));
	saved = capture_start(2, path);
	twin_cli_warn(&fx->cli, "slice %d is missing", 14);
	twin_cli_info(&fx->cli, "reading '%s'", "in");
	text = capture_end(2, saved, path);
	/* warnings show even with -q, information only with -v */
	assert_string_equal(text, "twin-test: warning: slice 14 is missing\n");
	free(text);

	assert_ok(fx->err, PARSE(fx, "-v", "in", "out"));
	saved = capture_start(2, path);
	twin_cli_info(&fx->cli, "reading '%s'", "in");
	text = capture_end(2, saved, path);
	assert_string_equal(text, "twin-test: reading 'in'\n");
	free(text);
}

static void progress_silent_when_not_a_terminal(void **state)
{
	struct fixture *fx = *state;
	struct twin_progress p;
	char path[4096];
	char *text;
	int saved;

	snprintf(path, sizeof(path), "%s", twin_test_path(fx->dir, "stderr"));
	assert_ok(fx->err, PARSE(fx, "in", "out"));
	saved = capture_start(2, path);
	twin_progress_init(&p, &fx->cli, "meshing", 10);
	for (uint64_t i = 0; i <= 10; i++)
		twin_progress_update(&p, i);
	twin_progress_done(&p);
	text = capture_end(2, saved, path);
	assert_int_equal(p.enabled, 0);
	assert_string_equal(text, "");
	free(text);
}

/* Runs a progress display with stderr on a pseudo-terminal; returns what it drew. */
static char *progress_on_tty(const struct twin_cli *cli, uint64_t total, uint64_t steps)
{
	struct twin_progress p;
	struct pollfd pfd;
	char *buf = calloc(1, 8192);
	size_t n = 0;
	int master, slave, saved;

	assert_non_null(buf);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
		fail_msg("cannot open a pseudo-terminal");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_int_equal(dup2(slave, 2), 2);
	twin_progress_init(&p, cli, "meshing", total);
	for (uint64_t i = 0; i <= steps; i++)
		twin_progress_update(&p, i);
	twin_progress_done(&p);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(slave);
	pfd.fd = master;
	pfd.events = POLLIN;
	while (n < 8191 && poll(&pfd, 1, 200) > 0) {
		ssize_t got = read(master, buf + n, 8191 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(master);
	return buf;
}

static void progress_draws_on_a_terminal(void **state)
{
	struct fixture *fx = *state;
	char *text;

	assert_ok(fx->err, PARSE(fx, "in", "out"));
	text = progress_on_tty(&fx->cli, 1000, 1000);
	assert_prefix(text, "\rtwin-test: meshing 0%");
	/* a terminal turns "\n" into "\r\n" */
	assert_non_null(strstr(text, "\rtwin-test: meshing 100%, done\r\n"));
	/* a thousand quick updates are drawn a few times, not a thousand */
	{
		size_t draws = 0;
		for (const char *c = text; (c = strstr(c, "\rtwin-test")); c++)
			draws++;
		assert_in_range(draws, 2, 20);
	}
	free(text);

	/* an unknown total shows the count */
	text = progress_on_tty(&fx->cli, 0, 7);
	assert_non_null(strstr(text, "\rtwin-test: meshing 7, done\r\n"));
	assert_null(strstr(text, "%"));
	free(text);

	/* -q silences it */
	assert_ok(fx->err, PARSE(fx, "-q", "in", "out"));
	text = progress_on_tty(&fx->cli, 10, 10);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(option_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(set_applies_in_order_after_config, setup, teardown),
		cmocka_unit_test_setup_teardown(usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(usage_error_prints_short_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(settings_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(help_goes_to_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(version_goes_to_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_spec_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(warn_and_info, setup, teardown),
		cmocka_unit_test_setup_teardown(progress_silent_when_not_a_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(progress_draws_on_a_terminal, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
