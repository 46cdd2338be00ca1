/*
 * detect: Sigma rules (https://sigmahq.io, specification v2) compiled into
 * expression trees and matched against events.
 *
 * Supported, as the specification defines them: title, id, status, level,
 * tags, logsource, detection, falsepositives (other descriptive keys are
 * kept out of matching); search identifiers as maps (AND) and lists of
 * maps (OR); lists of values (OR, AND with |all); keyword lists (matched
 * against the event's raw text); plain values case-insensitive with * and
 * ? wildcards and \ escapes; the modifiers contains, startswith, endswith,
 * all, re (PCRE2 with JIT and match/depth limits; sub-modifiers i, m, s),
 * cidr, exists, gt, gte, lt, lte, cased, base64, base64offset, windash;
 * null values; conditions with and, or, not, parentheses, "1 of X*",
 * "all of X*", "1 of them", "all of them".
 * Anything else is refused with the file, the line and what is unsupported.
 */
#ifndef BW_DETECT_H
#define BW_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "hostev/hostev.h"

#define DETECT_RULE_MAX_BYTES (1u << 20)	/* a rule file larger than this is refused */

/* ---- events ------------------------------------------------------------------- */

/* One field of an event: a name and its value as text (not NUL-terminated). */
struct detect_field {
	const char *name;
	const char *value;
	size_t len;
};

/*
 * An event as rules see it: named fields (any order) and the raw text that
 * keyword searches look in. The event borrows every string.
 */
struct detect_event {
	const struct detect_field *fields;
	size_t nfields;
	const char *raw;
	size_t raw_len;
};

/* The first field of ev named name, or NULL. */
const struct detect_field *detect_event_field(const struct detect_event *ev, const char *name);
/* ev's "time" (RFC 3339 UTC) in milliseconds: true, or false when it has none that parses. */
bool detect_event_time(const struct detect_event *ev, int64_t *ms);

/*
 * An event read from a JSON object: nested objects give dotted names
 * ("details.roles"), arrays repeat their field once per element, numbers
 * and booleans match as their JSON text, null is an empty value; the raw
 * text (for keywords) is the JSON text itself. Reusable: each parse
 * replaces the previous event.
 */
struct detect_json_event;

/* Caller frees with detect_json_event_free(). */
int detect_json_event_new(struct detect_json_event **out, struct bw_err *err);
/* Parses one JSON object (len bytes). Errors say what is wrong (not JSON, not an object, too deep). */
int detect_json_event_parse(struct detect_json_event *je, const char *text, size_t len, struct bw_err *err);
/* The event last parsed (valid until the next parse or free). */
const struct detect_event *detect_json_event_get(const struct detect_json_event *je);
void detect_json_event_free(struct detect_json_event *je);

/* ---- rules -------------------------------------------------------------------- */

enum detect_level {
	DETECT_INFORMATIONAL,
	DETECT_LOW,
	DETECT_MEDIUM,
	DETECT_HIGH,
	DETECT_CRITICAL,
};

/* Where a rule's events come from, as far as bulwark produces them. */
enum detect_source {
	DETECT_SRC_NONE,		/* nothing bulwark collects: the rule can never fire */
	DETECT_SRC_AUDITD,		/* product: linux, service: auditd */
	DETECT_SRC_PROCESS_CREATION,	/* category: process_creation, product: linux */
	DETECT_SRC_BULWARK,		/* product: bulwark (bulwark's own audit events) */
	DETECT_SRC_FILE_EVENT,		/* category: file_event, product: linux (auditd PATH records of created names) */
	DETECT_SRC_NETWORK_CONNECTION,	/* category: network_connection, product: linux (auditd connect + SOCKADDR) */
	DETECT_SRC_FILE_ACCESS,		/* category: file_access, product: linux (auditd PATH records of files used) */
	DETECT_SRC_LINUX,		/* product: linux alone: any log message from the journal or syslog */
	DETECT_SRC_SYSLOG,		/* product: linux, service: syslog: the same messages */
	DETECT_SRC_AUTH,		/* product: linux, service: auth: messages of sshd, sudo, su, login, PAM, account tools */
	DETECT_SRC_SSHD,		/* product: linux, service: sshd */
	DETECT_SRC_CRON,		/* product: linux, service: cron */
	DETECT_SRC_FILE_CHANGE,		/* category: file_change, product: linux (the agent's file integrity) */
	DETECT_SRC_AGENT,		/* product: bulwark, service: agent (what hosts' agents did: sessions, patches) */
	DETECT_SRC_COUNT
};

