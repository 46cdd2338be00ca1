/*
 * Triage: names against true types, the walk's bounds (members, depth, one
 * member's size), names that are not UTF-8, the same result in a worker as
 * in-process, and a worker stopped at its wall-clock timeout. Archives are
 * written here with libarchive's writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "triage/triage.h"

struct member {
	const char *name;
	const uint8_t *data;
	size_t len;
};

/* A zip of the members (caller frees *out). */
static void
zip(const struct member *m, size_t n, uint8_t **out, size_t *len)
{
	size_t cap = 64 << 20, used = 0, i;
	struct archive *a = archive_write_new();

	assert_non_null(*out = malloc(cap));
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, *out, cap, &used), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = used;
}

static struct triage *
engine(const struct triage_limits *lim)
{
	struct triage_opts o = { 0 };
	struct triage *t = NULL;
	struct bw_err err = { 0 };

	triage_limits_default(&o.lim);
	if (lim != NULL)
		o.lim = *lim;
	assert_int_equal(triage_new(&o, &t, &err), 0);
	return t;
}

static json_t *
scan(struct triage *t, const char *name, const void *data, size_t len)
{
	json_t *res = NULL;
	struct bw_err err = { 0 };

	assert_int_equal(triage_scan(t, name, data, len, &res, &err), 0);
	assert_non_null(res);
	return res;
}

static bool
has(const json_t *res, const char *code, const char *where)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(res, "reasons"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "code")), code) == 0 &&
		    (where == NULL || strcmp(json_string_value(json_object_get(r, "where")), where) == 0))
			return true;
	return false;
}

static void
test_names(void **state)
{
	struct triage *t = engine(NULL);
	static const char text[] = "var s = 'hello';\n";
	json_t *r;

	(void)state;
	r = scan(t, "invoice.pdf.js", text, sizeof text - 1);
	assert_true(has(r, "double_extension", "invoice.pdf.js"));
	assert_true(has(r, "script", "invoice.pdf.js"));
	assert_string_equal(json_string_value(json_object_get(r, "verdict")), "threat");
	json_decref(r);
	r = scan(t, "photo\xe2\x80\xaegpj.js", text, sizeof text - 1);	/* U+202E: reads "photo" "sj.jpg" */
	assert_true(has(r, "bidi_name", NULL));
	json_decref(r);
	r = scan(t, "scan.pdf", text, sizeof text - 1);
	assert_true(has(r, "type_mismatch", "scan.pdf"));
	assert_string_equal(json_string_value(json_object_get(r, "verdict")), "clean");	/* 20: not alone */
	json_decref(r);
	r = scan(t, "notes.txt", text, sizeof text - 1);
	assert_int_equal(json_array_size(json_object_get(r, "reasons")), 0);
	assert_string_equal(json_string_value(json_object_get(r, "verdict")), "clean");
	json_decref(r);
	triage_free(t);
}

static void
test_bounds(void **state)
{
	struct triage_limits lim;
	struct triage *t;
	struct member m[10];
	char names[10][16];
	uint8_t *z = NULL, *outer = NULL, *big;
	size_t zl, ol, i;
	json_t *r;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(names[i], sizeof names[i], "m%zu.txt", i);
		m[i] = (struct member){ names[i], (const uint8_t *)"x\n", 2 };
	}
	zip(m, 10, &z, &zl);
	triage_limits_default(&lim);
	lim.members = 3;
	t = engine(&lim);
	r = scan(t, "many.zip", z, zl);
	assert_true(has(r, "too_many_members", "many.zip"));
	assert_int_equal(json_integer_value(json_object_get(r, "members")), 4);	/* the fourth stopped it */
	json_decref(r);
	triage_free(t);
	/* a zip inside a zip, with depth 1: the inner one is not opened */
	zip(&(struct member){ "inner.zip", z, zl }, 1, &outer, &ol);
	triage_limits_default(&lim);
	lim.depth = 1;
	t = engine(&lim);
	r = scan(t, "outer.zip", outer, ol);
	assert_true(has(r, "too_deep", "outer.zip/inner.zip"));
	json_decref(r);
	triage_free(t);
	free(outer);
	/* one member over the per-member bound */
	assert_non_null(big = calloc(1, 3 << 20));
	for (i = 0; i < (3u << 20); i++)
		big[i] = (uint8_t)(i * 2654435761u >> 24);	/* not very compressible: no ratio finding first */
	zip(&(struct member){ "big.bin", big, 3 << 20 }, 1, &outer, &ol);
	triage_limits_default(&lim);
	lim.member = 1 << 20;
	t = engine(&lim);
	r = scan(t, "big.zip", outer, ol);
	assert_true(has(r, "archive_bomb", "big.zip/big.bin"));
	json_decref(r);
	triage_free(t);
	free(big);
	free(outer);
	free(z);
}

static void
test_names_not_utf8(void **state)
{
	struct triage *t = engine(NULL);
	uint8_t *z = NULL;
	size_t zl;
	json_t *r;
	char *text;

	(void)state;
	zip(&(struct member){ "cv\xff\xfe.pdf.exe", (const uint8_t *)"MZ", 2 }, 1, &z, &zl);
	r = scan(t, "cv.zip", z, zl);
	assert_true(has(r, "double_extension", NULL));
	assert_non_null(text = json_dumps(r, 0));	/* every string valid UTF-8 */
	assert_non_null(strstr(text, "cv??.pdf.exe"));
	free(text);
	json_decref(r);
	free(z);
	triage_free(t);
}

