/* ops/run.c: how every operation starts (authorisation) and ends (its audit event). */
#include <stdio.h>

#include "ops_internal.h"

/* Starts op's event for x's caller; refuses (audited) a caller the table does not admit. */
int
ops_begin(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err)
{
	struct ev_origin o = ops_origin(x->caller);

	(void)err;
	ev_init(ev, ops_def(op)->event, &o);
	if (ops_authorize(op, x->caller) == OPS_ALLOW)
		return 0;
	return BW_EDENIED;
}

/* Result of an event for an operation's return code. */
static enum ev_result
result_of(int rc)
{
	switch (rc) {
	case 0: return EV_OK;
	case BW_EDENIED: return EV_DENIED;
	case BW_EINVAL: case BW_ERANGE: case BW_ENOTFOUND: case BW_EEXIST: return EV_REFUSED;
	default: return EV_ERROR;
	}
}

int
ops_begin_tx(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err)
{
	int r = ops_begin(x, op, ev, err);

	if (r == 0 && (r = db_tx_begin(x->in->db, err)) == 0)
		x->tx = true;
	return r;
}

static int
record(struct ops_ctx *x, struct event *ev, struct bw_err *err)
{
	if (x->on_record != NULL)
		x->on_record(x->on_record_arg);
	return ops_record(x, ev, NULL, err);
}

int
ops_record_extra(struct ops_ctx *x, struct event *ev, struct bw_err *err)
{
	struct bw_err lerr = { 0 };
	int r = record(x, ev, &lerr);

	if (r != 0)
		bw_err_set(err, r, "audit log: %s", lerr.msg);
	return r;
}

int
ops_finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, struct bw_err *err)
{
	struct bw_err lerr = { 0 };
	int r;

	if (rc == BW_EDENIED)
		bw_err_set(err, BW_EDENIED, "%s: your roles do not allow this", ops_def(op)->name);
	ev->result = result_of(rc);
	if (x->tx && rc != 0) {
		x->tx = false;
		db_tx_end(x->in->db, rc, NULL);	/* roll back, then record the refusal */
	}
	r = record(x, ev, &lerr);
	if (x->tx) {
		x->tx = false;
		if (r != 0) {
			/* The event is not durable: nothing happened. */
			db_tx_end(x->in->db, r, NULL);
			ev_clear(ev);
			return bw_err_set(err, r, "audit log: %s; nothing was changed", lerr.msg);
		}
		if ((r = db_tx_end(x->in->db, 0, err)) != 0) {
			/* The event says it happened, the database says no: say so in the log too. */
			ev->result = EV_FAILED;
			ev_str(ev, EVF_ERROR, err->msg);
			record(x, ev, NULL);
			ev_clear(ev);
			return r;
		}
	}
	ev_clear(ev);
	if (r != 0 && rc == 0)
		return bw_err_set(err, r, "audit log: %s", lerr.msg);
	return rc;
}

int
ops_finish_as(struct ops_ctx *x, struct event *ev, enum ev_result result, struct bw_err *err)
{
	struct bw_err lerr = { 0 };
	int r;

	ev->result = result;
	r = record(x, ev, &lerr);
	ev_clear(ev);
	if (r != 0)
		return bw_err_set(err, r, "audit log: %s", lerr.msg);
	return 0;
}
