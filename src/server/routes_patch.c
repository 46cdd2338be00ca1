/*
 * server/routes_patch.c: the TUF patch repository. Admins upload target
 * files and publish offline-signed targets metadata; the server checks the
 * signatures, records every new target in the audit log, then issues
 * snapshot and timestamp metadata with its online keys (and re-signs them
 * before they expire). Metadata, targets and each target's tlog-proof are
 * public; hosts report installations.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "patch/patch.h"
#include "tlog/tlog.h"

#define PUBLISH_MAX_TARGETS 100000

static struct patch_lifetimes
lifetimes(const struct server *s)
{
	struct patch_lifetimes l = { s->opts.snapshot_lifetime, s->opts.timestamp_lifetime };
	return l;
}

/* TUF key object of an online key plus its keyid. */
static json_t *
online_key_json(const struct bw_ed25519 *k, char id[65])
{
	json_t *o = patch_key_object(k->pk);

	if (o == NULL || patch_key_id(o, id, NULL) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
h_patch_keys(struct request *rq, json_t *body)
{
	char sid[65], tid[65];
	json_t *sk = online_key_json(&rq->s->in->tuf_snapshot, sid), *tk = online_key_json(&rq->s->in->tuf_timestamp, tid);

	(void)body;
	if (sk == NULL || tk == NULL) {
		json_decref(sk);
		json_decref(tk);
		reply_error(rq, 500, "internal error");
		return;
	}
	reply_json(rq, 200, json_pack("{s:{s:s, s:o}, s:{s:s, s:o}, s:s}", "snapshot", "keyid", sid, "key", sk, "timestamp",
				      "keyid", tid, "key", tk, "log_vkey", rq->s->in->log_vkey));
}

/* PUT /api/v1/patch/blobs/{sha256}: the target file, checked against the name it is uploaded under. */
static void
h_patch_blob_put(struct request *rq, json_t *body)
{
	const char *want = rq->params[0];
	uint8_t got[32];
	char hex[65], dest[4096];
	struct bw_err err = { 0 };

	(void)body;
	ev_target(&rq->ev, "blob:%.64s", want);
	if (!patch_sha256_hex_valid(want)) {
		reply_error(rq, 400, "the upload path must be /api/v1/patch/blobs/<sha256 as 64 lower-case hex digits>");
		return;
	}
	if (rq->upload_failed || rq->upload_fd < 0) {
		if (rq->upload_len > HTTP_UPLOAD_MAX)
			reply_error(rq, 413, "target files are limited to %llu bytes", (unsigned long long)HTTP_UPLOAD_MAX);
		else
			reply_error(rq, 500, "could not store the upload");
		return;
	}
	if (rq->upload_len == 0) {
		reply_error(rq, 400, "empty upload");
		return;
	}
	bw_sha256_final(rq->upload_hash, got);
	bw_hex_encode(hex, got, 32);
	ev_int(&rq->ev, EVF_LENGTH, rq->upload_len);
	if (strcmp(hex, want) != 0) {
		reply_error(rq, 422, "the uploaded bytes hash to %s, not %s", hex, want);
		return;
	}
	if (patch_repo_blob_path(rq->s->patch_dir, want, dest, sizeof dest) != 0 || fsync(rq->upload_fd) != 0 ||
	    rename(rq->upload_path, dest) != 0 || bw_fsync_dir(dest, false, &err) != 0) {
		ev_str(&rq->ev, EVF_ERROR, strerror(errno));
		reply_error(rq, 500, "could not store the upload");
		return;
	}
	close(rq->upload_fd);
	rq->upload_fd = -1;
	reply_json(rq, 201, json_pack("{s:s, s:I}", "sha256", hex, "length", (json_int_t)rq->upload_len));
}

/* The new root (if any) must follow the published one and delegate the online roles to this server's keys. */
static bool
publish_check_root(struct request *rq, const struct patch_trust *st, const json_t *root, int64_t now)
{
	struct bw_err err = { 0 };
	const char *roles[] = { "snapshot", "timestamp" };
	const struct bw_ed25519 *keys[] = { &rq->s->in->tuf_snapshot, &rq->s->in->tuf_timestamp };
	size_t i, j;

	if (st->root == NULL) {
		if (patch_meta_version(root) != 1 || !json_is_string(json_object_get(json_object_get(root, "signed"), "_type")) ||
		    strcmp(json_string_value(json_object_get(json_object_get(root, "signed"), "_type")), "root") != 0) {
			reply_error(rq, 422, "the first root must be root metadata with version 1");
			return false;
		}
		if (patch_verify_role(root, json_object_get(root, "signed"), "root", NULL, &err) != 0) {
			reply_error(rq, 422, "root: %s", err.msg);
			return false;
		}
	} else if (patch_verify_root_rotation(st->root, root, &err) != 0) {
		reply_error(rq, 422, "root rotation refused: %s", err.msg);
		return false;
	}
	if (patch_check_expiry(root, "root", now, &err) != 0) {
		reply_error(rq, 422, "%s", err.msg);
		return false;
	}
	if (json_object_get(json_object_get(root, "signed"), "consistent_snapshot") != json_true()) {
		reply_error(rq, 422, "root must set consistent_snapshot to true");
		return false;
	}
	for (i = 0; i < 2; i++) {
		char id[65];
		json_t *o = online_key_json(keys[i], id), *rd, *ids, *k;
		bool listed = false;
		json_decref(o);
		rd = json_object_get(json_object_get(json_object_get(root, "signed"), "roles"), roles[i]);
		ids = json_object_get(rd, "keyids");
		json_array_foreach(ids, j, k)
			listed |= json_is_string(k) && strcmp(json_string_value(k), id) == 0;
		if (!listed || json_integer_value(json_object_get(rd, "threshold")) != 1) {
			reply_error(rq, 422, "root must delegate the %s role to this server's online key %s with threshold 1 "
				    "(see GET /api/v1/patch/keys)", roles[i], id);
			return false;
		}
	}
	return true;
}

/* Every listed target has a valid name and its uploaded file, of the listed length. */
static bool
publish_check_targets(struct request *rq, const json_t *targets)
{
	const json_t *list = json_object_get(json_object_get(targets, "signed"), "targets");
	const char *name;
	json_t *e;

	if (!json_is_object(list) || json_object_size(list) > PUBLISH_MAX_TARGETS) {
		reply_error(rq, 422, "targets: signed.targets must be an object of at most %d entries", PUBLISH_MAX_TARGETS);
		return false;
	}
	json_object_foreach((json_t *)list, name, e) {
		struct patch_target t;
		struct bw_err err = { 0 };
		struct stat sb;
		char path[4096];
		(void)e;
		if (!patch_target_name_valid(name)) {
			reply_error(rq, 422, "target name '%.100s' is not allowed", name);
			return false;
		}
		if (patch_target_get(targets, name, &t, &err) != 0 || t.version == NULL) {
			reply_error(rq, 422, "%s", t.version == NULL && err.msg[0] == '\0' ?
				    "every target needs custom.version" : err.msg);
			return false;
		}
		if (patch_repo_blob_path(rq->s->patch_dir, t.sha256_hex, path, sizeof path) != 0 || stat(path, &sb) != 0) {
			reply_error(rq, 422, "target %.100s: upload its file first (PUT /api/v1/patch/blobs/%s)", name,
				    t.sha256_hex);
			return false;
		}
		if ((uint64_t)sb.st_size != t.length) {
			reply_error(rq, 422, "target %.100s: the file with that sha256 is %lld bytes, not %llu", name,
				    (long long)sb.st_size, (unsigned long long)t.length);
			return false;
		}
	}
	return true;
}

/* Appends one patch.target event per target not published before; false (reply set) on failure. */
static bool
publish_log_targets(struct request *rq, const json_t *targets, json_t *logged)
{
	const json_t *list = json_object_get(json_object_get(targets, "signed"), "targets");
	const char *name;
	json_t *e;

	json_object_foreach((json_t *)list, name, e) {
		struct patch_target t;
		struct db_patch_target row = { 0 };
		struct event ev;
		struct ev_patch_target pt = { 0 };
		struct bw_err err = { 0 };
		uint64_t index;
		int r;
		(void)e;
		patch_target_get(targets, name, &t, NULL);
		if (db_patch_target_get(rq->s->in->db, name, t.sha256_hex, &row, &err) == 0)
			continue;	/* this very file was published under this name before: its entry stands */
		snprintf(pt.name, sizeof pt.name, "%s", name);
		memcpy(pt.sha256, t.sha256_hex, 65);
		pt.length = t.length;
		snprintf(pt.version, sizeof pt.version, "%s", t.version ? t.version : "");
		pt.targets_version = patch_meta_version(targets);
		ev_patch_target_build(&ev, &pt, rq->id);
		r = audit_record(rq->s->al, &ev, &index, &err);
		ev_clear(&ev);
		if (r != 0) {
			reply_error(rq, 503, "audit log unavailable; nothing published");
			return false;
		}
		snprintf(row.name, sizeof row.name, "%s", name);
		memcpy(row.sha256, t.sha256_hex, 65);
		row.length = (int64_t)t.length;
		snprintf(row.version, sizeof row.version, "%s", t.version);
		row.targets_version = patch_meta_version(targets);
		row.log_index = (int64_t)index;
		row.published_at = server_now();
		if (db_patch_target_insert(rq->s->in->db, &row, &err) != 0) {
			reply_from_err(rq, &err);
			return false;
		}
		json_array_append_new(logged, json_pack("{s:s, s:s, s:I}", "name", name, "sha256", t.sha256_hex, "log_index",
							(json_int_t)index));
	}
	return true;
}

/* POST /api/v1/patch/publish {"targets": <signed targets>, "root": <signed root, optional>} */
static void
h_patch_publish(struct request *rq, json_t *body)
{
	json_t *root = NULL, *targets = NULL, *logged = json_array();
	struct patch_trust st = { 0 };
	struct patch_lifetimes life = lifetimes(rq->s);
	struct bw_err err = { 0 };
	const json_t *trusted_root;
	int64_t now = server_now();
	char file[64];

	if (!request_unpack(rq, body, "{s:o, s?:o}", "targets", &targets, "root", &root)) {
		json_decref(logged);
		return;
	}
	pthread_mutex_lock(&rq->s->patch_mu);
	if (patch_repo_load(rq->s->patch_dir, &st, &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	if (root == NULL && st.root == NULL) {
		reply_error(rq, 422, "the first publication must include the root metadata");
		goto out;
	}
	if (root != NULL && !publish_check_root(rq, &st, root, now))
		goto out;
	trusted_root = root ? root : st.root;
	if (!json_is_object(json_object_get(targets, "signed")) ||
	    !json_is_string(json_object_get(json_object_get(targets, "signed"), "_type")) ||
	    strcmp(json_string_value(json_object_get(json_object_get(targets, "signed"), "_type")), "targets") != 0) {
		reply_error(rq, 422, "targets: not targets metadata (_type \"targets\")");
		goto out;
	}
	ev_target(&rq->ev, "targets:v%lld", (long long)patch_meta_version(targets));
	if (patch_verify_role(targets, json_object_get(trusted_root, "signed"), "targets", NULL, &err) != 0) {
		reply_error(rq, 422, "targets signatures: %s", err.msg);
		goto out;
	}
	if (patch_check_expiry(targets, "targets", now, &err) != 0) {
		reply_error(rq, 422, "%s", err.msg);
		goto out;
	}
	if (st.targets != NULL && patch_meta_version(targets) <= patch_meta_version(st.targets)) {
		reply_error(rq, 409, "targets version %lld is not newer than the published %lld",
			    (long long)patch_meta_version(targets), (long long)patch_meta_version(st.targets));
		goto out;
	}
	if (!publish_check_targets(rq, targets) || !publish_log_targets(rq, targets, logged))
		goto out;
	/* Visible to hosts only once the new timestamp is written (last). */
	if (root != NULL) {
		snprintf(file, sizeof file, "%lld.root.json", (long long)patch_meta_version(root));
		if (patch_repo_write(rq->s->patch_dir, file, root, NULL, NULL, &err) != 0) {
			reply_from_err(rq, &err);
			goto out;
		}
		json_decref(st.root);
		st.root = json_incref(root);
	}
	snprintf(file, sizeof file, "%lld.targets.json", (long long)patch_meta_version(targets));
	if (patch_repo_write(rq->s->patch_dir, file, targets, NULL, NULL, &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	json_decref(st.targets);
	st.targets = json_incref(targets);
	if (patch_repo_issue(rq->s->patch_dir, &st, &rq->s->in->tuf_snapshot, &rq->s->in->tuf_timestamp, &life, true, now,
			     &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	ev_int(&rq->ev, EVF_ROOT_VERSION, patch_meta_version(st.root));
	ev_int(&rq->ev, EVF_SNAPSHOT_VERSION, patch_meta_version(st.snapshot));
	ev_int(&rq->ev, EVF_TIMESTAMP_VERSION, patch_meta_version(st.timestamp));
	ev_json(&rq->ev, EVF_LOGGED, json_incref(logged));
	reply_json(rq, 200, json_pack("{s:I, s:I, s:I, s:I, s:O}", "root_version", patch_meta_version(st.root),
				      "targets_version", patch_meta_version(st.targets), "snapshot_version",
				      patch_meta_version(st.snapshot), "timestamp_version", patch_meta_version(st.timestamp),
				      "logged", logged));
out:
	pthread_mutex_unlock(&rq->s->patch_mu);
	patch_trust_clear(&st);
	json_decref(logged);
}

/* POST /api/v1/patch/reports: a host's installation result (or refusal), one audit event each. */
static void
h_patch_report(struct request *rq, json_t *body)
{
	const char *host, *name, *result, *sha = NULL, *version = NULL, *reason = NULL;

	if (!request_unpack(rq, body, "{s:s, s:s, s:s, s?:s, s?:s, s?:s}", "host", &host, "target", &name, "result",
			    &result, "sha256", &sha, "version", &version, "reason", &reason))
		return;
	ev_target(&rq->ev, "%.64s:%.90s", host, name);
	if (!bw_simple_name_valid(host, 64) || strlen(name) == 0 || strlen(name) > 200 ||
	    (sha != NULL && !patch_sha256_hex_valid(sha)) || (version != NULL && strlen(version) > 64) ||
	    (reason != NULL && strlen(reason) > 1024)) {
		reply_error(rq, 400, "report: host must be a host name, target 1..200 characters, sha256 64 hex digits, "
			    "reason at most 1024 characters");
		return;
	}
	if (strcmp(result, "installed") != 0 && strcmp(result, "failed") != 0 && strcmp(result, "refused") != 0) {
		reply_error(rq, 400, "result must be installed, failed or refused");
		return;
	}
	ev_str(&rq->ev, EVF_HOST, host);
	ev_str(&rq->ev, EVF_REPORTED, result);
	if (sha != NULL)
		ev_str(&rq->ev, EVF_SHA256, sha);
	if (version != NULL)
		ev_str(&rq->ev, EVF_VERSION, version);
	if (reason != NULL)
		ev_str(&rq->ev, EVF_REASON, reason);
	rq->ev.result = strcmp(result, "installed") == 0 ? EV_OK : strcmp(result, "failed") == 0 ? EV_FAILED : EV_REFUSED;
	rq->result_set = true;
	reply_json(rq, 201, json_pack("{s:s, s:s}", "recorded", result, "request_id", rq->id));
	/* The audit event first (it is the record); then the latest-state table behind patch status. */
	if (!request_record_audit(rq)) {
		reply_error(rq, 503, "audit log unavailable; report not recorded");
		return;
	}
	{
		struct db_patch_report rep = { 0 };
		struct bw_err err = { 0 };
		snprintf(rep.host, sizeof rep.host, "%s", host);
		snprintf(rep.target, sizeof rep.target, "%s", name);
		snprintf(rep.sha256, sizeof rep.sha256, "%s", sha ? sha : "");
		snprintf(rep.version, sizeof rep.version, "%s", version ? version : "");
		snprintf(rep.result, sizeof rep.result, "%s", result);
		snprintf(rep.reason, sizeof rep.reason, "%s", reason ? reason : "");
		snprintf(rep.reported_by, sizeof rep.reported_by, "%s", rq->who.username);
		rep.at = server_now();
		if (db_patch_report_put(rq->s->in->db, &rep, &err) != 0)
			reply_from_err(rq, &err);	/* recorded in the log; only the status view missed it */
	}
}

/* GET /api/v1/patch/status: published targets (with their log entries) and every host's latest report. */
static void
h_patch_status(struct request *rq, json_t *body)
{
	struct db_patch_target *t = NULL;
	struct db_patch_report *rep = NULL;
	struct bw_err err = { 0 };
	size_t nt = 0, nr = 0, i;
	json_t *targets, *hosts;

	(void)body;
	if (db_patch_target_list(rq->s->in->db, &t, &nt, &err) != 0 ||
	    db_patch_report_list(rq->s->in->db, &rep, &nr, &err) != 0) {
		free(t);
		reply_from_err(rq, &err);
		return;
	}
	targets = json_array();
	for (i = 0; i < nt; i++)
		json_array_append_new(targets, json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "name", t[i].name, "sha256",
							 t[i].sha256, "length", (json_int_t)t[i].length, "version",
							 t[i].version, "targets_version", (json_int_t)t[i].targets_version,
							 "log_index", (json_int_t)t[i].log_index, "published_at",
							 (json_int_t)t[i].published_at));
	hosts = json_array();
	for (i = 0; i < nr; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "host", rep[i].host, "target", rep[i].target, "result",
				      rep[i].result, "reported_by", rep[i].reported_by, "at", (json_int_t)rep[i].at);
		if (rep[i].sha256[0])
			json_object_set_new(o, "sha256", json_string(rep[i].sha256));
		if (rep[i].version[0])
			json_object_set_new(o, "version", json_string(rep[i].version));
		if (rep[i].reason[0])
			json_object_set_new(o, "reason", json_string(rep[i].reason));
		json_array_append_new(hosts, o);
	}
	free(t);
	free(rep);
	reply_json(rq, 200, json_pack("{s:o, s:o}", "targets", targets, "hosts", hosts));
}

/* Replies with the file at path (streamed from disk, not read into memory); 404 when absent. */
static void
reply_file(struct request *rq, const char *path, const char *type, const char *missing)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		reply_error(rq, 404, "%s", missing);
		return;
	}
	rq->status = 200;
	rq->reply_fd = fd;
	rq->reply_fd_len = (uint64_t)sb.st_size;
	rq->raw_type = type;
}

/* GET /patch/metadata/<N>.root.json | <N>.targets.json | <N>.snapshot.json | timestamp.json */
static void
h_patch_metadata(struct request *rq, json_t *body)
{
	const char *file = rq->path + strlen("/patch/metadata/"), *dot;
	char path[4096];
	uint64_t v;

	(void)body;
	dot = strchr(file, '.');
	if (strcmp(file, "timestamp.json") != 0 &&
	    (dot == NULL || bw_parse_u64(file, (size_t)(dot - file), &v) != 0 || v == 0 ||
	     (strcmp(dot, ".root.json") != 0 && strcmp(dot, ".targets.json") != 0 && strcmp(dot, ".snapshot.json") != 0))) {
		reply_error(rq, 404, "no such metadata file");
		return;
	}
	snprintf(path, sizeof path, "%s/metadata/%s", rq->s->patch_dir, file);
	reply_file(rq, path, "application/json", "no such metadata file");
}

bool
server_parse_target_path(const char *rel, char name[256], char sha[65])
{
	const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
	size_t dirlen = slash ? (size_t)(slash - rel) : 0;

	if (strlen(base) < 66 || base[64] != '.' || dirlen + strlen(base + 65) + 1 >= 256)
		return false;
	memcpy(sha, base, 64);
	sha[64] = '\0';
	/* the length was checked above: dir + '/' + basename fits in 256 */
	if (slash) {
		memcpy(name, rel, dirlen);
		name[dirlen] = '/';
		memcpy(name + dirlen + 1, base + 65, strlen(base + 65) + 1);
	} else {
		memcpy(name, base + 65, strlen(base + 65) + 1);
	}
	return patch_sha256_hex_valid(sha) && patch_target_name_valid(name);
}

/* The tlog-proof of a target's publication entry, under the current checkpoint; the entry rides in "extra". */
static void
serve_target_proof(struct request *rq, const struct db_patch_target *row)
{
	struct note_verifier *v = rq->s->in->log_verifier;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_proof_file pf = { 0 };
	struct tlog_tiles *t = NULL;
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	uint8_t *note = NULL;
	size_t len, outlen;
	char *out = NULL;

	if (tlog_checkpoint_load(rq->s->in->log_dir, &v, 1, &note, &len, &cp, &err) != 0 ||
	    tlog_tiles_open(rq->s->in->log_dir, &t, &err) != 0 || bw_sha256_new(&h, &err) != 0 ||
	    (uint64_t)row->log_index >= cp.size ||
	    tlog_tiles_read_entry(t, cp.size, (uint64_t)row->log_index, &pf.extra, &pf.extra_len, &err) != 0) {
		if (err.msg[0] == '\0')
			bw_err_set(&err, BW_ECORRUPT, "log entry %lld is past the checkpoint", (long long)row->log_index);
		reply_from_err(rq, &err);
		goto out;
	}
	{
		struct tlog_reader rd = tlog_tiles_reader(t, cp.size);
		if (tlog_prove_inclusion(h, &rd, (uint64_t)row->log_index, cp.size, &pf.proof, &err) != 0) {
			reply_from_err(rq, &err);
			goto out;
		}
	}
	pf.index = (uint64_t)row->log_index;
	pf.checkpoint = (char *)note;
	pf.checkpoint_len = len;
	note = NULL;
	if (tlog_proof_file_format(&pf, &out, &outlen, &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	reply_text(rq, 200, "text/plain; charset=utf-8", out, outlen);
out:
	tlog_proof_file_clear(&pf);
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
}

/* GET /patch/targets/[dir/]<sha256>.<basename>[.tlog-proof]: published target files and their log proofs. */
static void
h_patch_target(struct request *rq, json_t *body)
{
	char rel[512], name[256], sha[65], path[4096];
	struct db_patch_target row;
	struct bw_err err = { 0 };
	size_t n;
	bool proof;

	(void)body;
	n = strlen(rq->path + strlen("/patch/targets/"));
	if (n >= sizeof rel) {
		reply_error(rq, 404, "no such target");
		return;
	}
	memcpy(rel, rq->path + strlen("/patch/targets/"), n + 1);
	proof = n > 11 && strcmp(rel + n - 11, ".tlog-proof") == 0;
	if (proof)
		rel[n - 11] = '\0';
	if (!server_parse_target_path(rel, name, sha) || db_patch_target_get(rq->s->in->db, name, sha, &row, &err) != 0) {
		reply_error(rq, 404, "no such target");
		return;
	}
	if (proof) {
		serve_target_proof(rq, &row);
		return;
	}
	if (patch_repo_blob_path(rq->s->patch_dir, sha, path, sizeof path) != 0) {
		reply_error(rq, 404, "no such target");
		return;
	}
	reply_file(rq, path, "application/octet-stream", "no such target");
}

/* GET /log/consistency/<old>/<new>: a consistency proof between two tree sizes, one base64 hash per line. */
static void
h_log_consistency(struct request *rq, json_t *body)
{
	struct tlog_tiles *t = NULL;
	struct bw_sha256 *h = NULL;
	struct tlog_proof p;
	struct bw_err err = { 0 };
	struct bw_buf b = { 0 };
	uint64_t old, size;
	size_t len;
	char *out;

	(void)body;
	if (bw_parse_u64(rq->params[0], strlen(rq->params[0]), &old) != 0 ||
	    bw_parse_u64(rq->params[1], strlen(rq->params[1]), &size) != 0 || old == 0 || old > size ||
	    size > audit_log_size(rq->s->al)) {
		reply_error(rq, 400, "need 0 < old <= new <= the log size (%llu)",
			    (unsigned long long)audit_log_size(rq->s->al));
		return;
	}
	if (tlog_tiles_open(rq->s->in->log_dir, &t, &err) != 0 || bw_sha256_new(&h, &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	{
		struct tlog_reader rd = tlog_tiles_reader(t, size);
		if (tlog_prove_consistency(h, &rd, old, size, &p, &err) != 0) {
			reply_from_err(rq, &err);
			goto out;
		}
	}
	if (tlog_proof_lines_format(&p, &b) != 0 || (out = bw_buf_take(&b, &len)) == NULL) {
		reply_error(rq, 500, "out of memory");
		goto out;
	}
	reply_text(rq, 200, "text/plain; charset=utf-8", out, len);
out:
	bw_buf_free(&b);
	tlog_tiles_free(t);
	bw_sha256_free(h);
}

#define OFFLINE_WARN_SECS (14 * 86400)

/*
 * The offline roles cannot be re-signed here: once per version, raise an
 * alert when root or targets metadata expires within 14 days (hosts refuse
 * expired metadata as a freeze attack).
 */
static void
patch_warn_offline_expiry(struct server *s, const struct patch_trust *st, int64_t now)
{
	const json_t *md[2] = { st->root, st->targets };
	const char *role[2] = { "root", "targets" };
	int i;

	for (i = 0; i < 2; i++) {
		int64_t when;
		char remedy[80];
		const char *exp;
		struct event ev;
		if (md[i] == NULL || s->patch_warned[i] == patch_meta_version(md[i]))
			continue;
		exp = json_string_value(json_object_get(json_object_get(md[i], "signed"), "expires"));
		if (patch_time_parse(exp, &when, NULL) != 0 || when - now > OFFLINE_WARN_SECS)
			continue;
		ev_init(&ev, EV_ALERT_PATCH_METADATA_EXPIRING, NULL);
		ev.result = EV_ALERT;
		ev_target(&ev, "%s", role[i]);
		ev_int(&ev, EVF_METADATA_VERSION, patch_meta_version(md[i]));
		ev_str(&ev, EVF_EXPIRES, exp);
		snprintf(remedy, sizeof remedy, "sign and publish a new %s version offline", role[i]);
		ev_str(&ev, EVF_REMEDY, remedy);
		if (audit_record(s->al, &ev, NULL, NULL) == 0)
			s->patch_warned[i] = patch_meta_version(md[i]);
		ev_clear(&ev);
	}
}

/* Re-signs snapshot and timestamp metadata past half their lifetime, so a quiet repository never goes stale. */
void
patch_sweep(struct server *s)
{
	struct patch_trust st = { 0 };
	struct patch_lifetimes life = lifetimes(s);
	struct bw_err err = { 0 };
	int64_t now = server_now();
	bool snap, ts;

	pthread_mutex_lock(&s->patch_mu);
	if (patch_repo_load(s->patch_dir, &st, &err) == 0) {
		patch_warn_offline_expiry(s, &st, now);
		patch_repo_due(&st, &life, now, &snap, &ts);
		if (ts) {
			struct event ev;
			int r = patch_repo_issue(s->patch_dir, &st, &s->in->tuf_snapshot, &s->in->tuf_timestamp, &life, snap,
						 now, &err);
			ev_init(&ev, EV_PATCH_RESIGN, NULL);
			ev_target(&ev, "%s", snap ? "snapshot+timestamp" : "timestamp");
			ev.result = r == 0 ? EV_OK : EV_ERROR;
			ev_int(&ev, EVF_SNAPSHOT_VERSION, patch_meta_version(st.snapshot));
			ev_int(&ev, EVF_TIMESTAMP_VERSION, patch_meta_version(st.timestamp));
			if (r != 0)
				EV_LOG(EVLOG_ERROR, "patch metadata not re-signed", EV_KS("error", err.msg));
			if (audit_record(s->al, &ev, NULL, &err) != 0)
				EV_LOG(EVLOG_ERROR, "patch.resign not recorded", EV_KS("error", err.msg));
			ev_clear(&ev);
		}
	}
	pthread_mutex_unlock(&s->patch_mu);
	patch_trust_clear(&st);
}

static const struct route patch_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/patch/keys", .fn = h_patch_keys, .op = OP_PATCH_KEYS },
	{ .method = "PUT", .pattern = "/api/v1/patch/blobs/{sha256}", .fn = h_patch_blob_put, .op = OP_PATCH_UPLOAD, .upload = true },
	{ .method = "POST", .pattern = "/api/v1/patch/publish", .fn = h_patch_publish, .op = OP_PATCH_PUBLISH, .json_body = true, .body_max = (size_t)32 << 20 },
	{ .method = "POST", .pattern = "/api/v1/patch/reports", .fn = h_patch_report, .op = OP_PATCH_REPORT, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/patch/status", .fn = h_patch_status, .op = OP_PATCH_STATUS },
	{ .method = "GET", .pattern = "/patch/metadata/*", .fn = h_patch_metadata, .op = OP_PATCH_METADATA },
	{ .method = "GET", .pattern = "/patch/targets/*", .fn = h_patch_target, .op = OP_PATCH_TARGET_GET },
	{ .method = "GET", .pattern = "/log/consistency/{old}/{new}", .fn = h_log_consistency, .op = OP_LOG_CONSISTENCY },
};
const struct route_table patch_route_table = { patch_routes, sizeof patch_routes / sizeof patch_routes[0] };
