/* cli/cmd_rules.c: `bulwark rules ...`: Sigma detection rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "detect/detect.h"

static const char rules_usage[] =
    "usage: bulwark rules <command> [options]\n"
    "\n"
    "  check [--verbose] DIR\n"
    "      Load every *.yml and *.yaml rule below DIR as the server would and\n"
    "      print how many loaded, how many were refused (each with the file, the\n"
    "      line and the reason) and how many loaded but can never fire because\n"
    "      bulwark collects no events of their log source (each with the reason).\n"
    "      --verbose also lists every loaded rule with its level and title.\n"
    "      Exit 0 when every file loaded, 1 when any was refused.\n"
    "  test [--source SOURCE] [--format auto|jsonl|auditd] [--business-hours SPEC]\n"
    "       RULE_OR_DIR EVENTS\n"
    "      Match events against the rules that load from RULE_OR_DIR and print\n"
    "      each match with the fields that matched. EVENTS is one JSON object per\n"
    "      line (nested objects give dotted field names; matched against every\n"
    "      rule, or with --source only the rules of that log source) or auditd's\n"
    "      log (audit.log lines; each event is matched as the documents bulwark\n"
    "      makes of it: its records for service auditd, process_creation,\n"
    "      file_event, file_access, network_connection, each against the rules\n"
    "      of its own log source, --source keeping one). Correlation rules count\n"
    "      the matches by each event's time. --format auto (the default) reads\n"
    "      auditd's log when the first line starts with type= or node=.\n"
    "      SOURCE: auditd, process_creation, file_event, network_connection,\n"
    "      file_access, bulwark. Exit 0 when every line was read and every rule\n"
    "      loaded. Events with a time get enrich.hour, enrich.weekday and\n"
    "      enrich.business_hours (SPEC, default 'mon-fri 08:00-18:00', local\n"
    "      time: TZ).\n"
    "  hunt RULE_OR_DIR --log DIR [--vkey VKEY] [--from TIME] [--to TIME]\n"
    "       [--business-hours SPEC]\n"
    "      Run the rules of log source bulwark over the audit events in a log\n"
    "      directory, or those of the host log sources over the host events of\n"
    "      the host-event log (DATA/hostlog) (the entries its signed checkpoint covers, verified with\n"
    "      VKEY, default DIR/log.vkey; each entry checked against its hash in\n"
    "      the tiles), optionally only events whose time is within [TIME, TIME]\n"
    "      (RFC 3339 UTC or its start: 2026-11-27, 2026-11-27T10:00). Prints\n"
    "      each match with the entry's index and the fields that matched.\n"
    "  status                                                           (API)\n"
    "      The running server's live detection as JSON: rules in use, events\n"
    "      matched, alerts raised, the queue, the correlation state and evictions.\n"
    "  reload                                                  (API, admins)\n"
    "      Load the running server's rules again, as SIGHUP does: all of them, or\n"
    "      none when any file is refused (the refusal is the error).\n"
    "  settings                                                         (API)\n"
    "      The rules an admin switched off or gave exceptions, as JSON.\n"
    "  set RULE_ID --enabled true|false [--except FIELD=VALUE]...          (API, admins)\n"
    "      Switch a rule of the running server on or off; each --except names\n"
    "      an event field and the value (case-insensitive) for which it raises\n"
    "      no alert. The whole setting is replaced.\n"
    "  API options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, _TOKEN, _CACERT)\n";

static int
rules_check(int argc, char **argv)
{
	struct cli_args a;
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };
	char *pos[2], buf[1024], buf2[1024];
	size_t npos, i;
	bool verbose;

	cli_args_init(&a, argc, argv);
	verbose = cli_flag(&a, "--verbose");
	if (cli_positional(&a, pos, 2, &npos) != 0)
		return CLI_USAGE;
	if (npos != 1) {
		cli_errorf("rules check needs one directory");
		return CLI_USAGE;
	}
	if (detect_ruleset_load(pos[0], &rs, &rep, &err) != 0)
		return cli_fail("rules check", &err);
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].reason != NULL)
			printf("refused: %s\n", cli_safe_text(rep.items[i].reason, buf, sizeof buf));
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].never != NULL)
			printf("never fires: %s: %s\n", cli_safe_text(rep.items[i].path, buf, sizeof buf),
			       cli_safe_text(rep.items[i].never, buf2, sizeof buf2));
	if (verbose)
		for (i = 0; i < detect_ruleset_count(rs); i++) {
			const struct detect_rule *r = detect_ruleset_rule(rs, i);
			printf("loaded: %-13s %s\n", detect_level_name(detect_rule_level(r)),
			       cli_safe_text(detect_rule_title(r), buf, sizeof buf));
		}
	printf("%zu rule files: %zu loaded (%zu of them can never fire: no such events or fields collected), %zu refused\n",
	       rep.n, rep.loaded, rep.never_fire, rep.refused);
	i = rep.refused;
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return i == 0 ? CLI_OK : CLI_FAIL;
}

const struct detect_event *
cli_enrich_timed(struct detect_enriched *e, const struct detect_calendar *cal, struct detect_seen *seen,
		 const struct detect_event *ev, int64_t *time_ms)
{
	char key[300];
	int64_t ms;

	if (!detect_event_time(ev, &ms))
		return ev;
	*time_ms = ms;
	return detect_enrich(e, cal, ev, ms,
			     detect_first_time_key(ev, key, sizeof key) ? detect_seen_first(seen, key) : -1, NULL);
}

void
cli_print_corr_match(const char *where, const struct detect_corr_match *m)
{
	char buf[600], idb[80], gb[600], from[BW_TIME_TEXT_MAX], to[BW_TIME_TEXT_MAX];

	bw_time_format_ms(m->first_ms, from);
	bw_time_format_ms(m->last_ms, to);
	printf("%s: %s %s [%s] correlated (%s): %zu for %s from %s to %s%s\n", where,
	       detect_level_name(detect_rule_level(m->rule)), cli_safe_text(detect_rule_title(m->rule), buf, sizeof buf),
	       cli_safe_text(detect_rule_id(m->rule), idb, sizeof idb), detect_rule_correlation_type(m->rule), m->count,
	       m->group[0] ? cli_safe_text(m->group, gb, sizeof gb) : "all events", from, to,
	       detect_rule_quiet(m->rule) ? " (no alert of its own: a correlation uses it)" : "");
}

void
cli_print_corr_stats(const struct detect_correlator *c)
{
	struct detect_corr_stats st;

	if (c == NULL)
		return;
	detect_correlator_stats(c, &st);
	if (st.groups > 0 || st.evicted > 0)
		printf("correlation state: %zu groups (at most %zu), %zu bytes (at most %zu), %llu evicted\n", st.groups,
		       st.max_groups, st.bytes, st.max_bytes, (unsigned long long)st.evicted);
}

void
cli_print_rule_match(const char *where, const struct detect_rule *r, const struct detect_event *ev)
{
	const char *names[32];
	char buf[600], idb[80];
	size_t n = detect_rule_explain(r, ev, names, 32), i;

	printf("%s: %s %s [%s] matched:", where, detect_level_name(detect_rule_level(r)),
	       cli_safe_text(detect_rule_title(r), buf, sizeof buf), cli_safe_text(detect_rule_id(r), idb, sizeof idb));
	for (i = 0; i < n; i++)
		printf("%s %s", i ? "," : "", cli_safe_text(names[i], buf, sizeof buf));
	printf("%s\n", detect_rule_quiet(r) ? " (no alert of its own: a correlation uses it)" : "");
}

/* GET path from the API and print its JSON (what = the command, for errors). */
static int
print_api_json(int argc, char **argv, const char *what, const char *path)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1], *text;
	size_t npos;
	long status;
	json_t *reply = NULL;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_api_init(&api, &a) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) == 0 &&
	    cli_api_expect(what, status, 200, reply) == 0) {
		if ((text = json_dumps(reply, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) != NULL)
			printf("%s\n", text);
		free(text);
		rc = CLI_OK;
	}
	json_decref(reply);
	return rc;
}

