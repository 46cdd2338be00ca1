/* store/report_db.c: reported mails and files: the report, its triage result and its workflow state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define REPORT_COLS                                                                                               \
	"id, created_at, updated_at, COALESCE(triaged_at, 0), reporter, reporter_verified, channel, comment, file_name, " \
	"sha256, size, status, verdict, score, triage"

static void
fill_report(sqlite3_stmt *st, void *p)
{
	struct db_report *r = p;
	const unsigned char *t;

	r->id = sqlite3_column_int64(st, 0);
	r->created_at = sqlite3_column_int64(st, 1);
	r->updated_at = sqlite3_column_int64(st, 2);
	r->triaged_at = sqlite3_column_int64(st, 3);
	db_col_copy(st, 4, r->reporter, sizeof r->reporter);
	r->reporter_verified = sqlite3_column_int64(st, 5) != 0;
	db_col_copy(st, 6, r->channel, sizeof r->channel);
	db_col_copy(st, 7, r->comment, sizeof r->comment);
	db_col_copy(st, 8, r->file_name, sizeof r->file_name);
	db_col_copy(st, 9, r->sha256, sizeof r->sha256);
	r->size = sqlite3_column_int64(st, 10);
	db_col_copy(st, 11, r->status, sizeof r->status);
	db_col_copy(st, 12, r->verdict, sizeof r->verdict);
	r->score = sqlite3_column_int64(st, 13);
	t = sqlite3_column_text(st, 14);
	r->triage = t != NULL ? strdup((const char *)t) : NULL;	/* NULL also when out of memory: shown as not triaged */
}

void
db_report_clear(struct db_report *r)
{
	if (r != NULL) {
		free(r->triage);
		r->triage = NULL;
	}
}

void
db_reports_free(struct db_report *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++)
		free(r[i].triage);
	free(r);
}

int
db_report_add(struct bw_db *db, const struct db_report *r, int64_t now, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&db->mu);
	if ((rc = db_prepare(db, "INSERT INTO reports (created_at, updated_at, reporter, reporter_verified, channel, "
				 "comment, file_name, sha256, size, status, verdict) VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
				 "'received', 'pending')", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_text(st, 2, r->reporter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, r->reporter_verified ? 1 : 0);
		sqlite3_bind_text(st, 4, r->channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->comment, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, r->file_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, r->sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, r->size);
		if ((rc = db_step_done(db, st, NULL, err)) == 0)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int
db_report_get(struct bw_db *db, int64_t id, struct db_report *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_report *rows = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((rc = db_prepare(db, "SELECT " REPORT_COLS " FROM reports WHERE id = ?1", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		rc = db_collect_rows(db, st, sizeof *rows, fill_report, (void **)&rows, &n, "report", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (rc == 0 && n == 0)
		rc = bw_err_set(err, BW_ENOTFOUND, "no report %lld", (long long)id);
	if (rc == 0)
		*out = rows[0];
	else
		db_reports_free(rows, n);
	if (rc == 0)
		free(rows);
	return rc;
}

int
db_report_list(struct bw_db *db, const char *reporter, size_t limit, struct db_report **out, size_t *n,
	       struct bw_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((rc = db_prepare(db, "SELECT " REPORT_COLS " FROM reports WHERE ?1 IS NULL OR reporter = ?1 "
				 "ORDER BY id DESC LIMIT ?2", &st, err)) == 0) {
		db_bind_text_or_null(st, 1, reporter);
		sqlite3_bind_int64(st, 2, (int64_t)limit);
		rc = db_collect_rows(db, st, sizeof **out, fill_report, (void **)out, n, "reports", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int
db_report_next_pending(struct bw_db *db, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	pthread_mutex_lock(&db->mu);
	if ((rc = db_prepare(db, "SELECT COALESCE(MIN(id), 0) FROM reports WHERE verdict = 'pending'", &st, err)) == 0)
		rc = db_step_int(db, st, id, "pending reports", err);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int
db_report_set_triage(struct bw_db *db, int64_t id, const char *verdict, int64_t score, const char *triage, int64_t now,
		     struct bw_err *err)
{
	sqlite3_stmt *st;
	int rc, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((rc = db_prepare(db, "UPDATE reports SET verdict = ?2, score = ?3, triage = ?4, triaged_at = ?5, "
				 "updated_at = ?5 WHERE id = ?1", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, verdict, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, score);
		sqlite3_bind_text(st, 4, triage, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		rc = db_step_done(db, st, &changes, err);
	}
	pthread_mutex_unlock(&db->mu);
	if (rc == 0 && changes == 0)
		rc = bw_err_set(err, BW_ENOTFOUND, "no report %lld", (long long)id);
	return rc;
}
