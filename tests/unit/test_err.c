#include "twin_test.h"

#include <errno.h>

static void set_once_keeps_first(void **state)
{
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_int_equal(twin_err_set(&err, TWIN_EINPUT, "cannot read '%s': %s", "x.dcm", "truncated"), -1);
	twin_err_set(&err, TWIN_EIO, "second");
	assert_err(err, TWIN_EINPUT, "cannot read 'x.dcm': truncated");
	assert_int_equal(twin_err_exit_code(&err), 3);
}

static void prefix_adds_context(void **state)
{
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	twin_err_set(&err, TWIN_EINPUT, "spacing 0.8 mm differs from 1.0 mm");
	twin_err_prefix(&err, "slice %d", 14);
	twin_err_prefix(&err, "series '%s'", "1.2.3");
	assert_string_equal(err.msg, "series '1.2.3': slice 14: spacing 0.8 mm differs from 1.0 mm");
	assert_int_equal(err.code, TWIN_EINPUT);
}

static void errno_names_path(void **state)
{
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	errno = ENOENT;
	twin_err_errno(&err, "cannot open", "/no/such");
	assert_err(err, TWIN_EIO, "cannot open '/no/such': No such file or directory");
}

static void ok_code_is_never_set(void **state)
{
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_int_equal(twin_err_exit_code(&err), 0);
	twin_err_set(&err, TWIN_OK, "odd");
	assert_int_equal(err.code, TWIN_EFAIL);
	assert_string_equal(twin_err_code_name(TWIN_EUNSUPPORTED), "unsupported data");
	assert_int_equal(twin_err_set(NULL, TWIN_EFAIL, "x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_once_keeps_first),
		cmocka_unit_test(prefix_adds_context),
		cmocka_unit_test(errno_names_path),
		cmocka_unit_test(ok_code_is_never_set),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
