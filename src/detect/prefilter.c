/*
 * detect/prefilter.c: which rules of a log source an event can match at
 * all, found with one hash probe instead of evaluating every rule. From
 * each rule's condition comes a guard, a test every match passes: a field
 * equal to one of some literals (type: EXECVE), a path whose last
 * component is one of some names (Image|endswith: '/nc'), or a value that
 * contains one of some literals, keyed by their first three bytes and
 * probed with every three-byte window of the event's value
 * (CommandLine|contains). Rules are indexed by those keys; rules without a
 * guard are always evaluated.
 * The guard is only ever a necessary condition: the full expression still
 * decides.
 */
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define GUARD_KEYS_MAX 64
#define GUARD_KEY_MAX 255
#define TABLES_MAX 4

/* a field equal to a literal; a path whose last component is one; a value containing a literal's first 3 bytes */
enum guard_mode { G_EXACT, G_BASENAME, G_TRIGRAM };
#define TRIGRAM 3

struct guard {
	const char *field;
	enum guard_mode mode;
	const uint8_t *keys[GUARD_KEYS_MAX];
	size_t klen[GUARD_KEYS_MAX];
	size_t n;
};

struct pf_entry {
	const uint8_t *key;
	size_t klen;
	uint32_t hash;
	size_t *rules;		/* ascending */
	size_t n, cap;
};

struct pf_table {
	const char *field;
	uint32_t fhash;
	enum guard_mode mode;
	struct pf_entry *e;
	size_t ne, cape;
	int32_t *slot;		/* open addressing: entry index or -1 */
	uint32_t mask;
	size_t nrules;		/* rules indexed here */
};

struct prefilter {
	struct pf_table t[TABLES_MAX];
	size_t nt;
	size_t *always;		/* rules without a guard (ascending) */
	size_t nalways;
};

