#include "twin_test.h"

#include "surfaces.h"

static void interface_names(void **state)
{
	static const struct {
		long a, b;
		int kind;
		const char *name;
	} cases[] = {
		{ 3, 2, TWIN_SURFACE_VALVE, "mitral_valve" },
		{ 6, 3, TWIN_SURFACE_VALVE, "aortic_valve" },
		{ 5, 7, TWIN_SURFACE_VALVE, "pulmonary_valve" },
		{ 4, 5, TWIN_SURFACE_VALVE, "tricuspid_valve" },
		{ 1, 3, TWIN_SURFACE_ENDOCARDIUM, "endocardium_lv" },
		{ 5, 1, TWIN_SURFACE_ENDOCARDIUM, "endocardium_rv" },
		{ 0, 1, TWIN_SURFACE_EPICARDIUM, "epicardium" },
		{ 2, 0, TWIN_SURFACE_WALL, "wall_la" },
		{ 0, 6, TWIN_SURFACE_WALL, "wall_ao" },
		{ 2, 6, TWIN_SURFACE_INTERFACE, "interface_la_ao" },
		{ 7, 3, TWIN_SURFACE_INTERFACE, "interface_lv_pa" },
		/* the RV wall (8) that mesh.rv_wall grows: a myocardium like label 1 */
		{ 5, 8, TWIN_SURFACE_ENDOCARDIUM, "endocardium_rv" },
		{ 8, 0, TWIN_SURFACE_EPICARDIUM, "epicardium" },
		{ 8, 4, TWIN_SURFACE_ENDOCARDIUM, "endocardium_ra" },
		{ 7, 8, TWIN_SURFACE_ENDOCARDIUM, "endocardium_pa" },
		{ 1, 8, TWIN_SURFACE_INTERFACE, "interface_lv_myo_rv_myo" },
	};
	char name[TWIN_SURFACE_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int kind = twin_surface_interface(name, cases[i].a, cases[i].b);
		if (kind != cases[i].kind || strcmp(name, cases[i].name) != 0)
			fail_msg("labels %ld|%ld: got kind %d '%s', want %d '%s'", cases[i].a, cases[i].b,
				 kind, name, cases[i].kind, cases[i].name);
		assert_int_equal(twin_surface_kind_of(name), cases[i].kind);
	}
}

static void cap_names(void **state)
{
	char name[TWIN_SURFACE_NAME_MAX];

	(void)state;
	assert_int_equal(twin_surface_cap(name, 2, 3), TWIN_SURFACE_INLET);
	assert_string_equal(name, "inlet_la_3");
	assert_int_equal(twin_surface_cap(name, 4, 1), TWIN_SURFACE_INLET);
	assert_string_equal(name, "inlet_ra_1");
	assert_int_equal(twin_surface_cap(name, 6, 2), TWIN_SURFACE_OUTLET);
	assert_string_equal(name, "outlet_ao_2");
	assert_int_equal(twin_surface_kind_of(name), TWIN_SURFACE_OUTLET);
	assert_int_equal(twin_surface_cap(name, 7, 1), TWIN_SURFACE_OUTLET);
	assert_string_equal(name, "outlet_pa_1");
}

static void refusals(void **state)
{
	char name[TWIN_SURFACE_NAME_MAX];

	(void)state;
	assert_int_equal(twin_surface_interface(name, 3, 3), -1);
	assert_int_equal(twin_surface_interface(name, 3, 99), -1);
	assert_int_equal(twin_surface_interface(name, -1, 3), -1);
	assert_int_equal(twin_surface_cap(name, 1, 1), -1);
	assert_int_equal(twin_surface_cap(name, 8, 1), -1);
	assert_int_equal(twin_surface_cap(name, 0, 1), -1);
	assert_int_equal(twin_surface_kind_of("heart_ventricle_left"), -1);
	assert_int_equal(twin_surface_kind_of("mitral"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interface_names),
		cmocka_unit_test(cap_names),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests_name("surfaces", tests, NULL, NULL);
}
