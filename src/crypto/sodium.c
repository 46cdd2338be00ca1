/* crypto/sodium.c: Ed25519, randomness and constant-time helpers (libsodium). */
#include <string.h>

#include <sodium.h>

#include "crypto.h"

int
bw_crypto_init(struct bw_err *err)
{
	if (sodium_init() < 0)
		return bw_err_set(err, BW_ECRYPTO, "libsodium failed to initialise");
	return 0;
}

void
bw_random_bytes(void *p, size_t n)
{
	randombytes_buf(p, n);
}

static int
ed25519_alloc(struct bw_ed25519 *k, struct bw_err *err)
{
	if (k->sk != NULL)
		return bw_err_set(err, BW_EINVAL, "Ed25519 key already holds a secret");
	if ((k->sk = sodium_malloc(BW_ED25519_SK_SIZE)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "cannot allocate secure memory for a key");
	return 0;
}

int
bw_ed25519_generate(struct bw_ed25519 *k, struct bw_err *err)
{
	int r;

	if ((r = ed25519_alloc(k, err)) != 0)
		return r;
	if (crypto_sign_keypair(k->pk, k->sk) != 0) {
		bw_ed25519_free(k);
		return bw_err_set(err, BW_ECRYPTO, "Ed25519 key generation failed");
	}
	return 0;
}

int
bw_ed25519_from_seed(struct bw_ed25519 *k, const uint8_t seed[BW_ED25519_SEED_SIZE],
		     struct bw_err *err)
{
	int r;

	if ((r = ed25519_alloc(k, err)) != 0)
		return r;
	if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0) {
		bw_ed25519_free(k);
		return bw_err_set(err, BW_ECRYPTO, "Ed25519 key derivation failed");
	}
	return 0;
}

void
bw_ed25519_seed(const struct bw_ed25519 *k, uint8_t seed[BW_ED25519_SEED_SIZE])
{
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
}

void
bw_ed25519_free(struct bw_ed25519 *k)
{
	if (k == NULL)
		return;
	sodium_free(k->sk);	/* wipes the memory */
	k->sk = NULL;
	memset(k->pk, 0, sizeof k->pk);
}

int
bw_ed25519_sign(const struct bw_ed25519 *k, const void *msg, size_t n,
		uint8_t sig[BW_ED25519_SIG_SIZE], struct bw_err *err)
{
	if (k->sk == NULL)
		return bw_err_set(err, BW_EINVAL, "no secret key to sign with");
	if (crypto_sign_detached(sig, NULL, msg, n, k->sk) != 0)
		return bw_err_set(err, BW_ECRYPTO, "Ed25519 signing failed");
	return 0;
}

int
bw_ed25519_verify(const uint8_t pk[BW_ED25519_PK_SIZE], const void *msg, size_t n,
		  const uint8_t sig[BW_ED25519_SIG_SIZE])
{
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0 ? 0 : BW_EVERIFY;
}

int
bw_memcmp_ct(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0 ? 0 : 1;
}

void
bw_memzero(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void
bw_hmac_sha256(const uint8_t *key, size_t klen, const void *const *parts, const size_t *lens, size_t n,
	       uint8_t out[BW_SHA256_SIZE])
{
	crypto_auth_hmacsha256_state st;
	size_t i;

	crypto_auth_hmacsha256_init(&st, key, klen);
	for (i = 0; i < n; i++)
		crypto_auth_hmacsha256_update(&st, parts[i], lens[i]);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}
