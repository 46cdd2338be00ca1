/*
 * server/routes_patch.c: the TUF patch repository over HTTPS: JSON <-> the
 * patch operations (upload, publish, host reports, status), and the public
 * reads: the online keys, metadata, targets and each target's tlog-proof
 * (served from disk), and consistency proofs of the log.
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


/* {"snapshot", "timestamp", "log_vkey", "next"?: {"snapshot", "timestamp"}}, each key {"keyid", "key"}. */
static void
reply_keys(struct request *rq, struct ops_patch_keys *k)
{
	json_t *j = json_pack("{s:O, s:O, s:s}", "snapshot", k->snapshot, "timestamp", k->timestamp, "log_vkey",
			      instance_log_vkey(rq->s->in));

	if (j != NULL && k->next_snapshot != NULL && k->next_timestamp != NULL)
		json_object_set_new(j, "next", json_pack("{s:O, s:O}", "snapshot", k->next_snapshot, "timestamp",
							 k->next_timestamp));
	ops_patch_keys_clear(k);
	if (j == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_json(rq, 200, j);
}

static void
h_patch_keys(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_patch_keys k;
	struct bw_err err = { 0 };

	(void)body;
	if (ops_patch_keys(&x, &k, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_keys(rq, &k);
}

static void
h_patch_keys_rotate(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_patch_keys k;
	struct bw_err err = { 0 };

	(void)body;
	if (ops_patch_keys_rotate(&x, &k, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_keys(rq, &k);
}

/* PUT /api/v1/patch/blobs/{sha256}: the target file, checked against the name it is uploaded under. */
static void
h_patch_blob_put(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_upload u = { .tmp_path = rq->upload_path, .fd = rq->upload_fd, .len = rq->upload_len,
				.failed = rq->upload_failed, .too_large = rq->upload_len > HTTP_UPLOAD_MAX,
				.max = HTTP_UPLOAD_MAX };
	struct bw_err err = { 0 };

	(void)body;
	ev_target(&rq->ev, "blob:%.64s", rq->params[0]);
	if (rq->upload_hash != NULL && rq->upload_fd >= 0 && !rq->upload_failed)
		bw_sha256_final(rq->upload_hash, u.sha256);
	if (ops_patch_upload(&x, rq->params[0], &u, &err) != 0) {
		rq->upload_fd = u.fd;
		reply_from_err(rq, &err);
		return;
	}
	rq->upload_fd = u.fd;	/* -1: the operation took the file */
	reply_json(rq, 201, json_pack("{s:s, s:I}", "sha256", rq->params[0], "length", (json_int_t)rq->upload_len));
}

/* POST /api/v1/patch/publish {"targets": <signed targets>, "root": <signed root, optional>} */
static void
h_patch_publish(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	json_t *root = NULL, *targets = NULL;
	struct ops_published out;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:o, s?:o}", "targets", &targets, "root", &root))
		return;
	if (ops_patch_publish(&x, root, targets, &out, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:I, s:I, s:I, s:o}", "root_version", (json_int_t)out.root_version,
				      "targets_version", (json_int_t)out.targets_version, "snapshot_version",
				      (json_int_t)out.snapshot_version, "timestamp_version", (json_int_t)out.timestamp_version,
				      "logged", out.logged));
}

/* POST /api/v1/patch/reports: a host's installation result (or refusal), one audit event each. */
static void
h_patch_report(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_patch_report q = { 0 };
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s?:s, s:s, s:s, s?:s, s?:s, s?:s}", "host", &q.host, "target", &q.target,
			    "result", &q.result, "sha256", &q.sha256, "version", &q.version, "reason", &q.reason))
		return;
	if (q.host == NULL)
		q.host = rq->caller.host;	/* the credential's host */
	ev_target(&rq->ev, "%.64s:%.90s", q.host, q.target);
	if (ops_patch_report(&x, &q, &err) != 0) {
		reply_error(rq, err.code == BW_EINVAL ? 400 : status_for_err(err.code), "%s",
			    status_for_err(err.code) >= 500 ? "audit log unavailable; report not recorded" : err.msg);
		return;
	}
	reply_json(rq, 201, json_pack("{s:s, s:s}", "recorded", q.result, "request_id", rq->id));
}

