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
	if (hostev_sshd_cert_login(colon + 2, ev->raw_len - (size_t)(colon + 2 - raw), &cl)) {
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
