/*
 * Fuzzes what the server parses from a host's agent: the batch, the
 * heartbeat and (as the indexer and the detector read it back) the
 * host-event log entry; and what the agent parses from a syslog file (a
 * line, then its message normalised and read as sshd's certificate login; an entry's bytes also as an
 * agent action line). The first byte picks the parser. Properties: no
 * crash, no leak; a refusal has a message; an accepted batch formats and
 * parses back to the same events; an accepted heartbeat round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "hostev/hostev.h"

static void
check_batch(const uint8_t *data, size_t size)
{
	struct hostev_batch b, b2;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0, i;

	if (hostev_batch_parse(data, size, &b, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		hostev_batch_clear(&b);
		return;
	}
	if (b.n == 0 || b.n > HOSTEV_BATCH_EVENTS_MAX || b.seq == 0)
		abort();
	if (hostev_batch_format(&b, &text, &len, &err) != 0 || hostev_batch_parse(text, len, &b2, &err) != 0)
		abort();
	if (b2.n != b.n || b2.seq != b.seq || strcmp(b2.epoch, b.epoch) != 0)
		abort();
	for (i = 0; i < b.n; i++) {
		const struct hostev_event *x = &b.events[i], *y = &b2.events[i];
		if (x->raw_len != y->raw_len || memcmp(x->raw, y->raw, x->raw_len) != 0 || x->time_ms != y->time_ms ||
		    strcmp(x->subject, y->subject) != 0 || strcmp(x->object, y->object) != 0 ||
		    strcmp(x->source, y->source) != 0)
			abort();
	}
	free(text);
	hostev_batch_clear(&b);
	hostev_batch_clear(&b2);
}

/* A request body as gzip (as the server inflates agents' batches): bounded, refused with a message, never more. */
static void
check_gunzip(const uint8_t *data, size_t size)
{
	struct bw_buf out = { 0 };
	struct bw_err err = { 0 };

	if (bw_gunzip(data, size, 1 << 20, &out, &err) != 0 ? err.msg[0] == '\0' || out.len != 0 : out.len > (1 << 20))
		abort();
	bw_buf_free(&out);
}

static void
check_heartbeat(const uint8_t *data, size_t size)
{
	struct hostev_heartbeat hb, hb2;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;

	if (hostev_heartbeat_parse(data, size, &hb, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return;
	}
	if (hostev_heartbeat_format(&hb, &text, &len, &err) != 0 || hostev_heartbeat_parse(text, len, &hb2, &err) != 0)
		abort();
	if (hb2.lost != hb.lost || hb2.nsources != hb.nsources || hb2.time_ms != hb.time_ms)
		abort();
	free(text);
}

/* An agent action line: a refusal has a message; an accepted one formats and parses back the same. */
static void
check_action(const uint8_t *data, size_t size)
{
	struct hostev_event e, e2;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;

	if (hostev_action_parse((const char *)data, size, &e, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return;
	}
	{
		struct hostev_action a = { e.time_ms, e.action, e.subject, e.object, e.result, NULL };
		if (hostev_action_format(&a, &text, &len, &err) != 0) {
			/* only a line near the bound may grow past it (escapes written differently) */
			if (err.code != BW_ERANGE)
				abort();
		} else {
			if (hostev_action_parse(text, len, &e2, &err) != 0 || e2.time_ms != e.time_ms ||
			    strcmp(e2.action, e.action) != 0 || strcmp(e2.subject, e.subject) != 0 ||
			    strcmp(e2.object, e.object) != 0 || strcmp(e2.result, e.result) != 0)
				abort();
			hostev_event_clear(&e2);
		}
	}
	free(text);
	hostev_event_clear(&e);
}

static void
check_entry(const uint8_t *data, size_t size)
{
	struct hostev_entry e;
	struct bw_err err = { 0 };

	if (hostev_entry_parse(data, size, &e, &err) != 0 && err.msg[0] == '\0')
		abort();
	hostev_entry_clear(&e);
	check_action(data, size);	/* the same bytes as an agent's action line */
}

/* sshd's certificate login, read from a message without a NUL after it: what it points at lies within. */
static void
check_cert_login(const char *msg, size_t len)
{
	char *exact = malloc(len ? len : 1);
	struct hostev_cert_login cl;

	if (exact == NULL)
		return;
	memcpy(exact, msg, len);
	if (hostev_sshd_cert_login(exact, len, &cl) &&
	    (cl.key_id < exact || cl.key_id + cl.key_id_len > exact + len || cl.ca_fp <= exact ||
	     cl.ca_fp + cl.ca_fp_len > exact + len || cl.ca_fp_len == 0))
		abort();
	free(exact);
}

static void
check_syslog(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), ident[64];
	const char *msg;
	uint64_t pid;
	int64_t t;
	struct hostev_event ev;
	struct bw_err err = { 0 };

	if (line == NULL)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	if (hostev_syslog_line(line, 1795845114000, &t, ident, &pid, &msg) == 0) {
		if (msg < line || msg > line + size || strlen(ident) == 0 || strlen(ident) >= 64)
			abort();
		if (hostev_syslog_normalise(ident, pid, msg, t, "syslog", &ev, &err) != 0)
			abort();
		if (ev.raw == NULL || ev.raw_len > HOSTEV_RAW_MAX || strlen(ev.subject) > HOSTEV_TEXT_MAX)
			abort();
		hostev_event_clear(&ev);
		check_cert_login(msg, strlen(msg));
	}
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		check_batch(data + 1, size - 1);
		check_gunzip(data + 1, size - 1);
		break;
	case 1: check_heartbeat(data + 1, size - 1); break;
	case 2: check_entry(data + 1, size - 1); break;
	default: check_syslog(data + 1, size - 1); break;
	}
	return 0;
}
