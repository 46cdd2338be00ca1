/*
 * ops/hostev.c: host events on the server. Batches from hosts' agents are
 * appended to the host-event log exactly once (each host's stream of
 * batches is numbered; a retried batch is recognised and not logged
 * again), indexed for search behind the log, and searched; heartbeats
 * keep each host's counters and raise events for losses, a far-off clock
 * and silence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostev/hostev.h"
#include "ops_internal.h"
#include "store/store.h"
#include "tlog/tlog.h"

/* ---- each host's stream: where its last batch stands ---- */

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct stream *
slot_of(struct stream *slots, size_t cap, const char *host)
{
	size_t i = (size_t)name_hash(host) & (cap - 1);

	while (slots[i].host[0] && strcmp(slots[i].host, host) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct stream *
ops_hostev_stream(struct ops_hostev *h, const char *host)
{
	struct stream *s;

	if ((h->used + 1) * 2 > h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256, i;
		struct stream *n = calloc(cap, sizeof *n);
		if (n == NULL)
			return NULL;
		for (i = 0; i < h->cap; i++)
			if (h->slots[i].host[0])
				*slot_of(n, cap, h->slots[i].host) = h->slots[i];
		free(h->slots);
		h->slots = n;
		h->cap = cap;
	}
	s = slot_of(h->slots, h->cap, host);
	if (!s->host[0]) {
		snprintf(s->host, sizeof s->host, "%s", host);
		h->used++;
	}
	return s;
}

/* ---- indexing behind the log ---- */

struct index_batch {
	struct hostev_entry ents[TLOG_TILE_WIDTH];
	struct hostdb_event rows[TLOG_TILE_WIDTH];
	size_t n;
};

int
ops_hostev_entry_row(uint64_t index, const void *entry, size_t len, struct hostev_entry *e, struct hostdb_event *row,
		     struct bw_err *err)
{
	if (hostev_entry_parse(entry, len, e, err) != 0) {
		hostev_entry_clear(e);
		return err->code;
	}
	*row = (struct hostdb_event){
		.index = index, .host = e->host, .epoch = e->epoch, .seq = e->seq, .n = e->n, .time_ms = e->ev.time_ms,
		.received_ms = e->received_ms, .source = e->ev.source, .subject = e->ev.subject, .action = e->ev.action,
		.object = e->ev.object, .result = e->ev.result, .raw = e->ev.raw, .raw_len = e->ev.raw_len,
	};
	return 0;
}

static int
collect_row(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct index_batch *b = ctx;
	struct bw_err perr = { 0 };

	if (ops_hostev_entry_row(index, entry, len, &b->ents[b->n], &b->rows[b->n], &perr) != 0) {
		/* Only the server writes this log: an entry it cannot read is reported, and skipped. */
		EV_LOG(EVLOG_ERROR, "host-event log: an entry does not parse", EV_KI("index", (int64_t)index),
		       EV_KS("error", perr.msg));
		return 0;
	}
	b->n++;
	return 0;
}

/* Indexes the entries from at on within one bundle; *next: where it stopped. */
static int
index_range(struct ops_hostev *h, uint64_t at, uint64_t *next, struct bw_err *err)
{
	struct index_batch *b = calloc(1, sizeof *b);
	size_t i;
	int r;

	if (b == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = ops_hostev_read(h, at, TLOG_TILE_WIDTH, collect_row, b, next, err);
	if (r == 0 && *next > at)
		r = hostdb_index(h->db, b->rows, b->n, *next, err);
	for (i = 0; i < b->n; i++)
		hostev_entry_clear(&b->ents[i]);
	free(b);
	return r;
}

int
ops_hostev_index_pending(struct ops_hostev *h, size_t max, size_t *done, struct bw_err *err)
{
	uint64_t at, size = audit_log_size(h->log);
	int r = 0;

	*done = 0;
	if ((r = hostdb_indexed_upto(h->db, &at, err)) != 0)
		return r;
	while (r == 0 && at < size && *done < max) {
		uint64_t next = at;
		if ((r = index_range(h, at, &next, err)) == 0) {
			if (next == at)
				break;
			*done += next - at;
			at = next;
		}
	}
	return r;
}

int
ops_hostev_read(struct ops_hostev *h, uint64_t from, size_t max, int (*fn)(void *ctx, uint64_t index, const void *entry,
									size_t len),
		void *ctx, uint64_t *next, struct bw_err *err)
{
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH], i;
	uint64_t size = audit_log_size(h->log), bundle, upto;
	uint8_t *data = NULL;
	int r;

	*next = from;
	if (from >= size || max == 0)
		return 0;
	bundle = from / TLOG_TILE_WIDTH;
	upto = (bundle + 1) * TLOG_TILE_WIDTH;
	if (upto > size)
		upto = size;
	if (upto > from + max)
		upto = from + max;
	pthread_mutex_lock(&h->tiles_mu);
	r = tlog_tiles_read_bundle(h->tiles, bundle, (unsigned)(upto - bundle * TLOG_TILE_WIDTH), &data, offs, lens, err);
	pthread_mutex_unlock(&h->tiles_mu);
	for (i = from % TLOG_TILE_WIDTH; r == 0 && bundle * TLOG_TILE_WIDTH + i < upto; i++) {
		if ((r = fn(ctx, bundle * TLOG_TILE_WIDTH + i, data + offs[i], lens[i])) != 0)
			break;
		*next = bundle * TLOG_TILE_WIDTH + i + 1;
	}
	free(data);
	return r;
}

uint64_t
ops_hostev_size(struct ops_hostev *h)
{
	return audit_log_size(h->log);
}

int
ops_hostev_position(struct ops_hostev *h, const char *name, uint64_t *at, struct bw_err *err)
{
	int r = hostdb_meta_get(h->db, name, at, err);
	uint64_t pruned = 0;

	if (r == BW_ENOTFOUND) {
		/* Never set (a new index): from now on, not through history (bulwark rules hunt covers that). */
		*at = audit_log_size(h->log);
		return hostdb_meta_set(h->db, name, *at, err);
	}
	if (r == 0 && (r = tlog_pruned(h->dir, &pruned, err)) == 0 && *at < pruned) {
		*at = pruned;	/* (only after the index was made anew: pruning waits for every reader) */
		r = hostdb_meta_set(h->db, name, *at, err);
	}
	return r;
}

int
ops_hostev_set_position(struct ops_hostev *h, const char *name, uint64_t at, struct bw_err *err)
{
	return hostdb_meta_set(h->db, name, at, err);
}

static int
load_streams(struct ops_hostev *h, struct bw_err *err)
{
	struct hostdb_stream *st = NULL;
	size_t n = 0, i;
	int r;

	if ((r = hostdb_streams(h->db, &st, &n, err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		struct stream *s = ops_hostev_stream(h, st[i].host);
		if (s == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		snprintf(s->epoch, sizeof s->epoch, "%s", st[i].epoch);
		s->seq = st[i].seq;
		s->logged = st[i].logged;
	}
	free(st);
	return r;
}

int
ops_hostev_open(struct instance *in, const struct ops_hostev_opts *o, struct ops_hostev **out, struct bw_err *err)
{
	struct ops_hostev *h = calloc(1, sizeof *h);
	size_t done;
	int r;

	*out = NULL;
	if (h == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	h->opts = *o;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->tiles_mu, NULL);
	if ((h->dir = strdup(in->hostlog_dir)) == NULL) {
		ops_hostev_close(h);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	r = audit_log_open(in->hostlog_dir, in->hostlog_signer, &h->log, err);
	in->hostlog_signer = NULL;	/* the log owns it now, also after a failure */
	if (r != 0 || (r = audit_log_sync(h->log, err)) != 0 || (r = hostdb_open(in->hostdb_path, &h->db, err)) != 0 ||
	    (r = tlog_tiles_open(h->dir, &h->tiles, err)) != 0) {
		bw_err_prefix(err, "host-event log");
		ops_hostev_close(h);
		return r;
	}
	/* A prune a crash cut short is finished and an index made anew begins at the pruned bound; the index
	 * catches up with the log (after a crash, or when it was deleted), then the streams are known. */
	if ((r = ops_hostlog_prune_finish(h, err)) != 0) {
		bw_err_prefix(err, "host-event log retention");
		ops_hostev_close(h);
		return r;
	}
	do {
		r = ops_hostev_index_pending(h, SIZE_MAX, &done, err);
	} while (r == 0 && done > 0);
	if (r != 0 || (r = load_streams(h, err)) != 0) {
		bw_err_prefix(err, "host-event index");
		ops_hostev_close(h);
		return r;
	}
	*out = h;
	return 0;
}

void
ops_hostev_close(struct ops_hostev *h)
{
	if (h == NULL)
		return;
	audit_log_close(h->log);
	hostdb_close(h->db);
	tlog_tiles_free(h->tiles);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->tiles_mu);
	free(h->slots);
	free(h->dir);
	free(h);
}

struct audit_log *
ops_hostev_log(struct ops_hostev *h)
{
	return h->log;
}

/* ---- a batch from a host's agent ---- */

/*
 * What to log of batch b from the stream s: events [*from, b->n), or
 * nothing (*from == b->n) for a batch logged before. Caller holds mu.
 */
static int
plan(struct stream *s, const struct hostev_batch *b, size_t *from, bool *new_epoch, uint64_t *gap, struct bw_err *err)
{
	*from = 0;
	*new_epoch = false;
	*gap = 0;
	if (s->busy)
		return bw_err_set(err, BW_EBUSY, "a batch of this host is being logged now; send again");
	if (!s->epoch[0] || strcmp(s->epoch, b->epoch) != 0) {
		if (b->seq != 1)
			return bw_err_set(err, BW_ECONFLICT, "expected seq 1 (epoch %s is new here)", b->epoch);
		*new_epoch = s->epoch[0] != '\0';
		return 0;
	}
	if (b->seq == s->seq) {
		*from = s->logged < b->n ? s->logged : b->n;	/* all, or the part a crash kept from the log */
		return 0;
	}
	if (b->seq < s->seq)
		return bw_err_set(err, BW_ECONFLICT, "batch %llu is behind the last one logged (%llu)",
				  (unsigned long long)b->seq, (unsigned long long)s->seq);
	*gap = b->seq - s->seq - 1;	/* batches the agent set aside: said, never silent */
	return 0;
}

static int
log_events(struct ops_hostev *h, const char *host, const struct hostev_batch *b, size_t from, uint64_t *first,
	   struct bw_err *err)
{
	size_t n = b->n - from, i;
	char **texts = calloc(n, sizeof *texts);
	size_t *lens = calloc(n, sizeof *lens);
	int64_t now = bw_now_ms();
	int r = 0;

	if (texts == NULL || lens == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; r == 0 && i < n; i++) {
		struct hostev_entry e = { .seq = b->seq, .n = (uint32_t)(from + i), .received_ms = now,
					  .ev = b->events[from + i] };
		snprintf(e.host, sizeof e.host, "%s", host);
		memcpy(e.epoch, b->epoch, sizeof e.epoch);
		if ((r = hostev_entry_format(&e, &texts[i], &lens[i], err)) != 0)
			bw_err_prefix(err, "event %zu", from + i + 1);
	}
	if (r == 0)
		r = audit_append_batch(h->log, (const void *const *)texts, lens, n, first, err);
	for (i = 0; texts != NULL && i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	return r;
}

/* An event about host's stream beside the operation's own (host.gap with the skipped count, host.epoch). */
static void
record_stream_event(struct ops_ctx *x, enum ev_action action, const char *host, const struct hostev_batch *b,
		    int64_t count, enum ev_result result)
{
	struct event ee;
	struct ev_origin o = ops_origin(x->caller);

	ev_init(&ee, action, &o);
	ev_target(&ee, "host:%.64s", host);
	ev_str(&ee, EVF_HOST, host);
	ev_str(&ee, EVF_EPOCH, b->epoch);
	if (count >= 0) {
		ev_int(&ee, EVF_SEQ, (int64_t)b->seq);
		ev_int(&ee, EVF_COUNT, count);
	}
	ee.result = result;
	ops_record_extra(x, &ee, NULL);
	ev_clear(&ee);
}

int
ops_host_events(struct ops_ctx *x, const struct hostev_batch *b, struct ops_host_events_ack *ack, struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	const char *host = x->caller->host;
	struct stream *s = NULL;
	struct event ev;
	bool new_epoch = false;
	uint64_t gap = 0;
	size_t from = 0;
	int r;

	memset(ack, 0, sizeof *ack);
	r = ops_begin(x, OP_HOST_EVENTS, &ev, err);
	ev_target(&ev, "host:%.64s", host);
	ev_str(&ev, EVF_HOST, host);
	ev_str(&ev, EVF_EPOCH, b->epoch);
	ev_int(&ev, EVF_SEQ, (int64_t)b->seq);
	ev_int(&ev, EVF_COUNT, (int64_t)b->n);
	if (r == 0 && h == NULL)
		r = bw_err_set(err, BW_EIO, "host events are not collected here");
	if (r == 0 && b->host[0] && strcmp(b->host, host) != 0)
		r = bw_err_set(err, BW_EDENIED, "this credential is host %s's: it may not send events of %.64s", host,
			       b->host);
	if (r == 0) {
		pthread_mutex_lock(&h->mu);
		if ((s = ops_hostev_stream(h, host)) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		else if ((r = plan(s, b, &from, &new_epoch, &gap, err)) == 0) {
			s->busy = true;
		}
		pthread_mutex_unlock(&h->mu);
	}
	if (r == 0 && from < b->n) {
		uint64_t first = 0;
		r = log_events(h, host, b, from, &first, err);
		pthread_mutex_lock(&h->mu);
		if (r == 0) {
			snprintf(s->epoch, sizeof s->epoch, "%s", b->epoch);
			s->seq = b->seq;
			s->logged = (uint32_t)b->n;
			s->first = first;
			s->count = (uint32_t)(b->n - from);
		}
		s->busy = false;
		pthread_mutex_unlock(&h->mu);
		ack->first_index = first;
		ack->logged = b->n - from;
		ev_int(&ev, EVF_FIRST_INDEX, (int64_t)first);
	} else if (r == 0) {
		pthread_mutex_lock(&h->mu);
		s->busy = false;
		ack->duplicate = true;
		pthread_mutex_unlock(&h->mu);
	}
	ack->seq = b->seq;
	if (r == 0 && gap > 0)	/* batches the agent set aside: said, never silent */
		record_stream_event(x, EV_HOST_GAP, host, b, (int64_t)gap, EV_ALERT);
	if (r == 0 && new_epoch)	/* a new stream where there was one: whatever the old had not delivered is gone */
		record_stream_event(x, EV_HOST_EPOCH, host, b, -1, EV_OK);
	return ops_finish(x, OP_HOST_EVENTS, &ev, r, err);
}

/* ---- search ---- */

void
ops_host_event_hits_free(struct ops_host_event_hit *hits, size_t n)
{
	size_t i;

	for (i = 0; hits != NULL && i < n; i++) {
		free(hits[i].row.subject);
		free(hits[i].row.action);
		free(hits[i].row.object);
		free(hits[i].row.result);
		free(hits[i].raw);
	}
	free(hits);
}

/* The last entry bundle read back for a search: hits come newest first, mostly from the same few bundles. */
struct bundle_cache {
	bool have;
	uint64_t n;
	uint8_t *data;
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH];
};

/* The raw record of entry index, read back from the log ("" when it cannot be). */
static void
read_raw(struct ops_hostev *h, uint64_t size, struct bundle_cache *bc, struct ops_host_event_hit *hit)
{
	struct hostev_entry e = { 0 };
	struct bw_err err = { 0 };
	uint64_t n = hit->row.index / TLOG_TILE_WIDTH;
	size_t i = (size_t)(hit->row.index % TLOG_TILE_WIDTH);
	int r = 0;

	if (hit->row.index >= size) {
		r = bw_err_set(&err, BW_ENOTFOUND, "not below the log's size %llu", (unsigned long long)size);
	} else if (!bc->have || bc->n != n) {
		free(bc->data);
		bc->data = NULL;
		bc->have = false;
		pthread_mutex_lock(&h->tiles_mu);
		r = tlog_tiles_read_bundle(h->tiles, n, tlog_tile_width(TLOG_TILE_ENTRIES, n, size), &bc->data, bc->offs,
					   bc->lens, &err);
		pthread_mutex_unlock(&h->tiles_mu);
		bc->have = r == 0;
		bc->n = n;
	}
	if (r == 0 && hostev_entry_parse(bc->data + bc->offs[i], bc->lens[i], &e, &err) == 0) {
		hit->raw = e.ev.raw;
		hit->raw_len = e.ev.raw_len;
		hit->truncated = e.ev.truncated;
		e.ev.raw = NULL;
	} else {
		EV_LOG(EVLOG_ERROR, "host-event log: cannot read an entry back", EV_KI("index", (int64_t)hit->row.index),
		       EV_KS("error", err.msg));
	}
	hostev_entry_clear(&e);
	if (hit->raw == NULL)
		hit->raw = strdup("");
}

int
ops_host_events_search(struct ops_ctx *x, const struct hostdb_query *q, struct ops_host_event_hit **out, size_t *n,
		       struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	struct hostdb_hit *rows = NULL;
	struct bundle_cache *bc = NULL;
	struct event ev;
	size_t nrows = 0, i;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_HOST_EVENTS_SEARCH, &ev, err);
	ev_target(&ev, "host_events:%.64s", q->host != NULL ? q->host : "*");
	if (r == 0 && h == NULL)
		r = bw_err_set(err, BW_EIO, "host events are not collected here");
	if (r == 0 && (q->limit == 0 || q->limit > 1000))
		r = bw_err_set(err, BW_EINVAL, "limit must be 1 to 1000");
	if (r == 0 && (r = hostdb_search(h->db, q, &rows, &nrows, err)) == 0 && nrows > 0 &&
	    (*out = calloc(nrows, sizeof **out)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r == 0 && nrows > 0 && (bc = calloc(1, sizeof *bc)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r == 0) {
		uint64_t size = audit_log_size(h->log);
		for (i = 0; i < nrows; i++) {
			(*out)[i].row = rows[i];
			read_raw(h, size, bc, &(*out)[i]);
		}
		*n = nrows;
		free(rows);
		rows = NULL;
		ev_int(&ev, EVF_COUNT, (int64_t)nrows);
	}
	hostdb_hits_free(rows, nrows);
	if (bc != NULL)
		free(bc->data);
	free(bc);
	r = ops_finish(x, OP_HOST_EVENTS_SEARCH, &ev, r, err);
	if (r != 0) {
		ops_host_event_hits_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}
