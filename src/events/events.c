/* events/events.c: the vocabulary tables, building one event, and its JSON form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"

static const struct ev_field_def fields[EV_FIELD_COUNT] = {
#define EV_FIELD(id, name, type, meaning) [EVF_##id] = { name, type, meaning },
#include "fields.def"
#undef EV_FIELD
};

static const struct ev_action_def actions[EV_ACTION_COUNT] = {
#define EV_ACTION(id, name, summary, flds) [id] = { name, summary, flds },
#include "actions.def"
#undef EV_ACTION
};

_Static_assert(EV_FIELD_COUNT <= 128, "detail fields are a 128-bit set (ev_fieldset)");

const struct ev_action_def *
ev_action_def(enum ev_action a)
{
	return (unsigned)a < EV_ACTION_COUNT ? &actions[a] : NULL;
}

const struct ev_field_def *
ev_field_def(enum ev_field f)
{
	return (unsigned)f < EV_FIELD_COUNT ? &fields[f] : NULL;
}

bool
ev_action_by_name(const char *name, enum ev_action *out)
{
	size_t i;

	for (i = 0; i < EV_ACTION_COUNT; i++) {
		if (strcmp(actions[i].name, name) == 0) {
			*out = (enum ev_action)i;
			return true;
		}
	}
	return false;
}

const char *
ev_result_name(enum ev_result r)
{
	static const char *const names[] = { "ok", "denied", "refused", "failed", "error", "alert" };

	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "error";
}

/* Copies s into dst (cap bytes), cut on a character boundary; NULL becomes dflt. */
static void
copy_bounded(char *dst, size_t cap, const char *s, const char *dflt)
{
	size_t n, i = 0;

	if (s == NULL)
		s = dflt;
	n = strlen(s);
	while (i < n) {
		uint32_t cp;
		size_t k = bw_utf8_decode((const uint8_t *)s + i, n - i, &cp);
		if (k == 0)
			k = 1;	/* invalid byte: kept here, replaced when serialised */
		if (i + k >= cap)
			break;
		i += k;
	}
	memcpy(dst, s, i);
	dst[i] = '\0';
}

void
ev_init(struct event *ev, enum ev_action action, const struct ev_origin *o)
{
	memset(ev, 0, sizeof *ev);
	ev->action = action;
	ev->result = EV_OK;
	ev->bad_field = -1;
	copy_bounded(ev->actor, sizeof ev->actor, o ? o->actor : NULL, "-");
	copy_bounded(ev->source, sizeof ev->source, o ? o->source : NULL, "-");
	copy_bounded(ev->request_id, sizeof ev->request_id, o ? o->request_id : NULL, "");
}

void
ev_clear(struct event *ev)
{
	json_decref(ev->details);
	ev->details = NULL;
}

void
ev_target(struct event *ev, const char *fmt, ...)
{
	char buf[EV_TARGET_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	copy_bounded(ev->target, sizeof ev->target, buf, "");
}

json_t *
ev_text(const char *s, size_t max)
{
	struct bw_buf b = { 0 };
	size_t n, i = 0;
	json_t *j;

	if (s == NULL)
		return json_null();
	n = strlen(s);
	while (i < n && b.len < max) {
		uint32_t cp;
		size_t k = bw_utf8_decode((const uint8_t *)s + i, n - i, &cp);
		if (k == 0) {
			if (b.len + 3 > max || bw_buf_append(&b, "\xef\xbf\xbd", 3) != 0)
				break;
			i++;
			continue;
		}
		if (b.len + k > max || bw_buf_append(&b, s + i, k) != 0)
			break;
		i += k;
	}
	j = json_stringn(b.len ? (const char *)b.data : "", b.len);
	bw_buf_free(&b);
	return j ? j : json_string("");
}

/* Sets field f to v (stolen) if the action allows it and the type matches; else remembers the misuse. */
static void
set_field(struct event *ev, enum ev_field f, enum ev_type type, json_t *v)
{
	ev_fieldset allowed = actions[ev->action].fields | EVF(ERROR) | (ev->transport ? EVF_TRANSPORT : 0);

	if ((unsigned)f >= EV_FIELD_COUNT || !(allowed & ((ev_fieldset)1 << f)) || fields[f].type != type ||
	    v == NULL) {
		if (ev->bad_field < 0)
			ev->bad_field = (unsigned)f < EV_FIELD_COUNT ? (int)f : EV_FIELD_COUNT;
		json_decref(v);
		return;
	}
	if (ev->details == NULL)
		ev->details = json_object();
	json_object_set_new(ev->details, fields[f].name, v);
}

void
ev_str(struct event *ev, enum ev_field f, const char *s)
{
	set_field(ev, f, EV_T_STRING, ev_text(s, EV_TEXT_MAX));
}

void
ev_int(struct event *ev, enum ev_field f, int64_t v)
{
	set_field(ev, f, EV_T_INT, json_integer((json_int_t)v));
}

void
ev_bool(struct event *ev, enum ev_field f, bool v)
{
	set_field(ev, f, EV_T_BOOL, json_boolean(v));
}

void
ev_list(struct event *ev, enum ev_field f, const char *const *items, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, ev_text(items[i], 256));
	set_field(ev, f, EV_T_LIST, a);
}

