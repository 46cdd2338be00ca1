/* tlog/frontier.c: the incremental tree (right-edge frontier / compact range). */
#include <string.h>

#include "tlog.h"

void
tlog_frontier_init(struct tlog_frontier *f)
{
	memset(f, 0, sizeof *f);
}

int
tlog_frontier_append(struct tlog_frontier *f, struct bw_sha256 *h, const struct tlog_hash *leaf,
		     tlog_node_cb cb, void *cb_ctx, struct bw_err *err)
{
	uint64_t s = f->size;
	struct tlog_node node = { 0, s };
	unsigned level;
	int r;

	if (s >= (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_ERANGE, "tree is full");
	f->h[f->n++] = *leaf;
	if (cb != NULL && (r = cb(cb_ctx, &node, leaf, err)) != 0)
		return r;
	/* Each trailing one bit of the old size closes a subtree one level up. */
	for (level = 1; s & 1; level++, s >>= 1) {
		tlog_hash_node(h, &f->h[f->n - 2], &f->h[f->n - 1], &f->h[f->n - 2]);
		f->n--;
		node.level = (uint8_t)level;
		node.index = f->size >> level;
		if (cb != NULL && (r = cb(cb_ctx, &node, &f->h[f->n - 1], err)) != 0) {
			f->size++;	/* the frontier itself is consistent; report the error */
			return r;
		}
	}
	f->size++;
	return 0;
}

void
tlog_frontier_root(const struct tlog_frontier *f, struct bw_sha256 *h, struct tlog_hash *out)
{
	size_t i;

	if (f->n == 0) {
		tlog_hash_empty(h, out);
		return;
	}
	*out = f->h[f->n - 1];
	for (i = f->n - 1; i-- > 0;)
		tlog_hash_node(h, &f->h[i], out, out);
}

int
tlog_frontier_load(struct tlog_frontier *f, const struct tlog_reader *rd, uint64_t size,
		   struct bw_err *err)
{
	struct tlog_node nodes[TLOG_MAX_LEVEL + 1];
	uint64_t start = 0;
	size_t n = 0;
	int level, r;

	if (size > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_ERANGE, "tree size too large");
	tlog_frontier_init(f);
	for (level = TLOG_MAX_LEVEL; level >= 0; level--) {
		if (!(size >> level & 1))
			continue;
		nodes[n].level = (uint8_t)level;
		nodes[n].index = start >> level;
		start += (uint64_t)1 << level;
		n++;
	}
	if (n > 0 && (r = rd->read(rd->ctx, nodes, n, f->h, err)) != 0) {
		tlog_frontier_init(f);
		return r;
	}
	f->n = n;
	f->size = size;
	return 0;
}
