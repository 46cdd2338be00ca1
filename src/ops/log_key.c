/*
 * ops/log_key.c: the audit log's key: its rotation (a log.key_transition
 * entry, the handover, the old key erased), finishing one a crash
 * interrupted, and the transitions verifiers follow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

void
ops_log_key_rotation_clear(struct ops_log_key_rotation *r)
{
	free(r->previous_key);
	free(r->key);
	memset(r, 0, sizeof *r);
}

/* Is the last entry of the log s the transition naming vkey? */
static bool
last_entry_names(const char *dir, uint64_t size, const char *vkey)
{
	struct tlog_tiles *t = NULL;
	struct bw_err err = { 0 };
	uint8_t *e = NULL;
	char *named = NULL;
	size_t len;
	bool yes = false;

	if (size > 0 && tlog_tiles_open(dir, &t, &err) == 0 && tlog_tiles_read_entry(t, size, size - 1, &e, &len, &err) == 0 &&
	    ev_log_key_transition_key(NULL, e, len, &named, &err) == 0)
		yes = strcmp(named, vkey) == 0;
	free(named);
	free(e);
	tlog_tiles_free(t);
	return yes;
}

/* A staged key was found at open: finish its rotation, or discard it. Takes next. */
static int
finish_rotation(struct instance *in, struct note_signer *next, struct bw_err *err)
{
	struct note_signer *cur = NULL;
	struct tlog_store *s = NULL;
	char *vkey = NULL;
	int r;

	/* a fresh copy of the key in use for the store (in->log_signer stays for the log's real open) */
	if ((r = note_signer_vkey(next, &vkey, err)) != 0 || (r = instance_log_signer(in, &cur, err)) != 0)
		goto out;
	r = tlog_store_open_signed(in->log_dir, cur, &s, err);	/* replays the journal */
	cur = NULL;
	if (r != 0)
		goto out;
	if (last_entry_names(in->log_dir, tlog_store_size(s), vkey)) {
		r = tlog_store_rekey(s, next, err);
		next = NULL;
		tlog_store_close(s);
		s = NULL;
		if (r == 0 && (r = instance_log_key_promote(in, err)) == 0)
			EV_LOG(EVLOG_WARN, "finished a log key rotation a stop interrupted: the log is handed over to its next key",
			       EV_KS("log_key", instance_log_vkey(in)));
	} else {
		tlog_store_close(s);
		s = NULL;
		if ((r = instance_log_key_unstage(in, err)) == 0)
			EV_LOG(EVLOG_WARN, "discarded a staged log key: its transition never reached the log",
			       EV_KS("log_key", vkey));
	}
	if (r != 0)
		bw_err_prefix(err, "an interrupted log key rotation");
out:
	tlog_store_close(s);
	note_signer_free(cur);
	note_signer_free(next);
	free(vkey);
	return r;
}

int
ops_log_open(struct instance *in, struct audit_log **out, struct bw_err *err)
{
	struct note_signer *next = NULL;
	int r;

	*out = NULL;
	if ((r = instance_log_key_staged(in, &next, err)) == 0)
		r = finish_rotation(in, next, err);
	else if (r == BW_ENOTFOUND)
		r = 0, bw_err_clear(err);
	if (r != 0)
		return r;
	r = audit_log_open(in->log_dir, in->log_signer, out, err);
	in->log_signer = NULL;	/* transferred */
	return r;
}

/* After the handover, before any other append: the next key becomes the instance's (old key erased, verifier published). */
static int
promote(void *ctx, struct bw_err *err)
{
	return instance_log_key_promote(ctx, err);
}

