/*
 * ops/patch.c: patch-management operations: storing an uploaded target
 * file, publishing (the workflow is patch_publish_run; every new target is
 * recorded here), host reports, the status view, and the server's sweep
 * (expiry alerts for the offline roles, re-signing the online ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_internal.h"
#include "patch/patch.h"

#define OFFLINE_WARN_SECS (14 * 86400)

static struct patch_lifetimes
lifetimes(const struct ops_env *e)
{
	struct patch_lifetimes l = { e->snapshot_lifetime, e->timestamp_lifetime };
	return l;
}

int
ops_patch_upload(struct ops_ctx *x, const char *want_sha256, struct ops_upload *u, struct bw_err *err)
{
	struct event ev;
	char hex[65], dest[4096];
	int r;

	r = ops_begin(x, OP_PATCH_UPLOAD, &ev, err);
	ev_target(&ev, "blob:%.64s", want_sha256);
	if (r == 0 && !patch_sha256_hex_valid(want_sha256))
		r = bw_err_set(err, BW_EINVAL, "the upload path must be /api/v1/patch/blobs/<sha256 as 64 lower-case hex digits>");
	else if (r == 0 && u->too_large)
		r = bw_err_set(err, BW_ERANGE, "target files are limited to %llu bytes", (unsigned long long)u->max);
	else if (r == 0 && (u->failed || u->fd < 0))
		r = bw_err_set(err, BW_EIO, "could not store the upload");
	else if (r == 0 && u->len == 0)
		r = bw_err_set(err, BW_EINVAL, "empty upload");
	if (r == 0) {
		ev_int(&ev, EVF_LENGTH, (int64_t)u->len);
		bw_hex_encode(hex, u->sha256, 32);
		if (strcmp(hex, want_sha256) != 0)
			r = bw_err_set(err, BW_EINVAL, "the uploaded bytes hash to %s, not %s", hex, want_sha256);
	}
	if (r == 0 && (patch_repo_blob_path(x->env->patch_dir, want_sha256, dest, sizeof dest) != 0 ||
		       fsync(u->fd) != 0 || rename(u->tmp_path, dest) != 0 || bw_fsync_dir(dest, false, err) != 0))
		r = bw_err_set(err, BW_EIO, "could not store the upload: %s", strerror(errno));
	if (r == 0) {
		close(u->fd);
		u->fd = -1;	/* taken: the file is the blob now */
	}
	return ops_finish(x, OP_PATCH_UPLOAD, &ev, r, err);
}

struct publish_log {
	struct ops_ctx *x;
	const json_t *targets;
	json_t *logged;
};

/* Records one target's publication (unless this very file was published under this name before). */
static int
log_target(void *arg, const struct patch_target *t, struct bw_err *err)
{
	struct publish_log *pl = arg;
	struct db_patch_target row = { 0 };
	struct ev_patch_target pt = { 0 };
	struct event ev;
	uint64_t index;
	int r;

	if (db_patch_target_get(pl->x->in->db, t->name, t->sha256_hex, &row, NULL) == 0)
		return 0;	/* its entry stands */
	snprintf(pt.name, sizeof pt.name, "%s", t->name);
	memcpy(pt.sha256, t->sha256_hex, 65);
	pt.length = t->length;
	snprintf(pt.version, sizeof pt.version, "%s", t->version ? t->version : "");
	pt.targets_version = patch_meta_version(pl->targets);
	ev_patch_target_build(&ev, &pt, pl->x->caller->request_id);
	/* Hosts fetch the target's proof once the metadata is out: integrated before it is written. */
	if ((r = audit_record(pl->x->al, &ev, &index, err)) == 0)
		r = audit_log_sync(pl->x->al, err);
	ev_clear(&ev);
	if (r != 0)
		return bw_err_prefix(err, "audit log unavailable; nothing published"), r;
	memset(&row, 0, sizeof row);
	snprintf(row.name, sizeof row.name, "%s", t->name);
	memcpy(row.sha256, t->sha256_hex, 65);
	row.length = (int64_t)t->length;
	snprintf(row.version, sizeof row.version, "%s", pt.version);
	row.targets_version = pt.targets_version;
	row.log_index = (int64_t)index;
	row.published_at = ops_now();
	if ((r = db_patch_target_insert(pl->x->in->db, &row, err)) != 0)
		return r;
	json_array_append_new(pl->logged, json_pack("{s:s, s:s, s:I}", "name", t->name, "sha256", t->sha256_hex,
						    "log_index", (json_int_t)index));
	return 0;
}

