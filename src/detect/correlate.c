/*
 * detect/correlate.c: the state of correlation rules as matches arrive:
 * one group per (correlation, group-by values), each holding only what its
 * condition needs (timestamps, hashes of distinct values, per-rule times),
 * in one table bounded by a group count and a byte budget; the least
 * recently updated group is evicted (and counted) first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define VALUE_TEXT_MAX 256	/* group-by values longer than this are cut for the key */
#define KEY_MAX (CORR_GROUP_BY_MAX * (VALUE_TEXT_MAX + 1))

struct stamp {
	int64_t ms;
	uint64_t hash;		/* value_count: the value's hash */
};

struct group {
	struct group *hnext;	/* hash chain */
	struct group *lprev, *lnext;	/* least recently updated first */
	uint64_t hash;
	size_t corr;		/* the correlation's index in the rule set */
	char *key;		/* group-by values joined by 0x1f */
	size_t klen;
	int64_t last_ms;
	struct stamp *st;	/* event_count, value_count: oldest first */
	size_t nst, capst;
	int64_t *t;		/* temporal: last time of each rule; temporal_ordered: start of each completed prefix */
	size_t bytes;
};

struct detect_correlator {
	const struct detect_ruleset *rs;
	struct group **buckets;
	size_t nbuckets;
	struct group *lru_head, *lru_tail;
	size_t groups, max_groups;
	size_t bytes, max_bytes;
	uint64_t evicted;
	char key[KEY_MAX];
	char text[KEY_MAX + CORR_GROUP_BY_MAX * 160];
};

#define NO_TIME INT64_MIN

int
detect_correlator_new(const struct detect_ruleset *rs, size_t max_groups, size_t max_bytes,
		      struct detect_correlator **out, struct bw_err *err)
{
	struct detect_correlator *c = calloc(1, sizeof *c);