static void
test_isolated(void **state)
{
	struct triage *t = engine(NULL);
	struct triage_sandbox sb = { 0 };
	struct bw_err err = { 0 };
	static const char text[] = "see https://offer.example/jd and http://192.0.2.1/x\n";
	json_t *in, *out = NULL;
	uint8_t *big, *z = NULL;
	size_t zl, i;

	(void)state;
	in = scan(t, "offer.pdf.js", text, sizeof text - 1);
	assert_int_equal(triage_scan_isolated(t, &sb, "offer.pdf.js", (const uint8_t *)text, sizeof text - 1, &out, &err), 0);
	assert_true(json_equal(in, out));	/* the worker gives what the walk gives */
	json_decref(in);
	json_decref(out);
	/* a worker that is still walking at its deadline is stopped; only this result fails */
	assert_non_null(big = malloc(40 << 20));
	for (i = 0; i < (40u << 20); i++)
		big[i] = (uint8_t)((i * 2654435761u) >> 28);
	zip(&(struct member){ "data.bin", big, 40 << 20 }, 1, &z, &zl);
	sb.timeout_ms = 1;
	assert_int_equal(triage_scan_isolated(t, &sb, "data.zip", z, zl, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "verdict")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(out, "failed")), "did not finish within 0.001 s"));
	json_decref(out);
	/* and the next one runs in a fresh worker */
	sb.timeout_ms = 0;
	assert_int_equal(triage_scan_isolated(t, &sb, "notes.txt", (const uint8_t *)"hello\n", 6, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "verdict")), "clean");
	json_decref(out);
	free(big);
	free(z);
	triage_free(t);
}

/* Writes text to dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/*
 * A YARA match's rule, for sharing as pattern_type yara: bulwark's rules
 * (one with a regular expression holding braces and a slash, comments
 * around), the organisation's only when marked share = true, with their
 * imports; never a rule that needs another to compile; each text compiles
 * on its own (checked by libyara inside, and here by its first line).
 */
static void
test_yara_rule_text(void **state)
{
	char dir[] = "/tmp/bwyaraXXXXXX", *text = NULL;
	struct bw_err err = { 0 };

	(void)state;
	assert_int_equal(triage_yara_rule_text(NULL, "bulwark:bulwark_powershell_encoded_command", &text, &err), 0);
	assert_true(strncmp(text, "rule bulwark_powershell_encoded_command\n{", 41) == 0);
	assert_non_null(strstr(text, "{20,}/ nocase"));
	assert_true(text[strlen(text) - 2] == '}');
	assert_null(strstr(text, "bulwark_script_shell_object"));	/* the next rule is not part of it */
	free(text);
	assert_int_equal(triage_yara_rule_text(NULL, "bulwark:bulwark_lnk_runs_shell", &text, &err), 0);
	assert_non_null(strstr(text, "uint32(0) == 0x0000004C"));
	free(text);
	assert_int_equal(triage_yara_rule_text(NULL, "bulwark:no_such_rule", &text, &err), BW_ENOTFOUND);
	assert_int_equal(triage_yara_rule_text(NULL, "org.yar:x", &text, &err), BW_ENOTFOUND);
	assert_int_equal(triage_yara_rule_text(NULL, "nonamespace", &text, &err), BW_EINVAL);
	assert_non_null(mkdtemp(dir));
	put(dir, "org.yar",
	    "import \"pe\"\n"
	    "// rule not_this { condition: false }\n"
	    "rule internal_only { strings: $h = \"intranet.corp.example\" condition: $h }\n"
	    "/* a comment with a brace { */\n"
	    "rule shared_one : lure {\n  meta:\n    share = true\n  strings:\n    $s = \"}{ \\\" }\"\n"
	    "    $r = /a{1,2}\\/b/\n    $x = { 4D 5A [2] 90 }\n  condition:\n    ($s or $r or $x) and pe.is_pe == 0\n}\n"
	    "rule needs_other { meta: share = true condition: shared_one }\n");
	assert_int_equal(triage_yara_rule_text(dir, "org.yar:shared_one", &text, &err), 0);
	assert_true(strncmp(text, "import \"pe\"\nrule shared_one : lure {", 36) == 0);
	assert_non_null(strstr(text, "pe.is_pe == 0\n}"));
	assert_null(strstr(text, "needs_other"));
	free(text);
	assert_int_equal(triage_yara_rule_text(dir, "org.yar:internal_only", &text, &err), BW_EDENIED);
	assert_int_equal(triage_yara_rule_text(dir, "org.yar:needs_other", &text, &err), BW_ENOTSUP);
	assert_int_equal(triage_yara_rule_text(dir, "../org.yar:shared_one", &text, &err), BW_ENOTFOUND);
	assert_int_equal(triage_yara_rule_text(dir, "other.yar:shared_one", &text, &err), BW_ENOTFOUND);
	put(dir, "broken.yar", "rule cut { condition: true ");
	assert_int_equal(triage_yara_rule_text(dir, "broken.yar:cut", &text, &err), BW_ENOTFOUND);
	{
		char path[512];
		snprintf(path, sizeof path, "%s/org.yar", dir);
		unlink(path);
		snprintf(path, sizeof path, "%s/broken.yar", dir);
		unlink(path);
		rmdir(dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_names_not_utf8),
		cmocka_unit_test(test_isolated),
		cmocka_unit_test(test_yara_rule_text),
	};
	if (bw_crypto_init(NULL) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
