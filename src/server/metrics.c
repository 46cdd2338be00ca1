/*
 * server/metrics.c: GET /metrics in the Prometheus text format (0.0.4):
 * requests by route template (never the raw path: a client cannot make up
 * label values), method and status; the audit log's size, commits and their
 * latency; the live detection; and counts of the server's state (windows in
 * force, open alerts by level, locked names, patch results, reports waiting).
 * Authenticated like any read (admins, auditors; an API token scoped to
 * auditor suits a Prometheus scraper).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const unsigned codes[] = { 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422,
				   429, 500, 501, 503 };
#define NCODES (sizeof codes / sizeof codes[0])
#define NCOLS (NCODES + 1)	/* the last: any other status */

struct metrics {
	size_t nroutes;			/* every route of every table, then one for requests that matched none */
	atomic_uint_fast64_t *counts;	/* nroutes x NCOLS */
	int64_t started;
};

static size_t
route_count(void)
{
	size_t t, n = 0;

	for (t = 0; server_route_tables[t] != NULL; t++)
		n += server_route_tables[t]->n;
	return n;
}

int
metrics_new(struct metrics **out, struct bw_err *err)
{
	struct metrics *m = calloc(1, sizeof *m);

	*out = NULL;
	if (m == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	m->nroutes = route_count() + 1;
	if ((m->counts = calloc(m->nroutes * NCOLS, sizeof *m->counts)) == NULL) {
		free(m);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	m->started = server_now();
	*out = m;
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->counts);
	free(m);
}

/* The row of rt (the last row: no route). */
static size_t
row_of(const struct route *rt)
{
	size_t t, base = 0;

	for (t = 0; rt != NULL && server_route_tables[t] != NULL; t++) {
		const struct route_table *tab = server_route_tables[t];
		if (rt >= tab->routes && rt < tab->routes + tab->n)
			return base + (size_t)(rt - tab->routes);
		base += tab->n;
	}
	return route_count();
}

void
metrics_count(struct metrics *m, const struct route *rt, unsigned status)
{
	size_t c;

	if (m == NULL)
		return;
	for (c = 0; c < NCODES && codes[c] != status; c++)
		;
	atomic_fetch_add_explicit(&m->counts[row_of(rt) * NCOLS + c], 1, memory_order_relaxed);
}

/* A label value escaped as the text format wants (backslash, quote, newline). */
static void
label(struct bw_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			bw_buf_append_byte(b, '\\');
		if (*v == '\n') {
			bw_buf_append_str(b, "\\n");
			continue;
		}
		bw_buf_append_byte(b, (uint8_t)*v);
	}
}