/* GET /api/v1/patch/status: published targets (with their log entries) and every host's latest report. */
static void
h_patch_status(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_patch_target *t = NULL;
	struct db_patch_report *rep = NULL;
	struct bw_err err = { 0 };
	size_t nt = 0, nr = 0, i;
	json_t *targets, *hosts;

	(void)body;
	if (ops_patch_status(&x, &t, &nt, &rep, &nr, &err) != 0) {
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
	if ((size_t)snprintf(path, sizeof path, "%s/metadata/%s", rq->s->env.patch_dir, file) >= sizeof path) {
		reply_error(rq, 404, "no such metadata file");
		return;
	}
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

/* The tlog-proof of a target's publication entry (under the cosigned checkpoint, else the latest); the entry rides in "extra". */
static void
serve_target_proof(struct request *rq, const struct db_patch_target *row)
{
	struct note_verifier **keys = NULL;
	size_t nkeys = 0;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_proof_file pf = { 0 };
	struct tlog_tiles *t = NULL;
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	uint8_t *note = NULL;
	size_t len, outlen;
	char *out = NULL;

	/*
	 * under the cosigned checkpoint when it covers the entry: the proof then carries the cosignatures (it may
	 * be signed by an earlier key of the log: verifiers take each key for its sizes)
	 */
	if (ops_log_keys_all(rq->s->in, &keys, &nkeys, &err) != 0 ||
	    tlog_checkpoint_load_for(rq->s->in->log_dir, (uint64_t)row->log_index, keys, nkeys, &note, &len, &cp, &err) != 0 ||
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
	ops_log_keys_free(keys, nkeys);
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
	struct ops_ctx x = request_ops(rq);
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
	if (!server_parse_target_path(rel, name, sha) || ops_patch_target_published(&x, name, sha, &row, &err) != 0) {
		reply_error(rq, 404, "no such target");
		return;
	}
	if (proof) {
		serve_target_proof(rq, &row);
		return;
	}
	if (patch_repo_blob_path(rq->s->env.patch_dir, sha, path, sizeof path) != 0) {
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

static const struct route patch_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/patch/keys", .fn = h_patch_keys, .op = OP_PATCH_KEYS },
	{ .method = "POST", .pattern = "/api/v1/patch/keys/rotate", .fn = h_patch_keys_rotate, .op = OP_PATCH_KEYS_ROTATE },
	{ .method = "PUT", .pattern = "/api/v1/patch/blobs/{sha256}", .fn = h_patch_blob_put, .op = OP_PATCH_UPLOAD, .upload = true },
	{ .method = "POST", .pattern = "/api/v1/patch/publish", .fn = h_patch_publish, .op = OP_PATCH_PUBLISH, .json_body = true, .body_max = (size_t)32 << 20 },
	{ .method = "POST", .pattern = "/api/v1/patch/reports", .fn = h_patch_report, .op = OP_PATCH_REPORT, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/patch/status", .fn = h_patch_status, .op = OP_PATCH_STATUS },
	{ .method = "GET", .pattern = "/patch/metadata/*", .fn = h_patch_metadata, .op = OP_PATCH_METADATA },
	{ .method = "GET", .pattern = "/patch/targets/*", .fn = h_patch_target, .op = OP_PATCH_TARGET_GET },
	{ .method = "GET", .pattern = "/log/consistency/{old}/{new}", .fn = h_log_consistency, .op = OP_LOG_CONSISTENCY },
};
const struct route_table patch_route_table = { patch_routes, sizeof patch_routes / sizeof patch_routes[0] };
