/*
 * audit: audit events (JSON objects) appended to the tamper-evident log by a
 * commit thread. audit_record() returns once the event is durable in the
 * log's journal (acknowledged: its index is final and survives any crash),
 * so a caller can answer a request after it; tiles, proofs and the signed
 * checkpoint cover it within AUDIT_INTEGRATE_MS (250 ms), or at once after
 * audit_log_sync().
 */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "events/events.h"
#include "note/note.h"

struct audit_log;

/* Opens the log in dir for writing with signer (ownership transferred). Caller closes. */
int audit_log_open(const char *dir, struct note_signer *signer, struct audit_log **out,
		   struct bw_err *err);
/* Stops the commit thread after committing what is pending, then closes. */
void audit_log_close(struct audit_log *al);

/*
 * Who sees each event as it is sequenced (the detector): fn gets its log
 * index and bytes on the commit thread, after the event is durable and
 * before anyone is told; fn must not block on the log (it must not append).
 * Set it right after audit_log_open, before any event is recorded.
 */
typedef void (*audit_observer_fn)(void *ctx, uint64_t index, const void *entry, size_t len);
void audit_log_observe(struct audit_log *al, audit_observer_fn fn, void *ctx);

/*
 * Serialises ev (events module: the one owner of event shapes), appends it
 * and waits until it is durable; *index (optional) receives its log index.
 * BW_EINVAL when ev carries a detail its vocabulary entry does not list.
 */
int audit_record(struct audit_log *al, const struct event *ev, uint64_t *index, struct bw_err *err);

/* Appends raw entry bytes and waits until durable. */
int audit_append(struct audit_log *al, const void *entry, size_t len, uint64_t *index,
		 struct bw_err *err);

/*
 * Appends n entries (each 1..65535 bytes) as consecutive indices in one
 * group and waits until all are durable; *first (optional) receives the
 * first one's index.
 */
int audit_append_batch(struct audit_log *al, const void *const *entries, const size_t *lens, size_t n, uint64_t *first,
		       struct bw_err *err);

/*
 * Rotates the log's key: entry (the log.key_transition event naming next,
 * serialised by the caller) becomes the log's last entry, is integrated,
 * and the log is handed over to next (tlog_store_rekey: from the handover
 * checkpoint on, next signs). Other appends wait meanwhile, and until
 * handed_over (optional) returns: the caller's own switch to next (its
 * verifier published) happens before any checkpoint only next signed. Takes
 * next (also on failure); *index (optional) receives the entry's index as
 * soon as it is durable (also when the handover then fails).
 */
int audit_log_rekey(struct audit_log *al, const void *entry, size_t len, struct note_signer *next,
		    int (*handed_over)(void *ctx, struct bw_err *err), void *ctx, uint64_t *index, struct bw_err *err);

/* A copy of the latest durable signed checkpoint (caller frees). */
char *audit_log_checkpoint(struct audit_log *al, size_t *len);

/* Files past the checkpoint that opening the log set aside (see tlog_store_discarded). */
size_t audit_log_recovered(struct audit_log *al, const char **where);

/* Size of the last durable checkpoint (integrated entries: readable through tiles and proofs). */
uint64_t audit_log_size(struct audit_log *al);

/* What the commit thread did since the start: groups written (each one journal write and fdatasync), entries. */
#define AUDIT_LATENCY_BUCKETS 10
struct audit_stats {
	uint64_t commits, entries;
	uint64_t durable;				/* the log's size counting every acknowledged entry */
	double commit_seconds;				/* the writes' time, summed */
	uint64_t commit_buckets[AUDIT_LATENCY_BUCKETS];	/* cumulative: writes that took at most each bound */
};
void audit_log_stats(struct audit_log *al, struct audit_stats *out);
/* The bounds (seconds) of the buckets of audit_stats, ascending. */
const double *audit_latency_bounds(void);
/* Deletes the entry bundles of entries below upto (tlog_store_prune: hash tiles stay). */
int audit_log_prune(struct audit_log *al, uint64_t upto, uint64_t *pruned_before, struct bw_err *err);
/*
 * Waits until every event acknowledged so far is integrated (in tiles under a
 * durable checkpoint), asking the commit thread to integrate now: for readers
 * that must see their own writes, and for proofs handed out.
 */
int audit_log_sync(struct audit_log *al, struct bw_err *err);

#endif /* BW_AUDIT_H */
