/*
 * store: the SQLite database (WAL, STRICT tables, versioned migrations).
 * The only module that speaks SQL. One connection, serialised by a mutex
 * inside; safe to call from several threads.
 */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define DB_SCHEMA_VERSION 20	/* the number of migrations (checked at compile time) */

struct bw_db;

/* Opens (creating if asked) the database at path and applies migrations. Caller closes. */
int db_open(const char *path, bool create, struct bw_db **out, struct bw_err *err);
void db_close(struct bw_db *db);
/*
 * Copies the database at src into the new file dst (0600) with SQLite's
 * online backup: one consistent state of it while other connections keep
 * writing. dst must not exist.
 */
int db_snapshot(const char *src, const char *dst, struct bw_err *err);
/* The schema version of the database at path (the migrations applied), read without migrating it. */
int db_file_schema_version(const char *path, int64_t *version, struct bw_err *err);
/*
 * A transaction spanning several store calls, for an operation that must
 * make its audit event durable before the COMMIT: db_tx_begin, the calls
 * (each becomes a savepoint inside it), then db_tx_end(db, rc, err), which
 * commits when rc is 0 and rolls back otherwise, and returns rc or the
 * commit's error. Other threads' store calls wait until db_tx_end.
 */
int db_tx_begin(struct bw_db *db, struct bw_err *err);
int db_tx_end(struct bw_db *db, int rc, struct bw_err *err);

/* Current schema version. */
int db_schema_version(struct bw_db *db, int64_t *version, struct bw_err *err);

/* ---- users ---- */

struct db_user {
	int64_t id;
	char *username;
	char *password_hash;
	uint8_t *totp_sealed;	/* sealed TOTP secret; NULL when MFA was reset */
	size_t totp_sealed_len;
	int64_t totp_last_step;	/* last accepted time step (-1: none) */
	bool disabled;
	unsigned roles;		/* bit mask, see auth */
	int64_t created_at;
	int64_t locked_clients;	/* clients locked out of this name now (set by db_login_locked_clients' callers) */
};

void db_user_clear(struct db_user *u);
/* BW_EEXIST when the name is taken. */
int db_user_insert(struct bw_db *db, const char *username, const char *password_hash,
		   const uint8_t *totp_sealed, size_t totp_len, unsigned roles, int64_t now,
		   int64_t *id, struct bw_err *err);
/* BW_ENOTFOUND when absent. */
int db_user_by_name(struct bw_db *db, const char *username, struct db_user *out, struct bw_err *err);
int db_user_by_id(struct bw_db *db, int64_t id, struct db_user *out, struct bw_err *err);
/* All users ordered by id. Caller frees with db_users_free(). */
int db_user_list(struct bw_db *db, struct db_user **out, size_t *n, struct bw_err *err);
void db_users_free(struct db_user *u, size_t n);
/*
 * Enables or disables a user. Disabling the last enabled admin is refused
 * (BW_EINVAL) atomically. Disabling revokes the user's sessions and tokens.
 */
int db_user_set_disabled(struct bw_db *db, int64_t id, bool disabled, unsigned admin_mask,
			 struct bw_err *err);
/* Sets roles; removing admin from the last enabled admin is refused. */
int db_user_set_roles(struct bw_db *db, int64_t id, unsigned roles, unsigned admin_mask,
		      struct bw_err *err);
int db_user_set_password(struct bw_db *db, int64_t id, const char *hash, struct bw_err *err);
/* Replaces the TOTP secret and resets the last accepted step. */
int db_user_set_totp(struct bw_db *db, int64_t id, const uint8_t *sealed, size_t len,
		     struct bw_err *err);
/*
 * Accepts TOTP time step for the user only if it is later than the last
 * accepted one (atomic compare-and-set). BW_EVERIFY: replay or older code.
 */
int db_user_totp_accept(struct bw_db *db, int64_t id, int64_t step, struct bw_err *err);
/* ---- sign-in attempts per (submitted name, client) ---- */

struct db_login_policy {
	int64_t lock_after;		/* failures that lock this (name, client) */
	int64_t lock_secs;		/* how long; failures older than this are forgotten */
	int64_t backoff_ms;		/* back-off base: base * 2^(failures-1), at most 30 s */
};

struct db_login_attempt {
	bool admitted;			/* may check the password now (the attempt is already counted) */
	bool locked;			/* refused: this (name, client) is locked */
	int64_t retry_after;		/* seconds, when refused */
	int64_t failures;		/* counted so far, this attempt included (when admitted) */
	bool locks;			/* this attempt, if it fails, is the one that locks */
};

/*
 * Decides atomically whether a sign-in for name from client may be checked
 * now, and if so counts it before the (slow) password check, so that
 * parallel attempts see each other. The same for known and unknown names.
 */
int db_login_attempt(struct bw_db *db, const struct db_login_policy *p, const char *name, const char *client,
		     int64_t now, struct db_login_attempt *out, struct bw_err *err);
