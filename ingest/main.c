/*
 * twin-ingest: a DICOM study (folder tree or DICOMDIR) to CASE/ingest/image.nii.gz
 * and series.xml, and a record in CASE/manifest.xml. --list prints the series
 * found and writes nothing.
 */
#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "files.h"
#include "hash.h"
#include "manifest.h"
#include "nifti.h"

#include "assemble.h"
#include "commit.h"
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
static int opt_all_phases, opt_keep_phi, opt_list, opt_uncompressed;

static const struct twin_cli_option options[] = {
	{ 0, "series", "WHICH", "series number, SeriesInstanceUID, its h: hash or a description pattern", &opt_series, NULL },
	{ 0, "phase", "P", "cardiac phase: a percent (\"75%\") or a 0-based index", &opt_phase, NULL },
	{ 0, "all-phases", NULL, "also write every phase as image_phaseNN.nii.gz", NULL, &opt_all_phases },
	{ 0, "keep-phi", NULL, "keep patient name, ID, birth date, accession, physician, institution, raw UIDs and description in series.xml", NULL, &opt_keep_phi },
	{ 0, "uncompressed", NULL, "write image.nii, not gzip-compressed, instead of image.nii.gz", NULL, &opt_uncompressed },
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
	struct twin_manifest_record *rec; /* made at the start, so a failure is recorded too */
	struct twin_commit out;   /* the outputs, renamed into CASE/ingest together */
	const char *case_dir;     /* NULL until the arguments are known */
	int case_existed;         /* CASE_DIR was a folder when the run began */
	int ingest_existed;       /* and CASE_DIR/ingest */
	int case_fault;           /* the failure is about the case folder itself */
	char **notes;         /* the warnings, for series.xml and the manifest */
	size_t nnotes;
};

/* ---- reading, through the DCMTK shim ---------------------------------------- */

/* One file's header, scanned by whichever thread takes it. */
struct scanned {
	struct twin_frame *f;  /* from twin_dcm_scan, or NULL */
	size_t n;
	struct twin_err err;   /* when f is NULL */
};

struct scan_job {
	char *const *files;
	struct scanned *out;
	size_t n, next, done;
	struct twin_progress *progress;
	pthread_mutex_t lock;
};

static void *scan_worker(void *arg)
{
	struct scan_job *job = arg;

	for (;;) {
		struct scanned *sc;
		size_t i;

		pthread_mutex_lock(&job->lock);
		i = job->next++;
		pthread_mutex_unlock(&job->lock);
		if (i >= job->n)
			break;
		sc = &job->out[i];
		twin_err_init(&sc->err);
		if (twin_dcm_scan(&sc->err, job->files[i], &sc->f, &sc->n) != 0)
			sc->f = NULL;
		pthread_mutex_lock(&job->lock);
		twin_progress_update(job->progress, ++job->done);
		pthread_mutex_unlock(&job->lock);
	}
	return NULL;
}

static int thread_count(const struct twin_conf *conf, size_t work)
{
	long t = twin_conf_int(conf, "ingest.threads");

	if (t <= 0)
		t = sysconf(_SC_NPROCESSORS_ONLN);
	if (t > 64)
		t = 64;
	if ((size_t)t > work)
		t = (long)work;
	return t < 1 ? 1 : (int)t;
}

