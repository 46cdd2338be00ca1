/*
 * server: the HTTPS JSON API on libmicrohttpd + GnuTLS (TLS 1.3 only): a
 * transport that turns requests into operations (ops) and replies.
 */
#ifndef BW_SERVER_H
#define BW_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "detect/detect.h"
#include "instance/instance.h"

/* ---- the HTTPS server ---- */

struct ops_hostev;
struct witness_policy;
struct triage_zygote;

struct server_opts {
	const char *listen;		/* "127.0.0.1:8443", "[::1]:8443" */
	int threads;			/* thread pool size */
	int64_t backoff_ms;		/* login back-off base per account and per address */
	int64_t lock_after;
	int64_t lock_secs;
	unsigned timeout_secs;		/* idle connection timeout */
	int64_t max_window;		/* longest maintenance window (seconds) */
	const char *session_wrapper;	/* force-command wrapper path on hosts, NULL: none */
	int64_t snapshot_lifetime;	/* seconds the online TUF metadata is valid; re-signed at half-life */
	int64_t timestamp_lifetime;
	int64_t log_key_rotate_secs;	/* rotate the audit log's key once it has signed this long (0: never) */
	/* alert notifications: a webhook (NULL: none) for alerts of notify_level or above */
	const char *webhook_url;
	const uint8_t *webhook_secret;
	size_t webhook_secret_len;
	const char *webhook_cacert;
	/* and/or e-mail through an SMTP relay (NULL: none) */
	const char *smtp_url;
	const char *smtp_from;
	const char *const *smtp_to;
	size_t smtp_nto;
	const char *smtp_cacert;
	const char *notify_level;	/* for both channels; NULL: high */
	/* POST /api/v1/rules/reload: loads the rules again (NULL: no detection) */
	int (*rules_reload)(void *ctx, size_t *loaded, struct bw_err *err);
	void *rules_reload_ctx;
	const char *rules_dir;
	struct detector *detector;	/* GET /api/v1/detection (NULL: none) */
	struct ops_hostev *hostev;	/* host events from agents (NULL: not collected) */
	struct ops_witness *witness;	/* this server as a witness (NULL: none) */
	/* the audit log's own witnesses (NULL: none asked; docs/WITNESS.md) */
	const struct witness_policy *witness_policy;	/* must name this server's log */
	const char *witness_policy_text;	/* its text (served to verifiers with the audit log) */
	int64_t witness_interval_ms;	/* 0: 10 s */
	int64_t witness_timeout_ms;	/* per request; 0: 5 s */
	const char *witness_cacert;	/* the witnesses' TLS CA (NULL: the system's) */
	/* a standalone witness: only the witness routes, sign-in and tokens, the log and alerts */
	bool witness_only;
	/*
	 * Triage of reported samples (docs/REPORTS.md): the zygote that forks the
	 * isolated workers, started before any thread (NULL: reports wait untriaged).
	 */
	struct triage_zygote *triage;
	int64_t sample_retention_secs;	/* reported samples are deleted after this (0: kept) */
	const char *const *org_domains;	/* the organisation's mail domains (never shared in exports) */
	size_t norg_domains;
	const char *yara_dir;		/* the organisation's YARA rules (shared in exports when marked share = true) */
};

struct server;
struct detector;

/* Starts serving in background threads. Caller stops with server_stop(). */
int server_start(struct instance *in, struct audit_log *al, const struct server_opts *o,
		 struct server **out, struct bw_err *err);
void server_stop(struct server *s);
/*
 * Puts the data directory's tls/cert.pem and tls/key.pem (again) in use for
 * new handshakes, without a restart; when they do not load, or the key is
 * not the certificate's, the ones in use stay (and err says why).
 */
int server_reload_tls(struct server *s, struct bw_err *err);

/* ---- live detection (detector.c) ---- */

struct detector;
struct detect_load_report;
struct detect_calendar;

/*
 * bulwark's own rules plus those below rules_dir (NULL: none); rep lists
 * what loaded and what was refused (the caller clears it). Caller frees
 * with detector_free().
 */
int detector_new(const char *rules_dir, const struct detect_calendar *cal, struct detector **out,
		 struct detect_load_report *rep, struct bw_err *err);
/* The audit log's observer (audit_log_observe with the detector as ctx): queues each event. */
void detector_observe(void *ctx, uint64_t index, const void *entry, size_t len);
/*
 * Starts matching queued and new events; alerts are operations of the
 * server itself over in and al. With hosts, it also follows the host-event
 * log from its position kept there ("detected_upto"), whenever no audit
 * event waits: host events are matched late under load, never dropped,
 * and across a restart from where it stopped.
 */
int detector_start(struct detector *d, struct instance *in, struct audit_log *al, struct ops_hostev *hosts,
		   struct bw_err *err);
/*
 * Loads bulwark's rules and rules_dir again and, only when every file
 * loaded, makes them the rules in use (between two events); otherwise
 * BW_EINVAL naming the first refusal, and the rules in use stay. *loaded
 * receives the new set's size.
 */
int detector_reload(struct detector *d, const char *rules_dir, size_t *loaded, struct bw_err *err);
size_t detector_rule_count(const struct detector *d);

/* What the live detection has done since the server started (the queue: now). */
struct detector_status {
	size_t rules;
	uint64_t events, matched, alerts, dropped;
	size_t queued, queued_bytes;
	struct detect_corr_stats corr;
	uint64_t host_next, host_logged;	/* host events: the next to match, and how many are logged */
};
/* A consistent copy, from any thread. */
void detector_status(struct detector *d, struct detector_status *out);
/* Matches what is queued, then stops the thread (before the audit log closes). */
void detector_stop(struct detector *d);
/* Stops (if running) and frees. */
void detector_free(struct detector *d);

#endif /* BW_SERVER_H */
