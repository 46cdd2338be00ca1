/*
 * server/routes.c: the API routes and the permission table (which roles may
 * call each route). Handlers validate their input strictly and describe
 * what they did for the audit event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tlog/tlog.h"


/* ---- helpers ---------------------------------------------------------------- */


json_t *
roles_json(unsigned mask)
{
	json_t *a = json_array();
	unsigned bit;

	for (bit = 1; bit & ROLE_ALL; bit <<= 1)
		if (mask & bit)
			json_array_append_new(a, json_string(auth_role_name(bit)));
	return a;
}

/* Parses a JSON array of role names; replies 400 itself on error. */
static bool
roles_from_json(struct request *rq, json_t *arr, unsigned *mask)
{
	char buf[256] = "";
	size_t i, o = 0;
	json_t *v;
	struct bw_err err = { 0 };

	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 6) {
		reply_error(rq, 400, "roles must be an array of 1..6 role names");
		return false;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) > 16) {
			reply_error(rq, 400, "roles[%zu] must be a role name", i);
			return false;
		}
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? "," : "", json_string_value(v));
	}
	if (auth_roles_parse(buf, mask, &err) != 0) {
		reply_error(rq, 400, "%s", err.msg);
		return false;
	}
	return true;
}

/* ---- authentication ------------------------------------------------------------ */

