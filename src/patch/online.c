/* patch/online.c: snapshot and timestamp metadata (the roles whose keys the server holds). */
#include <string.h>
#include <time.h>

#include "patch.h"

static void
expiry(int64_t now, int64_t lifetime, char out[32])
{
	time_t when = (time_t)(now + lifetime);
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
patch_snapshot_make(const json_t *targets_md, int64_t version, int64_t now, int64_t lifetime, json_t **out,
		    struct bw_err *err)
{
	const json_t *sig = json_object_get(targets_md, "signed");
	json_t *tv;
	char exp[32];

	*out = NULL;
	if (!json_is_object(sig) || !json_is_string(json_object_get(sig, "_type")) ||
	    strcmp(json_string_value(json_object_get(sig, "_type")), "targets") != 0 ||
	    !json_is_integer(tv = json_object_get(sig, "version")) || json_integer_value(tv) < 1)
		return bw_err_set(err, BW_EINVAL, "not targets metadata with a version >= 1");
	if (version < 1 || lifetime < 10 || lifetime > 366 * 86400)
		return bw_err_set(err, BW_EINVAL, "snapshot version must be >= 1 and its lifetime 10 s..366 days");
	expiry(now, lifetime, exp);
	*out = json_pack("{s:{s:s, s:s, s:I, s:s, s:{s:{s:I}}}, s:[]}", "signed", "_type", "snapshot", "spec_version",
			 "1.0.31", "version", (json_int_t)version, "expires", exp, "meta", "targets.json", "version",
			 json_integer_value(tv), "signatures");
	return *out ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}

int
patch_timestamp_make(const uint8_t *snapshot_bytes, size_t len, int64_t version, int64_t now, int64_t lifetime,
		     json_t **out, struct bw_err *err)
{
	json_error_t jerr;
	json_t *snap, *sv, *st;
	uint8_t h[32];
	char hex[65], exp[32];
	json_int_t snapver;

	*out = NULL;
	if ((snap = json_loadb((const char *)snapshot_bytes, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_EINVAL, "snapshot: %s", jerr.text);
	sv = json_object_get(json_object_get(snap, "signed"), "version");
	st = json_object_get(json_object_get(snap, "signed"), "_type");
	if (!json_is_integer(sv) || json_integer_value(sv) < 1 || !json_is_string(st) ||
	    strcmp(json_string_value(st), "snapshot") != 0) {
		json_decref(snap);
		return bw_err_set(err, BW_EINVAL, "not snapshot metadata with a version >= 1");
	}
	snapver = json_integer_value(sv);
	json_decref(snap);
	if (version < 1 || lifetime < 10 || lifetime > 31 * 86400)
		return bw_err_set(err, BW_EINVAL, "timestamp version must be >= 1 and its lifetime 10 s..31 days");
	if (bw_sha256_oneshot(snapshot_bytes, len, h) != 0)
		return bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	bw_hex_encode(hex, h, 32);
	expiry(now, lifetime, exp);
	*out = json_pack("{s:{s:s, s:s, s:I, s:s, s:{s:{s:I, s:I, s:{s:s}}}}, s:[]}", "signed", "_type", "timestamp",
			 "spec_version", "1.0.31", "version", (json_int_t)version, "expires", exp, "meta",
			 "snapshot.json", "version", snapver, "length", (json_int_t)len, "hashes", "sha256", hex,
			 "signatures");
	return *out ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}
