/*
 * The witness side of c2sp.org/tlog-witness: the add-checkpoint request
 * parsed strictly, and every check with the spec's status code, on the
 * consistency-proof vectors of the witness research (checked there with
 * Go's tlog.CheckTree).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "witness/witness.h"

static const char root3[] = "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=";
static const char root7[] = "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=";
static const char proof3to7[] = "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=\n"
				"B1Bqhf2d0vEg62lPhgEeW7RmLlxBWmKRcDPUqWJEh+c=\n"
				"+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=\n"
				"g327FS6bB5AQcX6E6GXaTrwPoZioBtWdMb8VrM7yLQ4=\n";

struct fixture {
	struct note_signer *log, *other;
	struct note_verifier *log_v;
	struct witness_log logs[1];
	struct witness_seen seen;
};

static int
seen_of(void *ctx, size_t log, struct witness_seen *out, struct bw_err *err)
{
	struct fixture *f = ctx;

	(void)err;
	assert_int_equal(log, 0);
	*out = f->seen;
	return 0;
}

static struct note_signer *
new_signer(const char *name)
{
	char *sk = NULL, *vk = NULL;
	struct note_signer *s = NULL;
	struct bw_err err = { 0 };

	assert_int_equal(note_key_generate(name, &sk, &vk, &err), 0);
	assert_int_equal(note_signer_parse(sk, strlen(sk), &s, &err), 0);
	free(sk);
	free(vk);
	return s;
}

/* "old OLD\n" PROOF "\n" + the checkpoint (origin, size, root) signed by s, into a malloc'd body. */
static char *
body(struct note_signer *s, uint64_t old, const char *proof, const char *origin, uint64_t size, const char *root)
{
	char text[512], *signed_note = NULL, *b;
	struct bw_err err = { 0 };

	snprintf(text, sizeof text, "%s\n%llu\n%s\n", origin, (unsigned long long)size, root);
	assert_int_equal(note_sign(text, strlen(text), &s, 1, &signed_note, NULL, &err), 0);
	assert_non_null(b = malloc(strlen(signed_note) + strlen(proof) + 64));
	sprintf(b, "old %llu\n%s\n%s", (unsigned long long)old, proof, signed_note);
	free(signed_note);
	return b;
}

static unsigned
check(struct fixture *f, const char *b, struct witness_decision *d)
{
	struct witness_request q;
	struct bw_err err = { 0 };

	assert_int_equal(witness_request_parse((const uint8_t *)b, strlen(b), &q, &err), 0);
	assert_int_equal(witness_check(&q, f->logs, 1, seen_of, f, d, &err), 0);
	return d->status;
}

