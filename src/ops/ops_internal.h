/* ops/ops_internal.h: what the operation files share (not part of the module contract). */
#ifndef BW_OPS_INTERNAL_H
#define BW_OPS_INTERNAL_H

#include "ops.h"
#include "hostev/hostev.h"
#include "store/store.h"
#include "tlog/tlog.h"

/* Seconds since the epoch: the time operations store and compare. */
int64_t ops_now(void);
/* The time in microseconds (TAXII dates added). */
int64_t ops_now_us(void);

/*
 * Starts op's event (origin: x's caller) in *ev and checks the permission
 * table: 0, or BW_EDENIED when the caller may not (pass it to ops_finish,
 * which audits the refusal).
 */
int ops_begin(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err);
/*
 * Opens the operation's store transaction (after slow work such as Argon2id
 * that must not hold the store); ops_finish ends it.
 */
int ops_tx_open(struct ops_ctx *x, struct bw_err *err);
/* ops_begin, then (when admitted) opens the operation's store transaction; ops_finish ends it. */
int ops_begin_tx(struct ops_ctx *x, enum op_id op, struct event *ev, struct bw_err *err);
/*
 * Ends an operation with outcome rc: sets the event's result and records
 * it durably; with a transaction open, a success's event is durable before
 * the COMMIT (the transaction rolls back when it cannot be recorded; a
 * failed COMMIT is followed by a "failed" event) and a refusal's after the
 * ROLLBACK. Clears ev. Returns rc, or the log's or COMMIT's error.
 */
int ops_finish(struct ops_ctx *x, enum op_id op, struct event *ev, int rc, struct bw_err *err);

/* ops_finish for an operation that completed (rc 0) with another outcome than ok (a denied sign-in). */
int ops_finish_as(struct ops_ctx *x, enum op_id op, struct event *ev, enum ev_result result, struct bw_err *err);

/* Records an extra event inside the operation (e.g. access.issued); fails like ops_finish would. */
int ops_record_extra(struct ops_ctx *x, struct event *ev, struct bw_err *err);

/*
 * The part of adding that must wait for a second admin (see
 * OPS_PRIVILEGED_ROLES): recorded as a pending role grant for user_id inside
 * x's transaction (*pending, *grant_id); 0 when it can apply at once.
 */
int ops_grant_split(struct ops_ctx *x, int64_t user_id, unsigned adding, unsigned *pending, int64_t *grant_id,
		    struct bw_err *err);

/* ---- the host-event side of a running server (hostev.c, host_health.c) ---- */

/* Each host's stream of batches: where its last batch stands. */
struct stream {
	char host[72];			/* "" : a free slot */
	char epoch[40];
	uint64_t seq;			/* the last batch logged (or being logged) */
	uint32_t logged;		/* how many of its events are in the log */
	bool busy;			/* a request is logging a batch of this host now */
	uint64_t first;			/* the index of the first event logged by the last request (with count) */
	uint32_t count;
	int clock_reported;		/* host.clock said for this direction (-1 behind, 1 ahead), until it is back */
};

struct ops_hostev {
	struct audit_log *log;
	struct bw_hostdb *db;
	char *dir;
	struct ops_hostev_opts opts;
	pthread_mutex_t mu;		/* the streams */
	struct stream *slots;
	size_t cap, used;
	pthread_mutex_t tiles_mu;	/* reading entries back (search, indexing) */
	struct tlog_tiles *tiles;
};

/* A host-event log entry parsed into e, and the index row that borrows e's strings; e cleared on failure. */
int ops_hostev_entry_row(uint64_t index, const void *entry, size_t len, struct hostev_entry *e, struct hostdb_event *row,
			 struct bw_err *err);
/* The stream of host in h, created empty when new; NULL when out of memory. Caller holds h->mu. */
struct stream *ops_hostev_stream(struct ops_hostev *h, const char *host);

/*
 * A resolved threat or suspicious report's lure, with its incident's
 * indicators, as a STIX bundle (misp false) or a MISP event marked tlp; no
 * event recorded (the caller's operation records its own). *incident: the
 * report's. Caller decrefs *out.
 */
int ops_lure_export(struct ops_ctx *x, int64_t id, const char *tlp, bool misp, int64_t *incident, json_t **out,
		    struct bw_err *err);

/* Text from outside: valid UTF-8, no control characters but tab and newline (lines true), at most max bytes. */
bool ops_text_ok(const char *s, size_t max, bool lines);

#endif
