/*
 * patch/client.c: the checks of the TUF client workflow (specification
 * §5.3-§5.6) on metadata bytes already fetched: root rotation, timestamp,
 * snapshot, targets, each against the trusted set, with rollback, freeze
 * and mix-and-match protection. No I/O here: the agent fetches and persists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patch.h"

void
patch_trust_clear(struct patch_trust *t)
{
	json_decref(t->root);
	json_decref(t->timestamp);
	json_decref(t->snapshot);
	json_decref(t->targets);
	memset(t, 0, sizeof *t);
}

int
patch_time_parse(const char *s, int64_t *out, struct bw_err *err)
{
	struct tm tm = { 0 };
	int n = 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (s == NULL || strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return bw_err_set(err, BW_EINVAL, "expires must be YYYY-MM-DDTHH:MM:SSZ");
	for (n = 0; n < 19; n++)
		if (n != 4 && n != 7 && n != 10 && n != 13 && n != 16 && (s[n] < '0' || s[n] > '9'))
			return bw_err_set(err, BW_EINVAL, "expires must be YYYY-MM-DDTHH:MM:SSZ");
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > mdays[tm.tm_mon - 1] || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return bw_err_set(err, BW_EINVAL, "expires: '%s' is not a valid UTC time", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/*
 * Parses metadata bytes (duplicate keys refused) and checks the common
 * fields of "signed": _type, spec_version 1.x, version >= 1, expires.
 */
