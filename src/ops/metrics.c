/* ops/metrics.c: what the server's metrics count from its state. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

/* The hosts' figures: their latest heartbeats (each agent's counters since its epoch began) and the host-event log. */
static int
host_metrics(struct ops_hostev *h, struct ops_metrics *m, struct bw_err *err)
{
	struct hostdb_host_state *st = NULL;
	struct audit_stats ls;
	size_t n = 0;
	int r;

	if ((r = hostdb_states(h->db, &st, &n, err)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct hostev_heartbeat hb;
		if (st[i].silent_since != 0)
			m->hosts_silent++;
		else
			m->hosts_reporting++;
		if (st[i].counters == NULL || hostev_heartbeat_parse(st[i].counters, strlen(st[i].counters), &hb, NULL) != 0)
			continue;	/* stored by this server after a strict parse: does not happen */
		m->agent_read += hb.read;
		m->agent_sent += hb.sent;
		m->agent_spooled += hb.spooled;
		m->agent_lost += hb.lost;
		m->agent_source_errors += hb.source_errors;
	}
	hostdb_states_free(st, n);
	audit_log_stats(h->log, &ls);
	m->host_events_logged = ls.durable;
	m->hostev = true;
	return 0;
}

int
ops_metrics(struct ops_ctx *x, struct ops_metrics *out, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_METRICS_READ, &ev, err);

	memset(out, 0, sizeof *out);
	ev_target(&ev, "metrics");
	if (r == 0)
		r = db_metrics(x->in->db, ops_now(), &out->db, err);
	if (r == 0 && x->env != NULL && x->env->hostev != NULL)
		r = host_metrics(x->env->hostev, out, err);
	if (r == 0) {
		uint64_t *sizes = NULL;
		size_t n = 0;
		if ((r = tlog_transitions_list(x->in->log_dir, &sizes, &n, err)) == 0)
			out->log_key_transitions = n;
		free(sizes);
	}
	return ops_finish(x, OP_METRICS_READ, &ev, r, err);
}
