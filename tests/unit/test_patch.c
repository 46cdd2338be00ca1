/*
 * patch tests: OLPC canonical JSON, TUF key objects and key IDs (known answer
 * computed independently from the canonical form), metadata signatures and
 * role thresholds (too few, duplicates, unlisted keys, aliased key IDs,
 * tampered metadata).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include <cmocka.h>

#include "patch/patch.h"

static char *
canon(const char *json_text)
{
	json_error_t jerr;
	json_t *v = json_loads(json_text, JSON_DECODE_ANY, &jerr);
	char *out = NULL;
	size_t len;
	struct bw_err err = { 0 };

	assert_non_null(v);
	if (patch_cjson(v, &out, &len, &err) != 0)
		out = NULL;
	json_decref(v);
	return out;
}

static void
test_canonical_json(void **state)
{
	char *c;

	(void)state;
	c = canon("{ \"b\": 1, \"a\": [true, false, null, \"x\\\"y\\\\z\"], \"c\": {\"z\": -5, \"y\": {}} }");
	assert_string_equal(c, "{\"a\":[true,false,null,\"x\\\"y\\\\z\"],\"b\":1,\"c\":{\"y\":{},\"z\":-5}}");
	free(c);
	c = canon("{\"\\u00e9\": \"\\n\\u2014\", \"A\": 0}");	/* raw bytes, only \" and \\ escaped */
	assert_string_equal(c, "{\"A\":0,\"\xc3\xa9\":\"\n\xe2\x80\x94\"}");
	free(c);
	assert_null(canon("{\"x\": 1.5}"));	/* canonical JSON has no reals */
	c = canon("[]");
	assert_string_equal(c, "[]");
	free(c);
}

static void
test_key_id_known_answer(void **state)
{
	uint8_t pk[32], back[32];
	char id[65];
	json_t *k;
	struct bw_err err = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		pk[i] = (uint8_t)(i + 1);
	k = patch_key_object(pk);
	/* sha256 of {"keytype":"ed25519","keyval":{"public":"0102...20"},"scheme":"ed25519"} */
	assert_int_equal(patch_key_id(k, id, &err), 0);
	assert_string_equal(id, "8dbd9a4245ccbacb6d40efc9a842516c0fd8286138f49e6281c8637cfb9ef333");
	assert_int_equal(patch_key_parse(k, back, &err), 0);
	assert_memory_equal(back, pk, 32);
	json_object_set_new(k, "scheme", json_string("rsassa-pss-sha256"));
	assert_int_equal(patch_key_parse(k, back, &err), BW_EINVAL);
	json_object_set_new(k, "scheme", json_string("ed25519"));
	json_object_set_new(k, "extra", json_true());
	assert_int_equal(patch_key_parse(k, back, &err), BW_EINVAL);
	json_decref(k);
}

struct keys {
	struct bw_ed25519 k[4];
	char id[4][65];
};

static json_t *
make_root(struct keys *ks, int threshold)
{
	json_t *keys = json_object(), *ids = json_array();
	int i;

	for (i = 0; i < 4; i++) {
		json_t *ko;
		assert_int_equal(bw_ed25519_generate(&ks->k[i], NULL), 0);
		ko = patch_key_object(ks->k[i].pk);
		assert_int_equal(patch_key_id(ko, ks->id[i], NULL), 0);
		if (i < 3) {	/* key 3 exists but is not a root key */
			json_object_set_new(keys, ks->id[i], ko);
			json_array_append_new(ids, json_string(ks->id[i]));
		} else {
			json_decref(ko);
		}
	}
	return json_pack("{s:{s:s, s:s, s:I, s:b, s:s, s:o, s:{s:{s:o, s:i}}}, s:[]}", "signed", "_type", "root",
			 "spec_version", "1.0.31", "version", (json_int_t)1, "consistent_snapshot", 1, "expires",
			 "2030-01-01T00:00:00Z", "keys", keys, "roles", "root", "keyids", ids, "threshold", threshold,
			 "signatures");
}

