/*
 * twin-segment: CASE/ingest/image.nii.gz (or --image) to CASE/segment/
 * labels.nii.gz, labels.xml and the QC pictures, and a record in CASE/manifest.xml.
 * The labels come from the automatic pipeline (heart.c), guided by --seeds,
 * or from a label map made elsewhere (--labels, --map).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "labels.h"
#include "manifest.h"
#include "nifti.h"

#include "heart.h"
#include "qc.h"
#include "seeds.h"

#define PROG "twin-segment"

static const char *opt_image, *opt_seeds, *opt_labels, *opt_map;

static const struct twin_cli_option options[] = {
	{ 0, "image", "FILE", "the image to segment (default CASE_DIR/ingest/image.nii.gz)", &opt_image, NULL },
	{ 0, "seeds", "FILE", "seed points: CSV label,x,y,z in LPS mm, or a 3D Slicer .mrk.json", &opt_seeds, NULL },
	{ 0, "labels", "FILE", "take this label map instead of segmenting", &opt_labels, NULL },
	{ 0, "map", "MAP", "ids of --labels: totalsegmentator (default), mmwhs or a FILE.csv", &opt_map, NULL },
};

static const struct twin_cli_spec spec = {
	PROG, "CASE_DIR", 1, 1,
	"segments the heart of CASE_DIR's image into CASE_DIR/segment/labels.nii.gz",
	options, sizeof(options) / sizeof(options[0]),
};

/* What one run holds. */
struct run {
	const struct twin_cli *cli;
	struct twin_volume *img, *labels;
	struct twin_manifest_record *rec;
	struct twin_labels_file *lf;
	struct twin_seed *seeds;
	size_t nseeds;
	char *written[8];   /* outputs written so far, removed on failure */
	size_t nwritten;
	char *dir, *qc;
	char *warning;
};

/* A label map from elsewhere, remapped and put onto the image's grid. */
static int import_labels(struct twin_err *err, struct run *r)
{
	struct twin_labels_map *map = NULL;
	struct twin_volume *raw = NULL, *mapped = NULL;
	const char *m = opt_map ? opt_map : "totalsegmentator";
	size_t len = strlen(m), n, before = 0, after = 0;
	double sp[3], vol_a, vol_b;
	int rc = -1;

	if (len > 4 && strcmp(m + len - 4, ".csv") == 0)
		map = twin_labels_map_load(err, m);
	else
		map = twin_labels_map_new(err, m);
	if (!map)
		goto out;
	if (!(raw = twin_nifti_load(err, opt_labels)) || !(mapped = twin_labels_remap(err, map, raw))) {
		twin_err_prefix(err, "label map '%s'", opt_labels);
		goto out;
	}
	if (!(r->labels = twin_volume_resample(err, mapped, r->img->dim, &r->img->affine, TWIN_NEAREST, 0.0)))
		goto out;
	/* the same patient space: most of what is labelled must fall inside the image */
	n = twin_volume_count(mapped);
	for (size_t i = 0; i < n; i++)
		before += ((uint8_t *)mapped->data)[i] != 0;
	n = twin_volume_count(r->labels);
	for (size_t i = 0; i < n; i++)
		after += ((uint8_t *)r->labels->data)[i] != 0;
	twin_volume_spacing(mapped, sp);
	vol_a = (double)before * sp[0] * sp[1] * sp[2];
	twin_volume_spacing(r->img, sp);
	vol_b = (double)after * sp[0] * sp[1] * sp[2];
	if (before == 0) {
		twin_err_set(err, TWIN_EINPUT, "label map '%s': no labelled voxel", opt_labels);
		goto out;
	}
	if (vol_b < 0.5 * vol_a) {
		twin_err_set(err, TWIN_EINPUT, "label map '%s' lies on another grid than image '%s': only %.0f %% "
			     "of its labelled volume falls inside the image", opt_labels,
			     opt_image ? opt_image : "ingest/image.nii.gz", 100.0 * vol_b / vol_a);
		goto out;
	}
	rc = 0;
out:
	twin_labels_map_free(map);
	twin_volume_free(raw);
	twin_volume_free(mapped);
	return rc;
}

