/* tlog/hash.c: RFC 6962 leaf, node and range hashes. */
#include <string.h>

#include "tlog.h"

void
tlog_hash_leaf(struct bw_sha256 *h, const void *data, size_t len, struct tlog_hash *out)
{
	static const uint8_t prefix = 0x00;

	bw_sha256_init(h);
	bw_sha256_update(h, &prefix, 1);
	bw_sha256_update(h, data, len);
	bw_sha256_final(h, out->b);
}

void
tlog_hash_node(struct bw_sha256 *h, const struct tlog_hash *l, const struct tlog_hash *r,
	       struct tlog_hash *out)
{
	uint8_t buf[1 + 2 * TLOG_HASH_SIZE];

	buf[0] = 0x01;
	memcpy(buf + 1, l->b, TLOG_HASH_SIZE);
	memcpy(buf + 1 + TLOG_HASH_SIZE, r->b, TLOG_HASH_SIZE);
	bw_sha256_digest(h, buf, sizeof buf, out->b);
}

void
tlog_hash_empty(struct bw_sha256 *h, struct tlog_hash *out)
{
	bw_sha256_digest(h, "", 0, out->b);
}

bool
tlog_hash_equal(const struct tlog_hash *a, const struct tlog_hash *b)
{
	return bw_memcmp_ct(a->b, b->b, TLOG_HASH_SIZE) == 0;
}

/* Number of trailing zero bits of x (64 for 0). */
static unsigned
ctz64(uint64_t x)
{
	return x == 0 ? 64 : (unsigned)__builtin_ctzll(x);
}

/* floor(log2(x)) for x > 0. */
static unsigned
log2_floor(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

/*
 * Splits [lo, hi) into complete subtrees, left to right, each the largest
 * aligned block that fits. Returns how many (at most 64*2), or 0 when the
 * range is not a subtree range (block sizes must shrink left to right).
 */
static size_t
range_nodes(uint64_t lo, uint64_t hi, struct tlog_node *nodes)
{
	size_t n = 0;
	unsigned prev = 64;

	while (lo < hi) {
		unsigned l = log2_floor(hi - lo);
		unsigned a = ctz64(lo);
		if (a < l)
			l = a;
		if (l >= prev)
			return 0;
		prev = l;
		nodes[n].level = (uint8_t)l;
		nodes[n].index = lo >> l;
		n++;
		lo += (uint64_t)1 << l;
	}
	return n;
}

int
tlog_range_hash(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t lo, uint64_t hi,
		struct tlog_hash *out, struct bw_err *err)
{
	struct tlog_node nodes[TLOG_MAX_LEVEL + 1];
	struct tlog_hash hashes[TLOG_MAX_LEVEL + 1];
	size_t n, i;
	int r;

	if (lo >= hi || hi > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_EINVAL, "bad hash range [%llu, %llu)",
				  (unsigned long long)lo, (unsigned long long)hi);
	if ((n = range_nodes(lo, hi, nodes)) == 0)
		return bw_err_set(err, BW_EINVAL, "range [%llu, %llu) is not a subtree",
				  (unsigned long long)lo, (unsigned long long)hi);
	if ((r = rd->read(rd->ctx, nodes, n, hashes, err)) != 0)
		return r;
	*out = hashes[n - 1];
	for (i = n - 1; i-- > 0;)
		tlog_hash_node(h, &hashes[i], out, out);
	return 0;
}

int
tlog_tree_hash(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t size,
	       struct tlog_hash *out, struct bw_err *err)
{
	if (size == 0) {
		tlog_hash_empty(h, out);
		return 0;
	}
	return tlog_range_hash(h, rd, 0, size, out, err);
}
