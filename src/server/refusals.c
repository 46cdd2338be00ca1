/*
 * server/refusals.c: requests from anonymous clients refused before any
 * operation (no route, wrong method, bad body, not signed in, malformed
 * public reads) are counted per client address group in memory and written
 * to the audit log as one http.refused_summary event per client and
 * interval, so probing is recorded without making the permanent, fsync'ed
 * log a free disk for anyone on the network. The table is bounded: past
 * REFUSALS_SLOTS clients, the rest share one "*" row.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define REFUSALS_SLOTS 1024
#define REFUSALS_SAMPLES 16
#define REFUSALS_SAMPLE_MAX 150
#define REFUSALS_STATUSES 8

struct refusal_slot {
	char client[BW_ADDR_GROUP_MAX];
	int64_t count, first_ms, last_ms;
	unsigned status[REFUSALS_STATUSES];
	int64_t status_count[REFUSALS_STATUSES];
	char samples[REFUSALS_SAMPLES][REFUSALS_SAMPLE_MAX + 1];
	size_t nsamples;
};

struct refusals {
	pthread_mutex_t mu;
	struct refusal_slot *slots;	/* REFUSALS_SLOTS + 1 (the last: every other client) */
	size_t used;
};

int
refusals_new(struct refusals **out)
{
	struct refusals *r = calloc(1, sizeof *r);

	if (r == NULL || (r->slots = calloc(REFUSALS_SLOTS + 1, sizeof *r->slots)) == NULL) {
		free(r);
		return BW_ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return 0;
}

void
refusals_free(struct refusals *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}

static struct refusal_slot *
slot_for(struct refusals *r, const char *client)
{
	size_t i;

	for (i = 0; i < r->used; i++)
		if (strcmp(r->slots[i].client, client) == 0)
			return &r->slots[i];
	if (r->used < REFUSALS_SLOTS) {
		snprintf(r->slots[r->used].client, sizeof r->slots[0].client, "%s", client);
		return &r->slots[r->used++];
	}
	snprintf(r->slots[REFUSALS_SLOTS].client, sizeof r->slots[0].client, "*");
	return &r->slots[REFUSALS_SLOTS];
}

void
refusals_add(struct refusals *r, const char *addr, unsigned status, const char *method, const char *path,
	     int64_t now_ms)
{
	char client[BW_ADDR_GROUP_MAX], sample[REFUSALS_SAMPLE_MAX + 1];
	struct refusal_slot *s;
	size_t i;

	bw_addr_group(addr, client, sizeof client);
	snprintf(sample, sizeof sample, "%.16s %s", method, path);	/* cut here; escaped when serialised */
	pthread_mutex_lock(&r->mu);
	s = slot_for(r, client);
	if (s->count++ == 0)
		s->first_ms = now_ms;
	s->last_ms = now_ms;
	for (i = 0; i < REFUSALS_STATUSES; i++) {
		if (s->status[i] == status || s->status[i] == 0) {
			s->status[i] = status;
			s->status_count[i]++;
			break;
		}
	}
	for (i = 0; i < s->nsamples && strcmp(s->samples[i], sample) != 0; i++)
		;
	if (i == s->nsamples && s->nsamples < REFUSALS_SAMPLES)
		memcpy(s->samples[s->nsamples++], sample, sizeof sample);
	pthread_mutex_unlock(&r->mu);
}

/* The summary event of one slot. */
static int
record_slot(struct audit_log *al, const struct refusal_slot *s, struct bw_err *err)
{
	struct ev_origin o = { .actor = "-", .source = s->client, .request_id = NULL };
	const char *samples[REFUSALS_SAMPLES];
	json_t *statuses = json_object();
	struct event ev;
	size_t i;
	int r;

	ev_init(&ev, EV_HTTP_REFUSED_SUMMARY, &o);
	ev.result = EV_REFUSED;
	ev_target(&ev, "client:%s", s->client);
	ev_str(&ev, EVF_CLIENT, s->client);
	ev_int(&ev, EVF_COUNT, s->count);
	ev_int(&ev, EVF_FIRST_AT, s->first_ms);
	ev_int(&ev, EVF_LAST_AT, s->last_ms);
	for (i = 0; statuses != NULL && i < REFUSALS_STATUSES && s->status[i] != 0; i++) {
		char key[12];
		snprintf(key, sizeof key, "%u", s->status[i]);
		json_object_set_new(statuses, key, json_integer(s->status_count[i]));
	}
	ev_json(&ev, EVF_STATUSES, statuses);
	for (i = 0; i < s->nsamples; i++)
		samples[i] = s->samples[i];
	ev_list(&ev, EVF_SAMPLES, samples, s->nsamples);
	r = audit_record(al, &ev, NULL, err);
	ev_clear(&ev);
	return r;
}

void
refusals_flush(struct refusals *r, struct audit_log *al)
{
	struct refusal_slot *taken;
	struct bw_err err = { 0 };
	int64_t overflow;
	size_t n, i;

	/* Nothing counted (the usual case): no table to swap. */
	pthread_mutex_lock(&r->mu);
	overflow = r->slots[REFUSALS_SLOTS].count;
	n = r->used;
	pthread_mutex_unlock(&r->mu);
	if (n == 0 && overflow == 0)
		return;
	/* Take the table and start a new one, so recording (fsync) never holds up the requests being counted. */
	if ((taken = calloc(REFUSALS_SLOTS + 1, sizeof *taken)) == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	n = r->used;
	{
		struct refusal_slot *t = r->slots;
		r->slots = taken;
		taken = t;
	}
	r->used = 0;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i <= REFUSALS_SLOTS; i++) {
		if ((i < n || i == REFUSALS_SLOTS) && taken[i].count > 0 && record_slot(al, &taken[i], &err) != 0)
			EV_LOG(EVLOG_ERROR, "refusal summary not recorded", EV_KS("client", taken[i].client),
			       EV_KI("count", taken[i].count), EV_KS("error", err.msg));
	}
	free(taken);
}