/* Every structure must be in an imported map unless segment.partial allows. */
static int check_imported(struct twin_err *err, struct run *r, int partial)
{
	char missing[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < r->lf->count; i++) {
		const struct twin_labels_entry *e = &r->lf->entries[i];

		/* the RV wall (8) comes from twin-mesh, never from a segmentation */
		if (e->label->id == 0 || e->label->grown || e->voxels > 0)
			continue;
		len += (size_t)snprintf(missing + len, len < sizeof(missing) ? sizeof(missing) - len : 0, "%s%s",
					len ? ", " : "", e->label->display);
		if (len >= sizeof(missing))
			len = sizeof(missing) - 1;
	}
	if (!len)
		return 0;
	if (!partial)
		return twin_err_set(err, TWIN_EINPUT, "label map '%s': structure not found: %s has no voxel",
				    opt_labels, missing);
	r->warning = strdup(missing);
	return 0;
}

/* Centre of the blood labels, and a grey window from the wall and the blood. */
static void view(const struct run *r, double centre[3], double window[2])
{
	size_t n = twin_volume_count(r->labels), nb = 0, nw = 0;
	double c[3] = { 0, 0, 0 }, blood = 0.0, wall = 0.0;

	for (size_t v = 0; v < n; v++) {
		size_t i = v % r->img->dim[0], j = (v / r->img->dim[0]) % r->img->dim[1];
		size_t k = v / (r->img->dim[0] * r->img->dim[1]);
		int l = ((uint8_t *)r->labels->data)[v];
		double g = twin_volume_get(r->img, i, j, k);

		if (l == 1) {
			wall += g;
			nw++;
		} else if (l > 1) {
			double ijk[3] = { (double)i, (double)j, (double)k }, x[3];

			twin_volume_index_to_world(r->img, ijk, x);
			for (int a = 0; a < 3; a++)
				c[a] += x[a];
			blood += g;
			nb++;
		}
	}
	blood = nb ? blood / (double)nb : 400.0;
	wall = nw ? wall / (double)nw : blood - 300.0;
	if (blood - wall < 50.0)
		wall = blood - 50.0;
	for (int a = 0; a < 3; a++)
		centre[a] = nb ? c[a] / (double)nb : 0.0;
	if (!nb) {
		double ijk[3] = { 0.5 * (double)r->img->dim[0], 0.5 * (double)r->img->dim[1],
				  0.5 * (double)r->img->dim[2] };

		twin_volume_index_to_world(r->img, ijk, centre);
	}
	window[0] = wall - 0.9 * (blood - wall);
	window[1] = blood + 0.6 * (blood - wall);
}

static void progress_cb(void *ctx, unsigned done, unsigned total)
{
	(void)total;
	twin_progress_update(ctx, done);
}

static int keep(struct twin_err *err, struct run *r, char *path)
{
	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	r->written[r->nwritten++] = path;
	return twin_manifest_add_output(err, r->rec, path);
}

