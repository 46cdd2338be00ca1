/*
 * Unit tests for Sigma correlation rules: event_count, value_count,
 * temporal, temporal_ordered, chains and aliases; references resolved
 * (or the file refused with the reason); base rules kept quiet unless
 * generate: true; state bounded with evictions counted.
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

#include "detect/detect.h"

static const char base_rules[] =
    "title: failed\nname: failed\nlogsource: {product: bulwark}\n"
    "detection:\n  sel: {action: auth.login, result: denied}\n  condition: sel\n"
    "---\n"
    "title: ok\nname: ok\nlogsource: {product: bulwark}\n"
    "detection:\n  sel: {action: auth.login, result: ok}\n  condition: sel\n"
    "---\n"
    "title: read\nname: read\nlogsource: {product: bulwark}\n"
    "detection:\n  sel: {action: file.read}\n  condition: sel\n";

/* Loads base_rules plus extra (more YAML documents) from a fresh directory. */
static struct detect_ruleset *
load(const char *extra, struct detect_load_report *rep)
{
	char dir[] = "/tmp/bw-corr-XXXXXX", path[64];
	struct detect_ruleset *rs = NULL;
	struct bw_err err = { 0 };
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/rules.yml", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s---\n%s", base_rules, extra);
	fclose(f);
	assert_int_equal(detect_ruleset_load(dir, &rs, rep, &err), 0);
	unlink(path);
	rmdir(dir);
	return rs;
}

struct fired {
	char text[4096];
	size_t len;
	int n;
};

static void
on_corr(void *ctx, const struct detect_corr_match *m)
{
	struct fired *f = ctx;

	f->n++;
	f->len += (size_t)snprintf(f->text + f->len, sizeof f->text - f->len, "%s|%s|%zu\n", detect_rule_title(m->rule),
				   m->group, m->count);
}

struct feeder {
	const struct detect_ruleset *rs;
	struct detect_correlator *c;
	struct fired *f;
};

/* One event {action, result, actor, file} at second t, through the rules and the correlator. */
static void
event(struct feeder *fd, const char *action, const char *result, const char *actor, const char *file, int64_t t)
{
	struct detect_field f[4] = { { "action", action, strlen(action) },
				     { "result", result, strlen(result) },
				     { "actor", actor, strlen(actor) },
				     { "file", file, strlen(file) } };
	struct detect_event ev = { f, 4, NULL, 0 };
	size_t i;

	for (i = 0; i < detect_ruleset_count(fd->rs); i++) {
		const struct detect_rule *r = detect_ruleset_rule(fd->rs, i);
		if (detect_rule_match(r, &ev))
			detect_correlator_feed(fd->c, r, &ev, t * 1000, on_corr, fd->f);
	}
}

static void
start(struct feeder *fd, const char *extra, struct fired *f, size_t groups, size_t bytes)
{
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };

	memset(f, 0, sizeof *f);
	fd->rs = load(extra, &rep);
	assert_int_equal(rep.refused, 0);
	detect_load_report_clear(&rep);
	assert_int_equal(detect_correlator_new(fd->rs, groups, bytes, &fd->c, &err), 0);
	fd->f = f;
}

static void
stop(struct feeder *fd)
{
	detect_correlator_free(fd->c);
	detect_ruleset_free((struct detect_ruleset *)fd->rs);
}