static int
rules_set(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	const char *enabled = NULL, *ex[64];
	char *pos[2], path[400], *esc = NULL;
	size_t npos, nex = 0, i;
	long status;
	json_t *reply = NULL, *body, *arr;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_api_init(&api, &a) || cli_opt(&a, "--enabled", &enabled) || cli_opt_all(&a, "--except", ex, 64, &nex) ||
	    cli_positional(&a, pos, 2, &npos))
		return CLI_USAGE;
	if (npos != 1 || enabled == NULL || (strcmp(enabled, "true") != 0 && strcmp(enabled, "false") != 0)) {
		cli_errorf("rules set needs a rule id and --enabled true|false");
		return CLI_USAGE;
	}
	arr = json_array();
	for (i = 0; i < nex; i++) {
		const char *eq = strchr(ex[i], '=');
		if (eq == NULL || eq == ex[i]) {
			json_decref(arr);
			cli_errorf("--except takes FIELD=VALUE");
			return CLI_USAGE;
		}
		json_array_append_new(arr, json_pack("{s:s%, s:s}", "field", ex[i], (size_t)(eq - ex[i]), "value", eq + 1));
	}
	body = json_pack("{s:b, s:o}", "enabled", strcmp(enabled, "true") == 0, "exceptions", arr);
	if ((esc = curl_easy_escape(NULL, pos[0], 0)) == NULL || strlen(esc) > 300) {
		cli_errorf("rules set: the rule id is too long");
		goto out;
	}
	snprintf(path, sizeof path, "/api/v1/rules/%s/settings", esc);
	if (cli_api_call(&api, "PUT", path, body, &status, &reply, NULL) == 0 &&
	    cli_api_expect("rules set", status, 200, reply) == 0) {
		printf("%s: %s, %zu exception(s)\n", pos[0], strcmp(enabled, "true") == 0 ? "enabled" : "disabled", nex);
		rc = CLI_OK;
	}
