/*
 * auth tests: RFC 6238 TOTP known answers (SHA-1, the RFC's secret, six-digit
 * truncations of its Appendix B values), the +-1 step window, base32 (RFC
 * 4648 vectors), otpauth URIs, role lists, user-name and password policy,
 * token format, and Argon2id hashing with the enforced floor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "auth/auth.h"

static const uint8_t rfc_secret[] = "12345678901234567890";

static void
test_totp_rfc6238_vectors(void **state)
{
	/* RFC 6238 Appendix B, SHA-1: 94287082, 07081804, 14050471, 89005924, 69279037, 65353130 */
	static const struct { int64_t t; const char *code; } v[] = {
		{ 59, "287082" }, { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	char code[7];
	int64_t step;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(auth_totp_code(rfc_secret, 20, v[i].t / 30, code, NULL), 0);
		assert_string_equal(code, v[i].code);
		assert_int_equal(auth_totp_match(rfc_secret, 20, v[i].code, v[i].t, &step), 0);
		assert_true(step == v[i].t / 30);
	}
}

static void
test_totp_window(void **state)
{
	char prev[7], next[7], far[7];
	int64_t now = 1700000000, step;

	(void)state;
	assert_int_equal(auth_totp_code(rfc_secret, 20, now / 30 - 1, prev, NULL), 0);
	assert_int_equal(auth_totp_code(rfc_secret, 20, now / 30 + 1, next, NULL), 0);
	assert_int_equal(auth_totp_code(rfc_secret, 20, now / 30 + 2, far, NULL), 0);
	assert_int_equal(auth_totp_match(rfc_secret, 20, prev, now, &step), 0);
	assert_true(step == now / 30 - 1);
	assert_int_equal(auth_totp_match(rfc_secret, 20, next, now, &step), 0);
	assert_true(step == now / 30 + 1);
	if (strcmp(far, prev) && strcmp(far, next))
		assert_int_equal(auth_totp_match(rfc_secret, 20, far, now, &step), BW_EVERIFY);
	assert_int_equal(auth_totp_match(rfc_secret, 20, "12345", now, &step), BW_EVERIFY);
	assert_int_equal(auth_totp_match(rfc_secret, 20, "1234567", now, &step), BW_EVERIFY);
	assert_int_equal(auth_totp_match(rfc_secret, 20, "12a456", now, &step), BW_EVERIFY);
}

static void
test_base32_and_uri(void **state)
{
	/* RFC 4648 §10 (without padding) */
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *out[] = { "", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI" };
	char b[32], *uri;
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		bw_base32_encode(b, (const uint8_t *)in[i], strlen(in[i]));
		assert_string_equal(b, out[i]);
	}
	assert_int_equal(auth_totp_uri("bulwark", "al ice", rfc_secret, 20, &uri, NULL), 0);
	assert_string_equal(uri, "otpauth://totp/bulwark:al%20ice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
				 "&issuer=bulwark&algorithm=SHA1&digits=6&period=30");
	free(uri);
}

static void
test_roles(void **state)
{
	unsigned m;
	char out[128];
	struct bw_err err = { 0 };

	(void)state;
	assert_int_equal(auth_roles_parse("auditor,admin", &m, &err), 0);
	assert_int_equal(m, ROLE_ADMIN | ROLE_AUDITOR);
	auth_roles_format(m, out, sizeof out);
	assert_string_equal(out, "admin,auditor");
	assert_int_equal(auth_roles_parse("admin,admin", &m, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(auth_roles_parse("admin,", &m, &err), BW_EINVAL);
	assert_int_equal(auth_roles_parse("", &m, &err), BW_EINVAL);
	assert_int_equal(auth_roles_parse("root", &m, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "unknown role 'root'"));
	assert_int_equal(auth_roles_parse("Admin", &m, &err), BW_EINVAL);
}

static void
test_names_passwords_tokens(void **state)
{
	char tok[AUTH_TOKEN_TEXT_MAX], hb[BW_PWHASH_STR_MAX];
	uint8_t h1[32], h2[32];
	struct bw_err err = { 0 };
	struct bw_pwhash_cost weak = { 1, 8u << 20 };

	(void)state;
	assert_true(auth_username_valid("alice"));
	assert_true(auth_username_valid("a.b-c_9"));
	assert_false(auth_username_valid(""));
	assert_false(auth_username_valid("-alice"));
	assert_false(auth_username_valid("Alice"));
	assert_false(auth_username_valid("al ice"));
	assert_false(auth_username_valid("al/ice"));
	assert_int_equal(auth_password_check("elevenchars", &err), BW_EINVAL);
	assert_int_equal(auth_password_check("twelve chars", &err), 0);
	assert_int_equal(auth_password_check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &err), BW_EINVAL);
	assert_int_equal(auth_password_check("bad\tcontrol char", &err), BW_EINVAL);
	auth_token_new("bws", tok, h1);
	assert_int_equal(strlen(tok), 4 + 43);
	assert_memory_equal(tok, "bws_", 4);
	auth_token_hash(tok, h2);
	assert_memory_equal(h1, h2, 32);
	/* Argon2id: the floor is enforced; a hash verifies only its password. */
	assert_int_equal(bw_password_hash("twelve chars", 12, &weak, hb, &err), BW_EINVAL);
	assert_int_equal(bw_password_hash("twelve chars", 12, &bw_pwhash_minimum, hb, &err), 0);
	assert_memory_equal(hb, "$argon2id$v=19$m=19456,t=2,p=1$", 31);
	assert_int_equal(bw_password_verify(hb, "twelve chars", 12), 0);
	assert_int_equal(bw_password_verify(hb, "twelve chart", 12), BW_EVERIFY);
	assert_true(bw_password_needs_rehash(hb, &bw_pwhash_default));
	assert_false(bw_password_needs_rehash(hb, &bw_pwhash_minimum));
}

static int
init(void **state)
{
	(void)state;
	return bw_crypto_init(NULL) == 0 && oath_init() == OATH_OK ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_totp_window),
		cmocka_unit_test(test_base32_and_uri),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_names_passwords_tokens),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
