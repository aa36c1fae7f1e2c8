/* sync_file_range is Linux's */
#define _GNU_SOURCE
#include "nifti.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>

#include "files.h"

#define HDR_SIZE 348
#define HDR2_SIZE 540   /* NIfTI-2 */
#define VOX_OFFSET 352  /* header + the 4-byte extension flag */

/* Byte offsets of the fields of the NIfTI-1 header that are read or written. */
enum {
	OFF_SIZEOF_HDR = 0,
	OFF_DIM = 40,          /* int16[8] */
	OFF_DATATYPE = 70,
	OFF_BITPIX = 72,
	OFF_PIXDIM = 76,       /* float[8] */
	OFF_VOX_OFFSET = 108,
	OFF_SCL_SLOPE = 112,
	OFF_SCL_INTER = 116,
	OFF_XYZT_UNITS = 123,
	OFF_DESCRIP = 148,     /* char[80] */
	OFF_QFORM_CODE = 252,
	OFF_SFORM_CODE = 254,
	OFF_QUATERN_B = 256,   /* b, c, d, then qoffset x, y, z: float[6] */
	OFF_SROW_X = 280,      /* srow_x, srow_y, srow_z: float[4] each */
	OFF_MAGIC = 344
};

enum {
	DT_UINT8 = 2,
	DT_INT16 = 4,
	DT_INT32 = 8,
	DT_FLOAT32 = 16,
	DT_FLOAT64 = 64,
	DT_INT8 = 256,
	DT_UINT16 = 512
};

/* The frame argument that refuses 4-D files. */
#define ONLY_3D ((size_t)-1)

#define XFORM_SCANNER_ANAT 1
#define UNITS_MM 2

/* gzip output: members of GZ_CHUNK input bytes, compressed in parallel. */
#define GZ_CHUNK ((size_t)4 << 20)
#define GZ_LEVEL 4  /* on CT, within 0.5% of level 6's size and faster */
/* uncompressed: written in pieces of this size, each sent on to the disk at once */
#define WRITE_CHUNK ((size_t)16 << 20)

/* What the reader takes from a header, in host byte order. */
struct hdr {
	int swap;
	int datatype;
	size_t elsize;
	size_t dim[3];
	size_t count;           /* voxels */
	size_t data_off;        /* vox_offset */
	size_t skip;            /* bytes of the frames before the one read */
	size_t data_bytes;      /* of one frame */
	int scaled;
	double slope, inter;
	struct twin_affine affine;  /* RAS, as the file holds it */
};

/* RAS <-> LPS: negates the x and y rows (adding 0.0 keeps a zero +0). */
static void flip_xy(struct twin_affine *a)
{
	for (int c = 0; c < 4; c++) {
		a->m[0][c] = -a->m[0][c] + 0.0;
		a->m[1][c] = -a->m[1][c] + 0.0;
	}
}

/* --- reading the header -------------------------------------------------- */

static uint16_t get_u16(const unsigned char *b, size_t off, int swap)
{
	uint16_t x;

	memcpy(&x, b + off, 2);
	return swap ? (uint16_t)(x << 8 | x >> 8) : x;
}

static uint32_t bswap32(uint32_t x)
{
	return x << 24 | (x & 0xff00) << 8 | (x >> 8 & 0xff00) | x >> 24;
}

static uint32_t get_u32(const unsigned char *b, size_t off, int swap)
{
	uint32_t x;

	memcpy(&x, b + off, 4);
	return swap ? bswap32(x) : x;
}

static int16_t get_i16(const unsigned char *b, size_t off, int swap)
{
	return (int16_t)get_u16(b, off, swap);
}

