/*
 * auth: roles, passwords, TOTP (RFC 6238), recovery codes, sessions and API
 * tokens, login with throttling and lockout. Policy lives here; storage is
 * in store, and every decision is reported so that the caller can audit it.
 */
#ifndef BW_AUTH_H
#define BW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* ---- roles ---- */
enum {
	ROLE_ADMIN = 1u << 0,
	ROLE_APPROVER = 1u << 1,
	ROLE_OPERATOR = 1u << 2,
	ROLE_VENDOR = 1u << 3,
	ROLE_AUDITOR = 1u << 4,
	ROLE_STAFF = 1u << 5,
	ROLE_ANALYST = 1u << 6,		/* triages reported mails and files */
	ROLE_ALL = (1u << 7) - 1,
	/* A host's agent credential: never a user's role (outside ROLE_ALL, not parsed from text). */
	ROLE_HOST = 1u << 8,
	/* A partner organisation's token: reads the TAXII collections it was given (never a user's role). */
	ROLE_PARTNER = 1u << 9,
};

/* Parses "admin,auditor" (no spaces, no duplicates, known names) into a mask. */
int auth_roles_parse(const char *text, unsigned *mask, struct bw_err *err);
/* Writes "admin,auditor" (in fixed order) into out (cap bytes, >= 64). */
void auth_roles_format(unsigned mask, char *out, size_t cap);
/* Name of a single role bit, or NULL. */
const char *auth_role_name(unsigned bit);

/* ---- policy constants ---- */
#define AUTH_PASSWORD_MIN 12		/* characters (code points) */
#define AUTH_PASSWORD_MAX 1024		/* bytes */
#define AUTH_USERNAME_MAX 64
#define AUTH_TOTP_SECRET_SIZE 20	/* 160-bit secret, as RFC 4226 recommends */
#define AUTH_TOTP_SEALED_SIZE (AUTH_TOTP_SECRET_SIZE + BW_AEAD_OVERHEAD)
#define AUTH_TOTP_STEP 30
#define AUTH_TOTP_DIGITS 6
#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_CODE_LEN 19	/* xxxx-xxxx-xxxx-xxxx: 80 bits, base32 */
#define AUTH_TOKEN_TEXT_MAX 64
#define AUTH_SESSION_IDLE 1800		/* 30 min */
#define AUTH_SESSION_MAX 43200		/* 12 h absolute */
#define AUTH_LOCK_AFTER 5		/* failures before the account locks */
#define AUTH_LOCK_SECS 900		/* lock period */

/* Valid user name: 1..64 of [a-z0-9._-], starting with a letter or digit. */
bool auth_username_valid(const char *name);
/* Password policy: 12..1024 bytes of valid UTF-8, at least 12 code points. */
int auth_password_check(const char *pw, struct bw_err *err);

/* ---- TOTP ---- */

/* The 6-digit code for time step `step` (RFC 6238, HMAC-SHA1, 30 s). out has 7 bytes. */
int auth_totp_code(const uint8_t *secret, size_t len, int64_t step, char out[7], struct bw_err *err);
/*
 * Checks code against steps now-1, now, now+1 (constant time) and returns
 * the matching step in *step; BW_EVERIFY when none matches. Replay is
 * checked by the caller against the last accepted step.
 */
int auth_totp_match(const uint8_t *secret, size_t len, const char *code, int64_t unix_now,
		    int64_t *step);
/* otpauth://totp/ URI for an authenticator app. Caller frees. */
int auth_totp_uri(const char *issuer, const char *user, const uint8_t *secret, size_t len, char **out,
		  struct bw_err *err);

/* ---- tokens ---- */

/* A new random token "<prefix>_<base64url of 32 bytes>" and its SHA-256. */
void auth_token_new(const char *prefix, char out[AUTH_TOKEN_TEXT_MAX], uint8_t hash[32]);
/* SHA-256 of a presented token text. */
int auth_token_hash(const char *text, uint8_t hash[32]);

/* ---- the auth context ---- */

