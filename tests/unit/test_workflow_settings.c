#include "twin_test.h"

#include "../../workflow/settings.h"
#include "../../workflow/stages.h"
#include "conf.h"

/* What fn writes to a FILE, as a malloc'd string. */
static char *printed(const struct twin_conf *conf, void (*fn)(FILE *, const struct twin_conf *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(f, conf);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void write_all(FILE *f, const struct twin_conf *conf)
{
	twin_conf_write(conf, f, NULL);
}

static struct twin_conf *conf_from(const char *text, const char *set)
{
	struct twin_err err;
	struct twin_conf *conf;

	twin_err_init(&err);
	conf = twin_conf_new(&err);
	assert_ptr_ok(err, conf);
	assert_ok(err, twin_conf_load_string(&err, conf, "x.conf", text));
	if (set)
		assert_ok(err, twin_conf_set(&err, conf, set));
	return conf;
}

static void assert_has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("no \"%s\" in:\n%s", line, text);
}

static void every_key_with_its_origin(void **state)
{
	struct twin_conf *conf = conf_from("[mesh]\nsize = 2\n\n[ingest]\nseries = \"CTA # 75%\"\n",
					   "mesh.labels=blood");
	char *text = printed(conf, twin_settings_print);

	(void)state;
	assert_has(text, "[ingest]\nseries = \"CTA # 75%\"  # x.conf:5\nphase = 75%  # default\n");
	assert_has(text, "\n\n[mesh]\nsize = 2  # x.conf:2\n");
	assert_has(text, "labels = blood  # --set\n");
	assert_has(text, "\n[fibres]\n");
	/* an empty value reads back as empty, not as its comment */
	assert_has(text, "seeds =   # default\n");
	free(text);
	twin_conf_free(conf);
}

static void the_printed_settings_read_back(void **state)
{
	struct twin_conf *conf = conf_from("[ingest]\nseries = \"a;b\"\nphase = 3\n[segment]\nseeds = \" s.csv\"\n",
					   "export.targets=vtu,openfoam");
	struct twin_conf *again;
	char *text = printed(conf, twin_settings_print), *want, *got;

	(void)state;
	again = conf_from(text, NULL);
	want = printed(conf, write_all);
	got = printed(again, write_all);
	assert_string_equal(got, want);
	free(text);
	free(want);
	free(got);
	twin_conf_free(conf);
	twin_conf_free(again);
}

static void stages_get_the_file_and_the_set_keys(void **state)
{
	struct twin_conf *conf = conf_from("[mesh]\nsize = 2\n", "mesh.labels=blood");
	struct twin_stage_args args;
	struct twin_err err;

	(void)state;
	twin_err_init(&err);
	assert_ok(err, twin_conf_set(&err, conf, "mesh.size=3"));
	twin_stage_args_init(&args);
	assert_ok(err, twin_settings_args(&err, &args, conf, "my.conf"));
	/* each key once, at its final value, in table order */
	assert_int_equal(args.n, 6);
	assert_string_equal(args.v[0], "-c");
	assert_string_equal(args.v[1], "my.conf");
	assert_string_equal(args.v[2], "--set");
	assert_string_equal(args.v[3], "mesh.size=3");
	assert_string_equal(args.v[4], "--set");
	assert_string_equal(args.v[5], "mesh.labels=blood");
	assert_null(args.v[6]);
	twin_stage_args_release(&args);

	/* no -c, nothing from --set: nothing to hand on */
	twin_conf_free(conf);
	conf = twin_conf_new(&err);
	assert_ptr_ok(err, conf);
	assert_ok(err, twin_settings_args(&err, &args, conf, NULL));
	assert_int_equal(args.n, 0);
	twin_stage_args_release(&args);
	twin_conf_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_key_with_its_origin),
		cmocka_unit_test(the_printed_settings_read_back),
		cmocka_unit_test(stages_get_the_file_and_the_set_keys),
	};

	return cmocka_run_group_tests_name("workflow_settings", tests, NULL, NULL);
}