static double get_f32(const unsigned char *b, size_t off, int swap)
{
	uint32_t u = get_u32(b, off, swap);
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static const char *datatype_name(int code)
{
	switch (code) {
	case 1: return "binary";
	case DT_UINT8: return "uint8";
	case DT_INT16: return "int16";
	case DT_INT32: return "int32";
	case DT_FLOAT32: return "float32";
	case 32: return "complex64";
	case DT_FLOAT64: return "float64";
	case 128: return "rgb24";
	case DT_INT8: return "int8";
	case DT_UINT16: return "uint16";
	case 768: return "uint32";
	case 1024: return "int64";
	case 1280: return "uint64";
	case 1536: return "float128";
	case 1792: return "complex128";
	case 2048: return "complex256";
	case 2304: return "rgba32";
	}
	return "unknown";
}

static size_t datatype_size(int code)
{
	switch (code) {
	case DT_UINT8: case DT_INT8: return 1;
	case DT_INT16: case DT_UINT16: return 2;
	case DT_INT32: case DT_FLOAT32: return 4;
	case DT_FLOAT64: return 8;
	}
	return 0;
}

/* The qform affine (NIfTI-1 method 2): rotation from the quaternion, then pixdim and qfac. */
static void qform_affine(const unsigned char *b, int swap, struct twin_affine *a)
{
	double qb = get_f32(b, OFF_QUATERN_B, swap);
	double qc = get_f32(b, OFF_QUATERN_B + 4, swap);
	double qd = get_f32(b, OFF_QUATERN_B + 8, swap);
	double qa = 1.0 - (qb * qb + qc * qc + qd * qd);
	double px[3], qfac = get_f32(b, OFF_PIXDIM, swap) < 0.0 ? -1.0 : 1.0;
	double r[3][3];

	/* As nifti1_io: a nearly unit (b, c, d) is normalised and a is 0. */
	if (qa < 1e-7) {
		qa = 1.0 / sqrt(qb * qb + qc * qc + qd * qd);
		qb *= qa;
		qc *= qa;
		qd *= qa;
		qa = 0.0;
	} else {
		qa = sqrt(qa);
	}
	r[0][0] = qa * qa + qb * qb - qc * qc - qd * qd;
	r[0][1] = 2.0 * (qb * qc - qa * qd);
	r[0][2] = 2.0 * (qb * qd + qa * qc);
	r[1][0] = 2.0 * (qb * qc + qa * qd);
	r[1][1] = qa * qa + qc * qc - qb * qb - qd * qd;
	r[1][2] = 2.0 * (qc * qd - qa * qb);
	r[2][0] = 2.0 * (qb * qd - qa * qc);
	r[2][1] = 2.0 * (qc * qd + qa * qb);
	r[2][2] = qa * qa + qd * qd - qc * qc - qb * qb;
	for (int c = 0; c < 3; c++) {
		px[c] = get_f32(b, OFF_PIXDIM + 4 * (c + 1), swap);
		if (!(px[c] > 0.0))
			px[c] = 1.0;
	}
	px[2] *= qfac;
	twin_affine_identity(a);
	for (int row = 0; row < 3; row++) {
		for (int c = 0; c < 3; c++)
			a->m[row][c] = r[row][c] * px[c];
		a->m[row][3] = get_f32(b, OFF_QUATERN_B + 12 + 4 * row, swap);
	}
}

static void header_affine(const unsigned char *b, int swap, struct twin_affine *a, const char **which)
{
	twin_affine_identity(a);
	if (get_i16(b, OFF_SFORM_CODE, swap) > 0) {
		*which = "sform";
		for (int row = 0; row < 3; row++)
			for (int c = 0; c < 4; c++)
				a->m[row][c] = get_f32(b, OFF_SROW_X + 16 * row + 4 * c, swap);
	} else if (get_i16(b, OFF_QFORM_CODE, swap) > 0) {
		*which = "qform";
		qform_affine(b, swap, a);
	} else {
		*which = "pixdim";
		for (int c = 0; c < 3; c++) {
			double px = fabs(get_f32(b, OFF_PIXDIM + 4 * (c + 1), swap));
			a->m[c][c] = px > 0.0 && isfinite(px) ? px : 1.0;
		}
	}
}

/*
 * Parses and checks the 348 bytes at b for frame `frame` (ONLY_3D: the file
 * must be 3-D); the length of what follows is checked later.
 */
static int parse_header(struct twin_err *err, const char *name, const unsigned char *b, size_t frame,
			struct hdr *h)
{
	static const unsigned char magic1[4] = { 'n', '+', '1', 0 };
	static const unsigned char pair1[4] = { 'n', 'i', '1', 0 };
	uint32_t sz = get_u32(b, OFF_SIZEOF_HDR, 0);
	struct twin_affine inv;
	const char *which = NULL;
	int16_t dim[8];
	double off;
	char dims[96];
	size_t dl = 0;

	memset(h, 0, sizeof(*h));
	if (sz == HDR_SIZE || bswap32(sz) == HDR_SIZE) {
		h->swap = sz != HDR_SIZE;
	} else if (sz == HDR2_SIZE || bswap32(sz) == HDR2_SIZE) {
		return twin_err_set(err, TWIN_EUNSUPPORTED,
				    "cannot read '%s': NIfTI-2 (sizeof_hdr 540) is not supported, only NIfTI-1", name);
	} else {
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': not a NIfTI-1 file (sizeof_hdr %u, want 348)",
				    name, (unsigned)sz);
	}
	if (memcmp(b + OFF_MAGIC, pair1, 4) == 0)
		return twin_err_set(err, TWIN_EUNSUPPORTED,
				    "cannot read '%s': a NIfTI header/image pair (magic 'ni1') is not supported, only single .nii files",
				    name);
	if (memcmp(b + OFF_MAGIC, magic1, 4) != 0)
		return twin_err_set(err, TWIN_EINPUT,
				    "cannot read '%s': bad magic (bytes %02x %02x %02x %02x, want 'n+1')", name,
				    b[OFF_MAGIC], b[OFF_MAGIC + 1], b[OFF_MAGIC + 2], b[OFF_MAGIC + 3]);

	for (int i = 0; i < 8; i++)
		dim[i] = get_i16(b, OFF_DIM + 2 * i, h->swap);
	if (dim[0] < 1 || dim[0] > 7)
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': bad dim[0] %d (want 1 to 7)", name, dim[0]);
	for (int i = 1; i <= dim[0]; i++) {
		if (dim[i] < 1)
			return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': bad dimension dim[%d] = %d", name,
					    i, dim[i]);
		dl += (size_t)snprintf(dims + dl, sizeof(dims) - dl, "%s%d", i > 1 ? "x" : "", dim[i]);
	}
	for (int i = 4; i <= dim[0]; i++)
		if (dim[i] > 1 && (i > 4 || frame == ONLY_3D))
			return twin_err_set(err, TWIN_EUNSUPPORTED,
					    "cannot read '%s': %d-D image (%s) is not supported, only 3-D", name,
					    dim[0], dims);
	if (frame != ONLY_3D && frame >= (size_t)(dim[0] >= 4 ? dim[4] : 1))
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': no frame %zu in a %s image", name, frame,
				    dims);
	h->count = 1;
	for (int i = 0; i < 3; i++) {
		h->dim[i] = i < dim[0] ? (size_t)dim[i + 1] : 1;
		h->count *= h->dim[i];  /* at most 32767^3: no overflow in 64 bits */
	}

	h->datatype = get_i16(b, OFF_DATATYPE, h->swap);
	h->elsize = datatype_size(h->datatype);
	if (!h->elsize)
		return twin_err_set(err, TWIN_EUNSUPPORTED,
				    "cannot read '%s': datatype %d (%s) is not supported, only uint8, int8, uint16, int16, int32, float32, float64",
				    name, h->datatype, datatype_name(h->datatype));
	if (h->count > SIZE_MAX / h->elsize)
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': dimensions %s are too large", name, dims);
	h->data_bytes = h->count * h->elsize;
	h->skip = frame == ONLY_3D ? 0 : frame * h->data_bytes;  /* frame < 32767: no overflow */

	off = get_f32(b, OFF_VOX_OFFSET, h->swap);
	if (!(off >= HDR_SIZE && off < 1e12) || off != floor(off))
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': bad vox_offset %g (want a whole number >= 348)",
				    name, off);
	h->data_off = (size_t)off;
	if (h->data_bytes > SIZE_MAX - h->data_off - h->skip)
		return twin_err_set(err, TWIN_EINPUT, "cannot read '%s': dimensions %s are too large", name, dims);

	h->slope = get_f32(b, OFF_SCL_SLOPE, h->swap);
	h->inter = get_f32(b, OFF_SCL_INTER, h->swap);
	if (!isfinite(h->inter))
		h->inter = 0.0;
	h->scaled = isfinite(h->slope) && h->slope != 0.0 && !(h->slope == 1.0 && h->inter == 0.0);

	header_affine(b, h->swap, &h->affine, &which);
	if (twin_affine_invert(err, &inv, &h->affine) != 0)
		return twin_err_prefix(err, "cannot read '%s': %s", name, which);
	return 0;
}

