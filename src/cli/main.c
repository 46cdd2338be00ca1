/* cli/main.c: the bulwark executable: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto/crypto.h"

#include <curl/curl.h>
#include <liboath/oath.h>

static const char usage[] =
    "usage: bulwark <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  init     create a data directory (database, sealed keys, TLS, first admin)\n"
    "  serve    run the HTTPS JSON API\n"
    "  user     manage users: add (invite), list, disable, enable, reset-mfa, roles, grants\n"
    "  enrol    set your own password and TOTP with the one-time code an admin gave you (API)\n"
    "  login    get a session token from a server (for the API commands below)\n"
    "  passwd   change your own password (API)\n"
    "  token    API tokens limited to some of your roles: create, revoke (API)\n"
    "  host     maintenance targets: add, list, enrol-code, revoke, sshd-config (API)\n"
    "  access   remote-maintenance access: request, approve, deny, revoke, ssh-config, review (API)\n"
    "  patch    TUF patch metadata: keygen, root init, add, sign, verify (offline); keys, publish\n"
    "  agent    host side of patching: init, enrol, update (verify, log check, install, report)\n"
    "  log      the tamper-evident audit log (init, append, checkpoint, prove, ...)\n"
    "  note     C2SP signed notes: keygen, sign, cosign, verify\n"
    "  rules    Sigma detection rules: check, test on JSON events, hunt through a log\n"
    "  alert    alerts raised by detection rules: list, show, ack, resolve (API)\n"
    "  audit    read audit events from a server: list, show (API)\n"
    "  events   print the audit event vocabulary; search and prune host events (API)\n"
    "  witness  witnessing: serve (a standalone witness), status (API)\n"
    "  report   reported mails and files: submit, mine, list, show, share (API); triage (a sample, here)\n"
    "  partner  partner organisations that read shared indicators over TAXII: add, list, revoke (API)\n"
    "  taxii    TAXII 2.1 collections and who may read them: collection add, collection list, grant (API)\n"
    "  feed     partners' TAXII collections pulled for triage: add, list, pull (API)\n"
    "  config   check the configuration file of bulwark serve (config check FILE)\n"
    "  status   the server's state at a glance: audit log, requests, windows, alerts, patches (API)\n"
    "  backup   an encrypted copy of a data directory while its server runs; keygen\n"
    "  restore  a backup into an empty directory, checked whole (manifest, logs, keys)\n"
    "  upgrade  bring a data directory's database to this version's schema (copied first)\n"
    "  version  print the version\n"
    "\n"
    "Run 'bulwark <command> --help' for a command's options.\n";

int
main(int argc, char **argv)
{
	struct bw_err err = { 0 };

	if (argc < 2) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (bw_crypto_init(&err) != 0)
		return cli_fail("init", &err);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_errorf("libcurl failed to initialise");
		return CLI_FAIL;
	}
	if (oath_init() != OATH_OK) {
		cli_errorf("liboath failed to initialise");
		return CLI_FAIL;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		puts("bulwark " BW_VERSION);
		return CLI_OK;
	}
	if (strcmp(argv[1], "note") == 0)
		return cmd_note(argc - 2, argv + 2);
	if (strcmp(argv[1], "log") == 0)
		return cmd_log(argc - 2, argv + 2);
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 2, argv + 2);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "user") == 0)
		return cmd_user(argc - 2, argv + 2);
	if (strcmp(argv[1], "login") == 0)
		return cmd_login(argc - 2, argv + 2);
	if (strcmp(argv[1], "host") == 0)
		return cmd_host(argc - 2, argv + 2);
	if (strcmp(argv[1], "access") == 0)
		return cmd_access(argc - 2, argv + 2);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 2, argv + 2);
	if (strcmp(argv[1], "agent") == 0)
		return cmd_agent(argc - 2, argv + 2);
	if (strcmp(argv[1], "patch") == 0)
		return cmd_patch(argc - 2, argv + 2);
	if (strcmp(argv[1], "enrol") == 0)
		return cmd_enrol(argc - 2, argv + 2);
	if (strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc - 2, argv + 2);
	if (strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 2, argv + 2);
	if (strcmp(argv[1], "alert") == 0)
		return cmd_alert(argc - 2, argv + 2);
	if (strcmp(argv[1], "rules") == 0)
		return cmd_rules(argc - 2, argv + 2);
	if (strcmp(argv[1], "events") == 0)
		return cmd_events(argc - 2, argv + 2);
	if (strcmp(argv[1], "witness") == 0)
		return cmd_witness(argc - 2, argv + 2);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 2, argv + 2);
	if (strcmp(argv[1], "triage-zygote") == 0)	/* the server's helper, started again by it (docs/REPORTS.md) */
		return cmd_triage_zygote(argc - 2, argv + 2);
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 2, argv + 2);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 2, argv + 2);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc - 2, argv + 2);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc - 2, argv + 2);
	if (strcmp(argv[1], "upgrade") == 0)
		return cmd_upgrade(argc - 2, argv + 2);
	if (strcmp(argv[1], "partner") == 0)
		return cmd_partner(argc - 2, argv + 2);
	if (strcmp(argv[1], "taxii") == 0)
		return cmd_taxii(argc - 2, argv + 2);
	if (strcmp(argv[1], "feed") == 0)
		return cmd_feed(argc - 2, argv + 2);
	cli_errorf("unknown command '%s'", argv[1]);
	fputs(usage, stderr);
	return CLI_USAGE;
}
