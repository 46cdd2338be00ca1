/*
 * ops: the operations layer. Every action a transport (server, cli) or the
 * sweeper can take is an operation with one entry in one permission table
 * (ops_table.def): who may call it, the audit event it records, whether it
 * changes state. The object-level rules that go with the table (who may
 * see which access request, whose token one may revoke) are functions
 * beside it. Operations that are implemented here take a typed request,
 * check the caller, do the work through the policy modules and the store,
 * and record their audit event; transports only translate.
 */
#ifndef BW_OPS_H
#define BW_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "events/events.h"
#include "hostev/hostev.h"
#include "instance/instance.h"

/* ---- the permission table ---- */

enum op_id {
#define OP(id, name, roles, event, flags) id,
#include "ops_table.def"
#undef OP
	OP_COUNT
};

enum {
	OPF_STATE = 1u << 0,		/* changes state: always audited */
	OPF_AUDITED_READ = 1u << 1,	/* a read that is always audited */
	OPF_SESSION_ONLY = 1u << 2,	/* API tokens may not call it */
	OPF_SYSTEM_ONLY = 1u << 3,	/* only the server itself (the sweeper) */
	OPF_LOCAL_ONLY = 1u << 4,	/* only the CLI on a data directory (`bulwark init`) */
	OPF_SYSTEM_TOO = 1u << 5,	/* the roles listed, and the server itself (on a signal) */
	OPF_QUIET = 1u << 6,		/* a routine success records no event (what it did is in the host-event log
					   or the host's state; anything notable records its own); refusals are recorded */
};

#define OPS_PUBLIC 0u			/* roles: no sign-in needed */
#define OPS_ANY_ROLE ROLE_ALL		/* roles: any signed-in caller */

struct op_def {
	const char *name;
	unsigned roles;			/* roles any of which admits the caller; OPS_PUBLIC */
	enum ev_action event;		/* the audit event it records */
	unsigned flags;
};

const struct op_def *ops_def(enum op_id op);
/* True when op is always audited (changes state or an audited read). */
bool ops_always_audited(enum op_id op);

/* ---- the caller ---- */

enum ops_via { OPS_VIA_NONE, OPS_VIA_SESSION, OPS_VIA_API_TOKEN, OPS_VIA_HOST, OPS_VIA_LOCAL, OPS_VIA_SYSTEM, OPS_VIA_PARTNER };

struct ops_caller {
	enum ops_via via;		/* OPS_VIA_NONE: not signed in */
	int64_t user_id;		/* 0 for hosts, local and anonymous callers */
	int64_t host_id;		/* OPS_VIA_HOST: the host whose credential was presented */
	char name[EV_ACTOR_MAX];	/* account name; "host NAME" for a host's agent; the OS user for local callers */
	char host[72];			/* OPS_VIA_HOST: the host's name */
	int64_t partner_id;		/* OPS_VIA_PARTNER: the partner whose token was presented */
	char org[136];			/* OPS_VIA_PARTNER: its organisation */
	unsigned roles;			/* effective roles (a token's scopes) */
	const char *source;		/* client address, "local" */
	const char *request_id;		/* NULL: none */
};

/* An anonymous caller from source. */
void ops_caller_anonymous(struct ops_caller *c, const char *source, const char *request_id);
/* A caller signed in as id (session, API token, or a host's credential). */
void ops_caller_signed_in(struct ops_caller *c, const struct auth_identity *id, const char *source,
			  const char *request_id);
/*
 * The local CLI on a data directory: the operating-system user running it
 * ("uid 1000 (alice)"), with the admin role (they can read the data
 * directory's keys anyway).
 */
void ops_caller_local(struct ops_caller *c);
/* The server itself (timers): actor "-", source "-". */
void ops_caller_system(struct ops_caller *c);
/* The address group c's limits count in (an IPv4 address, an IPv6 /64; see bw_addr_group). */
void ops_caller_group(const struct ops_caller *c, char out[BW_ADDR_GROUP_MAX]);
/* The event origin of c. */
struct ev_origin ops_origin(const struct ops_caller *c);

enum ops_decision { OPS_ALLOW, OPS_UNAUTHENTICATED, OPS_FORBIDDEN };

/*
 * Who is behind a session or API token (refreshing the session's idle
 * timer): BW_ENOTFOUND when it is unknown, expired, idle, revoked or the
 * user is disabled.
 */
int ops_authenticate(struct instance *in, const char *token, int64_t now, struct auth_identity *id,
		     struct bw_err *err);

/* May c call op? The table only; object rules below. */
enum ops_decision ops_authorize(enum op_id op, const struct ops_caller *c);

/* ---- object-level rules (beside the table) ---- */

/* Is c the agent of host (its credential)? Hosts report for themselves only. */
bool ops_caller_is_host(const struct ops_caller *c, const char *host);
/* May c see every access request (reviewers), or only their own? */
bool ops_sees_all_access(const struct ops_caller *c);
/* Whose API tokens may c revoke: -1 for anyone's (admins), else their own user id. */
int64_t ops_token_revoke_owner(const struct ops_caller *c);

/* ---- the context an operation runs in ---- */

/* Settings and shared state of a running server's operations (the CLI on a data directory has none). */
struct ops_env {
	int64_t max_window;		/* longest maintenance window (seconds) */
	const char *session_wrapper;	/* force-command wrapper path on hosts, NULL: none */
	int64_t snapshot_lifetime;	/* seconds the online TUF metadata is valid; re-signed at half-life */
	int64_t timestamp_lifetime;
	char patch_dir[4096];		/* the TUF repository in the data directory */
	pthread_mutex_t patch_mu;	/* serialises changes to the patch repository */
	int64_t patch_warned[2];	/* root and targets versions already alerted as expiring */
	char patch_refused[256];	/* the last refusal to re-sign, already alerted */
	struct ops_hostev *hostev;	/* host events (NULL: not collected) */
	struct ops_witness *witness;	/* this server as a witness for other logs (NULL: none) */
	const char *const *org_domains;	/* the organisation's mail domains: never shared */
	size_t norg_domains;
	const char *yara_dir;		/* the organisation's YARA rules (NULL: none): rules marked share = true may leave */
	const char *witness_policy_text;	/* the audit log's witness policy as configured (NULL: none) */
};

