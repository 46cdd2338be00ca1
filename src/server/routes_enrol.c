/* server/routes_enrol.c: routes for enrolling with a one-time code, and for second-admin role grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* POST /api/v1/enrol {"code"}: the first step; answers the account name and an authenticator secret. */
/* The URI's QR code as rows of "0"/"1" (1 dark), for the dashboard to draw; null when it does not fit one. */
static json_t *
qr_rows(const char *uri)
{
	struct bw_err err = { 0 };
	uint8_t *m = NULL;
	json_t *rows;
	char line[200];
	int w, x, y;

	if (bw_qr_modules(uri, &m, &w, &err) != 0 || w >= (int)sizeof line) {
		free(m);
		return json_null();
	}
	rows = json_array();
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x++)
			line[x] = m[y * w + x] ? '1' : '0';
		line[w] = '\0';
		json_array_append_new(rows, json_string(line));
	}
	bw_memzero(m, (size_t)w * (size_t)w);
	free(m);
	return rows;
}

static void
h_enrol_start(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *code = NULL;
	char username[72], *uri = NULL;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s}", "code", &code) || request_throttled(rq))
		return;
	if (ops_enrol_start(&x, code, username, &uri, &err) != 0) {
		request_throttle_result(rq, err.code == BW_EDENIED);
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s, s:s, s:o}", "username", username, "otpauth_uri", uri, "next",
				      "add the secret to an authenticator app, then POST /api/v1/enrol/complete with "
				      "the code, a new password and the app's current 6-digit code", "qr", qr_rows(uri)));
	bw_memzero(uri, strlen(uri));
	free(uri);
}

/* POST /api/v1/enrol/complete {"code","password","otp"}: the user's own password and TOTP. */
static void
h_enrol_finish(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *code = NULL, *password = NULL, *otp = NULL;
	struct auth_enrolment e;
	char username[72];
	struct bw_err err = { 0 };
	json_t *codes;
	int i;

	if (!request_unpack(rq, body, "{s:s, s:s, s:s}", "code", &code, "password", &password, "otp", &otp) ||
	    request_throttled(rq))
		return;
	if (ops_enrol_finish(&x, code, password, otp, username, &e, &err) != 0) {
		request_throttle_result(rq, err.code == BW_EDENIED);
		reply_from_err(rq, &err);
		return;
	}
	codes = json_array();
	for (i = 0; i < AUTH_RECOVERY_CODES; i++)
		json_array_append_new(codes, json_string(e.recovery[i]));
	reply_json(rq, 200, json_pack("{s:s, s:o}", "username", username, "recovery_codes", codes));
	auth_enrolment_clear(&e);
}

static json_t *
grant_json(const struct db_role_grant *g)
{
	return json_pack("{s:I, s:s, s:o, s:s, s:I, s:s, s:s, s:I}", "id", (json_int_t)g->id, "username", g->username,
			 "roles", roles_json(g->roles), "requested_by", g->requested_by, "requested_at",
			 (json_int_t)g->requested_at, "state", g->state, "decided_by", g->decided_by, "decided_at",
			 (json_int_t)g->decided_at);
}

/* GET /api/v1/role-grants[?pending=1] */
static void
h_grants(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *p = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "pending");
	struct db_role_grant *gs = NULL;
	struct bw_err err = { 0 };
	size_t n = 0, i;
	json_t *arr;

	(void)body;
	if (p != NULL && strcmp(p, "0") != 0 && strcmp(p, "1") != 0) {
		reply_error(rq, 400, "pending must be 0 or 1");
		return;
	}
	if (ops_grant_list(&x, p != NULL && strcmp(p, "1") == 0, &gs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, grant_json(&gs[i]));
	free(gs);
	reply_json(rq, 200, json_pack("{s:o}", "grants", arr));
}

static void
grant_decide(struct request *rq, bool approve)
{
	struct ops_ctx x = request_ops(rq);
	struct db_role_grant g;
	struct bw_err err = { 0 };
	int64_t id = 0;

	if (!request_param_id(rq, "grant", 24, 404, "no such role grant", &id))
		return;
	if (ops_grant_decide(&x, id, approve, &g, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, grant_json(&g));
}

static void
h_grant_approve(struct request *rq, json_t *body)
{
	(void)body;
	grant_decide(rq, true);
}

static void
h_grant_deny(struct request *rq, json_t *body)
{
	(void)body;
	grant_decide(rq, false);
}

/* ---- routes: transport facts; the permission is the operation's (ops_table.def) ---- */

static const struct route enrol_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/enrol", .fn = h_enrol_start, .op = OP_USER_ENROL_START, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/enrol/complete", .fn = h_enrol_finish, .op = OP_USER_ENROL,
	  .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/role-grants", .fn = h_grants, .op = OP_GRANT_LIST },
	{ .method = "POST", .pattern = "/api/v1/role-grants/{id}/approve", .fn = h_grant_approve, .op = OP_GRANT_APPROVE },
	{ .method = "POST", .pattern = "/api/v1/role-grants/{id}/deny", .fn = h_grant_deny, .op = OP_GRANT_DENY },
};
const struct route_table enrol_route_table = { enrol_routes, sizeof enrol_routes / sizeof enrol_routes[0] };
