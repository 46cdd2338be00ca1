/* cli/cmd_server.c: `bulwark init` and `bulwark serve`. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cli.h"
#include "detect/detect.h"
#include "access/access.h"
#include "ops/ops.h"
#include "server/server.h"
#include "triage/triage.h"
#include "witness/witness.h"

static const char init_usage[] =
    "usage: bulwark init --data DIR [--origin ORIGIN] [--admin NAME] [--passphrase]\n"
    "                    [--tls-cert PEM --tls-key PEM]\n"
    "\n"
    "Creates a data directory: SQLite database, audit log, the log signing key sealed\n"
    "with XChaCha20-Poly1305 under a key-encryption key (a random 0600 file, or with\n"
    "--passphrase one derived by Argon2id from BULWARK_PASSPHRASE or a prompt), a\n"
    "self-signed TLS certificate unless --tls-cert/--tls-key are given, and the first\n"
    "admin (default 'admin'). The admin password comes from BULWARK_ADMIN_PASSWORD or a\n"
    "prompt; without either a random one is generated and printed. Prints the admin's\n"
    "one-time TOTP enrolment (otpauth URI and QR code) and 10 single-use recovery codes.\n";

static const char serve_usage[] =
    "usage: bulwark serve [--config FILE] --data DIR [--listen 127.0.0.1:8443] [--threads N]\n"
    "                     [--login-backoff-ms MS] [--lock-after N] [--lock-secs S]\n"
    "                     [--timeout-secs S] [--max-window-secs S] [--session-wrapper PATH|none]\n"
    "                     [--snapshot-lifetime-secs S] [--timestamp-lifetime-secs S]\n"
    "                     [--rules DIR] [--notify-level LEVEL] [--business-hours SPEC]\n"
    "                     [--host-silent-secs S] [--host-clock-max-secs S] [--host-retention-days D]\n"
    "                     [--witness-log VKEY]... [--log-key-rotate-days D]\n"
    "                     [--org-domain DOMAIN]... [--yara-dir DIR] [--triage-timeout-secs S]\n"
    "                     [--sample-retention-days D]\n"
    "                     [--witness-policy POLICY [--witness-interval-secs S] [--witness-timeout-secs S]\n"
    "                      [--witness-cacert PEM]]\n"
    "                     [--webhook URL --webhook-secret-file FILE [--webhook-cacert PEM]]\n"
    "                     [--smtp smtp://HOST:PORT --smtp-from ADDR --smtp-to ADDR... [--smtp-cacert PEM]]\n"
    "\n"
    "Serves the HTTPS JSON API (TLS 1.3 only) until SIGTERM or SIGINT. --config FILE reads\n"
    "settings from FILE (\"key = value\" lines, the keys these options without their dashes;\n"
    "bulwark config check FILE); options given here win over the file's. Structured log\n"
    "lines go to stderr. A passphrase-sealed data directory needs BULWARK_PASSPHRASE or\n"
    "a prompt. Every audit event is matched, as it is recorded, against bulwark's own\n"
    "detection rules and the Sigma rules below --rules DIR (log source product: bulwark);\n"
    "a match raises an alert. A rule file that does not load is reported and skipped.\n"
    "Events carry enrich.business_hours per --business-hours (default\n"
    "'mon-fri 08:00-18:00', the server's local time: TZ).\n"
    "SIGHUP reloads the rules (all of them, or none when any file is refused) and the TLS\n"
    "certificate and key of DATA/tls/ (new connections use them; when they do not load the\n"
    "ones in use stay), without a restart.\n"
    "Host events from agents go to the host-event log (DATA/hostlog) and are matched\n"
    "against the rules of the host log sources; a host with no heartbeat for\n"
    "--host-silent-secs (default 300) raises host.silent, a clock further off than\n"
    "--host-clock-max-secs (default 120) host.clock (docs/HOSTS.md). With\n"
    "--host-retention-days D, the host-event log's oldest entry bundles whose events all\n"
    "arrived more than D days ago are deleted (checked every 10 minutes; hash tiles stay).\n"
    "With --log-key-rotate-days D, the audit log's signing key is rotated once it has signed\n"
    "for D days (a log.key_transition; checked at each sweep; docs/OPERATIONS.md).\n"
    "With --witness-log VKEY (a log's verifier key, as text or a file; up to 64), this server\n"
    "is a C2SP tlog-witness for those logs: POST /witness/add-checkpoint, its key at\n"
    "GET /witness/key (docs/WITNESS.md).\n"
    "Reported mails and files (POST /api/v1/reports) are triaged as they arrive, each in an\n"
    "isolated worker stopped after --triage-timeout-secs (default 60); --org-domain names the\n"
    "organisation's mail domains (look-alike senders are a reason), --yara-dir adds its YARA\n"
    "rules to bulwark's (a rule that does not compile stops the start); reported samples are\n"
    "deleted after --sample-retention-days (default 90; their reports and triage stay)\n"
    "(docs/REPORTS.md).\n"
    "With --witness-policy POLICY (c2sp.org/tlog-policy naming this server's log), the audit\n"
    "log's checkpoint goes to the policy's witnesses that have a URL every\n"
    "--witness-interval-secs (default 10), in parallel, each request bounded by\n"
    "--witness-timeout-secs (default 5); once their cosignatures meet the policy's quorum, that\n"
    "checkpoint with them is the one GET /log/checkpoint and the tlog-proof files carry\n"
    "(LOG/checkpoint.cosigned). --witness-cacert: the witnesses' TLS CA (default: the system's).\n"
    "With --webhook, every alert of --notify-level (default high) or above is POSTed\n"
    "(HTTPS) to URL, signed with HMAC-SHA256 under the key in the secret file (at least\n"
    "16 bytes); with --smtp, mailed to each --smtp-to through the relay (STARTTLS\n"
    "required). At least once, retried with back-off across restarts (docs/DETECT.md).\n";

static void
print_enrolment(const char *user, const struct auth_enrolment *e)
{
	int i;

	printf("\nTOTP enrolment for '%s' (shown once): scan with an authenticator app\n", user);
	cli_print_qr(stdout, e->otpauth_uri);
	printf("%s\n\nRecovery codes for '%s' (single use, shown once; keep them offline):\n", e->otpauth_uri,
	       user);
	for (i = 0; i < AUTH_RECOVERY_CODES; i++)
		printf("  %s\n", e->recovery[i]);
}

/*
 * The first admin of a new data directory, added by the user.add operation
 * with the local caller: the log's first event records who created whom.
 */