struct ops_ctx {
	struct instance *in;
	struct audit_log *al;
	struct ops_env *env;		/* NULL outside the server */
	const struct ops_caller *caller;
	/* Optional: told when the operation records its event (the transport then records none of its own). */
	void (*on_record)(void *arg);
	void *on_record_arg;
	bool tx;			/* internal: the operation's store transaction is open */
};

/*
 * Every operation returns 0 or a BW_E* code with a message in err:
 * BW_EDENIED when the caller may not (the refusal is audited), BW_EINVAL,
 * BW_ENOTFOUND, BW_EEXIST for requests refused on their merits, others for
 * failures. An operation that changes state does its store work in one
 * transaction and makes its event durable in the log before the COMMIT: if
 * the event cannot be recorded, the transaction rolls back and the log's
 * error is returned; if the COMMIT fails after the event is durable, a
 * "failed" event follows. Refusals are recorded too. An operation's event is
 * the same whichever transport called it (no HTTP facts in it).
 */

/*
 * Records ev as c's, durably. On a failure to record, the caller must not
 * report success.
 */
int ops_record(struct ops_ctx *x, struct event *ev, uint64_t *index, struct bw_err *err);

/* ---- user operations (ops/users.c) ---- */

/*
 * Admin and approver roles are granted by two admins: when an admin adds
 * them (a new user, a role change, or an MFA reset of a user who holds
 * them) and another enabled, enrolled admin exists (not the caller, not the
 * user), they wait in a role grant until that admin approves
 * (ops_grant_decide). With no such admin, and from the local CLI, they
 * apply at once.
 */
#define OPS_PRIVILEGED_ROLES (ROLE_ADMIN | ROLE_APPROVER)

struct ops_user_add {
	const char *username;
	unsigned roles;
	int64_t enrol_hours;		/* the code's lifetime, 0: AUTH_ENROL_HOURS_DEFAULT */
};

/* What an invitation or MFA reset hands back: the code to pass on, and any roles left waiting. */
struct ops_enrol_issued {
	struct auth_code code;		/* wipe after use */
	unsigned roles;			/* roles the user holds now */
	unsigned pending_roles;		/* roles waiting for a second admin (grant_id) */
	int64_t grant_id;		/* 0: none */
};

/*
 * Invites a user: the account is created with no password and no MFA, and
 * a one-time enrolment code (out->code) lets its owner set both
 * (ops_enrol_start, ops_enrol_finish). The admin never sees the user's
 * secrets. Fills *id (optional).
 */
int ops_user_add(struct ops_ctx *x, const struct ops_user_add *q, int64_t *id, struct ops_enrol_issued *out,
		 struct bw_err *err);
/*
 * The first admin of an empty data directory (`bulwark init`, the local
 * caller only): created with password and TOTP at once, since whoever runs
 * init is that admin. Fills *enrol (clear it). BW_EEXIST once any user exists.
 */
int ops_user_bootstrap(struct ops_ctx *x, const char *username, const char *password, struct auth_enrolment *enrol,
		       struct bw_err *err);
/*
 * Clears the sign-in failures and locks of username for every client (the
 * name need not be a user's: guessers lock made-up names too); *cleared
 * (optional) receives how many clients had failures recorded.
 */
int ops_user_unlock(struct ops_ctx *x, const char *username, int *cleared, struct bw_err *err);
/* Disabling revokes sessions, tokens and pending role grants; the last enabled admin cannot be disabled. */
int ops_user_set_disabled(struct ops_ctx *x, const char *username, bool disabled, struct bw_err *err);
/*
 * Removes a user's TOTP secret and recovery codes, revokes their sessions
 * and issues a new enrolment code (also for a user who never enrolled:
 * a new invitation). Admin and approver roles the user holds wait for a
 * second admin again (see above).
 */
int ops_user_reset_mfa(struct ops_ctx *x, const char *username, int64_t enrol_hours, struct ops_enrol_issued *out,
		       struct bw_err *err);
/*
 * Sets roles: removals at once, admin or approver added only through a role
 * grant when a second admin exists (out->pending_roles, out->grant_id);
 * out->roles is the mask now. *before receives the previous mask (optional).
 */
int ops_user_set_roles(struct ops_ctx *x, const char *username, unsigned roles, unsigned *before,
		       struct ops_enrol_issued *out, struct bw_err *err);

/* ---- enrolment and role grants (ops/enrol.c) ---- */

/*
 * First step of a user's enrolment (public; the code is the credential):
 * offers a new TOTP secret. username (72 bytes) and *uri (caller frees) are
 * filled. A wrong, used or expired code is BW_EDENIED (audited).
 */
int ops_enrol_start(struct ops_ctx *x, const char *code, char username[72], char **uri, struct bw_err *err);
/*
 * Second step: the user's new password and a current code of the offered
 * secret; fills username and *out (recovery codes; clear it). The code is
 * used up, and where and when it was used is in the event.
 */
int ops_enrol_finish(struct ops_ctx *x, const char *code, const char *password, const char *otp, char username[72],
		     struct auth_enrolment *out, struct bw_err *err);
/* Role grants, newest first (caller frees *out with free()). */
int ops_grant_list(struct ops_ctx *x, bool pending_only, struct db_role_grant **out, size_t *n, struct bw_err *err);
/*
 * A second admin approves (adds the roles; the user must be enabled and
 * enrolled) or denies a pending grant; *out is the grant as decided.
 * Nobody approves a grant they asked for or one for themselves; the
 * requester may deny (withdraw) their own.
 */
int ops_grant_decide(struct ops_ctx *x, int64_t id, bool approve, struct db_role_grant *out, struct bw_err *err);
/*
 * The caller changes their own password: the current password and a TOTP
 * (or recovery) code are checked like a sign-in (and count towards its
 * lock), the new one must meet the policy; then every session and token of
 * the user is revoked. BW_EDENIED when the current credentials are wrong.
 */
int ops_user_passwd(struct ops_ctx *x, const char *current, const char *otp, const char *new_password,
		    struct bw_err *err);
