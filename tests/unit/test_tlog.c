/*
 * tlog tree tests: RFC 6962 reference roots for sizes 0..8, the RFC 6962
 * 7-leaf proof examples, every inclusion and consistency proof for every
 * tree size 1..300 generated and verified, and every proof tampered with
 * (byte flipped, hash dropped, hash added, wrong size/index) rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tlog/tlog.h"

/* The CT/Trillian reference leaves (integrity-anchors §1.4). */
static const char *ref_leaves_hex[] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *ref_roots_hex[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct fixture {
	struct bw_sha256 *h;
	struct tlog_memstore *m;
	struct tlog_reader rd;
	struct tlog_frontier f;
	struct tlog_hash leaves[512];
	struct tlog_hash roots[512];	/* roots[n] = root of the first n leaves */
};

static struct tlog_hash
hex_hash(const char *hex)
{
	struct tlog_hash h;
	assert_int_equal(bw_hex_decode(hex, strlen(hex), h.b, sizeof h.b), 0);
	return h;
}

/* Builds a tree of n leaves "leaf <i>" and records every intermediate root. */
static void
fixture_build(struct fixture *fx, size_t n)
{
	struct bw_err err = { 0 };
	size_t i;

	assert_true(n < 512);
	tlog_frontier_init(&fx->f);
	tlog_frontier_root(&fx->f, fx->h, &fx->roots[0]);
	for (i = 0; i < n; i++) {
		char buf[32];
		int len = snprintf(buf, sizeof buf, "leaf %zu", i);
		tlog_hash_leaf(fx->h, buf, (size_t)len, &fx->leaves[i]);
		assert_int_equal(tlog_frontier_append(&fx->f, fx->h, &fx->leaves[i], tlog_memstore_put,
						      fx->m, &err), 0);
		tlog_frontier_root(&fx->f, fx->h, &fx->roots[i + 1]);
	}
}

static int
setup(void **state)
{
	static struct fixture fx;
	struct bw_err err = { 0 };

	memset(&fx, 0, sizeof fx);
	assert_int_equal(bw_sha256_new(&fx.h, &err), 0);
	assert_int_equal(tlog_memstore_new(&fx.m, &err), 0);
	fx.rd = tlog_memstore_reader(fx.m);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	bw_sha256_free(fx->h);
	tlog_memstore_free(fx->m);
	return 0;
}

static void
test_reference_roots(void **state)
{
	struct fixture *fx = *state;
	struct tlog_hash leaf, root, want;
	struct bw_err err = { 0 };
	size_t i;

	tlog_frontier_init(&fx->f);
	tlog_frontier_root(&fx->f, fx->h, &root);
	want = hex_hash(ref_roots_hex[0]);
	assert_true(tlog_hash_equal(&root, &want));
	assert_int_equal(tlog_tree_hash(fx->h, &fx->rd, 0, &root, &err), 0);
	assert_true(tlog_hash_equal(&root, &want));
	for (i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t len = strlen(ref_leaves_hex[i]) / 2;
		assert_int_equal(bw_hex_decode(ref_leaves_hex[i], 2 * len, data, len), 0);
		tlog_hash_leaf(fx->h, data, len, &leaf);
		assert_int_equal(tlog_frontier_append(&fx->f, fx->h, &leaf, tlog_memstore_put, fx->m,
						      &err), 0);
		want = hex_hash(ref_roots_hex[i + 1]);
		tlog_frontier_root(&fx->f, fx->h, &root);
		assert_true(tlog_hash_equal(&root, &want));
		/* The same root from stored hashes. */
		assert_int_equal(tlog_tree_hash(fx->h, &fx->rd, i + 1, &root, &err), 0);
		assert_true(tlog_hash_equal(&root, &want));
	}
	assert_false(bw_sha256_failed(fx->h));
}

/* RFC 6962 §2.1.3 example tree of 7 leaves (d0..d6 = the reference leaves). */
static void
test_rfc6962_seven_leaf_examples(void **state)
{
	struct fixture *fx = *state;
	struct tlog_hash a, b, c, d, e, f, j, g, h, i, k, l;
	struct tlog_hash lv[7];
	struct tlog_proof p;
	struct bw_err err = { 0 };
	size_t n;

	tlog_frontier_init(&fx->f);
	for (n = 0; n < 7; n++) {
		uint8_t data[16];
		size_t len = strlen(ref_leaves_hex[n]) / 2;
		assert_int_equal(bw_hex_decode(ref_leaves_hex[n], 2 * len, data, len), 0);
		tlog_hash_leaf(fx->h, data, len, &lv[n]);
		assert_int_equal(tlog_frontier_append(&fx->f, fx->h, &lv[n], tlog_memstore_put, fx->m,
						      &err), 0);
	}
	a = lv[0]; b = lv[1]; c = lv[2]; d = lv[3]; e = lv[4]; f = lv[5]; j = lv[6];
	tlog_hash_node(fx->h, &a, &b, &g);
	tlog_hash_node(fx->h, &c, &d, &h);
	tlog_hash_node(fx->h, &e, &f, &i);
	tlog_hash_node(fx->h, &g, &h, &k);
	tlog_hash_node(fx->h, &i, &j, &l);

#define EXPECT_PROOF(p, ...)                                                        \
	do {                                                                        \
		const struct tlog_hash *want_[] = { __VA_ARGS__ };                  \
		size_t n_ = sizeof want_ / sizeof want_[0], x_;                     \
		assert_int_equal((p).n, n_);                                        \
		for (x_ = 0; x_ < n_; x_++)                                         \
			assert_true(tlog_hash_equal(&(p).h[x_], want_[x_]));        \
	} while (0)

	/* Audit paths: d0 -> [b, h, l], d3 -> [c, g, l], d4 -> [f, j, k], d6 -> [i, k]. */
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 0, 7, &p, &err), 0);
	EXPECT_PROOF(p, &b, &h, &l);
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 3, 7, &p, &err), 0);
	EXPECT_PROOF(p, &c, &g, &l);
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 4, 7, &p, &err), 0);
	EXPECT_PROOF(p, &f, &j, &k);
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 6, 7, &p, &err), 0);
	EXPECT_PROOF(p, &i, &k);
	/* Consistency: PROOF(3) = [c, d, g, l], PROOF(4) = [l], PROOF(6) = [i, j, k]. */
	assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, 3, 7, &p, &err), 0);
	EXPECT_PROOF(p, &c, &d, &g, &l);
	assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, 4, 7, &p, &err), 0);
	EXPECT_PROOF(p, &l);
	assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, 6, 7, &p, &err), 0);
	EXPECT_PROOF(p, &i, &j, &k);
}

