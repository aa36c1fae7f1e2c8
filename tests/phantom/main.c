/*
 * twin-phantom: writes a synthetic cardiac CT or MR study as DICOM, with its
 * ground truth (label maps and image as NIfTI) and a description of the
 * settings, so that every stage can be tested against known answers.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "anatomy.h"
#include "cli.h"
#include "files.h"
#include "nifti.h"
#include "series.h"

#define PROG "twin-phantom"

static const char usage_text[] =
	"usage: " PROG " [options] OUT_DIR\n"
	"writes OUT_DIR/dicom/ (the study) and OUT_DIR/truth/ (labels.nii.gz, image.nii.gz,\n"
	"labels_phaseNN.nii.gz with several phases, phantom.txt)\n"
	"\n"
	"  --size NxMxK          columns, rows and slices (default 128x128x100)\n"
	"  --spacing SX,SY,SZ    mm between columns, rows and slices (default 1.5,1.5,1.5)\n"
	"  --clinical            512x512x300 at 0.4,0.4,0.6\n"
	"  --modality ct|mr      contrast CT (HU) or bright-blood MR (default ct)\n"
	"  --orientation O       axial, coronal, sagittal or oblique (default axial)\n"
	"  --tilt DEG            gantry tilt of an axial CT; the grid is sheared\n"
	"  --noise SIGMA         noise (default 15 HU for CT, 20 for MR)\n"
	"  --blur MM             partial-volume blur (default 0.6)\n"
	"  --seed N              the same seed gives identical files (default 1)\n"
	"  --ts TS               explicit, implicit, bigendian, deflate, rle, jpeg-lossless\n"
	"                        or jpeg-ls (default explicit)\n"
	"  --multiframe          one enhanced multi-frame file per series\n"
	"  --phases N            N cardiac phases in the main series (default 1, at 75%)\n"
	"  --shuffle             random file names, written in random order\n"
	"  --localizer           add a localizer series (coronal and sagittal)\n"
	"  --extra-series        add a 5 mm axial-thick reconstruction as a second series\n"
	"  -q, --quiet           no progress\n"
	"  -h, --help            this help\n"
	"      --version         the version\n";

enum {
	OPT_SIZE = 256, OPT_SPACING, OPT_CLINICAL, OPT_MODALITY, OPT_ORIENTATION, OPT_TILT, OPT_NOISE,
	OPT_BLUR, OPT_SEED, OPT_TS, OPT_MULTIFRAME, OPT_PHASES, OPT_SHUFFLE, OPT_LOCALIZER, OPT_EXTRA,
	OPT_VERSION
};

static const struct option long_opts[] = {
	{"size", required_argument, NULL, OPT_SIZE},
	{"spacing", required_argument, NULL, OPT_SPACING},
	{"clinical", no_argument, NULL, OPT_CLINICAL},
	{"modality", required_argument, NULL, OPT_MODALITY},
	{"orientation", required_argument, NULL, OPT_ORIENTATION},
	{"tilt", required_argument, NULL, OPT_TILT},
	{"noise", required_argument, NULL, OPT_NOISE},
	{"blur", required_argument, NULL, OPT_BLUR},
	{"seed", required_argument, NULL, OPT_SEED},
	{"ts", required_argument, NULL, OPT_TS},
	{"multiframe", no_argument, NULL, OPT_MULTIFRAME},
	{"phases", required_argument, NULL, OPT_PHASES},
	{"shuffle", no_argument, NULL, OPT_SHUFFLE},
	{"localizer", no_argument, NULL, OPT_LOCALIZER},
	{"extra-series", no_argument, NULL, OPT_EXTRA},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* ---- the command line ------------------------------------------------------- */

static int parse_double(struct twin_err *err, const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= lo && *out <= hi))
		return twin_err_set(err, TWIN_EUSAGE, "--%s '%s': want a number from %g to %g", opt, s, lo, hi);
	return 0;
}

