/* tlog/journal.h: the sequencing journal (internal to tlog; see journal.c for the record format). */
#ifndef BW_TLOG_JOURNAL_H
#define BW_TLOG_JOURNAL_H

#include "tlog.h"

struct tlog_journal;

typedef int (*tlog_journal_fn)(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err);

/*
 * Calls fn for each record in dir's journal segments (oldest first) from
 * index `from` on, in order; earlier ones are skipped (a checkpoint covers
 * them). A torn or damaged tail of the newest segment was never
 * acknowledged: it is copied to tail_path and cut off (*tail_set_aside).
 * Damage in an older segment, a gap or disorder is BW_ECORRUPT. With
 * tail_path NULL nothing is changed (a live log's journal, read beside its
 * writer): reading stops before a torn tail.
 */
int tlog_journal_replay(const char *dir, uint64_t from, tlog_journal_fn fn, void *ctx, const char *tail_path,
			bool *tail_set_aside, struct bw_err *err);

/*
 * Starts sequencing at index next: removes dir's old segments (the caller
 * has integrated them under a durable checkpoint) and creates a new one.
 * Caller frees with tlog_journal_close().
 */
int tlog_journal_open(const char *dir, uint64_t next, struct tlog_journal **out, struct bw_err *err);
void tlog_journal_close(struct tlog_journal *j);

/* Frames one record (index, entry) onto out. BW_ENOMEM on failure. */
int tlog_journal_frame(struct bw_sha256 *h, uint64_t index, const void *entry, size_t len, struct bw_buf *out);

/* ---- the sequencer's side (one thread) ---- */
/* Frames one record into memory (BW_ENOMEM on failure); take and write make it durable. */
int tlog_journal_add(struct tlog_journal *j, uint64_t index, const void *entry, size_t len);
/* Takes the framed records (a group) ... */
void tlog_journal_take(struct tlog_journal *j, struct bw_buf *out);
/*
 * ... and writes them (first: the group's first index) with one
 * fdatasync: from here they are acknowledged. Starts a new segment first
 * when the current one is full.
 */
int tlog_journal_write(struct tlog_journal *j, const struct bw_buf *group, uint64_t first, struct bw_err *err);

/* ---- the integrator's side (may run beside the sequencer) ---- */
/* Removes the segments whose records all lie below covered (a durable checkpoint covers them). */
void tlog_journal_release(struct tlog_journal *j, uint64_t covered);
/* Bytes in the journal's segment files. */
uint64_t tlog_journal_disk_bytes(struct tlog_journal *j);

/* Parses one framed record at p (n bytes available): its index, entry and total size; no check. */
size_t tlog_journal_record(const uint8_t *p, size_t n, uint64_t *index, const uint8_t **entry, size_t *len);

#endif