/* Every way of breaking a valid inclusion proof must be rejected. */
static void
check_inclusion_tampering(struct fixture *fx, uint64_t idx, uint64_t size,
			  const struct tlog_proof *good)
{
	struct tlog_proof p;
	struct bw_err err = { 0 };
	const struct tlog_hash *leaf = &fx->leaves[idx], *root = &fx->roots[size];
	size_t i, byte;

	for (i = 0; i < good->n; i++)
		for (byte = 0; byte < TLOG_HASH_SIZE; byte += 31) {
			p = *good;
			p.h[i].b[byte] ^= 0x01;
			assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, leaf, &p, root, &err),
					 BW_EVERIFY);
		}
	for (i = 0; i < good->n; i++) {	/* drop hash i */
		p = *good;
		memmove(&p.h[i], &p.h[i + 1], (p.n - i - 1) * sizeof p.h[0]);
		p.n--;
		assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, leaf, &p, root, &err), BW_EVERIFY);
	}
	p = *good;	/* add a hash at the end and at the start */
	p.h[p.n++] = fx->leaves[0];
	assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, leaf, &p, root, &err), BW_EVERIFY);
	p = *good;
	memmove(&p.h[1], &p.h[0], p.n * sizeof p.h[0]);
	p.h[0] = fx->leaves[0];
	p.n++;
	assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, leaf, &p, root, &err), BW_EVERIFY);
	/* wrong index, wrong size, wrong leaf, wrong root */
	if (idx + 1 < size)
		assert_int_equal(tlog_verify_inclusion(fx->h, idx + 1, size, leaf, good, root, &err),
				 BW_EVERIFY);
	if (idx > 0)
		assert_int_equal(tlog_verify_inclusion(fx->h, idx - 1, size, leaf, good, root, &err),
				 BW_EVERIFY);
	/*
	 * Wrong tree size. Against the root of that size the proof must fail.
	 * Against the original root it must fail whenever the honest proof for
	 * that size has another length: RFC 9162 binds the size only through
	 * the path shape, and e.g. index 0 has the same path shape in trees
	 * of sizes 3 and 4 (the checkpoint's signature binds size and root).
	 */
	{
		uint64_t wrong[3] = { size - 1, size + 1, size * 2 };
		for (i = 0; i < 3; i++) {
			struct tlog_proof honest;
			uint64_t s2 = wrong[i];
			if (s2 <= idx || s2 > 300)
				continue;
			assert_int_equal(tlog_verify_inclusion(fx->h, idx, s2, leaf, good, &fx->roots[s2],
							       &err), BW_EVERIFY);
			assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, idx, s2, &honest, &err), 0);
			if (honest.n != good->n)
				assert_int_equal(tlog_verify_inclusion(fx->h, idx, s2, leaf, good, root, &err),
						 BW_EVERIFY);
		}
	}
	assert_int_equal(tlog_verify_inclusion(fx->h, size, size, leaf, good, root, &err), BW_EVERIFY);
	assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, &fx->leaves[idx + 1], good, root, &err),
			 BW_EVERIFY);
	assert_int_equal(tlog_verify_inclusion(fx->h, idx, size, leaf, good, &fx->roots[size + 1], &err),
			 BW_EVERIFY);
}

