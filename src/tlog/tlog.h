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
#include "note/note.h"

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

/* ---- tlog-tiles layout (c2sp.org/tlog-tiles) ---------------------------- */

#define TLOG_TILE_WIDTH 256	/* hashes (or entries) in a full tile */
#define TLOG_TILE_HEIGHT 8	/* tree levels per tile level */
#define TLOG_ENTRY_MAX 65535	/* entries are 1..65,535 bytes (uint16 length prefix) */
#define TLOG_TILE_ENTRIES (-1)	/* "level" of entry bundles */
#define TLOG_PATH_MAX 96

/*
 * Relative path of a tile: "tile/<L>/<N>" for a full tile (width 256) or
 * "tile/<L>/<N>.p/<W>" for a partial one; level TLOG_TILE_ENTRIES gives
 * "tile/entries/...". N is split into 3-digit groups, all but the last
 * prefixed with 'x' (1234067 -> x001/x234/067). out has TLOG_PATH_MAX bytes.
 */
void tlog_tile_path(char *out, int level, uint64_t n, unsigned width);

/*
 * Width of tile n at level (or of entry bundle n) in a tree of size:
 * 256 for full tiles, 1..255 for the partial right-most one, 0 when the
 * tile does not exist in that tree.
 */
unsigned tlog_tile_width(int level, uint64_t n, uint64_t size);

/*
 * Splits an entry bundle into entries. The bundle must hold exactly
 * `count` entries (each a big-endian uint16 length, 1..65535, then the
 * bytes); when allow_more is true it may hold more, which are ignored.
 * offs/lens receive offsets and lengths into data. Errors name the entry.
 */
int tlog_bundle_split(const uint8_t *data, size_t len, unsigned count, bool allow_more,
		      size_t *offs, size_t *lens, struct bw_err *err);

/*
 * Read access to a log directory in the tlog-tiles layout. Does not lock:
 * any number of readers may run beside the writer. Tiles are cached.
 */
struct tlog_tiles;

/* Caller frees *out with tlog_tiles_free(). */
int tlog_tiles_open(const char *dir, struct tlog_tiles **out, struct bw_err *err);
void tlog_tiles_free(struct tlog_tiles *t);

/*
 * Reads `width` hashes of tile n at level (or a wider version of it,
 * truncated) into out (width * 32 bytes). Tries the exact partial, the
 * full tile, then wider partials; a file of the wrong length is corrupt.
 */
int tlog_tiles_read_tile(struct tlog_tiles *t, int level, uint64_t n, unsigned width,
			 uint8_t *out, struct bw_err *err);

/*
 * Reads the first `width` entries of bundle n. *data (caller frees) holds
 * the bundle bytes; offs/lens (TLOG_TILE_WIDTH each) locate the entries.
 */
int tlog_tiles_read_bundle(struct tlog_tiles *t, uint64_t n, unsigned width, uint8_t **data,
			   size_t *offs, size_t *lens, struct bw_err *err);

/* Reads entry index of a tree of size. Caller frees *data. */
int tlog_tiles_read_entry(struct tlog_tiles *t, uint64_t size, uint64_t index, uint8_t **data,
			  size_t *len, struct bw_err *err);

/*
 * A stored-hash reader over the tiles of the tree of the given size: any
 * node (level, index) of that tree is computed from one tile. Valid while t
 * lives; the size is kept in t (one size per tlog_tiles at a time).
 */
struct tlog_reader tlog_tiles_reader(struct tlog_tiles *t, uint64_t size);

/* ---- the durable log: one writer per directory ------------------------- */