/* --- gzip ---------------------------------------------------------------- */

/*
 * Inflates the gzip members in `in` until `want` bytes are out (or the input
 * ends). A stream that goes on past `want` is still run for up to 1 MiB so
 * that its CRC is checked. *out is malloc'd (free), *got may be < want.
 */
static int gunzip(struct twin_err *err, const char *name, const unsigned char *in, size_t inlen,
		  size_t want, unsigned char **out, size_t *got)
{
	unsigned char sink[16384];
	unsigned char *buf = NULL;
	size_t cap, n = 0, extra = 0;
	z_stream zs;
	int rc = -1, ret;

	*out = NULL;
	*got = 0;
	memset(&zs, 0, sizeof(zs));
	zs.next_in = (Bytef *)in;
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return twin_err_set(err, TWIN_EDEP, "cannot read '%s': zlib cannot start", name);
	cap = inlen < SIZE_MAX / 8 ? inlen * 4 : SIZE_MAX / 2;
	cap = cap < ((size_t)1 << 20) ? (size_t)1 << 20 : cap;
	cap = cap > want ? want : cap;
	buf = malloc(cap ? cap : 1);
	if (!buf) {
		twin_err_set(err, TWIN_EFAIL, "cannot read '%s': out of memory", name);
		goto done;
	}
	for (;;) {
		size_t used = (size_t)(zs.next_in - in), before;

		if (zs.avail_in == 0 && used < inlen) {
			zs.avail_in = inlen - used > UINT_MAX ? UINT_MAX : (uInt)(inlen - used);
		}
		if (n < want) {
			if (n == cap) {
				size_t ncap = cap > want / 2 ? want : cap * 2;
				unsigned char *nbuf = realloc(buf, ncap);

				if (!nbuf) {
					twin_err_set(err, TWIN_EFAIL, "cannot read '%s': out of memory", name);
					goto done;
				}
				buf = nbuf;
				cap = ncap;
			}
			zs.next_out = buf + n;
			zs.avail_out = cap - n > UINT_MAX ? UINT_MAX : (uInt)(cap - n);
		} else {
			if (extra > ((size_t)1 << 20))
				break;
			zs.next_out = sink;
			zs.avail_out = sizeof(sink);
		}
		before = zs.avail_out;
		ret = inflate(&zs, Z_NO_FLUSH);
		if (n < want)
			n += before - zs.avail_out;
		else
			extra += before - zs.avail_out;
		if (ret == Z_STREAM_END) {
			/* Another gzip member may follow; anything else after the end is ignored. */
			if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
				inflateReset(&zs);
				continue;
			}
			break;
		}
		if (ret == Z_BUF_ERROR)
			break;  /* the input ended inside the stream: the caller sees a short count */
		if (ret != Z_OK) {
			twin_err_set(err, TWIN_EINPUT, "cannot read '%s': corrupt gzip data (%s)", name,
				     zs.msg ? zs.msg : "unknown error");
			goto done;
		}
	}
	*out = buf;
	*got = n;
	buf = NULL;
	rc = 0;
