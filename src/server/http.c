/*
 * server/http.c: libmicrohttpd plumbing: TLS 1.3-only daemon, request
 * bodies with limits, routing with the permission table, authentication,
 * and the audit event of every state change and every refusal, made
 * durable before the response is queued.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "http.h"

static const char tls13_only[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

void
reply_json(struct request *rq, unsigned status, json_t *body)
{
	json_decref(rq->reply);
	rq->status = status;
	rq->reply = body;
}

void
reply_error(struct request *rq, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (rq->rt != NULL && rq->rt->taxii) {
		/* a TAXII 2.1 error message (title required; http_status a string) */
		char code[8];
		snprintf(code, sizeof code, "%u", status);
		reply_json(rq, status, json_pack("{s:o, s:s, s:s}", "title", ev_text(msg, sizeof msg), "http_status", code,
						 "error_id", rq->id));
	} else {
		reply_json(rq, status, json_pack("{s:o, s:s}", "error", ev_text(msg, sizeof msg), "request_id", rq->id));
	}
	if (!rq->result_set)
		rq->ev.result = status == 401 || status == 403 ? EV_DENIED : status >= 500 ? EV_ERROR : EV_REFUSED;
}

void
reply_text(struct request *rq, unsigned status, const char *type, char *text, size_t len)
{
	free(rq->raw_reply);
	rq->status = status;
	rq->raw_reply = text;
	rq->raw_len = len;
	rq->raw_type = type;
}

void
reply_line(struct request *rq, const char *line)
{
	size_t n = strlen(line);
	char *t = malloc(n + 2);

	if (t == NULL) {
		reply_error(rq, 500, "out of memory");
		return;
	}
	memcpy(t, line, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	reply_text(rq, 200, "text/plain; charset=utf-8", t, n + 1);
}

int64_t
server_now(void)
{
	return bw_now_ms() / 1000;
}

/*
 * jansson's unpack errors in the API's words: "1 object item(s) left
 * unpacked: extra" is an unknown field, "Object item not found: otp" a
 * missing one; type errors name the expected type.
 */
static void
unpack_message(const char *text, char *out, size_t cap)
{
	const char *p = text;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p != text && strncmp(p, " object item(s) left unpacked: ", 31) == 0)
		snprintf(out, cap, "unknown field: %s", p + 31);
	else if (strncmp(text, "Object item not found: ", 23) == 0)
		snprintf(out, cap, "missing field: %s", text + 23);
	else if (strncmp(text, "Expected ", 9) == 0)
		snprintf(out, cap, "wrong type: expected %s", text + 9);
	else
		snprintf(out, cap, "%s", text);
}

bool
request_param_id(struct request *rq, const char *kind, int width, int status, const char *msg, int64_t *id)
{
	uint64_t v = 0;

	ev_target(&rq->ev, "%s:%.*s", kind, width, rq->params[0]);
	if (bw_parse_u64(rq->params[0], strlen(rq->params[0]), &v) != 0 || v == 0 || v > INT64_MAX) {
		reply_error(rq, status, "%s", msg);
		return false;
	}
	*id = (int64_t)v;
	return true;
}

bool
request_unpack(struct request *rq, json_t *body, const char *fmt, ...)
{
	json_error_t jerr;
	char msg[256];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = json_vunpack_ex(body, &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (r != 0) {
		unpack_message(jerr.text, msg, sizeof msg);
		reply_error(rq, 400, "invalid request: %s", msg);
		/* Before any operation ran: an anonymous client's goes to its refusal summary. */
		rq->refused_early = true;
	}
	return r == 0;
}

unsigned
status_for_err(int code)
{
	switch (code) {
	case BW_EDENIED: return 403;
	case BW_ENOTFOUND: return 404;
	case BW_EEXIST: case BW_ECONFLICT: return 409;
	case BW_EGONE: return 410;
	case BW_EINVAL: case BW_ERANGE: return 422;
	case BW_EBUSY: return 503;
	default: return 500;
	}
}

void
reply_from_err(struct request *rq, const struct bw_err *err)
{
	unsigned st = status_for_err(err->code);

	reply_error(rq, st, "%s", st == 500 ? "internal error" : st == 503 ? "audit log unavailable; request not confirmed"
									      : err->msg);
	if (st >= 500)
		ev_str(&rq->ev, EVF_ERROR, err->msg);
}

/* An operation records the request's event itself: the transport records none after it. */
static void
op_recorded(void *arg)
{
	struct request *rq = arg;

	rq->audited = true;
}

struct ops_ctx
request_ops(struct request *rq)
{
	struct ops_ctx x = { .in = rq->s->in, .al = rq->s->al, .env = &rq->s->env, .caller = &rq->caller,
			     .on_record = op_recorded, .on_record_arg = rq };
	return x;
}

/* The access log: one escaped JSON line on stderr per request. */
static void
log_line(const struct request *rq)
{
	EV_LOG(EVLOG_INFO, "request", EV_KS("request_id", rq->id), EV_KS("source", rq->addr),
	       EV_KS("method", rq->method), EV_KS("path", rq->path), EV_KI("status", rq->status),
	       EV_KS("actor", rq->caller.name));
}

/* Matches path against pattern with {param} segments; fills rq->params. */
bool
server_route_match(const char *pattern, const char *path, struct request *rq)
{
	int np = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *pe = strchr(pattern, '}'), *se = strchr(path, '/');
			size_t n = se ? (size_t)(se - path) : strlen(path);
			if (pe == NULL || n == 0 || n >= sizeof rq->param_buf[0] || np == HTTP_MAX_PARAMS)
				return false;
			memcpy(rq->param_buf[np], path, n);
			rq->param_buf[np][n] = '\0';
			rq->params[np] = rq->param_buf[np];
			np++;
			pattern = pe + 1;
			path += n;
			continue;
		}
		if (pattern[0] == '*' && pattern[1] == '\0')
			return true;
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return (*pattern == '\0' || strcmp(pattern, "*") == 0) && *path == '\0';
}