	*out = NULL;
	if (c == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	c->rs = rs;
	c->max_groups = max_groups > 0 ? max_groups : 1;
	c->max_bytes = max_bytes;
	for (c->nbuckets = 64; c->nbuckets < c->max_groups && c->nbuckets < (1u << 22); c->nbuckets *= 2)
		;
	if ((c->buckets = calloc(c->nbuckets, sizeof *c->buckets)) == NULL) {
		free(c);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

static void
group_free(struct group *g)
{
	free(g->key);
	free(g->st);
	free(g->t);
	free(g);
}

static void
lru_unlink(struct detect_correlator *c, struct group *g)
{
	if (g->lprev != NULL)
		g->lprev->lnext = g->lnext;
	else
		c->lru_head = g->lnext;
	if (g->lnext != NULL)
		g->lnext->lprev = g->lprev;
	else
		c->lru_tail = g->lprev;
	g->lprev = g->lnext = NULL;
}

static void
lru_push(struct detect_correlator *c, struct group *g)
{
	g->lprev = c->lru_tail;
	g->lnext = NULL;
	if (c->lru_tail != NULL)
		c->lru_tail->lnext = g;
	else
		c->lru_head = g;
	c->lru_tail = g;
}

static void
group_remove(struct detect_correlator *c, struct group *g)
{
	struct group **p = &c->buckets[g->hash & (c->nbuckets - 1)];

	while (*p != g)
		p = &(*p)->hnext;
	*p = g->hnext;
	lru_unlink(c, g);
	c->groups--;
	c->bytes -= g->bytes;
	group_free(g);
}

void
detect_correlator_free(struct detect_correlator *c)
{
	if (c == NULL)
		return;
	while (c->lru_head != NULL)
		group_remove(c, c->lru_head);
	free(c->buckets);
	free(c);
}

void
detect_correlator_stats(const struct detect_correlator *c, struct detect_corr_stats *out)
{
	out->groups = c->groups;
	out->max_groups = c->max_groups;
	out->bytes = c->bytes;
	out->max_bytes = c->max_bytes;
	out->evicted = c->evicted;
}

/* Evicts the least recently updated groups (never keep) until room is left. */
static void
make_room(struct detect_correlator *c, const struct group *keep, size_t more_bytes)
{
	while (c->lru_head != NULL && (c->groups > c->max_groups || c->bytes + more_bytes > c->max_bytes)) {
		struct group *g = c->lru_head;
		if (g == keep) {
			if (g->lnext == NULL)
				return;
			g = g->lnext;
		}
		group_remove(c, g);
		c->evicted++;
	}
}

/* The field of ev that group-by (or value) name means for events of rule r: an alias, else name itself. */
static const char *
field_for(const struct correlation *co, const struct detect_rule *r, const char *name)
{
	size_t i;

	for (i = 0; i < co->naliases; i++)
		if (strcmp(co->aliases[i].alias, name) == 0 && r->name != NULL && strcmp(co->aliases[i].rule, r->name) == 0)
			return co->aliases[i].field;
	return name;
}

/* The group key of ev for correlation co (into c->key, length *klen) and its display text (c->text). */
static void
group_key(struct detect_correlator *c, const struct correlation *co, const struct detect_rule *r,
	  const struct detect_event *ev, size_t *klen)
{
	size_t i, k = 0, t = 0;

	c->text[0] = '\0';
	for (i = 0; i < co->ngroup; i++) {
		const struct detect_field *f = detect_event_field(ev, field_for(co, r, co->group_by[i]));
		size_t n = f != NULL ? f->len : 0;
		if (n > VALUE_TEXT_MAX)
			n = VALUE_TEXT_MAX;
		if (i > 0)
			c->key[k++] = 0x1f;
		if (n > 0)
			memcpy(c->key + k, f->value, n);
		k += n;
		t += (size_t)snprintf(c->text + t, sizeof c->text - t, "%s%s=%.*s", i ? ", " : "", co->group_by[i],
				      (int)(n > 120 ? 120 : n), n > 0 ? f->value : "");
		if (t >= sizeof c->text)
			t = sizeof c->text - 1;
	}
	*klen = k;
}

static struct group *
group_get(struct detect_correlator *c, size_t corr, const struct correlation *co, size_t klen, bool *fresh)
{
	uint64_t h = detect_fnv64(detect_fnv64(DETECT_FNV64_INIT, &corr, sizeof corr), c->key, klen);
	struct group *g;
	size_t tbytes;

	*fresh = false;
	for (g = c->buckets[h & (c->nbuckets - 1)]; g != NULL; g = g->hnext)
		if (g->hash == h && g->corr == corr && g->klen == klen && memcmp(g->key, c->key, klen) == 0) {
			lru_unlink(c, g);
			lru_push(c, g);
			return g;
		}
	tbytes = co->type == CORR_TEMPORAL || co->type == CORR_TEMPORAL_ORDERED ? co->nrefs * sizeof(int64_t) : 0;
	if ((g = calloc(1, sizeof *g)) == NULL || (g->key = malloc(klen + 1)) == NULL ||
	    (tbytes > 0 && (g->t = malloc(tbytes)) == NULL)) {
		if (g != NULL)
			group_free(g);
		return NULL;
	}
	memcpy(g->key, c->key, klen);
	g->key[klen] = '\0';
	g->klen = klen;
	for (size_t i = 0; i < co->nrefs && tbytes > 0; i++)
		g->t[i] = NO_TIME;
	g->hash = h;
	g->corr = corr;
	g->last_ms = NO_TIME;
	g->bytes = sizeof *g + klen + 1 + tbytes;
	g->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = g;
	lru_push(c, g);
	c->groups++;
	c->bytes += g->bytes;
	*fresh = true;
	make_room(c, g, 0);
	return g;
}

/* How many stamps a group of co keeps at most: enough to decide its condition. */
static size_t
stamps_needed(const struct correlation *co)
{
	return co->has_max ? (size_t)co->max + 1 : co->min;
}

/* Drops stamps older than the window ending at now. */
static void
expire(struct group *g, int64_t now, int64_t span)
{
	size_t k = 0, i;

	for (i = 0; i < g->nst; i++)
		if (now - g->st[i].ms <= span)
			g->st[k++] = g->st[i];
	g->nst = k;
}

static int
add_stamp(struct detect_correlator *c, struct group *g, const struct correlation *co, int64_t now, uint64_t vh)
{
	size_t need = stamps_needed(co);

	if (g->nst == g->capst) {
		size_t cap = g->capst ? g->capst * 2 : 4;
		struct stamp *n;
		if (cap > need)
			cap = need;
		if (cap <= g->capst) {
			/* full: the oldest goes (the count stays above what the condition can tell apart) */
			memmove(g->st, g->st + 1, (g->nst - 1) * sizeof *g->st);
			g->nst--;
		} else {
			make_room(c, g, (cap - g->capst) * sizeof *n);
			if ((n = realloc(g->st, cap * sizeof *n)) == NULL)
				return BW_ENOMEM;
			c->bytes += (cap - g->capst) * sizeof *n;
			g->bytes += (cap - g->capst) * sizeof *n;
			g->st = n;
			g->capst = cap;
		}
	}
	g->st[g->nst++] = (struct stamp){ now, vh };
	return 0;
}

static bool
holds(const struct correlation *co, size_t n)
{
	return n >= co->min && (!co->has_max || n <= co->max);
}

static void
reset(struct group *g, const struct correlation *co)
{
	size_t i;

	g->nst = 0;
	for (i = 0; g->t != NULL && i < co->nrefs; i++)
		g->t[i] = NO_TIME;
}

/*
 * Updates group g of correlation co with a match of rule r at now: true
 * when the condition now holds (*count, *first_ms: what it counted, since
 * when).
 */
static bool
update(struct detect_correlator *c, struct group *g, const struct correlation *co, const struct detect_rule *r,
       const struct detect_event *ev, int64_t now, size_t *count, int64_t *first_ms, int *oom)
{
	size_t i, n = 0;
	int64_t first = now;

	switch (co->type) {
	case CORR_EVENT_COUNT:
		expire(g, now, co->timespan_ms);
		if (add_stamp(c, g, co, now, 0) != 0) {
			*oom = 1;
			return false;
		}
		n = g->nst;
		first = g->st[0].ms;
		break;
	case CORR_VALUE_COUNT: {
		const struct detect_field *f = detect_event_field(ev, field_for(co, r, co->field));
		uint64_t vh;
		if (f == NULL || f->len == 0)
			return false;
		vh = detect_fnv64(DETECT_FNV64_INIT, f->value, f->len);
		expire(g, now, co->timespan_ms);
		for (i = 0; i < g->nst && g->st[i].hash != vh; i++)
			;
		if (i < g->nst) {	/* seen: it is now its newest */
			memmove(g->st + i, g->st + i + 1, (g->nst - i - 1) * sizeof *g->st);
			g->nst--;
		}
		if (add_stamp(c, g, co, now, vh) != 0) {
			*oom = 1;
			return false;
		}
		n = g->nst;
		for (i = 0; i < g->nst; i++)
			if (g->st[i].ms < first)
				first = g->st[i].ms;
		break;
	}
	case CORR_TEMPORAL:
		for (i = 0; i < co->nrefs; i++)
			if (co->rules[i] == r)
				g->t[i] = now;
		for (i = 0; i < co->nrefs; i++)
			if (g->t[i] != NO_TIME && now - g->t[i] <= co->timespan_ms) {
				n++;
				if (g->t[i] < first)
					first = g->t[i];
			}
		break;
	case CORR_TEMPORAL_ORDERED:
		/* g->t[i]: when the chain that has now reached rule i began; later rules first, so one event is one step */
		for (i = co->nrefs; i-- > 0;) {
			if (co->rules[i] != r)
				continue;
			if (i == 0)
				g->t[0] = now;
			else if (g->t[i - 1] != NO_TIME && now - g->t[i - 1] <= co->timespan_ms)
				g->t[i] = g->t[i - 1];
		}
		for (i = 0; i < co->nrefs; i++)
			if (g->t[i] != NO_TIME && now - g->t[i] <= co->timespan_ms) {
				n = i + 1;
				first = g->t[i];
			}
		break;
	}
	*count = n;
	*first_ms = first;
	return holds(co, n);
}

static size_t feed(struct detect_correlator *c, const struct detect_rule *r, const struct detect_event *ev,
		   int64_t time_ms, detect_corr_fn fn, void *ctx, int depth, int *oom);

/*
 * A fired correlation as an event for the correlations that chain it: its
 * group-by fields, split out of key (the group's key, a copy: split in place).
 */
static size_t
chain(struct detect_correlator *c, const struct detect_rule *corr, char *key, int64_t time_ms, detect_corr_fn fn,
      void *ctx, int depth, int *oom)
{
	struct detect_field f[CORR_GROUP_BY_MAX];
	const struct correlation *co = corr->corr;
	struct detect_event ev = { f, 0, NULL, 0 };
	char *p = key;
	size_t i;

	for (i = 0; i < co->ngroup; i++) {
		char *end = strchr(p, 0x1f);
		if (end != NULL)
			*end = '\0';
		f[i] = (struct detect_field){ co->group_by[i], p, strlen(p) };
		ev.nfields++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return feed(c, corr, &ev, time_ms, fn, ctx, depth + 1, oom);
}

static size_t
feed(struct detect_correlator *c, const struct detect_rule *r, const struct detect_event *ev, int64_t time_ms,
     detect_corr_fn fn, void *ctx, int depth, int *oom)
{
	size_t u, hits = 0;

	if (depth > 16)
		return 0;
	for (u = 0; u < r->nusers; u++) {
		const struct detect_rule *cr = detect_ruleset_rule(c->rs, r->users[u]);
		const struct correlation *co = cr->corr;
		struct group *g;
		size_t klen, count;
		int64_t first, now;
		bool fresh;

		group_key(c, co, r, ev, &klen);
		if ((g = group_get(c, r->users[u], co, klen, &fresh)) == NULL) {
			*oom = 1;
			continue;
		}
		now = g->last_ms != NO_TIME && g->last_ms > time_ms ? g->last_ms : time_ms;
		g->last_ms = now;
		if (!update(c, g, co, r, ev, now, &count, &first, oom))
			continue;
		{
			struct detect_corr_match m = { cr, c->text, count, first, now };
			/* the chained correlations may evict g: they get a copy of its key */
			char *key = cr->nusers > 0 ? strdup(g->key) : NULL;
			hits++;
			reset(g, co);
			if (fn != NULL)
				fn(ctx, &m);
			if (cr->nusers > 0 && key == NULL)
				*oom = 1;
			else if (key != NULL)
				hits += chain(c, cr, key, now, fn, ctx, depth, oom);
			free(key);
		}
	}
	return hits;
}

size_t
detect_correlator_feed(struct detect_correlator *c, const struct detect_rule *r, const struct detect_event *ev,
		       int64_t time_ms, detect_corr_fn fn, void *ctx)
{
	int oom = 0;

	if (r->nusers == 0)
		return 0;
	return feed(c, r, ev, time_ms, fn, ctx, 0, &oom);
}
