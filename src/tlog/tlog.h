/*
 * tlog: the verifiable log core.
 *  - RFC 6962 Merkle tree hashing (leaf = SHA-256(0x00 || d),
 *    node = SHA-256(0x01 || l || r), empty tree = SHA-256("")).
 *  - Inclusion and consistency proofs: generation per RFC 6962 §2.1.1/§2.1.2
 *    over stored subtree hashes, verification exactly per RFC 9162
 *    §2.1.3.2/§2.1.4.2.
 *  - An incremental tree (the right-edge frontier) for O(log n) appends.
 *  - C2SP tlog-checkpoint bodies.
 *
 * Node naming: (level, index) is the complete subtree of 2^level leaves
 * starting at leaf index << level; these are the "stored hashes" a log keeps
 * (exactly the hashes that C2SP tlog-tiles publishes).
 */
#ifndef BW_TLOG_H
#define BW_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "crypto/crypto.h"

#define TLOG_HASH_SIZE 32
#define TLOG_MAX_LEVEL 63
#define TLOG_MAX_PROOF 64	/* longest inclusion/consistency proof for 63-bit sizes */

struct tlog_hash {
	uint8_t b[TLOG_HASH_SIZE];
};

struct tlog_node {
	uint8_t level;
	uint64_t index;
};

/* ---- hashing ---------------------------------------------------------- */

void tlog_hash_leaf(struct bw_sha256 *h, const void *data, size_t len, struct tlog_hash *out);
void tlog_hash_node(struct bw_sha256 *h, const struct tlog_hash *l, const struct tlog_hash *r,
		    struct tlog_hash *out);
void tlog_hash_empty(struct bw_sha256 *h, struct tlog_hash *out);
bool tlog_hash_equal(const struct tlog_hash *a, const struct tlog_hash *b);

/* ---- reading stored hashes -------------------------------------------- */

/*
 * Source of stored hashes: fills out[i] with the hash of nodes[i] for
 * i < n. Returns 0 or a negative BW_E* code with err filled.
 */
struct tlog_reader {
	int (*read)(void *ctx, const struct tlog_node *nodes, size_t n, struct tlog_hash *out,
		    struct bw_err *err);
	void *ctx;
};

/*
 * MTH(D[lo:hi]) for 0 <= lo < hi <= size, where lo is the start of a
 * subtree in the tree of that size (so the range splits into complete
 * subtrees). Reads at most 2*64 stored hashes.
 */
int tlog_range_hash(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t lo, uint64_t hi,
		    struct tlog_hash *out, struct bw_err *err);

/* Root hash of the tree of the given size (size 0 gives SHA-256("")). */
int tlog_tree_hash(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t size,
		   struct tlog_hash *out, struct bw_err *err);

/* ---- proofs ------------------------------------------------------------ */

struct tlog_proof {
	size_t n;
	struct tlog_hash h[TLOG_MAX_PROOF];
};

/* Inclusion proof (audit path) of leaf index in a tree of size (RFC 6962 §2.1.1). */
int tlog_prove_inclusion(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t index,
			 uint64_t size, struct tlog_proof *out, struct bw_err *err);

/* Consistency proof from tree size old to size (RFC 6962 §2.1.2); 0 < old <= size. */
int tlog_prove_consistency(struct bw_sha256 *h, const struct tlog_reader *rd, uint64_t old,
			   uint64_t size, struct tlog_proof *out, struct bw_err *err);

/*
 * RFC 9162 §2.1.3.2. Returns 0 when proof shows that leaf (a leaf hash) is at
 * index in the tree of size with the given root, else BW_EVERIFY with a reason.
 */
int tlog_verify_inclusion(struct bw_sha256 *h, uint64_t index, uint64_t size,
			  const struct tlog_hash *leaf, const struct tlog_proof *proof,
			  const struct tlog_hash *root, struct bw_err *err);

/*
 * RFC 9162 §2.1.4.2, plus the cases the RFC leaves to the caller:
 * old == size (proof must be empty and roots equal) and old == 0 (proof must
 * be empty). old > size is refused. Returns 0 or BW_EVERIFY with a reason.
 */
int tlog_verify_consistency(struct bw_sha256 *h, uint64_t old, uint64_t size,
			    const struct tlog_hash *old_root, const struct tlog_hash *root,
			    const struct tlog_proof *proof, struct bw_err *err);

/* ---- incremental tree ------------------------------------------------- */

/*
 * The right edge of a tree: one complete-subtree hash per set bit of size,
 * largest first. Appending costs one leaf hash plus, amortised, one node
 * hash; memory is O(log n).
 */
struct tlog_frontier {
	uint64_t size;
	size_t n;				/* number of hashes = popcount(size) */
	struct tlog_hash h[TLOG_MAX_LEVEL + 1];
};

/*
 * Called for every complete subtree that an append completes: first the
 * leaf itself (level 0), then each parent it closes. Return non-zero to abort.
 */
typedef int (*tlog_node_cb)(void *ctx, const struct tlog_node *node, const struct tlog_hash *hash,
			    struct bw_err *err);

void tlog_frontier_init(struct tlog_frontier *f);

/*
 * Appends a leaf hash. cb may be NULL. Returns 0, BW_ERANGE when the tree
 * is full (2^63 leaves), or cb's error.
 */
int tlog_frontier_append(struct tlog_frontier *f, struct bw_sha256 *h, const struct tlog_hash *leaf,
			 tlog_node_cb cb, void *cb_ctx, struct bw_err *err);

/* Root hash of the frontier's tree. */
void tlog_frontier_root(const struct tlog_frontier *f, struct bw_sha256 *h, struct tlog_hash *out);

/* Rebuilds the frontier of a tree of size from stored hashes. */
int tlog_frontier_load(struct tlog_frontier *f, const struct tlog_reader *rd, uint64_t size,
		       struct bw_err *err);

/* ---- in-memory stored hashes (tests, benchmarks, tools) --------------- */

struct tlog_memstore;

/* Caller frees *out with tlog_memstore_free(). */
int tlog_memstore_new(struct tlog_memstore **out, struct bw_err *err);
void tlog_memstore_free(struct tlog_memstore *m);
/*
 * A tlog_node_cb: stores node's hash (ctx is the memstore). Nodes of each
 * level must arrive in index order, as tlog_frontier_append emits them.
 */
int tlog_memstore_put(void *ctx, const struct tlog_node *node, const struct tlog_hash *hash,
		      struct bw_err *err);
/* A reader over m; valid while m lives. Unknown nodes are BW_ENOTFOUND. */
struct tlog_reader tlog_memstore_reader(struct tlog_memstore *m);

/* ---- checkpoints (c2sp.org/tlog-checkpoint) ---------------------------- */

#define TLOG_ORIGIN_MAX 1024

struct tlog_checkpoint {
	char *origin;		/* NUL-terminated */
	uint64_t size;
	struct tlog_hash root;
	char *extensions;	/* extension lines verbatim (each ends in '\n'); "" if none */
};

/*
 * Parses a checkpoint body (the text of a signed note): origin line, decimal
 * size without leading zeros, base64 root of 32 bytes, then optional
 * non-empty extension lines. Errors name the line. Caller frees with
 * tlog_checkpoint_clear().
 */
int tlog_checkpoint_parse(const char *text, size_t len, struct tlog_checkpoint *out,
			  struct bw_err *err);

/* Formats the body. Caller frees *out. */
int tlog_checkpoint_format(const struct tlog_checkpoint *cp, char **out, size_t *outlen,
			   struct bw_err *err);

void tlog_checkpoint_clear(struct tlog_checkpoint *cp);

#endif /* BW_TLOG_H */