/* All users (caller frees with db_users_free). */
int ops_user_list(struct ops_ctx *x, struct db_user **out, size_t *n, struct bw_err *err);

/* ---- signing in, API tokens (ops/session.c) ---- */

struct ops_login {
	const char *username, *password, *otp;
};

/*
 * One sign-in attempt. Returns 0 when it was processed (see res->ok,
 * res->throttled); its event (and an alert.account_locked when this failure
 * locked the account) is durable before it returns. The caller wipes
 * res->token after use.
 */
int ops_login(struct ops_ctx *x, const struct ops_login *q, struct auth_login_result *res, struct bw_err *err);
/* Ends the caller's session (the token with this hash). */
int ops_logout(struct ops_ctx *x, const uint8_t token_hash[32], int64_t token_id, struct bw_err *err);

struct ops_token_create {
	const char *name;
	unsigned scopes;		/* a subset of the caller's roles */
	int64_t lifetime_days;		/* 1..366 */
};

/* Creates an API token for the caller; token receives its text (wipe after use). */
int ops_token_create(struct ops_ctx *x, const struct ops_token_create *q, char token[AUTH_TOKEN_TEXT_MAX],
		     int64_t *id, struct bw_err *err);
/* Revokes an API token: admins any, others only their own (BW_ENOTFOUND otherwise). */
int ops_token_revoke(struct ops_ctx *x, int64_t id, struct bw_err *err);

/* ---- the audit trail (ops/log.c) ---- */

#define OPS_AUDIT_READ_MAX 1000

/*
 * Events [from, to): to NULL or past the end means the log size; from NULL
 * means the latest page ending at to; at most OPS_AUDIT_READ_MAX. Result:
 * {"size","from","to","checkpoint","log_vkey","events":[{"index","event"
 * [,"entry","proof"]}], "prev"/"next": {"from","to"} when there are such
 * pages, "witness_policy" when the server has one}, checked against the
 * signed checkpoint: the latest, or (cosigned) the latest its witnesses
 * cosigned in the quorum (BW_ENOTFOUND when there is none yet; the events
 * end at its size). Always audited. Caller decrefs *out.
 */
int ops_audit_read(struct ops_ctx *x, const uint64_t *from, const uint64_t *to, bool proofs, bool cosigned, json_t **out,
		   struct bw_err *err);
/*
 * A witness of this server's own log (named witness) refused a checkpoint
 * in a way that means a second history or a rollback: log.witness_alarm,
 * result alert, recorded by the caller (the system) with reason.
 */
int ops_log_witness_alarm(struct ops_ctx *x, const char *witness, const char *reason, struct bw_err *err);

/*
 * ---- the audit log's key (log_key.c) ----
 * Opens in's audit log for writing (in->log_signer handed to it): first
 * finishes a key rotation a crash interrupted (its transition in the log:
 * hand over and promote the staged key) or discards its staged key (the
 * transition never reached the log). Caller closes *out.
 */
int ops_log_open(struct instance *in, struct audit_log **out, struct bw_err *err);

struct ops_log_key_rotation {
	char *previous_key, *key;	/* verifier keys */
	uint64_t index;			/* the log.key_transition entry */
	uint64_t handover;		/* the size of the checkpoint both keys signed */
};
void ops_log_key_rotation_clear(struct ops_log_key_rotation *r);
/*
 * Rotates the audit log's key (admin; the server's log, appends waiting a
 * moment, or the CLI's with the server stopped): stages a new key, records
 * log.key_transition naming it as the log's last entry, hands the log over
 * (audit_log_rekey), erases the old key and publishes the new verifier. One
 * rotation at a time. *res (clear it) says what happened.
 */
int ops_log_key_rotate(struct ops_ctx *x, struct ops_log_key_rotation *res, struct bw_err *err);
/*
 * Every key the audit log has had: its key now, then the one each
 * transition replaced (from its own LOG/key-transitions), for the server to
 * open its own checkpoints of any epoch (a verifier follows the chain
 * instead). Free *keys with ops_log_keys_free.
 */
int ops_log_keys_all(struct instance *in, struct note_verifier ***keys, size_t *n, struct bw_err *err);
void ops_log_keys_free(struct note_verifier **keys, size_t n);
/*
 * The scheduled rotation (the server's sweep, system caller): rotates the
 * log's key once the key in use has signed for max_age seconds (since it
 * was installed: keys/log.sealed's time). Failures are logged.
 */
void ops_log_key_rotate_due(struct ops_ctx *x, int64_t max_age);
/*
 * The log's key transitions for verifiers (public): *out {"origin",
 * "transitions": [{"size", "proof"}]} (each proof a tlog-proof text, in
 * order). Caller decrefs *out.
 */
int ops_log_key_transitions(struct ops_ctx *x, json_t **out, struct bw_err *err);

/* ---- remote-maintenance access (ops/access.c) ---- */

struct access_new;

struct ops_host_add {
	const char *name, *address, *group;
	const char *const *accounts;
	size_t naccounts;
};

/* Registers a host and issues its agent's first enrolment code (*code, valid AUTH_ENROL_HOURS_DEFAULT; wipe it). */
int ops_host_add(struct ops_ctx *x, const struct ops_host_add *q, int64_t *id, struct auth_code *code,
		 struct bw_err *err);
/* A new enrolment code for host name's agent (hours 0: the default); earlier codes stop working. */
int ops_host_enrol_code(struct ops_ctx *x, const char *name, int64_t hours, struct auth_code *code,
			struct bw_err *err);
/*
 * The agent's side (public; the code is the credential): exchanges the code
 * for the host's credential (credential: wipe it); host (72 bytes) receives
 * the host's name. A wrong, used or expired code is BW_EDENIED (audited).
 */
int ops_host_enrol(struct ops_ctx *x, const char *code, char host[72], char credential[AUTH_TOKEN_TEXT_MAX],
		   struct bw_err *err);