/* A successful sign-in: forgets (name, client)'s failures. */
int db_login_ok(struct bw_db *db, const char *name, const char *client, struct bw_err *err);
/* Forgets the failures of name from client, or from every client (client NULL); *cleared (optional): rows. */
int db_login_forget(struct bw_db *db, const char *name, const char *client, int *cleared, struct bw_err *err);
/* How many clients are locked out of name now. */
int db_login_locked_clients(struct bw_db *db, const char *name, int64_t now, int64_t *n, struct bw_err *err);

/* ---- recovery codes (stored as SHA-256 hashes) ---- */

int db_recovery_replace(struct bw_db *db, int64_t user_id, const uint8_t (*hashes)[32], size_t n,
			struct bw_err *err);
/* Marks the unused code with this hash used. BW_EVERIFY when none matches. */
int db_recovery_use(struct bw_db *db, int64_t user_id, const uint8_t hash[32], int64_t now,
		    struct bw_err *err);
int db_recovery_remaining(struct bw_db *db, int64_t user_id, int64_t *n, struct bw_err *err);

/* ---- sessions and API tokens (stored as SHA-256 hashes) ---- */

enum { DB_TOKEN_SESSION = 0, DB_TOKEN_API = 1 };

struct db_token {
	int64_t id;
	int64_t user_id;
	int kind;
	char *name;		/* API tokens */
	unsigned scopes;	/* API tokens: role mask they may use */
	int64_t created_at, last_seen, expires_at;
	char username[65];	/* the owner (lookup only) */
	unsigned user_roles;	/* the owner's roles (lookup only) */
};

void db_token_clear(struct db_token *t);
int db_token_insert(struct bw_db *db, const uint8_t hash[32], int64_t user_id, int kind,
		    const char *name, unsigned scopes, int64_t now, int64_t expires_at, int64_t *id,
		    struct bw_err *err);
/*
 * Finds a live token: not revoked, not past expires_at, and (sessions) not
 * idle for more than idle_secs; refreshes last_seen. BW_ENOTFOUND otherwise.
 */
int db_token_lookup(struct bw_db *db, const uint8_t hash[32], int64_t now, int64_t idle_secs,
		    struct db_token *out, struct bw_err *err);
int db_token_revoke_hash(struct bw_db *db, const uint8_t hash[32], struct bw_err *err);
/* Revokes an API token by id owned by user (or any user when user_id < 0). */
int db_token_revoke_id(struct bw_db *db, int64_t id, int64_t user_id, struct bw_err *err);
int db_tokens_revoke_user(struct bw_db *db, int64_t user_id, struct bw_err *err);

/* ---- hosts (remote-maintenance targets) ---- */

struct db_host {
	int64_t id;
	char *name, *address, *grp;
	char *accounts;		/* comma-separated account names allowed on the host */
	int64_t created_at;
	int64_t agent_enrolled_at;	/* when its agent's credential was issued (0: none) */
	int64_t agent_last_seen;	/* the credential's last use, to the minute (0: none) */
};

void db_host_clear(struct db_host *h);
void db_hosts_free(struct db_host *h, size_t n);
/* BW_EEXIST when the name is taken. */
int db_host_insert(struct bw_db *db, const char *name, const char *address, const char *grp,
		   const char *accounts, int64_t now, int64_t *id, struct bw_err *err);
int db_host_by_name(struct bw_db *db, const char *name, struct db_host *out, struct bw_err *err);
/* All hosts (grp NULL) or those of one group, ordered by name. */
int db_host_list(struct bw_db *db, const char *grp, struct db_host **out, size_t *n, struct bw_err *err);

/* ---- one-time enrolment codes, host credentials, role grants (enrol_db.c) ---- */

enum db_enrol_kind { DB_ENROL_USER, DB_ENROL_HOST };

struct db_enrolment {
	int64_t id;
	int kind;			/* DB_ENROL_USER or DB_ENROL_HOST */
	int64_t subject_id;		/* the user's or the host's id */
	char subject[72];		/* its name (read only) */
	char issued_by[96];
	int64_t issued_at, expires_at;
	int64_t used_at;		/* 0: unused */
	bool cancelled;			/* a newer code replaced it */
	uint8_t *totp_sealed;		/* users: the TOTP secret offered by the first step (NULL: none yet) */
	size_t totp_sealed_len;
};

void db_enrolment_clear(struct db_enrolment *e);
/* Stores a new code (by its hash) for a subject; the subject's earlier unused codes are cancelled. */
int db_enrolment_issue(struct bw_db *db, int kind, int64_t subject_id, const uint8_t hash[32], const char *issued_by,
		       int64_t now, int64_t expires_at, struct bw_err *err);
/* The code with this hash, whatever its state (the caller decides); BW_ENOTFOUND when none. */
int db_enrolment_by_hash(struct bw_db *db, const uint8_t hash[32], struct db_enrolment *out, struct bw_err *err);
int db_enrolment_set_totp(struct bw_db *db, int64_t id, const uint8_t *sealed, size_t len, struct bw_err *err);
/* Marks the code used, once: BW_ECONFLICT when it was used or cancelled meanwhile. */
int db_enrolment_use(struct bw_db *db, int64_t id, int64_t now, const char *from, struct bw_err *err);
/* Expiry of the subject's usable code (0: none). */
int db_enrolment_outstanding(struct bw_db *db, int kind, int64_t subject_id, int64_t now, int64_t *expires_at,
			     struct bw_err *err);