/*
 * A log directory holds: checkpoint (signed note), tile/... (tlog-tiles),
 * journal-<N> (sequenced entries not integrated yet, in segments),
 * log.key (signer key, 0600), log.vkey (verifier key) and lock. Serve only
 * "checkpoint" and "tile/" to the public.
 *
 * Two roles make appends durable (docs/LOG.md):
 *  - the sequencer: tlog_store_append() buffers an entry and gives its
 *    index; tlog_store_sequence() writes every buffered entry to the
 *    journal with one fdatasync: from then on the entry is acknowledged,
 *    its index final, and it survives any crash;
 *  - the integrator: tlog_store_integrate() turns what was sequenced into
 *    tile and bundle files, makes them durable, replaces the signed
 *    checkpoint atomically, then releases the journal segments it covers.
 *    Readers (tiles, proofs, the checkpoint) see entries only once
 *    integrated.
 * One thread at a time may act as the sequencer and one as the integrator;
 * the two may run at once (tlog_integrator runs the integrator on its own
 * thread). The read functions below may be called from any thread.
 * Opening a log replays the journal past the checkpoint and integrates it;
 * a torn journal tail (never acknowledged) is set aside as evidence. After a
 * failed sequence or integration the store refuses further work; reopen it.
 */
struct tlog_store;

#define TLOG_KEY_FILE "log.key"
#define TLOG_VKEY_FILE "log.vkey"
#define TLOG_CHECKPOINT_FILE "checkpoint"
#define TLOG_LOCK_FILE "lock"
#define TLOG_PRUNED_FILE "pruned"

/*
 * Creates a new, empty log in dir (created if missing; must not already
 * hold a log) with a fresh Ed25519 key named origin, and writes the
 * checkpoint of the empty tree. *vkey (optional, caller frees) receives
 * the verifier key text.
 */
int tlog_store_create(const char *dir, const char *origin, char **vkey, struct bw_err *err);

/*
 * Opens dir for writing: takes the writer lock (BW_EBUSY if held), reads
 * and verifies the checkpoint with the log's own key, deletes files left
 * past it by an interrupted batch (moved to LOG/discarded/, kept as
 * evidence in case the checkpoint was rolled back), rebuilds the tree edge from the tiles
 * and checks it against the checkpoint root. Inconsistencies are reported
 * (BW_ECORRUPT, naming the tile and index) and never rewritten.
 * Caller frees *out with tlog_store_close().
 */
int tlog_store_open(const char *dir, struct tlog_store **out, struct bw_err *err);

/*
 * As tlog_store_open, with the signer given instead of read from
 * dir/log.key (e.g. a key kept sealed elsewhere). Takes ownership of
 * signer, also on failure.
 */
int tlog_store_open_signed(const char *dir, struct note_signer *signer, struct tlog_store **out,
			   struct bw_err *err);

/*
 * Creates an empty log in dir signed by signer (borrowed), without writing
 * any key file: for callers that keep the key elsewhere.
 */
int tlog_store_init(const char *dir, const struct note_signer *signer, struct bw_err *err);

/*
 * How many files past the checkpoint open moved aside (into *where, a
 * LOG/discarded/... directory) instead of deleting them.
 */
size_t tlog_store_discarded(const struct tlog_store *s, const char **where);

/* Releases the lock and frees s. Buffered, uncommitted entries are dropped. */
void tlog_store_close(struct tlog_store *s);

/*
 * Sequencer: buffers one entry (1..65535 bytes) and returns its index in
 * *index. The entry is not durable until tlog_store_sequence() succeeds.
 */
int tlog_store_append(struct tlog_store *s, const void *entry, size_t len, uint64_t *index,
		      struct bw_err *err);
/* Sequencer: makes all buffered entries durable in the journal (one fdatasync): acknowledged, not yet integrated. */
int tlog_store_sequence(struct tlog_store *s, struct bw_err *err);

/*
 * tlog_store_sequence in three steps, so that a multi-threaded caller can
 * keep appending while a group is written: take the group (with the
 * caller's lock), write it (without: only appends may run meanwhile, no
 * other sequencing), then mark it done (with the lock; rc is the write's
 * result, a failure fails the store). Done hands the group to the
 * integrator.
 */
