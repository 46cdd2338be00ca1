/*
 * agent/dedup.c: the auditd events seen lately, by (time, serial), for an
 * agent that reads auditd both ways (its dispatcher on stdin and its log
 * file): whichever way brings an event first ships it, the other's copy is
 * skipped. Two generations of DEDUP_GEN keys each: when the newer fills,
 * it becomes the older and the older is dropped, so memory stays bounded
 * and the last DEDUP_GEN to 2 x DEDUP_GEN events are always remembered.
 */
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

struct dedup_key {
	int64_t time_ms;
	uint64_t serial;	/* 0 marks an empty slot (auditd serials start at 1) */
};

struct dedup {
	struct dedup_key *gen[2];	/* [0] newer, [1] older; each 2 x DEDUP_GEN slots */
	size_t n;			/* keys in the newer */
};

#define SLOTS (2 * DEDUP_GEN)

int
dedup_new(struct dedup **out, struct bw_err *err)
{
	struct dedup *d = calloc(1, sizeof *d);

	if (d == NULL || (d->gen[0] = calloc(SLOTS, sizeof *d->gen[0])) == NULL ||
	    (d->gen[1] = calloc(SLOTS, sizeof *d->gen[1])) == NULL) {
		dedup_free(d);
		*out = NULL;
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	*out = d;
	return 0;
}

void
dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	free(d->gen[0]);
	free(d->gen[1]);
	free(d);
}

static size_t
slot_of(int64_t t, uint64_t serial)
{
	uint64_t h = (uint64_t)t * 0x9e3779b97f4a7c15ULL ^ serial * 0xc2b2ae3d27d4eb4fULL;

	return (size_t)((h ^ (h >> 29)) & (SLOTS - 1));
}

static bool
has(const struct dedup_key *g, int64_t t, uint64_t serial)
{
	size_t i;

	for (i = slot_of(t, serial); g[i].serial != 0; i = (i + 1) & (SLOTS - 1))
		if (g[i].serial == serial && g[i].time_ms == t)
			return true;
	return false;
}

bool
dedup_seen(struct dedup *d, int64_t t, uint64_t serial)
{
	size_t i;

	if (serial == 0)
		return false;	/* not a key this set can hold: never taken for a duplicate */
	if (has(d->gen[0], t, serial) || has(d->gen[1], t, serial))
		return true;
	if (d->n == DEDUP_GEN) {
		struct dedup_key *old = d->gen[1];
		memset(old, 0, SLOTS * sizeof *old);
		d->gen[1] = d->gen[0];
		d->gen[0] = old;
		d->n = 0;
	}
	for (i = slot_of(t, serial); d->gen[0][i].serial != 0; i = (i + 1) & (SLOTS - 1))
		;
	d->gen[0][i] = (struct dedup_key){ t, serial };
	d->n++;
	return false;
}