/*
 * Does the client take TAXII 2.1 (RFC 9110 Accept: a media range
 * application/taxii+json with no version or version=2.1)? A missing Accept
 * is refused too: TAXII clients must send one.
 */
static bool
taxii_accepted(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *p = h;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ","), k, o = 0;
		char range[160], *param, *save = NULL;
		bool ok;
		for (k = 0; k < n && o + 1 < sizeof range; k++)
			if (p[k] != ' ' && p[k] != '\t')
				range[o++] = (char)tolower((unsigned char)p[k]);
		range[o] = '\0';
		p += n;
		if (*p == ',')
			p++;
		if (k < n)
			continue;	/* longer than any range we take */
		param = strtok_r(range, ";", &save);
		ok = param != NULL && strcmp(param, "application/taxii+json") == 0;
		while (ok && (param = strtok_r(NULL, ";", &save)) != NULL)
			if ((strncmp(param, "version=", 8) == 0 && strcmp(param + 8, "2.1") != 0) ||
			    (strncmp(param, "q=", 2) == 0 && strtod(param + 2, NULL) <= 0))
				ok = false;
		if (ok)
			return true;
	}
	return false;
}

/*
 * A token sent as the password of HTTP Basic (TAXII clients must support
 * Basic): "Authorization: Basic base64(NAME:TOKEN)". The name is not
 * checked; the token alone says who it is. Copied into out.
 */
static const char *
basic_token(const char *h, char *out, size_t cap)
{
	uint8_t raw[AUTH_TOKEN_TEXT_MAX + 160];
	size_t len = 0;
	const uint8_t *colon;

	if (bw_base64_decode(h, strlen(h), raw, sizeof raw - 1, &len) != 0)
		return NULL;
	raw[len] = '\0';
	if ((colon = memchr(raw, ':', len)) == NULL || (size_t)(raw + len - colon - 1) >= cap ||
	    memchr(raw, '\0', len) != NULL)
		return NULL;
	snprintf(out, cap, "%s", (const char *)colon + 1);
	bw_memzero(raw, sizeof raw);
	return out;
}

/* Extracts the session token: "Authorization: Bearer X" (or Basic with X as the password), else the session cookie (*cookie set). */
static const char *
find_token(struct MHD_Connection *c, bool *cookie, char *basic, size_t cap)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	*cookie = false;
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		return h + 7;
	if (h != NULL && strncasecmp(h, "Basic ", 6) == 0)
		return basic_token(h + 6, basic, cap);
	h = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
	*cookie = h != NULL;
	return h;
}

/*
 * Cross-site request forgery: a browser sends the session cookie with any
 * request to this origin, even one a foreign page makes. A state change
 * authenticated by the cookie is refused when the browser says it comes
 * from another site (Fetch Metadata: Sec-Fetch-Site other than
 * same-origin/none) or from another origin (Origin not this Host). A client
 * that sends neither header is not a browser and cannot be forged that way.
 */
static bool
cross_site(struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return true;
	if (origin != NULL)
		return host == NULL || strncmp(origin, "https://", 8) != 0 || strcmp(origin + 8, host) != 0;
	return false;
}

