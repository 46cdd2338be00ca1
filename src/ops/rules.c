/*
 * ops/rules.c: detection rules an admin switched off or gave exceptions.
 * Exceptions are a JSON array of {"field": NAME, "value": TEXT}: an event
 * whose field equals the value (case-insensitively) raises no alert from
 * that rule (detect_exceptions_match).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ops_internal.h"
#include "store/store.h"

#define EXCEPTIONS_MAX 64

/* Checks exceptions and writes their canonical text into *out (caller frees). */
static int
canonical_exceptions(const char *text, char **out, size_t *count, struct bw_err *err)
{
	json_error_t jerr;
	json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, &jerr), *e;
	size_t i;

	*out = NULL;
	if (a == NULL || !json_is_array(a) || json_array_size(a) > EXCEPTIONS_MAX) {
		json_decref(a);
		return bw_err_set(err, BW_EINVAL, "exceptions must be a JSON array of at most %d {\"field\",\"value\"}",
				  EXCEPTIONS_MAX);
	}
	json_array_foreach(a, i, e) {
		const char *f = json_string_value(json_object_get(e, "field")),
			   *v = json_string_value(json_object_get(e, "value"));
		if (!json_is_object(e) || json_object_size(e) != 2 || f == NULL || v == NULL || f[0] == '\0' ||
		    strlen(f) > 128 || strlen(v) > 1024) {
			json_decref(a);
			return bw_err_set(err, BW_EINVAL, "exception %zu: {\"field\": 1..128 bytes, \"value\": up to 1024}",
					  i + 1);
		}
	}
	*count = json_array_size(a);
	*out = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(a);
	return *out != NULL ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}

int
ops_rule_set(struct ops_ctx *x, const char *rule_id, bool enabled, const char *exceptions, struct bw_err *err)
{
	struct event ev;
	char *canon = NULL;
	size_t count = 0;
	int r;

	r = ops_begin_tx(x, OP_RULES_SET, &ev, err);
	ev_target(&ev, "rule:%.64s", rule_id);
	ev_str(&ev, EVF_RULE_ID, rule_id);
	ev_bool(&ev, EVF_ENABLED, enabled);
	if (r == 0 && (rule_id[0] == '\0' || strlen(rule_id) > 64))
		r = bw_err_set(err, BW_EINVAL, "a rule id is 1..64 characters");
	if (r == 0 && (r = canonical_exceptions(exceptions != NULL ? exceptions : "[]", &canon, &count, err)) == 0)
		ev_int(&ev, EVF_COUNT, (int64_t)count);
	if (r == 0)
		r = db_rule_setting_put(x->in->db, rule_id, enabled, canon, x->caller->name, ops_now(), err);
	free(canon);
	return ops_finish(x, OP_RULES_SET, &ev, r, err);
}

int
ops_rule_settings(struct ops_ctx *x, struct db_rule_setting **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_RULES_SETTINGS, &ev, err);
	ev_target(&ev, "rule:*");
	if (r == 0)
		r = db_rule_settings_list(x->in->db, out, n, err);
	return ops_finish(x, OP_RULES_SETTINGS, &ev, r, err);
}

int
ops_rule_setting_for(struct ops_ctx *x, const char *rule_id, bool *enabled, char **exceptions, struct bw_err *err)
{
	struct db_rule_setting s;
	int r;

	*enabled = true;
	*exceptions = NULL;
	if (x->caller->via != OPS_VIA_SYSTEM)
		return bw_err_set(err, BW_EDENIED, "only the server itself reads settings this way");
	if ((r = db_rule_setting_get(x->in->db, rule_id, &s, err)) == BW_ENOTFOUND)
		return 0;	/* never changed: enabled, no exceptions */
	if (r != 0)
		return r;
	*enabled = s.enabled;
	*exceptions = s.exceptions;	/* moved to the caller */
	return 0;
}

int
ops_first_seen(struct ops_ctx *x, const char *key, int64_t index, int64_t at, bool *first, struct bw_err *err)
{
	*first = false;
	if (x->caller->via != OPS_VIA_SYSTEM)
		return bw_err_set(err, BW_EDENIED, "only the server itself records first sightings");
	return db_first_seen(x->in->db, key, index, at, first, err);
}

int
ops_rules_reload(struct ops_ctx *x, ops_reload_fn reload, void *ctx, const char *rules_dir, size_t *loaded,
		 struct bw_err *err)
{
	struct event ev;
	int r;

	*loaded = 0;
	r = ops_begin(x, OP_RULES_RELOAD, &ev, err);
	ev_target(&ev, "rules:%.180s", rules_dir != NULL ? rules_dir : "-");
	if (r == 0 && reload == NULL)
		r = bw_err_set(err, BW_ECONFLICT, "this server runs no detection");
	if (r == 0)
		r = reload(ctx, loaded, err);
	if (r == 0)
		ev_int(&ev, EVF_COUNT, (int64_t)*loaded);
	return ops_finish(x, OP_RULES_RELOAD, &ev, r, err);
}

int
ops_detection_status(struct ops_ctx *x, ops_read_fn read, void *ctx, void *out, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_DETECTION_STATUS, &ev, err);

	ev_target(&ev, "detection");
	if (r == 0 && read == NULL)
		r = bw_err_set(err, BW_ECONFLICT, "this server runs no detection");
	if (r == 0)
		read(ctx, out);
	return ops_finish(x, OP_DETECTION_STATUS, &ev, r, err);
}
