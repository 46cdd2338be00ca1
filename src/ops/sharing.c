/*
 * ops/sharing.c: sharing with partner organisations over TAXII 2.1:
 * partners (principals of their own with a token), collections and who may
 * read them, a resolved report put into a collection under a TLP marking,
 * the TAXII reads (TLP enforced by the store: never RED, AMBER+STRICT only
 * to the organisation named), and partners' collections pulled as feeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "share/share.h"

static bool
name_ok(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* ---- partners ---- */

int
ops_partner_add(struct ops_ctx *x, const char *name, const char *org, char token[AUTH_TOKEN_TEXT_MAX], int64_t *id,
		struct bw_err *err)
{
	struct event ev;
	uint8_t hash[32];
	int r;

	token[0] = '\0';
	r = ops_begin(x, OP_PARTNER_ADD, &ev, err);
	ev_target(&ev, "partner:%.64s", name != NULL && name_ok(name) ? name : "?");
	if (r == 0 && !name_ok(name))
		r = bw_err_set(err, BW_EINVAL, "a partner's name is 1..64 letters, digits, '.', '_' or '-'");
	else if (r == 0 && (org == NULL || org[0] == '\0' || !ops_text_ok(org, 128, false)))
		r = bw_err_set(err, BW_EINVAL, "org must be the partner organisation's name (1..128 characters of text)");
	if (r == 0) {
		ev_str(&ev, EVF_ORG, org);
		auth_token_new("bwp", token, hash);
		r = db_partner_add(x->in->db, name, org, hash, ops_now(), id, err);
		bw_memzero(hash, sizeof hash);
	}
	if ((r = ops_finish(x, OP_PARTNER_ADD, &ev, r, err)) != 0)
		bw_memzero(token, AUTH_TOKEN_TEXT_MAX);
	return r;
}

int
ops_partner_list(struct ops_ctx *x, struct db_partner **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_PARTNER_LIST, &ev, err);

	*out = NULL;
	*n = 0;
	ev_target(&ev, "partners");
	if (r == 0)
		r = db_partner_list(x->in->db, out, n, err);
	return ops_finish(x, OP_PARTNER_LIST, &ev, r, err);
}

int
ops_partner_revoke(struct ops_ctx *x, const char *name, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_PARTNER_REVOKE, &ev, err);

	ev_target(&ev, "partner:%.64s", name != NULL && name_ok(name) ? name : "?");
	if (r == 0 && !name_ok(name))
		r = bw_err_set(err, BW_ENOTFOUND, "no such partner");
	if (r == 0)
		r = db_partner_revoke(x->in->db, name, ops_now(), err);
	return ops_finish(x, OP_PARTNER_REVOKE, &ev, r, err);
}

/* ---- collections ---- */

int
ops_taxii_collection_add(struct ops_ctx *x, const char *title, const char *description, char id[40],
			 struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_TAXII_COLLECTION_ADD, &ev, err);

	share_uuid4(id, 40);
	ev_target(&ev, "collection:%s", id);
	ev_str(&ev, EVF_COLLECTION, id);
	if (r == 0 && (title == NULL || title[0] == '\0' || !ops_text_ok(title, 128, false)))
		r = bw_err_set(err, BW_EINVAL, "a collection's title is 1..128 characters of text");
	else if (r == 0 && description != NULL && !ops_text_ok(description, 512, true))
		r = bw_err_set(err, BW_EINVAL, "a collection's description is at most 512 characters of text");
	if (r == 0)
		r = db_taxii_collection_add(x->in->db, id, title, description != NULL ? description : "", ops_now(), err);
	return ops_finish(x, OP_TAXII_COLLECTION_ADD, &ev, r, err);
}

/* Partners see the collections they may read; staff see all. */
static int64_t
reader(const struct ops_caller *c)
{
	return c->via == OPS_VIA_PARTNER ? (c->partner_id > 0 ? c->partner_id : -1) : 0;
}