static bool
content_type_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Identity behind tok: from the cache, else from the database (then cached). */
static bool
authenticate(struct request *rq, const char *tok, struct bw_err *err)
{
	uint8_t hash[32];
	int64_t now_ms = bw_now_ms();
	uint64_t gen;

	if (strlen(tok) < AUTH_TOKEN_TEXT_MAX && auth_token_hash(tok, hash) == 0 &&
	    tokcache_get(rq->s->tokens, hash, now_ms, &rq->who))
		return true;
	gen = tokcache_generation(rq->s->tokens);
	if (ops_authenticate(rq->s->in, tok, now_ms / 1000, &rq->who, err) != 0)
		return false;
	tokcache_put(rq->s->tokens, &rq->who, now_ms, gen);
	return true;
}

const struct route_table *const server_route_tables[] = { &auth_route_table, &enrol_route_table, &access_route_table,
							 &patch_route_table, &alert_route_table, &hostev_route_table, &witness_route_table, &report_route_table,
							 &taxii_route_table, &metrics_route_table, &web_route_table, NULL };

const struct route *
server_route_find(struct request *rq, const char *method, const char *path, bool *path_known)
{
	size_t t, i;

	*path_known = false;
	for (t = 0; server_route_tables[t] != NULL; t++) {
		const struct route_table *rt = server_route_tables[t];
		if (rq->s->opts.witness_only && rt != &auth_route_table && rt != &witness_route_table &&
		    rt != &alert_route_table && rt != &metrics_route_table)
			continue;
		for (i = 0; i < server_route_tables[t]->n; i++) {
			const struct route *r = &server_route_tables[t]->routes[i];
			if (!server_route_match(r->pattern, path, rq))
				continue;
			*path_known = true;
			if (strcmp(r->method, method) == 0)
				return r;
		}
	}
	return NULL;
}

/* Refuses rq before its handler runs: the audit event names the method and path. */
static void __attribute__((format(printf, 4, 5)))
refuse(struct request *rq, enum ev_action action, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rq->ev.action = action;
	rq->refused_early = true;
	ev_target(&rq->ev, "%.32s %.150s", rq->method, rq->path);
	reply_error(rq, status, "%s", msg);
}

/*
 * A request body's Content-Encoding: none (or identity), or gzip where the
 * route takes it, inflated in place under the same limit the body had. Any
 * other encoding is refused (415), a body that is not gzip or inflates past
 * the limit too (400, 413). False when the request was refused.
 */
static bool
body_decoded(struct request *rq, const struct route *rt)
{
	const char *ce = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	struct bw_buf plain = { 0 };
	struct bw_err err = { 0 };
	int r;

	if (ce == NULL || strcasecmp(ce, "identity") == 0)
		return true;
	if (!rt->gzip_body || strcasecmp(ce, "gzip") != 0) {
		refuse(rq, EV_HTTP_REFUSED, 415, "Content-Encoding '%.40s' not accepted here%s", ce,
		       rt->gzip_body ? " (gzip is)" : "");
		return false;
	}
	if ((r = bw_gunzip(rq->body.data, rq->body.len, rq->body_limit, &plain, &err)) != 0) {
		bw_buf_free(&plain);
		refuse(rq, EV_HTTP_REFUSED, r == BW_ERANGE ? 413 : 400, "gzip body: %s", err.msg);
		return false;
	}
	bw_buf_free(&rq->body);
	rq->body = plain;
	return true;
}