int
ops_log_key_rotate(struct ops_ctx *x, struct ops_log_key_rotation *res, struct bw_err *err)
{
	struct note_signer *next = NULL;
	struct event ev;
	char *json = NULL;
	size_t len = 0;
	bool staged = false;
	uint64_t index = UINT64_MAX;
	int r;

	memset(res, 0, sizeof *res);
	r = ops_begin(x, OP_LOG_KEY_ROTATE, &ev, err);
	ev_target(&ev, "log:%.200s", instance_log_verifier(x->in)->name);
	if (r == 0 && x->al == NULL)
		r = bw_err_set(err, BW_EINVAL, "the audit log is not open");
	if (r != 0)
		return ops_finish(x, OP_LOG_KEY_ROTATE, &ev, r, err);
	pthread_mutex_lock(&x->in->log_key_mu);	/* one rotation at a time */
	if ((r = instance_log_key_stage(x->in, &next, err)) == 0) {
		staged = true;
		if ((res->previous_key = strdup(instance_log_vkey(x->in))) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if (r == 0 && (r = note_signer_vkey(next, &res->key, err)) == 0) {
		ev_str(&ev, EVF_LOG_KEY, res->key);
		ev_str(&ev, EVF_LOG_PREVIOUS_KEY, res->previous_key);
		r = ev_serialise(&ev, bw_now_ms(), &json, &len, err);
	}
	if (r == 0) {
		/*
		 * The entry, the handover, then (appends still waiting) the old key erased and the new verifier
		 * published; a stop between them is finished by ops_log_open.
		 */
		if (x->on_record != NULL)
			x->on_record(x->on_record_arg);	/* the entry is the operation's event */
		r = audit_log_rekey(x->al, json, len, next, promote, x->in, &index, err);
		next = NULL;
		res->index = index;
		res->handover = index + 1;
	}
	if (r != 0 && staged && index == UINT64_MAX) {
		/* nothing reached the log: the staged key goes (else the next open of the log decides) */
		struct bw_err uerr = { 0 };
		if (instance_log_key_unstage(x->in, &uerr) != 0)
			EV_LOG(EVLOG_ERROR, "a staged log key could not be erased", EV_KS("error", uerr.msg));
	}
	pthread_mutex_unlock(&x->in->log_key_mu);
	free(json);
	note_signer_free(next);
	if (r != 0) {
		ops_log_key_rotation_clear(res);
		return ops_finish(x, OP_LOG_KEY_ROTATE, &ev, r, err);
	}
	ev_clear(&ev);	/* recorded: it is the transition entry itself */
	return 0;
}

void
ops_log_keys_free(struct note_verifier **keys, size_t n)
{
	for (size_t i = 0; keys != NULL && i < n; i++)
		note_verifier_free(keys[i]);
	free(keys);
}

/* Adds the verifier of vkey text to keys. */
static int
add_key(struct note_verifier **keys, size_t *n, const char *vkey, struct bw_err *err)
{
	int r = note_verifier_parse(vkey, strlen(vkey), &keys[*n], err);

	if (r == 0)
		(*n)++;
	return r;
}

int
ops_log_keys_all(struct instance *in, struct note_verifier ***keys_out, size_t *n_out, struct bw_err *err)
{
	struct note_verifier **keys = NULL;
	uint64_t *sizes = NULL;
	size_t ns = 0, n = 0, i;
	int r;

	*keys_out = NULL;
	*n_out = 0;
	if ((r = tlog_transitions_list(in->log_dir, &sizes, &ns, err)) != 0)
		return r;
	if ((keys = calloc(ns + 1, sizeof *keys)) == NULL) {
		free(sizes);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	r = add_key(keys, &n, instance_log_vkey(in), err);
	for (i = 0; r == 0 && i < ns; i++) {
		char path[4200], *key = NULL, *previous = NULL;
		struct tlog_proof_file pf = { 0 };
		uint8_t *data = NULL;
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s/%llu.tlog-proof", in->log_dir, TLOG_TRANSITIONS_DIR,
			 (unsigned long long)sizes[i]);
		if ((r = bw_file_read(path, TLOG_PROOF_FILE_MAX, &data, &len, err)) == 0 &&
		    (r = tlog_proof_file_parse(data, len, &pf, err)) == 0 && pf.extra == NULL)
			r = bw_err_set(err, BW_ECORRUPT, "it carries no entry");
		if (r == 0 && (r = ev_log_key_transition_keys(pf.extra, pf.extra_len, &key, &previous, err)) == 0)
			r = add_key(keys, &n, previous, err);
		if (r != 0)
			bw_err_prefix(err, "%s", path);
		free(key);
		free(previous);
		free(data);
		tlog_proof_file_clear(&pf);
	}
	free(sizes);
	if (r != 0) {
		ops_log_keys_free(keys, n);
		return r;
	}
	*keys_out = keys;
	*n_out = n;
	return 0;
}

void
ops_log_key_rotate_due(struct ops_ctx *x, int64_t max_age)
{
	struct ops_log_key_rotation res;
	struct bw_err err = { 0 };
	int64_t since = 0;

	if (instance_log_key_since(x->in, &since, &err) != 0) {
		EV_LOG(EVLOG_ERROR, "scheduled log key rotation: the key's age is unknown", EV_KS("error", err.msg));
		return;
	}
	if (ops_now() - since < max_age)
		return;
	if (ops_log_key_rotate(x, &res, &err) != 0) {
		EV_LOG(EVLOG_ERROR, "scheduled log key rotation failed", EV_KS("error", err.msg));
		return;
	}
	EV_LOG(EVLOG_INFO, "the audit log's key was rotated on schedule", EV_KS("log_key", res.key),
	       EV_KI("handover", (int64_t)res.handover));
	ops_log_key_rotation_clear(&res);
}

int
ops_log_key_transitions(struct ops_ctx *x, json_t **out, struct bw_err *err)
{
	uint64_t *sizes = NULL;
	size_t n = 0, i;
	json_t *list = NULL;
	struct event ev;
	int r;

	*out = NULL;
	r = ops_begin(x, OP_LOG_KEY_TRANSITIONS, &ev, err);
	if (r == 0 && (r = tlog_transitions_list(x->in->log_dir, &sizes, &n, err)) == 0 && (list = json_array()) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; r == 0 && i < n; i++) {
		char path[4200];
		uint8_t *data = NULL;
		size_t len;
		snprintf(path, sizeof path, "%s/%s/%llu.tlog-proof", x->in->log_dir, TLOG_TRANSITIONS_DIR,
			 (unsigned long long)sizes[i]);
		if ((r = bw_file_read(path, TLOG_PROOF_FILE_MAX, &data, &len, err)) == 0 &&
		    json_array_append_new(list, json_pack("{s:I, s:s%}", "size", (json_int_t)sizes[i], "proof", (char *)data,
							  len)) != 0)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		free(data);
	}
	if (r == 0 && (*out = json_pack("{s:s, s:O}", "origin", instance_log_verifier(x->in)->name, "transitions", list)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	json_decref(list);
	free(sizes);
	r = ops_finish(x, OP_LOG_KEY_TRANSITIONS, &ev, r, err);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}
