/*
 * patch/publish.c: the publish workflow of the server's repository: the new
 * root (if any) must follow the published one and delegate the online roles
 * to this server's keys; the targets metadata must be signed by the trusted
 * root's targets threshold, unexpired, newer than the published one, and
 * list only valid names whose files were uploaded; each new target is
 * handed to the caller's logger (the audit log) before anything is written;
 * then root, targets, snapshot and timestamp are written (timestamp last).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "patch.h"

/* A check that failed: the publication is refused (BW_EINVAL), the message prefixed with what was checked. */
static int
refused(struct bw_err *err, const char *what)
{
	if (what != NULL)
		bw_err_prefix(err, "%s", what);
	if (err != NULL)
		err->code = BW_EINVAL;
	return BW_EINVAL;
}

static const char *
md_type(const json_t *md)
{
	return json_string_value(json_object_get(json_object_get(md, "signed"), "_type"));
}

/* TUF key id of an online key. */
static int
online_key_id(const struct bw_ed25519 *k, char id[65], struct bw_err *err)
{
	json_t *o = patch_key_object(k->pk);
	int r;

	if (o == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = patch_key_id(o, id, err);
	json_decref(o);
	return r;
}

bool
patch_root_delegates(const json_t *root, const char *role, const struct bw_ed25519 *key)
{
	char id[65];
	const json_t *rd, *k;
	size_t j;

	if (root == NULL || key->sk == NULL || online_key_id(key, id, NULL) != 0)
		return false;
	rd = json_object_get(json_object_get(json_object_get(root, "signed"), "roles"), role);
	json_array_foreach(json_object_get(rd, "keyids"), j, k)
		if (json_is_string(k) && strcmp(json_string_value(k), id) == 0)
			return true;
	return false;
}

static int
check_root(const struct patch_publish *q, const struct patch_trust *st, struct bw_err *err)
{
	const char *roles[] = { "snapshot", "timestamp" };
	const struct bw_ed25519 *keys[] = { q->snapshot_key, q->timestamp_key };
	const json_t *root = q->root;
	size_t i, j;
	int r;

	if (st->root == NULL) {
		if (patch_meta_version(root) != 1 || md_type(root) == NULL || strcmp(md_type(root), "root") != 0)
			return bw_err_set(err, BW_EINVAL, "the first root must be root metadata with version 1");
		if (patch_verify_role(root, json_object_get(root, "signed"), "root", NULL, err) != 0)
			return refused(err, "root");
	} else if (patch_verify_root_rotation(st->root, root, err) != 0) {
		return refused(err, "root rotation refused");
	}
	if (patch_check_expiry(root, "root", q->now, err) != 0)
		return refused(err, NULL);
	if (json_object_get(json_object_get(root, "signed"), "consistent_snapshot") != json_true())
		return bw_err_set(err, BW_EINVAL, "root must set consistent_snapshot to true");
	for (i = 0; i < 2; i++) {
		char id[65];
		const json_t *rd, *ids, *k;
		bool listed = false;
		if ((r = online_key_id(keys[i], id, err)) != 0)
			return r;
		rd = json_object_get(json_object_get(json_object_get(root, "signed"), "roles"), roles[i]);
		ids = json_object_get(rd, "keyids");
		json_array_foreach((json_t *)ids, j, k)
			listed |= json_is_string(k) && strcmp(json_string_value(k), id) == 0;
		if (!listed || json_integer_value(json_object_get(rd, "threshold")) != 1)
			return bw_err_set(err, BW_EINVAL, "root must delegate the %s role to this server's online key %s with "
					  "threshold 1 (see GET /api/v1/patch/keys)", roles[i], id);
	}
	return 0;
}

static int
check_targets(const struct patch_publish *q, const struct patch_trust *st, struct bw_err *err)
{
	const json_t *targets = q->targets, *trusted_root = q->root ? q->root : st->root;
	const json_t *list = json_object_get(json_object_get(targets, "signed"), "targets");
	const char *name;
	json_t *e;

	if (!json_is_object(json_object_get(targets, "signed")) || md_type(targets) == NULL ||
	    strcmp(md_type(targets), "targets") != 0)
		return bw_err_set(err, BW_EINVAL, "targets: not targets metadata (_type \"targets\")");
	if (patch_verify_role(targets, json_object_get(trusted_root, "signed"), "targets", NULL, err) != 0)
		return refused(err, "targets signatures");
	if (patch_check_expiry(targets, "targets", q->now, err) != 0)
		return refused(err, NULL);
	if (st->targets != NULL && patch_meta_version(targets) <= patch_meta_version(st->targets))
		return bw_err_set(err, BW_ECONFLICT, "targets version %lld is not newer than the published %lld",
				  (long long)patch_meta_version(targets), (long long)patch_meta_version(st->targets));
	if (!json_is_object(list) || json_object_size(list) > PATCH_PUBLISH_MAX_TARGETS)
		return bw_err_set(err, BW_EINVAL, "targets: signed.targets must be an object of at most %d entries",
				  PATCH_PUBLISH_MAX_TARGETS);
	json_object_foreach((json_t *)list, name, e) {
		struct patch_target t = { 0 };
		struct stat sb;
		char path[4096];
		(void)e;
		if (!patch_target_name_valid(name))
			return bw_err_set(err, BW_EINVAL, "target name '%.100s' is not allowed", name);
		err->msg[0] = '\0';
		if (patch_target_get(targets, name, &t, err) != 0 || t.version == NULL) {
			if (t.version == NULL && err->msg[0] == '\0')
				bw_err_set(err, BW_EINVAL, "every target needs custom.version");
			return refused(err, NULL);
		}
		if (patch_repo_blob_path(q->dir, t.sha256_hex, path, sizeof path) != 0 || stat(path, &sb) != 0)
			return bw_err_set(err, BW_EINVAL, "target %.100s: upload its file first (PUT /api/v1/patch/blobs/%s)",
					  name, t.sha256_hex);
		if ((uint64_t)sb.st_size != t.length)
			return bw_err_set(err, BW_EINVAL, "target %.100s: the file with that sha256 is %lld bytes, not %llu",
					  name, (long long)sb.st_size, (unsigned long long)t.length);
	}
	return 0;
}

int
patch_publish_run(const struct patch_publish *q, struct patch_trust *st, struct bw_err *err)
{
	const json_t *list = json_object_get(json_object_get(q->targets, "signed"), "targets");
	const char *name;
	json_t *e;
	char file[64];
	int r;

	if (q->root == NULL && st->root == NULL)
		return bw_err_set(err, BW_EINVAL, "the first publication must include the root metadata");
	if ((q->root != NULL && (r = check_root(q, st, err)) != 0) || (r = check_targets(q, st, err)) != 0)
		return r;
	/* Every target is in the log before any metadata that lists it is written. */
	json_object_foreach((json_t *)list, name, e) {
		struct patch_target t;
		(void)e;
		if ((r = patch_target_get(q->targets, name, &t, err)) != 0 ||
		    (r = q->log_target(q->log_arg, &t, err)) != 0)
			return r;
	}
	/* Visible to hosts only once the new timestamp is written (last). */
	if (q->root != NULL) {
		snprintf(file, sizeof file, "%lld.root.json", (long long)patch_meta_version(q->root));
		if ((r = patch_repo_write(q->dir, file, q->root, NULL, NULL, err)) != 0)
			return r;
		json_decref(st->root);
		st->root = json_incref((json_t *)q->root);
	}
	snprintf(file, sizeof file, "%lld.targets.json", (long long)patch_meta_version(q->targets));
	if ((r = patch_repo_write(q->dir, file, q->targets, NULL, NULL, err)) != 0)
		return r;
	json_decref(st->targets);
	st->targets = json_incref((json_t *)q->targets);
	return patch_repo_issue(q->dir, st, q->snapshot_key, q->timestamp_key, q->life, true, q->now, err);
}