static void
h_login(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_login q = { 0 };
	struct auth_login_result res;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s, s:s, s:s}", "username", &q.username, "password", &q.password, "otp",
			    &q.otp))
		return;
	ev_target(&rq->ev, "user:%.64s", q.username);
	if (request_throttled(rq))
		return;
	if (ops_login(&x, &q, &res, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	if (res.throttled) {
		rq->retry_after = res.retry_after;
		reply_error(rq, 429, "too many attempts; retry later");
		return;
	}
	request_throttle_result(rq, !res.ok);
	if (!res.ok) {
		reply_error(rq, 401, "invalid credentials");
		return;
	}
	rq->authenticated = true;
	snprintf(rq->who.username, sizeof rq->who.username, "%s", q.username);
	snprintf(rq->caller.name, sizeof rq->caller.name, "%s", q.username);
	snprintf(rq->set_cookie, sizeof rq->set_cookie,
		 SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%d", res.token,
		 AUTH_SESSION_MAX);
	reply_json(rq, 200, json_pack("{s:s, s:s, s:o, s:i, s:b}", "token", res.token, "username", q.username,
				      "roles", roles_json(res.roles), "expires_in", AUTH_SESSION_MAX,
				      "used_recovery_code", res.used_recovery_code));
	bw_memzero(res.token, sizeof res.token);
}

static void
h_logout(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	if (ops_logout(&x, rq->who.token_hash, rq->who.token_id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	snprintf(rq->set_cookie, sizeof rq->set_cookie,
		 SESSION_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
	reply_json(rq, 200, json_pack("{s:b}", "logged_out", 1));
}

/* POST /api/v1/me/password {"current_password","otp","new_password"} */
static void
h_passwd(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *cur = NULL, *otp = NULL, *npw = NULL;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s, s:s, s:s}", "current_password", &cur, "otp", &otp, "new_password", &npw))
		return;
	ev_target(&rq->ev, "user:%.64s", rq->caller.name);
	if (ops_user_passwd(&x, cur, otp, npw, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	snprintf(rq->set_cookie, sizeof rq->set_cookie,
		 SESSION_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
	reply_json(rq, 200, json_pack("{s:b, s:s}", "changed", 1, "note", "every session and token was revoked: sign in again"));
}

static void
h_me(struct request *rq, json_t *body)
{
	(void)body;
	reply_json(rq, 200, json_pack("{s:s, s:o, s:s}", "username", rq->who.username, "roles",
				      roles_json(rq->who.roles), "via",
				      rq->who.kind == DB_TOKEN_API ? "api_token" : "session"));
}

/* ---- users ------------------------------------------------------------------------ */

static json_t *
user_json(const struct db_user *u)
{
	return json_pack("{s:I, s:s, s:o, s:b, s:I, s:b, s:I}", "id", (json_int_t)u->id, "username", u->username,
			 "roles", roles_json(u->roles), "disabled", u->disabled, "locked_clients", (json_int_t)u->locked_clients,
			 "mfa_enrolled", u->totp_sealed != NULL, "created_at", (json_int_t)u->created_at);
}

static void
h_users_list(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_user *us = NULL;
	struct bw_err err = { 0 };
	json_t *arr;
	size_t n, i;

	(void)body;
	if (ops_user_list(&x, &us, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, user_json(&us[i]));
	db_users_free(us, n);
	reply_json(rq, 200, json_pack("{s:o}", "users", arr));
}

/* An invitation or MFA reset's answer: the code to hand over, and the roles now and waiting. */
static json_t *
issued_json(const char *username, const struct ops_enrol_issued *o)
{
	json_t *out = json_pack("{s:s, s:o, s:o, s:s, s:I}", "username", username, "roles", roles_json(o->roles),
				"pending_roles", roles_json(o->pending_roles), "enrolment_code", o->code.text,
				"code_expires", (json_int_t)o->code.expires_at);

	if (o->grant_id != 0)
		json_object_set_new(out, "grant_id", json_integer(o->grant_id));
	return out;
}

/* "enrol_hours" given (0: left out): 1..AUTH_ENROL_HOURS_MAX; replies 400 and returns false otherwise. */
static bool
enrol_hours_ok(struct request *rq, json_int_t hours)
{
	if (hours == 0 || (hours >= 1 && hours <= AUTH_ENROL_HOURS_MAX))
		return true;
	reply_error(rq, 400, "enrol_hours must be 1..%d", AUTH_ENROL_HOURS_MAX);
	return false;
}

bool
request_enrol_hours(struct request *rq, json_t *body, json_int_t *hours)
{
	*hours = 0;
	if (body != NULL && !request_unpack(rq, body, "{s?:I}", "enrol_hours", hours))
		return false;
	return enrol_hours_ok(rq, *hours);
}

/* POST /api/v1/users {"username","roles",["enrol_hours"]}: an invitation. */
static void
h_user_add(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_user_add q = { 0 };
	struct ops_enrol_issued o;
	json_t *roles = NULL, *out;
	json_int_t hours = 0;
	int64_t id = 0;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s, s:o, s?:I}", "username", &q.username, "roles", &roles, "enrol_hours",
			    &hours))
		return;
	ev_target(&rq->ev, "user:%.64s", q.username);
	if (!roles_from_json(rq, roles, &q.roles) || !enrol_hours_ok(rq, hours))
		return;
	q.enrol_hours = hours;
	if (ops_user_add(&x, &q, &id, &o, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	out = issued_json(q.username, &o);
	json_object_set_new(out, "id", json_integer(id));
	reply_json(rq, 201, out);
	bw_memzero(&o, sizeof o);
}

static void
user_set_disabled(struct request *rq, bool disabled)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	ev_target(&rq->ev, "user:%.64s", rq->params[0]);
	if (ops_user_set_disabled(&x, rq->params[0], disabled, &err) != 0)
		reply_from_err(rq, &err);
	else
		reply_json(rq, 200, json_pack("{s:s, s:b}", "username", rq->params[0], "disabled", disabled));
}

static void
h_user_disable(struct request *rq, json_t *body)
{
	(void)body;
	user_set_disabled(rq, true);
}

static void
h_user_enable(struct request *rq, json_t *body)
{
	(void)body;
	user_set_disabled(rq, false);
}

/* POST /api/v1/users/{name}/reset-mfa [{"enrol_hours"}]: a new enrolment code. */
static void
h_user_reset_mfa(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_enrol_issued o;
	struct bw_err err = { 0 };
	json_int_t hours = 0;

	ev_target(&rq->ev, "user:%.64s", rq->params[0]);
	if (!request_enrol_hours(rq, body, &hours))
		return;
	if (ops_user_reset_mfa(&x, rq->params[0], hours, &o, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, issued_json(rq->params[0], &o));
	bw_memzero(&o, sizeof o);
}

/* POST /api/v1/users/{name}/unlock: clears sign-in locks for the name from every client. */
static void
h_user_unlock(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	int n = 0;

	(void)body;
	ev_target(&rq->ev, "user:%.64s", rq->params[0]);
	if (ops_user_unlock(&x, rq->params[0], &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:i}", "username", rq->params[0], "clients_cleared", n));
}

static void
h_user_roles(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_enrol_issued o;
	struct bw_err err = { 0 };
	json_t *roles = NULL, *out;
	unsigned mask;

	ev_target(&rq->ev, "user:%.64s", rq->params[0]);
	if (!request_unpack(rq, body, "{s:o}", "roles", &roles) || !roles_from_json(rq, roles, &mask))
		return;
	if (ops_user_set_roles(&x, rq->params[0], mask, NULL, &o, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	out = json_pack("{s:s, s:o, s:o}", "username", rq->params[0], "roles", roles_json(o.roles), "pending_roles",
			roles_json(o.pending_roles));
	if (o.grant_id != 0)
		json_object_set_new(out, "grant_id", json_integer(o.grant_id));
	reply_json(rq, 200, out);
}

/* PUT /api/v1/users/{name}/email {"email"}: a user's registered address ("" removes it). */
static void
h_user_email(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *email = NULL;

	ev_target(&rq->ev, "user:%.64s", rq->params[0]);
	if (!request_unpack(rq, body, "{s:s}", "email", &email))
		return;
	if (ops_user_set_email(&x, rq->params[0], email, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s}", "username", rq->params[0], "email", email));
}

/* ---- API tokens ------------------------------------------------------------------ */

static void
h_token_create(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_token_create q = { .lifetime_days = 30 };
	json_t *scopes = NULL;
	json_int_t days = 30;
	char tok[AUTH_TOKEN_TEXT_MAX];
	int64_t id = 0;
	struct bw_err err = { 0 };

	if (!request_unpack(rq, body, "{s:s, s:o, s?:I}", "name", &q.name, "scopes", &scopes, "lifetime_days", &days))
		return;
	ev_target(&rq->ev, "token:%.64s", q.name);
	if (!roles_from_json(rq, scopes, &q.scopes))
		return;
	if (days < 1 || days > 366) {
		reply_error(rq, 400, "lifetime_days must be 1..366");
		return;
	}
	q.lifetime_days = days;
	if (ops_token_create(&x, &q, tok, &id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "name", q.name, "token", tok,
				      "scopes", roles_json(q.scopes)));
	bw_memzero(tok, sizeof tok);
}

static void
h_token_revoke(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	uint64_t id;
	struct bw_err err = { 0 };

	(void)body;
	ev_target(&rq->ev, "token:%.32s", rq->params[0]);
	if (bw_parse_u64(rq->params[0], strlen(rq->params[0]), &id) != 0 || id > INT64_MAX) {
		reply_error(rq, 400, "token id must be a decimal number");
		return;
	}
	if (ops_token_revoke(&x, (int64_t)id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

/* ---- the log --------------------------------------------------------------------- */

static void
h_checkpoint(struct request *rq, json_t *body)
{
	size_t len = 0;
	char *cp;

	(void)body;
	/*
	 * From memory (no file I/O per request): with witnesses, the checkpoint
	 * they cosigned in the policy's quorum, with their cosignatures (the
	 * latest until there is one); else the latest durable one.
	 */
	cp = rq->s->cosigner != NULL ? cosigner_published(rq->s->cosigner, &len) : NULL;
	if (cp == NULL && (cp = audit_log_checkpoint(rq->s->al, &len)) == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	reply_text(rq, 200, "text/plain; charset=utf-8", cp, len);
}

/*
 * Parses "/log/tile/<L>/<N>[.p/<W>]" or "/log/tile/entries/..." strictly: the
 * path must be exactly what tlog_tile_path() produces for the parsed values.
 */
bool
server_parse_tile_path(const char *rel, int *level, uint64_t *n, unsigned *w)
{
	char canon[TLOG_PATH_MAX];
	const char *p;
	uint64_t v = 0, lv = 0;

	if (strncmp(rel, "tile/", 5) != 0 || strlen(rel) >= TLOG_PATH_MAX)
		return false;
	p = rel + 5;
	*w = TLOG_TILE_WIDTH;
	if (strncmp(p, "entries/", 8) == 0) {
		*level = TLOG_TILE_ENTRIES;
		p += 8;
	} else {
		const char *sl = strchr(p, '/');
		if (sl == NULL || bw_parse_u64(p, (size_t)(sl - p), &lv) != 0 || lv > 7)
			return false;
		*level = (int)lv;
		p = sl + 1;
	}
	/* N: groups of three digits, "x" prefixed except the last. */
	for (;;) {
		bool last = *p != 'x';
		uint64_t g;
		if (!last)
			p++;
		if (strlen(p) < 3 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
			return false;
		g = (uint64_t)(p[0] - '0') * 100 + (uint64_t)(p[1] - '0') * 10 + (uint64_t)(p[2] - '0');
		if (v > (UINT64_MAX - g) / 1000)
			return false;
		v = v * 1000 + g;
		p += 3;
		if (last)
			break;
		if (*p != '/')
			return false;
		p++;
	}
	if (strncmp(p, ".p/", 3) == 0) {
		uint64_t wv;
		if (bw_parse_u64(p + 3, strlen(p + 3), &wv) != 0 || wv == 0 || wv >= TLOG_TILE_WIDTH)
			return false;
		*w = (unsigned)wv;
	} else if (*p != '\0') {
		return false;
	}
	*n = v;
	tlog_tile_path(canon, *level, *n, *w);
	return strcmp(canon, rel) == 0;
}

void
server_serve_tile(struct request *rq, const char *prefix, const char *dir, bool entries_allowed)
{
	const char *rel = rq->path + strlen(prefix);
	char path[4096];
	uint8_t *data = NULL;
	size_t len;
	int level;
	uint64_t n;
	unsigned w;
	struct bw_err err = { 0 };

	ev_target(&rq->ev, "%.150s", rq->path);
	if (!server_parse_tile_path(rel, &level, &n, &w)) {
		reply_error(rq, 400, "not a tlog-tiles path");
		return;
	}
	if (level == TLOG_TILE_ENTRIES && !entries_allowed) {
		reply_error(rq, 404, "entry bundles are served under /api%s to auditors", prefix);
		return;
	}
	if (level == TLOG_TILE_ENTRIES) {
		uint64_t pruned = 0;
		if (tlog_pruned(dir, &pruned, &err) != 0) {
			reply_error(rq, 500, "%s", err.msg);
			return;
		}
		if (n < pruned / TLOG_TILE_WIDTH) {
			reply_error(rq, 410,
				    "entry bundle %llu was pruned for retention (entries below %llu); the hash tiles still "
				    "prove the tree",
				    (unsigned long long)n, (unsigned long long)pruned);
			return;
		}
	}
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if (bw_file_read(path, (size_t)TLOG_TILE_WIDTH * (TLOG_ENTRY_MAX + 2), &data, &len, &err) != 0) {
		reply_error(rq, 404, "no such tile");
		return;
	}
	reply_text(rq, 200, "application/octet-stream", (char *)data, len);
}

static void
h_tile(struct request *rq, json_t *body)
{
	(void)body;
	server_serve_tile(rq, "/log/", rq->s->in->log_dir, false);
}

static void
h_entries_tile(struct request *rq, json_t *body)
{
	(void)body;
	/* /api/v1/log/tile/entries/... -> same file layout under the log directory */
	rq->path += strlen("/api/v1");
	server_serve_tile(rq, "/log/", rq->s->in->log_dir, true);
	rq->path -= strlen("/api/v1");
}

/* GET /log/key-transitions: the log key's transitions, for verifiers to follow (public, like the checkpoint). */
static void
h_key_transitions(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	json_t *out = NULL;

	(void)body;
	if (ops_log_key_transitions(&x, &out, &err) != 0) {
		reply_error(rq, status_for_err(err.code), "%s", status_for_err(err.code) >= 500 ? "internal error" : err.msg);
		return;
	}
	reply_json(rq, 200, out);
}

/* POST /api/v1/log/key/rotate: the audit log's key rotated now (admins); appends wait a moment for the handover. */
static void
h_log_key_rotate(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct ops_log_key_rotation res;
	struct bw_err err = { 0 };

	(void)body;
	if (ops_log_key_rotate(&x, &res, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s, s:I, s:I}", "previous_key", res.previous_key, "key", res.key, "index",
				      (json_int_t)res.index, "handover", (json_int_t)res.handover));
	ops_log_key_rotation_clear(&res);
}

/* GET /api/v1/audit?from=N&to=M[&proofs=1]: events [from, to) with optional proofs. */
static void
h_audit(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	const char *fs = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "from");
	const char *ts = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "to");
	const char *ps = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "proofs");
	const char *cs = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "checkpoint");
	struct bw_err err = { 0 };
	uint64_t from = 0, to = 0;
	json_t *out = NULL;

	(void)body;
	if ((fs && bw_parse_u64(fs, strlen(fs), &from) != 0) || (ts && bw_parse_u64(ts, strlen(ts), &to) != 0) ||
	    (ps && strcmp(ps, "0") != 0 && strcmp(ps, "1") != 0) ||
	    (cs && strcmp(cs, "latest") != 0 && strcmp(cs, "cosigned") != 0)) {
		reply_error(rq, 400, "from and to must be decimal indexes, proofs 0 or 1, checkpoint latest or cosigned");
		return;
	}
	if (ops_audit_read(&x, fs ? &from : NULL, ts ? &to : NULL, ps != NULL && strcmp(ps, "1") == 0,
			   cs != NULL && strcmp(cs, "cosigned") == 0, &out, &err) != 0) {
		reply_error(rq, err.code == BW_EINVAL ? 400 : status_for_err(err.code), "%s",
			    status_for_err(err.code) >= 500 ? "internal error" : err.msg);
		return;
	}
	reply_json(rq, 200, out);
}

/* ---- routes: transport facts; the permission is the operation's (ops_table.def) ---- */

static const struct route auth_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/login", .fn = h_login, .op = OP_AUTH_LOGIN, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/logout", .fn = h_logout, .op = OP_AUTH_LOGOUT },
	{ .method = "GET", .pattern = "/api/v1/me", .fn = h_me, .op = OP_AUTH_ME },
	{ .method = "POST", .pattern = "/api/v1/me/password", .fn = h_passwd, .op = OP_USER_PASSWD, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/users", .fn = h_users_list, .op = OP_USER_LIST },
	{ .method = "POST", .pattern = "/api/v1/users", .fn = h_user_add, .op = OP_USER_ADD, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/users/{name}/disable", .fn = h_user_disable, .op = OP_USER_DISABLE },
	{ .method = "POST", .pattern = "/api/v1/users/{name}/enable", .fn = h_user_enable, .op = OP_USER_ENABLE },
	{ .method = "POST", .pattern = "/api/v1/users/{name}/reset-mfa", .fn = h_user_reset_mfa, .op = OP_USER_RESET_MFA,
	  .json_body = true, .json_optional = true },
	{ .method = "POST", .pattern = "/api/v1/users/{name}/unlock", .fn = h_user_unlock, .op = OP_USER_UNLOCK },
	{ .method = "PUT", .pattern = "/api/v1/users/{name}/roles", .fn = h_user_roles, .op = OP_USER_ROLES, .json_body = true },
	{ .method = "PUT", .pattern = "/api/v1/users/{name}/email", .fn = h_user_email, .op = OP_USER_EMAIL, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/tokens", .fn = h_token_create, .op = OP_TOKEN_CREATE, .json_body = true },
	{ .method = "DELETE", .pattern = "/api/v1/tokens/{id}", .fn = h_token_revoke, .op = OP_TOKEN_REVOKE },
	{ .method = "GET", .pattern = "/api/v1/audit", .fn = h_audit, .op = OP_AUDIT_READ },
	{ .method = "GET", .pattern = "/api/v1/log/tile/entries/*", .fn = h_entries_tile, .op = OP_LOG_ENTRIES },
	{ .method = "GET", .pattern = "/log/checkpoint", .fn = h_checkpoint, .op = OP_LOG_CHECKPOINT },
	{ .method = "GET", .pattern = "/log/tile/*", .fn = h_tile, .op = OP_LOG_TILE },
	{ .method = "GET", .pattern = "/log/key-transitions", .fn = h_key_transitions, .op = OP_LOG_KEY_TRANSITIONS },
	{ .method = "POST", .pattern = "/api/v1/log/key/rotate", .fn = h_log_key_rotate, .op = OP_LOG_KEY_ROTATE },
};
const struct route_table auth_route_table = { auth_routes, sizeof auth_routes / sizeof auth_routes[0] };