struct tlog_seq_batch;
struct tlog_group {
	struct tlog_seq_batch *batch;	/* the group's framed journal records */
	uint64_t first;			/* index of its first entry */
	uint64_t upto;			/* entries below this are in the group or earlier */
};
int tlog_store_sequence_take(struct tlog_store *s, struct tlog_group *g, struct bw_err *err);
int tlog_store_sequence_write(struct tlog_store *s, const struct tlog_group *g, struct bw_err *err);
void tlog_store_sequence_done(struct tlog_store *s, struct tlog_group *g, int rc);
/* Calls fn for each entry of a taken group (index, bytes), in order; stops at fn's first non-zero return. */
int tlog_group_foreach(const struct tlog_group *g, int (*fn)(void *ctx, uint64_t index, const void *entry, size_t len),
		       void *ctx);

/* Integrator: integrates everything sequenced so far under a new signed checkpoint. */
int tlog_store_integrate(struct tlog_store *s, struct bw_err *err);
/* Both in one thread: sequence, then integrate (tests, tools). */
int tlog_store_commit(struct tlog_store *s, struct bw_err *err);

/* Size covered by the last durable checkpoint (integrated: readable through tiles and proofs). */
uint64_t tlog_store_size(const struct tlog_store *s);
/* Entries durable so far (sequenced or integrated): every index below it is acknowledged. */
uint64_t tlog_store_durable(const struct tlog_store *s);
/* Sequencer: number of buffered entries not yet durable. */
uint64_t tlog_store_pending(const struct tlog_store *s);
/* Sequenced but not yet integrated: entries and their journal bytes (the integrator's backlog). */
void tlog_store_backlog(const struct tlog_store *s, uint64_t *entries, uint64_t *bytes);
/* A copy of the current signed checkpoint (NUL-terminated; caller frees; NULL when out of memory). */
char *tlog_store_checkpoint_dup(struct tlog_store *s);

/* ---- retention (prune.c) ---------------------------------------------------- */

/*
 * Entries below *upto had their entry bundles pruned (0: none), as the
 * log's file "pruned" says; hash tiles are never pruned.
 */
int tlog_pruned(const char *dir, uint64_t *upto, struct bw_err *err);
/*
 * Deletes the entry bundles of entries [0, upto): upto a multiple of 256
 * within the integrated tree, not below what is pruned already (the same
 * upto again finishes a prune a crash interrupted). "pruned" is written
 * durably before any bundle goes. *pruned_before (optional) receives the
 * earlier bound. May run beside the sequencer and the integrator.
 */
int tlog_store_prune(struct tlog_store *s, uint64_t upto, uint64_t *pruned_before, struct bw_err *err);

/* ---- snapshots (snapshot.c) --------------------------------------------------- */

/* Receives one file of a snapshot: its path relative to the log directory and its bytes. */
typedef int (*tlog_file_fn)(void *ctx, const char *rel, const void *data, size_t len, struct bw_err *err);

struct tlog_snapshot_info {
	uint64_t size;		/* the checkpoint's */
	uint64_t acknowledged;	/* journal entries past it (acknowledged, not yet integrated) */
	uint64_t files;
	char *checkpoint;	/* the signed checkpoint copied (checkpoint_len bytes) */
	size_t checkpoint_len;
};
void tlog_snapshot_info_clear(struct tlog_snapshot_info *info);

/*
 * Copies a consistent snapshot of the log in dir while its writer runs
 * (no lock taken, nothing changed): log.vkey, "pruned", the tiles and entry
 * bundles of the checkpoint's tree, the cosigned checkpoint when it is not
 * past it, the key transitions, every acknowledged journal entry past it (one segment
 * "journal-<size>"), and last the checkpoint (verified with vkey), each
 * handed to put. Opening the copy as a log integrates the journal's entries.
 * *info (clear it) says what was copied.
 */
int tlog_snapshot(const char *dir, struct note_verifier *vkey, tlog_file_fn put, void *ctx,
		  struct tlog_snapshot_info *info, struct bw_err *err);
/*
 * Counts the intact journal records of dir from index from on without
 * changing anything (a torn tail ends the count). BW_ECORRUPT on a gap.
 */
