/* core tests: RFC 4648 base64 vectors and strictness, hex, strict decimal, UTF-8, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/core.h"
#include "crypto/crypto.h"

/* A message wrapped in a new one: err->msg may be an argument of bw_err_set (formatted aside first). */
static void
test_err_wraps_its_own_message(void **state)
{
	struct bw_err err = { 0 };

	(void)state;
	bw_err_set(&err, BW_EVERIFY, "wrong passphrase");
	assert_int_equal(bw_err_set(&err, BW_EIO, "the sealed keys do not open: %s (%d)", err.msg, 7), BW_EIO);
	assert_string_equal(err.msg, "the sealed keys do not open: wrong passphrase (7)");
	assert_int_equal(err.code, BW_EIO);
	assert_int_equal(bw_err_prefix(&err, "%s", "restore"), BW_EIO);
	assert_string_equal(err.msg, "restore: the sealed keys do not open: wrong passphrase (7)");
}

static void
test_base64_rfc4648_vectors(void **state)
{
	/* RFC 4648 §10 */
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char enc[16];
	uint8_t dec[16];
	size_t i, n;

	(void)state;
	for (i = 0; i < 7; i++) {
		bw_base64_encode(enc, (const uint8_t *)in[i], strlen(in[i]));
		assert_string_equal(enc, out[i]);
		assert_int_equal(bw_base64_len(strlen(in[i])), strlen(out[i]));
		assert_int_equal(bw_base64_decode(out[i], strlen(out[i]), dec, sizeof dec, &n), 0);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(dec, in[i], n);
	}
}

static void
test_base64_strict(void **state)
{
	static const char *bad[] = {
		"Zg", "Zg=", "Zg=a", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v",
		"=Zm9", "Zm==Zm9v", "Zm9vYg==Zm9v",
	};
	uint8_t dec[16];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (bw_base64_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &n) != BW_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(bw_base64_decode("Zm9vYmFy", 8, dec, 5, &n), BW_ERANGE);
}

static void
test_hex(void **state)
{
	uint8_t b[3];
	char s[7];

	(void)state;
	assert_int_equal(bw_hex_decode("00aBff", 6, b, 3), 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 0xab);
	assert_int_equal(b[2], 0xff);
	bw_hex_encode(s, b, 3);
	assert_string_equal(s, "00abff");
	assert_int_equal(bw_hex_decode("00aBf", 5, b, 3), BW_EINVAL);
	assert_int_equal(bw_hex_decode("00aBfg", 6, b, 3), BW_EINVAL);
}

