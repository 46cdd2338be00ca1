/*
 * cli/cmd_rules_hunt.c: `bulwark rules hunt`: rules over the history in a
 * log (bulwark's own audit events, or the host-event log's host events),
 * each entry checked against its leaf hash before a rule sees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "detect/detect.h"
#include "hostev/hostev.h"
#include "tlog/tlog.h"

struct hunt {
	const char *from, *to;	/* RFC 3339 bounds on the event's time (prefixes compare as text) */
	uint64_t index;
	char where[40];		/* "entry INDEX", what matches are printed with */
	const struct detect_event *ev;
	struct detect_correlator *corr;
	int64_t time_ms;	/* the event's time (its "time", else the entry's before it) */
	struct detect_calendar cal;	/* business hours for enrich.* */
	struct detect_enriched enriched;
	struct detect_seen *seen;	/* for enrich.first_time */
	size_t matches, skipped;
	const struct detect_ruleset *rs;
	struct detect_host_mapper *mapper;	/* host events: auditd's as rule documents */
	struct hostev_audit_reader *reader;
	const char *host;			/* the host event's host, while its records are read */
	uint64_t host_events;
};

static void
hunt_correlation(void *ctx, const struct detect_corr_match *m)
{
	struct hunt *h = ctx;

	h->matches++;
	cli_print_corr_match(h->where, m);
}

static void
hunt_match(void *ctx, const struct detect_rule *r)
{
	struct hunt *h = ctx;

	h->matches++;
	cli_print_rule_match(h->where, r, h->ev);
	detect_correlator_feed(h->corr, r, h->ev, h->time_ms, hunt_correlation, h);
}

/* The event's "time" field (RFC 3339) inside [from, to]? Events without one are outside any bound. */
static bool
in_window(const struct hunt *h)
{
	const struct detect_field *f;

	if (h->from == NULL && h->to == NULL)
		return true;
	if ((f = detect_event_field(h->ev, "time")) == NULL)
		return false;
	if (h->from != NULL && (f->len < strlen(h->from) ? memcmp(f->value, h->from, f->len) < 0
							 : memcmp(f->value, h->from, strlen(h->from)) < 0))
		return false;
	if (h->to != NULL && memcmp(f->value, h->to, f->len < strlen(h->to) ? f->len : strlen(h->to)) > 0)
		return false;
	return true;
}

/* The RFC 3339 text of ms inside [from, to] (prefixes compare as text, as for audit events)? */
static bool
in_window_ms(const struct hunt *h, int64_t ms)
{
	char t[BW_TIME_TEXT_MAX];

	if (h->from == NULL && h->to == NULL)
		return true;
	bw_time_format_ms(ms, t);
	if (h->from != NULL && strncmp(t, h->from, strlen(h->from)) < 0)
		return false;
	if (h->to != NULL && strncmp(t, h->to, strlen(h->to)) > 0)
		return false;
	return true;
}

/* One document of a host event, against the rules of its log source. */
static void
hunt_view(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	struct hunt *h = ctx;

	h->ev = detect_enrich(&h->enriched, &h->cal, doc, h->time_ms, -1, NULL);
	detect_ruleset_match(h->rs, src, h->ev, hunt_match, h);
}

static void
hunt_audit_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct hunt *h = ctx;
	struct hostev_audit_event e = *ev;
	struct bw_err err = { 0 };

	e.node = (char *)h->host;
	if (detect_host_views(h->mapper, &e, hunt_view, h, &err) != 0)
		cli_errorf("rules hunt: entry %llu: %s", (unsigned long long)h->index, err.msg);
}

/* A host-event log entry: its views matched (auditd records read again, journal and syslog messages as they are). */
static void
hunt_host_entry(struct hunt *h, const struct hostev_entry *e)
{
	struct bw_err err = { 0 };

	if (!in_window_ms(h, e->ev.time_ms))
		return;
	h->host_events++;
	h->time_ms = e->ev.time_ms;
	h->host = e->host;
	snprintf(h->where, sizeof h->where, "entry %llu", (unsigned long long)h->index);
	if (strcmp(e->ev.source, "auditd") == 0) {
		if (hostev_audit_reader_feed(h->reader, e->ev.raw, e->ev.raw_len, &err) != 0 ||
		    hostev_audit_reader_feed(h->reader, "\n", 1, &err) != 0 || hostev_audit_reader_finish(h->reader, &err) != 0)
			cli_errorf("rules hunt: entry %llu: %s", (unsigned long long)h->index, err.msg);
	} else {
		detect_event_views(&e->ev, e->host, hunt_view, h);
	}
}

/* "2026-11-27", "2026-11-27T10", ... up to a full RFC 3339 UTC time: digits where digits belong. */
static bool
time_bound_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i, n = strlen(s);

	if (n < 4 || n > sizeof shape - 1)
		return false;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	return true;
}

