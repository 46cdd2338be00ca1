/*
 * events: the audit event vocabulary and its one owner. Every event that
 * reaches the log is built here: the action comes from one table
 * (actions.def) with its documented detail fields (fields.def), details are
 * set through typed setters and checked against the table when serialised,
 * and every text is bounded and escaped by jansson. The public entries that
 * other programs read (patch.target) have a format/parse pair here, and the
 * structured logger that writes the JSON lines on stderr lives here too.
 */
#ifndef BW_EVENTS_H
#define BW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

/* ---- the vocabulary ---- */

enum ev_type { EV_T_STRING, EV_T_INT, EV_T_BOOL, EV_T_LIST, EV_T_JSON };

enum ev_field {
#define EV_FIELD(id, name, type, meaning) EVF_##id,
#include "fields.def"
#undef EV_FIELD
	EV_FIELD_COUNT
};

/* A set of detail fields: one bit each (128 of them; __extension__: GCC's and Clang's 128-bit integer). */
__extension__ typedef unsigned __int128 ev_fieldset;
#define EVF(id) ((ev_fieldset)1 << EVF_##id)
/* Fields the HTTP transport adds to the events it records itself (not to operations' events). */
#define EVF_TRANSPORT (EVF(STATUS) | EVF(METHOD))

enum ev_action {
#define EV_ACTION(id, name, summary, fields) id,
#include "actions.def"
#undef EV_ACTION
	EV_ACTION_COUNT
};

struct ev_field_def {
	const char *name;
	enum ev_type type;
	const char *meaning;
};

struct ev_action_def {
	const char *name;	/* "family.verb" */
	const char *summary;
	ev_fieldset fields;	/* EVF() bits of the detail fields it may carry */
};

/* The table entries (never NULL for a valid enum value). */
const struct ev_action_def *ev_action_def(enum ev_action a);
const struct ev_field_def *ev_field_def(enum ev_field f);
/* Action by name; false when the name is not in the vocabulary. */
bool ev_action_by_name(const char *name, enum ev_action *out);

/* Outcome of an event. */
enum ev_result { EV_OK, EV_DENIED, EV_REFUSED, EV_FAILED, EV_ERROR, EV_ALERT };
const char *ev_result_name(enum ev_result r);

/* ---- one event ---- */

#define EV_ACTOR_MAX 96
#define EV_SOURCE_MAX 64
#define EV_TARGET_MAX 200
#define EV_TEXT_MAX 1024	/* longest string detail (bytes); longer ones are cut */

/* Who caused an event and through what: shared by the events of one request. */
struct ev_origin {
	const char *actor;	/* account name; "-" for anonymous or the system */
	const char *source;	/* client address, "local" for the CLI, "-" for the system */
	const char *request_id;	/* NULL: none */
};

struct event {
	enum ev_action action;
	enum ev_result result;
	char actor[EV_ACTOR_MAX];
	char source[EV_SOURCE_MAX];
	char request_id[40];
	char target[EV_TARGET_MAX];
	json_t *details;	/* owned; NULL until a detail is set */
	bool transport;		/* may carry EVF_TRANSPORT fields */
	int bad_field;		/* first detail set against the table (-1: none) */
};

/* Starts an event (result EV_OK); o may be NULL for a system event. Clear with ev_clear(). */
void ev_init(struct event *ev, enum ev_action action, const struct ev_origin *o);
void ev_clear(struct event *ev);
/* Sets the target, printf-style, bounded to EV_TARGET_MAX bytes. */
void ev_target(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Typed detail setters. Text is cut at EV_TEXT_MAX bytes and invalid UTF-8
 * is replaced, so anything from outside can be passed. A field the action's
 * table entry does not list, or of another type, makes ev_serialise fail.
 */
void ev_str(struct event *ev, enum ev_field f, const char *s);
void ev_int(struct event *ev, enum ev_field f, int64_t v);
void ev_bool(struct event *ev, enum ev_field f, bool v);
/* A list from n strings, or from comma-separated text (ev_list_csv: NULL or "" is []). */
void ev_list(struct event *ev, enum ev_field f, const char *const *items, size_t n);
void ev_list_csv(struct event *ev, enum ev_field f, const char *csv);
/* A structured value (steals v). */
void ev_json(struct event *ev, enum ev_field f, json_t *v);

/*
 * The event as one JSON object (compact, sorted keys, ASCII): time (RFC
 * 3339 UTC, ms), actor, action, target, result, source, request_id,
 * details. BW_EINVAL names a detail field the vocabulary does not allow.
 * Caller frees *out.
 */
int ev_serialise(const struct event *ev, int64_t now_ms, char **out, size_t *len, struct bw_err *err);

/* A JSON string of s cut at max bytes on a character boundary, invalid UTF-8 replaced by U+FFFD. */
json_t *ev_text(const char *s, size_t max);

/* A stored comma-separated list as a JSON array of strings (each item escaped, cut at 256 bytes). */
json_t *ev_json_list(const char *csv);

/* docs/EVENTS.md's generated part (markdown). Caller frees. */
char *ev_vocabulary_markdown(void);

/* ---- public entries other programs read ---- */

/* The fields of a patch.target entry (it rides in the target's tlog-proof). */
struct ev_patch_target {
	char name[256];
	char sha256[65];
	uint64_t length;
	char version[72];
	int64_t targets_version;
};

/* Builds the patch.target event (no actor or address; linked by request id). */
void ev_patch_target_build(struct event *ev, const struct ev_patch_target *t, const char *request_id);
/* Parses a logged entry as patch.target; BW_EVERIFY when it is not one or a field is missing. */
int ev_patch_target_parse(const uint8_t *entry, size_t len, struct ev_patch_target *out, struct bw_err *err);

/*
 * The key a log.key_transition entry names (a tlog_transition_fn: ctx
 * unused): *vkey (caller frees) its log_key. BW_EVERIFY when the entry is
 * not such an event.
 */
int ev_log_key_transition_key(void *ctx, const uint8_t *entry, size_t len, char **vkey, struct bw_err *err);
/* Both keys it names: *vkey (log_key) and *previous (log_previous_key); caller frees both. */
int ev_log_key_transition_keys(const uint8_t *entry, size_t len, char **vkey, char **previous, struct bw_err *err);

/* ---- the structured logger ---- */

enum ev_log_level { EVLOG_INFO, EVLOG_WARN, EVLOG_ERROR };

struct ev_kv {
	const char *key;
	const char *s;	/* string value, or NULL for the integer */
	long long i;
};

static inline struct ev_kv
ev_kv_str(const char *k, const char *v)
{
	struct ev_kv kv = { .key = k, .s = v != NULL ? v : "" };
	return kv;
}
#define EV_KS(k, v) ev_kv_str((k), (v))
#define EV_KI(k, v) ((struct ev_kv){ .key = (k), .s = NULL, .i = (long long)(v) })

/*
 * Writes one JSON line {"time","level","msg",key: value...} to fd with one
 * write(2); every value is escaped and cut at EV_TEXT_MAX bytes, so nothing
 * a client sends can add a field or a line.
 */
void ev_log_fd(int fd, enum ev_log_level level, const char *msg, const struct ev_kv *kv, size_t n);
#define EV_LOG(level, msg, ...)                                                                          \
	ev_log_fd(2, (level), (msg), (const struct ev_kv[]){ __VA_ARGS__ },                               \
		  sizeof((const struct ev_kv[]){ __VA_ARGS__ }) / sizeof(struct ev_kv))
#define EV_LOG0(level, msg) ev_log_fd(2, (level), (msg), NULL, 0)

#endif /* BW_EVENTS_H */
