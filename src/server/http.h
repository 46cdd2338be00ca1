/* server/http.h: internal contract between the HTTP plumbing and the route handlers. */
#ifndef BW_SERVER_HTTP_H
#define BW_SERVER_HTTP_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

#include "ops/ops.h"
#include "server.h"

#define HTTP_BODY_MAX (64 * 1024)
#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define STIX_MEDIA_TYPE "application/stix+json;version=2.1"
#define HTTP_UPLOAD_MAX ((uint64_t)8 << 30)	/* largest target file accepted */
#define HTTP_MAX_PARAMS 2
#define REFUSALS_FLUSH_SECS 10	/* anonymous refusals reach the log as summaries within this */
/* The session cookie: the __Host- prefix makes browsers keep it to this exact origin (Secure, Path=/, no Domain). */
#define SESSION_COOKIE "__Host-bulwark_session"

/* Per-address login throttling (in memory). */
struct throttle;
int throttle_new(size_t slots, int64_t base_ms, struct throttle **out);
void throttle_free(struct throttle *t);
/* Seconds the address must still wait (0: may try). */
int64_t throttle_check(struct throttle *t, const char *addr, int64_t now_ms);
void throttle_failed(struct throttle *t, const char *addr, int64_t now_ms);
void throttle_ok(struct throttle *t, const char *addr);

/* Anonymous refusals, counted per client and recorded as summaries (refusals.c). */
struct refusals;
int refusals_new(struct refusals **out);
void refusals_free(struct refusals *r);
/* Counts one refused request from addr (grouped: IPv4, IPv6 /64). */
void refusals_add(struct refusals *r, const char *addr, unsigned status, const char *method, const char *path,
		  int64_t now_ms);
/* Records one http.refused_summary event per client counted since the last flush. */
void refusals_flush(struct refusals *r, struct audit_log *al);

/* Per-group connection caps and the request-header deadline (conns.c). */
#define HTTP_HEADER_DEADLINE_SECS 10	/* the whole request header, from the connection or the last response */
#define HTTP_CONNS_PER_GROUP 64		/* connections per IPv4 address or IPv6 /64 */
#define HTTP_BODY_MIN_RATE 1024		/* bytes/s a request body must average ... */
#define HTTP_BODY_SLACK_SECS 10		/* ... with this much time in hand at most (and to start) */
struct conns;
int conns_new(int per_group, int64_t header_secs, void *owner, struct conns **out);
/* The owner given to conns_new, from a connection's context (NULL for NULL). */
void *conns_owner(void *ctx);
void conns_free(struct conns *cs);
/* The accept policy: false when the group of addr (text) holds its maximum of connections. */
bool conns_admit(struct conns *cs, const char *addr);
/* A connection started (returns its context, NULL when out of memory), its headers arrived, a request ended, it closed. */
void *conns_started(struct conns *cs, int fd, const char *addr);
void conns_headers_done(struct conns *cs, void *ctx);
/* n more body bytes arrived (earns time at HTTP_BODY_MIN_RATE); the body is complete. */
void conns_body_progress(struct conns *cs, void *ctx, size_t n);
void conns_body_done(struct conns *cs, void *ctx);
void conns_request_done(struct conns *cs, void *ctx);
void conns_closed(struct conns *cs, void *ctx);

/* Authenticated identities cached between state changes (tokcache.c). */
struct tokcache;
int tokcache_new(struct tokcache **out);
void tokcache_free(struct tokcache *c);
bool tokcache_get(struct tokcache *c, const uint8_t hash[32], int64_t now_ms, struct auth_identity *who);
/* Stores who if no state change happened since generation was read. */
void tokcache_put(struct tokcache *c, const struct auth_identity *who, int64_t now_ms, uint64_t generation);
uint64_t tokcache_generation(struct tokcache *c);
/* Drops every entry (call after any request that may change who is who). */
void tokcache_invalidate(struct tokcache *c);