static void
test_event_count(void **state)
{
	struct feeder fd;
	static struct fired f;

	(void)state;
	start(&fd, "title: brute\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [actor]\n"
		   "  timespan: 10m\n  condition: {gte: 3}\nlevel: high\n",
	      &f, 100, 1 << 20);
	event(&fd, "auth.login", "denied", "bob", "", 0);
	event(&fd, "auth.login", "denied", "bob", "", 10);
	event(&fd, "auth.login", "denied", "eve", "", 20);	/* another group */
	event(&fd, "auth.login", "ok", "bob", "", 25);		/* another rule */
	assert_int_equal(f.n, 0);
	event(&fd, "auth.login", "denied", "bob", "", 30);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.text, "brute|actor=bob|3\n");
	/* the group started over; old events leave the window */
	event(&fd, "auth.login", "denied", "bob", "", 1000);
	event(&fd, "auth.login", "denied", "bob", "", 1700);
	event(&fd, "auth.login", "denied", "bob", "", 2400);
	assert_int_equal(f.n, 1);
	/* the base rule raises no alert of its own; the correlation does */
	assert_true(detect_rule_quiet(detect_ruleset_rule(fd.rs, 0)));
	assert_false(detect_rule_quiet(detect_ruleset_rule(fd.rs, 3)));
	assert_false(detect_rule_quiet(detect_ruleset_rule(fd.rs, 1)));	/* referred to by nothing */
	stop(&fd);
}

static void
test_value_count_and_range(void **state)
{
	struct feeder fd;
	static struct fired f;

	(void)state;
	start(&fd, "title: bulk\ncorrelation:\n  type: value_count\n  rules: [read]\n  group-by: [actor]\n"
		   "  timespan: 1h\n  condition: {field: file, gt: 2, lte: 10}\ngenerate: true\n",
	      &f, 100, 1 << 20);
	event(&fd, "file.read", "ok", "ann", "/d/a", 0);
	event(&fd, "file.read", "ok", "ann", "/d/a", 1);
	event(&fd, "file.read", "ok", "ann", "/d/b", 2);
	event(&fd, "file.read", "ok", "ann", "/d/b", 3);
	event(&fd, "file.read", "ok", "ann", "", 4);	/* no value: not counted */
	assert_int_equal(f.n, 0);
	event(&fd, "file.read", "ok", "ann", "/d/c", 5);
	assert_string_equal(f.text, "bulk|actor=ann|3\n");
	assert_false(detect_rule_quiet(detect_ruleset_rule(fd.rs, 2)));	/* generate: true */
	stop(&fd);
}

static void
test_temporal_and_ordered(void **state)
{
	struct feeder fd;
	static struct fired f;

	(void)state;
	start(&fd, "title: both\ncorrelation:\n  type: temporal\n  rules: [failed, ok]\n  group-by: [actor]\n"
		   "  timespan: 1m\n---\n"
		   "title: then\ncorrelation:\n  type: temporal_ordered\n  rules: [failed, ok]\n  group-by: [actor]\n"
		   "  timespan: 1m\n",
	      &f, 100, 1 << 20);
	/* ok before failed: temporal holds, ordered does not */
	event(&fd, "auth.login", "ok", "a", "", 0);
	event(&fd, "auth.login", "denied", "a", "", 10);
	assert_string_equal(f.text, "both|actor=a|2\n");
	/* failed then ok within a minute: both hold */
	event(&fd, "auth.login", "denied", "b", "", 100);
	event(&fd, "auth.login", "ok", "b", "", 130);
	assert_int_equal(f.n, 3);
	assert_non_null(strstr(f.text, "then|actor=b|2\n"));
	/* too far apart: neither */
	event(&fd, "auth.login", "denied", "c", "", 200);
	event(&fd, "auth.login", "ok", "c", "", 300);
	assert_int_equal(f.n, 3);
	stop(&fd);
}

static void
test_chain_and_aliases(void **state)
{
	struct feeder fd;
	static struct fired f;

	(void)state;
	start(&fd, "title: many failed\nname: many\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
		   "  group-by: [actor]\n  timespan: 10m\n  condition: {gte: 2}\n---\n"
		   "title: brute then in\ncorrelation:\n  type: temporal_ordered\n  rules: [many, ok]\n"
		   "  group-by: [who]\n  timespan: 10m\n  aliases:\n    who: {many: actor, ok: file}\n",
	      &f, 100, 1 << 20);
	event(&fd, "auth.login", "denied", "bob", "", 0);
	event(&fd, "auth.login", "denied", "bob", "", 1);
	/* the successful login names the user in "file" here: the alias maps it */
	event(&fd, "auth.login", "ok", "x", "bob", 2);
	assert_string_equal(f.text, "many failed|actor=bob|2\nbrute then in|who=bob|2\n");
	assert_true(detect_rule_quiet(detect_ruleset_rule(fd.rs, 3)));	/* the chained correlation */
	stop(&fd);
}

