/* tlog/proof_file.c: c2sp.org/tlog-proof@v1 files and checkpoint verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlog.h"

void
tlog_proof_file_clear(struct tlog_proof_file *pf)
{
	if (pf == NULL)
		return;
	free(pf->extra);
	free(pf->checkpoint);
	memset(pf, 0, sizeof *pf);
}

int
tlog_proof_file_format(const struct tlog_proof_file *pf, char **out, size_t *outlen,
		       struct bw_err *err)
{
	struct bw_buf b = { 0 };
	int r = 0;

	*out = NULL;
	if (bw_buf_append_str(&b, TLOG_PROOF_HEADER "\n") != 0)
		goto nomem;
	if (pf->extra != NULL) {
		char *e = malloc(bw_base64_len(pf->extra_len) + 1);
		if (e == NULL)
			goto nomem;
		bw_base64_encode(e, pf->extra, pf->extra_len);
		r = bw_buf_printf(&b, "extra %s\n", e);
		free(e);
		if (r != 0)
			goto nomem;
	}
	if (bw_buf_printf(&b, "index %llu\n", (unsigned long long)pf->index) != 0 ||
	    tlog_proof_lines_format(&pf->proof, &b) != 0)
		goto nomem;
	if (bw_buf_append_byte(&b, '\n') != 0 ||
	    bw_buf_append(&b, pf->checkpoint, pf->checkpoint_len) != 0 ||
	    (*out = bw_buf_take(&b, outlen)) == NULL)
		goto nomem;
	return 0;
nomem:
	bw_buf_free(&b);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}

/* Next line of [*p, end): sets *line and *n (without '\n'); false when none is complete. */
static bool
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL)
		return false;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return true;
}

int
tlog_proof_file_parse(const uint8_t *data, size_t len, struct tlog_proof_file *out,
		      struct bw_err *err)
{
	const char *p = (const char *)data, *end = p + len, *line;
	size_t n, lineno = 1;
	int r;

	memset(out, 0, sizeof *out);
	if (len > TLOG_PROOF_FILE_MAX)
		return bw_err_set(err, BW_ERANGE, "proof file larger than %d bytes", TLOG_PROOF_FILE_MAX);
	if (!next_line(&p, end, &line, &n) || n != strlen(TLOG_PROOF_HEADER) ||
	    memcmp(line, TLOG_PROOF_HEADER, n) != 0)
		return bw_err_set(err, BW_EINVAL, "line 1: expected \"" TLOG_PROOF_HEADER "\"");
	lineno++;
	if (!next_line(&p, end, &line, &n))
		return bw_err_set(err, BW_EINVAL, "line %zu: missing index line", lineno);
	if (n >= 6 && memcmp(line, "extra ", 6) == 0) {
		size_t cap = (n - 6) / 4 * 3 + 1;
		if (n == 6 || (out->extra = malloc(cap)) == NULL ||
		    bw_base64_decode(line + 6, n - 6, out->extra, cap, &out->extra_len) != 0) {
			r = bw_err_set(err, BW_EINVAL, "line %zu: extra data is not padded base64", lineno);
			goto fail;
		}
		lineno++;
		if (!next_line(&p, end, &line, &n)) {
			r = bw_err_set(err, BW_EINVAL, "line %zu: missing index line", lineno);
			goto fail;
		}
	}
	if (n < 7 || memcmp(line, "index ", 6) != 0 || bw_parse_u64(line + 6, n - 6, &out->index) != 0 ||
	    out->index > (uint64_t)INT64_MAX) {
		r = bw_err_set(err, BW_EINVAL,
			       "line %zu: expected \"index N\" (decimal, no leading zeros)", lineno);
		goto fail;
	}
	for (;;) {
		size_t hl;
		lineno++;
		if (!next_line(&p, end, &line, &n)) {
			r = bw_err_set(err, BW_EINVAL, "line %zu: missing blank line before the checkpoint",
				       lineno);
			goto fail;
		}
		if (n == 0)
			break;
		if (out->proof.n == TLOG_MAX_PROOF) {
			r = bw_err_set(err, BW_ERANGE, "line %zu: more than %d proof hashes", lineno,
				       TLOG_MAX_PROOF);
			goto fail;
		}
		if (bw_base64_decode(line, n, out->proof.h[out->proof.n].b, TLOG_HASH_SIZE, &hl) != 0 ||
		    hl != TLOG_HASH_SIZE) {
			r = bw_err_set(err, BW_EINVAL, "line %zu: proof hash must be base64 of 32 bytes",
				       lineno);
			goto fail;
		}
		out->proof.n++;
	}
	if (p == end) {
		r = bw_err_set(err, BW_EINVAL, "line %zu: missing checkpoint", lineno + 1);
		goto fail;
	}
	out->checkpoint_len = (size_t)(end - p);
	if ((out->checkpoint = malloc(out->checkpoint_len + 1)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(out->checkpoint, p, out->checkpoint_len);
	out->checkpoint[out->checkpoint_len] = '\0';
	return 0;
fail:
	tlog_proof_file_clear(out);
	return r;
}

int
tlog_checkpoint_open(const uint8_t *data, size_t len, struct note_verifier *const *log_keys,
		     size_t nkeys, struct tlog_checkpoint *cp, struct bw_err *err)
{
	struct note *n = NULL;
	bool *ok = NULL;
	size_t i;
	int r;

	memset(cp, 0, sizeof *cp);
	if ((r = note_parse(data, len, &n, err)) != 0)
		return bw_err_prefix(err, "checkpoint");
	if ((r = tlog_checkpoint_parse(n->text, n->text_len, cp, err)) != 0)
		goto out;
	if (nkeys > 0 && (ok = calloc(nkeys, sizeof *ok)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = note_verify(n, log_keys, nkeys, ok, NULL, err)) != 0) {
		bw_err_prefix(err, "checkpoint signature");
		goto out;
	}
	/* The origin must name a log key that signed it, not just any trusted key. */
	r = bw_err_set(err, BW_EVERIFY, "checkpoint origin '%s' is not signed by the key of that log",
		       cp->origin);
	for (i = 0; i < nkeys; i++)
		if (ok[i] && strcmp(log_keys[i]->name, cp->origin) == 0) {
			r = 0;
			bw_err_clear(err);
			break;
		}
out:
	if (r != 0)
		tlog_checkpoint_clear(cp);
	free(ok);
	note_free(n);
	return r;
}

int
tlog_proof_file_verify(struct bw_sha256 *h, const struct tlog_proof_file *pf,
		       struct note_verifier *const *log_keys, size_t nkeys, const void *entry, size_t len,
		       struct tlog_checkpoint *cp_out, struct bw_err *err)
{
	struct tlog_checkpoint cp;
	struct tlog_hash leaf;
	int r;

	if ((r = tlog_checkpoint_open((const uint8_t *)pf->checkpoint, pf->checkpoint_len, log_keys,
				      nkeys, &cp, err)) != 0)
		return r;
	tlog_hash_leaf(h, entry, len, &leaf);
	if ((r = tlog_verify_inclusion(h, pf->index, cp.size, &leaf, &pf->proof, &cp.root, err)) != 0) {
		tlog_checkpoint_clear(&cp);
		return r;
	}
	if (cp_out != NULL)
		*cp_out = cp;
	else
		tlog_checkpoint_clear(&cp);
	return 0;
}

static int
load_named(const char *dir, const char *name, struct note_verifier *const *log_keys, size_t nkeys, uint8_t **note,
	   size_t *len, struct tlog_checkpoint *cp, struct bw_err *err)
{
	char path[4096];
	int r;

	*note = NULL;
	memset(cp, 0, sizeof *cp);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((r = bw_file_read(path, NOTE_MAX_SIZE, note, len, err)) != 0)
		return r;
	if ((r = tlog_checkpoint_open(*note, *len, log_keys, nkeys, cp, err)) != 0) {
		bw_err_prefix(err, "%s", path);
		free(*note);
		*note = NULL;
	}
	return r;
}

int
tlog_checkpoint_load(const char *dir, struct note_verifier *const *log_keys, size_t nkeys, uint8_t **note,
		     size_t *len, struct tlog_checkpoint *cp, struct bw_err *err)
{
	return load_named(dir, TLOG_CHECKPOINT_FILE, log_keys, nkeys, note, len, cp, err);
}

int
tlog_cosigned_save(const char *dir, const void *note, size_t len, struct bw_err *err)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, TLOG_COSIGNED_FILE) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "path too long");
	return bw_file_write_atomic(path, note, len, 0644, err);
}