int tlog_journal_count(const char *dir, uint64_t from, uint64_t *count, struct bw_err *err);
/* Reads dir's verifier key file (log.vkey). Caller frees *out with note_verifier_free(). */
int tlog_vkey_load(const char *dir, struct note_verifier **out, struct bw_err *err);

/* ---- the integrator on its own thread ------------------------------------------ */

/*
 * When the background integrator integrates: every interval_ms, as soon as
 * max_entries or max_bytes are sequenced and waiting, or when asked
 * (tlog_integrator_wait). The sequencer blocks in tlog_integrator_throttle
 * while the backlog holds limit_bytes (back-pressure: memory and recovery
 * time stay bounded).
 */
struct tlog_integrator_policy {
	unsigned interval_ms;
	uint64_t max_entries;
	uint64_t max_bytes;
	uint64_t limit_bytes;
};
struct tlog_integrator;

/* Starts the thread over s (borrowed: stop the integrator before closing s). Caller stops it. */
int tlog_integrator_start(struct tlog_store *s, const struct tlog_integrator_policy *p, struct tlog_integrator **out,
			  struct bw_err *err);
/* Tells the integrator that a group was sequenced (call after tlog_store_sequence_done). */
void tlog_integrator_kick(struct tlog_integrator *it);
/* Blocks while the backlog holds the policy's limit_bytes; fails once integration has failed. */
int tlog_integrator_throttle(struct tlog_integrator *it, struct bw_err *err);
/* Asks for integration up to upto now and waits for it (or for the failure). */
int tlog_integrator_wait(struct tlog_integrator *it, uint64_t upto, struct bw_err *err);
/* Has integration failed? (err, when not NULL, receives why.) */
bool tlog_integrator_failed(struct tlog_integrator *it, struct bw_err *err);
/* Integrates what is sequenced, stops and frees the thread; returns the integration's failure if any. */
int tlog_integrator_stop(struct tlog_integrator *it, struct bw_err *err);

/* ---- proof hashes as text: one base64 hash per line ------------------------- */

/* Appends each hash of p as a base64 line ("...=\n") to b. Returns 0 or BW_ENOMEM. */
int tlog_proof_lines_format(const struct tlog_proof *p, struct bw_buf *b);
/*
 * Parses text made only of such lines (every line ends in '\n'; empty text
 * is an empty proof). Errors name the line; more than TLOG_MAX_PROOF
 * hashes is refused.
 */
int tlog_proof_lines_parse(const uint8_t *text, size_t len, struct tlog_proof *p, struct bw_err *err);

/* ---- tlog-proof files (c2sp.org/tlog-proof@v1) ---------------------------- */

#define TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
#define TLOG_PROOF_FILE_MAX (NOTE_MAX_SIZE + 16384)

struct tlog_proof_file {
	uint8_t *extra;		/* opaque, unauthenticated; NULL when absent */
	size_t extra_len;
	uint64_t index;
	struct tlog_proof proof;
	char *checkpoint;	/* the signed checkpoint note, verbatim */
	size_t checkpoint_len;
};

/* Formats pf. Caller frees *out. */
int tlog_proof_file_format(const struct tlog_proof_file *pf, char **out, size_t *outlen,
			   struct bw_err *err);
/* Strict parse; errors name the line. Free with tlog_proof_file_clear(). */
int tlog_proof_file_parse(const uint8_t *data, size_t len, struct tlog_proof_file *out,
			  struct bw_err *err);
void tlog_proof_file_clear(struct tlog_proof_file *pf);

/*
 * Verifies a proof for entry offline: the checkpoint must be signed by one
 * of log_keys whose name equals the checkpoint origin, and the inclusion
 * proof must bind the entry's leaf hash to that checkpoint's root. On
 * success *cp (optional; clear it) receives the checkpoint.
 */
int tlog_proof_file_verify(struct bw_sha256 *h, const struct tlog_proof_file *pf,
			   struct note_verifier *const *log_keys, size_t nkeys, const void *entry,
			   size_t len, struct tlog_checkpoint *cp, struct bw_err *err);

