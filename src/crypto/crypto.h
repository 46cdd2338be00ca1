/*
 * crypto: SHA-256 (OpenSSL EVP, which uses SHA-NI where the CPU has it),
 * Ed25519 and randomness (libsodium). Secrets live in sodium_malloc'd memory.
 */
#ifndef BW_CRYPTO_H
#define BW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define BW_SHA256_SIZE 32
#define BW_ED25519_PK_SIZE 32
#define BW_ED25519_SEED_SIZE 32
#define BW_ED25519_SK_SIZE 64
#define BW_ED25519_SIG_SIZE 64

/* Initialises libsodium. Call once from main before any other crypto call. */
int bw_crypto_init(struct bw_err *err);

/*
 * A reusable SHA-256 context (about 3x faster than one-shot EVP calls for
 * short inputs). Not thread-safe: one per thread.
 *
 * The update/final calls cannot report errors one by one; a failure inside
 * OpenSSL is latched, the output is zeroed, and bw_sha256_failed() reports
 * it. Code that turns hashes into decisions checks it (and a zeroed hash
 * never matches a real one, so verification fails closed).
 */
struct bw_sha256;

/* Allocates a context. Caller frees with bw_sha256_free(). */
int bw_sha256_new(struct bw_sha256 **out, struct bw_err *err);
void bw_sha256_free(struct bw_sha256 *h);
void bw_sha256_init(struct bw_sha256 *h);
void bw_sha256_update(struct bw_sha256 *h, const void *p, size_t n);
void bw_sha256_final(struct bw_sha256 *h, uint8_t out[BW_SHA256_SIZE]);
/* init + update + final. */
void bw_sha256_digest(struct bw_sha256 *h, const void *p, size_t n, uint8_t out[BW_SHA256_SIZE]);
/* True once any operation on h has failed. */
int bw_sha256_failed(const struct bw_sha256 *h);

/* One-shot SHA-256 for cold paths. Returns 0 or BW_ECRYPTO. */
int bw_sha256_oneshot(const void *p, size_t n, uint8_t out[BW_SHA256_SIZE]);

/* Fills p with n cryptographically secure random bytes. */
void bw_random_bytes(void *p, size_t n);

/*
 * An Ed25519 key pair. sk points into sodium_malloc'd memory (guarded,
 * wiped on free). Zero-initialise before use; free with bw_ed25519_free().
 */
struct bw_ed25519 {
	uint8_t pk[BW_ED25519_PK_SIZE];
	uint8_t *sk;		/* BW_ED25519_SK_SIZE bytes: seed || pk */
};

/* Generates a new key pair into k (which must be empty). */
int bw_ed25519_generate(struct bw_ed25519 *k, struct bw_err *err);
/* Derives the key pair from a 32-byte seed. */
int bw_ed25519_from_seed(struct bw_ed25519 *k, const uint8_t seed[BW_ED25519_SEED_SIZE],
			 struct bw_err *err);
/* Copies the 32-byte seed out of k. */
void bw_ed25519_seed(const struct bw_ed25519 *k, uint8_t seed[BW_ED25519_SEED_SIZE]);
void bw_ed25519_free(struct bw_ed25519 *k);
int bw_ed25519_sign(const struct bw_ed25519 *k, const void *msg, size_t n,
		    uint8_t sig[BW_ED25519_SIG_SIZE], struct bw_err *err);
/* Returns 0 when sig is a valid signature of msg by pk, else BW_EVERIFY. */
int bw_ed25519_verify(const uint8_t pk[BW_ED25519_PK_SIZE], const void *msg, size_t n,
		      const uint8_t sig[BW_ED25519_SIG_SIZE]);

/* HMAC-SHA256 (RFC 2104) of the n parts concatenated, under key (any length). */
void bw_hmac_sha256(const uint8_t *key, size_t klen, const void *const *parts, const size_t *lens, size_t n,
		    uint8_t out[BW_SHA256_SIZE]);

/* Constant-time comparison; returns 0 when equal. */
int bw_memcmp_ct(const void *a, const void *b, size_t n);
/* Wipes n bytes of p so the compiler cannot elide it. */
void bw_memzero(void *p, size_t n);

/* ---- passwords: Argon2id (crypto_pwhash_str_alg) ------------------------ */

#define BW_PWHASH_STR_MAX 128

/* Cost of a password hash. OWASP's floor is 19 MiB, t=2, p=1. */
struct bw_pwhash_cost {
	unsigned long long opslimit;	/* Argon2 t */
	size_t memlimit;		/* bytes */
};

/* The default (64 MiB, t=3) and the floor that is always enforced (19 MiB, t=2). */
extern const struct bw_pwhash_cost bw_pwhash_default, bw_pwhash_minimum;

/* Hashes pw into out (a "$argon2id$v=19$m=...,t=...,p=1$..." string). */
int bw_password_hash(const char *pw, size_t len, const struct bw_pwhash_cost *cost,
		     char out[BW_PWHASH_STR_MAX], struct bw_err *err);