struct detect_rule;

/*
 * Compiles one rule from YAML text (len bytes). name (a file name) and the
 * YAML line start every error message. Caller frees *out with
 * detect_rule_free().
 */
int detect_rule_compile(const char *text, size_t len, const char *name, struct detect_rule **out,
			struct bw_err *err);
void detect_rule_free(struct detect_rule *r);

/* Does ev satisfy the rule's detection? */
bool detect_rule_match(const struct detect_rule *r, const struct detect_event *ev);
/*
 * The fields (and "keywords") that made ev match r: up to cap names into
 * names (borrowed from r); returns how many. Call only for a match.
 */
size_t detect_rule_explain(const struct detect_rule *r, const struct detect_event *ev, const char **names, size_t cap);

const char *detect_rule_title(const struct detect_rule *r);
/* The rule's id (a UUID in SigmaHQ rules), or "" when it has none. */
const char *detect_rule_id(const struct detect_rule *r);
enum detect_level detect_rule_level(const struct detect_rule *r);
enum detect_source detect_rule_source(const struct detect_rule *r);
/* Is r a correlation rule (it matches no event itself: a correlator follows it)? */
bool detect_rule_is_correlation(const struct detect_rule *r);
/* "event_count", "value_count", "temporal", "temporal_ordered"; NULL for a detection rule. */
const char *detect_rule_correlation_type(const struct detect_rule *r);
/*
 * Does r raise no alert of its own? True for a rule that correlations
 * refer to (none of them with generate: true): only the correlation alerts.
 */
bool detect_rule_quiet(const struct detect_rule *r);
/* Why the rule can never fire (its log source is one bulwark does not collect), or NULL. */
const char *detect_rule_never_fires(const struct detect_rule *r);
const char *detect_level_name(enum detect_level l);
/*
 * "auditd", "process_creation", "bulwark", "file_event", "network_connection", "file_access", "linux", "syslog",
 * "auth", "sshd", "cron" ("none" for DETECT_SRC_NONE).
 */
const char *detect_source_name(enum detect_source s);
/* The source named name (not "none"): true, or false when there is none. */
bool detect_source_parse(const char *name, enum detect_source *out);
/* The level named name ("informational".."critical"): true, or false when there is none. */
bool detect_level_parse(const char *name, enum detect_level *out);

/*
 * Does ev hit one of the exceptions (JSON text: an array of {"field",
 * "value"}): a field of that name whose value equals it, ASCII
 * case-insensitively? NULL or malformed text is no exception.
 */
bool detect_exceptions_match(const char *exceptions, const struct detect_event *ev);

/* ---- rule sets ---------------------------------------------------------------- */