/*
 * Opens and verifies a signed checkpoint note against log_keys (origin must
 * be a key's name). *cp receives the parsed body (clear it).
 */
int tlog_checkpoint_open(const uint8_t *note, size_t len, struct note_verifier *const *log_keys,
			 size_t nkeys, struct tlog_checkpoint *cp, struct bw_err *err);

/*
 * Reads dir's checkpoint file and opens it with tlog_checkpoint_open.
 * *note (caller frees) holds the signed note verbatim; *cp its body.
 */
int tlog_checkpoint_load(const char *dir, struct note_verifier *const *log_keys, size_t nkeys, uint8_t **note,
			 size_t *len, struct tlog_checkpoint *cp, struct bw_err *err);

/*
 * The cosigned checkpoint: the latest checkpoint the log's witnesses
 * cosigned in the quorum of its policy, with their cosignature lines, kept
 * beside the checkpoint (written by the server that asks the witnesses).
 */
#define TLOG_COSIGNED_FILE "checkpoint.cosigned"
/* Replaces dir's cosigned checkpoint with note atomically and durably. */
int tlog_cosigned_save(const char *dir, const void *note, size_t len, struct bw_err *err);
/* Like tlog_checkpoint_load for dir's cosigned checkpoint; BW_ENOTFOUND when there is none. */
int tlog_cosigned_load(const char *dir, struct note_verifier *const *log_keys, size_t nkeys, uint8_t **note,
		       size_t *len, struct tlog_checkpoint *cp, struct bw_err *err);
/*
 * The checkpoint to prove entry index under: the cosigned one when it
 * verifies and covers index (so a proof carries the cosignatures), else
 * the latest. Outputs as tlog_checkpoint_load.
 */
int tlog_checkpoint_load_for(const char *dir, uint64_t index, struct note_verifier *const *log_keys, size_t nkeys,
			     uint8_t **note, size_t *len, struct tlog_checkpoint *cp, struct bw_err *err);

/* ---- key transitions (keychain.c, rekey.c) --------------------------------------- */

/*
 * The log's signing key evolves (docs/WITNESS.md, "Forward security of the
 * log key"). A transition is the log's entry t naming the next key, then
 * the handover checkpoint of size t+1 signed by the old key and the new
 * one; after it only the new key signs. Its evidence is kept as
 * LOG/key-transitions/<t+1>.tlog-proof: a tlog-proof of entry t under the
 * handover checkpoint, with the entry's bytes as its extra data.
 */
#define TLOG_TRANSITIONS_DIR "key-transitions"
#define TLOG_KEYCHAIN_MAX 1024	/* keys a verifier follows: 1023 transitions (a rotation a week for 19 years) */

/*
 * The keys a verifier accepts, in order: key[i] signs checkpoints of sizes
 * from[i]..from[i+1] (the handover, from[i+1], is signed by both), the last
 * one every size from its from on. from[0] is 0.
 */
struct tlog_keychain {
	size_t n;
	struct note_verifier *key[TLOG_KEYCHAIN_MAX];
	uint64_t from[TLOG_KEYCHAIN_MAX];
};

/* Starts a chain at the pinned first key (verifier key text). Clear it with tlog_keychain_clear. */
int tlog_keychain_init(struct tlog_keychain *c, const char *vkey, size_t len, struct bw_err *err);
/* A chain of the one key v (taken), for every size. */
void tlog_keychain_init_key(struct tlog_keychain *c, struct note_verifier *v);
void tlog_keychain_clear(struct tlog_keychain *c);

/* Reads the key a transition entry names (the caller's format): *vkey (caller frees) its verifier key text. */
typedef int (*tlog_transition_fn)(void *ctx, const uint8_t *entry, size_t len, char **vkey, struct bw_err *err);

/*
 * Follows one transition (a tlog-proof as above): its checkpoint signed by
 * the chain's last key and by the key the entry names (per fn), its size
 * past the last transition, the entry at size-1 under it. The named key
 * (same name, another key) joins the chain from that size. *handover
 * (optional; clear it) receives the handover checkpoint.
 */
