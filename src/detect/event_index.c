/*
 * detect/event_index.c: an event's fields by name (open addressing over
 * FNV-1a hashes; fields of the same name chained in their order).
 */
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

uint32_t
field_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

int
ev_index_build(struct ev_index *x, const struct detect_event *ev)
{
	size_t n = ev->nfields, buckets = 16, i;

	while (buckets < n * 2)
		buckets *= 2;
	x->ev = ev;
	x->mask = (uint32_t)buckets - 1;
	x->heap = n > EV_INDEX_INLINE;
	if (x->heap) {
		x->slot = malloc(buckets * sizeof *x->slot);
		x->next = malloc(n * sizeof *x->next);
		x->hash = malloc(n * sizeof *x->hash);
		if (x->slot == NULL || x->next == NULL || x->hash == NULL) {
			ev_index_clear(x);
			return BW_ENOMEM;
		}
	} else {
		x->slot = x->slot_inline;
		x->next = x->next_inline;
		x->hash = x->hash_inline;
	}
	memset(x->slot, 0xff, buckets * sizeof *x->slot);
	for (i = 0; i < n; i++) {
		uint32_t h = field_hash(ev->fields[i].name), b = h & x->mask;
		x->hash[i] = h;
		x->next[i] = -1;
		for (;; b = (b + 1) & x->mask) {
			int32_t f = x->slot[b];
			if (f < 0) {
				x->slot[b] = (int32_t)i;
				break;
			}
			if (x->hash[f] == h && strcmp(ev->fields[f].name, ev->fields[i].name) == 0) {
				while (x->next[f] >= 0)
					f = x->next[f];
				x->next[f] = (int32_t)i;
				break;
			}
		}
	}
	return 0;
}

void
ev_index_clear(struct ev_index *x)
{
	if (x->heap) {
		free(x->slot);
		free(x->next);
		free(x->hash);
	}
	x->slot = x->next = NULL;
	x->hash = NULL;
	x->heap = false;
}

int32_t
ev_index_find(const struct ev_index *x, const char *name, uint32_t h)
{
	uint32_t b;

	for (b = h & x->mask;; b = (b + 1) & x->mask) {
		int32_t f = x->slot[b];
		if (f < 0)
			return -1;
		if (x->hash[f] == h && strcmp(x->ev->fields[f].name, name) == 0)
			return f;
	}
}
