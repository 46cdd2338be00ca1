/*
 * agent: the host side of patch management. `bulwark agent update` runs the
 * TUF client workflow (specification §5) against the server's repository,
 * requires each target's publication to be in the transparency log (a
 * tlog-proof under a checkpoint signed by the pinned log key, consistent
 * with the last checkpoint this host saw), then installs and reports.
 *
 * The state directory holds config.json, the host's credential, the
 * trusted metadata (root.json, timestamp.json, snapshot.json, targets.json),
 * the last checkpoint seen, installed.json and reports not yet delivered.
 */
#ifndef BW_AGENT_H
#define BW_AGENT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/core.h"

/* ---- HTTPS fetching with hard size limits (fetch.c) ---- */

struct agent_http {
	const char *base;	/* https://host:port (http:// refused) */
	const char *cacert;	/* PEM file, NULL: system store */
	const char *ca_pem;	/* or the PEM itself (len ca_pem_len), read before the agent dropped privileges */
	size_t ca_pem_len;
	const char *token;	/* bearer token for reports, may be NULL */
};

/*
 * GETs base + path into *out (caller frees with bw_buf_free), refusing more
 * than max bytes (BW_ERANGE, "endless data"). 404 gives BW_ENOTFOUND; other
 * non-200 statuses BW_EIO naming it.
 */
int agent_http_get(const struct agent_http *h, const char *path, uint64_t max, struct bw_buf *out,
		   struct bw_err *err);
/*
 * GETs base + path into fd while hashing; more than max bytes is refused
 * (BW_ERANGE) as soon as it arrives. *len and sha256 describe what was written.
 */
int agent_http_get_file(const struct agent_http *h, const char *path, uint64_t max, int fd, uint8_t sha256[32],
			uint64_t *len, struct bw_err *err);
/* POSTs body (JSON) to base + path; *status receives the HTTP status, *reply (optional; bw_buf_free) the body. */
int agent_http_post_json(const struct agent_http *h, const char *path, const json_t *body, long *status,
			 struct bw_buf *reply, struct bw_err *err);
/* As agent_http_post_json, with the JSON already as text (len bytes). */
int agent_http_post_text(const struct agent_http *h, const char *path, const char *text, size_t len, long *status,
			 struct bw_buf *reply, struct bw_err *err);
/* As agent_http_post_text; gzip: text is gzip data of the JSON (Content-Encoding: gzip). */
int agent_http_post(const struct agent_http *h, const char *path, const char *text, size_t len, bool gzip, long *status,
		    struct bw_buf *reply, struct bw_err *err);

/* ---- state directory (state.c) ---- */

/* The witness policy an agent requires of patch proofs, in its state directory. */
#define AGENT_WITNESS_POLICY "witness.policy"

struct agent_init_opts {
	const char *state;		/* state directory (created; must not hold an agent yet) */
	const char *server;		/* repository and log: https://host:port */
	const char *report_server;	/* where reports go; NULL: server */
	const char *cacert;		/* NULL: system store */
	const char *root_path;		/* the trusted root metadata, obtained out of band */
	const char *log_vkey;		/* the log's verifier key (note format) */
	const char *host, *group;	/* this host's name and (optional) group */
	const char *install;		/* install command run by /bin/sh -c, NULL: none */
	const char *install_dir;	/* where verified targets are placed; NULL: <state>/installed */
	/*
	 * A trust policy (c2sp.org/tlog-policy) naming the log key: a patch's
	 * proof must then carry its quorum of witness cosignatures (copied to
	 * <state>/witness.policy); NULL: the log's signature suffices.
	 */
	const char *witness_policy;
	bool witness_fail_open;		/* install without the quorum, with a warning (default: refuse) */
};

/* Creates the state directory after checking the root is self-signed and the log key parses. */
int agent_init(const struct agent_init_opts *o, struct bw_err *err);
/*
 * Exchanges a one-time enrolment code (from `bulwark host add` or `host
 * enrol-code`) for this host's credential at the report server, and keeps
 * it in <state>/credential (0600): reports are sent with it, and the server
 * accepts them for this host only. Refused when the code belongs to another
 * host than the one in config.json.
 */
int agent_enrol(const char *state, const char *code, struct bw_err *err);

