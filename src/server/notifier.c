/*
 * server/notifier.c: delivers alert notifications, at least once, on each
 * configured channel (a webhook, e-mail). Alerts are durable before anyone
 * is notified; this thread looks every second for alerts of the configured
 * level or above that are not delivered on a channel yet and due there,
 * sends each (notify_webhook_post, notify_email_send), and records the
 * outcome (ops_alert_notified, audited). A failure is retried with
 * back-off (2 s doubling up to an hour), across restarts (the state is in
 * the database); the third failure of one alert raises an alert of its
 * own. The delivery id is the alert's, so receivers can drop repeats.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "notify/notify.h"

#define NOTIFY_BATCH 16
#define NOTIFY_LOOKBACK (24 * 3600)	/* at start: alerts of the last day not delivered yet */
#define NOTIFY_BACKOFF_MAX 3600

struct notifier {
	struct instance *in;
	struct audit_log *al;
	bool webhook, email;		/* the channels configured */
	struct notify_webhook w;
	struct notify_email m;
	char min_level[16];
	int64_t since;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static int64_t
backoff(int64_t attempts)
{
	int64_t s = 2;

	while (attempts-- > 0 && s < NOTIFY_BACKOFF_MAX)
		s *= 2;
	return s < NOTIFY_BACKOFF_MAX ? s : NOTIFY_BACKOFF_MAX;
}

/* The e-mail: a subject line and a plain-text summary (no event contents: those stay in the log). */
static int
send_email(struct notifier *nt, const struct db_alert *a, struct bw_err *err)
{
	char subject[400], text[2048], mid[64], first[BW_TIME_TEXT_MAX];

	bw_time_format_ms(a->first_seen * 1000, first);
	snprintf(subject, sizeof subject, "[bulwark] %s: %s (alert %lld)", a->level, a->rule_title, (long long)a->id);
	snprintf(text, sizeof text,
		 "Alert %lld: %s\n\nlevel:       %s\nrule id:     %s\nstate:       %s\ncount:       %lld\n"
		 "first seen:  %s\ngroup:       %s\nlog indexes: %lld (first match) .. %lld (last)\n\n"
		 "bulwark alert show %lld\nbulwark audit show %lld\n",
		 (long long)a->id, a->rule_title, a->level, a->rule_id, a->state, (long long)a->count, first, a->group_key,
		 (long long)a->first_index, (long long)a->last_index, (long long)a->id, (long long)a->first_index);
	snprintf(mid, sizeof mid, "alert-%lld@bulwark", (long long)a->id);
	return notify_email_send(&nt->m, mid, subject, text, err);
}

static int
send_webhook(struct notifier *nt, const struct db_alert *a, struct bw_err *err)
{
	json_t *j = alert_json(a);
	char *body = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	char delivery[48];
	long status = 0;
	int r;

	json_decref(j);
	if (body == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	snprintf(delivery, sizeof delivery, "alert-%lld", (long long)a->id);
	r = notify_webhook_post(&nt->w, delivery, bw_now_ms() / 1000, body, strlen(body), &status, err);
	free(body);
	return r;
}

static void
deliver(struct notifier *nt, struct ops_ctx *x, enum db_notify_channel ch, const struct db_alert *a)
{
	struct bw_err err = { 0 }, rerr = { 0 };
	int64_t now = bw_now_ms() / 1000;
	int r = ch == DB_NOTIFY_EMAIL ? send_email(nt, a, &err) : send_webhook(nt, a, &err);

	if (ops_alert_notified(x, a, ch, r == 0 ? NULL : err.msg, now + backoff(a->notify[ch].attempts), &rerr) != 0)
		EV_LOG(EVLOG_ERROR, "notification outcome not recorded", EV_KS("error", rerr.msg));
	if (r != 0 && a->notify[ch].attempts + 1 == 3) {
		/* Failures are visible: an alert of their own (counted into one per channel). */
		struct ops_alert_match m = { .rule_id = "bulwark-notify-failing", .level = "high",
					     .group_key = db_notify_channel_name(ch),
					     .event_index = (uint64_t)a->first_index };
		m.title = ch == DB_NOTIFY_EMAIL ? "Alert notifications are failing (e-mail)"
						: "Alert notifications are failing (webhook)";
		if (ops_alert_raise(x, &m, NULL, &rerr) != 0)
			EV_LOG(EVLOG_ERROR, "the failing-notification alert was not raised", EV_KS("error", rerr.msg));
	}
}

static void *
notifier_main(void *arg)
{
	struct notifier *nt = arg;
	struct ops_caller sys;
	struct ops_ctx x = { .in = nt->in, .al = nt->al, .caller = &sys };

	ops_caller_system(&sys);
	pthread_mutex_lock(&nt->mu);
	while (!nt->stop) {
		struct timespec until;
		struct db_alert *due = NULL;
		struct bw_err err = { 0 };
		size_t n = 0, i;

		size_t most = 0;
		int ch;

		pthread_mutex_unlock(&nt->mu);
		for (ch = DB_NOTIFY_WEBHOOK; ch <= DB_NOTIFY_EMAIL; ch++) {
			if (!(ch == DB_NOTIFY_EMAIL ? nt->email : nt->webhook))
				continue;
			if (ops_alert_notify_due(&x, (enum db_notify_channel)ch, nt->min_level, nt->since, NOTIFY_BATCH, &due,
						 &n, &err) != 0)
				EV_LOG(EVLOG_ERROR, "notifications: cannot read the due alerts", EV_KS("error", err.msg));
			for (i = 0; i < n; i++)
				deliver(nt, &x, (enum db_notify_channel)ch, &due[i]);
			free(due);
			due = NULL;
			most = n > most ? n : most;
		}
		pthread_mutex_lock(&nt->mu);
		if (most == NOTIFY_BATCH)
			continue;	/* more are due */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (!nt->stop)
			pthread_cond_timedwait(&nt->cv, &nt->mu, &until);
	}
	pthread_mutex_unlock(&nt->mu);
	return NULL;
}

int
notifier_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct notifier **out,
	       struct bw_err *err)
{
	struct notifier *nt = calloc(1, sizeof *nt);

