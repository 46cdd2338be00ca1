/* ops/run.c: how every operation starts (authorisation) and ends (its audit event). */
#include <stdio.h>
#include <time.h>

#include "ops_internal.h"

int64_t
ops_now(void)
{
	return bw_now_ms() / 1000;
}

int64_t
ops_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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
	case BW_EINVAL: case BW_ERANGE: case BW_ENOTFOUND: case BW_EEXIST: case BW_ECONFLICT: return EV_REFUSED;
	default: return EV_ERROR;
	}
}

int
ops_tx_open(struct ops_ctx *x, struct bw_err *err)
{
	int r = db_tx_begin(x->in->db, err);

	if (r == 0)
		x->tx = true;
	return r;
}

int
ops_begin_tx(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err)
{
	int r = ops_begin(x, op, ev, err);

	return r != 0 ? r : ops_tx_open(x, err);
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

/* Ends an operation: outcome rc, event result (rc 0 only: the completed operation's own outcome). */
static int
finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, enum ev_result result, struct bw_err *err)
{
	struct bw_err lerr = { 0 };
	int r;

	if (rc == BW_EDENIED && err != NULL && err->code != BW_EDENIED)
		bw_err_set(err, BW_EDENIED, "%s: your roles do not allow this", ops_def(op)->name);
	if (rc != 0 && err != NULL)
		err->code = rc;		/* the transport maps the returned code */
	ev->result = rc == 0 ? result : result_of(rc);
	if (rc != 0 && err != NULL)
		ev_str(ev, EVF_ERROR, err->msg);	/* why it was refused or failed */
	if (x->tx && rc != 0) {
		x->tx = false;
		db_tx_end(x->in->db, rc, NULL);	/* roll back, then record the refusal */
	}
	if (rc == 0 && (ops_def(op)->flags & OPF_QUIET) && !x->tx) {
		ev_clear(ev);
		return 0;
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
ops_finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, struct bw_err *err)
{
	return finish(x, op, ev, rc, EV_OK, err);
}

int
ops_finish_as(struct ops_ctx *x, enum op_id op, struct event *ev, enum ev_result result, struct bw_err *err)
{
	return finish(x, op, ev, 0, result, err);
}
