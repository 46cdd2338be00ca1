/*
 * Interop helper: reads trees, roots and proofs produced by Go's
 * golang.org/x/mod/sumdb/tlog (interop gen) on stdin and checks that
 * bulwark computes the same roots and byte-identical proofs and that its
 * RFC 9162 verifiers accept Go's proofs. Prints bulwark's own roots and
 * proofs for other (index, size) pairs to stdout for `interop check`.
 *
 *   tlog_vectors [--checkpoint FILE --origin ORIGIN] < go-vectors > bulwark-vectors
 *
 * With --checkpoint, writes a tlog-checkpoint body for the last tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

#define MAX_LEAVES 4096

static int failures;

#define FAIL(...)                                        \
	do {                                             \
		fprintf(stderr, "tlog_vectors: " __VA_ARGS__); \
		fputc('\n', stderr);                     \
		failures++;                              \
	} while (0)

struct tree {
	struct tlog_memstore *m;
	struct tlog_reader rd;
	struct tlog_frontier f;
	uint8_t *leaf[MAX_LEAVES];
	size_t leaf_len[MAX_LEAVES];
	struct tlog_hash lh[MAX_LEAVES];
	size_t n;
};

static void
tree_reset(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->leaf[i]);
	tlog_memstore_free(t->m);
	memset(t, 0, sizeof *t);
	if (tlog_memstore_new(&t->m, NULL) != 0)
		exit(2);
	t->rd = tlog_memstore_reader(t->m);
	tlog_frontier_init(&t->f);
}

static void
print_hex_list(FILE *out, const struct tlog_proof *p)
{
	char hx[65];
	size_t i;

	if (p->n == 0) {
		fputs("-", out);
		return;
	}
	for (i = 0; i < p->n; i++) {
		bw_hex_encode(hx, p->h[i].b, 32);
		fprintf(out, "%s%s", i ? "," : "", hx);
	}
}

static int
parse_hex_list(const char *s, struct tlog_proof *p)
{
	p->n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	while (*s) {
		if (p->n == TLOG_MAX_PROOF || bw_hex_decode(s, 64, p->h[p->n].b, 32) != 0)
			return -1;
		p->n++;
		s += 64;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

static bool
proof_equal(const struct tlog_proof *a, const struct tlog_proof *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!tlog_hash_equal(&a->h[i], &b->h[i]))
			return false;
	return true;
}

/* Deterministic pairs for bulwark's own proofs (xorshift). */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
emit_own(struct bw_sha256 *h, struct tree *t, uint64_t *seed)
{
	struct bw_err err = { 0 };
	struct tlog_proof p;
	struct tlog_hash root;
	char hx[65];
	size_t i, k;

	printf("tree %zu\n", t->n);
	for (i = 0; i < t->n; i++) {
		char *lx = malloc(2 * t->leaf_len[i] + 1);
		bw_hex_encode(lx, t->leaf[i], t->leaf_len[i]);
		printf("leaf %s\n", t->leaf_len[i] ? lx : "-");
		free(lx);
	}
	for (k = 0; k < 40; k++) {
		uint64_t size = 1 + next_rand(seed) % t->n, idx = next_rand(seed) % size;
		uint64_t old = 1 + next_rand(seed) % size;
		if (tlog_tree_hash(h, &t->rd, size, &root, &err) != 0)
			FAIL("tree hash: %s", err.msg);
		bw_hex_encode(hx, root.b, 32);
		printf("root %llu %s\n", (unsigned long long)size, hx);
		if (tlog_prove_inclusion(h, &t->rd, idx, size, &p, &err) != 0)
			FAIL("prove inclusion: %s", err.msg);
		printf("incl %llu %llu ", (unsigned long long)idx, (unsigned long long)size);
		print_hex_list(stdout, &p);
		if (tlog_prove_consistency(h, &t->rd, old, size, &p, &err) != 0)
			FAIL("prove consistency: %s", err.msg);
		printf("\ncons %llu %llu ", (unsigned long long)old, (unsigned long long)size);
		print_hex_list(stdout, &p);
		printf("\n");
	}
	printf("end\n");
}

