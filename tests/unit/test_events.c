/*
 * events tests: the vocabulary table (unique names, every field used by
 * some action), serialisation (fixed keys, sorted, details only as the table
 * allows, text bounded and escaped, invalid UTF-8 replaced), the structured
 * logger (one JSON line, no forged fields), the patch.target entry round
 * trip, and docs/EVENTS.md holding exactly the table's text.
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

#include "events/events.h"
#include "source_file.h"

static json_t *
serialise(const struct event *ev)
{
	char *text = NULL;
	size_t len;
	struct bw_err err = { 0 };
	json_t *o;

	assert_int_equal(ev_serialise(ev, 1700000000123, &text, &len, &err), 0);
	assert_int_equal(strlen(text), len);
	assert_null(strchr(text, '\n'));
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	free(text);
	return o;
}

static void
test_table(void **state)
{
	ev_fieldset used = 0;
	size_t i, j;
	enum ev_action a;

	(void)state;
	for (i = 0; i < EV_ACTION_COUNT; i++) {
		const struct ev_action_def *d = ev_action_def((enum ev_action)i);
		const char *dot = strchr(d->name, '.');
		assert_non_null(dot);
		assert_true(dot > d->name && dot[1] != '\0');
		assert_true(strlen(d->summary) > 10);
		for (j = 0; j < i; j++)
			assert_string_not_equal(d->name, ev_action_def((enum ev_action)j)->name);
		assert_true(ev_action_by_name(d->name, &a));
		assert_int_equal(a, i);
		used |= d->fields;
	}
	assert_false(ev_action_by_name("user.addx", &a));
	assert_null(ev_action_def(EV_ACTION_COUNT));
	/* Every field is used by some action, or is a transport field or error. */
	for (i = 0; i < EV_FIELD_COUNT; i++)
		assert_true(((used | EVF_TRANSPORT | EVF(ERROR)) >> i) & 1);
}

static void
test_serialise_shape(void **state)
{
	struct ev_origin o = { .actor = "alice", .source = "192.0.2.7", .request_id = "00ff" };
	struct event ev;
	json_t *j, *roles;

	(void)state;
	ev_init(&ev, EV_USER_ADD, &o);
	ev_target(&ev, "user:%s", "bob");
	ev_list_csv(&ev, EVF_ROLES, "admin,auditor");
	j = serialise(&ev);
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2023-11-14T22:13:20.123Z");
	assert_string_equal(json_string_value(json_object_get(j, "actor")), "alice");
	assert_string_equal(json_string_value(json_object_get(j, "action")), "user.add");
	assert_string_equal(json_string_value(json_object_get(j, "target")), "user:bob");
	assert_string_equal(json_string_value(json_object_get(j, "result")), "ok");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "192.0.2.7");
	assert_string_equal(json_string_value(json_object_get(j, "request_id")), "00ff");
	assert_int_equal(json_object_size(j), 8);
	roles = json_object_get(json_object_get(j, "details"), "roles");
	assert_true(json_is_array(roles));
	assert_int_equal(json_array_size(roles), 2);
	assert_string_equal(json_string_value(json_array_get(roles, 1)), "auditor");
	json_decref(j);
	ev_clear(&ev);

	/* A system event: actor and source "-", request_id null, details {}. */
	ev_init(&ev, EV_SERVER_START, NULL);
	j = serialise(&ev);
	assert_string_equal(json_string_value(json_object_get(j, "actor")), "-");
	assert_true(json_is_null(json_object_get(j, "request_id")));
	assert_int_equal(json_object_size(json_object_get(j, "details")), 0);
	json_decref(j);
	ev_clear(&ev);
}

