#include "hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#define BLOCK (1u << 20)

static void to_hex(const unsigned char *md, char hex[TWIN_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int twin_sha256_file(struct twin_err *err, const char *path, char hex[TWIN_SHA256_HEX],
		     uint64_t *size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char *buf = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned int mdlen = 0;
	uint64_t total = 0;
	FILE *f = NULL;
	struct stat st;
	int rc = -1;
	size_t got;

	f = fopen(path, "rb");
	if (!f) {
		twin_err_errno(err, "cannot open", path);
		goto out;
	}
	if (fstat(fileno(f), &st) != 0) {
		twin_err_errno(err, "cannot read", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		twin_err_set(err, TWIN_EIO, "cannot hash '%s': not a regular file", path);
		goto out;
	}
	buf = malloc(BLOCK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		twin_err_set(err, TWIN_EFAIL, "cannot hash '%s': out of memory", path);
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		twin_err_set(err, TWIN_EDEP, "cannot hash '%s': OpenSSL has no SHA-256", path);
		goto out;
	}
	while ((got = fread(buf, 1, BLOCK, f)) > 0) {
		if (EVP_DigestUpdate(ctx, buf, got) != 1) {
			twin_err_set(err, TWIN_EDEP, "cannot hash '%s': SHA-256 update failed", path);
			goto out;
		}
		total += got;
	}
	if (ferror(f)) {
		twin_err_errno(err, "cannot read", path);
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		twin_err_set(err, TWIN_EDEP, "cannot hash '%s': SHA-256 final failed", path);
		goto out;
	}
	to_hex(md, hex);
	if (size)
		*size = total;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

int twin_sha256_mem(struct twin_err *err, const void *buf, size_t len, char hex[TWIN_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return twin_err_set(err, TWIN_EDEP, "cannot hash %zu bytes: SHA-256 failed", len);
	to_hex(md, hex);
	return 0;
}

struct twin_sha256 {
	EVP_MD_CTX *ctx;
	uint64_t size;
};

struct twin_sha256 *twin_sha256_new(struct twin_err *err)
{
	struct twin_sha256 *h = calloc(1, sizeof(*h));

	if (!h || !(h->ctx = EVP_MD_CTX_new())) {
		free(h);
		twin_err_set(err, TWIN_EFAIL, "cannot hash: out of memory");
		return NULL;
	}
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		twin_sha256_free(h);
		twin_err_set(err, TWIN_EDEP, "cannot hash: OpenSSL has no SHA-256");
		return NULL;
	}
	return h;
}

int twin_sha256_update(struct twin_err *err, struct twin_sha256 *h, const void *buf, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, buf, len) != 1)
		return twin_err_set(err, TWIN_EDEP, "cannot hash %zu bytes: SHA-256 update failed", len);
	h->size += len;
	return 0;
}

int twin_sha256_final(struct twin_err *err, struct twin_sha256 *h, char hex[TWIN_SHA256_HEX],
		      uint64_t *size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
		return twin_err_set(err, TWIN_EDEP, "cannot hash: SHA-256 final failed");
	to_hex(md, hex);
	if (size)
		*size = h->size;
	return 0;
}

void twin_sha256_free(struct twin_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
