/* cli/cmd_log_key.c: `bulwark log rotate-key`: the audit log's key rotated, the server stopped. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "audit/audit.h"
#include "instance/instance.h"
#include "ops/ops.h"

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
	struct bw_err err = { 0 };
	int r, rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--data", &data) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (data == NULL) {
		cli_errorf("log rotate-key needs --data DIR (with the server stopped)");
		return CLI_USAGE;
	}
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
	printf("previous key: %s\n", res.previous_key);
	printf("new key:      %s\n", res.key);
	printf("transition:   entry %llu (log.key_transition); the checkpoint of size %llu is signed by both keys,\n"
	       "              later ones by the new key only; the previous signing key is erased\n",
	       (unsigned long long)res.index, (unsigned long long)res.handover);
	printf("next:         agents follow the transition on their own; give the new key to the log's witnesses\n"
	       "              and put it in the witness policy (docs/OPERATIONS.md)\n");
	rc = CLI_OK;
out:
	ops_log_key_rotation_clear(&res);
	audit_log_close(al);
	instance_close(&in);
	return rc;
}
