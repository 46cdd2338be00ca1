/*
 * agent/log_keys.c: the audit log's keys as this host follows them. The
 * host pins the log's key at set-up; a later key is trusted only through
 * its transition (tlog_keychain_follow: the log.key_transition entry under a
 * handover checkpoint signed by the key before it and by it), and only for
 * the checkpoint sizes of its epoch. The transitions followed are kept in
 * the state directory and verified again at each load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_internal.h"
#include "events/events.h"

#define ANSWER_MAX_TRANSITIONS (TLOG_KEYCHAIN_MAX - 1)

static int
state_file(const char *state, char *out, size_t cap, struct bw_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/%s", state, AGENT_LOG_KEYS) >= cap)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	return 0;
}

int
agent_log_keys_load(const char *state, const char *vkey, struct tlog_keychain *c, struct bw_err *err)
{
	char path[4200];
	json_error_t jerr;
	json_t *list = NULL, *p;
	struct bw_sha256 *h = NULL;
	size_t i;
	int r;

	if ((r = tlog_keychain_init(c, vkey, strlen(vkey), err)) != 0 || (r = state_file(state, path, sizeof path, err)) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return 0;
	if ((list = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_array(list)) {
		r = bw_err_set(err, BW_ECORRUPT, "%s: %s", path, list ? "not a JSON array" : jerr.text);
		goto out;
	}
	if ((r = bw_sha256_new(&h, err)) != 0)
		goto out;
	json_array_foreach (list, i, p) {
		if (!json_is_string(p)) {
			r = bw_err_set(err, BW_ECORRUPT, "%s: transition %zu is not a string", path, i + 1);
			goto out;
		}
		if ((r = tlog_keychain_follow(c, h, (const uint8_t *)json_string_value(p), json_string_length(p),
					      ev_log_key_transition_key, NULL, NULL, err)) != 0) {
			/* this host's own record of what it verified no longer verifies: its state was altered */
			bw_err_prefix(err, "%s: transition %zu", path, i + 1);
			err->code = r = BW_ECORRUPT;
			goto out;
		}
	}
out:
	if (r != 0)
		tlog_keychain_clear(c);
	json_decref(list);
	bw_sha256_free(h);
	return r;
}

/* Appends proof to the state file (created when missing). */
static int
remember(const char *state, const char *proof, size_t len, struct bw_err *err)
{
	char path[4200], *text;
	json_t *list = NULL;
	int r;

	if ((r = state_file(state, path, sizeof path, err)) != 0)
		return r;
	if (access(path, F_OK) == 0 && (list = json_load_file(path, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s: not JSON", path);
	if (list == NULL)
		list = json_array();
	if (list == NULL || json_array_append_new(list, json_stringn(proof, len)) != 0 ||
	    (text = json_dumps(list, JSON_COMPACT)) == NULL) {
		json_decref(list);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	r = bw_file_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	json_decref(list);
	return r;
}

int
agent_log_keys_update(const char *state, struct tlog_keychain *c, const uint8_t *answer, size_t len,
		      agent_handover_fn fn, void *ctx, size_t *followed, struct bw_err *err)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)answer, len, JSON_REJECT_DUPLICATES, &jerr), *list, *t;
	struct bw_sha256 *h = NULL;
	size_t i;
	int r = 0;

	*followed = 0;
	if (o == NULL)
		return bw_err_set(err, BW_EVERIFY, "key transitions: not JSON: %s", jerr.text);
	list = json_object_get(o, "transitions");
	if (!json_is_array(list) || json_array_size(list) > ANSWER_MAX_TRANSITIONS) {
		r = bw_err_set(err, BW_EVERIFY, "key transitions: \"transitions\" is not an array of at most %d",
			       ANSWER_MAX_TRANSITIONS);
		goto out;
	}
	if ((r = bw_sha256_new(&h, err)) != 0)
		goto out;
	json_array_foreach (list, i, t) {
		const json_t *sz = json_object_get(t, "size"), *pr = json_object_get(t, "proof");
		struct tlog_proof_file pf = { 0 };
		struct tlog_checkpoint ho = { 0 };
		if (!json_is_integer(sz) || json_integer_value(sz) <= 0 || !json_is_string(pr)) {
			r = bw_err_set(err, BW_EVERIFY, "key transition %zu: needs a size and a proof", i + 1);
			goto out;
		}
		if ((uint64_t)json_integer_value(sz) <= c->from[c->n - 1])
			continue;	/* followed before (or before the key this host pinned) */
		r = tlog_keychain_follow(c, h, (const uint8_t *)json_string_value(pr), json_string_length(pr),
					 ev_log_key_transition_key, NULL, &ho, err);
		if (r == 0 && ho.size != (uint64_t)json_integer_value(sz))
			r = bw_err_set(err, BW_EVERIFY, "its handover checkpoint has size %llu", (unsigned long long)ho.size);
		if (r == 0 && (r = tlog_proof_file_parse((const uint8_t *)json_string_value(pr), json_string_length(pr), &pf,
							 err)) == 0)
			r = fn(ctx, (const uint8_t *)pf.checkpoint, pf.checkpoint_len, &ho, err);
		if (r == 0)
			r = remember(state, json_string_value(pr), json_string_length(pr), err);
		tlog_proof_file_clear(&pf);
		tlog_checkpoint_clear(&ho);
		if (r != 0) {
			bw_err_prefix(err, "key transition at size %lld", (long long)json_integer_value(sz));
			goto out;
		}
		(*followed)++;
	}
out:
	json_decref(o);
	bw_sha256_free(h);
	return r;
}

