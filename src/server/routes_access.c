/*
 * server/routes_access.c: remote-maintenance access over the API: JSON <->
 * the access operations (hosts, requests, four-eyes reviews, certificate
 * download, revocation, the permission review), plus the public KRL, CA key
 * and session wrapper for hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "http.h"

/* A JSON array of short strings into items (pointers into the JSON); 400 on error. */
static bool
string_array(struct request *rq, json_t *arr, const char *what, const char **items, size_t cap, size_t *n)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (arr == NULL)
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > cap) {
		reply_error(rq, 400, "%s must be an array of at most %zu strings", what, cap);
		return false;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 128) {
			reply_error(rq, 400, "%s[%zu] must be a non-empty string", what, i);
			return false;
		}
		items[(*n)++] = json_string_value(v);
	}
	return true;
}


static bool
path_id(struct request *rq, int64_t *id)
{
	return request_param_id(rq, "access", 32, 400, "request id must be a positive decimal number", id);
}

/* ---- hosts ------------------------------------------------------------------ */

static void
h_host_add(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_host_add q = { .group = "default" };
	const char *accts[64];
	json_t *accounts = NULL;
	struct bw_err err = { 0 };
	struct auth_code code;
	int64_t id = 0;

	if (!request_unpack(rq, body, "{s:s, s:s, s?:s, s:o}", "name", &q.name, "address", &q.address, "group", &q.group,
			    "accounts", &accounts))
		return;
	ev_target(&rq->ev, "host:%.64s", q.name);
	if (!string_array(rq, accounts, "accounts", accts, 64, &q.naccounts))
		return;
	q.accounts = accts;
	if (ops_host_add(&x, &q, &id, &code, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:I, s:s, s:s, s:s, s:O, s:s, s:I}", "id", (json_int_t)id, "name", q.name,
				      "address", q.address, "group", q.group, "accounts", accounts, "enrolment_code",
				      code.text, "code_expires", (json_int_t)code.expires_at));
	bw_memzero(&code, sizeof code);
}

/* POST /api/v1/hosts/{name}/enrolment [{"enrol_hours"}]: a new one-time code for the host's agent. */
static void
h_host_enrol_code(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct auth_code code;
	json_int_t hours = 0;
	struct bw_err err = { 0 };

	ev_target(&rq->ev, "host:%.64s", rq->params[0]);
	if (!request_enrol_hours(rq, body, &hours))
		return;
	if (ops_host_enrol_code(&x, rq->params[0], hours, &code, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s, s:I}", "name", rq->params[0], "enrolment_code", code.text,
				      "code_expires", (json_int_t)code.expires_at));
	bw_memzero(&code, sizeof code);
}

/* POST /api/v1/hosts/enrol {"code"}: the agent exchanges its code for the host's credential. */
static void
h_host_enrol(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *code = NULL;
	char host[72], cred[AUTH_TOKEN_TEXT_MAX];
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s}", "code", &code) || request_throttled(rq))
		return;
	if (ops_host_enrol(&x, code, host, cred, &err) != 0) {
		request_throttle_result(rq, err.code == BW_EDENIED);
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s}", "host", host, "credential", cred));
	bw_memzero(cred, sizeof cred);
}

/* POST /api/v1/hosts/{name}/revoke: the host's agent credential stops working. */
static void
h_host_revoke(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	ev_target(&rq->ev, "host:%.64s", rq->params[0]);
	if (ops_host_revoke(&x, rq->params[0], &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:b}", "name", rq->params[0], "revoked", 1));
}

/* A host's last heartbeat as the host list shows it: when, its clock, its counters, silence. */
static json_t *
heartbeat_json(const struct hostdb_host_state *s)
{
	json_t *c = json_loads(s->counters, 0, NULL), *o;

	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "epoch", s->epoch, "at", (json_int_t)s->heartbeat_at,
		      "agent_time", (json_int_t)s->agent_time, "skew_ms", (json_int_t)(s->agent_time - s->heartbeat_at),
		      "lost", (json_int_t)s->lost, "state", s->silent_since ? "silent" : "ok");
	if (o != NULL && c != NULL) {
		json_object_set(o, "counters", json_object_get(c, "counters"));
		json_object_set(o, "spool", json_object_get(c, "spool"));
		json_object_set(o, "sources", json_object_get(c, "sources"));
	}
	if (o != NULL && s->silent_since)
		json_object_set_new(o, "silent_since", json_integer(s->silent_since));
	json_decref(c);
	return o;
}

