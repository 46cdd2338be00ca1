/*
 * server/routes_taxii.c: TAXII 2.1 for partner organisations (discovery,
 * the API root, collections, objects with added_after/next paging, one
 * object, manifests; read only), and the staff's routes that manage it:
 * partners, collections and their readers, a report shared into one, and
 * partners' collections pulled as feeds.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "share/share.h"

#define TAXII_ROOT "/taxii2/api/"
#define TAXII_PAGE_DEFAULT 100
#define TAXII_PAGE_MAX 1000

static const char *
query(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

/* The Host the client asked for, when it is a plain host[:port] (else "localhost"). */
static void
host_of_request(struct request *rq, char *out, size_t cap)
{
	const char *h = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	size_t i, n = h != NULL ? strlen(h) : 0;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && strchr(".-:[]", h[i]) == NULL)
			break;
	snprintf(out, cap, "%s", n > 0 && n < 256 && i == n ? h : "localhost");
}

/* GET /taxii2/ */
static void
h_discovery(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	char host[260], root[300];

	(void)body;
	if (ops_taxii_discovery(&x, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	host_of_request(rq, host, sizeof host);
	snprintf(root, sizeof root, "https://%s" TAXII_ROOT, host);
	reply_json(rq, 200, json_pack("{s:s, s:s, s:s, s:[s]}", "title", instance_log_verifier(rq->s->in)->name, "description",
				      "Indicators of lures reported and confirmed here, shared with partner organisations "
				      "under TLP 2.0", "default", root, "api_roots", root));
}

/* GET /taxii2/api/ */
static void
h_api_root(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	if (ops_taxii_discovery(&x, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s, s:[s], s:I}", "title", "Shared indicators", "description",
				      "Read-only collections of STIX 2.1 indicators, reports and TLP markings", "versions",
				      TAXII_MEDIA_TYPE, "max_content_length", (json_int_t)HTTP_BODY_MAX));
}

static json_t *
collection_json(const struct db_taxii_collection *c)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", c->id, "title", c->title, "description", c->description,
			 "can_read", 1, "can_write", 0, "media_types", STIX_MEDIA_TYPE);
}