/* Appends the frames of one file; a file that is not DICOM or is corrupt is a warning. */
static int take_scanned(struct twin_err *err, struct run *r, const char *path, struct scanned *sc,
			struct twin_err *first)
{
	if (!sc->f) {
		r->unreadable++;
		if (first->code == TWIN_OK)
			*first = sc->err;
		twin_cli_info(r->cli, "skipping %s", sc->err.msg);
		if (sc->err.code == TWIN_EFAIL)
			return twin_err_set(err, TWIN_EFAIL, "%s", sc->err.msg);
		return 0;
	}
	/* a DICOMDIR inside the tree indexes the files; they are read themselves */
	if (sc->n == 1 && strcmp(sc->f[0].sop_class, TWIN_DCM_DICOMDIR_UID) == 0) {
		twin_dcm_frames_free(sc->f, sc->n);
		sc->f = NULL;
		return 0;
	}
	if (r->nchunks == r->capchunks) {
		size_t cap = r->capchunks ? 2 * r->capchunks : 256;
		struct chunk *c = realloc(r->chunks, cap * sizeof(*c));

		if (!c)
			return twin_err_set(err, TWIN_EFAIL, "scanning '%s': out of memory", path);
		r->chunks = c;
		r->capchunks = cap;
	}
	r->chunks[r->nchunks].f = sc->f;
	r->chunks[r->nchunks].n = sc->n;
	r->nchunks++;
	sc->f = NULL;
	return 0;
}

/* Every file's header, read on several threads and taken in file order. */
static int scan_all(struct twin_err *err, struct run *r, struct twin_err *first)
{
	struct twin_progress progress;
	struct scan_job job;
	pthread_t tid[64];
	int started = 0, nthreads = thread_count(r->cli->conf, r->nfiles), rc = 0;
	size_t i;

	memset(&job, 0, sizeof(job));
	job.files = r->files;
	job.n = r->nfiles;
	job.out = calloc(r->nfiles, sizeof(*job.out));
	if (!job.out)
		return twin_err_set(err, TWIN_EFAIL, "scanning %zu files: out of memory", r->nfiles);
	twin_progress_init(&progress, r->cli, "reading headers", r->nfiles);
	job.progress = &progress;
	pthread_mutex_init(&job.lock, NULL);
	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[started], NULL, scan_worker, &job) != 0)
			break;
		started++;
	}
	scan_worker(&job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&job.lock);
	twin_progress_done(&progress);
	for (i = 0; i < r->nfiles; i++) {
		if (rc == 0)
			rc = take_scanned(err, r, r->files[i], &job.out[i], first);
		twin_dcm_frames_free(job.out[i].f, job.out[i].n);
	}
	free(job.out);
	return rc;
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

/*
 * An input of the written phases, noted in the manifest with its size and
 * SHA-256. The thread that reads a single-frame file whole hashes the bytes
 * it decodes; the others are hashed from disk at the end.
 */
struct input {
	const char *path;        /* borrowed from the frame records */
	uint64_t size;
	char sha256[TWIN_SHA256_HEX];
	int state;               /* 0: not hashed, 1: being hashed, 2: hashed */
};

struct inputs {
	struct input *v;         /* sorted by path, each once */
	size_t n;
	pthread_mutex_t lock;    /* over state */
};

/*
 * What the reader threads share. Each thread keeps the file it read last
 * open (thread-specific, closed when the thread ends), so that the frames of
 * a multi-frame file are decoded without parsing its header again for each.
 */
struct reader {
	struct twin_mosaic_cache *mosaics;
	struct inputs *inputs;
	pthread_key_t open;      /* struct open_file *, or NULL */
};

struct open_file {
	const char *path;        /* borrowed from the frame records */
	struct twin_dcm_file *h;
	unsigned char *buf;      /* the last single-frame file read whole, reused */
	size_t cap;
};

static void close_open(void *p)
{
	struct open_file *of = p;

	if (of) {
		twin_dcm_close(of->h);
		free(of->buf);
	}
	free(of);
}

static int cmp_input(const void *key, const void *elem)
{
	return strcmp(key, ((const struct input *)elem)->path);
}