static void
test_parse_u64_strict(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(bw_parse_u64("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bw_parse_u64("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(bw_parse_u64("18446744073709551616", 20, &v), BW_ERANGE);
	assert_int_equal(bw_parse_u64("99999999999999999999", 20, &v), BW_ERANGE);
	assert_int_equal(bw_parse_u64("", 0, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("01", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("00", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("+1", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("-1", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64(" 1", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("1 ", 2, &v), BW_EINVAL);
	assert_int_equal(bw_parse_u64("1e3", 3, &v), BW_EINVAL);
}

static void
test_utf8(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xe2\x80\x94", 3, &cp), 3);
	assert_int_equal(cp, 0x2014);
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xc0\x80", 2, &cp), 0);	/* overlong */
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xed\xa0\x80", 3, &cp), 0);	/* surrogate */
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xf4\x90\x80\x80", 4, &cp), 0);	/* >10FFFF */
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\xe2\x80", 2, &cp), 0);	/* truncated */
	assert_int_equal(bw_utf8_decode((const uint8_t *)"\x80", 1, &cp), 0);
	assert_true(bw_unicode_is_space(0x3000));
	assert_true(bw_unicode_is_space(0x2009));
	assert_false(bw_unicode_is_space(0x2014));
}

static void
test_file_atomic_write(void **state)
{
	char dir[] = "/tmp/bw_core_XXXXXX", path[64];
	struct bw_err err = { 0 };
	struct stat st;
	uint8_t *data;
	size_t len;

	(void)state;
	assert_int_equal(bw_crypto_init(&err), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/f", dir);
	assert_int_equal(bw_file_write_atomic(path, "one", 3, 0600, &err), 0);
	assert_int_equal(bw_file_write_atomic(path, "second", 6, 0600, &err), 0);
	assert_int_equal(bw_file_read(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "second", 6);
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(bw_file_read(path, 5, &data, &len, &err), BW_ERANGE);
	assert_null(data);
	unlink(path);
	assert_int_equal(bw_file_read(path, 5, &data, &len, &err), BW_ENOTFOUND);
	rmdir(dir);
}

/* RFC 3339 UTC without the time-zone lock: equal to gmtime_r for every day of 1970..2400 and the edges. */
static void
test_time_format(void **state)
{
	char got[BW_TIME_TEXT_MAX], want[64];
	int64_t day;

	(void)state;
	for (day = 0; day < 157000; day += 1) {
		int64_t ms = day * 86400000 + (day * 7919 % 86400) * 1000 + day % 1000;
		time_t secs = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
		bw_time_format_ms(ms, got);
		if (strcmp(got, want) != 0)
			fail_msg("day %lld: %s, gmtime_r says %s", (long long)day, got, want);
		{	/* and back: parsing is the inverse */
			int64_t back = -1;
			if (!bw_time_parse_ms(got, strlen(got), &back) || back != ms)
				fail_msg("day %lld: %s parses to %lld", (long long)day, got, (long long)back);
		}
	}
	{
		int64_t ms;
		assert_true(bw_time_parse_ms("2026-11-27T10:00:00Z", 20, &ms));
		assert_int_equal(ms, 1795773600000);
		assert_true(bw_time_parse_ms("2026-11-27T10:00:00.5z", 22, &ms));
		assert_int_equal(ms, 1795773600500);
		assert_true(bw_time_parse_ms("2026-11-27T10:00:00.123456789Z", 30, &ms));
		assert_int_equal(ms, 1795773600123);
		assert_false(bw_time_parse_ms("2026-11-27T10:00:00+01:00", 25, &ms));	/* only UTC */
		assert_false(bw_time_parse_ms("2026-11-27 10:00:00Z", 20, &ms));
		assert_false(bw_time_parse_ms("2026-02-30T10:00:00Z", 20, &ms));
		assert_false(bw_time_parse_ms("2025-02-29T10:00:00Z", 20, &ms));
		assert_true(bw_time_parse_ms("2024-02-29T10:00:00Z", 20, &ms));
		assert_false(bw_time_parse_ms("2026-11-27T24:00:00Z", 20, &ms));
		assert_false(bw_time_parse_ms("2026-11-27T10:00:00.Z", 21, &ms));
		assert_false(bw_time_parse_ms("2026-11-27T10:00:00Z", 19, &ms));	/* cut short */
		assert_false(bw_time_parse_ms("2026-11-27", 10, &ms));
	}
	bw_time_format_ms(0, got);
	assert_string_equal(got, "1970-01-01T00:00:00.000Z");
	bw_time_format_ms(951782400000 + 123, got);	/* 2000-02-29 */
	assert_string_equal(got, "2000-02-29T00:00:00.123Z");
	bw_time_format_ms(253402300799999, got);
	assert_string_equal(got, "9999-12-31T23:59:59.999Z");
}

/* Client groups for per-client limits: IPv4 itself (also mapped), IPv6 by /64, anything else one group. */
static void
test_addr_group(void **state)
{
	char g[BW_ADDR_GROUP_MAX];

	(void)state;
	bw_addr_group("192.0.2.7", g, sizeof g);
	assert_string_equal(g, "192.0.2.7");
	bw_addr_group("::ffff:192.0.2.7", g, sizeof g);
	assert_string_equal(g, "192.0.2.7");
	bw_addr_group("2001:db8:1:2:aaaa:bbbb:cccc:dddd", g, sizeof g);
	assert_string_equal(g, "2001:db8:1:2::/64");
	bw_addr_group("2001:db8:1:2::1", g, sizeof g);
	assert_string_equal(g, "2001:db8:1:2::/64");
	bw_addr_group("2001:db8:1:3::1", g, sizeof g);
	assert_string_equal(g, "2001:db8:1:3::/64");
	bw_addr_group("unknown", g, sizeof g);
	assert_string_equal(g, "?");
}

/* Comma-separated lists: one semantics everywhere; empty items are kept (and refused by validation), never skipped. */
static void
test_lists(void **state)
{
	char buf[64];
	const char *items[4];
	struct bw_list_iter it;
	const char *item;
	size_t len, n = 0;

	(void)state;
	bw_list_begin(&it, "");
	assert_false(bw_list_next(&it, &item, &len));
	bw_list_begin(&it, NULL);
	assert_false(bw_list_next(&it, &item, &len));
	bw_list_begin(&it, "a,,bc,");
	while (bw_list_next(&it, &item, &len))
		n++;
	assert_int_equal(n, 4);	/* "a", "", "bc", "" */
	snprintf(buf, sizeof buf, "web1,db1,,x");
	assert_int_equal(bw_list_split(buf, items, 4), 4);
	assert_string_equal(items[0], "web1");
	assert_string_equal(items[1], "db1");
	assert_string_equal(items[2], "");
	assert_string_equal(items[3], "x");
	snprintf(buf, sizeof buf, "a,b,c,d,e");
	assert_int_equal(bw_list_split(buf, items, 4), 5);	/* more than cap: reported, not dropped */
	assert_true(bw_list_contains("root,deploy", "deploy"));
	assert_false(bw_list_contains("root,deploy", "deplo"));
	assert_false(bw_list_contains("root,deploy", "root,deploy"));
	assert_false(bw_list_contains("", ""));
}

/* Secret files: created whole, 0600 whatever the umask, never over an existing file or through a symlink; read into secure memory. */
static void
test_secret_files(void **state)
{
	char dir[] = "/tmp/bwtest-secret-XXXXXX", path[256], link[256], other[256];
	struct bw_err err = { 0 };
	struct stat sb;
	uint8_t *data = NULL;
	size_t len = 0;
	mode_t old;

	(void)state;
	assert_int_equal(bw_crypto_init(&err), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/key", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(other, sizeof other, "%s/other", dir);
	old = umask(0);	/* a permissive umask must not widen the mode */
	assert_int_equal(bw_file_create_secret(path, "secret\n", 7, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(bw_file_create_secret(path, "again", 5, &err), BW_EEXIST);
	assert_int_equal(bw_file_read_secret(path, 64, &data, &len, &err), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(data, "secret\n", 8);	/* NUL-terminated */
	bw_secure_free(data);
	assert_int_equal(bw_file_read_secret(path, 6, &data, &len, &err), BW_ERANGE);
	assert_null(data);
	/* A planted symlink is neither written through nor read through. */
	assert_int_equal(symlink(other, link), 0);
	assert_int_not_equal(bw_file_create_secret(link, "x", 1, &err), 0);
	assert_int_not_equal(access(other, F_OK), 0);
	assert_int_not_equal(bw_file_read_secret(link, 64, &data, &len, &err), 0);
	assert_int_equal(bw_file_read_secret(dir, 64, &data, &len, &err), BW_EIO);	/* not a regular file */
	unlink(link);
	unlink(path);
	rmdir(dir);
}

/* HMAC-SHA256 known answers: RFC 4231 test cases 2 (short key) and 6 (key longer than a block). */
static void
test_hmac_sha256_rfc4231(void **state)
{
	static const char *const want[2] = {
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	};
	uint8_t key6[131], mac[32];
	char hex[65];
	const void *parts[2];
	size_t lens[2];

	(void)state;
	parts[0] = "what do ya want ";
	lens[0] = 16;
	parts[1] = "for nothing?";	/* split: the parts are one message */
	lens[1] = 12;
	bw_hmac_sha256((const uint8_t *)"Jefe", 4, parts, lens, 2, mac);
	bw_hex_encode(hex, mac, 32);
	assert_string_equal(hex, want[0]);
	memset(key6, 0xaa, sizeof key6);
	parts[0] = "Test Using Larger Than Block-Size Key - Hash Key First";
	lens[0] = strlen(parts[0]);
	bw_hmac_sha256(key6, sizeof key6, parts, lens, 1, mac);
	bw_hex_encode(hex, mac, 32);
	assert_string_equal(hex, want[1]);
}

/* JSON string literals: escapes, and bytes that are not UTF-8 replaced, so jansson always reads them back. */
static void
test_json_string(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want_text, *want_value;
	} cases[] = {
		{ "plain", 5, "\"plain\"", "plain" },
		{ "q\"b\\s", 5, "\"q\\\"b\\\\s\"", "q\"b\\s" },
		{ "a\nb\tc\r\x1d", 7, "\"a\\nb\\tc\\r\\u001d\"", "a\nb\tc\r\x1d" },
		{ "\xc3\xa9\xe2\x82\xac", 5, "\"\xc3\xa9\xe2\x82\xac\"", "\xc3\xa9\xe2\x82\xac" },
		{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"", "a\xef\xbf\xbd" "b" },		/* a stray byte */
		{ "\xc3", 1, "\"\xef\xbf\xbd\"", "\xef\xbf\xbd" },			/* a cut sequence */
		{ "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* a surrogate */
		{ "x\0y", 3, "\"x\xef\xbf\xbdy\"", "x\xef\xbf\xbdy" },			/* NUL */
		{ "\x7f", 1, "\"\x7f\"", "\x7f" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bw_buf b = { 0 };
		json_t *j;
		assert_int_equal(bw_buf_append_json_string(&b, cases[i].in, cases[i].len), 0);
		assert_string_equal((char *)b.data, cases[i].want_text);
		j = json_loadb((char *)b.data, b.len, JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(j), cases[i].want_value);
		json_decref(j);
		bw_buf_free(&b);
	}
}

static void
test_gzip(void **state)
{
	struct bw_buf text = { 0 }, gz = { 0 }, back = { 0 };
	struct bw_err err = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < 2000; i++)
		assert_int_equal(bw_buf_printf(&text, "{\"source\":\"auditd\",\"n\":%zu}\n", i % 37), 0);
	assert_int_equal(bw_gzip(text.data, text.len, &gz, &err), 0);
	assert_true(gz.len > 18 && gz.len * 10 < text.len && gz.data[0] == 0x1f && gz.data[1] == 0x8b);
	assert_int_equal(bw_gunzip(gz.data, gz.len, text.len, &back, &err), 0);
	assert_int_equal(back.len, text.len);
	assert_memory_equal(back.data, text.data, text.len);
	/* one byte more than allowed: refused, nothing kept */
	assert_int_equal(bw_gunzip(gz.data, gz.len, text.len - 1, &back, &err), BW_ERANGE);
	assert_int_equal(back.len, 0);
	assert_non_null(strstr(err.msg, "larger than"));
	/* cut short, at every length */
	for (i = 0; i < gz.len; i += 7)
		assert_int_equal(bw_gunzip(gz.data, i, text.len, &back, &err), BW_EINVAL);
	/* a flipped bit in the data or the checksum */
	gz.data[gz.len / 2] ^= 0x10;
	assert_int_equal(bw_gunzip(gz.data, gz.len, text.len, &back, &err), BW_EINVAL);
	gz.data[gz.len / 2] ^= 0x10;
	gz.data[gz.len - 6] ^= 1;
	assert_int_equal(bw_gunzip(gz.data, gz.len, text.len, &back, &err), BW_EINVAL);
	gz.data[gz.len - 6] ^= 1;
	/* bytes after the end, and data that is no gzip */
	assert_int_equal(bw_buf_append(&gz, "x", 1), 0);
	assert_int_equal(bw_gunzip(gz.data, gz.len, text.len, &back, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "after the end"));
	assert_int_equal(bw_gunzip("{\"a\":1}", 7, 100, &back, &err), BW_EINVAL);
	assert_int_equal(bw_gunzip("", 0, 100, &back, &err), BW_EINVAL);
	bw_buf_free(&text);
	bw_buf_free(&gz);
	bw_buf_free(&back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_wraps_its_own_message),
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_hmac_sha256_rfc4231),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_parse_u64_strict),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_file_atomic_write),
		cmocka_unit_test(test_secret_files),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_addr_group),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