static void
h_host_list(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_host *hs;
	struct hostdb_host_state *st = NULL;
	struct bw_err err = { 0 };
	size_t n, i, nst = 0;
	json_t *arr;

	(void)body;
	if (ops_host_list(&x, &hs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	if (ops_sees_all_hosts(&rq->caller) && ops_host_states(&x, &st, &nst, &err) != 0)
		EV_LOG(EVLOG_ERROR, "host list: heartbeats unreadable", EV_KS("error", err.msg));
	for (i = 0; i < n; i++) {
		json_t *h = json_pack("{s:s, s:s, s:s, s:o}", "name", hs[i].name, "address", hs[i].address, "group",
				      hs[i].grp, "accounts", ev_json_list(hs[i].accounts));
		for (size_t k = 0; k < nst; k++)
			if (strcmp(st[k].host, hs[i].name) == 0)
				json_object_set_new(h, "heartbeat", heartbeat_json(&st[k]));
		/* The agent's credential, for those who see every host (ops_host_list leaves it 0 for others). */
		if (ops_sees_all_hosts(&rq->caller))
			json_object_set_new(h, "agent", hs[i].agent_enrolled_at == 0 ? json_null()
						: json_pack("{s:I, s:I}", "enrolled_at", (json_int_t)hs[i].agent_enrolled_at,
							    "last_seen", (json_int_t)hs[i].agent_last_seen));
		json_array_append_new(arr, h);
	}
	db_hosts_free(hs, n);
	hostdb_states_free(st, nst);
	reply_json(rq, 200, json_pack("{s:o}", "hosts", arr));
}

static void
h_host_sshd_config(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	char *text = NULL, url[128];
	const char *host = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Host");

	(void)body;
	ev_target(&rq->ev, "host:%.64s", rq->params[0]);
	snprintf(url, sizeof url, "https://%.100s", host && strpbrk(host, " \t\r\n'\"") == NULL ? host : "BULWARK-SERVER");
	if (ops_host_sshd_config(&x, rq->params[0], url, &text, &err) != 0)
		reply_from_err(rq, &err);
	else
		reply_text(rq, 200, "text/plain; charset=utf-8", text, strlen(text));
}

/* ---- requests ------------------------------------------------------------------ */

static json_t *
request_json(const struct db_access *a, bool with_cert)
{
	char permits[128];
	json_t *o;

	access_permits_format(a->permits, permits, sizeof permits);
	o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:b}",
		      "id", (json_int_t)a->id, "requester", a->requester, "state", access_state(a, server_now()),
		      "hosts", ev_json_list(a->hosts), "accounts", ev_json_list(a->accounts), "principals",
		      ev_json_list(a->principals), "valid_after", (json_int_t)a->valid_after, "valid_before",
		      (json_int_t)a->valid_before, "reason", a->reason, "key_fingerprint", a->key_fp, "stored_state",
		      a->state, "permits", ev_json_list(permits), "approvals", (json_int_t)a->approvals,
		      "approvals_needed", (json_int_t)a->approvals_needed, "approvers", ev_json_list(a->approvers),
		      "downloaded", a->downloaded_at != 0);
	if (a->ticket)
		json_object_set_new(o, "ticket", json_string(a->ticket));
	if (a->source_address)
		json_object_set_new(o, "source_address", json_string(a->source_address));
	if (a->force_command)
		json_object_set_new(o, "force_command", json_string(a->force_command));
	if (with_cert && a->certificate)
		json_object_set_new(o, "certificate", json_string(a->certificate));
	return o;
}