/* Records what was just published (in the publication's transaction): the sweeper re-signs only that. */
static int
pin_published(struct ops_ctx *x, const struct patch_trust *st, struct bw_err *err)
{
	char d[65];
	int r;

	if ((r = patch_meta_digest(st->root, d, err)) != 0 ||
	    (r = db_patch_state_set(x->in->db, "root", patch_meta_version(st->root), d, err)) != 0 ||
	    (r = patch_meta_digest(st->targets, d, err)) != 0)
		return r;
	return db_patch_state_set(x->in->db, "targets", patch_meta_version(st->targets), d, err);
}

/* The published pins (zeros before the first publication, or for a data directory older than the pins). */
static int
load_pins(struct ops_ctx *x, struct patch_pins *p, struct bw_err *err)
{
	int r;

	memset(p, 0, sizeof *p);
	if ((r = db_patch_state_get(x->in->db, "root", &p->root_version, p->root_digest, err)) != 0 && r != BW_ENOTFOUND)
		return r;
	if ((r = db_patch_state_get(x->in->db, "targets", &p->targets_version, p->targets_digest, err)) != 0 &&
	    r != BW_ENOTFOUND)
		return r;
	return 0;
}

/* One alert per distinct reason (per server start) when the sweeper refuses to re-sign. */
static void
alert_refused(struct ops_ctx *x, const char *why)
{
	struct event ev;

	if (strcmp(x->env->patch_refused, why) == 0)
		return;
	EV_LOG(EVLOG_ERROR, "patch metadata not re-signed: the repository on disk is not what was published",
	       EV_KS("error", why));
	ev_init(&ev, EV_ALERT_PATCH_REPOSITORY_CHANGED, NULL);
	ev.result = EV_ALERT;
	ev_target(&ev, "patch:metadata");
	ev_str(&ev, EVF_ERROR, why);
	if (audit_record(x->al, &ev, NULL, NULL) == 0)
		snprintf(x->env->patch_refused, sizeof x->env->patch_refused, "%.255s", why);
	ev_clear(&ev);
}

/* {"keyid", "key"} of an online key (NULL when it has none). */
static json_t *
key_json(const struct bw_ed25519 *k)
{
	json_t *o;
	char id[65];

	if (k->sk == NULL || (o = patch_key_object(k->pk)) == NULL)
		return NULL;
	if (patch_key_id(o, id, NULL) != 0) {
		json_decref(o);
		return NULL;
	}
	return json_pack("{s:s, s:o}", "keyid", id, "key", o);
}

void
ops_patch_keys_clear(struct ops_patch_keys *k)
{
	json_decref(k->snapshot);
	json_decref(k->timestamp);
	json_decref(k->next_snapshot);
	json_decref(k->next_timestamp);
	memset(k, 0, sizeof *k);
}

/* Caller holds patch_mu. */
static int
keys_read(struct ops_ctx *x, struct ops_patch_keys *out, struct bw_err *err)
{
	memset(out, 0, sizeof *out);
	out->snapshot = key_json(&x->in->tuf_snapshot);
	out->timestamp = key_json(&x->in->tuf_timestamp);
	out->next_snapshot = key_json(&x->in->tuf_snapshot_next);
	out->next_timestamp = key_json(&x->in->tuf_timestamp_next);
	if (out->snapshot == NULL || out->timestamp == NULL) {
		ops_patch_keys_clear(out);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return 0;
}

int
ops_patch_keys(struct ops_ctx *x, struct ops_patch_keys *out, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin(x, OP_PATCH_KEYS, &ev, err);
	ev_target(&ev, "patch:keys");
	if (r == 0) {
		pthread_mutex_lock(&x->env->patch_mu);
		r = keys_read(x, out, err);
		pthread_mutex_unlock(&x->env->patch_mu);
	}
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_PATCH_KEYS, &ev, r, err);
}

