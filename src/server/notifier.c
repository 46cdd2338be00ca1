/*
 * server/notifier.c: delivers alert notifications, at least once. Alerts
 * are durable before anyone is notified; this thread looks every second
 * for alerts of the configured level or above that are not delivered yet
 * and due, POSTs each to the webhook (notify_webhook_post), and records
 * the outcome (ops_alert_notified, audited). A failure is retried with
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
	struct notify_webhook w;
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

static void
deliver(struct notifier *nt, struct ops_ctx *x, const struct db_alert *a)
{
	json_t *j = alert_json(a);
	char *body = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
	char delivery[48];
	struct bw_err err = { 0 }, rerr = { 0 };
	long status = 0;
	int64_t now = bw_now_ms() / 1000;
	int r;

	json_decref(j);
	if (body == NULL)
		return;
	snprintf(delivery, sizeof delivery, "alert-%lld", (long long)a->id);
	r = notify_webhook_post(&nt->w, delivery, now, body, strlen(body), &status, &err);
	free(body);
	if (ops_alert_notified(x, a, r == 0 ? NULL : err.msg, now + backoff(a->notify_attempts), &rerr) != 0)
		EV_LOG(EVLOG_ERROR, "notification outcome not recorded", EV_KS("error", rerr.msg));
	if (r != 0 && a->notify_attempts + 1 == 3) {
		/* Failures are visible: an alert of their own (counted into one per webhook). */
		struct ops_alert_match m = { .rule_id = "bulwark-notify-failing",
					     .title = "Alert notifications are failing (webhook)",
					     .level = "high", .group_key = "webhook", .event_index = (uint64_t)a->first_index };
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

		pthread_mutex_unlock(&nt->mu);
		if (ops_alert_notify_due(&x, nt->min_level, nt->since, NOTIFY_BATCH, &due, &n, &err) != 0)
			EV_LOG(EVLOG_ERROR, "notifications: cannot read the due alerts", EV_KS("error", err.msg));
		for (i = 0; i < n; i++)
			deliver(nt, &x, &due[i]);
		free(due);
		pthread_mutex_lock(&nt->mu);
		if (n == NOTIFY_BATCH)
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
