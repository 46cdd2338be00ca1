/* auth/enrol.c: one-time enrolment codes: users set their own password and TOTP; hosts get a credential. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"

int
auth_user_create_pending(struct auth *a, const char *username, unsigned roles, int64_t now, int64_t *id,
			 struct bw_err *err)
{
	if (!auth_username_valid(username))
		return bw_err_set(err, BW_EINVAL,
				  "invalid user name (1..64 of a-z 0-9 . _ -, starting with a letter or digit)");
	if ((roles & ~(unsigned)ROLE_ALL) != 0)
		return bw_err_set(err, BW_EINVAL, "unknown role");
	/* "!" is no Argon2id string: no password verifies against it (sign-in checks the dummy hash instead). */
	return db_user_insert(a->db, username, "!", NULL, 0, roles, now, id, err);
}

int
auth_enrol_issue(struct auth *a, int kind, int64_t subject_id, const char *issued_by, int64_t now, int64_t hours,
		 struct auth_code *out, struct bw_err *err)
{
	uint8_t hash[32];
	int r;

	memset(out, 0, sizeof *out);
	if (hours == 0)
		hours = AUTH_ENROL_HOURS_DEFAULT;
	if (hours < 1 || hours > AUTH_ENROL_HOURS_MAX)
		return bw_err_set(err, BW_EINVAL, "an enrolment code lives 1..%d hours", AUTH_ENROL_HOURS_MAX);
	auth_token_new("bwe", out->text, hash);
	out->expires_at = now + hours * 3600;
	if ((r = db_enrolment_issue(a->db, kind, subject_id, hash, issued_by, now, out->expires_at, err)) != 0)
		bw_memzero(out, sizeof *out);
	return r;
}

int
auth_enrol_find(struct auth *a, int kind, const char *text, int64_t now, struct db_enrolment *e, struct bw_err *err)
{
	uint8_t hash[32];
	int r;

	memset(e, 0, sizeof *e);
	if (strlen(text) >= AUTH_TOKEN_TEXT_MAX || strncmp(text, "bwe_", 4) != 0)
		return bw_err_set(err, BW_EDENIED, "not an enrolment code");
	auth_token_hash(text, hash);
	if ((r = db_enrolment_by_hash(a->db, hash, e, err)) == BW_ENOTFOUND || (r == 0 && e->kind != kind))
		r = bw_err_set(err, BW_EDENIED, "unknown enrolment code");
	else if (r == 0 && e->used_at != 0)
		r = bw_err_set(err, BW_EDENIED, "the enrolment code was already used");
	else if (r == 0 && e->cancelled)
		r = bw_err_set(err, BW_EDENIED, "the enrolment code was replaced by a newer one");
	else if (r == 0 && now >= e->expires_at)
		r = bw_err_set(err, BW_EDENIED, "the enrolment code expired");
	if (r != 0)
		db_enrolment_clear(e);
	return r;
}

int
auth_enrol_offer_totp(struct auth *a, const struct db_enrolment *e, char **uri, struct bw_err *err)
{
	uint8_t sealed[AUTH_TOTP_SEALED_SIZE];
	int r;

	*uri = NULL;
	if (e->kind != DB_ENROL_USER)
		return bw_err_set(err, BW_EINVAL, "not a user's enrolment code");
	if ((r = auth_totp_secret_new(a, e->subject_id, e->subject, sealed, uri, err)) == 0)
		r = db_enrolment_set_totp(a->db, e->id, sealed, sizeof sealed, err);
	if (r != 0 && *uri != NULL) {
		bw_memzero(*uri, strlen(*uri));
		free(*uri);
		*uri = NULL;
	}
	return r;
}

int
auth_enrol_user_finish(struct auth *a, const struct db_enrolment *e, const char *hash, const char *otp, int64_t now,
		       const char *from, struct auth_enrolment *out, struct bw_err *err)
{
	uint8_t secret[AUTH_TOTP_SECRET_SIZE];
	int64_t step;
	int r;

	memset(out, 0, sizeof *out);
	if (e->kind != DB_ENROL_USER)
		return bw_err_set(err, BW_EINVAL, "not a user's enrolment code");
	if (e->totp_sealed == NULL)
		return bw_err_set(err, BW_EINVAL, "no authenticator secret offered yet: start the enrolment first");
	if (auth_totp_unseal(a, e->subject_id, e->totp_sealed, e->totp_sealed_len, secret) != 0)
		return bw_err_set(err, BW_ECRYPTO, "the offered TOTP secret does not unseal");
	r = strlen(otp) <= 16 ? auth_totp_match(secret, sizeof secret, otp, now, &step) : BW_EVERIFY;
	bw_memzero(secret, sizeof secret);
	if (r != 0)
		return bw_err_set(err, BW_EDENIED, "the code from the authenticator is wrong (or its clock is off)");
	if ((r = db_enrolment_use(a->db, e->id, now, from, err)) == 0 &&
	    (r = db_user_set_password(a->db, e->subject_id, hash, err)) == 0 &&
	    (r = db_user_set_totp(a->db, e->subject_id, e->totp_sealed, e->totp_sealed_len, err)) == 0 &&
	    (r = db_user_totp_accept(a->db, e->subject_id, step, err)) == 0 &&
	    (r = auth_recovery_new(a, e->subject_id, out, err)) == 0)
		r = db_tokens_revoke_user(a->db, e->subject_id, err);
	if (r != 0)
		auth_enrolment_clear(out);
	return r;
}

int
auth_enrol_host_finish(struct auth *a, const struct db_enrolment *e, int64_t now, const char *from,
		       char credential[AUTH_TOKEN_TEXT_MAX], struct bw_err *err)
{
	uint8_t hash[32];
	int r;

	credential[0] = '\0';
	if (e->kind != DB_ENROL_HOST)
		return bw_err_set(err, BW_EINVAL, "not a host's enrolment code");
	auth_token_new("bwh", credential, hash);
	if ((r = db_enrolment_use(a->db, e->id, now, from, err)) == 0)
		r = db_host_credential_set(a->db, e->subject_id, hash, now, from, err);
	if (r != 0)
		bw_memzero(credential, AUTH_TOKEN_TEXT_MAX);
	return r;
}
