/*
 * witness/submit.c: the log side of c2sp.org/tlog-witness: the add-checkpoint
 * request a log sends, and what a witness's answer means, including the
 * deviations of real witnesses (409 without a size from v1.0.0 witnesses on
 * a same-size conflict, 403 for an unknown log, 429 on pushback).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "witness.h"

int
witness_submission_format(struct bw_sha256 *h, struct tlog_tiles *t, uint64_t old, uint64_t size, const uint8_t *note,
			  size_t len, struct bw_buf *out, struct bw_err *err)
{
	struct tlog_proof p = { 0 };
	struct tlog_reader rd = tlog_tiles_reader(t, size);
	int r;

	out->len = 0;
	if (old > size)
		return bw_err_set(err, BW_EINVAL, "old size %llu is past the checkpoint's %llu", (unsigned long long)old,
				  (unsigned long long)size);
	if (old > 0 && old < size && (r = tlog_prove_consistency(h, &rd, old, size, &p, err)) != 0)
		return r;
	if (bw_buf_printf(out, "old %llu\n", (unsigned long long)old) != 0 || tlog_proof_lines_format(&p, out) != 0 ||
	    bw_buf_append_byte(out, '\n') != 0 || bw_buf_append(out, note, len) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

size_t
witness_cosigs_keep(const uint8_t *note, size_t len, const char *answer, size_t alen, const struct note_verifier *key,
		    struct bw_buf *out)
{
	const char *p = answer, *end = answer + alen;
	size_t kept = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		struct bw_buf one = { 0 };
		struct note *n = NULL;
		struct bw_err e = { 0 };
		struct note_verifier *k = (struct note_verifier *)key;
		bool ok = false;
		if (nl != NULL && bw_buf_append(&one, note, len) == 0 && bw_buf_append(&one, p, ll) == 0 &&
		    note_parse(one.data, one.len, &n, &e) == 0 && note_verify(n, &k, 1, &ok, NULL, &e) == 0 && ok &&
		    bw_buf_append(out, p, ll) == 0)
			kept++;
		note_free(n);
		bw_buf_free(&one);
		p += ll;
	}
	return kept;
}

/* The answer's text, bounded and printable, for a reason. */
static void
answer_text(const char *body, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)body[i];
		if (c == '\n' && i + 1 == len)
			break;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

void
witness_answer_read(long status, const char *body, size_t blen, const uint8_t *note, size_t nlen, uint64_t size,
		    const struct note_verifier *key, struct witness_answer *out, struct bw_buf *cosigs)
{
	char text[160];
	uint64_t seen;
	size_t l;

	memset(out, 0, sizeof *out);
	answer_text(body, blen, text, sizeof text);
	switch (status) {
	case 200:
		if ((out->cosigned = witness_cosigs_keep(note, nlen, body, blen, key, cosigs)) > 0) {
			out->kind = WITNESS_COSIGNED;
			return;
		}
		out->kind = WITNESS_FAILED;
		snprintf(out->why, sizeof out->why, "answered 200 without a valid cosignature of its key");
		return;
	case 409:
		l = strcspn(body, "\n");
		if (l > blen)
			l = blen;
		if (l == 0 || bw_parse_u64(body, l, &seen) != 0) {
			/* v1.0.0 witnesses (and transparency-dev's before #576) answer a same-size conflict so */
			out->kind = WITNESS_CONFLICT;
			snprintf(out->why, sizeof out->why,
				 "409 without a size: it holds another tree of this size (a split view?)");
			return;
		}
		out->size = seen;
		if (seen > size) {
			out->kind = WITNESS_ROLLBACK;
			snprintf(out->why, sizeof out->why,
				 "it cosigned size %llu, larger than this log's %llu: the log was rolled back or forked",
				 (unsigned long long)seen, (unsigned long long)size);
			return;
		}
		out->kind = WITNESS_STALE;
		snprintf(out->why, sizeof out->why, "it cosigned size %llu last", (unsigned long long)seen);
		return;
	case 422:
		out->kind = WITNESS_CONFLICT;
		snprintf(out->why, sizeof out->why, "422: %s", text[0] ? text : "the consistency proof did not verify");
		return;
	case 403:
	case 404:
		out->kind = WITNESS_REFUSED;
		snprintf(out->why, sizeof out->why, "%ld: %s", status,
			 text[0] ? text : "the witness does not know this log or its key");
		return;
	case 0:
	case 429:
		out->kind = WITNESS_BUSY;
		snprintf(out->why, sizeof out->why, "%s", status == 0 ? "no answer" : "429: too many requests");
		return;
	default:
		out->kind = status >= 500 ? WITNESS_BUSY : WITNESS_FAILED;
		snprintf(out->why, sizeof out->why, "%ld: %s", status, text[0] ? text : "(no reason given)");
		return;
	}
}

const char *
witness_answer_name(enum witness_answer_kind k)
{
	static const char *const names[] = { "cosigned", "stale", "conflict", "rollback", "refused", "busy", "failed" };

	return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
