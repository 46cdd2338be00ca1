/*
 * tlog_bench: speed of the verifiable-log core, next to its bound.
 *   1. raw SHA-256 over 65-byte inputs (one RFC 6962 node hash): the bound
 *   2. in-memory appends/s (leaf hash + frontier + stored hashes)
 *      goal: >= 50% of bound/2 (an append costs ~2 hashes)
 *   3. inclusion proofs verified/s at tree size 1,000,000 (goal >= 100,000/s)
 *   4. inclusion and consistency proofs generated/s at that size
 *   5. Ed25519 signs/s and verifies/s (checkpoint signing)
 * Usage: tlog_bench [SIZE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "note/note.h"
#include "tlog/tlog.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	uint64_t size = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000, i;
	struct bw_sha256 *h;
	struct tlog_memstore *m;
	struct tlog_reader rd;
	struct tlog_frontier f;
	struct tlog_hash x = { { 0 } }, root;
	struct tlog_proof *proofs;
	struct bw_err err = { 0 };
	uint8_t in[65] = { 1 }, entry[32] = { 0 };
	double t, node_rate, append_rate;
	const uint64_t nproofs = 200000;
	uint64_t ok = 0;

	if (bw_crypto_init(&err) != 0 || bw_sha256_new(&h, &err) != 0 ||
	    tlog_memstore_new(&m, &err) != 0)
		return 1;
	rd = tlog_memstore_reader(m);

	/* 1. bound */
	t = now();
	for (i = 0; i < 5000000; i++) {
		bw_sha256_digest(h, in, sizeof in, x.b);
		in[1] = x.b[0];
	}
	node_rate = 5000000 / (now() - t);
	printf("raw SHA-256, 65-byte inputs (bound)   %12.0f hashes/s\n", node_rate);

	/* 2. appends */
	tlog_frontier_init(&f);
	t = now();
	for (i = 0; i < size; i++) {
		entry[0] = (uint8_t)i;
		entry[1] = (uint8_t)(i >> 8);
		entry[2] = (uint8_t)(i >> 16);
		tlog_hash_leaf(h, entry, sizeof entry, &x);
		if (tlog_frontier_append(&f, h, &x, tlog_memstore_put, m, &err) != 0)
			return 1;
	}
	append_rate = (double)size / (now() - t);
	tlog_frontier_root(&f, h, &root);
	printf("in-memory appends (32-byte entries)   %12.0f appends/s  (%.0f%% of bound/2; goal >= 50%%)\n",
	       append_rate, 100.0 * append_rate / (node_rate / 2));

	/* 3, 4. proofs at this size */
	if ((proofs = malloc(nproofs * sizeof *proofs)) == NULL)
		return 1;
	t = now();
	for (i = 0; i < nproofs; i++)
		if (tlog_prove_inclusion(h, &rd, (i * 7919) % size, size, &proofs[i], &err) != 0)
			return 1;
	printf("inclusion proofs generated, n=%-8llu %12.0f proofs/s\n", (unsigned long long)size,
	       nproofs / (now() - t));
	t = now();
	for (i = 0; i < nproofs; i++) {
		struct tlog_hash leaf;
		uint64_t idx = (i * 7919) % size;
		entry[0] = (uint8_t)idx;
		entry[1] = (uint8_t)(idx >> 8);
		entry[2] = (uint8_t)(idx >> 16);
		tlog_hash_leaf(h, entry, sizeof entry, &leaf);
		ok += tlog_verify_inclusion(h, idx, size, &leaf, &proofs[i], &root, &err) == 0;
	}
	printf("inclusion proofs verified, n=%-8llu  %12.0f proofs/s  (goal >= 100000; %llu/%llu ok)\n",
	       (unsigned long long)size, nproofs / (now() - t), (unsigned long long)ok,
	       (unsigned long long)nproofs);
	t = now();
	for (i = 0; i < 20000; i++)
		if (tlog_prove_consistency(h, &rd, 1 + (i * 7919) % size, size, &proofs[i], &err) != 0)
			return 1;
	printf("consistency proofs generated          %12.0f proofs/s\n", 20000 / (now() - t));

	/* 5. signatures */
	{
		char *sk, *vk, *out = NULL;
		struct note_signer *s;
		struct note_verifier *v;
		struct note *n;
		const char body[] = "bulwark.bench/log\n1000000\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
		uint8_t sig[64];
		size_t len;
		const int nsig = 20000;

		if (note_key_generate("bulwark.bench/log", &sk, &vk, &err) != 0 ||
		    note_signer_parse(sk, strlen(sk), &s, &err) != 0 ||
		    note_verifier_parse(vk, strlen(vk), &v, &err) != 0)
			return 1;
		t = now();
		for (i = 0; i < (uint64_t)nsig; i++)
			bw_ed25519_sign(&s->key, body, sizeof body - 1, sig, &err);
		printf("Ed25519 signs (libsodium)             %12.0f signs/s\n", nsig / (now() - t));
		t = now();
		for (i = 0; i < (uint64_t)nsig; i++)
			ok += bw_ed25519_verify(s->key.pk, body, sizeof body - 1, sig) == 0;
		printf("Ed25519 verifies (libsodium)          %12.0f verifies/s\n", nsig / (now() - t));
		t = now();
		for (i = 0; i < 5000; i++) {
			note_sign(body, sizeof body - 1, &s, 1, &out, &len, &err);
			if (note_open((uint8_t *)out, len, &v, 1, &n, &err) != 0)
				return 1;
			note_free(n);
			free(out);
		}
		printf("checkpoint note sign+open             %12.0f notes/s\n", 5000 / (now() - t));
		note_signer_free(s);
		note_verifier_free(v);
		free(sk);
		free(vk);
	}
	free(proofs);
	tlog_memstore_free(m);
	bw_sha256_free(h);
	return 0;
}
