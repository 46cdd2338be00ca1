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
#include "events/events.h"
#include "note/note.h"

struct audit_log;

/* Opens the log in dir for writing with signer (ownership transferred). Caller closes. */
int audit_log_open(const char *dir, struct note_signer *signer, struct audit_log **out,
		   struct bw_err *err);
/* Stops the commit thread after committing what is pending, then closes. */
void audit_log_close(struct audit_log *al);

/*
 * Serialises ev (events module: the one owner of event shapes), appends it
 * and waits until it is durable; *index (optional) receives its log index.
 * BW_EINVAL when ev carries a detail its vocabulary entry does not list.
 */
int audit_record(struct audit_log *al, const struct event *ev, uint64_t *index, struct bw_err *err);

/* Appends raw entry bytes and waits until durable. */
int audit_append(struct audit_log *al, const void *entry, size_t len, uint64_t *index,
		 struct bw_err *err);

/* A copy of the latest durable signed checkpoint (caller frees). */
char *audit_log_checkpoint(struct audit_log *al, size_t *len);

/* Files past the checkpoint that opening the log set aside (see tlog_store_discarded). */
size_t audit_log_recovered(struct audit_log *al, const char **where);

/* Size of the last durable checkpoint. */
uint64_t audit_log_size(struct audit_log *al);

#endif /* BW_AUDIT_H */