/* Revokes host name's agent credential (BW_ENOTFOUND when it has none). */
int ops_host_revoke(struct ops_ctx *x, const char *name, struct bw_err *err);
/* The object rule for hosts: admins, operators, approvers and auditors see every host. */
bool ops_sees_all_hosts(const struct ops_caller *c);
/* Hosts the caller may see: all, or (vendors, staff) those their own requests name. Caller frees with db_hosts_free. */
int ops_host_list(struct ops_ctx *x, struct db_host **out, size_t *n, struct bw_err *err);
/* The sshd snippet for host name (caller frees *text). */
int ops_host_sshd_config(struct ops_ctx *x, const char *name, const char *server_url, char **text,
			 struct bw_err *err);
/* A request for a window, always the caller's own (q->requester_id is ignored). */
int ops_access_request(struct ops_ctx *x, const struct access_new *q, int64_t *id, struct bw_err *err);
/* The object rule: a request is visible to its requester and to reviewers (admin, approver, auditor). */
bool ops_access_visible(const struct ops_caller *c, const struct db_access *a);
/* Requests visible to the caller, newest first (caller frees with db_access_free). */
int ops_access_list(struct ops_ctx *x, size_t limit, struct db_access **out, size_t *n, struct bw_err *err);
/* One visible request (BW_ENOTFOUND otherwise); clear *a with db_access_clear. */
int ops_access_get(struct ops_ctx *x, int64_t id, struct db_access *a, struct bw_err *err);
/*
 * Approves or denies request id. The requester can never review their own
 * request (four eyes). A final approval signs the certificate and records
 * access.issued in the same transaction. *a receives the request after it.
 */
int ops_access_review(struct ops_ctx *x, int64_t id, bool approve, const char *reason, struct db_access *a,
		      struct bw_err *err);
int ops_access_revoke(struct ops_ctx *x, int64_t id, const char *reason, struct bw_err *err);
/* The certificate and ssh client snippet, for the requester only (BW_ECONFLICT unless issued). */
int ops_access_certificate(struct ops_ctx *x, int64_t id, struct db_access *a, char **ssh_config,
			   struct bw_err *err);
/* The permission review's data: every request and user (caller frees both). */
int ops_access_review_report(struct ops_ctx *x, struct db_access **as, size_t *n, struct db_user **us, size_t *nu,
			     struct bw_err *err);
/* The KRL of every revoked certificate (public). Caller frees *krl. */
int ops_access_krl(struct ops_ctx *x, uint8_t **krl, size_t *len, struct bw_err *err);
/* The CA keys hosts trust, one OpenSSH public-key line each (two during a rotation). Caller frees *lines. */
int ops_access_ca(struct ops_ctx *x, char **lines, struct bw_err *err);
/* The SSH user CA's rotation (admin): stage a new CA, let it sign after the overlap, retire the old one. */
struct ops_ca_status {
	struct instance_ca_rotation rot;
	char signing[64];		/* SHA256 fingerprints */
	char other[64];			/* "" when settled */
};
int ops_access_ca_status(struct ops_ctx *x, struct ops_ca_status *st, struct bw_err *err);
int ops_access_ca_rotate(struct ops_ctx *x, int64_t overlap_minutes, struct bw_err *err);
int ops_access_ca_activate(struct ops_ctx *x, struct bw_err *err);
/* Refused (BW_ECONFLICT) while certificates the old CA signed are in force. */
int ops_access_ca_retire(struct ops_ctx *x, struct bw_err *err);
/* The server's own sweep: issued windows that ended are marked and recorded (access.expired). */
void ops_access_expire(struct ops_ctx *x);

/* ---- patch management (ops/patch.c) ---- */

/* An uploaded body the transport streamed to a temporary file, hashing it as it arrived. */
struct ops_upload {
	const char *tmp_path;
	int fd;				/* the open temporary file; -1 once the operation took it */
	uint64_t len;
	uint8_t sha256[32];
	bool failed;			/* the transport could not store it */
	bool too_large;			/* more than max bytes were sent */
	uint64_t max;
};

/* Stores an upload as the blob named want_sha256 (BW_EINVAL unless the bytes hash to it). */
int ops_patch_upload(struct ops_ctx *x, const char *want_sha256, struct ops_upload *u, struct bw_err *err);

/* The online TUF keys' public halves (TUF key objects with their ids), and the staged pair when one is. */
struct ops_patch_keys {
	json_t *snapshot, *timestamp;		/* {"keyid", "key"} each */
	json_t *next_snapshot, *next_timestamp;	/* NULL when nothing is staged */
};
void ops_patch_keys_clear(struct ops_patch_keys *k);
int ops_patch_keys(struct ops_ctx *x, struct ops_patch_keys *out, struct bw_err *err);
/*
 * Stages new snapshot and timestamp keys (admin): they sign once a new root
 * naming them (signed offline by the old and new root thresholds) is
 * published; until then the keys in use go on signing.
 */
int ops_patch_keys_rotate(struct ops_ctx *x, struct ops_patch_keys *out, struct bw_err *err);

struct ops_published {
	int64_t root_version, targets_version, snapshot_version, timestamp_version;
	json_t *logged;			/* [{name, sha256, log_index}] of the newly logged targets (caller decrefs) */
};

/*
 * Publishes offline-signed targets (and a new root, or NULL): the workflow
 * is patch_publish_run; each new target's public patch.target event is
 * durable before any metadata that lists it is written.
 */
int ops_patch_publish(struct ops_ctx *x, const json_t *root, const json_t *targets, struct ops_published *out,
		      struct bw_err *err);

struct ops_patch_report {
	const char *host, *target, *result;	/* result: installed, failed, refused */
	const char *sha256, *version, *reason;	/* optional */
};

/* A host's report: the event (its result is the host's outcome), then the status row. */
int ops_patch_report(struct ops_ctx *x, const struct ops_patch_report *q, struct bw_err *err);
/* Published targets and every host's latest reports (caller frees both with free()). */
int ops_patch_status(struct ops_ctx *x, struct db_patch_target **t, size_t *nt, struct db_patch_report **rep,
		     size_t *nr, struct bw_err *err);
/* The published row of (name, sha256): only published files are served (public; BW_ENOTFOUND otherwise). */
int ops_patch_target_published(struct ops_ctx *x, const char *name, const char *sha256, struct db_patch_target *row,
			       struct bw_err *err);
