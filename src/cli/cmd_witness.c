/* cli/cmd_witness.c: `bulwark witness status`: the logs this server witnesses, through the API. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char witness_usage[] =
    "usage: bulwark witness status [--json]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "status (admin or auditor): the server's witness key, then each log it witnesses\n"
    "(serve --witness-log): the size it cosigned last (0: none yet), when, and how many\n"
    "forks it has kept as evidence (docs/WITNESS.md).\n";

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
	if (argc > 0 && strcmp(argv[0], "--help") == 0) {
		fputs(witness_usage, stdout);
		return CLI_OK;
	}
	fputs(witness_usage, stderr);
	return CLI_USAGE;
}
