/* ops/metrics.c: what the server's metrics count from its state. */
#include "ops_internal.h"

int
ops_metrics(struct ops_ctx *x, struct db_metrics *out, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_METRICS_READ, &ev, err);

	ev_target(&ev, "metrics");
	if (r == 0)
		r = db_metrics(x->in->db, ops_now(), out, err);
	return ops_finish(x, OP_METRICS_READ, &ev, r, err);
}
