/*
 * Sharing: the STIX 2.1 bundle of a lure: OASIS's TLP 2.0 marking object
 * verbatim (known answer), patterns with their literals escaped, and what
 * must not leave: the organisation's addresses, domains and URLs, and
 * recipient tokens in URLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "share/share.h"

static const char amber_oasis[] =
	"{\"type\": \"marking-definition\", \"spec_version\": \"2.1\", "
	"\"id\": \"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\", \"created\": \"2022-10-01T00:00:00.000Z\", "
	"\"name\": \"TLP:AMBER\", \"extensions\": {\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\": "
	"{\"extension_type\": \"property-extension\", \"tlp_2_0\": \"amber\"}}}";

static json_t *
patterns(const json_t *bundle)
{
	json_t *out = json_array(), *o;
	size_t i;

	json_array_foreach(json_object_get(bundle, "objects"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "type")), "indicator") == 0)
			json_array_append(out, json_object_get(o, "pattern"));
	return out;
}

static bool
has_pattern(const json_t *ps, const char *p)
{
	json_t *x;
	size_t i;

	json_array_foreach(ps, i, x)
		if (strcmp(json_string_value(x), p) == 0)
			return true;
	return false;
}

static void
test_bundle(void **state)
{
	static const char *const org[] = { "bulwark.example" };
	json_t *ind = json_loads(
		"[{\"type\":\"sha256\",\"value\":\"a525a8db3e67657e9699d03010dd5e30699cba591d89c2caff750c19ac67496b\"},"
		"{\"type\":\"email\",\"value\":\"anna@careers-aero.example\"},"
		"{\"type\":\"email\",\"value\":\"erin@bulwark.example\"},"
		"{\"type\":\"domain\",\"value\":\"mail.bulwark.example\"},"
		"{\"type\":\"domain\",\"value\":\"careers-aero.example\"},"
		"{\"type\":\"url\",\"value\":\"https://intranet.bulwark.example/x\"},"
		"{\"type\":\"url\",\"value\":\"https://careers-aero.example/jd?id=7&u=erin%40bulwark.example&t=Zk3jQ9vXw2LmN8pR4sT\"},"
		"{\"type\":\"url\",\"value\":\"https://evil.example/it's\\\\here\"},"
		"{\"type\":\"yara\",\"value\":\"bulwark:bulwark_lnk_runs_shell\"}]", 0, NULL);
	struct share_lure l = { .report_id = 12, .created = 1795858000, .verdict = "threat", .category = "phishing",
				.indicators = ind, .org_domains = org, .norg = 1, .producer = "bulwark.test/server" };
	struct bw_err err = { 0 };
	json_t *b = NULL, *ps, *want = json_loads(amber_oasis, 0, NULL), *o;
	char *text;
	size_t i;

	(void)state;
	assert_non_null(ind);
	assert_int_equal(share_stix_bundle(&l, "amber", 1795859000, &b, &err), 0);
	assert_string_equal(json_string_value(json_object_get(b, "type")), "bundle");
	assert_true(json_equal(json_array_get(json_object_get(b, "objects"), 0), want));	/* OASIS's, verbatim */
	ps = patterns(b);
	assert_true(has_pattern(ps, "[file:hashes.'SHA-256' = 'a525a8db3e67657e9699d03010dd5e30699cba591d89c2caff750c19ac67496b']"));
	assert_true(has_pattern(ps, "[email-addr:value = 'anna@careers-aero.example']"));
	assert_true(has_pattern(ps, "[domain-name:value = 'careers-aero.example']"));
	assert_true(has_pattern(ps, "[url:value = 'https://careers-aero.example/jd?id=7']"));	/* tokens stripped */
	assert_true(has_pattern(ps, "[url:value = 'https://evil.example/it\\'s\\\\here']"));	/* escaped */
	assert_int_equal(json_array_size(ps), 5);
	text = json_dumps(b, 0);
	assert_null(strstr(text, "bulwark.example\""));	/* nothing of the organisation's, but its producer name */
	assert_null(strstr(text, "erin"));
	json_array_foreach(json_object_get(b, "objects"), i, o) {
		assert_string_equal(json_string_value(json_object_get(o, "spec_version")), "2.1");
		if (strcmp(json_string_value(json_object_get(o, "type")), "indicator") == 0) {
			assert_string_equal(json_string_value(json_object_get(o, "valid_from")), "2026-11-28T09:26:40.000Z");
			assert_string_equal(json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0)),
					    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
		}
	}
	free(text);
	json_decref(ps);
	json_decref(b);
	assert_int_equal(share_stix_bundle(&l, "purple", 1795859000, &b, &err), BW_EINVAL);
	/* a YARA match with its rule's text: an indicator of pattern_type yara (a match alone is none) */
	json_array_append_new(ind, json_pack("{s:s, s:s, s:s}", "type", "yara", "value", "bulwark:x", "rule",
					     "rule x { strings: $a = \"it's\" condition: $a }\n"));
	assert_int_equal(share_stix_bundle(&l, "green", 1795859000, &b, &err), 0);
	{
		size_t nyara = 0;
		json_array_foreach(json_object_get(b, "objects"), i, o)
			if (json_is_string(json_object_get(o, "pattern_type")) &&
			    strcmp(json_string_value(json_object_get(o, "pattern_type")), "yara") == 0) {
				nyara++;
				assert_string_equal(json_string_value(json_object_get(o, "pattern")),
						    "rule x { strings: $a = \"it's\" condition: $a }\n");
				assert_string_equal(json_string_value(json_object_get(o, "name")), "YARA rule bulwark:x");
				assert_null(json_object_get(o, "pattern_version"));
			}
		assert_int_equal(nyara, 1);
	}
	json_decref(b);
	assert_int_equal(share_misp_event(&l, "green", 1795859000, &b, &err), 0);
	o = json_object_get(json_object_get(b, "Event"), "Attribute");
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, json_array_size(o) - 1), "type")), "yara");
	assert_string_equal(json_string_value(json_object_get(json_array_get(o, json_array_size(o) - 1), "category")),
			    "Payload installation");
	json_decref(b);
	json_decref(want);
	json_decref(ind);
}