struct auth {
	struct bw_db *db;			/* borrowed */
	const uint8_t *kek;			/* seals TOTP secrets at rest (borrowed: the instance's secure copy) */
	struct bw_pwhash_cost cost;
	int64_t lock_after, lock_secs;		/* lock (name, client) after N failures, for S seconds */
	int64_t backoff_ms;			/* per (name, client) back-off base: base * 2^(failures-1), <= 30 s */
	char dummy_hash[BW_PWHASH_STR_MAX];	/* verified for unknown users (equal timing) */
};

/* Sets defaults and computes the dummy hash; kek is borrowed and must outlive a. Clear with auth_clear(). */
int auth_init(struct auth *a, struct bw_db *db, const uint8_t kek[BW_AEAD_KEY_SIZE],
	      const struct bw_pwhash_cost *cost, struct bw_err *err);
void auth_clear(struct auth *a);

/* Enrolment data shown once to a new user (or after an MFA reset). */
struct auth_enrolment {
	char *otpauth_uri;
	char recovery[AUTH_RECOVERY_CODES][AUTH_RECOVERY_CODE_LEN + 1];
};

void auth_enrolment_clear(struct auth_enrolment *e);

/* The password policy check and its Argon2id hash (the slow part of creating a user, done before any transaction). */
int auth_password_prepare(struct auth *a, const char *password, char hash[BW_PWHASH_STR_MAX], struct bw_err *err);
/*
 * Creates a user with roles and a new TOTP secret, the password already
 * hashed by auth_password_prepare (store work and cheap crypto only, so it
 * can run inside the caller's store transaction); fills *enrol (clear it).
 * BW_EEXIST when the name is taken; BW_EINVAL for policy.
 */
int auth_user_create_hashed(struct auth *a, const char *username, const char *hash, unsigned roles, int64_t now,
			    int64_t *id, struct auth_enrolment *enrol, struct bw_err *err);

/*
 * Clears a user's TOTP secret and recovery codes and revokes their sessions
 * and tokens: they cannot sign in until they enrol again with a new code.
 */
int auth_user_reset_mfa(struct auth *a, int64_t id, struct bw_err *err);

/* ---- enrolment with one-time codes (auth/enrol.c) ---- */

#define AUTH_ENROL_HOURS_DEFAULT 72	/* a code's default lifetime */
#define AUTH_ENROL_HOURS_MAX 336	/* two weeks */

/* A one-time enrolment code, to hand over out of band. */
struct auth_code {
	char text[AUTH_TOKEN_TEXT_MAX];
	int64_t expires_at;
};

/*
 * Creates a user who has roles (possibly none yet: the caller may be asking
 * a second admin for them) but no password and no MFA: nobody can sign in
 * as them until they enrol with a code (auth_enrol_issue). BW_EEXIST when
 * the name is taken; BW_EINVAL for policy.
 */
int auth_user_create_pending(struct auth *a, const char *username, unsigned roles, int64_t now, int64_t *id,
			     struct bw_err *err);
/*
 * Issues a one-time code ("bwe_" + 256 random bits; only its SHA-256 is
 * stored) for a user or host (DB_ENROL_USER, DB_ENROL_HOST), valid for
 * hours (1..AUTH_ENROL_HOURS_MAX; 0: AUTH_ENROL_HOURS_DEFAULT); the
 * subject's earlier codes stop working.
 * The caller wipes out->text after handing it over.
 */
int auth_enrol_issue(struct auth *a, int kind, int64_t subject_id, const char *issued_by, int64_t now, int64_t hours,
		     struct auth_code *out, struct bw_err *err);
/*
 * The usable code of kind behind text: BW_EDENIED with the reason (unknown,
 * already used, replaced by a newer code, expired) otherwise. Fills *e
 * (clear with db_enrolment_clear).
 */
int auth_enrol_find(struct auth *a, int kind, const char *text, int64_t now, struct db_enrolment *e,
		    struct bw_err *err);
