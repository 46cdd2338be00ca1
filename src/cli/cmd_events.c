/* cli/cmd_events.c: `bulwark events`: the audit event vocabulary, for rule authors and auditors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "events/events.h"

static const char events_usage[] =
    "usage: bulwark events\n"
    "       bulwark events search [--host H] [--source S] [--subject U] [--action A] [--text WORDS]\n"
    "                             [--from TIME] [--to TIME] [--before INDEX] [--limit N] [--json]\n"
    "       bulwark events prune --older-than-secs S [--json]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "Without a verb: prints every audit event action with what it records and its detail\n"
    "fields, then every detail field with its type and meaning (markdown tables, as in\n"
    "docs/EVENTS.md).\n"
    "\n"
    "search: host events from hosts' agents (docs/HOSTS.md), newest first, through the API\n"
    "(admin or auditor): index in the host-event log, host time, host, source, subject, action,\n"
    "object, result; --json prints the server's answer with each raw record. Fields match\n"
    "exactly; --text needs every word to occur in the event (its fields and raw record);\n"
    "--from/--to bound the host's time (RFC 3339 UTC or milliseconds since the epoch, --to\n"
    "exclusive); --limit 1..1000 (default 100); --before INDEX gives the next page.\n"
    "\n"
    "prune (admin): retention now: the oldest entry bundles of the host-event log (256 events\n"
    "each) whose every event arrived more than S seconds ago are deleted; the hash tiles stay,\n"
    "so the log still verifies. Prints how many entries went and below which index none is left.\n";

/* Appends &key=value (value percent-encoded) to path when value is set; -1 when out of memory or too long. */
static int
query_add(struct bw_buf *path, const char *key, const char *value)
{
	char *esc;
	int r;

	if (value == NULL)
		return 0;
	if (strlen(value) > 2000 || (esc = curl_easy_escape(NULL, value, 0)) == NULL)
		return -1;
	r = bw_buf_printf(path, "%c%s=%s", memchr(path->data, '?', path->len) ? '&' : '?', key, esc);
	curl_free(esc);
	return r;
}

static int
events_search(struct cli_args *a)
{
	static const char *const keys[] = { "host", "source", "subject", "action", "text", "from", "to", "before",
					    "limit" };
	const char *vals[9] = { 0 };
	char opt[16], *pos[1];
	struct cli_api api;
	struct bw_buf path = { 0 };
	json_t *reply = NULL, *ev;
	long status;
	size_t i, npos;
	bool as_json;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a))
		return CLI_USAGE;
	for (i = 0; i < 9; i++) {
		snprintf(opt, sizeof opt, "--%s", keys[i]);
		if (cli_opt(a, opt, &vals[i]))
			return CLI_USAGE;
	}
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos)) {
		fputs(events_usage, stderr);
		return CLI_USAGE;
	}
	bw_buf_append_str(&path, "/api/v1/events");
	for (i = 0; i < 9; i++)
		if (query_add(&path, keys[i], vals[i]) != 0) {
			cli_errorf("events search: --%s is too long", keys[i]);
			bw_buf_free(&path);
			return CLI_USAGE;
		}
	bw_buf_append_byte(&path, 0);
	if (cli_api_call(&api, "GET", (const char *)path.data, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("events search", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		cli_print_json(reply);
	} else {
		char b[6][300], t[BW_TIME_TEXT_MAX];
		printf("%-10s %-24s %-16s %-8s %-12s %-12s %-8s %s\n", "INDEX", "TIME", "HOST", "SOURCE", "SUBJECT",
		       "ACTION", "RESULT", "OBJECT");
		json_array_foreach(json_object_get(reply, "events"), i, ev) {
			bw_time_format_ms(json_integer_value(json_object_get(ev, "time")), t);
			printf("%-10lld %-24s %-16s %-8s %-12s %-12s %-8s %s\n",
			       (long long)json_integer_value(json_object_get(ev, "index")), t,
			       cli_text(ev, "host", b[0], sizeof b[0]), cli_text(ev, "source", b[1], sizeof b[1]),
			       cli_text(ev, "subject", b[2], sizeof b[2]), cli_text(ev, "action", b[3], sizeof b[3]),
			       cli_text(ev, "result", b[4], sizeof b[4]), cli_text(ev, "object", b[5], sizeof b[5]));
		}
		if (json_object_get(reply, "next_before") != NULL)
			printf("more: --before %lld\n", (long long)json_integer_value(json_object_get(reply, "next_before")));
	}
	rc = CLI_OK;
out:
	bw_buf_free(&path);
	json_decref(reply);
	return rc;
}

static int
events_prune(struct cli_args *a)
{
	const char *secs_s = NULL;
	char *pos[1];
	struct cli_api api;
	uint64_t secs;
	json_t *reply = NULL, *req;
	long status;
	size_t npos;
	bool as_json;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--older-than-secs", &secs_s))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos) || secs_s == NULL) {
		fputs(events_usage, stderr);
		return CLI_USAGE;
	}
	if (bw_parse_u64(secs_s, strlen(secs_s), &secs) != 0 || secs > (uint64_t)100 * 366 * 86400) {
		cli_errorf("events prune: --older-than-secs must be 0 to 3162240000 seconds");
		return CLI_USAGE;
	}
	req = json_pack("{s:I}", "older_than_secs", (json_int_t)secs);
	if (cli_api_call(&api, "POST", "/api/v1/hostlog/prune", req, &status, &reply, NULL) != 0 ||
	    cli_api_expect("events prune", status, 200, reply) != 0)
		goto out;
	if (as_json)
		cli_print_json(reply);
	else
		printf("events prune: %lld entries pruned now; entries below %lld are pruned\n",
		       (long long)json_integer_value(json_object_get(reply, "entries")),
		       (long long)json_integer_value(json_object_get(reply, "pruned_upto")));
	rc = CLI_OK;
out:
	json_decref(req);
	json_decref(reply);
	return rc;
}

int
cmd_events(int argc, char **argv)
{
	char *md;

	if (argc > 0 && strcmp(argv[0], "search") == 0) {
		struct cli_args a;
		cli_args_init(&a, argc - 1, argv + 1);
		return events_search(&a);
	}
	if (argc > 0 && strcmp(argv[0], "prune") == 0) {
		struct cli_args a;
		cli_args_init(&a, argc - 1, argv + 1);
		return events_prune(&a);
	}
	if (argc > 0) {
		bool help = strcmp(argv[0], "--help") == 0;
		fputs(events_usage, help ? stdout : stderr);
		return help ? CLI_OK : CLI_USAGE;
	}
	if ((md = ev_vocabulary_markdown()) == NULL) {
		cli_errorf("events: out of memory");
		return CLI_FAIL;
	}
	fputs(md, stdout);
	free(md);
	return CLI_OK;
}
