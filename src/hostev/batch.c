/*
 * hostev/batch.c: the normalised host event as JSON: an agent's batch, its
 * heartbeat, and the entry of the host-event log. Every parser is strict:
 * unknown keys, wrong types and values out of bounds are refused, naming
 * the event and the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hostev/hostev.h"

#define TIME_MAX_MS 253402300799999LL	/* 9999-12-31T23:59:59.999Z */

static const char *const sources[] = { "auditd", "journal", "syslog", "fim", "agent" };

bool
hostev_source_valid(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof sources / sizeof sources[0]; i++)
		if (strcmp(s, sources[i]) == 0)
			return true;
	return false;
}

void
hostev_event_clear(struct hostev_event *e)
{
	if (e == NULL)
		return;
	free(e->subject);
	free(e->action);
	free(e->object);
	free(e->result);
	free(e->raw);
	memset(e, 0, sizeof *e);
}

void
hostev_batch_clear(struct hostev_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		hostev_event_clear(&b->events[i]);
	free(b->events);
	memset(b, 0, sizeof *b);
}

void
hostev_entry_clear(struct hostev_entry *e)
{
	if (e == NULL)
		return;
	hostev_event_clear(&e->ev);
	memset(e, 0, sizeof *e);
}

static bool
epoch_valid(const char *s)
{
	size_t i;

	for (i = 0; i < HOSTEV_EPOCH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

/* The keys of obj must all be in allowed (NULL-terminated); else the first other one is named. */
static int
only_keys(json_t *obj, const char *const *allowed, const char *where, struct bw_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		size_t i;
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], k) != 0; i++)
			;
		if (allowed[i] == NULL)
			return bw_err_set(err, BW_EINVAL, "%s: unknown key \"%.64s\"", where, k);
	}
	return 0;
}