static int
add_first_admin(const struct instance_init_opts *o, const char *passphrase, const char *admin, const char *pw,
		struct auth_enrolment *enrol, struct bw_err *err)
{
	struct instance in;
	struct audit_log *al = NULL;
	struct ops_caller caller;
	struct ops_ctx x = { 0 };
	int r;

	if ((r = instance_open(o->data, passphrase, o->cost, &in, err)) != 0)
		return r;
	r = ops_log_open(&in, &al, err);
	if (r == 0) {
		ops_caller_local(&caller);
		x.in = &in;
		x.al = al;
		x.caller = &caller;
		r = ops_user_bootstrap(&x, admin, pw, enrol, err);
	}
	audit_log_close(al);
	instance_close(&in);
	return r;
}

int
cmd_init(int argc, char **argv)
{
	struct cli_args a;
	struct instance_init_opts o = { 0 };
	struct instance_init_result res = { 0 };
	struct auth_enrolment enrol = { 0 };
	const char *admin = NULL;
	struct bw_err err = { 0 };
	char *pos[1], pw[1100] = "", pass[1100] = "";
	size_t npos;
	bool generated = false;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(init_usage, stdout);
		return CLI_OK;
	}
	bool use_pass = cli_flag(&a, "--passphrase");
	if (cli_opt(&a, "--data", &o.data) || cli_opt(&a, "--origin", &o.origin) || cli_opt(&a, "--admin", &admin) ||
	    cli_opt(&a, "--tls-cert", &o.tls_cert) || cli_opt(&a, "--tls-key", &o.tls_key) ||
	    cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (o.data == NULL) {
		fputs(init_usage, stderr);
		return CLI_USAGE;
	}
	if (o.origin == NULL)
		o.origin = "bulwark.local/audit";
	if (admin == NULL)
		admin = "admin";
	if (!auth_username_valid(admin)) {
		cli_errorf("init: invalid admin user name '%s'", admin);
		return CLI_USAGE;
	}
	o.cost = &bw_pwhash_default;
	if (use_pass) {
		if (cli_secret("BULWARK_PASSPHRASE", "passphrase for the key-encryption key: ", true, pass,
			       sizeof pass) != 0) {
			cli_errorf("init: --passphrase needs BULWARK_PASSPHRASE or a terminal");
			return CLI_USAGE;
		}
		o.passphrase = pass;
	}
	if (cli_secret("BULWARK_ADMIN_PASSWORD", "password for the first admin: ", true, pw, sizeof pw) != 0) {
		uint8_t rnd[15];
		bw_random_bytes(rnd, sizeof rnd);
		bw_base32_encode(pw, rnd, sizeof rnd);	/* 24 characters, 120 bits */
		generated = true;
	}
	if (auth_password_check(pw, &err) != 0) {
		bw_err_prefix(&err, "admin password");
		cli_fail("init", &err);
		goto out;
	}
	if (instance_init(&o, &res, &err) != 0) {
		cli_fail("init", &err);
		goto out;
	}
	if (add_first_admin(&o, use_pass ? pass : NULL, admin, pw, &enrol, &err) != 0) {
		cli_fail("init: first admin", &err);
		goto out;
	}
	printf("bulwark data directory: %s\n", o.data);
	printf("audit log origin:       %s\n", o.origin);
	printf("log verifier key:       %s\n", res.log_vkey);
	printf("key-encryption key:     %s\n", use_pass ? "derived from the passphrase (Argon2id)"
							: "random, in DATA/kek (mode 0600)");
	printf("TLS certificate:        %s/%s%s\n", o.data, INSTANCE_TLS_CERT,
	       o.tls_cert ? "" : " (self-signed)");
	printf("first admin:            %s\n", admin);
	if (generated)
		printf("admin password:         %s   (generated; shown once)\n", pw);
	print_enrolment(admin, &enrol);
	rc = CLI_OK;
out:
	auth_enrolment_clear(&enrol);
	instance_init_result_clear(&res);
	bw_memzero(pw, sizeof pw);
	bw_memzero(pass, sizeof pass);
	return rc;
}