	*out = NULL;
	if (nt == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	nt->in = in;
	nt->al = al;
	nt->webhook = o->webhook_url != NULL;
	nt->email = o->smtp_url != NULL;
	nt->m.url = o->smtp_url;
	nt->m.from = o->smtp_from;
	nt->m.to = o->smtp_to;
	nt->m.nto = o->smtp_nto;
	nt->m.cacert = o->smtp_cacert;
	nt->m.timeout_secs = 30;
	nt->w.url = o->webhook_url;
	nt->w.secret = o->webhook_secret;
	nt->w.secret_len = o->webhook_secret_len;
	nt->w.cacert = o->webhook_cacert;
	nt->w.timeout_secs = 30;
	snprintf(nt->min_level, sizeof nt->min_level, "%s", o->notify_level ? o->notify_level : "high");
	nt->since = bw_now_ms() / 1000 - NOTIFY_LOOKBACK;
	pthread_mutex_init(&nt->mu, NULL);
	pthread_cond_init(&nt->cv, NULL);
	if (pthread_create(&nt->thread, NULL, notifier_main, nt) != 0) {
		pthread_mutex_destroy(&nt->mu);
		pthread_cond_destroy(&nt->cv);
		free(nt);
		return bw_err_set(err, BW_EIO, "cannot start the notification thread");
	}
	*out = nt;
	return 0;
}

void
notifier_stop(struct notifier *nt)
{
	if (nt == NULL)
		return;
	pthread_mutex_lock(&nt->mu);
	nt->stop = true;
	pthread_cond_signal(&nt->cv);
	pthread_mutex_unlock(&nt->mu);
	pthread_join(nt->thread, NULL);
	pthread_mutex_destroy(&nt->mu);
	pthread_cond_destroy(&nt->cv);
	free(nt);
}