/* Collections: over TAXII (op taxii.discovery, never who else reads them) or for staff with their readers. */
static int
collections(struct ops_ctx *x, enum op_id op, struct db_taxii_collection **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	size_t i;
	int r = ops_begin(x, op, &ev, err);

	*out = NULL;
	*n = 0;
	ev_target(&ev, "taxii:collections");
	if (r == 0)
		r = db_taxii_collections(x->in->db, reader(x->caller), out, n, err);
	for (i = 0; r == 0 && op == OP_TAXII_DISCOVERY && i < *n; i++)
		(*out)[i].readers[0] = '\0';
	return ops_finish(x, op, &ev, r, err);
}

int
ops_taxii_collections(struct ops_ctx *x, struct db_taxii_collection **out, size_t *n, struct bw_err *err)
{
	return collections(x, OP_TAXII_DISCOVERY, out, n, err);
}

int
ops_taxii_collection_list(struct ops_ctx *x, struct db_taxii_collection **out, size_t *n, struct bw_err *err)
{
	return collections(x, OP_TAXII_COLLECTION_LIST, out, n, err);
}

int
ops_taxii_discovery(struct ops_ctx *x, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_TAXII_DISCOVERY, &ev, err);

	ev_target(&ev, "taxii:discovery");
	return ops_finish(x, OP_TAXII_DISCOVERY, &ev, r, err);
}

int
ops_taxii_grant(struct ops_ctx *x, const char *collection, const char *partner, bool read, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_TAXII_GRANT, &ev, err);

	ev_target(&ev, "partner:%.64s", partner != NULL && name_ok(partner) ? partner : "?");
	ev_bool(&ev, EVF_CAN_READ, read);
	if (r == 0 && (collection == NULL || strlen(collection) != 36))
		r = bw_err_set(err, BW_ENOTFOUND, "no such collection");
	else if (r == 0 && !name_ok(partner))
		r = bw_err_set(err, BW_ENOTFOUND, "no such partner");
	if (r == 0) {
		ev_str(&ev, EVF_COLLECTION, collection);
		r = db_taxii_grant(x->in->db, collection, partner, read, err);
	}
	return ops_finish(x, OP_TAXII_GRANT, &ev, r, err);
}

/* Is collection one caller may read (staff: any that exists)? BW_ENOTFOUND otherwise: a partner learns nothing more. */
static int
readable(struct ops_ctx *x, const char *collection, struct db_taxii_collection *out, struct bw_err *err)
{
	struct db_taxii_collection *cs = NULL;
	size_t n = 0, i;
	int r;

	if ((r = db_taxii_collections(x->in->db, reader(x->caller), &cs, &n, err)) != 0)
		return r;
	r = bw_err_set(err, BW_ENOTFOUND, "no such collection");
	for (i = 0; i < n; i++)
		if (strcmp(cs[i].id, collection) == 0) {
			if (out != NULL) {
				*out = cs[i];
				out->readers[0] = '\0';
			}
			r = 0;
			bw_err_clear(err);
		}
	free(cs);
	return r;
}

int
ops_taxii_collection(struct ops_ctx *x, const char *collection, struct db_taxii_collection *out, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_TAXII_DISCOVERY, &ev, err);

	ev_target(&ev, "collection:%.40s", collection);
	if (r == 0)
		r = readable(x, collection, out, err);
	return ops_finish(x, OP_TAXII_DISCOVERY, &ev, r, err);
}

