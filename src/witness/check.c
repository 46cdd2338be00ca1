/*
 * witness/check.c: whether a checkpoint is cosigned (c2sp.org/tlog-witness
 * "Witness checks", the current text): the log known, its signature valid,
 * the old size the one cosigned last, the consistency proof from there.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "witness.h"

static void
refuse(struct witness_decision *d, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refuse(struct witness_decision *d, unsigned status, const char *fmt, ...)
{
	va_list ap;

	d->status = status;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
}

void
witness_decision_clear(struct witness_decision *d)
{
	tlog_checkpoint_clear(&d->cp);
	note_free(d->note);
	memset(d, 0, sizeof *d);
}

int
witness_check(const struct witness_request *q, const struct witness_log *logs, size_t nlogs, witness_seen_fn seen_fn,
	      void *ctx, struct witness_decision *d, struct bw_err *err)
{
	struct note *n = NULL;
	struct bw_err perr = { 0 };
	struct witness_seen seen;
	struct tlog_hash empty;
	struct bw_sha256 *h = NULL;
	size_t i;
	int r = 0;

	memset(d, 0, sizeof *d);
	if (note_parse(q->note, q->note_len, &n, &perr) != 0) {
		refuse(d, 400, "checkpoint: %.250s", perr.msg);
		return 0;
	}
	if (tlog_checkpoint_parse(n->text, n->text_len, &d->cp, &perr) != 0) {
		refuse(d, 400, "checkpoint: %.250s", perr.msg);
		goto out;
	}
	for (i = 0; i < nlogs && strcmp(logs[i].origin, d->cp.origin) != 0; i++)
		;
	if (i == nlogs) {
		refuse(d, 404, "unknown log \"%.200s\"", d->cp.origin);
		goto out;
	}
	d->log = i;
	/* the log's key must have signed, and every line of that key must verify */
	if (note_verify(n, &logs[i].key, 1, NULL, NULL, &perr) != 0) {
		refuse(d, 403, "%.250s", perr.msg);
		goto out;
	}
	if (q->old > d->cp.size) {
		refuse(d, 400, "old size %llu is larger than the checkpoint's %llu", (unsigned long long)q->old,
		       (unsigned long long)d->cp.size);
		goto out;
	}
	if ((r = seen_fn(ctx, i, &seen, err)) != 0)
		goto out;
	if (q->old != seen.size) {
		d->status = 409;
		d->known_size = seen.size;
		snprintf(d->reason, sizeof d->reason, "the size last cosigned is %llu, not %llu",
			 (unsigned long long)seen.size, (unsigned long long)q->old);
		goto out;
	}
	if ((r = bw_sha256_new(&h, err)) != 0)
		goto out;
	tlog_hash_empty(h, &empty);
	if (d->cp.size == 0 && !tlog_hash_equal(&d->cp.root, &empty)) {
		refuse(d, 422, "a tree of size 0 has the root SHA-256(\"\")");
		goto out;
	}
	if (q->old == d->cp.size) {
		if (q->proof.n != 0) {
			refuse(d, 422, "no proof goes with the same size");
		} else if (q->old > 0 && !tlog_hash_equal(&seen.root, &d->cp.root)) {
			refuse(d, 422, "size %llu was cosigned with another root", (unsigned long long)q->old);
			d->fork = true;
		} else {
			d->status = 200;	/* the same tree again: cosigned anew, with a fresh time */
		}
		goto out;
	}
	if (q->old == 0) {
		if (q->proof.n != 0)
			refuse(d, 422, "no proof goes with old size 0");
		else
			d->status = 200;
		goto out;
	}
	if (tlog_verify_consistency(h, q->old, d->cp.size, &seen.root, &d->cp.root, &q->proof, &perr) != 0) {
		refuse(d, 422, "consistency proof from %llu to %llu: %.200s", (unsigned long long)q->old,
		       (unsigned long long)d->cp.size, perr.msg);
		/*
		 * Not evidence of a fork: checkpoints are public, so anyone can send a genuine one with a
		 * wrong proof. Only two signed checkpoints of one size with different roots prove one.
		 */
		goto out;
	}
	d->status = 200;
out:
	bw_sha256_free(h);
	if (d->cp.origin != NULL)
		d->note = n;	/* kept with the checkpoint it holds */
	else
		note_free(n);
	return r;
}