/* Returns 0 when pw matches hash (constant time), else BW_EVERIFY. */
int bw_password_verify(const char *hash, const char *pw, size_t len);
/* True when hash was made with parameters other than cost (rehash on login). */
bool bw_password_needs_rehash(const char *hash, const struct bw_pwhash_cost *cost);

/* ---- sealing: XChaCha20-Poly1305 ---------------------------------------- */

#define BW_AEAD_KEY_SIZE 32
#define BW_AEAD_NONCE_SIZE 24
#define BW_AEAD_TAG_SIZE 16
#define BW_AEAD_OVERHEAD (BW_AEAD_NONCE_SIZE + BW_AEAD_TAG_SIZE)

/*
 * Encrypts pt with a random nonce; out receives nonce || ciphertext || tag
 * (n + BW_AEAD_OVERHEAD bytes). ad is authenticated, not encrypted.
 */
int bw_aead_seal(const uint8_t key[BW_AEAD_KEY_SIZE], const void *ad, size_t adlen, const void *pt,
		 size_t n, uint8_t *out, struct bw_err *err);
/* Reverses bw_aead_seal; out receives inlen - BW_AEAD_OVERHEAD bytes. BW_EVERIFY on tampering. */
int bw_aead_open(const uint8_t key[BW_AEAD_KEY_SIZE], const void *ad, size_t adlen, const uint8_t *in,
		 size_t inlen, uint8_t *out, struct bw_err *err);

/* Derives a 32-byte key from a passphrase with Argon2id (salt 16 bytes). */
int bw_kdf_passphrase(const char *pass, size_t len, const uint8_t salt[16],
		      const struct bw_pwhash_cost *cost, uint8_t key[32], struct bw_err *err);

/* ---- sealed files (crypto_secretstream_xchacha20poly1305; stream.c) ---- */

#define BW_STREAM_CHUNK 65536

/*
 * Seals data (len bytes) under key into path (atomically: a temporary file
 * fsynced, renamed, the directory fsynced; mode 0600): a stream writer's
 * file, the final chunk bound to ad.
 */
int bw_stream_seal_file(const uint8_t key[32], const void *ad, size_t adlen, const void *data, size_t len,
			const char *path, struct bw_err *err);
/*
 * A sealed file written as its plaintext arrives: open creates tmp_path
 * (new, 0600), add seals each full chunk as it fills, finish seals the rest
 * as the final chunk bound to ad (known only at the end) and renames the
 * file to path durably; finish and abort (which removes tmp_path) free w.
 */
struct bw_stream_writer;
int bw_stream_writer_open(const uint8_t key[32], const char *tmp_path, struct bw_stream_writer **out, struct bw_err *err);
int bw_stream_writer_add(struct bw_stream_writer *w, const void *data, size_t n, struct bw_err *err);
int bw_stream_writer_finish(struct bw_stream_writer *w, const void *ad, size_t adlen, const char *path,
			    struct bw_err *err);
void bw_stream_writer_abort(struct bw_stream_writer *w);
/* bw_stream_writer_open with prefix_len bytes of prefix written before the stream (a file's own header). */
int bw_stream_writer_open_after(const uint8_t key[32], const char *tmp_path, const void *prefix, size_t prefix_len,
				struct bw_stream_writer **out, struct bw_err *err);
/*
 * Reads a sealed stream (a stream writer's) from fd, where it starts, chunk
 * by chunk: read gives the next plaintext bytes (*n == 0 once the final
 * chunk, bound to ad, has been read and verified); BW_EVERIFY when the
 * stream was edited, reordered, cut short, has data after its final chunk,
 * or was sealed with another key or ad. Plaintext is handed out only once
 * its chunk verified. The reader does not own fd. Free with
 * bw_stream_reader_free().
 */
struct bw_stream_reader;
int bw_stream_reader_open(const uint8_t key[32], int fd, const void *ad, size_t adlen, struct bw_stream_reader **out,
			  struct bw_err *err);
int bw_stream_reader_read(struct bw_stream_reader *r, void *buf, size_t cap, size_t *n, struct bw_err *err);
/* True once the final chunk was read, verified and handed out whole. */
bool bw_stream_reader_done(const struct bw_stream_reader *r);
void bw_stream_reader_free(struct bw_stream_reader *r);
/*
 * Opens a sealed file (at most max plaintext bytes); BW_EVERIFY when it was
 * edited, truncated, reordered, or sealed with another key or ad. Caller
 * frees *out.
 */
int bw_stream_open_file(const uint8_t key[32], const void *ad, size_t adlen, const char *path, size_t max,
			uint8_t **out, size_t *len, struct bw_err *err);
/* A subkey of key for one purpose: context (8 characters) and id (libsodium crypto_kdf). */
void bw_kdf_subkey(const uint8_t key[32], const char ctx[8], uint64_t id, uint8_t out[32]);

/* Secure memory (guarded, locked, wiped on free). */
void *bw_secure_alloc(size_t n);
void bw_secure_free(void *p);

/*
 * Reads a secret file (a regular file of at most max bytes, sized by fstat)
 * straight into secure memory, NUL-terminated: no stack buffer or growing
 * heap copy ever holds it. Caller frees *out with bw_secure_free().
 */
int bw_file_read_secret(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err);

#endif /* BW_CRYPTO_H */