static void
test_request_parse(void **state)
{
	static const char *const bad[] = {
		"", "old\n\nx", "old 01\n\nx", "old -1\n\nx", "new 1\n\nx", "old 1\nnot base64\n\nx",
		"old 1\nAAAA\n\nx", "old 1\n", "old 1\n\n", "old 1 \n\nx", "old 18446744073709551616\n\nx",
	};
	struct witness_request q;
	struct bw_err err = { 0 };
	char big[64 * 46 + 64];
	size_t i, off;

	(void)state;
	assert_int_equal(witness_request_parse((const uint8_t *)"old 0\n\nN", 8, &q, &err), 0);
	assert_true(q.old == 0 && q.proof.n == 0 && q.note_len == 1 && q.note[0] == 'N');
	{
		char b[400];
		snprintf(b, sizeof b, "old 3\n%s\nNOTE", proof3to7);
		assert_int_equal(witness_request_parse((const uint8_t *)b, strlen(b), &q, &err), 0);
		assert_true(q.old == 3 && q.proof.n == 4 && q.note_len == 4);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		if (witness_request_parse((const uint8_t *)bad[i], strlen(bad[i]), &q, &err) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	/* 63 proof lines are the most a client may send */
	off = (size_t)snprintf(big, sizeof big, "old 1\n");
	for (i = 0; i < 64; i++)
		off += (size_t)snprintf(big + off, sizeof big - off, "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=\n");
	snprintf(big + off, sizeof big - off, "\nN");
	assert_int_equal(witness_request_parse((const uint8_t *)big, strlen(big), &q, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "more than 63 proof lines"));
}

static void
test_checks_and_status_codes(void **state)
{
	struct fixture f = { 0 };
	struct witness_decision d;
	struct bw_err err = { 0 };
	struct bw_sha256 *h = NULL;
	char *b;

	(void)state;
	assert_int_equal(bw_sha256_new(&h, &err), 0);
	f.log = new_signer("example.com/log");
	f.other = new_signer("example.com/log");	/* same name, another key: a stolen name, not the key */
	assert_int_equal(note_signer_verifier(f.log, &f.log_v, &err), 0);
	f.logs[0] = (struct witness_log){ "example.com/log", f.log_v };
	f.seen.size = 0;
	tlog_hash_empty(h, &f.seen.root);

	/* never seen: the first checkpoint is taken from old 0 (no proof) */
	b = body(f.log, 0, "", "example.com/log", 3, root3);
	assert_int_equal(check(&f, b, &d), 200);
	assert_true(d.cp.size == 3);
	witness_decision_clear(&d);
	free(b);
	f.seen.size = 3;
	assert_int_equal(bw_base64_decode(root3, strlen(root3), f.seen.root.b, 32, &(size_t){ 0 }), 0);

	/* the vector's proof from 3 to 7 */
	b = body(f.log, 3, proof3to7, "example.com/log", 7, root7);
	assert_int_equal(check(&f, b, &d), 200);
	witness_decision_clear(&d);
	free(b);
	/* a stale old size: 409 with the size it knows */
	b = body(f.log, 0, "", "example.com/log", 7, root7);
	assert_int_equal(check(&f, b, &d), 409);
	assert_true(d.known_size == 3);
	witness_decision_clear(&d);
	free(b);
	/* another root at 7 with the same proof: the proof fails (no evidence: anyone can attach a wrong proof) */
	b = body(f.log, 3, proof3to7, "example.com/log", 7, root3);
	assert_int_equal(check(&f, b, &d), 422);
	assert_false(d.fork);
	witness_decision_clear(&d);
	free(b);
	/* the same size again: the same root is cosigned anew; another root is a fork */
	b = body(f.log, 3, "", "example.com/log", 3, root3);
	assert_int_equal(check(&f, b, &d), 200);
	assert_false(d.fork);
	witness_decision_clear(&d);
	free(b);
	b = body(f.log, 3, "", "example.com/log", 3, root7);
	assert_int_equal(check(&f, b, &d), 422);
	assert_true(d.fork);
	witness_decision_clear(&d);
	free(b);
	/* old larger than the checkpoint: 400 */
	b = body(f.log, 9, "", "example.com/log", 7, root7);
	assert_int_equal(check(&f, b, &d), 400);
	witness_decision_clear(&d);
	free(b);
	/* signed by another key under the log's name: 403; an unknown origin: 404 */
	b = body(f.other, 3, proof3to7, "example.com/log", 7, root7);
	assert_int_equal(check(&f, b, &d), 403);
	witness_decision_clear(&d);
	free(b);
	b = body(f.log, 3, proof3to7, "example.com/other", 7, root7);
	assert_int_equal(check(&f, b, &d), 404);
	witness_decision_clear(&d);
	free(b);
	/* from a fresh state: a proof with old 0 is refused, and a size-0 tree must have SHA-256("") */
	f.seen.size = 0;
	tlog_hash_empty(h, &f.seen.root);
	b = body(f.log, 0, proof3to7, "example.com/log", 7, root7);
	assert_int_equal(check(&f, b, &d), 422);
	witness_decision_clear(&d);
	free(b);
	b = body(f.log, 0, "", "example.com/log", 0, root3);
	assert_int_equal(check(&f, b, &d), 422);
	witness_decision_clear(&d);
	free(b);
	b = body(f.log, 0, "", "example.com/log", 0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_int_equal(check(&f, b, &d), 200);
	witness_decision_clear(&d);
	free(b);
	note_verifier_free(f.log_v);
	note_signer_free(f.log);
	note_signer_free(f.other);
	bw_sha256_free(h);
}

/* A witness key (type 0x04): its signer and verifier text. */
static struct note_signer *
new_cosigner(const char *name, char **vkey)
{
	char *sk = NULL;
	struct note_signer *s = NULL;
	struct bw_err err = { 0 };

	assert_int_equal(note_key_generate_alg(name, NOTE_ALG_COSIGNATURE_V1, &sk, vkey, &err), 0);
	assert_int_equal(note_signer_parse(sk, strlen(sk), &s, &err), 0);
	free(sk);
	return s;
}

/* The spec's example policy (2 of X1..X3, and any of Y1..Y3), parsed and checked against cosigned checkpoints. */
static void
test_policy(void **state)
{
	struct note_signer *log = new_signer("example.com/log"), *w[6];
	struct note_verifier *lv = NULL;
	struct witness_policy *p = NULL;
	struct bw_err err = { 0 };
	char *wv[6], *lvk = NULL, text[8192], *signed_note = NULL, why[300];
	static const char *const names[6] = { "X1", "X2", "X3", "Y1", "Y2", "Y3" };
	static const char cp[] = "example.com/log\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=\n";
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		char nm[64];
		snprintf(nm, sizeof nm, "w%zu.example", i);
		w[i] = new_cosigner(nm, &wv[i]);
	}
	assert_int_equal(note_signer_verifier(log, &lv, &err), 0);
	assert_int_equal(note_verifier_format(lv, &lvk, &err), 0);
	snprintf(text, sizeof text,
		 "# the spec's example\nlog %s https://log.example\n\nwitness X1 %s\nwitness X2 %s\nwitness X3 %s\n"
		 "group X-witnesses 2 X1 X2 X3\n\nwitness Y1 %s\n\twitness  Y2 %s # tabs and comments\nwitness Y3 %s\n"
		 "group Y-witnesses any Y1 Y2 Y3\n\ngroup X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
		 lvk, wv[0], wv[1], wv[2], wv[3], wv[4], wv[5]);
	assert_int_equal(witness_policy_parse(text, strlen(text), &p, &err), 0);
	assert_int_equal(note_sign(cp, strlen(cp), &log, 1, &signed_note, NULL, &err), 0);
	{
		/* cosigned by the witnesses named in set: quorum iff two X's and one Y */
		static const char *const sets[][4] = { { "X1", "X2", "Y3", NULL }, { "X1", "Y1", "Y2", NULL },
						       { "X1", "X2", "X3", NULL }, { "X2", "X3", "Y1", NULL } };
		static const bool want[] = { true, false, false, true };
		size_t s_;
		for (s_ = 0; s_ < 4; s_++) {
			struct note *n = NULL;
			char full[8192];
			size_t off = (size_t)snprintf(full, sizeof full, "%s", signed_note), k;
			for (k = 0; sets[s_][k] != NULL; k++) {
				char *line = NULL;
				for (i = 0; strcmp(names[i], sets[s_][k]) != 0; i++)
					;
				assert_int_equal(note_cosign(cp, strlen(cp), w[i], 1795845114, &line, &err), 0);
				off += (size_t)snprintf(full + off, sizeof full - off, "%s", line);
				free(line);
			}
			assert_int_equal(note_parse((const uint8_t *)full, off, &n, &err), 0);
			assert_int_equal(witness_policy_check(p, n, "example.com/log", why, sizeof why),
					 want[s_] ? 0 : BW_EVERIFY);
			assert_non_null(strstr(why, want[s_] ? "quorum met (3 of 6" : "quorum not met: 3 of 6"));
			assert_int_equal(witness_policy_check(p, n, "example.com/other", why, sizeof why), BW_EVERIFY);
			note_free(n);
		}
	}
	{
		/* the log's next key signs (after a transition): the quorum alone still counts the cosignatures */
		struct note_signer *next = new_signer("example.com/log");
		struct note *n = NULL;
		char *nsigned = NULL, full[8192];
		size_t off;
		assert_int_equal(note_sign(cp, strlen(cp), &next, 1, &nsigned, NULL, &err), 0);
		off = (size_t)snprintf(full, sizeof full, "%s", nsigned);
		for (i = 0; i < 6; i++) {
			char *line = NULL;
			assert_int_equal(note_cosign(cp, strlen(cp), w[i], 1795845114, &line, &err), 0);
			off += (size_t)snprintf(full + off, sizeof full - off, "%s", line);
			free(line);
		}
		assert_int_equal(note_parse((const uint8_t *)full, off, &n, &err), 0);
		assert_int_equal(witness_policy_check(p, n, "example.com/log", why, sizeof why), BW_EVERIFY);
		assert_non_null(strstr(why, "the log's signature"));
		assert_int_equal(witness_policy_check_quorum(p, n, "example.com/log", why, sizeof why), 0);
		assert_int_equal(witness_policy_check_quorum(p, n, "example.com/other", why, sizeof why), BW_EVERIFY);
		note_free(n);
		free(nsigned);
		note_signer_free(next);
	}
	witness_policy_free(p);

	/* refusals name the line */
	{
		static const struct {
			const char *fmt, *want;
		} bad[] = {
			{ "log %1$s\nquorum X\n", "line 2: \"X\" is not a witness or group defined above" },
			{ "log %1$s\nwitness X %2$s\nwitness X %3$s\nquorum X\n", "line 3: the name \"X\" is taken" },
			{ "log %1$s\nwitness X %2$s\nwitness Y %2$s\nquorum X\n", "line 3: this key is named twice" },
			{ "log %1$s\nwitness X %2$s\ngroup G 2 X\nquorum G\n", "line 3: the threshold must be all, any or 1 to 1" },
			{ "log %1$s\nwitness X %2$s\ngroup G 1 X X\nquorum G\n", "line 3: \"X\" is named twice" },
			{ "log %1$s\nwitness X %2$s\ngroup G any none\nquorum G\n", "line 3: none cannot be a member" },
			{ "log %1$s\nwitness X %2$s\nquorum X\nquorum none\n", "line 4: a second quorum" },
			{ "log %1$s\nwitness X %2$s\n", "no quorum line" },
			{ "witness X %2$s\nquorum X\n", "no log line" },
			{ "log %2$s\nquorum none\n", "line 1: a log's key is of type 0x01" },
			{ "log %1$s\nwitness X %1$s\nquorum X\n", "line 2: a witness's key is of type 0x04" },
			{ "log %1$s\nwitness none %2$s\nquorum none\n", "line 2: the name \"none\" is taken, reserved" },
			{ "log %1$s\nquorum none\r\n", "line 2: a control byte 0x0d" },
			{ "log %1$s\nlogs %1$s\nquorum none\n", "line 2: unknown keyword \"logs\"" },
			{ "log %1$s\ngroup G any\nquorum none\n", "line 2: want \"group NAME all|any|K MEMBER" },
		};
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			memset(&err, 0, sizeof err);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(text, sizeof text, bad[i].fmt, lvk, wv[0], wv[1]);
#pragma GCC diagnostic pop
			if (witness_policy_parse(text, strlen(text), &p, &err) == 0)
				fail_msg("accepted: %s", bad[i].fmt);
			if (strstr(err.msg, bad[i].want) == NULL)
				fail_msg("policy %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].want);
			assert_null(p);
		}
	}
	free(signed_note);
	free(lvk);
	note_verifier_free(lv);
	note_signer_free(log);
	for (i = 0; i < 6; i++) {
		note_signer_free(w[i]);
		free(wv[i]);
	}
}

/* What a witness's answer means to the log that asked: every status, real witnesses' deviations, hostile bodies. */
static void
test_answers(void **state)
{
	char *sk = NULL, *vk = NULL, *line = NULL, *other_line = NULL, *cp_note = NULL, text[256];
	struct note_signer *w = NULL, *log = new_signer("example.com/log"), *other = NULL;
	struct note_verifier *wv = NULL;
	struct witness_answer a;
	struct bw_buf cosigs = { 0 }, two = { 0 };
	struct bw_err err = { 0 };
	size_t n;

	(void)state;
	assert_int_equal(note_key_generate_alg("w.example", NOTE_ALG_COSIGNATURE_V1, &sk, &vk, &err), 0);
	assert_int_equal(note_signer_parse(sk, strlen(sk), &w, &err), 0);
	assert_int_equal(note_verifier_parse(vk, strlen(vk), &wv, &err), 0);
	free(sk);
	free(vk);
	assert_int_equal(note_key_generate_alg("w.example", NOTE_ALG_COSIGNATURE_V1, &sk, &vk, &err), 0);
	assert_int_equal(note_signer_parse(sk, strlen(sk), &other, &err), 0);	/* same name, another key */
	free(sk);
	free(vk);
	snprintf(text, sizeof text, "example.com/log\n7\n%s\n", root7);
	assert_int_equal(note_sign(text, strlen(text), &log, 1, &cp_note, NULL, &err), 0);
	n = strlen(cp_note);
	assert_int_equal(note_cosign(text, strlen(text), w, 1700000000, &line, &err), 0);
	assert_int_equal(note_cosign(text, strlen(text), other, 1700000000, &other_line, &err), 0);

	/* 200 with its cosignature: kept; another key's line beside it is dropped */
	assert_int_equal(bw_buf_append_str(&two, other_line), 0);
	assert_int_equal(bw_buf_append_str(&two, line), 0);
	witness_answer_read(200, (const char *)two.data, two.len, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_COSIGNED);
	assert_int_equal(a.cosigned, 1);
	assert_int_equal(cosigs.len, strlen(line));
	assert_memory_equal(cosigs.data, line, strlen(line));
	/* 200 with only another key's line, or garbage: not a cosignature */
	cosigs.len = 0;
	witness_answer_read(200, other_line, strlen(other_line), (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_FAILED);
	assert_int_equal(cosigs.len, 0);
	witness_answer_read(200, "\xff\x01\n", 3, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_FAILED);
	assert_non_null(strstr(a.why, "without a valid cosignature"));
	/* 409 with a size: learn it; past the log's: a rollback; without one (v1.0.0): a conflict */
	witness_answer_read(409, "3\n", 2, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_STALE);
	assert_int_equal(a.size, 3);
	witness_answer_read(409, "9\n", 2, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_ROLLBACK);
	assert_int_equal(a.size, 9);
	assert_non_null(strstr(a.why, "larger than this log's 7"));
	witness_answer_read(409, "", 0, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_CONFLICT);
	witness_answer_read(409, "07\n", 3, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_CONFLICT);	/* not a size: leading zero */
	/* 422: a conflict, its reason kept printable and bounded */
	witness_answer_read(422, "bad\x1b[31m proof\n", 15, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_CONFLICT);
	assert_null(strchr(a.why, '\x1b'));
	assert_non_null(strstr(a.why, "bad?[31m proof"));
	/* 403 (litewitness for an unknown log) and 404: refused; 429, 5xx and no answer: busy; 400: failed */
	witness_answer_read(403, "unknown log\n", 12, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_REFUSED);
	witness_answer_read(404, "", 0, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_REFUSED);
	witness_answer_read(429, "", 0, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_BUSY);
	witness_answer_read(503, "", 0, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_BUSY);
	witness_answer_read(0, "", 0, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_BUSY);
	witness_answer_read(400, "old 9 > 7\n", 10, (const uint8_t *)cp_note, n, 7, wv, &a, &cosigs);
	assert_int_equal(a.kind, WITNESS_FAILED);
	assert_string_equal(witness_answer_name(WITNESS_ROLLBACK), "rollback");
	assert_int_equal(cosigs.len, 0);

	bw_buf_free(&cosigs);
	bw_buf_free(&two);
	free(line);
	free(other_line);
	free(cp_note);
	note_signer_free(w);
	note_signer_free(other);
	note_signer_free(log);
	note_verifier_free(wv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_checks_and_status_codes),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_answers),
	};
	if (bw_crypto_init(NULL) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