static int
meta_parse(const uint8_t *bytes, size_t len, const char *type, json_t **out, struct bw_err *err)
{
	json_error_t jerr;
	json_t *md, *s;
	const char *t = NULL, *spec = NULL, *exp = NULL;
	json_int_t v = 0;
	int64_t when;
	int r;

	*out = NULL;
	if ((md = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_EINVAL, "%s: malformed JSON at line %d: %s", type, jerr.line, jerr.text);
	s = json_object_get(md, "signed");
	if (!json_is_object(s) || !json_is_array(json_object_get(md, "signatures")) ||
	    json_unpack(s, "{s:s, s:s, s:I, s:s}", "_type", &t, "spec_version", &spec, "version", &v, "expires", &exp) !=
		0) {
		json_decref(md);
		return bw_err_set(err, BW_EINVAL, "%s: needs signed {_type, spec_version, version, expires} and signatures",
				  type);
	}
	if (strcmp(t, type) != 0)
		r = bw_err_set(err, BW_EVERIFY, "%s: _type is \"%.32s\"", type, t);
	else if (strncmp(spec, "1.", 2) != 0)
		r = bw_err_set(err, BW_EINVAL, "%s: spec_version %.32s is not 1.x", type, spec);
	else if (v < 1)
		r = bw_err_set(err, BW_EINVAL, "%s: version must be >= 1", type);
	else if ((r = patch_time_parse(exp, &when, err)) != 0)
		bw_err_prefix(err, "%s", type);
	if (r != 0) {
		json_decref(md);
		return r;
	}
	*out = md;
	return 0;
}

json_int_t
patch_meta_version(const json_t *md)
{
	return json_integer_value(json_object_get(json_object_get(md, "signed"), "version"));
}

int
patch_check_expiry(const json_t *md, const char *role, int64_t now, struct bw_err *err)
{
	const char *exp = json_string_value(json_object_get(json_object_get(md, "signed"), "expires"));
	int64_t when;

	if (patch_time_parse(exp, &when, err) != 0)
		return bw_err_prefix(err, "%s", role);
	if (when <= now)
		return bw_err_set(err, BW_EVERIFY, "%s metadata expired at %s (freeze attack or stale repository)",
				  role, exp);
	return 0;
}

const json_t *
patch_meta_entry(const json_t *md, const char *file)
{
	return json_object_get(json_object_get(json_object_get(md, "signed"), "meta"), file);
}

/* Checks length and sha256 of bytes against a meta entry when it lists them. */
static int
check_hashes(const json_t *entry, const char *what, const uint8_t *bytes, size_t len, struct bw_err *err)
{
	json_t *l = json_object_get(entry, "length"), *hs = json_object_get(entry, "hashes"), *h;
	uint8_t want[32], got[32];

	if (l != NULL && (!json_is_integer(l) || json_integer_value(l) != (json_int_t)len))
		return bw_err_set(err, BW_EVERIFY, "%s is %zu bytes, not the %lld listed (mix-and-match or tampering)",
				  what, len, (long long)json_integer_value(l));
	if (hs == NULL)
		return 0;
	if (!json_is_object(hs) || !json_is_string(h = json_object_get(hs, "sha256")) ||
	    json_string_length(h) != 64 || bw_hex_decode(json_string_value(h), 64, want, 32) != 0)
		return bw_err_set(err, BW_EINVAL, "%s: hashes must include a sha256 of 64 hex digits", what);
	if (bw_sha256_oneshot(bytes, len, got) != 0)
		return bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	if (memcmp(want, got, 32) != 0)
		return bw_err_set(err, BW_EVERIFY, "%s does not match the sha256 listed (mix-and-match or tampering)",
				  what);
	return 0;
}

/* True when role's keyids and threshold are the same in both roots. */
static bool
role_same(const json_t *a, const json_t *b, const char *role)
{
	const json_t *ra = json_object_get(json_object_get(json_object_get(a, "signed"), "roles"), role);
	const json_t *rb = json_object_get(json_object_get(json_object_get(b, "signed"), "roles"), role);

	return ra != NULL && rb != NULL && json_equal((json_t *)ra, (json_t *)rb);
}

int
patch_client_root(struct patch_trust *t, const uint8_t *bytes, size_t len, struct bw_err *err)
{
	json_t *nr;
	int r;

	if ((r = meta_parse(bytes, len, "root", &nr, err)) != 0)
		return r;
	if ((r = patch_verify_root_rotation(t->root, nr, err)) != 0) {
		long long version = (long long)patch_meta_version(nr);	/* read before nr is released */
		json_decref(nr);
		bw_err_prefix(err, "root version %lld", version);
		return r;
	}
	/* §5.3.11: rotated timestamp or snapshot keys void what they signed (fast-forward recovery). */
	if (!role_same(t->root, nr, "timestamp") || !role_same(t->root, nr, "snapshot")) {
		json_decref(t->timestamp);
		json_decref(t->snapshot);
		t->timestamp = t->snapshot = NULL;
	}
	json_decref(t->root);
	t->root = nr;
	return 0;
}

int
patch_client_timestamp(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now, struct bw_err *err)
{
	json_t *ts;
	const json_t *sm, *old;
	int r;

	if ((r = meta_parse(bytes, len, "timestamp", &ts, err)) != 0)
		return r;
	if ((r = patch_verify_role(ts, json_object_get(t->root, "signed"), "timestamp", NULL, err)) != 0)
		goto fail;
	sm = patch_meta_entry(ts, "snapshot.json");
	if (!json_is_integer(json_object_get(sm, "version")) || json_integer_value(json_object_get(sm, "version")) < 1) {
		r = bw_err_set(err, BW_EINVAL, "timestamp: meta must name snapshot.json with a version");
		goto fail;
	}
	if (t->timestamp != NULL) {
		json_int_t have = patch_meta_version(t->timestamp), got = patch_meta_version(ts);
		if (got < have) {
			r = bw_err_set(err, BW_EVERIFY, "timestamp version %lld is older than the trusted %lld (rollback)",
				       (long long)got, (long long)have);
			goto fail;
		}
		old = patch_meta_entry(t->timestamp, "snapshot.json");
		if (json_integer_value(json_object_get(sm, "version")) < json_integer_value(json_object_get(old, "version"))) {
			r = bw_err_set(err, BW_EVERIFY, "timestamp names snapshot version %lld, older than the trusted %lld "
				       "(rollback)", (long long)json_integer_value(json_object_get(sm, "version")),
				       (long long)json_integer_value(json_object_get(old, "version")));
			goto fail;
		}
		if (got == have) {	/* §5.4.3.1: nothing new; keep the trusted copy */
			json_decref(ts);
			return patch_check_expiry(t->timestamp, "timestamp", now, err);
		}
	}
	if ((r = patch_check_expiry(ts, "timestamp", now, err)) != 0)
		goto fail;
	json_decref(t->timestamp);
	t->timestamp = ts;
	return 0;
fail:
	json_decref(ts);
	return r;
}

int
patch_client_snapshot(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now, struct bw_err *err)
{
	const json_t *want = patch_meta_entry(t->timestamp, "snapshot.json"), *meta, *e;
	json_t *sn = NULL;
	const char *file;
	int r;

	if (want == NULL)
		return bw_err_set(err, BW_EINVAL, "snapshot: no trusted timestamp");
	if ((r = check_hashes(want, "snapshot.json", bytes, len, err)) != 0)
		return r;
	if ((r = meta_parse(bytes, len, "snapshot", &sn, err)) != 0)
		return r;
	if ((r = patch_verify_role(sn, json_object_get(t->root, "signed"), "snapshot", NULL, err)) != 0)
		goto fail;
	if (patch_meta_version(sn) != json_integer_value(json_object_get(want, "version"))) {
		r = bw_err_set(err, BW_EVERIFY, "snapshot version %lld is not the %lld the timestamp names (mix-and-match)",
			       (long long)patch_meta_version(sn), (long long)json_integer_value(json_object_get(want, "version")));
		goto fail;
	}
	if (!json_is_integer(json_object_get(patch_meta_entry(sn, "targets.json"), "version"))) {
		r = bw_err_set(err, BW_EINVAL, "snapshot: meta must name targets.json with a version");
		goto fail;
	}
	/* §5.5.5: no listed metadata file may go back or disappear. */
	if (t->snapshot != NULL && (meta = json_object_get(json_object_get(t->snapshot, "signed"), "meta")) != NULL) {
		json_object_foreach((json_t *)meta, file, e) {
			const json_t *ne = patch_meta_entry(sn, file);
			if (ne == NULL) {
				r = bw_err_set(err, BW_EVERIFY, "snapshot drops %.100s that the trusted snapshot lists (rollback)",
					       file);
				goto fail;
			}
			if (json_integer_value(json_object_get(ne, "version")) <
			    json_integer_value(json_object_get(e, "version"))) {
				r = bw_err_set(err, BW_EVERIFY, "snapshot lists %.100s version %lld, older than the trusted %lld "
					       "(rollback)", file, (long long)json_integer_value(json_object_get(ne, "version")),
					       (long long)json_integer_value(json_object_get(e, "version")));
				goto fail;
			}
		}
	}
	if ((r = patch_check_expiry(sn, "snapshot", now, err)) != 0)
		goto fail;
	json_decref(t->snapshot);
	t->snapshot = sn;
	return 0;
fail:
	json_decref(sn);
	return r;
}

int
patch_client_targets(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now, struct bw_err *err)
{
	const json_t *want = patch_meta_entry(t->snapshot, "targets.json");
	json_t *tg = NULL, *list;
	int r;

	if (want == NULL)
		return bw_err_set(err, BW_EINVAL, "targets: no trusted snapshot");
	if ((r = check_hashes(want, "targets.json", bytes, len, err)) != 0)
		return r;
	if ((r = meta_parse(bytes, len, "targets", &tg, err)) != 0)
		return r;
	if ((r = patch_verify_role(tg, json_object_get(t->root, "signed"), "targets", NULL, err)) != 0)
		goto fail;
	if (patch_meta_version(tg) != json_integer_value(json_object_get(want, "version"))) {
		r = bw_err_set(err, BW_EVERIFY, "targets version %lld is not the %lld the snapshot names (mix-and-match)",
			       (long long)patch_meta_version(tg), (long long)json_integer_value(json_object_get(want, "version")));
		goto fail;
	}
	if (t->targets != NULL && patch_meta_version(tg) < patch_meta_version(t->targets)) {
		r = bw_err_set(err, BW_EVERIFY, "targets version %lld is older than the trusted %lld (rollback)",
			       (long long)patch_meta_version(tg), (long long)patch_meta_version(t->targets));
		goto fail;
	}
	list = json_object_get(json_object_get(tg, "signed"), "targets");
	if (!json_is_object(list)) {
		r = bw_err_set(err, BW_EINVAL, "targets: signed.targets must be an object");
		goto fail;
	}
	if ((r = patch_check_expiry(tg, "targets", now, err)) != 0)
		goto fail;
	json_decref(t->targets);
	t->targets = tg;
	return 0;
fail:
	json_decref(tg);
	return r;
}

int
patch_target_get(const json_t *targets_md, const char *name, struct patch_target *out, struct bw_err *err)
{
	const json_t *e = json_object_get(json_object_get(json_object_get(targets_md, "signed"), "targets"), name);
	const json_t *l, *h, *c;

	memset(out, 0, sizeof *out);
	if (e == NULL)
		return bw_err_set(err, BW_ENOTFOUND, "no target named %.200s in the trusted targets", name);
	l = json_object_get(e, "length");
	h = json_object_get(json_object_get(e, "hashes"), "sha256");
	if (!json_is_integer(l) || json_integer_value(l) < 0 || !json_is_string(h) || json_string_length(h) != 64 ||
	    bw_hex_decode(json_string_value(h), 64, out->sha256, 32) != 0)
		return bw_err_set(err, BW_EINVAL, "target %.200s: needs length and a sha256 (64 hex digits)", name);
	out->name = name;
	out->length = (uint64_t)json_integer_value(l);
	memcpy(out->sha256_hex, json_string_value(h), 65);
	c = json_object_get(e, "custom");
	out->version = json_string_value(json_object_get(c, "version"));
	out->hosts = json_string_value(json_object_get(c, "hosts"));
	out->group = json_string_value(json_object_get(c, "group"));
	return 0;
}

bool
patch_target_for_host(const struct patch_target *t, const char *host, const char *group)
{
	if (t->group != NULL)
		return group != NULL && strcmp(t->group, group) == 0;
	if (t->hosts == NULL)
		return true;
	return bw_list_contains(t->hosts, host);
}

int
patch_target_url_path(const struct patch_target *t, char *out, size_t cap)
{
	const char *slash = strrchr(t->name, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, cap, "%s.%s", t->sha256_hex, t->name);
	else
		n = snprintf(out, cap, "%.*s/%s.%s", (int)(slash - t->name), t->name, t->sha256_hex, slash + 1);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