static void
test_serialise_refuses_undeclared(void **state)
{
	struct event ev;
	char *text = NULL;
	size_t len;
	struct bw_err err = { 0 };

	(void)state;
	/* A field the action does not list. */
	ev_init(&ev, EV_SERVER_START, NULL);
	ev_str(&ev, EVF_REASON, "x");
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), BW_EINVAL);
	assert_null(text);
	assert_non_null(strstr(err.msg, "reason"));
	ev_clear(&ev);
	/* The right field with the wrong type. */
	ev_init(&ev, EV_USER_ADD, NULL);
	ev_str(&ev, EVF_ROLES, "admin,auditor");
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), BW_EINVAL);
	ev_clear(&ev);
	/* Transport fields only on events the transport built. */
	ev_init(&ev, EV_USER_ADD, NULL);
	ev_int(&ev, EVF_STATUS, 200);
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), BW_EINVAL);
	ev_clear(&ev);
	ev_init(&ev, EV_USER_ADD, NULL);
	ev.transport = true;
	ev_int(&ev, EVF_STATUS, 200);
	ev_str(&ev, EVF_METHOD, "POST");
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), 0);
	free(text);
	ev_clear(&ev);
}

static void
test_text_bounded_and_escaped(void **state)
{
	struct ev_origin o = { .actor = "a\"b\nc", .source = "x", .request_id = NULL };
	char big[5000];
	struct event ev;
	json_t *j;
	const char *r;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ev_init(&ev, EV_ACCESS_REVOKE, &o);
	ev_target(&ev, "%s", big);
	ev_str(&ev, EVF_REASON, "bad \xff\xfe utf8 \",\"forged\":\"1");
	j = serialise(&ev);
	assert_string_equal(json_string_value(json_object_get(j, "actor")), "a\"b\nc");
	assert_true(strlen(json_string_value(json_object_get(j, "target"))) < EV_TARGET_MAX);
	r = json_string_value(json_object_get(json_object_get(j, "details"), "reason"));
	assert_non_null(strstr(r, "\xef\xbf\xbd\xef\xbf\xbd utf8"));
	assert_null(json_object_get(j, "forged"));
	json_decref(j);
	ev_clear(&ev);

	/* Long text is cut at EV_TEXT_MAX bytes, on a character boundary. */
	{
		char *s = malloc(3 * 1000 + 1);
		size_t i;
		json_t *t;
		for (i = 0; i < 1000; i++)
			memcpy(s + 3 * i, "\xe2\x82\xac", 3);	/* U+20AC, 3 bytes */
		s[3000] = '\0';
		t = ev_text(s, 10);
		assert_int_equal(json_string_length(t), 9);
		json_decref(t);
		free(s);
	}
}

static void
test_logger_one_line(void **state)
{
	int p[2];
	char buf[8192];
	ssize_t n;
	json_t *o;

	(void)state;
	assert_int_equal(pipe(p), 0);
	ev_log_fd(p[1], EVLOG_WARN, "request", (const struct ev_kv[]){ EV_KS("path", "/x\",\"forged\":\"yes\n{\"a\":1}"),
								       EV_KI("status", 404), EV_KS("level", "forged") },
		  3);
	close(p[1]);
	n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);	/* exactly one line */
	o = json_loads(buf, 0, NULL);
	assert_non_null(o);
	assert_null(json_object_get(o, "forged"));
	assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");	/* reserved keys stay */
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/x\",\"forged\":\"yes\n{\"a\":1}");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 404);
	json_decref(o);
}

static void
test_patch_target_round_trip(void **state)
{
	struct ev_patch_target t = { .length = 12345, .targets_version = 7 }, back;
	struct event ev;
	char *text = NULL;
	size_t len;
	struct bw_err err = { 0 };

	(void)state;
	snprintf(t.name, sizeof t.name, "fw/agent-1.2.bin");
	memset(t.sha256, 'a', 64);
	snprintf(t.version, sizeof t.version, "1.2");
	ev_patch_target_build(&ev, &t, "0123abcd");
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), 0);
	ev_clear(&ev);
	assert_null(strstr(text, "127.0.0.1"));
	assert_int_equal(ev_patch_target_parse((uint8_t *)text, len, &back, &err), 0);
	assert_string_equal(back.name, t.name);
	assert_string_equal(back.sha256, t.sha256);
	assert_string_equal(back.version, "1.2");
	assert_int_equal(back.length, 12345);
	assert_int_equal(back.targets_version, 7);
	free(text);

	/* Not a patch.target, missing fields, wrong types, not JSON. */
	{
		const char *bad[] = {
			"{\"action\":\"user.add\",\"target\":\"x\",\"details\":{}}",
			"{\"action\":\"patch.target\",\"target\":\"x\",\"details\":{\"sha256\":\"a\",\"version\":\"1\"}}",
			"{\"action\":\"patch.target\",\"target\":\"x\",\"details\":{\"sha256\":\"a\",\"version\":\"1\","
			"\"length\":\"5\",\"targets_version\":1}}",
			"{\"action\":\"patch.target\",\"target\":\"x\",\"details\":{\"sha256\":\"a\",\"version\":\"1\","
			"\"length\":-5,\"targets_version\":1}}",
			"{\"action\":\"patch.target\",\"action\":\"patch.target\"}",
			"not json",
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
			assert_int_equal(ev_patch_target_parse((const uint8_t *)bad[i], strlen(bad[i]), &back, &err),
					 BW_EVERIFY);
	}
}