/* Notes the digest of path's bytes when path is an input not yet hashed. */
static void hash_input(struct inputs *in, const char *path, const void *buf, size_t len)
{
	struct input *it = in ? bsearch(path, in->v, in->n, sizeof(*in->v), cmp_input) : NULL;
	char hex[TWIN_SHA256_HEX];
	int mine = 0, ok;

	if (!it)
		return;
	pthread_mutex_lock(&in->lock);
	if (it->state == 0)
		mine = it->state = 1;
	pthread_mutex_unlock(&in->lock);
	if (!mine)
		return;
	/* a failure leaves it to be hashed from disk */
	ok = twin_sha256_mem(NULL, buf, len, hex) == 0;
	pthread_mutex_lock(&in->lock);
	if (ok) {
		it->size = len;
		memcpy(it->sha256, hex, sizeof(hex));
	}
	it->state = ok ? 2 : 0;
	pthread_mutex_unlock(&in->lock);
}

/* Reads the whole of path into of->buf; *len bytes. */
static int read_whole(struct twin_err *err, struct open_file *of, const char *path, size_t *len)
{
	struct stat st;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return twin_err_errno(err, "cannot open", path);
	if (fstat(fd, &st) != 0) {
		twin_err_errno(err, "cannot read", path);
		goto out;
	}
	for (;;) {
		ssize_t got;

		/* one byte more than the size, so that the read seeing the end needs no growth */
		if (n == of->cap) {
			size_t cap = n < (size_t)st.st_size + 1 ? (size_t)st.st_size + 1 : 2 * n;
			unsigned char *b = realloc(of->buf, cap);

			if (!b) {
				twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", path);
				goto out;
			}
			of->buf = b;
			of->cap = cap;
		}
		got = read(fd, of->buf + n, of->cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			twin_err_errno(err, "cannot read", path);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*len = n;
	rc = 0;
out:
	close(fd);
	return rc;
}

/*
 * Opens f's file for decoding. A single-frame file is read whole, hashed as
 * an input and decoded from memory: one read of each file. The common CT
 * slice is decoded into out there and then, without parsing its header
 * again (*done is 1, and nothing stays open). A multi-frame file stays on
 * disk, its frames decoded one at a time.
 */
static int open_frame_file(struct twin_err *err, struct reader *rd, struct open_file *of,
			   const struct twin_frame *f, int32_t *out, int *done)
{
	size_t len = 0;

	*done = 0;
	of->path = f->path;
	if (f->n_frames > 1) {
		of->h = twin_dcm_open(err, f->path);
		return of->h ? 0 : -1;
	}
	if (read_whole(err, of, f->path, &len) != 0)
		return -1;
	hash_input(rd->inputs, f->path, of->buf, len);
	if (twin_dcm_read_tail16(f, of->buf, len, out)) {
		*done = 1;
		return 0;
	}
	of->h = twin_dcm_open_mem(err, f->path, of->buf, len);
	return of->h ? 0 : -1;
}

/* The stored values of one frame, as the assembler wants them. */
static int read_pixels(struct twin_err *err, void *ctx, const struct twin_frame *f, int32_t *out)
{
	struct reader *rd = ctx;
	struct open_file *of = pthread_getspecific(rd->open);
	int done = 0;

	if (f->tile)
		return twin_mosaic_read(err, rd->mosaics, f, out);
	if (!of) {
		of = calloc(1, sizeof(*of));
		if (!of)
			return twin_err_set(err, TWIN_EFAIL, "reading '%s': out of memory", f->path);
		pthread_setspecific(rd->open, of);
	}
	if (!of->h || strcmp(of->path, f->path) != 0) {
		twin_dcm_close(of->h);
		of->h = NULL;
		if (open_frame_file(err, rd, of, f, out, &done) != 0)
			return -1;
		if (done)
			return 0;
	}
	return twin_dcm_read_frame(err, of->h, f->frame, out, (size_t)f->rows * f->cols);
}

/* ---- helpers ---------------------------------------------------------------- */

/* Monotonic seconds, for the times that -v gives. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_dir_in(const char *dir, const char *name)
{
	char *p = twin_path_join(dir, name);
	int yes = p && is_dir(p);

	free(p);
	return yes;
}

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every file of the written phases, each once, sorted, none hashed yet. */
static int list_inputs(struct twin_err *err, struct inputs *in, const struct twin_series *s,
		       const size_t *phases, size_t nphases)
{
	const char **paths = NULL;
	size_t i, j, n = 0;

	for (i = 0; i < nphases; i++)
		n += s->phases[phases[i]].n;
	paths = malloc((n ? n : 1) * sizeof(*paths));
	in->v = calloc(n ? n : 1, sizeof(*in->v));
	if (!paths || !in->v) {
		free(paths);
		return twin_err_set(err, TWIN_EFAIL, "out of memory");
	}
	n = 0;
	for (i = 0; i < nphases; i++)
		for (j = 0; j < s->phases[phases[i]].n; j++)
			paths[n++] = s->phases[phases[i]].frames[j]->path;
	qsort(paths, n, sizeof(*paths), cmp_str);
	for (i = 0; i < n; i++)
		if (in->n == 0 || strcmp(in->v[in->n - 1].path, paths[i]) != 0)
			in->v[in->n++].path = paths[i];
	free(paths);
	return 0;
}

/* Notes every input, with the digest its reader found or else hashed from disk now. */
static int add_inputs(struct twin_err *err, struct run *r, const struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct input *it = &in->v[i];
		int rc = it->state == 2 ?
			 twin_manifest_add_input_hashed(err, r->rec, it->path, it->size, it->sha256) :
			 twin_manifest_add_input(err, r->rec, it->path);

		if (rc != 0)
			return -1;
	}
	return 0;
}

/* A volume written, with the size and SHA-256 of its bytes. */
struct written {
	uint64_t size;
	char sha256[TWIN_SHA256_HEX];
};

/*
 * An uncompressed volume written and hashed while its slices are read (see
 * twin_nifti_stream). It is opened at the first slice, and given up when
 * the assembler says that the volume returned will be another; the volume
 * is then saved after it is read.
 */
struct streamer {
	const char *path;
	struct twin_nifti_stream *s;
	const struct twin_volume *v;  /* the volume streamed */
	size_t done;                  /* its slices told final */
	int off;                      /* given up, or never to be */
};

static void stream_slices(void *ctx, const struct twin_volume *v, size_t done)
{
	struct streamer *st = ctx;
	struct twin_err err;

	if (st->off)
		return;
	if (!v) {
		st->off = 1;
		if (st->s)
			twin_nifti_stream_close(NULL, st->s, 0, NULL, NULL);
		st->s = NULL;
		return;
	}
	/* a stream that cannot open leaves the volume to be saved afterwards, which says why */
	twin_err_init(&err);
	if (!st->s && !(st->s = twin_nifti_stream_open(&err, st->path, v, 1))) {
		st->off = 1;
		return;
	}
	st->v = v;
	st->done = done;
	twin_nifti_stream_ready(st->s, done * v->dim[0] * v->dim[1] * twin_dtype_size(v->dtype));
}

/* v written to path: by the stream when it holds the whole of v, else saved now. */
static int save_volume(struct twin_err *err, struct streamer *st, const struct twin_volume *v,
		       struct written *out)
{
	int whole = st->s && !st->off && st->v == v && st->done == v->dim[2];

	if (st->s) {
		struct twin_nifti_stream *s = st->s;

		st->s = NULL;
		if (whole)
			return twin_nifti_stream_close(err, s, 1, &out->size, out->sha256);
		twin_nifti_stream_close(NULL, s, 0, NULL, NULL);
	}
	return twin_nifti_save_hashed(err, st->path, v, &out->size, out->sha256);
}

/* One phase: assembled and written to path, the staged name of CASE/ingest/name. */
static int write_phase(struct twin_err *err, struct run *r, const struct twin_series *s, size_t phase,
		       const char *name, const char *path, struct twin_geometry *g,
		       struct twin_series_volume *vol, struct inputs *inputs, struct written *out)
{
	const struct twin_stack *st = &s->phases[phase];
	struct reader rd;
	struct twin_assemble_opt opt;
	struct twin_progress progress;
	const struct twin_frame **frames = NULL;
	struct twin_volume *v = NULL;
	struct streamer sm;
	size_t n = st->n;
	double t0, t1;
	int rc = -1, streamed;

	memset(&opt, 0, sizeof(opt));
	rd.mosaics = r->mosaics;
	rd.inputs = inputs;
	if (pthread_key_create(&rd.open, close_open) != 0)
		return twin_err_set(err, TWIN_EFAIL, "'%s': cannot make a thread key", name);
	opt.read = read_pixels;
	opt.read_ctx = &rd;
	opt.warn = warn_cb;
	opt.warn_ctx = r;
	opt.threads = (int)twin_conf_int(r->cli->conf, "ingest.threads");
	/* .nii.gz is compressed in parallel once read */
	memset(&sm, 0, sizeof(sm));
	sm.path = path;
	if (opt_uncompressed) {
		opt.slices = stream_slices;
		opt.slices_ctx = &sm;
	}
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
	t0 = now();
	v = twin_assemble(err, &opt, frames, &n, g);
	/* this thread read too: its file is closed here, the others' as they ended */
	close_open(pthread_getspecific(rd.open));
	pthread_setspecific(rd.open, NULL);
	pthread_key_delete(rd.open);
	if (!v) {
		/* end the progress line before the error */
		if (progress.drawn)
			fputc('\n', stderr);
		goto out;
	}
	twin_progress_done(&progress);
	t1 = now();
	streamed = sm.s && !sm.off;
	if (save_volume(err, &sm, v, out) != 0)
		goto out;
	twin_cli_info(r->cli, "'%s': %zu slices read and hashed in %.3f s, written and hashed %s %.3f s",
		      name, n, t1 - t0, streamed ? "alongside, the last bytes in" : "in", now() - t1);
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
	twin_cli_info(r->cli, "wrote '%s': %zux%zux%zu %s", name, v->dim[0], v->dim[1], v->dim[2],
		      twin_dtype_name(v->dtype));
	rc = 0;
out:
	if (sm.s)
		twin_nifti_stream_close(NULL, sm.s, 0, NULL, NULL);
	twin_volume_free(v);
	free(frames);
	return rc;
}

/* image.nii, image.nii.gz, image_phase07.nii.gz: a volume that some run of twin-ingest writes. */
static int is_volume_name(const char *name)
{
	const char *p = name + strlen("image");
	size_t digits = 0;

	if (strncmp(name, "image", 5) != 0)
		return 0;
	if (strncmp(p, "_phase", 6) == 0) {
		p += 6;
		while (p[digits] >= '0' && p[digits] <= '9')
			digits++;
		if (digits < 2)
			return 0;
		p += digits;
	}
	return strcmp(p, ".nii") == 0 || strcmp(p, ".nii.gz") == 0;
}

/*
 * The volumes of an earlier run that this one does not replace go with it
 * (image.nii.gz when image.nii is written, phases no longer asked for), so
 * that CASE/ingest holds the outputs of one run only.
 */
static int drop_stale(struct twin_err *err, struct run *r, const char *dir, char (*names)[48], size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (e = readdir(d))) {
		size_t i;

		if (!is_volume_name(e->d_name))
			continue;
		for (i = 0; i < n && strcmp(names[i], e->d_name) != 0; i++)
			;
		if (i == n)
			rc = twin_commit_drop(err, &r->out, e->d_name);
	}
	closedir(d);
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
	struct twin_dcm_phi phi;
	struct inputs inputs;
	struct written *written = NULL;
	size_t sel, phase, *phases = NULL, nphases, i, j;
	char *dir = NULL, (*names)[48] = NULL;
	const char *ext = opt_uncompressed ? ".nii" : ".nii.gz", *path;
	int rc = -1;

	memset(&inputs, 0, sizeof(inputs));
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
	pthread_mutex_init(&inputs.lock, NULL);
	phases = calloc(nphases, sizeof(*phases));
	geo = calloc(nphases, sizeof(*geo));
	vols = calloc(nphases, sizeof(*vols));
	names = calloc(nphases, sizeof(*names));
	written = calloc(nphases, sizeof(*written));
	dir = twin_path_join(case_dir, "ingest");
	r->mosaics = twin_mosaic_cache_new(err);
	if (!phases || !geo || !vols || !names || !written || !dir || !r->mosaics) {
		twin_err_set(err, TWIN_EFAIL, "out of memory");
		goto out;
	}
	if (twin_mkdir_p(err, dir) != 0 || twin_commit_open(err, &r->out, dir) != 0) {
		r->case_fault = 1;
		goto out;
	}
	phases[0] = phase;
	snprintf(names[0], sizeof(names[0]), "image%s", ext);
	for (i = 1; i < nphases; i++) {
		phases[i] = i - 1;
		snprintf(names[i], sizeof(names[i]), "image_phase%02zu%s", i - 1, ext);
	}
	if (list_inputs(err, &inputs, s, phases, nphases) != 0)
		goto out;
	for (i = 0; i < nphases; i++) {
		path = twin_commit_file(err, &r->out, names[i]);
		if (!path || write_phase(err, r, s, phases[i], names[i], path, &geo[i], &vols[i], &inputs,
					 &written[i]) != 0) {
			if (nphases > 1)
				twin_err_prefix(err, "phase %zu", phases[i]);
			goto out;
		}
	}
	if (add_inputs(err, r, &inputs) != 0)
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
	/* patient fields are read only when they are to be kept */
	if (info.keep_phi) {
		if (twin_dcm_read_phi(err, s->first->path, &phi) != 0)
			goto out;
		info.phi = &phi;
	}
	path = twin_commit_file(err, &r->out, "series.xml");
	if (!path || twin_series_xml_save(err, path, &info) != 0)
		goto out;
	if (drop_stale(err, r, dir, names, nphases) != 0)
		goto out;
	if (twin_commit_apply(err, &r->out) != 0) {
		r->case_fault = 1;
		goto out;
	}
	/* the volumes were hashed as they were written; series.xml is read back */
	for (i = 0; i < r->out.n; i++) {
		const struct twin_commit_file *f = &r->out.files[i];
		int rc_add;

		if (!f->write)
			continue;
		for (j = 0; j < nphases && strcmp(names[j], f->name) != 0; j++)
			;
		if (j < nphases)
			rc_add = twin_manifest_add_output_hashed(err, r->rec, f->final, written[j].size,
								 written[j].sha256);
		else
			rc_add = twin_manifest_add_output(err, r->rec, f->final);
		if (rc_add != 0)
			goto out;
	}
	for (i = 0; i < r->nnotes; i++)
		twin_manifest_add_warning(r->rec, "%s", r->notes[i]);
	if (twin_manifest_append(err, case_dir, r->rec) != 0) {
		r->case_fault = 1;
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_destroy(&inputs.lock);
	free(inputs.v);
	free(written);
	/* after a failure the earlier outputs are put back */
	if (rc != 0 && r->out.applied)
		twin_commit_undo(&r->out);
	for (i = 0; geo && i < nphases; i++)
		twin_geometry_release(&geo[i]);
	free(geo);
	free(vols);
	free(phases);
	free(names);
	free(dir);
	return rc;
}

/* ---- main ------------------------------------------------------------------- */

static int apply_options(struct twin_err *err, struct twin_conf *conf)
{
	if (opt_series && twin_conf_set_value(err, conf, "--series", "ingest.series", opt_series) != 0)
		return -1;
	if (opt_phase && twin_conf_set_value(err, conf, "--phase", "ingest.phase", opt_phase) != 0)
		return -1;
	if (opt_all_phases && twin_conf_set_value(err, conf, "--all-phases", "ingest.all_phases", "true") != 0)
		return -1;
	if (opt_keep_phi && twin_conf_set_value(err, conf, "--keep-phi", "ingest.keep_phi", "true") != 0)
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
	double t0;

	if (!opt_list && cli->nargs != 2)
		return twin_err_set(err, TWIN_EUSAGE, "want DICOM_DIR and CASE_DIR");
	if (apply_options(err, cli->conf) != 0)
		return -1;
	if (!opt_list) {
		r->case_dir = cli->args[1];
		r->case_existed = is_dir(r->case_dir);
		r->ingest_existed = is_dir_in(r->case_dir, "ingest");
		r->rec = twin_manifest_record_new(err, PROG, twin_cli_version());
		if (!r->rec)
			return -1;
		twin_manifest_add_settings(r->rec, cli->conf, "ingest");
	}
	if (list_files(err, r, dicom_dir) != 0)
		return -1;
	if (r->nfiles == 0)
		return twin_err_set(err, TWIN_EINPUT, "'%s': no files, so no DICOM images", dicom_dir);
	twin_err_init(&first);
	t0 = now();
	if (scan_all(err, r, &first) != 0)
		return -1;
	twin_cli_info(cli, "%zu headers read in %.3f s", r->nfiles, now() - t0);
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

/*
 * A failed run is recorded in CASE/manifest.xml when the case folder was
 * there before the run and the failure is not about the folder itself.
 */
static void record_failure(struct run *r, const struct twin_err *stage_err)
{
	struct twin_manifest_record *rec = r->rec, *fresh = NULL;
	struct twin_err err;
	size_t i;

	if (!r->case_dir || !rec || r->case_fault || !r->case_existed || !is_dir(r->case_dir))
		return;
	/* outputs noted just before the failure were put back: a record without them */
	if (rec->noutputs) {
		fresh = twin_manifest_record_new(NULL, PROG, twin_cli_version());
		if (!fresh)
			return;
		twin_manifest_add_settings(fresh, r->cli->conf, "ingest");
		rec = fresh;
	}
	for (i = 0; i < r->nnotes; i++)
		twin_manifest_add_warning(rec, "%s", r->notes[i]);
	twin_manifest_record_fail(rec, stage_err);
	twin_err_init(&err);
	if (twin_manifest_append(&err, r->case_dir, rec) != 0)
		twin_cli_warn(r->cli, "the failure is not recorded: %s", err.msg);
	twin_manifest_record_free(fresh);
}

static void run_release(struct run *r, const struct twin_err *err, int failed)
{
	size_t i;
	char *p;

	twin_commit_release(&r->out);
	if (failed) {
		record_failure(r, err);
		/* folders this run made go again when they stayed empty */
		if (r->case_dir && !r->ingest_existed && (p = twin_path_join(r->case_dir, "ingest"))) {
			rmdir(p);
			free(p);
		}
		if (r->case_dir && !r->case_existed)
			rmdir(r->case_dir);
	}
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
#ifdef M_TRIM_THRESHOLD
	/*
	 * The readers allocate and free about 1 MiB per slice: glibc keeps it for
	 * the next slice instead of returning it and faulting it in again.
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
	memset(&r, 0, sizeof(r));
	twin_commit_init(&r.out);
	r.cli = &cli;
	if (twin_cli_parse(&err, &cli, &spec, argc, argv) != 0)
		rc = twin_cli_error(&cli, &err);
	else if (!cli.done)
		rc = run(&err, &r) ? twin_cli_error(&cli, &err) : 0;
	run_release(&r, &err, rc != 0);
	twin_cli_release(&cli);
	return rc;
}
