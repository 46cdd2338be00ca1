/* auth/users.c: user creation, MFA enrolment, login, tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"

#define TOTP_AD_PREFIX "bulwark totp v1 user "

int
auth_init(struct auth *a, struct bw_db *db, const uint8_t kek[BW_AEAD_KEY_SIZE],
	  const struct bw_pwhash_cost *cost, struct bw_err *err)
{
	uint8_t rnd[16];
	char pw[33];

	memset(a, 0, sizeof *a);
	a->db = db;
	a->kek = kek;
	a->cost = *cost;
	a->lock_after = AUTH_LOCK_AFTER;
	a->lock_secs = AUTH_LOCK_SECS;
	a->backoff_ms = 1000;
	bw_random_bytes(rnd, sizeof rnd);
	bw_hex_encode(pw, rnd, sizeof rnd);
	return bw_password_hash(pw, strlen(pw), cost, a->dummy_hash, err);
}

void
auth_clear(struct auth *a)
{
	bw_memzero(a, sizeof *a);
}

void
auth_enrolment_clear(struct auth_enrolment *e)
{
	if (e == NULL)
		return;
	if (e->otpauth_uri != NULL) {
		bw_memzero(e->otpauth_uri, strlen(e->otpauth_uri));
		free(e->otpauth_uri);
	}
	bw_memzero(e, sizeof *e);
}

void
auth_totp_ad(int64_t id, char *ad, size_t cap)
{
	snprintf(ad, cap, TOTP_AD_PREFIX "%lld", (long long)id);
}

/* Hash of a recovery code, bound to the user. */
static int
recovery_hash(int64_t user_id, const char *code, uint8_t out[32])
{
	char buf[96];
	int n = snprintf(buf, sizeof buf, "bulwark recovery v1 %lld %s", (long long)user_id, code);
	int r = bw_sha256_oneshot(buf, (size_t)n, out);
	bw_memzero(buf, sizeof buf);
	return r;
}

int
auth_totp_secret_new(struct auth *a, int64_t id, const char *username, uint8_t sealed[AUTH_TOTP_SEALED_SIZE],
		     char **uri, struct bw_err *err)
{
	uint8_t secret[AUTH_TOTP_SECRET_SIZE];
	char ad[64];
	int r;

	*uri = NULL;
	bw_random_bytes(secret, sizeof secret);
	auth_totp_ad(id, ad, sizeof ad);
	if ((r = bw_aead_seal(a->kek, ad, strlen(ad), secret, sizeof secret, sealed, err)) == 0)
		r = auth_totp_uri("bulwark", username, secret, sizeof secret, uri, err);
	bw_memzero(secret, sizeof secret);
	return r;
}

int
auth_totp_unseal(struct auth *a, int64_t id, const uint8_t *sealed, size_t len, uint8_t secret[AUTH_TOTP_SECRET_SIZE])
{
	char ad[64];

	auth_totp_ad(id, ad, sizeof ad);
	if (len != AUTH_TOTP_SEALED_SIZE || bw_aead_open(a->kek, ad, strlen(ad), sealed, len, secret, NULL) != 0)
		return BW_ECRYPTO;
	return 0;
}

int
auth_recovery_new(struct auth *a, int64_t id, struct auth_enrolment *e, struct bw_err *err)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t hashes[AUTH_RECOVERY_CODES][32];
	int i, k;

	for (i = 0; i < AUTH_RECOVERY_CODES; i++) {
		uint8_t rnd[16];
		bw_random_bytes(rnd, sizeof rnd);
		for (k = 0; k < 16; k++) {	/* 16 base32 characters = 80 bits */
			e->recovery[i][k + k / 4] = b32[rnd[k] & 31];
			if (k % 4 == 3 && k < 15)
				e->recovery[i][k + k / 4 + 1] = '-';
		}
		e->recovery[i][AUTH_RECOVERY_CODE_LEN] = '\0';
		if (recovery_hash(id, e->recovery[i], hashes[i]) != 0)
			return bw_err_set(err, BW_ECRYPTO, "hashing failed");
	}
	return db_recovery_replace(a->db, id, (const uint8_t (*)[32])hashes, AUTH_RECOVERY_CODES, err);
}

/* New TOTP secret (sealed into *sealed), URI and recovery codes for user. */
static int
enrol(struct auth *a, int64_t id, const char *username, uint8_t *sealed, struct auth_enrolment *e,
      struct bw_err *err)
{
	int r;

	memset(e, 0, sizeof *e);
	if ((r = auth_totp_secret_new(a, id, username, sealed, &e->otpauth_uri, err)) == 0)
		r = auth_recovery_new(a, id, e, err);
	if (r != 0)
		auth_enrolment_clear(e);
	return r;
}