done:
	inflateEnd(&zs);
	free(buf);
	return rc;
}

/*
 * The fast path: libdeflate inflates whole members straight into a buffer of
 * exactly `want` bytes. Any surprise (bad data, a short or a long stream)
 * returns -1 and leaves the work, and the error message, to gunzip().
 */
static int gunzip_fast(const unsigned char *in, size_t inlen, size_t want, unsigned char **out)
{
	struct libdeflate_decompressor *d = NULL;
	unsigned char *buf = NULL;
	size_t pos = 0, n = 0;
	int rc = -1;

	/* Deflate expands at most 1032 times: a header that claims more is not believed here. */
	if (want / 1032 > inlen)
		return -1;
	d = libdeflate_alloc_decompressor();
	buf = malloc(want ? want : 1);
	if (!d || !buf)
		goto done;
	while (n < want && inlen - pos >= 2 && in[pos] == 0x1f && in[pos + 1] == 0x8b) {
		size_t used = 0, got = 0;

		if (libdeflate_gzip_decompress_ex(d, in + pos, inlen - pos, buf + n, want - n, &used, &got)
		    != LIBDEFLATE_SUCCESS)
			goto done;
		pos += used;
		n += got;
	}
	if (n == want) {
		*out = buf;
		buf = NULL;
		rc = 0;
	}
done:
	libdeflate_free_decompressor(d);
	free(buf);
	return rc;
}

/* --- voxel conversion ---------------------------------------------------- */

static double stored_value(const unsigned char *p, int datatype, int swap)
{
	switch (datatype) {
	case DT_UINT8: return *p;
	case DT_INT8: return (int8_t)*p;
	case DT_INT16: return get_i16(p, 0, swap);
	case DT_UINT16: return get_u16(p, 0, swap);
	case DT_INT32: return (int32_t)get_u32(p, 0, swap);
	case DT_FLOAT32: return get_f32(p, 0, swap);
	case DT_FLOAT64: {
		uint64_t u;
		double d;

		memcpy(&u, p, 8);
		if (swap)
			u = (uint64_t)bswap32((uint32_t)u) << 32 | bswap32((uint32_t)(u >> 32));
		memcpy(&d, &u, 8);
		return d;
	}
	}
	return 0.0;
}

/*
 * The dtype that holds every value exactly: stored uint8 and int16 stay as
 * they are; other integers become int16 (or uint8, when stored as uint8 and
 * scaled) if every value is a whole number that fits; the rest is float32.
 */
static enum twin_dtype choose_dtype(const struct hdr *h, const unsigned char *src)
{
	int integral = 1;
	double lo = 0.0, hi = 0.0;

	if (h->datatype == DT_FLOAT32 || h->datatype == DT_FLOAT64)
		return TWIN_F32;
	if (!h->scaled && h->datatype == DT_UINT8)
		return TWIN_U8;
	if (!h->scaled && (h->datatype == DT_INT16 || h->datatype == DT_INT8))
		return TWIN_I16;
	for (size_t n = 0; n < h->count && integral; n++) {
		double x = stored_value(src + n * h->elsize, h->datatype, h->swap);

		if (h->scaled)
			x = h->slope * x + h->inter;
		if (x != floor(x))
			integral = 0;
		lo = n == 0 || x < lo ? x : lo;
		hi = n == 0 || x > hi ? x : hi;
	}
	if (integral && h->datatype == DT_UINT8 && lo >= 0.0 && hi <= 255.0)
		return TWIN_U8;
	if (integral && lo >= -32768.0 && hi <= 32767.0)
		return TWIN_I16;
	return TWIN_F32;
}

static struct twin_volume *convert(struct twin_err *err, const char *name, const struct hdr *h,
				   const unsigned char *src)
{
	enum twin_dtype dtype = choose_dtype(h, src);
	struct twin_affine lps = h->affine;
	struct twin_volume *v = NULL;
	size_t es = twin_dtype_size(dtype);

	/* Files hold RAS, volumes LPS: negate x and y. */
	flip_xy(&lps);
	v = twin_volume_new(err, dtype, h->dim, &lps);
	if (!v) {
		twin_err_prefix(err, "cannot read '%s'", name);
		return NULL;
	}
	if (!h->scaled && es == h->elsize && (dtype != TWIN_F32 || h->datatype == DT_FLOAT32)
	    && (dtype != TWIN_I16 || h->datatype == DT_INT16)) {
		memcpy(v->data, src, h->data_bytes);
		if (h->swap && es == 2) {
			uint16_t *p = v->data;

			for (size_t n = 0; n < h->count; n++)
				p[n] = (uint16_t)(p[n] << 8 | p[n] >> 8);
		} else if (h->swap && es == 4) {
			uint32_t *p = v->data;

			for (size_t n = 0; n < h->count; n++)
				p[n] = bswap32(p[n]);
		}
		return v;
	}
	for (size_t n = 0; n < h->count; n++) {
		double x = stored_value(src + n * h->elsize, h->datatype, h->swap);

		if (h->scaled)
			x = h->slope * x + h->inter;
		switch (dtype) {
		case TWIN_U8: ((uint8_t *)v->data)[n] = (uint8_t)x; break;
		case TWIN_I16: ((int16_t *)v->data)[n] = (int16_t)x; break;
		case TWIN_F32: ((float *)v->data)[n] = (float)x; break;
		}
	}
	return v;
}

