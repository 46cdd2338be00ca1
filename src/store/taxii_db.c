/* store/taxii_db.c: partners, the TAXII collections they read, the objects shared, and partners' feeds pulled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* ---- partners ---- */

int
db_partner_add(struct bw_db *db, const char *name, const char *org, const uint8_t hash[32], int64_t now, int64_t *id,
	       struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO partners (name, org, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			r = bw_err_set(err, BW_EEXIST, "a partner named %.64s exists", name);
		else if (r == 0)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

#define PARTNER_COLS "id, name, org, created_at, COALESCE(revoked_at, 0)"

static void
fill_partner(sqlite3_stmt *st, void *row)
{
	struct db_partner *p = row;

	p->id = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, p->name, sizeof p->name);
	db_col_copy(st, 2, p->org, sizeof p->org);
	p->created_at = sqlite3_column_int64(st, 3);
	p->revoked_at = sqlite3_column_int64(st, 4);
}

int
db_partner_list(struct bw_db *db, struct db_partner **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(db, "SELECT " PARTNER_COLS " FROM partners ORDER BY name", sizeof **out, fill_partner,
			    (void **)out, n, "partners", err);
}

int
db_partner_by_token(struct bw_db *db, const uint8_t hash[32], struct db_partner *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_partner *rows = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " PARTNER_COLS " FROM partners WHERE token_hash = ?1 AND revoked_at IS NULL", &st,
			    err)) == 0) {
		sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
		r = db_collect_rows(db, st, sizeof *rows, fill_partner, (void **)&rows, &n, "partner", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r == 0 && n == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "unknown or revoked partner token");
	if (r == 0)
		*out = rows[0];
	free(rows);
	return r;
}

int
db_partner_revoke(struct bw_db *db, const char *name, int64_t now, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE partners SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		r = db_step_done(db, st, &changes, err);
	}
	pthread_mutex_unlock(&db->mu);
	if (r == 0 && changes == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no active partner %.64s", name);
	return r;
}

/* ---- collections ---- */

int
db_taxii_collection_add(struct bw_db *db, const char *id, const char *title, const char *description, int64_t now,
			struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO taxii_collections (id, title, description, created_at) VALUES (?1, ?2, ?3, ?4)",
			    &st, err)) == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			r = bw_err_set(err, BW_EEXIST, "a collection titled %.128s exists", title);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
fill_collection(sqlite3_stmt *st, void *row)
{
	struct db_taxii_collection *c = row;

	db_col_copy(st, 0, c->id, sizeof c->id);
	db_col_copy(st, 1, c->title, sizeof c->title);
	db_col_copy(st, 2, c->description, sizeof c->description);
	c->created_at = sqlite3_column_int64(st, 3);
	db_col_copy(st, 4, c->readers, sizeof c->readers);
}

