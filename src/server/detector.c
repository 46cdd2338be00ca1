/*
 * server/detector.c: the live detection worker. The audit log hands it
 * every event as it is sequenced (detector_observe, on the log's commit
 * thread); its own thread matches each against the rules of log source
 * bulwark and raises an alert (ops_alert_raise) per match. Alert events
 * are never matched (no loops). The queue is bounded: the observer may
 * not wait (the detector itself appends to the log), so events past the
 * bound are counted, never silently: the next pass raises an alert naming
 * the first index not matched live (`bulwark rules hunt` covers them).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "ops/ops.h"
#include "server.h"

#define QUEUE_MAX_EVENTS 65536
#define QUEUE_MAX_BYTES ((size_t)64 << 20)
#define CORR_MAX_GROUPS 65536		/* correlation groups kept */
#define CORR_MAX_BYTES ((size_t)64 << 20)	/* and their state */

struct queued {
	uint64_t index;
	size_t len;
	char *json;
};

#define HOST_STEP 256		/* host events matched between looks at the audit queue */
#define HOST_POLL_MS 200	/* how often an idle detector looks for new host events */

struct detector {
	struct detect_ruleset *rules;		/* the detection thread's */
	struct detect_ruleset *next_rules;	/* a reloaded set waiting to replace it (under mu) */
	struct detect_correlator *corr;		/* the correlation state of rules (the detection thread's) */
	struct detect_calendar calendar;	/* business hours, for enrich.business_hours */
	struct detect_enriched enriched;	/* the detection thread's */
	struct detect_host_mapper *mapper;	/* host events as rule documents (the detection thread's) */
	struct hostev_audit_reader *reader;	/* an auditd host event's records, read again */
	struct match_ctx *host_m;		/* the host entry being matched (during reader callbacks) */
	struct ops_hostev *hosts;		/* the host-event log it follows (NULL: none) */
	uint64_t host_next;			/* the next host event to match (kept as detected_upto) */
	uint64_t evicted_reported;		/* correlation groups evicted, as far as an alert said so */
	struct instance *in;
	struct audit_log *al;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queued *q;		/* ring of QUEUE_MAX_EVENTS */
	size_t head, n, bytes;
	uint64_t dropped, dropped_first;	/* events not queued (bound reached) since the last pass */
	bool stop;
	uint64_t matched, alerts;	/* counters */
	struct detector_status shown;	/* under mu: what detector_status reports, as of the last event */
};

static void on_host_audit(void *ctx, const struct hostev_audit_event *ev);

int
detector_new(const char *rules_dir, const struct detect_calendar *cal, struct detector **out,
	     struct detect_load_report *rep, struct bw_err *err)
{
	struct detector *d = calloc(1, sizeof *d);
	int r;

