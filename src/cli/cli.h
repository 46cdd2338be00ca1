/* cli: argument parsing helpers and the subcommand entry points. */
#ifndef BW_CLI_H
#define BW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/core.h"
#include "note/note.h"

/* Exit codes of every subcommand. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,	/* the operation failed or a check did not pass */
	CLI_USAGE = 2,	/* bad command line */
};

/* Prints "bulwark: <msg>" to stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error in err with a context prefix and returns CLI_FAIL. */
int cli_fail(const char *what, const struct bw_err *err);

/*
 * Minimal long-option parser: options are "--name VALUE" or "--flag".
 * cli_opt_value returns the value of --name (last one wins unless multi),
 * consuming it from argv; positional arguments stay.
 */
#define CLI_ARGS_MAX 8192	/* more arguments than this are refused, never dropped */

struct cli_args {
	int argc;
	int given;		/* the argc passed in (above CLI_ARGS_MAX: every parse call refuses) */
	char **argv;
	char used[CLI_ARGS_MAX];	/* argv[i] consumed */
};

void cli_args_init(struct cli_args *a, int argc, char **argv);
/* Value of --name or NULL. Returns -1 (and prints) when --name lacks a value or is repeated. */
int cli_opt(struct cli_args *a, const char *name, const char **value);
/* cli_opt, with *value = fallback when the option is absent (cli_opt sets it to NULL then). */
int cli_opt_or(struct cli_args *a, const char *name, const char **value, const char *fallback);
/* All values of a repeatable --name; *n of them into vals (capacity cap). */
int cli_opt_all(struct cli_args *a, const char *name, const char **vals, size_t cap, size_t *n);
/* True (and consumed) when --name is present. */
int cli_flag(struct cli_args *a, const char *name);
/*
 * Collects the remaining positional arguments; fails (prints, returns -1)
 * on any unknown "--option" left over.
 */
int cli_positional(struct cli_args *a, char **pos, size_t cap, size_t *n);
/* Strict decimal for CLI values; prints and returns -1 on bad input. */
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);

