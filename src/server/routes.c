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

#define ANY_ROLE ROLE_ALL
#define PUBLIC 0u

/* ---- helpers ---------------------------------------------------------------- */


/* Roles array from a mask. */
static json_t *
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

/* Unpacks body per fmt (jansson, strict); replies 400 naming the problem. */


static json_t *
enrolment_json(const struct auth_enrolment *e)
{
	json_t *codes = json_array();
	int i;

	for (i = 0; i < AUTH_RECOVERY_CODES; i++)
		json_array_append_new(codes, json_string(e->recovery[i]));
	return json_pack("{s:s, s:o}", "otpauth_uri", e->otpauth_uri, "recovery_codes", codes);
}

/* Looks up the user named in the path; replies 404 itself. */
static bool
path_user(struct request *rq, struct db_user *u)
{
	struct bw_err err = { 0 };

	snprintf(rq->target, sizeof rq->target, "user:%.64s", rq->params[0]);
	if (!auth_username_valid(rq->params[0]) ||
	    db_user_by_name(rq->s->in->db, rq->params[0], u, &err) != 0) {
		reply_error(rq, 404, "no such user");
		return false;
	}
	return true;
}

/* ---- authentication ------------------------------------------------------------ */

static void
h_login(struct request *rq, json_t *body)
{
	const char *user = NULL, *pw = NULL, *otp = NULL;
	struct auth_login_result res;
	struct bw_err err = { 0 };
	int64_t wait, now_ms = audit_now_ms();

	rq->action = "auth.login";
	rq->audit = true;
	if (!request_unpack(rq, body, "{s:s, s:s, s:s}", "username", &user, "password", &pw, "otp", &otp))
		return;
	snprintf(rq->target, sizeof rq->target, "user:%.64s", user);
	if ((wait = throttle_check(rq->s->throttle, rq->addr, now_ms)) > 0) {
		rq->retry_after = wait;
		audit_detail(rq, "reason", json_string("address backing off after failures"));
		reply_error(rq, 429, "too many attempts; retry later");
		return;
	}
	if (auth_login(&rq->s->in->auth, user, pw, otp, now_ms / 1000, &res, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	audit_detail(rq, "reason", json_string(res.reason));
	if (res.throttled) {
		rq->retry_after = res.retry_after;
		reply_error(rq, 429, "too many attempts; retry later");
		return;
	}
	if (!res.ok) {
		throttle_failed(rq->s->throttle, rq->addr, now_ms);
		if (res.locked_now) {
			/* The alert: its own event, before the reply. */
			struct audit_event ev = { "-", "alert.account_locked", rq->target, "alert", rq->addr, rq->id,
						  "{\"reason\":\"repeated login failures\"}" };
			audit_record(rq->s->al, &ev, NULL, &err);
			audit_detail(rq, "locked", json_true());
		}
		reply_error(rq, 401, "invalid credentials");
		return;
	}
	throttle_ok(rq->s->throttle, rq->addr);
	rq->authenticated = true;
	snprintf(rq->who.username, sizeof rq->who.username, "%s", user);
	snprintf(rq->set_cookie, sizeof rq->set_cookie,
		 "bulwark_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%d", res.token,
		 AUTH_SESSION_MAX);
	reply_json(rq, 200, json_pack("{s:s, s:s, s:o, s:i, s:b}", "token", res.token, "username", user,
				      "roles", roles_json(res.roles), "expires_in", AUTH_SESSION_MAX,
				      "used_recovery_code", res.used_recovery_code));
	bw_memzero(res.token, sizeof res.token);
}

static void
h_logout(struct request *rq, json_t *body)
{
	struct bw_err err = { 0 };

	(void)body;
	rq->action = "auth.logout";
	snprintf(rq->target, sizeof rq->target, "token:%lld", (long long)rq->who.token_id);
	if (db_token_revoke_hash(rq->s->in->db, rq->who.token_hash, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	snprintf(rq->set_cookie, sizeof rq->set_cookie,
		 "bulwark_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
	reply_json(rq, 200, json_pack("{s:b}", "logged_out", 1));
}

static void
h_me(struct request *rq, json_t *body)
{
	(void)body;
	rq->action = "auth.me";
	reply_json(rq, 200, json_pack("{s:s, s:o, s:s}", "username", rq->who.username, "roles",
				      roles_json(rq->who.roles), "via",
				      rq->who.kind == DB_TOKEN_API ? "api_token" : "session"));
}

/* ---- users ------------------------------------------------------------------------ */

static json_t *
user_json(const struct db_user *u, int64_t now)
{
	return json_pack("{s:I, s:s, s:o, s:b, s:b, s:b, s:I}", "id", (json_int_t)u->id, "username", u->username,
			 "roles", roles_json(u->roles), "disabled", u->disabled, "locked", u->locked_until > now,
			 "mfa_enrolled", u->totp_sealed != NULL, "created_at", (json_int_t)u->created_at);
}

static void
h_users_list(struct request *rq, json_t *body)
{
	struct db_user *us = NULL;
	struct bw_err err = { 0 };
	json_t *arr;
	size_t n, i;

	(void)body;
	rq->action = "user.list";
	if (db_user_list(rq->s->in->db, &us, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, user_json(&us[i], server_now()));
	db_users_free(us, n);
	reply_json(rq, 200, json_pack("{s:o}", "users", arr));
}

static void
h_user_add(struct request *rq, json_t *body)
{
	const char *name = NULL, *pw = NULL;
	json_t *roles = NULL;
	unsigned mask;
	int64_t id = 0;
	struct auth_enrolment e;
	struct bw_err err = { 0 };
	json_t *out;

	rq->action = "user.add";
	if (!request_unpack(rq, body, "{s:s, s:s, s:o}", "username", &name, "password", &pw, "roles", &roles))
		return;
	snprintf(rq->target, sizeof rq->target, "user:%.64s", name);
	if (!roles_from_json(rq, roles, &mask))
		return;
	audit_detail(rq, "roles", roles_json(mask));
	if (auth_user_create(&rq->s->in->auth, name, pw, mask, server_now(), &id, &e, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	out = enrolment_json(&e);
	json_object_set_new(out, "id", json_integer(id));
	json_object_set_new(out, "username", json_string(name));
	reply_json(rq, 201, out);
	auth_enrolment_clear(&e);
}

static void
user_set_disabled(struct request *rq, bool disabled)
{
	struct db_user u;
	struct bw_err err = { 0 };

	rq->action = disabled ? "user.disable" : "user.enable";
	if (!path_user(rq, &u))
		return;
	if (db_user_set_disabled(rq->s->in->db, u.id, disabled, ROLE_ADMIN, &err) != 0)
		reply_from_err(rq, &err);
	else
		reply_json(rq, 200, json_pack("{s:s, s:b}", "username", u.username, "disabled", disabled));
	db_user_clear(&u);
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

static void
h_user_reset_mfa(struct request *rq, json_t *body)
{
	struct db_user u;
	struct auth_enrolment e;
	struct bw_err err = { 0 };

	(void)body;
	rq->action = "user.reset_mfa";
	if (!path_user(rq, &u))
		return;
	if (auth_user_reset_mfa(&rq->s->in->auth, u.id, &e, &err) != 0) {
		reply_from_err(rq, &err);
	} else {
		json_t *out = enrolment_json(&e);
		json_object_set_new(out, "username", json_string(u.username));
		reply_json(rq, 200, out);
		auth_enrolment_clear(&e);
	}
	db_user_clear(&u);
}

static void
h_user_roles(struct request *rq, json_t *body)
{
	struct db_user u;
	struct bw_err err = { 0 };
	json_t *roles = NULL;
	unsigned mask;

	rq->action = "user.roles";
	if (!request_unpack(rq, body, "{s:o}", "roles", &roles) || !path_user(rq, &u))
		return;
	if (roles_from_json(rq, roles, &mask)) {
		audit_detail(rq, "from", roles_json(u.roles));
		audit_detail(rq, "to", roles_json(mask));
		if (db_user_set_roles(rq->s->in->db, u.id, mask, ROLE_ADMIN, &err) != 0)
			reply_from_err(rq, &err);
		else
			reply_json(rq, 200, json_pack("{s:s, s:o}", "username", u.username, "roles", roles_json(mask)));
	}
	db_user_clear(&u);
}

/* ---- API tokens ------------------------------------------------------------------ */

static void
h_token_create(struct request *rq, json_t *body)
{
	const char *name = NULL;
	json_t *scopes = NULL;
	json_int_t days = 30;
	unsigned mask;
	char tok[AUTH_TOKEN_TEXT_MAX];
	int64_t id = 0;
	struct bw_err err = { 0 };

	rq->action = "token.create";
	if (!request_unpack(rq, body, "{s:s, s:o, s?:I}", "name", &name, "scopes", &scopes, "lifetime_days", &days))
		return;
	snprintf(rq->target, sizeof rq->target, "token:%.64s", name);
	if (!roles_from_json(rq, scopes, &mask))
		return;
	if (days < 1 || days > 366) {
		reply_error(rq, 400, "lifetime_days must be 1..366");
		return;
	}
	if (rq->who.kind == DB_TOKEN_API) {
		reply_error(rq, 403, "API tokens cannot create API tokens");
		return;
	}
	if (auth_api_token_create(&rq->s->in->auth, rq->who.user_id, name, mask, server_now(), days * 86400, tok, &id,
				  &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	audit_detail(rq, "scopes", roles_json(mask));
	audit_detail(rq, "token_id", json_integer(id));
	reply_json(rq, 201, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)id, "name", name, "token", tok,
				      "scopes", roles_json(mask)));
	bw_memzero(tok, sizeof tok);
}

static void
h_token_revoke(struct request *rq, json_t *body)
{
	uint64_t id;
	struct bw_err err = { 0 };

	(void)body;
	rq->action = "token.revoke";
	snprintf(rq->target, sizeof rq->target, "token:%.32s", rq->params[0]);
	if (bw_parse_u64(rq->params[0], strlen(rq->params[0]), &id) != 0 || id > INT64_MAX) {
		reply_error(rq, 400, "token id must be a decimal number");
		return;
	}
	/* Admins may revoke anyone's token; others only their own. */
	if (db_token_revoke_id(rq->s->in->db, (int64_t)id, (rq->who.roles & ROLE_ADMIN) ? -1 : rq->who.user_id,
			       &err) != 0) {
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
	rq->action = "log.checkpoint";
	/* From memory: the store's latest durable checkpoint (no file I/O per request). */
	if ((cp = audit_log_checkpoint(rq->s->al, &len)) == NULL) {
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

static void
serve_tile(struct request *rq, bool entries_allowed)
{
	const char *rel = rq->path + strlen("/log/");
	char path[4096];
	uint8_t *data = NULL;
	size_t len;
	int level;
	uint64_t n;
	unsigned w;
	struct bw_err err = { 0 };

	rq->action = "log.tile";
	snprintf(rq->target, sizeof rq->target, "%.150s", rq->path);
	if (!server_parse_tile_path(rel, &level, &n, &w)) {
		reply_error(rq, 400, "not a tlog-tiles path");
		return;
	}
	if (level == TLOG_TILE_ENTRIES && !entries_allowed) {
		reply_error(rq, 404, "entry bundles are served under /api/v1/log/tile/entries/ to auditors");
		return;
	}
	snprintf(path, sizeof path, "%s/%s", rq->s->in->log_dir, rel);
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
	serve_tile(rq, false);
}

static void
h_entries_tile(struct request *rq, json_t *body)
{
	(void)body;
	/* /api/v1/log/tile/entries/... -> same file layout under the log directory */
	rq->path += strlen("/api/v1");
	serve_tile(rq, true);
	rq->path -= strlen("/api/v1");
	rq->audit = true;
}

/* GET /api/v1/audit?from=N&to=M[&proofs=1]: events [from, to) with optional proofs. */
static void
h_audit(struct request *rq, json_t *body)
{
	const char *fs = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "from");
	const char *ts = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "to");
	const char *ps = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "proofs");
	struct tlog_tiles *t = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct note_verifier *v = rq->s->in->log_verifier;
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	uint8_t *note = NULL;
	uint64_t from = 0, to = 0, i;
	size_t len;
	bool proofs = ps != NULL && strcmp(ps, "1") == 0;
	json_t *events;

	(void)body;
	rq->action = "audit.read";
	rq->audit = true;	/* reading the audit trail is itself audited */
	if ((fs && bw_parse_u64(fs, strlen(fs), &from) != 0) || (ts && bw_parse_u64(ts, strlen(ts), &to) != 0) ||
	    (ps && strcmp(ps, "0") != 0 && strcmp(ps, "1") != 0)) {
		reply_error(rq, 400, "from and to must be decimal indexes, proofs 0 or 1");
		return;
	}
	if (tlog_checkpoint_load(rq->s->in->log_dir, &v, 1, &note, &len, &cp, &err) != 0 || tlog_tiles_open(rq->s->in->log_dir, &t, &err) != 0 ||
	    bw_sha256_new(&h, &err) != 0) {
		reply_from_err(rq, &err);
		goto out;
	}
	if (ts == NULL || to > cp.size)
		to = cp.size;
	if (from > to || to - from > 1000) {
		reply_error(rq, 400, "need from <= to and at most 1000 events per request (log size %llu)",
			    (unsigned long long)cp.size);
		goto out;
	}
	snprintf(rq->target, sizeof rq->target, "audit:%llu-%llu", (unsigned long long)from, (unsigned long long)to);
	events = json_array();
	for (i = from; i < to; i++) {
		uint8_t *e = NULL;
		size_t elen;
		json_t *ev, *item;
		json_error_t jerr;
		if (tlog_tiles_read_entry(t, cp.size, i, &e, &elen, &err) != 0) {
			json_decref(events);
			reply_from_err(rq, &err);
			goto out;
		}
		ev = json_loadb((char *)e, elen, 0, &jerr);
		item = json_pack("{s:I, s:o}", "index", (json_int_t)i, "event", ev ? ev : json_stringn((char *)e, elen));
		free(e);
		if (proofs) {
			struct tlog_reader rd = tlog_tiles_reader(t, cp.size);
			struct tlog_proof p;
			json_t *pa = json_array();
			size_t k;
			if (tlog_prove_inclusion(h, &rd, i, cp.size, &p, &err) != 0) {
				json_decref(item);
				json_decref(pa);
				json_decref(events);
				reply_from_err(rq, &err);
				goto out;
			}
			for (k = 0; k < p.n; k++) {
				char b64[48];
				bw_base64_encode(b64, p.h[k].b, 32);
				json_array_append_new(pa, json_string(b64));
			}
			json_object_set_new(item, "proof", pa);
		}
		json_array_append_new(events, item);
	}
	reply_json(rq, 200, json_pack("{s:I, s:s%, s:s, s:o}", "size", (json_int_t)cp.size, "checkpoint", (char *)note,
				      len, "log_vkey", rq->s->in->log_vkey, "events", events));
out:
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
}

/* ---- the permission table ------------------------------------------------------ */

const struct route routes[] = {
	/* method  pattern                              handler            roles allowed                json   audited */
	{ "POST", "/api/v1/login", h_login, PUBLIC, true, true, 0, false },
	{ "POST", "/api/v1/logout", h_logout, ANY_ROLE, false, true, 0, false },
	{ "GET", "/api/v1/me", h_me, ANY_ROLE, false, false, 0, false },
	{ "GET", "/api/v1/users", h_users_list, ROLE_ADMIN | ROLE_AUDITOR, false, false, 0, false },
	{ "POST", "/api/v1/users", h_user_add, ROLE_ADMIN, true, true, 0, false },
	{ "POST", "/api/v1/users/{name}/disable", h_user_disable, ROLE_ADMIN, false, true, 0, false },
	{ "POST", "/api/v1/users/{name}/enable", h_user_enable, ROLE_ADMIN, false, true, 0, false },
	{ "POST", "/api/v1/users/{name}/reset-mfa", h_user_reset_mfa, ROLE_ADMIN, false, true, 0, false },
	{ "PUT", "/api/v1/users/{name}/roles", h_user_roles, ROLE_ADMIN, true, true, 0, false },
	{ "POST", "/api/v1/tokens", h_token_create, ANY_ROLE, true, true, 0, false },
	{ "DELETE", "/api/v1/tokens/{id}", h_token_revoke, ANY_ROLE, false, true, 0, false },
	{ "GET", "/api/v1/audit", h_audit, ROLE_AUDITOR | ROLE_ADMIN, false, true, 0, false },
	{ "GET", "/api/v1/log/tile/entries/*", h_entries_tile, ROLE_AUDITOR | ROLE_ADMIN, false, true, 0, false },
	/* remote-maintenance access */
	{ "GET", "/api/v1/hosts", h_host_list, ANY_ROLE, false, false, 0, false },
	{ "POST", "/api/v1/hosts", h_host_add, ROLE_ADMIN, true, true, 0, false },
	{ "GET", "/api/v1/hosts/{name}/sshd-config", h_host_sshd_config, ROLE_ADMIN | ROLE_OPERATOR, false, false, 0, false },
	{ "POST", "/api/v1/access/requests", h_access_request, ROLE_VENDOR | ROLE_OPERATOR, true, true, 0, false },
	{ "GET", "/api/v1/access/requests", h_access_list, ANY_ROLE, false, false, 0, false },
	{ "GET", "/api/v1/access/requests/{id}", h_access_get, ANY_ROLE, false, false, 0, false },
	{ "POST", "/api/v1/access/requests/{id}/approve", h_access_approve, ROLE_APPROVER, true, true, 0, false },
	{ "POST", "/api/v1/access/requests/{id}/deny", h_access_deny, ROLE_APPROVER, true, true, 0, false },
	{ "POST", "/api/v1/access/requests/{id}/revoke", h_access_revoke, ROLE_APPROVER | ROLE_ADMIN, true, true, 0, false },
	{ "GET", "/api/v1/access/requests/{id}/certificate", h_access_certificate, ROLE_VENDOR | ROLE_OPERATOR, false, true, 0, false },
	{ "GET", "/api/v1/access/review", h_access_review_report, ROLE_ADMIN | ROLE_AUDITOR | ROLE_APPROVER, false, true, 0, false },
	{ "GET", "/api/v1/access/krl", h_access_krl, PUBLIC, false, false, 0, false },
	{ "GET", "/api/v1/access/ca", h_access_ca, PUBLIC, false, false, 0, false },
	{ "GET", "/api/v1/access/session-wrapper", h_access_wrapper, PUBLIC, false, false, 0, false },
	/* patch management (TUF repository) */
	{ "GET", "/api/v1/patch/keys", h_patch_keys, PUBLIC, false, false, 0, false },
	{ "PUT", "/api/v1/patch/blobs/{sha256}", h_patch_blob_put, ROLE_ADMIN, false, true, 0, true },
	{ "POST", "/api/v1/patch/publish", h_patch_publish, ROLE_ADMIN, true, true, (size_t)32 << 20, false },
	{ "POST", "/api/v1/patch/reports", h_patch_report, ROLE_OPERATOR | ROLE_ADMIN, true, true, 0, false },
	{ "GET", "/api/v1/patch/status", h_patch_status, ROLE_ADMIN | ROLE_AUDITOR | ROLE_OPERATOR, false, false, 0, false },
	{ "GET", "/patch/metadata/*", h_patch_metadata, PUBLIC, false, false, 0, false },
	{ "GET", "/patch/targets/*", h_patch_target, PUBLIC, false, false, 0, false },
	{ "GET", "/log/consistency/{old}/{new}", h_log_consistency, PUBLIC, false, false, 0, false },
	{ "GET", "/", h_index, PUBLIC, false, false, 0, false },
	{ "GET", "/app.js", h_app_js, PUBLIC, false, false, 0, false },
	{ "GET", "/log/checkpoint", h_checkpoint, PUBLIC, false, false, 0, false },
	{ "GET", "/log/tile/*", h_tile, PUBLIC, false, false, 0, false },
};
const size_t nroutes = sizeof routes / sizeof routes[0];