/* "A<sep>B<sep>C" of three numbers in [lo, hi]. */
static int parse_triple(struct twin_err *err, const char *opt, const char *s, char sep, double lo, double hi,
			double out[3])
{
	const char *p = s;
	char *end;

	for (int i = 0; i < 3; i++) {
		errno = 0;
		out[i] = strtod(p, &end);
		if (errno || end == p || !(out[i] >= lo && out[i] <= hi) || *end != (i < 2 ? sep : '\0'))
			return twin_err_set(err, TWIN_EUSAGE, "--%s '%s': want three numbers from %g to %g, as A%cB%cC",
					    opt, s, lo, hi, sep, sep);
		p = end + 1;
	}
	return 0;
}

static int parse_name(struct twin_err *err, const char *opt, const char *s, const char *const *names, int n,
		      int *out)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return twin_err_set(err, TWIN_EUSAGE, "--%s: unknown value '%s'", opt, s);
}

struct options {
	struct twin_phantom_study st;
	int quiet, done;
	const char *out;
};

static int parse_option(struct twin_err *err, struct options *o, int c, const char *arg, int *noise_set)
{
	static const char *const modalities[] = {"ct", "mr"};
	static const char *const orients[] = {"axial", "coronal", "sagittal", "oblique"};
	const char *ts_names[TWIN_DCM_TS_COUNT];
	struct twin_phantom_study *st = &o->st;
	double v[3];
	int i;

	for (i = 0; i < TWIN_DCM_TS_COUNT; i++)
		ts_names[i] = twin_dcm_ts_name((enum twin_dcm_ts)i);
	switch (c) {
	case OPT_SIZE:
		if (parse_triple(err, "size", arg, 'x', 1, 4096, v) != 0)
			return -1;
		for (i = 0; i < 3; i++) {
			if (v[i] != floor(v[i]))
				return twin_err_set(err, TWIN_EUSAGE, "--size '%s': want whole numbers", arg);
			st->dim[i] = (size_t)v[i];
		}
		return 0;
	case OPT_SPACING:
		return parse_triple(err, "spacing", arg, ',', 0.01, 100, st->spacing);
	case OPT_CLINICAL:
		st->dim[0] = st->dim[1] = 512;
		st->dim[2] = 300;
		st->spacing[0] = st->spacing[1] = 0.4;
		st->spacing[2] = 0.6;
		return 0;
	case OPT_MODALITY:
		if (parse_name(err, "modality", arg, modalities, 2, &i) != 0)
			return -1;
		st->modality = (enum twin_phantom_modality)i;
		return 0;
	case OPT_ORIENTATION:
		if (parse_name(err, "orientation", arg, orients, 4, &i) != 0)
			return -1;
		st->orientation = (enum twin_phantom_orient)i;
		return 0;
	case OPT_TILT:
		return parse_double(err, "tilt", arg, -30, 30, &st->tilt);
	case OPT_NOISE:
		*noise_set = 1;
		return parse_double(err, "noise", arg, 0, 1000, &st->noise);
	case OPT_BLUR:
		return parse_double(err, "blur", arg, 0, 20, &st->blur_mm);
	case OPT_SEED:
		if (parse_double(err, "seed", arg, 0, 4294967295.0, v) != 0)
			return -1;
		if (v[0] != floor(v[0]))
			return twin_err_set(err, TWIN_EUSAGE, "--seed '%s': want a whole number", arg);
		st->seed = (uint64_t)v[0];
		return 0;
	case OPT_TS:
		if (parse_name(err, "ts", arg, ts_names, TWIN_DCM_TS_COUNT, &i) != 0)
			return -1;
		st->ts = (enum twin_dcm_ts)i;
		return 0;
	case OPT_PHASES:
		if (parse_double(err, "phases", arg, 1, 100, v) != 0)
			return -1;
		if (v[0] != floor(v[0]))
			return twin_err_set(err, TWIN_EUSAGE, "--phases '%s': want a whole number", arg);
		st->phases = (int)v[0];
		return 0;
	case OPT_MULTIFRAME:
		st->multiframe = 1;
		return 0;
	case OPT_SHUFFLE:
		st->shuffle = 1;
		return 0;
	case OPT_LOCALIZER:
		st->localizer = 1;
		return 0;
	case OPT_EXTRA:
		st->extra_series = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	}
	return twin_err_set(err, TWIN_EUSAGE, "bad option");
}

