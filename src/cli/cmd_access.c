/*
 * cli/cmd_access.c: `bulwark login`, `bulwark token ...`, `bulwark host ...` and `bulwark access ...`,
 * clients of the HTTPS API (the server enforces roles and audits each call).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "access/access.h"
#include "events/events.h"

static const char api_opts[] =
    "Every command talks to the server: --server URL (BULWARK_SERVER, default https://127.0.0.1:8443),\n"
    "--token TOKEN (BULWARK_TOKEN, from 'bulwark login'), --cacert PEM (BULWARK_CACERT).\n";

static const char login_usage[] =
    "usage: bulwark login --user NAME [--server URL] [--cacert PEM]\n"
    "Prints a session token (for BULWARK_TOKEN). The password comes from BULWARK_PASSWORD or a\n"
    "prompt, the authenticator code from BULWARK_OTP or a prompt.\n";

static const char token_usage[] =
    "usage: bulwark token create --name NAME --scopes ROLE[,ROLE] [--days N] [--out FILE]\n"
    "       bulwark token revoke ID\n"
    "An API token acts for you, limited to the given roles (a subset of yours), for N days\n"
    "(default 30, at most 366), e.g. '--scopes operator' for a host agent's reports. With --out the\n"
    "token goes to FILE (mode 0600, must not exist) instead of standard output. Needs a session\n"
    "token from 'bulwark login' (API tokens cannot create tokens).\n";

static const char host_usage[] =
    "usage: bulwark host add NAME --address ADDR [--group GROUP] --accounts ACCOUNT[,ACCOUNT]\n"
    "       bulwark host list\n"
    "       bulwark host enrol-code NAME\n"
    "       bulwark host revoke NAME\n"
    "       bulwark host sshd-config NAME\n"
    "Hosts in the group 'critical' need two approvals per access request. `add` and `enrol-code`\n"
    "print a one-time code for the host's agent (`bulwark agent enrol`); `revoke` ends the agent's\n"
    "credential. --json prints the server's JSON instead of a table.\n";

static const char access_usage[] =
    "usage: bulwark access request (--host H[,H] | --group G) --account A[,A] --reason TEXT --key PUBFILE\n"
    "                              [--start now|UNIXTIME] [--minutes N] [--ticket T]\n"
    "                              [--source-address ADDRS] [--force-command CMD] [--permit P[,P]]\n"
    "       bulwark access list | show ID | review\n"
    "       bulwark access approve|deny ID [--reason TEXT]\n"
    "       bulwark access revoke ID [--reason TEXT]\n"
    "       bulwark access ssh-config ID [--out CERTFILE] [--identity PRIVATE-KEY]\n"
    "       bulwark access ca rotate [--overlap-minutes N] | activate | retire | status\n"
    "permits: pty (default), agent-forwarding, port-forwarding, x11-forwarding, user-rc.\n"
    "ssh-config downloads the certificate (default ~/.ssh/bulwark-ID-cert.pub) and prints the\n"
    "ssh client snippet, with IdentityFile set to the private key whose public key (KEY.pub in\n"
    "~/.ssh, or --identity) the request was made with. The other commands print a table (times in\n"
    "UTC); --json prints the server's JSON instead, for scripts.\n"
    "ca (admin) rotates the SSH user CA: rotate publishes a new CA beside the one that signs\n"
    "(GET /api/v1/access/ca gives both; hosts fetch it), activate lets it sign once the overlap\n"
    "(default 1440 minutes) has passed, retire stops publishing the old one once no certificate\n"
    "it signed is valid (docs/OPERATIONS.md).\n";

/* "a,b,c" -> JSON array of strings. */