static int write_outputs(struct twin_err *err, struct run *r, const char *case_dir)
{
	double centre[3], window[2];
	char *p;

	if (twin_mkdir_p(err, r->qc) != 0)
		return -1;
	p = twin_path_join(r->dir, "labels.nii.gz");
	if (!p)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	if (twin_nifti_save(err, p, r->labels) != 0) {
		free(p);
		return -1;
	}
	if (keep(err, r, p) != 0)
		return -1;
	p = twin_path_join(r->dir, "labels.xml");
	if (!p)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	if (twin_labels_save(err, p, r->lf) != 0) {
		free(p);
		return -1;
	}
	if (keep(err, r, p) != 0)
		return -1;
	view(r, centre, window);
	if (twin_qc_write(err, r->qc, r->img, r->labels, window, centre) != 0) {
		for (int i = 0; i < 4; i++) {
			p = twin_path_join(r->qc, twin_qc_names[i]);
			if (p)
				unlink(p);
			free(p);
		}
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (keep(err, r, twin_path_join(r->qc, twin_qc_names[i])) != 0)
			return -1;
	if (r->warning)
		twin_manifest_add_warning(r->rec, "structure not found: %s", r->warning);
	return twin_manifest_append(err, case_dir, r->rec);
}

static void print_table(const struct run *r)
{
	printf("%-3s %-24s %10s\n", "id", "structure", "volume mL");
	for (size_t i = 0; i < r->lf->count; i++) {
		const struct twin_labels_entry *e = &r->lf->entries[i];

		if (e->label->id == 0 || e->label->grown)
			continue;
		printf("%-3u %-24s %10.1f\n", e->label->id, e->label->display, e->volume_ml);
	}
}

static int run(struct twin_err *err, struct run *r)
{
	const struct twin_cli *cli = r->cli;
	struct twin_conf *conf = cli->conf;
	const char *case_dir = cli->args[0], *seeds;
	char *image = NULL;
	struct twin_heart_opts opts;
	struct twin_heart_report rep;
	struct twin_progress progress;
	int rc = -1, partial;

	if (opt_seeds && twin_conf_set_value(err, conf, "--seeds", "segment.seeds", opt_seeds) != 0)
		return -1;
	if (opt_map && !opt_labels)
		return twin_err_set(err, TWIN_EUSAGE, "--map needs --labels");
	if (opt_labels && opt_seeds)
		return twin_err_set(err, TWIN_EUSAGE, "--seeds and --labels exclude each other");
	partial = strcmp(twin_conf_string(conf, "segment.partial"), "allow") == 0;
	seeds = twin_conf_string(conf, "segment.seeds");
	image = opt_image ? strdup(opt_image) : twin_path_join(case_dir, "ingest/image.nii.gz");
	r->dir = twin_path_join(case_dir, "segment");
	r->qc = r->dir ? twin_path_join(r->dir, "qc") : NULL;
	r->rec = twin_manifest_record_new(err, PROG, twin_cli_version());
	if (!image || !r->qc || !r->rec) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	twin_manifest_add_settings(r->rec, conf, "segment");
	if (!(r->img = twin_nifti_load(err, image))) {
		twin_err_prefix(err, "image");
		goto out;
	}
	if (twin_manifest_add_input(err, r->rec, image) != 0)
		goto out;
	if (opt_labels) {
		if (import_labels(err, r) != 0 || twin_manifest_add_input(err, r->rec, opt_labels) != 0)
			goto out;
	} else {
		if (*seeds && (twin_seeds_load(err, seeds, &r->seeds, &r->nseeds) != 0 ||
			       twin_manifest_add_input(err, r->rec, seeds) != 0))
			goto out;
		opts.spacing = twin_conf_double(conf, "segment.spacing");
		opts.partial = partial;
		opts.seeds = r->seeds;
		opts.nseeds = r->nseeds;
		opts.progress = progress_cb;
		opts.ctx = &progress;
		twin_progress_init(&progress, cli, "segmenting", 8);
		r->labels = twin_heart_segment(err, r->img, &opts, &rep);
		if (!r->labels) {
			twin_err_prefix(err, "image '%s'", image);
			goto out;
		}
		twin_progress_done(&progress);
		twin_cli_info(cli, "%s; air below %.0f, blood above %.0f (median %.0f), LV wall %.0f to %.0f",
			      rep.is_ct ? "CT" : "MR", rep.t_air, rep.t_blood, rep.blood_mean, rep.t_wall,
			      rep.t_blood);
		if (rep.missing[0])
			r->warning = strdup(rep.missing);
	}
	if (!(r->lf = twin_labels_file_new(err)) || twin_labels_measure(err, r->lf, r->labels) != 0)
		goto out;
	if (opt_labels && check_imported(err, r, partial) != 0)
		goto out;
	if (r->warning)
		twin_cli_warn(cli, "structure not found: %s; written anyway as segment.partial = allow", r->warning);
	if (write_outputs(err, r, case_dir) != 0)
		goto out;
	print_table(r);
	rc = 0;
out:
	free(image);
	return rc;
}

static void run_release(struct run *r, int failed)
{
	for (size_t i = 0; i < r->nwritten; i++) {
		if (failed)
			unlink(r->written[i]);
		free(r->written[i]);
	}
	twin_volume_free(r->img);
	twin_volume_free(r->labels);
	twin_manifest_record_free(r->rec);
	twin_labels_file_free(r->lf);
	free(r->seeds);
	free(r->dir);
	free(r->qc);
	free(r->warning);
}

int main(int argc, char **argv)
{
	struct twin_err err;
	struct twin_cli cli;
	struct run r;
	int rc = 0;

	twin_err_init(&err);
	memset(&r, 0, sizeof(r));
	r.cli = &cli;
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		rc = twin_cli_error(&cli, &err);
	else if (!cli.done)
		rc = run(&err, &r) ? twin_cli_error(&cli, &err) : 0;
	run_release(&r, rc != 0);
	twin_cli_release(&cli);
	return rc;
}
