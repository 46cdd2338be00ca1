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
    "usage: bulwark user add NAME --roles ROLE[,ROLE...] [--enrol-hours H]\n"
    "       bulwark user list\n"
    "       bulwark user disable|enable NAME\n"
    "       bulwark user reset-mfa NAME [--enrol-hours H]\n"
    "       bulwark user unlock NAME\n"
    "       bulwark user roles NAME --roles ROLE[,ROLE...]\n"
    "       bulwark user email NAME --email ADDRESS       (\"\" removes it)\n"
    "       bulwark user grants [--pending]\n"
    "       bulwark user approve-grant|deny-grant ID\n"
    "  through a running server: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER,\n"
    "  BULWARK_TOKEN, BULWARK_CACERT); or --data DIR on a stopped server's data directory.\n"
    "\n"
    "Roles: admin, approver, operator, vendor, auditor, staff, analyst. `add` invites: the account\n"
    "has no password and no MFA until its owner runs `bulwark enrol` with the one-time\n"
    "code printed here (hand it over out of band; it works once, for H hours, default 72).\n"
    "`reset-mfa` issues a new code the same way. Admin and approver roles added through\n"
    "the server wait for a second admin's approval (`user grants`, `user approve-grant`)\n"
    "once another admin exists. Users are disabled, never deleted; the last enabled admin\n"
    "cannot be disabled. `unlock` clears the sign-in locks of a name for every client.\n"
    "`email` registers a user's mail address: mailed reports are matched to users by it, and\n"
    "report feedback goes only to it (docs/REPORTS.md).\n"
    "Every change is an audit event (with --data, the actor is the operating-system user;\n"
    "the audit log has one writer, so --data works only while the server is stopped).\n";

/* What an invitation or MFA reset gave: the code to hand over, and roles now and waiting. */
static void
print_issued(const char *verb, const char *user, const char *roles, const char *pending, int64_t grant_id,
	     const char *code, int64_t expires)
{
	char when[BW_TIME_TEXT_MAX];

	cli_time_secs(expires, when);
	printf("user '%s' %s; roles now: %s\n", user, verb, roles[0] ? roles : "(none)");
	if (pending[0])
		printf("waiting for a second admin: %s (role grant %lld: `bulwark user approve-grant %lld`, by another "
		       "admin, once '%s' has enrolled)\n", pending, (long long)grant_id, (long long)grant_id, user);
	printf("one-time enrolment code for '%s' (hand it over out of band; it works once, until %s):\n  %s\n"
	       "'%s' enrols with: bulwark enrol --server URL [--cacert PEM] CODE\n",
	       user, when, code, user);
}

/* reply[key], an array of role names, as "a,b"; "" when empty (print_issued's convention). */
static const char *
roles_text(const json_t *reply, const char *key, char *buf, size_t cap)
{
	return json_array_size(json_object_get(reply, key)) > 0 ? cli_list_text(reply, key, buf, cap) : "";
}

static void
print_issued_json(const char *verb, const char *user, json_t *reply)
{
	char rb[128], pb[128];

	print_issued(verb, user, roles_text(reply, "roles", rb, sizeof rb), roles_text(reply, "pending_roles", pb, sizeof pb),
		     json_integer_value(json_object_get(reply, "grant_id")),
		     json_string_value(json_object_get(reply, "enrolment_code")),
		     json_integer_value(json_object_get(reply, "code_expires")));
}

static void
print_grant(const char *user, const char *roles, int64_t id, const char *state, const char *by, const char *decided)
{
	printf("%-6lld %-24s %-20s %-10s %-24s %s\n", (long long)id, user, roles, state, by, decided[0] ? decided : "-");
}

static const char grant_header[] = "ID     USER                     ROLES                STATE      REQUESTED BY             DECIDED BY\n";

