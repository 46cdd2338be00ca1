/*
 * ops/alerts.c: alerts. A detection rule's match raises one (the server
 * itself is the caller); people read, acknowledge and resolve them. A
 * repeat of the same rule and group within ALERT_WINDOW counts into the
 * open alert instead of raising another; every match is an alert.raise
 * event carrying the matched event's log index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "store/store.h"

#define ALERT_WINDOW 3600	/* seconds: repeats within this count into the open alert */

int
ops_alert_raise(struct ops_ctx *x, const struct ops_alert_match *m, struct db_alert *out, struct bw_err *err)
{
	struct db_alert a = { 0 };
	struct event ev;
	bool is_new = false;
	int r;

	r = ops_begin_tx(x, OP_ALERT_RAISE, &ev, err);
	if (r == 0)
		r = db_alert_raise(x->in->db, m->rule_id, m->title, m->level, m->group_key,
				   m->host_event ? "hosts" : "audit", (int64_t)m->event_index,
				   ops_now(), ALERT_WINDOW, &a, &is_new, err);
	if (r == 0) {
		ev_target(&ev, "alert:%lld", (long long)a.id);
		ev_int(&ev, EVF_ALERT_ID, a.id);
		ev_int(&ev, EVF_COUNT, a.count);
	} else {
		ev_target(&ev, "alert:-");
	}
	ev_str(&ev, EVF_RULE_ID, m->rule_id);
	ev_str(&ev, EVF_RULE, m->title);
	ev_str(&ev, EVF_LEVEL, m->level);
	ev_int(&ev, EVF_EVENT_INDEX, (int64_t)m->event_index);
	ev_str(&ev, EVF_LOG, m->host_event ? "hosts" : "audit");
	if (r != 0)
		return ops_finish(x, OP_ALERT_RAISE, &ev, r, err);
	if ((r = ops_finish_as(x, OP_ALERT_RAISE, &ev, EV_ALERT, err)) == 0 && out != NULL)
		*out = a;
	return r;
}

int
ops_alert_list(struct ops_ctx *x, const char *state, size_t limit, struct db_alert **out, size_t *n,
	       struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_ALERT_LIST, &ev, err);
	ev_target(&ev, "alert:*");
	if (r == 0 && state != NULL && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0 &&
	    strcmp(state, "resolved") != 0)
		r = bw_err_set(err, BW_EINVAL, "state must be open, acknowledged or resolved");
	if (r == 0)
		r = db_alert_list(x->in->db, state, limit, out, n, err);
	return ops_finish(x, OP_ALERT_LIST, &ev, r, err);
}

int
ops_alert_get(struct ops_ctx *x, int64_t id, struct db_alert *out, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin(x, OP_ALERT_GET, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)id);
	if (r == 0)
		r = db_alert_get(x->in->db, id, out, err);
	return ops_finish(x, OP_ALERT_GET, &ev, r, err);
}

/* Acknowledge (resolution NULL) or resolve; *out receives the alert as decided. */
static int
decide(struct ops_ctx *x, enum op_id op, int64_t id, const char *resolution, const char *reason, struct db_alert *out,
       struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, op, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)id);
	if (resolution != NULL)
		ev_str(&ev, EVF_RESOLUTION, resolution);
	if (reason != NULL)
		ev_str(&ev, EVF_REASON, reason);
	if (r == 0 && resolution != NULL && strcmp(resolution, "true_positive") != 0 &&
	    strcmp(resolution, "false_positive") != 0 && strcmp(resolution, "benign") != 0)
		r = bw_err_set(err, BW_EINVAL, "resolution must be true_positive, false_positive or benign");
	if (r == 0 && resolution != NULL && (reason == NULL || reason[0] == '\0'))
		r = bw_err_set(err, BW_EINVAL, "resolving an alert needs a reason");
	if (r == 0 && reason != NULL && strlen(reason) > 1024)
		r = bw_err_set(err, BW_EINVAL, "the reason is longer than 1024 bytes");
	if (r == 0)
		r = db_alert_decide(x->in->db, id, resolution != NULL ? "resolved" : "acknowledged", resolution, reason,
				    x->caller->name, ops_now(), err);
	if (r == 0)
		r = db_alert_get(x->in->db, id, out, err);
	return ops_finish(x, op, &ev, r, err);
}