int
auth_password_prepare(struct auth *a, const char *password, char hash[BW_PWHASH_STR_MAX], struct bw_err *err)
{
	int r;

	if ((r = auth_password_check(password, err)) != 0)
		return r;
	return bw_password_hash(password, strlen(password), &a->cost, hash, err);
}

int
auth_user_create_hashed(struct auth *a, const char *username, const char *hash, unsigned roles, int64_t now,
			int64_t *id_out, struct auth_enrolment *e, struct bw_err *err)
{
	uint8_t sealed[AUTH_TOTP_SEALED_SIZE];
	int64_t id = 0;
	int r;

	memset(e, 0, sizeof *e);
	if (!auth_username_valid(username))
		return bw_err_set(err, BW_EINVAL,
				  "invalid user name (1..64 of a-z 0-9 . _ -, starting with a letter or digit)");
	if (roles == 0 || (roles & ~(unsigned)ROLE_ALL) != 0)
		return bw_err_set(err, BW_EINVAL, "a user needs at least one known role");
	/* Insert first (for the id the secret is bound to), then enrol. */
	if ((r = db_user_insert(a->db, username, hash, NULL, 0, roles, now, &id, err)) != 0)
		return r;
	if ((r = enrol(a, id, username, sealed, e, err)) != 0 ||
	    (r = db_user_set_totp(a->db, id, sealed, sizeof sealed, err)) != 0) {
		auth_enrolment_clear(e);
		/* The user exists without MFA and cannot log in; report it. */
		return bw_err_prefix(err, "user '%s' created but MFA enrolment failed", username);
	}
	if (id_out != NULL)
		*id_out = id;
	return 0;
}

int
auth_user_reset_mfa(struct auth *a, int64_t id, struct bw_err *err)
{
	int r;

	if ((r = db_user_set_totp(a->db, id, NULL, 0, err)) == 0 &&
	    (r = db_recovery_replace(a->db, id, NULL, 0, err)) == 0)
		r = db_tokens_revoke_user(a->db, id, err);
	return r;
}

/* A failed attempt: its reason, and whether it is the one that locks (name, client). */
static void
login_failed(const struct db_login_attempt *at, const char *reason, struct auth_login_result *res)
{
	res->reason = reason;
	res->locked_now = at->locks;
}

int
auth_login(struct auth *a, const char *username, const char *password, const char *otp, const char *client,
	   int64_t now, struct auth_login_result *res, struct bw_err *err)
{
	struct db_login_policy pol = { a->lock_after, a->lock_secs, a->backoff_ms };
	struct db_login_attempt at;
	struct db_user u = { 0 };
	uint8_t secret[AUTH_TOTP_SECRET_SIZE], hash[32];
	/* Attempts are counted per (submitted name, client): known and unknown names alike; invalid names share one. */
	const char *key = auth_username_valid(username) ? username : "?invalid";
	int64_t step;
	int r;

	memset(res, 0, sizeof *res);
	if ((r = db_login_attempt(a->db, &pol, key, client, now, &at, err)) != 0)
		return r;
	if (!at.admitted) {
		/* Refused before any password work: only this client is held back, never the account's owner. */
		res->throttled = true;
		res->retry_after = at.retry_after;
		res->reason = at.locked ? "locked for this client after failures" : "backing off after failures";
		return 0;
	}
	if (strlen(password) > AUTH_PASSWORD_MAX || strlen(otp) > 64) {
		login_failed(&at, "oversized credentials", res);
		return 0;
	}
	if (key[0] == '?' || (r = db_user_by_name(a->db, username, &u, err)) == BW_ENOTFOUND) {
		/* Same work as for a real user: no timing difference. */
		bw_password_verify(a->dummy_hash, password, strlen(password));
		login_failed(&at, "unknown user", res);
		return 0;
	}
	if (r != 0)
		return r;
	res->user_id = u.id;
	res->roles = u.roles;
	if (u.disabled || strncmp(u.password_hash, "$argon2", 7) != 0) {
		/* Disabled, or invited but not enrolled yet: the same work as a real check. */
		bw_password_verify(a->dummy_hash, password, strlen(password));
		login_failed(&at, u.disabled ? "user disabled" : "not enrolled yet", res);
		goto out;
	}
	if (bw_password_verify(u.password_hash, password, strlen(password)) != 0) {
		login_failed(&at, "bad password", res);
		goto out;
	}
	if (u.totp_sealed == NULL) {
		login_failed(&at, "no MFA enrolled (reset pending)", res);
		goto out;
	}
	if (strlen(otp) == AUTH_RECOVERY_CODE_LEN) {
		if (recovery_hash(u.id, otp, hash) != 0 || db_recovery_use(a->db, u.id, hash, now, NULL) != 0) {
			login_failed(&at, "bad recovery code", res);
			goto out;
		}
		res->used_recovery_code = true;
	} else {
		if (auth_totp_unseal(a, u.id, u.totp_sealed, u.totp_sealed_len, secret) != 0) {
			login_failed(&at, "TOTP secret does not unseal", res);
			goto out;
		}
		r = auth_totp_match(secret, sizeof secret, otp, now, &step);
		bw_memzero(secret, sizeof secret);
		if (r != 0) {
			r = 0;
			login_failed(&at, "bad TOTP code", res);
			goto out;
		}
		if (db_user_totp_accept(a->db, u.id, step, NULL) != 0) {
			login_failed(&at, "TOTP code replayed", res);
			goto out;
		}
	}
	/* Success: this client's failures for the name are forgotten. */
	if ((r = db_login_ok(a->db, key, client, err)) != 0)
		goto out;
	if (bw_password_needs_rehash(u.password_hash, &a->cost)) {
		char nh[BW_PWHASH_STR_MAX];
		if (bw_password_hash(password, strlen(password), &a->cost, nh, NULL) == 0)
			db_user_set_password(a->db, u.id, nh, NULL);
	}
	auth_token_new("bws", res->token, hash);
	if ((r = db_token_insert(a->db, hash, u.id, DB_TOKEN_SESSION, NULL, 0, now, now + AUTH_SESSION_MAX,
				 NULL, err)) != 0)
		goto out;
	res->ok = true;
	res->reason = res->used_recovery_code ? "password + recovery code" : "password + TOTP";
out:
	db_user_clear(&u);
	return r;
}

