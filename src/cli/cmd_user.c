/*
 * cli/cmd_user.c: `bulwark user ...`: through the HTTPS API of a running
 * server, or with --data on a stopped server's data directory (the same
 * operations, with the operating-system user as the actor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events/events.h"
#include "instance/instance.h"
#include "ops/ops.h"

static const char user_usage[] =
    "usage: bulwark user add NAME --roles ROLE[,ROLE...]\n"
    "       bulwark user list\n"
    "       bulwark user disable|enable NAME\n"
    "       bulwark user reset-mfa NAME\n"
    "       bulwark user roles NAME --roles ROLE[,ROLE...]\n"
    "  through a running server: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER,\n"
    "  BULWARK_TOKEN, BULWARK_CACERT); or --data DIR on a stopped server's data directory.\n"
    "\n"
    "Roles: admin, approver, operator, vendor, auditor, staff. The new user's password\n"
    "comes from BULWARK_USER_PASSWORD or a prompt. Users are disabled, never deleted;\n"
    "the last enabled admin cannot be disabled. Every change is an audit event (with\n"
    "--data, the actor is the operating-system user; the audit log has one writer, so\n"
    "--data works only while the server is stopped).\n";

/* Prints an enrolment the API returned (otpauth_uri, recovery_codes). */
static void
print_api_enrolment(const char *user, json_t *reply)
{
	const char *uri = json_string_value(json_object_get(reply, "otpauth_uri"));
	json_t *c;
	size_t i;

	printf("TOTP enrolment for '%s' (shown once):\n", user);
	if (uri != NULL) {
		cli_print_qr(stdout, uri);
		printf("%s\n", uri);
	}
	printf("\nRecovery codes (single use, shown once):\n");
	json_array_foreach(json_object_get(reply, "recovery_codes"), i, c)
		printf("  %s\n", json_string_value(c));
}

