/* ops/enrol.c: users enrolling with a one-time code, and second-admin role grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

int
ops_enrol_start(struct ops_ctx *x, const char *code, char username[72], char **uri, struct bw_err *err)
{
	struct db_enrolment e = { 0 };
	struct event ev;
	int r;

	*uri = NULL;
	username[0] = '\0';
	r = ops_begin_tx(x, OP_USER_ENROL_START, &ev, err);
	ev_target(&ev, "user:?");
	if (r == 0 && (r = auth_enrol_find(&x->in->auth, DB_ENROL_USER, code, ops_now(), &e, err)) == 0) {
		ev_target(&ev, "user:%.64s", e.subject);
		ev_str(&ev, EVF_ISSUED_BY, e.issued_by);
		snprintf(username, 72, "%s", e.subject);
		r = auth_enrol_offer_totp(&x->in->auth, &e, uri, err);
	}
	db_enrolment_clear(&e);
	r = ops_finish(x, OP_USER_ENROL_START, &ev, r, err);
	if (r != 0 && *uri != NULL) {
		bw_memzero(*uri, strlen(*uri));
		free(*uri);
		*uri = NULL;
	}
	return r;
}

int
ops_enrol_finish(struct ops_ctx *x, const char *code, const char *password, const char *otp, char username[72],
		 struct auth_enrolment *out, struct bw_err *err)
{
	char hash[BW_PWHASH_STR_MAX] = "";
	struct db_enrolment e = { 0 };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	username[0] = '\0';
	r = ops_begin(x, OP_USER_ENROL, &ev, err);
	ev_target(&ev, "user:?");
	/* The code first (cheap), then the password's Argon2id outside the store's transaction. */
	if (r == 0 && (r = auth_enrol_find(&x->in->auth, DB_ENROL_USER, code, ops_now(), &e, err)) == 0) {
		ev_target(&ev, "user:%.64s", e.subject);
		ev_str(&ev, EVF_ISSUED_BY, e.issued_by);
		snprintf(username, 72, "%s", e.subject);
		if ((r = auth_password_prepare(&x->in->auth, password, hash, err)) == 0 && (r = ops_tx_open(x, err)) == 0)
			r = auth_enrol_user_finish(&x->in->auth, &e, hash, otp, ops_now(), x->caller->source, out, err);
	}
	bw_memzero(hash, sizeof hash);
	db_enrolment_clear(&e);
	r = ops_finish(x, OP_USER_ENROL, &ev, r, err);
	if (r != 0)
		auth_enrolment_clear(out);
	return r;
}

/* ---- role grants ---- */

int
ops_grant_split(struct ops_ctx *x, int64_t user_id, unsigned adding, unsigned *pending, int64_t *grant_id,
		struct bw_err *err)
{
	struct db_role_grant g = { 0 };
	int64_t others = 0;
	int r;

	*pending = 0;
	*grant_id = 0;
	adding &= OPS_PRIVILEGED_ROLES;
	/* The local CLI holds the data directory's keys anyway; the server's own timers grant nothing. */
	if (adding == 0 || x->caller->via == OPS_VIA_LOCAL || x->caller->via == OPS_VIA_SYSTEM)
		return 0;
	if ((r = db_users_with_role_count(x->in->db, ROLE_ADMIN, x->caller->user_id, user_id, &others, err)) != 0)
		return r;
	if (others == 0)
		return 0;	/* no second admin to ask yet */
	g.user_id = user_id;
	g.roles = adding;
	g.requested_by_id = x->caller->user_id;
	snprintf(g.requested_by, sizeof g.requested_by, "%s", x->caller->name);
	g.requested_at = ops_now();
	if ((r = db_role_grant_insert(x->in->db, &g, grant_id, err)) == 0)
		*pending = adding;
	return r;
}

int
ops_grant_list(struct ops_ctx *x, bool pending_only, struct db_role_grant **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_GRANT_LIST, &ev, err);
	ev_target(&ev, "grant:*");
	if (r == 0 && (r = db_role_grant_list(x->in->db, pending_only, 1000, out, n, err)) == 0 &&
	    x->caller->via != OPS_VIA_LOCAL) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_GRANT_LIST, &ev, r, err);
}

int
ops_grant_decide(struct ops_ctx *x, int64_t id, bool approve, struct db_role_grant *out, struct bw_err *err)
{
	enum op_id op = approve ? OP_GRANT_APPROVE : OP_GRANT_DENY;
	struct db_user u = { 0 };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin_tx(x, op, &ev, err);
	ev_target(&ev, "grant:%lld", (long long)id);
	if (r == 0 && (r = db_role_grant_get(x->in->db, id, out, err)) == 0) {
		ev_target(&ev, "user:%.64s", out->username);
		ev_int(&ev, EVF_GRANT_ID, id);
		ops_ev_roles(&ev, EVF_ROLES, out->roles);
		ev_str(&ev, EVF_REQUESTED_BY, out->requested_by);
		if (strcmp(out->state, "pending") != 0)
			r = bw_err_set(err, BW_ECONFLICT, "the role grant is already %s", out->state);
		else if (out->user_id == x->caller->user_id)
			r = bw_err_set(err, BW_EDENIED, "nobody decides a role grant for themselves");
		else if (approve && out->requested_by_id == x->caller->user_id)
			r = bw_err_set(err, BW_EDENIED, "a second admin must approve: you asked for this grant");
	}
	if (r == 0 && approve && (r = db_user_by_id(x->in->db, out->user_id, &u, err)) == 0) {
		if (u.disabled)
			r = bw_err_set(err, BW_ECONFLICT, "the user is disabled");
		else if (u.totp_sealed == NULL)
			r = bw_err_set(err, BW_ECONFLICT,
				       "the user has not enrolled yet: approve once they have (check with them who enrolled)");
		else
			r = db_user_set_roles(x->in->db, u.id, u.roles | out->roles, ROLE_ADMIN, err);
	}
	if (r == 0 && (r = db_role_grant_decide(x->in->db, id, approve ? "approved" : "denied", x->caller->name,
						ops_now(), err)) == 0) {
		/* *out as decided. */
		snprintf(out->state, sizeof out->state, "%s", approve ? "approved" : "denied");
		snprintf(out->decided_by, sizeof out->decided_by, "%s", x->caller->name);
		out->decided_at = ops_now();
	}
	db_user_clear(&u);
	return ops_finish(x, op, &ev, r, err);
}
