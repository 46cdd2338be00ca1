/*
 * Reading auditd's log text: lines checked for the record header and
 * bounded here, then grouped into events by libauparse's feed interface.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <auparse.h>

#include "hostev/hostev_internal.h"

struct hostev_audit_reader {
	auparse_state_t *au;
	hostev_audit_event_fn on_event;
	hostev_audit_bad_fn on_bad;
	void *ctx;
	struct bw_buf line;
	bool overlong;		/* the current line passed HOSTEV_AUDIT_LINE_MAX: drop it up to its newline */
	uint64_t lineno;
	uint64_t refused;
	size_t open_records;	/* records fed whose events have not been delivered */
	bool oom;
	uint64_t fed;		/* bytes fed so far */
	uint64_t line_start;	/* offset of the current line's first byte */
	uint64_t done_upto;	/* every line before this offset is delivered or refused, or open below */
	struct open_event {	/* events open in libauparse: where their first record starts */
		int64_t time_ms;
		uint64_t serial;
		uint64_t offset;
	} *open;
	size_t nopen;
};

/* The header's time and serial of a line that passed record_problem. */
static void
line_key(const char *line, int64_t *time_ms, uint64_t *serial)
{
	const char *p = strstr(line, "msg=audit(") + 10;
	char *end;
	long long sec = strtoll(p, &end, 10);
	long long ms = strtoll(end + 1, &end, 10);

	*time_ms = sec * 1000 + ms;
	*serial = strtoull(end + 1, NULL, 10);
}

static void
open_forget(struct hostev_audit_reader *r, int64_t time_ms, uint64_t serial)
{
	size_t i;

	for (i = 0; i < r->nopen; i++)
		if (r->open[i].time_ms == time_ms && r->open[i].serial == serial) {
			r->open[i] = r->open[--r->nopen];
			return;
		}
}

static void
event_ready(auparse_state_t *au, auparse_cb_event_t type, void *user)
{
	struct hostev_audit_reader *r = user;
	struct hostev_audit_event ev;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	if (hostev_audit_event_build(au, &ev) != 0) {
		r->oom = true;
		return;
	}
	r->open_records = ev.nrecords >= r->open_records ? 0 : r->open_records - ev.nrecords;
	open_forget(r, ev.time_ms, ev.serial);
	r->on_event(r->ctx, &ev);
	hostev_audit_event_clear(&ev);
}

int
hostev_audit_reader_new(hostev_audit_event_fn on_event, hostev_audit_bad_fn on_bad, void *ctx,
			struct hostev_audit_reader **out, struct bw_err *err)
{
	struct hostev_audit_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (r == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r->au = auparse_init(AUSOURCE_FEED, NULL);
	r->open = calloc(HOSTEV_AUDIT_OPEN_MAX, sizeof *r->open);
	if (r->au == NULL || r->open == NULL) {
		if (r->au != NULL)
			auparse_destroy(r->au);
		free(r->open);
		free(r);
		return bw_err_set(err, BW_ENOMEM, "auditd record parser: out of memory");
	}
	auparse_set_escape_mode(r->au, AUPARSE_ESC_RAW);
	auparse_add_callback(r->au, event_ready, r, NULL);
	r->on_event = on_event;
	r->on_bad = on_bad;
	r->ctx = ctx;
	*out = r;
	return 0;
}

static size_t
digits(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

#define FIELDS_MAX 512

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '[' || c == ']';
}

/*
 * NULL when no field name repeats in the record's body (up to end); else
 * why not. auditd never repeats one, and libauparse keeps some (cwd) per
 * event, leaking the first copy when a record repeats it.
 */
static const char *
repeated_field(const char *p, const char *end)
{
	const char *name[FIELDS_MAX];
	size_t nlen[FIELDS_MAX], n = 0, i, l;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\''))
			p++;
		for (l = 0; p + l < end && name_char(p[l]); l++)
			;
		if (l == 0 || p + l >= end || p[l] != '=') {
			/* not a name=value here (free text in a message): go on after the next space */
			while (p < end && *p != ' ')
				p++;
			continue;
		}
		for (i = 0; i < n; i++)
			if (nlen[i] == l && memcmp(name[i], p, l) == 0)
				return "a field name repeats in the record";
		if (n == FIELDS_MAX)
			return "more than 512 fields in the record";
		name[n] = p;
		nlen[n++] = l;
		p += l + 1;
		/* values never hold a space (auditd hex-encodes those), and libauparse splits at spaces too;
		 * msg='op=... acct=...' holds fields of the record: read on inside it */
		if (p < end && *p == '\'')
			p++;
		else
			while (p < end && *p != ' ')
				p++;
	}
	return NULL;
}

