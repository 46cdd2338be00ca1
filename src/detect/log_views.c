/* detect/log_views.c: a log message from the journal or a syslog file as the documents of its log sources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

static const char *const log_fields[] = { "program", "pid", "message", "Computer", "User", "action", "object",
					  "result", "cert_serial", "cert_id", "cert_ca", NULL };

bool
detect_log_source_has_field(const char *name)
{
	const char *const *f;

	for (f = log_fields; *f != NULL; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

void
detect_log_views(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx)
{
	const char *raw = ev->raw, *colon = memchr(raw, ':', ev->raw_len), *br;
	size_t plen, k = 0;
	struct detect_field f[11];
	struct hostev_cert_login cl;
	char serial[24];
	struct detect_event doc;

	if (colon == NULL || (size_t)(colon - raw) + 2 > ev->raw_len || colon[1] != ' ')
		return;	/* not "IDENT[PID]: MESSAGE" */
	br = memchr(raw, '[', (size_t)(colon - raw));
	plen = (size_t)((br != NULL ? br : colon) - raw);
	f[k++] = (struct detect_field){ "program", raw, plen };
	if (br != NULL && colon > br + 1 && colon[-1] == ']')
		f[k++] = (struct detect_field){ "pid", br + 1, (size_t)(colon - 1 - (br + 1)) };
	f[k++] = (struct detect_field){ "message", colon + 2, ev->raw_len - (size_t)(colon + 2 - raw) };
	f[k++] = (struct detect_field){ "Computer", host, strlen(host) };
	if (ev->subject[0])
		f[k++] = (struct detect_field){ "User", ev->subject, strlen(ev->subject) };
	f[k++] = (struct detect_field){ "action", ev->action, strlen(ev->action) };
	if (ev->object[0])
		f[k++] = (struct detect_field){ "object", ev->object, strlen(ev->object) };
	if (ev->result[0])
		f[k++] = (struct detect_field){ "result", ev->result, strlen(ev->result) };
	if (hostev_event_cert_login(ev, &cl)) {
		snprintf(serial, sizeof serial, "%llu", (unsigned long long)cl.serial);
		f[k++] = (struct detect_field){ "cert_serial", serial, strlen(serial) };
		f[k++] = (struct detect_field){ "cert_id", cl.key_id, cl.key_id_len };
		f[k++] = (struct detect_field){ "cert_ca", cl.ca_fp, cl.ca_fp_len };
	}
	doc = (struct detect_event){ .fields = f, .nfields = k, .raw = raw, .raw_len = ev->raw_len };
	fn(ctx, DETECT_SRC_LINUX, &doc);
	fn(ctx, DETECT_SRC_SYSLOG, &doc);
	if (hostev_syslog_auth(raw, plen))
		fn(ctx, DETECT_SRC_AUTH, &doc);
	if (plen >= 4 && memcmp(raw, "sshd", 4) == 0 && (plen == 4 || memcmp(raw, "sshd-session", plen) == 0))
		fn(ctx, DETECT_SRC_SSHD, &doc);
	if (plen == 4 && (memcmp(raw, "cron", 4) == 0 || memcmp(raw, "CRON", 4) == 0))
		fn(ctx, DETECT_SRC_CRON, &doc);
}

/* ---- file integrity and the agent's own actions ---- */

static const char *const change_fields[] = { "TargetFilename", "action", "User", "Computer", "kind", "old_sha256",
					     "new_sha256", "old_mode", "new_mode", "old_uid", "new_uid", "old_gid",
					     "new_gid", "old_size", "new_size", NULL };
static const char *const agent_fields[] = { "action", "subject", "object", "result", "Computer", NULL };

bool
detect_event_source_has_field(enum detect_source src, const char *name)
{
	const char *const *f = src == DETECT_SRC_FILE_CHANGE ? change_fields : agent_fields;

	for (; *f != NULL; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

/* A change file integrity found: object the path, raw "path=P kind=K old_...=V new_...=V". */
static void
change_view(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx)
{
	struct detect_field f[16];
	struct detect_event doc;
	const char *p = ev->raw, *end = ev->raw + ev->raw_len;
	size_t k = 0;

	f[k++] = (struct detect_field){ "TargetFilename", ev->object, strlen(ev->object) };
	f[k++] = (struct detect_field){ "action", ev->action, strlen(ev->action) };
	if (strncmp(ev->subject, "uid=", 4) == 0)
		f[k++] = (struct detect_field){ "User", ev->subject + 4, strlen(ev->subject + 4) };
	f[k++] = (struct detect_field){ "Computer", host, strlen(host) };
	/* the key=value pairs after path= (values hold no spaces: names with them are written in hex) */
	while (p < end && k < sizeof f / sizeof f[0]) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *eq;
		const char *stop = sp != NULL ? sp : end;
		const char *const *name;
		if ((eq = memchr(p, '=', (size_t)(stop - p))) != NULL)
			for (name = change_fields + 4; *name != NULL; name++)
				if (strlen(*name) == (size_t)(eq - p) && memcmp(*name, p, (size_t)(eq - p)) == 0) {
					f[k++] = (struct detect_field){ *name, eq + 1, (size_t)(stop - eq - 1) };
					break;
				}
		p = stop + 1;
	}
	doc = (struct detect_event){ .fields = f, .nfields = k, .raw = ev->raw, .raw_len = ev->raw_len };
	fn(ctx, DETECT_SRC_FILE_CHANGE, &doc);
}

static void
agent_view(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx)
{
	struct detect_field f[5];
	struct detect_event doc;

	f[0] = (struct detect_field){ "action", ev->action, strlen(ev->action) };
	f[1] = (struct detect_field){ "subject", ev->subject, strlen(ev->subject) };
	f[2] = (struct detect_field){ "object", ev->object, strlen(ev->object) };
	f[3] = (struct detect_field){ "result", ev->result, strlen(ev->result) };
	f[4] = (struct detect_field){ "Computer", host, strlen(host) };
	doc = (struct detect_event){ .fields = f, .nfields = 5, .raw = ev->raw, .raw_len = ev->raw_len };
	fn(ctx, DETECT_SRC_AGENT, &doc);
}

void
detect_event_views(const struct hostev_event *ev, const char *host, detect_view_fn fn, void *ctx)
{
	if (strcmp(ev->source, "journal") == 0 || strcmp(ev->source, "syslog") == 0)
		detect_log_views(ev, host, fn, ctx);
	else if (strcmp(ev->source, "fim") == 0)
		change_view(ev, host, fn, ctx);
	else if (strcmp(ev->source, "agent") == 0)
		agent_view(ev, host, fn, ctx);
}