int
main(int argc, char **argv)
{
	static struct tree t;
	static char line[1 << 16];
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	const char *cp_path = NULL, *origin = NULL;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t nroot = 0, nincl = 0, ncons = 0;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--checkpoint") == 0)
			cp_path = argv[i + 1];
		else if (strcmp(argv[i], "--origin") == 0)
			origin = argv[i + 1];
	}
	if (bw_sha256_new(&h, &err) != 0)
		return 2;
	tree_reset(&t);
	while (fgets(line, sizeof line, stdin) != NULL) {
		char kind[8], a[65], *rest;
		unsigned long long x = 0, y = 0;
		struct tlog_proof mine, theirs;
		struct tlog_hash root, want;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%7s", kind) != 1)
			continue;
		if (strcmp(kind, "tree") == 0) {
			tree_reset(&t);
		} else if (strcmp(kind, "leaf") == 0) {
			const char *hx = line + 5;
			size_t len = strcmp(hx, "-") == 0 ? 0 : strlen(hx) / 2;
			if (t.n == MAX_LEAVES)
				return 2;
			t.leaf[t.n] = malloc(len + 1);
			if (len && bw_hex_decode(hx, 2 * len, t.leaf[t.n], len) != 0)
				FAIL("bad leaf hex");
			t.leaf_len[t.n] = len;
			tlog_hash_leaf(h, t.leaf[t.n], len, &t.lh[t.n]);
			if (tlog_frontier_append(&t.f, h, &t.lh[t.n], tlog_memstore_put, t.m, &err) != 0)
				FAIL("append: %s", err.msg);
			t.n++;
		} else if (strcmp(kind, "root") == 0) {
			if (sscanf(line, "root %llu %64s", &x, a) != 2 || bw_hex_decode(a, 64, want.b, 32) != 0)
				FAIL("bad root line");
			if (tlog_tree_hash(h, &t.rd, x, &root, &err) != 0 || !tlog_hash_equal(&root, &want))
				FAIL("root of size %llu differs from Go's", x);
			nroot++;
		} else if (strcmp(kind, "incl") == 0 || strcmp(kind, "cons") == 0) {
			bool incl = kind[0] == 'i';
			if (sscanf(line, "%*s %llu %llu", &x, &y) != 2 ||
			    (rest = strrchr(line, ' ')) == NULL || parse_hex_list(rest + 1, &theirs) != 0) {
				FAIL("bad proof line: %s", line);
				continue;
			}
			if (incl) {
				if (tlog_prove_inclusion(h, &t.rd, x, y, &mine, &err) != 0)
					FAIL("prove inclusion %llu in %llu: %s", x, y, err.msg);
				if (!proof_equal(&mine, &theirs))
					FAIL("inclusion proof %llu in %llu differs from Go's", x, y);
				if (tlog_tree_hash(h, &t.rd, y, &root, &err) != 0 ||
				    tlog_verify_inclusion(h, x, y, &t.lh[x], &theirs, &root, &err) != 0)
					FAIL("Go's inclusion proof %llu in %llu rejected: %s", x, y, err.msg);
				nincl++;
			} else {
				struct tlog_hash r1;
				if (tlog_prove_consistency(h, &t.rd, x, y, &mine, &err) != 0)
					FAIL("prove consistency %llu -> %llu: %s", x, y, err.msg);
				if (!proof_equal(&mine, &theirs))
					FAIL("consistency proof %llu -> %llu differs from Go's", x, y);
				if (tlog_tree_hash(h, &t.rd, x, &r1, &err) != 0 ||
				    tlog_tree_hash(h, &t.rd, y, &root, &err) != 0 ||
				    tlog_verify_consistency(h, x, y, &r1, &root, &theirs, &err) != 0)
					FAIL("Go's consistency proof %llu -> %llu rejected: %s", x, y, err.msg);
				ncons++;
			}
		} else if (strcmp(kind, "end") == 0) {
			emit_own(h, &t, &seed);
		} else {
			FAIL("unknown line kind %s", kind);
		}
	}
	if (cp_path != NULL && origin != NULL && t.n > 0) {
		struct tlog_checkpoint cp = { 0 };
		char *body = NULL;
		size_t len = 0;
		cp.origin = (char *)origin;
		cp.size = t.n;
		tlog_frontier_root(&t.f, h, &cp.root);
		if (tlog_checkpoint_format(&cp, &body, &len, &err) != 0 ||
		    bw_file_write_atomic(cp_path, body, len, 0644, &err) != 0)
			FAIL("checkpoint: %s", err.msg);
		free(body);
	}
	fprintf(stderr, "bulwark checked %zu roots, %zu inclusion and %zu consistency proofs from Go\n",
		nroot, nincl, ncons);
	if (nroot == 0 || nincl == 0 || ncons == 0)
		FAIL("no vectors read");
	tree_reset(&t);
	tlog_memstore_free(t.m);
	bw_sha256_free(h);
	return failures ? 1 : 0;
}