/*
 * NULL when line (len bytes, no newline, NUL-terminated after them) is an
 * auditd record; else what is wrong with it.
 */
static const char *
record_problem(const char *line, size_t len)
{
	const char *p = line;
	size_t i, n;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0')
			return "a NUL byte in the record";
		if (c < 0x20 && c != '\t' && c != 0x1d)
			return "a control character in the record";
	}
	if (strncmp(p, "node=", 5) == 0) {
		p += 5;
		n = strcspn(p, " ");
		if (n == 0 || n > 255 || p[n] != ' ')
			return "node= without a name and a space";
		p += n + 1;
	}
	if (strncmp(p, "type=", 5) != 0)
		return "no 'type=' at the start of the record";
	p += 5;
	for (n = 0; (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_'; n++)
		;
	if (n == 0 || n > 64)
		return "the record type is not an auditd type name (A-Z, 0-9, _)";
	p += n;
	if (strncmp(p, " msg=audit(", 11) != 0)
		return "no ' msg=audit(' after the record type";
	p += 11;
	if ((n = digits(p, 13)) == 0 || n > 12 || p[n] != '.')
		return "the record time's seconds are not 1 to 12 digits";
	p += n + 1;
	if (digits(p, 4) != 3 || p[3] != ':')
		return "the record time is not SECONDS.MILLIS";
	p += 4;
	if ((n = digits(p, 21)) == 0 || n > 20 || strncmp(p + n, "):", 2) != 0)
		return "the record serial is not a number followed by '):'";
	p += n + 2;
	{
		const char *end = memchr(p, 0x1d, len - (size_t)(p - line));	/* ENRICHED interpretations follow 0x1d */
		return repeated_field(p, end != NULL ? end : line + len);
	}
}

static bool
eoe_record(const char *line)
{
	const char *p = strncmp(line, "node=", 5) == 0 ? strchr(line, ' ') + 1 : line;

	return strncmp(p, "type=EOE ", 9) == 0;
}

/* line: len bytes, NUL-terminated after them (the line buffer). */
static int
take_line(struct hostev_audit_reader *r, const char *line, size_t len)
{
	const char *why;

	r->lineno++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	why = record_problem(line, len);
	if (why != NULL) {
		r->refused++;
		if (r->on_bad != NULL)
			r->on_bad(r->ctx, r->lineno, why);
		return 0;
	}
	/* libauparse keeps events open until their end; bound how much it holds. */
	if (r->open_records >= HOSTEV_AUDIT_OPEN_MAX || r->nopen >= HOSTEV_AUDIT_OPEN_MAX) {
		auparse_flush_feed(r->au);
		r->open_records = 0;
		r->nopen = 0;
	}
	r->open_records++;
	{
		int64_t t;
		uint64_t serial;
		size_t i;
		line_key(line, &t, &serial);
		for (i = 0; i < r->nopen && !(r->open[i].time_ms == t && r->open[i].serial == serial); i++)
			;
		if (i == r->nopen)
			r->open[r->nopen++] = (struct open_event){ t, serial, r->line_start };
		if (auparse_feed(r->au, line, len) != 0 || auparse_feed(r->au, "\n", 1) != 0)
			r->oom = true;
		/*
		 * An EOE record completes its event, but libauparse hands it out
		 * only with the next event's first record, or when events are
		 * aged. Aging ends every open event whose time is old, so it is
		 * safe only when this event is the one open.
		 */
		if (!r->oom && r->nopen == 1 && r->open[0].time_ms == t && r->open[0].serial == serial &&
		    eoe_record(line))
			auparse_feed_age_events(r->au);
	}
	return r->oom ? BW_ENOMEM : 0;
}

static void
refuse_overlong(struct hostev_audit_reader *r)
{
	char why[96];

	r->lineno++;
	r->refused++;
	snprintf(why, sizeof why, "the record is longer than %d bytes", HOSTEV_AUDIT_LINE_MAX);
	if (r->on_bad != NULL)
		r->on_bad(r->ctx, r->lineno, why);
}

int
hostev_audit_reader_feed(struct hostev_audit_reader *r, const char *data, size_t len, struct bw_err *err)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;

		if (r->line.len == 0 && !r->overlong)
			r->line_start = r->fed;
		r->fed += take + (nl != NULL);

		if (r->overlong) {
			/* dropping the rest of a refused line */
		} else if (r->line.len + take > HOSTEV_AUDIT_LINE_MAX) {
			r->overlong = true;
			r->line.len = 0;
		} else if (bw_buf_append(&r->line, data, take) != 0) {
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		} else if (nl != NULL) {
			int rc = take_line(r, (const char *)r->line.data, r->line.len);
			r->line.len = 0;
			if (rc != 0)
				return bw_err_set(err, BW_ENOMEM, "reading auditd records: out of memory");
		}
		if (nl != NULL && r->overlong) {
			refuse_overlong(r);
			r->overlong = false;
		}
		if (nl != NULL)
			r->done_upto = r->fed;
		if (nl == NULL)
			break;
		data = nl + 1;
		len -= take + 1;
	}
	if (r->oom)
		return bw_err_set(err, BW_ENOMEM, "reading auditd records: out of memory");
	return 0;
}

