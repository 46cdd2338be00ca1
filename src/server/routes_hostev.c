/* server/routes_hostev.c: host events: agents' batches and heartbeats, and the search. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Replies to a refused or failed operation: 400 for a malformed request, else by its code. */
static void
reply_op_error(struct request *rq, const struct bw_err *err)
{
	unsigned st = err->code == BW_EINVAL ? 400 : status_for_err(err->code);

	if (err->code == BW_EBUSY) {
		rq->retry_after = 1;
		st = 503;
	}
	reply_error(rq, st, "%s", st >= 500 && err->code != BW_EBUSY ? "host-event log unavailable; send again" : err->msg);
}

/* POST /api/v1/agent/events: a batch of host events from the calling host's agent. */
static void
h_agent_events(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct hostev_batch b;
	struct ops_host_events_ack ack;
	struct bw_err err = { 0 };
	json_t *out;

	(void)body;
	ev_target(&rq->ev, "host:%.64s", rq->caller.host);
	if (hostev_batch_parse(rq->body.data, rq->body.len, &b, &err) != 0) {
		hostev_batch_clear(&b);
		reply_error(rq, 400, "%s", err.msg);
		return;
	}
	if (ops_host_events(&x, &b, &ack, &err) != 0) {
		hostev_batch_clear(&b);
		reply_op_error(rq, &err);
		return;
	}
	out = json_pack("{s:I, s:I, s:b}", "seq", (json_int_t)ack.seq, "events", (json_int_t)b.n, "duplicate",
			ack.duplicate);
	if (!ack.duplicate)
		json_object_set_new(out, "indices", json_pack("[[I, I]]", (json_int_t)ack.first_index,
							      (json_int_t)ack.logged));
	hostev_batch_clear(&b);
	reply_json(rq, 200, out);
}

/* POST /api/v1/agent/heartbeat: the calling host's agent's counters and clock. */
static void
h_agent_heartbeat(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct hostev_heartbeat hb;
	struct bw_err err = { 0 };
	int64_t skew = 0;

	(void)body;
	ev_target(&rq->ev, "host:%.64s", rq->caller.host);
	if (hostev_heartbeat_parse(rq->body.data, rq->body.len, &hb, &err) != 0) {
		reply_error(rq, 400, "%s", err.msg);
		return;
	}
	if (ops_host_heartbeat(&x, &hb, &skew, &err) != 0) {
		reply_op_error(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:I}", "time", (json_int_t)bw_now_ms(), "skew_ms", (json_int_t)skew));
}

static const char *
arg(struct request *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);

	return v != NULL && v[0] ? v : NULL;
}

/* A query parameter that is a time: RFC 3339 UTC or milliseconds since the epoch. */
static bool
arg_time(struct request *rq, const char *name, int64_t *out)
{
	const char *v = arg(rq, name);
	uint64_t u;

	*out = 0;
	if (v == NULL)
		return true;
	if (bw_parse_u64(v, strlen(v), &u) == 0 && u <= INT64_MAX) {
		*out = (int64_t)u;
		return true;
	}
	return bw_time_parse_ms(v, strlen(v), out);
}

/* GET /api/v1/events?host=&source=&subject=&action=&text=&from=&to=&before=&limit=: host events, newest first. */
static void
h_events_search(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct hostdb_query q = { .host = arg(rq, "host"), .source = arg(rq, "source"), .subject = arg(rq, "subject"),
				  .action = arg(rq, "action"), .text = arg(rq, "text"), .limit = 100 };
	struct ops_host_event_hit *hits = NULL;
	struct bw_err err = { 0 };
	const char *lim = arg(rq, "limit"), *before = arg(rq, "before");
	uint64_t u;
	size_t n = 0, i;
	json_t *arr;

	(void)body;
	if (lim != NULL && (bw_parse_u64(lim, strlen(lim), &u) != 0 || u == 0 || u > 1000)) {
		reply_error(rq, 400, "limit must be 1 to 1000");
		return;
	}
	if (lim != NULL)
		q.limit = (size_t)u;
	if (before != NULL && (bw_parse_u64(before, strlen(before), &q.before_index) != 0 || q.before_index == 0)) {
		reply_error(rq, 400, "before must be a log index above 0");
		return;
	}
	if (!arg_time(rq, "from", &q.from_ms) || !arg_time(rq, "to", &q.to_ms)) {
		reply_error(rq, 400, "from and to must be RFC 3339 UTC times or milliseconds since the epoch");
		return;
	}
	if (ops_host_events_search(&x, &q, &hits, &n, &err) != 0) {
		reply_op_error(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		const struct hostdb_hit *h = &hits[i].row;
		json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s%}", "index", (json_int_t)h->index,
				      "host", h->host, "time", (json_int_t)h->time_ms, "received",
				      (json_int_t)h->received_ms, "source", h->source, "subject", h->subject, "action",
				      h->action, "object", h->object, "result", h->result, "raw", hits[i].raw,
				      hits[i].raw_len);
		if (o != NULL && hits[i].truncated)
			json_object_set_new(o, "truncated", json_integer(hits[i].truncated));
		json_array_append_new(arr, o);
	}
	{
		json_t *out = json_pack("{s:o}", "events", arr);
		if (n == q.limit && n > 0)
			json_object_set_new(out, "next_before", json_integer((json_int_t)hits[n - 1].row.index));
		ops_host_event_hits_free(hits, n);
		reply_json(rq, 200, out);
	}
}