/* The user commands through the API of a running server. */
static int
user_via_api(struct cli_api *api, const char *verb, const char *name, const char *roles_s, const char *email,
	     int64_t hours, bool pending_only)
{
	char path[160];
	long status;
	json_t *reply = NULL, *body = NULL, *u;
	size_t i;
	int rc = CLI_FAIL;

	if (name != NULL && strstr(verb, "grant") == NULL &&
	    (!auth_username_valid(name) ||
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
			char roles[128], uname[80];
			printf("%-6lld %-24s %-40s %s%s%s\n", (long long)json_integer_value(json_object_get(u, "id")),
			       cli_text(u, "username", uname, sizeof uname), cli_list_text(u, "roles", roles, sizeof roles),
			       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "enabled",
			       json_integer_value(json_object_get(u, "locked_clients")) > 0 ? ",locked-for-some-clients" : "",
			       json_is_true(json_object_get(u, "mfa_enrolled")) ? "" : ",not-enrolled");
		}
		rc = CLI_OK;
		goto out;
	}
	if (strcmp(verb, "grants") == 0) {
		if (cli_api_call(api, "GET", pending_only ? "/api/v1/role-grants?pending=1" : "/api/v1/role-grants", NULL,
				 &status, &reply, NULL) != 0 ||
		    cli_api_expect("user grants", status, 200, reply) != 0)
			goto out;
		fputs(grant_header, stdout);
		json_array_foreach(json_object_get(reply, "grants"), i, u) {
			char roles[128], b[4][128];
			print_grant(cli_text(u, "username", b[0], sizeof b[0]), cli_list_text(u, "roles", roles, sizeof roles),
				    json_integer_value(json_object_get(u, "id")), cli_text(u, "state", b[1], sizeof b[1]),
				    cli_text(u, "requested_by", b[2], sizeof b[2]), cli_text(u, "decided_by", b[3], sizeof b[3]));
		}
		rc = CLI_OK;
		goto out;
	}
	if (strcmp(verb, "approve-grant") == 0 || strcmp(verb, "deny-grant") == 0) {
		uint64_t id;
		if (cli_parse_u64("ID", name, &id) != 0)
			return CLI_USAGE;
		snprintf(path, sizeof path, "/api/v1/role-grants/%llu/%s", (unsigned long long)id,
			 verb[0] == 'a' ? "approve" : "deny");
		if (cli_api_call(api, "POST", path, NULL, &status, &reply, NULL) != 0 ||
		    cli_api_expect(verb, status, 200, reply) != 0)
			goto out;
		{
			char roles[128], b[2][128];
			printf("role grant %llu %s: %s for '%s'\n", (unsigned long long)id, cli_text(reply, "state", b[0], sizeof b[0]),
			       cli_list_text(reply, "roles", roles, sizeof roles), cli_text(reply, "username", b[1], sizeof b[1]));
		}
		rc = CLI_OK;
		goto out;
	}
	if (strcmp(verb, "add") == 0) {
		body = json_pack("{s:s, s:o}", "username", name, "roles", ev_json_list(roles_s));
		if (body != NULL && hours != 0)
			json_object_set_new(body, "enrol_hours", json_integer(hours));
		if (body == NULL || cli_api_call(api, "POST", "/api/v1/users", body, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user add", status, 201, reply) != 0)
			goto out;
		print_issued_json("invited", name, reply);
	} else if (strcmp(verb, "unlock") == 0) {
		strncat(path, "/unlock", sizeof path - strlen(path) - 1);
		if (cli_api_call(api, "POST", path, NULL, &status, &reply, NULL) != 0 ||
		    cli_api_expect(verb, status, 200, reply) != 0)
			goto out;
		printf("user '%s': sign-in locks cleared for %lld client(s)\n", name,
		       (long long)json_integer_value(json_object_get(reply, "clients_cleared")));
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0 || strcmp(verb, "reset-mfa") == 0) {
		strncat(path, verb[0] == 'd' ? "/disable" : verb[0] == 'e' ? "/enable" : "/reset-mfa",
			sizeof path - strlen(path) - 1);
		if (verb[0] == 'r' && hours != 0)
			body = json_pack("{s:I}", "enrol_hours", (json_int_t)hours);
		if (cli_api_call(api, "POST", path, body, &status, &reply, NULL) != 0 ||
		    cli_api_expect(verb, status, 200, reply) != 0)
			goto out;
		if (verb[0] == 'r')
			print_issued_json("must enrol again (TOTP, recovery codes and sessions removed)", name, reply);
		else
			printf("user '%s' %s\n", name,
			       verb[0] == 'd' ? "disabled (sessions, tokens and pending role grants revoked)" : "enabled");
	} else if (strcmp(verb, "email") == 0) {
		strncat(path, "/email", sizeof path - strlen(path) - 1);
		body = json_pack("{s:s}", "email", email);
		if (body == NULL || cli_api_call(api, "PUT", path, body, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user email", status, 200, reply) != 0)
			goto out;
		printf("user '%s' e-mail: %s\n", name, email[0] ? email : "(none)");
	} else if (strcmp(verb, "roles") == 0) {
		char roles[128], pending[128];
		strncat(path, "/roles", sizeof path - strlen(path) - 1);
		body = json_pack("{s:o}", "roles", ev_json_list(roles_s));
		if (body == NULL || cli_api_call(api, "PUT", path, body, &status, &reply, NULL) != 0 ||
		    cli_api_expect("user roles", status, 200, reply) != 0)
			goto out;
		printf("user '%s' roles: %s\n", name, roles_text(reply, "roles", roles, sizeof roles));
		if (roles_text(reply, "pending_roles", pending, sizeof pending)[0])
			printf("waiting for a second admin: %s (role grant %lld)\n", pending,
			       (long long)json_integer_value(json_object_get(reply, "grant_id")));
	}
	rc = CLI_OK;
out:
	json_decref(body);
	json_decref(reply);
	return rc;
}

static bool
verb_known(const char *v)
{
	static const char *const verbs[] = { "add", "list", "disable", "enable", "reset-mfa", "unlock", "roles", "email", "grants",
					     "approve-grant", "deny-grant" };
	size_t i;

	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(v, verbs[i]) == 0)
			return true;
	return false;
}

/* The user commands on a stopped server's data directory (x: the local caller). */
static int
user_local(struct ops_ctx *x, const char *verb, const char *name, unsigned roles, const char *email, int64_t hours,
	   bool pending_only)
{
	char rolebuf[128], pendbuf[128];
	struct bw_err err = { 0 };
	size_t i;

	if (strcmp(verb, "list") == 0) {
		struct db_user *us;
		size_t n;
		if (ops_user_list(x, &us, &n, &err) != 0)
			return cli_fail("user list", &err);
		printf("%-6s %-24s %-40s %s\n", "ID", "NAME", "ROLES", "STATE");
		for (i = 0; i < n; i++) {
			auth_roles_format(us[i].roles, rolebuf, sizeof rolebuf);
			printf("%-6lld %-24s %-40s %s%s%s\n", (long long)us[i].id, us[i].username, rolebuf,
			       us[i].disabled ? "disabled" : "enabled",
			       us[i].locked_clients > 0 ? ",locked-for-some-clients" : "",
			       us[i].totp_sealed ? "" : ",not-enrolled");
		}
		db_users_free(us, n);
	} else if (strcmp(verb, "grants") == 0) {
		struct db_role_grant *gs;
		size_t n;
		if (ops_grant_list(x, pending_only, &gs, &n, &err) != 0)
			return cli_fail("user grants", &err);
		fputs(grant_header, stdout);
		for (i = 0; i < n; i++) {
			auth_roles_format(gs[i].roles, rolebuf, sizeof rolebuf);
			print_grant(gs[i].username, rolebuf, gs[i].id, gs[i].state, gs[i].requested_by, gs[i].decided_by);
		}
		free(gs);
	} else if (strcmp(verb, "approve-grant") == 0 || strcmp(verb, "deny-grant") == 0) {
		struct db_role_grant g;
		uint64_t id;
		if (cli_parse_u64("ID", name, &id) != 0 || id > INT64_MAX)
			return CLI_USAGE;
		if (ops_grant_decide(x, (int64_t)id, verb[0] == 'a', &g, &err) != 0)
			return cli_fail(verb, &err);
		auth_roles_format(g.roles, rolebuf, sizeof rolebuf);
		printf("role grant %llu %s: %s for '%s'\n", (unsigned long long)id, g.state, rolebuf, g.username);
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "reset-mfa") == 0) {
		struct ops_user_add q = { .username = name, .roles = roles, .enrol_hours = hours };
		struct ops_enrol_issued o;
		int r = verb[0] == 'a' ? ops_user_add(x, &q, NULL, &o, &err) : ops_user_reset_mfa(x, name, hours, &o, &err);
		if (r != 0)
			return cli_fail(verb, &err);
		auth_roles_format(o.roles, rolebuf, sizeof rolebuf);
		auth_roles_format(o.pending_roles, pendbuf, sizeof pendbuf);
		print_issued(verb[0] == 'a' ? "invited" : "must enrol again (TOTP, recovery codes and sessions removed)",
			     name, rolebuf, pendbuf, o.grant_id, o.code.text, o.code.expires_at);
		bw_memzero(&o, sizeof o);
	} else if (strcmp(verb, "unlock") == 0) {
		int n = 0;
		if (ops_user_unlock(x, name, &n, &err) != 0)
			return cli_fail(verb, &err);
		printf("user '%s': sign-in locks cleared for %d client(s)\n", name, n);
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		bool dis = verb[0] == 'd';
		if (ops_user_set_disabled(x, name, dis, &err) != 0)
			return cli_fail(verb, &err);
		printf("user '%s' %s\n", name,
		       dis ? "disabled (sessions, tokens and pending role grants revoked)" : "enabled");
	} else if (strcmp(verb, "email") == 0) {
		if (ops_user_set_email(x, name, email, &err) != 0)
			return cli_fail("email", &err);
		printf("user '%s' e-mail: %s\n", name, email[0] ? email : "(none)");
	} else if (strcmp(verb, "roles") == 0) {
		struct ops_enrol_issued o;
		if (ops_user_set_roles(x, name, roles, NULL, &o, &err) != 0)
			return cli_fail("roles", &err);
		auth_roles_format(o.roles, rolebuf, sizeof rolebuf);
		printf("user '%s' roles: %s\n", name, rolebuf);
	}
	return CLI_OK;
}

int
cmd_user(int argc, char **argv)
{
	struct cli_args a;
	const char *data = NULL, *roles_s = NULL, *hours_s = NULL, *email = NULL, *verb;
	char *pos[2];
	size_t npos;
	unsigned roles = 0;
	uint64_t hours = 0;
	struct instance in;
	struct audit_log *al = NULL;
	struct bw_err err = { 0 };
	struct ops_caller caller;
	struct ops_ctx x = { 0 };
	struct cli_api api;
	bool pending_only;
	int r, rc = CLI_FAIL;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(user_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	verb = argv[0];
	if (!verb_known(verb)) {
		cli_errorf("user: unknown command '%s'", verb);
		fputs(user_usage, stderr);
		return CLI_USAGE;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	pending_only = cli_flag(&a, "--pending");
	if (cli_opt(&a, "--data", &data) || cli_opt(&a, "--roles", &roles_s) || cli_opt(&a, "--enrol-hours", &hours_s) ||
	    cli_opt(&a, "--email", &email))
		return CLI_USAGE;
	if ((strcmp(verb, "email") == 0) != (email != NULL)) {
		cli_errorf("user %s: %s", verb, email != NULL ? "takes no --email" : "needs --email ADDRESS (\"\" removes it)");
		return CLI_USAGE;
	}
	if (hours_s != NULL && cli_parse_range("--enrol-hours", hours_s, 1, AUTH_ENROL_HOURS_MAX, &hours) != 0)
		return CLI_USAGE;
	if (data == NULL && cli_api_init(&api, &a))
		return CLI_USAGE;
	if (cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	bool needs_name = strcmp(verb, "list") != 0 && strcmp(verb, "grants") != 0;
	if (needs_name != (npos == 1)) {
		cli_errorf("user %s: %s", verb, !needs_name ? "takes no NAME" : strstr(verb, "grant") ? "needs a grant ID"
												     : "needs a user NAME");
		return CLI_USAGE;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "roles") == 0)) {
		if (roles_s == NULL || auth_roles_parse(roles_s, &roles, &err) != 0) {
			cli_errorf("user %s: --roles: %s", verb, roles_s ? err.msg : "required");
			return CLI_USAGE;
		}
	}
	if (data == NULL)
		return user_via_api(&api, verb, npos ? pos[0] : NULL, roles_s, email, (int64_t)hours, pending_only);
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
	r = ops_log_open(&in, &al, &err);
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
	rc = user_local(&x, verb, npos ? pos[0] : NULL, roles, email, (int64_t)hours, pending_only);
out:
	audit_log_close(al);
	instance_close(&in);
	return rc;
}
