/* crypto/seal.c: Argon2id passwords and KDF, XChaCha20-Poly1305 sealing (libsodium). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"

const struct bw_pwhash_cost bw_pwhash_default = { 3, 64u << 20 };
const struct bw_pwhash_cost bw_pwhash_minimum = { 2, 19u << 20 };

static int
cost_check(const struct bw_pwhash_cost *cost, struct bw_err *err)
{
	if (cost->opslimit < bw_pwhash_minimum.opslimit || cost->memlimit < bw_pwhash_minimum.memlimit)
		return bw_err_set(err, BW_EINVAL,
				  "Argon2id cost below the floor (t >= 2 and m >= 19 MiB required)");
	return 0;
}

int
bw_password_hash(const char *pw, size_t len, const struct bw_pwhash_cost *cost,
		 char out[BW_PWHASH_STR_MAX], struct bw_err *err)
{
	int r;

	if ((r = cost_check(cost, err)) != 0)
		return r;
	if (crypto_pwhash_str_alg(out, pw, len, cost->opslimit, cost->memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return bw_err_set(err, BW_ENOMEM, "Argon2id hashing failed (out of memory?)");
	return 0;
}

int
bw_password_verify(const char *hash, const char *pw, size_t len)
{
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return BW_EVERIFY;
	return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : BW_EVERIFY;
}

bool
bw_password_needs_rehash(const char *hash, const struct bw_pwhash_cost *cost)
{
	return crypto_pwhash_str_needs_rehash(hash, cost->opslimit, cost->memlimit) != 0;
}

int
bw_aead_seal(const uint8_t key[BW_AEAD_KEY_SIZE], const void *ad, size_t adlen, const void *pt,
	     size_t n, uint8_t *out, struct bw_err *err)
{
	unsigned long long clen;

	randombytes_buf(out, BW_AEAD_NONCE_SIZE);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + BW_AEAD_NONCE_SIZE, &clen, pt, n, ad, adlen,
						       NULL, out, key) != 0)
		return bw_err_set(err, BW_ECRYPTO, "encryption failed");
	return 0;
}

int
bw_aead_open(const uint8_t key[BW_AEAD_KEY_SIZE], const void *ad, size_t adlen, const uint8_t *in,
	     size_t inlen, uint8_t *out, struct bw_err *err)
{
	unsigned long long plen;

	if (inlen < BW_AEAD_OVERHEAD)
		return bw_err_set(err, BW_EINVAL, "sealed data too short");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL, in + BW_AEAD_NONCE_SIZE,
						       inlen - BW_AEAD_NONCE_SIZE, ad, adlen, in, key) != 0)
		return bw_err_set(err, BW_EVERIFY, "sealed data does not authenticate (wrong key or tampered)");
	return 0;
}

int
bw_kdf_passphrase(const char *pass, size_t len, const uint8_t salt[16],
		  const struct bw_pwhash_cost *cost, uint8_t key[32], struct bw_err *err)
{
	int r;

	if ((r = cost_check(cost, err)) != 0)
		return r;
	if (crypto_pwhash(key, 32, pass, len, salt, cost->opslimit, cost->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return bw_err_set(err, BW_ENOMEM, "Argon2id key derivation failed (out of memory?)");
	return 0;
}

void *
bw_secure_alloc(size_t n)
{
	return sodium_malloc(n);
}

void
bw_secure_free(void *p)
{
	sodium_free(p);
}
