/*
 * hostev: events from hosts. The one owner of reading auditd's records
 * (with auditd's own parser, libauparse) and of grouping them into one
 * event per serial; the host agent and the rule engine both read auditd
 * through this contract.
 *
 * A record's values are given as auditd's ENRICHED log format and
 * `ausearch -i` give them, with nothing taken from the machine that reads
 * them (a record may come from another host):
 *  - hex-encoded and quoted strings (exe, comm, name, cwd, key, proctitle,
 *    EXECVE's a0, a1...) decoded; an argument split into aN[0], aN[1]...
 *    joined into aN (aN_len dropped);
 *  - other values as written (numbers stay numbers: uid=1000);
 *  - upper-case interpretations: those the record carries itself (auditd's
 *    ENRICHED format appends UID="alice" ... after a 0x1d byte), and,
 *    when it does not, SYSCALL and ARCH (the kernel's tables, the same on
 *    every host) and, for a SOCKADDR record, SADDR; user and group names
 *    only ever from the record (never looked up locally);
 *  - a SOCKADDR record also gets saddr_fam, laddr and lport decoded.
 */
#ifndef BW_HOSTEV_H
#define BW_HOSTEV_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

#define HOSTEV_AUDIT_LINE_MAX 16384	/* a longer line is refused (auditd's own limit is 8970 bytes) */
#define HOSTEV_AUDIT_OPEN_MAX 4096	/* records waiting for their event's end before every open event is ended */

struct hostev_field {
	char *name;
	char *value;		/* decoded (see above), NUL-terminated */
};

struct hostev_record {
	char *type;		/* "SYSCALL", "EXECVE", "PATH"... */
	char *text;		/* the record's line as read (without the newline) */
	struct hostev_field *fields;	/* in the record's order, without node= and type= */
	size_t nfields;
};

/* All records of one serial: one auditd event. */
struct hostev_audit_event {
	char *node;		/* the node= name, or "" when the records carry none */
	int64_t time_ms;	/* msg=audit(SECONDS.MILLIS:...) */
	uint64_t serial;
	struct hostev_record *records;
	size_t nrecords;
};

/* The value of the first field named name in rec, or NULL. */
const char *hostev_record_get(const struct hostev_record *rec, const char *name);
/* The first record of type in ev, or NULL. */
const struct hostev_record *hostev_audit_find(const struct hostev_audit_event *ev, const char *type);

/*
 * Reads auditd's log text (audit.log lines, or what auditd hands a
 * dispatcher plugin) in pieces of any size, and calls on_event for each
 * complete event: at its EOE record, when a record of another event ends
 * it (auditd writes single-record events without EOE), when events stay
 * open too long (HOSTEV_AUDIT_OPEN_MAX records waiting), and at finish.
 * A line that is not an auditd record (no "type=T msg=audit(S.M:N): "
 * header, over HOSTEV_AUDIT_LINE_MAX bytes, a NUL byte) is refused: on_bad
 * gets its line number and what is wrong, and it reaches no event. The
 * event passed to on_event is valid only during the call.
 */
typedef void (*hostev_audit_event_fn)(void *ctx, const struct hostev_audit_event *ev);
typedef void (*hostev_audit_bad_fn)(void *ctx, uint64_t line, const char *reason);

struct hostev_audit_reader;

/* Caller frees with hostev_audit_reader_free(). on_bad may be NULL. */
int hostev_audit_reader_new(hostev_audit_event_fn on_event, hostev_audit_bad_fn on_bad, void *ctx,
			    struct hostev_audit_reader **out, struct bw_err *err);
/* Feeds len bytes. Errors only for running out of memory. */
int hostev_audit_reader_feed(struct hostev_audit_reader *r, const char *data, size_t len, struct bw_err *err);
/* Ends the input: a last line without a newline is read, every open event is delivered. */
int hostev_audit_reader_finish(struct hostev_audit_reader *r, struct bw_err *err);
/* Lines refused so far. */
uint64_t hostev_audit_reader_refused(const struct hostev_audit_reader *r);
void hostev_audit_reader_free(struct hostev_audit_reader *r);
/*
 * The input went quiet (no new bytes for a while): ends the events still
 * open (auditd writes an event's records together, and records without
 * EOE, such as USER_LOGIN, end only when another event begins), unless a
 * line is half read. True when it ended any.
 */
bool hostev_audit_reader_idle(struct hostev_audit_reader *r);
/* Where the reader stands in its input: every byte before it belongs to an
 * event already delivered (or to a refused line); resuming a read from this
 * offset (counted from the first byte fed) loses no event, and may deliver
 * again events that were open at that point. */
uint64_t hostev_audit_reader_resume_offset(const struct hostev_audit_reader *r);

/* ---- the recommended audit rules (bulwark agent audit-rules) ---- */

#define HOSTEV_DESIGN_DIRS_MAX 64

