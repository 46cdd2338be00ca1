/* ops/users.c: account operations (add, disable/enable, reset MFA, roles, list) for the API and the CLI. */
#include <stdio.h>
#include <string.h>

#include "ops_internal.h"

/* Looks up a user by name; BW_ENOTFOUND for invalid or unknown names. */
static int
find_user(struct ops_ctx *x, const char *name, struct db_user *u, struct bw_err *err)
{
	if (!auth_username_valid(name))
		return bw_err_set(err, BW_ENOTFOUND, "no such user");
	if (db_user_by_name(x->in->db, name, u, err) != 0)
		return bw_err_set(err, BW_ENOTFOUND, "no such user");
	return 0;
}

/* Adds the issued code's expiry and any waiting roles to ev. */
static void
ev_issued(struct event *ev, const struct ops_enrol_issued *out)
{
	if (out->code.expires_at != 0)
		ev_int(ev, EVF_CODE_EXPIRES, out->code.expires_at);
	if (out->pending_roles != 0) {
		ops_ev_roles(ev, EVF_PENDING_ROLES, out->pending_roles);
		ev_int(ev, EVF_GRANT_ID, out->grant_id);
	}
}

int
ops_user_bootstrap(struct ops_ctx *x, const char *username, const char *password, struct auth_enrolment *enrol,
		   struct bw_err *err)
{
	char hash[BW_PWHASH_STR_MAX];
	int64_t users = 0;
	struct event ev;
	int r;

	memset(enrol, 0, sizeof *enrol);
	r = ops_begin(x, OP_USER_BOOTSTRAP, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	ops_ev_roles(&ev, EVF_ROLES, ROLE_ADMIN);
	/* Argon2id before the transaction: the store is not held for the slow part. */
	if (r == 0 && (r = auth_password_prepare(&x->in->auth, password, hash, err)) == 0 &&
	    (r = ops_tx_open(x, err)) == 0 &&
	    (r = db_users_with_role_count(x->in->db, ROLE_ALL, 0, 0, &users, err)) == 0) {
		if (users != 0)
			r = bw_err_set(err, BW_EEXIST, "this data directory already has users: invite them instead");
		else
			r = auth_user_create_hashed(&x->in->auth, username, hash, ROLE_ADMIN, ops_now(), NULL,
						    enrol, err);
	}
	bw_memzero(hash, sizeof hash);
	r = ops_finish(x, OP_USER_BOOTSTRAP, &ev, r, err);
	if (r != 0)
		auth_enrolment_clear(enrol);
	return r;
}

int
ops_user_add(struct ops_ctx *x, const struct ops_user_add *q, int64_t *id, struct ops_enrol_issued *out,
	     struct bw_err *err)
{
	int64_t now = ops_now(), uid = 0;
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	if (id == NULL)
		id = &uid;
	r = ops_begin_tx(x, OP_USER_ADD, &ev, err);
	ev_target(&ev, "user:%.64s", q->username);
	ops_ev_roles(&ev, EVF_ROLES, q->roles & ROLE_ALL);
	if (r == 0 && (q->roles == 0 || (q->roles & ~(unsigned)ROLE_ALL) != 0))
		r = bw_err_set(err, BW_EINVAL, "a user needs at least one known role");
	/* Created without the roles that need a second admin; those are asked for below. */
	if (r == 0 &&
	    (r = auth_user_create_pending(&x->in->auth, q->username, q->roles & ~OPS_PRIVILEGED_ROLES, now, id, err)) == 0 &&
	    (r = ops_grant_split(x, *id, q->roles & OPS_PRIVILEGED_ROLES, &out->pending_roles, &out->grant_id, err)) == 0) {
		out->roles = q->roles & ~out->pending_roles;
		if (out->roles != (q->roles & ~OPS_PRIVILEGED_ROLES))
			r = db_user_set_roles(x->in->db, *id, out->roles, ROLE_ADMIN, err);
	}
	if (r == 0)
		r = auth_enrol_issue(&x->in->auth, DB_ENROL_USER, *id, x->caller->name, now, q->enrol_hours,
				     &out->code, err);
	if (r == 0) {
		ops_ev_roles(&ev, EVF_ROLES, out->roles);
		ev_issued(&ev, out);
	}
	r = ops_finish(x, OP_USER_ADD, &ev, r, err);
	if (r != 0)
		bw_memzero(out, sizeof *out);
	return r;
}

int
ops_user_unlock(struct ops_ctx *x, const char *username, int *cleared, struct bw_err *err)
{
	struct event ev;
	int r, n = 0;

	r = ops_begin_tx(x, OP_USER_UNLOCK, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && !auth_username_valid(username))
		r = bw_err_set(err, BW_EINVAL, "invalid user name");
	if (r == 0 && (r = db_login_forget(x->in->db, username, NULL, &n, err)) == 0)
		ev_int(&ev, EVF_COUNT, n);
	if (cleared != NULL)
		*cleared = n;
	return ops_finish(x, OP_USER_UNLOCK, &ev, r, err);
}

int
ops_user_set_disabled(struct ops_ctx *x, const char *username, bool disabled, struct bw_err *err)
{
	enum op_id op = disabled ? OP_USER_DISABLE : OP_USER_ENABLE;
	struct db_user u = { 0 };
	struct event ev;
	int r;

	r = ops_begin_tx(x, op, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0 &&
	    (r = db_user_set_disabled(x->in->db, u.id, disabled, ROLE_ADMIN, err)) == 0 && disabled)
		r = db_role_grants_cancel_user(x->in->db, u.id, x->caller->name, ops_now(), err);
	db_user_clear(&u);
	return ops_finish(x, op, &ev, r, err);
}

int
ops_user_reset_mfa(struct ops_ctx *x, const char *username, int64_t hours, struct ops_enrol_issued *out,
		   struct bw_err *err)
{
	int64_t now = ops_now();
	struct db_user u = { 0 };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin_tx(x, OP_USER_RESET_MFA, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0 &&
	    (r = auth_user_reset_mfa(&x->in->auth, u.id, err)) == 0 &&
	    /* Whoever holds the new code can become this user: their admin and approver roles wait for a second admin. */
	    (r = ops_grant_split(x, u.id, u.roles & OPS_PRIVILEGED_ROLES, &out->pending_roles, &out->grant_id, err)) == 0) {
		out->roles = u.roles & ~out->pending_roles;
		if (out->roles != u.roles)
			r = db_user_set_roles(x->in->db, u.id, out->roles, ROLE_ADMIN, err);
	}
	if (r == 0)
		r = auth_enrol_issue(&x->in->auth, DB_ENROL_USER, u.id, x->caller->name, now, hours, &out->code,
				     err);
	if (r == 0)
		ev_issued(&ev, out);
	db_user_clear(&u);
	r = ops_finish(x, OP_USER_RESET_MFA, &ev, r, err);
	if (r != 0)
		bw_memzero(out, sizeof *out);
	return r;
}

int
ops_user_set_roles(struct ops_ctx *x, const char *username, unsigned roles, unsigned *before,
		   struct ops_enrol_issued *out, struct bw_err *err)
{
	struct db_user u = { 0 };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin_tx(x, OP_USER_ROLES, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && (roles == 0 || (roles & ~(unsigned)ROLE_ALL) != 0))
		r = bw_err_set(err, BW_EINVAL, "a user needs at least one known role");
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0) {
		ops_ev_roles(&ev, EVF_FROM, u.roles);
		if (before != NULL)
			*before = u.roles;
		if ((r = ops_grant_split(x, u.id, roles & ~u.roles & OPS_PRIVILEGED_ROLES, &out->pending_roles,
					 &out->grant_id, err)) == 0) {
			out->roles = roles & ~out->pending_roles;
			ops_ev_roles(&ev, EVF_TO, out->roles);
			ev_issued(&ev, out);
			r = db_user_set_roles(x->in->db, u.id, out->roles, ROLE_ADMIN, err);
		}
	}
	db_user_clear(&u);
	return ops_finish(x, OP_USER_ROLES, &ev, r, err);
}

