/*
 * ops/witness.c: this server as a witness for other logs (c2sp.org/tlog-
 * witness): add-checkpoint answered by the spec's checks (witness module),
 * the new size stored atomically and durably before the cosignature goes
 * out, and a fork kept as evidence and raised as an alert.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "witness/witness.h"

struct ops_witness {
	struct bw_witdb *db;
	struct witness_log logs[OPS_WITNESS_LOGS_MAX];
	size_t nlogs;
	const struct note_signer *signer;	/* the instance's */
};

int
ops_witness_open(struct instance *in, const char *const *vkeys, size_t n, struct ops_witness **out,
		 struct bw_err *err)
{
	struct ops_witness *w = calloc(1, sizeof *w);
	size_t i, k;
	int r = 0;

	*out = NULL;
	if (w == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (n > OPS_WITNESS_LOGS_MAX)
		r = bw_err_set(err, BW_EINVAL, "at most %d logs to witness", OPS_WITNESS_LOGS_MAX);
	for (i = 0; r == 0 && i < n; i++) {
		struct note_verifier *v = NULL;
		if ((r = note_verifier_parse(vkeys[i], strlen(vkeys[i]), &v, err)) != 0) {
			bw_err_prefix(err, "log to witness %zu", i + 1);
			break;
		}
		if (v->alg != NOTE_ALG_ED25519) {
			note_verifier_free(v);
			r = bw_err_set(err, BW_EINVAL, "log to witness %zu: a log's key is of type 0x01", i + 1);
			break;
		}
		for (k = 0; k < w->nlogs; k++)
			if (strcmp(w->logs[k].origin, v->name) == 0)
				break;
		if (k < w->nlogs) {
			note_verifier_free(v);
			r = bw_err_set(err, BW_EINVAL, "log to witness %zu: %s is named twice", i + 1, v->name);
			break;
		}
		w->logs[w->nlogs++] = (struct witness_log){ v->name, v };	/* a log's origin is its key's name */
	}
	if (r == 0)
		r = witdb_open(in->witness_db_path, &w->db, err);
	if (r != 0) {
		ops_witness_close(w);
		return r;
	}
	w->signer = in->witness_signer;
	*out = w;
	return 0;
}

void
ops_witness_close(struct ops_witness *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nlogs; i++)
		note_verifier_free(w->logs[i].key);
	witdb_close(w->db);
	free(w);
}

static int
seen_of(void *ctx, size_t log, struct witness_seen *out, struct bw_err *err)
{
	struct ops_witness *w = ctx;
	struct bw_sha256 *h = NULL;
	int r = witdb_seen(w->db, w->logs[log].origin, &out->size, out->root.b, NULL, err);

	if (r == BW_ENOTFOUND) {
		bw_err_clear(err);
		out->size = 0;
		if ((r = bw_sha256_new(&h, err)) == 0)
			tlog_hash_empty(h, &out->root);
		bw_sha256_free(h);
	}
	return r;
}