static void
test_threshold(void **state)
{
	struct keys ks = { 0 };
	json_t *root = make_root(&ks, 2), *sigs;
	struct bw_err err = { 0 };
	size_t valid;
	int i;

	(void)state;
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	assert_int_equal(patch_sign(root, &ks.k[0], &err), 0);
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "2 of 3 keys must sign, 1 valid"));
	/* The same key twice (re-signing replaces; a copied entry counts once). */
	assert_int_equal(patch_sign(root, &ks.k[0], &err), 0);
	sigs = json_object_get(root, "signatures");
	assert_int_equal(json_array_size(sigs), 1);
	json_array_append(sigs, json_array_get(sigs, 0));
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	assert_int_equal(valid, 1);
	/* A key the root does not list does not count. */
	assert_int_equal(patch_sign(root, &ks.k[3], &err), 0);
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	/* A second listed key meets the threshold. */
	assert_int_equal(patch_sign(root, &ks.k[1], &err), 0);
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), 0);
	assert_int_equal(valid, 2);
	/* Tampering with "signed" voids the signatures. */
	json_object_set_new(json_object_get(root, "signed"), "version", json_integer(2));
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	assert_int_equal(valid, 0);
	json_object_set_new(json_object_get(root, "signed"), "version", json_integer(1));
	/* One key listed under a second key ID (threshold 3): the alias is not its hash and never counts. */
	{
		json_t *s = json_object_get(root, "signed"), *keys = json_object_get(s, "keys");
		json_t *rdef = json_object_get(json_object_get(s, "roles"), "root");
		json_object_set(keys, "alias-of-key-0", json_object_get(keys, ks.id[0]));
		json_array_append_new(json_object_get(rdef, "keyids"), json_string("alias-of-key-0"));
		json_object_set_new(rdef, "threshold", json_integer(3));
		json_array_clear(json_object_get(root, "signatures"));
		assert_int_equal(patch_sign(root, &ks.k[0], &err), 0);
		assert_int_equal(patch_sign(root, &ks.k[1], &err), 0);
		json_array_append_new(json_object_get(root, "signatures"),
				      json_pack("{s:s, s:O}", "keyid", "alias-of-key-0", "sig",
						json_object_get(json_array_get(json_object_get(root, "signatures"), 0), "sig")));
	}
	assert_int_equal(patch_verify_role(root, json_object_get(root, "signed"), "root", &valid, &err), BW_EVERIFY);
	assert_int_equal(valid, 2);
	for (i = 0; i < 4; i++)
		bw_ed25519_free(&ks.k[i]);
	json_decref(root);
}

/* Root rotation: v2 must be signed by v1's threshold and its own. */
static void
test_root_rotation(void **state)
{
	struct keys a = { 0 }, b = { 0 };
	json_t *v1 = make_root(&a, 2), *v2 = make_root(&b, 2);
	struct bw_err err = { 0 };
	int i;

	(void)state;
	json_object_set_new(json_object_get(v2, "signed"), "version", json_integer(2));
	assert_int_equal(patch_sign(v1, &a.k[0], &err), 0);
	assert_int_equal(patch_sign(v1, &a.k[1], &err), 0);
	/* v2 signed only by its new keys: the old root did not approve it. */
	assert_int_equal(patch_sign(v2, &b.k[0], &err), 0);
	assert_int_equal(patch_sign(v2, &b.k[1], &err), 0);
	assert_int_equal(patch_verify_root_rotation(v1, v2, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "signed by the old root's keys"));
	/* plus one old key: still below the old threshold */
	assert_int_equal(patch_sign(v2, &a.k[2], &err), 0);
	assert_int_equal(patch_verify_root_rotation(v1, v2, &err), BW_EVERIFY);
	/* two old keys: accepted */
	assert_int_equal(patch_sign(v2, &a.k[0], &err), 0);
	assert_int_equal(patch_verify_root_rotation(v1, v2, &err), 0);
	/* version skip or rollback refused before any signature check */
	json_object_set_new(json_object_get(v2, "signed"), "version", json_integer(3));
	assert_int_equal(patch_verify_root_rotation(v1, v2, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "does not follow 1"));
	json_object_set_new(json_object_get(v2, "signed"), "version", json_integer(1));
	assert_int_equal(patch_verify_root_rotation(v1, v2, &err), BW_EVERIFY);
	for (i = 0; i < 4; i++) {
		bw_ed25519_free(&a.k[i]);
		bw_ed25519_free(&b.k[i]);
	}
	json_decref(v1);
	json_decref(v2);
}