/* Records a server.start/stop event (the system's, target the listen address). */
static int
record_server_event(struct audit_log *al, enum ev_action action, const char *listen, struct bw_err *err)
{
	struct event ev;
	int r;

	ev_init(&ev, action, NULL);
	ev_target(&ev, "%s", listen);
	r = audit_record(al, &ev, NULL, err);
	ev_clear(&ev);
	return r;
}

/* SIGHUP: the TLS certificate and key again, for new connections; the outcome is an audit event either way. */
static void
reload_tls(struct server *srv, struct audit_log *al, const char *listen)
{
	struct bw_err err = { 0 }, rerr = { 0 };
	struct event ev;

	ev_init(&ev, EV_SERVER_TLS_RELOAD, NULL);
	ev_target(&ev, "%s", listen);
	if (server_reload_tls(srv, &err) != 0) {
		ev.result = EV_ERROR;
		ev_str(&ev, EVF_ERROR, err.msg);
		EV_LOG(EVLOG_ERROR, "the TLS certificate was not reloaded (the one in use stays)", EV_KS("error", err.msg));
	} else {
		EV_LOG0(EVLOG_INFO, "the TLS certificate was reloaded");
	}
	if (audit_record(al, &ev, NULL, &rerr) != 0)
		EV_LOG(EVLOG_ERROR, "server.tls_reload not recorded", EV_KS("error", rerr.msg));
	ev_clear(&ev);
}

/* The rules again, as the detector's reload (for ops_rules_reload). */
struct reload_ctx {
	struct detector *det;
	const char *rules_dir;
};

static int
reload_detector(void *ctx, size_t *loaded, struct bw_err *err)
{
	struct reload_ctx *rc = ctx;

	return detector_reload(rc->det, rc->rules_dir, loaded, err);
}

/* SIGHUP: the detection rules again, all or nothing; the outcome is an audit event either way. */
static void
reload_rules(struct instance *in, struct audit_log *al, struct reload_ctx *rc)
{
	struct ops_caller sys;
	struct ops_ctx x = { .in = in, .al = al, .caller = &sys };
	struct bw_err err = { 0 };
	size_t loaded = 0;

	ops_caller_system(&sys);
	if (ops_rules_reload(&x, reload_detector, rc, rc->rules_dir, &loaded, &err) == 0)
		EV_LOG(EVLOG_INFO, "detection rules reloaded", EV_KI("loaded", loaded));
	else
		EV_LOG(EVLOG_WARN, "detection rules not reloaded", EV_KS("error", err.msg));
}

/* Files past log's checkpoint that opening it set aside: a warning and a log.recovered event in al. */
static int
record_recovered(struct audit_log *al, struct audit_log *log, const char *prefix, struct bw_err *err)
{
	const char *where = NULL;
	size_t n = audit_log_recovered(log, &where);
	struct event ev;
	int r;

	if (n == 0)
		return 0;
	EV_LOG(EVLOG_WARN, "log recovered: files past the checkpoint set aside", EV_KI("count", n), EV_KS("dir", where));
	ev_init(&ev, EV_LOG_RECOVERED, NULL);
	ev_target(&ev, "%s%s", prefix, where);
	ev_int(&ev, EVF_FILES_SET_ASIDE, (int64_t)n);
	r = audit_record(al, &ev, NULL, err);
	ev_clear(&ev);
	return r;
}

