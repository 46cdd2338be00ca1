/* note/note.c: parse, verify, sign and format C2SP signed notes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

static const char sig_prefix[] = "\xe2\x80\x94 ";	/* U+2014 EM DASH, space */
#define SIG_PREFIX_LEN (sizeof sig_prefix - 1)

/* Checks UTF-8 and control characters of msg; errors name the line. */
static int
note_bytes_check(const uint8_t *msg, size_t len, struct bw_err *err)
{
	size_t i = 0, line = 1;

	while (i < len) {
		uint32_t cp;
		size_t n = bw_utf8_decode(msg + i, len - i, &cp);
		if (n == 0)
			return bw_err_set(err, BW_EINVAL, "line %zu: invalid UTF-8", line);
		if ((cp < 0x20 && cp != '\n') || cp == 0x7f)
			return bw_err_set(err, BW_EINVAL, "line %zu: control character 0x%02x", line,
					  (unsigned)cp);
		if (cp == '\n')
			line++;
		i += n;
	}
	return 0;
}

int
note_text_check(const char *text, size_t len, struct bw_err *err)
{
	int r;

	if (len == 0)
		return bw_err_set(err, BW_EINVAL, "note text is empty");
	if (len > NOTE_MAX_SIZE)
		return bw_err_set(err, BW_ERANGE, "note text is larger than %u bytes", NOTE_MAX_SIZE);
	if ((r = note_bytes_check((const uint8_t *)text, len, err)) != 0)
		return r;
	if (text[len - 1] != '\n')
		return bw_err_set(err, BW_EINVAL, "note text must end with a newline");
	return 0;
}

void
note_free(struct note *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nsigs; i++) {
		free(n->sigs[i].name);
		free(n->sigs[i].sig);
	}
	free(n->sigs);
	free(n->text);
	free(n);
}

/* Parses one signature line (without its '\n') into sig. */
static int
sig_line_parse(const char *line, size_t len, size_t lineno, struct note_sig *sig,
	       struct bw_err *err)
{
	const char *name, *sp, *b64;
	size_t nlen, blen, dlen;
	uint8_t *dec = NULL;