static int
reply(struct ops_witness_reply *out, unsigned status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
reply(struct ops_witness_reply *out, unsigned status, const char *type, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	out->status = status;
	out->type = type;
	if ((out->body = strdup(text)) == NULL)
		return BW_ENOMEM;
	out->len = strlen(text);
	return 0;
}

/* A fork: both checkpoints kept, and an alert. */
static void
keep_fork(struct ops_ctx *x, struct ops_witness *w, const struct witness_decision *d, const struct witness_request *q)
{
	struct bw_err err = { 0 };
	struct ev_origin o = ops_origin(x->caller);
	struct event ev;
	char *before = NULL, *offered = strndup((const char *)q->note, q->note_len);
	uint64_t size;
	uint8_t root[32];
	int64_t n = 0;

	if (witdb_seen(w->db, d->cp.origin, &size, root, &before, &err) != 0 || offered == NULL ||
	    witdb_evidence_add(w->db, d->cp.origin, d->reason, before, offered, bw_now_ms(), &err) != 0)
		EV_LOG(EVLOG_ERROR, "witness: fork evidence not kept", EV_KS("error", err.msg));
	witdb_evidence_count(w->db, d->cp.origin, &n, &err);
	ev_init(&ev, EV_WITNESS_FORK, &o);
	ev_target(&ev, "witness:%.200s", d->cp.origin);
	ev_str(&ev, EVF_REASON, d->reason);
	ev_int(&ev, EVF_COUNT, n);
	ev.result = EV_ALERT;
	if (ops_record_extra(x, &ev, &err) != 0)
		EV_LOG(EVLOG_ERROR, "witness: the fork alert was not recorded", EV_KS("error", err.msg));
	ev_clear(&ev);
	free(before);
	free(offered);
}

int
ops_witness_add(struct ops_ctx *x, const uint8_t *body, size_t len, struct ops_witness_reply *out, struct bw_err *err)
{
	struct ops_witness *w = x->env != NULL ? x->env->witness : NULL;
	struct witness_request q;
	struct witness_decision d = { 0 };
	struct bw_err perr = { 0 };
	struct event ev;
	char *line = NULL, *note_text = NULL;
	uint64_t current;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin(x, OP_WITNESS_ADD, &ev, err);
	ev_target(&ev, "witness");
	if (r == 0 && w == NULL)
		r = reply(out, 404, "text/plain; charset=utf-8", "this server witnesses no log\n");
	else if (r == 0 && witness_request_parse(body, len, &q, &perr) != 0)
		r = reply(out, 400, "text/plain; charset=utf-8", "%s\n", perr.msg);
	else if (r == 0 && (r = witness_check(&q, w->logs, w->nlogs, seen_of, w, &d, err)) == 0) {
		if (d.fork)
			keep_fork(x, w, &d, &q);
		if (d.status == 409)
			r = reply(out, 409, "text/x.tlog.size", "%llu\n", (unsigned long long)d.known_size);
		else if (d.status != 200)
			r = reply(out, d.status, "text/plain; charset=utf-8", "%s\n", d.reason);
		else if ((note_text = strndup((const char *)q.note, q.note_len)) == NULL)
			r = BW_ENOMEM;
		else if (r == 0 && (r = witdb_advance(w->db, d.cp.origin, q.old, d.cp.size, d.cp.root.b, note_text,
						      bw_now_ms(), &current, err)) == BW_ECONFLICT) {
			bw_err_clear(err);
			r = reply(out, 409, "text/x.tlog.size", "%llu\n", (unsigned long long)current);
		} else if (r == 0 && (r = note_cosign(d.note->text, d.note->text_len, w->signer,
						      (uint64_t)(bw_now_ms() / 1000), &line, err)) == 0) {
			out->status = 200;
			out->type = "text/plain; charset=utf-8";
			out->body = line;
			out->len = strlen(line);
		}
	}
	free(note_text);
	witness_decision_clear(&d);
	if (r == BW_ENOMEM)
		bw_err_set(err, BW_ENOMEM, "out of memory");
	return ops_finish(x, OP_WITNESS_ADD, &ev, r, err);
}

int
ops_witness_status(struct ops_ctx *x, struct witdb_log **out, size_t *n, struct bw_err *err)
{
	struct ops_witness *w = x->env != NULL ? x->env->witness : NULL;
	struct witdb_log *seen = NULL;
	struct event ev;
	size_t nseen = 0, i, k;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_WITNESS_STATUS, &ev, err);
	ev_target(&ev, "witness");
	if (r == 0 && w != NULL && (r = witdb_logs(w->db, &seen, &nseen, err)) == 0 && w->nlogs > 0 &&
	    (*out = calloc(w->nlogs, sizeof **out)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; r == 0 && w != NULL && i < w->nlogs; i++) {
		struct witdb_log *l = &(*out)[(*n)++];
		snprintf(l->origin, sizeof l->origin, "%s", w->logs[i].origin);
		for (k = 0; k < nseen; k++)
			if (strcmp(seen[k].origin, l->origin) == 0)
				*l = seen[k];
	}
	free(seen);
	if (r != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ops_finish(x, OP_WITNESS_STATUS, &ev, r, err);
}