static uint32_t
key_hash(const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* g as a containment guard: each key's first 3 bytes (false when a key is shorter). */
static bool
to_trigram(struct guard *g)
{
	size_t i;

	if (g->mode == G_TRIGRAM)
		return true;
	for (i = 0; i < g->n; i++)
		if (g->klen[i] < TRIGRAM)
			return false;
	for (i = 0; i < g->n; i++)
		g->klen[i] = TRIGRAM;
	g->mode = G_TRIGRAM;
	return true;
}

/* A field leaf whose every value is an exact literal, or a suffix "/name" (a path's last component). */
static bool
leaf_guard(const struct expr *e, struct guard *g)
{
	size_t i;

	if (e->nm == 0 || e->nm > GUARD_KEYS_MAX || (e->all && e->nm > 1))
		return false;
	g->field = e->field;
	g->n = 0;
	for (i = 0; i < e->nm; i++) {
		const struct matcher *m = &e->m[i];
		enum guard_mode mode;
		const uint8_t *k;
		size_t kl;

		if (m->op != M_GLOB || m->cased)
			return false;
		if (m->shape == SHAPE_EXACT) {
			mode = G_EXACT;
			k = m->lit;
			kl = m->llen;
		} else if (m->shape == SHAPE_SUFFIX && m->llen > 1 && m->lit[0] == '/' && m->lit[m->llen - 1] != '/') {
			const uint8_t *slash = m->lit + m->llen;
			while (slash[-1] != '/')
				slash--;
			mode = G_BASENAME;
			k = slash;
			kl = (size_t)(m->lit + m->llen - slash);
		} else if ((m->shape == SHAPE_CONTAINS || m->shape == SHAPE_PREFIX || m->shape == SHAPE_SUFFIX) &&
			   m->llen >= TRIGRAM) {
			mode = G_TRIGRAM;
			k = m->lit;
			kl = TRIGRAM;
		} else {
			return false;
		}
		if (i > 0 && mode != g->mode) {
			/* mixed shapes: every literal is at least contained in the value */
			if (!to_trigram(g))
				return false;
			if (mode != G_TRIGRAM) {
				if (kl < TRIGRAM)
					return false;
				kl = TRIGRAM;
			}
			mode = G_TRIGRAM;
		}
		if (kl > GUARD_KEY_MAX)
			return false;
		g->mode = mode;
		g->keys[g->n] = k;
		g->klen[g->n++] = kl;
	}
	return true;
}

/* Prefers exact literals to names, then fewer of them. */
static bool
better(const struct guard *a, const struct guard *b)
{
	if (a->mode != b->mode)
		return a->mode < b->mode;
	return a->n < b->n;
}

static bool
guard_of(const struct expr *e, struct guard *g, int depth)
{
	struct guard tmp;
	size_t i, k;
	bool found = false;

	if (depth > 64)
		return false;
	switch (e->kind) {
	case E_REF:
		return guard_of(e->kids[0], g, depth + 1);
	case E_FIELD:
		return leaf_guard(e, g);
	case E_AND:
		for (i = 0; i < e->n; i++)
			if (guard_of(e->kids[i], &tmp, depth + 1) && (!found || better(&tmp, g))) {
				*g = tmp;
				found = true;
			}
		return found;
	case E_OR:
		/* every branch guarded on the same field, the same way: the union */
		for (i = 0; i < e->n; i++) {
			if (!guard_of(e->kids[i], &tmp, depth + 1))
				return false;
			if (i == 0) {
				*g = tmp;
				continue;
			}
			if (strcmp(tmp.field, g->field) != 0 || g->n + tmp.n > GUARD_KEYS_MAX)
				return false;
			if (tmp.mode != g->mode && (!to_trigram(g) || !to_trigram(&tmp)))
				return false;
			for (k = 0; k < tmp.n; k++) {
				g->keys[g->n] = tmp.keys[k];
				g->klen[g->n++] = tmp.klen[k];
			}
		}
		return e->n > 0;
	default:
		return false;
	}
}

static struct pf_entry *
entry_find(const struct pf_table *t, const uint8_t *k, size_t n, uint32_t h)
{
	uint32_t s;

	if (t->slot == NULL)
		return NULL;
	for (s = h & t->mask; t->slot[s] >= 0; s = (s + 1) & t->mask) {
		struct pf_entry *e = &t->e[t->slot[s]];
		if (e->hash == h && e->klen == n && memcmp(e->key, k, n) == 0)
			return e;
	}
	return NULL;
}

static int
rehash(struct pf_table *t)
{
	uint32_t cap = 16, s;
	size_t i;

	while (cap < t->ne * 2 + 2)
		cap *= 2;
	free(t->slot);
	if ((t->slot = malloc(cap * sizeof *t->slot)) == NULL)
		return BW_ENOMEM;
	t->mask = cap - 1;
	for (s = 0; s < cap; s++)
		t->slot[s] = -1;
	for (i = 0; i < t->ne; i++) {
		for (s = t->e[i].hash & t->mask; t->slot[s] >= 0; s = (s + 1) & t->mask)
			;
		t->slot[s] = (int32_t)i;
	}
	return 0;
}

static int
push_index(size_t **v, size_t *n, size_t *cap, size_t x)
{
	if (*n > 0 && (*v)[*n - 1] == x)
		return 0;	/* the same rule under one key twice */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		size_t *nv = realloc(*v, nc * sizeof *nv);
		if (nv == NULL)
			return BW_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int
table_add(struct pf_table *t, const struct guard *g, size_t rule)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		uint32_t h = key_hash(g->keys[i], g->klen[i]);
		struct pf_entry *e = entry_find(t, g->keys[i], g->klen[i], h);
		if (e == NULL) {
			if (t->ne == t->cape) {
				size_t nc = t->cape ? t->cape * 2 : 16;
				struct pf_entry *ne = realloc(t->e, nc * sizeof *ne);
				if (ne == NULL)
					return BW_ENOMEM;
				t->e = ne;
				t->cape = nc;
			}
			e = &t->e[t->ne++];
			memset(e, 0, sizeof *e);
			e->key = g->keys[i];
			e->klen = g->klen[i];
			e->hash = h;
			if (rehash(t) != 0)
				return BW_ENOMEM;
		}
		if (push_index(&e->rules, &e->n, &e->cap, rule) != 0)
			return BW_ENOMEM;
	}
	t->nrules++;
	return 0;
}

void
prefilter_free(struct prefilter *pf)
{
	size_t i, k;

	if (pf == NULL)
		return;
	for (i = 0; i < pf->nt; i++) {
		for (k = 0; k < pf->t[i].ne; k++)
			free(pf->t[i].e[k].rules);
		free(pf->t[i].e);
		free(pf->t[i].slot);
	}
	free(pf->always);
	free(pf);
}

int
prefilter_build(struct detect_rule *const *rules, const size_t *idx, size_t n, struct prefilter **out)
{
	struct prefilter *pf = calloc(1, sizeof *pf);
	struct guard *g = NULL;
	size_t i, k, cap_always = 0;
	bool *has = NULL;

	*out = NULL;
	if (pf == NULL || (n > 0 && ((g = malloc(n * sizeof *g)) == NULL || (has = calloc(n, sizeof *has)) == NULL)))
		goto oom;
	for (i = 0; i < n; i++)
		has[i] = rules[idx[i]]->cond != NULL && guard_of(rules[idx[i]]->cond, &g[i], 0);
	for (i = 0; i < n; i++) {
		struct pf_table *t = NULL;
		if (has[i]) {
			for (k = 0; k < pf->nt; k++)
				if (pf->t[k].mode == g[i].mode && strcmp(pf->t[k].field, g[i].field) == 0)
					t = &pf->t[k];
			if (t == NULL && pf->nt < TABLES_MAX) {
				t = &pf->t[pf->nt++];
				t->field = g[i].field;
				t->fhash = field_hash(g[i].field);
				t->mode = g[i].mode;
			}
		}
		if (t != NULL) {
			if (table_add(t, &g[i], idx[i]) != 0)
				goto oom;
		} else if (push_index(&pf->always, &pf->nalways, &cap_always, idx[i]) != 0) {
			goto oom;
		}
	}
	free(g);
	free(has);
	*out = pf;
	return 0;
oom:
	free(g);
	free(has);
	prefilter_free(pf);
	return BW_ENOMEM;
}

