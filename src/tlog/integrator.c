/*
 * tlog/integrator.c: the integrator on its own thread. The sequencer
 * (a server's commit thread, `bulwark log append`) acknowledges appends
 * after the journal's fdatasync and kicks this thread; it integrates on the
 * policy's interval or sooner when enough waits or someone asks, so tile
 * writing, hashing and signing run beside sequencing on another core. The
 * backlog is bounded: the sequencer throttles while limit_bytes wait.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlog.h"

struct tlog_integrator {
	struct tlog_store *s;
	struct tlog_integrator_policy p;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* kicks, waiters -> the thread */
	pthread_cond_t done;		/* the thread -> waiters */
	pthread_t thread;
	uint64_t want;			/* integrate up to here at once */
	int64_t last_ms;		/* when the last integration ended (monotonic) */
	bool stop, failed;
	struct bw_err err;		/* why it failed */
};

static int64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Is integration due now? (mu held) */
static bool
due(struct tlog_integrator *it, int64_t now)
{
	uint64_t entries, bytes;

	tlog_store_backlog(it->s, &entries, &bytes);
	return entries > 0 && (it->stop || it->want > tlog_store_size(it->s) || entries >= it->p.max_entries ||
			       bytes >= it->p.max_bytes || now - it->last_ms >= (int64_t)it->p.interval_ms);
}

static void *
run(void *arg)
{
	struct tlog_integrator *it = arg;
	struct bw_err err = { 0 };

	pthread_mutex_lock(&it->mu);
	for (;;) {
		int64_t now = mono_ms();
		uint64_t entries, bytes;
		while (!due(it, now)) {
			tlog_store_backlog(it->s, &entries, &bytes);
			if (it->stop && entries == 0)
				goto out;
			if (entries > 0) {
				/* Something waits: wake when the interval is up. */
				int64_t at = it->last_ms + it->p.interval_ms;
				struct timespec until = { .tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000L };
				pthread_cond_timedwait(&it->work, &it->mu, &until);
			} else {
				pthread_cond_wait(&it->work, &it->mu);
			}
			now = mono_ms();
		}
		pthread_mutex_unlock(&it->mu);
		int r = tlog_store_integrate(it->s, &err);
		pthread_mutex_lock(&it->mu);
		it->last_ms = mono_ms();
		if (r != 0) {
			it->failed = true;
			it->err = err;
			pthread_cond_broadcast(&it->done);
			break;
		}
		pthread_cond_broadcast(&it->done);
	}
out:
	pthread_mutex_unlock(&it->mu);
	return NULL;
}

int
tlog_integrator_start(struct tlog_store *s, const struct tlog_integrator_policy *p, struct tlog_integrator **out,
		      struct bw_err *err)
{
	struct tlog_integrator *it = calloc(1, sizeof *it);
	pthread_condattr_t ca;

	*out = NULL;
	if (it == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	it->s = s;
	it->p = *p;
	it->last_ms = mono_ms();
	pthread_mutex_init(&it->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&it->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&it->done, NULL);
	if (pthread_create(&it->thread, NULL, run, it) != 0) {
		pthread_mutex_destroy(&it->mu);
		pthread_cond_destroy(&it->work);
		pthread_cond_destroy(&it->done);
		free(it);
		return bw_err_set(err, BW_EIO, "cannot start the log's integration thread");
	}
	*out = it;
	return 0;
}

void
tlog_integrator_kick(struct tlog_integrator *it)
{
	pthread_mutex_lock(&it->mu);
	pthread_cond_signal(&it->work);
	pthread_mutex_unlock(&it->mu);
}

/* Copies the failure into err (mu held). */
static int
failure(struct tlog_integrator *it, struct bw_err *err)
{
	if (err != NULL)
		*err = it->err;
	return it->err.code != 0 ? it->err.code : BW_EIO;
}

int
tlog_integrator_throttle(struct tlog_integrator *it, struct bw_err *err)
{
	uint64_t entries, bytes;
	int r = 0;

	pthread_mutex_lock(&it->mu);
	for (;;) {
		if (it->failed) {
			r = failure(it, err);
			break;
		}
		tlog_store_backlog(it->s, &entries, &bytes);
		if (bytes < it->p.limit_bytes)
			break;
		if (it->want < tlog_store_durable(it->s))
			it->want = tlog_store_durable(it->s);
		pthread_cond_signal(&it->work);
		pthread_cond_wait(&it->done, &it->mu);
	}
	pthread_mutex_unlock(&it->mu);
	return r;
}

int
tlog_integrator_wait(struct tlog_integrator *it, uint64_t upto, struct bw_err *err)
{
	int r = 0;

	if (upto > tlog_store_durable(it->s))
		upto = tlog_store_durable(it->s);	/* only what is sequenced can be integrated */
	pthread_mutex_lock(&it->mu);
	if (it->want < upto)
		it->want = upto;
	pthread_cond_signal(&it->work);
	while (!it->failed && tlog_store_size(it->s) < upto)
		pthread_cond_wait(&it->done, &it->mu);
	if (tlog_store_size(it->s) < upto)
		r = failure(it, err);
	pthread_mutex_unlock(&it->mu);
	return r;
}

bool
tlog_integrator_failed(struct tlog_integrator *it, struct bw_err *err)
{
	bool failed;

	pthread_mutex_lock(&it->mu);
	failed = it->failed;
	if (failed)
		failure(it, err);
	pthread_mutex_unlock(&it->mu);
	return failed;
}

int
tlog_integrator_stop(struct tlog_integrator *it, struct bw_err *err)
{
	int r = 0;

	if (it == NULL)
		return 0;
	pthread_mutex_lock(&it->mu);
	it->stop = true;
	pthread_cond_signal(&it->work);
	pthread_mutex_unlock(&it->mu);
	pthread_join(it->thread, NULL);
	if (it->failed)
		r = failure(it, err);
	pthread_mutex_destroy(&it->mu);
	pthread_cond_destroy(&it->work);
	pthread_cond_destroy(&it->done);
	free(it);
	return r;
}