void
ev_list_csv(struct event *ev, enum ev_field f, const char *csv)
{
	set_field(ev, f, EV_T_LIST, ev_json_list(csv));
}

void
ev_json(struct event *ev, enum ev_field f, json_t *v)
{
	set_field(ev, f, EV_T_JSON, v);
}

int
ev_serialise(const struct event *ev, int64_t now_ms, char **out, size_t *len, struct bw_err *err)
{
	char when[BW_TIME_TEXT_MAX];
	json_t *o;

	*out = NULL;
	if ((unsigned)ev->action >= EV_ACTION_COUNT)
		return bw_err_set(err, BW_EINVAL, "event: action %d is not in the vocabulary", (int)ev->action);
	if (ev->bad_field >= 0)
		return bw_err_set(err, BW_EINVAL, "event %s: detail '%s' is not in its vocabulary entry (or has another type)",
				  actions[ev->action].name,
				  ev->bad_field < EV_FIELD_COUNT ? fields[ev->bad_field].name : "?");
	bw_time_format_ms(now_ms, when);
	o = json_pack("{s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:o}", "time", when, "actor", ev_text(ev->actor, EV_ACTOR_MAX),
		      "action", actions[ev->action].name, "target", ev_text(ev->target, EV_TARGET_MAX), "result",
		      ev_result_name(ev->result), "source", ev_text(ev->source, EV_SOURCE_MAX), "request_id",
		      ev->request_id[0] ? ev_text(ev->request_id, sizeof ev->request_id) : json_null(), "details",
		      ev->details ? json_incref(ev->details) : json_object());
	if (o == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	if (*out == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	*len = strlen(*out);
	return 0;
}

json_t *
ev_json_list(const char *csv)
{
	json_t *a = json_array();
	struct bw_list_iter it;
	const char *item;
	size_t len;

	bw_list_begin(&it, csv);
	while (a != NULL && bw_list_next(&it, &item, &len)) {
		char buf[257];
		snprintf(buf, sizeof buf, "%.*s", (int)(len < 256 ? len : 256), item);
		json_array_append_new(a, ev_text(buf, 256));
	}
	return a;
}

static const char *
type_name(enum ev_type t)
{
	switch (t) {
	case EV_T_STRING: return "string";
	case EV_T_INT: return "integer";
	case EV_T_BOOL: return "boolean";
	case EV_T_LIST: return "array of strings";
	default: return "JSON";
	}
}

char *
ev_vocabulary_markdown(void)
{
	struct bw_buf b = { 0 };
	char line[1024];
	size_t i, f;
	bool ok = true;

#define PUT(...) (snprintf(line, sizeof line, __VA_ARGS__), ok = ok && bw_buf_append_str(&b, line) == 0)
	PUT("| action | what happened | detail fields |\n|---|---|---|\n");
	for (i = 0; i < EV_ACTION_COUNT; i++) {
		bool first = true;
		PUT("| `%s` | %s | ", actions[i].name, actions[i].summary);
		for (f = 0; f < EV_FIELD_COUNT; f++) {
			if (actions[i].fields & ((ev_fieldset)1 << f)) {
				PUT("%s`%s`", first ? "" : ", ", fields[f].name);
				first = false;
			}
		}
		PUT("%s |\n", first ? "-" : "");
	}
	PUT("\n| field | type | meaning |\n|---|---|---|\n");
	for (f = 0; f < EV_FIELD_COUNT; f++)
		PUT("| `%s` | %s | %s%s |\n", fields[f].name, type_name(fields[f].type), fields[f].meaning,
		    f == EVF_ERROR		       ? " (any event that was refused or failed)"
		    : (EVF_TRANSPORT & ((ev_fieldset)1 << f)) ? " (events the HTTP server records itself: refusals before an operation, reads)"
							   : "");
#undef PUT
	if (!ok) {
		bw_buf_free(&b);
		return NULL;
	}
	{
		size_t n;
		return bw_buf_take(&b, &n);
	}
}