/* The user commands through the API of a running server. */
static int
user_via_api(struct cli_api *api, const char *verb, const char *name, const char *roles_s)
{
	char path[160], pw[1100] = "";
	long status;
	json_t *reply = NULL, *body = NULL, *u;
	size_t i;
	int rc = CLI_FAIL;

	if (name != NULL && (!auth_username_valid(name) ||
			     (size_t)snprintf(path, sizeof path, "/api/v1/users/%s", name) >= sizeof path)) {
		cli_errorf("user %s: invalid user name '%s'", verb, name);
		return CLI_USAGE;
	}
	if (strcmp(verb, "list") == 0) {
		if (cli_api_call(api, "GET", "/api/v1/users", NULL, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user list", status, 200, reply) != 0)
			goto out;
		printf("%-6s %-24s %-40s %s\n", "ID", "NAME", "ROLES", "STATE");
		json_array_foreach(json_object_get(reply, "users"), i, u) {
			char roles[128] = "";
			size_t k, o = 0;
			json_t *r;
			json_array_foreach(json_object_get(u, "roles"), k, r)
				o += (size_t)snprintf(roles + o, sizeof roles - o, "%s%s", o ? "," : "", json_string_value(r));
			printf("%-6lld %-24s %-40s %s%s%s\n", (long long)json_integer_value(json_object_get(u, "id")),
			       json_string_value(json_object_get(u, "username")), roles,
			       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "enabled",
			       json_integer_value(json_object_get(u, "locked_clients")) > 0 ? ",locked-for-some-clients" : "",
			       json_is_true(json_object_get(u, "mfa_enrolled")) ? "" : ",no-mfa");
		}
		rc = CLI_OK;
		goto out;
	}
	if (strcmp(verb, "add") == 0) {
		if (cli_secret("BULWARK_USER_PASSWORD", "password for the new user: ", true, pw, sizeof pw) != 0) {
			cli_errorf("user add: needs BULWARK_USER_PASSWORD or a terminal");
			goto out;
		}
		body = json_pack("{s:s, s:s, s:o}", "username", name, "password", pw, "roles", ev_json_list(roles_s));
		if (body == NULL || cli_api_call(api, "POST", "/api/v1/users", body, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user add", status, 201, reply) != 0)
			goto out;
		printf("user '%s' added with roles %s\n", name, roles_s);
		print_api_enrolment(name, reply);
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0 || strcmp(verb, "reset-mfa") == 0) {
		strncat(path, verb[0] == 'd' ? "/disable" : verb[0] == 'e' ? "/enable" : "/reset-mfa",
			sizeof path - strlen(path) - 1);
		if (cli_api_call(api, "POST", path, NULL, &status, &reply, NULL) != 0 ||
		    cli_api_expect(verb, status, 200, reply) != 0)
			goto out;
		if (verb[0] == 'r')
			print_api_enrolment(name, reply);
		else
			printf("user '%s' %s\n", name, verb[0] == 'd' ? "disabled (sessions and tokens revoked)" : "enabled");
	} else if (strcmp(verb, "roles") == 0) {
		strncat(path, "/roles", sizeof path - strlen(path) - 1);
		body = json_pack("{s:o}", "roles", ev_json_list(roles_s));
		if (body == NULL || cli_api_call(api, "PUT", path, body, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user roles", status, 200, reply) != 0)
			goto out;
		printf("user '%s' roles: %s\n", name, roles_s);
	}
	rc = CLI_OK;
out:
	bw_memzero(pw, sizeof pw);
	json_decref(body);
	json_decref(reply);
	return rc;
}

static void
print_enrolment(const char *user, const struct auth_enrolment *e)
{
	int i;

	printf("TOTP enrolment for '%s' (shown once):\n", user);
	cli_print_qr(stdout, e->otpauth_uri);
	printf("%s\n\nRecovery codes (single use, shown once):\n", e->otpauth_uri);
	for (i = 0; i < AUTH_RECOVERY_CODES; i++)
		printf("  %s\n", e->recovery[i]);
}

int
cmd_user(int argc, char **argv)
{
	struct cli_args a;
	const char *data = NULL, *roles_s = NULL, *verb;
	char *pos[2], pw[1100] = "", rolebuf[128];
	size_t npos, i;
	unsigned roles = 0;
	struct instance in;
	struct audit_log *al = NULL;
	struct bw_err err = { 0 };
	struct ops_caller caller;
	struct ops_ctx x = { 0 };
	struct cli_api api;
	int r, rc = CLI_FAIL;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(user_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	verb = argv[0];
	if (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "disable") != 0 &&
	    strcmp(verb, "enable") != 0 && strcmp(verb, "reset-mfa") != 0 && strcmp(verb, "roles") != 0) {
		cli_errorf("user: unknown command '%s'", verb);
		fputs(user_usage, stderr);
		return CLI_USAGE;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (cli_opt(&a, "--data", &data) || cli_opt(&a, "--roles", &roles_s))
		return CLI_USAGE;
	if (data == NULL && cli_api_init(&api, &a))
		return CLI_USAGE;
	if (cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	bool needs_name = strcmp(verb, "list") != 0;
	if (needs_name != (npos == 1)) {
		cli_errorf("user %s: %s", verb, needs_name ? "needs a user NAME" : "takes no NAME");
		return CLI_USAGE;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "roles") == 0)) {
		if (roles_s == NULL || auth_roles_parse(roles_s, &roles, &err) != 0) {
			cli_errorf("user %s: --roles: %s", verb, roles_s ? err.msg : "required");
			return CLI_USAGE;
		}
	}
	if (data == NULL)
		return user_via_api(&api, verb, npos ? pos[0] : NULL, roles_s);
	{
		char pass[1100] = "";
		if (instance_needs_passphrase(data) &&
		    cli_secret("BULWARK_PASSPHRASE", "passphrase: ", false, pass, sizeof pass) != 0) {
			cli_errorf("user: this data directory needs BULWARK_PASSPHRASE or a terminal");
			return CLI_USAGE;
		}
		r = instance_open(data, pass[0] ? pass : NULL, &bw_pwhash_default, &in, &err);
		bw_memzero(pass, sizeof pass);
		if (r != 0)
			return cli_fail("user", &err);
	}
	r = audit_log_open(in.log_dir, in.log_signer, &al, &err);
	in.log_signer = NULL; /* transferred */
	if (r != 0) {
		if (err.code == BW_EBUSY)
			cli_errorf("user: the server is running (it holds the audit log); use the HTTPS API");
		else
			cli_fail("user: audit log", &err);
		goto out;
	}
	ops_caller_local(&caller);
	x.in = &in;
	x.al = al;
	x.caller = &caller;
	if (strcmp(verb, "list") == 0) {
		struct db_user *us;
		size_t n;
		if (ops_user_list(&x, &us, &n, &err) != 0) {
			rc = cli_fail("user list", &err);
			goto out;
		}
		printf("%-6s %-24s %-40s %s\n", "ID", "NAME", "ROLES", "STATE");
		for (i = 0; i < n; i++) {
			auth_roles_format(us[i].roles, rolebuf, sizeof rolebuf);
			printf("%-6lld %-24s %-40s %s%s%s\n", (long long)us[i].id, us[i].username, rolebuf,
			       us[i].disabled ? "disabled" : "enabled",
			       us[i].locked_clients > 0 ? ",locked-for-some-clients" : "",
			       us[i].totp_sealed ? "" : ",no-mfa");
		}
		db_users_free(us, n);
	} else if (strcmp(verb, "add") == 0) {
		struct auth_enrolment e;
		struct ops_user_add q = { .username = pos[0], .password = pw, .roles = roles };
		if (cli_secret("BULWARK_USER_PASSWORD", "password for the new user: ", true, pw, sizeof pw) != 0) {
			cli_errorf("user add: needs BULWARK_USER_PASSWORD or a terminal");
			goto out;
		}
		if (ops_user_add(&x, &q, NULL, &e, &err) != 0) {
			cli_fail("user add", &err);
			goto out;
		}
		auth_roles_format(roles, rolebuf, sizeof rolebuf);
		printf("user '%s' added with roles %s\n", pos[0], rolebuf);
		print_enrolment(pos[0], &e);
		auth_enrolment_clear(&e);
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		bool dis = verb[0] == 'd';
		if (ops_user_set_disabled(&x, pos[0], dis, &err) != 0) {
			cli_fail(verb, &err);
			goto out;
		}
		printf("user '%s' %s\n", pos[0], dis ? "disabled (sessions and tokens revoked)" : "enabled");
	} else if (strcmp(verb, "reset-mfa") == 0) {
		struct auth_enrolment e;
		if (ops_user_reset_mfa(&x, pos[0], &e, &err) != 0) {
			cli_fail("reset-mfa", &err);
			goto out;
		}
		print_enrolment(pos[0], &e);
		auth_enrolment_clear(&e);
	} else if (strcmp(verb, "roles") == 0) {
		if (ops_user_set_roles(&x, pos[0], roles, NULL, &err) != 0) {
			cli_fail("roles", &err);
			goto out;
		}
		auth_roles_format(roles, rolebuf, sizeof rolebuf);
		printf("user '%s' roles: %s\n", pos[0], rolebuf);
	}
	rc = CLI_OK;
out:
	bw_memzero(pw, sizeof pw);
	audit_log_close(al);
	instance_close(&in);
	return rc;
}
