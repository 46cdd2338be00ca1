/* store/alert_db.c: alerts raised by detection rules, their de-duplication and workflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define ALERT_COLS                                                                                                  \
	"id, rule_id, rule_title, level, group_key, state, COALESCE(resolution, ''), COALESCE(reason, ''),        \
	 COALESCE(decided_by, ''), count, first_index, last_index, first_seen, last_seen, updated_at,                \
	 COALESCE(assignee, ''), alerts.log" NOTIFY_COLS("webhook") NOTIFY_COLS("email")

/* The delivery state of one channel (three columns). */
#define NOTIFY_COLS(ch)                                                                                              \
	", COALESCE((SELECT attempts FROM notifications n WHERE n.alert_id = alerts.id AND n.channel = '" ch "'), 0)"  \
	", COALESCE((SELECT delivered_at FROM notifications n WHERE n.alert_id = alerts.id AND n.channel = '" ch        \
	"'), 0)"                                                                                                     \
	", COALESCE((SELECT error FROM notifications n WHERE n.alert_id = alerts.id AND n.channel = '" ch "'), '')"

const char *
db_notify_channel_name(enum db_notify_channel c)
{
	return c == DB_NOTIFY_EMAIL ? "email" : "webhook";
}

static void
fill_alert(sqlite3_stmt *st, void *p)
{
	struct db_alert *a = p;

	a->id = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, a->rule_id, sizeof a->rule_id);
	db_col_copy(st, 2, a->rule_title, sizeof a->rule_title);
	db_col_copy(st, 3, a->level, sizeof a->level);
	db_col_copy(st, 4, a->group_key, sizeof a->group_key);
	db_col_copy(st, 5, a->state, sizeof a->state);
	db_col_copy(st, 6, a->resolution, sizeof a->resolution);
	db_col_copy(st, 7, a->reason, sizeof a->reason);
	db_col_copy(st, 8, a->decided_by, sizeof a->decided_by);
	a->count = sqlite3_column_int64(st, 9);
	a->first_index = sqlite3_column_int64(st, 10);
	a->last_index = sqlite3_column_int64(st, 11);
	a->first_seen = sqlite3_column_int64(st, 12);
	a->last_seen = sqlite3_column_int64(st, 13);
	a->updated_at = sqlite3_column_int64(st, 14);
	db_col_copy(st, 15, a->assignee, sizeof a->assignee);
	db_col_copy(st, 16, a->log, sizeof a->log);
	for (int c = 0; c < 2; c++) {
		a->notify[c].attempts = sqlite3_column_int64(st, 17 + 3 * c);
		a->notify[c].delivered_at = sqlite3_column_int64(st, 18 + 3 * c);
		db_col_copy(st, 19 + 3 * c, a->notify[c].error, sizeof a->notify[c].error);
	}
}

#define LEVEL_RANK                                                                                                   \
	"CASE level WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"