static bool
wants_help(int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

/* Runs one API call and prints the JSON reply when it has the wanted status. */
/* How a reply is shown to people (--json: the JSON itself). */
enum shape { AS_JSON, AS_REQUEST, AS_REQUESTS, AS_REVIEW, AS_HOSTS, AS_HOST_CODE, AS_CA, AS_DONE };

/* The SSH user CA's rotation state. */
static void
print_ca(const json_t *j)
{
	char t[BW_TIME_TEXT_MAX], buf[128];
	json_t *from = json_object_get(j, "activate_from");

	printf("phase      %s (since %s)\n", cli_text(j, "phase", buf, sizeof buf), cli_time_text(j, "since", t));
	printf("signing    %s\n", cli_text(j, "signing", buf, sizeof buf));
	if (json_object_get(j, "other") != NULL)
		printf("published  %s (beside it)\n", cli_text(j, "other", buf, sizeof buf));
	if (json_is_integer(from))
		printf("activate   from %s (after the overlap of %lld minutes)\n", cli_time_text(j, "activate_from", t),
		       (long long)json_integer_value(json_object_get(j, "overlap_minutes")));
}

static int
call_and_show(const struct cli_api *api, const char *what, const char *method, const char *path, json_t *body,
	      long want, enum shape shape)
{
	json_t *reply = NULL;
	long status;
	int rc = CLI_FAIL;
	char name[128];

	if (cli_api_call(api, method, path, body, &status, &reply, NULL) == 0 &&
	    cli_api_expect(what, status, want, reply) == 0) {
		switch (shape) {
		case AS_JSON: cli_print_json(reply); break;
		case AS_REQUEST: cli_print_request(reply); break;
		case AS_REQUESTS: cli_print_requests(json_object_get(reply, "requests")); break;
		case AS_REVIEW: cli_print_review(reply); break;
		case AS_HOSTS: cli_print_hosts(json_object_get(reply, "hosts")); break;
		case AS_HOST_CODE: {
			char line[200];
			snprintf(line, sizeof line, "%s: host %s", what, cli_text(reply, "name", name, sizeof name));
			cli_print_enrol_code(line, reply);
			break;
		}
		case AS_CA: print_ca(reply); break;
		case AS_DONE: printf("%s: done\n", what); break;
		}
		rc = CLI_OK;
	}
	json_decref(reply);
	json_decref(body);
	return rc;
}


int
cmd_passwd(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1], cur[1100] = "", npw[1100] = "", otp[64] = "";
	size_t npos;
	json_t *reply = NULL, *body = NULL;
	long status;
	int rc = CLI_FAIL;

	if (wants_help(argc, argv)) {
		fputs("usage: bulwark passwd [--server URL --token TOKEN --cacert PEM]\n"
		      "Changes your own password: the current one (BULWARK_PASSWORD or a prompt), a code\n"
		      "(BULWARK_OTP or a prompt) and the new one (BULWARK_NEW_PASSWORD or a prompt, asked twice).\n"
		      "Every session and token of yours is revoked: sign in again with bulwark login.\n", stdout);
		return CLI_OK;
	}
	cli_args_init(&a, argc, argv);
	if (cli_api_init(&api, &a) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (cli_secret("BULWARK_PASSWORD", "current password: ", false, cur, sizeof cur) != 0 ||
	    cli_secret("BULWARK_OTP", "authenticator code: ", false, otp, sizeof otp) != 0 ||
	    cli_secret("BULWARK_NEW_PASSWORD", "new password: ", true, npw, sizeof npw) != 0) {
		cli_errorf("passwd: needs BULWARK_PASSWORD, BULWARK_OTP and BULWARK_NEW_PASSWORD, or a terminal");
		rc = CLI_USAGE;
		goto out;
	}
	body = json_pack("{s:s, s:s, s:s}", "current_password", cur, "otp", otp, "new_password", npw);
	if (body == NULL) {
		cli_errorf("passwd: invalid text");
		goto out;
	}
	if (cli_api_call(&api, "POST", "/api/v1/me/password", body, &status, &reply, NULL) == 0 &&
	    cli_api_expect("passwd", status, 200, reply) == 0) {
		fprintf(stderr, "password changed; every session and token of yours was revoked: sign in again\n");
		rc = CLI_OK;
	}
out:
	bw_memzero(cur, sizeof cur);
	bw_memzero(npw, sizeof npw);
	json_decref(body);
	json_decref(reply);
	return rc;
}

int
cmd_login(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	const char *user;
	char *pos[1], pw[1100], otp[64];
	size_t npos;
	json_t *reply = NULL, *t;
	long status;
	int rc = CLI_FAIL;

	if (wants_help(argc, argv)) {
		fputs(login_usage, stdout);
		return CLI_OK;
	}
	cli_args_init(&a, argc, argv);
	if (cli_api_init(&api, &a) || cli_opt(&a, "--user", &user) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (user == NULL) {
		fputs(login_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_secret("BULWARK_PASSWORD", "password: ", false, pw, sizeof pw) != 0 ||
	    cli_secret("BULWARK_OTP", "authenticator code: ", false, otp, sizeof otp) != 0) {
		cli_errorf("login: needs BULWARK_PASSWORD/BULWARK_OTP or a terminal");
		return CLI_USAGE;
	}
	json_t *body = json_pack("{s:s, s:s, s:s}", "username", user, "password", pw, "otp", otp);
	bw_memzero(pw, sizeof pw);
	if (body == NULL) {
		cli_errorf("login: invalid text");
		return CLI_USAGE;
	}
	if (cli_api_call(&api, "POST", "/api/v1/login", body, &status, &reply, NULL) == 0 &&
	    cli_api_expect("login", status, 200, reply) == 0 && json_is_string(t = json_object_get(reply, "token"))) {
		printf("%s\n", json_string_value(t));
		rc = CLI_OK;
	}
	json_decref(body);
	json_decref(reply);
	return rc;
}

int
cmd_token(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	const char *name = NULL, *scopes = NULL, *days_s = NULL, *out = NULL;
	char *pos[2], path[64];
	size_t npos;
	uint64_t days = 30;
	long status;
	json_t *body, *reply = NULL, *t;
	int rc = CLI_FAIL;
	struct bw_err err = { 0 };

	if (argc < 1 || wants_help(argc, argv)) {
		fputs(token_usage, argc < 1 ? stderr : stdout);
		fputs(api_opts, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (strcmp(argv[0], "revoke") == 0) {
		if (cli_api_init(&api, &a) || cli_positional(&a, pos, 1, &npos) || npos != 1) {
			fputs(token_usage, stderr);
			return CLI_USAGE;
		}
		if (cli_parse_range("ID", pos[0], 1, INT64_MAX, &days))
			return CLI_USAGE;
		snprintf(path, sizeof path, "/api/v1/tokens/%llu", (unsigned long long)days);
		return call_and_show(&api, "token revoke", "DELETE", path, NULL, 200, AS_DONE);
	}
	if (strcmp(argv[0], "create") != 0 || cli_api_init(&api, &a) || cli_opt(&a, "--name", &name) ||
	    cli_opt(&a, "--scopes", &scopes) || cli_opt(&a, "--days", &days_s) || cli_opt(&a, "--out", &out) ||
	    cli_positional(&a, pos, 0, &npos) || name == NULL || scopes == NULL) {
		fputs(token_usage, stderr);
		return CLI_USAGE;
	}
	if (days_s && cli_parse_range("--days", days_s, 1, 366, &days))
		return CLI_USAGE;
	body = json_pack("{s:s, s:o, s:I}", "name", name, "scopes", ev_json_list(scopes), "lifetime_days", (json_int_t)days);
	if (cli_api_call(&api, "POST", "/api/v1/tokens", body, &status, &reply, NULL) != 0 ||
	    cli_api_expect("token create", status, 201, reply) != 0 || !json_is_string(t = json_object_get(reply, "token")))
		goto out;
	if (out == NULL) {
		printf("%s\n", json_string_value(t));
		fprintf(stderr, "token id %lld (%s)\n", (long long)json_integer_value(json_object_get(reply, "id")), scopes);
	} else {
		struct bw_buf line = { 0 };
		int w = bw_buf_append(&line, json_string_value(t), json_string_length(t)) || bw_buf_append_byte(&line, '\n') ||
			bw_file_create_secret(out, line.data, line.len, &err);
		if (line.data != NULL)
			bw_memzero(line.data, line.len);
		bw_buf_free(&line);
		if (w != 0) {
			cli_errorf("token create: cannot create %s (%s; it must not exist); the token (id %lld) was created: "
				   "revoke it", out, err.msg, (long long)json_integer_value(json_object_get(reply, "id")));
			goto out;
		}
		fprintf(stderr, "token id %lld (%s) written to %s\n", (long long)json_integer_value(json_object_get(reply, "id")),
			scopes, out);
	}
	rc = CLI_OK;
out:
	json_decref(body);
	json_decref(reply);
	return rc;
}

int
cmd_host(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	const char *address, *group, *accounts, *verb;
	char *pos[1], path[256];
	size_t npos;
	bool json;

	if (argc < 1 || wants_help(argc, argv)) {
		fputs(host_usage, argc < 1 ? stderr : stdout);
		fputs(api_opts, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	verb = argv[0];
	cli_args_init(&a, argc - 1, argv + 1);
	json = cli_flag(&a, "--json");
	if (cli_api_init(&api, &a) || cli_opt(&a, "--address", &address) || cli_opt(&a, "--group", &group) ||
	    cli_opt(&a, "--accounts", &accounts) || cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (strcmp(verb, "list") == 0)
		return call_and_show(&api, "host list", "GET", "/api/v1/hosts", NULL, 200, json ? AS_JSON : AS_HOSTS);
	if (npos != 1) {
		cli_errorf("host %s: needs a host NAME", verb);
		return CLI_USAGE;
	}
	if (strcmp(verb, "add") == 0) {
		if (address == NULL || accounts == NULL) {
			cli_errorf("host add: needs --address and --accounts");
			return CLI_USAGE;
		}
		return call_and_show(&api, "host add", "POST", "/api/v1/hosts",
				     json_pack("{s:s, s:s, s:s, s:o}", "name", pos[0], "address", address, "group",
					       group ? group : "default", "accounts", ev_json_list(accounts)), 201,
				     json ? AS_JSON : AS_HOST_CODE);
	}
	if (strcmp(verb, "enrol-code") == 0 || strcmp(verb, "revoke") == 0) {
		bool code = verb[0] == 'e';
		if (!access_name_valid(pos[0])) {
			cli_errorf("host %s: invalid host name '%.64s'", verb, pos[0]);
			return CLI_USAGE;
		}
		snprintf(path, sizeof path, "/api/v1/hosts/%s/%s", pos[0], code ? "enrolment" : "revoke");
		return call_and_show(&api, code ? "host enrol-code" : "host revoke", "POST", path, NULL, 200,
				     json ? AS_JSON : code ? AS_HOST_CODE : AS_DONE);
	}
	if (strcmp(verb, "sshd-config") == 0) {
		struct bw_buf raw = { 0 };
		long status;
		int rc = CLI_FAIL;
		snprintf(path, sizeof path, "/api/v1/hosts/%.64s/sshd-config", pos[0]);
		if (cli_api_call(&api, "GET", path, NULL, &status, NULL, &raw) == 0) {
			if (status == 200) {
				fwrite(raw.data, 1, raw.len, stdout);
				rc = CLI_OK;
			} else {
				cli_errorf("host sshd-config: HTTP %ld: %.*s", status, (int)raw.len, (char *)raw.data);
			}
		}
		bw_buf_free(&raw);
		return rc;
	}
	cli_errorf("host: unknown command '%s'", verb);
	return CLI_USAGE;
}

static int
parse_id(const char *s, uint64_t *id)
{
	return cli_parse_range("ID", s, 1, INT64_MAX, id);
}

static int
access_request(struct cli_api *api, struct cli_args *a, bool json)
{
	const char *hosts, *group, *accounts, *reason, *keyfile, *start, *minutes, *ticket, *src, *force, *permit;
	char *pos[1];
	size_t npos, klen;
	uint64_t after, mins = 60;
	uint8_t *key = NULL;
	struct bw_err err = { 0 };
	json_t *body;

	if (cli_opt(a, "--host", &hosts) || cli_opt(a, "--group", &group) || cli_opt(a, "--account", &accounts) ||
	    cli_opt(a, "--reason", &reason) || cli_opt(a, "--key", &keyfile) || cli_opt(a, "--start", &start) ||
	    cli_opt(a, "--minutes", &minutes) || cli_opt(a, "--ticket", &ticket) ||
	    cli_opt(a, "--source-address", &src) || cli_opt(a, "--force-command", &force) ||
	    cli_opt(a, "--permit", &permit) || cli_positional(a, pos, 0, &npos))
		return CLI_USAGE;
	if ((hosts == NULL) == (group == NULL) || accounts == NULL || reason == NULL || keyfile == NULL) {
		cli_errorf("access request: needs --host or --group, --account, --reason and --key");
		return CLI_USAGE;
	}
	if (start == NULL || strcmp(start, "now") == 0)
		after = (uint64_t)time(NULL);
	else if (cli_parse_u64("--start", start, &after))
		return CLI_USAGE;
	if (minutes && cli_parse_range("--minutes", minutes, 1, 14 * 24 * 60, &mins))
		return CLI_USAGE;
	/* Read as a secret (it may be a private key given by mistake) and checked here: a private key never leaves. */
	if (bw_file_read_secret(keyfile, 16384, &key, &klen, &err) != 0)
		return cli_fail("--key", &err);
	while (klen > 0 && (key[klen - 1] == '\n' || key[klen - 1] == '\r'))
		key[--klen] = '\0';
	if (strstr((char *)key, "PRIVATE KEY") != NULL) {
		bw_secure_free(key);
		cli_errorf("access request: %s is a private key; give its public key (%s.pub), which is all bulwark needs "
			   "(nothing was sent)", keyfile, keyfile);
		return CLI_USAGE;
	}
	{
		struct ssh_pubkey pk = { 0 };
		if (ssh_pubkey_parse((char *)key, klen, &pk, &err) != 0) {
			bw_secure_free(key);
			cli_errorf("access request: --key %s: %s (nothing was sent)", keyfile, err.msg);
			return CLI_USAGE;
		}
		ssh_pubkey_clear(&pk);
	}
	body = json_pack("{s:o, s:I, s:I, s:s, s:s}", "accounts", ev_json_list(accounts), "valid_after", (json_int_t)after,
			 "valid_before", (json_int_t)(after + mins * 60), "reason", reason, "public_key", (char *)key);
	bw_secure_free(key);
	if (body == NULL) {
		cli_errorf("access request: invalid text in an argument");
		return CLI_USAGE;
	}
	if (hosts)
		json_object_set_new(body, "hosts", ev_json_list(hosts));
	else
		json_object_set_new(body, "group", json_string(group));
	if (ticket)
		json_object_set_new(body, "ticket", json_string(ticket));
	if (src)
		json_object_set_new(body, "source_address", json_string(src));
	if (force)
		json_object_set_new(body, "force_command", json_string(force));
	if (permit)
		json_object_set_new(body, "permits", ev_json_list(permit));
	return call_and_show(api, "access request", "POST", "/api/v1/access/requests", body, 201,
			     json ? AS_JSON : AS_REQUEST);
}

/* The fingerprint of KEY.pub, or "" when it cannot be read or parsed. */
static void
pub_fingerprint(const char *pubpath, char fp[64])
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct ssh_pubkey k = { 0 };

	fp[0] = '\0';
	if (bw_file_read(pubpath, 16384, &text, &len, NULL) != 0)
		return;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (ssh_pubkey_parse((char *)text, len, &k, NULL) == 0)
		snprintf(fp, 64, "%s", k.fingerprint);
	ssh_pubkey_clear(&k);
	free(text);
}

/*
 * The private key for fingerprint want: --identity (checked against its
 * .pub), else the first ~/.ssh/NAME whose NAME.pub has that fingerprint.
 */
static bool
find_identity(const char *identity, const char *want, char *out, size_t cap)
{
	char pub[4400], fp[64], dir[4096];
	const char *home = getenv("HOME");
	DIR *d;
	struct dirent *e;
	bool found = false;

	if (identity != NULL) {
		snprintf(pub, sizeof pub, "%s.pub", identity);
		pub_fingerprint(pub, fp);
		if (strcmp(fp, want) != 0)
			return false;
		snprintf(out, cap, "%s", identity);
		return true;
	}
	snprintf(dir, sizeof dir, "%s/.ssh", home ? home : ".");
	if ((d = opendir(dir)) == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".pub") != 0 || strstr(e->d_name, "-cert.pub") != NULL)
			continue;
		if ((size_t)snprintf(pub, sizeof pub, "%s/%s", dir, e->d_name) >= sizeof pub)
			continue;
		pub_fingerprint(pub, fp);
		if (strcmp(fp, want) == 0) {
			int w = snprintf(out, cap, "%s/%.*s", dir, (int)(n - 4), e->d_name);
			found = w > 0 && (size_t)w < cap && access(out, R_OK) == 0;
		}
	}
	closedir(d);
	return found;
}

/*
 * Prints the snippet with each IdentityFile placeholder replaced by the
 * matching private key, and CertificateFile naming where the certificate
 * was saved (an absolute path: ssh expands ~ from the password database).
 */
static void
print_ssh_config(const char *cfg, const char *identity, const char *certpath)
{
	const char *line = cfg, *nl;
	size_t pl = strlen(ACCESS_IDENTITY_LINE);
	bool warned = false;

	for (; *line != '\0'; line = nl ? nl + 1 : line + strlen(line)) {
		const char *t = line;
		nl = strchr(line, '\n');
		while (*t == ' ')
			t++;
		if (strncmp(t, "CertificateFile ", 16) == 0) {
			char abs[4096];
			printf("    CertificateFile %s\n", realpath(certpath, abs) ? abs : certpath);
			if (nl == NULL)
				break;
			continue;
		}
		if (strncmp(t, ACCESS_IDENTITY_LINE " ", pl + 1) == 0) {
			char want[64], path[4096];
			snprintf(want, sizeof want, "%.*s", (int)((nl ? (size_t)(nl - t) : strlen(t)) - pl - 1), t + pl + 1);
			if (find_identity(identity, want, path, sizeof path)) {
				printf("    IdentityFile %s\n", path);
				continue;
			}
			if (!warned)
				fprintf(stderr, "access ssh-config: no private key found for %s (%s); add IdentityFile yourself\n",
					want, identity ? "--identity does not match" : "looked for KEY.pub in ~/.ssh");
			warned = true;
		}
		printf("%.*s\n", (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
		if (nl == NULL)
			break;
	}
}

static int
ssh_config_cmd(struct cli_api *api, uint64_t id, const char *outpath, const char *identity)
{
	char path[128], def[4096];
	json_t *reply = NULL, *cert, *cfg;
	struct bw_err err = { 0 };
	long status;
	int rc = CLI_FAIL;

	snprintf(path, sizeof path, "/api/v1/access/requests/%llu/certificate", (unsigned long long)id);
	if (cli_api_call(api, "GET", path, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("access ssh-config", status, 200, reply) != 0)
		goto out;
	cert = json_object_get(reply, "certificate");
	cfg = json_object_get(reply, "ssh_config");
	if (!json_is_string(cert) || !json_is_string(cfg)) {
		cli_errorf("access ssh-config: malformed reply");
		goto out;
	}
	if (outpath == NULL) {
		const char *home = getenv("HOME");
		snprintf(def, sizeof def, "%s/.ssh/bulwark-%llu-cert.pub", home ? home : ".", (unsigned long long)id);
		outpath = def;
	}
	if (bw_file_write_atomic(outpath, json_string_value(cert), json_string_length(cert), 0644, &err) != 0) {
		cli_fail("access ssh-config", &err);
		goto out;
	}
	fprintf(stderr, "certificate written to %s\n", outpath);
	print_ssh_config(json_string_value(cfg), identity, outpath);
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

/* bulwark access ca rotate [--overlap-minutes N] | activate | retire | status */
static int
access_ca(const struct cli_api *api, struct cli_args *a, bool json)
{
	const char *overlap = NULL;
	char *pos[1], path[64];
	size_t npos;
	uint64_t v = 1440;

	if (cli_opt(a, "--overlap-minutes", &overlap) || cli_positional(a, pos, 1, &npos) || npos != 1 ||
	    (overlap != NULL && cli_parse_range("--overlap-minutes", overlap, 0, 129600, &v) != 0)) {
		fputs(access_usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(pos[0], "status") == 0)
		return call_and_show(api, "access ca status", "GET", "/api/v1/access/ca/rotation", NULL, 200,
				     json ? AS_JSON : AS_CA);
	if (strcmp(pos[0], "rotate") == 0)
		return call_and_show(api, "access ca rotate", "POST", "/api/v1/access/ca/rotate",
				     json_pack("{s:I}", "overlap_minutes", (json_int_t)v), 200, json ? AS_JSON : AS_CA);
	if (strcmp(pos[0], "activate") == 0 || strcmp(pos[0], "retire") == 0) {
		char what[32];
		snprintf(path, sizeof path, "/api/v1/access/ca/%s", pos[0]);
		snprintf(what, sizeof what, "access ca %s", pos[0]);
		return call_and_show(api, what, "POST", path, NULL, 200, json ? AS_JSON : AS_CA);
	}
	cli_errorf("access ca: unknown step '%s' (rotate, activate, retire, status)", pos[0]);
	return CLI_USAGE;
}

int
cmd_access(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	const char *verb, *reason, *outpath, *identity;
	char *pos[1], path[160];
	size_t npos;
	uint64_t id;
	bool json;

	if (argc < 1 || wants_help(argc, argv)) {
		fputs(access_usage, argc < 1 ? stderr : stdout);
		fputs(api_opts, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	verb = argv[0];
	cli_args_init(&a, argc - 1, argv + 1);
	if (cli_api_init(&api, &a))
		return CLI_USAGE;
	json = cli_flag(&a, "--json");
	if (strcmp(verb, "request") == 0)
		return access_request(&api, &a, json);
	if (strcmp(verb, "ca") == 0)
		return access_ca(&api, &a, json);
	if (cli_opt(&a, "--reason", &reason) || cli_opt(&a, "--out", &outpath) || cli_opt(&a, "--identity", &identity) ||
	    cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (strcmp(verb, "list") == 0)
		return call_and_show(&api, "access list", "GET", "/api/v1/access/requests", NULL, 200,
				     json ? AS_JSON : AS_REQUESTS);
	if (strcmp(verb, "review") == 0)
		return call_and_show(&api, "access review", "GET", "/api/v1/access/review", NULL, 200,
				     json ? AS_JSON : AS_REVIEW);
	if (npos != 1 || parse_id(pos[0], &id)) {
		cli_errorf("access %s: needs a request ID", verb);
		return CLI_USAGE;
	}
	if (strcmp(verb, "show") == 0) {
		snprintf(path, sizeof path, "/api/v1/access/requests/%llu", (unsigned long long)id);
		return call_and_show(&api, "access show", "GET", path, NULL, 200, json ? AS_JSON : AS_REQUEST);
	}
	if (strcmp(verb, "approve") == 0 || strcmp(verb, "deny") == 0 || strcmp(verb, "revoke") == 0) {
		json_t *body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
		if (body == NULL) {
			cli_errorf("--reason: invalid text");
			return CLI_USAGE;
		}
		snprintf(path, sizeof path, "/api/v1/access/requests/%llu/%s", (unsigned long long)id, verb);
		return call_and_show(&api, verb, "POST", path, body, 200, json ? AS_JSON : AS_REQUEST);
	}
	if (strcmp(verb, "ssh-config") == 0)
		return ssh_config_cmd(&api, id, outpath, identity);
	cli_errorf("access: unknown command '%s'", verb);
	fputs(access_usage, stderr);
	return CLI_USAGE;
}