struct server {
	struct MHD_Daemon *d;
	struct instance *in;
	struct audit_log *al;
	struct throttle *throttle;
	struct tokcache *tokens;
	struct refusals *refusals;	/* anonymous refusals awaiting their summary event */
	struct conns *conns;		/* per-group connection caps, header deadlines */
	struct server_opts opts;
	char *cert_pem, *key_pem;
	pthread_t sweeper;		/* records expired access windows, re-signs patch metadata */
	struct notifier *notifier;	/* alert notifications, NULL: none configured */
	struct host_indexer *indexer;	/* the host-event index behind its log, NULL: no host events */
	struct cosigner *cosigner;	/* the audit log's witnesses asked, NULL: none configured */
	struct triager *triager;	/* reported samples triaged as they arrive (NULL: a standalone witness) */
	struct feeder *feeder;		/* partners' collections pulled (NULL: a standalone witness) */
	struct metrics *metrics;	/* requests counted for GET /metrics */
	struct tlscert *tls;		/* the certificate handed to each handshake (tlscert.c) */
	struct ops_env env;		/* the operations' settings and shared state */
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
	bool stopping, sweeper_started;
};

/* One request, from the first handler call to completion. */
struct request {
	struct server *s;
	struct MHD_Connection *c;
	void *conn_ctx;			/* the connection's entry in server.conns */
	const char *method;
	const char *path;
	char id[17];
	char addr[64];
	struct bw_buf body;
	bool body_too_large;
	const struct route *rt;		/* the route matched when the headers arrived, or NULL */
	bool path_known;		/* when rt is NULL: another method has this path */
	size_t body_limit;		/* bytes of body kept in memory for this request */
	/* upload routes: the body goes to upload_path (temporary) with its SHA-256 */
	int upload_fd;
	char upload_path[4096];
	struct bw_sha256 *upload_hash;
	uint64_t upload_len;
	bool upload_failed;
	struct ops_sample_upload *sample;	/* sample_upload routes: the sample being sealed (NULL: not admitted) */
	const char *params[HTTP_MAX_PARAMS];	/* {name} segments of the matched route */
	char param_buf[2][128];
	struct auth_identity who;
	bool authenticated;
	struct ops_caller caller;	/* who is asking, for the operations layer */
	/* response */
	unsigned status;
	json_t *reply;			/* JSON body (owned) */
	char *raw_reply;		/* or raw text body (owned) */
	size_t raw_len;
	const char *raw_type;
	char attachment[128];		/* raw replies: a file name for Content-Disposition: attachment ("" none) */
	struct {
		const char *name;	/* static */
		char value[64];
	} extra[2];			/* further response headers (TAXII's X-TAXII-Date-Added-First/Last) */
	size_t nextra;
	int reply_fd;			/* or a file (owned; -1 when none) of reply_fd_len bytes */
	uint64_t reply_fd_len;
	char set_cookie[256];
	int64_t retry_after;
	/* audit: the request's event (its action is the route's operation's event) */
	struct event ev;
	bool result_set;		/* a handler set ev.result itself: reply_error leaves it */
	bool refused_early;		/* refused by the transport before any operation ran */
	bool bad_method;		/* not GET, POST, PUT or DELETE: refused before any work */
	bool audit;			/* record ev even when the request succeeds */
	bool audited;			/* ev (or the operation's own event) is durable already */
};

/* Route handler: fills status/reply/action/target/details. */
typedef void (*route_fn)(struct request *rq, json_t *body);

/*
 * One route: transport facts only. Who may call it is the permission table
 * of its operation (ops_table.def); a route never names a role.
 */
struct route {
	const char *method;
	const char *pattern;		/* "/api/v1/users/{name}/disable"; "*" suffix: prefix match */
	route_fn fn;
	enum op_id op;			/* the operation it calls: permission, audit event */
	bool json_body;			/* expects an application/json object */
	bool json_optional;		/* with json_body: an empty body is allowed (the handler gets NULL) */
	size_t body_max;		/* JSON body limit; 0: HTTP_BODY_MAX */
	bool raw_json_body;		/* an application/json body left as text in rq->body (the handler's parser reads it) */
	bool raw_body;			/* a body of any type left as bytes in rq->body (the handler's parser reads it) */
	bool gzip_body;			/* with a JSON body: Content-Encoding gzip is accepted (inflated within the limit) */
	bool upload;			/* raw body streamed to a file (see request.upload_*) */
	bool sample_upload;		/* raw body sealed as it arrives into a reported sample (request.sample) */
	bool taxii;			/* TAXII 2.1: Accept must name application/taxii+json, replies (errors too) are */
					/* application/taxii+json;version=2.1, errors TAXII error messages */
};