/* bulwark's own rules (rules/bulwark/ in the source tree), compiled in; the table ends with a NULL name. */
struct detect_builtin {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct detect_builtin detect_builtin_rules[];

/* What loading a directory found: every file, loaded or refused with its reason. */
struct detect_load_item {
	char *path;
	char *reason;		/* NULL: loaded */
	char *never;		/* loaded but can never fire: why */
};
struct detect_load_report {
	struct detect_load_item *items;
	size_t n;
	size_t loaded, refused, never_fire;
};
void detect_load_report_clear(struct detect_load_report *rep);

struct detect_ruleset;

/*
 * Loads every *.yml and *.yaml file below path (recursively, in name
 * order), or the one rule file path names. A refused file is reported and
 * skipped; the rest load. Errors (BW_E*) only for what stops the whole
 * load (path unreadable, out of memory). Caller frees *out with
 * detect_ruleset_free() and clears rep.
 */
int detect_ruleset_load(const char *path, struct detect_ruleset **out, struct detect_load_report *rep,
			struct bw_err *err);
/*
 * bulwark's own rules, then (dir not NULL) every rule below dir, as
 * detect_ruleset_load does. Built-in rules are reported as
 * "builtin:bulwark/NAME.yml".
 */
int detect_ruleset_load_with_builtin(const char *dir, struct detect_ruleset **out, struct detect_load_report *rep,
				     struct bw_err *err);
/* One rule file's text (len bytes), reported as name, loaded as a file of detect_ruleset_load is. */
int detect_ruleset_load_text(const char *name, const char *text, size_t len, struct detect_ruleset **out,
			     struct detect_load_report *rep, struct bw_err *err);
void detect_ruleset_free(struct detect_ruleset *rs);
size_t detect_ruleset_count(const struct detect_ruleset *rs);
/* Tests ev against the rules of its log source src (only those); fn for each match. Returns the number of matches. */
typedef void (*detect_match_fn)(void *ctx, const struct detect_rule *r);
size_t detect_ruleset_match(const struct detect_ruleset *rs, enum detect_source src, const struct detect_event *ev,
			    detect_match_fn fn, void *ctx);
const struct detect_rule *detect_ruleset_rule(const struct detect_ruleset *rs, size_t i);
/*
 * Of the rules of src: how many are indexed by a literal every match needs
 * (an event meets only those its own values select), how many are tried on
 * every event.
 */
void detect_ruleset_prefilter_stats(const struct detect_ruleset *rs, enum detect_source src, size_t *indexed,
				    size_t *always);

/* ---- correlation ------------------------------------------------------------------ */

/*
 * The state of a rule set's correlation rules (Sigma v2: event_count,
 * value_count, temporal, temporal_ordered) as base-rule matches arrive,
 * bounded: at most max_groups groups and max_bytes of state, the least
 * recently updated group evicted first (and counted). The rule set must
 * outlive the correlator.
 */
struct detect_correlator;

struct detect_corr_match {
	const struct detect_rule *rule;	/* the correlation that now holds */
	const char *group;		/* "User=alice, Computer=web1" ("" without group-by) */
	size_t count;			/* events, distinct values or rules counted */
	int64_t first_ms, last_ms;	/* the window they fell in */
};
typedef void (*detect_corr_fn)(void *ctx, const struct detect_corr_match *m);

struct detect_corr_stats {
	size_t groups, max_groups;
	size_t bytes, max_bytes;
	uint64_t evicted;
};

/* Caller frees with detect_correlator_free(). */
int detect_correlator_new(const struct detect_ruleset *rs, size_t max_groups, size_t max_bytes,
			  struct detect_correlator **out, struct bw_err *err);
void detect_correlator_free(struct detect_correlator *c);
/*
 * Rule r matched ev at time_ms (the event's own time): updates every
 * correlation that refers to r and calls fn for each that now holds (its
 * group then starts over), and for correlations chained on those. Returns
 * how many held.
 */
size_t detect_correlator_feed(struct detect_correlator *c, const struct detect_rule *r, const struct detect_event *ev,
			      int64_t time_ms, detect_corr_fn fn, void *ctx);
void detect_correlator_stats(const struct detect_correlator *c, struct detect_corr_stats *out);

/* ---- enrichment ----------------------------------------------------------------- */

/*
 * What a rule cannot compute, added to bulwark's own events before matching
 * (docs/DETECT.md, "Enrichment"): enrich.hour (0-23) and enrich.weekday
 * (sun..sat) of the event's time in the server's local time zone (TZ),
 * enrich.business_hours ("true"/"false") per a calendar,
 * enrich.window_hours for events that carry a maintenance window, and
 * enrich.first_time: whether the event's actor takes its action for the
 * first time (as the caller knows: the server from its database), and for a
 * host's certificate login the maintenance grant behind it (as the server
 * knows it): enrich.grant, enrich.grant_request, enrich.grant_host,
 * enrich.grant_account.
 */
#define DETECT_BUSINESS_HOURS_DEFAULT "mon-fri 08:00-18:00"
#define DETECT_ENRICH_FIELDS 9

/* Minutes of the week (Sunday 00:00 first) that are business hours. */
struct detect_calendar {
	uint8_t bits[7 * 1440 / 8];
	bool set;
};

/* "mon-fri 08:00-18:00, sat 09:00-12:00" into *out. Errors say where the text is wrong. */
int detect_calendar_parse(const char *spec, struct detect_calendar *out, struct bw_err *err);
/* DETECT_BUSINESS_HOURS_DEFAULT. */
void detect_calendar_default(struct detect_calendar *out);

/* Room for an enriched event; zero-initialise, reuse, release with detect_enriched_clear(). */
struct detect_enriched {
	struct detect_field *fields;
	size_t cap;
	char hour[8], window[24], request[24];
	struct detect_event ev;
};

/* The maintenance grant behind a certificate login, as the caller found it. */
struct detect_grant {
	const char *state;		/* enrich.grant: active, not_yet, expired, revoked, not_issued, unknown */
	int64_t request;		/* enrich.grant_request (< 1: none) */
	bool host_ok, account_ok;	/* enrich.grant_host, enrich.grant_account */
};

/*
 * in (at time_ms) with the enrichment fields added (first_time: 1 or 0 for
 * enrich.first_time, -1 for none; grant NULL for none); valid until the
 * next call with e or until in changes. Borrows in's strings.
 */
const struct detect_event *detect_enrich(struct detect_enriched *e, const struct detect_calendar *cal,
					 const struct detect_event *in, int64_t time_ms, int first_time,
					 const struct detect_grant *grant);
/*
 * For the actions whose first time is telling (patch.publish,
 * access.approve, access.request, role_grant.approve, user.roles,
 * token.create, rules.set): the key "ACTION<0x1f>ACTOR" into key (cap
 * bytes) and true; false for other events.
 */
bool detect_first_time_key(const struct detect_event *ev, char *key, size_t cap);

/* An in-memory set of keys seen (offline runs), up to DETECT_SEEN_MAX. */
#define DETECT_SEEN_MAX (4u << 20)
struct detect_seen;
/* Caller frees with detect_seen_free(). */
int detect_seen_new(struct detect_seen **out, struct bw_err *err);
void detect_seen_free(struct detect_seen *s);
/* 1: key is new (now recorded); 0: seen before; -1: the set is full (not known). */
int detect_seen_first(struct detect_seen *s, const char *key);
void detect_enriched_clear(struct detect_enriched *e);

/* ---- host events as rules see them -------------------------------------------------- */

/*
 * One auditd event (hostev) becomes a document per log source
 * (docs/DETECT.md, "Host events"): each record as itself for service:
 * auditd ("type" plus auditd's field names); a successful execve as
 * process_creation (Image, CommandLine, CurrentDirectory, ProcessId,
 * ParentProcessId, User, LogonId, ParentImage, ParentCommandLine,
 * Computer); each PATH record of a created name as file_event
 * (TargetFilename, Image...); a connect() to an IPv4/IPv6 address as
 * network_connection (DestinationIp, DestinationPort, Initiated...); each
 * PATH record of an existing file used by another syscall as file_access
 * (TargetFilename, AuditKey...).
 * Parents come from a table of the last exec of up to 16,384 processes
 * (per host), so memory stays bounded.
 */
struct detect_host_mapper;

/* Caller frees with detect_host_mapper_free(). */
int detect_host_mapper_new(struct detect_host_mapper **out, struct bw_err *err);
void detect_host_mapper_free(struct detect_host_mapper *m);

/* Calls fn for each document of ev, with its log source; the document is valid only during the call. */
typedef void (*detect_view_fn)(void *ctx, enum detect_source src, const struct detect_event *doc);
int detect_host_views(struct detect_host_mapper *m, const struct hostev_audit_event *ev, detect_view_fn fn, void *ctx,
		      struct bw_err *err);

/*
 * A log message from the journal or a syslog file (a host event of source
 * journal or syslog) as the documents of its log sources: linux and syslog
 * always, auth for the programs that write the auth log, sshd and cron for
 * theirs. Fields: program, pid, message, Computer (host), User, action,
 * object, result (the normalised ones); keywords search the raw record
 * "IDENT[PID]: MESSAGE".
 */
void detect_log_views(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx);
/*
 * A host event that is not auditd's as the documents of its log sources:
 * journal and syslog messages as detect_log_views; file integrity (source
 * fim) as file_change: TargetFilename, action (created, changed, deleted,
 * attributes), User (the owner's uid), Computer, and kind, old_/new_sha256,
 * _mode, _uid, _gid, _size from its record; the agent's own actions (source
 * agent) as agent: action, subject, object, result, Computer, keywords
 * searching the record (its detail).
 */
void detect_event_views(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx);

#endif
