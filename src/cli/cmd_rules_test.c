/* cli/cmd_rules_test.c: `bulwark rules test`: rules matched offline against JSON lines or auditd's log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect/detect.h"
#include "hostev/hostev.h"

#define EVENT_LINE_MAX (1u << 20)

struct test_run {
	const struct detect_ruleset *rs;
	int src;			/* -1: every source */
	const char *file;
	char where[320];		/* what print_match names the event by */
	const struct detect_event *ev;
	struct detect_host_mapper *mapper;
	struct detect_correlator *corr;
	int64_t time_ms;		/* the event's time (JSON: its "time", else the one before it) */
	struct detect_calendar cal;	/* business hours for enrich.* */
	struct detect_enriched enriched;
	struct detect_seen *seen;	/* for enrich.first_time */
	size_t events, matches, bad;
	int oom;
};

static void
print_correlation(void *ctx, const struct detect_corr_match *m)
{
	struct test_run *t = ctx;

	t->matches++;
	cli_print_corr_match(t->where, m);
}

static void
print_match(void *ctx, const struct detect_rule *r)
{
	struct test_run *t = ctx;

	t->matches++;
	cli_print_rule_match(t->where, r, t->ev);
	detect_correlator_feed(t->corr, r, t->ev, t->time_ms, print_correlation, t);
}

static void
test_jsonl(struct test_run *t, FILE *f)
{
	struct detect_json_event *je = NULL;
	struct bw_err err = { 0 };
	char *line = NULL, fb[200], eb[BW_ERR_MSG_MAX];
	size_t cap = 0, lineno = 0, k;
	ssize_t got;

	if (detect_json_event_new(&je, &err) != 0) {
		cli_fail("rules test", &err);
		t->oom = 1;
		return;
	}
	cli_safe_text(t->file, fb, sizeof fb);
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			got--;
		if (got == 0)
			continue;
		if ((size_t)got > EVENT_LINE_MAX) {
			cli_errorf("%s:%zu: longer than %u bytes", fb, lineno, EVENT_LINE_MAX);
			t->bad++;
			continue;
		}
		if (detect_json_event_parse(je, line, (size_t)got, &err) != 0) {
			cli_errorf("%s:%zu: %s", fb, lineno, cli_safe_text(err.msg, eb, sizeof eb));
			t->bad++;
			continue;
		}
		t->events++;
		t->ev = detect_json_event_get(je);
		t->ev = cli_enrich_timed(&t->enriched, &t->cal, t->seen, t->ev, &t->time_ms);
		snprintf(t->where, sizeof t->where, "%s:%zu", fb, lineno);
		if (t->src >= 0)
			detect_ruleset_match(t->rs, (enum detect_source)t->src, t->ev, print_match, t);
		else
			for (k = 0; k < detect_ruleset_count(t->rs); k++)
				if (detect_rule_match(detect_ruleset_rule(t->rs, k), t->ev))
					print_match(t, detect_ruleset_rule(t->rs, k));
	}
	free(line);
	detect_json_event_free(je);
}

/* struct test_run for the auditd callbacks, with the event being viewed. */
struct audit_view_ctx {
	struct test_run *t;
	const struct hostev_audit_event *ev;
};

static void
on_view(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	struct audit_view_ctx *v = ctx;
	struct test_run *t = v->t;
	char fb[200];

	if (t->src >= 0 && (int)src != t->src)
		return;
	t->ev = doc;
	snprintf(t->where, sizeof t->where, "%s: event %llu (%s)", cli_safe_text(t->file, fb, sizeof fb),
		 (unsigned long long)v->ev->serial, detect_source_name(src));
	detect_ruleset_match(t->rs, src, doc, print_match, t);
}

static void
on_audit_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct test_run *t = ctx;
	struct audit_view_ctx v = { t, ev };
	struct bw_err err = { 0 };

	t->events++;
	t->time_ms = ev->time_ms;
	if (detect_host_views(t->mapper, ev, on_view, &v, &err) != 0)
		t->oom = 1;
}

static void
on_bad_record(void *ctx, uint64_t line, const char *reason)
{
	struct test_run *t = ctx;
	char fb[200];

	t->bad++;
	cli_errorf("%s:%llu: not an auditd record: %s", cli_safe_text(t->file, fb, sizeof fb), (unsigned long long)line,
		   reason);
}

