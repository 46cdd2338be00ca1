/* cli/cmd_witness.c: `bulwark witness status`: the logs this server witnesses, through the API. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char witness_usage[] =
    "usage: bulwark witness serve --data DIR --witness-log VKEY... [--listen 127.0.0.1:8443]\n"
    "                             [serve's options]\n"
    "       bulwark witness status [--json]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "serve: a standalone witness for a small separate machine: `bulwark serve` with only\n"
    "the witness's routes (POST /witness/add-checkpoint, GET /witness/key, GET /api/v1/witness),\n"
    "sign-in and tokens, its own audit log (/log/..., /api/v1/audit) and alerts (a fork\n"
    "raises one; --webhook/--smtp notify). The data directory comes from `bulwark init`.\n"
    "\n"
    "status (admin or auditor): the server's witness key, then each log it witnesses\n"
    "(serve --witness-log): the size it cosigned last (0: none yet), when, and how many\n"
    "forks it has kept as evidence; then, when the server asks witnesses for its own log\n"
    "(serve --witness-policy), the size published with a quorum of cosignatures, the\n"
    "latest size, the last round's verdict, and per witness its last answer, the size it\n"
    "cosigned last and its back-off (docs/WITNESS.md).\n";

/* This server's own log and its witnesses. */
static void
own_log(const json_t *o)
{
	char b[2][400];
	json_t *w;
	size_t i;

	if (!json_is_object(o))
		return;
	printf("\nthis server's log: published size %lld (cosigned in the quorum), latest %lld\n",
	       (long long)json_integer_value(json_object_get(o, "published_size")),
	       (long long)json_integer_value(json_object_get(o, "latest_size")));
	printf("last round: %s\n", cli_text(o, "quorum", b[0], sizeof b[0]));
	printf("%-24s %-10s %-12s %-10s %s\n", "WITNESS", "LAST", "COSIGNED", "BACKOFF", "WHY");
	json_array_foreach(json_object_get(o, "witnesses"), i, w) {
		char bo[32];
		snprintf(bo, sizeof bo, "%llds", (long long)(json_integer_value(json_object_get(w, "backoff_ms")) / 1000));
		printf("%-24s %-10s %-12lld %-10s %s\n", cli_text(w, "name", b[0], sizeof b[0]),
		       json_string_value(json_object_get(w, "last")) ? json_string_value(json_object_get(w, "last")) : "-",
		       (long long)json_integer_value(json_object_get(w, "cosigned_size")), bo,
		       cli_text(w, "why", b[1], sizeof b[1]));
	}
}

static int
witness_status(struct cli_args *a)
{
	struct cli_api api;
	json_t *reply = NULL, *l;
	char *pos[1], b[2][300], t[BW_TIME_TEXT_MAX];
	size_t npos, i;
	long status;
	bool as_json;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos)) {
		fputs(witness_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_api_call(&api, "GET", "/api/v1/witness", NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("witness status", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		cli_print_json(reply);
	} else {
		printf("witness key: %s\n", cli_text(reply, "key", b[0], sizeof b[0]));
		printf("%-40s %-12s %-24s %s\n", "LOG", "SIZE", "COSIGNED", "FORKS");
		json_array_foreach(json_object_get(reply, "logs"), i, l) {
			int64_t at = json_integer_value(json_object_get(l, "updated_at"));
			if (at > 0)
				bw_time_format_ms(at, t);
			else
				snprintf(t, sizeof t, "-");
			printf("%-40s %-12lld %-24s %lld\n", cli_text(l, "origin", b[1], sizeof b[1]),
			       (long long)json_integer_value(json_object_get(l, "size")), t,
			       (long long)json_integer_value(json_object_get(l, "forks")));
		}
		own_log(json_object_get(reply, "own_log"));
	}
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

int
cmd_witness(int argc, char **argv)
{
	struct cli_args a;

	if (argc > 0 && strcmp(argv[0], "status") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return witness_status(&a);
	}
	if (argc > 0 && strcmp(argv[0], "serve") == 0)
		return cmd_witness_serve(argc - 1, argv + 1);
	if (argc > 0 && strcmp(argv[0], "--help") == 0) {
		fputs(witness_usage, stdout);
		return CLI_OK;
	}
	fputs(witness_usage, stderr);
	return CLI_USAGE;
}
