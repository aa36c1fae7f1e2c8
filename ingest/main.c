/*
 * twin-ingest: a DICOM study (folder tree or DICOMDIR) to CASE/ingest/image.nii.gz
 * and series.xml, and a record in CASE/manifest.xml. --list prints the series
 * found and writes nothing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "manifest.h"
#include "nifti.h"

#include "assemble.h"
#include "dcmtk.h"
#include "frame.h"
#include "geometry.h"
#include "group.h"
#include "mosaic.h"
#include "select.h"
#include "series_xml.h"
#include "walk.h"

#define PROG "twin-ingest"

static const char *opt_series, *opt_phase;
static int opt_all_phases, opt_keep_phi, opt_list;

static const struct twin_cli_option options[] = {
	{ 0, "series", "WHICH", "series number, SeriesInstanceUID, its h: hash or a description pattern", &opt_series, NULL },
	{ 0, "phase", "P", "cardiac phase: a percent (\"75%\") or a 0-based index", &opt_phase, NULL },
	{ 0, "all-phases", NULL, "also write every phase as image_phaseNN.nii.gz", NULL, &opt_all_phases },
	{ 0, "keep-phi", NULL, "keep the raw UIDs and the description in series.xml", NULL, &opt_keep_phi },
	{ 0, "list", NULL, "print the series found and write nothing (CASE_DIR may be left out)", NULL, &opt_list },
};

static const struct twin_cli_spec spec = {
	PROG, "DICOM_DIR CASE_DIR", 1, 2,
	"converts a DICOM study to CASE_DIR/ingest/image.nii.gz and series.xml",
	options, sizeof(options) / sizeof(options[0]),
};

/* What one run holds; released by run_release. */
struct run {
	const struct twin_cli *cli;
	struct twin_paths paths;  /* the files of a folder tree */
	char **dicomdir;          /* or those a DICOMDIR names (twin_dcm_files_free) */
	size_t ndicomdir;
	char *const *files;       /* whichever of the two */
	size_t nfiles;
	struct chunk {
		struct twin_frame *f; /* from twin_dcm_scan, one file's records */
		size_t n;
	} *chunks;
	size_t nchunks, capchunks;
	struct twin_frame *frames; /* every record, mosaics cut into tiles; paths borrowed from chunks */
	size_t nframes, unreadable;
	struct twin_mosaic_cache *mosaics;
	struct twin_study study;
	struct twin_manifest_record *rec;
	char **written;       /* outputs written so far, removed on failure */
	size_t nwritten;
	char **notes;         /* the warnings, for series.xml and the manifest */
	size_t nnotes;
};

/* ---- reading, through the DCMTK shim ---------------------------------------- */

/* Appends the frames of one file; a file that is not DICOM or is corrupt is a warning. */
static int scan_one(struct twin_err *err, struct run *r, const char *path, struct twin_err *first)
{
	struct twin_err ferr;
	struct twin_frame *got = NULL;
	size_t n = 0;

	twin_err_init(&ferr);
	if (twin_dcm_scan(&ferr, path, &got, &n) != 0) {
		r->unreadable++;
		if (first->code == TWIN_OK)
			*first = ferr;
		twin_cli_info(r->cli, "skipping %s", ferr.msg);
		if (ferr.code == TWIN_EFAIL)
			return twin_err_set(err, TWIN_EFAIL, "%s", ferr.msg);
		return 0;
	}
	/* a DICOMDIR inside the tree indexes the files; they are read themselves */
	if (n == 1 && strcmp(got[0].sop_class, TWIN_DCM_DICOMDIR_UID) == 0) {
		twin_dcm_frames_free(got, n);
		return 0;
	}
	if (r->nchunks == r->capchunks) {
		size_t cap = r->capchunks ? 2 * r->capchunks : 256;
		struct chunk *c = realloc(r->chunks, cap * sizeof(*c));

		if (!c) {
			twin_dcm_frames_free(got, n);
			return twin_err_set(err, TWIN_EFAIL, "scanning '%s': out of memory", path);
		}
		r->chunks = c;
		r->capchunks = cap;
	}
	r->chunks[r->nchunks].f = got;
	r->chunks[r->nchunks].n = n;
	r->nchunks++;
	return 0;
}