int
auth_authenticate(struct auth *a, const char *token, int64_t now, struct auth_identity *id,
		  struct bw_err *err)
{
	struct db_token t;
	int r;

	memset(id, 0, sizeof *id);
	if (strlen(token) >= AUTH_TOKEN_TEXT_MAX ||
	    (strncmp(token, "bws_", 4) && strncmp(token, "bwt_", 4) && strncmp(token, "bwh_", 4) &&
	     strncmp(token, "bwp_", 4)))
		return bw_err_set(err, BW_ENOTFOUND, "malformed token");
	auth_token_hash(token, id->token_hash);
	if (token[2] == 'h') {
		struct db_host_credential c;
		if ((r = db_host_credential_lookup(a->db, id->token_hash, now, &c, err)) != 0)
			return r;
		id->kind = AUTH_KIND_HOST;
		id->host_id = c.host_id;
		id->roles = ROLE_HOST;
		snprintf(id->username, sizeof id->username, "%.64s", c.host);
		return 0;
	}
	if (token[2] == 'p') {
		struct db_partner p;
		if ((r = db_partner_by_token(a->db, id->token_hash, &p, err)) != 0)
			return r;
		id->kind = AUTH_KIND_PARTNER;
		id->partner_id = p.id;
		id->roles = ROLE_PARTNER;
		snprintf(id->username, sizeof id->username, "%.64s", p.name);
		snprintf(id->org, sizeof id->org, "%s", p.org);
		return 0;
	}
	if ((r = db_token_lookup(a->db, id->token_hash, now, AUTH_SESSION_IDLE, &t, err)) != 0)
		return r;
	id->user_id = t.user_id;
	snprintf(id->username, sizeof id->username, "%s", t.username);
	id->roles = t.kind == DB_TOKEN_API ? (t.user_roles & t.scopes) : t.user_roles;
	id->kind = t.kind;
	id->token_id = t.id;
	db_token_clear(&t);
	return 0;
}

int
auth_api_token_create(struct auth *a, int64_t user_id, const char *name, unsigned scopes, int64_t now,
		      int64_t lifetime, char out[AUTH_TOKEN_TEXT_MAX], int64_t *id, struct bw_err *err)
{
	uint8_t hash[32];
	struct db_user u;
	int r;

	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return bw_err_set(err, BW_EINVAL, "token name must be 1..64 characters");
	if (lifetime <= 0 || lifetime > 366 * 86400)
		return bw_err_set(err, BW_EINVAL, "token lifetime must be 1 s .. 366 days");
	if ((r = db_user_by_id(a->db, user_id, &u, err)) != 0)
		return r;
	if ((scopes & ~u.roles) != 0 || scopes == 0) {
		db_user_clear(&u);
		return bw_err_set(err, BW_EINVAL, "token scopes must be a non-empty subset of the user's roles");
	}
	db_user_clear(&u);
	auth_token_new("bwt", out, hash);
	return db_token_insert(a->db, hash, user_id, DB_TOKEN_API, name, scopes, now, now + lifetime, id, err);
}
