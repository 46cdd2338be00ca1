/*
 * ops/host_retention.c: retention of the host-event log. The oldest entry
 * bundles whose every event arrived before a cutoff are deleted (hash
 * tiles stay: the tree, its checkpoints and proofs still verify), never
 * past what the index and the detection have taken from the log. The index
 * forgets them first, then the log prunes: a crash in between is finished
 * by the next prune or the next start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

#define PRUNE_MAX_BUNDLES 4096	/* per call: 1,048,576 entries; the next call goes on */

struct bundle_rows {
	struct hostev_entry ents[TLOG_TILE_WIDTH];
	struct hostdb_event rows[TLOG_TILE_WIDTH];
	size_t n;
	bool unreadable;	/* an entry that does not parse: its arrival is unknown */
};

static int
collect(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct bundle_rows *b = ctx;
	struct bw_err perr = { 0 };

	if (ops_hostev_entry_row(index, entry, len, &b->ents[b->n], &b->rows[b->n], &perr) != 0)
		b->unreadable = true;
	else
		b->n++;
	return 0;
}

static void
rows_clear(struct bundle_rows *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		hostev_entry_clear(&b->ents[i]);
	b->n = 0;
	b->unreadable = false;
}

/* How far pruning may go: full bundles the index and the detection are past. */
static int
prune_limit(struct ops_hostev *h, uint64_t *limit, struct bw_err *err)
{
	uint64_t v;
	int r;

	*limit = audit_log_size(h->log);
	if ((r = hostdb_indexed_upto(h->db, &v, err)) != 0)
		return r;
	if (v < *limit)
		*limit = v;
	r = hostdb_meta_get(h->db, "detected_upto", &v, err);
	if (r == BW_ENOTFOUND) {
		bw_err_clear(err);
	} else if (r != 0) {
		return r;
	} else if (v < *limit) {
		*limit = v;
	}
	*limit -= *limit % TLOG_TILE_WIDTH;
	return 0;
}

int
ops_hostlog_prune(struct ops_ctx *x, int64_t before_ms, struct ops_prune_result *res, struct bw_err *err)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	struct bundle_rows *b = NULL;
	struct event ev;
	uint64_t limit = 0, had = 0, upto, n;
	int r;

	memset(res, 0, sizeof *res);
	r = ops_begin(x, OP_HOSTLOG_PRUNE, &ev, err);
	ev_target(&ev, "hostlog");
	if (r == 0 && h == NULL)
		r = bw_err_set(err, BW_ECONFLICT, "host events are not collected here");
	if (r == 0 && (b = calloc(1, sizeof *b)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r == 0 && (r = tlog_pruned(h->dir, &had, err)) == 0)
		r = prune_limit(h, &limit, err);
	upto = had;
	/* Bundle by bundle from the first one left: each goes when its newest event came before the cutoff. */
	for (n = had / TLOG_TILE_WIDTH; r == 0 && (n + 1) * TLOG_TILE_WIDTH <= limit &&
					 n - had / TLOG_TILE_WIDTH < PRUNE_MAX_BUNDLES;
	     n++) {
		uint64_t next = 0;
		size_t i;
		int64_t newest = 0;
		if ((r = ops_hostev_read(h, n * TLOG_TILE_WIDTH, TLOG_TILE_WIDTH, collect, b, &next, err)) != 0)
			break;
		for (i = 0; i < b->n; i++)
			if (b->rows[i].received_ms > newest)
				newest = b->rows[i].received_ms;
		if (b->unreadable || next != (n + 1) * TLOG_TILE_WIDTH || newest >= before_ms) {
			rows_clear(b);
			break;
		}
		if ((r = hostdb_unindex(h->db, b->rows, b->n, (n + 1) * TLOG_TILE_WIDTH, err)) == 0) {
			upto = (n + 1) * TLOG_TILE_WIDTH;
			res->entries += TLOG_TILE_WIDTH;
			if (newest > res->newest_ms)
				res->newest_ms = newest;
		}
		rows_clear(b);
	}
	free(b);
	if (r == 0 && upto > had) {
		pthread_mutex_lock(&h->tiles_mu);	/* no search reads a bundle while it goes */
		r = audit_log_prune(h->log, upto, NULL, err);
		pthread_mutex_unlock(&h->tiles_mu);
	}
	res->pruned_upto = upto;
	if (r == 0) {
		ev_int(&ev, EVF_COUNT, (int64_t)res->entries);
		if (res->newest_ms > 0)
			ev_int(&ev, EVF_LAST_AT, res->newest_ms);
		ev_int(&ev, EVF_PRUNED_UPTO, (int64_t)upto);
		if (res->entries == 0 && x->caller->via == OPS_VIA_SYSTEM) {
			ev_clear(&ev);	/* the periodic run records only what it pruned */
			return 0;
		}
	}
	return ops_finish(x, OP_HOSTLOG_PRUNE, &ev, r, err);
}

int
ops_hostlog_prune_finish(struct ops_hostev *h, struct bw_err *err)
{
	uint64_t indexed = 0, logged = 0, at = 0;
	int r = hostdb_meta_get(h->db, "pruned_upto", &indexed, err);

	if (r == BW_ENOTFOUND) {
		bw_err_clear(err);
		indexed = 0;
	} else if (r != 0) {
		return r;
	}
	if ((r = tlog_pruned(h->dir, &logged, err)) != 0)
		return r;
	if (indexed > logged)
		return audit_log_prune(h->log, indexed, NULL, err);	/* a prune a crash interrupted */
	/* an index made anew after entries were pruned begins where the entries do (only ever at open:
	 * while the server runs, pruning waits for the index) */
	if ((r = hostdb_indexed_upto(h->db, &at, err)) == 0 && at < logged)
		r = hostdb_index(h->db, NULL, 0, logged, err);
	return r;
}

void
ops_hostlog_retention(struct ops_ctx *x)
{
	struct ops_hostev *h = x->env != NULL ? x->env->hostev : NULL;
	struct ops_prune_result res;
	struct bw_err err = { 0 };
	int k = 0;

	if (h == NULL || h->opts.retention_ms <= 0 || x->caller->via != OPS_VIA_SYSTEM)
		return;
	do {	/* each call takes at most PRUNE_MAX_BUNDLES: go on while it finds more */
		if (ops_hostlog_prune(x, bw_now_ms() - h->opts.retention_ms, &res, &err) != 0) {
			EV_LOG(EVLOG_ERROR, "host-event retention failed", EV_KS("error", err.msg));
			return;
		}
	} while (res.entries == (uint64_t)PRUNE_MAX_BUNDLES * TLOG_TILE_WIDTH && ++k < 64);
}