/* Runs auth and the handler of the route matched when the headers came; sets the response and audit fields. */
static void
dispatch(struct request *rq)
{
	const struct route *rt = rq->rt;
	json_t *body = NULL;

	if (rq->bad_method) {
		refuse(rq, EV_HTTP_REFUSED, 501, "method not supported (GET, POST, PUT, DELETE)");
		return;
	}
	if (rt == NULL) {
		if (rq->path_known)
			refuse(rq, EV_HTTP_REFUSED, 405, "method %s not allowed here", rq->method);
		else
			refuse(rq, EV_HTTP_REFUSED, 404, "no such route");
		return;
	}
	rq->audit = ops_always_audited(rt->op);
	if (rt->taxii && !taxii_accepted(rq->c)) {
		refuse(rq, EV_HTTP_REFUSED, 406, "Accept must name application/taxii+json;version=2.1");
		return;
	}
	/* Who is asking, and may they? The operation's entry in the permission table says. */
	if (ops_def(rt->op)->roles != OPS_PUBLIC) {
		bool cookie;
		char basic[AUTH_TOKEN_TEXT_MAX];
		const char *tok = find_token(rq->c, &cookie, basic, sizeof basic);
		struct bw_err err = { 0 };
		if (tok == NULL || !authenticate(rq, tok, &err)) {
			refuse(rq, EV_HTTP_UNAUTHENTICATED, 401, "authentication required");
			return;
		}
		rq->authenticated = true;
		ops_caller_signed_in(&rq->caller, &rq->who, rq->addr, rq->id);
		snprintf(rq->ev.actor, sizeof rq->ev.actor, "%s", rq->caller.name);
		/* A forged request names the signed-in user it was aimed at (its own event, not a summary). */
		if (cookie && (ops_def(rt->op)->flags & OPF_STATE) && cross_site(rq->c)) {
			refuse(rq, EV_HTTP_FORBIDDEN, 403, "cross-site request refused (session cookie from another origin)");
			ev_str(&rq->ev, EVF_OPERATION, ops_def(rt->op)->name);
			return;
		}
	}
	if (ops_authorize(rt->op, &rq->caller) != OPS_ALLOW) {
		bool token = rq->caller.via == OPS_VIA_API_TOKEN && (ops_def(rt->op)->flags & OPF_SESSION_ONLY);
		refuse(rq, EV_HTTP_FORBIDDEN, 403, "%s",
		       token ? "API tokens cannot do this; sign in" : "your roles do not allow this");
		ev_str(&rq->ev, EVF_OPERATION, ops_def(rt->op)->name);
		return;
	}
	if (rt->json_body && rt->json_optional && rq->body.len == 0 && !rq->body_too_large) {
		body = NULL;	/* an optional body left out */
	} else if (rt->json_body || rt->raw_json_body) {
		json_error_t jerr;
		if (rq->body_too_large) {
			refuse(rq, EV_HTTP_REFUSED, 413, "request body larger than %zu bytes", rq->body_limit);
			return;
		}
		if (!content_type_json(rq->c)) {
			refuse(rq, EV_HTTP_REFUSED, 415, "Content-Type must be application/json");
			return;
		}
		if (!body_decoded(rq, rt))
			return;
		/* raw_json_body: the handler's own parser reads rq->body */
		if (rt->json_body &&
		    (body = json_loadb((const char *)rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			refuse(rq, EV_HTTP_REFUSED, 400, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
			       jerr.text);
			return;
		}
		if (rt->json_body && !json_is_object(body)) {
			json_decref(body);
			refuse(rq, EV_HTTP_REFUSED, 400, "the body must be a JSON object");
			return;
		}
	} else if (rt->raw_body) {
		if (rq->body_too_large) {
			refuse(rq, EV_HTTP_REFUSED, 413, "request body larger than %zu bytes", rq->body_limit);
			return;
		}
		if (!body_decoded(rq, rt))
			return;
	} else if (rt->upload) {
		if (rq->upload_fd < 0 && !rq->upload_failed) {
			refuse(rq, EV_HTTP_REFUSED, 400, "upload not accepted");
			return;
		}
	} else if (rt->sample_upload) {
		if (rq->sample == NULL) {
			refuse(rq, EV_HTTP_REFUSED, 503, "the sample cannot be stored now");
			return;
		}
		if (ops_report_upload_too_large(rq->sample)) {
			refuse(rq, EV_HTTP_REFUSED, 413, "request body larger than %zu bytes", OPS_REPORT_MAX);
			return;
		}
	} else if (rq->body.len > 0 || rq->body_too_large) {
		refuse(rq, EV_HTTP_REFUSED, 400, "this route takes no request body");
		return;
	}
	rq->ev.action = ops_def(rt->op)->event;
	rq->ev.result = EV_OK;
	rt->fn(rq, body);
	json_decref(body);
}

bool
request_record_audit(struct request *rq)
{
	struct bw_err err = { 0 };
	bool ok;

	rq->ev.transport = true;
	ev_int(&rq->ev, EVF_STATUS, rq->status);
	{
		char m[17];
		snprintf(m, sizeof m, "%.16s", rq->method);	/* methods are short; anything longer is cut */
		ev_str(&rq->ev, EVF_METHOD, m);
	}
	ok = audit_record(rq->s->al, &rq->ev, NULL, &err) == 0;
	rq->audited = ok;
	if (!ok)
		EV_LOG(EVLOG_ERROR, "audit event not recorded", EV_KS("request_id", rq->id), EV_KS("error", err.msg));
	return ok;
}

static enum MHD_Result
send_reply(struct request *rq)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len;

	if (rq->reply_fd >= 0) {
		resp = MHD_create_response_from_fd64(rq->reply_fd_len, rq->reply_fd);
		if (resp != NULL) {
			rq->reply_fd = -1;	/* the response owns it now */
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
						rq->raw_type ? rq->raw_type : "application/octet-stream");
		}
	} else if (rq->raw_reply != NULL) {
		resp = MHD_create_response_from_buffer(rq->raw_len, rq->raw_reply, MHD_RESPMEM_MUST_COPY);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->raw_type);
	} else {
		if (rq->reply == NULL)
			rq->reply = json_object();
		text = json_dumps(rq->reply, JSON_COMPACT | JSON_SORT_KEYS);
		len = text ? strlen(text) : 0;
		resp = MHD_create_response_from_buffer(len, text ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	}
	free(text);
	if (resp == NULL)
		return MHD_NO;
	if (rq->rt != NULL && rq->rt->taxii && rq->raw_reply == NULL && rq->reply_fd < 0) {
		MHD_del_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TAXII_MEDIA_TYPE);
		if (rq->status == 401)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						"Bearer realm=\"bulwark TAXII\", Basic realm=\"bulwark TAXII\"");
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	MHD_add_response_header(resp, "X-Request-Id", rq->id);
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (rq->attachment[0] != '\0') {
		char cd[200];
		snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", rq->attachment);
		MHD_add_response_header(resp, "Content-Disposition", cd);
	}
	if (rq->set_cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rq->set_cookie);
	for (size_t i = 0; i < rq->nextra && i < sizeof rq->extra / sizeof rq->extra[0]; i++)
		MHD_add_response_header(resp, rq->extra[i].name, rq->extra[i].value);
	if (rq->retry_after > 0) {
		char ra[24];
		snprintf(ra, sizeof ra, "%lld", (long long)rq->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(rq->c, rq->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

void
sockaddr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	snprintf(out, cap, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
			  (socklen_t)cap);
}

static void
client_address(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	sockaddr_text(ci ? ci->client_addr : NULL, out, cap);
}

/* True when the request's token belongs to someone rq->rt admits (dispatch checks again). */
static bool
caller_admitted(struct request *rq)
{
	bool cookie;
	char basic[AUTH_TOKEN_TEXT_MAX];
	const char *tok = find_token(rq->c, &cookie, basic, sizeof basic);
	struct bw_err err = { 0 };
	struct ops_caller c;
	bool ok = tok != NULL && authenticate(rq, tok, &err);

	if (ok) {
		ops_caller_signed_in(&c, &rq->who, rq->addr, rq->id);
		ok = ops_authorize(rq->rt->op, &c) == OPS_ALLOW;
	}
	rq->authenticated = false;	/* dispatch authenticates again and sets it */
	return ok;
}

/*
 * An upload route's body goes to a temporary file beside the blobs, hashed
 * as it arrives, but only for a caller the route admits (others' bytes are
 * dropped and dispatch answers 401/403).
 */
static void
upload_begin(struct request *rq)
{
	struct bw_err err = { 0 };
	char dir[4096];

	if (!caller_admitted(rq))
		return;
	if ((size_t)snprintf(dir, sizeof dir, "%s/blobs", rq->s->env.patch_dir) >= sizeof dir ||
	    bw_mkdir_p(dir, 0755, &err) != 0 || bw_sha256_new(&rq->upload_hash, &err) != 0 ||
	    (size_t)snprintf(rq->upload_path, sizeof rq->upload_path, "%s/.upload-%s", dir, rq->id) >=
		sizeof rq->upload_path ||
	    (rq->upload_fd = open(rq->upload_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rq->upload_failed = true;
		return;
	}
	bw_sha256_init(rq->upload_hash);
}

static void
upload_chunk(struct request *rq, const char *data, size_t n)
{
	if (rq->upload_fd < 0 || rq->upload_failed)
		return;
	rq->upload_len += n;
	if (rq->upload_len > HTTP_UPLOAD_MAX || bw_write_all(rq->upload_fd, data, n) != 0) {
		rq->upload_failed = true;
		return;
	}
	bw_sha256_update(rq->upload_hash, data, n);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
	   const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct request *rq = *req_cls;
	uint8_t rnd[8];
	enum MHD_Result ret;

	(void)version;
	if (rq == NULL) {	/* first call: headers only (answering now would close keep-alive) */
		if ((rq = calloc(1, sizeof *rq)) == NULL)
			return MHD_NO;
		rq->s = s;
		rq->c = c;
		rq->method = method;
		rq->path = url;
		bw_random_bytes(rnd, sizeof rnd);
		bw_hex_encode(rq->id, rnd, sizeof rnd);
		client_address(c, rq->addr, sizeof rq->addr);
		rq->upload_fd = rq->reply_fd = -1;
		*req_cls = rq;
		{
			const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
			rq->conn_ctx = ci != NULL ? ci->socket_context : NULL;
			conns_headers_done(s->conns, rq->conn_ctx);	/* the header deadline is met; the body's starts */
		}
		ops_caller_anonymous(&rq->caller, rq->addr, rq->id);
		{
			struct ev_origin o = ops_origin(&rq->caller);
			ev_init(&rq->ev, EV_HTTP_REFUSED, &o);
		}
		/* An unknown method is refused before any work: no route lookup, no body kept. */
		rq->bad_method = strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
				 strcmp(method, "DELETE") != 0;
		if (rq->bad_method)
			return MHD_YES;
		rq->rt = server_route_find(rq, method, url, &rq->path_known);	/* also fills rq->params */
		rq->body_limit = HTTP_BODY_MAX;
		if (rq->rt != NULL && rq->rt->upload)
			upload_begin(rq);
		else if (rq->rt != NULL && rq->rt->sample_upload && caller_admitted(rq)) {
			/* sealed as it arrives: a large sample is never held in memory */
			struct ops_ctx x = request_ops(rq);
			struct bw_err err = { 0 };
			if (ops_report_upload_begin(&x, rq->id, &rq->sample, &err) != 0)
				EV_LOG(EVLOG_ERROR, "a reported sample cannot be stored", EV_KS("request_id", rq->id),
				       EV_KS("error", err.msg));
		}
		else if (rq->rt != NULL && rq->rt->body_max > HTTP_BODY_MAX && caller_admitted(rq))
			rq->body_limit = rq->rt->body_max;	/* large bodies only from callers the route admits */
		return MHD_YES;
	}
	if (*upload_size > 0)
		conns_body_progress(s->conns, rq->conn_ctx, *upload_size);
	if (*upload_size > 0 && rq->rt != NULL && rq->rt->upload) {
		upload_chunk(rq, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0 && rq->rt != NULL && rq->rt->sample_upload) {
		ops_report_upload_add(rq->sample, upload_data, *upload_size);	/* NULL (not admitted): dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0 && rq->bad_method) {
		*upload_size = 0;	/* dropped unread */
		return MHD_YES;
	}
	if (*upload_size > 0) {	/* body chunks: keep up to the limit, then only count */
		if (!rq->body_too_large) {
			if (rq->body.len + *upload_size > rq->body_limit)
				rq->body_too_large = true;
			else if (bw_buf_append(&rq->body, upload_data, *upload_size) != 0)
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	conns_body_done(s->conns, rq->conn_ctx);
	dispatch(rq);
	if (rq->audit)
		tokcache_invalidate(s->tokens);	/* a state change may revoke or re-role someone */
	if (!rq->audited && !rq->authenticated && rq->status >= 400 && (rq->refused_early || !rq->audit)) {
		/* An anonymous refusal before any operation: counted, and summarised per client (not one fsync each). */
		refusals_add(s->refusals, rq->addr, rq->status, rq->method, rq->path, bw_now_ms());
	} else if ((rq->audit || rq->status >= 400) && !rq->audited) {
		if (!request_record_audit(rq)) {
			/* Fail closed: no durable audit event, no success response. */
			json_decref(rq->reply);
			rq->reply = NULL;
			free(rq->raw_reply);
			rq->raw_reply = NULL;
			rq->set_cookie[0] = '\0';
			reply_error(rq, 503, "audit log unavailable; request not confirmed");
		}
	}
	log_line(rq);
	metrics_count(s->metrics, rq->rt, rq->status);
	ret = send_reply(rq);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	conns_request_done(rq->s->conns, rq->conn_ctx);	/* the next request's headers get a new deadline */
	json_decref(rq->reply);
	ev_clear(&rq->ev);
	free(rq->raw_reply);
	bw_buf_free(&rq->body);
	if (rq->upload_fd >= 0) {
		close(rq->upload_fd);
		unlink(rq->upload_path);	/* not taken by the handler: discard */
	}
	if (rq->reply_fd >= 0)
		close(rq->reply_fd);
	bw_sha256_free(rq->upload_hash);
	ops_report_upload_free(rq->sample);	/* not submitted: its temporary file goes */
	free(rq);
	*req_cls = NULL;
}

/* Parses "127.0.0.1:8443" or "[::1]:8443". */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *flags, struct bw_err *err)
{
	char host[64];
	const char *colon;
	uint64_t port;

	memset(ss, 0, sizeof *ss);
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof host)
			return bw_err_set(err, BW_EINVAL, "--listen: expected [ADDRESS]:PORT");
		memcpy(host, listen + 1, (size_t)(end - listen - 1));
		host[end - listen - 1] = '\0';
		colon = end + 1;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL || (size_t)(colon - listen) >= sizeof host)
			return bw_err_set(err, BW_EINVAL, "--listen: expected ADDRESS:PORT");
		memcpy(host, listen, (size_t)(colon - listen));
		host[colon - listen] = '\0';
	}
	if (bw_parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port == 0 || port > 65535)
		return bw_err_set(err, BW_EINVAL, "--listen: bad port '%s'", colon + 1);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return bw_err_set(err, BW_EINVAL, "--listen: '%s' is not an IPv4 or IPv6 address", host);
}

static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct server *s = cls;
	char text[64];

	(void)len;
	sockaddr_text(addr, text, sizeof text);
	return conns_admit(s->conns, text) ? MHD_YES : MHD_NO;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		char addr[64];
		client_address(c, addr, sizeof addr);
		*socket_context = fd != NULL ? conns_started(s->conns, fd->connect_fd, addr) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		conns_closed(s->conns, *socket_context);
		*socket_context = NULL;
	}
}

/*
 * Binds the address once before the daemon does, so that a port in use is
 * reported as such (the library would log "Failed to bind to port 0").
 */
static int
listen_probe(const struct sockaddr_storage *ss, const char *listen, struct bw_err *err)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, r = 0;

	if (fd < 0)
		return 0;	/* the daemon reports it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, len) != 0) {
		int e = errno;
		r = bw_err_set(err, BW_EIO, "cannot listen on %s: %s%s", listen, strerror(e),
			       e == EADDRINUSE ? " (another server, or another program, uses the port)" : "");
	}
	close(fd);
	return r;
}

/* libmicrohttpd's own messages go through the structured logger like every other line. */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	EV_LOG(EVLOG_WARN, "http library", EV_KS("detail", msg));
}

