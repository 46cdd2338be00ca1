/*
 * tlog/sequence.c: the sequencer. An append gets the next index and a
 * framed journal record; a group of them becomes durable with one write
 * and one fdatasync (tlog_journal_write) and is acknowledged then. Each
 * durable group is handed to the integrator (integrate.c) as it is, the
 * records it already holds in memory, through the store's queue.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define TREE_MAX ((uint64_t)1 << 63)

int
tlog_store_append(struct tlog_store *s, const void *entry, size_t len, uint64_t *index, struct bw_err *err)
{
	if (atomic_load(&s->failed))
		return bw_err_set(err, BW_EIO, "the log store failed earlier; reopen it to recover");
	if (len == 0 || len > TLOG_ENTRY_MAX)
		return bw_err_set(err, BW_ERANGE, "entry of %zu bytes: entries must be 1..%d bytes", len,
				  TLOG_ENTRY_MAX);
	if (s->next >= TREE_MAX)
		return bw_err_set(err, BW_ERANGE, "the log is full (2^63 entries)");
	if (tlog_journal_add(s->j, s->next, entry, len) != 0) {
		atomic_store(&s->failed, 1);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	*index = s->next++;
	return 0;
}

uint64_t
tlog_store_pending(const struct tlog_store *s)
{
	return s->next - atomic_load(&s->sequenced);
}

uint64_t
tlog_store_durable(const struct tlog_store *s)
{
	return atomic_load(&s->sequenced);
}

void
tlog_store_backlog(const struct tlog_store *s, uint64_t *entries, uint64_t *bytes)
{
	uint64_t done = atomic_load(&s->committed);

	*entries = atomic_load(&s->sequenced) - done;
	*bytes = atomic_load(&s->backlog_bytes);
}

int
tlog_store_sequence_take(struct tlog_store *s, struct tlog_group *g, struct bw_err *err)
{
	memset(g, 0, sizeof *g);
	if (atomic_load(&s->failed))
		return bw_err_set(err, BW_EIO, "the log store failed earlier; reopen it to recover");
	if ((g->batch = calloc(1, sizeof *g->batch)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	tlog_journal_take(s->j, &g->batch->records);
	g->first = atomic_load(&s->sequenced);
	g->upto = s->next;
	return 0;
}

int
tlog_store_sequence_write(struct tlog_store *s, const struct tlog_group *g, struct bw_err *err)
{
	/* Touches only the journal's file: appends may run meanwhile (the caller's failed check came at take). */
	return tlog_journal_write(s->j, &g->batch->records, g->first, err);
}

void
tlog_store_sequence_done(struct tlog_store *s, struct tlog_group *g, int rc)
{
	struct tlog_seq_batch *b = g->batch;

	g->batch = NULL;
	if (b == NULL)
		return;
	if (rc != 0 || b->records.len == 0) {
		if (rc != 0)
			atomic_store(&s->failed, 1);
		bw_buf_free(&b->records);
		free(b);
		return;
	}
	/* Acknowledged: hand the group to the integrator. */
	pthread_mutex_lock(&s->mu);
	*s->queue_tail = b;
	s->queue_tail = &b->next;
	atomic_fetch_add(&s->backlog_bytes, b->records.len);
	atomic_store(&s->sequenced, g->upto);
	pthread_mutex_unlock(&s->mu);
}

int
tlog_store_sequence(struct tlog_store *s, struct bw_err *err)
{
	struct tlog_group g;
	int r;

	if (atomic_load(&s->failed))
		return bw_err_set(err, BW_EIO, "the log store failed earlier; reopen it to recover");
	if (s->next == atomic_load(&s->sequenced))
		return 0;
	if ((r = tlog_store_sequence_take(s, &g, err)) != 0)
		return r;
	r = tlog_store_sequence_write(s, &g, err);
	tlog_store_sequence_done(s, &g, r);
	return r;
}

int
tlog_group_foreach(const struct tlog_group *g, int (*fn)(void *ctx, uint64_t index, const void *entry, size_t len),
		   void *ctx)
{
	return store_records_foreach(&g->batch->records, fn, ctx);
}

int
store_records_foreach(const struct bw_buf *b, int (*fn)(void *ctx, uint64_t index, const void *entry, size_t len),
		      void *ctx)
{
	size_t off = 0;

	while (off < b->len) {
		uint64_t index;
		const uint8_t *entry;
		size_t len, n = tlog_journal_record(b->data + off, b->len - off, &index, &entry, &len);
		int r;
		if (n == 0)
			return BW_ECORRUPT;
		if ((r = fn(ctx, index, entry, len)) != 0)
			return r;
		off += n;
	}
	return 0;
}

void
store_queue_free(struct tlog_store *s)
{
	struct tlog_seq_batch *b, *next;

	for (b = s->queue; b != NULL; b = next) {
		next = b->next;
		bw_buf_free(&b->records);
		free(b);
	}
	s->queue = NULL;
	s->queue_tail = &s->queue;
}
