/*
 * patch/repo.c: the repository a server publishes: metadata/<N>.root.json,
 * metadata/<N>.targets.json, metadata/<N>.snapshot.json (consistent
 * snapshots), metadata/timestamp.json, and blobs/<sha256> (target files).
 * timestamp.json is written last: it is what makes a publication visible.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patch.h"

#define META_MAX ((size_t)64 << 20)

static int
meta_path(char *out, size_t cap, const char *dir, const char *file, struct bw_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/metadata/%s", dir, file) >= cap)
		return bw_err_set(err, BW_ERANGE, "repository path too long");
	return 0;
}

/* Loads metadata/<file>; *md stays NULL (and 0 is returned) when it does not exist. */
static int
meta_load(const char *dir, const char *file, json_t **md, struct bw_err *err)
{
	char path[4096];
	json_error_t jerr;
	int r;

	*md = NULL;
	if ((r = meta_path(path, sizeof path, dir, file, err)) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if ((*md = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s: %s", path, jerr.text);
	return 0;
}

int
patch_repo_load(const char *dir, struct patch_trust *st, struct bw_err *err)
{
	char file[64];
	json_int_t v;
	json_t *md;
	int r;

	memset(st, 0, sizeof *st);
	for (v = 1;; v++) {	/* the newest root of the unbroken chain 1, 2, ... */
		snprintf(file, sizeof file, "%lld.root.json", (long long)v);
		if ((r = meta_load(dir, file, &md, err)) != 0)
			goto fail;
		if (md == NULL)
			break;
		json_decref(st->root);
		st->root = md;
	}
	if ((r = meta_load(dir, "timestamp.json", &st->timestamp, err)) != 0 || st->timestamp == NULL)
		return r;
	v = json_integer_value(json_object_get(patch_meta_entry(st->timestamp, "snapshot.json"), "version"));
	snprintf(file, sizeof file, "%lld.snapshot.json", (long long)v);
	if ((r = meta_load(dir, file, &st->snapshot, err)) != 0)
		goto fail;
	v = json_integer_value(json_object_get(patch_meta_entry(st->snapshot, "targets.json"), "version"));
	snprintf(file, sizeof file, "%lld.targets.json", (long long)v);
	if ((r = meta_load(dir, file, &st->targets, err)) != 0)
		goto fail;
	if (st->snapshot == NULL || st->targets == NULL) {
		r = bw_err_set(err, BW_ECORRUPT, "%s: timestamp.json names metadata that is missing", dir);
		goto fail;
	}
	return 0;
fail:
	patch_trust_clear(st);
	return r;
}

int
patch_repo_write(const char *dir, const char *file, const json_t *md, char **bytes, size_t *len, struct bw_err *err)
{
	char path[4096], *text;
	int r;

	if (bytes != NULL)
		*bytes = NULL;
	if ((r = meta_path(path, sizeof path, dir, "", err)) != 0 || (r = bw_mkdir_p(path, 0755, err)) != 0 ||
	    (r = meta_path(path, sizeof path, dir, file, err)) != 0)
		return r;
	if ((text = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = bw_file_write_atomic(path, text, strlen(text), 0644, err)) != 0 || bytes == NULL) {
		free(text);
		return r;
	}
	*bytes = text;
	*len = strlen(text);
	return 0;
}

int
patch_repo_issue(const char *dir, struct patch_trust *st, const struct bw_ed25519 *snapshot_key,
		 const struct bw_ed25519 *timestamp_key, const struct patch_lifetimes *life, bool new_snapshot,
		 int64_t now, struct bw_err *err)
{
	json_t *snap = NULL, *ts = NULL;
	char file[64], *bytes = NULL;
	size_t len = 0;
	int r;

	if (st->targets == NULL)
		return bw_err_set(err, BW_EINVAL, "nothing published yet");
	if (new_snapshot || st->snapshot == NULL) {
		if ((r = patch_snapshot_make(st->targets, st->snapshot ? patch_meta_version(st->snapshot) + 1 : 1, now,
					     life->snapshot, &snap, err)) != 0 ||
		    (r = patch_sign(snap, snapshot_key, err)) != 0)
			goto out;
		snprintf(file, sizeof file, "%lld.snapshot.json", (long long)patch_meta_version(snap));
		if ((r = patch_repo_write(dir, file, snap, &bytes, &len, err)) != 0)
			goto out;
	} else {
		snap = json_incref(st->snapshot);
		if ((bytes = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
		len = strlen(bytes);
	}
	if ((r = patch_timestamp_make((uint8_t *)bytes, len, st->timestamp ? patch_meta_version(st->timestamp) + 1 : 1,
				      now, life->timestamp, &ts, err)) != 0 ||
	    (r = patch_sign(ts, timestamp_key, err)) != 0 ||
	    (r = patch_repo_write(dir, "timestamp.json", ts, NULL, NULL, err)) != 0)
		goto out;
	json_decref(st->snapshot);
	st->snapshot = snap;
	snap = NULL;
	json_decref(st->timestamp);
	st->timestamp = ts;
	ts = NULL;
out:
	json_decref(snap);
	json_decref(ts);
	free(bytes);
	return r;
}

/* Seconds until md expires (negative when past; INT64_MIN when unreadable). */
static int64_t
time_left(const json_t *md, int64_t now)
{
	int64_t when;

	if (md == NULL ||
	    patch_time_parse(json_string_value(json_object_get(json_object_get(md, "signed"), "expires")), &when, NULL) != 0)
		return INT64_MIN;
	return when - now;
}

void
patch_repo_due(const struct patch_trust *st, const struct patch_lifetimes *life, int64_t now, bool *snapshot,
	       bool *timestamp)
{
	*snapshot = *timestamp = false;
	if (st->targets == NULL)
		return;
	*snapshot = time_left(st->snapshot, now) < life->snapshot / 2;
	*timestamp = *snapshot || time_left(st->timestamp, now) < life->timestamp / 2;
}

bool
patch_sha256_hex_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
patch_repo_blob_path(const char *dir, const char *sha256_hex, char *out, size_t cap)
{
	if (!patch_sha256_hex_valid(sha256_hex))
		return -1;
	return (size_t)snprintf(out, cap, "%s/blobs/%s", dir, sha256_hex) >= cap ? -1 : 0;
}

int
patch_meta_digest(const json_t *md, char hex[65], struct bw_err *err)
{
	uint8_t d[32];
	char *c = NULL;
	size_t len;
	int r;

	if ((r = patch_cjson(md, &c, &len, err)) != 0)
		return r;
	r = bw_sha256_oneshot(c, len, d);
	free(c);
	if (r != 0)
		return bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	bw_hex_encode(hex, d, 32);
	return 0;
}

int
patch_repo_check(const struct patch_trust *st, const struct patch_pins *pins, struct bw_err *err)
{
	char root_d[65], targets_d[65];
	int r;

	if (st->root == NULL || st->targets == NULL)
		return bw_err_set(err, BW_EVERIFY, "the repository on disk lacks its root or targets metadata");
	if ((r = patch_meta_digest(st->root, root_d, err)) != 0 || (r = patch_meta_digest(st->targets, targets_d, err)) != 0)
		return r;
	/* Whatever the pins say, the online keys only ever sign over targets the root's offline keys signed. */
	if (patch_verify_role(st->targets, json_object_get(st->root, "signed"), "targets", NULL, err) != 0)
		return bw_err_prefix(err, "targets %lld on disk", (long long)patch_meta_version(st->targets)), BW_EVERIFY;
	if (pins->root_version > 0 &&
	    (patch_meta_version(st->root) != pins->root_version || strcmp(root_d, pins->root_digest) != 0))
		return bw_err_set(err, BW_EVERIFY, "root metadata on disk (version %lld) is not the published root %lld",
				  (long long)patch_meta_version(st->root), (long long)pins->root_version);
	if (pins->targets_version > 0 &&
	    (patch_meta_version(st->targets) != pins->targets_version || strcmp(targets_d, pins->targets_digest) != 0))
		return bw_err_set(err, BW_EVERIFY, "targets metadata on disk (version %lld) is not the published targets %lld",
				  (long long)patch_meta_version(st->targets), (long long)pins->targets_version);
	return 0;
}
