#include "twin_test.h"

#include <math.h>

#include "xml.h"
#include "../../ingest/group.h"
#include "../../ingest/geometry.h"
#include "../../ingest/select.h"
#include "../../ingest/series_xml.h"

#define NF 6

struct fixture {
	struct twin_frame f[NF];
	struct twin_study study;
	struct twin_geometry g;
	struct twin_series_volume vol;
	struct twin_series_info info;
	struct twin_err err;
	char *dir;
};

static const char series_uid[] = "1.2.826.0.1.777.1";
static const char study_uid[] = "1.2.826.0.1.777.2";

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	twin_err_init(&fx->err);
	for (int k = 0; k < NF; k++) {
		struct twin_frame *f = &fx->f[k];
		char name[32];

		snprintf(name, sizeof(name), "IM%d", k);
		f->path = strdup(name);
		snprintf(f->series_uid, sizeof(f->series_uid), "%s", series_uid);
		snprintf(f->study_uid, sizeof(f->study_uid), "%s", study_uid);
		snprintf(f->frame_of_ref, sizeof(f->frame_of_ref), "1.2.826.0.1.777.3");
		snprintf(f->transfer_syntax, sizeof(f->transfer_syntax), "1.2.840.10008.1.2.1");
		snprintf(f->modality, sizeof(f->modality), "CT");
		snprintf(f->manufacturer, sizeof(f->manufacturer), "ACME <&> Corp");
		snprintf(f->model, sizeof(f->model), "Model\001X");
		snprintf(f->kernel, sizeof(f->kernel), "Bv36");
		snprintf(f->description, sizeof(f->description), "Secret Description");
		snprintf(f->image_type, sizeof(f->image_type), "ORIGINAL\\PRIMARY\\AXIAL");
		snprintf(f->photometric, sizeof(f->photometric), "MONOCHROME2");
		f->series_number = 3;
		f->rows = 20;
		f->cols = 30;
		f->samples_per_pixel = 1;
		f->has_pixels = f->has_position = 1;
		f->iop[0] = f->iop[4] = 1;
		f->ipp[1] = 0.2 * k; /* tilted */
		f->ipp[2] = 2.0 * k;
		f->spacing[0] = 0.8;
		f->spacing[1] = 0.7;
		f->thickness = 2;
		f->kvp = 100;
		f->slope = 1;
		f->trigger_time = NAN;
		f->phase_percent = NAN;
		f->temporal_position = -1;
	}
	assert_ok(fx->err, twin_group_frames(&fx->err, &fx->study, fx->f, NF));
	assert_ok(fx->err, twin_geometry_build(&fx->err, &fx->g, fx->study.series[0].phases[0].frames, NF,
					       TWIN_UNEVEN_RESAMPLE));
	fx->vol.file = "image.nii.gz";
	fx->vol.slices_read = NF;
	fx->vol.g = &fx->g;
	fx->vol.dtype = TWIN_I16;
	fx->info.version = "test";
	fx->info.files = NF;
	fx->info.frames = NF;
	fx->info.n_series = 1;
	fx->info.s = &fx->study.series[0];
	fx->info.volumes = &fx->vol;
	fx->info.n_volumes = 1;
	fx->dir = twin_test_tmpdir();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	for (int k = 0; k < NF; k++)
		free(fx->f[k].path);
	twin_geometry_release(&fx->g);
	twin_group_release(&fx->study);
	twin_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static char *save(struct fixture *fx)
{
	const char *path = twin_test_path(fx->dir, "series.xml");
	size_t len;

	assert_ok(fx->err, twin_series_xml_save(&fx->err, path, &fx->info));
	return twin_test_read_file(path, &len);
}