/* GET /hostlog/checkpoint: the host-event log's latest signed checkpoint (public: hashes only). */
static void
h_hostlog_checkpoint(struct request *rq, json_t *body)
{
	size_t len = 0;
	char *cp;

	(void)body;
	if (rq->s->env.hostev == NULL) {
		reply_error(rq, 404, "host events are not collected here");
		return;
	}
	if ((cp = audit_log_checkpoint(ops_hostev_log(rq->s->env.hostev), &len)) == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_text(rq, 200, "text/plain; charset=utf-8", cp, len);
}

/* GET /hostlog/tile/...: its hash tiles (public). */
static void
h_hostlog_tile(struct request *rq, json_t *body)
{
	(void)body;
	server_serve_tile(rq, "/hostlog/", rq->s->in->hostlog_dir, false);
}

/* GET /api/v1/hostlog/tile/entries/...: its entry bundles (the host events themselves: auditors and admins). */
static void
h_hostlog_entries(struct request *rq, json_t *body)
{
	(void)body;
	rq->path += strlen("/api/v1");
	server_serve_tile(rq, "/hostlog/", rq->s->in->hostlog_dir, true);
	rq->path -= strlen("/api/v1");
}

/* POST /api/v1/hostlog/prune {"older_than_secs"}: retention, now. */
static void
h_hostlog_prune(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_prune_result res;
	struct bw_err err = { 0 };
	json_int_t secs = -1;

	if (!request_unpack(rq, body, "{s:I}", "older_than_secs", &secs))
		return;
	if (secs < 0 || secs > (json_int_t)100 * 366 * 86400) {
		reply_error(rq, 422, "older_than_secs must be 0 to 3162240000");
		return;
	}
	if (ops_hostlog_prune(&x, bw_now_ms() - (int64_t)secs * 1000, &res, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:I, s:I}", "entries", (json_int_t)res.entries, "pruned_upto",
				      (json_int_t)res.pruned_upto, "newest", (json_int_t)res.newest_ms));
}

/* ---- routes: transport facts; the permission is the operation's (ops_table.def) ---- */

static const struct route hostev_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/agent/events", .fn = h_agent_events, .op = OP_HOST_EVENTS,
	  .raw_json_body = true, .body_max = HOSTEV_BATCH_BODY_MAX, .gzip_body = true },
	{ .method = "POST", .pattern = "/api/v1/agent/heartbeat", .fn = h_agent_heartbeat, .op = OP_HOST_HEARTBEAT,
	  .raw_json_body = true },
	{ .method = "GET", .pattern = "/api/v1/events", .fn = h_events_search, .op = OP_HOST_EVENTS_SEARCH },
	{ .method = "GET", .pattern = "/hostlog/checkpoint", .fn = h_hostlog_checkpoint, .op = OP_LOG_CHECKPOINT },
	{ .method = "GET", .pattern = "/hostlog/tile/*", .fn = h_hostlog_tile, .op = OP_LOG_TILE },
	{ .method = "GET", .pattern = "/api/v1/hostlog/tile/entries/*", .fn = h_hostlog_entries, .op = OP_LOG_ENTRIES },
	{ .method = "POST", .pattern = "/api/v1/hostlog/prune", .fn = h_hostlog_prune, .op = OP_HOSTLOG_PRUNE,
	  .json_body = true },
};
const struct route_table hostev_route_table = { hostev_routes, sizeof hostev_routes / sizeof hostev_routes[0] };