/* The server's own sweep: alerts for expiring offline metadata, re-signing of the online metadata. */
void ops_patch_sweep(struct ops_ctx *x);

/* A list of role names for an event detail. */
void ops_ev_roles(struct event *ev, enum ev_field f, unsigned mask);

/* ---- alerts (alerts.c) ---- */

/* A detection rule's match, as the detector hands it over. */
struct ops_alert_match {
	const char *rule_id;		/* the rule's id, or its title when it has none */
	const char *title;
	const char *level;
	const char *group_key;		/* repeats of one rule and group count into one alert */
	uint64_t event_index;		/* the matched event's log index */
	bool host_event;		/* in the host-event log (else the audit log) */
};

/* Raises (or counts a repeat into) an alert; the server itself only. *out (optional) receives the alert. */
int ops_alert_raise(struct ops_ctx *x, const struct ops_alert_match *m, struct db_alert *out, struct bw_err *err);
/* Alerts in state (NULL: all), most severe and most recent first; at most limit. Caller frees *out. */
int ops_alert_list(struct ops_ctx *x, const char *state, size_t limit, struct db_alert **out, size_t *n,
		   struct bw_err *err);
int ops_alert_get(struct ops_ctx *x, int64_t id, struct db_alert *out, struct bw_err *err);
/* Acknowledges an open alert (reason optional); *out receives it as decided. */
int ops_alert_ack(struct ops_ctx *x, int64_t id, const char *reason, struct db_alert *out, struct bw_err *err);
/* Resolves an alert: resolution true_positive, false_positive or benign, with a reason; *out as decided. */
int ops_alert_resolve(struct ops_ctx *x, int64_t id, const char *resolution, const char *reason, struct db_alert *out,
		      struct bw_err *err);

/* The server itself: alerts whose notification is due (see db_alert_notify_due). Caller frees *out. */
int ops_alert_notify_due(struct ops_ctx *x, enum db_notify_channel channel, const char *min_level, int64_t since,
			 size_t limit, struct db_alert **out, size_t *n, struct bw_err *err);
/* The server itself: a delivery of a's notification on channel succeeded (error NULL) or failed (retry at next_at); audited. */
int ops_alert_notified(struct ops_ctx *x, const struct db_alert *a, enum db_notify_channel channel, const char *error,
		       int64_t next_at, struct bw_err *err);

/* Gives an alert to user (an enabled admin or operator; NULL or "": nobody); *out as it is now. */
int ops_alert_assign(struct ops_ctx *x, int64_t id, const char *user, struct db_alert *out, struct bw_err *err);
/* Adds a comment (1..2000 bytes) by the caller. */
int ops_alert_comment(struct ops_ctx *x, int64_t id, const char *text, struct bw_err *err);
/* An alert's comments, oldest first (a read like ops_alert_get). Caller frees *out. */
int ops_alert_comments(struct ops_ctx *x, int64_t id, struct db_alert_comment **out, size_t *n, struct bw_err *err);

/* ---- detection rule settings (rules.c) ---- */

/* Switches rule_id on or off and sets its exceptions (JSON text, NULL: none); admins; audited. */
int ops_rule_set(struct ops_ctx *x, const char *rule_id, bool enabled, const char *exceptions, struct bw_err *err);
/* Every rule an admin changed. Caller frees with db_rule_settings_free. */
int ops_rule_settings(struct ops_ctx *x, struct db_rule_setting **out, size_t *n, struct bw_err *err);
/* The server itself: rule_id's setting (enabled, and its exceptions' JSON text or NULL; caller frees). */
int ops_rule_setting_for(struct ops_ctx *x, const char *rule_id, bool *enabled, char **exceptions, struct bw_err *err);
/*
 * The server itself (detection): records that key (an actor and an action)
 * was seen at log index/time; *first: never before.
 */
/*
 * Loads the detection rules again (reload does it: every file, or none when
 * any is refused, BW_EINVAL with the first refusal); admins, or the server
 * on SIGHUP; audited as rules.reload with the count now in use.
 */
typedef int (*ops_reload_fn)(void *ctx, size_t *loaded, struct bw_err *err);
int ops_rules_reload(struct ops_ctx *x, ops_reload_fn reload, void *ctx, const char *rules_dir, size_t *loaded,
		     struct bw_err *err);
/* The live detection's counters (read fills out); admins, auditors, approvers, operators. */
typedef void (*ops_read_fn)(void *ctx, void *out);
int ops_detection_status(struct ops_ctx *x, ops_read_fn read, void *ctx, void *out, struct bw_err *err);
int ops_first_seen(struct ops_ctx *x, const char *key, int64_t index, int64_t at, bool *first, struct bw_err *err);
/*
 * The server itself (detection): the maintenance grant behind a login with
 * a certificate on host as account at at_ms, as sshd reported it (the
 * signing CA's fingerprint "SHA256:..." of ca_fp_len bytes, the serial):
 * BW_ENOTFOUND when the CA is not bulwark's. state is access_login_check's,
 * or "unknown" when bulwark's CA signed it but no request has the serial
 * (a restored database, or a stolen CA key); request the serial as a
 * request id (-1 when none can be).
 */
struct ops_login_grant {
	const char *state;	/* static */
	int64_t request;
	bool host_ok, account_ok;
};
int ops_login_grant(struct ops_ctx *x, const char *ca_fp, size_t ca_fp_len, uint64_t serial, const char *host,
		    const char *account, int64_t at_ms, struct ops_login_grant *out, struct bw_err *err);

/* ---- the server's own metrics (metrics.c) ---- */

/* The counts the metrics report (admins, auditors; not audited unless refused). */
/* What the metrics count: the database's state, and the hosts' (when the server takes host events). */
struct ops_metrics {
	struct db_metrics db;
	bool hostev;			/* false: no host-event log here, the host figures are absent */
	int64_t hosts_reporting, hosts_silent;	/* hosts that sent a heartbeat: now, and found silent */
	uint64_t host_events_logged;	/* entries in the host-event log (acknowledged) */
	uint64_t agent_read, agent_sent, agent_spooled, agent_lost, agent_source_errors;	/* summed over hosts' latest heartbeats */
	uint64_t log_key_transitions;	/* the audit log key's transitions (LOG/key-transitions) */
};
int ops_metrics(struct ops_ctx *x, struct ops_metrics *out, struct bw_err *err);

