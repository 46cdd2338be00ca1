/* tlog/memstore.c: stored hashes kept in memory, one growable array per level. */
#include <stdlib.h>

#include "tlog.h"

struct tlog_memstore {
	struct tlog_hash *lv[TLOG_MAX_LEVEL + 1];
	uint64_t len[TLOG_MAX_LEVEL + 1];
	uint64_t cap[TLOG_MAX_LEVEL + 1];
};

int
tlog_memstore_new(struct tlog_memstore **out, struct bw_err *err)
{
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

void
tlog_memstore_free(struct tlog_memstore *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i <= TLOG_MAX_LEVEL; i++)
		free(m->lv[i]);
	free(m);
}

int
tlog_memstore_put(void *ctx, const struct tlog_node *node, const struct tlog_hash *hash,
		  struct bw_err *err)
{
	struct tlog_memstore *m = ctx;
	unsigned l = node->level;

	if (l > TLOG_MAX_LEVEL || node->index != m->len[l])
		return bw_err_set(err, BW_EINVAL, "memstore: node (%u, %llu) out of order", l,
				  (unsigned long long)node->index);
	if (m->len[l] == m->cap[l]) {
		uint64_t cap = m->cap[l] ? m->cap[l] * 2 : 256;
		struct tlog_hash *p = realloc(m->lv[l], cap * sizeof *p);
		if (p == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		m->lv[l] = p;
		m->cap[l] = cap;
	}
	m->lv[l][m->len[l]++] = *hash;
	return 0;
}

static int
memstore_read(void *ctx, const struct tlog_node *nodes, size_t n, struct tlog_hash *out,
	      struct bw_err *err)
{
	struct tlog_memstore *m = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned l = nodes[i].level;
		if (l > TLOG_MAX_LEVEL || nodes[i].index >= m->len[l])
			return bw_err_set(err, BW_ENOTFOUND, "no stored hash at level %u index %llu", l,
					  (unsigned long long)nodes[i].index);
		out[i] = m->lv[l][nodes[i].index];
	}
	return 0;
}

struct tlog_reader
tlog_memstore_reader(struct tlog_memstore *m)
{
	struct tlog_reader rd = { memstore_read, m };
	return rd;
}
