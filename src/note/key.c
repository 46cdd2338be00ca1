/* note/key.c: signed-note key names, key IDs and key text formats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

bool
note_name_valid(const char *name, size_t len)
{
	const uint8_t *s = (const uint8_t *)name;
	size_t i = 0;

	if (len == 0 || len > NOTE_MAX_NAME)
		return false;
	while (i < len) {
		uint32_t cp;
		size_t n = bw_utf8_decode(s + i, len - i, &cp);
		if (n == 0 || cp == '+' || cp < 0x20 || cp == 0x7f || bw_unicode_is_space(cp))
			return false;
		i += n;
	}
	return true;
}

int
note_key_id(const char *name, uint8_t alg, const uint8_t *pk, size_t pklen, uint32_t *id,
	    struct bw_err *err)
{
	struct bw_buf b = { 0 };
	uint8_t h[BW_SHA256_SIZE];
	int r;

	if (bw_buf_append_str(&b, name) != 0 || bw_buf_append_byte(&b, '\n') != 0 ||
	    bw_buf_append_byte(&b, alg) != 0 || bw_buf_append(&b, pk, pklen) != 0) {
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory computing a key ID");
	}
	r = bw_sha256_oneshot(b.data, b.len, h);
	bw_buf_free(&b);
	if (r != 0)
		return bw_err_set(err, r, "SHA-256 failed computing a key ID");
	*id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	return 0;
}

/* Splits s at the first '+': returns the length of the part before it, or len when none. */
static size_t
chop_plus(const char *s, size_t len)
{
	const char *p = memchr(s, '+', len);
	return p ? (size_t)(p - s) : len;
}

/*
 * Parses "<name>+<hex8>+<base64 key>" (the common tail of both key texts).
 * *name is malloc'd (caller frees). key receives the decoded bytes.
 */
