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
#include "triage/triage.h"

#define TRIAGER_POLL_MS 5000

struct triager {
	struct instance *in;
	struct audit_log *al;
	struct triage *engine;
	struct triage_sandbox sb;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked, started;
};

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
		res = json_pack("{s:s, s:s, s:i, s:[], s:[]}", "verdict", "failed", "failed", err.msg, "score", 0,
				"reasons", "indicators");
	else if (triage_scan_isolated(tr->engine, &tr->sb, name, data, len, &res, &err) != 0)
		res = json_pack("{s:s, s:s, s:i, s:[], s:[]}", "verdict", "failed", "failed", err.msg, "score", 0,
				"reasons", "indicators");
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
	json_decref(res);
	return true;
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
	struct triage_opts to = { 0 };
	int r;

	*out = NULL;
	if (tr == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	tr->in = in;
	tr->al = al;
	triage_limits_default(&to.lim);
	to.org_domains = o->org_domains;
	to.norg = o->norg_domains;
	to.yara_dir = o->yara_dir;
	tr->sb.timeout_ms = o->triage_timeout_ms;
	tr->sb.user = o->triage_user;
	pthread_mutex_init(&tr->mu, NULL);
	pthread_cond_init(&tr->cv, NULL);
	if ((r = triage_new(&to, &tr->engine, err)) != 0) {
		triager_stop(tr);
		return r;
	}
	if (pthread_create(&tr->thread, NULL, triager_main, tr) != 0) {
		triager_stop(tr);
		return bw_err_set(err, BW_EIO, "cannot start the triage thread");
	}
	tr->started = true;
	*out = tr;
	return 0;
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
		pthread_join(tr->thread, NULL);
	}
	triage_free(tr->engine);
	pthread_mutex_destroy(&tr->mu);
	pthread_cond_destroy(&tr->cv);
	free(tr);
}