static struct twin_volume *load_mem(struct twin_err *err, const char *name, const void *buf, size_t len,
				    size_t frame)
{
	const unsigned char *raw = buf;
	unsigned char *unz = NULL;
	size_t rawlen = len, end;
	struct twin_volume *v = NULL;
	int gz = len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
	struct hdr h;

	/* A gzip file is inflated twice: up to the header, then up to the end of the voxels it names. */
	if (gz && gunzip(err, name, buf, len, HDR_SIZE, &unz, &rawlen) != 0)
		goto done;
	if (gz)
		raw = unz;
	if (rawlen < HDR_SIZE) {
		twin_err_set(err, TWIN_EINPUT, "cannot read '%s': truncated header (got %zu of %d bytes)", name,
			     rawlen, HDR_SIZE);
		goto done;
	}
	if (parse_header(err, name, raw, frame, &h) != 0)
		goto done;
	end = h.data_off + h.skip + h.data_bytes;
	if (gz) {
		free(unz);
		unz = NULL;
		if (gunzip_fast(buf, len, end, &unz) == 0)
			rawlen = end;
		else if (gunzip(err, name, buf, len, end, &unz, &rawlen) != 0)
			goto done;
		raw = unz;
	}
	if (rawlen < h.data_off) {
		twin_err_set(err, TWIN_EINPUT, "cannot read '%s': vox_offset %zu lies beyond the end of the file (%zu bytes)",
			     name, h.data_off, rawlen);
		goto done;
	}
	if (rawlen < end) {
		twin_err_set(err, TWIN_EINPUT, "cannot read '%s': truncated voxel data (got %zu of %zu bytes)", name,
			     rawlen - h.data_off, end - h.data_off);
		goto done;
	}
	v = convert(err, name, &h, raw + h.data_off + h.skip);
done:
	free(unz);
	return v;
}

struct twin_volume *twin_nifti_load_mem(struct twin_err *err, const char *name, const void *buf, size_t len)
{
	return load_mem(err, name, buf, len, ONLY_3D);
}

static struct twin_volume *load_file(struct twin_err *err, const char *path, size_t frame)
{
	struct twin_volume *v = NULL;
	size_t len = 0;
	void *buf = twin_file_read(err, path, &len);

	if (!buf)
		return NULL;
	v = load_mem(err, path, buf, len, frame);
	free(buf);
	return v;
}

struct twin_volume *twin_nifti_load(struct twin_err *err, const char *path)
{
	return load_file(err, path, ONLY_3D);
}

struct twin_volume *twin_nifti_load_frame(struct twin_err *err, const char *path, size_t frame)
{
	return load_file(err, path, frame == ONLY_3D ? frame - 1 : frame);
}

/* --- writing ------------------------------------------------------------- */

static void put_i16(unsigned char *b, size_t off, int x)
{
	int16_t v = (int16_t)x;

	memcpy(b + off, &v, 2);
}

static void put_f32(unsigned char *b, size_t off, double x)
{
	float v = (float)x;

	memcpy(b + off, &v, 4);
}

/*
 * The closest rotation to the 3x3 r (columns already of unit length), by
 * Newton's iteration for the polar decomposition: r <- (r + r^-T) / 2.
 */
static void orthonormalise(double r[3][3])
{
	for (int it = 0; it < 100; it++) {
		struct twin_affine a, inv;
		double change = 0.0;

		twin_affine_identity(&a);
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				a.m[i][j] = r[i][j];
		if (twin_affine_invert(NULL, &inv, &a) != 0)
			return;
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				double x = 0.5 * (r[i][j] + inv.m[j][i]);

				change = fmax(change, fabs(x - r[i][j]));
				r[i][j] = x;
			}
		if (change < 1e-15)
			return;
	}
}

/* Writes the quaternion, qoffset and qfac of the RAS affine f, as nifti1_io's mat44_to_quatern. */
static void put_qform(unsigned char *b, const struct twin_affine *f, const double px[3])
{
	double r[3][3], qa, qb, qc, qd, qfac = 1.0;

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[i][j] = f->m[i][j] / px[j];
	orthonormalise(r);
	/* A left-handed r is a rotation with its third column negated: qfac -1. */
	qa = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
	     + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
	if (qa < 0.0) {
		qfac = -1.0;
		for (int i = 0; i < 3; i++)
			r[i][2] = -r[i][2];
	}
	qa = r[0][0] + r[1][1] + r[2][2] + 1.0;
	if (qa > 0.5) {
		qa = 0.5 * sqrt(qa);
		qb = 0.25 * (r[2][1] - r[1][2]) / qa;
		qc = 0.25 * (r[0][2] - r[2][0]) / qa;
		qd = 0.25 * (r[1][0] - r[0][1]) / qa;
	} else {
		double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
		double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
		double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);

		if (xd > 1.0) {
			qb = 0.5 * sqrt(xd);
			qc = 0.25 * (r[0][1] + r[1][0]) / qb;
			qd = 0.25 * (r[0][2] + r[2][0]) / qb;
			qa = 0.25 * (r[2][1] - r[1][2]) / qb;
		} else if (yd > 1.0) {
			qc = 0.5 * sqrt(yd);
			qb = 0.25 * (r[0][1] + r[1][0]) / qc;
			qd = 0.25 * (r[1][2] + r[2][1]) / qc;
			qa = 0.25 * (r[0][2] - r[2][0]) / qc;
		} else {
			qd = 0.5 * sqrt(zd);
			qb = 0.25 * (r[0][2] + r[2][0]) / qd;
			qc = 0.25 * (r[1][2] + r[2][1]) / qd;
			qa = 0.25 * (r[1][0] - r[0][1]) / qd;
		}
		if (qa < 0.0) {
			qb = -qb;
			qc = -qc;
			qd = -qd;
		}
	}
	put_f32(b, OFF_PIXDIM, qfac);
	put_f32(b, OFF_QUATERN_B, qb);
	put_f32(b, OFF_QUATERN_B + 4, qc);
	put_f32(b, OFF_QUATERN_B + 8, qd);
	for (int i = 0; i < 3; i++)
		put_f32(b, OFF_QUATERN_B + 12 + 4 * i, f->m[i][3]);
}