struct db_host_credential {
	int64_t host_id;
	char host[72];
	int64_t issued_at, last_seen;
	char issued_from[72];
};

/* Binds a new credential (by its hash) to a host, replacing any earlier one. */
int db_host_credential_set(struct bw_db *db, int64_t host_id, const uint8_t hash[32], int64_t now, const char *from,
			   struct bw_err *err);
/* The host a credential belongs to (refreshing last_seen); BW_ENOTFOUND when none. */
int db_host_credential_lookup(struct bw_db *db, const uint8_t hash[32], int64_t now, struct db_host_credential *out,
			      struct bw_err *err);
/* Removes the host's credential; BW_ENOTFOUND when it had none. */
int db_host_credential_revoke(struct bw_db *db, int64_t host_id, struct bw_err *err);

struct db_role_grant {
	int64_t id;
	int64_t user_id;
	char username[72];		/* read only */
	unsigned roles;			/* the roles to add */
	int64_t requested_by_id;	/* 0: a local caller */
	char requested_by[96];
	int64_t requested_at;
	char state[16];			/* pending, approved, denied, cancelled */
	char decided_by[96];		/* "" while pending */
	int64_t decided_at;
};

int db_role_grant_insert(struct bw_db *db, const struct db_role_grant *g, int64_t *id, struct bw_err *err);
int db_role_grant_get(struct bw_db *db, int64_t id, struct db_role_grant *out, struct bw_err *err);
/* Grants, newest first, at most limit; pending_only for the open ones. Caller frees *out with free(). */
int db_role_grant_list(struct bw_db *db, bool pending_only, size_t limit, struct db_role_grant **out, size_t *n,
		       struct bw_err *err);
/* pending -> state (approved, denied, cancelled), once: BW_ECONFLICT when no longer pending. */
int db_role_grant_decide(struct bw_db *db, int64_t id, const char *state, const char *by, int64_t now,
			 struct bw_err *err);
/* Cancels the user's pending grants (e.g. when the user is disabled). */
int db_role_grants_cancel_user(struct bw_db *db, int64_t user_id, const char *by, int64_t now, struct bw_err *err);
/*
 * Enabled, enrolled users holding any of mask, other than the ids given
 * (0 ignored): the admins who could approve a grant.
 */
int db_users_with_role_count(struct bw_db *db, unsigned mask, int64_t not1, int64_t not2, int64_t *n,
			     struct bw_err *err);

/* ---- access requests ---- */

struct db_access {
	int64_t id;
	int64_t requester_id;
	char requester[65];	/* user name (read only) */
	char *hosts;		/* comma-separated host names */
	char *accounts;		/* comma-separated accounts */
	char *principals;	/* comma-separated "account@host" */
	int64_t valid_after, valid_before;
	char *reason, *ticket;	/* ticket may be NULL */
	char *pubkey;		/* "TYPE BASE64" */
	char *key_fp;
	char *source_address, *force_command;	/* may be NULL */
	unsigned permits;	/* bit mask, see access.h */
	int64_t approvals_needed;
	int64_t approvals;	/* approvals recorded (read only) */
	char state[16];		/* pending, issued, denied, revoked */
	char *certificate;	/* once issued */
	char *approvers;	/* comma-separated approver names (read only) */
	int64_t downloaded_at, created_at, decided_at, revoked_at;
};

/* A certificate still valid (an issued window's, or a revoked one's: its revocation must stay in the KRL). */
struct db_cert {
	char *certificate;
	int64_t valid_before;
};
void db_certs_free(struct db_cert *c, size_t n);
/* Every certificate valid at now (seconds). Caller frees with db_certs_free(). */
int db_access_certs_in_force(struct bw_db *db, int64_t now, struct db_cert **out, size_t *n, struct bw_err *err);
void db_access_clear(struct db_access *a);
void db_access_free(struct db_access *a, size_t n);
int db_access_insert(struct bw_db *db, const struct db_access *a, int64_t *id, struct bw_err *err);
int db_access_get(struct bw_db *db, int64_t id, struct db_access *out, struct bw_err *err);
/* Requests of one requester (requester_id > 0) or all, newest first, at most limit. */
int db_access_list(struct bw_db *db, int64_t requester_id, size_t limit, struct db_access **out,
		   size_t *n, struct bw_err *err);
/*
 * Records one review in one transaction: the request must still be
 * pending and the reviewer must not have reviewed it (who may review at
 * all, the four-eyes rule, is the operations layer's: ops_access_review).
 * A denial moves it to denied. An approval that reaches approvals_needed
 * moves it to issued with certificate (pre-signed by the caller for exactly
 * this outcome); if it does not complete the request, certificate is
 * ignored. *issued tells which happened. BW_EINVAL names a refused review.
 */
