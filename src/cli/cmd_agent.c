/* cli/cmd_agent.c: the host agent: `agent init` (pin root and log key), `agent enrol`, `agent update`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cli.h"
#include "hostev/hostev.h"

static const char agent_usage[] =
    "usage: bulwark agent init --state DIR --server URL [--root ROOT.json --log-key VKEY] --host NAME\n"
    "                          [--group G] [--cacert PEM] [--install CMD] [--install-dir DIR]\n"
    "                          [--report-server URL] [--enrol-code CODE]\n"
    "                          [--witness-policy POLICY [--witness-fail-open]]\n"
    "       bulwark agent enrol --state DIR --code CODE\n"
    "       bulwark agent update --state DIR [--user USER]\n"
    "       bulwark agent guard [--socket PATH] [--state-file PATH] [--state DIR]\n"
    "       bulwark agent session-begin [--socket PATH] DEADLINE\n"
    "       bulwark agent audit-rules [--design-dir DIR]...\n"
    "       bulwark agent run --state DIR [--audit-log PATH] [--audit-stdin] [--journal | --journal-dir DIR]\n"
    "                         [--syslog PATH] [--fim PATH]... [--fim-critical] [--fim-scan-secs S]\n"
    "                         [--spool-max-mb N] [--batch-max N] [--flush-ms MS]\n"
    "                         [--heartbeat-secs S] [--user USER]\n"
    "\n"
    "init (--root and --log-key: this host takes patches) pins the trusted root metadata (obtained out of band, e.g. 1.root.json from the offline\n"
    "signing machine) and the audit log's key. update runs the TUF client workflow against\n"
    "SERVER/patch/metadata, then downloads each target meant for this host, checks its length and\n"
    "sha256, requires its publication to be in the audit log (tlog-proof under a checkpoint signed by\n"
    "the pinned key, consistent with the last one seen), places it under the install directory and\n"
    "runs CMD (sh -c) with BULWARK_PATCH_FILE, _NAME, _VERSION, _SHA256 set. Results and refusals are\n"
    "reported to the server with this host's credential, which `enrol` (or init's --enrol-code) obtains\n"
    "once for the one-time code an admin got from `bulwark host add` or `bulwark host enrol-code`; the\n"
    "server accepts reports with it for this host only. Exit 0 when nothing was refused or failed.\n"
    "--user USER (started as root): TLS and HTTP run in a child that is USER; the checks and the\n"
    "install stay root, which copies and hashes each download itself.\n"
    "With init's --witness-policy POLICY (c2sp.org/tlog-policy naming the log key; pinned in\n"
    "DIR/witness.policy), the proof's checkpoint must also carry the policy's quorum of witness\n"
    "cosignatures, or the target is refused (fail closed) until the witnesses have cosigned;\n"
    "--witness-fail-open installs without the quorum, with a warning (docs/WITNESS.md).\n"
    "\n"
    "guard (as root, e.g. a service) ends maintenance sessions at their window's end: the session\n"
    "wrapper registers each session with session-begin before the vendor's command or shell starts,\n"
    "and at the deadline every process of that audit session (/proc/PID/sessionid, set by\n"
    "pam_loginuid: sshd needs UsePAM yes), including ones that setsid, double-fork or ignore SIGTERM,\n"
    "gets SIGTERM and 3 s later is stopped and killed. Defaults: --socket\n"
    "/run/bulwark-agent/guard.sock, --state-file /run/bulwark-agent/sessions.json. With\n"
    "--state DIR (the agent's state directory) each session's start, refusal, termination,\n"
    "kill and end is also recorded in DIR/hostev/actions.log, which `agent run` ships as host\n"
    "events of source agent.\n"
    "\n"
    "audit-rules prints the audit rules bulwark's detection rules expect, for augenrules\n"
    "(/etc/audit/rules.d/50-bulwark.rules): program runs, identity/sudo/sshd/PAM/loader/cron/\n"
    "systemd/audit configuration and each login user's authorized_keys written, kernel modules,\n"
    "clock changes, and reads in each --design-dir (key bulwark-design; up to 64).\n"
    "\n"
    "run (until SIGTERM or SIGINT) ships host events to the report server with this host's\n"
    "credential: auditd's log (--audit-log, e.g. /var/log/audit/audit.log) is followed across\n"
    "rotation, its records grouped into events (or, with --audit-stdin, read from stdin as\n"
    "auditd's dispatcher plugin: contrib/audit/; with both, each event is shipped once, by\n"
    "(time, serial), whichever way brings it first); the systemd journal (--journal, or the journal\n"
    "files in --journal-dir) and a syslog file (--syslog, e.g. /var/log/auth.log, for hosts\n"
    "without a journal) give the messages of sshd, sudo, su, PAM, account tools and package\n"
    "managers; --fim watches files (directories to two levels) for changes of content, owner\n"
    "and mode (--fim-critical: sshd, sudo, PAM, loader, cron, systemd and identity files and\n"
    "every login user's authorized_keys; inotify plus a full scan every --fim-scan-secs,\n"
    "default 3600) (at least one source); batches (up to --batch-max events, default 1024,\n"
    "or --flush-ms, default 1000) are written to the spool in DIR/hostev before the log is read\n"
    "further, and removed once the server acknowledges them; a full spool (--spool-max-mb, default\n"
    "256) stops the reading instead of dropping. Heartbeats (--heartbeat-secs, default 60) carry\n"
    "the counters: read, sent, spooled, lost (rotated away unread), source errors (docs/HOSTS.md).\n"
    "--user USER (started as root): a root helper keeps only the opening of the source files;\n"
    "the agent itself, which parses them and talks to the server, runs as USER (its groups give\n"
    "the journal, e.g. systemd-journal); DIR/hostev is handed to USER, DIR stays root's.\n";

#define GUARD_DIR "/run/bulwark-agent"

static int
agent_init_cmd(struct cli_args *a)
{
	struct agent_init_opts o = { 0 };
	const char *vkey_arg = NULL, *code = NULL;
	char *pos[1], *vkey = NULL;
	size_t npos;
	struct bw_err err = { 0 };
	int r;

	o.witness_fail_open = cli_flag(a, "--witness-fail-open");
	if (cli_opt(a, "--state", &o.state) || cli_opt(a, "--server", &o.server) || cli_opt(a, "--root", &o.root_path) ||
	    cli_opt(a, "--log-key", &vkey_arg) || cli_opt(a, "--host", &o.host) || cli_opt(a, "--group", &o.group) ||
	    cli_opt(a, "--cacert", &o.cacert) || cli_opt(a, "--install", &o.install) ||
	    cli_opt(a, "--install-dir", &o.install_dir) || cli_opt(a, "--enrol-code", &code) ||
	    cli_opt(a, "--report-server", &o.report_server) || cli_opt(a, "--witness-policy", &o.witness_policy) ||
	    cli_positional(a, pos, 0, &npos) || o.state == NULL ||
	    o.server == NULL || (o.root_path == NULL) != (vkey_arg == NULL) || o.host == NULL) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (vkey_arg != NULL && cli_read_key(vkey_arg, &vkey, &err) != 0)
		return cli_fail("agent init", &err);
	o.log_vkey = vkey;
	r = agent_init(&o, &err);
	bw_secure_free(vkey);
	if (r != 0)
		return cli_fail("agent init", &err);
	printf("agent state in %s: %shost %s\n", o.state, o.root_path != NULL ? "root pinned, " : "", o.host);
	if (code != NULL) {
		if (agent_enrol(o.state, code, &err) != 0)
			return cli_fail("agent init: enrol", &err);
		printf("host %s enrolled: reports go out with its credential (%s/credential)\n", o.host, o.state);
	}
	return CLI_OK;
}

static int
agent_enrol_cmd(struct cli_args *a)
{
	const char *state = NULL, *code = NULL;
	char *pos[1];
	size_t npos;
	struct bw_err err = { 0 };

	if (cli_opt(a, "--state", &state) || cli_opt(a, "--code", &code) || cli_positional(a, pos, 0, &npos) ||
	    state == NULL || code == NULL) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (agent_enrol(state, code, &err) != 0)
		return cli_fail("agent enrol", &err);
	printf("enrolled: reports go out with this host's credential (%s/credential)\n", state);
	return CLI_OK;
}

static int
agent_update_cmd(struct cli_args *a)
{
	const char *state = NULL, *user = NULL;
	char *pos[1];
	size_t npos;
	struct agent_update_result res;
	struct bw_err err = { 0 };
	int r;

	if (cli_opt(a, "--state", &state) || cli_opt(a, "--user", &user) || cli_positional(a, pos, 0, &npos) ||
	    state == NULL) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	r = agent_update(state, user, (int64_t)time(NULL), stdout, &res, &err);
	fflush(stdout);
	if (r != 0 && res.installed + res.failed + res.refused + res.current == 0 && err.code != BW_EVERIFY)
		return cli_fail("agent update", &err);
	printf("update: %u installed, %u current, %u refused, %u failed\n", res.installed, res.current, res.refused,
	       res.failed);
	return r == 0 ? CLI_OK : CLI_FAIL;
}

static int
agent_guard_cmd(struct cli_args *a)
{
	struct agent_guard_opts o = { 0 };
	char *pos[1];
	size_t npos;
	sigset_t sigs;
	struct bw_err err = { 0 };
	int sfd, r;

	if (cli_opt_or(a, "--socket", &o.socket_path, GUARD_DIR "/guard.sock") ||
	    cli_opt_or(a, "--state-file", &o.state_file, GUARD_DIR "/sessions.json") ||
	    cli_opt(a, "--state", &o.agent_state) || cli_positional(a, pos, 0, &npos)) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (strncmp(o.socket_path, GUARD_DIR "/", strlen(GUARD_DIR) + 1) == 0 && mkdir(GUARD_DIR, 0755) != 0 &&
	    access(GUARD_DIR, X_OK) != 0) {
		cli_errorf("agent guard: cannot create %s", GUARD_DIR);
		return CLI_FAIL;
	}
	/* SIGTERM and SIGINT end the loop through a signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		cli_errorf("agent guard: signalfd failed");
		return CLI_FAIL;
	}
	r = agent_guard_run(&o, sfd, stderr, &err);
	close(sfd);
	return r == 0 ? CLI_OK : cli_fail("agent guard", &err);
}

static int
agent_session_begin_cmd(struct cli_args *a)
{
	const char *sock = NULL;
	char *pos[1], reply[200];
	size_t npos;
	uint64_t deadline;
	struct bw_err err = { 0 };

	if (cli_opt_or(a, "--socket", &sock, GUARD_DIR "/guard.sock") || cli_positional(a, pos, 1, &npos) || npos != 1 ||
	    cli_parse_u64("DEADLINE", pos[0], &deadline) != 0 || deadline > INT64_MAX) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (agent_session_begin(sock, (int64_t)deadline, reply, sizeof reply, &err) != 0)
		return cli_fail("agent session-begin", &err);
	return CLI_OK;
}

static int
agent_run_cmd(struct cli_args *a)
{
	struct agent_run_opts o = { .spool_max = (uint64_t)256 << 20, .batch_max = 1024, .flush_ms = 1000,
				    .heartbeat_secs = 60, .log = stderr };
	const char *spool_s = NULL, *batch_s = NULL, *flush_s = NULL, *hb_s = NULL, *scan_s = NULL, *fim[64];
	struct bw_buf crit = { 0 };
	const char **roots = NULL;
	size_t nfim = 0, ncrit = 0, k;
	bool critical;
	char *pos[1];
	size_t npos;
	uint64_t v;
	sigset_t sigs;
	struct bw_err err = { 0 };
	int sfd, r;

	o.journal = cli_flag(a, "--journal");
	o.audit_stdin = cli_flag(a, "--audit-stdin");
	critical = cli_flag(a, "--fim-critical");
	o.fim_scan_secs = 3600;
	if (cli_opt(a, "--state", &o.state) || cli_opt(a, "--audit-log", &o.audit_log) ||
	    cli_opt(a, "--journal-dir", &o.journal_dir) || cli_opt(a, "--syslog", &o.syslog) ||
	    cli_opt_all(a, "--fim", fim, 64, &nfim) || cli_opt(a, "--fim-scan-secs", &scan_s) ||
	    cli_opt(a, "--spool-max-mb", &spool_s) || cli_opt(a, "--batch-max", &batch_s) ||
	    cli_opt(a, "--flush-ms", &flush_s) || cli_opt(a, "--heartbeat-secs", &hb_s) ||
	    cli_opt(a, "--user", &o.user) || cli_positional(a, pos, 0, &npos) || o.state == NULL) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (o.audit_log == NULL && !o.audit_stdin && !o.journal && o.journal_dir == NULL && o.syslog == NULL && nfim == 0 &&
	    !critical) {
		cli_errorf("agent run: give at least one source: --audit-log, --journal, --journal-dir, --syslog, --fim "
			   "or --fim-critical");
		return CLI_USAGE;
	}
	if (scan_s != NULL) {
		uint64_t v2;
		if (cli_parse_u64("--fim-scan-secs", scan_s, &v2) != 0 || v2 < 1 || v2 > 86400 * 7)
			return cli_errorf("agent run: --fim-scan-secs must be 1 to 604800"), CLI_USAGE;
		o.fim_scan_secs = (unsigned)v2;
	}
	if (o.journal && o.journal_dir != NULL) {
		cli_errorf("agent run: --journal or --journal-dir, not both");
		return CLI_USAGE;
	}
	if (spool_s != NULL) {
		if (cli_parse_u64("--spool-max-mb", spool_s, &v) != 0 || v < 1 || v > 1048576)
			return cli_errorf("agent run: --spool-max-mb must be 1 to 1048576"), CLI_USAGE;
		o.spool_max = v << 20;
	}
	if (batch_s != NULL) {
		if (cli_parse_u64("--batch-max", batch_s, &v) != 0 || v < 1 || v > HOSTEV_BATCH_EVENTS_MAX)
			return cli_errorf("agent run: --batch-max must be 1 to %d", HOSTEV_BATCH_EVENTS_MAX), CLI_USAGE;
		o.batch_max = (unsigned)v;
	}
	if (flush_s != NULL) {
		if (cli_parse_u64("--flush-ms", flush_s, &v) != 0 || v < 1 || v > 600000)
			return cli_errorf("agent run: --flush-ms must be 1 to 600000"), CLI_USAGE;
		o.flush_ms = (unsigned)v;
	}
	if (hb_s != NULL) {
		if (cli_parse_u64("--heartbeat-secs", hb_s, &v) != 0 || v < 1 || v > 86400)
			return cli_errorf("agent run: --heartbeat-secs must be 1 to 86400"), CLI_USAGE;
		o.heartbeat_secs = (unsigned)v;
	}
	if (critical && agent_fim_critical_paths(&crit, &ncrit, &err) != 0)
		return cli_fail("agent run", &err);
	if ((roots = calloc(nfim + ncrit + 1, sizeof *roots)) == NULL) {
		bw_buf_free(&crit);
		return CLI_FAIL;
	}
	for (k = 0; k < nfim; k++)
		roots[k] = fim[k];
	for (k = 0; k < ncrit; k++)
		roots[nfim + k] = k == 0 ? (const char *)crit.data : roots[nfim + k - 1] + strlen(roots[nfim + k - 1]) + 1;
	o.fim = roots;
	o.nfim = nfim + ncrit;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		cli_errorf("agent run: signalfd failed");
		free(roots);
		bw_buf_free(&crit);
		return CLI_FAIL;
	}
	o.stop_fd = sfd;
	r = agent_run(&o, &err);
	close(sfd);
	free(roots);
	bw_buf_free(&crit);
	return r == 0 ? CLI_OK : cli_fail("agent run", &err);
}

static int
agent_audit_rules_cmd(struct cli_args *a)
{
	const char *dirs[HOSTEV_DESIGN_DIRS_MAX + 1];
	char *pos[1];
	size_t ndirs = 0, npos;
	struct bw_buf out = { 0 };
	struct bw_err err = { 0 };
	int rc;

	if (cli_opt_all(a, "--design-dir", dirs, HOSTEV_DESIGN_DIRS_MAX + 1, &ndirs) ||
	    cli_positional(a, pos, 0, &npos)) {
		fputs(agent_usage, stderr);
		return CLI_USAGE;
	}
	if (hostev_audit_rules(dirs, ndirs, &out, &err) != 0)
		return err.code == BW_ENOMEM ? cli_fail("agent audit-rules", &err)
					     : (cli_errorf("agent audit-rules: %s", err.msg), CLI_USAGE);
	rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	bw_buf_free(&out);
	return rc;
}

int
cmd_agent(int argc, char **argv)
{
	struct cli_args a;

	if (argc >= 1 && strcmp(argv[0], "init") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_init_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "enrol") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_enrol_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "guard") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_guard_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "session-begin") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_session_begin_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "audit-rules") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_audit_rules_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "run") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_run_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "update") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return agent_update_cmd(&a);
	}
	fputs(agent_usage, argc >= 1 && strcmp(argv[0], "--help") == 0 ? stdout : stderr);
	return argc >= 1 && strcmp(argv[0], "--help") == 0 ? CLI_OK : CLI_USAGE;
}
