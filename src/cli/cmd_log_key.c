/*
 * cli/cmd_log_key.c: `bulwark log rotate-key`: the audit log's key rotated,
 * through the running server (POST /api/v1/log/key/rotate) or, with --data,
 * on a data directory whose server is stopped.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "audit/audit.h"
#include "instance/instance.h"
#include "ops/ops.h"

static void
show(const char *previous, const char *key, uint64_t index, uint64_t handover)
{
	printf("previous key: %s\n", previous);
	printf("new key:      %s\n", key);
	printf("transition:   entry %llu (log.key_transition); the checkpoint of size %llu is signed by both keys,\n"
	       "              later ones by the new key only; the previous signing key is erased\n",
	       (unsigned long long)index, (unsigned long long)handover);
	printf("next:         agents and the dashboard follow the transition on their own; give the new key to\n"
	       "              the log's witnesses (docs/OPERATIONS.md)\n");
}

static int
rotate_via_api(const struct cli_api *api)
{
	json_t *reply = NULL;
	const char *prev, *key;
	long st = 0;
	int rc = CLI_FAIL;

	if (cli_api_call(api, "POST", "/api/v1/log/key/rotate", NULL, &st, &reply, NULL) != 0)
		return CLI_FAIL;
	if (cli_api_expect("log rotate-key", st, 200, reply) == 0) {
		prev = json_string_value(json_object_get(reply, "previous_key"));
		key = json_string_value(json_object_get(reply, "key"));
		if (prev == NULL || key == NULL || !json_is_integer(json_object_get(reply, "index")) ||
		    !json_is_integer(json_object_get(reply, "handover"))) {
			cli_errorf("log rotate-key: the server's answer lacks previous_key, key, index or handover");
		} else {
			/* keys are printed as the server gave them: made safe for a terminal first */
			char p[1100], k[1100];
			show(cli_safe_text(prev, p, sizeof p), cli_safe_text(key, k, sizeof k), (uint64_t)json_integer_value(json_object_get(reply, "index")),
			     (uint64_t)json_integer_value(json_object_get(reply, "handover")));
			rc = CLI_OK;
		}
	}
	json_decref(reply);
	return rc;
}

int
cli_log_rotate_key(int argc, char **argv)
{
	struct cli_args a;
	const char *data;
	char *pos[1], pass[1100] = "";
	size_t npos;
	struct instance in;
	struct audit_log *al = NULL;
	struct ops_caller caller;
	struct ops_ctx x = { 0 };
	struct ops_log_key_rotation res = { 0 };
	struct cli_api api;
	struct bw_err err = { 0 };
	int r, rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--data", &data) || cli_api_init(&api, &a) != 0 || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (data == NULL)
		return rotate_via_api(&api);
	if (instance_needs_passphrase(data) &&
	    cli_secret("BULWARK_PASSPHRASE", "passphrase: ", false, pass, sizeof pass) != 0) {
		cli_errorf("log rotate-key: this data directory needs BULWARK_PASSPHRASE or a terminal");
		return CLI_USAGE;
	}
	r = instance_open(data, pass[0] ? pass : NULL, &bw_pwhash_default, &in, &err);
	bw_memzero(pass, sizeof pass);
	if (r != 0)
		return cli_fail("log rotate-key", &err);
	if (ops_log_open(&in, &al, &err) != 0) {
		if (err.code == BW_EBUSY)
			cli_errorf("log rotate-key: the server is running (it holds the audit log); stop it first");
		else
			cli_fail("log rotate-key: audit log", &err);
		goto out;
	}
	ops_caller_local(&caller);
	x.in = &in;
	x.al = al;
	x.caller = &caller;
	if (ops_log_key_rotate(&x, &res, &err) != 0) {
		cli_fail("log rotate-key", &err);
		goto out;
	}
	show(res.previous_key, res.key, res.index, res.handover);
	rc = CLI_OK;
out:
	ops_log_key_rotation_clear(&res);
	audit_log_close(al);
	instance_close(&in);
	return rc;
}