/* docs/EVENTS.md carries the vocabulary exactly as the table says (`bulwark events` prints it). */
static void
test_docs_in_step(void **state)
{
	char *doc = read_source_file("docs/EVENTS.md"), *md;

	(void)state;
	assert_non_null(doc);
	md = ev_vocabulary_markdown();
	assert_non_null(md);
	if (strstr(doc, md) == NULL)
		fail_msg("docs/EVENTS.md is out of step with src/events/*.def: regenerate its tables with `bulwark events`");
	free(md);
	free(doc);
}

/* The key a log.key_transition entry names, as verifiers read it; anything else refused. */
static void
test_key_transition_entry(void **state)
{
	struct event ev;
	char *text = NULL, *key = NULL;
	size_t len, i;
	struct bw_err err = { 0 };
	const char *bad[] = {
		"{\"action\":\"user.add\",\"details\":{\"log_key\":\"a+b+c\"}}",
		"{\"action\":\"log.key_transition\",\"details\":{}}",
		"{\"action\":\"log.key_transition\",\"details\":{\"log_key\":5}}",
		"{\"action\":\"log.key_transition\",\"details\":{\"log_key\":\"a\\u0000b\"}}",
		"{\"action\":\"log.key_transition\",\"action\":\"log.key_transition\",\"details\":{\"log_key\":\"k\"}}",
		"not json",
	};

	(void)state;
	ev_init(&ev, EV_LOG_KEY_TRANSITION, NULL);
	ev_str(&ev, EVF_LOG_KEY, "log.example/audit+01234567+AQ==");
	ev_str(&ev, EVF_LOG_PREVIOUS_KEY, "log.example/audit+89abcdef+AQ==");
	assert_int_equal(ev_serialise(&ev, 0, &text, &len, &err), 0);
	ev_clear(&ev);
	assert_int_equal(ev_log_key_transition_key(NULL, (uint8_t *)text, len, &key, &err), 0);
	assert_string_equal(key, "log.example/audit+01234567+AQ==");
	free(key);
	{
		char *prev = NULL;
		assert_int_equal(ev_log_key_transition_keys((uint8_t *)text, len, &key, &prev, &err), 0);
		assert_string_equal(prev, "log.example/audit+89abcdef+AQ==");
		free(key);
		free(prev);
		assert_int_equal(ev_log_key_transition_keys((const uint8_t *)bad[1], strlen(bad[1]), &key, &prev, &err),
				 BW_EVERIFY);
		assert_null(key);
	}
	free(text);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		key = NULL;
		assert_int_equal(ev_log_key_transition_key(NULL, (const uint8_t *)bad[i], strlen(bad[i]), &key, &err),
				 BW_EVERIFY);
		assert_null(key);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_serialise_shape),
		cmocka_unit_test(test_serialise_refuses_undeclared),
		cmocka_unit_test(test_text_bounded_and_escaped),
		cmocka_unit_test(test_logger_one_line),
		cmocka_unit_test(test_patch_target_round_trip),
		cmocka_unit_test(test_key_transition_entry),
		cmocka_unit_test(test_docs_in_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