static int serve_main(int argc, char **argv, bool witness_only);

static void
stop_triage(struct triage_zygote *z, struct triage *engine)
{
	triage_zygote_stop(z);
	triage_free(engine);
}

/* serve_main with the settings of --config FILE (the command line's own options win). */
static int
with_config(int argc, char **argv, bool witness_only)
{
	struct config c;
	struct bw_err err = { 0 };
	char **rest, **all = NULL;
	int i, n = 0, nall = 0, rc;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			break;
	if (i == argc)
		return serve_main(argc, argv, witness_only);
	if (i + 1 == argc) {
		cli_errorf("serve: --config needs a file");
		return CLI_USAGE;
	}
	if (config_read(argv[i + 1], &c, &err) != 0)
		return cli_fail("serve: --config", &err);
	if ((rest = calloc((size_t)argc, sizeof *rest)) == NULL) {
		config_free(&c);
		cli_errorf("out of memory");
		return CLI_FAIL;
	}
	for (int k = 0; k < argc; k++)
		if (k != i && k != i + 1)
			rest[n++] = argv[k];
	rc = config_argv(&c, n, rest, &nall, &all, &err);
	config_free(&c);
	free(rest);
	if (rc != 0)
		return cli_fail("serve: --config", &err);
	rc = serve_main(nall, all, witness_only);
	config_argv_free(nall, all);
	return rc;
}

int
cmd_serve(int argc, char **argv)
{
	return with_config(argc, argv, false);
}

int
cmd_witness_serve(int argc, char **argv)
{
	return with_config(argc, argv, true);
}