static void
test_auditd(struct test_run *t, FILE *f)
{
	struct hostev_audit_reader *r = NULL;
	struct bw_err err = { 0 };
	char buf[65536];
	size_t got;

	if (detect_host_mapper_new(&t->mapper, &err) != 0 ||
	    hostev_audit_reader_new(on_audit_event, on_bad_record, t, &r, &err) != 0) {
		cli_fail("rules test", &err);
		t->oom = 1;
		goto out;
	}
	while ((got = fread(buf, 1, sizeof buf, f)) > 0)
		if (hostev_audit_reader_feed(r, buf, got, &err) != 0) {
			cli_fail("rules test", &err);
			t->oom = 1;
			goto out;
		}
	if (hostev_audit_reader_finish(r, &err) != 0) {
		cli_fail("rules test", &err);
		t->oom = 1;
	}
out:
	hostev_audit_reader_free(r);
	detect_host_mapper_free(t->mapper);
	t->mapper = NULL;
}

/* Does the file start (after empty lines) with an auditd record? The file is rewound. */
static bool
looks_like_auditd(FILE *f)
{
	char head[16];
	int c;
	size_t n = 0;

	while ((c = fgetc(f)) == '\n' || c == '\r')
		;
	while (c != EOF && n < sizeof head - 1) {
		head[n++] = (char)c;
		c = fgetc(f);
	}
	head[n] = '\0';
	rewind(f);
	return strncmp(head, "type=", 5) == 0 || strncmp(head, "node=", 5) == 0;
}

int
cli_rules_test(int argc, char **argv)
{
	struct cli_args a;
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };
	struct test_run t = { .src = -1 };
	const char *source = NULL, *format = "auto", *hours = NULL;
	char *pos[3], buf[1024];
	size_t npos, i;
	FILE *f = NULL;
	bool auditd;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--source", &source) != 0 || cli_opt(&a, "--format", &format) != 0 ||
	    cli_opt(&a, "--business-hours", &hours) != 0 ||
	    cli_positional(&a, pos, 3, &npos) != 0)
		return CLI_USAGE;
	if (source != NULL) {
		enum detect_source s;
		if (!detect_source_parse(source, &s)) {
			cli_errorf("--source must be auditd, process_creation, file_event, network_connection, file_access, "
				   "file_change, bulwark, agent, linux, syslog, auth, sshd or cron");
			return CLI_USAGE;
		}
		t.src = (int)s;
	}
	if (format == NULL)
		format = "auto";
	detect_calendar_default(&t.cal);
	if (hours != NULL && detect_calendar_parse(hours, &t.cal, &err) != 0) {
		cli_errorf("rules test: --business-hours: %s", err.msg);
		return CLI_USAGE;
	}
	if (strcmp(format, "auto") != 0 && strcmp(format, "jsonl") != 0 && strcmp(format, "auditd") != 0) {
		cli_errorf("--format must be auto, jsonl or auditd");
		return CLI_USAGE;
	}
	if (npos != 2) {
		cli_errorf("rules test needs a rule file or directory and an events file");
		return CLI_USAGE;
	}
	if (detect_ruleset_load(pos[0], &rs, &rep, &err) != 0)
		return cli_fail("rules test", &err);
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].reason != NULL)
			cli_errorf("refused: %s", cli_safe_text(rep.items[i].reason, buf, sizeof buf));
	if ((f = fopen(pos[1], "r")) == NULL) {
		cli_errorf("rules test: cannot read %s", cli_safe_text(pos[1], buf, sizeof buf));
		goto out;
	}
	t.rs = rs;
	t.file = pos[1];
	if (detect_correlator_new(rs, CLI_CORR_GROUPS, CLI_CORR_BYTES, &t.corr, &err) != 0 ||
	    detect_seen_new(&t.seen, &err) != 0) {
		cli_fail("rules test", &err);
		goto out;
	}
	auditd = strcmp(format, "auditd") == 0 || (strcmp(format, "auto") == 0 && looks_like_auditd(f));
	if (auditd)
		test_auditd(&t, f);
	else
		test_jsonl(&t, f);
	if (t.oom)
		goto out;
	printf("%zu events, %zu rules, %zu matches, %zu bad lines\n", t.events, detect_ruleset_count(rs), t.matches,
	       t.bad);
	cli_print_corr_stats(t.corr);
	rc = t.bad == 0 && rep.refused == 0 ? CLI_OK : CLI_FAIL;
out:
	if (f != NULL)
		fclose(f);
	detect_correlator_free(t.corr);
	detect_enriched_clear(&t.enriched);
	detect_seen_free(t.seen);
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return rc;
}
