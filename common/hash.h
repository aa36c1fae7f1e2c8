/*
 * hash: SHA-256 of a file or a buffer, as 64 lower-case hex digits, through
 * OpenSSL's EVP interface. Owns nothing. Includes err.h only.
 */
#ifndef TWIN_HASH_H
#define TWIN_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TWIN_SHA256_HEX 65 /* 64 hex digits and a NUL */

/*
 * Streams the file at path through SHA-256 in 1 MiB blocks. Fills hex and,
 * when size is not NULL, the number of bytes hashed. A folder or a read
 * error is TWIN_EIO naming path.
 */
int twin_sha256_file(struct twin_err *err, const char *path, char hex[TWIN_SHA256_HEX],
		     uint64_t *size);

/* SHA-256 of len bytes at buf. */
int twin_sha256_mem(struct twin_err *err, const void *buf, size_t len, char hex[TWIN_SHA256_HEX]);

/*
 * SHA-256 of bytes given piece by piece, such as a file while it is
 * written. twin_sha256_new returns an owned context (twin_sha256_free) or
 * NULL; twin_sha256_final fills hex and the number of bytes hashed, once.
 */
struct twin_sha256;
struct twin_sha256 *twin_sha256_new(struct twin_err *err);
int twin_sha256_update(struct twin_err *err, struct twin_sha256 *h, const void *buf, size_t len);
int twin_sha256_final(struct twin_err *err, struct twin_sha256 *h, char hex[TWIN_SHA256_HEX],
		      uint64_t *size);
void twin_sha256_free(struct twin_sha256 *h);

#ifdef __cplusplus
}
#endif

#endif
