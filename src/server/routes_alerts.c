/* server/routes_alerts.c: routes for alerts raised by detection rules, and the rules' settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define ALERT_LIST_MAX 1000

json_t *
alert_json(const struct db_alert *a)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:{s:{s:I, s:I, s:s}, s:{s:I, s:I, s:s}}, s:s, s:s}",
			 "id",
			 (json_int_t)a->id, "rule_id", a->rule_id, "rule", a->rule_title, "level", a->level, "group",
			 a->group_key, "state", a->state, "resolution", a->resolution, "reason", a->reason, "decided_by",
			 a->decided_by, "count", (json_int_t)a->count, "first_index", (json_int_t)a->first_index,
			 "last_index", (json_int_t)a->last_index, "first_seen", (json_int_t)a->first_seen, "last_seen",
			 (json_int_t)a->last_seen, "updated_at", (json_int_t)a->updated_at, "notifications", "webhook",
			 "attempts", (json_int_t)a->notify[DB_NOTIFY_WEBHOOK].attempts, "delivered_at",
			 (json_int_t)a->notify[DB_NOTIFY_WEBHOOK].delivered_at, "error", a->notify[DB_NOTIFY_WEBHOOK].error,
			 "email", "attempts", (json_int_t)a->notify[DB_NOTIFY_EMAIL].attempts, "delivered_at",
			 (json_int_t)a->notify[DB_NOTIFY_EMAIL].delivered_at, "error", a->notify[DB_NOTIFY_EMAIL].error,
			 "assignee", a->assignee, "log", a->log[0] ? a->log : "audit");
}

/* GET /api/v1/alerts[?state=open|acknowledged|resolved][&limit=N] */
static void
h_alerts(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *state = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "state");
	const char *lim = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "limit");
	struct db_alert *as = NULL;
	struct bw_err err = { 0 };
	uint64_t limit = 200;
	size_t n = 0, i;
	json_t *arr;

	(void)body;
	if (lim != NULL && (bw_parse_u64(lim, strlen(lim), &limit) != 0 || limit == 0 || limit > ALERT_LIST_MAX)) {
		reply_error(rq, 400, "limit must be 1..1000");
		return;
	}
	if (ops_alert_list(&x, state, (size_t)limit, &as, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, alert_json(&as[i]));
	free(as);
	reply_json(rq, 200, json_pack("{s:o}", "alerts", arr));
}

/* The {id} of the route, or a 404. */
static bool
alert_id(struct request *rq, int64_t *id)
{
	return request_param_id(rq, "alert", 24, 404, "no such alert", id);
}

/* GET /api/v1/alerts/{id} */
static void
h_alert(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_alert a;
	struct bw_err err = { 0 };
	int64_t id;

	(void)body;
	if (!alert_id(rq, &id))
		return;
	struct db_alert_comment *cs = NULL;
	size_t n = 0, i;
	json_t *o, *arr;

	if (ops_alert_get(&x, id, &a, &err) != 0 || ops_alert_comments(&x, id, &cs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	o = alert_json(&a);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)cs[i].id, "author",
						     cs[i].author, "at", (json_int_t)cs[i].at, "text", cs[i].text));
	free(cs);
	json_object_set_new(o, "comments", arr);
	reply_json(rq, 200, o);
}