/* cli_parse_u64 plus a range check; prints "OPT must be MIN..MAX" and returns -1 when outside. */
int cli_parse_range(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Reads all of stdin (at most max bytes). Caller frees *out. */
int cli_read_stdin(size_t max, uint8_t **out, size_t *len, struct bw_err *err);
/* Reads a file or, when path is "-", stdin. Caller frees *out. */
int cli_read_input(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err);
/*
 * A key given on the command line: either the key text itself or a path
 * to a file holding it (trailing newline stripped), in secure memory.
 * Caller frees *out with bw_secure_free().
 */
int cli_read_key(const char *arg, char **out, struct bw_err *err);

/* A verifier key given as text or file (see cli_read_key). Caller frees *out. */
int cli_load_verifier(const char *arg, struct note_verifier **out, struct bw_err *err);
/* A signer key given as text or file; the text is wiped after parsing. Caller frees *out. */
int cli_load_signer(const char *arg, struct note_signer **out, struct bw_err *err);

/* Reads a secret from the terminal without echo. Returns 0 or -1 (no terminal). */
int cli_prompt_secret(const char *prompt, char *out, size_t cap);
/* A secret from environment variable env, else prompted (twice when confirm). */
int cli_secret(const char *env, const char *prompt, bool confirm, char *out, size_t cap);
/* Draws text as a QR code with Unicode block characters. */
void cli_print_qr(FILE *f, const char *text);

/* ---- the API client (api_client.c) ---- */
struct cli_api {
	const char *server;	/* https://host:port */
	const char *token;	/* bearer token, may be NULL */
	const char *cacert;	/* PEM file to verify the server, NULL: system store */
};

/* Takes --server/--token/--cacert from a (or BULWARK_SERVER/_TOKEN/_CACERT). -1 on bad input. */
int cli_api_init(struct cli_api *api, struct cli_args *a);
/*
 * One request; *status receives the HTTP status. The JSON reply goes to
 * *reply (caller json_decref, may be NULL), or the raw body to *raw when
 * raw is non-NULL. Returns -1 (printed) when no response came.
 */
int cli_api_call(const struct cli_api *api, const char *method, const char *path, json_t *body, long *status,
		 json_t **reply, struct bw_buf *raw);
/* PUTs the file at path as application/octet-stream (streamed). Like cli_api_call. */
int cli_api_upload(const struct cli_api *api, const char *urlpath, const char *path, long *status, json_t **reply);
/* POSTs bytes as application/octet-stream. Like cli_api_call. */
int cli_api_post_bytes(const struct cli_api *api, const char *urlpath, const struct bw_buf *bytes, long *status,
		       json_t **reply);
/* 0 when status == want; else prints the server's error and returns -1. */
int cli_api_expect(const char *what, long status, long want, json_t *reply);
void cli_print_json(json_t *j);

/* ---- for people (present.c); every text from the server made safe for a terminal ---- */

/* s with control characters replaced by '?' into buf (cut to cap); returns buf. */
const char *cli_safe_text(const char *s, char *buf, size_t cap);
/* o[key] with control characters replaced by '?' into buf ("-" when absent). */
const char *cli_text(const json_t *o, const char *key, char *buf, size_t cap);
/* o[key], an array of strings, as "a,b" (made safe; "-" when empty). */
const char *cli_list_text(const json_t *o, const char *key, char *buf, size_t cap);
/* t, seconds since the epoch, as 2026-11-28T01:02:03Z ("-" for 0). */
const char *cli_time_secs(int64_t t, char buf[BW_TIME_TEXT_MAX]);
/* o[key], seconds since the epoch, as 2026-11-28T01:02:03Z ("-" when absent or 0). */
const char *cli_time_text(const json_t *o, const char *key, char buf[BW_TIME_TEXT_MAX]);
void cli_print_requests(const json_t *arr);
void cli_print_request(const json_t *r);
void cli_print_review(const json_t *rv);
void cli_print_hosts(const json_t *arr);
/* "WHAT; one-time enrolment code ... CODE" from a reply with enrolment_code and code_expires. */
void cli_print_enrol_code(const char *what, const json_t *reply);

int cmd_note(int argc, char **argv);
int cmd_partner(int argc, char **argv);
int cmd_taxii(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_triage_zygote(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);

/* ---- the configuration file of bulwark serve (config.c) ---- */
struct config {
	char **keys, **values;		/* in file order */
	size_t *lines;
	size_t n;
};
/* Reads and checks FILE (errors name its line). Clear with config_free(). */
int config_read(const char *path, struct config *c, struct bw_err *err);
void config_free(struct config *c);
/*
 * argv (options, without the program and command) with c's settings put
 * before it as "--key value", except those argv gives itself. Free *out with
 * config_argv_free().
 */
int config_argv(const struct config *c, int argc, char **argv, int *out_argc, char ***out_argv, struct bw_err *err);
void config_argv_free(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_access(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_patch(int argc, char **argv);
int cli_patch_keys(struct cli_args *a);
int cli_patch_publish(struct cli_args *a);
int cli_patch_status(struct cli_args *a);
int cmd_agent(int argc, char **argv);
/* bulwark passwd: change your own password through the API (cmd_access.c). */
int cmd_passwd(int argc, char **argv);
int cmd_enrol(int argc, char **argv);
/* bulwark audit list|show: audit events through the API (cmd_audit.c). */
int cmd_audit(int argc, char **argv);
/* bulwark events: the audit event vocabulary (cmd_events.c). */
int cmd_events(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_witness(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* `bulwark witness serve`: bulwark serve with only a witness's routes (and sign-in, the log, alerts). */
int cmd_witness_serve(int argc, char **argv);
/* `bulwark log witness` (cmd_log_witness.c). */
int cli_log_witness(int argc, char **argv);
/* `bulwark log rotate-key --data DIR` (cmd_log_key.c). */
int cli_log_rotate_key(int argc, char **argv);
struct tlog_checkpoint;
/* Reads dir's checkpoint and verifies it with dir/log.vkey; *note (caller frees) verbatim. */
int cli_log_checkpoint(const char *dir, uint8_t **note, size_t *len, struct tlog_checkpoint *cp, struct bw_err *err);
/* The same for proving entry index: dir's cosigned checkpoint when it covers index, else the latest. */
int cli_log_checkpoint_for(const char *dir, uint64_t index, uint8_t **note, size_t *len, struct tlog_checkpoint *cp,
			   struct bw_err *err);
/* bulwark rules check|test|hunt: Sigma rules (cmd_rules.c; hunt in cmd_rules_hunt.c). */
int cmd_rules(int argc, char **argv);
int cli_rules_hunt(int argc, char **argv);
/* bulwark rules test (cmd_rules_test.c). */
int cli_rules_test(int argc, char **argv);
struct detect_rule;
struct detect_event;
/* "WHERE: LEVEL TITLE [ID] matched: FIELD, ..." for a rule that matched ev (cmd_rules.c; terminal-safe). */
void cli_print_rule_match(const char *where, const struct detect_rule *r, const struct detect_event *ev);
/* Correlation state bounds for offline runs (rules test, rules hunt): groups and bytes. */
#define CLI_CORR_GROUPS 100000
#define CLI_CORR_BYTES (256u << 20)
struct detect_correlator;
struct detect_corr_match;
struct detect_seen;
struct detect_enriched;
struct detect_calendar;
/*
 * For offline runs: an event with a "time" sets *time_ms and comes back
 * enriched (enrich.first_time from what seen holds of this run); one
 * without comes back as it is. Valid until e's next use.
 */
const struct detect_event *cli_enrich_timed(struct detect_enriched *e, const struct detect_calendar *cal,
					    struct detect_seen *seen, const struct detect_event *ev, int64_t *time_ms);
/* "WHERE: LEVEL TITLE [ID] correlated (TYPE): N for GROUP from T to T". */
void cli_print_corr_match(const char *where, const struct detect_corr_match *m);
/* "correlation state: ..." when c tracked any group. */
void cli_print_corr_stats(const struct detect_correlator *c);
/* bulwark alert list|show|ack|resolve: alerts through the API (cmd_alert.c). */
int cmd_alert(int argc, char **argv);

#endif /* BW_CLI_H */
