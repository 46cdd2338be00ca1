/*
 * signed-note tests: the C2SP spec example (integrity-anchors §2.1), key
 * text round trips, the verifier rules (unknown keys ignored, a failing
 * known key rejects, >= 16 signatures accepted) and strict parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "note/note.h"

/* From c2sp.org/signed-note (v1.0.0), "Example". */
static const char spec_vkey[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char spec_note[] =
    "This is an example message.\n"
    "\n"
    "\xe2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

static struct note_verifier *
vkey(const char *text)
{
	struct note_verifier *v = NULL;
	struct bw_err err = { 0 };
	if (note_verifier_parse(text, strlen(text), &v, &err) != 0)
		fail_msg("%s: %s", text, err.msg);
	return v;
}

static int
open_with(const char *msg, struct note_verifier **known, size_t n, struct bw_err *err)
{
	struct note *nt = NULL;
	int r = note_open((const uint8_t *)msg, strlen(msg), known, n, &nt, err);
	note_free(nt);
	return r;
}

static void
test_spec_example_verifies(void **state)
{
	struct note_verifier *v = vkey(spec_vkey);
	struct note *n = NULL;
	struct bw_err err = { 0 };
	char *back = NULL;

	(void)state;
	assert_int_equal(v->id, 0x530d903a);
	assert_string_equal(v->name, "example.com/foo");
	assert_int_equal(note_open((const uint8_t *)spec_note, strlen(spec_note), &v, 1, &n, &err), 0);
	assert_string_equal(n->text, "This is an example message.\n");
	assert_int_equal(n->nsigs, 1);
	/* Formatting the parsed note gives back the exact bytes. */
	assert_int_equal(note_format(n, &back, NULL, &err), 0);
	assert_string_equal(back, spec_note);
	free(back);
	assert_int_equal(note_verifier_format(v, &back, &err), 0);
	assert_string_equal(back, spec_vkey);
	free(back);
	note_free(n);
	note_verifier_free(v);
}

static void
test_spec_example_tampered(void **state)
{
	struct note_verifier *v = vkey(spec_vkey);
	struct bw_err err = { 0 };
	char *m = strdup(spec_note);

	(void)state;
	m[5] ^= 1;	/* change the text */
	assert_int_equal(open_with(m, &v, 1, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "invalid signature for key example.com/foo+530d903a"));
	free(m);
	note_verifier_free(v);
}

static void
test_key_generate_sign_verify(void **state)
{
	char *skey = NULL, *vk = NULL, *signed_note = NULL;
	struct note_signer *s = NULL;
	struct note_verifier *v = NULL, *v2 = NULL;
	struct bw_err err = { 0 };
	const char text[] = "hello\nworld\n";

	(void)state;
	assert_int_equal(note_key_generate("bulwark.test/log", &skey, &vk, &err), 0);
	assert_memory_equal(skey, "PRIVATE+KEY+bulwark.test/log+", 29);
	assert_int_equal(note_signer_parse(skey, strlen(skey), &s, &err), 0);
	v = vkey(vk);
	assert_int_equal(note_signer_verifier(s, &v2, &err), 0);
	assert_int_equal(v->id, v2->id);
	assert_memory_equal(v->pk, v2->pk, 32);
	assert_int_equal(note_sign(text, strlen(text), &s, 1, &signed_note, NULL, &err), 0);
	assert_int_equal(open_with(signed_note, &v, 1, &err), 0);
	/* A key with the same name but another secret does not verify it. */
	{
		char *sk2 = NULL, *vk2 = NULL;
		struct note_verifier *other;
		assert_int_equal(note_key_generate("bulwark.test/log", &sk2, &vk2, &err), 0);
		other = vkey(vk2);
		assert_int_equal(open_with(signed_note, &other, 1, &err), BW_EVERIFY);
		assert_non_null(strstr(err.msg, "no signature by a trusted key"));
		note_verifier_free(other);
		free(sk2);
		free(vk2);
	}
	free(signed_note);
	signed_note = NULL;
	/* Text rules for signing. */
	assert_int_equal(note_sign("no newline", 10, &s, 1, &signed_note, NULL, &err) == BW_EINVAL, 1);
	assert_int_equal(note_sign("a\tb\n", 4, &s, 1, &signed_note, NULL, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "control character"));
	assert_int_equal(note_sign("\xff\n", 2, &s, 1, &signed_note, NULL, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_null(signed_note);
	note_signer_free(s);
	note_verifier_free(v);
	note_verifier_free(v2);
	bw_memzero(skey, strlen(skey));
	free(skey);
	free(vk);
}

/* Builds a note signed by n fresh keys; returns verifiers for them. */
static char *
multi_signed(size_t n, struct note_verifier **vs, const char *text)
{
	struct note_signer *ss[40];
	struct bw_err err = { 0 };
	char *out = NULL;
	size_t i;

	assert_true(n <= 40);
	for (i = 0; i < n; i++) {
		char name[48], *sk, *vk;
		snprintf(name, sizeof name, "witness%zu.example", i);
		assert_int_equal(note_key_generate(name, &sk, &vk, &err), 0);
		assert_int_equal(note_signer_parse(sk, strlen(sk), &ss[i], &err), 0);
		vs[i] = vkey(vk);
		free(sk);
		free(vk);
	}
	assert_int_equal(note_sign(text, strlen(text), ss, n, &out, NULL, &err), 0);
	for (i = 0; i < n; i++)
		note_signer_free(ss[i]);
	return out;
}

static void
test_verifier_rules(void **state)
{
	struct note_verifier *vs[40];
	struct bw_err err = { 0 };
	struct note *n = NULL;
	bool ok[40];
	size_t nv, i;
	char *m = multi_signed(20, vs, "origin\n");

	(void)state;
	/* At least 16 signatures accepted; each known key reported. */
	assert_int_equal(note_parse((const uint8_t *)m, strlen(m), &n, &err), 0);
	assert_int_equal(n->nsigs, 20);
	assert_int_equal(note_verify(n, vs, 20, ok, &nv, &err), 0);
	assert_int_equal(nv, 20);
	for (i = 0; i < 20; i++)
		assert_true(ok[i]);
	/* Unknown signatures ignored: trusting only key 7 still verifies. */
	assert_int_equal(note_verify(n, &vs[7], 1, NULL, &nv, &err), 0);
	assert_int_equal(nv, 1);
	/* A known key whose signature fails rejects the whole note. */
	n->sigs[7].sig[0] ^= 1;
	assert_int_equal(note_verify(n, vs, 20, NULL, NULL, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "witness7.example"));
	assert_int_equal(note_verify(n, &vs[3], 1, NULL, NULL, &err), 0);	/* 7 unknown here */
	/* No known key at all. */
	assert_int_equal(note_verify(n, NULL, 0, NULL, NULL, &err), BW_EVERIFY);
	note_free(n);
	free(m);
	for (i = 0; i < 20; i++)
		note_verifier_free(vs[i]);
}

static void
test_too_many_signatures(void **state)
{
	struct bw_buf b = { 0 };
	struct note *n = NULL;
	struct bw_err err = { 0 };
	size_t i;

	(void)state;
	bw_buf_append_str(&b, "text\n\n");
	for (i = 0; i < NOTE_MAX_SIGS + 1; i++)
		bw_buf_printf(&b, "\xe2\x80\x94 k%zu AAAAAAAA\n", i);
	assert_int_equal(note_parse(b.data, b.len, &n, &err), BW_ERANGE);
	assert_non_null(strstr(err.msg, "more than 100 signatures"));
	bw_buf_free(&b);
}

struct bad_case {
	const char *msg;
	const char *want;	/* substring of the error */
};

static void
test_malformed_notes(void **state)
{
	static const struct bad_case cases[] = {
		{ "", "no blank line" },
		{ "text\n", "no blank line" },
		{ "text\n\n", "no signature lines" },
		{ "text\n\n\xe2\x80\x94 k AAAAAAAA", "does not end with a newline" },
		{ "text\n\n- k AAAAAAAA\n", "line 3: signature line must start" },
		{ "text\n\n\xe2\x80\x94 kAAAAAAAA\n", "line 3: signature line has no space" },
		{ "text\n\n\xe2\x80\x94  AAAAAAAA\n", "line 3: invalid key name" },
		{ "text\n\n\xe2\x80\x94 a+b AAAAAAAA\n", "line 3: invalid key name" },
		{ "text\n\n\xe2\x80\x94 k \n", "line 3: empty signature" },
		{ "text\n\n\xe2\x80\x94 k AAAAAAA\n", "line 3: signature is not valid padded base64" },
		{ "text\n\n\xe2\x80\x94 k AAAAAAB=\n", "line 3: signature is not valid padded base64" },
		{ "text\n\n\xe2\x80\x94 k AAAAAA==\n", "line 3: signature shorter" },
		{ "text\n\n\xe2\x80\x94 k AAAA AAAA\n", "line 3: signature is not valid padded base64" },
		{ "a\rb\n\n\xe2\x80\x94 k AAAAAAAA\n", "line 1: control character 0x0d" },
		{ "a\n\x7f\n\n\xe2\x80\x94 k AAAAAAAA\n", "line 2: control character 0x7f" },
		{ "a\n\xc0\xaf\n\n\xe2\x80\x94 k AAAAAAAA\n", "line 2: invalid UTF-8" },
		{ "a\n\xed\xa0\x80\n\n\xe2\x80\x94 k AAAAAAAA\n", "line 2: invalid UTF-8" },
		{ "a\n\n\xe2\x80\x94 k AAAAAAAA\n\n", "no signature lines" },
		{ "a\n\n\xe2\x80\x94 k AAAAAAAA\n\xe2\x80\x94 k\xe2\x80\x80x AAAAAAAA\n",
		  "line 4: invalid key name" },
	};
	struct note *n = NULL;
	struct bw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		int r = note_parse((const uint8_t *)cases[i].msg, strlen(cases[i].msg), &n, &err);
		if (r == 0 || n != NULL) {
			note_free(n);
			fail_msg("case %zu accepted", i);
		}
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: error '%s' lacks '%s'", i, err.msg, cases[i].want);
	}
}

static void
test_malformed_keys(void **state)
{
	static const struct bad_case vkeys[] = {
		{ "", "missing '+'" },
		{ "name", "missing '+'" },
		{ "name+530d903a", "missing '+' after the key ID" },
		{ "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "invalid key name" },
		{ "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex digits" },
		{ "example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex digits" },
		{ "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match" },
		{ "example.org/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match" },
		{ "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64" },
		{ "example.com/foo+530d903a+AgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f", "key type 0x02" },
		{ "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2kAA==",
		  "must be 32 bytes" },
		{ "example.com/foo+530d903a+", "base64" },
	};
	struct note_verifier *v = NULL;
	struct note_signer *s = NULL;
	struct bw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof vkeys / sizeof vkeys[0]; i++) {
		memset(&err, 0, sizeof err);
		if (note_verifier_parse(vkeys[i].msg, strlen(vkeys[i].msg), &v, &err) == 0 || v != NULL)
			fail_msg("vkey case %zu accepted", i);
		if (strstr(err.msg, vkeys[i].want) == NULL)
			fail_msg("vkey case %zu: error '%s' lacks '%s'", i, err.msg, vkeys[i].want);
	}
	assert_int_equal(note_signer_parse(spec_vkey, strlen(spec_vkey), &s, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "PRIVATE+KEY+"));
	/* A signer key whose ID does not match its secret. */
	{
		char *sk, *vk;
		assert_int_equal(note_key_generate("k", &sk, &vk, &err), 0);
		sk[14] = sk[14] == '0' ? '1' : '0';	/* first hex digit of the ID */
		assert_int_equal(note_signer_parse(sk, strlen(sk), &s, &err), BW_EINVAL);
		assert_non_null(strstr(err.msg, "does not match"));
		free(sk);
		free(vk);
	}
	assert_int_equal(note_key_generate("bad name", &(char *){ 0 }, &(char *){ 0 }, &err), BW_EINVAL);
	assert_int_equal(note_key_generate("a+b", &(char *){ 0 }, &(char *){ 0 }, &err), BW_EINVAL);
}

static int
init(void **state)
{
	(void)state;
	return bw_crypto_init(NULL);
}

/* A signer from a hex seed: "PRIVATE+KEY+name+id+base64(alg || seed)", the key ID computed. */
static struct note_signer *
signer_from_seed(const char *name, uint8_t alg, const char *seed_hex)
{
	uint8_t raw[33];
	char b64[64], text[256];
	struct note_signer *s = NULL, *probe = NULL;
	struct bw_err err = { 0 };
	uint32_t id;

	raw[0] = alg;
	assert_int_equal(bw_hex_decode(seed_hex, 64, raw + 1, 32), 0);
	bw_base64_encode(b64, raw, sizeof raw);
	/* the ID needs the public key: parse once with a wrong ID, which the error names */
	snprintf(text, sizeof text, "PRIVATE+KEY+%s+00000000+%s", name, b64);
	assert_int_equal(note_signer_parse(text, strlen(text), &probe, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "expected "));
	assert_int_equal(sscanf(strstr(err.msg, "expected ") + 9, "%8x", &id), 1);
	snprintf(text, sizeof text, "PRIVATE+KEY+%s+%08x+%s", name, id, b64);
	assert_int_equal(note_signer_parse(text, strlen(text), &s, &err), 0);
	return s;
}

/* The deterministic cosignature/v1 vector of the witness research, reproduced byte for byte. */
static void
test_cosignature_vector(void **state)
{
	static const char text[] = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char log_line[] = "— example.com/behind-the-sofa 1tr685soD9vTxp5R3Oqmsj99X2qTkdulBoJ9r8dIft091qIL5"
				       "JOGz9ymrJeh5aoNvn7KxHib+wkVIEgHOJaE/u9uOQI=\n";
	static const char wit_line[] = "— witness.example/w1 EqG5YwAAAABkGFDLFKfa/090tgQAvTo/v1Wr4M/1QbJ7swlwqiy61KfNnkZJ"
				       "rXDTLLxkZLjvMD7vMnh3AhP2jh1jnGe4frwMPkC/Ag==\n";
	struct note_signer *w = signer_from_seed("witness.example/w1", NOTE_ALG_COSIGNATURE_V1,
						 "28a0931a3cced18ad0d8dcb3fd238451736f7f506a1e72ffae18d8daaa0dffd7");
	struct note_signer *l = signer_from_seed("example.com/behind-the-sofa", NOTE_ALG_ED25519,
						 "14a357c6386049c1705abf48290773931f0b4b41e07a0f675180030e15681a61");
	struct note_verifier *wv = NULL, *lv = NULL, *both[2];
	struct note *n = NULL;
	struct bw_err err = { 0 };
	char *vk = NULL, *line = NULL, *signed_note = NULL, full[1024], tampered[1024];
	bool ok[2];
	uint64_t ts = 0;

	(void)state;
	assert_int_equal(note_signer_verifier(w, &wv, &err), 0);
	assert_int_equal(note_verifier_format(wv, &vk, &err), 0);
	assert_string_equal(vk, "witness.example/w1+12a1b963+BLU+isP0s2cXmXdZt5cAm2QmMzdLKdIjBWnggnQpvLfw");
	free(vk);
	assert_int_equal(note_signer_verifier(l, &lv, &err), 0);
	assert_int_equal(note_verifier_format(lv, &vk, &err), 0);
	assert_string_equal(vk, "example.com/behind-the-sofa+d6dafaf3+AZU2viD/T/fLVm7FunZaztjdixFRCvPoq1CwqzK0lvCc");
	free(vk);
	/* the log's signature and the witness's cosignature, as in the vector */
	assert_int_equal(note_sign(text, strlen(text), &l, 1, &signed_note, NULL, &err), 0);
	assert_non_null(strstr(signed_note, log_line));
	assert_int_equal(note_cosign(text, strlen(text), w, 1679315147, &line, &err), 0);
	assert_string_equal(line, wit_line);
	/* a witness key signs no notes, a log key makes no cosignatures */
	assert_int_equal(note_sign(text, strlen(text), &w, 1, &vk, NULL, &err), BW_EINVAL);
	assert_int_equal(note_cosign(text, strlen(text), l, 1, &vk, &err), BW_EINVAL);
	assert_int_equal(note_cosign(text, strlen(text), w, (uint64_t)INT64_MAX + 1, &vk, &err), BW_EINVAL);
	/* both verify on the cosigned note; the timestamp reads back */
	snprintf(full, sizeof full, "%s%s", signed_note, line);
	both[0] = lv;
	both[1] = wv;
	assert_int_equal(note_parse((const uint8_t *)full, strlen(full), &n, &err), 0);
	assert_int_equal(note_verify(n, both, 2, ok, NULL, &err), 0);
	assert_true(ok[0] && ok[1]);
	assert_true(note_cosig_timestamp(&n->sigs[1], &ts));
	assert_int_equal(ts, 1679315147);
	note_free(n);
	/* another size: both signatures fail */
	snprintf(tampered, sizeof tampered, "%s", full);
	memcpy(strstr(tampered, "20852163"), "20852164", 8);
	assert_int_equal(note_parse((const uint8_t *)tampered, strlen(tampered), &n, &err), 0);
	assert_int_equal(note_verify(n, &wv, 1, NULL, NULL, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "witness.example/w1+12a1b963"));
	note_free(n);
	/* another timestamp in the cosignature (bytes 4..11 of its base64 payload): fails */
	snprintf(tampered, sizeof tampered, "%s", full);
	{
		char *b = strstr(tampered, "EqG5YwAAAABkGFDL");
		memcpy(b, "EqG5YwAAAABkGFDM", 16);
	}
	assert_int_equal(note_parse((const uint8_t *)tampered, strlen(tampered), &n, &err), 0);
	assert_int_equal(note_verify(n, &wv, 1, NULL, NULL, &err), BW_EVERIFY);
	note_free(n);
	free(line);
	free(signed_note);
	note_verifier_free(wv);
	note_verifier_free(lv);
	note_signer_free(w);
	note_signer_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example_verifies),
		cmocka_unit_test(test_spec_example_tampered),
		cmocka_unit_test(test_key_generate_sign_verify),
		cmocka_unit_test(test_verifier_rules),
		cmocka_unit_test(test_too_many_signatures),
		cmocka_unit_test(test_malformed_notes),
		cmocka_unit_test(test_malformed_keys),
		cmocka_unit_test(test_cosignature_vector),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
