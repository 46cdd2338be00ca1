/*
 * server/tokcache.c: a small cache of authenticated identities, so that a
 * busy client's requests do not all hit SQLite. An entry is trusted for at
 * most TOKCACHE_TTL_MS and only while no state-changing request has run
 * since it was filled (a generation counter bumped by every such request:
 * logout, revocation, disabling, role changes), so a revocation takes
 * effect on the very next request.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define TOKCACHE_SLOTS 1024
#define TOKCACHE_TTL_MS 5000

struct tok_slot {
	uint8_t hash[32];
	struct auth_identity who;
	uint64_t generation;
	int64_t until_ms;
	bool used;
};

struct tokcache {
	pthread_mutex_t mu;
	uint64_t generation;
	struct tok_slot slots[TOKCACHE_SLOTS];
};

int
tokcache_new(struct tokcache **out)
{
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return BW_ENOMEM;
	pthread_mutex_init(&(*out)->mu, NULL);
	return 0;
}

void
tokcache_free(struct tokcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	bw_memzero(c, sizeof *c);
	free(c);
}

static struct tok_slot *
slot_for(struct tokcache *c, const uint8_t hash[32])
{
	uint32_t i;
	memcpy(&i, hash, sizeof i);	/* the hash is uniform: its first bytes index well */
	return &c->slots[i % TOKCACHE_SLOTS];
}

bool
tokcache_get(struct tokcache *c, const uint8_t hash[32], int64_t now_ms, struct auth_identity *who)
{
	struct tok_slot *s;
	bool hit = false;

	pthread_mutex_lock(&c->mu);
	s = slot_for(c, hash);
	if (s->used && s->generation == c->generation && now_ms < s->until_ms &&
	    bw_memcmp_ct(s->hash, hash, 32) == 0) {
		*who = s->who;
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
tokcache_put(struct tokcache *c, const struct auth_identity *who, int64_t now_ms, uint64_t generation)
{
	struct tok_slot *s;

	pthread_mutex_lock(&c->mu);
	if (generation == c->generation) {	/* nothing changed while we looked it up */
		s = slot_for(c, who->token_hash);
		memcpy(s->hash, who->token_hash, 32);
		s->who = *who;
		s->generation = generation;
		s->until_ms = now_ms + TOKCACHE_TTL_MS;
		s->used = true;
	}
	pthread_mutex_unlock(&c->mu);
}

uint64_t
tokcache_generation(struct tokcache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->mu);
	g = c->generation;
	pthread_mutex_unlock(&c->mu);
	return g;
}

void
tokcache_invalidate(struct tokcache *c)
{
	pthread_mutex_lock(&c->mu);
	c->generation++;
	pthread_mutex_unlock(&c->mu);
}