int db_access_review(struct bw_db *db, int64_t id, int64_t reviewer_id, bool approve,
		     const char *reason, const char *certificate, int64_t now, bool *issued,
		     struct bw_err *err);
int db_access_downloaded(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err);
/* pending or issued -> revoked. BW_EINVAL when already denied or revoked. */
int db_access_revoke(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err);
/*
 * Marks issued requests whose window ended by now as expired (once) and
 * returns their ids (caller frees *ids) so that the caller can audit them.
 */
int db_access_expire(struct bw_db *db, int64_t now, int64_t **ids, size_t *n, struct bw_err *err);

/* Serials (= request ids) of revoked issued certificates. Caller frees *out. */
int db_access_revoked(struct bw_db *db, uint64_t **out, size_t *n, struct bw_err *err);

/* ---- published patch targets (patch_db.c) ---- */

struct db_patch_target {
	char name[256];
	char sha256[65];
	int64_t length;
	char version[72];
	int64_t targets_version;
	int64_t log_index;		/* the audit-log entry that recorded the publication */
	int64_t published_at;
};

/* Records a published target; BW_EEXIST when (name, sha256) is already recorded. */
int db_patch_target_insert(struct bw_db *db, const struct db_patch_target *t, struct bw_err *err);
/* Looks up (name, sha256); BW_ENOTFOUND when that file was never published under that name. */
int db_patch_target_get(struct bw_db *db, const char *name, const char *sha256, struct db_patch_target *out,
			struct bw_err *err);

/* All published targets, newest first. Caller frees *out with free(). */
int db_patch_target_list(struct bw_db *db, struct db_patch_target **out, size_t *n, struct bw_err *err);

/*
 * What the server last published (names "root", "targets"): the version
 * and, for root, the SHA-256 of its file. BW_ENOTFOUND before the first
 * publication. text (65 bytes) may be NULL.
 */
int db_patch_state_get(struct bw_db *db, const char *name, int64_t *value, char text[65], struct bw_err *err);
int db_patch_state_set(struct bw_db *db, const char *name, int64_t value, const char *text, struct bw_err *err);

/* A host's latest report on one target. */
struct db_patch_report {
	char host[72];
	char target[256];
	char sha256[65];		/* "" when not reported */
	char version[72];		/* "" when not reported */
	char result[16];		/* installed, failed, refused */
	char reason[1032];		/* "" when none */
	char reported_by[72];		/* the account whose token sent it */
	int64_t at;
};

/* Records r as the latest report of (host, target). */
int db_patch_report_put(struct bw_db *db, const struct db_patch_report *r, struct bw_err *err);
/* Every host's latest reports, by host then target. Caller frees *out with free(). */
int db_patch_report_list(struct bw_db *db, struct db_patch_report **out, size_t *n, struct bw_err *err);

/* ---- alerts raised by detection rules (alert_db.c) ---- */

struct db_alert {
	int64_t id;
	char rule_id[72];
	char rule_title[264];
	char level[16];
	char group_key[200];
	char state[16];			/* open, acknowledged, resolved */
	char resolution[16];		/* "" until resolved */
	char reason[1032];
	char decided_by[96];
	int64_t count;
	int64_t first_index, last_index;	/* log indexes of the first and last matching events */
	char log[8];			/* which log: "audit" (bulwark's events) or "hosts" (host events) */
	int64_t first_seen, last_seen, updated_at;
	struct db_notify_state {
		int64_t attempts;	/* failed deliveries so far */
		int64_t delivered_at;	/* 0: not delivered (yet) */
		char error[256];	/* the last failure */
	} notify[2];			/* per channel: DB_NOTIFY_WEBHOOK, DB_NOTIFY_EMAIL */
	char assignee[72];		/* "" : nobody */
};

struct db_alert_comment {
	int64_t id;
	char author[96];
	int64_t at;
	char text[2048];
};

enum db_notify_channel { DB_NOTIFY_WEBHOOK, DB_NOTIFY_EMAIL };
/* Sets who works on an alert (NULL: nobody). BW_ENOTFOUND when there is no such alert. */
int db_alert_assign(struct bw_db *db, int64_t id, const char *assignee, int64_t now, struct bw_err *err);
/* Adds a comment to an alert. BW_ENOTFOUND when there is no such alert. */
int db_alert_comment_add(struct bw_db *db, int64_t id, const char *author, const char *text, int64_t now,
			 struct bw_err *err);
/* An alert's comments, oldest first. Caller frees *out. */
int db_alert_comments(struct bw_db *db, int64_t id, struct db_alert_comment **out, size_t *n, struct bw_err *err);
/* "webhook", "email". */
const char *db_notify_channel_name(enum db_notify_channel c);

/*
 * A match of rule_id for group_key at log index idx: counted into the
 * alert of that rule and group that is not resolved and was last seen
 * within window seconds, else a new alert (*is_new). *out receives it.
 */
int db_alert_raise(struct bw_db *db, const char *rule_id, const char *title, const char *level, const char *group_key,
		   const char *log, int64_t idx, int64_t now, int64_t window, struct db_alert *out, bool *is_new, struct bw_err *err);