	*out = NULL;
	memset(rep, 0, sizeof *rep);
	if (d == NULL || (d->q = calloc(QUEUE_MAX_EVENTS, sizeof *d->q)) == NULL) {
		free(d);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((r = detect_ruleset_load_with_builtin(rules_dir, &d->rules, rep, err)) != 0 ||
	    (r = detect_correlator_new(d->rules, CORR_MAX_GROUPS, CORR_MAX_BYTES, &d->corr, err)) != 0 ||
	    (r = detect_host_mapper_new(&d->mapper, err)) != 0 ||
	    (r = hostev_audit_reader_new(on_host_audit, NULL, d, &d->reader, err)) != 0) {
		detect_host_mapper_free(d->mapper);
		detect_correlator_free(d->corr);
		detect_ruleset_free(d->rules);
		free(d->q);
		free(d);
		return r;
	}
	d->calendar = *cal;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	*out = d;
	return 0;
}

void
detector_observe(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct detector *d = ctx;
	char *copy = NULL;

	pthread_mutex_lock(&d->mu);
	if (d->n < QUEUE_MAX_EVENTS && d->bytes + len <= QUEUE_MAX_BYTES && (copy = malloc(len)) != NULL) {
		struct queued *q = &d->q[(d->head + d->n) % QUEUE_MAX_EVENTS];
		memcpy(copy, entry, len);
		q->index = index;
		q->len = len;
		q->json = copy;
		d->n++;
		d->bytes += len;
		pthread_cond_signal(&d->cv);
	} else {
		if (d->dropped++ == 0)
			d->dropped_first = index;
	}
	pthread_mutex_unlock(&d->mu);
}

struct match_ctx {
	struct detector *d;
	struct ops_ctx *x;
	uint64_t index;
	const char *group;
	const struct detect_event *ev;
	int64_t time_ms;	/* the event's time */
	bool host_event;	/* index is in the host-event log */
	const char *host;	/* its host (the credential's name) */
	const struct detect_grant *grant;	/* the grant behind a certificate login (NULL: none) */
};

/* Is the rule (by id, else title) switched on, and is ev none of its exceptions? */
static bool
rule_applies(struct match_ctx *m, const char *rule_id, const struct detect_event *ev)
{
	struct bw_err err = { 0 };
	char *exceptions = NULL;
	bool enabled = true, applies;

	/* An admin may have switched the rule off or excepted this event (ops_rule_set). */
	if (ops_rule_setting_for(m->x, rule_id, &enabled, &exceptions, &err) != 0)
		EV_LOG(EVLOG_ERROR, "detection: rule settings unreadable (the rule fires)", EV_KS("error", err.msg));
	applies = enabled && (ev == NULL || !detect_exceptions_match(exceptions, ev));
	free(exceptions);
	return applies;
}

static void
raise_match(struct match_ctx *m, const struct ops_alert_match *a)
{
	struct bw_err err = { 0 };

	if (ops_alert_raise(m->x, a, NULL, &err) == 0)
		m->d->alerts++;
	else
		EV_LOG(EVLOG_ERROR, "detection: an alert could not be raised", EV_KS("rule", a->title),
		       EV_KS("error", err.msg));
}

/* A correlation rule now holds: its alert, grouped by its group-by values. */
static void
raise_correlation(void *arg, const struct detect_corr_match *cm)
{
	struct match_ctx *m = arg;
	const struct detect_rule *r = cm->rule;
	struct ops_alert_match a = {
		.rule_id = detect_rule_id(r)[0] ? detect_rule_id(r) : detect_rule_title(r),
		.title = detect_rule_title(r),
		.level = detect_level_name(detect_rule_level(r)),
		.group_key = cm->group[0] ? cm->group : "-",
		.event_index = m->index,
		.host_event = m->host_event,
	};

	m->d->matched++;
	if (detect_rule_quiet(r) || !rule_applies(m, a.rule_id, NULL))
		return;
	raise_match(m, &a);
}

static void
raise_alert(void *arg, const struct detect_rule *r)
{
	struct match_ctx *m = arg;
	struct ops_alert_match a = {
		.rule_id = detect_rule_id(r)[0] ? detect_rule_id(r) : detect_rule_title(r),
		.title = detect_rule_title(r),
		.level = detect_level_name(detect_rule_level(r)),
		.group_key = m->group,
		.event_index = m->index,
		.host_event = m->host_event,
	};

	m->d->matched++;
	if (!rule_applies(m, a.rule_id, m->ev))
		return;
	if (!detect_rule_quiet(r))
		raise_match(m, &a);
	detect_correlator_feed(m->d->corr, r, m->ev, m->time_ms, raise_correlation, m);
}

/* Correlation groups evicted since the last alert about it: one alert per new batch. */
static void
report_evictions(struct detector *d, struct ops_ctx *x, uint64_t index)
{
	struct detect_corr_stats st;
	struct bw_err err = { 0 };
	char title[240];
	struct ops_alert_match a = { .rule_id = "bulwark-correlation-evictions", .level = "medium", .group_key = "-",
				     .event_index = index };

	detect_correlator_stats(d->corr, &st);
	if (st.evicted == d->evicted_reported)
		return;
	snprintf(title, sizeof title,
		 "Correlation state is full: %llu groups evicted so far (limits: %zu groups, %zu bytes); correlations "
		 "over long windows may miss",
		 (unsigned long long)st.evicted, st.max_groups, st.max_bytes);
	d->evicted_reported = st.evicted;
	a.title = title;
	if (ops_alert_raise(x, &a, NULL, &err) != 0)
		EV_LOG(EVLOG_ERROR, "detection: the eviction alert could not be raised", EV_KS("error", err.msg));
}

/* One document of a host event: matched against the rules of its log source. */
static void
on_host_view(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	struct match_ctx *m = ctx;

	m->ev = doc = detect_enrich(&m->d->enriched, &m->d->calendar, doc, m->time_ms, -1, m->grant);
	detect_ruleset_match(m->d->rules, src, doc, raise_alert, m);
}

/* An auditd event read back from a host event's raw records; its node is the host that delivered it. */
static void
on_host_audit(void *ctx, const struct hostev_audit_event *ev)
{
	struct detector *d = ctx;
	struct match_ctx *m = d->host_m;
	struct hostev_audit_event e = *ev;
	struct bw_err err = { 0 };

	e.node = (char *)m->host;
	if (detect_host_views(d->mapper, &e, on_host_view, m, &err) != 0)
		EV_LOG(EVLOG_ERROR, "detection: a host event could not be matched", EV_KS("error", err.msg));
}

struct host_step {
	struct detector *d;
	struct ops_ctx *x;
	uint64_t matched;
};

/*
 * A host's sshd accepted a certificate: the maintenance grant behind it, as
 * the server's requests say (false: not a certificate login, or not by
 * bulwark's CA).
 */
static bool
login_grant(struct ops_ctx *x, const struct hostev_entry *e, struct detect_grant *g)
{
	struct hostev_cert_login cl;
	struct ops_login_grant lg;
	struct bw_err err = { 0 };
	int r;

	if (strcmp(e->ev.action, "login") != 0 || strcmp(e->ev.result, "success") != 0 ||
	    !hostev_event_cert_login(&e->ev, &cl))
		return false;
	r = ops_login_grant(x, cl.ca_fp, cl.ca_fp_len, cl.serial, e->host, e->ev.subject, e->ev.time_ms, &lg, &err);
	if (r == BW_ENOTFOUND)
		return false;
	if (r != 0) {
		EV_LOG(EVLOG_ERROR, "detection: the grant behind a certificate login unreadable", EV_KS("error", err.msg));
		return false;
	}
	*g = (struct detect_grant){ lg.state, lg.request, lg.host_ok, lg.account_ok };
	return true;
}

/* One entry of the host-event log (an ops_hostev_read callback). */
static int
match_host(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct host_step *hs = ctx;
	struct detector *d = hs->d;
	struct ops_ctx *x = hs->x;
	struct hostev_entry e;
	struct bw_err err = { 0 };
	char group[200];
	struct match_ctx m = { .d = d, .x = x, .index = index, .host_event = true };

	hs->matched++;
	if (hostev_entry_parse(entry, len, &e, &err) != 0) {
		hostev_entry_clear(&e);
		return 0;
	}
	snprintf(group, sizeof group, "host:%s", e.host);
	m.group = group;
	m.host = e.host;
	m.time_ms = e.ev.time_ms;
	if (strcmp(e.ev.source, "auditd") == 0) {
		d->host_m = &m;
		if (hostev_audit_reader_feed(d->reader, e.ev.raw, e.ev.raw_len, &err) != 0 ||
		    hostev_audit_reader_feed(d->reader, "\n", 1, &err) != 0 || hostev_audit_reader_finish(d->reader, &err) != 0)
			EV_LOG(EVLOG_ERROR, "detection: a host event's records could not be read", EV_KS("error", err.msg));
		d->host_m = NULL;
	} else {
		struct detect_grant grant;
		if (login_grant(x, &e, &grant))
			m.grant = &grant;
		detect_event_views(&e.ev, e.host, on_host_view, &m);
	}
	hostev_entry_clear(&e);
	report_evictions(d, x, index);
	return 0;
}

/* Matches up to HOST_STEP host events past d->host_next; how many it matched. */
static uint64_t
follow_hosts(struct detector *d, struct ops_ctx *x)
{
	struct host_step hs = { d, x, 0 };
	struct bw_err err = { 0 };
	uint64_t next = d->host_next;

	if (d->hosts == NULL)
		return 0;
	if (ops_hostev_read(d->hosts, d->host_next, HOST_STEP, match_host, &hs, &next, &err) != 0)
		EV_LOG(EVLOG_ERROR, "detection: host events unreadable (retrying)", EV_KS("error", err.msg));
	if (next > d->host_next) {
		d->host_next = next;
		if (ops_hostev_set_position(d->hosts, "detected_upto", next, &err) != 0)
			EV_LOG(EVLOG_ERROR, "detection: position in the host-event log not kept", EV_KS("error", err.msg));
	}
	return hs.matched;
}

static void
match_one(struct detector *d, struct ops_ctx *x, struct detect_json_event *je, const struct queued *q)
{
	struct bw_err err = { 0 };
	const struct detect_event *ev;
	const struct detect_field *action, *target;
	struct match_ctx m = { .d = d, .x = x, .index = q->index };
	char group[200];

	if (detect_json_event_parse(je, q->json, q->len, &err) != 0)
		return;	/* not an audit event (every event bulwark writes is one) */
	ev = detect_json_event_get(je);
	action = detect_event_field(ev, "action");
	if (action != NULL && action->len >= 6 && memcmp(action->value, "alert.", 6) == 0)
		return;	/* alerts are never fed back into the engine */
	/* Repeats of a rule count into one alert per target (the account, host or request acted on). */
	target = detect_event_field(ev, "target");
	snprintf(group, sizeof group, "%.*s", target ? (int)(target->len < 190 ? target->len : 190) : 1,
		 target ? target->value : "-");
	m.group = group;
	if (!detect_event_time(ev, &m.time_ms))
		m.time_ms = bw_now_ms();
	{
		char key[300];
		int first = -1;
		bool seen_first;
		struct bw_err ferr = { 0 };
		if (detect_first_time_key(ev, key, sizeof key)) {
			if (ops_first_seen(x, key, (int64_t)q->index, m.time_ms, &seen_first, &ferr) == 0)
				first = seen_first;
			else
				EV_LOG(EVLOG_ERROR, "detection: first sightings unreadable", EV_KS("error", ferr.msg));
		}
		m.ev = ev = detect_enrich(&d->enriched, &d->calendar, ev, m.time_ms, first, NULL);
	}
	detect_ruleset_match(d->rules, DETECT_SRC_BULWARK, ev, raise_alert, &m);
	report_evictions(d, x, q->index);
}

/* What detector_status reports, after events more were matched and dropped more were not. Caller holds mu. */
static void
show(struct detector *d, uint64_t events, uint64_t dropped)
{
	d->shown.rules = detect_ruleset_count(d->rules);
	d->shown.events += events;
	d->shown.matched = d->matched;
	d->shown.alerts = d->alerts;
	d->shown.dropped += dropped;
	d->shown.host_next = d->host_next;
	detect_correlator_stats(d->corr, &d->shown.corr);
}

static void *
detector_main(void *arg)
{
	struct detector *d = arg;
	struct detect_json_event *je = NULL;
	struct ops_caller sys;
	struct ops_ctx x = { .in = d->in, .al = d->al, .caller = &sys };
	struct bw_err err = { 0 };

	ops_caller_system(&sys);
	if (detect_json_event_new(&je, &err) != 0) {
		EV_LOG(EVLOG_ERROR, "detection cannot start", EV_KS("error", err.msg));
		return NULL;
	}
	pthread_mutex_lock(&d->mu);
	for (;;) {
		struct queued q;
		uint64_t dropped, first, host_matched = 0;
		if (d->n == 0 && d->dropped == 0 && d->next_rules == NULL && !d->stop && d->hosts != NULL) {
			/* Nothing of the audit log waits: host events, read from their log (never dropped, only late). */
			pthread_mutex_unlock(&d->mu);
			host_matched = follow_hosts(d, &x);
			pthread_mutex_lock(&d->mu);
			show(d, host_matched, 0);
			if (host_matched > 0)
				continue;
		}
		while (d->n == 0 && d->dropped == 0 && d->next_rules == NULL && !d->stop) {
			if (d->hosts == NULL) {
				pthread_cond_wait(&d->cv, &d->mu);
			} else {
				struct timespec until = bw_deadline_ms(HOST_POLL_MS);
				if (pthread_cond_timedwait(&d->cv, &d->mu, &until) != 0)
					break;	/* time to look at the host events again */
			}
		}
		if (d->n == 0 && d->dropped == 0 && d->next_rules == NULL && d->stop)
			break;	/* stopping, everything queued matched (host events resume from detected_upto) */
		if (d->n == 0 && d->dropped == 0 && d->next_rules == NULL)
			continue;
		if (d->next_rules != NULL) {
			/* A reload: swapped between two events, never during one; correlations start over. */
			struct detect_correlator *nc = NULL;
			if (detect_correlator_new(d->next_rules, CORR_MAX_GROUPS, CORR_MAX_BYTES, &nc, &err) == 0) {
				detect_correlator_free(d->corr);
				detect_ruleset_free(d->rules);
				d->corr = nc;
				d->rules = d->next_rules;
				d->evicted_reported = 0;
			} else {
				EV_LOG(EVLOG_ERROR, "detection: reloaded rules not used (out of memory)");
				detect_ruleset_free(d->next_rules);
			}
			d->next_rules = NULL;
		}
		dropped = d->dropped;
		first = d->dropped_first;
		d->dropped = 0;
		if (d->n > 0) {
			q = d->q[d->head];
			d->head = (d->head + 1) % QUEUE_MAX_EVENTS;
			d->n--;
			d->bytes -= q.len;
		} else {
			q.json = NULL;
		}
		pthread_mutex_unlock(&d->mu);
		if (dropped > 0) {
			char title[200];
			struct ops_alert_match a = { .rule_id = "bulwark-detection-overflow", .level = "high",
						     .group_key = "-", .event_index = first };
			snprintf(title, sizeof title,
				 "Detection fell behind: %llu events from log index %llu were not matched live "
				 "(run bulwark rules hunt)", (unsigned long long)dropped, (unsigned long long)first);
			a.title = title;
			if (ops_alert_raise(&x, &a, NULL, &err) != 0)
				EV_LOG(EVLOG_ERROR, "detection: the overflow alert could not be raised",
				       EV_KS("error", err.msg));
		}
		if (q.json != NULL) {
			match_one(d, &x, je, &q);
			free(q.json);
		}
		pthread_mutex_lock(&d->mu);
		show(d, q.json != NULL, dropped);
	}
	pthread_mutex_unlock(&d->mu);
	detect_json_event_free(je);
	return NULL;
}

int
detector_start(struct detector *d, struct instance *in, struct audit_log *al, struct ops_hostev *hosts,
	       struct bw_err *err)
{
	int r;

