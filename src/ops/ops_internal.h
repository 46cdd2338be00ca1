/* ops/ops_internal.h: what the operation files share (not part of the module contract). */
#ifndef BW_OPS_INTERNAL_H
#define BW_OPS_INTERNAL_H

#include "ops.h"

/*
 * Starts op's event (origin: x's caller) in *ev and checks the permission
 * table: 0, or BW_EDENIED when the caller may not (pass it to ops_finish,
 * which audits the refusal).
 */
int ops_begin(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err);
/*
 * Ends an operation with outcome rc: sets the event's result, lets the
 * transport decorate it, records it durably and clears it. Returns rc, or
 * the log's error when the event of a success could not be recorded.
 */
int ops_finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, struct bw_err *err);

#endif