/* SHA-256 of a string into h; returns h. */
static const uint8_t *
sha_of(const char *s, uint8_t h[32])
{
	assert_int_equal(bw_sha256_oneshot(s, strlen(s), h), 0);
	return h;
}

static void
test_targets_add(void **state)
{
	struct patch_target_info t = { "app/hotfix-1.tar", "1.0", NULL, "default" };
	uint8_t h[32];
	json_t *md = NULL, *tg;
	struct bw_err err = { 0 };
	struct bw_ed25519 k = { 0 };
	const char *bad[] = { "", "/abs", "a/../b", "a//b", "sp ace", "semi;colon" };
	size_t i;

	(void)state;
	assert_int_equal(patch_targets_add(&md, &t, sha_of("abc", h), 3, 1700000000, 30, &err), 0);
	tg = json_object_get(json_object_get(json_object_get(md, "signed"), "targets"), "app/hotfix-1.tar");
	assert_int_equal(json_integer_value(json_object_get(tg, "length")), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(tg, "hashes"), "sha256")),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");	/* SHA-256("abc") */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(md, "signed"), "version")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(md, "signed"), "expires")),
			    "2023-12-14T22:13:20Z");
	/* Signing, then changing: the old signature is dropped and the version bumped. */
	assert_int_equal(bw_ed25519_generate(&k, &err), 0);
	assert_int_equal(patch_sign(md, &k, &err), 0);
	assert_int_equal(json_array_size(json_object_get(md, "signatures")), 1);
	t.version = "1.1";
	assert_int_equal(patch_targets_add(&md, &t, sha_of("abcd", h), 4, 1700000000, 30, &err), 0);
	assert_int_equal(json_array_size(json_object_get(md, "signatures")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(md, "signed"), "version")), 2);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t.name = bad[i];
		assert_int_equal(patch_targets_add(&md, &t, sha_of("x", h), 1, 1700000000, 30, &err), BW_EINVAL);
	}
	t.name = "ok";
	t.version = "has \"quote";
	assert_int_equal(patch_targets_add(&md, &t, sha_of("x", h), 1, 1700000000, 30, &err), BW_EINVAL);
	t.version = "1";
	t.hosts = "web1";
	assert_int_equal(patch_targets_add(&md, &t, sha_of("x", h), 1, 1700000000, 30, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "not both"));
	bw_ed25519_free(&k);
	json_decref(md);
}

