/*
 * note: C2SP signed-note (c2sp.org/signed-note) with Ed25519 (type 0x01),
 * byte-compatible with Go's golang.org/x/mod/sumdb/note.
 *
 *   <text, ends with "\n">
 *   "\n"
 *   "— <key name> <base64(key ID[4] || signature)>\n"   (one or more)
 *
 * Key texts:
 *   verifier  <name>+<hex8 key ID>+<base64(0x01 || pk[32])>
 *   signer    PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || seed[32])>
 *   key ID  = SHA-256(name || "\n" || 0x01 || pk)[:4], big-endian.
 */
#ifndef BW_NOTE_H
#define BW_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "crypto/crypto.h"

#define NOTE_ALG_ED25519 0x01
#define NOTE_ALG_COSIGNATURE_V1 0x04	/* c2sp.org/tlog-cosignature: Ed25519 over a timestamped message */
#define NOTE_COSIG_SIZE 72		/* its signature: big-endian u64 timestamp || Ed25519 signature */
#define NOTE_MAX_SIZE (1u << 20)	/* notes larger than 1 MiB are refused */
#define NOTE_MAX_SIGS 100		/* as Go; the spec asks for at least 16 */
#define NOTE_MAX_NAME 1024		/* longest key name accepted */
#define NOTE_MAX_SIG_BYTES 8192		/* longest decoded signature accepted */

struct note_verifier {
	char *name;		/* NUL-terminated, valid key name */
	uint32_t id;		/* key ID */
	uint8_t alg;		/* NOTE_ALG_ED25519 or NOTE_ALG_COSIGNATURE_V1 */
	uint8_t pk[BW_ED25519_PK_SIZE];
};

struct note_signer {
	char *name;
	uint32_t id;
	uint8_t alg;		/* NOTE_ALG_ED25519 (note_sign) or NOTE_ALG_COSIGNATURE_V1 (note_cosign) */
	struct bw_ed25519 key;	/* secret in sodium_malloc'd memory */
};

/* One signature line of a note. */
struct note_sig {
	char *name;
	uint32_t id;
	uint8_t *sig;		/* signature bytes after the key ID */
	size_t sig_len;
};

/* A parsed note. text includes its final newline, not the blank line. */
struct note {
	char *text;		/* NUL-terminated */
	size_t text_len;
	struct note_sig *sigs;
	size_t nsigs;
};

/* True when name is a valid key name: non-empty UTF-8, no white space, no '+'. */
bool note_name_valid(const char *name, size_t len);

/* key ID = SHA-256(name || "\n" || alg || pk)[:4] as a big-endian uint32. */
int note_key_id(const char *name, uint8_t alg, const uint8_t *pk, size_t pklen, uint32_t *id,
		struct bw_err *err);

/*
 * Generates a new Ed25519 key named name. *skey (signer text) and *vkey
 * (verifier text) are malloc'd; the caller wipes *skey with bw_memzero() and
 * frees both with free().
 */
int note_key_generate(const char *name, char **skey, char **vkey, struct bw_err *err);
/* As note_key_generate, of type alg (NOTE_ALG_ED25519, or NOTE_ALG_COSIGNATURE_V1 for a witness). */
int note_key_generate_alg(const char *name, uint8_t alg, char **skey, char **vkey, struct bw_err *err);

/* Parses verifier key text. Caller frees *out with note_verifier_free(). */
int note_verifier_parse(const char *text, size_t len, struct note_verifier **out,
			struct bw_err *err);
void note_verifier_free(struct note_verifier *v);
/* Verifier key text of v; caller frees. */
int note_verifier_format(const struct note_verifier *v, char **out, struct bw_err *err);

/* Parses signer key text. Caller frees *out with note_signer_free(). */
int note_signer_parse(const char *text, size_t len, struct note_signer **out,
		      struct bw_err *err);
void note_signer_free(struct note_signer *s);
/* The verifier matching s. Caller frees *out with note_verifier_free(). */
int note_signer_verifier(const struct note_signer *s, struct note_verifier **out,
			 struct bw_err *err);
/* The verifier key text matching s. Caller frees *out. */
int note_signer_vkey(const struct note_signer *s, char **out, struct bw_err *err);

/*
 * Checks that text is valid note text: non-empty, valid UTF-8, no control
 * characters other than '\n', ends with '\n'. Errors name the line.
 */
int note_text_check(const char *text, size_t len, struct bw_err *err);

/*
 * Signs text with each signer and returns the complete signed note in *out
 * (NUL-terminated, malloc'd; caller frees). *outlen may be NULL.
 */
int note_sign(const char *text, size_t len, struct note_signer *const *signers, size_t nsigners,
	      char **out, size_t *outlen, struct bw_err *err);

/*
 * Parses a signed note without verifying any signature (structure only):
 * size limit, UTF-8, control characters, the last blank line as the
 * separator, signature line syntax, at most NOTE_MAX_SIGS lines.
 * Caller frees *out with note_free().
 */
int note_parse(const uint8_t *msg, size_t len, struct note **out, struct bw_err *err);
void note_free(struct note *n);

/*
 * A cosignature/v1 line (c2sp.org/tlog-cosignature) for note text (a
 * checkpoint, len bytes, ending in '\n'): "— NAME base64(id || ts_be64 ||
 * Ed25519(\"cosignature/v1\\ntime TS\\n\" || text))\n" by a signer of type
 * NOTE_ALG_COSIGNATURE_V1 at timestamp (seconds, at most 2^63-1). Caller
 * frees *line.
 */
int note_cosign(const char *text, size_t len, const struct note_signer *cosigner, uint64_t timestamp, char **line,
		struct bw_err *err);
/* The timestamp of a cosignature/v1 signature (false: not NOTE_COSIG_SIZE bytes, or past 2^63-1). */
bool note_cosig_timestamp(const struct note_sig *sig, uint64_t *timestamp);

/*
 * Verifies n against the known verifiers, following the spec's rules:
 * signatures by unknown keys are ignored; a signature whose (name, key ID)
 * matches a known key must verify or the whole note is rejected
 * (BW_EVERIFY); at least one known key must have signed (else BW_EVERIFY).
 * When verified is non-NULL it has nknown entries, set true for each known
 * verifier whose signature verified. *nverified (optional) counts them.
 * Verifiers of type NOTE_ALG_COSIGNATURE_V1 check cosignatures (any
 * timestamp; a caller that cares reads it with note_cosig_timestamp).
 */
int note_verify(const struct note *n, struct note_verifier *const *known, size_t nknown,
		bool *verified, size_t *nverified, struct bw_err *err);

/* note_parse + note_verify. Caller frees *out with note_free(). */
int note_open(const uint8_t *msg, size_t len, struct note_verifier *const *known, size_t nknown,
	      struct note **out, struct bw_err *err);

/* Serialises n (text, blank line, signature lines). Caller frees *out. */
int note_format(const struct note *n, char **out, size_t *outlen, struct bw_err *err);

#endif /* BW_NOTE_H */
