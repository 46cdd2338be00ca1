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

/*
 * Records ev with the outcome rc and returns rc, or the log's error when the
 * event of a success could not be made durable.
 */
int
ops_finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, struct bw_err *err)
{
	struct bw_err lerr = { 0 };
	int r;

	if (rc == BW_EDENIED)
		bw_err_set(err, BW_EDENIED, "%s: your roles do not allow this", ops_def(op)->name);
	ev->result = result_of(rc);
	if (x->decorate != NULL)
		x->decorate(x->decorate_arg, ev, rc);
	r = ops_record(x, ev, NULL, &lerr);
	ev_clear(ev);
	if (r != 0 && rc == 0) {
		bw_err_set(err, r, "audit log: %s", lerr.msg);
		return r;
	}
	return rc;
}

