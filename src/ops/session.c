/* ops/session.c: signing in and out, and API tokens. */
#include <stdio.h>
#include <string.h>

#include "ops_internal.h"

int
ops_login(struct ops_ctx *x, const struct ops_login *q, struct auth_login_result *res, struct bw_err *err)
{
	struct event ev;
	char client[BW_ADDR_GROUP_MAX];
	int64_t now = ops_now();
	int r;

	memset(res, 0, sizeof *res);
	r = ops_begin(x, OP_AUTH_LOGIN, &ev, err);
	ev_target(&ev, "user:%.64s", q->username);
	/*
	 * auth_login's counters and session are written as it decides (Argon2id
	 * cannot run inside a transaction without serialising every sign-in);
	 * the event is durable before the caller hands out the token.
	 */
	ops_caller_group(x->caller, client);
	if (r == 0)
		r = auth_login(&x->in->auth, q->username, q->password, q->otp, client, now, res, err);
	if (r != 0)
		return ops_finish(x, OP_AUTH_LOGIN, &ev, r, err);
	ev_str(&ev, EVF_REASON, res->reason);
	if (!res->ok && !res->throttled && res->locked_now) {
		/* The lockout: its own event, before the login's (the rules turn it into an alert). */
		struct event lock;
		ev_init(&lock, EV_AUTH_LOCKOUT, &(struct ev_origin){ .actor = "-", .source = x->caller->source,
								      .request_id = x->caller->request_id });
		lock.result = EV_ALERT;
		ev_target(&lock, "user:%.64s", q->username);
		ev_str(&lock, EVF_CLIENT, client);
		ev_int(&lock, EVF_FAILURES, x->in->auth.lock_after);
		ev_int(&lock, EVF_UNTIL, now + x->in->auth.lock_secs);
		ops_record_extra(x, &lock, NULL);
		ev_clear(&lock);
		ev_bool(&ev, EVF_LOCKED, true);
	}
	r = ops_finish_as(x, OP_AUTH_LOGIN, &ev, res->ok ? EV_OK : res->throttled ? EV_REFUSED : EV_DENIED, err);
	if (r != 0)
		bw_memzero(res->token, sizeof res->token);
	return r;
}

int
ops_logout(struct ops_ctx *x, const uint8_t token_hash[32], int64_t token_id, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_AUTH_LOGOUT, &ev, err);
	ev_target(&ev, "token:%lld", (long long)token_id);
	if (r == 0)
		r = db_token_revoke_hash(x->in->db, token_hash, err);
	return ops_finish(x, OP_AUTH_LOGOUT, &ev, r, err);
}

int
ops_token_create(struct ops_ctx *x, const struct ops_token_create *q, char token[AUTH_TOKEN_TEXT_MAX], int64_t *id,
		 struct bw_err *err)
{
	struct event ev;
	int r;

	token[0] = '\0';
	r = ops_begin_tx(x, OP_TOKEN_CREATE, &ev, err);
	ev_target(&ev, "token:%.64s", q->name);
	ops_ev_roles(&ev, EVF_SCOPES, q->scopes);
	if (r == 0 && (q->lifetime_days < 1 || q->lifetime_days > 366))
		r = bw_err_set(err, BW_EINVAL, "lifetime_days must be 1..366");
	if (r == 0 && (r = auth_api_token_create(&x->in->auth, x->caller->user_id, q->name, q->scopes,
						  ops_now(), q->lifetime_days * 86400, token, id, err)) == 0)
		ev_int(&ev, EVF_TOKEN_ID, *id);
	r = ops_finish(x, OP_TOKEN_CREATE, &ev, r, err);
	if (r != 0)
		bw_memzero(token, AUTH_TOKEN_TEXT_MAX);
	return r;
}

int
ops_token_revoke(struct ops_ctx *x, int64_t id, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_TOKEN_REVOKE, &ev, err);
	ev_target(&ev, "token:%lld", (long long)id);
	/* The object rule beside the permission table: admins revoke anyone's token, others their own. */
	if (r == 0)
		r = db_token_revoke_id(x->in->db, id, ops_token_revoke_owner(x->caller), err);
	return ops_finish(x, OP_TOKEN_REVOKE, &ev, r, err);
}