static void
test_snapshot_timestamp(void **state)
{
	struct patch_target_info t = { "f", "1", NULL, NULL };
	uint8_t h[32];
	json_t *targets = NULL, *snap = NULL, *ts = NULL, *meta;
	struct bw_err err = { 0 };
	char *bytes;

	(void)state;
	assert_int_equal(patch_targets_add(&targets, &t, sha_of("x", h), 1, 1700000000, 30, &err), 0);
	assert_int_equal(patch_snapshot_make(targets, 7, 1700000000, 30 * 86400, &snap, &err), 0);
	meta = json_object_get(json_object_get(json_object_get(snap, "signed"), "meta"), "targets.json");
	assert_int_equal(json_integer_value(json_object_get(meta, "version")), 1);
	bytes = json_dumps(snap, JSON_COMPACT);
	assert_int_equal(patch_timestamp_make((uint8_t *)bytes, strlen(bytes), 9, 1700000000, 86400, &ts, &err), 0);
	meta = json_object_get(json_object_get(json_object_get(ts, "signed"), "meta"), "snapshot.json");
	assert_int_equal(json_integer_value(json_object_get(meta, "version")), 7);
	assert_int_equal(json_integer_value(json_object_get(meta, "length")), (json_int_t)strlen(bytes));
	assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(meta, "hashes"), "sha256"))), 64);
	/* wrong inputs */
	json_decref(ts);
	assert_int_equal(patch_snapshot_make(snap, 8, 1700000000, 30 * 86400, &ts, &err), BW_EINVAL);	/* not targets */
	assert_int_equal(patch_timestamp_make((const uint8_t *)"{}", 2, 1, 1700000000, 86400, &ts, &err), BW_EINVAL);
	assert_int_equal(patch_timestamp_make((uint8_t *)bytes, strlen(bytes), 1, 1700000000, 40 * 86400, &ts, &err), BW_EINVAL);
	free(bytes);
	json_decref(targets);
	json_decref(snap);
}

static int
init(void **state)
{
	(void)state;
	return bw_crypto_init(NULL);
}


static void
test_time_parse(void **state)
{
	int64_t t;
	const char *bad[] = { "2026-02-30T00:00:00Z", "2026-11-23T04:33:24.000Z", "2026-11-23 04:33:24Z",
			      "2026-11-23T04:33:24", "2026-13-01T00:00:00Z", "+026-11-23T04:33:24Z", "" };
	size_t i;

	(void)state;
	assert_int_equal(patch_time_parse("2026-11-23T04:33:24Z", &t, NULL), 0);
	assert_int_equal(t, 1795408404);	/* calendar.timegm((2026, 11, 23, 4, 33, 24)) */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(patch_time_parse(bad[i], &t, NULL), BW_EINVAL);
}

/* A repository in memory: keys for the four roles, root v1, and helpers to make the online files. */
struct repo {
	struct bw_ed25519 root, targets, snap, ts;
	json_t *root_md, *targets_md;
};

static json_t *
role_def(const struct bw_ed25519 *k, json_t *keys)
{
	json_t *o = patch_key_object(k->pk);
	char id[65];

	assert_int_equal(patch_key_id(o, id, NULL), 0);
	json_object_set_new(keys, id, o);
	return json_pack("{s:[s], s:i}", "keyids", id, "threshold", 1);
}

static void
repo_init(struct repo *r, int64_t now)
{
	struct patch_target_info t = { "a/b.bin", "1.0", "web1,web2", NULL };
	json_t *keys = json_object(), *roles = json_object();
	uint8_t h[32];

	assert_int_equal(bw_ed25519_generate(&r->root, NULL), 0);
	assert_int_equal(bw_ed25519_generate(&r->targets, NULL), 0);
	assert_int_equal(bw_ed25519_generate(&r->snap, NULL), 0);
	assert_int_equal(bw_ed25519_generate(&r->ts, NULL), 0);
	json_object_set_new(roles, "root", role_def(&r->root, keys));
	json_object_set_new(roles, "targets", role_def(&r->targets, keys));
	json_object_set_new(roles, "snapshot", role_def(&r->snap, keys));
	json_object_set_new(roles, "timestamp", role_def(&r->ts, keys));
	r->root_md = json_pack("{s:{s:s, s:s, s:i, s:s, s:b, s:o, s:o}, s:[]}", "signed", "_type", "root", "spec_version",
			       "1.0.31", "version", 1, "expires", "2100-01-01T00:00:00Z", "consistent_snapshot", 1, "keys", keys,
			       "roles", roles, "signatures");
	assert_int_equal(patch_sign(r->root_md, &r->root, NULL), 0);
	r->targets_md = NULL;
	assert_int_equal(patch_targets_add(&r->targets_md, &t, sha_of("payload", h), 7, now, 30, NULL), 0);
	assert_int_equal(patch_sign(r->targets_md, &r->targets, NULL), 0);
}