int
db_alert_notify_due(struct bw_db *db, enum db_notify_channel channel, const char *min_level, int64_t since,
		    int64_t now, size_t limit, struct db_alert **out, size_t *n, struct bw_err *err)
{
	static const char *const names[] = { "informational", "low", "medium", "high", "critical" };
	sqlite3_stmt *st;
	int64_t rank = -1, i;
	int r;

	*out = NULL;
	*n = 0;
	for (i = 0; i < 5; i++)
		if (strcmp(min_level, names[i]) == 0)
			rank = i;
	if (rank < 0)
		return bw_err_set(err, BW_EINVAL, "unknown level '%s'", min_level);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " ALERT_COLS " FROM alerts LEFT JOIN notifications d ON d.alert_id = alerts.id"
				" AND d.channel = ?5 WHERE d.delivered_at IS NULL AND COALESCE(d.next_at, 0) <= ?3"
				" AND " LEVEL_RANK " >= ?1 AND first_seen >= ?2 ORDER BY alerts.id LIMIT ?4", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, rank);
		sqlite3_bind_int64(st, 2, since);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, (int64_t)limit);
		sqlite3_bind_text(st, 5, db_notify_channel_name(channel), -1, SQLITE_STATIC);
		r = db_collect_rows(db, st, sizeof **out, fill_alert, (void **)out, n, "listing due notifications", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_alert_notify_result(struct bw_db *db, int64_t id, enum db_notify_channel channel, const char *error, int64_t now,
		       int64_t next_at, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO notifications (alert_id, channel, attempts, next_at, delivered_at, error)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (alert_id, channel) DO UPDATE SET"
				" attempts = attempts + excluded.attempts, next_at = excluded.next_at,"
				" delivered_at = excluded.delivered_at, error = excluded.error", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, db_notify_channel_name(channel), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, error != NULL ? 1 : 0);
		sqlite3_bind_int64(st, 4, next_at);
		if (error == NULL)
			sqlite3_bind_int64(st, 5, now);
		else
			sqlite3_bind_null(st, 5);
		db_bind_text_or_null(st, 6, error);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* One alert by id (the caller holds db->mu). */
static int
get_locked(struct bw_db *db, int64_t id, struct db_alert *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = db_prepare(db, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?", &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		fill_alert(st, out);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = bw_err_set(err, BW_ENOTFOUND, "no alert %lld", (long long)id);
	} else {
		r = db_sql_err(db, err, "reading an alert");
	}
	sqlite3_finalize(st);
	return r;
}

int
db_alert_raise(struct bw_db *db, const char *rule_id, const char *title, const char *level, const char *group_key,
	       const char *log, int64_t idx, int64_t now, int64_t window, struct db_alert *out, bool *is_new, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int r, rc;

	*is_new = false;
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto out;
	if ((r = db_prepare(db, "SELECT id FROM alerts WHERE rule_id = ? AND group_key = ? AND log = ? AND"
				" state != 'resolved' AND last_seen >= ? ORDER BY id DESC LIMIT 1", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, group_key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, log, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, now - window);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			r = db_sql_err(db, err, "finding an open alert");
		sqlite3_finalize(st);
	}
	if (r == 0 && id != 0) {
		const int64_t b[] = { idx, now, now, id };
		r = db_update(db, "UPDATE alerts SET count = count + 1, last_index = ?, last_seen = ?, updated_at = ?"
			      " WHERE id = ?", 4, b, NULL, err);
	} else if (r == 0 &&
		   (r = db_prepare(db, "INSERT INTO alerts (rule_id, rule_title, level, group_key, state, count,"
				       " first_index, last_index, first_seen, last_seen, updated_at, log)"
				       " VALUES (?, ?, ?, ?, 'open', 1, ?, ?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, level, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, group_key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, idx);
		sqlite3_bind_int64(st, 6, idx);
		sqlite3_bind_int64(st, 7, now);
		sqlite3_bind_int64(st, 8, now);
		sqlite3_bind_int64(st, 9, now);
		sqlite3_bind_text(st, 10, log, -1, SQLITE_TRANSIENT);
		if ((r = db_step_done(db, st, NULL, err)) == 0) {
			id = sqlite3_last_insert_rowid(db->h);
			*is_new = true;
		}
	}
	if (r == 0)
		r = get_locked(db, id, out, err);
	r = db_tx_close(db, r, err);
out:
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_alert_list(struct bw_db *db, const char *state, size_t limit, struct db_alert **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " ALERT_COLS " FROM alerts WHERE (?1 IS NULL OR state = ?1)"
				" ORDER BY CASE level WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2"
				" WHEN 'low' THEN 3 ELSE 4 END, last_seen DESC, id DESC LIMIT ?2", &st, err)) == 0) {
		db_bind_text_or_null(st, 1, state);
		sqlite3_bind_int64(st, 2, (int64_t)limit);
		r = db_collect_rows(db, st, sizeof **out, fill_alert, (void **)out, n, "listing alerts", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_alert_get(struct bw_db *db, int64_t id, struct db_alert *out, struct bw_err *err)
{
	int r;

	pthread_mutex_lock(&db->mu);
	r = get_locked(db, id, out, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_alert_decide(struct bw_db *db, int64_t id, const char *state, const char *resolution, const char *reason,
		const char *who, int64_t now, struct bw_err *err)
{
	struct db_alert a;
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto out;
	if ((r = get_locked(db, id, &a, err)) == 0) {
		if (strcmp(a.state, "resolved") == 0)
			r = bw_err_set(err, BW_EINVAL, "alert %lld is resolved already", (long long)id);
		else if (strcmp(a.state, state) == 0)
			r = bw_err_set(err, BW_EINVAL, "alert %lld is %s already", (long long)id, state);
	}
	if (r == 0 && (r = db_prepare(db, "UPDATE alerts SET state = ?, resolution = ?, reason = ?, decided_by = ?,"
					  " updated_at = ? WHERE id = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
		db_bind_text_or_null(st, 2, resolution);
		db_bind_text_or_null(st, 3, reason);
		sqlite3_bind_text(st, 4, who, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, id);
		r = db_step_done(db, st, NULL, err);
	}
	r = db_tx_close(db, r, err);
out:
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* One statement on alert id that must change a row (else BW_ENOTFOUND); binds: 1 id, 2 text, 3 now, 4 text2. */
static int
alert_change(struct bw_db *db, const char *sql, int64_t id, const char *t1, int64_t now, const char *t2,
	     struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, sql, &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		db_bind_text_or_null(st, 2, t1);
		sqlite3_bind_int64(st, 3, now);
		db_bind_text_or_null(st, 4, t2);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes == 0)
			r = bw_err_set(err, BW_ENOTFOUND, "no alert %lld", (long long)id);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_alert_assign(struct bw_db *db, int64_t id, const char *assignee, int64_t now, struct bw_err *err)
{
	return alert_change(db, "UPDATE alerts SET assignee = ?2, updated_at = ?3 WHERE id = ?1", id, assignee, now, NULL,
			    err);
}

int
db_alert_comment_add(struct bw_db *db, int64_t id, const char *author, const char *text, int64_t now,
		     struct bw_err *err)
{
	return alert_change(db, "INSERT INTO alert_comments (alert_id, author, at, text)"
				" SELECT id, ?2, ?3, ?4 FROM alerts WHERE id = ?1", id, author, now, text, err);
}

static void
fill_comment(sqlite3_stmt *st, void *p)
{
	struct db_alert_comment *c = p;

	c->id = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, c->author, sizeof c->author);
	c->at = sqlite3_column_int64(st, 2);
	db_col_copy(st, 3, c->text, sizeof c->text);
}

int
db_alert_comments(struct bw_db *db, int64_t id, struct db_alert_comment **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT id, author, at, text FROM alert_comments WHERE alert_id = ? ORDER BY id", &st,
			    err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		r = db_collect_rows(db, st, sizeof **out, fill_comment, (void **)out, n, "reading alert comments", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

void
db_rule_settings_free(struct db_rule_setting *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		free(s[i].exceptions);
	free(s);
}

static void
fill_setting(sqlite3_stmt *st, void *p)
{
	struct db_rule_setting *s = p;
	const unsigned char *t = sqlite3_column_text(st, 2);

	db_col_copy(st, 0, s->rule_id, sizeof s->rule_id);
	s->enabled = sqlite3_column_int64(st, 1) != 0;
	s->exceptions = strdup(t ? (const char *)t : "[]");	/* NULL when out of memory: treated as none */
	db_col_copy(st, 3, s->updated_by, sizeof s->updated_by);
	s->updated_at = sqlite3_column_int64(st, 4);
}

int
db_rule_settings_list(struct bw_db *db, struct db_rule_setting **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(db, "SELECT rule_id, enabled, exceptions, updated_by, updated_at FROM rule_settings"
				" ORDER BY rule_id", sizeof **out, fill_setting, (void **)out, n, "listing rule settings", err);
}

int
db_rule_setting_get(struct bw_db *db, const char *rule_id, struct db_rule_setting *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT rule_id, enabled, exceptions, updated_by, updated_at FROM rule_settings"
				" WHERE rule_id = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			fill_setting(st, out);
		else if (rc == SQLITE_DONE)
			r = bw_err_set(err, BW_ENOTFOUND, "no setting for rule %.64s", rule_id);
		else
			r = db_sql_err(db, err, "reading a rule setting");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_rule_setting_put(struct bw_db *db, const char *rule_id, bool enabled, const char *exceptions, const char *by,
		    int64_t now, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO rule_settings VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (rule_id) DO UPDATE"
				" SET enabled = ?2, exceptions = ?3, updated_by = ?4, updated_at = ?5", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, enabled);
		sqlite3_bind_text(st, 3, exceptions, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_first_seen(struct bw_db *db, const char *key, int64_t index, int64_t at, bool *first, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*first = false;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT OR IGNORE INTO first_seen (key, first_index, first_at) VALUES (?, ?, ?)", &st,
			    err)) == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, index);
		sqlite3_bind_int64(st, 3, at);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_sql_err(db, err, "recording a first sighting");
		else
			*first = sqlite3_changes(db->h) == 1;
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