int
ops_patch_keys_rotate(struct ops_ctx *x, struct ops_patch_keys *out, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&x->env->patch_mu);
	r = ops_begin_tx(x, OP_PATCH_KEYS_ROTATE, &ev, err);
	ev_target(&ev, "patch:keys");
	if (r == 0 && (r = instance_tuf_stage(x->in, err)) == 0 && (r = keys_read(x, out, err)) == 0) {
		ev_str(&ev, EVF_SNAPSHOT_KEYID, json_string_value(json_object_get(out->next_snapshot, "keyid")));
		ev_str(&ev, EVF_TIMESTAMP_KEYID, json_string_value(json_object_get(out->next_timestamp, "keyid")));
	}
	r = ops_finish(x, OP_PATCH_KEYS_ROTATE, &ev, r, err);
	pthread_mutex_unlock(&x->env->patch_mu);
	if (r != 0)
		ops_patch_keys_clear(out);
	return r;
}

/*
 * Makes a staged key the key of its role when root names it (caller holds
 * patch_mu): after a publication of such a root, and at each sweep (a crash
 * between the publication and the renames). Each promotion is recorded.
 */
static int
promote_named(struct ops_ctx *x, const json_t *root, bool in_tx, struct bw_err *err)
{
	const char *roles[] = { "snapshot", "timestamp" };
	const struct bw_ed25519 *next[] = { &x->in->tuf_snapshot_next, &x->in->tuf_timestamp_next };
	int r = 0;

	for (int i = 0; r == 0 && i < 2; i++) {
		struct event ev;
		char id[65] = "";
		json_t *k;
		if (!patch_root_delegates(root, roles[i], next[i]))
			continue;
		if ((k = key_json(next[i])) != NULL)
			snprintf(id, sizeof id, "%s", json_string_value(json_object_get(k, "keyid")));
		json_decref(k);
		if ((r = instance_tuf_promote(x->in, roles[i], err)) != 0)
			return r;
		ev_init(&ev, EV_PATCH_KEYS_ACTIVE, NULL);
		ev_target(&ev, "patch:keys");
		ev_str(&ev, i == 0 ? EVF_SNAPSHOT_KEYID : EVF_TIMESTAMP_KEYID, id);
		r = in_tx ? ops_record_extra(x, &ev, err) : audit_record(x->al, &ev, NULL, err);
		ev_clear(&ev);
	}
	return r;
}

int
ops_patch_publish(struct ops_ctx *x, const json_t *root, const json_t *targets, struct ops_published *out,
		  struct bw_err *err)
{
	struct patch_trust st = { 0 };
	struct patch_lifetimes life = lifetimes(x->env);
	struct publish_log pl = { x, targets, json_array() };
	struct patch_publish q = { .dir = x->env->patch_dir, .root = root, .targets = targets,
				   .snapshot_key = &x->in->tuf_snapshot, .timestamp_key = &x->in->tuf_timestamp,
				   .life = &life, .now = ops_now(), .log_target = log_target, .log_arg = &pl };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&x->env->patch_mu);
	r = ops_begin_tx(x, OP_PATCH_PUBLISH, &ev, err);
	ev_target(&ev, "targets:v%lld", (long long)patch_meta_version(targets));
	if (r == 0)
		r = patch_repo_load(x->env->patch_dir, &st, err);
	/* A new root that names the staged online keys: they sign this publication, and are the keys from now on. */
	if (r == 0 && patch_root_delegates(root, "snapshot", &x->in->tuf_snapshot_next))
		q.snapshot_key = &x->in->tuf_snapshot_next;
	if (r == 0 && patch_root_delegates(root, "timestamp", &x->in->tuf_timestamp_next))
		q.timestamp_key = &x->in->tuf_timestamp_next;
	if (r == 0)
		r = patch_publish_run(&q, &st, err);
	if (r == 0)
		r = pin_published(x, &st, err);
	if (r == 0)
		r = promote_named(x, st.root, true, err);
	if (r == 0) {
		out->root_version = patch_meta_version(st.root);
		out->targets_version = patch_meta_version(st.targets);
		out->snapshot_version = patch_meta_version(st.snapshot);
		out->timestamp_version = patch_meta_version(st.timestamp);
		ev_int(&ev, EVF_ROOT_VERSION, out->root_version);
		ev_int(&ev, EVF_SNAPSHOT_VERSION, out->snapshot_version);
		ev_int(&ev, EVF_TIMESTAMP_VERSION, out->timestamp_version);
		ev_json(&ev, EVF_LOGGED, json_incref(pl.logged));
	}
	r = ops_finish(x, OP_PATCH_PUBLISH, &ev, r, err);
	pthread_mutex_unlock(&x->env->patch_mu);
	patch_trust_clear(&st);
	if (r == 0)
		out->logged = pl.logged;
	else
		json_decref(pl.logged);
	return r;
}