static void valid_technical_and_hashed(void **state)
{
	struct fixture *fx = *state;
	char hash[TWIN_UID_HASH], want[64];
	char *text = save(fx);

	assert_ok(fx->err, twin_select_uid_hash(&fx->err, series_uid, hash));
	snprintf(want, sizeof(want), "uid=\"%s\"", hash);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, series_uid));
	assert_null(strstr(text, study_uid));
	assert_null(strstr(text, "Secret"));
	assert_non_null(strstr(text, "modality=\"CT\""));
	assert_non_null(strstr(text, "manufacturer=\"ACME &lt;&amp;&gt; Corp\""));
	assert_non_null(strstr(text, "model=\"Model?X\""));
	assert_non_null(strstr(text, "kvp=\"100\""));
	assert_non_null(strstr(text, "kernel=\"Bv36\""));
	assert_non_null(strstr(text, "size=\"30 20 6\""));
	assert_non_null(strstr(text, "spacing=\"0.7 0.8 2\""));
	assert_non_null(strstr(text, "tilt-corrected=\"true\""));
	assert_non_null(strstr(text, "<note>image.nii.gz: gantry tilt of 5.71 degrees"));
	assert_non_null(strstr(text, "orientation=\"axial\""));
	free(text);
}

static void keep_phi_adds_identifiers(void **state)
{
	struct fixture *fx = *state;
	char *text;

	fx->info.keep_phi = 1;
	text = save(fx);
	assert_non_null(strstr(text, series_uid));
	assert_non_null(strstr(text, "description=\"Secret Description\""));
	/* no patient fields were read: none is written */
	assert_null(strstr(text, "patient-name"));
	free(text);
}

/* With the patient fields read, keep_phi writes them; without keep_phi they are ignored. */
static void keep_phi_writes_the_patient_fields(void **state)
{
	struct fixture *fx = *state;
	struct twin_dcm_phi phi;
	char *text;

	memset(&phi, 0, sizeof(phi));
	snprintf(phi.patient_name, sizeof(phi.patient_name), "DOE^JANE");
	snprintf(phi.patient_id, sizeof(phi.patient_id), "ID<42>");
	snprintf(phi.birth_date, sizeof(phi.birth_date), "19800229");
	snprintf(phi.accession, sizeof(phi.accession), "ACC7");
	snprintf(phi.physician, sizeof(phi.physician), "WHO^DR");
	snprintf(phi.institution, sizeof(phi.institution), "St Elsewhere");
	fx->info.phi = &phi;
	text = save(fx);
	assert_null(strstr(text, "DOE^JANE"));
	assert_null(strstr(text, "St Elsewhere"));
	free(text);
	fx->info.keep_phi = 1;
	text = save(fx);
	assert_non_null(strstr(text, "patient-name=\"DOE^JANE\""));
	assert_non_null(strstr(text, "patient-id=\"ID&lt;42&gt;\""));
	assert_non_null(strstr(text, "birth-date=\"19800229\""));
	assert_non_null(strstr(text, "accession=\"ACC7\""));
	assert_non_null(strstr(text, "physician=\"WHO^DR\""));
	assert_non_null(strstr(text, "institution=\"St Elsewhere\""));
	free(text);
}

static void schema_rejects_a_raw_uid(void **state)
{
	struct fixture *fx = *state;
	xmlDoc *doc = twin_series_xml_build(&fx->err, &fx->info);
	xmlNode *sel;

	assert_ptr_ok(fx->err, doc);
	assert_ok(fx->err, twin_xml_validate(&fx->err, "series", "built", doc, twin_series_xsd));
	sel = twin_xml_next(xmlDocGetRootElement(doc)->children, "selected");
	assert_non_null(sel);
	xmlSetProp(sel, (const xmlChar *)"uid", (const xmlChar *)series_uid);
	assert_int_equal(twin_xml_validate(&fx->err, "series", "built", doc, twin_series_xsd), -1);
	assert_err(fx->err, TWIN_EINPUT, "uid");
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(valid_technical_and_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_phi_adds_identifiers, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_phi_writes_the_patient_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_rejects_a_raw_uid, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest_series_xml", tests, NULL, NULL);
}