out:
	curl_free(esc);
	json_decref(body);
	json_decref(reply);
	return rc;
}

static int
rules_reload(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1];
	size_t npos;
	long status;
	json_t *reply = NULL, *count;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_api_init(&api, &a) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (cli_api_call(&api, "POST", "/api/v1/rules/reload", NULL, &status, &reply, NULL) == 0 &&
	    cli_api_expect("rules reload", status, 200, reply) == 0) {
		count = json_object_get(reply, "count");
		printf("rules reloaded: %lld in use\n", json_is_integer(count) ? (long long)json_integer_value(count) : -1LL);
		rc = CLI_OK;
	}
	json_decref(reply);
	return rc;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		fputs(rules_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "check") == 0)
		return rules_check(argc - 1, argv + 1);
	if (strcmp(argv[0], "test") == 0)
		return cli_rules_test(argc - 1, argv + 1);
	if (strcmp(argv[0], "hunt") == 0)
		return cli_rules_hunt(argc - 1, argv + 1);
	if (strcmp(argv[0], "settings") == 0)
		return print_api_json(argc - 1, argv + 1, "rules settings", "/api/v1/rules/settings");
	if (strcmp(argv[0], "reload") == 0)
		return rules_reload(argc - 1, argv + 1);
	if (strcmp(argv[0], "status") == 0)
		return print_api_json(argc - 1, argv + 1, "rules status", "/api/v1/detection");
	if (strcmp(argv[0], "set") == 0)
		return rules_set(argc - 1, argv + 1);
	cli_errorf("rules: unknown command '%s'", argv[0]);
	fputs(rules_usage, stderr);
	return CLI_USAGE;
}