int
ops_patch_report(struct ops_ctx *x, const struct ops_patch_report *q, struct bw_err *err)
{
	struct db_patch_report rep = { 0 };
	struct event ev;
	int r;

	r = ops_begin(x, OP_PATCH_REPORT, &ev, err);
	ev_target(&ev, "%.64s:%.90s", q->host, q->target);
	/* The object rule: a host's credential reports for that host only. */
	if (r == 0 && !ops_caller_is_host(x->caller, q->host))
		r = bw_err_set(err, BW_EDENIED, "this credential belongs to host %.64s: it cannot report for %.64s",
			       x->caller->host, q->host);
	if (r == 0 && (!bw_simple_name_valid(q->host, 64) || strlen(q->target) == 0 || strlen(q->target) > 200 ||
		       (q->sha256 != NULL && !patch_sha256_hex_valid(q->sha256)) ||
		       (q->version != NULL && strlen(q->version) > 64) || (q->reason != NULL && strlen(q->reason) > 1024)))
		r = bw_err_set(err, BW_EINVAL, "report: host must be a host name, target 1..200 characters, sha256 64 hex "
			       "digits, reason at most 1024 characters");
	if (r == 0 && strcmp(q->result, "installed") != 0 && strcmp(q->result, "failed") != 0 &&
	    strcmp(q->result, "refused") != 0)
		r = bw_err_set(err, BW_EINVAL, "result must be installed, failed or refused");
	if (r != 0)
		return ops_finish(x, OP_PATCH_REPORT, &ev, r, err);
	ev_str(&ev, EVF_HOST, q->host);
	ev_str(&ev, EVF_REPORTED, q->result);
	if (q->sha256 != NULL)
		ev_str(&ev, EVF_SHA256, q->sha256);
	if (q->version != NULL)
		ev_str(&ev, EVF_VERSION, q->version);
	if (q->reason != NULL)
		ev_str(&ev, EVF_REASON, q->reason);
	/* The latest-state row behind patch status, committed after the event (the record) is durable. */
	snprintf(rep.host, sizeof rep.host, "%s", q->host);
	snprintf(rep.target, sizeof rep.target, "%s", q->target);
	snprintf(rep.sha256, sizeof rep.sha256, "%s", q->sha256 ? q->sha256 : "");
	snprintf(rep.version, sizeof rep.version, "%s", q->version ? q->version : "");
	snprintf(rep.result, sizeof rep.result, "%s", q->result);
	snprintf(rep.reason, sizeof rep.reason, "%s", q->reason ? q->reason : "");
	snprintf(rep.reported_by, sizeof rep.reported_by, "%.71s", x->caller->name);
	rep.at = ops_now();
	if ((r = ops_tx_open(x, err)) != 0 || (r = db_patch_report_put(x->in->db, &rep, err)) != 0)
		return ops_finish(x, OP_PATCH_REPORT, &ev, r, err);
	/* The host's outcome is the event's result: installed ok, failed, refused. */
	return ops_finish_as(x, OP_PATCH_REPORT, &ev,
			     strcmp(q->result, "installed") == 0 ? EV_OK : strcmp(q->result, "failed") == 0 ? EV_FAILED
													  : EV_REFUSED,
			     err);
}

int
ops_patch_status(struct ops_ctx *x, struct db_patch_target **t, size_t *nt, struct db_patch_report **rep, size_t *nr,
		 struct bw_err *err)
{
	struct event ev;
	int r;

	*t = NULL;
	*rep = NULL;
	*nt = *nr = 0;
	r = ops_begin(x, OP_PATCH_STATUS, &ev, err);
	ev_target(&ev, "patch:status");
	if (r == 0 && (r = db_patch_target_list(x->in->db, t, nt, err)) == 0 &&
	    (r = db_patch_report_list(x->in->db, rep, nr, err)) != 0) {
		free(*t);
		*t = NULL;
		*nt = 0;
	}
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_PATCH_STATUS, &ev, r, err);
}

