/*
 * store/hostev_db.c: the host-event index, a database of its own (derived
 * data: every row comes from the host-event log, and the index is rebuilt
 * from the log when lost): events by host, time, subject, action and free
 * text; each agent stream's last logged position; each host's last
 * heartbeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_internal.h"

static const char *const hostdb_migrations[] = {
	/* 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;"
	"INSERT INTO meta VALUES ('indexed_upto', 0);"
	"CREATE TABLE events ("
	"  idx INTEGER PRIMARY KEY,"
	"  host TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  result TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX events_host ON events(host, idx);"
	"CREATE INDEX events_subject ON events(subject, idx);"
	"CREATE INDEX events_action ON events(action, idx);"
	"CREATE INDEX events_time ON events(time);"
	/* free text: the raw record and the normalised fields, as phrases (the text itself is in the log) */
	"CREATE VIRTUAL TABLE events_text USING fts5(text, content='');"
	"CREATE TABLE streams ("
	"  host TEXT PRIMARY KEY,"
	"  epoch TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  logged INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE host_state ("
	"  host TEXT PRIMARY KEY,"
	"  epoch TEXT NOT NULL,"
	"  heartbeat_at INTEGER NOT NULL,"
	"  agent_time INTEGER NOT NULL,"
	"  counters TEXT NOT NULL,"
	"  lost INTEGER NOT NULL,"
	"  silent_since INTEGER NOT NULL DEFAULT 0"
	") STRICT;",
};

struct bw_hostdb {
	struct bw_db *db;
};

int
hostdb_open(const char *path, struct bw_hostdb **out, struct bw_err *err)
{
	struct bw_hostdb *h;
	int r;

	*out = NULL;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = db_open_schema(path, true, hostdb_migrations, sizeof hostdb_migrations / sizeof hostdb_migrations[0],
				INT64_MAX, &h->db, err)) != 0) {
		free(h);
		return bw_err_prefix(err, "host-event index");
	}
	chmod(path, 0600);
	/* Derived data, rebuilt from the log: a lost last transaction costs a re-read, never an event. */
	if ((r = db_exec(h->db, "PRAGMA synchronous=NORMAL;", err)) != 0) {
		hostdb_close(h);
		return r;
	}
	*out = h;
	return 0;
}

void
hostdb_close(struct bw_hostdb *h)
{
	if (h == NULL)
		return;
	db_close(h->db);
	free(h);
}

