/* server/routes_witness.c: this server as a witness for other logs (c2sp.org/tlog-witness). */
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* POST /witness/add-checkpoint: old size, consistency proof, checkpoint; the answer is the spec's. */
static void
h_add_checkpoint(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_witness_reply rep;
	struct bw_err err = { 0 };

	(void)body;
	if (ops_witness_add(&x, rq->body.data, rq->body.len, &rep, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_text(rq, rep.status, rep.type, rep.body, rep.len);
}

/* GET /witness/key: the verifier key of this server's cosignatures (type 0x04). */
static void
h_witness_key(struct request *rq, json_t *body)
{
	(void)body;
	reply_line(rq, rq->s->in->witness_vkey);
}

/*
 * GET /api/v1/witness: the logs witnessed here, their sizes cosigned and
 * forks seen; and "own_log", this server's log asking its witnesses (null
 * when none are configured).
 */
static void
h_witness_status(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct witdb_log *logs = NULL;
	struct bw_err err = { 0 };
	json_t *arr, *o;
	size_t n = 0, i;

	(void)body;
	if (ops_witness_status(&x, &logs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}", "origin", logs[i].origin, "size",
						     (json_int_t)logs[i].size, "updated_at", (json_int_t)logs[i].updated_at,
						     "forks", (json_int_t)logs[i].forks));
	free(logs);
	o = json_pack("{s:s, s:o, s:o}", "key", rq->s->in->witness_vkey, "logs", arr, "own_log",
		      rq->s->cosigner != NULL ? cosigner_status(rq->s->cosigner) : json_null());
	reply_json(rq, 200, o);
}

static const struct route witness_routes[] = {
	{ .method = "POST", .pattern = "/witness/add-checkpoint", .fn = h_add_checkpoint, .op = OP_WITNESS_ADD,
	  .raw_body = true },
	{ .method = "GET", .pattern = "/witness/key", .fn = h_witness_key, .op = OP_WITNESS_KEY },
	{ .method = "GET", .pattern = "/api/v1/witness", .fn = h_witness_status, .op = OP_WITNESS_STATUS },
};
const struct route_table witness_route_table = { witness_routes, sizeof witness_routes / sizeof witness_routes[0] };