/* The route tables, one per area file; routes.c joins them. */
struct route_table {
	const struct route *routes;
	size_t n;
};
extern const struct route_table auth_route_table;	/* routes.c: sign-in, users, tokens, the log */
extern const struct route_table enrol_route_table;	/* routes_enrol.c: enrolment codes, role grants */
extern const struct route_table access_route_table;	/* routes_access.c */
extern const struct route_table patch_route_table;	/* routes_patch.c */
extern const struct route_table alert_route_table;	/* routes_alerts.c */
extern const struct route_table witness_route_table;	/* routes_witness.c: this server as a witness */
extern const struct route_table hostev_route_table;	/* routes_hostev.c: agents' events and heartbeats, the search */
/* An alert as the API and notifications show it (routes_alerts.c). Caller decrefs. */
json_t *alert_json(const struct db_alert *a);

/* ---- the host-event index behind its log (host_indexer.c) ---- */
struct host_indexer;
/* Starts indexing h's log on a thread of its own. Caller stops (before closing h). */
int host_indexer_start(struct ops_hostev *h, struct host_indexer **out, struct bw_err *err);
void host_indexer_stop(struct host_indexer *ix);

/* ---- alert notifications (notifier.c) ---- */
struct notifier;
/* Starts delivering notifications as o configures (o->webhook_url set). Caller stops. */
int notifier_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct notifier **out,
		   struct bw_err *err);
void notifier_stop(struct notifier *nt);
/* ---- reported samples triaged (triager.c) ---- */
struct triager;
/*
 * Starts the triage thread (the engine loaded with o's organisation domains
 * and YARA rules; o's SMTP relay, when set, mails each reporter the verdict
 * at their registered address). o must outlive the thread. Caller stops.
 */
int triager_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct triager **out,
		  struct bw_err *err);
/* A report arrived: look now. */
void triager_kick(struct triager *tr);
/* An analyst resolved report id: its reporter is told (by mail, when configured; at most 64 waiting). */
void triager_resolved(struct triager *tr, int64_t id);
void triager_stop(struct triager *tr);
extern const struct route_table report_route_table;	/* routes_reports.c */
extern const struct route_table taxii_route_table;	/* routes_taxii.c: TAXII 2.1, partners, collections, feeds */
extern const struct route_table metrics_route_table;	/* metrics.c: GET /metrics */

/* ---- the TLS certificate, replaceable without a restart (tlscert.c) ---- */
struct tlscert;
int tlscert_new(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len, struct tlscert **out,
		struct bw_err *err);
void tlscert_free(struct tlscert *t);
/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK: the certificate in use, for each handshake. */
gnutls_certificate_retrieve_function2 *tlscert_callback(void);

/* ---- requests counted for GET /metrics (metrics.c) ---- */
struct metrics;
int metrics_new(struct metrics **out, struct bw_err *err);
void metrics_free(struct metrics *m);
/* One request answered with status by route rt (NULL: none matched). */
void metrics_count(struct metrics *m, const struct route *rt, unsigned status);

/* The dashboard's files (web/, compiled in; web.c serves them): "ui/app.js" ..., and the page "index.html". */
struct web_file {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct web_file web_files[];	/* ends with a zeroed entry */
extern const struct web_file web_page[];

/* ---- partners' TAXII collections pulled (feeds.c) ---- */
struct feeder;
/* Starts pulling each feed when its interval has passed (checked every few seconds). Caller stops. */
int feeder_start(struct instance *in, struct audit_log *al, struct feeder **out, struct bw_err *err);
void feeder_stop(struct feeder *f);
struct feed_pull_result {
	size_t values;			/* values stored for triage */
	size_t indicators, skipped;	/* indicators read, of which not matched (or revoked, expired) */
	char error[BW_ERR_MSG_MAX];	/* "" when the pull went through */
};
/*
 * Pulls feed name now as caller (an admin, or the server itself): pages of
 * indicators added since the last pull, recorded as one feed.pull. A
 * failed page ends the pull (res->error); 0 unless nothing could be recorded.
 */
int feeds_pull(struct instance *in, struct audit_log *al, const struct ops_caller *caller, const char *name,
	       struct feed_pull_result *res, struct bw_err *err);

/* ---- the audit log's own witnesses (cosigner.c) ---- */
struct cosigner;
/*
 * Starts asking the witnesses of o->witness_policy (which must name this
 * server's log) to cosign the audit log's checkpoint, every
 * o->witness_interval_ms. Caller stops.
 */
int cosigner_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct cosigner **out,
		   struct bw_err *err);