static void
head(struct bw_buf *b, const char *name, const char *type, const char *help)
{
	bw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
requests(struct metrics *m, struct bw_buf *b)
{
	size_t t, i, c, row = 0;

	head(b, "bulwark_http_requests_total", "counter",
	     "HTTP requests answered, by route template (route=\"none\": no route matched), method and status.");
	for (t = 0; server_route_tables[t] != NULL; t++)
		for (i = 0; i < server_route_tables[t]->n; i++, row++)
			for (c = 0; c < NCOLS; c++) {
				uint64_t v = atomic_load_explicit(&m->counts[row * NCOLS + c], memory_order_relaxed);
				if (v == 0)
					continue;
				bw_buf_append_str(b, "bulwark_http_requests_total{route=\"");
				label(b, server_route_tables[t]->routes[i].pattern);
				bw_buf_printf(b, "\",method=\"%s\",code=\"", server_route_tables[t]->routes[i].method);
				if (c < NCODES)
					bw_buf_printf(b, "%u", codes[c]);
				else
					bw_buf_append_str(b, "other");
				bw_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
			}
	for (c = 0; c < NCOLS; c++) {
		uint64_t v = atomic_load_explicit(&m->counts[row * NCOLS + c], memory_order_relaxed);
		if (v == 0)
			continue;
		if (c < NCODES)
			bw_buf_printf(b, "bulwark_http_requests_total{route=\"none\",method=\"any\",code=\"%u\"} %llu\n", codes[c],
				      (unsigned long long)v);
		else
			bw_buf_printf(b, "bulwark_http_requests_total{route=\"none\",method=\"any\",code=\"other\"} %llu\n",
				      (unsigned long long)v);
	}
}

static void
audit_metrics(struct server *s, struct bw_buf *b)
{
	struct audit_stats st;
	const double *bounds = audit_latency_bounds();
	size_t i;

	audit_log_stats(s->al, &st);
	uint64_t integrated = audit_log_size(s->al);

	head(b, "bulwark_audit_log_entries", "gauge", "Entries in the audit log, every acknowledged one.");
	bw_buf_printf(b, "bulwark_audit_log_entries %llu\n", (unsigned long long)st.durable);
	head(b, "bulwark_audit_integration_lag_entries", "gauge",
	     "Acknowledged entries not yet under a signed checkpoint (integrated every 250 ms).");
	bw_buf_printf(b, "bulwark_audit_integration_lag_entries %llu\n",
		      (unsigned long long)(st.durable > integrated ? st.durable - integrated : 0));
	head(b, "bulwark_audit_entries_total", "counter", "Audit events committed since the start.");
	bw_buf_printf(b, "bulwark_audit_entries_total %llu\n", (unsigned long long)st.entries);
	head(b, "bulwark_audit_commit_seconds", "histogram",
	     "Time of each group commit of the audit log (one journal write and fdatasync).");
	for (i = 0; i < AUDIT_LATENCY_BUCKETS; i++)
		bw_buf_printf(b, "bulwark_audit_commit_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
			      (unsigned long long)st.commit_buckets[i]);
	bw_buf_printf(b, "bulwark_audit_commit_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)st.commits);
	bw_buf_printf(b, "bulwark_audit_commit_seconds_sum %.6f\n", st.commit_seconds);
	bw_buf_printf(b, "bulwark_audit_commit_seconds_count %llu\n", (unsigned long long)st.commits);
}

static void
state_metrics(const struct db_metrics *d, struct bw_buf *b)
{
	size_t i;

	head(b, "bulwark_access_windows_active", "gauge", "Maintenance windows in force now.");
	bw_buf_printf(b, "bulwark_access_windows_active %lld\n", (long long)d->windows_active);
	head(b, "bulwark_access_requests_pending", "gauge", "Access requests waiting for a decision.");
	bw_buf_printf(b, "bulwark_access_requests_pending %lld\n", (long long)d->requests_pending);
	head(b, "bulwark_alerts_open", "gauge", "Open alerts, by level.");
	for (i = 0; i < DB_METRICS_LEVELS; i++)
		bw_buf_printf(b, "bulwark_alerts_open{level=\"%s\"} %lld\n", db_metrics_level(i), (long long)d->alerts_open[i]);
	head(b, "bulwark_patch_host_results", "gauge", "Hosts' latest result per patch target, by result.");
	for (i = 0; i < DB_METRICS_RESULTS; i++)
		bw_buf_printf(b, "bulwark_patch_host_results{result=\"%s\"} %lld\n", db_metrics_result(i),
			      (long long)d->patch_hosts[i]);
	head(b, "bulwark_login_names_locked", "gauge", "User names locked out of signing in for some client now.");
	bw_buf_printf(b, "bulwark_login_names_locked %lld\n", (long long)d->names_locked);
	head(b, "bulwark_reports_pending", "gauge", "Reported mails and files waiting for triage.");
	bw_buf_printf(b, "bulwark_reports_pending %lld\n", (long long)d->reports_pending);
	head(b, "bulwark_users_enabled", "gauge", "Users not disabled.");
	bw_buf_printf(b, "bulwark_users_enabled %lld\n", (long long)d->users_enabled);
}

static void
host_metrics(const struct ops_metrics *m, struct bw_buf *b)
{
	static const char *const names[] = { "read", "sent", "spooled", "lost", "source_errors" };
	uint64_t v[] = { m->agent_read, m->agent_sent, m->agent_spooled, m->agent_lost, m->agent_source_errors };

	if (!m->hostev)
		return;
	head(b, "bulwark_hosts", "gauge", "Hosts whose agent sent a heartbeat, by state (silent: none came in time).");
	bw_buf_printf(b, "bulwark_hosts{state=\"reporting\"} %lld\nbulwark_hosts{state=\"silent\"} %lld\n",
		      (long long)m->hosts_reporting, (long long)m->hosts_silent);
	head(b, "bulwark_host_events_logged", "gauge", "Entries in the host-event log, every acknowledged one.");
	bw_buf_printf(b, "bulwark_host_events_logged %llu\n", (unsigned long long)m->host_events_logged);
	head(b, "bulwark_host_agent_events", "gauge",
	     "The agents' counters summed over each host's latest heartbeat (since its agent's epoch began).");
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		bw_buf_printf(b, "bulwark_host_agent_events{counter=\"%s\"} %llu\n", names[i], (unsigned long long)v[i]);
}

static void
detection_metrics(struct detector *d, struct bw_buf *b)
{
	struct detector_status st;

	if (d == NULL)
		return;
	detector_status(d, &st);
	head(b, "bulwark_detection_rules", "gauge", "Detection rules in use.");
	bw_buf_printf(b, "bulwark_detection_rules %zu\n", st.rules);
	head(b, "bulwark_detection_events_total", "counter", "Events the live detection matched against the rules.");
	bw_buf_printf(b, "bulwark_detection_events_total %llu\n", (unsigned long long)st.events);
	head(b, "bulwark_detection_matches_total", "counter", "Rule matches.");
	bw_buf_printf(b, "bulwark_detection_matches_total %llu\n", (unsigned long long)st.matched);
	head(b, "bulwark_detection_alerts_total", "counter", "Alerts raised or repeated by the live detection.");
	bw_buf_printf(b, "bulwark_detection_alerts_total %llu\n", (unsigned long long)st.alerts);
	head(b, "bulwark_detection_dropped_total", "counter", "Events dropped because the detection queue was full.");
	bw_buf_printf(b, "bulwark_detection_dropped_total %llu\n", (unsigned long long)st.dropped);
	head(b, "bulwark_detection_queue_events", "gauge", "Events waiting for the detection.");
	bw_buf_printf(b, "bulwark_detection_queue_events %zu\n", st.queued);
}

/* GET /metrics */
static void
h_metrics(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_metrics d;
	struct bw_err err = { 0 };
	struct bw_buf b = { 0 };
	size_t len;
	char *text;

	(void)body;
	if (ops_metrics(&x, &d, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	head(&b, "bulwark_build_info", "gauge", "The running program's version.");
	bw_buf_printf(&b, "bulwark_build_info{version=\"%s\"} 1\n", BW_VERSION);
	head(&b, "bulwark_start_time_seconds", "gauge", "When the server started (seconds since the epoch).");
	bw_buf_printf(&b, "bulwark_start_time_seconds %lld\n", (long long)rq->s->metrics->started);
	requests(rq->s->metrics, &b);
	audit_metrics(rq->s, &b);
	head(&b, "bulwark_audit_log_key_transitions", "gauge",
	     "Transitions of the audit log's signing key: it changes when the key is rotated (docs/WITNESS.md).");
	bw_buf_printf(&b, "bulwark_audit_log_key_transitions %llu\n", (unsigned long long)d.log_key_transitions);
	state_metrics(&d.db, &b);
	host_metrics(&d, &b);
	detection_metrics(rq->s->opts.detector, &b);
	if ((text = bw_buf_take(&b, &len)) == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static const struct route metrics_routes[] = {
	{ .method = "GET", .pattern = "/metrics", .fn = h_metrics, .op = OP_METRICS_READ },
};
const struct route_table metrics_route_table = { metrics_routes, sizeof metrics_routes / sizeof metrics_routes[0] };