static void
repo_clear(struct repo *r)
{
	bw_ed25519_free(&r->root);
	bw_ed25519_free(&r->targets);
	bw_ed25519_free(&r->snap);
	bw_ed25519_free(&r->ts);
	json_decref(r->root_md);
	json_decref(r->targets_md);
}

/* Signed snapshot (version sv) and timestamp (version tv, lifetime life) as bytes. */
static void
repo_online(struct repo *r, int64_t sv, int64_t tv, int64_t now, int64_t life, char **snap, char **ts)
{
	json_t *s = NULL, *t = NULL;

	assert_int_equal(patch_snapshot_make(r->targets_md, sv, now, 7 * 86400, &s, NULL), 0);
	assert_int_equal(patch_sign(s, &r->snap, NULL), 0);
	*snap = json_dumps(s, JSON_COMPACT);
	assert_int_equal(patch_timestamp_make((uint8_t *)*snap, strlen(*snap), tv, now, life, &t, NULL), 0);
	assert_int_equal(patch_sign(t, &r->ts, NULL), 0);
	*ts = json_dumps(t, JSON_COMPACT);
	json_decref(s);
	json_decref(t);
}

static void
test_client_workflow(void **state)
{
	const int64_t now = 1795408404;
	struct repo r = { 0 };
	struct patch_trust tr = { 0 };
	struct patch_target t;
	struct bw_err err = { 0 };
	char *snap1, *ts1, *snap2, *ts2, *tg, path[128];

	(void)state;
	repo_init(&r, now);
	tr.root = json_incref(r.root_md);
	repo_online(&r, 1, 1, now, 86400, &snap1, &ts1);
	repo_online(&r, 2, 2, now, 86400, &snap2, &ts2);
	tg = json_dumps(r.targets_md, JSON_COMPACT);
	/* the happy path */
	assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)ts2, strlen(ts2), now, &err), 0);
	assert_int_equal(patch_client_snapshot(&tr, (uint8_t *)snap2, strlen(snap2), now, &err), 0);
	assert_int_equal(patch_client_targets(&tr, (uint8_t *)tg, strlen(tg), now, &err), 0);
	assert_int_equal(patch_target_get(tr.targets, "a/b.bin", &t, &err), 0);
	assert_int_equal(t.length, 7);
	assert_true(patch_target_for_host(&t, "web2", NULL));
	assert_false(patch_target_for_host(&t, "web", NULL));
	assert_false(patch_target_for_host(&t, "web12", NULL));
	assert_int_equal(patch_target_url_path(&t, path, sizeof path), 0);
	assert_int_equal(strncmp(path, "a/", 2), 0);
	assert_string_equal(path + 2 + 64, ".b.bin");
	assert_int_equal(patch_target_get(tr.targets, "nope", &t, &err), BW_ENOTFOUND);
	/* rollback: an older timestamp */
	assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)ts1, strlen(ts1), now, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "rollback"));
	/* the same timestamp again: nothing new, the trusted one stays */
	assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)ts2, strlen(ts2), now, &err), 0);
	/* freeze: a day later the trusted timestamp has expired */
	assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)ts2, strlen(ts2), now + 86400, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "expired"));
	/* mix-and-match: snapshot 1 under the timestamp that names snapshot 2 */
	assert_int_equal(patch_client_snapshot(&tr, (uint8_t *)snap1, strlen(snap1), now, &err), BW_EVERIFY);
	assert_non_null(strstr(err.msg, "mix-and-match"));
	/* a timestamp signed by the snapshot key does not count */
	{
		json_t *t2 = json_loads(ts2, 0, NULL);
		char *bytes;
		json_object_set_new(json_object_get(t2, "signed"), "version", json_integer(3));
		json_object_set_new(t2, "signatures", json_array());
		assert_int_equal(patch_sign(t2, &r.snap, NULL), 0);
		bytes = json_dumps(t2, JSON_COMPACT);
		assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)bytes, strlen(bytes), now, &err), BW_EVERIFY);
		assert_non_null(strstr(err.msg, "0 valid"));
		free(bytes);
		json_decref(t2);
	}
	/* malformed bytes */
	assert_int_equal(patch_client_timestamp(&tr, (const uint8_t *)"{\"signed\":", 10, now, &err), BW_EINVAL);
	assert_int_equal(patch_client_targets(&tr, (const uint8_t *)"[]", 2, now, &err), BW_EINVAL);
	free(snap1);
	free(ts1);
	free(snap2);
	free(ts2);
	free(tg);
	patch_trust_clear(&tr);
	repo_clear(&r);
}