int
db_taxii_collections(struct bw_db *db, int64_t partner_id, struct db_taxii_collection **out, size_t *n,
		     struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT c.id, c.title, c.description, c.created_at, "
				"  (SELECT group_concat(p.name, ',') FROM taxii_readers tr JOIN partners p ON p.id = tr.partner_id "
				"   WHERE tr.collection_id = c.id AND p.revoked_at IS NULL) "
				"FROM taxii_collections c WHERE ?1 = 0 OR EXISTS (SELECT 1 FROM taxii_readers tr "
				"  WHERE tr.collection_id = c.id AND tr.partner_id = ?1) ORDER BY c.created_at, c.title",
			    &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, partner_id);
		r = db_collect_rows(db, st, sizeof **out, fill_collection, (void **)out, n, "collections", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_taxii_grant(struct bw_db *db, const char *collection_id, const char *partner, bool read, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t pid = 0, cid = 0;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COALESCE((SELECT id FROM partners WHERE name = ?1 AND revoked_at IS NULL), 0)", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, partner, -1, SQLITE_STATIC);
		r = db_step_int(db, st, &pid, "partner", err);
	}
	if (r == 0 && (r = db_prepare(db, "SELECT COUNT(*) FROM taxii_collections WHERE id = ?1", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, collection_id, -1, SQLITE_STATIC);
		r = db_step_int(db, st, &cid, "collection", err);
	}
	if (r == 0 && pid == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no active partner %.64s", partner);
	else if (r == 0 && cid == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no collection %.40s", collection_id);
	if (r == 0 && (r = db_prepare(db, read ? "INSERT OR IGNORE INTO taxii_readers VALUES (?1, ?2)"
					       : "DELETE FROM taxii_readers WHERE collection_id = ?1 AND partner_id = ?2",
				      &st, err)) == 0) {
		sqlite3_bind_text(st, 1, collection_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, pid);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- objects ---- */

int
db_taxii_add_objects(struct bw_db *db, const char *collection_id, struct db_taxii_object *o, size_t n,
		     int64_t report_id, int64_t now_us, size_t *added, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t last = 0;
	size_t i;
	int r, changes;

	*added = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0) {
		pthread_mutex_unlock(&db->mu);
		return r;
	}
	if ((r = db_prepare(db, "SELECT COALESCE(MAX(added_us), 0) FROM taxii_objects WHERE collection_id = ?1", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, collection_id, -1, SQLITE_STATIC);
		r = db_step_int(db, st, &last, "collection", err);
	}
	for (i = 0; r == 0 && i < n; i++) {
		int64_t at = now_us > last ? now_us : last + 1;
		if ((r = db_prepare(db, "INSERT OR IGNORE INTO taxii_objects (collection_id, stix_id, type, version, added_us, "
					"tlp, for_org, report_id, object) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
				    &st, err)) != 0)
			break;
		sqlite3_bind_text(st, 1, collection_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o[i].stix_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o[i].type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, o[i].version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, at);
		sqlite3_bind_text(st, 6, o[i].tlp, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, o[i].for_org, -1, SQLITE_STATIC);
		if (report_id != 0)
			sqlite3_bind_int64(st, 8, report_id);
		sqlite3_bind_text(st, 9, o[i].object, -1, SQLITE_STATIC);
		changes = 0;
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes > 0) {
			o[i].seq = sqlite3_last_insert_rowid(db->h);
			o[i].added_us = last = at;
			(*added)++;
		}
	}
	r = db_tx_close(db, r, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
fill_object(sqlite3_stmt *st, void *row)
{
	struct db_taxii_object *o = row;
	const unsigned char *t = sqlite3_column_text(st, 7);

	o->seq = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, o->stix_id, sizeof o->stix_id);
	db_col_copy(st, 2, o->type, sizeof o->type);
	db_col_copy(st, 3, o->version, sizeof o->version);
	o->added_us = sqlite3_column_int64(st, 4);
	db_col_copy(st, 5, o->tlp, sizeof o->tlp);
	db_col_copy(st, 6, o->for_org, sizeof o->for_org);
	o->object = t != NULL ? strdup((const char *)t) : NULL;
}

void
db_taxii_objects_free(struct db_taxii_object *o, size_t n)
{
	size_t i;

	for (i = 0; o != NULL && i < n; i++)
		free(o[i].object);
	free(o);
}

int
db_taxii_objects(struct bw_db *db, const char *collection_id, const struct db_taxii_query *q,
		 struct db_taxii_object **out, size_t *n, bool *more, struct bw_err *err)
{
	static const char *const version_sql[] = {
		"AND NOT EXISTS (SELECT 1 FROM taxii_objects o2 WHERE o2.collection_id = o.collection_id AND "
		"o2.stix_id = o.stix_id AND o2.version > o.version) ",
		"AND NOT EXISTS (SELECT 1 FROM taxii_objects o2 WHERE o2.collection_id = o.collection_id AND "
		"o2.stix_id = o.stix_id AND o2.version < o.version) ",
		"",
	};
	char sql[2048], types[512] = "";
	sqlite3_stmt *st;
	size_t i, o = 0;
	int r;

	*out = NULL;
	*n = 0;
	*more = false;
	if (q->ntypes > 16 || q->versions < 0 || q->versions > 2 || q->limit == 0)
		return bw_err_set(err, BW_EINVAL, "a query of at most 16 types, for 1 or more objects");
	for (i = 0; i < q->ntypes; i++)
		o += (size_t)snprintf(types + o, sizeof types - o, "%s?%zu", i ? ", " : "", 10 + i);
	snprintf(sql, sizeof sql,
		 "SELECT o.seq, o.stix_id, o.type, o.version, o.added_us, o.tlp, o.for_org, o.object FROM taxii_objects o "
		 "WHERE o.collection_id = ?1 AND o.added_us > ?2 AND o.seq > ?3 AND o.tlp <> 'red' "
		 "AND (?4 IS NULL OR o.tlp <> 'amber+strict' OR o.for_org = ?4) AND (?5 IS NULL OR o.stix_id = ?5) "
		 "%s%s%s%s ORDER BY o.added_us, o.seq LIMIT ?6",
		 version_sql[q->versions], q->ntypes ? "AND o.type IN (" : "", types, q->ntypes ? ")" : "");
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, sql, &st, err)) == 0) {
		sqlite3_bind_text(st, 1, collection_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, q->added_after_us);
		sqlite3_bind_int64(st, 3, q->after_seq);
		db_bind_text_or_null(st, 4, q->org);
		db_bind_text_or_null(st, 5, q->id);
		sqlite3_bind_int64(st, 6, (int64_t)q->limit + 1);
		for (i = 0; i < q->ntypes; i++)
			sqlite3_bind_text(st, 10 + (int)i, q->types[i], -1, SQLITE_STATIC);
		r = db_collect_rows(db, st, sizeof **out, fill_object, (void **)out, n, "collection objects", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	for (i = 0; r == 0 && i < *n; i++)
		if ((*out)[i].object == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r == 0 && *n > q->limit) {
		*more = true;
		free((*out)[q->limit].object);
		*n = q->limit;
	}
	if (r != 0) {
		db_taxii_objects_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* ---- feeds ---- */

int
db_feed_add(struct bw_db *db, const struct db_feed *f, int64_t now, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO taxii_feeds (name, url, token_sealed, cacert, interval_secs, created_at) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, f->url, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, f->token_sealed, (int)f->token_sealed_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, f->cacert, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, f->interval_secs);
		sqlite3_bind_int64(st, 6, now);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			r = bw_err_set(err, BW_EEXIST, "a feed named %.64s exists", f->name);
		else if (r == 0)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

#define FEED_COLS                                                                                                    \
	"f.id, f.name, f.url, f.token_sealed, f.cacert, f.interval_secs, f.cursor, f.last_pull_at, f.last_error, "   \
	"f.created_at, (SELECT COUNT(*) FROM feed_indicators i WHERE i.feed_id = f.id)"

static void
fill_feed(sqlite3_stmt *st, void *row)
{
	struct db_feed *f = row;
	int len = sqlite3_column_bytes(st, 3);

	f->id = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, f->name, sizeof f->name);
	db_col_copy(st, 2, f->url, sizeof f->url);
	if (len > 0 && (size_t)len <= sizeof f->token_sealed) {
		memcpy(f->token_sealed, sqlite3_column_blob(st, 3), (size_t)len);
		f->token_sealed_len = (size_t)len;
	}
	db_col_copy(st, 4, f->cacert, sizeof f->cacert);
	f->interval_secs = sqlite3_column_int64(st, 5);
	db_col_copy(st, 6, f->cursor, sizeof f->cursor);
	f->last_pull_at = sqlite3_column_int64(st, 7);
	db_col_copy(st, 8, f->last_error, sizeof f->last_error);
	f->created_at = sqlite3_column_int64(st, 9);
	f->indicators = sqlite3_column_int64(st, 10);
}

int
db_feed_list(struct bw_db *db, struct db_feed **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(db, "SELECT " FEED_COLS " FROM taxii_feeds f ORDER BY f.name", sizeof **out, fill_feed,
			    (void **)out, n, "feeds", err);
}

int
db_feed_get(struct bw_db *db, const char *name, struct db_feed *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_feed *rows = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " FEED_COLS " FROM taxii_feeds f WHERE f.name = ?1", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		r = db_collect_rows(db, st, sizeof *rows, fill_feed, (void **)&rows, &n, "feed", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r == 0 && n == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no feed %.64s", name);
	if (r == 0)
		*out = rows[0];
	free(rows);
	return r;
}

int
db_feed_pulled(struct bw_db *db, int64_t feed_id, const char *const *types, const char *const *values,
	       const char *const *stix_ids, size_t n, const char *cursor, int64_t now, const char *error,
	       struct bw_err *err)
{
	sqlite3_stmt *st;
	size_t i;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0) {
		pthread_mutex_unlock(&db->mu);
		return r;
	}
	for (i = 0; r == 0 && i < n; i++) {
		if ((r = db_prepare(db, "INSERT INTO feed_indicators (feed_id, type, value, stix_id, added_at) VALUES "
					"(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET stix_id = excluded.stix_id",
				    &st, err)) != 0)
			break;
		sqlite3_bind_int64(st, 1, feed_id);
		sqlite3_bind_text(st, 2, types[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, values[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, stix_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		r = db_step_done(db, st, NULL, err);
	}
	if (r == 0 && (r = db_prepare(db, "UPDATE taxii_feeds SET cursor = COALESCE(?2, cursor), last_pull_at = ?3, "
					  "last_error = ?4 WHERE id = ?1", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, feed_id);
		db_bind_text_or_null(st, 2, cursor);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
		r = db_step_done(db, st, NULL, err);
	}
	r = db_tx_close(db, r, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
fill_hit(sqlite3_stmt *st, void *row)
{
	struct db_feed_hit *h = row;

	db_col_copy(st, 0, h->feed, sizeof h->feed);
	db_col_copy(st, 1, h->type, sizeof h->type);
	db_col_copy(st, 2, h->value, sizeof h->value);
	db_col_copy(st, 3, h->stix_id, sizeof h->stix_id);
}

int
db_feed_match(struct bw_db *db, const char *const *types, const char *const *values, size_t nv,
	      struct db_feed_hit **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	size_t i;
	int r = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	for (i = 0; r == 0 && i < nv; i++) {
		if ((r = db_prepare(db, "SELECT f.name, i.type, i.value, i.stix_id FROM feed_indicators i JOIN taxii_feeds f "
					"ON f.id = i.feed_id WHERE i.type = ?1 AND i.value = ?2 ORDER BY f.name",
				    &st, err)) != 0)
			break;
		sqlite3_bind_text(st, 1, types[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, values[i], -1, SQLITE_STATIC);
		struct db_feed_hit *some = NULL, *all;
		size_t k = 0;
		r = db_collect_rows(db, st, sizeof *some, fill_hit, (void **)&some, &k, "feed indicators", err);
		sqlite3_finalize(st);
		if (r == 0 && k > 0) {
			if ((all = realloc(*out, (*n + k) * sizeof *all)) == NULL) {
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
			} else {
				memcpy(all + *n, some, k * sizeof *some);
				*out = all;
				*n += k;
			}
		}
		free(some);
	}
	if (r != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