void cosigner_stop(struct cosigner *cs);
/* A copy of the published (cosigned, quorum met) checkpoint, NULL when none yet; caller frees. */
char *cosigner_published(struct cosigner *cs, size_t *len);
/* The witnesses' state and counters, the published and latest sizes (caller decrefs). */
json_t *cosigner_status(struct cosigner *cs);
extern const struct route_table web_route_table;	/* web.c */
/* Every route table in matching order (NULL-terminated): the one list the router and the README test use. */
extern const struct route_table *const server_route_tables[];
/* The route for method and path (NULL if none); fills rq->params; *path_known when another method has the path. */
const struct route *server_route_find(struct request *rq, const char *method, const char *path, bool *path_known);


/*
 * Parses a tlog-tiles path relative to the log ("tile/<L>/<N>[.p/<W>]" or
 * "tile/entries/..."): true only when the path is exactly the canonical
 * form of the parsed values (so "..", leading zeros and stray bytes fail).
 */
bool server_parse_tile_path(const char *rel, int *level, uint64_t *n, unsigned *w);
/*
 * Splits a consistent-snapshot target path "[dir/]<sha256>.<basename>" into
 * the target name "[dir/]<basename>" and the lower-case hex SHA-256; false
 * unless both are well formed (the name passes patch_target_name_valid).
 */
bool server_parse_target_path(const char *rel, char name[256], char sha[65]);
/*
 * Serves the tlog-tiles file of rq->path below prefix ("/log/") from the log
 * directory dir; entry bundles only when entries_allowed (else 404 naming
 * where they are).
 */
void server_serve_tile(struct request *rq, const char *prefix, const char *dir, bool entries_allowed);
/* Matches a route pattern with {param} segments and a trailing "*". */
bool server_route_match(const char *pattern, const char *path, struct request *rq);

/* Seconds since the epoch. */
int64_t server_now(void);
/* An IPv4/IPv6 socket address as text ("unknown" for others or NULL). */
void sockaddr_text(const struct sockaddr *sa, char *out, size_t cap);
/* The role names of mask as a JSON array (routes.c). */
json_t *roles_json(unsigned mask);
/* json_unpack_ex(JSON_STRICT) of body; replies 400 naming the problem and returns false on error. */
bool request_unpack(struct request *rq, json_t *body, const char *fmt, ...);
/*
 * The route's {id} (params[0]) as a positive 63-bit id; the event's target
 * becomes "KIND:PARAM" (the parameter cut at width bytes). Otherwise replies
 * status with msg and returns false.
 */
bool request_param_id(struct request *rq, const char *kind, int width, int status, const char *msg, int64_t *id);
/* An optional body {"enrol_hours"} (NULL: none): *hours 0 (the default) or 1..AUTH_ENROL_HOURS_MAX; replies 400 otherwise. */
bool request_enrol_hours(struct request *rq, json_t *body, json_int_t *hours);
/* Replies with the status an error code maps to (404, 409, 422, else 500 without internals). */
void reply_from_err(struct request *rq, const struct bw_err *err);

/*
 * Public routes that take a secret (sign-in, enrolment codes): a client
 * address backing off after failures is refused with 429 + Retry-After
 * before any work (true), counted in the anonymous refusal summary rather
 * than one audit event each. request_throttle_result records the outcome.
 */
bool request_throttled(struct request *rq);
void request_throttle_result(struct request *rq, bool failed);

/* Reply helpers. */
void reply_json(struct request *rq, unsigned status, json_t *body);	/* steals body */
void reply_error(struct request *rq, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void reply_text(struct request *rq, unsigned status, const char *type, char *text, size_t len); /* steals */
/* 200 text/plain: a copy of line and a newline (a key, for instance). */
void reply_line(struct request *rq, const char *line);
/*
 * Makes rq's audit event (with the reply status set so far) durable now, for
 * handlers that must not act before it is; the event is not written again
 * after the handler. False when the log refused it.
 */
bool request_record_audit(struct request *rq);
/*
 * An operation context for rq (its caller). Once the operation has recorded
 * its event, the transport records none for the request.
 */
struct ops_ctx request_ops(struct request *rq);
/* The HTTP status for an operation's error code (403, 404, 409, 422, else 500). */
unsigned status_for_err(int code);

#endif /* BW_SERVER_HTTP_H */
