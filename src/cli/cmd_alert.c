/* cli/cmd_alert.c: `bulwark alert list|show|ack|resolve`: alerts through the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char alert_usage[] =
    "usage: bulwark alert list [--state open|acknowledged|resolved] [--limit N] [--json]\n"
    "       bulwark alert show ID\n"
    "       bulwark alert ack ID [--reason TEXT]\n"
    "       bulwark alert resolve ID --resolution true_positive|false_positive|benign --reason TEXT\n"
    "       bulwark alert assign ID USER     (USER '-': nobody)\n"
    "       bulwark alert comment ID --text TEXT\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "Alerts raised by detection rules (docs/DETECT.md), most severe and most recent first:\n"
    "id, level, state, count, last seen, rule. `show` prints one alert as JSON, with the\n"
    "audit log indexes of the first and last events that matched (`bulwark audit show`).\n"
    "Reading and commenting need admin, approver, operator or auditor; ack, resolve and assign\n"
    "need admin or operator (and an alert is assigned only to an enabled admin or operator).\n";

static void
print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);

	if (text != NULL)
		printf("%s\n", text);
	free(text);
}

static int
alert_list(struct cli_args *a)
{
	const char *state = NULL, *limit = NULL;
	struct cli_api api;
	char path[160], b[4][300], t[BW_TIME_TEXT_MAX];
	long status;
	json_t *reply = NULL, *al;
	size_t npos, i;
	char *pos[1];
	uint64_t v;
	bool as_json;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--state", &state) || cli_opt(a, "--limit", &limit))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos) || (limit && cli_parse_range("--limit", limit, 1, 1000, &v)))
		return CLI_USAGE;
	if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0 &&
	    strcmp(state, "resolved") != 0) {
		cli_errorf("--state must be open, acknowledged or resolved");
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/alerts?limit=%s%s%s", limit ? limit : "200", state ? "&state=" : "",
		 state ? state : "");
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("alert list", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		print_json(reply);
	} else {
		printf("%-6s %-13s %-13s %6s %-24s %s\n", "ID", "LEVEL", "STATE", "COUNT", "LAST SEEN", "RULE");
		json_array_foreach(json_object_get(reply, "alerts"), i, al) {
			printf("%-6lld %-13s %-13s %6lld %-24s %s\n", (long long)json_integer_value(json_object_get(al, "id")),
			       cli_text(al, "level", b[0], sizeof b[0]), cli_text(al, "state", b[1], sizeof b[1]),
			       (long long)json_integer_value(json_object_get(al, "count")),
			       cli_time_text(al, "last_seen", t), cli_text(al, "rule", b[2], sizeof b[2]));
		}
	}
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

/* One alert's path from the ID argument: /api/v1/alerts/ID[suffix]. */
static int
alert_path(const char *id, const char *suffix, char *out, size_t cap)
{
	uint64_t v;

	if (cli_parse_u64("ID", id, &v) != 0)
		return -1;
	snprintf(out, cap, "/api/v1/alerts/%llu%s", (unsigned long long)v, suffix);
	return 0;
}

static int
alert_call(struct cli_args *a, const char *what, const char *method, const char *suffix, json_t *body, long want)
{
	struct cli_api api;
	char *pos[1], path[96];
	size_t npos;
	long status;
	json_t *reply = NULL;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_positional(a, pos, 1, &npos)) {
		json_decref(body);
		return CLI_USAGE;
	}
	if (npos != 1 || alert_path(pos[0], suffix, path, sizeof path) != 0) {
		json_decref(body);
		fputs(alert_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_api_call(&api, method, path, body, &status, &reply, NULL) == 0 &&
	    cli_api_expect(what, status, want, reply) == 0) {
		print_json(reply);
		rc = CLI_OK;
	}
	json_decref(body);
	json_decref(reply);
	return rc;
}

/* alert assign ID USER ('-': nobody) */
static int
alert_assign(struct cli_args *a)
{
	struct cli_api api;
	char *pos[2], path[96];
	size_t npos;
	long status;
	json_t *reply = NULL, *body;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_positional(a, pos, 2, &npos))
		return CLI_USAGE;
	if (npos != 2 || alert_path(pos[0], "/assign", path, sizeof path) != 0) {
		fputs(alert_usage, stderr);
		return CLI_USAGE;
	}
	body = json_pack("{s:s}", "user", strcmp(pos[1], "-") == 0 ? "" : pos[1]);
	if (cli_api_call(&api, "POST", path, body, &status, &reply, NULL) == 0 &&
	    cli_api_expect("alert assign", status, 200, reply) == 0) {
		print_json(reply);
		rc = CLI_OK;
	}
	json_decref(body);
	json_decref(reply);
	return rc;
}

int
cmd_alert(int argc, char **argv)
{
	struct cli_args a;
	const char *reason = NULL, *resolution = NULL;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(alert_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return alert_list(&a);
	if (strcmp(argv[0], "show") == 0)
		return alert_call(&a, "alert show", "GET", "", NULL, 200);
	if (strcmp(argv[0], "ack") == 0) {
		if (cli_opt(&a, "--reason", &reason))
			return CLI_USAGE;
		return alert_call(&a, "alert ack", "POST", "/ack",
				  reason ? json_pack("{s:s}", "reason", reason) : json_object(), 200);
	}
	if (strcmp(argv[0], "resolve") == 0) {
		if (cli_opt(&a, "--resolution", &resolution) || cli_opt(&a, "--reason", &reason))
			return CLI_USAGE;
		if (resolution == NULL || reason == NULL) {
			cli_errorf("alert resolve needs --resolution and --reason");
			return CLI_USAGE;
		}
		return alert_call(&a, "alert resolve", "POST", "/resolve",
				  json_pack("{s:s, s:s}", "resolution", resolution, "reason", reason), 200);
	}
	if (strcmp(argv[0], "comment") == 0) {
		const char *text = NULL;
		if (cli_opt(&a, "--text", &text))
			return CLI_USAGE;
		if (text == NULL) {
			cli_errorf("alert comment needs --text");
			return CLI_USAGE;
		}
		return alert_call(&a, "alert comment", "POST", "/comments", json_pack("{s:s}", "text", text), 201);
	}
	if (strcmp(argv[0], "assign") == 0)
		return alert_assign(&a);
	cli_errorf("alert: unknown command '%s'", argv[0]);
	fputs(alert_usage, stderr);
	return CLI_USAGE;
}