static void
h_access_request(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *hosts[64], *accounts[16], *permits[8];
	json_t *jh = NULL, *ja = NULL, *jp = NULL;
	json_int_t after = 0, before = 0;
	struct access_new q = { 0 };
	struct db_access a;
	struct bw_err err = { 0 };
	int64_t id = 0;
	size_t nperm = 0;

	if (!request_unpack(rq, body, "{s?:o, s?:s, s:o, s:I, s:I, s:s, s?:s, s:s, s?:s, s?:s, s?:o}", "hosts", &jh,
			    "group", &q.group, "accounts", &ja, "valid_after", &after, "valid_before", &before, "reason",
			    &q.reason, "ticket", &q.ticket, "public_key", &q.public_key, "source_address",
			    &q.source_address, "force_command", &q.force_command, "permits", &jp))
		return;
	if (!string_array(rq, jh, "hosts", hosts, 64, &q.nhosts) ||
	    !string_array(rq, ja, "accounts", accounts, 16, &q.naccounts) ||
	    !string_array(rq, jp, "permits", permits, 8, &nperm))
		return;
	q.permits = ACCESS_PERMIT_PTY;
	if (jp != NULL && access_permits_parse(permits, nperm, &q.permits, &err) != 0) {
		reply_error(rq, 422, "%s", err.msg);
		return;
	}
	q.hosts = hosts;
	q.accounts = accounts;
	q.valid_after = after;
	q.valid_before = before;
	if (ops_access_request(&x, &q, &id, &err) != 0 || ops_access_get(&x, id, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, request_json(&a, false));
	db_access_clear(&a);
}

static void
h_access_list(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_access *as;
	struct bw_err err = { 0 };
	size_t n, i;
	json_t *arr;

	(void)body;
	if (ops_access_list(&x, 500, &as, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, request_json(&as[i], false));
	db_access_free(as, n);
	reply_json(rq, 200, json_pack("{s:o}", "requests", arr));
}

static void
h_access_get(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_access a;
	struct bw_err err = { 0 };
	int64_t id;

	(void)body;
	if (!path_id(rq, &id))
		return;
	if (ops_access_get(&x, id, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, request_json(&a, false));
	db_access_clear(&a);
}

static void
review(struct request *rq, json_t *body, bool approve)
{
	struct ops_ctx x = request_ops(rq);
	const char *reason = NULL;
	struct bw_err err = { 0 };
	struct db_access a;
	int64_t id;

	if (!path_id(rq, &id) || !request_unpack(rq, body, "{s?:s}", "reason", &reason))
		return;
	if (ops_access_review(&x, id, approve, reason, &a, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, request_json(&a, false));
	db_access_clear(&a);
}

static void
h_access_approve(struct request *rq, json_t *body)
{
	review(rq, body, true);
}

static void
h_access_deny(struct request *rq, json_t *body)
{
	review(rq, body, false);
}

static void
h_access_revoke(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *reason = NULL;
	int64_t id;

	if (!path_id(rq, &id) || !request_unpack(rq, body, "{s?:s}", "reason", &reason))
		return;
	if (ops_access_revoke(&x, id, reason, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "revoked"));
}

static void
h_access_certificate(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_access a;
	struct bw_err err = { 0 };
	char *cfg = NULL;
	int64_t id;

	(void)body;
	if (!path_id(rq, &id))
		return;
	if (ops_access_certificate(&x, id, &a, &cfg, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)a.id, "certificate", a.certificate,
				      "ssh_config", cfg));
	free(cfg);
	db_access_clear(&a);
}

static void
h_access_krl(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	uint8_t *krl = NULL;
	size_t len = 0;

	(void)body;
	if (ops_access_krl(&x, &krl, &len, &err) != 0)
		reply_from_err(rq, &err);
	else
		reply_text(rq, 200, "application/octet-stream", (char *)krl, len);
}

static void
h_access_ca(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	char *lines = NULL;

	(void)body;
	if (ops_access_ca(&x, &lines, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_text(rq, 200, "text/plain; charset=utf-8", lines, strlen(lines));	/* one line per CA, each ending in a newline */
}

static const char *const ca_phases[] = { "settled", "staged", "activated" };

static json_t *
ca_status_json(const struct ops_ca_status *st)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "phase", ca_phases[st->rot.phase], "signing", st->signing, "since",
			      (json_int_t)st->rot.since, "overlap_minutes", (json_int_t)(st->rot.overlap / 60));
	if (j != NULL && st->other[0] != '\0')
		json_object_set_new(j, "other", json_string(st->other));
	if (j != NULL && st->rot.phase == INSTANCE_CA_STAGED)
		json_object_set_new(j, "activate_from", json_integer(st->rot.since + st->rot.overlap));
	return j;
}

/* A rotation step, then the state it left. */
static void
ca_step_reply(struct request *rq, struct ops_ctx *x, int r, struct bw_err *err)
{
	struct ops_ca_status st;

	if (r != 0 || ops_access_ca_status(x, &st, err) != 0) {
		reply_from_err(rq, err);
		return;
	}
	reply_json(rq, 200, ca_status_json(&st));
}

static void
h_access_ca_rotate(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	json_int_t overlap = 1440;

	if (!request_unpack(rq, body, "{s?:I}", "overlap_minutes", &overlap))
		return;
	ca_step_reply(rq, &x, ops_access_ca_rotate(&x, (int64_t)overlap, &err), &err);
}

static void
h_access_ca_activate(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	ca_step_reply(rq, &x, ops_access_ca_activate(&x, &err), &err);
}

static void
h_access_ca_retire(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	ca_step_reply(rq, &x, ops_access_ca_retire(&x, &err), &err);
}

static void
h_access_ca_status(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	ca_step_reply(rq, &x, 0, &err);
}

/* The "verify permissions" report: standing access, active and future windows, unused grants, approvers. */
static void
h_access_review_report(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_access *as;
	struct db_user *us;
	struct bw_err err = { 0 };
	size_t n, nu, i;
	int64_t now = server_now();
	json_t *active, *future, *unused, *pending, *approvers, *standing;

	(void)body;
	if (ops_access_review_report(&x, &as, &n, &us, &nu, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	active = json_array(), future = json_array(), unused = json_array(), pending = json_array();
	approvers = json_array(), standing = json_array();
	for (i = 0; i < n; i++) {
		const char *st = access_state(&as[i], now);
		if (strcmp(st, "issued") == 0) {
			json_array_append_new(as[i].valid_after <= now ? active : future, request_json(&as[i], false));
			if (as[i].downloaded_at == 0)
				json_array_append_new(unused, request_json(&as[i], false));
		} else if (strcmp(st, "pending") == 0) {
			json_array_append_new(pending, request_json(&as[i], false));
		}
	}
	for (i = 0; i < nu; i++) {
		if (us[i].disabled)
			continue;
		if (us[i].roles & ROLE_APPROVER)
			json_array_append_new(approvers, json_string(us[i].username));
		if (us[i].roles & (ROLE_ADMIN | ROLE_OPERATOR))
			json_array_append_new(standing, json_pack("{s:s, s:o}", "username", us[i].username, "roles",
								  roles_json(us[i].roles)));
	}
	db_access_free(as, n);
	db_users_free(us, nu);
	reply_json(rq, 200, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "generated_at", (json_int_t)now,
				      "active_windows", active, "future_windows", future, "approved_unused", unused,
				      "pending", pending, "approvers", approvers, "standing_privileged_users", standing));
}

static void
h_access_wrapper(struct request *rq, json_t *body)
{
	char *t = strdup(access_session_wrapper);

	(void)body;
	if (t == NULL)
		reply_error(rq, 500, "out of memory");
	else
		reply_text(rq, 200, "text/x-shellscript; charset=utf-8", t, strlen(t));
}

static const struct route access_routes[] = {
	{ .method = "GET", .pattern = "/api/v1/hosts", .fn = h_host_list, .op = OP_HOST_LIST },
	{ .method = "POST", .pattern = "/api/v1/hosts", .fn = h_host_add, .op = OP_HOST_ADD, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/hosts/enrol", .fn = h_host_enrol, .op = OP_HOST_ENROL, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/hosts/{name}/enrolment", .fn = h_host_enrol_code, .op = OP_HOST_ENROL_CODE,
	  .json_body = true, .json_optional = true },
	{ .method = "POST", .pattern = "/api/v1/hosts/{name}/revoke", .fn = h_host_revoke, .op = OP_HOST_REVOKE },
	{ .method = "GET", .pattern = "/api/v1/hosts/{name}/sshd-config", .fn = h_host_sshd_config, .op = OP_HOST_SSHD_CONFIG },
	{ .method = "POST", .pattern = "/api/v1/access/requests", .fn = h_access_request, .op = OP_ACCESS_REQUEST, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/access/requests", .fn = h_access_list, .op = OP_ACCESS_LIST },
	{ .method = "GET", .pattern = "/api/v1/access/requests/{id}", .fn = h_access_get, .op = OP_ACCESS_GET },
	{ .method = "POST", .pattern = "/api/v1/access/requests/{id}/approve", .fn = h_access_approve, .op = OP_ACCESS_APPROVE, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/access/requests/{id}/deny", .fn = h_access_deny, .op = OP_ACCESS_DENY, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/access/requests/{id}/revoke", .fn = h_access_revoke, .op = OP_ACCESS_REVOKE, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/access/requests/{id}/certificate", .fn = h_access_certificate, .op = OP_ACCESS_CERTIFICATE },
	{ .method = "GET", .pattern = "/api/v1/access/review", .fn = h_access_review_report, .op = OP_ACCESS_REVIEW },
	{ .method = "GET", .pattern = "/api/v1/access/krl", .fn = h_access_krl, .op = OP_ACCESS_KRL },
	{ .method = "GET", .pattern = "/api/v1/access/ca", .fn = h_access_ca, .op = OP_ACCESS_CA },
	{ .method = "GET", .pattern = "/api/v1/access/ca/rotation", .fn = h_access_ca_status, .op = OP_ACCESS_CA_STATUS },
	{ .method = "POST", .pattern = "/api/v1/access/ca/rotate", .fn = h_access_ca_rotate, .op = OP_ACCESS_CA_ROTATE,
	  .json_body = true, .json_optional = true },
	{ .method = "POST", .pattern = "/api/v1/access/ca/activate", .fn = h_access_ca_activate, .op = OP_ACCESS_CA_ACTIVATE },
	{ .method = "POST", .pattern = "/api/v1/access/ca/retire", .fn = h_access_ca_retire, .op = OP_ACCESS_CA_RETIRE },
	{ .method = "GET", .pattern = "/api/v1/access/session-wrapper", .fn = h_access_wrapper, .op = OP_ACCESS_SESSION_WRAPPER },
};
const struct route_table access_route_table = { access_routes, sizeof access_routes / sizeof access_routes[0] };
