/* cli/cmd_audit.c: `bulwark audit list|show`: reading audit events through the API (auditors, admins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char audit_usage[] =
    "usage: bulwark audit list [--from N] [--to N] [--json]   (default: the latest 1,000 events)\n"
    "       bulwark audit show INDEX\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "Events [from, to) of the audit log (to is exclusive), one line each: index, time, actor,\n"
    "action, result, target. `show` prints one event as JSON with its inclusion proof. Every\n"
    "read of the audit trail is itself an audit event. docs/EVENTS.md lists every action.\n";

static int
audit_list(struct cli_args *a)
{
	const char *from = NULL, *to = NULL;
	struct cli_api api;
	struct bw_buf path = { 0 };
	long status;
	json_t *reply = NULL, *e;
	size_t npos, i;
	char *pos[1];
	uint64_t v;
	int rc = CLI_FAIL;
	bool as_json;

	if (cli_api_init(&api, a) || cli_opt(a, "--from", &from) || cli_opt(a, "--to", &to))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos) || (from && cli_parse_u64("--from", from, &v)) ||
	    (to && cli_parse_u64("--to", to, &v)))
		return CLI_USAGE;
	if (bw_buf_printf(&path, "/api/v1/audit%s%s%s%s%s", from || to ? "?" : "", from ? "from=" : "", from ? from : "",
			  from && to ? "&" : "", to ? "to=" : "") != 0 ||
	    (to && bw_buf_append_str(&path, to) != 0)) {
		cli_errorf("out of memory");
		goto out;
	}
	if (cli_api_call(&api, "GET", (char *)path.data, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("audit list", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		char *text = json_dumps(reply, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
		if (text != NULL)
			printf("%s\n", text);
		free(text);
	} else {
		json_array_foreach(json_object_get(reply, "events"), i, e) {
			const json_t *ev = json_object_get(e, "event");
			char b[5][256];
			printf("%-8lld %-24s %-24.24s %-24s %-8s %s\n", (long long)json_integer_value(json_object_get(e, "index")),
			       cli_text(ev, "time", b[0], sizeof b[0]), cli_text(ev, "actor", b[1], sizeof b[1]),
			       cli_text(ev, "action", b[2], sizeof b[2]), cli_text(ev, "result", b[3], sizeof b[3]),
			       cli_text(ev, "target", b[4], sizeof b[4]));
		}
		const json_t *prev = json_object_get(reply, "prev");
		fprintf(stderr, "events [%lld, %lld) of %lld", (long long)json_integer_value(json_object_get(reply, "from")),
			(long long)json_integer_value(json_object_get(reply, "to")),
			(long long)json_integer_value(json_object_get(reply, "size")));
		if (prev != NULL)
			fprintf(stderr, "; earlier: bulwark audit list --to %lld",
				(long long)json_integer_value(json_object_get(prev, "to")));
		fputc('\n', stderr);
	}
	rc = CLI_OK;
out:
	bw_buf_free(&path);
	json_decref(reply);
	return rc;
}

static int
audit_show(struct cli_args *a)
{
	struct cli_api api;
	char *pos[1], path[96], *text = NULL;
	size_t npos;
	uint64_t index;
	long status;
	json_t *reply = NULL, *e;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_positional(a, pos, 1, &npos))
		return CLI_USAGE;
	if (npos != 1 || cli_parse_u64("INDEX", pos[0], &index)) {
		fputs(audit_usage, stderr);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/audit?from=%llu&to=%llu&proofs=1", (unsigned long long)index,
		 (unsigned long long)index + 1);
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("audit show", status, 200, reply) != 0)
		goto out;
	if ((e = json_array_get(json_object_get(reply, "events"), 0)) == NULL) {
		cli_errorf("audit show: no event %llu (the log holds %lld)", (unsigned long long)index,
			   (long long)json_integer_value(json_object_get(reply, "size")));
		goto out;
	}
	json_object_set(e, "checkpoint", json_object_get(reply, "checkpoint"));
	if ((text = json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) != NULL)
		printf("%s\n", text);
	rc = CLI_OK;
out:
	free(text);
	json_decref(reply);
	return rc;
}

int
cmd_audit(int argc, char **argv)
{
	struct cli_args a;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(audit_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return audit_list(&a);
	if (strcmp(argv[0], "show") == 0)
		return audit_show(&a);
	cli_errorf("audit: unknown command '%s'", argv[0]);
	fputs(audit_usage, stderr);
	return CLI_USAGE;
}