static int
get_u64(json_t *obj, const char *key, bool required, uint64_t min, uint64_t max, uint64_t *out, const char *where,
	struct bw_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			return bw_err_set(err, BW_EINVAL, "%s: \"%s\" is missing", where, key);
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
	    (uint64_t)json_integer_value(v) > max)
		return bw_err_set(err, BW_EINVAL, "%s: \"%s\" must be an integer from %llu to %llu", where, key,
				  (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* A string of at most max bytes (no NUL inside) copied into *out (caller frees); absent: "" unless required. */
static int
get_str(json_t *obj, const char *key, bool required, size_t max, char **out, size_t *outlen, const char *where,
	struct bw_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = "";
	size_t n = 0;

	if (v == NULL && required)
		return bw_err_set(err, BW_EINVAL, "%s: \"%s\" is missing", where, key);
	if (v != NULL) {
		if (!json_is_string(v))
			return bw_err_set(err, BW_EINVAL, "%s: \"%s\" must be a string", where, key);
		s = json_string_value(v);
		n = json_string_length(v);
		if (n > max)
			return bw_err_set(err, BW_EINVAL, "%s: \"%s\" is longer than %zu bytes", where, key, max);
		if (memchr(s, '\0', n) != NULL)
			return bw_err_set(err, BW_EINVAL, "%s: \"%s\" holds a NUL character", where, key);
	}
	if ((*out = malloc(n + 1)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

static int
get_fixed(json_t *obj, const char *key, char *out, size_t cap, const char *where, struct bw_err *err)
{
	char *s = NULL;
	size_t n;
	int r;

	if ((r = get_str(obj, key, true, cap - 1, &s, &n, where, err)) != 0)
		return r;
	memcpy(out, s, n + 1);
	free(s);
	return 0;
}

static json_t *
load(const void *json, size_t len, const char *what, struct bw_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		bw_err_set(err, BW_EINVAL, "%s: not JSON: %.120s (line %d)", what, je.text, je.line);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		bw_err_set(err, BW_EINVAL, "%s: not a JSON object", what);
		return NULL;
	}
	return root;
}

static const char *const event_keys[] = { "source", "time", "subject", "action", "object", "result", "raw",
					  "truncated", NULL };

static int
event_parse(json_t *o, struct hostev_event *e, const char *where, struct bw_err *err)
{
	uint64_t t, trunc;
	int r;

	if (!json_is_object(o))
		return bw_err_set(err, BW_EINVAL, "%s: not a JSON object", where);
	if ((r = only_keys(o, event_keys, where, err)) != 0 ||
	    (r = get_fixed(o, "source", e->source, sizeof e->source, where, err)) != 0)
		return r;
	if (!hostev_source_valid(e->source))
		return bw_err_set(err, BW_EINVAL, "%s: \"source\" must be auditd, journal, syslog, fim or agent", where);
	if ((r = get_u64(o, "time", true, 0, TIME_MAX_MS, &t, where, err)) != 0 ||
	    (r = get_u64(o, "truncated", false, 0, UINT32_MAX, &trunc, where, err)) != 0 ||
	    (r = get_str(o, "subject", false, HOSTEV_TEXT_MAX, &e->subject, NULL, where, err)) != 0 ||
	    (r = get_str(o, "action", false, HOSTEV_TEXT_MAX, &e->action, NULL, where, err)) != 0 ||
	    (r = get_str(o, "object", false, HOSTEV_TEXT_MAX, &e->object, NULL, where, err)) != 0 ||
	    (r = get_str(o, "result", false, HOSTEV_TEXT_MAX, &e->result, NULL, where, err)) != 0 ||
	    (r = get_str(o, "raw", true, HOSTEV_RAW_MAX, &e->raw, &e->raw_len, where, err)) != 0)
		return r;
	e->time_ms = (int64_t)t;
	e->truncated = (uint32_t)trunc;
	return 0;
}

static const char *const batch_keys[] = { "host", "epoch", "seq", "events", NULL };

int
hostev_batch_parse(const void *json, size_t len, struct hostev_batch *out, struct bw_err *err)
{
	json_t *root, *evs;
	size_t i, n;
	int r;

	memset(out, 0, sizeof *out);
	if (len > HOSTEV_BATCH_BODY_MAX)
		return bw_err_set(err, BW_EINVAL, "batch: longer than %zu bytes", HOSTEV_BATCH_BODY_MAX);
	if ((root = load(json, len, "batch", err)) == NULL)
		return err->code;
	if ((r = only_keys(root, batch_keys, "batch", err)) != 0 ||
	    (json_object_get(root, "host") != NULL &&
	     (r = get_fixed(root, "host", out->host, sizeof out->host, "batch", err)) != 0) ||
	    (r = get_fixed(root, "epoch", out->epoch, sizeof out->epoch, "batch", err)) != 0 ||
	    (r = get_u64(root, "seq", true, 1, (uint64_t)INT64_MAX, &out->seq, "batch", err)) != 0)
		goto out;
	if (!epoch_valid(out->epoch)) {
		r = bw_err_set(err, BW_EINVAL, "batch: \"epoch\" must be %d lower-case hex digits", HOSTEV_EPOCH_HEX);
		goto out;
	}
	evs = json_object_get(root, "events");
	if (!json_is_array(evs) || (n = json_array_size(evs)) == 0 || n > HOSTEV_BATCH_EVENTS_MAX) {
		r = bw_err_set(err, BW_EINVAL, "batch: \"events\" must be an array of 1 to %d events",
			       HOSTEV_BATCH_EVENTS_MAX);
		goto out;
	}
	if ((out->events = calloc(n, sizeof *out->events)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char where[48];
		snprintf(where, sizeof where, "batch: event %zu", i + 1);
		out->n = i + 1;
		if ((r = event_parse(json_array_get(evs, i), &out->events[i], where, err)) != 0)
			goto out;
	}
out:
	json_decref(root);
	return r;
}

/*
 * The formats are written directly (not through jansson), in a fixed key
 * order, every string through bw_buf_append_json_string: always valid JSON,
 * bytes that are not UTF-8 replaced by U+FFFD.
 */
static int
put_str(struct bw_buf *b, const char *key, const char *v, size_t len)
{
	return bw_buf_printf(b, "\"%s\":", key) != 0 || bw_buf_append_json_string(b, v ? v : "", v ? len : 0) != 0
		       ? -1
		       : 0;
}

static int
put_cstr(struct bw_buf *b, const char *key, const char *v)
{
	return put_str(b, key, v, v ? strlen(v) : 0);
}

/* The event's keys, without braces, after a comma when b holds other keys. */
static int
event_put(struct bw_buf *b, const struct hostev_event *e)
{
	if (put_cstr(b, "source", e->source) != 0 || bw_buf_printf(b, ",\"time\":%lld,", (long long)e->time_ms) != 0 ||
	    put_cstr(b, "subject", e->subject) != 0 || bw_buf_append_byte(b, ',') != 0 ||
	    put_cstr(b, "action", e->action) != 0 || bw_buf_append_byte(b, ',') != 0 ||
	    put_cstr(b, "object", e->object) != 0 || bw_buf_append_byte(b, ',') != 0 ||
	    put_cstr(b, "result", e->result) != 0 || bw_buf_append_byte(b, ',') != 0 ||
	    put_str(b, "raw", e->raw, e->raw_len) != 0)
		return -1;
	if (e->truncated && bw_buf_printf(b, ",\"truncated\":%u", (unsigned)e->truncated) != 0)
		return -1;
	return 0;
}

static int
take(struct bw_buf *b, int failed, char **out, size_t *len, struct bw_err *err)
{
	if (failed || (*out = bw_buf_take(b, len)) == NULL) {
		bw_buf_free(b);
		*out = NULL;
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return 0;
}

int
hostev_batch_format(const struct hostev_batch *b, char **out, size_t *len, struct bw_err *err)
{
	struct bw_buf t = { 0 };
	int bad = bw_buf_append_byte(&t, '{') != 0;
	size_t i;

	if (!bad && b->host[0])
		bad = put_cstr(&t, "host", b->host) != 0 || bw_buf_append_byte(&t, ',') != 0;
	bad = bad || put_cstr(&t, "epoch", b->epoch) != 0 ||
	      bw_buf_printf(&t, ",\"seq\":%llu,\"events\":[", (unsigned long long)b->seq) != 0;
	for (i = 0; !bad && i < b->n; i++)
		bad = (i > 0 && bw_buf_append_byte(&t, ',') != 0) || bw_buf_append_byte(&t, '{') != 0 ||
		      event_put(&t, &b->events[i]) != 0 || bw_buf_append_byte(&t, '}') != 0;
	bad = bad || bw_buf_append_str(&t, "]}") != 0;
	return take(&t, bad, out, len, err);
}

/* ---- heartbeats ---- */

static const char *const hb_keys[] = { "epoch", "time", "counters", "spool", "sources", NULL };
static const char *const counter_keys[] = { "read", "sent", "spooled", "lost", "source_errors", "bytes_sent",
					    "bytes_raw", NULL };
static const char *const spool_keys[] = { "bytes", "max", NULL };
static const char *const source_keys[] = { "name", "state", "error", NULL };

static int
source_parse(json_t *o, struct hostev_source_state *s, const char *where, struct bw_err *err)
{
	char *e = NULL;
	size_t n;
	int r;

	if (!json_is_object(o))
		return bw_err_set(err, BW_EINVAL, "%s: not a JSON object", where);
	if ((r = only_keys(o, source_keys, where, err)) != 0 ||
	    (r = get_fixed(o, "name", s->name, sizeof s->name, where, err)) != 0 ||
	    (r = get_fixed(o, "state", s->state, sizeof s->state, where, err)) != 0 ||
	    (r = get_str(o, "error", false, sizeof s->error - 1, &e, &n, where, err)) != 0)
		return r;
	memcpy(s->error, e, n + 1);
	free(e);
	if (strcmp(s->state, "ok") != 0 && strcmp(s->state, "waiting") != 0 && strcmp(s->state, "error") != 0)
		return bw_err_set(err, BW_EINVAL, "%s: \"state\" must be ok, waiting or error", where);
	return 0;
}

int
hostev_heartbeat_parse(const void *json, size_t len, struct hostev_heartbeat *out, struct bw_err *err)
{
	json_t *root, *c, *sp, *srcs;
	uint64_t t;
	size_t i;
	int r;

	memset(out, 0, sizeof *out);
	if (len > 65536)
		return bw_err_set(err, BW_EINVAL, "heartbeat: longer than 65536 bytes");
	if ((root = load(json, len, "heartbeat", err)) == NULL)
		return err->code;
	c = json_object_get(root, "counters");
	sp = json_object_get(root, "spool");
	srcs = json_object_get(root, "sources");
	if ((r = only_keys(root, hb_keys, "heartbeat", err)) != 0 ||
	    (r = get_fixed(root, "epoch", out->epoch, sizeof out->epoch, "heartbeat", err)) != 0 ||
	    (r = get_u64(root, "time", true, 0, TIME_MAX_MS, &t, "heartbeat", err)) != 0)
		goto out;
	out->time_ms = (int64_t)t;
	if (!epoch_valid(out->epoch)) {
		r = bw_err_set(err, BW_EINVAL, "heartbeat: \"epoch\" must be %d lower-case hex digits", HOSTEV_EPOCH_HEX);
		goto out;
	}
	if (!json_is_object(c) || !json_is_object(sp) || !json_is_array(srcs)) {
		r = bw_err_set(err, BW_EINVAL,
			       "heartbeat: \"counters\" and \"spool\" must be objects and \"sources\" an array");
		goto out;
	}
	if ((r = only_keys(c, counter_keys, "heartbeat: counters", err)) != 0 ||
	    (r = get_u64(c, "read", true, 0, (uint64_t)INT64_MAX, &out->read, "heartbeat: counters", err)) != 0 ||
	    (r = get_u64(c, "sent", true, 0, (uint64_t)INT64_MAX, &out->sent, "heartbeat: counters", err)) != 0 ||
	    (r = get_u64(c, "spooled", true, 0, (uint64_t)INT64_MAX, &out->spooled, "heartbeat: counters", err)) != 0 ||
	    (r = get_u64(c, "lost", true, 0, (uint64_t)INT64_MAX, &out->lost, "heartbeat: counters", err)) != 0 ||
	    (r = get_u64(c, "source_errors", true, 0, (uint64_t)INT64_MAX, &out->source_errors, "heartbeat: counters",
			 err)) != 0 ||
	    (r = get_u64(c, "bytes_sent", false, 0, (uint64_t)INT64_MAX, &out->bytes_sent, "heartbeat: counters", err)) !=
		    0 ||
	    (r = get_u64(c, "bytes_raw", false, 0, (uint64_t)INT64_MAX, &out->bytes_raw, "heartbeat: counters", err)) != 0 ||
	    (r = only_keys(sp, spool_keys, "heartbeat: spool", err)) != 0 ||
	    (r = get_u64(sp, "bytes", true, 0, (uint64_t)INT64_MAX, &out->spool_bytes, "heartbeat: spool", err)) != 0 ||
	    (r = get_u64(sp, "max", true, 0, (uint64_t)INT64_MAX, &out->spool_max, "heartbeat: spool", err)) != 0)
		goto out;
	if (json_array_size(srcs) > HOSTEV_SOURCES_MAX) {
		r = bw_err_set(err, BW_EINVAL, "heartbeat: more than %d sources", HOSTEV_SOURCES_MAX);
		goto out;
	}
	for (i = 0; i < json_array_size(srcs); i++) {
		char where[48];
		snprintf(where, sizeof where, "heartbeat: source %zu", i + 1);
		if ((r = source_parse(json_array_get(srcs, i), &out->sources[i], where, err)) != 0)
			goto out;
		out->nsources = i + 1;
	}
out:
	json_decref(root);
	return r;
}

int
hostev_heartbeat_format(const struct hostev_heartbeat *hb, char **out, size_t *len, struct bw_err *err)
{
	struct bw_buf t = { 0 };
	int bad = bw_buf_append_byte(&t, '{') != 0 || put_cstr(&t, "epoch", hb->epoch) != 0 ||
		  bw_buf_printf(&t, ",\"time\":%lld,\"counters\":{\"read\":%llu,\"sent\":%llu,\"spooled\":%llu,"
				"\"lost\":%llu,\"source_errors\":%llu,\"bytes_sent\":%llu,\"bytes_raw\":%llu},"
				"\"spool\":{\"bytes\":%llu,\"max\":%llu},\"sources\":[",
				(long long)hb->time_ms, (unsigned long long)hb->read, (unsigned long long)hb->sent,
				(unsigned long long)hb->spooled, (unsigned long long)hb->lost,
				(unsigned long long)hb->source_errors, (unsigned long long)hb->bytes_sent,
				(unsigned long long)hb->bytes_raw, (unsigned long long)hb->spool_bytes,
				(unsigned long long)hb->spool_max) != 0;
	size_t i;

	for (i = 0; !bad && i < hb->nsources; i++) {
		const struct hostev_source_state *s = &hb->sources[i];
		bad = (i > 0 && bw_buf_append_byte(&t, ',') != 0) || bw_buf_append_byte(&t, '{') != 0 ||
		      put_cstr(&t, "name", s->name) != 0 || bw_buf_append_byte(&t, ',') != 0 ||
		      put_cstr(&t, "state", s->state) != 0 ||
		      (s->error[0] && (bw_buf_append_byte(&t, ',') != 0 || put_cstr(&t, "error", s->error) != 0)) ||
		      bw_buf_append_byte(&t, '}') != 0;
	}
	bad = bad || bw_buf_append_str(&t, "]}") != 0;
	return take(&t, bad, out, len, err);
}

/* ---- the host-event log's entries ---- */

static const char *const entry_keys[] = { "host", "epoch", "seq", "n", "received", "source", "time", "subject",
					  "action", "object", "result", "raw", "truncated", NULL };

int
hostev_entry_format(const struct hostev_entry *e, char **out, size_t *len, struct bw_err *err)
{
	struct bw_buf t = { 0 };
	int bad = bw_buf_append_byte(&t, '{') != 0 || put_cstr(&t, "host", e->host) != 0 ||
		  bw_buf_append_byte(&t, ',') != 0 || put_cstr(&t, "epoch", e->epoch) != 0 ||
		  bw_buf_printf(&t, ",\"seq\":%llu,\"n\":%u,\"received\":%lld,", (unsigned long long)e->seq,
				(unsigned)e->n, (long long)e->received_ms) != 0 ||
		  event_put(&t, &e->ev) != 0 || bw_buf_append_byte(&t, '}') != 0;
	int r = take(&t, bad, out, len, err);

	if (r == 0 && *len > 65535) {
		free(*out);
		*out = NULL;
		return bw_err_set(err, BW_ERANGE, "host event entry longer than 65535 bytes (%zu)", *len);
	}
	return r;
}

int
hostev_entry_parse(const void *data, size_t len, struct hostev_entry *out, struct bw_err *err)
{
	json_t *root;
	uint64_t seq, n, rec;
	int r;

	memset(out, 0, sizeof *out);
	if ((root = load(data, len, "host event entry", err)) == NULL)
		return err->code;
	if ((r = only_keys(root, entry_keys, "host event entry", err)) != 0 ||
	    (r = get_fixed(root, "host", out->host, sizeof out->host, "host event entry", err)) != 0 ||
	    (r = get_fixed(root, "epoch", out->epoch, sizeof out->epoch, "host event entry", err)) != 0 ||
	    (r = get_u64(root, "seq", true, 1, (uint64_t)INT64_MAX, &seq, "host event entry", err)) != 0 ||
	    (r = get_u64(root, "n", true, 0, HOSTEV_BATCH_EVENTS_MAX - 1, &n, "host event entry", err)) != 0 ||
	    (r = get_u64(root, "received", true, 0, TIME_MAX_MS, &rec, "host event entry", err)) != 0)
		goto out;
	out->seq = seq;
	out->n = (uint32_t)n;
	out->received_ms = (int64_t)rec;
	/* The event's own keys, checked as a batch's are (the extra keys are allowed here). */
	json_object_del(root, "host");
	json_object_del(root, "epoch");
	json_object_del(root, "seq");
	json_object_del(root, "n");
	json_object_del(root, "received");
	r = event_parse(root, &out->ev, "host event entry", err);
out:
	json_decref(root);
	return r;
}

/* ---- the agent's own actions: one JSON line each in STATE/hostev/actions.log ---- */

static const char *const action_keys[] = { "time", "action", "subject", "object", "result", "detail", NULL };

int
hostev_action_format(const struct hostev_action *a, char **out, size_t *len, struct bw_err *err)
{
	struct bw_buf t = { 0 };
	int bad = bw_buf_printf(&t, "{\"time\":%lld,", (long long)a->time_ms) != 0 ||
		  put_cstr(&t, "action", a->action) != 0 || bw_buf_append_byte(&t, ',') != 0 ||
		  put_cstr(&t, "subject", a->subject ? a->subject : "") != 0 || bw_buf_append_byte(&t, ',') != 0 ||
		  put_cstr(&t, "object", a->object ? a->object : "") != 0 || bw_buf_append_byte(&t, ',') != 0 ||
		  put_cstr(&t, "result", a->result) != 0 || bw_buf_append_byte(&t, ',') != 0 ||
		  put_cstr(&t, "detail", a->detail ? a->detail : "") != 0 || bw_buf_append_byte(&t, '}') != 0;
	int r = take(&t, bad, out, len, err);

	if (r == 0 && *len > HOSTEV_ACTION_MAX) {
		free(*out);
		*out = NULL;
		return bw_err_set(err, BW_ERANGE, "agent action longer than %d bytes", HOSTEV_ACTION_MAX);
	}
	return r;
}

static bool
action_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '.' || s[i] == '_'))
			return false;
	return i > 0 && i <= 64;
}

int
hostev_action_parse(const char *line, size_t len, struct hostev_event *out, struct bw_err *err)
{
	static const char where[] = "agent action";
	json_t *root;
	uint64_t t;
	char *detail = NULL;
	int r;

	memset(out, 0, sizeof *out);
	if (len > HOSTEV_ACTION_MAX)
		return bw_err_set(err, BW_EINVAL, "%s: longer than %d bytes", where, HOSTEV_ACTION_MAX);
	if ((root = load(line, len, where, err)) == NULL)
		return err->code;
	snprintf(out->source, sizeof out->source, "agent");
	if ((r = only_keys(root, action_keys, where, err)) != 0 ||
	    (r = get_u64(root, "time", true, 1, TIME_MAX_MS, &t, where, err)) != 0 ||
	    (r = get_str(root, "action", true, 64, &out->action, NULL, where, err)) != 0 ||
	    (r = get_str(root, "subject", false, HOSTEV_TEXT_MAX, &out->subject, NULL, where, err)) != 0 ||
	    (r = get_str(root, "object", false, HOSTEV_TEXT_MAX, &out->object, NULL, where, err)) != 0 ||
	    (r = get_str(root, "result", true, 16, &out->result, NULL, where, err)) != 0 ||
	    (r = get_str(root, "detail", false, HOSTEV_TEXT_MAX, &detail, NULL, where, err)) != 0)
		goto out;
	if (!action_name_valid(out->action)) {
		r = bw_err_set(err, BW_EINVAL, "%s: \"action\" must be 1..64 of a-z . _", where);
		goto out;
	}
	if (strcmp(out->result, "success") != 0 && strcmp(out->result, "failure") != 0) {
		r = bw_err_set(err, BW_EINVAL, "%s: \"result\" must be success or failure", where);
		goto out;
	}
	out->time_ms = (int64_t)t;
	if ((out->raw = malloc(len + 1)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(out->raw, line, len);	/* the line as written: UTF-8 checked by the JSON parser */
	out->raw[len] = '\0';
	out->raw_len = len;
out:
	free(detail);
	json_decref(root);
	if (r != 0)
		hostev_event_clear(out);
	return r;
}