int
cli_rules_hunt(int argc, char **argv)
{
	struct cli_args a;
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct detect_json_event *je = NULL;
	struct note_verifier *v = NULL;
	struct tlog_tiles *t = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct bw_sha256 *sha = NULL;
	struct bw_err err = { 0 };
	struct hunt h = { 0 };
	const char *dir = NULL, *vkey = NULL, *hours = NULL;
	char *pos[2], path[4200], buf[1024];
	uint8_t *note = NULL, *bundle = NULL, tile[TLOG_TILE_WIDTH * TLOG_HASH_SIZE];
	size_t npos, nlen, offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH], i;
	uint64_t b, nb, events = 0, pruned = 0;
	int rc = CLI_FAIL;
	bool progress = isatty(2);

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--log", &dir) || cli_opt(&a, "--vkey", &vkey) || cli_opt(&a, "--from", &h.from) ||
	    cli_opt(&a, "--to", &h.to) || cli_opt(&a, "--business-hours", &hours) || cli_positional(&a, pos, 2, &npos))
		return CLI_USAGE;
	detect_calendar_default(&h.cal);
	if (hours != NULL && detect_calendar_parse(hours, &h.cal, &err) != 0) {
		cli_errorf("rules hunt: --business-hours: %s", err.msg);
		return CLI_USAGE;
	}
	if (npos != 1 || dir == NULL) {
		cli_errorf("rules hunt needs a rule file or directory and --log DIR");
		return CLI_USAGE;
	}
	if ((h.from != NULL && !time_bound_ok(h.from)) || (h.to != NULL && !time_bound_ok(h.to))) {
		cli_errorf("--from and --to take an RFC 3339 UTC time or its start, e.g. 2026-11-27 or 2026-11-27T10:00");
		return CLI_USAGE;
	}
	if (detect_ruleset_load(pos[0], &rs, &rep, &err) != 0)
		return cli_fail("rules hunt", &err);
	h.rs = rs;
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].reason != NULL)
			cli_errorf("refused: %s", cli_safe_text(rep.items[i].reason, buf, sizeof buf));
	if (vkey == NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, TLOG_VKEY_FILE);
		vkey = path;
	}
	if (cli_load_verifier(vkey, &v, &err) != 0 || tlog_checkpoint_load(dir, &v, 1, &note, &nlen, &cp, &err) != 0 ||
	    tlog_tiles_open(dir, &t, &err) != 0 || detect_json_event_new(&je, &err) != 0 ||
	    detect_correlator_new(rs, CLI_CORR_GROUPS, CLI_CORR_BYTES, &h.corr, &err) != 0 ||
	    detect_seen_new(&h.seen, &err) != 0 || detect_host_mapper_new(&h.mapper, &err) != 0 ||
	    hostev_audit_reader_new(hunt_audit_event, NULL, &h, &h.reader, &err) != 0 ||
	    bw_sha256_new(&sha, &err) != 0) {
		cli_fail("rules hunt", &err);
		goto out;
	}
	nb = (cp.size + TLOG_TILE_WIDTH - 1) / TLOG_TILE_WIDTH;
	if (tlog_pruned(dir, &pruned, &err) != 0) {
		cli_fail("rules hunt", &err);
		goto out;
	}
	if (pruned > 0)
		printf("entries 0..%llu were pruned for retention: not hunted\n", (unsigned long long)(pruned - 1));
	for (b = pruned / TLOG_TILE_WIDTH; b < nb; b++) {
		unsigned w = tlog_tile_width(TLOG_TILE_ENTRIES, b, cp.size);
		free(bundle);
		bundle = NULL;
		if (tlog_tiles_read_bundle(t, b, w, &bundle, offs, lens, &err) != 0 ||
		    tlog_tiles_read_tile(t, 0, b, w, tile, &err) != 0) {
			cli_fail("rules hunt", &err);
			goto out;
		}
		for (i = 0; i < w; i++) {
			struct tlog_hash leaf;
			h.index = b * TLOG_TILE_WIDTH + i;
			tlog_hash_leaf(sha, bundle + offs[i], lens[i], &leaf);
			if (memcmp(leaf.b, tile + i * TLOG_HASH_SIZE, TLOG_HASH_SIZE) != 0) {
				cli_errorf("rules hunt: entry %llu does not match its hash in the log's tiles: the log was "
					   "altered (run 'bulwark log audit')", (unsigned long long)h.index);
				goto out;
			}
			if (lens[i] > 8 && memcmp(bundle + offs[i], "{\"host\":", 8) == 0) {
				/* the host-event log's entries */
				struct hostev_entry e;
				if (hostev_entry_parse(bundle + offs[i], lens[i], &e, &err) == 0)
					hunt_host_entry(&h, &e);
				else
					h.skipped++;
				hostev_entry_clear(&e);
				continue;
			}
			if (detect_json_event_parse(je, (const char *)bundle + offs[i], lens[i], &err) != 0) {
				h.skipped++;	/* not a JSON object: no event for rules */
				continue;
			}
			h.ev = detect_json_event_get(je);
			if (!in_window(&h))
				continue;
			events++;
			h.ev = cli_enrich_timed(&h.enriched, &h.cal, h.seen, h.ev, &h.time_ms);
			snprintf(h.where, sizeof h.where, "entry %llu", (unsigned long long)h.index);
			detect_ruleset_match(rs, DETECT_SRC_BULWARK, h.ev, hunt_match, &h);
		}
		if (progress && (b % 64 == 0 || b + 1 == nb))
			fprintf(stderr, "\r%llu of %llu entries", (unsigned long long)(b * TLOG_TILE_WIDTH + w),
				(unsigned long long)cp.size);
	}
	if (progress)
		fputc('\n', stderr);
	printf("%llu entries read, %llu events in the window, %zu matches, %zu entries not JSON objects\n",
	       (unsigned long long)(cp.size - (pruned < cp.size ? pruned : cp.size)), (unsigned long long)(events + h.host_events), h.matches, h.skipped);
	cli_print_corr_stats(h.corr);
	rc = rep.refused == 0 ? CLI_OK : CLI_FAIL;
out:
	free(bundle);
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	note_verifier_free(v);
	bw_sha256_free(sha);
	detect_json_event_free(je);
	detect_correlator_free(h.corr);
	detect_enriched_clear(&h.enriched);
	detect_seen_free(h.seen);
	detect_host_mapper_free(h.mapper);
	hostev_audit_reader_free(h.reader);
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return rc;
}