int
ops_alert_ack(struct ops_ctx *x, int64_t id, const char *reason, struct db_alert *out, struct bw_err *err)
{
	return decide(x, OP_ALERT_ACK, id, NULL, reason, out, err);
}

int
ops_alert_resolve(struct ops_ctx *x, int64_t id, const char *resolution, const char *reason, struct db_alert *out,
		  struct bw_err *err)
{
	return decide(x, OP_ALERT_RESOLVE, id, resolution, reason, out, err);
}

int
ops_alert_notify_due(struct ops_ctx *x, enum db_notify_channel channel, const char *min_level, int64_t since,
		     size_t limit, struct db_alert **out, size_t *n, struct bw_err *err)
{
	*out = NULL;
	*n = 0;
	if (x->caller->via != OPS_VIA_SYSTEM)
		return bw_err_set(err, BW_EDENIED, "only the server itself delivers notifications");
	return db_alert_notify_due(x->in->db, channel, min_level, since, ops_now(), limit, out, n, err);
}

int
ops_alert_notified(struct ops_ctx *x, const struct db_alert *a, enum db_notify_channel channel, const char *error,
		   int64_t next_at, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ALERT_NOTIFY, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)a->id);
	ev_int(&ev, EVF_ALERT_ID, a->id);
	ev_int(&ev, EVF_ATTEMPTS, a->notify[channel].attempts + 1);
	ev_str(&ev, EVF_CHANNEL, db_notify_channel_name(channel));
	if (error != NULL)
		ev_str(&ev, EVF_ERROR, error);
	if (r == 0)
		r = db_alert_notify_result(x->in->db, a->id, channel, error, ops_now(), next_at, err);
	if (r != 0 || error == NULL)
		return ops_finish(x, OP_ALERT_NOTIFY, &ev, r, err);
	return ops_finish_as(x, OP_ALERT_NOTIFY, &ev, EV_FAILED, err);
}

int
ops_alert_assign(struct ops_ctx *x, int64_t id, const char *user, struct db_alert *out, struct bw_err *err)
{
	struct db_user u = { 0 };
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ALERT_ASSIGN, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)id);
	ev_str(&ev, EVF_ASSIGNEE, user != NULL ? user : "");
	/* Only to an enabled user who may act on alerts. */
	if (r == 0 && user != NULL && user[0] != '\0') {
		if ((r = db_user_by_name(x->in->db, user, &u, err)) == BW_ENOTFOUND)
			r = bw_err_set(err, BW_EINVAL, "no user '%.64s'", user);
		else if (r == 0 && (u.disabled || !(u.roles & (ROLE_ADMIN | ROLE_OPERATOR))))
			r = bw_err_set(err, BW_EINVAL, "'%.64s' cannot act on alerts (needs admin or operator, enabled)",
				       user);
	}
	db_user_clear(&u);
	if (r == 0)
		r = db_alert_assign(x->in->db, id, user != NULL && user[0] ? user : NULL, ops_now(), err);
	if (r == 0)
		r = db_alert_get(x->in->db, id, out, err);
	return ops_finish(x, OP_ALERT_ASSIGN, &ev, r, err);
}

int
ops_alert_comment(struct ops_ctx *x, int64_t id, const char *text, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ALERT_COMMENT, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)id);
	if (text != NULL)
		ev_str(&ev, EVF_COMMENT, text);
	if (r == 0 && (text == NULL || text[0] == '\0' || strlen(text) > 2000))
		r = bw_err_set(err, BW_EINVAL, "a comment is 1..2000 bytes");
	if (r == 0)
		r = db_alert_comment_add(x->in->db, id, x->caller->name, text, ops_now(), err);
	return ops_finish(x, OP_ALERT_COMMENT, &ev, r, err);
}

int
ops_alert_comments(struct ops_ctx *x, int64_t id, struct db_alert_comment **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_ALERT_GET, &ev, err);
	ev_target(&ev, "alert:%lld", (long long)id);
	if (r == 0)
		r = db_alert_comments(x->in->db, id, out, n, err);
	return ops_finish(x, OP_ALERT_GET, &ev, r, err);
}