int
ops_user_list(struct ops_ctx *x, struct db_user **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_USER_LIST, &ev, err);
	ev_target(&ev, "user:*");
	if (r == 0 && (r = db_user_list(x->in->db, out, n, err)) == 0) {
		size_t i;
		for (i = 0; r == 0 && i < *n; i++)
			r = db_login_locked_clients(x->in->db, (*out)[i].username, ops_now(),
						    &(*out)[i].locked_clients, err);
	}
	if (r != 0 || x->caller->via == OPS_VIA_LOCAL || ops_always_audited(OP_USER_LIST)) {
		/* Reads are audited when refused, and always from the local CLI (no other trace of it). */
		r = ops_finish(x, OP_USER_LIST, &ev, r, err);
	} else {
		ev_clear(&ev);
	}
	if (r != 0) {
		db_users_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

int
ops_user_passwd(struct ops_ctx *x, const char *current, const char *otp, const char *new_password, struct bw_err *err)
{
	struct auth_login_result res = { 0 };
	char hash[BW_PWHASH_STR_MAX] = "", client[BW_ADDR_GROUP_MAX];
	struct event ev;
	int r;

	r = ops_begin(x, OP_USER_PASSWD, &ev, err);
	ev_target(&ev, "user:%.64s", x->caller->name);
	if (r == 0 && (r = auth_password_check(new_password, err)) != 0)
		bw_err_prefix(err, "new password");
	if (r == 0) {
		/* The current credentials, checked exactly like a sign-in (throttled and counted per client). */
		ops_caller_group(x->caller, client);
		if ((r = auth_login(&x->in->auth, x->caller->name, current, otp, client, ops_now(), &res, err)) == 0 &&
		    !res.ok)
			r = bw_err_set(err, BW_EDENIED, "%s", res.throttled ? "too many attempts; retry later"
								     : "the current password or code is wrong");
		bw_memzero(res.token, sizeof res.token);
	}
	/* The new password's Argon2id only once the current credentials are right. */
	if (r == 0 && (r = auth_password_prepare(&x->in->auth, new_password, hash, err)) == 0 &&
	    (r = ops_tx_open(x, err)) == 0) {
		if ((r = db_user_set_password(x->in->db, x->caller->user_id, hash, err)) == 0)
			r = db_tokens_revoke_user(x->in->db, x->caller->user_id, err);
	}
	bw_memzero(hash, sizeof hash);
	return ops_finish(x, OP_USER_PASSWD, &ev, r, err);
}

int
ops_user_set_email(struct ops_ctx *x, const char *username, const char *email, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_USER_EMAIL, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && email[0] != '\0' && !bw_email_valid(email))
		r = bw_err_set(err, BW_EINVAL, "not a plain mail address (LOCAL@DOMAIN, at most 254 bytes)");
	if (r == 0) {
		ev_str(&ev, EVF_EMAIL, email);
		r = db_user_email_set(x->in->db, username, email, err);
	}
	return ops_finish(x, OP_USER_EMAIL, &ev, r, err);
}
