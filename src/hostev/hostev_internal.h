/* hostev's own helpers, shared between its files only. */
#ifndef BW_HOSTEV_INTERNAL_H
#define BW_HOSTEV_INTERNAL_H

#include <auparse.h>

#include "hostev/hostev.h"

/* Fills ev (caller clears with hostev_audit_event_clear) from the event libauparse holds. BW_ENOMEM or 0. */
int hostev_audit_event_build(auparse_state_t *au, struct hostev_audit_event *ev);
void hostev_audit_event_clear(struct hostev_audit_event *ev);

#endif
