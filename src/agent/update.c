/*
 * agent/update.c: `bulwark agent update`. TUF client workflow (spec §5):
 * fixed start time, root chain, timestamp, snapshot, targets, each
 * verified and persisted before the next; then for every target meant for
 * this host: bounded download, hash, the tlog-proof of its publication
 * (the pinned log key, or a later one through its transitions; consistent
 * with the last checkpoint seen), install,
 * report. Any failed check refuses with the reason; nothing unverified is
 * installed or trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "agent_internal.h"
#include "witness/witness.h"
#include "hostev/hostev.h"
#include "events/events.h"
#include "note/note.h"
#include "patch/patch.h"
#include "tlog/tlog.h"

#define ROOT_MAX ((uint64_t)1 << 20)
#define TIMESTAMP_MAX ((uint64_t)64 << 10)
#define SNAPSHOT_MAX ((uint64_t)16 << 20)	/* when the timestamp lists no length */
#define TARGETS_MAX ((uint64_t)64 << 20)	/* when the snapshot lists no length */
#define PROOF_MAX ((uint64_t)TLOG_PROOF_FILE_MAX)
#define ROOT_ROTATIONS_MAX 1024

extern char **environ;

struct agent {
	const char *state;
	struct agent_identity id;	/* config.json and the host's credential */
	json_t *cfg;			/* id.cfg */
	struct agent_http repo, report;
	struct agent_net *net;		/* --user: the network in a child as that user (NULL: here) */
	uint8_t *ca_pem;		/* the pinned CA, read before the child became the user */
	char *token;			/* id.token */
	const char *host, *group;
	struct tlog_keychain log_keys;	/* the pinned key, then the ones its transitions named */
	bool keys_followed;		/* this run fetched the transitions */
	struct witness_policy *policy;	/* <state>/witness.policy: the quorum a proof needs (NULL: none) */
	bool fail_open;			/* without the quorum: warn and install */
	struct patch_trust trust;
	json_t *installed;
	FILE *log;
	int64_t now;
};

static const char *
cfg_str(const struct agent *a, const char *key)
{
	return json_string_value(json_object_get(a->cfg, key));
}

static int
state_path(const struct agent *a, char *out, size_t cap, const char *file)
{
	return (size_t)snprintf(out, cap, "%s/%s", a->state, file) >= cap ? -1 : 0;
}