static void
test_state_is_bounded(void **state)
{
	struct feeder fd;
	static struct fired f;
	struct detect_corr_stats st;
	char actor[32];
	int i;

	(void)state;
	start(&fd, "title: brute\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [actor]\n"
		   "  timespan: 1d\n  condition: {gte: 1000}\n",
	      &f, 1000, 256 << 10);
	for (i = 0; i < 20000; i++) {
		snprintf(actor, sizeof actor, "user%d", i);
		event(&fd, "auth.login", "denied", actor, "", i);
	}
	/* one busy group grows its timestamps within the byte budget */
	for (i = 0; i < 999; i++)
		event(&fd, "auth.login", "denied", "busy", "", 30000 + i);
	detect_correlator_stats(fd.c, &st);
	assert_true(st.groups <= 1000);
	assert_true(st.bytes <= 256 << 10);
	assert_true(st.evicted >= 19000);
	assert_int_equal(f.n, 0);
	event(&fd, "auth.login", "denied", "busy", "", 31000);
	assert_string_equal(f.text, "brute|actor=busy|1000\n");
	stop(&fd);
}

static const char *
refused(const char *extra, struct detect_load_report *rep)
{
	static char why[1024];
	struct detect_ruleset *rs = load(extra, rep);
	size_t i;

	why[0] = '\0';
	for (i = 0; i < rep->n; i++)
		if (rep->items[i].reason != NULL)
			snprintf(why, sizeof why, "%s", rep->items[i].reason);
	assert_int_equal(detect_ruleset_count(rs), 0);	/* the whole file is refused */
	detect_ruleset_free(rs);
	detect_load_report_clear(rep);
	return why;
}

static void
test_refusals(void **state)
{
	struct detect_load_report rep = { 0 };

	(void)state;
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: event_count\n  rules: [nothere]\n"
				       "  timespan: 1h\n  condition: {gte: 2}\n",
				       &rep),
			       "the correlation 'c' refers to 'nothere', which is no loaded rule"));
	assert_non_null(strstr(refused("title: a\nname: a\ncorrelation:\n  type: event_count\n  rules: [b]\n"
				       "  timespan: 1h\n  condition: {gte: 2}\n---\n"
				       "title: b\nname: b\ncorrelation:\n  type: event_count\n  rules: [a]\n"
				       "  timespan: 1h\n  condition: {gte: 2}\n",
				       &rep),
			       "chains correlations in a loop"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
				       "  timespan: 1h\n  condition: {lt: 5}\n",
				       &rep),
			       "needs a lower bound"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: value_count\n  rules: [failed]\n"
				       "  timespan: 1h\n  condition: {gte: 5}\n",
				       &rep),
			       "a value_count condition needs 'field'"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
				       "  timespan: 1w\n  condition: {gte: 5}\n",
				       &rep),
			       "'timespan' must be a number and s, m, h or d"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: value_sum\n  rules: [failed]\n"
				       "  timespan: 1h\n  condition: {gte: 5}\n",
				       &rep),
			       "correlation type 'value_sum' is not supported"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n"
				       "  timespan: 1h\n  condition: {gte: 99999}\n",
				       &rep),
			       "from 0 to 4096"));
	assert_non_null(strstr(refused("title: c\ncorrelation:\n  type: temporal\n  rules: [failed]\n"
				       "  timespan: 1h\n",
				       &rep),
			       "at least two rules"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_count),
		cmocka_unit_test(test_value_count_and_range),
		cmocka_unit_test(test_temporal_and_ordered),
		cmocka_unit_test(test_chain_and_aliases),
		cmocka_unit_test(test_state_is_bounded),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