static void
test_misp(void **state)
{
	static const char *const org[] = { "bulwark.example" };
	json_t *ind = json_loads("[{\"type\":\"sha256\",\"value\":\"a525a8db3e67657e9699d03010dd5e30699cba591d89c2caff750c19ac67496b\"},"
				 "{\"type\":\"email\",\"value\":\"erin@bulwark.example\"},"
				 "{\"type\":\"url\",\"value\":\"http://203.0.113.9/a.exe?u=erin@bulwark.example\"},"
				 "{\"type\":\"yara\",\"value\":\"bulwark:x\"}]", 0, NULL);
	struct share_lure l = { .report_id = 3, .created = 1795858000, .verdict = "suspicious", .category = "",
				.indicators = ind, .org_domains = org, .norg = 1, .producer = "bulwark.test/server" };
	static const char *const tlps[][2] = { { "red", "0" }, { "amber", "1" }, { "amber+strict", "1" }, { "green", "2" },
					       { "clear", "3" } };
	struct bw_err err = { 0 };
	json_t *m = NULL, *e, *a;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		char tag[32];
		assert_int_equal(share_misp_event(&l, tlps[i][0], 1795859000, &m, &err), 0);
		e = json_object_get(m, "Event");
		snprintf(tag, sizeof tag, "tlp:%s", tlps[i][0]);
		assert_string_equal(json_string_value(json_object_get(e, "distribution")), tlps[i][1]);
		assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(e, "Tag"), 0), "name")), tag);
		assert_string_equal(json_string_value(json_object_get(e, "threat_level_id")), "2");	/* suspicious: medium */
		assert_string_equal(json_string_value(json_object_get(e, "date")), "2026-11-28");
		assert_string_equal(json_string_value(json_object_get(e, "timestamp")), "1795859000");
		assert_true(json_is_false(json_object_get(e, "published")));
		a = json_object_get(e, "Attribute");
		assert_int_equal(json_array_size(a), 2);	/* the hash and the URL; not the org's address, not YARA */
		assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "value")), "http://203.0.113.9/a.exe");
		assert_true(json_is_true(json_object_get(json_array_get(a, 1), "to_ids")));
		json_decref(m);
	}
	json_decref(ind);
}

