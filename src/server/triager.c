/*
 * server/triager.c: triages reported samples as they arrive. A thread
 * takes the oldest report pending triage (woken by each new report, and
 * every few seconds), unseals its sample, walks it in an isolated worker
 * (triage_scan_isolated: rlimits, seccomp, a wall-clock timeout) and
 * records the result through operations (report.triaged; a threat is an
 * alert). A sample that fails triage (a worker crash, a timeout, a sealed
 * file that does not open) is recorded as "failed" with the reason: the
 * queue never stalls on one sample.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "notify/notify.h"
#include "triage/triage.h"

#define TRIAGER_POLL_MS 5000

struct triager {
	struct instance *in;
	struct audit_log *al;
	struct triage_zygote *zygote;
	int64_t retention_secs;		/* samples older than this are deleted (0: kept) */
	int64_t resolved[64];		/* reports an analyst resolved: their reporters are told (under mu) */
	size_t nresolved;
	int64_t purged_at_ms;		/* when retention last ran */
	const struct server_opts *o;	/* the server's: the SMTP relay for feedback (NULL url: none) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked, started;
};

/* What the reporter is told, by verdict: the outcome and what to do now. */
static const char *
advice(const char *verdict)
{
	if (strcmp(verdict, "threat") == 0)
		return "It is malicious. Do not open it or any attachment, do not answer it, and delete it; if you "
		       "already opened an attachment or a link, tell the security team now.";
	if (strcmp(verdict, "suspicious") == 0)
		return "It shows signs of a lure; the security team is looking at it. Leave it unopened until they "
		       "tell you more.";
	if (strcmp(verdict, "spam") == 0)
		return "It is unsolicited bulk mail, not an attack. You may delete it.";
	if (strcmp(verdict, "clean") == 0)
		return "Nothing malicious was found in it. The security team may still look at it.";
	return "It could not be analysed automatically; the security team will look at it.";
}

/*
 * Feedback to the reporter's registered address, when mail is configured
 * (one try: the outcome is in `report mine`): the triage's verdict, or
 * (verdict NULL) the analyst's resolution.
 */
static void
feedback(struct triager *tr, struct ops_ctx *x, int64_t id, const char *verdict)
{
	struct notify_email m = { 0 };
	struct db_report r = { 0 };
	struct bw_err err = { 0 };
	char email[DB_EMAIL_MAX + 1], subject[200], text[2048], mid[64], when[BW_TIME_TEXT_MAX];
	const char *to[1] = { email };

	if (tr->o->smtp_url == NULL || ops_report_feedback_to(x, id, &r, email, &err) != 0 || email[0] == '\0') {
		db_report_clear(&r);
		return;
	}
	bw_time_format_ms(r.created_at * 1000, when);
	if (verdict == NULL)	/* resolved by an analyst: the verdict that counts now */
		verdict = db_report_verdict(&r);
	snprintf(subject, sizeof subject, "[bulwark] Your report %lld: %s%s", (long long)id,
		 strcmp(r.status, "resolved") == 0 ? "resolved, " : "", verdict);
	snprintf(text, sizeof text,
		 "Thank you for reporting %s%.200s%s (report %lld, %s).\n\nResult: %s.\n%s\n\n"
		 "Reports like yours are how attacks are stopped early. Keep reporting anything that looks wrong.\n"
		 "Your reports and their results: bulwark report mine\n",
		 r.file_name[0] ? "the file \"" : "the mail", r.file_name, r.file_name[0] ? "\"" : "", (long long)id, when,
		 verdict, advice(verdict));
	snprintf(mid, sizeof mid, "report-%lld@bulwark", (long long)id);
	m.url = tr->o->smtp_url;
	m.from = tr->o->smtp_from;
	m.to = to;
	m.nto = 1;
	m.cacert = tr->o->smtp_cacert;
	m.timeout_secs = 30;
	if (notify_email_send(&m, mid, subject, text, &err) != 0)
		EV_LOG(EVLOG_WARN, "report feedback not sent", EV_KI("report", id), EV_KS("error", err.msg));
	db_report_clear(&r);
}

/* One pending report, if any: true when one was handled. */
static bool
triage_one(struct triager *tr)
{
	struct ops_caller sys;
	struct ops_ctx x = { .in = tr->in, .al = tr->al, .caller = &sys };
	struct bw_err err = { 0 };
	char name[264];
	uint8_t *data = NULL;
	size_t len = 0;
	json_t *res = NULL;
	int64_t id = 0;
	int r;

	ops_caller_system(&sys);
	r = ops_report_pending_sample(&x, &id, name, &data, &len, &err);
	if (id == 0) {
		if (r != 0)
			EV_LOG(EVLOG_ERROR, "triage: the queue could not be read", EV_KS("error", err.msg));
		return false;
	}
	if (r != 0)
		res = triage_failed("%s", err.msg);
	else if (triage_zygote_scan(tr->zygote, name, data, len, &res, &err) != 0) {
		/* no worker could run it (shutting down, or the zygote is gone): it stays pending */
		EV_LOG(EVLOG_WARN, "triage: not run", EV_KI("report", id), EV_KS("error", err.msg));
		bw_memzero(data, len);
		free(data);
		return false;
	}
	if (data != NULL)
		bw_memzero(data, len);
	free(data);
	bw_err_clear(&err);
	if (res == NULL || ops_report_triaged(&x, id, res, &err) != 0) {
		EV_LOG(EVLOG_ERROR, "triage: the result was not recorded", EV_KI("report", id),
		       EV_KS("error", res == NULL ? "out of memory" : err.msg));
		json_decref(res);
		return false;	/* try again at the next poll */
	}
	EV_LOG(EVLOG_INFO, "report triaged", EV_KI("report", id),
	       EV_KS("verdict", json_string_value(json_object_get(res, "verdict"))));
	feedback(tr, &x, id, json_string_value(json_object_get(res, "verdict")));
	json_decref(res);
	return true;
}