static int parse(struct twin_err *err, struct options *o, int argc, char **argv)
{
	struct twin_phantom_study *st = &o->st;
	int c, noise_set = 0;

	memset(o, 0, sizeof(*o));
	st->dim[0] = st->dim[1] = 128;
	st->dim[2] = 100;
	st->spacing[0] = st->spacing[1] = st->spacing[2] = 1.5;
	st->blur_mm = 0.6;
	st->seed = 1;
	st->phases = 1;
	st->ts = TWIN_DCM_EXPLICIT_LE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			o->done = 1;
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("%s %s\n", PROG, TWIN_VERSION);
			o->done = 1;
			return 0;
		}
		if (c == '?' || c == ':')
			return twin_err_set(err, TWIN_EUSAGE, "%s '%s'", c == ':' ? "missing value for" : "unknown option",
					    argv[optind - 1]);
		if (parse_option(err, o, c, optarg, &noise_set) != 0)
			return -1;
	}
	if (!noise_set)
		st->noise = st->modality == TWIN_PHANTOM_CT ? 15 : 20;
	if (st->tilt != 0 && (st->orientation != TWIN_PHANTOM_AXIAL || st->modality != TWIN_PHANTOM_CT))
		return twin_err_set(err, TWIN_EUSAGE, "--tilt needs an axial CT");
	if (optind != argc - 1)
		return twin_err_set(err, TWIN_EUSAGE, optind == argc ? "missing OUT_DIR" : "too many arguments");
	o->out = argv[optind];
	return 0;
}

/* ---- writing ---------------------------------------------------------------- */

struct run {
	const struct options *o;
	char *dicom, *truth;
	struct twin_progress progress;
	uint64_t files;
};

static void tick(void *ctx)
{
	struct run *r = ctx;

	twin_progress_update(&r->progress, ++r->files);
}

static int save_truth(struct twin_err *err, struct run *r, const char *name, const struct twin_volume *v)
{
	char *path = twin_path_join(r->truth, name);
	int rc;

	if (!path)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	rc = twin_nifti_save(err, path, v);
	free(path);
	return rc;
}

static int render(struct twin_err *err, const struct twin_phantom_study *st, const char *what, int p,
		  double phase, const size_t dim[3], const struct twin_affine *affine,
		  struct twin_volume **labels, struct twin_volume **image)
{
	struct twin_phantom_render opt = {
		.modality = st->modality,
		.phase = phase,
		.noise = st->noise,
		.blur_mm = st->blur_mm,
		.seed = twin_phantom_hash(st->seed, what, (uint64_t)p),
	};

	if (twin_phantom_render(err, &opt, dim, affine, labels, image) != 0)
		return twin_err_prefix(err, "cannot render the %s series", what);
	twin_phantom_clamp(st, *image);
	return 0;
}

/* The main series, phase after phase, with its truth. */
static int write_main(struct twin_err *err, struct run *r)
{
	const struct twin_phantom_study *st = &r->o->st;
	struct twin_volume **images = calloc((size_t)st->phases, sizeof(*images));
	struct twin_volume *labels = NULL;
	struct twin_affine affine;
	struct twin_phantom_series s = {
		st, TWIN_PHANTOM_SERIES_MAIN, "ORIGINAL\\PRIMARY\\AXIAL",
		st->modality == TWIN_PHANTOM_CT ? "cardiac 0.75 Bv36 (phantom)" : "cine bright blood (phantom)",
		st->multiframe, 0, st->phases, images,
	};
	int rc = -1;

	if (!images)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	twin_phantom_main_grid(st, &affine);
	for (int p = 0; p < st->phases; p++) {
		char name[64];

		if (render(err, st, "main", p, twin_phantom_phase(p, st->phases), st->dim, &affine, &labels,
			   &images[p]) != 0)
			goto out;
		snprintf(name, sizeof(name), "labels_phase%02d.nii.gz", p);
		if ((p == 0 && (save_truth(err, r, "labels.nii.gz", labels) != 0 ||
				save_truth(err, r, "image.nii.gz", images[p]) != 0)) ||
		    (st->phases > 1 && save_truth(err, r, name, labels) != 0))
			goto out;
		twin_volume_free(labels);
		labels = NULL;
		if (st->multiframe)
			continue;
		if (twin_phantom_write_series(err, r->dicom, &s, p, tick, r) != 0)
			goto out;
		twin_volume_free(images[p]);
		images[p] = NULL;
	}
	if (st->multiframe && twin_phantom_write_series(err, r->dicom, &s, -1, tick, r) != 0)
		goto out;
	rc = 0;
out:
	for (int p = 0; p < st->phases; p++)
		twin_volume_free(images[p]);
	free(images);
	twin_volume_free(labels);
	return rc;
}