/* Loads state/<file> as JSON into *out (NULL when absent). */
static int
state_load(const struct agent *a, const char *file, json_t **out, struct bw_err *err)
{
	char path[4096];
	json_error_t jerr;

	*out = NULL;
	if (state_path(a, path, sizeof path, file) != 0)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	if (access(path, F_OK) != 0)
		return 0;
	if ((*out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s: %s", path, jerr.text);
	return 0;
}

static int
state_save_bytes(const struct agent *a, const char *file, const void *p, size_t n, struct bw_err *err)
{
	char path[4096];

	if (state_path(a, path, sizeof path, file) != 0)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	return bw_file_write_atomic(path, p, n, 0600, err);
}

static int
state_save(const struct agent *a, const char *file, const json_t *j, struct bw_err *err)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	if (text == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = state_save_bytes(a, file, text, strlen(text), err);
	free(text);
	return r;
}

static void
state_remove(const struct agent *a, const char *file)
{
	char path[4096];

	if (state_path(a, path, sizeof path, file) == 0)
		unlink(path);
}

static void
agent_clear(struct agent *a)
{
	agent_identity_clear(&a->id);
	json_decref(a->installed);
	tlog_keychain_clear(&a->log_keys);
	witness_policy_free(a->policy);
	patch_trust_clear(&a->trust);
}

/* The witness policy pinned at init, if any; a file that does not parse stops the update. */
static int
policy_load(struct agent *a, struct bw_err *err)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t len;
	int r;

	if (state_path(a, path, sizeof path, AGENT_WITNESS_POLICY) != 0)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	if (access(path, F_OK) != 0)
		return 0;
	if ((r = bw_file_read(path, WITNESS_POLICY_TEXT_MAX, &text, &len, err)) == 0 &&
	    (r = witness_policy_parse((const char *)text, len, &a->policy, err)) != 0)
		bw_err_prefix(err, "%s", path);
	free(text);
	return r;
}

static int
agent_load(struct agent *a, struct bw_err *err)
{
	const char *vkey;
	int r;

	if ((r = agent_identity_load(a->state, &a->id, err)) != 0)
		return r;
	a->cfg = a->id.cfg;
	a->token = a->id.token;
	a->report = a->id.http;
	a->repo.base = cfg_str(a, "server");
	a->repo.cacert = a->report.cacert;
	a->host = a->id.host;
	a->group = cfg_str(a, "group");
	vkey = cfg_str(a, "log_vkey");
	if (a->repo.base == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s/config.json lacks server", a->state);
	if (vkey == NULL)
		return bw_err_set(err, BW_EINVAL, "this agent was set up without --root and --log-key: it takes no patches");
	if ((r = agent_log_keys_load(a->state, vkey, &a->log_keys, err)) != 0)
		return bw_err_prefix(err, "config log_vkey"), r;
	if ((r = policy_load(a, err)) != 0)
		return r;
	a->fail_open = json_is_true(json_object_get(a->cfg, "witness_fail_open"));
	if ((r = state_load(a, "root.json", &a->trust.root, err)) != 0 ||
	    (r = state_load(a, "timestamp.json", &a->trust.timestamp, err)) != 0 ||
	    (r = state_load(a, "snapshot.json", &a->trust.snapshot, err)) != 0 ||
	    (r = state_load(a, "targets.json", &a->trust.targets, err)) != 0 ||
	    (r = state_load(a, "installed.json", &a->installed, err)) != 0)
		return r;
	if (a->trust.root == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s/root.json is missing: the agent has no trust anchor", a->state);
	if (a->installed == NULL)
		a->installed = json_object();
	return 0;
}

/* Sends one report (or queues it in reports.pending when the server cannot take it now). */
static void
report(struct agent *a, const char *target, const char *sha, const char *version, const char *result,
       const char *reason)
{
	json_t *body = json_pack("{s:s, s:s, s:s}", "host", a->host, "target", target, "result", result);
	struct bw_err err = { 0 };
	long status = 0;

	{
		/* also a host event of source agent (shipped by `agent run`, when it runs on this state) */
		char detail[1400];
		struct bw_err aerr = { 0 };
		char action[32];
		struct hostev_action act = { .time_ms = bw_now_ms(), .action = action, .object = target,
					     .result = strcmp(result, "installed") == 0 ? "success" : "failure",
					     .detail = detail };
		snprintf(action, sizeof action, "patch.%s", result);
		snprintf(detail, sizeof detail, "%s%s%s%s%s%.1000s", version ? "version " : "", version ? version : "",
			 sha ? " sha256 " : "", sha ? sha : "", reason ? (version || sha ? "; " : "") : "",
			 reason ? reason : "");
		if (agent_action_record(a->state, &act, &aerr) != 0)
			fprintf(a->log, "report: the %s of %s was not recorded as a host event: %s\n", result, target,
				aerr.msg);
	}
	if (sha)
		json_object_set_new(body, "sha256", json_string(sha));
	if (version)
		json_object_set_new(body, "version", json_string(version));
	if (reason)
		json_object_set_new(body, "reason", json_stringn(reason, strnlen(reason, 1000)));
	if (a->token == NULL) {
		fprintf(a->log, "report: this host has no credential (bulwark agent enrol); %s %s not reported\n", result,
			target);
	} else if (agent_net_post_json(a->net, &a->report, 1, "/api/v1/patch/reports", body, &status, &err) != 0 ||
		   status != 201) {
		char path[4096], *line = json_dumps(body, JSON_COMPACT);
		FILE *f;
		if (err.msg[0] == '\0')
			bw_err_set(&err, BW_EIO, "server answered HTTP %ld", status);
		fprintf(a->log, "report: not delivered (%s); queued\n", err.msg);
		if (line != NULL && state_path(a, path, sizeof path, "reports.pending") == 0 &&
		    (f = fopen(path, "a")) != NULL) {
			fprintf(f, "%s\n", line);
			fclose(f);
		}
		free(line);
	}
	json_decref(body);
}

/* Delivers reports queued by earlier runs; keeps the ones still not accepted. */
static void
report_pending(struct agent *a)
{
	char path[4096], line[4096];
	FILE *f;
	struct bw_buf keep = { 0 };
	struct bw_err err = { 0 };

	if (a->token == NULL || state_path(a, path, sizeof path, "reports.pending") != 0 || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		json_t *j = json_loads(line, 0, NULL);
		long status = 0;
		if (j == NULL)
			continue;
		if (agent_net_post_json(a->net, &a->report, 1, "/api/v1/patch/reports", j, &status, &err) != 0 || status != 201)
			bw_buf_append_str(&keep, line);
		json_decref(j);
	}
	fclose(f);
	if (keep.len == 0)
		unlink(path);
	else
		bw_file_write_atomic(path, keep.data, keep.len, 0600, &err);
	bw_buf_free(&keep);
}

/* §5.3: walk the root chain from the trusted root; drop what a key rotation voids. */
static int
update_root(struct agent *a, struct bw_err *err)
{
	char path[64];
	struct bw_buf b = { 0 };
	bool had_ts = a->trust.timestamp != NULL;
	int i, r;

	for (i = 0; i < ROOT_ROTATIONS_MAX; i++) {
		snprintf(path, sizeof path, "/patch/metadata/%lld.root.json", (long long)patch_meta_version(a->trust.root) + 1);
		if ((r = agent_net_get(a->net, &a->repo, 0, path, ROOT_MAX, &b, err)) == BW_ENOTFOUND)
			break;
		if (r != 0)
			return r;
		r = patch_client_root(&a->trust, b.data, b.len, err);
		if (r == 0)
			r = state_save_bytes(a, "root.json", b.data, b.len, err);
		bw_buf_free(&b);
		if (r != 0)
			return r;
		fprintf(a->log, "root: now version %lld\n", (long long)patch_meta_version(a->trust.root));
	}
	bw_err_clear(err);
	if (had_ts && a->trust.timestamp == NULL) {	/* rotated online keys: their old metadata is void */
		state_remove(a, "timestamp.json");
		state_remove(a, "snapshot.json");
		fprintf(a->log, "root: timestamp/snapshot keys rotated; their trusted metadata was discarded\n");
	}
	return patch_check_expiry(a->trust.root, "root", a->now, err);
}

/* Bound for a file a meta entry names: its length when listed, else def. */
static uint64_t
meta_bound(const json_t *md, const char *file, uint64_t def)
{
	const json_t *l = json_object_get(patch_meta_entry(md, file), "length");

	return json_is_integer(l) && json_integer_value(l) > 0 ? (uint64_t)json_integer_value(l) : def;
}

static json_int_t
meta_version(const json_t *md, const char *file)
{
	return json_integer_value(json_object_get(patch_meta_entry(md, file), "version"));
}

/* §5.4-§5.6: timestamp, snapshot, targets. */
static int
update_metadata(struct agent *a, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	char path[96];
	int r;

	if ((r = agent_net_get(a->net, &a->repo, 0, "/patch/metadata/timestamp.json", TIMESTAMP_MAX, &b, err)) != 0)
		return bw_err_prefix(err, "timestamp"), r;
	r = patch_client_timestamp(&a->trust, b.data, b.len, a->now, err);
	bw_buf_free(&b);
	if (r != 0 || (r = state_save(a, "timestamp.json", a->trust.timestamp, err)) != 0)
		return r;
	snprintf(path, sizeof path, "/patch/metadata/%lld.snapshot.json",
		 (long long)meta_version(a->trust.timestamp, "snapshot.json"));
	if ((r = agent_net_get(a->net, &a->repo, 0, path, meta_bound(a->trust.timestamp, "snapshot.json", SNAPSHOT_MAX), &b,
				err)) != 0)
		return bw_err_prefix(err, "snapshot"), r;
	r = patch_client_snapshot(&a->trust, b.data, b.len, a->now, err);
	bw_buf_free(&b);
	if (r != 0 || (r = state_save(a, "snapshot.json", a->trust.snapshot, err)) != 0)
		return r;
	snprintf(path, sizeof path, "/patch/metadata/%lld.targets.json",
		 (long long)meta_version(a->trust.snapshot, "targets.json"));
	if ((r = agent_net_get(a->net, &a->repo, 0, path, meta_bound(a->trust.snapshot, "targets.json", TARGETS_MAX), &b, err)) != 0)
		return bw_err_prefix(err, "targets"), r;
	r = patch_client_targets(&a->trust, b.data, b.len, a->now, err);
	bw_buf_free(&b);
	if (r != 0 || (r = state_save(a, "targets.json", a->trust.targets, err)) != 0)
		return r;
	fprintf(a->log, "metadata: timestamp %lld, snapshot %lld, targets %lld verified\n",
		(long long)patch_meta_version(a->trust.timestamp), (long long)patch_meta_version(a->trust.snapshot),
		(long long)patch_meta_version(a->trust.targets));
	return 0;
}

/* The checkpoint in cp must extend (or be extended by) the last one this host saw; then it is remembered. */
static int
check_consistent(struct agent *a, const uint8_t *note, size_t note_len, const struct tlog_checkpoint *cp,
		 struct bw_err *err)
{
	char path[4096], url[96];
	uint8_t *old_note = NULL;
	size_t old_len;
	struct tlog_checkpoint old = { 0 };
	struct bw_buf b = { 0 };
	struct tlog_proof p = { 0 };
	struct bw_sha256 *h = NULL;
	const struct tlog_checkpoint *lo, *hi;
	int r;

	if (state_path(a, path, sizeof path, "checkpoint") != 0)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	if (access(path, F_OK) != 0)	/* first checkpoint: trust on first use, remembered below */
		return state_save_bytes(a, "checkpoint", note, note_len, err);
	if ((r = bw_file_read(path, NOTE_MAX_SIZE, &old_note, &old_len, err)) != 0 ||
	    (r = tlog_keychain_open(&a->log_keys, old_note, old_len, &old, err)) != 0) {
		bw_err_prefix(err, "the last checkpoint seen");
		goto out;
	}
	lo = old.size <= cp->size ? &old : cp;
	hi = old.size <= cp->size ? cp : &old;
	if (lo->size == hi->size) {
		if (memcmp(lo->root.b, hi->root.b, TLOG_HASH_SIZE) != 0)
			r = bw_err_set(err, BW_EVERIFY, "the log was forked: two different trees of size %llu",
				       (unsigned long long)lo->size);
		goto out;
	}
	if (lo->size > 0) {
		snprintf(url, sizeof url, "/log/consistency/%llu/%llu", (unsigned long long)lo->size,
			 (unsigned long long)hi->size);
		if ((r = agent_net_get(a->net, &a->repo, 0, url, 64 * 50, &b, err)) != 0) {
			bw_err_prefix(err, "consistency proof");
			goto out;
		}
		if ((r = tlog_proof_lines_parse(b.data, b.len, &p, err)) != 0) {
			bw_err_prefix(err, "consistency proof");
			goto out;
		}
		if ((r = bw_sha256_new(&h, err)) != 0)
			goto out;
		if ((r = tlog_verify_consistency(h, lo->size, hi->size, &lo->root, &hi->root, &p, err)) != 0) {
			bw_err_prefix(err, "checkpoint of size %llu is not consistent with the one of size %llu seen before "
				      "(forked log)", (unsigned long long)cp->size, (unsigned long long)old.size);
			goto out;
		}
	}
	if (cp->size > old.size)
		r = state_save_bytes(a, "checkpoint", note, note_len, err);
out:
	free(old_note);
	tlog_checkpoint_clear(&old);
	bw_buf_free(&b);
	bw_sha256_free(h);
	return r;
}

static int
handover_consistent(void *ctx, const uint8_t *note, size_t len, const struct tlog_checkpoint *cp, struct bw_err *err)
{
	return check_consistent(ctx, note, len, cp, err);
}

/*
 * Once a run: the log's key transitions past the last one this host
 * followed, each verified (by the key before it, the entry naming the next
 * one, the handover consistent with what this host saw) before it counts.
 * A server that cannot say is not an error here: a checkpoint under a key
 * this host does not know is refused below.
 */
static int
follow_log_keys(struct agent *a, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	size_t followed = 0;
	int r;

	if (a->keys_followed)
		return 0;
	a->keys_followed = true;
	if ((r = agent_net_get(a->net, &a->repo, 0, "/log/key-transitions", (uint64_t)8 << 20, &b,
			       err)) != 0) {
		fprintf(a->log, "log keys: the key transitions could not be fetched (%s); the keys known stay\n", err->msg);
		bw_err_clear(err);
		return 0;
	}
	r = agent_log_keys_update(a->state, &a->log_keys, b.data, b.len, handover_consistent, a, &followed, err);
	bw_buf_free(&b);
	if (r != 0)
		return bw_err_prefix(err, "the log's key transitions (refused)");
	if (followed > 0)
		fprintf(a->log, "log keys: followed %zu key transition%s; the log's key now signs from size %llu\n", followed,
			followed == 1 ? "" : "s", (unsigned long long)a->log_keys.from[a->log_keys.n - 1]);
	return 0;
}

/*
 * The proof's checkpoint must carry the policy's quorum of witness
 * cosignatures: fail closed, unless the agent was set up to fail open
 * (then a warning, and the install goes on).
 */
static int
check_quorum(struct agent *a, const struct tlog_proof_file *pf, const struct tlog_checkpoint *cp, struct bw_err *err)
{
	struct note *n = NULL;
	char why[300];
	int r;

	if ((r = note_parse((const uint8_t *)pf->checkpoint, pf->checkpoint_len, &n, err)) != 0)
		return bw_err_prefix(err, "tlog-proof checkpoint"), r;
	/* the log's signature was verified with the key for the checkpoint's size (the policy may name an earlier key) */
	r = witness_policy_check_quorum(a->policy, n, cp->origin, why, sizeof why);
	note_free(n);
	if (r == 0)
		return 0;
	if (a->fail_open) {
		fprintf(a->log, "warning: the witness policy: %s (size %llu); installing anyway (witness_fail_open)\n", why,
			(unsigned long long)cp->size);
		return 0;
	}
	return bw_err_set(err, BW_EVERIFY, "the witness policy: %s (checkpoint of size %llu): its witnesses have not "
			  "cosigned the log with this target yet", why, (unsigned long long)cp->size);
}

/* The target's publication must be in the log: proof, pinned key, witness quorum, entry fields, consistency. */
static int
check_logged(struct agent *a, const struct patch_target *t, const char *urlpath, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	struct tlog_proof_file pf = { 0 };
	struct tlog_checkpoint cp = { 0 };
	struct bw_sha256 *h = NULL;
	struct ev_patch_target logged;
	char url[600];
	int r;

	if ((size_t)snprintf(url, sizeof url, "/patch/targets/%s.tlog-proof", urlpath) >= sizeof url)
		return bw_err_set(err, BW_ERANGE, "target path too long");
	if ((r = agent_net_get(a->net, &a->repo, 0, url, PROOF_MAX, &b, err)) != 0) {
		if (r == BW_ENOTFOUND)
			bw_err_set(err, BW_EVERIFY, "no transparency-log proof for this target: its publication is not in "
				   "the audit log");
		return r == BW_ENOTFOUND ? BW_EVERIFY : r;
	}
	if ((r = tlog_proof_file_parse(b.data, b.len, &pf, err)) != 0 || (r = bw_sha256_new(&h, err)) != 0) {
		bw_err_prefix(err, "tlog-proof");
		goto out;
	}
	if (pf.extra == NULL) {
		r = bw_err_set(err, BW_EVERIFY, "tlog-proof carries no log entry");
		goto out;
	}
	if ((r = follow_log_keys(a, err)) != 0)
		goto out;
	if ((r = tlog_keychain_verify_proof(h, &a->log_keys, &pf, pf.extra, pf.extra_len, &cp, err)) != 0) {
		bw_err_prefix(err, "tlog-proof");
		goto out;
	}
	if (a->policy != NULL && (r = check_quorum(a, &pf, &cp, err)) != 0)
		goto out;
	if ((r = ev_patch_target_parse(pf.extra, pf.extra_len, &logged, err)) != 0) {
		bw_err_prefix(err, "entry %llu", (unsigned long long)pf.index);
		goto out;
	}
	if (strcmp(logged.name, t->name) != 0 || strcmp(logged.sha256, t->sha256_hex) != 0 ||
	    logged.length != t->length || strcmp(logged.version, t->version ? t->version : "") != 0) {
		r = bw_err_set(err, BW_EVERIFY, "the logged entry %llu does not record this target (name, sha256, length, "
			       "version)", (unsigned long long)pf.index);
		goto out;
	}
	r = check_consistent(a, (const uint8_t *)pf.checkpoint, pf.checkpoint_len, &cp, err);
out:
	tlog_proof_file_clear(&pf);
	tlog_checkpoint_clear(&cp);
	bw_sha256_free(h);
	bw_buf_free(&b);
	return r;
}

/* Runs the install command with the target in the environment; 0 when it exits 0. */
static int
run_install(struct agent *a, const struct patch_target *t, const char *file, struct bw_err *err)
{
	const char *cmd = cfg_str(a, "install");
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	char e1[4200], e2[300], e3[120], e4[100], e5[100];
	char **env = NULL;
	size_t n = 0, i;
	pid_t pid;
	int st, r;

	if (cmd == NULL)
		return 0;
	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 6, sizeof *env)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	snprintf(e1, sizeof e1, "BULWARK_PATCH_FILE=%s", file);
	snprintf(e2, sizeof e2, "BULWARK_PATCH_NAME=%s", t->name);
	snprintf(e3, sizeof e3, "BULWARK_PATCH_VERSION=%s", t->version ? t->version : "");
	snprintf(e4, sizeof e4, "BULWARK_PATCH_SHA256=%s", t->sha256_hex);
	snprintf(e5, sizeof e5, "BULWARK_HOST=%s", a->host);
	env[n] = e1;
	env[n + 1] = e2;
	env[n + 2] = e3;
	env[n + 3] = e4;
	env[n + 4] = e5;
	argv[2] = (char *)cmd;
	r = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, env);
	free(env);
	if (r != 0)
		return bw_err_set(err, BW_EIO, "cannot run the install command: %s", strerror(r));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return bw_err_set(err, BW_EIO, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return bw_err_set(err, BW_EIO, "the install command failed (%s %d)", WIFEXITED(st) ? "exit" : "signal",
				  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

/* Where a verified target is placed: <install_dir>/<name>, directories created. */
static int
install_path(const struct agent *a, const char *name, char *out, size_t cap, struct bw_err *err)
{
	const char *dir = cfg_str(a, "install_dir");
	char *slash;
	int n;

	n = dir ? snprintf(out, cap, "%s/%s", dir, name) : snprintf(out, cap, "%s/installed/%s", a->state, name);
	if (n < 0 || (size_t)n >= cap)
		return bw_err_set(err, BW_ERANGE, "install path too long");
	slash = strrchr(out, '/');
	*slash = '\0';
	n = bw_mkdir_p(out, 0755, err);
	*slash = '/';
	return n;
}

/* Download, verify, log check, install: one target. */
static int
apply_target(struct agent *a, const struct patch_target *t, struct bw_err *err)
{
	char urlpath[512], url[600], tmp[4096], dest[4096];
	uint8_t got[32];
	uint64_t len = 0;
	int fd, r;

	if (patch_target_url_path(t, urlpath, sizeof urlpath) != 0 || !patch_target_name_valid(t->name))
		return bw_err_set(err, BW_EINVAL, "target name not allowed");
	if ((r = install_path(a, t->name, dest, sizeof dest, err)) != 0)
		return r;
	if ((size_t)snprintf(tmp, sizeof tmp, "%.4000s.bulwark-partial", dest) >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "install path too long");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
	if ((size_t)snprintf(url, sizeof url, "/patch/targets/%s", urlpath) >= sizeof url) {
		close(fd);
		unlink(tmp);
		return bw_err_set(err, BW_ERANGE, "target path too long");
	}
	r = agent_net_get_file(a->net, &a->repo, 0, url, t->length, fd, got, &len, err);
	if (r == 0 && len != t->length)
		r = bw_err_set(err, BW_EVERIFY, "download is %llu bytes, the signed targets list %llu",
			       (unsigned long long)len, (unsigned long long)t->length);
	if (r == 0 && memcmp(got, t->sha256, 32) != 0)
		r = bw_err_set(err, BW_EVERIFY, "downloaded file does not match the signed sha256 (tampered file or "
			       "malicious mirror)");
	if (r == 0 && fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (r == 0)
		r = check_logged(a, t, urlpath, err);
	if (r != 0) {
		unlink(tmp);
		return r;
	}
	if (rename(tmp, dest) != 0) {
		unlink(tmp);
		return bw_err_set(err, BW_EIO, "%s: %s", dest, strerror(errno));
	}
	bw_fsync_dir(dest, false, NULL);
	if ((r = run_install(a, t, dest, err)) != 0)
		return BW_EIO;
	return 0;
}

int
agent_update(const char *state, const char *user, int64_t now, FILE *log, struct agent_update_result *res,
	     struct bw_err *err)
{
	struct agent a = { .state = state, .now = now, .log = log };
	const char *name;
	char lockpath[4096];
	json_t *e;
	int r, lockfd = -1;

	memset(res, 0, sizeof *res);
	/* One run at a time per state directory (cron and a manual run must not interleave). */
	if (state_path(&a, lockpath, sizeof lockpath, "lock") != 0 ||
	    (lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return errno == ENOENT ? bw_err_set(err, BW_ENOTFOUND, "%s holds no agent (run 'bulwark agent init')", state)
				       : bw_err_set(err, BW_EIO, "%s: cannot open the lock file (%s)", state, strerror(errno));
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		close(lockfd);
		return bw_err_set(err, BW_EBUSY, "another agent update is running on %s", state);
	}
	if ((r = agent_load(&a, err)) != 0)
		goto out;
	if (user != NULL) {
		/* privilege separation: TLS and HTTP in a child that is the user; every check and the install here */
		struct agent_http both[2];
		size_t len = 0;
		if (geteuid() != 0) {
			r = bw_err_set(err, BW_EDENIED, "--user needs the update started as root");
			goto out;
		}
		if (a.repo.cacert != NULL) {
			if ((r = bw_file_read(a.repo.cacert, (size_t)1 << 20, &a.ca_pem, &len, err)) != 0)
				goto out;
			a.repo.ca_pem = a.report.ca_pem = (const char *)a.ca_pem;
			a.repo.ca_pem_len = a.report.ca_pem_len = len;
		}
		both[0] = a.repo;
		both[1] = a.report;
		if ((r = agent_net_start(both, user, &a.net, err)) != 0)
			goto out;
	}
	report_pending(&a);
	if ((r = update_root(&a, err)) != 0 || (r = update_metadata(&a, err)) != 0) {
		fprintf(log, "refused: %s\n", err->msg);
		report(&a, "(metadata)", NULL, NULL, "refused", err->msg);
		res->refused++;
		goto out;
	}
	json_object_foreach(json_object_get(json_object_get(a.trust.targets, "signed"), "targets"), name, e) {
		struct patch_target t;
		struct bw_err terr = { 0 };
		const char *have;
		(void)e;
		if (patch_target_get(a.trust.targets, name, &t, &terr) != 0) {
			fprintf(log, "refused %s: %s\n", name, terr.msg);
			report(&a, name, NULL, NULL, "refused", terr.msg);
			res->refused++;
			continue;
		}
		if (!patch_target_for_host(&t, a.host, a.group))
			continue;
		have = json_string_value(json_object_get(json_object_get(a.installed, name), "sha256"));
		if (have != NULL && strcmp(have, t.sha256_hex) == 0) {
			res->current++;
			continue;
		}
		if ((r = apply_target(&a, &t, &terr)) != 0) {
			bool refused = r == BW_EVERIFY || r == BW_ERANGE || r == BW_EINVAL;
			fprintf(log, "%s %s: %s\n", refused ? "refused" : "failed", name, terr.msg);
			report(&a, name, t.sha256_hex, t.version, refused ? "refused" : "failed", terr.msg);
			if (refused)
				res->refused++;
			else
				res->failed++;
			continue;
		}
		json_object_set_new(a.installed, name, json_pack("{s:s, s:s?, s:I}", "sha256", t.sha256_hex, "version",
								 t.version, "installed_at", (json_int_t)now));
		if (state_save(&a, "installed.json", a.installed, &terr) != 0)
			fprintf(log, "warning: %s\n", terr.msg);
		fprintf(log, "installed %s version %s (sha256 %s)\n", name, t.version ? t.version : "-", t.sha256_hex);
		report(&a, name, t.sha256_hex, t.version, "installed", NULL);
		res->installed++;
	}
	r = res->refused || res->failed ? bw_err_set(err, BW_EVERIFY, "%u refused, %u failed", res->refused, res->failed)
					: 0;
out:
	agent_net_stop(a.net);
	free(a.ca_pem);
	agent_clear(&a);
	close(lockfd);	/* releases the lock */
	return r;
}