/* Alerts (state NULL: all), by level (critical first), then the most recently seen; at most limit. Caller frees *out. */
int db_alert_list(struct bw_db *db, const char *state, size_t limit, struct db_alert **out, size_t *n,
		  struct bw_err *err);
/* BW_ENOTFOUND when there is no such alert. */
int db_alert_get(struct bw_db *db, int64_t id, struct db_alert *out, struct bw_err *err);
/*
 * Moves an alert to state (acknowledged or resolved, with resolution) by
 * who; BW_EINVAL when the alert is resolved already (or acknowledged twice).
 */
int db_alert_decide(struct bw_db *db, int64_t id, const char *state, const char *resolution, const char *reason,
		    const char *who, int64_t now, struct bw_err *err);
/*
 * Alerts of at least level min_level ("informational".."critical") first
 * seen since `since`, not delivered on channel yet and due there (next
 * attempt <= now), oldest first; at most limit. Caller frees *out.
 */
int db_alert_notify_due(struct bw_db *db, enum db_notify_channel channel, const char *min_level, int64_t since,
			int64_t now, size_t limit, struct db_alert **out, size_t *n, struct bw_err *err);
/* A delivery's outcome on channel: delivered (error NULL), or a failure and when to try again. */
int db_alert_notify_result(struct bw_db *db, int64_t id, enum db_notify_channel channel, const char *error,
			   int64_t now, int64_t next_at, struct bw_err *err);

/* ---- detection rule settings (alert_db.c) ---- */

struct db_rule_setting {
	char rule_id[72];
	bool enabled;
	char *exceptions;		/* JSON array of {"field","value"}; caller frees */
	char updated_by[96];
	int64_t updated_at;
};

void db_rule_settings_free(struct db_rule_setting *s, size_t n);
/* Every rule an admin changed (the others are enabled without exceptions). Caller frees with db_rule_settings_free. */
int db_rule_settings_list(struct bw_db *db, struct db_rule_setting **out, size_t *n, struct bw_err *err);
/* rule_id's setting into *out (caller frees out->exceptions); BW_ENOTFOUND when an admin never changed it. */
int db_rule_setting_get(struct bw_db *db, const char *rule_id, struct db_rule_setting *out, struct bw_err *err);
int db_rule_setting_put(struct bw_db *db, const char *rule_id, bool enabled, const char *exceptions, const char *by,
			int64_t now, struct bw_err *err);
/* Records key (first at log index/at) unless already there: *first says whether this was its first time. */
int db_first_seen(struct bw_db *db, const char *key, int64_t index, int64_t at, bool *first, struct bw_err *err);

/* ---- a witness's memory: a database of its own (witness_db.c) ---- */

struct bw_witdb;
/* Opens (creating, 0600) the witness state at path. Caller closes. */
int witdb_open(const char *path, struct bw_witdb **out, struct bw_err *err);
void witdb_close(struct bw_witdb *w);
/*
 * What was cosigned last for origin: its size, root and the signed
 * checkpoint (*checkpoint, caller frees; may be NULL). BW_ENOTFOUND when
 * nothing yet.
 */
int witdb_seen(struct bw_witdb *w, const char *origin, uint64_t *size, uint8_t root[32], char **checkpoint,
	       struct bw_err *err);
/*
 * Stores (size, root, checkpoint) for origin if what is stored is still old
 * (0: nothing, or size 0), in one statement, durably. BW_ECONFLICT when
 * another request moved it first (*current: the size stored now).
 */
int witdb_advance(struct bw_witdb *w, const char *origin, uint64_t old, uint64_t size, const uint8_t root[32],
		  const char *checkpoint, int64_t now, uint64_t *current, struct bw_err *err);
/* Keeps evidence of a fork: the checkpoint cosigned before and the one offered, with the reason. */
int witdb_evidence_add(struct bw_witdb *w, const char *origin, const char *reason, const char *cosigned,
		       const char *offered, int64_t now, struct bw_err *err);
int witdb_evidence_count(struct bw_witdb *w, const char *origin, int64_t *n, struct bw_err *err);
/* Each log cosigned so far: size, when (ms), forks seen. Caller frees *out. */
struct witdb_log {
	char origin[1025];
	uint64_t size;
	int64_t updated_at;
	int64_t forks;
};
int witdb_logs(struct bw_witdb *w, struct witdb_log **out, size_t *n, struct bw_err *err);

/* ---- the host-event index: a database of its own (hostev_db.c) ---- */

/*
 * Derived data: every row comes from the host-event log, in log order, and
 * the index can be rebuilt from the log. Safe to use from several threads.
 */
struct bw_hostdb;

/* Opens (creating) the index at path. Caller closes. */
int hostdb_open(const char *path, struct bw_hostdb **out, struct bw_err *err);
void hostdb_close(struct bw_hostdb *h);

