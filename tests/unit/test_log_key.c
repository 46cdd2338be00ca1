/*
 * The audit log key's rotation on a data directory (ops_log_key_rotate) and
 * what opening the log does after a stop at each step (ops_log_open): a
 * handover done but the key not promoted, a transition logged but not
 * handed over (both finished), a key staged but never logged (discarded).
 * After each, a verifier pinned to the first key follows every transition
 * and the old keys are gone from the data directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "events/events.h"
#include "instance/instance.h"
#include "ops/ops.h"
#include "tlog/tlog.h"

static char base[64], data[128], first_vkey[2048];

static int
setup(void **state)
{
	struct instance_init_opts o = { 0 };
	struct instance_init_result res = { 0 };
	struct bw_err err = { 0 };

	(void)state;
	strcpy(base, "/tmp/bw_logkey_XXXXXX");
	if (mkdtemp(base) == NULL || bw_crypto_init(&err) != 0)
		return -1;
	snprintf(data, sizeof data, "%s/data", base);
	o.data = data;
	o.origin = "bulwark.test/audit";
	o.cost = &bw_pwhash_minimum;
	if (instance_init(&o, &res, &err) != 0) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	snprintf(first_vkey, sizeof first_vkey, "%s", res.log_vkey);
	instance_init_result_clear(&res);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static bool
exists(const char *rel)
{
	char p[256];

	snprintf(p, sizeof p, "%s/%s", data, rel);
	return access(p, F_OK) == 0;
}

/* Opens the data directory and its log (finishing what a stop left). */
static void
open_all(struct instance *in, struct audit_log **al)
{
	struct bw_err err = { 0 };

	assert_int_equal(instance_open(data, NULL, &bw_pwhash_minimum, in, &err), 0);
	if (ops_log_open(in, al, &err) != 0)
		fail_msg("ops_log_open: %s", err.msg);
}

/* The log.key_transition entry naming next. Caller frees. */
static char *
transition_entry(struct instance *in, const struct note_signer *next, size_t *len)
{
	struct event ev;
	char *vkey = NULL, *json = NULL;
	struct bw_err err = { 0 };

	assert_int_equal(note_signer_vkey(next, &vkey, &err), 0);
	ev_init(&ev, EV_LOG_KEY_TRANSITION, NULL);
	ev_target(&ev, "log:test");
	ev_str(&ev, EVF_LOG_KEY, vkey);
	ev_str(&ev, EVF_LOG_PREVIOUS_KEY, in->log_vkey);
	assert_int_equal(ev_serialise(&ev, bw_now_ms(), &json, len, &err), 0);
	ev_clear(&ev);
	free(vkey);
	return json;
}

/* The chain from the first key: its length; the log's checkpoint must verify under it. */
static size_t
chain_length(void)
{
	struct note_verifier *v = NULL;
	struct tlog_keychain c;
	struct tlog_audit_result res;
	struct bw_err err = { 0 };
	char dir[256];
	size_t n = 0, keys;

	snprintf(dir, sizeof dir, "%s/log", data);
	assert_int_equal(note_verifier_parse(first_vkey, strlen(first_vkey), &v, &err), 0);
	if (tlog_keychain_load(dir, v, ev_log_key_transition_key, NULL, &c, &n, &err) != 0)
		fail_msg("keychain: %s", err.msg);
	if (tlog_audit(dir, &c, NULL, 0, NULL, NULL, &res, &err) != 0)
		fail_msg("audit: %s", res.nfindings ? res.findings[0] : err.msg);
	keys = c.n;
	assert_true(keys == n + 1);
	tlog_keychain_clear(&c);
	return keys;
}

static void
append_one(struct audit_log *al, const char *text)
{
	struct bw_err err = { 0 };

	assert_int_equal(audit_append(al, text, strlen(text), NULL, &err), 0);
}

