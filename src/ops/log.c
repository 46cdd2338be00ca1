/* ops/log.c: reading the audit trail through the API (an audited read for auditors and admins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "tlog/tlog.h"

/* Index, event and optional inclusion proof of entry i. */
static int
entry_json(struct tlog_tiles *t, struct bw_sha256 *h, uint64_t size, uint64_t i, bool proofs, json_t **out,
	   struct bw_err *err)
{
	uint8_t *e = NULL;
	size_t elen, k;
	json_t *ev, *item;
	int r;

	*out = NULL;
	if ((r = tlog_tiles_read_entry(t, size, i, &e, &elen, err)) != 0)
		return r;
	ev = json_loadb((char *)e, elen, 0, NULL);
	item = json_pack("{s:I, s:o}", "index", (json_int_t)i, "event", ev ? ev : json_stringn((char *)e, elen));
	if (item != NULL && proofs) {
		/* the entry's exact bytes: what its leaf hash is of, for a verifier that does not trust this server */
		char *b64 = malloc(bw_base64_len(elen) + 1);
		if (b64 != NULL) {
			bw_base64_encode(b64, e, elen);
			json_object_set_new(item, "entry", json_string(b64));
		}
		free(b64);
	}
	free(e);
	if (item == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (proofs) {
		struct tlog_reader rd = tlog_tiles_reader(t, size);
		struct tlog_proof p;
		json_t *pa = json_array();
		if ((r = tlog_prove_inclusion(h, &rd, i, size, &p, err)) != 0) {
			json_decref(item);
			json_decref(pa);
			return r;
		}
		for (k = 0; k < p.n; k++) {
			char b64[48];
			bw_base64_encode(b64, p.h[k].b, 32);
			json_array_append_new(pa, json_string(b64));
		}
		json_object_set_new(item, "proof", pa);
	}
	*out = item;
	return 0;
}

int
ops_audit_read(struct ops_ctx *x, const uint64_t *from_p, const uint64_t *to, bool proofs, bool cosigned, json_t **out,
	       struct bw_err *err)
{
	struct tlog_tiles *t = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct note_verifier **keys = NULL;	/* every key of the log: a cosigned checkpoint may be an earlier key's */
	size_t nkeys = 0;
	struct bw_sha256 *h = NULL;
	uint8_t *note = NULL;
	uint64_t from = 0, end = 0, i;
	size_t len = 0;
	json_t *events = NULL;
	struct event ev;
	int r;

	*out = NULL;
	r = ops_begin(x, OP_AUDIT_READ, &ev, err);
	/* Every acknowledged event readable first: a reader sees everything recorded before the read. */
	if (r == 0 && x->al != NULL)
		r = audit_log_sync(x->al, err);
	if (r == 0)
		r = ops_log_keys_all(x->in, &keys, &nkeys, err);
	if (r == 0 && cosigned &&
	    (r = tlog_cosigned_load(x->in->log_dir, keys, nkeys, &note, &len, &cp, err)) == BW_ENOTFOUND)
		r = bw_err_set(err, BW_ENOTFOUND, "no checkpoint cosigned by the witnesses yet");
	if (r == 0 && ((!cosigned && (r = tlog_checkpoint_load(x->in->log_dir, keys, nkeys, &note, &len, &cp, err)) != 0) ||
		       (r = tlog_tiles_open(x->in->log_dir, &t, err)) != 0 || (r = bw_sha256_new(&h, err)) != 0))
		goto done;
	if (r == 0) {
		end = to == NULL || *to > cp.size ? cp.size : *to;
		/* Without from: the latest page ending at to. */
		from = from_p != NULL ? *from_p : end > OPS_AUDIT_READ_MAX ? end - OPS_AUDIT_READ_MAX : 0;
		ev_target(&ev, "audit:%llu-%llu", (unsigned long long)from, (unsigned long long)end);
		if (from > end || end - from > OPS_AUDIT_READ_MAX)
			r = bw_err_set(err, BW_EINVAL, "need from <= to and at most %d events per request (log size %llu)",
				       OPS_AUDIT_READ_MAX, (unsigned long long)cp.size);
	}
	if (r == 0 && (events = json_array()) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = from; r == 0 && i < end; i++) {
		json_t *item;
		if ((r = entry_json(t, h, cp.size, i, proofs, &item, err)) == 0)
			json_array_append_new(events, item);
	}
	if (r == 0 && (*out = json_pack("{s:I, s:I, s:I, s:s%, s:s, s:O}", "size", (json_int_t)cp.size, "from",
					(json_int_t)from, "to", (json_int_t)end, "checkpoint", (char *)note, len,
					"log_vkey", instance_log_vkey(x->in), "events", events)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	/* the witness policy the server asks its witnesses under: a verifier pins it, as it pins the log key */
	if (r == 0 && x->env != NULL && x->env->witness_policy_text != NULL)
		json_object_set_new(*out, "witness_policy", json_string(x->env->witness_policy_text));
	/* Cursors: the page before (from) and after (to) this one, when there is one. */
	if (r == 0 && from > 0)
		json_object_set_new(*out, "prev", json_pack("{s:I, s:I}", "from",
							  (json_int_t)(from > OPS_AUDIT_READ_MAX ? from - OPS_AUDIT_READ_MAX : 0),
							  "to", (json_int_t)from));
	if (r == 0 && end < cp.size)
		json_object_set_new(*out, "next", json_pack("{s:I, s:I}", "from", (json_int_t)end, "to",
							  (json_int_t)(cp.size - end > OPS_AUDIT_READ_MAX ? end + OPS_AUDIT_READ_MAX
													 : cp.size)));
done:
	ops_log_keys_free(keys, nkeys);
	json_decref(events);
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
	/* Reading the audit trail is itself audited. */
	r = ops_finish(x, OP_AUDIT_READ, &ev, r, err);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

int
ops_log_witness_alarm(struct ops_ctx *x, const char *witness, const char *reason, struct bw_err *err)
{
	struct ev_origin o = ops_origin(x->caller);
	struct event ev;
	int r;

	ev_init(&ev, EV_LOG_WITNESS_ALARM, &o);
	ev_target(&ev, "witness:%.200s", witness);
	ev_str(&ev, EVF_REASON, reason);
	ev.result = EV_ALERT;
	r = ops_record_extra(x, &ev, err);
	ev_clear(&ev);
	return r;
}