/*
 * The audit rules the shipped detection rules expect, as an augenrules file
 * (/etc/audit/rules.d/), appended to out: exec of every program; writes and
 * attribute changes of identity, sudo, sshd, PAM, loader, cron and systemd
 * configuration and of each home's authorized_keys (homes: the users'
 * entries in /etc/passwd with a login shell); kernel module and clock
 * changes; auditd's own configuration; and read watches (-k bulwark-design)
 * on each of the design-data directories. 32-bit syscall rules are added
 * on x86_64. Design directories must be absolute paths without spaces,
 * control characters or "..": anything else is refused with the path named.
 */
int hostev_audit_rules(const char *const *design_dirs, size_t ndirs, struct bw_buf *out, struct bw_err *err);

/* ---- the normalised host event (batch.c) ---- */

/*
 * One event from a host, whatever its source: when (the host's clock), who
 * (subject), what (action), on what (object), how it ended (result), and
 * the record as read (raw, always kept). The host is never taken from the
 * event: the server sets it from the credential that delivered it.
 */
#define HOSTEV_RAW_MAX 49152		/* raw bytes per event (an auditd event longer than this is cut at a record) */
#define HOSTEV_TEXT_MAX 1024		/* subject, action, object, result */
#define HOSTEV_BATCH_EVENTS_MAX 4096	/* events per batch */
#define HOSTEV_BATCH_BODY_MAX ((size_t)64 << 20)	/* a batch's JSON text */
#define HOSTEV_EPOCH_HEX 32		/* an agent epoch: 16 random bytes in lower-case hex */
#define HOSTEV_SOURCES_MAX 16		/* source states in a heartbeat */

/* The sources: "auditd", "journal", "syslog", "fim", "agent". */
bool hostev_source_valid(const char *s);

struct hostev_event {
	char source[16];
	int64_t time_ms;
	char *subject, *action, *object, *result;	/* "" when unknown, never NULL after parsing */
	char *raw;
	size_t raw_len;
	uint32_t truncated;		/* records cut from raw to fit HOSTEV_RAW_MAX */
};
void hostev_event_clear(struct hostev_event *e);

/*
 * What an agent sends: events number 1.. of its stream seq (strictly one
 * more than the last acknowledged batch of that epoch, or the same again
 * when retrying).
 */
struct hostev_batch {
	char host[72];			/* optional: "" or the sending host's name (the server checks it) */
	char epoch[HOSTEV_EPOCH_HEX + 1];
	uint64_t seq;
	struct hostev_event *events;
	size_t n;
};

/*
 * Parses a batch: {"host"?: NAME, "epoch": HEX32, "seq": N >= 1, "events": [ {"source",
 * "time", "subject"?, "action"?, "object"?, "result"?, "raw", "truncated"?},
 * ... ]} with 1..HOSTEV_BATCH_EVENTS_MAX events; unknown keys, wrong types
 * and out-of-bounds values are refused with the event's number and the key
 * named. Clear *out with hostev_batch_clear (also after a failure).
 */
int hostev_batch_parse(const void *json, size_t len, struct hostev_batch *out, struct bw_err *err);
/* The batch as JSON text (the agent's side). Caller frees *out. */
int hostev_batch_format(const struct hostev_batch *b, char **out, size_t *len, struct bw_err *err);
void hostev_batch_clear(struct hostev_batch *b);

/* A heartbeat: the agent's clock and counters since its epoch began, and each source's state. */
struct hostev_source_state {
	char name[32];			/* e.g. "auditd:/var/log/audit/audit.log" cut to fit */
	char state[16];			/* "ok", "waiting", "error" */
	char error[256];		/* the last error, "" when none */
};
struct hostev_heartbeat {
	char epoch[HOSTEV_EPOCH_HEX + 1];
	int64_t time_ms;
	uint64_t read, sent, spooled, lost, source_errors;
	uint64_t bytes_sent, bytes_raw;	/* batches since the start: bytes on the wire (compressed), and before */
	uint64_t spool_bytes, spool_max;
	struct hostev_source_state sources[HOSTEV_SOURCES_MAX];
	size_t nsources;
};
/* Strict parse of {"epoch", "time", "counters": {...}, "spool": {"bytes", "max"}, "sources": [...]}. */
int hostev_heartbeat_parse(const void *json, size_t len, struct hostev_heartbeat *out, struct bw_err *err);
int hostev_heartbeat_format(const struct hostev_heartbeat *hb, char **out, size_t *len, struct bw_err *err);

/*
 * One host event as an entry of the host-event log: the event with the host
 * that delivered it, its stream position (epoch, seq, number in the batch)
 * and the server's time of receipt, as one JSON object with keys in a fixed
 * order (at most 65535 bytes: a tlog entry).
 */