int tlog_keychain_follow(struct tlog_keychain *c, struct bw_sha256 *h, const uint8_t *proof, size_t len,
			 tlog_transition_fn fn, void *ctx, struct tlog_checkpoint *handover, struct bw_err *err);

/* tlog_checkpoint_open with the chain: only the key(s) for the checkpoint's size count. */
int tlog_keychain_open(const struct tlog_keychain *c, const uint8_t *note, size_t len, struct tlog_checkpoint *cp,
		       struct bw_err *err);

/* tlog_proof_file_verify with the chain's key(s) for the proof checkpoint's size. */
int tlog_keychain_verify_proof(struct bw_sha256 *h, const struct tlog_keychain *c, const struct tlog_proof_file *pf,
			       const void *entry, size_t len, struct tlog_checkpoint *cp, struct bw_err *err);

/*
 * Builds the chain of the log in dir from the pinned key first (taken;
 * the first key, or a later one: then the chain starts at its handover): follows
 * every LOG/key-transitions proof in order, then checks that each handover
 * root is the root of dir's tree at that size (tiles under the log's
 * checkpoint, opened with the chain). *ntransitions (optional) counts them.
 */
int tlog_keychain_load(const char *dir, struct note_verifier *first, tlog_transition_fn fn, void *ctx,
		       struct tlog_keychain *c, size_t *ntransitions, struct bw_err *err);

/*
 * The sizes of dir's transitions, ascending (*sizes: caller frees; NULL
 * and 0 when there is none).
 */
int tlog_transitions_list(const char *dir, uint64_t **sizes, size_t *n, struct bw_err *err);

/*
 * Hands the log over to next (ownership taken, also on failure): the last
 * integrated entry must be the transition naming next (the caller's), with
 * nothing sequenced or buffered after it. Writes the transition's proof,
 * the handover checkpoint (signed by both keys) and log.vkey (next's), each
 * durably; from then on next signs. Repeating it after a crash finishes it.
 */
int tlog_store_rekey(struct tlog_store *s, struct note_signer *next, struct bw_err *err);
/* The checkpoint's signer: the key that signs now. */
const struct note_signer *tlog_store_signer(const struct tlog_store *s);

/* ---- audit ----------------------------------------------------------------- */

#define TLOG_AUDIT_MAX_FINDINGS 20

struct tlog_audit_result {
	uint64_t size;		/* size of the log's checkpoint */
	uint64_t checked;	/* entries recomputed from the bundles (pruned ones: from their leaf hashes) */
	uint64_t pruned;	/* entries below this were pruned: their hashes came from the level-0 tiles */
	uint64_t trusted_size;	/* size of the trusted checkpoint (if given) */
	bool signature_ok;	/* checkpoint signed by the given key */
	bool root_ok;		/* entries recompute to the checkpoint root */
	bool tiles_ok;		/* every tile hash matches the entries */
	bool trusted_ok;	/* the log extends the trusted checkpoint */
	size_t nfindings;
	char findings[TLOG_AUDIT_MAX_FINDINGS][256];
	size_t more_findings;	/* findings not kept */
};

typedef void (*tlog_progress_cb)(void *ctx, uint64_t done, uint64_t total);

/*
 * Audits the log in dir against its keys (the key for the checkpoint's
 * size: tlog_keychain_load follows the transitions): checks the checkpoint
 * signature, recomputes the whole tree from the entry bundles, compares
 * every stored tile hash and the checkpoint root, and, when trusted (a
 * signed checkpoint note) is given, checks that the log only grew from it
 * (same root at its size; not smaller). Returns 0 when everything holds,
 * BW_EVERIFY when findings were recorded in *res, other codes when the
 * audit could not run. progress (optional) is called periodically.
 */
int tlog_audit(const char *dir, const struct tlog_keychain *keys, const uint8_t *trusted,
	       size_t trusted_len, tlog_progress_cb progress, void *progress_ctx,
	       struct tlog_audit_result *res, struct bw_err *err);

#endif /* BW_TLOG_H */