/* ---- sharing with partner organisations over TAXII 2.1 (sharing.c) ---- */

/* A partner organisation (admins): *token (shown once) is its TAXII credential. */
int ops_partner_add(struct ops_ctx *x, const char *name, const char *org, char token[AUTH_TOKEN_TEXT_MAX], int64_t *id,
		    struct bw_err *err);
/* Every partner (caller frees *out). */
int ops_partner_list(struct ops_ctx *x, struct db_partner **out, size_t *n, struct bw_err *err);
int ops_partner_revoke(struct ops_ctx *x, const char *name, struct bw_err *err);
/* A collection to share in (admins); id receives its UUID. */
int ops_taxii_collection_add(struct ops_ctx *x, const char *title, const char *description, char id[40],
			     struct bw_err *err);
/* Lets partner read collection, or (read false) no longer (admins). */
int ops_taxii_grant(struct ops_ctx *x, const char *collection, const char *partner, bool read, struct bw_err *err);
/* TAXII discovery and API root (partners and staff): only checks and records the caller. */
int ops_taxii_discovery(struct ops_ctx *x, struct bw_err *err);
/* The collections the caller may read (a partner: those granted; staff: all). Caller frees *out. */
int ops_taxii_collections(struct ops_ctx *x, struct db_taxii_collection **out, size_t *n, struct bw_err *err);
/* Every collection with the partners that read it (staff). Caller frees *out. */
int ops_taxii_collection_list(struct ops_ctx *x, struct db_taxii_collection **out, size_t *n, struct bw_err *err);
/* One of them; BW_ENOTFOUND when it does not exist or the caller may not read it. */
int ops_taxii_collection(struct ops_ctx *x, const char *collection, struct db_taxii_collection *out, struct bw_err *err);
/*
 * A page of a collection's objects for the caller (always audited): never
 * TLP:RED, TLP:AMBER+STRICT only to the partner of the organisation it was
 * shared for (q->org is set from the caller). Caller frees with db_taxii_objects_free().
 */
int ops_taxii_objects(struct ops_ctx *x, const char *collection, struct db_taxii_query *q, struct db_taxii_object **out,
		      size_t *n, bool *more, struct bw_err *err);
/*
 * Puts a resolved threat or suspicious report's STIX bundle (with its
 * incident's indicators) into collection marked tlp (never red;
 * amber+strict needs for_org, the one organisation it is served to).
 * *added: the objects new to the collection.
 */
int ops_report_share(struct ops_ctx *x, int64_t id, const char *collection, const char *tlp, const char *for_org,
		     size_t *added, struct bw_err *err);
/* A partner's collection to pull (admins): its token sealed under the KEK. */
struct ops_feed_in {
	const char *name;
	const char *url;		/* https://.../collections/ID/ */
	const char *token;		/* sent as "Authorization: Bearer" */
	const char *cacert;		/* a CA file for its TLS ("" or NULL: the system's) */
	int64_t interval_secs;		/* 10 .. 604800 */
};
int ops_feed_add(struct ops_ctx *x, const struct ops_feed_in *in, struct bw_err *err);
/* Every feed (caller frees *out; the sealed tokens stay sealed). */
int ops_feed_list(struct ops_ctx *x, struct db_feed **out, size_t *n, struct bw_err *err);
/* What a pull needs, the token opened (admins and the server itself). Clear with bw_memzero after use. */
struct ops_feed_source {
	int64_t id, interval_secs, last_pull_at;
	char name[72];
	char url[1024];
	char token[404];
	char cacert[4096];
	char cursor[40];
};
int ops_feed_source(struct ops_ctx *x, const char *name, struct ops_feed_source *out, struct bw_err *err);
struct share_feed_value;
/*
 * A pull's outcome (feed.pull): the values read (stored for triage), the
 * indicators skipped, the new cursor (NULL: unchanged), error ("" or NULL:
 * none). *known: the values stored.
 */
int ops_feed_pulled(struct ops_ctx *x, const struct ops_feed_source *src, const struct share_feed_value *v, size_t nv,
		    size_t skipped, const char *cursor, const char *error, size_t *known, struct bw_err *err);

/* ---- reported mails and files (reports.c) ---- */

#define OPS_REPORT_MAX ((size_t)32 << 20)	/* a reported sample's bytes */
struct ops_report_in {
	const char *file_name;		/* the file's name; "" or NULL for a mail */
	const char *comment;		/* the reporter's, optional (UTF-8 text, at most 1024 bytes) */
	const uint8_t *data;		/* the sample: 1 byte .. OPS_REPORT_MAX */
	size_t len;
	const char *channel;		/* set by the operation: "api" or "mail" */
	bool reporter_verified;		/* mail: the MTA's Authentication-Results passed for the sender (api: signed in) */
	const char *email;		/* mail: the sender's address */
};
/*
 * Reports a sample as the caller, streamed in as it is uploaded (POST
 * /api/v1/reports): stored with its SHA-256, the sample sealed on disk
 * (DATA/samples/ID.sealed), queued for triage (verdict pending). begin
 * opens a sealed temporary file in the samples directory (named after the
 * request), add seals and hashes each piece as it arrives (past
 * OPS_REPORT_MAX nothing more is kept: the submit is refused), submit
 * records the report (in's data unused) and binds
 * the sealed file to it; free discards an upload not submitted. One
 * upload per request; not thread-safe.
 */
struct ops_sample_upload;
int ops_report_upload_begin(struct ops_ctx *x, const char *request_id, struct ops_sample_upload **out, struct bw_err *err);
void ops_report_upload_add(struct ops_sample_upload *u, const void *data, size_t n);
/* More than OPS_REPORT_MAX arrived (the transport refuses with 413). */
bool ops_report_upload_too_large(const struct ops_sample_upload *u);
int ops_report_submit_upload(struct ops_ctx *x, const struct ops_report_in *in, struct ops_sample_upload *u, int64_t *id,
			     struct bw_err *err);