/* Seconds between expiry and re-signing sweeps: 30, or less so that short-lived patch metadata is re-signed in time. */
#define PRUNE_EVERY_MS (600 * 1000)	/* host-event retention: how often it looks */

static int
sweep_interval(const struct server *s)
{
	int64_t q = s->opts.timestamp_lifetime / 8;

	return q < 1 ? 1 : q > 30 ? 30 : (int)q;
}

static void *
sweeper_main(void *arg)
{
	struct server *s = arg;
	struct timespec until;
	int tick = sweep_interval(s) < REFUSALS_FLUSH_SECS ? sweep_interval(s) : REFUSALS_FLUSH_SECS;
	int64_t last_sweep_ms = bw_now_ms(), last_prune_ms = 0;

	pthread_mutex_lock(&s->stop_mu);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += tick;	/* refusal summaries every tick, the sweeps at their own interval */
		pthread_cond_timedwait(&s->stop_cv, &s->stop_mu, &until);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->stop_mu);
		{
			/* The sweeps are operations with the server itself as caller. */
			struct ops_caller sys;
			struct ops_ctx x = { .in = s->in, .al = s->al, .env = &s->env, .caller = &sys };
			ops_caller_system(&sys);
			refusals_flush(s->refusals, s->al);
			if (s->env.hostev != NULL) {
				struct bw_err herr = { 0 };
				if (ops_host_sweep(&x, &herr) != 0)
					EV_LOG(EVLOG_ERROR, "host sweep failed", EV_KS("error", herr.msg));
				if (bw_now_ms() - last_prune_ms >= PRUNE_EVERY_MS) {
					last_prune_ms = bw_now_ms();
					ops_hostlog_retention(&x);
				}
			}
			if (bw_now_ms() - last_sweep_ms >= (int64_t)sweep_interval(s) * 1000 - 500) {
				last_sweep_ms = bw_now_ms();
				ops_access_expire(&x);
				ops_patch_sweep(&x);
				if (s->opts.log_key_rotate_secs > 0)
					ops_log_key_rotate_due(&x, s->opts.log_key_rotate_secs);
			}
		}
		pthread_mutex_lock(&s->stop_mu);
	}
	pthread_mutex_unlock(&s->stop_mu);
	return NULL;
}