/* Every record of every file in one array, with mosaics cut into tiles. */
static int gather(struct twin_err *err, struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nchunks; i++)
		n += twin_mosaic_count(r->chunks[i].f, r->chunks[i].n);
	r->frames = malloc((n ? n : 1) * sizeof(*r->frames));
	if (!r->frames)
		return twin_err_set(err, TWIN_EFAIL, "%zu frames: out of memory", n);
	for (i = 0; i < r->nchunks; i++) {
		twin_mosaic_cut(r->frames + r->nframes, r->chunks[i].f, r->chunks[i].n);
		r->nframes += twin_mosaic_count(r->chunks[i].f, r->chunks[i].n);
	}
	return 0;
}

static void progress_cb(void *ctx, size_t done, size_t total)
{
	(void)total;
	twin_progress_update(ctx, done);
}

/* The stored values of one frame, as the assembler wants them. */
static int read_pixels(struct twin_err *err, void *ctx, const struct twin_frame *f, double *out)
{
	size_t i, count = (size_t)f->rows * f->cols;
	int32_t *buf = malloc(count * sizeof(*buf));
	int rc;

	if (!buf)
		return twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", f->path);
	if (f->tile)
		rc = twin_mosaic_read(err, ctx, f, buf);
	else
		rc = twin_dcm_read_pixels(err, f->path, f->frame, buf, count);
	for (i = 0; rc == 0 && i < count; i++)
		out[i] = buf[i];
	free(buf);
	return rc;
}

/* ---- helpers ---------------------------------------------------------------- */

static int remember(struct twin_err *err, char ***list, size_t *n, const char *s)
{
	char **a = realloc(*list, (*n + 1) * sizeof(*a));

	if (!a || !(a[*n] = strdup(s))) {
		if (a)
			*list = a;
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	}
	*list = a;
	(*n)++;
	return 0;
}