int
tlog_cosigned_load(const char *dir, struct note_verifier *const *log_keys, size_t nkeys, uint8_t **note, size_t *len,
		   struct tlog_checkpoint *cp, struct bw_err *err)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, TLOG_COSIGNED_FILE) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if (access(path, F_OK) != 0) {
		*note = NULL;
		memset(cp, 0, sizeof *cp);
		return bw_err_set(err, BW_ENOTFOUND, "%s: no cosigned checkpoint (no witness quorum yet)", path);
	}
	return load_named(dir, TLOG_COSIGNED_FILE, log_keys, nkeys, note, len, cp, err);
}

int
tlog_checkpoint_load_for(const char *dir, uint64_t index, struct note_verifier *const *log_keys, size_t nkeys,
			 uint8_t **note, size_t *len, struct tlog_checkpoint *cp, struct bw_err *err)
{
	struct bw_err ignored = { 0 };

	if (tlog_cosigned_load(dir, log_keys, nkeys, note, len, cp, &ignored) == 0) {
		if (index < cp->size)
			return 0;
		free(*note);
		tlog_checkpoint_clear(cp);
	}
	return tlog_checkpoint_load(dir, log_keys, nkeys, note, len, cp, err);
}

int
tlog_proof_lines_format(const struct tlog_proof *p, struct bw_buf *b)
{
	char h64[64];
	size_t i;

	for (i = 0; i < p->n; i++) {
		bw_base64_encode(h64, p->h[i].b, TLOG_HASH_SIZE);
		if (bw_buf_printf(b, "%s\n", h64) != 0)
			return BW_ENOMEM;
	}
	return 0;
}

int
tlog_proof_lines_parse(const uint8_t *text, size_t len, struct tlog_proof *p, struct bw_err *err)
{
	const char *s = (const char *)text, *end = s + len, *line;
	size_t n, hl;

	p->n = 0;
	while (s < end) {
		if (!next_line(&s, end, &line, &n))
			return bw_err_set(err, BW_EINVAL, "proof line %zu: no newline at the end", p->n + 1);
		if (p->n == TLOG_MAX_PROOF)
			return bw_err_set(err, BW_EINVAL, "proof: more than %d hashes", TLOG_MAX_PROOF);
		if (bw_base64_decode(line, n, p->h[p->n].b, TLOG_HASH_SIZE, &hl) != 0 || hl != TLOG_HASH_SIZE)
			return bw_err_set(err, BW_EINVAL, "proof line %zu: not a base64 SHA-256 hash", p->n + 1);
		p->n++;
	}
	return 0;
}
