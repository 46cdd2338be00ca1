/* store/patch_db.c: published patch targets and their audit-log entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

int
db_patch_target_insert(struct bw_db *db, const struct db_patch_target *t, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO patch_targets (name, sha256, length, version, targets_version, log_index,"
				" published_at) VALUES (?, ?, ?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t->sha256, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, t->length);
		sqlite3_bind_text(st, 4, t->version, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, t->targets_version);
		sqlite3_bind_int64(st, 6, t->log_index);
		sqlite3_bind_int64(st, 7, t->published_at);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			bw_err_set(err, BW_EEXIST, "target %.200s with this sha256 is already published", t->name);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
target_fill(sqlite3_stmt *st, void *p)
{
	struct db_patch_target *t = p;

	db_col_copy(st, 0, t->name, sizeof t->name);
	db_col_copy(st, 1, t->sha256, sizeof t->sha256);
	t->length = sqlite3_column_int64(st, 2);
	db_col_copy(st, 3, t->version, sizeof t->version);
	t->targets_version = sqlite3_column_int64(st, 4);
	t->log_index = sqlite3_column_int64(st, 5);
	t->published_at = sqlite3_column_int64(st, 6);
}

int
db_patch_target_list(struct bw_db *db, struct db_patch_target **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(db, "SELECT name, sha256, length, version, targets_version, log_index, published_at"
			     " FROM patch_targets ORDER BY log_index DESC",
			 sizeof **out, target_fill, (void **)out, n, "list patch targets", err);
}

int
db_patch_report_put(struct bw_db *db, const struct db_patch_report *rep, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT OR REPLACE INTO patch_reports (host, target, sha256, version, result, reason,"
				" reported_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, rep->host, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, rep->target, -1, SQLITE_TRANSIENT);
		db_bind_text_or_null(st, 3, rep->sha256[0] ? rep->sha256 : NULL);
		db_bind_text_or_null(st, 4, rep->version[0] ? rep->version : NULL);
		sqlite3_bind_text(st, 5, rep->result, -1, SQLITE_TRANSIENT);
		db_bind_text_or_null(st, 6, rep->reason[0] ? rep->reason : NULL);
		sqlite3_bind_text(st, 7, rep->reported_by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 8, rep->at);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
report_fill(sqlite3_stmt *st, void *p)
{
	struct db_patch_report *rep = p;

	db_col_copy(st, 0, rep->host, sizeof rep->host);
	db_col_copy(st, 1, rep->target, sizeof rep->target);
	db_col_copy(st, 2, rep->sha256, sizeof rep->sha256);
	db_col_copy(st, 3, rep->version, sizeof rep->version);
	db_col_copy(st, 4, rep->result, sizeof rep->result);
	db_col_copy(st, 5, rep->reason, sizeof rep->reason);
	db_col_copy(st, 6, rep->reported_by, sizeof rep->reported_by);
	rep->at = sqlite3_column_int64(st, 7);
}

int
db_patch_report_list(struct bw_db *db, struct db_patch_report **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(db, "SELECT host, target, sha256, version, result, reason, reported_by, at FROM patch_reports"
			     " ORDER BY host, target",
			 sizeof **out, report_fill, (void **)out, n, "list patch reports", err);
}

int
db_patch_target_get(struct bw_db *db, const char *name, const char *sha256, struct db_patch_target *out,
		    struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT name, sha256, length, version, targets_version, log_index, published_at"
				" FROM patch_targets WHERE name = ? AND sha256 = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			target_fill(st, out);
		} else {
			r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no published target %.200s with that sha256",
							   name)
					      : db_sql_err(db, err, "read patch target");
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_patch_state_get(struct bw_db *db, const char *name, int64_t *value, char text[65], struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	*value = 0;
	if (text != NULL)
		text[0] = '\0';
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT value, text FROM patch_state WHERE name = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*value = sqlite3_column_int64(st, 0);
			if (text != NULL && sqlite3_column_text(st, 1) != NULL)
				snprintf(text, 65, "%s", (const char *)sqlite3_column_text(st, 1));
		} else if (rc == SQLITE_DONE) {
			r = bw_err_set(err, BW_ENOTFOUND, "nothing published yet");
		} else {
			r = db_sql_err(db, err, "read patch state");
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_patch_state_set(struct bw_db *db, const char *name, int64_t value, const char *text, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO patch_state (name, value, text) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
			    " SET value = excluded.value, text = excluded.text", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, value);
		db_bind_text_or_null(st, 3, text);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