static int build_header(struct twin_err *err, const char *path, const struct twin_volume *v,
			unsigned char b[VOX_OFFSET])
{
	static const unsigned char magic1[4] = { 'n', '+', '1', 0 };
	struct twin_affine f = v->affine;
	double px[3];
	int datatype;

	for (int i = 0; i < 3; i++)
		if (v->dim[i] > 32767)
			return twin_err_set(err, TWIN_EUNSUPPORTED,
					    "cannot write '%s': dimension %zu is more than NIfTI-1 allows (32767)",
					    path, v->dim[i]);
	switch (v->dtype) {
	case TWIN_U8: datatype = DT_UINT8; break;
	case TWIN_I16: datatype = DT_INT16; break;
	case TWIN_F32: datatype = DT_FLOAT32; break;
	default:
		return twin_err_set(err, TWIN_EFAIL, "cannot write '%s': unknown voxel type %d", path, (int)v->dtype);
	}
	/* Volumes hold LPS, files RAS: negate x and y. */
	flip_xy(&f);
	memset(b, 0, VOX_OFFSET);
	memcpy(b + OFF_SIZEOF_HDR, &(int32_t){ HDR_SIZE }, 4);
	put_i16(b, OFF_DIM, 3);
	for (int i = 0; i < 3; i++)
		put_i16(b, OFF_DIM + 2 * (i + 1), (int)v->dim[i]);
	for (int i = 4; i < 8; i++)
		put_i16(b, OFF_DIM + 2 * i, 1);
	put_i16(b, OFF_DATATYPE, datatype);
	put_i16(b, OFF_BITPIX, (int)(8 * twin_dtype_size(v->dtype)));
	for (int c = 0; c < 3; c++) {
		px[c] = sqrt(f.m[0][c] * f.m[0][c] + f.m[1][c] * f.m[1][c] + f.m[2][c] * f.m[2][c]);
		put_f32(b, OFF_PIXDIM + 4 * (c + 1), px[c]);
	}
	for (int i = 4; i < 8; i++)
		put_f32(b, OFF_PIXDIM + 4 * i, 1.0);
	put_f32(b, OFF_VOX_OFFSET, VOX_OFFSET);
	put_f32(b, OFF_SCL_SLOPE, 1.0);
	put_f32(b, OFF_SCL_INTER, 0.0);
	b[OFF_XYZT_UNITS] = UNITS_MM;
	memcpy(b + OFF_DESCRIP, "dcm2twin", 8);
	put_i16(b, OFF_QFORM_CODE, XFORM_SCANNER_ANAT);
	put_i16(b, OFF_SFORM_CODE, XFORM_SCANNER_ANAT);
	put_qform(b, &f, px);
	for (int row = 0; row < 3; row++)
		for (int c = 0; c < 4; c++)
			put_f32(b, OFF_SROW_X + 16 * row + 4 * c, f.m[row][c]);
	memcpy(b + OFF_MAGIC, magic1, 4);
	return 0;
}

/* Input chunk c of the stream header + data, compressed as its own gzip member by whichever thread takes it. */
struct gz_job {
	const unsigned char *first;  /* chunk 0: header and the start of the data */
	size_t first_len;
	const unsigned char *data;   /* the rest of the data, from chunk 1 */
	size_t len;
	size_t nchunks;
	unsigned char **out;
	size_t *out_len;
	size_t next;
	int failed;
	pthread_mutex_t lock;
};

static void *gz_worker(void *arg)
{
	struct gz_job *job = arg;
	struct libdeflate_compressor *comp = libdeflate_alloc_compressor(GZ_LEVEL);

	for (;;) {
		const unsigned char *in;
		size_t c, n, bound;

		pthread_mutex_lock(&job->lock);
		c = job->next++;
		if (!comp)
			job->failed = 1;
		pthread_mutex_unlock(&job->lock);
		if (c >= job->nchunks || !comp)
			break;
		if (c == 0) {
			in = job->first;
			n = job->first_len;
		} else {
			in = job->data + (c - 1) * GZ_CHUNK;
			n = job->len - (c - 1) * GZ_CHUNK < GZ_CHUNK ? job->len - (c - 1) * GZ_CHUNK : GZ_CHUNK;
		}
		bound = libdeflate_gzip_compress_bound(comp, n);
		job->out[c] = malloc(bound);
		if (job->out[c])
			job->out_len[c] = libdeflate_gzip_compress(comp, in, n, job->out[c], bound);
		if (!job->out[c] || !job->out_len[c]) {
			pthread_mutex_lock(&job->lock);
			job->failed = 1;
			pthread_mutex_unlock(&job->lock);
		}
	}
	libdeflate_free_compressor(comp);
	return NULL;
}

