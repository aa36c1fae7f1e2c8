/*
 * nifti: read and write NIfTI-1 (.nii, .nii.gz). The RAS <-> LPS flip of x
 * and y happens here and nowhere else: files hold RAS, volumes hold LPS.
 * Owns nothing beyond what it returns. Includes volume.h, hash.h and err.h only.
 */
#ifndef TWIN_NIFTI_H
#define TWIN_NIFTI_H

#include <stdint.h>

#include "hash.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads a NIfTI-1 file, gzip-compressed or not, in either byte order. The
 * intensities are scl_slope * stored + scl_inter when a slope other than 0
 * or (1, 0) is set. The dtype keeps every value exactly: unscaled uint8
 * and int16 stay; other integer data becomes int16 when every value is a whole number
 * that fits (uint8 when stored uint8 and scaled into 0..255), else float32;
 * float32 and float64 become float32.
 * The affine comes from the sform when sform_code > 0, else the qform, else
 * the pixdim diagonal. Returns an owned volume (twin_volume_free) or NULL:
 * TWIN_EIO when the file cannot be opened, TWIN_EINPUT when it is truncated
 * or corrupt, TWIN_EUNSUPPORTED for NIfTI-2, more than 3 dimensions with
 * size > 1, or a datatype other than uint8, int8, uint16, int16, int32, float32, float64.
 */
struct twin_volume *twin_nifti_load(struct twin_err *err, const char *path);

/*
 * Reads frame `frame` (from 0) of a 4-D NIfTI-1 file, such as dcm2niix
 * writes for a series with several volumes; frame 0 of a 3-D file is the
 * file. Errors as twin_nifti_load, and TWIN_EINPUT for a frame that is not
 * there; a fifth dimension > 1 stays TWIN_EUNSUPPORTED.
 */
struct twin_volume *twin_nifti_load_frame(struct twin_err *err, const char *path, size_t frame);

/* Reads a NIfTI-1 file from memory; name is used in messages. */
struct twin_volume *twin_nifti_load_mem(struct twin_err *err, const char *name,
					const void *buf, size_t len);

/*
 * Writes v to path, gzip-compressed when path ends in ".gz", through a
 * temporary file that is renamed into place; nothing is left on failure.
 * Both sform and qform are written (code 1, scanner), from the affine in RAS.
 */
int twin_nifti_save(struct twin_err *err, const char *path, const struct twin_volume *v);

/*
 * twin_nifti_save, and the size and SHA-256 of the bytes written (for .gz,
 * of the compressed file), computed while writing, so that the file need not
 * be read back to be hashed.
 */
int twin_nifti_save_hashed(struct twin_err *err, const char *path, const struct twin_volume *v,
			   uint64_t *size, char sha256[TWIN_SHA256_HEX]);

/*
 * An uncompressed file written while v is still being filled, so that the
 * writing and hashing overlap the filling. v's dim, dtype and affine must
 * be final at twin_nifti_stream_open (the header goes first), v->data only
 * as twin_nifti_stream_ready says: its first `bytes` bytes are final and
 * stay unchanged. Two threads of the stream write them to a temporary file
 * and hash them (when hashed is not 0) as they come.
 * twin_nifti_stream_close with ok 1, once every byte is ready, fsyncs and
 * renames the file into path and gives its size and SHA-256 (sha256 may
 * be NULL when not hashed), as twin_nifti_save_hashed, and returns 0;
 * with ok 0 (or on any error) it removes the file and returns -1. Either
 * way it frees the stream.
 */
struct twin_nifti_stream;
struct twin_nifti_stream *twin_nifti_stream_open(struct twin_err *err, const char *path,
						 const struct twin_volume *v, int hashed);
void twin_nifti_stream_ready(struct twin_nifti_stream *s, size_t bytes);
int twin_nifti_stream_close(struct twin_err *err, struct twin_nifti_stream *s, int ok,
			    uint64_t *size, char sha256[TWIN_SHA256_HEX]);

#ifdef __cplusplus
}
#endif

#endif