	d->in = in;
	d->al = al;
	d->hosts = hosts;
	if (hosts != NULL && (r = ops_hostev_position(hosts, "detected_upto", &d->host_next, err)) != 0)
		return r;
	d->shown.host_next = d->host_next;
	if (pthread_create(&d->thread, NULL, detector_main, d) != 0)
		return bw_err_set(err, BW_EIO, "cannot start the detection thread");
	d->started = true;
	return 0;
}

int
detector_reload(struct detector *d, const char *rules_dir, size_t *loaded, struct bw_err *err)
{
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	size_t i;
	int r;

	*loaded = 0;
	if ((r = detect_ruleset_load_with_builtin(rules_dir, &rs, &rep, err)) != 0)
		return r;
	for (i = 0; i < rep.n && rep.refused > 0; i++)
		if (rep.items[i].reason != NULL) {
			/* All or nothing: a set with a refused file never replaces a working one. */
			r = bw_err_set(err, BW_EINVAL, "%zu rule file(s) refused, the rules in use are kept: %s",
				       rep.refused, rep.items[i].reason);
			break;
		}
	detect_load_report_clear(&rep);
	if (r != 0) {
		detect_ruleset_free(rs);
		return r;
	}
	*loaded = detect_ruleset_count(rs);
	pthread_mutex_lock(&d->mu);
	detect_ruleset_free(d->next_rules);	/* a reload nobody picked up yet */
	d->next_rules = rs;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

void
detector_status(struct detector *d, struct detector_status *out)
{
	pthread_mutex_lock(&d->mu);
	*out = d->shown;
	if (out->rules == 0)
		out->rules = detect_ruleset_count(d->rules);	/* before the first event */
	if (out->corr.max_groups == 0)
		detect_correlator_stats(d->corr, &out->corr);
	out->queued = d->n;
	out->queued_bytes = d->bytes;
	out->host_logged = d->hosts != NULL ? ops_hostev_size(d->hosts) : 0;
	if (d->hosts == NULL)
		out->host_next = 0;
	out->dropped += d->dropped;
	pthread_mutex_unlock(&d->mu);
}

size_t
detector_rule_count(const struct detector *d)
{
	return detect_ruleset_count(d->rules);
}

void
detector_stop(struct detector *d)
{
	if (d == NULL || !d->started)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	d->started = false;
}

void
detector_free(struct detector *d)
{
	if (d == NULL)
		return;
	detector_stop(d);
	while (d->n > 0) {
		free(d->q[d->head].json);
		d->head = (d->head + 1) % QUEUE_MAX_EVENTS;
		d->n--;
	}
	free(d->q);
	detect_correlator_free(d->corr);
	detect_host_mapper_free(d->mapper);
	hostev_audit_reader_free(d->reader);
	detect_enriched_clear(&d->enriched);
	detect_ruleset_free(d->rules);
	detect_ruleset_free(d->next_rules);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d);
}
