/*
 * audit/audit.c: audit events and the commit thread over the durable log.
 * The commit thread sequences each group of appended events into the log's
 * journal (one fdatasync; the events are acknowledged then); the log's
 * integrator thread (tlog_integrator) turns them into tiles and a signed
 * checkpoint behind that: every AUDIT_INTEGRATE_MS, when
 * AUDIT_INTEGRATE_MAX events or AUDIT_INTEGRATE_BYTES wait, or at once when
 * a reader asks for it (audit_log_sync). Appends wait (back-pressure) while
 * AUDIT_BACKLOG_LIMIT bytes wait for integration.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "tlog/tlog.h"

#define AUDIT_INTEGRATE_MS 250
#define AUDIT_INTEGRATE_MAX 65536
#define AUDIT_INTEGRATE_BYTES ((uint64_t)8 << 20)
#define AUDIT_BACKLOG_LIMIT ((uint64_t)32 << 20)	/* bounds memory and recovery time */

struct audit_log {
	struct tlog_store *store;
	struct tlog_integrator *integrator;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* appenders -> committer */
	pthread_cond_t done;		/* committer -> appenders */
	pthread_t thread;
	/* Acknowledged: tlog_store_durable() (advanced under mu). */
	int failed;			/* a commit failed: refuse further appends */
	char fail_msg[BW_ERR_MSG_MAX];
	int stop;
	audit_observer_fn observer;	/* set before any event; called on the commit thread */
	void *observer_ctx;
	struct audit_stats stats;	/* under mu */
	bool rekeying;			/* a key transition runs: appends wait (on done) */
};

static const double commit_bounds[AUDIT_LATENCY_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1 };

const double *
audit_latency_bounds(void)
{
	return commit_bounds;
}

void
audit_log_stats(struct audit_log *al, struct audit_stats *out)
{
	pthread_mutex_lock(&al->mu);
	*out = al->stats;
	out->durable = tlog_store_durable(al->store);
	pthread_mutex_unlock(&al->mu);
}

static int
tell_observer(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct audit_log *al = ctx;

	al->observer(al->observer_ctx, index, entry, len);
	return 0;
}

void
audit_log_observe(struct audit_log *al, audit_observer_fn fn, void *ctx)
{
	pthread_mutex_lock(&al->mu);
	al->observer = fn;
	al->observer_ctx = ctx;
	pthread_mutex_unlock(&al->mu);
}

static void
commit_failed(struct audit_log *al, const char *what, const struct bw_err *err)
{
	al->failed = 1;
	snprintf(al->fail_msg, sizeof al->fail_msg, "%s", err->msg);
	EV_LOG(EVLOG_ERROR, what, EV_KS("error", err->msg));
	pthread_cond_broadcast(&al->done);
}

static void *
committer(void *arg)
{
	struct audit_log *al = arg;
	struct bw_err err = { 0 };

	pthread_mutex_lock(&al->mu);
	for (;;) {
		while (tlog_store_pending(al->store) == 0 && !al->stop)
			pthread_cond_wait(&al->work, &al->mu);
		if (tlog_store_pending(al->store) == 0)
			break;	/* stopping, nothing left to sequence */
		/*
		 * Everything appended so far goes into one journal write (group
		 * commit), written without the lock: appenders form the next
		 * group meanwhile instead of waiting for this fdatasync. First,
		 * back-pressure: wait while the integrator is far behind.
		 */
		struct tlog_group g;
		int r;
		pthread_mutex_unlock(&al->mu);
		r = tlog_integrator_throttle(al->integrator, &err);
		pthread_mutex_lock(&al->mu);
		if (r == 0 && (r = tlog_store_sequence_take(al->store, &g, &err)) == 0) {
			struct timespec t0, t1;
			double secs;
			size_t b;
			pthread_mutex_unlock(&al->mu);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			r = tlog_store_sequence_write(al->store, &g, &err);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			pthread_mutex_lock(&al->mu);
			if (r == 0) {
				al->stats.commits++;
				al->stats.entries += g.upto - g.first;
				al->stats.commit_seconds += secs;
				for (b = 0; b < AUDIT_LATENCY_BUCKETS; b++)
					if (secs <= commit_bounds[b])
						al->stats.commit_buckets[b]++;
			}
			pthread_mutex_unlock(&al->mu);
			if (r == 0 && al->observer != NULL)
				tlog_group_foreach(&g, tell_observer, al);
			pthread_mutex_lock(&al->mu);
			tlog_store_sequence_done(al->store, &g, r);
		}
		if (r != 0) {
			commit_failed(al, "audit log: sequencing failed", &err);
			break;
		}
		tlog_integrator_kick(al->integrator);
		pthread_cond_broadcast(&al->done);
	}
	pthread_mutex_unlock(&al->mu);
	return NULL;
}