/* One host-event log entry as the index sees it (strings borrowed). */
struct hostdb_event {
	uint64_t index;
	const char *host, *epoch;
	uint64_t seq;
	uint32_t n;
	int64_t time_ms, received_ms;
	const char *source, *subject, *action, *object, *result;
	const char *raw;
	size_t raw_len;
};
/* Every entry below *upto is indexed. */
int hostdb_indexed_upto(struct bw_hostdb *h, uint64_t *upto, struct bw_err *err);
/* Other positions kept beside the index (e.g. how far detection has matched): BW_ENOTFOUND when never set. */
int hostdb_meta_get(struct bw_hostdb *h, const char *key, uint64_t *value, struct bw_err *err);
int hostdb_meta_set(struct bw_hostdb *h, const char *key, uint64_t value, struct bw_err *err);
/*
 * Indexes entries (in log order; an index seen before is skipped) and the
 * streams they advance, and records that everything below upto is indexed:
 * one transaction.
 */
int hostdb_index(struct bw_hostdb *h, const struct hostdb_event *ev, size_t n, uint64_t upto, struct bw_err *err);

/*
 * Forgets the n events (as they were indexed) whose entries are about to be
 * pruned from the host-event log, with their free text, and records
 * pruned_upto; in one transaction. Events not indexed are skipped.
 */
int hostdb_unindex(struct bw_hostdb *h, const struct hostdb_event *ev, size_t n, uint64_t pruned_upto,
		   struct bw_err *err);
/* Each host's agent stream: the last batch logged (epoch, seq) and how many of its events. */
struct hostdb_stream {
	char host[72];
	char epoch[40];
	uint64_t seq;
	uint32_t logged;
};
/* Every stream, by host. Caller frees *out. */
int hostdb_streams(struct bw_hostdb *h, struct hostdb_stream **out, size_t *n, struct bw_err *err);

struct hostdb_query {
	const char *host, *source, *subject, *action;	/* exact; NULL: any */
	const char *text;				/* every word must occur (NULL: any) */
	int64_t from_ms, to_ms;				/* host time [from, to); 0: unbounded */
	uint64_t before_index;				/* only entries below it (0: any): the next page */
	size_t limit;
};
struct hostdb_hit {
	uint64_t index;
	char host[72];
	int64_t time_ms, received_ms;
	char source[16];
	char *subject, *action, *object, *result;
};
/* Matching entries, newest first. Caller frees with hostdb_hits_free(). */
int hostdb_search(struct bw_hostdb *h, const struct hostdb_query *q, struct hostdb_hit **out, size_t *n,
		  struct bw_err *err);
void hostdb_hits_free(struct hostdb_hit *hits, size_t n);

/* A host's last heartbeat. */
struct hostdb_host_state {
	char host[72];
	char epoch[40];
	int64_t heartbeat_at;		/* server time of receipt (ms) */
	int64_t agent_time;		/* the agent's clock then (ms) */
	char *counters;			/* the heartbeat's counters, spool and sources as JSON */
	uint64_t lost;
	int64_t silent_since;		/* when it was found silent (0: it is not) */
};
/*
 * Stores a heartbeat (and clears silence); *prev_lost receives the losses
 * the last heartbeat of the same epoch reported, *was_silent whether the
 * host was marked silent.
 */
int hostdb_heartbeat_put(struct bw_hostdb *h, const struct hostdb_host_state *s, uint64_t *prev_lost, bool *was_silent,
			 struct bw_err *err);
/* Every host that sent a heartbeat, by name. Caller frees with hostdb_states_free(). */
int hostdb_states(struct bw_hostdb *h, struct hostdb_host_state **out, size_t *n, struct bw_err *err);
void hostdb_states_free(struct hostdb_host_state *s, size_t n);
/* Marks host silent since since; BW_EEXIST when it already is. */
int hostdb_mark_silent(struct bw_hostdb *h, const char *host, int64_t since, struct bw_err *err);

/* ---- users' registered e-mail addresses (user_email_db.c) ---- */

#define DB_EMAIL_MAX 254
/* Sets username's address (email "" removes it); BW_ENOTFOUND no such user, BW_EEXIST another user has it. */
int db_user_email_set(struct bw_db *db, const char *username, const char *email, struct bw_err *err);
/* username's address into out ("" when none). */
int db_user_email_get(struct bw_db *db, const char *username, char out[DB_EMAIL_MAX + 1], struct bw_err *err);
/* The enabled user whose address is email (case-insensitive) into username ("" when none). */
int db_user_by_email(struct bw_db *db, const char *email, char username[72], struct bw_err *err);

/* ---- reported mails and files (report_db.c) ---- */

