/* server/routes_reports.c: reported mails and files: intake, the reporter's view, the analysts' inbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define REPORT_LIST_MAX 500

/* A report as its reporter sees it (no triage details but the verdict), or, full, as analysts do. */
static json_t *
report_json(const struct db_report *r, bool full)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I}", "id", (json_int_t)r->id,
			      "created_at", (json_int_t)r->created_at, "file_name", r->file_name, "comment", r->comment,
			      "sha256", r->sha256, "status", r->status, "size", (json_int_t)r->size, "verdict",
			      db_report_verdict(r), "channel", r->channel, "score", (json_int_t)r->score, "triaged_at",
			      (json_int_t)r->triaged_at);

	if (o != NULL && full) {
		json_object_set_new(o, "triage_verdict", json_string(r->verdict));
		json_object_set_new(o, "analyst_verdict", json_string(r->analyst_verdict));
		json_object_set_new(o, "category", json_string(r->category));
		json_object_set_new(o, "assignee", json_string(r->assignee));
		json_object_set_new(o, "incident", json_integer(r->incident_id));
		json_t *t = r->triage != NULL ? json_loads(r->triage, 0, NULL) : NULL;
		json_object_set_new(o, "reporter", json_string(r->reporter));
		json_object_set_new(o, "reporter_verified", json_boolean(r->reporter_verified));
		json_object_set_new(o, "triage", t != NULL ? t : json_null());
	}
	return o;
}

/* POST /api/v1/reports[?name=FILE][&comment=TEXT]: the body is the sample (a mail or a file), sealed as it arrived. */
static void
h_report_submit(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_report_in in = {
		.file_name = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "name"),
		.comment = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "comment"),
		.channel = "api",
		.reporter_verified = true,
	};
	struct bw_err err = { 0 };
	int64_t id;

	(void)body;
	if (ops_report_submit_upload(&x, &in, rq->sample, &id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	if (rq->s->triager != NULL)
		triager_kick(rq->s->triager);
	reply_json(rq, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "status", "received", "verdict", "pending"));
}

/*
 * POST /api/v1/reports/mail?from=ADDR&verified=0|1[&comment=TEXT]: a report
 * that arrived by mail, from the mail intake (`bulwark report mail`); the
 * body is the reported message.
 */
static void
h_report_mail(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *verified = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "verified");
	struct ops_report_in in = {
		.email = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "from"),
		.comment = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "comment"),
		.data = rq->body.data,
		.len = rq->body.len,
	};
	struct bw_err err = { 0 };
	char reporter[72];
	int64_t id;

	(void)body;
	if (verified == NULL || (strcmp(verified, "0") != 0 && strcmp(verified, "1") != 0)) {
		reply_error(rq, 400, "verified must be 0 or 1");
		return;
	}
	in.reporter_verified = strcmp(verified, "1") == 0;
	if (ops_report_mail(&x, &in, &id, reporter, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	if (rq->s->triager != NULL)
		triager_kick(rq->s->triager);
	reply_json(rq, 201, json_pack("{s:I, s:s, s:b, s:s, s:s}", "id", (json_int_t)id, "reporter", reporter,
				      "reporter_verified", reporter[0] != '\0' && in.reporter_verified, "status", "received",
				      "verdict", "pending"));
}

/* The full report with its history (steps: changes and comments, oldest first). */
static json_t *
with_history(struct ops_ctx *x, const struct db_report *r)
{
	json_t *o = report_json(r, true), *h = json_array();
	struct db_report_step *steps = NULL;
	struct bw_err err = { 0 };
	size_t n = 0, i;

	if (ops_report_history(x, r->id, &steps, &n, &err) == 0)
		for (i = 0; i < n; i++)
			json_array_append_new(h, json_pack("{s:I, s:s, s:s, s:s, s:s}", "at", (json_int_t)steps[i].at,
							   "actor", steps[i].actor, "kind", steps[i].kind, "value",
							   steps[i].value, "text", steps[i].text));
	free(steps);
	json_object_set_new(o, "history", h);
	if (r->incident_id != 0) {
		struct db_report *rs = NULL;
		json_t *ids = json_array();
		if (ops_report_incident(x, r->incident_id, &rs, &n, &err) == 0)
			for (i = 0; i < n; i++)
				json_array_append_new(ids, json_integer(rs[i].id));
		db_reports_free(rs, n);
		json_object_set_new(o, "incident_reports", ids);
	}
	return o;
}

static void
reply_reports(struct request *rq, struct db_report *rs, size_t n, bool full)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, report_json(&rs[i], full));
	db_reports_free(rs, n);
	reply_json(rq, 200, json_pack("{s:o}", "reports", arr));
}

