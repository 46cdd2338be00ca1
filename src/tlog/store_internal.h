/*
 * tlog/store_internal.h: the durable log writer's state, shared by its
 * three parts (internal to tlog):
 *  - sequence.c: appends and the sequencing journal (the sequencer);
 *  - integrate.c: tiles, bundles and signed checkpoints (the integrator);
 *  - store.c: create, open (recovery) and close.
 * The sequencer and the integrator may run on two threads at once; they
 * meet only in the hand-off fields below (under mu, or atomic).
 */
#ifndef BW_TLOG_STORE_INTERNAL_H
#define BW_TLOG_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "journal.h"
#include "note/note.h"
#include "tlog.h"

#define NLEVELS 8		/* tile levels 0..7 cover trees up to 2^64 leaves */
#define MAX_SYNC_FILES 16	/* past this many files, a batch is made durable with one syncfs */

struct path_set {
	char **p;
	size_t n, cap;
};

/* A sequenced group waiting for integration: its framed journal records. */
struct tlog_seq_batch {
	struct tlog_seq_batch *next;
	struct bw_buf records;
};

struct tlog_store {
	/* Fixed once open. */
	char *dir;
	int lock_fd;
	struct note_signer *signer;
	struct note_verifier *verifier;
	size_t discarded;		/* files moved aside at open */
	char *discarded_dir;
	atomic_int failed;		/* a sequencing or integration failed: reopen to recover */

	/* The sequencer's (one thread at a time). */
	uint64_t next;			/* index of the next append */
	struct tlog_journal *j;

	/* The hand-off. */
	pthread_mutex_t mu;		/* guards queue and checkpoint */
	_Atomic uint64_t sequenced;	/* durable (journal or checkpoint): acknowledged */
	_Atomic uint64_t committed;	/* integrated: covered by the durable checkpoint */
	_Atomic uint64_t backlog_bytes;	/* framed bytes sequenced, not yet integrated */
	struct tlog_seq_batch *queue, **queue_tail;
	char *checkpoint;

	/* The integrator's (one thread at a time). */
	struct bw_sha256 *h;
	struct tlog_frontier f;		/* integrated, and being integrated */
	uint8_t part[NLEVELS][TLOG_TILE_WIDTH * TLOG_HASH_SIZE];
	unsigned part_w[NLEVELS];	/* width in memory */
	unsigned part_w_disk[NLEVELS];	/* width of the committed partial file */
	struct bw_buf bundle;		/* partial entry bundle in memory */
	unsigned bundle_w, bundle_w_disk;
	int open_fds[MAX_SYNC_FILES];	/* batch files written, not yet synced */
	size_t nopen;
	bool sync_fs;			/* this batch wrote too many files: one syncfs instead */
	struct path_set dirs;		/* directories to fsync at commit */
	struct path_set obsolete;	/* partial files to delete after commit */
	struct bw_err *integrate_err;	/* the running integration's error (for the record walker) */
};

/* Replaces dir's log.vkey with "<vkey>\n" atomically and durably. */
int store_write_vkey(const char *dir, const char *vkey, struct bw_err *err);
/* "dir/rel" into out, or BW_ERANGE. */
int store_join(char *out, size_t cap, const char *dir, const char *rel, struct bw_err *err);
/* Level-L count of stored hashes in a tree of size. */
uint64_t store_level_count(int level, uint64_t size);
/* Signs the checkpoint of the integrator's tree (also by also, when not NULL: a handover). Caller frees *out. */
int store_sign_checkpoint(struct tlog_store *s, struct note_signer *also, char **out, size_t *outlen,
			  struct bw_err *err);

/* integrate.c: adds one entry to the tree (leaf hash, stored hashes, full tiles written as they complete). */
int store_tree_append(struct tlog_store *s, const void *entry, size_t len, struct bw_err *err);
/* integrate.c: makes the tree durable under a new signed checkpoint (partials, syncs, checkpoint last). */
int store_seal(struct tlog_store *s, struct bw_err *err);
/* integrate.c: releases the integrator's files and sets. */
void store_integrator_free(struct tlog_store *s);
/* sequence.c: calls fn for each framed record of buf in order (BW_ECORRUPT when one is malformed). */
int store_records_foreach(const struct bw_buf *buf, int (*fn)(void *ctx, uint64_t index, const void *entry, size_t len),
			  void *ctx);
/* sequence.c: frees the queued, unintegrated batches. */
void store_queue_free(struct tlog_store *s);

#endif
