/* ops/host_health.c: hosts' heartbeats, and the events for losses, a far-off clock and silence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ops_internal.h"

static void
record_alert(struct ops_ctx *x, enum ev_action action, const char *host, struct event *ev)
{
	(void)action;
	ev->result = EV_ALERT;
	if (ops_record_extra(x, ev, NULL) != 0)
		EV_LOG(EVLOG_ERROR, "host health: an alert event could not be recorded", EV_KS("host", host));
	ev_clear(ev);
}

static void
alert_init(struct ops_ctx *x, enum ev_action action, const char *host, struct event *ev)
{
	struct ev_origin o = ops_origin(x->caller);

	ev_init(ev, action, &o);
	ev_target(ev, "host:%.64s", host);
	ev_str(ev, EVF_HOST, host);
}

/* The heartbeat's counters, spool and sources as the JSON kept for the host list. */
static char *
state_json(const struct hostev_heartbeat *hb)
{
	char *out = NULL;
	size_t len;
	struct bw_err err = { 0 };

	if (hostev_heartbeat_format(hb, &out, &len, &err) != 0)
		return NULL;
	return out;
}

int
ops_host_heartbeat(struct ops_ctx *x, const struct hostev_heartbeat *hb, int64_t *skew_ms, struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	const char *host = x->caller->host;
	struct hostdb_host_state st = { 0 };
	struct event ev;
	uint64_t prev_lost = 0;
	bool was_silent = false;
	int64_t now = bw_now_ms();
	int r;

	*skew_ms = hb->time_ms - now;
	r = ops_begin(x, OP_HOST_HEARTBEAT, &ev, err);
	ev_target(&ev, "host:%.64s", host);
	ev_str(&ev, EVF_HOST, host);
	ev_str(&ev, EVF_EPOCH, hb->epoch);
	if (r == 0 && h == NULL)
		r = bw_err_set(err, BW_EIO, "host events are not collected here");
	if (r == 0) {
		snprintf(st.host, sizeof st.host, "%s", host);
		snprintf(st.epoch, sizeof st.epoch, "%s", hb->epoch);
		st.heartbeat_at = now;
		st.agent_time = hb->time_ms;
		st.lost = hb->lost;
		if ((st.counters = state_json(hb)) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		else
			r = hostdb_heartbeat_put(h->db, &st, &prev_lost, &was_silent, err);
		free(st.counters);
	}
	if (r == 0 && hb->lost > prev_lost) {
		struct event a;
		alert_init(x, EV_HOST_LOSSES, host, &a);
		ev_int(&a, EVF_LOST, (int64_t)hb->lost);
		ev_int(&a, EVF_COUNT, (int64_t)(hb->lost - prev_lost));
		record_alert(x, EV_HOST_LOSSES, host, &a);
	}
	if (r == 0) {
		int dir = *skew_ms > h->opts.clock_max_ms ? 1 : (*skew_ms < -h->opts.clock_max_ms ? -1 : 0);
		bool say = false;
		struct stream *s;
		pthread_mutex_lock(&h->mu);
		if ((s = ops_hostev_stream(h, host)) != NULL) {
			say = dir != 0 && s->clock_reported != dir;
			s->clock_reported = dir;
		}
		pthread_mutex_unlock(&h->mu);
		if (say) {
			struct event a;
			alert_init(x, EV_HOST_CLOCK, host, &a);
			ev_int(&a, EVF_SKEW_MS, *skew_ms);
			record_alert(x, EV_HOST_CLOCK, host, &a);
		}
	}
	return ops_finish(x, OP_HOST_HEARTBEAT, &ev, r, err);
}

int
ops_host_sweep(struct ops_ctx *x, struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	struct hostdb_host_state *st = NULL;
	struct event ev;
	size_t n = 0, i;
	int64_t now = bw_now_ms();
	int r;

	r = ops_begin(x, OP_HOST_SWEEP, &ev, err);
	ev_target(&ev, "host:*");
	if (r == 0 && h == NULL)
		r = bw_err_set(err, BW_EIO, "host events are not collected here");
	if (r == 0)
		r = hostdb_states(h->db, &st, &n, err);
	for (i = 0; r == 0 && i < n; i++) {
		struct event a;
		if (st[i].silent_since != 0 || now - st[i].heartbeat_at <= h->opts.silent_after_ms)
			continue;
		if (hostdb_mark_silent(h->db, st[i].host, now, err) != 0)
			continue;	/* a heartbeat came in meanwhile, or it was marked already */
		alert_init(x, EV_HOST_SILENT, st[i].host, &a);
		ev_int(&a, EVF_LAST_AT, st[i].heartbeat_at);
		record_alert(x, EV_HOST_SILENT, st[i].host, &a);
	}
	hostdb_states_free(st, n);
	return ops_finish(x, OP_HOST_SWEEP, &ev, r, err);
}

int
ops_host_states(struct ops_ctx *x, struct hostdb_host_state **out, size_t *n, struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;

	*out = NULL;
	*n = 0;
	if (h == NULL)
		return 0;
	return hostdb_states(h->db, out, n, err);
}