	if (len < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0)
		return bw_err_set(err, BW_EINVAL,
				  "line %zu: signature line must start with \"\xe2\x80\x94 \" (U+2014, space)",
				  lineno);
	name = line + SIG_PREFIX_LEN;
	len -= SIG_PREFIX_LEN;
	if ((sp = memchr(name, ' ', len)) == NULL)
		return bw_err_set(err, BW_EINVAL, "line %zu: signature line has no space after the key name",
				  lineno);
	nlen = (size_t)(sp - name);
	if (!note_name_valid(name, nlen))
		return bw_err_set(err, BW_EINVAL, "line %zu: invalid key name in signature line", lineno);
	b64 = sp + 1;
	blen = len - nlen - 1;
	if (blen == 0)
		return bw_err_set(err, BW_EINVAL, "line %zu: empty signature", lineno);
	if (blen / 4 * 3 > 4 + NOTE_MAX_SIG_BYTES)
		return bw_err_set(err, BW_ERANGE, "line %zu: signature longer than %u bytes", lineno,
				  NOTE_MAX_SIG_BYTES);
	if ((dec = malloc(blen / 4 * 3 + 1)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_base64_decode(b64, blen, dec, blen / 4 * 3 + 1, &dlen) != 0) {
		free(dec);
		return bw_err_set(err, BW_EINVAL, "line %zu: signature is not valid padded base64",
				  lineno);
	}
	if (dlen < 5) {
		free(dec);
		return bw_err_set(err, BW_EINVAL, "line %zu: signature shorter than key ID + 1 byte",
				  lineno);
	}
	if ((sig->name = strndup(name, nlen)) == NULL) {
		free(dec);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	sig->id = (uint32_t)dec[0] << 24 | (uint32_t)dec[1] << 16 | (uint32_t)dec[2] << 8 | dec[3];
	memmove(dec, dec + 4, dlen - 4);
	sig->sig = dec;
	sig->sig_len = dlen - 4;
	return 0;
}

int
note_parse(const uint8_t *msg, size_t len, struct note **out, struct bw_err *err)
{
	struct note *n = NULL;
	const char *s = (const char *)msg, *sigs, *end;
	size_t split, textlines = 0, i;
	int r;

	*out = NULL;
	if (len > NOTE_MAX_SIZE)
		return bw_err_set(err, BW_ERANGE, "note is larger than %u bytes", NOTE_MAX_SIZE);
	if ((r = note_bytes_check(msg, len, err)) != 0)
		return r;
	/* The LAST blank line separates text from signatures. */
	for (split = len; split >= 2; split--)
		if (s[split - 2] == '\n' && s[split - 1] == '\n')
			break;
	if (split < 2)
		return bw_err_set(err, BW_EINVAL, "no blank line separating text and signatures");
	split -= 2;	/* s[split] is the text's final '\n' */
	sigs = s + split + 2;
	end = s + len;
	if (sigs == end)
		return bw_err_set(err, BW_EINVAL, "no signature lines after the blank line");
	if (end[-1] != '\n')
		return bw_err_set(err, BW_EINVAL, "last signature line does not end with a newline");

	if ((n = calloc(1, sizeof *n)) == NULL ||
	    (n->text = strndup(s, split + 1)) == NULL ||
	    (n->sigs = calloc(NOTE_MAX_SIGS, sizeof *n->sigs)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	n->text_len = split + 1;
	for (i = 0; i < n->text_len; i++)
		textlines += n->text[i] == '\n';
	while (sigs < end) {
		const char *nl = memchr(sigs, '\n', (size_t)(end - sigs));
		size_t lineno = textlines + 2 + n->nsigs;
		if (n->nsigs == NOTE_MAX_SIGS) {
			r = bw_err_set(err, BW_ERANGE, "line %zu: more than %d signatures", lineno,
				       NOTE_MAX_SIGS);
			goto out;
		}
		if ((r = sig_line_parse(sigs, (size_t)(nl - sigs), lineno, &n->sigs[n->nsigs], err)) != 0)
			goto out;
		n->nsigs++;
		sigs = nl + 1;
	}
	*out = n;
	n = NULL; /* transferred */
out:
	note_free(n);
	return r;
}

/* Index of the known verifier with this (name, id), or -1. */
static long
find_verifier(struct note_verifier *const *known, size_t nknown, const struct note_sig *sig)
{
	size_t i;

	for (i = 0; i < nknown; i++)
		if (known[i]->id == sig->id && strcmp(known[i]->name, sig->name) == 0)
			return (long)i;
	return -1;
}

static int sig_line_format(struct bw_buf *b, const char *name, uint32_t id, const uint8_t *sig, size_t siglen);

bool
note_cosig_timestamp(const struct note_sig *sig, uint64_t *timestamp)
{
	uint64_t t = 0;
	size_t i;

	if (sig->sig_len != NOTE_COSIG_SIZE)
		return false;
	for (i = 0; i < 8; i++)
		t = t << 8 | sig->sig[i];
	if (t > (uint64_t)INT64_MAX)
		return false;
	*timestamp = t;
	return true;
}

/* "cosignature/v1\ntime TS\n" || text into b. */
static int
cosig_message(struct bw_buf *b, uint64_t ts, const char *text, size_t len)
{
	b->len = 0;
	return bw_buf_printf(b, "cosignature/v1\ntime %llu\n", (unsigned long long)ts) != 0 ||
			       bw_buf_append(b, text, len) != 0
		       ? -1
		       : 0;
}

static bool
sig_verifies(const struct note_verifier *v, const struct note *n, const struct note_sig *sig)
{
	struct bw_buf msg = { 0 };
	uint64_t ts;
	bool ok;

	if (v->alg == NOTE_ALG_ED25519)
		return sig->sig_len == BW_ED25519_SIG_SIZE &&
		       bw_ed25519_verify(v->pk, n->text, n->text_len, sig->sig) == 0;
	if (v->alg != NOTE_ALG_COSIGNATURE_V1 || !note_cosig_timestamp(sig, &ts) ||
	    cosig_message(&msg, ts, n->text, n->text_len) != 0) {
		bw_buf_free(&msg);
		return false;
	}
	ok = bw_ed25519_verify(v->pk, msg.data, msg.len, sig->sig + 8) == 0;
	bw_buf_free(&msg);
	return ok;
}

int
note_cosign(const char *text, size_t len, const struct note_signer *cosigner, uint64_t timestamp, char **line,
	    struct bw_err *err)
{
	struct bw_buf msg = { 0 }, out = { 0 };
	uint8_t sig[NOTE_COSIG_SIZE];
	size_t i;
	int r;

	*line = NULL;
	if (cosigner->alg != NOTE_ALG_COSIGNATURE_V1)
		return bw_err_set(err, BW_EINVAL, "key %s is not a cosignature/v1 key (type 0x04)", cosigner->name);
	if (timestamp > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_EINVAL, "cosignature timestamp past 2^63-1");
	if ((r = note_text_check(text, len, err)) != 0)
		return r;
	if (cosig_message(&msg, timestamp, text, len) != 0) {
		bw_buf_free(&msg);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	for (i = 0; i < 8; i++)
		sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
	r = bw_ed25519_sign(&cosigner->key, msg.data, msg.len, sig + 8, err);
	bw_buf_free(&msg);
	if (r != 0)
		return r;
	if (sig_line_format(&out, cosigner->name, cosigner->id, sig, sizeof sig) != 0 ||
	    (*line = bw_buf_take(&out, NULL)) == NULL) {
		bw_buf_free(&out);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return 0;
}

int
note_verify(const struct note *n, struct note_verifier *const *known, size_t nknown,
	    bool *verified, size_t *nverified, struct bw_err *err)
{
	size_t i, count = 0;
	bool *seen = NULL;
	int r = 0;

	if (nverified != NULL)
		*nverified = 0;
	if (verified != NULL)
		memset(verified, 0, nknown * sizeof *verified);
	if (nknown > 0 && (seen = calloc(nknown, sizeof *seen)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < n->nsigs; i++) {
		const struct note_sig *sig = &n->sigs[i];
		long k = find_verifier(known, nknown, sig);
		if (k < 0)
			continue;	/* unknown key: ignored, as the spec requires */
		if (!sig_verifies(known[k], n, sig)) {
			r = bw_err_set(err, BW_EVERIFY, "invalid signature for key %s+%08x",
				       sig->name, sig->id);
			goto out;
		}
		if (!seen[k]) {
			seen[k] = true;
			count++;
		}
	}
	if (count == 0) {
		r = bw_err_set(err, BW_EVERIFY, "note has no signature by a trusted key");
		goto out;
	}
	if (verified != NULL)
		memcpy(verified, seen, nknown * sizeof *verified);
	if (nverified != NULL)
		*nverified = count;
out:
	free(seen);
	return r;
}

int
note_open(const uint8_t *msg, size_t len, struct note_verifier *const *known, size_t nknown,
	  struct note **out, struct bw_err *err)
{
	struct note *n = NULL;
	int r;

	*out = NULL;
	if ((r = note_parse(msg, len, &n, err)) != 0)
		return r;
	if ((r = note_verify(n, known, nknown, NULL, NULL, err)) != 0) {
		note_free(n);
		return r;
	}
	*out = n;
	return 0;
}

/* Appends "— name base64(id||sig)\n" to b. */
static int
sig_line_format(struct bw_buf *b, const char *name, uint32_t id, const uint8_t *sig, size_t siglen)
{
	uint8_t *raw;
	char *b64;
	int r = BW_ENOMEM;

	if ((raw = malloc(4 + siglen)) == NULL)
		return BW_ENOMEM;
	if ((b64 = malloc(bw_base64_len(4 + siglen) + 1)) == NULL) {
		free(raw);
		return BW_ENOMEM;
	}
	raw[0] = (uint8_t)(id >> 24);
	raw[1] = (uint8_t)(id >> 16);
	raw[2] = (uint8_t)(id >> 8);
	raw[3] = (uint8_t)id;
	memcpy(raw + 4, sig, siglen);
	bw_base64_encode(b64, raw, 4 + siglen);
	if (bw_buf_append(b, sig_prefix, SIG_PREFIX_LEN) == 0 && bw_buf_append_str(b, name) == 0 &&
	    bw_buf_append_byte(b, ' ') == 0 && bw_buf_append_str(b, b64) == 0 &&
	    bw_buf_append_byte(b, '\n') == 0)
		r = 0;
	free(raw);
	free(b64);
	return r;
}

int
note_sign(const char *text, size_t len, struct note_signer *const *signers, size_t nsigners,
	  char **out, size_t *outlen, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	uint8_t sig[BW_ED25519_SIG_SIZE];
	size_t i;
	int r;

	*out = NULL;
	if ((r = note_text_check(text, len, err)) != 0)
		return r;
	if (nsigners == 0 || nsigners > NOTE_MAX_SIGS)
		return bw_err_set(err, BW_EINVAL, "need 1..%d signers, got %zu", NOTE_MAX_SIGS, nsigners);
	if (bw_buf_append(&b, text, len) != 0 || bw_buf_append_byte(&b, '\n') != 0) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nsigners; i++) {
		if (signers[i]->alg != NOTE_ALG_ED25519) {
			r = bw_err_set(err, BW_EINVAL, "key %s signs cosignatures (note_cosign), not notes",
				       signers[i]->name);
			goto out;
		}
		if (!note_name_valid(signers[i]->name, strlen(signers[i]->name))) {
			r = bw_err_set(err, BW_EINVAL, "invalid signer name");
			goto out;
		}
		if ((r = bw_ed25519_sign(&signers[i]->key, text, len, sig, err)) != 0)
			goto out;
		if (sig_line_format(&b, signers[i]->name, signers[i]->id, sig, sizeof sig) != 0) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((*out = bw_buf_take(&b, outlen)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	bw_buf_free(&b);
	return r;
}

int
note_format(const struct note *n, char **out, size_t *outlen, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	size_t i;

	*out = NULL;
	if (bw_buf_append(&b, n->text, n->text_len) != 0 || bw_buf_append_byte(&b, '\n') != 0)
		goto nomem;
	for (i = 0; i < n->nsigs; i++)
		if (sig_line_format(&b, n->sigs[i].name, n->sigs[i].id, n->sigs[i].sig,
				    n->sigs[i].sig_len) != 0)
			goto nomem;
	if ((*out = bw_buf_take(&b, outlen)) == NULL)
		goto nomem;
	return 0;
nomem:
	bw_buf_free(&b);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}