struct db_report {
	int64_t id;
	int64_t created_at, updated_at, triaged_at;	/* seconds; triaged_at 0: not yet */
	char reporter[72];
	bool reporter_verified;
	char channel[8];		/* api, mail */
	char comment[1032];
	char file_name[264];		/* "" for a mail */
	char sha256[65];
	int64_t size;
	char status[16];		/* received, in_review, resolved */
	char verdict[16];		/* pending, clean, spam, suspicious, threat, failed */
	int64_t score;
	char *triage;			/* the triage result (JSON), NULL until triaged; free with db_report_clear */
	char analyst_verdict[16];	/* an analyst's verdict ("" none): it overrides verdict */
	char category[24];		/* an analyst's category ("" none) */
	char assignee[72];		/* "" : nobody */
	int64_t incident_id;		/* 0: not grouped with another report */
	int64_t sample_purged_at;	/* the sample was deleted then (retention); 0: it is kept */
};
/* The verdict that counts: the analyst's when there is one, else triage's. */
const char *db_report_verdict(const struct db_report *r);

/* One step of a report's history: a change by an analyst, or a comment. */
struct db_report_step {
	int64_t id, at;
	char actor[72];
	char kind[12];			/* status, verdict, category, assignee, comment */
	char value[80];			/* the new value ("" for a comment) */
	char text[1032];		/* the reason or the comment */
};
void db_report_clear(struct db_report *r);
void db_reports_free(struct db_report *r, size_t n);
/* A new report (status received, verdict pending); *id its id. */
int db_report_add(struct bw_db *db, const struct db_report *r, int64_t now, int64_t *id, struct bw_err *err);
/* BW_ENOTFOUND when there is no such report. */
int db_report_get(struct bw_db *db, int64_t id, struct db_report *out, struct bw_err *err);
/* Reports, newest first (reporter NULL: everyone's); at most limit. Caller frees with db_reports_free(). */
int db_report_list(struct bw_db *db, const char *reporter, size_t limit, struct db_report **out, size_t *n,
		   struct bw_err *err);
/* The oldest report still pending triage: *id, or 0 when none. */
int db_report_next_pending(struct bw_db *db, int64_t *id, struct bw_err *err);
/*
 * Changes what is not NULL of a report (status, analyst's verdict,
 * category, assignee), each change a history step by actor with text (the
 * reason), in one transaction; BW_ENOTFOUND when there is no such report.
 */
int db_report_update(struct bw_db *db, int64_t id, const char *status, const char *verdict, const char *category,
		     const char *assignee, const char *actor, const char *text, int64_t now, struct bw_err *err);
/* A comment on a report (a history step of kind comment). */
int db_report_comment(struct bw_db *db, int64_t id, const char *actor, const char *text, int64_t now,
		      struct bw_err *err);
/* A report's history, oldest first. Caller frees *out. */
int db_report_history(struct bw_db *db, int64_t id, struct db_report_step **out, size_t *n, struct bw_err *err);
/*
 * Groups report id with the reports that share one of its indicators
 * (types[i], values[i]: what the caller counts as the lure's own, e.g. an
 * attachment's hash, the sender, a URL), stored for later reports too: the
 * incident of the first such report (one is made when none has one yet).
 * *incident receives it (0: no other report shares anything).
 */
int db_report_group(struct bw_db *db, int64_t id, const char *const *types, const char *const *values, size_t n,
		    int64_t now, int64_t *incident, struct bw_err *err);
/* Reports made before before whose sample is still kept (at most limit, oldest first): their ids into *ids (caller frees). */
int db_reports_samples_before(struct bw_db *db, int64_t before, size_t limit, int64_t **ids, size_t *n, struct bw_err *err);
/* Marks a report's sample deleted at now. */
int db_report_sample_purged(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err);
/* The reports of an incident, newest first. Caller frees with db_reports_free(). */
int db_incident_reports(struct bw_db *db, int64_t incident, struct db_report **out, size_t *n, struct bw_err *err);
/* Stores a report's triage (verdict, score, the result as JSON); BW_ENOTFOUND when there is no such report. */
int db_report_set_triage(struct bw_db *db, int64_t id, const char *verdict, int64_t score, const char *triage,
			 int64_t now, struct bw_err *err);

/* ---- sharing over TAXII 2.1 (taxii_db.c) ---- */

struct db_partner {
	int64_t id, created_at, revoked_at;	/* revoked_at 0: active */
	char name[72];
	char org[136];			/* the organisation it speaks for (TLP:AMBER+STRICT goes only to it) */
};
/* A partner with the hash of its token; BW_EEXIST when the name is taken. */
int db_partner_add(struct bw_db *db, const char *name, const char *org, const uint8_t hash[32], int64_t now,
		   int64_t *id, struct bw_err *err);
/* Every partner, by name. Caller frees *out. */
int db_partner_list(struct bw_db *db, struct db_partner **out, size_t *n, struct bw_err *err);
/* The active partner whose token hashes to hash; BW_ENOTFOUND when none. */
int db_partner_by_token(struct bw_db *db, const uint8_t hash[32], struct db_partner *out, struct bw_err *err);
/* Revokes name's token (BW_ENOTFOUND: no active partner of that name). */
int db_partner_revoke(struct bw_db *db, const char *name, int64_t now, struct bw_err *err);

struct db_taxii_collection {
	char id[40];			/* a UUID */
	char title[136];
	char description[520];
	int64_t created_at;
	char readers[1024];		/* the partners that may read it, comma-separated (cut when long) */
};
int db_taxii_collection_add(struct bw_db *db, const char *id, const char *title, const char *description, int64_t now,
			    struct bw_err *err);
