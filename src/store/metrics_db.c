/* store/metrics_db.c: the counts the server's metrics report (one read of each table concerned). */
#include <stdio.h>
#include <string.h>

#include "db_internal.h"

static const char *const levels[DB_METRICS_LEVELS] = { "critical", "high", "medium", "low", "informational" };
static const char *const results[DB_METRICS_RESULTS] = { "installed", "failed", "refused" };

const char *
db_metrics_level(size_t i)
{
	return i < DB_METRICS_LEVELS ? levels[i] : NULL;
}

const char *
db_metrics_result(size_t i)
{
	return i < DB_METRICS_RESULTS ? results[i] : NULL;
}

/* One COUNT(*) with up to two text binds and one integer bind (NULL / -1: none). */
static int
count(struct bw_db *db, const char *sql, const char *t1, int64_t i2, int64_t *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = db_prepare(db, sql, &st, err)) != 0)
		return r;
	if (t1 != NULL)
		sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
	if (i2 >= 0)
		sqlite3_bind_int64(st, 2, i2);
	return db_step_int(db, st, out, "metrics", err);
}

int
db_metrics(struct bw_db *db, int64_t now, struct db_metrics *m, struct bw_err *err)
{
	size_t i;
	int r = 0;

	memset(m, 0, sizeof *m);
	pthread_mutex_lock(&db->mu);
	r = count(db, "SELECT COUNT(*) FROM access_requests WHERE state = 'issued' AND valid_after <= ?2 AND valid_before > ?2",
		  NULL, now, &m->windows_active, err);
	if (r == 0)
		r = count(db, "SELECT COUNT(*) FROM access_requests WHERE state = 'pending' AND valid_before > ?2", NULL, now,
			  &m->requests_pending, err);
	for (i = 0; r == 0 && i < DB_METRICS_LEVELS; i++)
		r = count(db, "SELECT COUNT(*) FROM alerts WHERE level = ?1 AND state = 'open'", levels[i], -1,
			  &m->alerts_open[i], err);
	for (i = 0; r == 0 && i < DB_METRICS_RESULTS; i++)
		r = count(db, "SELECT COUNT(*) FROM patch_reports WHERE result = ?1", results[i], -1, &m->patch_hosts[i], err);
	if (r == 0)
		r = count(db, "SELECT COUNT(DISTINCT name) FROM login_failures WHERE locked_until > ?2", NULL, now,
			  &m->names_locked, err);
	if (r == 0)
		r = count(db, "SELECT COUNT(*) FROM reports WHERE verdict = 'pending'", NULL, -1, &m->reports_pending, err);
	if (r == 0)
		r = count(db, "SELECT COUNT(*) FROM users WHERE disabled = 0", NULL, -1, &m->users_enabled, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}