/*
 * Writes len bytes and asks the kernel to start writing them to disk, so
 * that the fsync before the rename finds little left to wait for. 0 or -1
 * (errno set).
 */
static int write_some(FILE *f, const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, f) != len || fflush(f) != 0)
		return -1;
#ifdef SYNC_FILE_RANGE_WRITE
	/* only advice: an error here shows again at the fsync */
	sync_file_range(fileno(f), 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
	return 0;
}

/*
 * gzip in parallel: each GZ_CHUNK bytes become one gzip member. Concatenated
 * members are one valid gzip file (RFC 1952), which zlib, nibabel and ITK read.
 * The members written are hashed into h when it is not NULL.
 */
static int write_gzip(struct twin_err *err, const char *path, FILE *f, const unsigned char *hdr,
		      const unsigned char *data, size_t len, struct twin_sha256 *h)
{
	size_t head = len < GZ_CHUNK - VOX_OFFSET ? len : GZ_CHUNK - VOX_OFFSET;
	struct gz_job job;
	pthread_t tid[8];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads, started = 0, rc = -1;
	unsigned char *first = NULL;

	memset(&job, 0, sizeof(job));
	job.first_len = VOX_OFFSET + head;
	job.data = data + head;
	job.len = len - head;
	job.nchunks = 1 + (job.len + GZ_CHUNK - 1) / GZ_CHUNK;
	first = malloc(job.first_len);
	job.out = calloc(job.nchunks, sizeof(*job.out));
	job.out_len = calloc(job.nchunks, sizeof(*job.out_len));
	if (!first || !job.out || !job.out_len) {
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
		goto done;
	}
	memcpy(first, hdr, VOX_OFFSET);
	memcpy(first + VOX_OFFSET, data, head);
	job.first = first;
	pthread_mutex_init(&job.lock, NULL);
	nthreads = cpus < 2 ? 1 : cpus > 8 ? 8 : (int)cpus;
	if ((size_t)nthreads > job.nchunks)
		nthreads = (int)job.nchunks;
	for (int t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[started], NULL, gz_worker, &job) != 0)
			break;
		started++;
	}
	gz_worker(&job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&job.lock);
	if (job.failed) {
		twin_err_set(err, TWIN_EDEP, "cannot write '%s': libdeflate failed to compress", path);
		goto done;
	}
	for (size_t c = 0; c < job.nchunks; c++) {
		if (h && twin_sha256_update(err, h, job.out[c], job.out_len[c]) != 0) {
			twin_err_prefix(err, "'%s'", path);
			goto done;
		}
		if (write_some(f, job.out[c], job.out_len[c]) != 0) {
			twin_err_errno(err, "cannot write", path);
			goto done;
		}
	}
	rc = 0;
done:
	for (size_t c = 0; job.out && c < job.nchunks; c++)
		free(job.out[c]);
	free(job.out);
	free(job.out_len);
	free(first);
	return rc;
}

/*
 * An uncompressed file written while its volume is filled: a writer and a
 * hasher thread each follow `ready`, the bytes of data that are final.
 */
struct twin_nifti_stream {
	unsigned char hdr[VOX_OFFSET];
	const unsigned char *data;
	size_t len;
	struct twin_atomic a;
	struct twin_sha256 *h;      /* NULL: no digest wanted */
	pthread_t tid[2];
	int started[2];             /* writer, hasher */
	pthread_mutex_t lock;
	pthread_cond_t more;
	size_t ready;
	int closing;                /* 1: finish, -1: give up */
	int write_errno;            /* the writer's failure, 0 if none */
	size_t written, hashed;     /* how far each got */
	struct twin_err hash_err;
};

/* Waits for data past pos; the bytes that may be taken from pos, at most cap (0: stop). */
static size_t next_piece(struct twin_nifti_stream *s, size_t pos, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	while (s->ready == pos && !s->closing)
		pthread_cond_wait(&s->more, &s->lock);
	n = s->closing < 0 ? 0 : s->ready - pos;
	pthread_mutex_unlock(&s->lock);
	return n < cap ? n : cap;
}