/* Collections (partner_id 0: every one; else those it may read). Caller frees *out. */
int db_taxii_collections(struct bw_db *db, int64_t partner_id, struct db_taxii_collection **out, size_t *n,
			 struct bw_err *err);
/* Lets partner read the collection (read false: no longer). BW_ENOTFOUND: no such collection or active partner. */
int db_taxii_grant(struct bw_db *db, const char *collection_id, const char *partner, bool read, struct bw_err *err);

/* An object put into a collection. */
struct db_taxii_object {
	int64_t seq, added_us;		/* set when stored */
	char stix_id[128];
	char type[64];
	char version[40];		/* its modified (or created) timestamp */
	char tlp[16];
	char for_org[136];		/* amber+strict: the only organisation it is served to */
	char *object;			/* the STIX object (JSON) */
};
/*
 * Adds objects to a collection in one transaction, each with a date added
 * (microseconds) after every earlier one there; one already there (same
 * id and version) is left as it is. *added: how many were new.
 */
int db_taxii_add_objects(struct bw_db *db, const char *collection_id, struct db_taxii_object *o, size_t n,
			 int64_t report_id, int64_t now_us, size_t *added, struct bw_err *err);
struct db_taxii_query {
	int64_t added_after_us;		/* 0: from the start */
	int64_t after_seq;		/* the "next" of the page before (0: none) */
	size_t limit;
	const char *org;		/* the reader's organisation; NULL: the own organisation (everything) */
	const char *id;			/* match[id] (NULL: any) */
	const char *const *types;	/* match[type] (ntypes 0: any) */
	size_t ntypes;
	int versions;			/* 0: the last of each object, 1: the first, 2: all */
};
/*
 * A page of a collection's objects, in the order added: never TLP:RED, and
 * TLP:AMBER+STRICT only when q->org is the organisation it was shared for
 * (or q->org is NULL). *more: objects remain. Caller frees with db_taxii_objects_free().
 */
int db_taxii_objects(struct bw_db *db, const char *collection_id, const struct db_taxii_query *q,
		     struct db_taxii_object **out, size_t *n, bool *more, struct bw_err *err);
void db_taxii_objects_free(struct db_taxii_object *o, size_t n);

/* A partner's collection pulled on a schedule. */
struct db_feed {
	int64_t id, interval_secs, last_pull_at, created_at, indicators;
	char name[72];
	char url[1024];			/* the collection's URL (ends in /collections/ID/) */
	uint8_t token_sealed[512];
	size_t token_sealed_len;
	char cacert[4096];		/* a CA certificate file ("" the system's) */
	char cursor[40];		/* the last date added seen ("" none yet) */
	char last_error[256];
};
int db_feed_add(struct bw_db *db, const struct db_feed *f, int64_t now, int64_t *id, struct bw_err *err);
/* Every feed, by name. Caller frees *out. */
int db_feed_list(struct bw_db *db, struct db_feed **out, size_t *n, struct bw_err *err);
int db_feed_get(struct bw_db *db, const char *name, struct db_feed *out, struct bw_err *err);
/*
 * After a pull: the values of its indicators (types[i], values[i],
 * stix_ids[i]) stored for triage, the cursor moved (cursor NULL: kept), the
 * time and the error ("" none) noted; in one transaction.
 */
int db_feed_pulled(struct bw_db *db, int64_t feed_id, const char *const *types, const char *const *values,
		   const char *const *stix_ids, size_t n, const char *cursor, int64_t now, const char *error,
		   struct bw_err *err);
/* One value a feed gave that matched. */
struct db_feed_hit {
	char feed[72];
	char type[16];
	char value[2049];
	char stix_id[128];
};
/* The feed indicators among (types[i], values[i]). Caller frees *out. */
int db_feed_match(struct bw_db *db, const char *const *types, const char *const *values, size_t nv,
		  struct db_feed_hit **out, size_t *n, struct bw_err *err);

/* ---- what the server's metrics count (metrics_db.c) ---- */

#define DB_METRICS_LEVELS 5
#define DB_METRICS_RESULTS 3
struct db_metrics {
	int64_t windows_active;		/* maintenance windows in force now */
	int64_t requests_pending;	/* access requests waiting for a decision */
	int64_t alerts_open[DB_METRICS_LEVELS];	/* by level (db_metrics_level) */
	int64_t patch_hosts[DB_METRICS_RESULTS];	/* hosts' latest results per target (db_metrics_result) */
	int64_t names_locked;		/* user names locked out for some client now */
	int64_t reports_pending;	/* reported samples waiting for triage */
	int64_t users_enabled;
};
int db_metrics(struct bw_db *db, int64_t now, struct db_metrics *m, struct bw_err *err);
/* "critical" .. "informational"; "installed", "failed", "refused" (NULL past the end). */
const char *db_metrics_level(size_t i);
const char *db_metrics_result(size_t i);

#endif /* BW_STORE_H */