/* Retention, every 10 minutes when configured. */
static void
retention(struct triager *tr)
{
	struct ops_caller sys;
	struct ops_ctx x = { .in = tr->in, .al = tr->al, .caller = &sys };
	struct bw_err err = { 0 };
	size_t n = 0;

	if (tr->retention_secs <= 0 || bw_now_ms() - tr->purged_at_ms < 600 * 1000)
		return;
	tr->purged_at_ms = bw_now_ms();
	ops_caller_system(&sys);
	if (ops_report_purge(&x, bw_now_ms() / 1000 - tr->retention_secs, &n, &err) != 0)
		EV_LOG(EVLOG_ERROR, "sample retention failed", EV_KS("error", err.msg));
	else if (n > 0)
		EV_LOG(EVLOG_INFO, "samples deleted after the retention period", EV_KI("count", (int64_t)n));
}

static void *
triager_main(void *arg)
{
	struct triager *tr = arg;

	pthread_mutex_lock(&tr->mu);
	while (!tr->stop) {
		struct timespec until = bw_deadline_ms(TRIAGER_POLL_MS);
		tr->kicked = false;
		pthread_mutex_unlock(&tr->mu);
		retention(tr);
		for (;;) {	/* reporters of resolved reports told */
			struct ops_caller sys;
			struct ops_ctx x = { .in = tr->in, .al = tr->al, .caller = &sys };
			int64_t id = 0;
			pthread_mutex_lock(&tr->mu);
			if (tr->nresolved > 0)
				id = tr->resolved[--tr->nresolved];
			pthread_mutex_unlock(&tr->mu);
			if (id == 0)
				break;
			ops_caller_system(&sys);
			feedback(tr, &x, id, NULL);
		}
		while (triage_one(tr)) {
			pthread_mutex_lock(&tr->mu);
			bool stop = tr->stop;
			pthread_mutex_unlock(&tr->mu);
			if (stop)
				break;
		}
		pthread_mutex_lock(&tr->mu);
		if (!tr->stop && !tr->kicked)
			pthread_cond_timedwait(&tr->cv, &tr->mu, &until);
	}
	pthread_mutex_unlock(&tr->mu);
	return NULL;
}

int
triager_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct triager **out,
	      struct bw_err *err)
{
	struct triager *tr = calloc(1, sizeof *tr);

	*out = NULL;
	if (tr == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	tr->in = in;
	tr->al = al;
	tr->o = o;	/* the server's copy: it outlives the thread */
	tr->zygote = o->triage;
	tr->retention_secs = o->sample_retention_secs;
	pthread_mutex_init(&tr->mu, NULL);
	pthread_cond_init(&tr->cv, NULL);
	if (pthread_create(&tr->thread, NULL, triager_main, tr) != 0) {
		triager_stop(tr);
		return bw_err_set(err, BW_EIO, "cannot start the triage thread");
	}
	tr->started = true;
	*out = tr;
	return 0;
}

void
triager_resolved(struct triager *tr, int64_t id)
{
	pthread_mutex_lock(&tr->mu);
	if (tr->nresolved < sizeof tr->resolved / sizeof tr->resolved[0])
		tr->resolved[tr->nresolved++] = id;
	tr->kicked = true;
	pthread_cond_signal(&tr->cv);
	pthread_mutex_unlock(&tr->mu);
}

void
triager_kick(struct triager *tr)
{
	pthread_mutex_lock(&tr->mu);
	tr->kicked = true;
	pthread_cond_signal(&tr->cv);
	pthread_mutex_unlock(&tr->mu);
}

void
triager_stop(struct triager *tr)
{
	if (tr == NULL)
		return;
	if (tr->started) {
		pthread_mutex_lock(&tr->mu);
		tr->stop = true;
		pthread_cond_signal(&tr->cv);
		pthread_mutex_unlock(&tr->mu);
		triage_zygote_cancel(tr->zygote);	/* a scan in progress ends now; its report stays pending */
		pthread_join(tr->thread, NULL);
	}
	pthread_mutex_destroy(&tr->mu);
	pthread_cond_destroy(&tr->cv);
	free(tr);
}
