/* tlog/journal.h: the sequencing journal (internal to tlog; see journal.c for the record format). */
#ifndef BW_TLOG_JOURNAL_H
#define BW_TLOG_JOURNAL_H

#include "tlog.h"

struct tlog_journal;

/* Opens (creating) dir/journal for appending. Caller frees with tlog_journal_close(). */
int tlog_journal_open(const char *dir, struct tlog_journal **out, struct bw_err *err);
void tlog_journal_close(struct tlog_journal *j);
/* Frames one record into memory (BW_ENOMEM on failure); take and write make it durable. */
int tlog_journal_add(struct tlog_journal *j, uint64_t index, const void *entry, size_t len);
/* Takes the framed records (a group) ... */
void tlog_journal_take(struct tlog_journal *j, struct bw_buf *out);
/* ... and writes them with one fdatasync: from here they are acknowledged (no other journal call meanwhile). */
int tlog_journal_write(struct tlog_journal *j, const struct bw_buf *group, struct bw_err *err);
/* Forgets framed, unwritten records (a commit that integrates them directly). */
void tlog_journal_drop_pending(struct tlog_journal *j);
/* Empties the journal: call only once a durable checkpoint covers every record in it. */
int tlog_journal_reset(struct tlog_journal *j, struct bw_err *err);

typedef int (*tlog_journal_fn)(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err);
/*
 * Calls fn for each record from index `from` on, in order (earlier ones are
 * skipped: a checkpoint covers them). A torn or damaged tail is copied to
 * tail_path and cut off (*tail_set_aside); a gap or disorder is BW_ECORRUPT.
 */
int tlog_journal_replay(struct tlog_journal *j, uint64_t from, tlog_journal_fn fn, void *ctx, const char *tail_path,
			bool *tail_set_aside, struct bw_err *err);

#endif