void ops_report_upload_free(struct ops_sample_upload *u);
/*
 * A report that arrived by mail (the intake's service account calls it):
 * the sample is the original message, in->email its sender, matched to the
 * enabled user whose registered address it is (reporter, "" when none: then
 * never verified); in->reporter_verified as the intake read the MTA's
 * Authentication-Results.
 */
int ops_report_mail(struct ops_ctx *x, const struct ops_report_in *in, int64_t *id, char reporter[72],
		    struct bw_err *err);
/* Sets (email "") or removes a user's registered e-mail address (admins): checked, unique. */
int ops_user_set_email(struct ops_ctx *x, const char *username, const char *email, struct bw_err *err);
/* The caller's own reports, newest first. Caller frees with db_reports_free(). */
int ops_report_mine(struct ops_ctx *x, struct db_report **out, size_t *n, struct bw_err *err);
/* Every report, newest first (analysts, admins, auditors); limit 0: 500. Caller frees with db_reports_free(). */
int ops_report_list(struct ops_ctx *x, size_t limit, struct db_report **out, size_t *n, struct bw_err *err);
/* One report with its triage (always audited). Clear *out with db_report_clear(). */
int ops_report_get(struct ops_ctx *x, int64_t id, struct db_report *out, struct bw_err *err);
/*
 * For the server's triage: the oldest report pending triage (*id 0: none),
 * its file name and its sample unsealed (caller frees *data). BW_EVERIFY
 * when the sealed file does not open (edited, truncated, moved).
 */
int ops_report_pending_sample(struct ops_ctx *x, int64_t *id, char name[264], uint8_t **data, size_t *len,
			      struct bw_err *err);
/*
 * For feedback to the reporter (the server's triage): the report and the
 * reporter's registered address (email "" when none: no feedback is sent
 * to any other address). Clear *out with db_report_clear().
 */
int ops_report_feedback_to(struct ops_ctx *x, int64_t id, struct db_report *out, char email[DB_EMAIL_MAX + 1],
			   struct bw_err *err);
/* What an analyst changes on a report (NULL: unchanged); reason is required. */
struct ops_report_change {
	const char *status;		/* in_review, resolved */
	const char *verdict;		/* clean, spam, suspicious, threat: overrides triage's */
	const char *category;		/* phishing, malware, spam, scam, legitimate, test, other */
	const char *assignee;		/* an enabled analyst or admin, "" nobody */
	const char *reason;
};
/*
 * Changes a report (analysts, admins): each change a step of its history
 * and one report.update event. Resolving needs a verdict (triage's, or the
 * analyst's when triage gave none). *out: the report after (clear it).
 */
int ops_report_update(struct ops_ctx *x, int64_t id, const struct ops_report_change *c, struct db_report *out,
		      struct bw_err *err);
/* An analyst's comment on a report (a history step). */
int ops_report_comment(struct ops_ctx *x, int64_t id, const char *text, struct bw_err *err);
/* The reports of an incident (read with a report: ops_report_get checked the caller). Caller frees with db_reports_free(). */
int ops_report_incident(struct ops_ctx *x, int64_t incident, struct db_report **out, size_t *n, struct bw_err *err);
/* A report's history (read with the report: ops_report_get checked the caller). Caller frees *out. */
int ops_report_history(struct ops_ctx *x, int64_t id, struct db_report_step **out, size_t *n, struct bw_err *err);
#define OPS_REPORT_ZIP_PASSWORD "infected"	/* the convention for samples handed around */
/*
 * A reported sample for an analyst (analysts, admins; always audited): a
 * ZIP encrypted (AES-256) with OPS_REPORT_ZIP_PASSWORD, *name its file name.
 * Caller frees *zip.
 */
int ops_report_download(struct ops_ctx *x, int64_t id, uint8_t **zip, size_t *len, char name[300], struct bw_err *err);
/*
 * A resolved report's indicators for sharing (analysts, admins; always
 * audited): a STIX 2.1 bundle under tlp (clear, green, amber,
 * amber+strict, red), with the indicators of every report of its incident;
 * never the reporter, the organisation's addresses or URLs, or recipient
 * tokens. Refused unless the report is resolved as a threat or suspicious.
 * Caller decrefs *out.
 */
int ops_report_stix(struct ops_ctx *x, int64_t id, const char *tlp, json_t **out, struct bw_err *err);
/*
 * Retention (the server itself): deletes the sealed samples of reports
 * made before before (up to 1,000 a call); the reports and their triage
 * stay, a download then answers BW_EGONE. One report.purge event when any
 * was deleted; *count how many.
 */
int ops_report_purge(struct ops_ctx *x, int64_t before, size_t *count, struct bw_err *err);
/* The same as a MISP event (share_misp_event). */
int ops_report_misp(struct ops_ctx *x, int64_t id, const char *tlp, json_t **out, struct bw_err *err);
/*
 * Records a report's triage result (the server only): report.triaged,
 * result alert for a threat; the report is grouped into an incident with
 * earlier reports of the same lure (a shared attachment hash, sender or URL).
 */
int ops_report_triaged(struct ops_ctx *x, int64_t id, const json_t *result, struct bw_err *err);

/* ---- this server as a witness for other logs (witness.c) ---- */

#define OPS_WITNESS_LOGS_MAX 64
struct ops_witness;
/* The logs to witness (verifier keys; a log's origin is its key's name), the state in the instance's witness db. */
int ops_witness_open(struct instance *in, const char *const *vkeys, size_t n, struct ops_witness **out,
		     struct bw_err *err);
void ops_witness_close(struct ops_witness *w);
/* The answer to an add-checkpoint request: status, content type, body (caller frees body). */
struct ops_witness_reply {
	unsigned status;
	const char *type;
	char *body;
	size_t len;
};
/*
 * POST add-checkpoint (public: the log's signature is the authentication):
 * answered as c2sp.org/tlog-witness says; a 200 carries this server's
 * cosignature line after the new size was stored durably. A fork is kept
 * as evidence and recorded as witness.fork (result alert). Non-zero only
 * when the request could not be decided (the reply is then unset).
 */
