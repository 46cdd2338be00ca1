/* checkpoint tests: c2sp.org/tlog-checkpoint parsing, formatting and signing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "note/note.h"
#include "tlog/tlog.h"

/* The example body from c2sp.org/tlog-checkpoint. */
static const char example[] =
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

static void
test_parse_example(void **state)
{
	struct tlog_checkpoint cp;
	struct bw_err err = { 0 };
	char *back;

	(void)state;
	assert_int_equal(tlog_checkpoint_parse(example, strlen(example), &cp, &err), 0);
	assert_string_equal(cp.origin, "example.com/behind-the-sofa");
	assert_true(cp.size == 20852163);
	assert_int_equal(cp.root.b[0], 0x0a);
	assert_string_equal(cp.extensions, "");
	assert_int_equal(tlog_checkpoint_format(&cp, &back, NULL, &err), 0);
	assert_string_equal(back, example);
	free(back);
	tlog_checkpoint_clear(&cp);
}

static void
test_extensions_kept(void **state)
{
	const char text[] = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\nx two\n";
	struct tlog_checkpoint cp;
	struct bw_err err = { 0 };
	char *back;

	(void)state;
	assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, &err), 0);
	assert_true(cp.size == 0);
	assert_string_equal(cp.extensions, "ext one\nx two\n");
	assert_int_equal(tlog_checkpoint_format(&cp, &back, NULL, &err), 0);
	assert_string_equal(back, text);
	free(back);
	tlog_checkpoint_clear(&cp);
}

static void
test_malformed(void **state)
{
	static const struct { const char *t, *want; } cases[] = {
		{ "", "empty" },
		{ "o\n", "line 2: missing tree size" },
		{ "o\n1\n", "line 3: missing root" },
		{ "\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 1: empty origin" },
		{ "o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2" },
		{ "o\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2" },
		{ "o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2" },
		{ "o\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2" },
		{ "o\n9223372036854775808\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "line 2" },
		{ "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "line 3" },
		{ "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n", "line 3" },
		{ "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "newline" },
		{ "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", "line 4: empty extension" },
		{ "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\na\n\nb\n", "line 5: empty extension" },
		{ "o\x01\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "control" },
	};
	struct tlog_checkpoint cp;
	struct bw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		if (tlog_checkpoint_parse(cases[i].t, strlen(cases[i].t), &cp, &err) == 0) {
			tlog_checkpoint_clear(&cp);
			fail_msg("case %zu accepted", i);
		}
		assert_null(cp.origin);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
	}
}

static void
test_format_refuses_bad_origin(void **state)
{
	struct tlog_checkpoint cp = { 0 };
	struct bw_err err = { 0 };
	char *out;

	(void)state;
	cp.origin = (char *)"two\nlines";
	cp.size = 1;
	assert_int_not_equal(tlog_checkpoint_format(&cp, &out, NULL, &err), 0);
	cp.origin = (char *)"";
	assert_int_not_equal(tlog_checkpoint_format(&cp, &out, NULL, &err), 0);
}

/* A checkpoint signed as a note verifies and parses back. */
static void
test_signed_checkpoint(void **state)
{
	struct tlog_checkpoint cp = { 0 }, back;
	struct note_signer *s;
	struct note_verifier *v;
	struct note *n;
	struct bw_err err = { 0 };
	char *sk, *vk, *body, *signed_cp;
	size_t blen, slen;

	(void)state;
	assert_int_equal(note_key_generate("bulwark.test/audit", &sk, &vk, &err), 0);
	assert_int_equal(note_signer_parse(sk, strlen(sk), &s, &err), 0);
	assert_int_equal(note_verifier_parse(vk, strlen(vk), &v, &err), 0);
	cp.origin = (char *)"bulwark.test/audit";
	cp.size = 42;
	memset(cp.root.b, 7, sizeof cp.root.b);
	assert_int_equal(tlog_checkpoint_format(&cp, &body, &blen, &err), 0);
	assert_int_equal(note_sign(body, blen, &s, 1, &signed_cp, &slen, &err), 0);
	assert_int_equal(note_open((uint8_t *)signed_cp, slen, &v, 1, &n, &err), 0);
	assert_int_equal(tlog_checkpoint_parse(n->text, n->text_len, &back, &err), 0);
	assert_true(back.size == 42);
	assert_memory_equal(back.root.b, cp.root.b, 32);
	tlog_checkpoint_clear(&back);
	note_free(n);
	free(signed_cp);
	free(body);
	free(sk);
	free(vk);
	note_signer_free(s);
	note_verifier_free(v);
}

static int
init(void **state)
{
	(void)state;
	return bw_crypto_init(NULL);
}

static void
test_proof_lines(void **state)
{
	struct tlog_proof p = { 0 }, q;
	struct bw_buf b = { 0 };
	struct bw_err err = { 0 };
	size_t i;
	const char *bad[] = { "AAAA\n", "not base64 at all!!\n",
			      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", /* no final newline */
			      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n" };

	(void)state;
	p.n = 3;
	for (i = 0; i < p.n; i++)
		memset(p.h[i].b, (int)(0x11 * (i + 1)), TLOG_HASH_SIZE);
	assert_int_equal(tlog_proof_lines_format(&p, &b), 0);
	assert_int_equal(b.len, 3 * 45);
	assert_int_equal(tlog_proof_lines_parse(b.data, b.len, &q, &err), 0);
	assert_int_equal(q.n, 3);
	assert_memory_equal(q.h, p.h, 3 * sizeof p.h[0]);
	assert_int_equal(tlog_proof_lines_parse((const uint8_t *)"", 0, &q, &err), 0);
	assert_int_equal(q.n, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bw_err_clear(&err);
		assert_int_equal(tlog_proof_lines_parse((const uint8_t *)bad[i], strlen(bad[i]), &q, &err), BW_EINVAL);
		assert_non_null(strstr(err.msg, "proof line"));
	}
	bw_buf_free(&b);
	for (i = 0; i <= TLOG_MAX_PROOF; i++)	/* one hash too many */
		assert_int_equal(bw_buf_append_str(&b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"), 0);
	assert_int_equal(tlog_proof_lines_parse(b.data, b.len, &q, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "more than"));
	bw_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_example),
		cmocka_unit_test(test_extensions_kept),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_format_refuses_bad_origin),
		cmocka_unit_test(test_signed_checkpoint),
		cmocka_unit_test(test_proof_lines),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