int
ops_taxii_objects(struct ops_ctx *x, const char *collection, struct db_taxii_query *q, struct db_taxii_object **out,
		  size_t *n, bool *more, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_TAXII_OBJECTS, &ev, err);

	*out = NULL;
	*n = 0;
	*more = false;
	ev_target(&ev, "collection:%.40s", collection);
	ev_str(&ev, EVF_COLLECTION, collection);
	/* the store filters by the reader's organisation: a partner always has one */
	q->org = x->caller->via == OPS_VIA_PARTNER ? x->caller->org : NULL;
	if (q->org != NULL)
		ev_str(&ev, EVF_ORG, q->org);
	if (r == 0)
		r = readable(x, collection, NULL, err);
	if (r == 0)
		r = db_taxii_objects(x->in->db, collection, q, out, n, more, err);
	if (r == 0)
		ev_int(&ev, EVF_COUNT, (int64_t)*n);
	r = ops_finish(x, OP_TAXII_OBJECTS, &ev, r, err);
	if (r != 0) {
		db_taxii_objects_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* The TLP level of a STIX object's marking (the bundle marks every object with one). */
static const char *
object_tlp(const json_t *o, const char *dflt)
{
	static const char *const levels[] = { "clear", "green", "amber", "amber+strict", "red" };
	size_t i;

	if (strcmp(json_string_value(json_object_get(o, "type")), "marking-definition") == 0) {
		const char *t = json_string_value(json_object_get(
			json_object_get(json_object_get(o, "extensions"), "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"),
			"tlp_2_0"));
		for (i = 0; t != NULL && i < sizeof levels / sizeof levels[0]; i++)
			if (strcmp(t, levels[i]) == 0)
				return levels[i];
	}
	return dflt;
}

int
ops_report_share(struct ops_ctx *x, int64_t id, const char *collection, const char *tlp, const char *for_org,
		 size_t *added, struct bw_err *err)
{
	struct event ev;
	struct db_taxii_object *objs = NULL;
	json_t *bundle = NULL, *o;
	int64_t incident = 0;
	size_t i, n = 0;
	int r = ops_begin(x, OP_REPORT_SHARE, &ev, err);

	*added = 0;
	ev_target(&ev, "report:%lld", (long long)id);
	if (tlp != NULL && share_tlp_valid(tlp))
		ev_str(&ev, EVF_TLP, tlp);
	if (r == 0 && (collection == NULL || strlen(collection) != 36))
		r = bw_err_set(err, BW_ENOTFOUND, "no such collection");
	else if (r == 0 && !share_tlp_valid(tlp))
		r = bw_err_set(err, BW_EINVAL, "tlp must be clear, green, amber or amber+strict");
	else if (r == 0 && strcmp(tlp, "red") == 0)
		r = bw_err_set(err, BW_EINVAL, "TLP:RED is never shared over TAXII (it is for the named recipients only)");
	else if (r == 0 && strcmp(tlp, "amber+strict") == 0 &&
		 (for_org == NULL || for_org[0] == '\0' || !ops_text_ok(for_org, 128, false)))
		r = bw_err_set(err, BW_EINVAL, "TLP:AMBER+STRICT is shared with one organisation: name it (for_org)");
	else if (r == 0 && strcmp(tlp, "amber+strict") != 0 && for_org != NULL && for_org[0] != '\0')
		r = bw_err_set(err, BW_EINVAL, "for_org goes only with TLP:AMBER+STRICT");
	if (r == 0) {
		ev_str(&ev, EVF_COLLECTION, collection);
		if (for_org != NULL && for_org[0] != '\0')
			ev_str(&ev, EVF_ORG, for_org);
		r = readable(x, collection, NULL, err);
	}
	if (r == 0 && (r = ops_lure_export(x, id, tlp, false, &incident, &bundle, err)) == 0) {
		json_t *objects = json_object_get(bundle, "objects");
		ev_int(&ev, EVF_INCIDENT, incident);
		if ((objs = calloc(json_array_size(objects) + 1, sizeof *objs)) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		json_array_foreach(objects, i, o) {
			const char *version = json_string_value(json_object_get(o, "modified"));
			if (r != 0)
				break;
			if (version == NULL)
				version = json_string_value(json_object_get(o, "created"));
			snprintf(objs[n].stix_id, sizeof objs[n].stix_id, "%s", json_string_value(json_object_get(o, "id")));
			snprintf(objs[n].type, sizeof objs[n].type, "%s", json_string_value(json_object_get(o, "type")));
			snprintf(objs[n].version, sizeof objs[n].version, "%s", version != NULL ? version : "");
			/* a TLP marking definition is public knowledge; every other object carries the share's level */
			snprintf(objs[n].tlp, sizeof objs[n].tlp, "%s", object_tlp(o, tlp));
			snprintf(objs[n].for_org, sizeof objs[n].for_org, "%s",
				 strcmp(objs[n].tlp, "amber+strict") == 0 && for_org != NULL ? for_org : "");
			if ((objs[n].object = json_dumps(o, JSON_COMPACT)) == NULL)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
			n++;
		}
	}
	if (r == 0)
		r = db_taxii_add_objects(x->in->db, collection, objs, n, id, ops_now_us(), added, err);
	if (r == 0)
		ev_int(&ev, EVF_COUNT, (int64_t)*added);
	for (i = 0; i < n; i++)
		free(objs[i].object);
	free(objs);
	json_decref(bundle);
	return ops_finish(x, OP_REPORT_SHARE, &ev, r, err);
}

/* ---- feeds: partners' collections pulled ---- */

static void
feed_key(const struct instance *in, uint8_t key[32])
{
	bw_kdf_subkey(in->kek, "feedtok_", 1, key);
}

static void
feed_ad(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "bulwark feed token %s", name);
}

int
ops_feed_add(struct ops_ctx *x, const struct ops_feed_in *in, struct bw_err *err)
{
	struct event ev;
	struct db_feed f = { 0 };
	uint8_t key[32];
	char ad[128];
	size_t tl = in->token != NULL ? strlen(in->token) : 0, i;
	int64_t id;
	int r = ops_begin(x, OP_FEED_ADD, &ev, err);

	ev_target(&ev, "feed:%.64s", in->name != NULL && name_ok(in->name) ? in->name : "?");
	if (r == 0 && !name_ok(in->name))
		r = bw_err_set(err, BW_EINVAL, "a feed's name is 1..64 letters, digits, '.', '_' or '-'");
	else if (r == 0 && (in->url == NULL || strncmp(in->url, "https://", 8) != 0 || strlen(in->url) > 1000 ||
			    !ops_text_ok(in->url, 1000, false) || strchr(in->url, ' ') != NULL || strchr(in->url, '?') != NULL ||
			    strstr(in->url, "/collections/") == NULL))
		r = bw_err_set(err, BW_EINVAL, "url must be the https URL of a TAXII 2.1 collection (.../collections/ID/), "
			       "without a query");
	else if (r == 0 && (tl == 0 || tl > 400))
		r = bw_err_set(err, BW_EINVAL, "token must be 1..400 characters");
	else if (r == 0 && (in->interval_secs < 10 || in->interval_secs > 7 * 86400))
		r = bw_err_set(err, BW_EINVAL, "interval_secs must be 10 .. 604800");
	else if (r == 0 && in->cacert != NULL && in->cacert[0] != '\0' &&
		 (in->cacert[0] != '/' || strlen(in->cacert) >= sizeof f.cacert || !ops_text_ok(in->cacert, 4000, false)))
		r = bw_err_set(err, BW_EINVAL, "cacert must be an absolute path to a CA certificate file");
	for (i = 0; r == 0 && i < tl; i++)
		if (in->token[i] <= 0x20 || in->token[i] >= 0x7f)
			r = bw_err_set(err, BW_EINVAL, "token must be printable ASCII without spaces");
	if (r == 0) {
		ev_str(&ev, EVF_URL, in->url);
		snprintf(f.name, sizeof f.name, "%s", in->name);
		snprintf(f.url, sizeof f.url, "%s%s", in->url, in->url[strlen(in->url) - 1] == '/' ? "" : "/");
		snprintf(f.cacert, sizeof f.cacert, "%s", in->cacert != NULL ? in->cacert : "");
		f.interval_secs = in->interval_secs;
		feed_key(x->in, key);
		feed_ad(in->name, ad, sizeof ad);
		if ((r = bw_aead_seal(key, ad, strlen(ad), in->token, tl, f.token_sealed, err)) == 0) {
			f.token_sealed_len = tl + BW_AEAD_OVERHEAD;
			r = db_feed_add(x->in->db, &f, ops_now(), &id, err);
		}
		bw_memzero(key, sizeof key);
	}
	return ops_finish(x, OP_FEED_ADD, &ev, r, err);
}

int
ops_feed_list(struct ops_ctx *x, struct db_feed **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r = ops_begin(x, OP_FEED_LIST, &ev, err);

	*out = NULL;
	*n = 0;
	ev_target(&ev, "feeds");
	if (r == 0)
		r = db_feed_list(x->in->db, out, n, err);
	return ops_finish(x, OP_FEED_LIST, &ev, r, err);
}

int
ops_feed_source(struct ops_ctx *x, const char *name, struct ops_feed_source *out, struct bw_err *err)
{
	struct db_feed f;
	uint8_t key[32];
	char ad[128];
	int r;

	memset(out, 0, sizeof *out);
	if (ops_authorize(OP_FEED_PULL, x->caller) != OPS_ALLOW)
		return bw_err_set(err, BW_EDENIED, "feed.pull: not allowed");
	if (!name_ok(name))
		return bw_err_set(err, BW_ENOTFOUND, "no such feed");
	if ((r = db_feed_get(x->in->db, name, &f, err)) != 0)
		return r;
	if (f.token_sealed_len <= BW_AEAD_OVERHEAD || f.token_sealed_len - BW_AEAD_OVERHEAD >= sizeof out->token)
		return bw_err_set(err, BW_ECORRUPT, "feed %s: its stored token is damaged", name);
	feed_key(x->in, key);
	feed_ad(name, ad, sizeof ad);
	r = bw_aead_open(key, ad, strlen(ad), f.token_sealed, f.token_sealed_len, (uint8_t *)out->token, err);
	bw_memzero(key, sizeof key);
	if (r != 0)
		return bw_err_set(err, BW_ECORRUPT, "feed %s: its stored token does not open (moved or edited?)", name);
	out->token[f.token_sealed_len - BW_AEAD_OVERHEAD] = '\0';
	out->id = f.id;
	snprintf(out->name, sizeof out->name, "%s", f.name);
	snprintf(out->url, sizeof out->url, "%s", f.url);
	snprintf(out->cacert, sizeof out->cacert, "%s", f.cacert);
	snprintf(out->cursor, sizeof out->cursor, "%s", f.cursor);
	out->interval_secs = f.interval_secs;
	out->last_pull_at = f.last_pull_at;
	return 0;
}

int
ops_feed_pulled(struct ops_ctx *x, const struct ops_feed_source *src, const struct share_feed_value *v, size_t nv,
		size_t skipped, const char *cursor, const char *error, size_t *known, struct bw_err *err)
{
	struct event ev;
	const char **types = calloc(nv + 1, sizeof *types), **values = calloc(nv + 1, sizeof *values);
	const char **ids = calloc(nv + 1, sizeof *ids);
	size_t i;
	int r = ops_begin(x, OP_FEED_PULL, &ev, err);

	ev_target(&ev, "feed:%s", src->name);
	ev_int(&ev, EVF_SKIPPED, (int64_t)skipped);
	if (error != NULL && error[0] != '\0')
		ev_str(&ev, EVF_ERROR, error);
	if (r == 0 && (types == NULL || values == NULL || ids == NULL))
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; r == 0 && i < nv; i++) {
		types[i] = v[i].type;
		values[i] = v[i].value;
		ids[i] = v[i].stix_id;
	}
	if (r == 0)
		r = db_feed_pulled(x->in->db, src->id, types, values, ids, nv, cursor, ops_now(),
				   error != NULL ? error : "", err);
	if (r == 0)
		ev_int(&ev, EVF_COUNT, (int64_t)nv);
	*known = r == 0 ? nv : 0;
	free(types);
	free(values);
	free(ids);
	return ops_finish(x, OP_FEED_PULL, &ev, r, err);
}
