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

#endif
