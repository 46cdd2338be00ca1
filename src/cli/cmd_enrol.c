/* cli/cmd_enrol.c: `bulwark enrol CODE`: a new user sets their own password and TOTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crypto/crypto.h"

static const char enrol_usage[] =
    "usage: bulwark enrol [--server URL] [--cacert PEM] CODE\n"
    "\n"
    "Enrols the account an admin invited (or reset) with the one-time code they handed over:\n"
    "shows an authenticator secret (QR code and otpauth:// URI), asks for a new password (twice;\n"
    "or BULWARK_NEW_PASSWORD) and then for the authenticator's current 6-digit code (BULWARK_OTP,\n"
    "the terminal, or a line on standard input), and prints 10 single-use recovery codes.\n"
    "Nobody else sees the password or the secret. --server and --cacert default to BULWARK_SERVER\n"
    "and BULWARK_CACERT.\n";

/* The authenticator's code: BULWARK_OTP, else the terminal, else one line of standard input. */
static int
read_otp(char *out, size_t cap)
{
	size_t n;

	if (getenv("BULWARK_OTP") != NULL || cli_prompt_secret("code from the authenticator: ", out, cap) == 0)
		return getenv("BULWARK_OTP") != NULL ? cli_secret("BULWARK_OTP", "", false, out, cap) : 0;
	printf("code from the authenticator: ");
	fflush(stdout);
	if (fgets(out, (int)cap, stdin) == NULL)
		return -1;
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

int
cmd_enrol(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1], pw[1100] = "", otp[64] = "";
	size_t npos, i;
	long status;
	json_t *body = NULL, *reply = NULL, *c;
	const char *uri, *user;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(enrol_usage, stdout);
		return CLI_OK;
	}
	if (cli_api_init(&api, &a) || cli_positional(&a, pos, 1, &npos) || npos != 1) {
		fputs(enrol_usage, stderr);
		return CLI_USAGE;
	}
	api.token = NULL;	/* the code is the credential */
	if (strncmp(pos[0], "bwe_", 4) != 0 || strlen(pos[0]) > 100) {
		cli_errorf("enrol: '%.20s...' is not an enrolment code (they start with bwe_)", pos[0]);
		return CLI_USAGE;
	}
	body = json_pack("{s:s}", "code", pos[0]);
	if (cli_api_call(&api, "POST", "/api/v1/enrol", body, &status, &reply, NULL) != 0 ||
	    cli_api_expect("enrol", status, 200, reply) != 0)
		goto out;
	uri = json_string_value(json_object_get(reply, "otpauth_uri"));
	user = json_string_value(json_object_get(reply, "username"));
	if (uri == NULL || user == NULL) {
		cli_errorf("enrol: the server's answer holds no authenticator secret");
		goto out;
	}
	printf("enrolling '%s': add this secret to an authenticator app (it is shown only now)\n", user);
	cli_print_qr(stdout, uri);
	printf("%s\n", uri);
	fflush(stdout);
	if (cli_secret("BULWARK_NEW_PASSWORD", "new password (at least 12 characters): ", true, pw, sizeof pw) != 0 ||
	    read_otp(otp, sizeof otp) != 0) {
		cli_errorf("enrol: needs a new password (BULWARK_NEW_PASSWORD or a terminal) and the authenticator's code");
		goto out;
	}
	json_decref(body);
	body = json_pack("{s:s, s:s, s:s}", "code", pos[0], "password", pw, "otp", otp);
	json_decref(reply);
	reply = NULL;
	if (body == NULL || cli_api_call(&api, "POST", "/api/v1/enrol/complete", body, &status, &reply, NULL) != 0 ||
	    cli_api_expect("enrol", status, 200, reply) != 0)
		goto out;
	printf("\n'%s' is enrolled. Recovery codes (single use, shown once; keep them offline):\n",
	       json_string_value(json_object_get(reply, "username")));
	json_array_foreach(json_object_get(reply, "recovery_codes"), i, c)
		printf("  %s\n", json_string_value(c));
	printf("sign in with: bulwark login --server URL %s\n", json_string_value(json_object_get(reply, "username")));
	rc = CLI_OK;
out:
	bw_memzero(pw, sizeof pw);
	bw_memzero(otp, sizeof otp);
	json_decref(body);
	json_decref(reply);
	return rc;
}