/* GET /taxii2/api/collections/ */
static void
h_collections(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_taxii_collection *cs = NULL;
	struct bw_err err = { 0 };
	json_t *o, *a;
	size_t n = 0, i;

	(void)body;
	if (ops_taxii_collections(&x, &cs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	o = json_object();
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, collection_json(&cs[i]));
	if (n > 0)
		json_object_set_new(o, "collections", a);	/* none: the key is left out (an empty object) */
	else
		json_decref(a);
	free(cs);
	reply_json(rq, 200, o);
}

/* GET /taxii2/api/collections/{id}/ */
static void
h_collection(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_taxii_collection c;
	struct bw_err err = { 0 };

	(void)body;
	if (ops_taxii_collection(&x, rq->params[0], &c, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, collection_json(&c));
}

/* A comma-separated list of STIX type names into types (at most 16; false when malformed). */
static bool
type_list(const char *v, char buf[1100], const char *types[16], size_t *n)
{
	char *p, *save = NULL;
	size_t i;

	*n = 0;
	if (strlen(v) >= 1100)
		return false;
	snprintf(buf, 1100, "%s", v);
	for (p = strtok_r(buf, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (*n == 16 || strlen(p) > 63 || *p == '\0')
			return false;
		for (i = 0; p[i] != '\0'; i++)
			if (!islower((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '-')
				return false;
		types[(*n)++] = p;
	}
	return *n > 0;
}

/*
 * The objects of a collection as the query asks (added_after, limit, next,
 * match[id], match[type], match[version], match[spec_version]); replies
 * itself on error (false). Caller frees *out.
 */
static bool
objects_query(struct request *rq, const char *object_id, struct db_taxii_object **out, size_t *n, bool *more)
{
	struct ops_ctx x = request_ops(rq);
	struct db_taxii_query q = { .limit = TAXII_PAGE_DEFAULT };
	struct bw_err err = { 0 };
	const char *v, *types[16];
	char tbuf[1100];
	bool other_version = false;

	*out = NULL;
	*n = 0;
	*more = false;
	if ((v = query(rq, "added_after")) != NULL && !share_taxii_time_parse(v, &q.added_after_us)) {
		reply_error(rq, 400, "added_after must be an RFC 3339 timestamp in UTC");
		return false;
	}
	if ((v = query(rq, "limit")) != NULL) {
		char *end;
		long long l = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || l < 1 || strlen(v) > 9) {
			reply_error(rq, 400, "limit must be a positive integer");
			return false;
		}
		q.limit = l > TAXII_PAGE_MAX ? TAXII_PAGE_MAX : (size_t)l;
	}
	if ((v = query(rq, "next")) != NULL) {
		char *end;
		long long s = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || s < 1 || strlen(v) > 18) {
			reply_error(rq, 400, "next must be a value this server gave");
			return false;
		}
		q.after_seq = s;
	}
	q.id = object_id;
	if ((v = query(rq, "match[id]")) != NULL) {
		if (object_id != NULL || strchr(v, ',') != NULL || strlen(v) > 127 || strstr(v, "--") == NULL) {
			reply_error(rq, 400, "match[id] takes one STIX identifier here");
			return false;
		}
		q.id = v;
	}
	if ((v = query(rq, "match[type]")) != NULL) {
		if (!type_list(v, tbuf, types, &q.ntypes)) {
			reply_error(rq, 400, "match[type] must be up to 16 STIX type names, comma-separated");
			return false;
		}
		q.types = types;
	}
	if ((v = query(rq, "match[version]")) != NULL) {
		if (strcmp(v, "last") == 0)
			q.versions = 0;
		else if (strcmp(v, "first") == 0)
			q.versions = 1;
		else if (strcmp(v, "all") == 0)
			q.versions = 2;
		else {
			reply_error(rq, 400, "match[version] must be last, first or all here");
			return false;
		}
	}
	if ((v = query(rq, "match[spec_version]")) != NULL && strstr(v, "2.1") == NULL)
		other_version = true;	/* every object here is STIX 2.1: none of another version */
	if (ops_taxii_objects(&x, rq->params[0], &q, out, n, more, &err) != 0) {
		reply_from_err(rq, &err);
		return false;
	}
	if (other_version) {
		db_taxii_objects_free(*out, *n);
		*out = NULL;
		*n = 0;
		*more = false;
	}
	return true;
}

/* X-TAXII-Date-Added-First and -Last of a page. */
static void
date_headers(struct request *rq, const struct db_taxii_object *o, size_t n)
{
	if (n == 0)
		return;
	rq->extra[0].name = "X-TAXII-Date-Added-First";
	share_taxii_time(o[0].added_us, rq->extra[0].value);
	rq->extra[1].name = "X-TAXII-Date-Added-Last";
	share_taxii_time(o[n - 1].added_us, rq->extra[1].value);
	rq->nextra = 2;
}

/* An envelope (GET .../objects/ and .../objects/{object}/). */
static void
envelope(struct request *rq, const char *object_id)
{
	struct db_taxii_object *o;
	size_t n, i;
	bool more;
	json_t *env, *objs;
	char next[24];

	if (!objects_query(rq, object_id, &o, &n, &more))
		return;
	if (object_id != NULL && n == 0) {
		reply_error(rq, 404, "no such object in the collection");
		return;
	}
	env = json_pack("{s:b}", "more", more);
	objs = json_array();
	for (i = 0; i < n; i++) {
		json_t *obj = json_loads(o[i].object, 0, NULL);
		if (obj != NULL)
			json_array_append_new(objs, obj);
	}
	if (n > 0)
		json_object_set_new(env, "objects", objs);
	else
		json_decref(objs);
	if (more) {
		snprintf(next, sizeof next, "%lld", (long long)o[n - 1].seq);
		json_object_set_new(env, "next", json_string(next));
	}
	date_headers(rq, o, n);
	db_taxii_objects_free(o, n);
	reply_json(rq, 200, env);
}

static void
h_objects(struct request *rq, json_t *body)
{
	(void)body;
	envelope(rq, NULL);
}

static void
h_object(struct request *rq, json_t *body)
{
	(void)body;
	envelope(rq, rq->params[1]);
}

/* GET .../manifest/ */
static void
h_manifest(struct request *rq, json_t *body)
{
	struct db_taxii_object *o;
	size_t n, i;
	bool more;
	json_t *env, *objs;
	char next[24], added[SHARE_TAXII_TIME_MAX];

	(void)body;
	if (!objects_query(rq, NULL, &o, &n, &more))
		return;
	env = json_pack("{s:b}", "more", more);
	objs = json_array();
	for (i = 0; i < n; i++) {
		share_taxii_time(o[i].added_us, added);
		json_array_append_new(objs, json_pack("{s:s, s:s, s:s, s:s}", "id", o[i].stix_id, "date_added", added,
						      "version", o[i].version, "media_type", STIX_MEDIA_TYPE));
	}
	if (n > 0)
		json_object_set_new(env, "objects", objs);
	else
		json_decref(objs);
	if (more) {
		snprintf(next, sizeof next, "%lld", (long long)o[n - 1].seq);
		json_object_set_new(env, "next", json_string(next));
	}
	date_headers(rq, o, n);
	db_taxii_objects_free(o, n);
	reply_json(rq, 200, env);
}

/* ---- managing it (staff) ---- */

/* POST /api/v1/partners {"name", "org"} */
static void
h_partner_add(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *name, *org;
	char token[AUTH_TOKEN_TEXT_MAX];
	int64_t id;

	if (!request_unpack(rq, body, "{s:s, s:s}", "name", &name, "org", &org))
		return;
	if (ops_partner_add(&x, name, org, token, &id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:s, s:s, s:s}", "name", name, "org", org, "token", token));
	bw_memzero(token, sizeof token);
}

/* GET /api/v1/partners */
static void
h_partners(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_partner *ps = NULL;
	struct bw_err err = { 0 };
	json_t *a;
	size_t n = 0, i;

	(void)body;
	if (ops_partner_list(&x, &ps, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "name", ps[i].name, "org", ps[i].org, "created_at",
						   (json_int_t)ps[i].created_at, "revoked_at", (json_int_t)ps[i].revoked_at));
	free(ps);
	reply_json(rq, 200, json_pack("{s:o}", "partners", a));
}

/* POST /api/v1/partners/{name}/revoke */
static void
h_partner_revoke(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };

	(void)body;
	if (ops_partner_revoke(&x, rq->params[0], &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:b}", "name", rq->params[0], "revoked", 1));
}

/* GET /api/v1/taxii/collections */
static void
h_collection_list(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_taxii_collection *cs = NULL;
	struct bw_err err = { 0 };
	json_t *a;
	size_t n = 0, i;

	(void)body;
	if (ops_taxii_collection_list(&x, &cs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		json_t *readers = json_array();
		char *p, *save = NULL;
		for (p = strtok_r(cs[i].readers, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
			json_array_append_new(readers, json_string(p));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:o}", "id", cs[i].id, "title", cs[i].title,
						   "description", cs[i].description, "created_at",
						   (json_int_t)cs[i].created_at, "readers", readers));
	}
	free(cs);
	reply_json(rq, 200, json_pack("{s:o}", "collections", a));
}

/* POST /api/v1/taxii/collections {"title", "description"?} */
static void
h_collection_add(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *title, *description = "";
	char id[40];

	if (!request_unpack(rq, body, "{s:s, s?:s}", "title", &title, "description", &description))
		return;
	if (ops_taxii_collection_add(&x, title, description, id, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:s, s:s, s:s}", "id", id, "title", title, "description", description));
}

/* POST /api/v1/taxii/collections/{id}/readers {"partner", "can_read"} */
static void
h_collection_readers(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *partner;
	int can_read;

	if (!request_unpack(rq, body, "{s:s, s:b}", "partner", &partner, "can_read", &can_read))
		return;
	if (ops_taxii_grant(&x, rq->params[0], partner, can_read != 0, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:s, s:s, s:b}", "collection", rq->params[0], "partner", partner, "can_read",
				      can_read));
}

/* POST /api/v1/reports/{id}/share {"collection", "tlp"?, "for_org"?} */
static void
h_report_share(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	const char *collection, *tlp = "amber", *for_org = NULL;
	size_t added;
	int64_t id;

	if (!request_param_id(rq, "report", 24, 404, "no such report", &id) ||
	    !request_unpack(rq, body, "{s:s, s?:s, s?:s}", "collection", &collection, "tlp", &tlp, "for_org", &for_org))
		return;
	if (ops_report_share(&x, id, collection, tlp, for_org, &added, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 200, json_pack("{s:I, s:s, s:s, s:I}", "report", (json_int_t)id, "collection", collection, "tlp", tlp,
				      "added", (json_int_t)added));
}

static json_t *
feed_json(const struct db_feed *f)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:I}", "name", f->name, "url", f->url, "cacert", f->cacert,
			 "interval_secs", (json_int_t)f->interval_secs, "last_pull_at", (json_int_t)f->last_pull_at,
			 "cursor", f->cursor, "last_error", f->last_error, "values", (json_int_t)f->indicators);
}

/* GET /api/v1/feeds */
static void
h_feeds(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct db_feed *fs = NULL;
	struct bw_err err = { 0 };
	json_t *a;
	size_t n = 0, i;

	(void)body;
	if (ops_feed_list(&x, &fs, &n, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, feed_json(&fs[i]));
	free(fs);
	reply_json(rq, 200, json_pack("{s:o}", "feeds", a));
}

/* POST /api/v1/feeds {"name", "url", "token", "cacert"?, "interval_secs"?} */
static void
h_feed_add(struct request *rq, json_t *body)
{
	struct ops_ctx x = request_ops(rq);
	struct bw_err err = { 0 };
	struct ops_feed_in in = { .interval_secs = 3600, .cacert = "" };
	json_int_t interval = 3600;

	if (!request_unpack(rq, body, "{s:s, s:s, s:s, s?:s, s?:I}", "name", &in.name, "url", &in.url, "token", &in.token,
			    "cacert", &in.cacert, "interval_secs", &interval))
		return;
	in.interval_secs = interval;
	if (ops_feed_add(&x, &in, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	reply_json(rq, 201, json_pack("{s:s, s:s, s:I}", "name", in.name, "url", in.url, "interval_secs",
				      (json_int_t)in.interval_secs));
}

/* POST /api/v1/feeds/{name}/pull: pulls now and says what it gave. */
static void
h_feed_pull(struct request *rq, json_t *body)
{
	struct feed_pull_result res;
	struct bw_err err = { 0 };

	(void)body;
	if (feeds_pull(rq->s->in, rq->s->al, &rq->caller, rq->params[0], &res, &err) != 0) {
		reply_from_err(rq, &err);
		return;
	}
	rq->audited = true;	/* feed.pull recorded it */
	reply_json(rq, 200, json_pack("{s:s, s:I, s:I, s:I, s:s}", "name", rq->params[0], "values", (json_int_t)res.values,
				      "indicators", (json_int_t)res.indicators, "skipped", (json_int_t)res.skipped, "error",
				      res.error));
}

static const struct route taxii_routes[] = {
	{ .method = "POST", .pattern = "/api/v1/reports/{id}/share", .fn = h_report_share, .op = OP_REPORT_SHARE,
	  .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/partners", .fn = h_partners, .op = OP_PARTNER_LIST },
	{ .method = "POST", .pattern = "/api/v1/partners", .fn = h_partner_add, .op = OP_PARTNER_ADD, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/partners/{name}/revoke", .fn = h_partner_revoke, .op = OP_PARTNER_REVOKE },
	{ .method = "GET", .pattern = "/api/v1/taxii/collections", .fn = h_collection_list, .op = OP_TAXII_COLLECTION_LIST },
	{ .method = "POST", .pattern = "/api/v1/taxii/collections", .fn = h_collection_add, .op = OP_TAXII_COLLECTION_ADD,
	  .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/taxii/collections/{id}/readers", .fn = h_collection_readers,
	  .op = OP_TAXII_GRANT, .json_body = true },
	{ .method = "GET", .pattern = "/api/v1/feeds", .fn = h_feeds, .op = OP_FEED_LIST },
	{ .method = "POST", .pattern = "/api/v1/feeds", .fn = h_feed_add, .op = OP_FEED_ADD, .json_body = true },
	{ .method = "POST", .pattern = "/api/v1/feeds/{name}/pull", .fn = h_feed_pull, .op = OP_FEED_PULL },
	{ .method = "GET", .pattern = "/taxii2/", .fn = h_discovery, .op = OP_TAXII_DISCOVERY, .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT, .fn = h_api_root, .op = OP_TAXII_DISCOVERY, .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT "collections/", .fn = h_collections, .op = OP_TAXII_DISCOVERY,
	  .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT "collections/{id}/", .fn = h_collection, .op = OP_TAXII_DISCOVERY,
	  .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT "collections/{id}/objects/", .fn = h_objects, .op = OP_TAXII_OBJECTS,
	  .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT "collections/{id}/objects/{object}/", .fn = h_object,
	  .op = OP_TAXII_OBJECTS, .taxii = true },
	{ .method = "GET", .pattern = TAXII_ROOT "collections/{id}/manifest/", .fn = h_manifest, .op = OP_TAXII_OBJECTS,
	  .taxii = true },
};
const struct route_table taxii_route_table = { taxii_routes, sizeof taxii_routes / sizeof taxii_routes[0] };
