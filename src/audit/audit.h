/*
 * audit: audit events (JSON objects) appended to the tamper-evident log by a
 * group-commit thread. audit_record() returns only once the event is covered
 * by a durable signed checkpoint, so a caller can answer a request after it.
 */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "note/note.h"

struct audit_log;

/* Opens the log in dir for writing with signer (ownership transferred). Caller closes. */
int audit_log_open(const char *dir, struct note_signer *signer, struct audit_log **out,
		   struct bw_err *err);
/* Stops the commit thread after committing what is pending, then closes. */
void audit_log_close(struct audit_log *al);

/* One audit event. Strings may be NULL (written as null). */
struct audit_event {
	const char *actor;	/* user name, "-" when unauthenticated */
	const char *action;	/* e.g. "auth.login", "user.add", "http.refused" */
	const char *target;
	const char *result;	/* "ok", "denied", "failed", "error" */
	const char *source;	/* client address */
	const char *request_id;
	const char *details_json;	/* a JSON object as text, or NULL */
};

/*
 * Serialises ev (with the time now_ms, RFC 3339 UTC) to compact JSON with
 * sorted keys. Caller frees *out.
 */
int audit_event_json(const struct audit_event *ev, int64_t now_ms, char **out, size_t *len,
		     struct bw_err *err);

/* Appends ev and waits until it is durable; *index receives its log index. */
int audit_record(struct audit_log *al, const struct audit_event *ev, uint64_t *index,
		 struct bw_err *err);

/* Appends raw entry bytes and waits until durable. */
int audit_append(struct audit_log *al, const void *entry, size_t len, uint64_t *index,
		 struct bw_err *err);

/* A copy of the latest durable signed checkpoint (caller frees). */
char *audit_log_checkpoint(struct audit_log *al, size_t *len);

/* Files past the checkpoint that opening the log set aside (see tlog_store_discarded). */
size_t audit_log_recovered(struct audit_log *al, const char **where);

/* Size of the last durable checkpoint. */
uint64_t audit_log_size(struct audit_log *al);

/* Milliseconds since the epoch. */
int64_t audit_now_ms(void);

#endif /* BW_AUDIT_H */