/*
 * Reading partners' patterns. Known answers: the STIX 2.1 specification's
 * own example patterns (section 9 and the indicator examples), the ones
 * triage can match read to their values, the others refused as unsupported,
 * never reduced to a part of what they mean.
 */
static void
test_pattern_read(void **state)
{
	struct share_observable o[4];
	struct bw_err err = { 0 };
	size_t n;
	static const char *const unsupported[] = {
		"[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' AND "
		"file:size = 25536]",
		"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
		"[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*]."
		"body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
		"[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32']",
		"[domain-name:value = 'www.5z8.info'] FOLLOWEDBY [domain-name:value = 'www.example.com']",
		"[file:name = 'foo.dll'] WITHIN 300 SECONDS",
		"([domain-name:value = 'example.com'])",
		"[url:value != 'http://example.com/']",
		"[url:value = 'ftp://example.com/a']",
	};
	static const char *const malformed[] = {
		"", "file:name = 'x'", "[url:value = 'http://example.com/]", "[url:value = 'http://e.com/\\x']",
		"[url:value = 'http://e.com/' OR]", "[domain-name:value = 'bad domain']",
		"[file:hashes.'SHA-256' = 'abc']", "[email-addr:value = 'nobody']", "[url:value = 'http://e.com/']]",
		"[nocolon = 'x']",
	};
	size_t i;

	(void)state;
	assert_int_equal(share_stix_pattern_read(
				 "[file:hashes.'SHA-256' = 'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']",
				 o, 4, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(o[0].type, "sha256");
	assert_string_equal(o[0].value, "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c");
	assert_int_equal(share_stix_pattern_read("[url:value = 'http://x4z9arb.cn/4712/']", o, 4, &n, &err), 0);
	assert_string_equal(o[0].type, "url");
	assert_string_equal(o[0].value, "http://x4z9arb.cn/4712/");
	assert_int_equal(share_stix_pattern_read("[domain-name:value = 'www.5z8.info' OR domain-name:value = "
						 "'www.Example.com']", o, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(o[1].value, "www.example.com");
	assert_int_equal(share_stix_pattern_read("[email-addr:value = 'o\\'brien@example.net'] OR [url:value = "
						 "'https://e.com/a\\\\b']", o, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(o[0].value, "o'brien@example.net");
	assert_string_equal(o[1].value, "https://e.com/a\\b");
	/* what bulwark exports reads back */
	assert_int_equal(share_stix_pattern_read("[email-addr:value = 'hr@dreamjob.example']", o, 4, &n, &err), 0);
	assert_int_equal(share_stix_pattern_read("[url:value = 'http://e.com/'] OR [url:value = 'http://f.com/']", o, 1, &n,
						 &err), BW_ERANGE);
	for (i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
		err.msg[0] = '\0';
		assert_int_equal(share_stix_pattern_read(unsupported[i], o, 4, &n, &err), BW_ENOTSUP);
		assert_true(strncmp(err.msg, "pattern: ", 9) == 0);
	}
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		int r = share_stix_pattern_read(malformed[i], o, 4, &n, &err);
		if (r != BW_EINVAL)
			fail_msg("%s: %d (%s)", malformed[i], r, err.msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_misp),
		cmocka_unit_test(test_pattern_read),
	};
	if (bw_crypto_init(NULL) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
