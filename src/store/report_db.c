/* store/report_db.c: reported mails and files: the report, its triage result and its workflow state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define REPORT_COLS                                                                                               \
	"id, created_at, updated_at, COALESCE(triaged_at, 0), reporter, reporter_verified, channel, comment, file_name, " \
	"sha256, size, status, verdict, score, triage, COALESCE(analyst_verdict, ''), category, assignee, " \
	"COALESCE(incident_id, 0), COALESCE(sample_purged_at, 0)"

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
	db_col_copy(st, 15, r->analyst_verdict, sizeof r->analyst_verdict);
	db_col_copy(st, 16, r->category, sizeof r->category);
	db_col_copy(st, 17, r->assignee, sizeof r->assignee);
	r->incident_id = sqlite3_column_int64(st, 18);
	r->sample_purged_at = sqlite3_column_int64(st, 19);
}

const char *
db_report_verdict(const struct db_report *r)
{
	return r->analyst_verdict[0] != '\0' ? r->analyst_verdict : r->verdict;
}

static int
step(struct bw_db *db, int64_t id, const char *actor, const char *kind, const char *value, const char *text, int64_t now,
     struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = db_prepare(db, "INSERT INTO report_history (report_id, at, actor, kind, value, text) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
	return db_step_done(db, st, NULL, err);
}

/* One column of the report set to value, and its history step. */
static int
set_one(struct bw_db *db, int64_t id, const char *column, const char *kind, const char *value, const char *actor,
	const char *text, int64_t now, struct bw_err *err)
{
	char sql[160];
	sqlite3_stmt *st;
	int r, changes = 0;

	snprintf(sql, sizeof sql, "UPDATE reports SET %s = ?2, updated_at = ?3 WHERE id = ?1", column);
	if ((r = db_prepare(db, sql, &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((r = db_step_done(db, st, &changes, err)) == 0 && changes == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no report %lld", (long long)id);
	return r == 0 ? step(db, id, actor, kind, value, text, now, err) : r;
}

int
db_report_update(struct bw_db *db, int64_t id, const char *status, const char *verdict, const char *category,
		 const char *assignee, const char *actor, const char *text, int64_t now, struct bw_err *err)
{
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) == 0) {
		if (status != NULL)
			r = set_one(db, id, "status", "status", status, actor, text, now, err);
		if (r == 0 && verdict != NULL)
			r = set_one(db, id, "analyst_verdict", "verdict", verdict, actor, text, now, err);
		if (r == 0 && category != NULL)
			r = set_one(db, id, "category", "category", category, actor, text, now, err);
		if (r == 0 && assignee != NULL)
			r = set_one(db, id, "assignee", "assignee", assignee, actor, text, now, err);
		r = db_tx_close(db, r, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_report_comment(struct bw_db *db, int64_t id, const char *actor, const char *text, int64_t now, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t exists = 0;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COUNT(*) FROM reports WHERE id = ?1", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		r = db_step_int(db, st, &exists, "report", err);
	}
	if (r == 0 && exists == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no report %lld", (long long)id);
	if (r == 0)
		r = step(db, id, actor, "comment", "", text, now, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
fill_step(sqlite3_stmt *st, void *p)
{
	struct db_report_step *s = p;

	s->id = sqlite3_column_int64(st, 0);
	s->at = sqlite3_column_int64(st, 1);
	db_col_copy(st, 2, s->actor, sizeof s->actor);
	db_col_copy(st, 3, s->kind, sizeof s->kind);
	db_col_copy(st, 4, s->value, sizeof s->value);
	db_col_copy(st, 5, s->text, sizeof s->text);
}

int
db_report_history(struct bw_db *db, int64_t id, struct db_report_step **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT id, at, actor, kind, value, text FROM report_history WHERE report_id = ?1 "
				"ORDER BY id", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		r = db_collect_rows(db, st, sizeof **out, fill_step, (void **)out, n, "report history", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
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

int
db_report_group(struct bw_db *db, int64_t id, const char *const *types, const char *const *values, size_t n, int64_t now,
		int64_t *incident, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t other = 0, inc = 0;
	size_t i;
	int r;

	*incident = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto out;
	/* the earliest other report sharing an indicator */
	for (i = 0; r == 0 && i < n; i++) {
		int64_t found = 0;
		if ((r = db_prepare(db, "SELECT COALESCE(MIN(report_id), 0) FROM report_indicators WHERE type = ?1 AND "
					"value = ?2 AND report_id != ?3", &st, err)) != 0)
			break;
		sqlite3_bind_text(st, 1, types[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, values[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, id);
		if ((r = db_step_int(db, st, &found, "report indicators", err)) == 0 && found != 0 && (other == 0 || found < other))
			other = found;
	}
	for (i = 0; r == 0 && i < n; i++) {
		if ((r = db_prepare(db, "INSERT OR IGNORE INTO report_indicators (report_id, type, value) VALUES (?1, ?2, ?3)",
				    &st, err)) != 0)
			break;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, types[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, values[i], -1, SQLITE_STATIC);
		r = db_step_done(db, st, NULL, err);
	}
	if (r == 0 && other != 0) {
		if ((r = db_prepare(db, "SELECT COALESCE(incident_id, 0) FROM reports WHERE id = ?1", &st, err)) == 0) {
			sqlite3_bind_int64(st, 1, other);
			r = db_step_int(db, st, &inc, "report incident", err);
		}
		if (r == 0 && inc == 0 &&
		    (r = db_prepare(db, "INSERT INTO incidents (created_at, updated_at) VALUES (?1, ?1)", &st, err)) == 0) {
			sqlite3_bind_int64(st, 1, now);
			if ((r = db_step_done(db, st, NULL, err)) == 0)
				inc = sqlite3_last_insert_rowid(db->h);
		}
		if (r == 0 && (r = db_prepare(db, "UPDATE reports SET incident_id = ?1 WHERE id IN (?2, ?3)", &st, err)) == 0) {
			sqlite3_bind_int64(st, 1, inc);
			sqlite3_bind_int64(st, 2, id);
			sqlite3_bind_int64(st, 3, other);
			r = db_step_done(db, st, NULL, err);
		}
		if (r == 0 && (r = db_prepare(db, "UPDATE incidents SET updated_at = ?2 WHERE id = ?1", &st, err)) == 0) {
			sqlite3_bind_int64(st, 1, inc);
			sqlite3_bind_int64(st, 2, now);
			r = db_step_done(db, st, NULL, err);
		}
	}
	r = db_tx_close(db, r, err);
	if (r == 0)
		*incident = inc;
out:
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_incident_reports(struct bw_db *db, int64_t incident, struct db_report **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " REPORT_COLS " FROM reports WHERE incident_id = ?1 ORDER BY id DESC", &st, err)) ==
	    0) {
		sqlite3_bind_int64(st, 1, incident);
		r = db_collect_rows(db, st, sizeof **out, fill_report, (void **)out, n, "incident reports", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static void
fill_id(sqlite3_stmt *st, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(st, 0);
}

int
db_reports_samples_before(struct bw_db *db, int64_t before, size_t limit, int64_t **ids, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*ids = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT id FROM reports WHERE created_at < ?1 AND sample_purged_at IS NULL ORDER BY id "
				"LIMIT ?2", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, (int64_t)limit);
		r = db_collect_rows(db, st, sizeof **ids, fill_id, (void **)ids, n, "reports past retention", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_report_sample_purged(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err)
{
	const int64_t b[2] = { id, now };

	return db_update_locking(db, "UPDATE reports SET sample_purged_at = ?2 WHERE id = ?1", 2, b, NULL, err);
}