struct hostev_entry {
	char host[72];
	char epoch[HOSTEV_EPOCH_HEX + 1];
	uint64_t seq;
	uint32_t n;			/* 0-based number of the event in its batch */
	int64_t received_ms;
	struct hostev_event ev;
};
/* Caller frees *out. BW_ERANGE when the entry would pass 65535 bytes. */
int hostev_entry_format(const struct hostev_entry *e, char **out, size_t *len, struct bw_err *err);
/* Strict parse of an entry; clear with hostev_entry_clear (also after a failure). */
int hostev_entry_parse(const void *data, size_t len, struct hostev_entry *out, struct bw_err *err);
void hostev_entry_clear(struct hostev_entry *e);

/*
 * An auditd event in the normalised model: subject the login user (auid,
 * its AUID name when the record carries one; "unset" for 4294967295),
 * action the syscall name or the first record's type in lower case, object
 * the first named path (not a parent directory), else the socket address,
 * else the executable; result "success"/"failure" from SYSCALL's success=
 * or a user record's res=; raw the records' lines joined by '\n' (records
 * past HOSTEV_RAW_MAX are cut and counted in truncated). Clear *out.
 */
int hostev_audit_normalise(const struct hostev_audit_event *ev, struct hostev_event *out, struct bw_err *err);

/* ---- the agent's own actions (batch.c) ---- */

/*
 * What the host's agent did (session guard, patch updates), as one JSON line
 * {"time","action","subject","object","result","detail"} in
 * STATE/hostev/actions.log, shipped by `agent run` as source "agent".
 */
#define HOSTEV_ACTION_MAX 4096
struct hostev_action {
	int64_t time_ms;
	const char *action;	/* 1..64 of a-z . _ ("session.begin", "patch.install") */
	const char *subject;	/* who (NULL: "") */
	const char *object;	/* on what (NULL: "") */
	const char *result;	/* "success" or "failure" */
	const char *detail;	/* free text (NULL: "") */
};
/* The line without its newline (caller frees *out); BW_ERANGE past HOSTEV_ACTION_MAX bytes. */
int hostev_action_format(const struct hostev_action *a, char **out, size_t *len, struct bw_err *err);
/* A line (len bytes) as an event of source "agent", raw the line; strict, errors name the key. Clear *out. */
int hostev_action_parse(const char *line, size_t len, struct hostev_event *out, struct bw_err *err);

/* ---- log messages from the journal or a syslog file (syslog.c) ---- */

/* Is ident (SYSLOG_IDENTIFIER) one of the programs whose messages the agent ships (sshd, sudo, su, PAM...)? */
bool hostev_syslog_watched(const char *ident);
/* The i-th of those programs (NULL past the last): for a journal's matches. */
const char *hostev_syslog_watched_name(size_t i);
/* Is ident (len bytes) one of the programs that write the auth log (sshd, sudo, su, login, PAM, account tools...)? */
bool hostev_syslog_auth(const char *ident, size_t len);
/*
 * A message of ident in the normalised model (source "journal" or
 * "syslog"): raw "IDENT[PID]: MESSAGE"; for sshd's logins (Accepted,
 * Failed, Invalid user) subject the user, action "login", object the
 * client address, result success/failure; for sudo subject the user,
 * action "sudo", object the command; for su the target user; other
 * messages saying "authentication failure" result failure with PAM's
 * user=; anything else action the identifier. Clear *out.
 */
int hostev_syslog_normalise(const char *ident, uint64_t pid, const char *msg, int64_t time_ms, const char *source,
			    struct hostev_event *out, struct bw_err *err);
/* What sshd says of a login with a certificate (its "Accepted publickey" message). */
struct hostev_cert_login {
	uint64_t serial;
	const char *key_id;	/* the certificate's key id (borrowed from the message) */
	size_t key_id_len;
	const char *ca_fp;	/* the signing CA's fingerprint, "SHA256:..." (borrowed) */
	size_t ca_fp_len;
};
/*
 * sshd's "Accepted publickey for USER from ADDR port P ssh2: TYPE-CERT FP
 * ID KEYID (serial N) CA TYPE FP" (msg, len bytes, not NUL-terminated)
 * into *out; false for any other message (a plain key, another method).
 */
bool hostev_sshd_cert_login(const char *msg, size_t len, struct hostev_cert_login *out);
/* The same, of a journal or syslog event (its raw record "IDENT[PID]: MESSAGE"). */
bool hostev_event_cert_login(const struct hostev_event *ev, struct hostev_cert_login *out);
/*
 * Splits a syslog file's line ("Nov 28 08:00:01 HOST IDENT[PID]: MSG" with
 * the year of now_ms, or rsyslog's "2026-11-28T08:00:01.123456+00:00 HOST
 * IDENT[PID]: MSG"): -1 when it has neither shape. *msg points into line.
 */
int hostev_syslog_line(const char *line, int64_t now_ms, int64_t *time_ms, char ident[64], uint64_t *pid,
		       const char **msg);

#endif
