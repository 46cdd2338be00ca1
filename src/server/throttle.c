/* server/throttle.c: per-client-address login back-off (bounded in-memory table). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct slot {
	char addr[64];
	int64_t failures;
	int64_t last_ms;
};

struct throttle {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t n;
	int64_t base_ms;
};

int
throttle_new(size_t slots, int64_t base_ms, struct throttle **out)
{
	struct throttle *t = calloc(1, sizeof *t);

	if (t == NULL || (t->slots = calloc(slots, sizeof *t->slots)) == NULL) {
		free(t);
		return BW_ENOMEM;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->n = slots;
	t->base_ms = base_ms;
	*out = t;
	return 0;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->slots);
	free(t);
}

/* The slot for addr: its own, else an empty or the stalest one (evicted). Lock held. */
static struct slot *
find(struct throttle *t, const char *addr, bool create)
{
	size_t h = 5381, i, best = 0;
	const char *p;

	for (p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	/* Probe a small window so the table stays bounded and lookups O(1). */
	for (i = 0; i < 8; i++) {
		struct slot *s = &t->slots[(h + i) % t->n];
		if (strcmp(s->addr, addr) == 0)
			return s;
		if (s->last_ms < t->slots[(h + best) % t->n].last_ms)
			best = i;
	}
	if (!create)
		return NULL;
	struct slot *s = &t->slots[(h + best) % t->n];
	memset(s, 0, sizeof *s);
	strncpy(s->addr, addr, sizeof s->addr - 1);
	return s;
}

int64_t
throttle_check(struct throttle *t, const char *addr, int64_t now_ms)
{
	struct slot *s;
	int64_t wait = 0;

	if (t->base_ms <= 0)
		return 0;
	pthread_mutex_lock(&t->mu);
	if ((s = find(t, addr, false)) != NULL && s->failures > 0) {
		int64_t need = t->base_ms << (s->failures - 1 > 10 ? 10 : s->failures - 1);
		if (need > 60000)
			need = 60000;
		if (now_ms - s->last_ms < need)
			wait = (need - (now_ms - s->last_ms) + 999) / 1000;
	}
	pthread_mutex_unlock(&t->mu);
	return wait;
}

void
throttle_failed(struct throttle *t, const char *addr, int64_t now_ms)
{
	struct slot *s;

	pthread_mutex_lock(&t->mu);
	s = find(t, addr, true);
	s->failures++;
	s->last_ms = now_ms;
	pthread_mutex_unlock(&t->mu);
}

void
throttle_ok(struct throttle *t, const char *addr)
{
	struct slot *s;

	pthread_mutex_lock(&t->mu);
	if ((s = find(t, addr, false)) != NULL)
		s->failures = 0;
	pthread_mutex_unlock(&t->mu);
}

bool
request_throttled(struct request *rq)
{
	int64_t wait = throttle_check(rq->s->throttle, rq->addr, bw_now_ms());

	if (wait <= 0)
		return false;
	/* Refused before any work: counted in the client's refusal summary, not one audit event each. */
	rq->retry_after = wait;
	rq->refused_early = true;
	reply_error(rq, 429, "too many attempts; retry later");
	return true;
}

void
request_throttle_result(struct request *rq, bool failed)
{
	if (failed)
		throttle_failed(rq->s->throttle, rq->addr, bw_now_ms());
	else
		throttle_ok(rq->s->throttle, rq->addr);
}
