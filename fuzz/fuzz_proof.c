/*
 * Fuzzes the RFC 9162 inclusion and consistency verifiers against a real
 * tree of 300 leaves. Property: a proof is accepted if and only if it is
 * exactly the honest proof (hash collisions aside, nothing else can verify).
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

#define N 300

struct ctx {
	struct bw_sha256 *h;
	struct tlog_memstore *m;
	struct tlog_reader rd;
	struct tlog_hash leaf[N];
	struct tlog_hash root[N + 1];
};

static struct ctx *
setup(void)
{
	static struct ctx c;
	struct tlog_frontier f;
	size_t i;

	if (bw_sha256_new(&c.h, NULL) != 0 || tlog_memstore_new(&c.m, NULL) != 0)
		abort();
	c.rd = tlog_memstore_reader(c.m);
	tlog_frontier_init(&f);
	tlog_frontier_root(&f, c.h, &c.root[0]);
	for (i = 0; i < N; i++) {
		uint8_t d[2] = { (uint8_t)i, (uint8_t)(i >> 8) };
		tlog_hash_leaf(c.h, d, 2, &c.leaf[i]);
		if (tlog_frontier_append(&f, c.h, &c.leaf[i], tlog_memstore_put, c.m, NULL) != 0)
			abort();
		tlog_frontier_root(&f, c.h, &c.root[i + 1]);
	}
	return &c;
}

static int
same(const struct tlog_proof *a, const struct tlog_proof *b)
{
	return a->n == b->n && memcmp(a->h, b->h, a->n * sizeof a->h[0]) == 0;
}

/*
 * Input: u16 a, u16 b, u8 kind, i8 length change, then XOR bytes applied to
 * the honest proof (inclusion of leaf a in tree b, or consistency from a to
 * b). The fuzzer thus explores proofs near the honest one; the verifier
 * must accept exactly the unmodified honest proof.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx *c;
	struct tlog_proof p, honest;
	struct bw_err err = { 0 };
	uint64_t a, b;
	int kind, dlen, r;
	size_t i, total;

	if (c == NULL)
		c = setup();
	if (size < 6)
		return 0;
	a = (uint64_t)(data[0] | data[1] << 8) % (N + 1);
	b = (uint64_t)(data[2] | data[3] << 8) % (N + 1);
	kind = data[4] & 1;
	dlen = (int8_t)data[5] % 4;
	data += 6;
	size -= 6;
	if (kind == 0) {
		if (a >= b)
			return 0;
		if (tlog_prove_inclusion(c->h, &c->rd, a, b, &honest, &err) != 0)
			abort();
	} else {
		if (a == 0 || a > b)
			return 0;
		if (tlog_prove_consistency(c->h, &c->rd, a, b, &honest, &err) != 0)
			abort();
	}
	p = honest;
	if (dlen < 0 && (size_t)-dlen <= p.n)
		p.n -= (size_t)-dlen;
	else if (dlen > 0 && p.n + (size_t)dlen <= TLOG_MAX_PROOF)
		for (i = 0; i < (size_t)dlen; i++)
			memset(&p.h[p.n++], (int)i, 32);
	total = p.n * 32 < size ? p.n * 32 : size;
	for (i = 0; i < total; i++)
		((uint8_t *)p.h)[i] ^= data[i];
	if (kind == 0)
		r = tlog_verify_inclusion(c->h, a, b, &c->leaf[a], &p, &c->root[b], &err);
	else
		r = tlog_verify_consistency(c->h, a, b, &c->root[a], &c->root[b], &p, &err);
	if ((r == 0) != same(&p, &honest))
		abort();	/* accepted a modified proof, or rejected the honest one */
	if (r != 0 && err.msg[0] == '\0')
		abort();
	return 0;
}