static int
key_text_parse(const char *what, const char *s, size_t len, char **name, uint32_t *id,
	       uint8_t *key, size_t keycap, size_t *keylen, struct bw_err *err)
{
	const char *start = s;
	size_t nlen, hlen;
	uint8_t idb[4];

	*name = NULL;
	nlen = chop_plus(s, len);
	if (nlen == len)
		return bw_err_set(err, BW_EINVAL, "%s: missing '+' after the key name", what);
	if (!note_name_valid(s, nlen))
		return bw_err_set(err, BW_EINVAL,
				  "%s: invalid key name (empty, white space, '+' or bad UTF-8)", what);
	s += nlen + 1;
	len -= nlen + 1;
	hlen = chop_plus(s, len);
	if (hlen == len)
		return bw_err_set(err, BW_EINVAL, "%s: missing '+' after the key ID", what);
	if (hlen != 8 || bw_hex_decode(s, 8, idb, 4) != 0)
		return bw_err_set(err, BW_EINVAL, "%s: key ID must be 8 hex digits", what);
	*id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
	s += hlen + 1;
	len -= hlen + 1;
	if (len == 0 || bw_base64_decode(s, len, key, keycap, keylen) != 0)
		return bw_err_set(err, BW_EINVAL, "%s: key is not valid padded base64 of the expected size",
				  what);
	if (*keylen == 0)
		return bw_err_set(err, BW_EINVAL, "%s: empty key", what);
	if (key[0] != NOTE_ALG_ED25519 && key[0] != NOTE_ALG_COSIGNATURE_V1)
		return bw_err_set(err, BW_EINVAL,
				  "%s: unsupported key type 0x%02x (want 0x01, Ed25519, or 0x04, Ed25519 cosignature/v1)",
				  what, key[0]);
	if (*keylen != 1 + 32)
		return bw_err_set(err, BW_EINVAL, "%s: Ed25519 key must be 32 bytes, got %zu", what,
				  *keylen - 1);
	if ((*name = strndup(start, nlen)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

int
note_verifier_parse(const char *text, size_t len, struct note_verifier **out, struct bw_err *err)
{
	struct note_verifier *v = NULL;
	uint8_t key[64];
	size_t keylen;
	uint32_t want;
	char *name = NULL;
	int r;

	*out = NULL;
	if ((r = key_text_parse("verifier key", text, len, &name, &want, key, sizeof key, &keylen,
				err)) != 0)
		goto out;
	if ((v = calloc(1, sizeof *v)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = note_key_id(name, key[0], key + 1, keylen - 1, &v->id, err)) != 0)
		goto out;
	if (v->id != want) {
		r = bw_err_set(err, BW_EINVAL,
			       "verifier key: key ID %08x does not match name and key (expected %08x)",
			       want, v->id);
		goto out;
	}
	v->name = name;
	name = NULL; /* transferred */
	v->alg = key[0];
	memcpy(v->pk, key + 1, sizeof v->pk);
	*out = v;
	v = NULL; /* transferred */
out:
	free(name);
	note_verifier_free(v);
	return r;
}

void
note_verifier_free(struct note_verifier *v)
{
	if (v == NULL)
		return;
	free(v->name);
	free(v);
}

/* "<name>+<hex8>+<base64(alg||key)>" into a malloc'd string. */
static int
key_text_format(const char *prefix, const char *name, uint32_t id, uint8_t alg,
		const uint8_t *key, size_t keylen, char **out, struct bw_err *err)
{
	uint8_t raw[1 + 64];
	char b64[(sizeof raw + 2) / 3 * 4 + 1];
	struct bw_buf b = { 0 };
	int r = 0;

	*out = NULL;
	if (keylen > 64)
		return bw_err_set(err, BW_ERANGE, "key too long");
	raw[0] = alg;
	memcpy(raw + 1, key, keylen);
	bw_base64_encode(b64, raw, keylen + 1);
	if (bw_buf_printf(&b, "%s%s+%08x+%s", prefix, name, id, b64) != 0 ||
	    (*out = bw_buf_take(&b, NULL)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	bw_memzero(raw, sizeof raw);
	bw_memzero(b64, sizeof b64);
	if (r != 0 && b.data != NULL)
		bw_memzero(b.data, b.len);
	bw_buf_free(&b);
	return r;
}

int
note_verifier_format(const struct note_verifier *v, char **out, struct bw_err *err)
{
	return key_text_format("", v->name, v->id, v->alg, v->pk, sizeof v->pk, out, err);
}

int
note_signer_parse(const char *text, size_t len, struct note_signer **out, struct bw_err *err)
{
	static const char prefix[] = "PRIVATE+KEY+";
	struct note_signer *s = NULL;
	uint8_t key[64];
	size_t keylen = 0;
	uint32_t want, id;
	char *name = NULL;
	int r;

	*out = NULL;
	if (len < sizeof prefix - 1 || memcmp(text, prefix, sizeof prefix - 1) != 0)
		return bw_err_set(err, BW_EINVAL, "signer key: must start with PRIVATE+KEY+");
	if ((r = key_text_parse("signer key", text + sizeof prefix - 1, len - (sizeof prefix - 1),
				&name, &want, key, sizeof key, &keylen, err)) != 0)
		goto out;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = bw_ed25519_from_seed(&s->key, key + 1, err)) != 0)
		goto out;
	if ((r = note_key_id(name, key[0], s->key.pk, sizeof s->key.pk, &id, err)) != 0)
		goto out;
	if (id != want) {
		r = bw_err_set(err, BW_EINVAL,
			       "signer key: key ID %08x does not match name and key (expected %08x)",
			       want, id);
		goto out;
	}
	s->id = id;
	s->alg = key[0];
	s->name = name;
	name = NULL; /* transferred */
	*out = s;
	s = NULL; /* transferred */
out:
	bw_memzero(key, sizeof key);
	free(name);
	note_signer_free(s);
	return r;
}

void
note_signer_free(struct note_signer *s)
{
	if (s == NULL)
		return;
	bw_ed25519_free(&s->key);
	free(s->name);
	free(s);
}

int
note_signer_verifier(const struct note_signer *s, struct note_verifier **out, struct bw_err *err)
{
	struct note_verifier *v;

	*out = NULL;
	if ((v = calloc(1, sizeof *v)) == NULL || (v->name = strdup(s->name)) == NULL) {
		free(v);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	v->id = s->id;
	v->alg = s->alg;
	memcpy(v->pk, s->key.pk, sizeof v->pk);
	*out = v;
	return 0;
}

int
note_signer_vkey(const struct note_signer *s, char **out, struct bw_err *err)
{
	struct note_verifier *v = NULL;
	int r;

	*out = NULL;
	if ((r = note_signer_verifier(s, &v, err)) == 0)
		r = note_verifier_format(v, out, err);
	note_verifier_free(v);
	return r;
}

int
note_key_generate(const char *name, char **skey, char **vkey, struct bw_err *err)
{
	return note_key_generate_alg(name, NOTE_ALG_ED25519, skey, vkey, err);
}

int
note_key_generate_alg(const char *name, uint8_t alg, char **skey, char **vkey, struct bw_err *err)
{
	struct bw_ed25519 k = { 0 };
	uint8_t seed[BW_ED25519_SEED_SIZE];
	uint32_t id;
	int r;

	*skey = *vkey = NULL;
	if (alg != NOTE_ALG_ED25519 && alg != NOTE_ALG_COSIGNATURE_V1)
		return bw_err_set(err, BW_EINVAL, "key type 0x%02x: want 0x01 or 0x04", alg);
	if (!note_name_valid(name, strlen(name)))
		return bw_err_set(err, BW_EINVAL,
				  "invalid key name '%s' (must be non-empty, no white space, no '+')",
				  name);
	if ((r = bw_ed25519_generate(&k, err)) != 0)
		return r;
	if ((r = note_key_id(name, alg, k.pk, sizeof k.pk, &id, err)) != 0)
		goto out;
	bw_ed25519_seed(&k, seed);
	if ((r = key_text_format("PRIVATE+KEY+", name, id, alg, seed, sizeof seed,
				 skey, err)) != 0)
		goto out;
	if ((r = key_text_format("", name, id, alg, k.pk, sizeof k.pk, vkey, err)) != 0) {
		bw_memzero(*skey, strlen(*skey));
		free(*skey);
		*skey = NULL;
	}
out:
	bw_memzero(seed, sizeof seed);
	bw_ed25519_free(&k);
	return r;
}
