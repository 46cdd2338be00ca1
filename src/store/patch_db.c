/* store/patch_db.c: published patch targets and their audit-log entries. */
#include <stdio.h>
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

int
db_patch_target_get(struct bw_db *db, const char *name, const char *sha256, struct db_patch_target *out,
		    struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT length, version, targets_version, log_index, published_at FROM patch_targets"
				" WHERE name = ? AND sha256 = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(out->name, sizeof out->name, "%s", name);
			snprintf(out->sha256, sizeof out->sha256, "%s", sha256);
			out->length = sqlite3_column_int64(st, 0);
			snprintf(out->version, sizeof out->version, "%s", (const char *)sqlite3_column_text(st, 1));
			out->targets_version = sqlite3_column_int64(st, 2);
			out->log_index = sqlite3_column_int64(st, 3);
			out->published_at = sqlite3_column_int64(st, 4);
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