/* The thick-slice reconstruction. */
static int write_extra(struct twin_err *err, struct run *r)
{
	const struct twin_phantom_study *st = &r->o->st;
	struct twin_volume *labels = NULL, *image = NULL;
	struct twin_affine affine;
	size_t dim[3];
	struct twin_phantom_series s = {
		st, TWIN_PHANTOM_SERIES_EXTRA, "ORIGINAL\\PRIMARY\\AXIAL", "thick 5 mm (phantom)",
		st->multiframe, 0, 1, &image,
	};
	int rc = -1;

	twin_phantom_extra_grid(st, dim, &affine);
	if (render(err, st, "extra", 0, twin_phantom_phase(0, 1), dim, &affine, &labels, &image) == 0)
		rc = twin_phantom_write_series(err, r->dicom, &s, 0, tick, r);
	twin_volume_free(labels);
	twin_volume_free(image);
	return rc;
}

/* The localizer: one coronal and one sagittal image, single-frame files. */
static int write_localizer(struct twin_err *err, struct run *r)
{
	const struct twin_phantom_study *st = &r->o->st;

	for (int n = 0; n < TWIN_PHANTOM_LOCALIZERS; n++) {
		struct twin_volume *labels = NULL, *image = NULL;
		struct twin_affine affine;
		size_t dim[3];
		struct twin_phantom_series s = {
			st, TWIN_PHANTOM_SERIES_LOCALIZER, "ORIGINAL\\PRIMARY\\LOCALIZER", "localizer (phantom)",
			0, n, 1, &image,
		};
		int rc;

		twin_phantom_localizer_grid(n, dim, &affine);
		rc = render(err, st, "localizer", n, twin_phantom_phase(0, 1), dim, &affine, &labels, &image);
		if (rc == 0)
			rc = twin_phantom_write_series(err, r->dicom, &s, 0, tick, r);
		twin_volume_free(labels);
		twin_volume_free(image);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void append(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *nbuf;

	if (!*buf)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	nbuf = realloc(*buf, *len + (size_t)n + 1);
	if (!nbuf) {
		free(*buf);
		*buf = NULL;
		return;
	}
	*buf = nbuf;
	va_start(ap, fmt);
	vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

/* truth/phantom.txt: the settings and the geometry, "key = value" per line. */
static int write_description(struct twin_err *err, struct run *r)
{
	const struct twin_phantom_study *st = &r->o->st;
	struct twin_dcm_series d;
	struct twin_phantom_uids uids;
	struct twin_affine a;
	char *buf = calloc(1, 1), *path;
	size_t len = 0;
	int rc;

	twin_phantom_main_grid(st, &a);
	twin_phantom_series_init(&d, &uids, st, TWIN_PHANTOM_SERIES_MAIN, st->dim, &a);
	append(&buf, &len, "# twin-phantom %s: settings and ground-truth geometry\n", TWIN_VERSION);
	append(&buf, &len, "modality = %s\n", st->modality == TWIN_PHANTOM_CT ? "ct" : "mr");
	append(&buf, &len, "size = %zux%zux%zu\n", st->dim[0], st->dim[1], st->dim[2]);
	append(&buf, &len, "spacing = %g,%g,%g\n", st->spacing[0], st->spacing[1], st->spacing[2]);
	append(&buf, &len, "orientation = %s\n", twin_phantom_orient_name(st->orientation));
	append(&buf, &len, "tilt = %g\n", st->tilt);
	append(&buf, &len, "noise = %g\nblur = %g\nseed = %llu\n", st->noise, st->blur_mm,
	       (unsigned long long)st->seed);
	append(&buf, &len, "ts = %s\ntransfer_syntax_uid = %s\n", twin_dcm_ts_name(st->ts), twin_dcm_ts_uid(st->ts));
	append(&buf, &len, "multiframe = %d\nshuffle = %d\nlocalizer = %d\nextra_series = %d\n", st->multiframe,
	       st->shuffle, st->localizer, st->extra_series);
	append(&buf, &len, "phases = %d\n", st->phases);
	for (int p = 0; p < st->phases; p++)
		append(&buf, &len, "phase.%d = %g%% trigger %g ms\n", p, 100 * twin_phantom_phase(p, st->phases),
		       1000 * twin_phantom_phase(p, st->phases));
	append(&buf, &len, "study_uid = %s\nframe_of_reference_uid = %s\n", uids.study, uids.frame_of_reference);
	append(&buf, &len, "main_series_number = %d\nmain_series_uid = %s\n", TWIN_PHANTOM_SERIES_MAIN, uids.series);
	append(&buf, &len, "# labels.nii.gz voxel (i,j,k) = column i, row j of the k-th slice in ascending\n"
			   "# position along the slice normal (row x column cosine); affine to LPS mm:\n");
	for (int x = 0; x < 3; x++)
		append(&buf, &len, "affine_lps.%d = %.9g %.9g %.9g %.9g\n", x, a.m[x][0], a.m[x][1], a.m[x][2],
		       a.m[x][3]);
	if (!buf)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	path = twin_path_join(r->truth, "phantom.txt");
	rc = path ? twin_file_write(err, path, buf, len) : twin_err_set(err, TWIN_EFAIL, "out of memory");
	free(path);
	free(buf);
	return rc;
}

/* Refuses an output folder whose dicom/ already holds files: they would mix with ours. */
static int check_empty(struct twin_err *err, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return twin_err_errno(err, "cannot open", dir);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (n)
		return twin_err_set(err, TWIN_EUSAGE, "'%s' is not empty", dir);
	return 0;
}

static int run(struct twin_err *err, const struct options *o, const struct twin_cli *cli)
{
	const struct twin_phantom_study *st = &o->st;
	struct run r = {o, NULL, NULL, {0}, 0};
	uint64_t total = st->multiframe ? 1 : st->dim[2] * (uint64_t)st->phases;
	size_t extra_dim[3];
	struct twin_affine extra_affine;
	int rc = -1;

	r.dicom = twin_path_join(o->out, "dicom");
	r.truth = twin_path_join(o->out, "truth");
	if (!r.dicom || !r.truth) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_mkdir_p(err, r.dicom) != 0 || check_empty(err, r.dicom) != 0 ||
	    twin_mkdir_p(err, r.truth) != 0)
		goto out;
	twin_phantom_extra_grid(st, extra_dim, &extra_affine);
	total += st->localizer ? TWIN_PHANTOM_LOCALIZERS : 0;
	total += st->extra_series ? (st->multiframe ? 1 : extra_dim[2]) : 0;
	twin_progress_init(&r.progress, cli, "writing DICOM files", total);
	if ((st->localizer && write_localizer(err, &r) != 0) || write_main(err, &r) != 0 ||
	    (st->extra_series && write_extra(err, &r) != 0) || write_description(err, &r) != 0)
		goto out;
	twin_progress_done(&r.progress);
	rc = 0;
out:
	if (rc != 0 && r.progress.drawn)
		fputc('\n', stderr);
	free(r.dicom);
	free(r.truth);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct twin_cli_spec spec = {PROG, "OUT_DIR", 1, 1, "writes a synthetic cardiac study", NULL, 0};
	struct twin_cli cli;
	struct twin_err err;
	struct options o;

	twin_err_init(&err);
	if (parse(&err, &o, argc, argv) != 0) {
		fprintf(stderr, "%s: %s\nusage: %s [options] OUT_DIR (see --help)\n", PROG, err.msg, PROG);
		return TWIN_EUSAGE;
	}
	if (o.done)
		return 0;
	memset(&cli, 0, sizeof(cli));
	cli.spec = &spec;
	cli.quiet = o.quiet;
	if (run(&err, &o, &cli) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err.msg);
		return twin_err_exit_code(&err);
	}
	return 0;
}