static void
test_rotation_and_every_stop(void **state)
{
	struct instance in;
	struct audit_log *al = NULL;
	struct note_signer *next = NULL;
	struct bw_err err = { 0 };
	char *json, before[2048], staged[2048];
	size_t len;
	uint64_t idx;

	(void)state;
	/* 1. stopped after the handover, before the key was promoted */
	open_all(&in, &al);
	append_one(al, "{\"first\":1}");
	assert_int_equal(instance_log_key_stage(&in, &next, &err), 0);
	assert_true(exists(INSTANCE_LOG_KEY_NEXT));
	json = transition_entry(&in, next, &len);
	assert_int_equal(audit_log_rekey(al, json, len, next, NULL, NULL, &idx, &err), 0);
	free(json);
	audit_log_close(al);
	snprintf(before, sizeof before, "%s", in.log_vkey);
	instance_close(&in);
	open_all(&in, &al);
	assert_false(exists(INSTANCE_LOG_KEY_NEXT));
	assert_string_not_equal(in.log_vkey, before);
	append_one(al, "{\"after\":1}");
	audit_log_close(al);
	instance_close(&in);
	assert_int_equal(chain_length(), 2);

	/* 2. stopped after the transition was logged, before the handover */
	open_all(&in, &al);
	assert_int_equal(instance_log_key_stage(&in, &next, &err), 0);
	json = transition_entry(&in, next, &len);
	note_signer_free(next);
	assert_int_equal(audit_append(al, json, len, &idx, &err), 0);
	free(json);
	audit_log_close(al);
	instance_close(&in);
	open_all(&in, &al);
	assert_false(exists(INSTANCE_LOG_KEY_NEXT));
	append_one(al, "{\"after\":2}");
	audit_log_close(al);
	instance_close(&in);
	assert_int_equal(chain_length(), 3);

	/* 3. a key staged, but its transition never reached the log: discarded, the key in use stays */
	open_all(&in, &al);
	assert_int_equal(instance_log_key_stage(&in, &next, &err), 0);
	note_signer_free(next);
	snprintf(before, sizeof before, "%s", in.log_vkey);
	append_one(al, "{\"unrelated\":1}");
	audit_log_close(al);
	instance_close(&in);
	open_all(&in, &al);
	assert_false(exists(INSTANCE_LOG_KEY_NEXT));
	assert_string_equal(in.log_vkey, before);
	append_one(al, "{\"after\":3}");
	audit_log_close(al);
	instance_close(&in);
	assert_int_equal(chain_length(), 3);

	/* 4. the operation itself, by the local admin; a second one while one is staged is refused */
	open_all(&in, &al);
	{
		struct ops_caller caller;
		struct ops_ctx x = { 0 };
		struct ops_log_key_rotation res;
		ops_caller_local(&caller);
		x.in = &in;
		x.al = al;
		x.caller = &caller;
		snprintf(before, sizeof before, "%s", in.log_vkey);
		assert_int_equal(ops_log_key_rotate(&x, &res, &err), 0);
		assert_string_equal(res.previous_key, before);
		assert_string_equal(res.key, in.log_vkey);
		assert_true(res.handover == res.index + 1 && res.handover == audit_log_size(al));
		ops_log_key_rotation_clear(&res);
		assert_false(exists(INSTANCE_LOG_KEY_NEXT));
		/* a staged key left by someone else: the operation refuses, and records the refusal */
		assert_int_equal(instance_log_key_stage(&in, &next, &err), 0);
		snprintf(staged, sizeof staged, "%s", in.log_vkey);
		note_signer_free(next);
		assert_int_equal(ops_log_key_rotate(&x, &res, &err), BW_ECONFLICT);
		assert_non_null(strstr(err.msg, "unfinished"));
		assert_string_equal(in.log_vkey, staged);
	}
	audit_log_close(al);
	instance_close(&in);
	open_all(&in, &al);	/* the staged key's transition is not the last entry: discarded */
	assert_false(exists(INSTANCE_LOG_KEY_NEXT));
	{
		/* every key the log had, for the server's own reads: the one now, then each one replaced */
		struct note_verifier **keys = NULL;
		size_t n = 0;
		char *v0 = NULL;
		assert_int_equal(ops_log_keys_all(&in, &keys, &n, &err), 0);
		assert_int_equal(n, 4);
		assert_int_equal(note_verifier_format(keys[0], &v0, &err), 0);
		assert_string_equal(v0, in.log_vkey);
		free(v0);
		assert_int_equal(note_verifier_format(keys[1], &v0, &err), 0);
		assert_string_equal(v0, first_vkey);	/* the first transition replaced the first key */
		free(v0);
		ops_log_keys_free(keys, n);
	}
	audit_log_close(al);
	instance_close(&in);
	assert_int_equal(chain_length(), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotation_and_every_stop),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
