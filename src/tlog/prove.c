/* tlog/prove.c: inclusion and consistency proof generation (RFC 6962 §2.1.1, §2.1.2). */
#include "tlog.h"

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static int
proof_push(struct tlog_proof *p, struct bw_err *err)
{
	if (p->n == TLOG_MAX_PROOF)
		return bw_err_set(err, BW_ERANGE, "proof longer than %d hashes", TLOG_MAX_PROOF);
	p->n++;
	return 0;
}

/* PATH(m, D[lo:hi]) appended to out. */
static int
inclusion_path(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t m, uint64_t lo,
	       uint64_t hi, struct tlog_proof *out, struct bw_err *err)
{
	uint64_t k;
	int r;

	if (hi - lo == 1)
		return 0;
	k = split_point(hi - lo);
	if (m < lo + k) {
		if ((r = inclusion_path(h, rd, m, lo, lo + k, out, err)) != 0 ||
		    (r = proof_push(out, err)) != 0)
			return r;
		return tlog_range_hash(h, rd, lo + k, hi, &out->h[out->n - 1], err);
	}
	if ((r = inclusion_path(h, rd, m, lo + k, hi, out, err)) != 0 ||
	    (r = proof_push(out, err)) != 0)
		return r;
	return tlog_range_hash(h, rd, lo, lo + k, &out->h[out->n - 1], err);
}

int
tlog_prove_inclusion(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t index,
		     uint64_t size, struct tlog_proof *out, struct bw_err *err)
{
	out->n = 0;
	if (size > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_ERANGE, "tree size %llu too large", (unsigned long long)size);
	if (index >= size)
		return bw_err_set(err, BW_EINVAL, "index %llu is not below tree size %llu",
				  (unsigned long long)index, (unsigned long long)size);
	return inclusion_path(h, rd, index, 0, size, out, err);
}

/* SUBPROOF(m, D[lo:hi], b) appended to out; m counts leaves from lo. */
static int
subproof(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t m, uint64_t lo, uint64_t hi,
	 bool b, struct tlog_proof *out, struct bw_err *err)
{
	uint64_t n = hi - lo, k;
	int r;

	if (m == n) {
		if (b)
			return 0;
		if ((r = proof_push(out, err)) != 0)
			return r;
		return tlog_range_hash(h, rd, lo, hi, &out->h[out->n - 1], err);
	}
	k = split_point(n);
	if (m <= k) {
		if ((r = subproof(h, rd, m, lo, lo + k, b, out, err)) != 0 ||
		    (r = proof_push(out, err)) != 0)
			return r;
		return tlog_range_hash(h, rd, lo + k, hi, &out->h[out->n - 1], err);
	}
	if ((r = subproof(h, rd, m - k, lo + k, hi, false, out, err)) != 0 ||
	    (r = proof_push(out, err)) != 0)
		return r;
	return tlog_range_hash(h, rd, lo, lo + k, &out->h[out->n - 1], err);
}

int
tlog_prove_consistency(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t old,
		       uint64_t size, struct tlog_proof *out, struct bw_err *err)
{
	out->n = 0;
	if (size > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_ERANGE, "tree size %llu too large", (unsigned long long)size);
	if (old == 0 || old > size)
		return bw_err_set(err, BW_EINVAL, "consistency proof needs 0 < old (%llu) <= new (%llu)",
				  (unsigned long long)old, (unsigned long long)size);
	return subproof(h, rd, old, 0, size, true, out, err);
}