int
hostdb_meta_get(struct bw_hostdb *h, const char *key, uint64_t *value, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	*value = 0;
	pthread_mutex_lock(&h->db->mu);
	if ((r = db_prepare(h->db, "SELECT value FROM meta WHERE key = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*value = (uint64_t)sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE)
			r = bw_err_set(err, BW_ENOTFOUND, "no %s", key);
		else
			r = db_sql_err(h->db, err, "read the index's positions");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&h->db->mu);
	return r;
}

int
hostdb_meta_set(struct bw_hostdb *h, const char *key, uint64_t value, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&h->db->mu);
	if ((r = db_prepare(h->db, "INSERT INTO meta VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)value);
		r = db_step_done(h->db, st, NULL, err);
	}
	pthread_mutex_unlock(&h->db->mu);
	return r;
}

int
hostdb_indexed_upto(struct bw_hostdb *h, uint64_t *upto, struct bw_err *err)
{
	return hostdb_meta_get(h, "indexed_upto", upto, err);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

/* The text the free-text index sees: the normalised fields and the raw record. */
static int
text_of(const struct hostdb_event *e, struct bw_buf *b)
{
	b->len = 0;
	if (bw_buf_printf(b, "%s %s %s %s %s %s\n", e->host, e->source, e->subject ? e->subject : "",
			  e->action ? e->action : "", e->object ? e->object : "", e->result ? e->result : "") != 0 ||
	    bw_buf_append(b, e->raw != NULL ? e->raw : "", e->raw != NULL ? e->raw_len : 0) != 0)
		return -1;
	return 0;
}

static int
index_rows(struct bw_hostdb *h, const struct hostdb_event *ev, size_t n, struct bw_err *err)
{
	sqlite3_stmt *ins = NULL, *txt = NULL, *str = NULL;
	struct bw_buf b = { 0 };
	size_t i;
	int r;

	if ((r = db_prepare(h->db, "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &ins, err)) != 0 ||
	    (r = db_prepare(h->db, "INSERT INTO events_text(rowid, text) VALUES (?, ?)", &txt, err)) != 0 ||
	    (r = db_prepare(h->db,
			    "INSERT INTO streams VALUES (?1, ?2, ?3, ?4) ON CONFLICT(host) DO UPDATE SET "
			    "epoch = ?2, seq = ?3, logged = ?4",
			    &str, err)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		const struct hostdb_event *e = &ev[i];
		sqlite3_bind_int64(ins, 1, (int64_t)e->index);
		bind_text(ins, 2, e->host);
		sqlite3_bind_int64(ins, 3, e->time_ms);
		sqlite3_bind_int64(ins, 4, e->received_ms);
		bind_text(ins, 5, e->source);
		bind_text(ins, 6, e->subject);
		bind_text(ins, 7, e->action);
		bind_text(ins, 8, e->object);
		bind_text(ins, 9, e->result);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			r = db_sql_err(h->db, err, "index a host event");
			break;
		}
		sqlite3_reset(ins);
		if (sqlite3_changes(h->db->h) == 0)
			continue;	/* indexed before (a re-read after a crash) */
		if (text_of(e, &b) != 0) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		sqlite3_bind_int64(txt, 1, (int64_t)e->index);
		sqlite3_bind_text(txt, 2, (const char *)b.data, (int)b.len, SQLITE_STATIC);
		if (sqlite3_step(txt) != SQLITE_DONE) {
			r = db_sql_err(h->db, err, "index a host event's text");
			break;
		}
		sqlite3_reset(txt);
		bind_text(str, 1, e->host);
		bind_text(str, 2, e->epoch);
		sqlite3_bind_int64(str, 3, (int64_t)e->seq);
		sqlite3_bind_int64(str, 4, (int64_t)e->n + 1);
		if (sqlite3_step(str) != SQLITE_DONE) {
			r = db_sql_err(h->db, err, "record a stream's position");
			break;
		}
		sqlite3_reset(str);
	}
out:
	bw_buf_free(&b);
	sqlite3_finalize(ins);
	sqlite3_finalize(txt);
	sqlite3_finalize(str);
	return r;
}

int
hostdb_index(struct bw_hostdb *h, const struct hostdb_event *ev, size_t n, uint64_t upto, struct bw_err *err)
{
	int64_t b[1] = { (int64_t)upto };
	int r;

	pthread_mutex_lock(&h->db->mu);
	if ((r = db_tx_open(h->db, err)) == 0) {
		r = index_rows(h, ev, n, err);
		if (r == 0)
			r = db_update(h->db, "UPDATE meta SET value = ? WHERE key = 'indexed_upto'", 1, b, NULL, err);
		r = db_tx_close(h->db, r, err);
	}
	pthread_mutex_unlock(&h->db->mu);
	return r;
}

int
hostdb_unindex(struct bw_hostdb *h, const struct hostdb_event *ev, size_t n, uint64_t pruned_upto, struct bw_err *err)
{
	sqlite3_stmt *del = NULL, *txt = NULL;
	struct bw_buf b = { 0 };
	int64_t v[1] = { (int64_t)pruned_upto };
	size_t i;
	int r;

	pthread_mutex_lock(&h->db->mu);
	if ((r = db_tx_open(h->db, err)) != 0)
		goto unlock;
	if ((r = db_prepare(h->db, "DELETE FROM events WHERE idx = ?", &del, err)) != 0 ||
	    (r = db_prepare(h->db, "INSERT INTO events_text(events_text, rowid, text) VALUES ('delete', ?, ?)", &txt,
			    err)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		sqlite3_bind_int64(del, 1, (int64_t)ev[i].index);
		if (sqlite3_step(del) != SQLITE_DONE) {
			r = db_sql_err(h->db, err, "remove a pruned host event");
			break;
		}
		sqlite3_reset(del);
		if (sqlite3_changes(h->db->h) == 0)
			continue;	/* not indexed: its text is not in the free-text index either */
		/* a contentless free-text index forgets a row only when told the text it was given */
		if (text_of(&ev[i], &b) != 0) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		sqlite3_bind_int64(txt, 1, (int64_t)ev[i].index);
		sqlite3_bind_text(txt, 2, (const char *)b.data, (int)b.len, SQLITE_STATIC);
		if (sqlite3_step(txt) != SQLITE_DONE) {
			r = db_sql_err(h->db, err, "remove a pruned host event's text");
			break;
		}
		sqlite3_reset(txt);
	}
	if (r == 0)
		r = db_update(h->db,
			      "INSERT INTO meta VALUES ('pruned_upto', ?1) ON CONFLICT(key) DO UPDATE SET value = "
			      "max(value, ?1)",
			      1, v, NULL, err);
out:
	sqlite3_finalize(del);
	sqlite3_finalize(txt);
	bw_buf_free(&b);
	r = db_tx_close(h->db, r, err);
unlock:
	pthread_mutex_unlock(&h->db->mu);
	return r;
}

static void
fill_stream(sqlite3_stmt *st, void *row)
{
	struct hostdb_stream *s = row;

	db_col_copy(st, 0, s->host, sizeof s->host);
	db_col_copy(st, 1, s->epoch, sizeof s->epoch);
	s->seq = (uint64_t)sqlite3_column_int64(st, 2);
	s->logged = (uint32_t)sqlite3_column_int64(st, 3);
}

int
hostdb_streams(struct bw_hostdb *h, struct hostdb_stream **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(h->db, "SELECT host, epoch, seq, logged FROM streams ORDER BY host", sizeof **out,
			    fill_stream, (void **)out, n, "list agent streams", err);
}

/* ---- search ---- */

void
hostdb_hits_free(struct hostdb_hit *hits, size_t n)
{
	size_t i;

	for (i = 0; hits != NULL && i < n; i++) {
		free(hits[i].subject);
		free(hits[i].action);
		free(hits[i].object);
		free(hits[i].result);
	}
	free(hits);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return strdup(s != NULL ? s : "");
}

static void
fill_hit(sqlite3_stmt *st, void *row)
{
	struct hostdb_hit *h = row;

	h->index = (uint64_t)sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, h->host, sizeof h->host);
	h->time_ms = sqlite3_column_int64(st, 2);
	h->received_ms = sqlite3_column_int64(st, 3);
	db_col_copy(st, 4, h->source, sizeof h->source);
	h->subject = col_dup(st, 5);
	h->action = col_dup(st, 6);
	h->object = col_dup(st, 7);
	h->result = col_dup(st, 8);
}

/*
 * The free-text query for FTS5: each whitespace-separated word of text as
 * a quoted string (quotes doubled: a phrase of its tokens), so no FTS5
 * syntax reaches the query; all of them must appear. NULL when text has
 * no word.
 */
static char *
fts_query(const char *text)
{
	struct bw_buf b = { 0 };
	const char *p = text;

	while (*p) {
		size_t n;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n == 0)
			break;
		if (b.len > 0)
			bw_buf_append_str(&b, " AND ");
		bw_buf_append_byte(&b, '"');
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '"')
				bw_buf_append_byte(&b, '"');
			bw_buf_append_byte(&b, (uint8_t)p[i]);
		}
		bw_buf_append_byte(&b, '"');
		p += n;
	}
	if (b.len == 0 || bw_buf_append_byte(&b, 0) != 0) {
		bw_buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}

int
hostdb_search(struct bw_hostdb *h, const struct hostdb_query *q, struct hostdb_hit **out, size_t *n,
	      struct bw_err *err)
{
	char sql[1024], *fts = NULL;
	sqlite3_stmt *st;
	int r, i = 1;

	*out = NULL;
	*n = 0;
	if (q->text != NULL && q->text[0] && (fts = fts_query(q->text)) == NULL)
		return bw_err_set(err, BW_EINVAL, "text: no word to search for");
	snprintf(sql, sizeof sql,
		 "SELECT idx, host, time, received, source, subject, action, object, result FROM events "
		 "WHERE idx < ?%s%s%s%s%s%s%s ORDER BY idx DESC LIMIT ?",
		 q->host ? " AND host = ?" : "", q->source ? " AND source = ?" : "",
		 q->subject ? " AND subject = ?" : "", q->action ? " AND action = ?" : "",
		 q->from_ms > 0 ? " AND time >= ?" : "", q->to_ms > 0 ? " AND time < ?" : "",
		 fts ? " AND idx IN (SELECT rowid FROM events_text WHERE events_text MATCH ?)" : "");
	pthread_mutex_lock(&h->db->mu);
	if ((r = db_prepare(h->db, sql, &st, err)) == 0) {
		sqlite3_bind_int64(st, i++, q->before_index > 0 && q->before_index <= INT64_MAX ? (int64_t)q->before_index
											  : INT64_MAX);
		if (q->host)
			bind_text(st, i++, q->host);
		if (q->source)
			bind_text(st, i++, q->source);
		if (q->subject)
			bind_text(st, i++, q->subject);
		if (q->action)
			bind_text(st, i++, q->action);
		if (q->from_ms > 0)
			sqlite3_bind_int64(st, i++, q->from_ms);
		if (q->to_ms > 0)
			sqlite3_bind_int64(st, i++, q->to_ms);
		if (fts)
			bind_text(st, i++, fts);
		sqlite3_bind_int64(st, i, (int64_t)q->limit);
		r = db_collect_rows(h->db, st, sizeof **out, fill_hit, (void **)out, n, "search host events", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&h->db->mu);
	free(fts);
	return r;
}

/* ---- heartbeats ---- */

int
hostdb_heartbeat_put(struct bw_hostdb *h, const struct hostdb_host_state *s, uint64_t *prev_lost, bool *was_silent,
		     struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*prev_lost = 0;
	*was_silent = false;
	pthread_mutex_lock(&h->db->mu);
	if ((r = db_prepare(h->db, "SELECT lost, silent_since, epoch FROM host_state WHERE host = ?", &st, err)) == 0) {
		bind_text(st, 1, s->host);
		if (sqlite3_step(st) == SQLITE_ROW) {
			/* losses count from the epoch's start: a new epoch starts again from 0 */
			const char *ep = (const char *)sqlite3_column_text(st, 2);
			if (ep != NULL && strcmp(ep, s->epoch) == 0)
				*prev_lost = (uint64_t)sqlite3_column_int64(st, 0);
			*was_silent = sqlite3_column_int64(st, 1) != 0;
		}
		sqlite3_finalize(st);
	}
	if (r == 0 && (r = db_prepare(h->db,
				      "INSERT INTO host_state VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT(host) DO "
				      "UPDATE SET epoch = ?2, heartbeat_at = ?3, agent_time = ?4, counters = ?5, "
				      "lost = ?6, silent_since = 0",
				      &st, err)) == 0) {
		bind_text(st, 1, s->host);
		bind_text(st, 2, s->epoch);
		sqlite3_bind_int64(st, 3, s->heartbeat_at);
		sqlite3_bind_int64(st, 4, s->agent_time);
		bind_text(st, 5, s->counters);
		sqlite3_bind_int64(st, 6, (int64_t)s->lost);
		r = db_step_done(h->db, st, NULL, err);
	}
	pthread_mutex_unlock(&h->db->mu);
	return r;
}

void
hostdb_states_free(struct hostdb_host_state *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		free(s[i].counters);
	free(s);
}

static void
fill_state(sqlite3_stmt *st, void *row)
{
	struct hostdb_host_state *s = row;

	db_col_copy(st, 0, s->host, sizeof s->host);
	db_col_copy(st, 1, s->epoch, sizeof s->epoch);
	s->heartbeat_at = sqlite3_column_int64(st, 2);
	s->agent_time = sqlite3_column_int64(st, 3);
	s->counters = col_dup(st, 4);
	s->lost = (uint64_t)sqlite3_column_int64(st, 5);
	s->silent_since = sqlite3_column_int64(st, 6);
}

int
hostdb_states(struct bw_hostdb *h, struct hostdb_host_state **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(h->db,
			    "SELECT host, epoch, heartbeat_at, agent_time, counters, lost, silent_since FROM host_state "
			    "ORDER BY host",
			    sizeof **out, fill_state, (void **)out, n, "list host states", err);
}

int
hostdb_mark_silent(struct bw_hostdb *h, const char *host, int64_t since, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&h->db->mu);
	if ((r = db_prepare(h->db, "UPDATE host_state SET silent_since = ? WHERE host = ? AND silent_since = 0", &st,
			    err)) == 0) {
		sqlite3_bind_int64(st, 1, since);
		bind_text(st, 2, host);
		r = db_step_done(h->db, st, &changes, err);
	}
	pthread_mutex_unlock(&h->db->mu);
	if (r == 0 && changes == 0)
		r = bw_err_set(err, BW_EEXIST, "host %s is already marked silent", host);
	return r;
}
