/* hostev/normalise.c: an auditd event in the normalised host-event model (who, what, on what, how it ended). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostev/hostev.h"

static char *
dup_cut(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char *d;

	if (n > HOSTEV_TEXT_MAX)
		n = HOSTEV_TEXT_MAX;
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* The first value of name in any record of ev (records in order), or NULL. */
static const char *
any_get(const struct hostev_audit_event *ev, const char *name)
{
	size_t i;

	for (i = 0; i < ev->nrecords; i++) {
		const char *v = hostev_record_get(&ev->records[i], name);
		if (v != NULL)
			return v;
	}
	return NULL;
}

static const char *
subject_of(const struct hostev_audit_event *ev)
{
	const char *name = any_get(ev, "AUID"), *auid = any_get(ev, "auid");

	if (name != NULL && name[0] != '\0')
		return name;
	if (auid != NULL && (strcmp(auid, "4294967295") == 0 || strcmp(auid, "-1") == 0))
		return "unset";
	return auid;
}

static const char *
object_of(const struct hostev_audit_event *ev)
{
	size_t i;
	const char *v;

	for (i = 0; i < ev->nrecords; i++) {
		const struct hostev_record *rec = &ev->records[i];
		const char *nt;
		if (strcmp(rec->type, "PATH") != 0 || (v = hostev_record_get(rec, "name")) == NULL)
			continue;
		nt = hostev_record_get(rec, "nametype");
		if (nt == NULL || strcmp(nt, "PARENT") != 0)
			return v;
	}
	if ((v = any_get(ev, "SADDR")) != NULL)
		return v;
	return any_get(ev, "exe");
}

static const char *
result_of(const struct hostev_audit_event *ev)
{
	const struct hostev_record *sc = hostev_audit_find(ev, "SYSCALL");
	const char *v;

	if (sc != NULL && (v = hostev_record_get(sc, "success")) != NULL)
		return strcmp(v, "yes") == 0 ? "success" : "failure";
	if ((v = any_get(ev, "res")) != NULL) {
		if (strcmp(v, "success") == 0 || strcmp(v, "1") == 0)
			return "success";
		if (strcmp(v, "failed") == 0 || strcmp(v, "0") == 0)
			return "failure";
		return v;
	}
	return "";
}

int
hostev_audit_normalise(const struct hostev_audit_event *ev, struct hostev_event *out, struct bw_err *err)
{
	const struct hostev_record *sc = hostev_audit_find(ev, "SYSCALL");
	char action[72] = "";
	size_t i, len = 0;

	memset(out, 0, sizeof *out);
	snprintf(out->source, sizeof out->source, "auditd");
	out->time_ms = ev->time_ms;
	if (sc != NULL && hostev_record_get(sc, "SYSCALL") != NULL) {
		snprintf(action, sizeof action, "%s", hostev_record_get(sc, "SYSCALL"));
	} else if (ev->nrecords > 0) {
		snprintf(action, sizeof action, "%s", ev->records[0].type);
		for (i = 0; action[i]; i++)
			action[i] = (char)tolower((unsigned char)action[i]);
	}
	for (i = 0; i < ev->nrecords; i++) {
		size_t n = strlen(ev->records[i].text) + (len > 0);
		if (len + n > HOSTEV_RAW_MAX) {
			out->truncated = (uint32_t)(ev->nrecords - i);
			break;
		}
		len += n;
	}
	out->subject = dup_cut(subject_of(ev));
	out->action = dup_cut(action);
	out->object = dup_cut(object_of(ev));
	out->result = dup_cut(result_of(ev));
	out->raw = malloc(len + 1);
	if (out->subject == NULL || out->action == NULL || out->object == NULL || out->result == NULL ||
	    out->raw == NULL) {
		hostev_event_clear(out);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	out->raw_len = 0;
	for (i = 0; i + out->truncated < ev->nrecords; i++) {
		size_t n = strlen(ev->records[i].text);
		if (i > 0)
			out->raw[out->raw_len++] = '\n';
		memcpy(out->raw + out->raw_len, ev->records[i].text, n);
		out->raw_len += n;
	}
	out->raw[out->raw_len] = '\0';
	return 0;
}