static void
test_all_inclusion_proofs_1_to_300(void **state)
{
	struct fixture *fx = *state;
	struct tlog_proof p;
	struct bw_err err = { 0 };
	uint64_t size, idx;

	fixture_build(fx, 301);
	for (size = 1; size <= 300; size++)
		for (idx = 0; idx < size; idx++) {
			assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, idx, size, &p, &err), 0);
			if (tlog_verify_inclusion(fx->h, idx, size, &fx->leaves[idx], &p,
						  &fx->roots[size], &err) != 0)
				fail_msg("size %llu index %llu: %s", (unsigned long long)size,
					 (unsigned long long)idx, err.msg);
			check_inclusion_tampering(fx, idx, size, &p);
		}
	assert_false(bw_sha256_failed(fx->h));
}

static void
check_consistency_tampering(struct fixture *fx, uint64_t old, uint64_t size,
			    const struct tlog_proof *good)
{
	struct tlog_proof p;
	struct bw_err err = { 0 };
	const struct tlog_hash *r1 = &fx->roots[old], *r2 = &fx->roots[size];
	size_t i, byte;

	for (i = 0; i < good->n; i++)
		for (byte = 0; byte < TLOG_HASH_SIZE; byte += 31) {
			p = *good;
			p.h[i].b[byte] ^= 0x80;
			assert_int_equal(tlog_verify_consistency(fx->h, old, size, r1, r2, &p, &err),
					 BW_EVERIFY);
		}
	for (i = 0; i < good->n; i++) {
		p = *good;
		memmove(&p.h[i], &p.h[i + 1], (p.n - i - 1) * sizeof p.h[0]);
		p.n--;
		assert_int_equal(tlog_verify_consistency(fx->h, old, size, r1, r2, &p, &err), BW_EVERIFY);
	}
	p = *good;
	p.h[p.n++] = fx->leaves[0];
	assert_int_equal(tlog_verify_consistency(fx->h, old, size, r1, r2, &p, &err), BW_EVERIFY);
	p = *good;
	memmove(&p.h[1], &p.h[0], p.n * sizeof p.h[0]);
	p.h[0] = *r1;
	p.n++;
	assert_int_equal(tlog_verify_consistency(fx->h, old, size, r1, r2, &p, &err), BW_EVERIFY);
	/* wrong sizes and roots */
	if (old > 1)
		assert_int_equal(tlog_verify_consistency(fx->h, old - 1, size, &fx->roots[old - 1], r2,
							 good, &err), BW_EVERIFY);
	assert_int_equal(tlog_verify_consistency(fx->h, old, size + 1, r1, &fx->roots[size + 1], good,
						 &err), BW_EVERIFY);
	assert_int_equal(tlog_verify_consistency(fx->h, old, size, r2, r2, good, &err), BW_EVERIFY);
	assert_int_equal(tlog_verify_consistency(fx->h, old, size, r1, r1, good, &err), BW_EVERIFY);
}