/*
 * Who this agent is: config.json (cfg, owned) and the host's credential
 * (token in secure memory, NULL before enrolment); http is set up for the
 * report server with the credential. Clear with agent_identity_clear().
 */
struct agent_identity {
	json_t *cfg;
	char *token;
	const char *host;		/* borrowed from cfg */
	struct agent_http http;		/* report server, pinned CA, credential */
};
int agent_identity_load(const char *state, struct agent_identity *id, struct bw_err *err);
void agent_identity_clear(struct agent_identity *id);

/* ---- host events off the host (run.c) ---- */

struct agent_run_opts {
	const char *state;		/* the agent's state directory (agent init, agent enrol) */
	const char *audit_log;		/* auditd's log to follow (NULL: none) */
	bool audit_stdin;		/* or auditd's records on stdin (as auditd's dispatcher plugin; stops at EOF) */
	bool journal;			/* this machine's systemd journal */
	const char *journal_dir;	/* or the journal files in a directory (NULL: none) */
	const char *syslog;		/* a syslog file to follow, e.g. /var/log/auth.log (NULL: none) */
	const char *const *fim;		/* paths whose integrity is watched (absolute) */
	size_t nfim;
	unsigned fim_scan_secs;		/* a full scan this often (and soon after inotify sees a change) */
	uint64_t spool_max;		/* bytes of batches waiting for the server before reading stops */
	unsigned batch_max;		/* events per batch */
	unsigned flush_ms;		/* the longest an event waits for its batch to fill */
	unsigned heartbeat_secs;
	const char *user;		/* started as root: drop to this user, a root helper opening the sources (NULL: no) */
	int stop_fd;			/* readable: stop (-1: never) */
	FILE *log;			/* progress and problems (NULL: none) */
};

/*
 * The critical paths for --fim-critical, NUL-separated into out (*n of
 * them): sshd, sudo, PAM, loader, cron, systemd and identity files, and
 * each login user's (shell not nologin/false) ~/.ssh/authorized_keys[2].
 */
int agent_fim_critical_paths(struct bw_buf *out, size_t *n, struct bw_err *err);

/*
 * Collects host events and delivers them (see run.c) until stop_fd becomes
 * readable. State in <state>/hostev (0700): the epoch, the spool,
 * positions.json.
 */
int agent_run(const struct agent_run_opts *o, struct bw_err *err);

/* ---- update (update.c) ---- */

struct agent_update_result {
	unsigned installed, failed, refused, current;	/* targets per outcome */
};

/*
 * One update run at time now: metadata refresh, then every target meant for
 * this host that is not installed yet. Progress and refusals (with reasons)
 * go to log. Returns 0 when nothing was refused or failed. user (not NULL:
 * started as root) runs the network part in a child that is that user.
 */
int agent_update(const char *state, const char *user, int64_t now, FILE *log, struct agent_update_result *res,
		 struct bw_err *err);

/* ---- the session guard (guard.c) ---- */

struct agent_guard_opts {
	const char *socket_path;	/* where session wrappers register (0666; default /run/bulwark-agent/guard.sock) */
	const char *state_file;		/* the registrations, so a restarted guard keeps guarding them */
	const char *agent_state;	/* the agent's state directory: its actions go to STATE/hostev/actions.log (NULL: not recorded) */
};

/*
 * Runs the session guard (as root) until stop_fd becomes readable (-1:
 * forever): takes each session's registration from its wrapper (the
 * session is identified by the registering process's audit session id,
 * which every descendant inherits and only CAP_AUDIT_CONTROL can change;
 * one registration per session, the first), and at the registered deadline
 * sends SIGTERM to every process of the session, then stops and kills what
 * is left after a few seconds. Progress goes to log.
 */
int agent_guard_run(const struct agent_guard_opts *o, int stop_fd, FILE *log, struct bw_err *err);
/* Parses a registration, exactly "begin DEADLINE\n" (decimal seconds): 0 or BW_EINVAL. */
int agent_guard_parse_request(const char *buf, size_t len, uint64_t *deadline);
/*
 * Registers the caller's session with the guard at socket_path until
 * deadline; the guard's answer goes to reply. BW_EIO when no guard runs,
 * BW_EDENIED when it refuses (reply says why).
 */
int agent_session_begin(const char *socket_path, int64_t deadline, char *reply, size_t cap, struct bw_err *err);

#endif /* BW_AGENT_H */