/*
 * A user's first step: a new TOTP secret kept (sealed) with the code until
 * the second step; *uri (caller frees) is the otpauth:// URI for the
 * authenticator. Asking again replaces the secret.
 */
int auth_enrol_offer_totp(struct auth *a, const struct db_enrolment *e, char **uri, struct bw_err *err);
/*
 * A user's second step: otp must be a current code of the offered secret
 * (BW_EDENIED otherwise); then the password (hashed by
 * auth_password_prepare), the secret and new recovery codes (into *out,
 * clear it) become the user's, their sessions and tokens are revoked and
 * the code is used up (from: the client's address).
 */
int auth_enrol_user_finish(struct auth *a, const struct db_enrolment *e, const char *hash, const char *otp,
			   int64_t now, const char *from, struct auth_enrolment *out, struct bw_err *err);
/*
 * A host's agent: uses the code up and binds a new credential ("bwh_...",
 * into credential; the caller wipes it) to the host, replacing any earlier
 * one.
 */
int auth_enrol_host_finish(struct auth *a, const struct db_enrolment *e, int64_t now, const char *from,
			   char credential[AUTH_TOKEN_TEXT_MAX], struct bw_err *err);

/* Outcome of a login attempt. reason is for the audit log only, never the client. */
struct auth_login_result {
	int64_t user_id;		/* 0 when the user is unknown */
	unsigned roles;
	bool ok;
	bool locked_now;		/* this failure locked (name, client) (record auth.lockout) */
	bool throttled;			/* refused without checking: (name, client) locked or backing off */
	int64_t retry_after;		/* seconds, when throttled */
	const char *reason;		/* "bad password", "bad totp", "totp replay", ... */
	char token[AUTH_TOKEN_TEXT_MAX];	/* session token when ok */
	bool used_recovery_code;
};

/*
 * Password + second factor (a TOTP code, or a recovery code) login from
 * client (an address group, see bw_addr_group). Failures, back-off and locks
 * are kept per (submitted name, client), so a guesser holds back only
 * itself: the owner signs in from a client that has not failed. Does the
 * same work, and gives the same answers, whether or not the user exists.
 * Returns 0 when the attempt was processed (see res->ok), an error code only
 * for internal failures.
 */
int auth_login(struct auth *a, const char *username, const char *password, const char *otp, const char *client,
	       int64_t now, struct auth_login_result *res, struct bw_err *err);

/* Identity behind a bearer token or session cookie. */
struct auth_identity {
	int64_t user_id;
	char username[AUTH_USERNAME_MAX + 1];
	unsigned roles;			/* effective: user roles & token scopes */
	int kind;			/* DB_TOKEN_SESSION, DB_TOKEN_API or AUTH_KIND_HOST */
	int64_t host_id;		/* AUTH_KIND_HOST: the host (username holds its name) */
	int64_t token_id;
	uint8_t token_hash[32];
	int64_t partner_id;		/* AUTH_KIND_PARTNER: the partner (username holds its name) */
	char org[136];			/* AUTH_KIND_PARTNER: the organisation it speaks for */
};

#define AUTH_KIND_HOST 2		/* a host's agent credential (roles: ROLE_HOST) */
#define AUTH_KIND_PARTNER 3		/* a partner organisation's token (roles: ROLE_PARTNER) */

/*
 * Who is behind a token: a session ("bws_"), an API token ("bwt_") or a
 * host credential ("bwh_"). BW_ENOTFOUND when the token is unknown,
 * expired, idle, revoked or the user disabled.
 */
int auth_authenticate(struct auth *a, const char *token, int64_t now, struct auth_identity *id,
		      struct bw_err *err);

/* Creates an API token for user limited to scopes (subset of their roles). */
int auth_api_token_create(struct auth *a, int64_t user_id, const char *name, unsigned scopes,
			  int64_t now, int64_t lifetime, char out[AUTH_TOKEN_TEXT_MAX], int64_t *id,
			  struct bw_err *err);

#endif /* BW_AUTH_H */