static void
test_all_consistency_proofs_1_to_300(void **state)
{
	struct fixture *fx = *state;
	struct tlog_proof p, empty = { 0 };
	struct bw_err err = { 0 };
	uint64_t size, old;

	fixture_build(fx, 301);
	for (size = 1; size <= 300; size++) {
		/* first == 0: empty proof accepted, non-empty refused */
		assert_int_equal(tlog_verify_consistency(fx->h, 0, size, &fx->roots[0], &fx->roots[size],
							 &empty, &err), 0);
		for (old = 1; old <= size; old++) {
			assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, old, size, &p, &err), 0);
			if (tlog_verify_consistency(fx->h, old, size, &fx->roots[old], &fx->roots[size], &p,
						    &err) != 0)
				fail_msg("old %llu size %llu: %s", (unsigned long long)old,
					 (unsigned long long)size, err.msg);
			if (old == size) {
				assert_int_equal(p.n, 0);
				/* same size, other root: a fork */
				assert_int_equal(tlog_verify_consistency(fx->h, old, size, &fx->roots[old],
									 &fx->roots[old + 1], &p, &err),
						 BW_EVERIFY);
				assert_non_null(strstr(err.msg, "fork"));
				continue;
			}
			check_consistency_tampering(fx, old, size, &p);
			/* old > new is refused */
			assert_int_equal(tlog_verify_consistency(fx->h, size, old, &fx->roots[size],
								 &fx->roots[old], &p, &err), BW_EVERIFY);
		}
		p.n = 1;
		p.h[0] = fx->roots[size];
		assert_int_equal(tlog_verify_consistency(fx->h, 0, size, &fx->roots[0], &fx->roots[size],
							 &p, &err), BW_EVERIFY);
	}
	assert_false(bw_sha256_failed(fx->h));
}

static void
test_frontier_load_matches(void **state)
{
	struct fixture *fx = *state;
	struct tlog_frontier g;
	struct tlog_hash r;
	struct bw_err err = { 0 };
	uint64_t size;

	fixture_build(fx, 300);
	for (size = 0; size <= 300; size++) {
		assert_int_equal(tlog_frontier_load(&g, &fx->rd, size, &err), 0);
		tlog_frontier_root(&g, fx->h, &r);
		assert_true(tlog_hash_equal(&r, &fx->roots[size]));
		assert_int_equal(g.n, (size_t)__builtin_popcountll(size));
	}
	/* beyond what is stored: a clear error, not a crash */
	assert_int_equal(tlog_frontier_load(&g, &fx->rd, 301, &err), BW_ENOTFOUND);
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 0, 302, &(struct tlog_proof){ 0 }, &err),
			 BW_ENOTFOUND);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	struct tlog_proof p;
	struct tlog_hash r;
	struct bw_err err = { 0 };

	fixture_build(fx, 10);
	assert_int_equal(tlog_prove_inclusion(fx->h, &fx->rd, 10, 10, &p, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "index 10"));
	assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, 0, 10, &p, &err), BW_EINVAL);
	assert_int_equal(tlog_prove_consistency(fx->h, &fx->rd, 11, 10, &p, &err), BW_EINVAL);
	assert_int_equal(tlog_range_hash(fx->h, &fx->rd, 3, 3, &r, &err), BW_EINVAL);
	assert_int_equal(tlog_range_hash(fx->h, &fx->rd, 1, 4, &r, &err), BW_EINVAL);	/* 1,2..4 */
	assert_int_equal(tlog_verify_inclusion(fx->h, 0, 0, &fx->leaves[0], &p, &r, &err), BW_EVERIFY);
	p.n = TLOG_MAX_PROOF + 1;
	assert_int_equal(tlog_verify_inclusion(fx->h, 0, 10, &fx->leaves[0], &p, &fx->roots[10], &err),
			 BW_EVERIFY);
	assert_int_equal(tlog_verify_consistency(fx->h, 3, 10, &fx->roots[3], &fx->roots[10], &p, &err),
			 BW_EVERIFY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc6962_seven_leaf_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_inclusion_proofs_1_to_300, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_consistency_proofs_1_to_300, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frontier_load_matches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