/* The key of value for mode (lower-cased into buf): its length, or SIZE_MAX when no key can equal it. */
static size_t
event_key(enum guard_mode mode, const char *value, size_t len, uint8_t *buf)
{
	size_t i, start = 0;

	if (mode == G_BASENAME) {
		for (i = len; i > 0; i--)
			if (value[i - 1] == '/') {
				start = i;
				break;
			}
		if (i == 0)
			return SIZE_MAX;	/* no '/': "endswith /name" cannot hold */
	}
	if (len - start > GUARD_KEY_MAX)
		return SIZE_MAX;
	for (i = start; i < len; i++) {
		uint8_t c = (uint8_t)value[i];
		buf[i - start] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	return len - start;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

size_t
prefilter_candidates(const struct prefilter *pf, const struct ev_index *x, size_t *buf, size_t cap)
{
	const struct detect_field *f = x->ev->fields;
	size_t n = 0, i, k;
	uint8_t key[GUARD_KEY_MAX + 1];
	bool merged = false;

#define CAND_PUSH(v)                     \
	do {                             \
		if (n == cap)            \
			return SIZE_MAX; \
		buf[n++] = (v);          \
	} while (0)

	for (i = 0; i < pf->nalways; i++)
		CAND_PUSH(pf->always[i]);
	for (k = 0; k < pf->nt; k++) {
		const struct pf_table *t = &pf->t[k];
		int32_t first = ev_index_find(x, t->field, t->fhash);
		if (first < 0)
			continue;
		if (ev_index_next(x, first) >= 0) {
			/* the field occurs more than once (an array): every rule of this table */
			size_t e;
			for (e = 0; e < t->ne; e++)
				for (i = 0; i < t->e[e].n; i++)
					CAND_PUSH(t->e[e].rules[i]);
		} else if (t->mode == G_TRIGRAM) {
			const char *v = f[first].value;
			size_t len = f[first].len, p;
			uint8_t tri[TRIGRAM];
			if (len > 4096) {
				/* a long value: every rule of this table rather than thousands of probes */
				size_t e;
				for (e = 0; e < t->ne; e++)
					for (i = 0; i < t->e[e].n; i++)
						CAND_PUSH(t->e[e].rules[i]);
			} else {
				for (p = 0; p + TRIGRAM <= len; p++) {
					const struct pf_entry *e;
					size_t j;
					for (j = 0; j < TRIGRAM; j++) {
						uint8_t c = (uint8_t)v[p + j];
						tri[j] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
					}
					if ((e = entry_find(t, tri, TRIGRAM, key_hash(tri, TRIGRAM))) != NULL)
						for (i = 0; i < e->n; i++)
							CAND_PUSH(e->rules[i]);
				}
			}
		} else {
			size_t kl = event_key(t->mode, f[first].value, f[first].len, key);
			const struct pf_entry *e;
			if (kl == SIZE_MAX || (e = entry_find(t, key, kl, key_hash(key, kl))) == NULL)
				continue;
			for (i = 0; i < e->n; i++)
				CAND_PUSH(e->rules[i]);
		}
		merged = true;
	}
#undef CAND_PUSH
	if (merged && n > 1) {
		/* the set's own order (rule-file order), each rule once; a few dozen sort fastest in place */
		if (n <= 64)
			for (i = 1; i < n; i++) {
				size_t v = buf[i], j = i;
				for (; j > 0 && buf[j - 1] > v; j--)
					buf[j] = buf[j - 1];
				buf[j] = v;
			}
		else
			qsort(buf, n, sizeof *buf, cmp_size);
		for (i = 1, k = 1; i < n; i++)
			if (buf[i] != buf[k - 1])
				buf[k++] = buf[i];
		n = k;
	}
	return n;
}

void
prefilter_stats(const struct prefilter *pf, size_t *indexed, size_t *always)
{
	size_t k;

	*indexed = 0;
	for (k = 0; k < pf->nt; k++)
		*indexed += pf->t[k].nrules;
	*always = pf->nalways;
}
