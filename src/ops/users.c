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

int
ops_user_add(struct ops_ctx *x, const struct ops_user_add *q, int64_t *id, struct auth_enrolment *enrol,
	     struct bw_err *err)
{
	struct event ev;
	int r;

	char hash[BW_PWHASH_STR_MAX];

	memset(enrol, 0, sizeof *enrol);
	r = ops_begin(x, OP_USER_ADD, &ev, err);
	ev_target(&ev, "user:%.64s", q->username);
	ops_ev_roles(&ev, EVF_ROLES, q->roles);
	/* Argon2id before the transaction: the store is not held for the slow part. */
	if (r == 0 && (r = auth_password_prepare(&x->in->auth, q->password, hash, err)) == 0 &&
	    (r = ops_tx_open(x, err)) == 0)
		r = auth_user_create_hashed(&x->in->auth, q->username, hash, q->roles, bw_now_ms() / 1000, id, enrol, err);
	bw_memzero(hash, sizeof hash);
	r = ops_finish(x, OP_USER_ADD, &ev, r, err);
	if (r != 0)
		auth_enrolment_clear(enrol);
	return r;
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
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0)
		r = db_user_set_disabled(x->in->db, u.id, disabled, ROLE_ADMIN, err);
	db_user_clear(&u);
	return ops_finish(x, op, &ev, r, err);
}

int
ops_user_reset_mfa(struct ops_ctx *x, const char *username, struct auth_enrolment *enrol, struct bw_err *err)
{
	struct db_user u = { 0 };
	struct event ev;
	int r;

	memset(enrol, 0, sizeof *enrol);
	r = ops_begin_tx(x, OP_USER_RESET_MFA, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0)
		r = auth_user_reset_mfa(&x->in->auth, u.id, enrol, err);
	db_user_clear(&u);
	r = ops_finish(x, OP_USER_RESET_MFA, &ev, r, err);
	if (r != 0)
		auth_enrolment_clear(enrol);
	return r;
}

int
ops_user_set_roles(struct ops_ctx *x, const char *username, unsigned roles, unsigned *before, struct bw_err *err)
{
	struct db_user u = { 0 };
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_USER_ROLES, &ev, err);
	ev_target(&ev, "user:%.64s", username);
	if (r == 0 && (r = find_user(x, username, &u, err)) == 0) {
		ops_ev_roles(&ev, EVF_FROM, u.roles);
		ops_ev_roles(&ev, EVF_TO, roles);
		if (before != NULL)
			*before = u.roles;
		r = db_user_set_roles(x->in->db, u.id, roles, ROLE_ADMIN, err);
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
			r = db_login_locked_clients(x->in->db, (*out)[i].username, bw_now_ms() / 1000,
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
		if ((r = auth_login(&x->in->auth, x->caller->name, current, otp, client, bw_now_ms() / 1000, &res, err)) == 0 &&
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
