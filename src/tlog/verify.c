/* tlog/verify.c: proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2. */
#include "tlog.h"

int
tlog_verify_inclusion(struct bw_sha256 *h, uint64_t index, uint64_t size,
		      const struct tlog_hash *leaf, const struct tlog_proof *proof,
		      const struct tlog_hash *root, struct bw_err *err)
{
	struct tlog_hash r = *leaf;
	uint64_t fn, sn;
	size_t i;

	if (index >= size)
		return bw_err_set(err, BW_EVERIFY, "inclusion proof: index %llu is not below size %llu",
				  (unsigned long long)index, (unsigned long long)size);
	if (proof->n > TLOG_MAX_PROOF)
		return bw_err_set(err, BW_EVERIFY, "inclusion proof: too many hashes");
	fn = index;
	sn = size - 1;
	for (i = 0; i < proof->n; i++) {
		const struct tlog_hash *p = &proof->h[i];
		if (sn == 0)
			return bw_err_set(err, BW_EVERIFY,
					  "inclusion proof: too long (%zu hashes, hash %zu is extra)",
					  proof->n, i + 1);
		if ((fn & 1) || fn == sn) {
			tlog_hash_node(h, p, &r, &r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			tlog_hash_node(h, &r, p, &r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return bw_err_set(err, BW_EVERIFY, "inclusion proof: too short (%zu hashes)", proof->n);
	if (bw_sha256_failed(h))
		return bw_err_set(err, BW_ECRYPTO, "inclusion proof: SHA-256 failed");
	if (!tlog_hash_equal(&r, root))
		return bw_err_set(err, BW_EVERIFY, "inclusion proof: computed root does not match");
	return 0;
}

int
tlog_verify_consistency(struct bw_sha256 *h, uint64_t old, uint64_t size,
			const struct tlog_hash *old_root, const struct tlog_hash *root,
			const struct tlog_proof *proof, struct bw_err *err)
{
	struct tlog_hash fr, sr;
	uint64_t fn, sn;
	size_t i = 0, n = proof->n;
	const struct tlog_hash *path = proof->h;

	if (old > size)
		return bw_err_set(err, BW_EVERIFY, "consistency proof: old size %llu > new size %llu",
				  (unsigned long long)old, (unsigned long long)size);
	if (n > TLOG_MAX_PROOF)
		return bw_err_set(err, BW_EVERIFY, "consistency proof: too many hashes");
	if (old == size) {
		if (n != 0)
			return bw_err_set(err, BW_EVERIFY, "consistency proof: must be empty for equal sizes");
		if (!tlog_hash_equal(old_root, root))
			return bw_err_set(err, BW_EVERIFY,
					  "consistency proof: same size %llu but different roots (fork)",
					  (unsigned long long)size);
		return 0;
	}
	if (old == 0) {
		if (n != 0)
			return bw_err_set(err, BW_EVERIFY, "consistency proof: must be empty from size 0");
		return 0;
	}
	/* 1. */
	if (n == 0)
		return bw_err_set(err, BW_EVERIFY, "consistency proof: empty");
	/* 2. first is an exact power of two: the path implicitly starts with first_hash. */
	bool pow2 = (old & (old - 1)) == 0;
	/* 3., 4. */
	fn = old - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	if (pow2) {
		fr = sr = *old_root;
	} else {
		fr = sr = path[0];
		i = 1;
	}
	/* 6. */
	for (; i < n; i++) {
		const struct tlog_hash *c = &path[i];
		if (sn == 0)
			return bw_err_set(err, BW_EVERIFY, "consistency proof: too long (%zu hashes)", n);
		if ((fn & 1) || fn == sn) {
			tlog_hash_node(h, c, &fr, &fr);
			tlog_hash_node(h, c, &sr, &sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			tlog_hash_node(h, &sr, c, &sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (sn != 0)
		return bw_err_set(err, BW_EVERIFY, "consistency proof: too short (%zu hashes)", n);
	if (bw_sha256_failed(h))
		return bw_err_set(err, BW_ECRYPTO, "consistency proof: SHA-256 failed");
	if (!tlog_hash_equal(&fr, old_root))
		return bw_err_set(err, BW_EVERIFY, "consistency proof: does not match the old root");
	if (!tlog_hash_equal(&sr, root))
		return bw_err_set(err, BW_EVERIFY, "consistency proof: does not match the new root");
	return 0;
}