/* GET /api/v1/reports/mine: the caller's own reports and their outcome. */
static void
h_reports_mine(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_report *rs = NULL;
	struct bw_err err = { 0 };
	size_t n = 0;

	(void)body;
	if (ops_report_mine(&x, &rs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_reports(rq, rs, n, false);
}

/* GET /api/v1/reports[?limit=N]: the inbox, newest first. */
static void
h_reports(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *lim = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "limit");
	struct db_report *rs = NULL;
	struct bw_err err = { 0 };
	uint64_t limit = 200;
	size_t n = 0;

	(void)body;
	if (lim != NULL && (bw_parse_u64(lim, strlen(lim), &limit) != 0 || limit == 0 || limit > REPORT_LIST_MAX)) {
		reply_error(rq, 400, "limit must be 1..500");
		return;
	}
	if (ops_report_list(&x, (size_t)limit, &rs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_reports(rq, rs, n, true);
}

/* GET /api/v1/reports/{id}: one report with its triage (verdict, reasons, indicators). */
static void
h_report(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_report r;
	struct bw_err err = { 0 };
	int64_t id;

	(void)body;
	if (!request_param_id(rq, "report", 24, 404, "no such report", &id))
		return;
	if (ops_report_get(&x, id, &r, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, with_history(&x, &r));
	db_report_clear(&r);
}

/* GET /api/v1/reports/{id}/sample: the sample in a ZIP encrypted with the password "infected" (always audited). */
static void
h_report_sample(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	char name[300];
	uint8_t *zip = NULL;
	size_t len = 0;
	int64_t id;

	(void)body;
	if (!request_param_id(rq, "report", 24, 404, "no such report", &id))
		return;
	if (ops_report_download(&x, id, &zip, &len, name, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	snprintf(rq->attachment, sizeof rq->attachment, "%.100s", name);	/* report-ID.zip: digits only */
	reply_text(rq, 200, "application/zip", (char *)zip, len);
}

/* GET /api/v1/reports/{id}/stix|misp[?tlp=amber]: the indicators to share, a STIX 2.1 bundle or a MISP event. */
static void
h_report_stix(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *tlp = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "tlp");
	struct bw_err err = { 0 };
	json_t *bundle = NULL;
	char *text;
	int64_t id;

	(void)body;
	if (!request_param_id(rq, "report", 24, 404, "no such report", &id))
		return;
	bool misp = strstr(rq->path, "/misp") != NULL;

	if ((misp ? ops_report_misp(&x, id, tlp != NULL ? tlp : "amber", &bundle, &err)
		  : ops_report_stix(&x, id, tlp != NULL ? tlp : "amber", &bundle, &err)) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	text = json_dumps(bundle, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(bundle);
	if (text == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_text(rq, 200, misp ? "application/json" : "application/stix+json;version=2.1", text, strlen(text));
}

/* POST /api/v1/reports/{id}/update {"status"?, "verdict"?, "category"?, "assignee"?, "reason"} */
static void
h_report_update(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_report_change c = { 0 };
	struct db_report r;
	struct bw_err err = { 0 };
	int64_t id;

	if (!request_param_id(rq, "report", 24, 404, "no such report", &id) ||
	    !request_unpack(rq, body, "{s?s, s?s, s?s, s?s, s?s}", "status", &c.status, "verdict", &c.verdict, "category",
			    &c.category, "assignee", &c.assignee, "reason", &c.reason))
		return;
	if (ops_report_update(&x, id, &c, &r, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	if (c.status != NULL && strcmp(c.status, "resolved") == 0 && rq->s->triager != NULL)
		triager_resolved(rq->s->triager, id);
	reply_json(rq, 200, with_history(&x, &r));
	db_report_clear(&r);
}

/* POST /api/v1/reports/{id}/comments {"text"} */
static void
h_report_comment(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *text = NULL;
	int64_t id;

	if (!request_param_id(rq, "report", 24, 404, "no such report", &id) ||
	    !request_unpack(rq, body, "{s:s}", "text", &text))
		return;
	if (ops_report_comment(&x, id, text, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:I, s:s}", "report", (json_int_t)id, "text", text));
}

static const struct route report_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/reports", .fn = h_report_submit, .op = OP_REPORT_SUBMIT,
	  .sample_upload = true },
	{ .method = "POST", .pattern = "/api/v1/reports/mail", .fn = h_report_mail, .op = OP_REPORT_MAIL, .raw_body = true,
	  .body_max = OPS_REPORT_MAX },
	{ .method = "GET", .pattern = "/api/v1/reports/mine", .fn = h_reports_mine, .op = OP_REPORT_MINE },
	{ .method = "GET", .pattern = "/api/v1/reports", .fn = h_reports, .op = OP_REPORT_LIST },
	{ .method = "GET", .pattern = "/api/v1/reports/{id}", .fn = h_report, .op = OP_REPORT_GET },
	{ .method = "GET", .pattern = "/api/v1/reports/{id}/sample", .fn = h_report_sample, .op = OP_REPORT_DOWNLOAD },
	{ .method = "GET", .pattern = "/api/v1/reports/{id}/stix", .fn = h_report_stix, .op = OP_REPORT_EXPORT },
	{ .method = "GET", .pattern = "/api/v1/reports/{id}/misp", .fn = h_report_stix, .op = OP_REPORT_EXPORT },
	{ .method = "POST", .pattern = "/api/v1/reports/{id}/update", .fn = h_report_update, .op = OP_REPORT_UPDATE,
	  .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/reports/{id}/comments", .fn = h_report_comment, .op = OP_REPORT_COMMENT,
	  .json_body = true },
};
const struct route_table report_route_table = { report_routes, sizeof report_routes / sizeof report_routes[0] };