int
ops_patch_target_published(struct ops_ctx *x, const char *name, const char *sha256, struct db_patch_target *row,
			   struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin(x, OP_PATCH_TARGET_GET, &ev, err);
	ev_target(&ev, "%.150s", name);
	if (r == 0 && (r = db_patch_target_get(x->in->db, name, sha256, row, err)) == 0) {
		ev_clear(&ev);	/* a public read */
		return 0;
	}
	if (r == BW_ENOTFOUND) {
		ev_clear(&ev);	/* the transport answers 404 and records it */
		return r;
	}
	return ops_finish(x, OP_PATCH_TARGET_GET, &ev, r, err);
}

/* One alert per root/targets version expiring within 14 days (hosts refuse expired metadata as a freeze attack). */
static void
warn_offline_expiry(struct ops_ctx *x, const struct patch_trust *st, int64_t now)
{
	const json_t *md[2] = { st->root, st->targets };
	const char *role[2] = { "root", "targets" };
	int i;

	for (i = 0; i < 2; i++) {
		int64_t when;
		char remedy[80];
		const char *exp;
		struct event ev;
		if (md[i] == NULL || x->env->patch_warned[i] == patch_meta_version(md[i]))
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
		if (audit_record(x->al, &ev, NULL, NULL) == 0)
			x->env->patch_warned[i] = patch_meta_version(md[i]);
		ev_clear(&ev);
	}
}

void
ops_patch_sweep(struct ops_ctx *x)
{
	struct patch_trust st = { 0 };
	struct patch_lifetimes life = lifetimes(x->env);
	struct bw_err err = { 0 };
	int64_t now = ops_now();
	bool snap, ts, loaded;

	if (ops_authorize(OP_PATCH_RESIGN, x->caller) != OPS_ALLOW)
		return;
	pthread_mutex_lock(&x->env->patch_mu);
	loaded = patch_repo_load(x->env->patch_dir, &st, &err) == 0;
	if (loaded && st.root != NULL && promote_named(x, st.root, false, &err) != 0)
		EV_LOG(EVLOG_ERROR, "a staged online key the published root names could not be made current",
		       EV_KS("error", err.msg));
	if (loaded && st.targets != NULL) {
		struct patch_pins pins;
		warn_offline_expiry(x, &st, now);
		patch_repo_due(&st, &life, now, &snap, &ts);
		if (ts && (load_pins(x, &pins, &err) != 0 || patch_repo_check(&st, &pins, &err) != 0)) {
			alert_refused(x, err.msg);
			ts = false;
		} else if (ts) {
			x->env->patch_refused[0] = '\0';	/* a later change is alerted again */
			if (pins.root_version == 0)	/* a data directory from before the pins: adopt what verifies now */
				pin_published(x, &st, &err);
		}
		if (ts) {
			struct event ev;
			int r = patch_repo_issue(x->env->patch_dir, &st, &x->in->tuf_snapshot, &x->in->tuf_timestamp, &life,
						 snap, now, &err);
			ev_init(&ev, EV_PATCH_RESIGN, NULL);
			ev_target(&ev, "%s", snap ? "snapshot+timestamp" : "timestamp");
			ev.result = r == 0 ? EV_OK : EV_ERROR;
			ev_int(&ev, EVF_SNAPSHOT_VERSION, patch_meta_version(st.snapshot));
			ev_int(&ev, EVF_TIMESTAMP_VERSION, patch_meta_version(st.timestamp));
			if (r != 0) {
				ev_str(&ev, EVF_ERROR, err.msg);
				EV_LOG(EVLOG_ERROR, "patch metadata not re-signed", EV_KS("error", err.msg));
			}
			if (audit_record(x->al, &ev, NULL, &err) != 0)
				EV_LOG(EVLOG_ERROR, "patch.resign not recorded", EV_KS("error", err.msg));
			ev_clear(&ev);
		}
	}
	pthread_mutex_unlock(&x->env->patch_mu);
	patch_trust_clear(&st);
}