int
hostev_audit_reader_finish(struct hostev_audit_reader *r, struct bw_err *err)
{
	if (r->overlong) {
		refuse_overlong(r);
		r->overlong = false;
	} else if (r->line.len > 0) {
		int rc = take_line(r, (const char *)r->line.data, r->line.len);
		r->line.len = 0;
		if (rc != 0)
			return bw_err_set(err, BW_ENOMEM, "reading auditd records: out of memory");
	}
	auparse_flush_feed(r->au);
	r->open_records = 0;
	r->nopen = 0;
	r->done_upto = r->fed;
	if (r->oom)
		return bw_err_set(err, BW_ENOMEM, "reading auditd records: out of memory");
	return 0;
}

uint64_t
hostev_audit_reader_refused(const struct hostev_audit_reader *r)
{
	return r->refused;
}

bool
hostev_audit_reader_idle(struct hostev_audit_reader *r)
{
	if (r->line.len > 0 || r->overlong || r->nopen == 0)
		return false;	/* a line is half read (its event may go on), or nothing is open */
	auparse_flush_feed(r->au);
	r->open_records = 0;
	r->nopen = 0;
	r->done_upto = r->fed;
	return true;
}

uint64_t
hostev_audit_reader_resume_offset(const struct hostev_audit_reader *r)
{
	uint64_t at = r->done_upto;
	size_t i;

	for (i = 0; i < r->nopen; i++)
		if (r->open[i].offset < at)
			at = r->open[i].offset;
	return at;
}

void
hostev_audit_reader_free(struct hostev_audit_reader *r)
{
	if (r == NULL)
		return;
	auparse_destroy(r->au);
	free(r->open);
	bw_buf_free(&r->line);
	free(r);
}