/* bulwark serve; witness_only: `bulwark witness serve`, a standalone witness (see cmd_witness.c). */
static int
serve_main(int argc, char **argv, bool witness_only)
{
	struct cli_args a;
	const char *data, *listen, *threads_s, *backoff_s, *lock_after_s, *lock_secs_s, *timeout_s, *window_s,
		*wrapper, *snap_s, *ts_s, *rules_dir, *business_hours, *webhook, *webhook_secret, *webhook_cacert,
		*notify_level, *smtp, *smtp_from, *smtp_cacert, *smtp_to[16], *silent_s, *clock_s, *retention_s = NULL, *key_days_s = NULL;
	struct ops_hostev_opts hopts = { .silent_after_ms = OPS_HOST_SILENT_AFTER_MS, .clock_max_ms = OPS_HOST_CLOCK_MAX_MS };
	struct ops_hostev *hostev = NULL;
	struct ops_witness *witness = NULL;
	const char *witness_logs[OPS_WITNESS_LOGS_MAX], *wpolicy_path, *winterval_s, *wtimeout_s, *wcacert;
	const char *org_domains[16], *yara_dir, *triage_timeout_s, *sample_days_s;
	size_t norg = 0;
	struct triage *engine = NULL;
	struct triage_zygote *zygote = NULL;
	struct triage_sandbox tsb = { 0 };
	size_t nwitness = 0;
	struct witness_policy *wpolicy = NULL;
	char *wpolicy_text = NULL;
	struct detect_calendar calendar;
	size_t nsmtp_to = 0;
	uint8_t *secret = NULL;
	size_t secret_len = 0;
	struct server_opts so = { .listen = "127.0.0.1:8443", .threads = 8, .backoff_ms = 1000,
				  .lock_after = AUTH_LOCK_AFTER, .lock_secs = AUTH_LOCK_SECS, .timeout_secs = 15,
				  .max_window = 8 * 3600, .session_wrapper = ACCESS_WRAPPER_DEFAULT };
	struct instance in;
	struct audit_log *al = NULL;
	struct server *srv = NULL;
	struct detector *det = NULL;
	struct reload_ctx reload = { 0 };
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };
	char *pos[1], pass[1100] = "";
	uint64_t v;
	size_t npos;
	sigset_t sigs;
	int sig = 0, rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		if (witness_only)
			return cmd_witness(1, (char *[]){ "--help", NULL });
		fputs(serve_usage, stdout);
		return CLI_OK;
	}
	so.witness_only = witness_only;
	if (cli_opt(&a, "--data", &data) || cli_opt(&a, "--listen", &listen) || cli_opt(&a, "--threads", &threads_s) ||
	    cli_opt(&a, "--login-backoff-ms", &backoff_s) || cli_opt(&a, "--lock-after", &lock_after_s) ||
	    cli_opt(&a, "--lock-secs", &lock_secs_s) || cli_opt(&a, "--timeout-secs", &timeout_s) ||
	    cli_opt(&a, "--max-window-secs", &window_s) || cli_opt(&a, "--session-wrapper", &wrapper) ||
	    cli_opt(&a, "--snapshot-lifetime-secs", &snap_s) || cli_opt(&a, "--timestamp-lifetime-secs", &ts_s) ||
	    cli_opt(&a, "--rules", &rules_dir) || cli_opt(&a, "--business-hours", &business_hours) ||
	    cli_opt(&a, "--host-silent-secs", &silent_s) || cli_opt(&a, "--host-clock-max-secs", &clock_s) ||
	    cli_opt(&a, "--host-retention-days", &retention_s) || cli_opt(&a, "--log-key-rotate-days", &key_days_s) ||
	    cli_opt_all(&a, "--witness-log", witness_logs, OPS_WITNESS_LOGS_MAX, &nwitness) ||
	    cli_opt(&a, "--witness-policy", &wpolicy_path) || cli_opt(&a, "--witness-interval-secs", &winterval_s) ||
	    cli_opt(&a, "--witness-timeout-secs", &wtimeout_s) || cli_opt(&a, "--witness-cacert", &wcacert) ||
	    cli_opt_all(&a, "--org-domain", org_domains, 16, &norg) || cli_opt(&a, "--yara-dir", &yara_dir) ||
	    cli_opt(&a, "--triage-timeout-secs", &triage_timeout_s) || cli_opt(&a, "--sample-retention-days", &sample_days_s) ||
	    cli_opt(&a, "--webhook", &webhook) ||
	    cli_opt(&a, "--webhook-secret-file", &webhook_secret) || cli_opt(&a, "--webhook-cacert", &webhook_cacert) ||
	    cli_opt(&a, "--notify-level", &notify_level) || cli_opt(&a, "--smtp", &smtp) ||
	    cli_opt(&a, "--smtp-from", &smtp_from) || cli_opt(&a, "--smtp-cacert", &smtp_cacert) ||
	    cli_opt_all(&a, "--smtp-to", smtp_to, 16, &nsmtp_to) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (silent_s != NULL) {
		if (bw_parse_u64(silent_s, strlen(silent_s), &v) != 0 || v < 1 || v > 30 * 86400) {
			cli_errorf("serve: --host-silent-secs must be 1 to 2592000");
			return CLI_USAGE;
		}
		hopts.silent_after_ms = (int64_t)v * 1000;
	}
	if (retention_s != NULL) {
		if (bw_parse_u64(retention_s, strlen(retention_s), &v) != 0 || v < 1 || v > 36500) {
			cli_errorf("serve: --host-retention-days must be 1 to 36500");
			return CLI_USAGE;
		}
		hopts.retention_ms = (int64_t)v * 86400 * 1000;
	}
	if (key_days_s != NULL) {
		if (bw_parse_u64(key_days_s, strlen(key_days_s), &v) != 0 || v < 1 || v > 3650) {
			cli_errorf("serve: --log-key-rotate-days must be 1 to 3650");
			return CLI_USAGE;
		}
		so.log_key_rotate_secs = (int64_t)v * 86400;
	}
	if (clock_s != NULL) {
		if (bw_parse_u64(clock_s, strlen(clock_s), &v) != 0 || v < 1 || v > 86400) {
			cli_errorf("serve: --host-clock-max-secs must be 1 to 86400");
			return CLI_USAGE;
		}
		hopts.clock_max_ms = (int64_t)v * 1000;
	}
	detect_calendar_default(&calendar);
	if (business_hours != NULL && detect_calendar_parse(business_hours, &calendar, &err) != 0) {
		cli_errorf("serve: --business-hours: %s", err.msg);
		return CLI_USAGE;
	}
	if ((webhook_secret || webhook_cacert) && webhook == NULL) {
		cli_errorf("serve: --webhook-secret-file and --webhook-cacert go with --webhook");
		return CLI_USAGE;
	}
	if ((smtp_from || smtp_cacert || nsmtp_to) && smtp == NULL) {
		cli_errorf("serve: --smtp-from, --smtp-to and --smtp-cacert go with --smtp");
		return CLI_USAGE;
	}
	if (notify_level != NULL) {
		enum detect_level lv;
		if (!detect_level_parse(notify_level, &lv) || (webhook == NULL && smtp == NULL)) {
			cli_errorf("serve: --notify-level (informational, low, medium, high or critical) goes with --webhook "
				   "or --smtp");
			return CLI_USAGE;
		}
		so.notify_level = notify_level;
	}
	if (smtp != NULL) {
		if ((strncmp(smtp, "smtp://", 7) != 0 && strncmp(smtp, "smtps://", 8) != 0) || strlen(smtp) > 2000 ||
		    smtp_from == NULL || nsmtp_to == 0) {
			cli_errorf("serve: --smtp needs an smtp:// or smtps:// URL, --smtp-from and at least one --smtp-to");
			return CLI_USAGE;
		}
		so.smtp_url = smtp;
		so.smtp_from = smtp_from;
		so.smtp_to = smtp_to;
		so.smtp_nto = nsmtp_to;
		so.smtp_cacert = smtp_cacert;
	}
	if (webhook != NULL) {
		if (strncmp(webhook, "https://", 8) != 0 || strlen(webhook) > 2000 || webhook_secret == NULL) {
			cli_errorf("serve: --webhook needs an https:// URL and --webhook-secret-file");
			return CLI_USAGE;
		}
		so.webhook_url = webhook;	/* the secret is read below, after the triage zygote started */
		so.webhook_cacert = webhook_cacert;
	}
	if (data == NULL || (witness_only && nwitness == 0)) {
		if (witness_only)
			cli_errorf("witness serve needs --data and at least one --witness-log");
		else
			fputs(serve_usage, stderr);
		return CLI_USAGE;
	}
	if ((winterval_s || wtimeout_s || wcacert) && wpolicy_path == NULL) {
		cli_errorf("serve: --witness-interval-secs, --witness-timeout-secs and --witness-cacert go with "
			   "--witness-policy");
		return CLI_USAGE;
	}
	if (winterval_s) {
		if (cli_parse_range("--witness-interval-secs", winterval_s, 1, 86400, &v))
			return CLI_USAGE;
		so.witness_interval_ms = (int64_t)v * 1000;
	}
	if (wtimeout_s) {
		if (cli_parse_range("--witness-timeout-secs", wtimeout_s, 1, 300, &v))
			return CLI_USAGE;
		so.witness_timeout_ms = (int64_t)v * 1000;
	}
	so.witness_cacert = wcacert;
	so.sample_retention_secs = (int64_t)90 * 86400;
	if (sample_days_s) {
		if (cli_parse_range("--sample-retention-days", sample_days_s, 1, 36500, &v))
			return CLI_USAGE;
		so.sample_retention_secs = (int64_t)v * 86400;
	}
	if (triage_timeout_s) {
		if (cli_parse_range("--triage-timeout-secs", triage_timeout_s, 1, 3600, &v))
			return CLI_USAGE;
		tsb.timeout_ms = (unsigned)v * 1000;
	}
	if (listen != NULL)
		so.listen = listen;
	if (threads_s) {
		if (cli_parse_range("--threads", threads_s, 1, 256, &v))
			return CLI_USAGE;
		so.threads = (int)v;
	}
	if (backoff_s) {
		if (cli_parse_range("--login-backoff-ms", backoff_s, 0, 60000, &v))
			return CLI_USAGE;
		so.backoff_ms = (int64_t)v;
	}
	if (lock_after_s) {
		if (cli_parse_range("--lock-after", lock_after_s, 1, 1000000, &v))
			return CLI_USAGE;
		so.lock_after = (int64_t)v;
	}
	if (lock_secs_s) {
		if (cli_parse_range("--lock-secs", lock_secs_s, 1, 30 * 86400, &v))
			return CLI_USAGE;
		so.lock_secs = (int64_t)v;
	}
	if (window_s) {
		if (cli_parse_range("--max-window-secs", window_s, 60, 14 * 86400, &v))
			return CLI_USAGE;
		so.max_window = (int64_t)v;
	}
	if (wrapper != NULL) {
		if (strcmp(wrapper, "none") == 0)
			so.session_wrapper = NULL;
		else if (wrapper[0] != '/' || strpbrk(wrapper, " \t\r\n'\"\\$`;|&") != NULL) {
			cli_errorf("serve: --session-wrapper must be an absolute path without shell characters, or none");
			return CLI_USAGE;
		} else
			so.session_wrapper = wrapper;
	}
	if (snap_s) {
		if (cli_parse_range("--snapshot-lifetime-secs", snap_s, 20, 366 * 86400, &v))
			return CLI_USAGE;
		so.snapshot_lifetime = (int64_t)v;
	}
	if (ts_s) {
		if (cli_parse_range("--timestamp-lifetime-secs", ts_s, 20, 31 * 86400, &v))
			return CLI_USAGE;
		so.timestamp_lifetime = (int64_t)v;
	}
	if (timeout_s) {
		if (cli_parse_range("--timeout-secs", timeout_s, 1, 3600, &v))
			return CLI_USAGE;
		so.timeout_secs = (unsigned)v;
	}
	if (wpolicy_path != NULL) {
		uint8_t *ptext = NULL;
		size_t plen = 0;
		int pr = cli_read_input(wpolicy_path, WITNESS_POLICY_TEXT_MAX, &ptext, &plen, &err);
		if (pr == 0)
			pr = witness_policy_parse((const char *)ptext, plen, &wpolicy, &err);
		if (pr != 0) {
			free(ptext);
			bw_secure_free(secret);
			return cli_fail("serve: --witness-policy", &err);
		}
		wpolicy_text = (char *)ptext;	/* NUL-terminated by cli_read_input; freed at the end */
		so.witness_policy = wpolicy;
		so.witness_policy_text = wpolicy_text;
	}
	/*
	 * The triage zygote now, while this process has one thread and holds no
	 * secret yet (no passphrase, KEK, keys or webhook secret): it forks the
	 * workers that walk reported samples (docs/REPORTS.md).
	 */
	if (!witness_only) {
		struct triage_opts to = { .org_domains = org_domains, .norg = norg, .yara_dir = yara_dir };
		/* the command that starts a zygote again should this one die: the same engine, no secrets */
		const char *respawn[2 * 16 + 8];
		char timeout_ms[24];
		size_t k = 0, i;
		respawn[k++] = "bulwark";
		respawn[k++] = "triage-zygote";
		for (i = 0; i < norg; i++) {
			respawn[k++] = "--org-domain";
			respawn[k++] = org_domains[i];
		}
		if (yara_dir != NULL) {
			respawn[k++] = "--yara-dir";
			respawn[k++] = yara_dir;
		}
		snprintf(timeout_ms, sizeof timeout_ms, "%u", tsb.timeout_ms);
		respawn[k++] = "--timeout-ms";
		respawn[k++] = timeout_ms;
		respawn[k] = NULL;
		triage_limits_default(&to.lim);
		if (triage_new(&to, &engine, &err) != 0 || triage_zygote_start(engine, &tsb, respawn, &zygote, &err) != 0) {
			triage_free(engine);
			witness_policy_free(wpolicy);
		free(wpolicy_text);
			return cli_fail("serve: triage", &err);
		}
		so.triage = zygote;
		so.org_domains = org_domains;
		so.norg_domains = norg;
		so.yara_dir = yara_dir;
	}
	if (webhook != NULL) {
		if (bw_file_read_secret(webhook_secret, 4096, &secret, &secret_len, &err) != 0) {
			stop_triage(zygote, engine);
			witness_policy_free(wpolicy);
		free(wpolicy_text);
			return cli_fail("serve: --webhook-secret-file", &err);
		}
		while (secret_len > 0 && (secret[secret_len - 1] == '\n' || secret[secret_len - 1] == '\r'))
			secret_len--;
		if (secret_len < 16) {
			bw_secure_free(secret);
			stop_triage(zygote, engine);
			witness_policy_free(wpolicy);
		free(wpolicy_text);
			cli_errorf("serve: the webhook secret must hold at least 16 bytes");
			return CLI_USAGE;
		}
		so.webhook_secret = secret;
		so.webhook_secret_len = secret_len;
	}
	if (instance_needs_passphrase(data) &&
	    cli_secret("BULWARK_PASSPHRASE", "passphrase: ", false, pass, sizeof pass) != 0) {
		cli_errorf("serve: this data directory needs BULWARK_PASSPHRASE or a terminal");
		bw_secure_free(secret);
		stop_triage(zygote, engine);
		witness_policy_free(wpolicy);
		free(wpolicy_text);
		return CLI_USAGE;
	}
	/* The rules first: a directory that cannot be read stops the start; a bad rule is reported and skipped. */
	if (detector_new(rules_dir, &calendar, &det, &rep, &err) != 0) {
		bw_memzero(pass, sizeof pass);
		bw_secure_free(secret);
		stop_triage(zygote, engine);
		witness_policy_free(wpolicy);
		free(wpolicy_text);
		return cli_fail("serve: rules", &err);
	}
	{
		size_t i;
		for (i = 0; i < rep.n; i++)
			if (rep.items[i].reason != NULL)
				EV_LOG(EVLOG_WARN, "a detection rule was refused", EV_KS("reason", rep.items[i].reason));
		EV_LOG(EVLOG_INFO, "detection rules loaded", EV_KI("loaded", rep.loaded), EV_KI("refused", rep.refused),
		       EV_KI("never_fire", rep.never_fire));
		detect_load_report_clear(&rep);
	}
	if (instance_open(data, pass[0] ? pass : NULL, &bw_pwhash_default, &in, &err) != 0) {
		bw_memzero(pass, sizeof pass);
		detector_free(det);
		bw_secure_free(secret);
		stop_triage(zygote, engine);
		witness_policy_free(wpolicy);
		free(wpolicy_text);
		return cli_fail("serve", &err);
	}
	bw_memzero(pass, sizeof pass);
	/* Signals are taken by sigwait below: block them before any thread starts. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ops_log_open(&in, &al, &err) != 0) {
		if (err.code == BW_EBUSY)
			cli_errorf("serve: a server is already running on %s (it holds the audit log)", data);
		else
			cli_fail("serve: audit log", &err);
		goto out;
	}
	in.log_signer = NULL; /* transferred */
	/* Every event from here on is matched against the rules, starting with the recovery and start events. */
	audit_log_observe(al, detector_observe, det);
	/* Host events: their own log, which the detector follows (late under load, never dropped). */
	if (ops_hostev_open(&in, &hopts, &hostev, &err) != 0) {
		if (err.code == BW_EBUSY)
			cli_errorf("serve: a server is already running on %s (it holds the host-event log)", data);
		else
			cli_fail("serve", &err);
		goto out;
	}
	so.hostev = hostev;
	if (nwitness > 0) {
		/* the logs this server witnesses: verifier keys given as text or files */
		char *texts[OPS_WITNESS_LOGS_MAX] = { 0 };
		size_t i;
		int wr = 0;
		for (i = 0; wr == 0 && i < nwitness; i++) {
			struct note_verifier *lv = NULL;
			if ((wr = cli_load_verifier(witness_logs[i], &lv, &err)) == 0)
				wr = note_verifier_format(lv, &texts[i], &err);
			note_verifier_free(lv);
		}
		if (wr == 0)
			wr = ops_witness_open(&in, (const char *const *)texts, nwitness, &witness, &err);
		for (i = 0; i < nwitness; i++)
			free(texts[i]);
		if (wr != 0) {
			cli_fail("serve: --witness-log", &err);
			goto out;
		}
		so.witness = witness;
	}
	if (detector_start(det, &in, al, hostev, &err) != 0) {
		cli_fail("serve: detection", &err);
		goto out;
	}
	if (record_recovered(al, al, "", &err) != 0) {
		cli_fail("serve: audit log", &err);
		goto out;
	}
	if (record_recovered(al, ops_hostev_log(hostev), "hostlog:", &err) != 0) {
		cli_fail("serve: audit log", &err);
		goto out;
	}
	if (record_server_event(al, EV_SERVER_START, so.listen, &err) != 0) {
		cli_fail("serve: audit log", &err);
		goto out;
	}
	reload.det = det;
	reload.rules_dir = rules_dir;
	so.rules_reload = reload_detector;
	so.rules_reload_ctx = &reload;
	so.rules_dir = rules_dir;
	so.detector = det;
	if (server_start(&in, al, &so, &srv, &err) != 0) {
		cli_fail("serve", &err);
		goto out;
	}
	{
		char url[300];
		snprintf(url, sizeof url, "https://%s/", so.listen);
		EV_LOG(EVLOG_INFO, "listening", EV_KS("url", url), EV_KS("log_vkey", in.log_vkey));
		/* systemd's Type=notify: ready once it listens (a no-op without NOTIFY_SOCKET) */
		sd_notifyf(0, "READY=1\nSTATUS=serving %s", url);
	}
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
		sd_notify(0, "RELOADING=1\nSTATUS=reloading the rules and the TLS certificate");
		reload_rules(&in, al, &reload);
		reload_tls(srv, al, so.listen);
		sd_notify(0, "READY=1\nSTATUS=serving");
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	EV_LOG(EVLOG_INFO, "shutting down", EV_KI("signal", sig));
	server_stop(srv);
	srv = NULL;
	if (record_server_event(al, EV_SERVER_STOP, so.listen, &err) != 0)
		EV_LOG(EVLOG_ERROR, "server.stop not recorded", EV_KS("error", err.msg));
	rc = CLI_OK;
out:
	server_stop(srv);
	detector_stop(det);	/* matches what is queued while the log is still open */
	ops_hostev_close(hostev);
	ops_witness_close(witness);
	audit_log_close(al);
	detector_free(det);
	instance_close(&in);
	bw_secure_free(secret);
	witness_policy_free(wpolicy);
		free(wpolicy_text);
	stop_triage(zygote, engine);	/* after the server: its triage thread is gone */
	return rc;
}