static void warn(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct run *r, const char *fmt, ...)
{
	char msg[TWIN_ERR_MSG_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	twin_cli_warn(r->cli, "%s", msg);
	remember(NULL, &r->notes, &r->nnotes, msg);
}

static void warn_cb(void *ctx, const char *msg)
{
	struct run *r = ctx;

	warn(r, "%s", msg);
}

static const char *ts_name(const char *uid)
{
	static const struct {
		const char *uid, *name;
	} names[] = {
		{ "1.2.840.10008.1.2", "implicit" },
		{ "1.2.840.10008.1.2.1", "explicit" },
		{ "1.2.840.10008.1.2.1.99", "deflate" },
		{ "1.2.840.10008.1.2.2", "bigendian" },
		{ "1.2.840.10008.1.2.5", "rle" },
		{ "1.2.840.10008.1.2.4.50", "jpeg-baseline" },
		{ "1.2.840.10008.1.2.4.51", "jpeg-extended" },
		{ "1.2.840.10008.1.2.4.57", "jpeg-lossless" },
		{ "1.2.840.10008.1.2.4.70", "jpeg-lossless" },
		{ "1.2.840.10008.1.2.4.80", "jpeg-ls" },
		{ "1.2.840.10008.1.2.4.81", "jpeg-ls-near" },
		{ "1.2.840.10008.1.2.4.90", "j2k-lossless" },
		{ "1.2.840.10008.1.2.4.91", "j2k" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(uid, names[i].uid) == 0)
			return names[i].name;
	return *uid ? uid : "-";
}

/* ---- --list ----------------------------------------------------------------- */

static int list_series(struct twin_err *err, const struct run *r)
{
	size_t i;

	printf("%-6s %-18s %-3s %-28s %-9s %6s %6s %-18s %-9s %-13s %s\n", "number", "uid", "mod",
	       "description", "size", "slices", "phases", "spacing", "plane", "syntax", "skip");
	for (i = 0; i < r->study.n; i++) {
		const struct twin_series *s = &r->study.series[i];
		const struct twin_frame *f = s->first;
		char num[24], hash[TWIN_UID_HASH], size[24], sp[48];

		if (twin_select_uid_hash(err, f->series_uid, hash) != 0)
			return -1;
		if (s->part)
			snprintf(num, sizeof(num), "%d.%u", f->series_number, s->part);
		else
			snprintf(num, sizeof(num), "%d", f->series_number);
		snprintf(size, sizeof(size), "%ux%u", f->cols, f->rows);
		if (f->has_position)
			snprintf(sp, sizeof(sp), "%.3gx%.3gx%.3g", f->spacing[1], f->spacing[0], s->slice_step);
		else
			snprintf(sp, sizeof(sp), "-");
		printf("%-6s %-18s %-3s %-28.28s %-9s %6zu %6zu %-18s %-9s %-13s %s%s\n", num, hash,
		       *f->modality ? f->modality : "-", *f->description ? f->description : "-", size,
		       s->slices, s->n_phases, sp, twin_group_plane(f), ts_name(f->transfer_syntax),
		       s->skip ? s->skip : "-", s->skip && s->skip_soft ? " (usable if named)" : "");
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return twin_err_set(err, TWIN_EIO, "cannot write the list to stdout");
	return 0;
}

/* ---- conversion ------------------------------------------------------------- */

static int add_setting(void *ctx, const char *key, const char *value, const char *origin)
{
	(void)origin;
	twin_manifest_add_setting(ctx, key, value);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Notes every file of the written phases as an input, each once. */
static int add_inputs(struct twin_err *err, struct run *r, const struct twin_series *s,
		      const size_t *phases, size_t nphases)
{
	const char *last = NULL;
	const char **paths = NULL;
	size_t i, j, n = 0;
	int rc = -1;

	for (i = 0; i < nphases; i++)
		n += s->phases[phases[i]].n;
	paths = malloc((n ? n : 1) * sizeof(*paths));
	n = 0;
	if (!paths)
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	for (i = 0; i < nphases; i++)
		for (j = 0; j < s->phases[phases[i]].n; j++)
			paths[n++] = s->phases[phases[i]].frames[j]->path;
	qsort(paths, n, sizeof(*paths), cmp_str);
	for (i = 0; i < n; i++) {
		if (last && strcmp(last, paths[i]) == 0)
			continue;
		last = paths[i];
		if (twin_manifest_add_input(err, r->rec, paths[i]) != 0)
			goto out;
	}
	rc = 0;
out:
	free(paths);
	return rc;
}

/* One phase: assembled and written to CASE/ingest/name. */
static int write_phase(struct twin_err *err, struct run *r, const struct twin_series *s, size_t phase,
		       const char *dir, const char *name, struct twin_geometry *g,
		       struct twin_series_volume *vol)
{
	const struct twin_stack *st = &s->phases[phase];
	struct twin_assemble_opt opt;
	struct twin_progress progress;
	const struct twin_frame **frames = NULL;
	struct twin_volume *v = NULL;
	char *path = NULL;
	size_t n = st->n;
	int rc = -1;

	memset(&opt, 0, sizeof(opt));
	opt.read = read_pixels;
	opt.read_ctx = r->mosaics;
	opt.warn = warn_cb;
	opt.warn_ctx = r;
	opt.threads = (int)twin_conf_int(r->cli->conf, "ingest.threads");
	opt.uneven = strcmp(twin_conf_string(r->cli->conf, "ingest.uneven"), "error") == 0 ?
		     TWIN_UNEVEN_ERROR : TWIN_UNEVEN_RESAMPLE;
	frames = malloc(n * sizeof(*frames));
	if (!frames) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	memcpy(frames, st->frames, n * sizeof(*frames));
	twin_progress_init(&progress, r->cli, name, n);
	opt.progress = progress_cb;
	opt.progress_ctx = &progress;
	v = twin_assemble(err, &opt, frames, &n, g);
	if (!v) {
		/* end the progress line before the error */
		if (progress.drawn)
			fputc('\n', stderr);
		goto out;
	}
	twin_progress_done(&progress);
	if (twin_mkdir_p(err, dir) != 0)
		goto out;
	path = twin_path_join(dir, name);
	if (!path) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_nifti_save(err, path, v) != 0)
		goto out;
	if (remember(err, &r->written, &r->nwritten, path) != 0)
		goto out;
	if (twin_manifest_add_output(err, r->rec, path) != 0)
		goto out;
	vol->file = name;
	vol->phase = phase;
	vol->slices_read = n;
	vol->g = g;
	vol->dtype = v->dtype;
	/* series.xml notes these too */
	if (g->uneven)
		twin_cli_warn(r->cli, "'%s': slices %.3f to %.3f mm apart (a missing slice?): resampled to %.3f mm",
			      name, g->min_step, g->max_step, g->step);
	if (g->tilted)
		twin_cli_info(r->cli, "'%s': gantry tilt of %.2f degrees: resampled to an orthogonal grid",
			      name, g->tilt_deg);
	twin_cli_info(r->cli, "wrote '%s': %zux%zux%zu %s", path, v->dim[0], v->dim[1], v->dim[2],
		      twin_dtype_name(v->dtype));
	rc = 0;
out:
	free(path);
	twin_volume_free(v);
	free(frames);
	return rc;
}

static int convert(struct twin_err *err, struct run *r, const char *case_dir)
{
	const struct twin_conf *conf = r->cli->conf;
	const struct twin_series *s;
	struct twin_phase want;
	struct twin_geometry *geo = NULL;
	struct twin_series_volume *vols = NULL;
	struct twin_series_info info;
	size_t sel, phase, *phases = NULL, nphases, i;
	char *dir = NULL, *xml = NULL, (*phase_names)[48] = NULL;
	int rc = -1;

	if (twin_select_series(err, &r->study, twin_conf_string(conf, "ingest.series"), &sel) != 0)
		return -1;
	s = &r->study.series[sel];
	if (s->skip)
		warn(r, "%s; used %s", s->skip_detail, *twin_conf_string(conf, "ingest.series") ?
		     "because ingest.series names it" : "because no other series is usable");
	twin_conf_phase(conf, &want);
	if (twin_select_phase(err, s, &want, &phase) != 0)
		return -1;
	nphases = twin_conf_bool(conf, "ingest.all_phases") && s->n_phases > 1 ? s->n_phases + 1 : 1;
	phases = calloc(nphases, sizeof(*phases));
	geo = calloc(nphases, sizeof(*geo));
	vols = calloc(nphases, sizeof(*vols));
	phase_names = calloc(nphases, sizeof(*phase_names));
	dir = twin_path_join(case_dir, "ingest");
	xml = dir ? twin_path_join(dir, "series.xml") : NULL;
	r->rec = twin_manifest_record_new(err, PROG, twin_cli_version());
	r->mosaics = twin_mosaic_cache_new(err);
	if (!phases || !geo || !vols || !phase_names || !xml || !r->rec || !r->mosaics) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	twin_conf_foreach(conf, "ingest", add_setting, r->rec);
	phases[0] = phase;
	snprintf(phase_names[0], sizeof(phase_names[0]), "image.nii.gz");
	for (i = 1; i < nphases; i++) {
		phases[i] = i - 1;
		snprintf(phase_names[i], sizeof(phase_names[i]), "image_phase%02zu.nii.gz", i - 1);
	}
	for (i = 0; i < nphases; i++)
		if (write_phase(err, r, s, phases[i], dir, phase_names[i], &geo[i], &vols[i]) != 0) {
			if (nphases > 1)
				twin_err_prefix(err, "phase %zu", phases[i]);
			goto out;
		}
	if (add_inputs(err, r, s, phases, nphases) != 0)
		goto out;
	memset(&info, 0, sizeof(info));
	info.version = twin_cli_version();
	info.files = r->nfiles;
	info.unreadable_files = r->unreadable;
	info.frames = r->nframes;
	info.n_series = r->study.n;
	info.s = s;
	info.volumes = vols;
	info.n_volumes = nphases;
	info.notes = (const char *const *)r->notes;
	info.n_notes = r->nnotes;
	info.keep_phi = twin_conf_bool(conf, "ingest.keep_phi");
	if (twin_series_xml_save(err, xml, &info) != 0)
		goto out;
	if (remember(err, &r->written, &r->nwritten, xml) != 0 ||
	    twin_manifest_add_output(err, r->rec, xml) != 0)
		goto out;
	for (i = 0; i < r->nnotes; i++)
		twin_manifest_add_warning(r->rec, "%s", r->notes[i]);
	if (twin_manifest_append(err, case_dir, r->rec) != 0)
		goto out;
	rc = 0;
out:
	for (i = 0; geo && i < nphases; i++)
		twin_geometry_release(&geo[i]);
	free(geo);
	free(vols);
	free(phases);
	free(phase_names);
	free(xml);
	free(dir);
	return rc;
}

/* ---- main ------------------------------------------------------------------- */

static int apply_options(struct twin_err *err, struct twin_conf *conf)
{
	char buf[1024];

	if (opt_series) {
		snprintf(buf, sizeof(buf), "ingest.series=%s", opt_series);
		if (twin_conf_set(err, conf, buf) != 0)
			return -1;
	}
	if (opt_phase) {
		snprintf(buf, sizeof(buf), "ingest.phase=%s", opt_phase);
		if (twin_conf_set(err, conf, buf) != 0)
			return -1;
	}
	if (opt_all_phases && twin_conf_set(err, conf, "ingest.all_phases=true") != 0)
		return -1;
	if (opt_keep_phi && twin_conf_set(err, conf, "ingest.keep_phi=true") != 0)
		return -1;
	return 0;
}

/*
 * The files to read: those a DICOMDIR names when dicom_dir is one, else
 * every file of the tree (a DICOMDIR whose files are missing is walked too).
 */
static int list_files(struct twin_err *err, struct run *r, const char *dicom_dir)
{
	struct twin_err derr;
	struct stat st;
	size_t missing = 0;

	twin_err_init(&derr);
	if (stat(dicom_dir, &st) == 0 && S_ISREG(st.st_mode) &&
	    twin_dcm_dicomdir_files(&derr, dicom_dir, &r->dicomdir, &r->ndicomdir, &missing) == 0 &&
	    r->ndicomdir > 0) {
		if (missing)
			warn(r, "DICOMDIR '%s' names %zu file%s that do%s not exist", dicom_dir, missing,
			     missing == 1 ? "" : "s", missing == 1 ? "es" : "");
		r->files = r->dicomdir;
		r->nfiles = r->ndicomdir;
		return 0;
	}
	if (twin_walk(err, &r->paths, dicom_dir) != 0)
		return -1;
	r->files = r->paths.path;
	r->nfiles = r->paths.n;
	return 0;
}

static int run(struct twin_err *err, struct run *r)
{
	const struct twin_cli *cli = r->cli;
	const char *dicom_dir = cli->args[0];
	struct twin_err first;
	struct twin_progress progress;
	size_t i;

	if (!opt_list && cli->nargs != 2)
		return twin_err_set(err, TWIN_EUSAGE, "want DICOM_DIR and CASE_DIR");
	if (apply_options(err, cli->conf) != 0)
		return -1;
	if (list_files(err, r, dicom_dir) != 0)
		return -1;
	if (r->nfiles == 0)
		return twin_err_set(err, TWIN_EINPUT, "'%s': no files, so no DICOM images", dicom_dir);
	twin_err_init(&first);
	twin_progress_init(&progress, cli, "reading headers", r->nfiles);
	for (i = 0; i < r->nfiles; i++) {
		if (scan_one(err, r, r->files[i], &first) != 0)
			return -1;
		twin_progress_update(&progress, i + 1);
	}
	twin_progress_done(&progress);
	if (gather(err, r) != 0)
		return -1;
	if (r->nframes == 0)
		return twin_err_set(err, TWIN_EINPUT, "'%s': no DICOM images in %zu file%s (%s)", dicom_dir,
				    r->nfiles, r->nfiles == 1 ? "" : "s", first.msg);
	if (twin_group_frames(err, &r->study, r->frames, r->nframes) != 0)
		return -1;
	if (opt_list)
		return list_series(err, r);
	if (r->unreadable)
		warn(r, "%zu of %zu files left out as not readable DICOM, e.g. %s", r->unreadable, r->nfiles,
		     first.msg);
	return convert(err, r, cli->args[1]);
}

static void run_release(struct run *r, int failed)
{
	size_t i;

	for (i = 0; i < r->nwritten; i++) {
		if (failed)
			unlink(r->written[i]);
		free(r->written[i]);
	}
	free(r->written);
	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	twin_manifest_record_free(r->rec);
	twin_group_release(&r->study);
	free(r->frames);
	for (i = 0; i < r->nchunks; i++)
		twin_dcm_frames_free(r->chunks[i].f, r->chunks[i].n);
	free(r->chunks);
	twin_mosaic_cache_free(r->mosaics);
	twin_walk_release(&r->paths);
	twin_dcm_files_free(r->dicomdir, r->ndicomdir);
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