static void *stream_writer(void *arg)
{
	struct twin_nifti_stream *s = arg;
	size_t pos = 0, synced = 0, n;

	if (write_some(s->a.f, s->hdr, VOX_OFFSET) != 0) {
		s->write_errno = errno ? errno : EIO;
		return NULL;
	}
	while (pos < s->len && (n = next_piece(s, pos, WRITE_CHUNK)) > 0) {
		if (fwrite(s->data + pos, 1, n, s->a.f) != n || fflush(s->a.f) != 0) {
			s->write_errno = errno ? errno : EIO;
			return NULL;
		}
		pos += n;
		if (pos - synced >= WRITE_CHUNK) {
#ifdef SYNC_FILE_RANGE_WRITE
			/* only advice: an error here shows again at the fsync */
			sync_file_range(s->a.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
			synced = pos;
		}
	}
	s->written = pos;
	return NULL;
}

static void *stream_hasher(void *arg)
{
	struct twin_nifti_stream *s = arg;
	size_t pos = 0, n;

	if (twin_sha256_update(&s->hash_err, s->h, s->hdr, VOX_OFFSET) != 0)
		return NULL;
	while (pos < s->len && (n = next_piece(s, pos, WRITE_CHUNK)) > 0) {
		if (twin_sha256_update(&s->hash_err, s->h, s->data + pos, n) != 0)
			return NULL;
		pos += n;
	}
	s->hashed = pos;
	return NULL;
}

struct twin_nifti_stream *twin_nifti_stream_open(struct twin_err *err, const char *path,
						 const struct twin_volume *v, int hashed)
{
	struct twin_nifti_stream *s = calloc(1, sizeof(*s));
	void *(*fn[2])(void *) = { stream_writer, stream_hasher };

	if (!s) {
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': out of memory", path);
		return NULL;
	}
	s->data = v->data;
	s->len = twin_volume_bytes(v);
	twin_err_init(&s->hash_err);
	if (build_header(err, path, v, s->hdr) != 0 || (hashed && !(s->h = twin_sha256_new(err)))) {
		twin_sha256_free(s->h);
		free(s);
		return NULL;
	}
	if (twin_atomic_open(err, &s->a, path) != 0) {
		twin_sha256_free(s->h);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	/* a thread that cannot start runs in twin_nifti_stream_close */
	for (int i = 0; i < (s->h ? 2 : 1); i++)
		s->started[i] = pthread_create(&s->tid[i], NULL, fn[i], s) == 0;
	return s;
}

void twin_nifti_stream_ready(struct twin_nifti_stream *s, size_t bytes)
{
	pthread_mutex_lock(&s->lock);
	if (bytes > s->ready && bytes <= s->len) {
		s->ready = bytes;
		pthread_cond_broadcast(&s->more);
	}
	pthread_mutex_unlock(&s->lock);
}

int twin_nifti_stream_close(struct twin_err *err, struct twin_nifti_stream *s, int ok,
			    uint64_t *size, char sha256[TWIN_SHA256_HEX])
{
	void *(*fn[2])(void *) = { stream_writer, stream_hasher };
	const char *path = s->a.path;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	s->closing = ok ? 1 : -1;
	pthread_cond_broadcast(&s->more);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < (s->h ? 2 : 1); i++) {
		if (s->started[i])
			pthread_join(s->tid[i], NULL);
		else if (ok)
			fn[i](s);
	}
	pthread_cond_destroy(&s->more);
	pthread_mutex_destroy(&s->lock);
	if (!ok)
		goto out;
	if (s->write_errno) {
		errno = s->write_errno;
		twin_err_errno(err, "cannot write", path);
	} else if (s->hash_err.code != TWIN_OK) {
		twin_err_set(err, s->hash_err.code, "'%s': %s", path, s->hash_err.msg);
	} else if (s->written != s->len || (s->h && s->hashed != s->len)) {
		twin_err_set(err, TWIN_EFAIL, "cannot write '%s': closed before its data was ready", path);
	} else if (!s->h || twin_sha256_final(err, s->h, sha256, size) == 0) {
		rc = twin_atomic_commit(err, &s->a);
	}
out:
	if (rc != 0 && s->a.path)
		twin_atomic_abort(&s->a);
	twin_sha256_free(s->h);
	free(s);
	return rc;
}

int twin_nifti_save_hashed(struct twin_err *err, const char *path, const struct twin_volume *v,
			   uint64_t *size, char sha256[TWIN_SHA256_HEX])
{
	unsigned char hdr[VOX_OFFSET];
	size_t len = twin_volume_bytes(v), pl = strlen(path);
	struct twin_nifti_stream *s;
	struct twin_sha256 *h = NULL;
	struct twin_atomic a;
	int rc = -1;

	if (pl <= 3 || strcmp(path + pl - 3, ".gz") != 0) {
		s = twin_nifti_stream_open(err, path, v, sha256 != NULL);
		if (!s)
			return -1;
		twin_nifti_stream_ready(s, len);
		return twin_nifti_stream_close(err, s, 1, size, sha256);
	}
	if (build_header(err, path, v, hdr) != 0)
		return -1;
	if (sha256 && !(h = twin_sha256_new(err)))
		return -1;
	if (twin_atomic_open(err, &a, path) != 0)
		goto out;
	rc = write_gzip(err, path, a.f, hdr, v->data, len, h);
	if (rc == 0 && h && twin_sha256_final(err, h, sha256, size) != 0)
		rc = -1;
	if (rc != 0) {
		twin_atomic_abort(&a);
		goto out;
	}
	rc = twin_atomic_commit(err, &a);
out:
	twin_sha256_free(h);
	return rc;
}

int twin_nifti_save(struct twin_err *err, const char *path, const struct twin_volume *v)
{
	return twin_nifti_save_hashed(err, path, v, NULL, NULL);
}