int
server_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct server **out,
	     struct bw_err *err)
{
	struct server *s;
	struct sockaddr_storage ss;
	/*
	 * A pool of epoll threads, each serving many connections. Handlers that
	 * wait (Argon2id, the audit commit) hold one thread for that time, so the
	 * pool is larger than the core count (--threads, default 8).
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG;
	char path[4096];
	size_t len;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	s->in = in;
	s->al = al;
	s->opts = *o;
	pthread_mutex_init(&s->stop_mu, NULL);
	pthread_cond_init(&s->stop_cv, NULL);
	pthread_mutex_init(&s->env.patch_mu, NULL);
	if (s->opts.snapshot_lifetime == 0)
		s->opts.snapshot_lifetime = 7 * 86400;
	if (s->opts.timestamp_lifetime == 0)
		s->opts.timestamp_lifetime = 86400;
	s->env.max_window = s->opts.max_window;
	s->env.hostev = s->opts.hostev;
	s->env.witness = s->opts.witness;
	s->env.org_domains = s->opts.org_domains;
	s->env.norg_domains = s->opts.norg_domains;
	s->env.yara_dir = s->opts.yara_dir;
	s->env.witness_policy_text = s->opts.witness_policy_text;
	s->env.session_wrapper = s->opts.session_wrapper;
	s->env.snapshot_lifetime = s->opts.snapshot_lifetime;
	s->env.timestamp_lifetime = s->opts.timestamp_lifetime;
	if ((size_t)snprintf(s->env.patch_dir, sizeof s->env.patch_dir, "%s/%s", in->data, INSTANCE_PATCH_DIR) >=
	    sizeof s->env.patch_dir) {
		r = bw_err_set(err, BW_ERANGE, "data directory path too long");
		goto fail;
	}
	in->auth.backoff_ms = o->backoff_ms;
	in->auth.lock_after = o->lock_after;
	in->auth.lock_secs = o->lock_secs;
	if ((r = parse_listen(o->listen, &ss, &flags, err)) != 0)
		goto fail;
	snprintf(path, sizeof path, "%s/%s", in->data, INSTANCE_TLS_CERT);
	if ((r = bw_file_read(path, 1 << 20, (uint8_t **)&s->cert_pem, &len, err)) != 0)
		goto fail;
	snprintf(path, sizeof path, "%s/%s", in->data, INSTANCE_TLS_KEY);
	if ((r = bw_file_read(path, 1 << 20, (uint8_t **)&s->key_pem, &len, err)) != 0)
		goto fail;
	if ((r = metrics_new(&s->metrics, err)) != 0 ||
	    (r = tlscert_new(s->cert_pem, strlen(s->cert_pem), s->key_pem, strlen(s->key_pem), &s->tls, err)) != 0)
		goto fail;
	if (throttle_new(4096, o->backoff_ms, &s->throttle) != 0 || tokcache_new(&s->tokens) != 0 ||
	    refusals_new(&s->refusals) != 0 || conns_new(HTTP_CONNS_PER_GROUP, HTTP_HEADER_DEADLINE_SECS, s, &s->conns) != 0) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto fail;
	}
	/* Before the first request: GET /log/checkpoint serves what it published. */
	if (o->witness_policy != NULL && (r = cosigner_start(in, al, o, &s->cosigner, err)) != 0)
		goto fail;
	if (o->triage != NULL && (r = triager_start(in, al, &s->opts, &s->triager, err)) != 0)
		goto fail;
	if (!o->witness_only && (r = feeder_start(in, al, &s->feeder, err)) != 0)
		goto fail;
	if ((r = listen_probe(&ss, o->listen, err)) != 0)
		goto fail;
	s->d = MHD_start_daemon(flags, 0, accept_policy, s, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_HTTPS_CERT_CALLBACK, tlscert_callback(),
				MHD_OPTION_HTTPS_PRIORITIES, tls13_only,
				MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_secs,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)128,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
				MHD_OPTION_END);
	if (s->d == NULL) {
		r = bw_err_set(err, BW_EIO, "cannot start the HTTPS server on %s (address in use?)", o->listen);
		goto fail;
	}
	/* Without the sweeper, windows never expire in the log and hosts refuse stale metadata: fail start. */
	if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
		r = bw_err_set(err, BW_EIO, "cannot start the sweeper thread");
		goto fail;
	}
	s->sweeper_started = true;
	if (o->hostev != NULL && (r = host_indexer_start(o->hostev, &s->indexer, err)) != 0)
		goto fail;
	if ((o->webhook_url != NULL || o->smtp_url != NULL) && (r = notifier_start(in, al, o, &s->notifier, err)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	server_stop(s);
	return r;
}

void
server_stop(struct server *s)
{
	if (s == NULL)
		return;
	notifier_stop(s->notifier);
	host_indexer_stop(s->indexer);
	cosigner_stop(s->cosigner);
	s->cosigner = NULL;
	triager_stop(s->triager);
	s->triager = NULL;
	feeder_stop(s->feeder);
	s->feeder = NULL;
	s->notifier = NULL;
	s->indexer = NULL;
	if (s->sweeper_started) {
		pthread_mutex_lock(&s->stop_mu);
		s->stopping = true;
		pthread_cond_signal(&s->stop_cv);
		pthread_mutex_unlock(&s->stop_mu);
		pthread_join(s->sweeper, NULL);
	}
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	if (s->refusals != NULL && s->al != NULL)
		refusals_flush(s->refusals, s->al);	/* the last summaries, after the last request */
	refusals_free(s->refusals);
	conns_free(s->conns);	/* after the daemon: no connection callback runs any more */
	pthread_mutex_destroy(&s->stop_mu);
	pthread_cond_destroy(&s->stop_cv);
	pthread_mutex_destroy(&s->env.patch_mu);
	throttle_free(s->throttle);
	tokcache_free(s->tokens);
	metrics_free(s->metrics);
	tlscert_free(s->tls);
	if (s->key_pem != NULL) {
		bw_memzero(s->key_pem, strlen(s->key_pem));
		free(s->key_pem);
	}
	free(s->cert_pem);
	free(s);
}