static void
test_client_root_rotation_drops_online(void **state)
{
	const int64_t now = 1795408404;
	struct repo r = { 0 };
	struct patch_trust tr = { 0 };
	struct bw_ed25519 ts2 = { 0 };
	json_t *root2;
	char *snap, *ts, *bytes, id[65];
	json_t *o;

	(void)state;
	repo_init(&r, now);
	tr.root = json_incref(r.root_md);
	repo_online(&r, 1, 1000, now, 86400, &snap, &ts);	/* a fast-forwarded timestamp */
	assert_int_equal(patch_client_timestamp(&tr, (uint8_t *)ts, strlen(ts), now, NULL), 0);
	/* root v2 rotates the timestamp key */
	assert_int_equal(bw_ed25519_generate(&ts2, NULL), 0);
	root2 = json_deep_copy(r.root_md);
	o = patch_key_object(ts2.pk);
	assert_int_equal(patch_key_id(o, id, NULL), 0);
	json_object_set_new(json_object_get(json_object_get(root2, "signed"), "keys"), id, o);
	json_object_set_new(json_object_get(json_object_get(json_object_get(root2, "signed"), "roles"), "timestamp"),
			    "keyids", json_pack("[s]", id));
	json_object_set_new(json_object_get(root2, "signed"), "version", json_integer(2));
	json_object_set_new(root2, "signatures", json_array());
	assert_int_equal(patch_sign(root2, &r.root, NULL), 0);
	bytes = json_dumps(root2, JSON_COMPACT);
	assert_int_equal(patch_client_root(&tr, (uint8_t *)bytes, strlen(bytes), NULL), 0);
	assert_null(tr.timestamp);	/* the fast-forwarded timestamp is void */
	assert_int_equal(patch_meta_version(tr.root), 2);
	/* the same root again is not version + 1; the refusal names the refused root's version */
	{
		struct bw_err err = { 0 };
		assert_int_equal(patch_client_root(&tr, (uint8_t *)bytes, strlen(bytes), &err), BW_EVERIFY);
		assert_int_equal(strncmp(err.msg, "root version 2: ", 16), 0);
	}
	free(bytes);
	free(snap);
	free(ts);
	json_decref(root2);
	bw_ed25519_free(&ts2);
	patch_trust_clear(&tr);
	repo_clear(&r);
}

/*
 * jansson's memory, poisoned when freed: a read of a released JSON value
 * (inside libjansson, which ASan does not instrument) then sees garbage
 * instead of the old contents and the test notices.
 */
static void
poison_free(void *q)
{
	if (q != NULL)
		memset(q, 0xdd, malloc_usable_size(q));
	free(q);
}

int
main(void)
{
	json_set_alloc_funcs(malloc, poison_free);	/* compatible with free() of jansson strings */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_json),
		cmocka_unit_test(test_key_id_known_answer),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_root_rotation),
		cmocka_unit_test(test_targets_add),
		cmocka_unit_test(test_snapshot_timestamp),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_client_workflow),
		cmocka_unit_test(test_client_root_rotation_drops_online),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
