/* crypto/sha256.c: SHA-256 through OpenSSL EVP with a reusable context. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"

struct bw_sha256 {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	int failed;
};

int
bw_sha256_new(struct bw_sha256 **out, struct bw_err *err)
{
	struct bw_sha256 *h;

	*out = NULL;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory allocating a SHA-256 context");
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md == NULL || h->ctx == NULL) {
		bw_sha256_free(h);
		return bw_err_set(err, BW_ECRYPTO, "OpenSSL cannot provide SHA-256");
	}
	*out = h;
	return 0;
}

void
bw_sha256_free(struct bw_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

void
bw_sha256_init(struct bw_sha256 *h)
{
	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1)
		h->failed = 1;
}

void
bw_sha256_update(struct bw_sha256 *h, const void *p, size_t n)
{
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		h->failed = 1;
}

void
bw_sha256_final(struct bw_sha256 *h, uint8_t out[BW_SHA256_SIZE])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != BW_SHA256_SIZE)
		h->failed = 1;
	if (h->failed)
		memset(out, 0, BW_SHA256_SIZE);
}

void
bw_sha256_digest(struct bw_sha256 *h, const void *p, size_t n, uint8_t out[BW_SHA256_SIZE])
{
	bw_sha256_init(h);
	bw_sha256_update(h, p, n);
	bw_sha256_final(h, out);
}

int
bw_sha256_failed(const struct bw_sha256 *h)
{
	return h->failed;
}

int
bw_sha256_oneshot(const void *p, size_t n, uint8_t out[BW_SHA256_SIZE])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != BW_SHA256_SIZE) {
		memset(out, 0, BW_SHA256_SIZE);
		return BW_ECRYPTO;
	}
	return 0;
}
