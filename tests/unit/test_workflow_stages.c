#include "twin_test.h"

#include "../../workflow/stages.h"

static void the_four_stages_in_order(void **state)
{
	static const char *const names[] = { "ingest", "segment", "mesh", "export" };
	size_t n;
	const struct twin_stage *s = twin_stages(&n);

	(void)state;
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(s[i].name, names[i]);
		assert_int_equal(twin_stage_find(names[i]), (int)i);
		assert_true(strncmp(s[i].prog, "twin-", 5) == 0 && strcmp(s[i].prog + 5, names[i]) == 0);
		/* each reads what the one before it writes */
		if (i > 0)
			assert_string_equal(s[i].input, s[i - 1].output);
	}
	assert_true(s[0].dicom && !s[0].input && !s[3].output);
	assert_string_equal(s[3].sections[1], "fibres");
	assert_int_equal(twin_stage_find("meshing"), -1);
	assert_int_equal(twin_stage_find(""), -1);
}

/* Runs sh -c script; returns twin_stage_run's result, *status the exit code. */
static int run_sh(struct twin_err *err, const char *script, int *status)
{
	struct twin_stage_args args;
	int rc;

	twin_stage_args_init(&args);
	assert_ok(*err, twin_stage_args_add(err, &args, "sh"));
	assert_ok(*err, twin_stage_args_add(err, &args, "-c"));
	assert_ok(*err, twin_stage_args_add(err, &args, script));
	rc = twin_stage_run(err, "sh", &args, status);
	twin_stage_args_release(&args);
	return rc;
}

static void a_child_gives_its_exit_code(void **state)
{
	struct twin_err err;
	int status = -1;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, run_sh(&err, "exit 0", &status));
	assert_int_equal(status, 0);
	assert_ok(err, run_sh(&err, "exit 8", &status));
	assert_int_equal(status, 8);
	/* the arguments arrive as they are, one each */
	assert_ok(err, run_sh(&err, "[ \"$0\" = sh ] && exit 3", &status));
	assert_int_equal(status, 3);
}

static void a_killed_or_missing_child_is_an_error(void **state)
{
	struct twin_stage_args args;
	struct twin_err err;
	int status = -1;

	(void)state;
	twin_err_init(&err);
	assert_int_equal(run_sh(&err, "kill -TERM $$", &status), -1);
	assert_err(err, TWIN_EFAIL, "sh was killed by signal 15");

	twin_err_init(&err);
	twin_stage_args_init(&args);
	assert_ok(err, twin_stage_args_add(&err, &args, "twin-nowhere"));
	assert_int_equal(twin_stage_run(&err, "/nonexistent/twin-nowhere", &args, &status), -1);
	/* "No such file or directory", or under valgrind the child's exit code 127 */
	assert_err(err, TWIN_EDEP, "cannot run '/nonexistent/twin-nowhere': ");
	twin_err_init(&err);
	assert_int_equal(run_sh(&err, "exit 127", &status), -1);
	assert_err(err, TWIN_EDEP, "cannot run 'sh': exit code 127");
	twin_stage_args_release(&args);
}

static void a_stage_is_looked_for_beside_the_program(void **state)
{
	char *p;

	(void)state;
	/* this suite has no twin-nowhere beside it: PATH decides */
	p = twin_stage_path("twin-nowhere");
	assert_non_null(p);
	assert_string_equal(p, "twin-nowhere");
	free(p);
	/* this suite itself is found beside itself, by its full path */
	p = twin_stage_path("test_workflow_stages");
	assert_non_null(p);
	assert_true(p[0] == '/' && strstr(p, "/test_workflow_stages"));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_four_stages_in_order),
		cmocka_unit_test(a_child_gives_its_exit_code),
		cmocka_unit_test(a_killed_or_missing_child_is_an_error),
		cmocka_unit_test(a_stage_is_looked_for_beside_the_program),
	};

	return cmocka_run_group_tests_name("workflow_stages", tests, NULL, NULL);
}