int
audit_log_open(const char *dir, struct note_signer *signer, struct audit_log **out, struct bw_err *err)
{
	struct audit_log *al;
	int r;

	*out = NULL;
	if ((al = calloc(1, sizeof *al)) == NULL) {
		note_signer_free(signer);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((r = tlog_store_open_signed(dir, signer, &al->store, err)) != 0) {
		free(al);
		return r;
	}
	{
		const struct tlog_integrator_policy p = {
			.interval_ms = AUDIT_INTEGRATE_MS,
			.max_entries = AUDIT_INTEGRATE_MAX,
			.max_bytes = AUDIT_INTEGRATE_BYTES,
			.limit_bytes = AUDIT_BACKLOG_LIMIT,
		};
		if ((r = tlog_integrator_start(al->store, &p, &al->integrator, err)) != 0) {
			tlog_store_close(al->store);
			free(al);
			return r;
		}
	}
	pthread_mutex_init(&al->mu, NULL);
	pthread_cond_init(&al->work, NULL);
	pthread_cond_init(&al->done, NULL);
	if (pthread_create(&al->thread, NULL, committer, al) != 0) {
		tlog_integrator_stop(al->integrator, NULL);
		tlog_store_close(al->store);
		free(al);
		return bw_err_set(err, BW_EIO, "cannot start the audit commit thread");
	}
	*out = al;
	return 0;
}

void
audit_log_close(struct audit_log *al)
{
	if (al == NULL)
		return;
	pthread_mutex_lock(&al->mu);
	al->stop = 1;
	pthread_cond_broadcast(&al->work);
	pthread_mutex_unlock(&al->mu);
	pthread_join(al->thread, NULL);
	{
		/* Everything sequenced is integrated before the log closes. */
		struct bw_err err = { 0 };
		if (tlog_integrator_stop(al->integrator, &err) != 0)
			EV_LOG(EVLOG_ERROR, "audit log: integration failed", EV_KS("error", err.msg));
	}
	tlog_store_close(al->store);
	pthread_mutex_destroy(&al->mu);
	pthread_cond_destroy(&al->work);
	pthread_cond_destroy(&al->done);
	free(al);
}

/* Waits (mu held) while a key transition runs; then BW_EIO when the log cannot take appends. */
static int
ready_locked(struct audit_log *al, struct bw_err *err)
{
	while (al->rekeying && !al->failed)
		pthread_cond_wait(&al->done, &al->mu);
	if (al->failed || al->stop)
		return bw_err_set(err, BW_EIO, "audit log unavailable: %s", al->failed ? al->fail_msg : "stopping");
	return 0;
}

/* Appends one entry and waits (mu held) until it is durable; *idx its index. */
static int
append_durable_locked(struct audit_log *al, const void *entry, size_t len, uint64_t *idx, struct bw_err *err)
{
	int r;

	if ((r = tlog_store_append(al->store, entry, len, idx, err)) != 0)
		return r;
	pthread_cond_signal(&al->work);
	while (tlog_store_durable(al->store) <= *idx && !al->failed)
		pthread_cond_wait(&al->done, &al->mu);
	if (tlog_store_durable(al->store) <= *idx)
		return bw_err_set(err, BW_EIO, "audit log commit failed: %s", al->fail_msg);
	return 0;
}

int
audit_append(struct audit_log *al, const void *entry, size_t len, uint64_t *index, struct bw_err *err)
{
	uint64_t idx = 0;
	int r;

	pthread_mutex_lock(&al->mu);
	if ((r = ready_locked(al, err)) == 0 && (r = append_durable_locked(al, entry, len, &idx, err)) == 0 &&
	    index != NULL)
		*index = idx;
	pthread_mutex_unlock(&al->mu);
	return r;
}

int
audit_append_batch(struct audit_log *al, const void *const *entries, const size_t *lens, size_t n, uint64_t *first,
		   struct bw_err *err)
{
	uint64_t idx = 0, last = 0;
	size_t i;
	int r = 0;

	if (n == 0)
		return bw_err_set(err, BW_EINVAL, "an empty batch");
	for (i = 0; i < n; i++)	/* checked first: an append that fails later would leave the ones before it buffered */
		if (lens[i] == 0 || lens[i] > 65535)
			return bw_err_set(err, BW_ERANGE, "entry %zu of the batch: %zu bytes (1..65535)", i + 1, lens[i]);
	pthread_mutex_lock(&al->mu);
	if ((r = ready_locked(al, err)) != 0)
		goto out;
	/* Appended under one hold of the lock: consecutive indices, one group, one fdatasync. */
	for (i = 0; i < n; i++) {
		if ((r = tlog_store_append(al->store, entries[i], lens[i], i == 0 ? &idx : &last, err)) != 0)
			goto out;	/* out of memory: the store has failed, nothing more is acknowledged */
	}
	last = idx + n - 1;
	pthread_cond_signal(&al->work);
	while (tlog_store_durable(al->store) <= last && !al->failed)
		pthread_cond_wait(&al->done, &al->mu);
	if (tlog_store_durable(al->store) <= last)
		r = bw_err_set(err, BW_EIO, "log commit failed: %s", al->fail_msg);
	else if (first != NULL)
		*first = idx;
out:
	pthread_mutex_unlock(&al->mu);
	return r;
}

char *
audit_log_checkpoint(struct audit_log *al, size_t *len)
{
	char *cp = tlog_store_checkpoint_dup(al->store);

	if (cp != NULL && len != NULL)
		*len = strlen(cp);
	return cp;
}

size_t
audit_log_recovered(struct audit_log *al, const char **where)
{
	return tlog_store_discarded(al->store, where);
}

uint64_t
audit_log_size(struct audit_log *al)
{
	return tlog_store_size(al->store);
}

int
audit_log_prune(struct audit_log *al, uint64_t upto, uint64_t *pruned_before, struct bw_err *err)
{
	return tlog_store_prune(al->store, upto, pruned_before, err);
}

int
audit_log_sync(struct audit_log *al, struct bw_err *err)
{
	uint64_t target;
	int r;

	pthread_mutex_lock(&al->mu);
	target = tlog_store_durable(al->store);
	pthread_mutex_unlock(&al->mu);
	if ((r = tlog_integrator_wait(al->integrator, target, err)) != 0)
		bw_err_prefix(err, "audit log integration failed");
	return r;
}

int
audit_record(struct audit_log *al, const struct event *ev, uint64_t *index, struct bw_err *err)
{
	char *json = NULL;
	size_t len;
	int r;

	if ((r = ev_serialise(ev, bw_now_ms(), &json, &len, err)) != 0)
		return r;
	if (len > 65535) {
		free(json);
		return bw_err_set(err, BW_ERANGE, "audit event too large (%zu bytes)", len);
	}
	r = audit_append(al, json, len, index, err);
	free(json);
	return r;
}

int
audit_log_rekey(struct audit_log *al, const void *entry, size_t len, struct note_signer *next,
		int (*handed_over)(void *ctx, struct bw_err *err), void *ctx, uint64_t *index, struct bw_err *err)
{
	uint64_t idx = 0;
	int r = 0;

	if (len == 0 || len > 65535) {
		note_signer_free(next);
		return bw_err_set(err, BW_ERANGE, "transition entry of %zu bytes (1..65535)", len);
	}
	pthread_mutex_lock(&al->mu);
	if ((r = ready_locked(al, err)) != 0)
		goto out;
	/* From here on no other entry is appended until the log is handed over: the transition is the last one. */
	al->rekeying = true;
	if ((r = append_durable_locked(al, entry, len, &idx, err)) != 0)
		goto done;
	if (index != NULL)
		*index = idx;	/* in the log, whatever happens next */
	pthread_mutex_unlock(&al->mu);
	r = tlog_integrator_wait(al->integrator, idx + 1, err);
	pthread_mutex_lock(&al->mu);
	if (r != 0) {
		bw_err_prefix(err, "audit log integration failed");
		goto done;
	}
	/* Nothing is buffered, sequenced or integrating: the integrator thread is idle until the next append. */
	r = tlog_store_rekey(al->store, next, err);
	next = NULL;
	if (r == 0 && handed_over != NULL && (r = handed_over(ctx, err)) != 0)
		bw_err_prefix(err, "the log was handed over to the next key, then");
done:
	al->rekeying = false;
	pthread_cond_broadcast(&al->done);
out:
	pthread_mutex_unlock(&al->mu);
	note_signer_free(next);
	return r;
}