/* POST /api/v1/alerts/{id}/ack [{"reason"}] */
static void
h_alert_ack(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *reason = NULL;
	struct db_alert a;
	struct bw_err err = { 0 };
	int64_t id;

	if (!alert_id(rq, &id) || (body != NULL && !request_unpack(rq, body, "{s?s}", "reason", &reason)))
		return;
	if (ops_alert_ack(&x, id, reason, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, alert_json(&a));
}

/* POST /api/v1/alerts/{id}/resolve {"resolution","reason"} */
static void
h_alert_resolve(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *resolution = NULL, *reason = NULL;
	struct db_alert a;
	struct bw_err err = { 0 };
	int64_t id;

	if (!alert_id(rq, &id) ||
	    !request_unpack(rq, body, "{s:s, s:s}", "resolution", &resolution, "reason", &reason))
		return;
	if (ops_alert_resolve(&x, id, resolution, reason, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, alert_json(&a));
}

/* POST /api/v1/alerts/{id}/assign {"user"} ("" or null: nobody) */
static void
h_alert_assign(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *user = NULL;
	json_t *u = NULL;
	struct db_alert a;
	struct bw_err err = { 0 };
	int64_t id;

	if (!alert_id(rq, &id) || !request_unpack(rq, body, "{s:o}", "user", &u))
		return;
	if (!json_is_null(u) && (user = json_string_value(u)) == NULL) {
		reply_error(rq, 400, "user must be a name, \"\" or null");
		return;
	}
	if (ops_alert_assign(&x, id, user, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, alert_json(&a));
}

/* POST /api/v1/alerts/{id}/comments {"text"} */
static void
h_alert_comment(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *text = NULL;
	struct bw_err err = { 0 };
	int64_t id;

	if (!alert_id(rq, &id) || !request_unpack(rq, body, "{s:s}", "text", &text))
		return;
	if (ops_alert_comment(&x, id, text, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:b}", "ok", 1));
}

/* GET /api/v1/rules/settings */
static void
h_rule_settings(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_rule_setting *ss = NULL;
	struct bw_err err = { 0 };
	size_t n = 0, i;
	json_t *arr;

	(void)body;
	if (ops_rule_settings(&x, &ss, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		json_t *ex = json_loads(ss[i].exceptions ? ss[i].exceptions : "[]", 0, NULL);
		json_array_append_new(arr, json_pack("{s:s, s:b, s:o, s:s, s:I}", "rule_id", ss[i].rule_id, "enabled",
						     ss[i].enabled, "exceptions", ex ? ex : json_array(), "updated_by",
						     ss[i].updated_by, "updated_at", (json_int_t)ss[i].updated_at));
	}
	db_rule_settings_free(ss, n);
	reply_json(rq, 200, json_pack("{s:o}", "rules", arr));
}

/* PUT /api/v1/rules/{id}/settings {"enabled", "exceptions"?} */
static void
h_rule_set(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	json_t *ex = NULL;
	int enabled = 1;
	char *text = NULL;
	struct bw_err err = { 0 };

	ev_target(&rq->ev, "rule:%.64s", rq->params[0]);
	if (!request_unpack(rq, body, "{s:b, s?o}", "enabled", &enabled, "exceptions", &ex))
		return;
	if (ex != NULL && (text = json_dumps(ex, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	if (ops_rule_set(&x, rq->params[0], enabled != 0, text, &err) != 0) {
		free(text);
		reply_from_err(rq, &err);
		return;
	}
	free(text);
	reply_json(rq, 200, json_pack("{s:s, s:b}", "rule_id", rq->params[0], "enabled", enabled));
}

/* POST /api/v1/rules/reload */
static void
h_rules_reload(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	size_t loaded;

	(void)body;
	if (ops_rules_reload(&x, rq->s->opts.rules_reload, rq->s->opts.rules_reload_ctx, rq->s->opts.rules_dir, &loaded,
			     &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I}", "count", (json_int_t)loaded));
}

static void
read_detection(void *ctx, void *out)
{
	detector_status(ctx, out);
}

/* GET /api/v1/detection */
static void
h_detection(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct detector_status st = { 0 };
	struct bw_err err = { 0 };

	(void)body;
	if (ops_detection_status(&x, rq->s->opts.detector != NULL ? read_detection : NULL, rq->s->opts.detector, &st,
				 &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200,
		   json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I}}", "rules",
			     (json_int_t)st.rules, "events", (json_int_t)st.events, "matches", (json_int_t)st.matched,
			     "alerts", (json_int_t)st.alerts, "queue", "events", (json_int_t)st.queued, "bytes",
			     (json_int_t)st.queued_bytes, "dropped", (json_int_t)st.dropped, "correlation", "groups",
			     (json_int_t)st.corr.groups, "max_groups", (json_int_t)st.corr.max_groups, "bytes",
			     (json_int_t)st.corr.bytes, "max_bytes", (json_int_t)st.corr.max_bytes, "evicted",
			     (json_int_t)st.corr.evicted, "host_events", "matched_upto", (json_int_t)st.host_next, "logged",
			     (json_int_t)st.host_logged));
}

/* ---- routes: transport facts; the permission is the operation's (ops_table.def) ---- */

static const struct route alert_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/alerts", .fn = h_alerts, .op = OP_ALERT_LIST },
	{ .method = "GET", .pattern = "/api/v1/alerts/{id}", .fn = h_alert, .op = OP_ALERT_GET },
	{ .method = "POST", .pattern = "/api/v1/alerts/{id}/ack", .fn = h_alert_ack, .op = OP_ALERT_ACK,
	  .json_body = true, .json_optional = true },
	{ .method = "POST", .pattern = "/api/v1/alerts/{id}/resolve", .fn = h_alert_resolve, .op = OP_ALERT_RESOLVE,
	  .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/alerts/{id}/assign", .fn = h_alert_assign, .op = OP_ALERT_ASSIGN,
	  .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/alerts/{id}/comments", .fn = h_alert_comment, .op = OP_ALERT_COMMENT,
	  .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/rules/settings", .fn = h_rule_settings, .op = OP_RULES_SETTINGS },
	{ .method = "PUT", .pattern = "/api/v1/rules/{id}/settings", .fn = h_rule_set, .op = OP_RULES_SET,
	  .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/rules/reload", .fn = h_rules_reload, .op = OP_RULES_RELOAD },
	{ .method = "GET", .pattern = "/api/v1/detection", .fn = h_detection, .op = OP_DETECTION_STATUS },
};
const struct route_table alert_route_table = { alert_routes, sizeof alert_routes / sizeof alert_routes[0] };