int ops_witness_add(struct ops_ctx *x, const uint8_t *body, size_t len, struct ops_witness_reply *out,
		    struct bw_err *err);
/*
 * The logs this server witnesses (admins, auditors): every configured one,
 * with the size cosigned last (0: not yet), when, and the forks seen. Caller
 * frees *out.
 */
int ops_witness_status(struct ops_ctx *x, struct witdb_log **out, size_t *n, struct bw_err *err);

/* ---- host events from hosts' agents (hostev.c, host_health.c) ---- */

struct ops_hostev_opts {
	int64_t silent_after_ms;	/* no heartbeat for this long: the host is silent */
	int64_t clock_max_ms;		/* a host clock further off than this is reported */
	int64_t retention_ms;		/* entries that arrived longer ago are pruned (0: kept forever) */
};
#define OPS_HOST_SILENT_AFTER_MS 300000
#define OPS_HOST_CLOCK_MAX_MS 120000

/*
 * The host-event side of a running server: opens the host-event log (its
 * own tlog, taking in->hostlog_signer) and its index, brings the index up
 * to the log (what a crash left behind, or all of it when the index was
 * deleted) and learns each host's stream from it. Caller closes (after
 * the server has stopped).
 */
struct ops_hostev;
int ops_hostev_open(struct instance *in, const struct ops_hostev_opts *o, struct ops_hostev **out, struct bw_err *err);
void ops_hostev_close(struct ops_hostev *h);
/* The host-event log (to observe it; appends go through ops_host_events). */
struct audit_log *ops_hostev_log(struct ops_hostev *h);
/*
 * Calls fn for entries from index from on, up to max of them and within one
 * entry bundle, that are integrated (in tiles under a signed checkpoint);
 * *next receives the index after the last one given to fn. fn's non-zero
 * return stops it.
 */
int ops_hostev_read(struct ops_hostev *h, uint64_t from, size_t max, int (*fn)(void *ctx, uint64_t index, const void *entry,
									size_t len),
		    void *ctx, uint64_t *next, struct bw_err *err);
/* The host-event log's integrated size. */
uint64_t ops_hostev_size(struct ops_hostev *h);
/*
 * A named position in the host-event log kept beside the index (e.g.
 * "detected_upto"): where a reader that follows the log stopped, across
 * restarts. A name never set starts at the log's size now.
 */
int ops_hostev_position(struct ops_hostev *h, const char *name, uint64_t *at, struct bw_err *err);
int ops_hostev_set_position(struct ops_hostev *h, const char *name, uint64_t at, struct bw_err *err);
/* Indexes up to max entries that are in the log (integrated) but not yet in the index; *done says how many. */
int ops_hostev_index_pending(struct ops_hostev *h, size_t max, size_t *done, struct bw_err *err);

struct ops_host_events_ack {
	uint64_t seq;
	bool duplicate;			/* the whole batch was logged before: nothing logged now */
	uint64_t first_index;		/* else: its events (or the rest a crash left out) are at first_index.. */
	size_t logged;			/* ..first_index + logged - 1 */
};
/*
 * A batch from the calling host's agent (the host is the credential's; a
 * batch naming another is refused): logged once whatever the retries.
 * BW_ECONFLICT when seq is not the next (or the last again) of its epoch,
 * BW_EBUSY while another request of the same host is being logged. Quiet:
 * a success records no audit event (the events are in the host-event log).
 */
int ops_host_events(struct ops_ctx *x, const struct hostev_batch *b, struct ops_host_events_ack *ack,
		    struct bw_err *err);
/*
 * A heartbeat from the calling host's agent: kept as the host's state;
 * host.losses when it reports more losses than before, host.clock when its
 * clock is further off than allowed (once per epoch and direction until it
 * comes back). *skew_ms receives its clock minus the server's.
 */
int ops_host_heartbeat(struct ops_ctx *x, const struct hostev_heartbeat *hb, int64_t *skew_ms, struct bw_err *err);
/* The server itself: hosts silent for longer than allowed get host.silent (once, until they speak again). */
int ops_host_sweep(struct ops_ctx *x, struct bw_err *err);
/*
 * Retention (admins, or the server itself on --host-retention-days): deletes
 * the oldest entry bundles of the host-event log (256 entries each) whose
 * every event arrived before before_ms, up to 4,096 bundles a call, never
 * past what the index and the detection have read; the index forgets them
 * first. Audited as hostlog.prune (the server's own runs only when they
 * pruned something).
 */
struct ops_prune_result {
	uint64_t entries;	/* pruned now */
	uint64_t pruned_upto;	/* entries below this are pruned (now or before) */
	int64_t newest_ms;	/* arrival of the newest entry pruned now */
};
int ops_hostlog_prune(struct ops_ctx *x, int64_t before_ms, struct ops_prune_result *res, struct bw_err *err);
/* The server itself, every few minutes: ops_hostlog_prune by --host-retention-days (none when 0). */
void ops_hostlog_retention(struct ops_ctx *x);
/*
 * At open: finishes a prune the index recorded but the log did not (a crash
 * between them), and starts an index made anew at the pruned bound.
 */
int ops_hostlog_prune_finish(struct ops_hostev *h, struct bw_err *err);
/* Every host's last heartbeat (for the host list). Caller frees with hostdb_states_free(). */
int ops_host_states(struct ops_ctx *x, struct hostdb_host_state **out, size_t *n, struct bw_err *err);

/* One search result: the index row and the raw record read back from the log. */
struct ops_host_event_hit {
	struct hostdb_hit row;
	char *raw;			/* "" when it could not be read back */
	size_t raw_len;
	uint32_t truncated;
};
/* Searches host events (newest first, at most q->limit <= 1000). Caller frees with ops_host_event_hits_free(). */
int ops_host_events_search(struct ops_ctx *x, const struct hostdb_query *q, struct ops_host_event_hit **out, size_t *n,
			   struct bw_err *err);
void ops_host_event_hits_free(struct ops_host_event_hit *hits, size_t n);

#endif /* BW_OPS_H */
