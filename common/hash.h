/*
 * hash: SHA-256 of a file or a buffer, as 64 lower-case hex digits, through
 * OpenSSL's EVP interface. Owns nothing. Includes err.h only.
 */
#ifndef TWIN_HASH_H
#define TWIN_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

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

#endif
