/* store/db.c: SQLite connection, schema migrations and the users/tokens tables. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sqlite3.h>

#include "db_internal.h"


/* Versioned migrations: index i brings the schema from version i to i+1. */
static const char *const main_migrations[] = {
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL UNIQUE,"
	"  password_hash TEXT NOT NULL,"
	"  totp_sealed BLOB,"
	"  totp_last_step INTEGER NOT NULL DEFAULT -1,"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  failed_count INTEGER NOT NULL DEFAULT 0,"
	"  last_failed_at INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  roles INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE recovery_codes ("
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  code_hash BLOB NOT NULL,"
	"  used_at INTEGER,"
	"  PRIMARY KEY (user_id, code_hash)"
	") STRICT;"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	"  name TEXT,"
	"  scopes INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX tokens_user ON tokens(user_id);",
	/* 2: remote-maintenance access */
	"CREATE TABLE hosts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  address TEXT NOT NULL,"
	"  grp TEXT NOT NULL,"
	"  accounts TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE access_requests ("
	"  id INTEGER PRIMARY KEY,"
	"  requester_id INTEGER NOT NULL REFERENCES users(id),"
	"  hosts TEXT NOT NULL,"
	"  accounts TEXT NOT NULL,"
	"  principals TEXT NOT NULL,"
	"  valid_after INTEGER NOT NULL,"
	"  valid_before INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  ticket TEXT,"
	"  pubkey TEXT NOT NULL,"
	"  key_fp TEXT NOT NULL,"
	"  source_address TEXT,"
	"  force_command TEXT,"
	"  permits INTEGER NOT NULL,"
	"  approvals_needed INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'denied', 'revoked')),"
	"  certificate TEXT,"
	"  downloaded_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  decided_at INTEGER,"
	"  revoked_at INTEGER"
	") STRICT;"
	"CREATE TABLE access_reviews ("
	"  request_id INTEGER NOT NULL REFERENCES access_requests(id),"
	"  reviewer_id INTEGER NOT NULL REFERENCES users(id),"
	"  decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),"
	"  reason TEXT,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, reviewer_id)"
	") STRICT;",
	/* 3: when an issued window's end was recorded in the audit log */
	"ALTER TABLE access_requests ADD COLUMN expired_at INTEGER;",
	/* 4: published patch targets and the audit-log entry that records each */
	"CREATE TABLE patch_targets ("
	"  name TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  length INTEGER NOT NULL,"
	"  version TEXT NOT NULL,"
	"  targets_version INTEGER NOT NULL,"
	"  log_index INTEGER NOT NULL,"
	"  published_at INTEGER NOT NULL,"
	"  PRIMARY KEY (name, sha256)"
	") STRICT;",
	/* 5: the latest report of each host for each target (the audit log keeps them all) */
	"CREATE TABLE patch_reports ("
	"  host TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  sha256 TEXT,"
	"  version TEXT,"
	"  result TEXT NOT NULL CHECK (result IN ('installed', 'failed', 'refused')),"
	"  reason TEXT,"
	"  reported_by TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY (host, target)"
	") STRICT;",
	/* 6: sign-in failures per (submitted name, client), so a guesser locks out only itself */
	"CREATE TABLE login_failures ("
	"  name TEXT NOT NULL,"
	"  client TEXT NOT NULL,"
	"  failures INTEGER NOT NULL,"
	"  last_at INTEGER NOT NULL,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (name, client)"
	") STRICT;",
	/* 7: what this server last published (the sweeper never signs anything older or different) */
	"CREATE TABLE patch_state ("
	"  name TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL,"
	"  text TEXT"
	") STRICT;",
	/* 8: one-time enrolment codes (users, hosts), host credentials, second-admin role grants */
	"CREATE TABLE enrolments ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('user', 'host')),"
	"  subject_id INTEGER NOT NULL,"
	"  code_hash BLOB NOT NULL UNIQUE,"
	"  issued_by TEXT NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  totp_sealed BLOB,"
	"  used_at INTEGER,"
	"  used_from TEXT,"
	"  cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1))"
	") STRICT;"
	"CREATE INDEX enrolments_subject ON enrolments(kind, subject_id);"
	"CREATE TABLE host_credentials ("
	"  host_id INTEGER PRIMARY KEY REFERENCES hosts(id),"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  issued_at INTEGER NOT NULL,"
	"  issued_from TEXT NOT NULL,"
	"  last_seen INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE role_grants ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  roles INTEGER NOT NULL,"
	"  requested_by_id INTEGER NOT NULL,"
	"  requested_by TEXT NOT NULL,"
	"  requested_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'cancelled')),"
	"  decided_by TEXT,"
	"  decided_at INTEGER"
	") STRICT;",
	/* 9: alerts raised by detection rules, de-duplicated per rule and group */
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  rule_id TEXT NOT NULL,"
	"  rule_title TEXT NOT NULL,"
	"  level TEXT NOT NULL,"
	"  group_key TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),"
	"  resolution TEXT CHECK (resolution IN ('true_positive', 'false_positive', 'benign')),"
	"  reason TEXT,"
	"  decided_by TEXT,"
	"  count INTEGER NOT NULL,"
	"  first_index INTEGER NOT NULL,"
	"  last_index INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX alerts_group ON alerts(rule_id, group_key, state);",
	/* 10: notification of alerts per channel (at least once, retried with back-off) */
	"CREATE TABLE notifications ("
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL DEFAULT 0,"
	"  delivered_at INTEGER,"
	"  error TEXT,"
	"  PRIMARY KEY (alert_id, channel)"
	") STRICT;",
	/* 11: who works on an alert, and what they noted */
	"ALTER TABLE alerts ADD COLUMN assignee TEXT;"
	"CREATE TABLE alert_comments ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),"
	"  author TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  text TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX alert_comments_alert ON alert_comments(alert_id, id);",
	/* 12: detection rules switched off or given exceptions by an admin */
	"CREATE TABLE rule_settings ("
	"  rule_id TEXT PRIMARY KEY,"
	"  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),"
	"  exceptions TEXT NOT NULL,"
	"  updated_by TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;",
	/* 13: the first time the detector saw an actor take an action (enrich.first_time) */
	"CREATE TABLE first_seen ("
	"  key TEXT PRIMARY KEY,"
	"  first_index INTEGER NOT NULL,"
	"  first_at INTEGER NOT NULL"
	") STRICT;",
	/* 14: alerts on host events point into the host-event log */
	"ALTER TABLE alerts ADD COLUMN log TEXT NOT NULL DEFAULT 'audit' CHECK (log IN ('audit', 'hosts'));",
	/* 15: reported mails and files (the sample itself is sealed on disk), their triage and workflow */
	"CREATE TABLE reports ("
	"  id INTEGER PRIMARY KEY,"
	"  created_at INTEGER NOT NULL,"
	"  reporter TEXT NOT NULL,"
	"  reporter_verified INTEGER NOT NULL CHECK (reporter_verified IN (0, 1)),"
	"  channel TEXT NOT NULL CHECK (channel IN ('api', 'mail')),"
	"  comment TEXT NOT NULL,"
	"  file_name TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('received', 'in_review', 'resolved')),"
	"  verdict TEXT NOT NULL CHECK (verdict IN ('pending', 'clean', 'spam', 'suspicious', 'threat', 'failed')),"
	"  score INTEGER NOT NULL DEFAULT 0,"
	"  triage TEXT,"
	"  triaged_at INTEGER,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX reports_reporter ON reports(reporter, id);"
	"CREATE INDEX reports_pending ON reports(verdict, id);",
	/* 16: users' registered e-mail addresses (mailed reports are matched by them; feedback goes only to them) */
	"CREATE TABLE user_emails ("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id),"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE"
	") STRICT;",
	/* 17: the analysts' workflow on reports: their verdict and category, who works on it, and its history */
	"ALTER TABLE reports ADD COLUMN analyst_verdict TEXT CHECK (analyst_verdict IN ('clean', 'spam', 'suspicious', 'threat'));"
	"ALTER TABLE reports ADD COLUMN category TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE reports ADD COLUMN assignee TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE report_history ("
	"  id INTEGER PRIMARY KEY,"
	"  report_id INTEGER NOT NULL REFERENCES reports(id),"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('status', 'verdict', 'category', 'assignee', 'comment')),"
	"  value TEXT NOT NULL,"
	"  text TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX report_history_report ON report_history(report_id, id);",
	/* 18: incidents: reports of the same lure (a shared attachment hash, sender or URL) grouped */
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"ALTER TABLE reports ADD COLUMN incident_id INTEGER REFERENCES incidents(id);"
	"CREATE TABLE report_indicators ("
	"  report_id INTEGER NOT NULL REFERENCES reports(id),"
	"  type TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (report_id, type, value)"
	") STRICT;"
	"CREATE INDEX report_indicators_value ON report_indicators(type, value);",
	/* 19: samples deleted after the retention period (the report and its triage stay) */
	"ALTER TABLE reports ADD COLUMN sample_purged_at INTEGER;",
	/* 20: sharing over TAXII 2.1: partner organisations, collections they may read, the objects shared; partners'
	 * collections pulled (feeds) and the indicators they gave */
	"CREATE TABLE partners ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  org TEXT NOT NULL,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER"
	") STRICT;"
	"CREATE TABLE taxii_collections ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL UNIQUE,"
	"  description TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE taxii_readers ("
	"  collection_id TEXT NOT NULL REFERENCES taxii_collections(id),"
	"  partner_id INTEGER NOT NULL REFERENCES partners(id),"
	"  PRIMARY KEY (collection_id, partner_id)"
	") STRICT;"
	"CREATE TABLE taxii_objects ("
	"  seq INTEGER PRIMARY KEY,"
	"  collection_id TEXT NOT NULL REFERENCES taxii_collections(id),"
	"  stix_id TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  added_us INTEGER NOT NULL,"
	"  tlp TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),"
	"  for_org TEXT NOT NULL,"
	"  report_id INTEGER,"
	"  object TEXT NOT NULL,"
	"  UNIQUE (collection_id, stix_id, version)"
	") STRICT;"
	"CREATE INDEX taxii_objects_added ON taxii_objects(collection_id, added_us);"
	"CREATE TABLE taxii_feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL,"
	"  token_sealed BLOB NOT NULL,"
	"  cacert TEXT NOT NULL,"
	"  interval_secs INTEGER NOT NULL,"
	"  cursor TEXT NOT NULL DEFAULT '',"
	"  last_pull_at INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE feed_indicators ("
	"  feed_id INTEGER NOT NULL REFERENCES taxii_feeds(id),"
	"  type TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  stix_id TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (type, value, feed_id)"
	") STRICT;",
};

void
db_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int
db_sql_err(struct bw_db *db, struct bw_err *err, const char *what)
{
	int code = sqlite3_errcode(db->h);
	int bw = code == SQLITE_CONSTRAINT ? BW_EEXIST : (code == SQLITE_BUSY ? BW_EBUSY : BW_EIO);
	return bw_err_set(err, bw, "database: %s: %s", what, sqlite3_errmsg(db->h));
}

int
db_exec(struct bw_db *db, const char *sql, struct bw_err *err)
{
	char *msg = NULL;
	int r;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	r = bw_err_set(err, BW_EIO, "database: %s", msg ? msg : "error");
	sqlite3_free(msg);
	return r;
}

int
db_prepare(struct bw_db *db, const char *sql, sqlite3_stmt **st, struct bw_err *err)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return db_sql_err(db, err, "prepare");
	return 0;
}

/* Runs a statement that returns no rows; *changes (optional) = rows changed. */
int
db_step_done(struct bw_db *db, sqlite3_stmt *st, int *changes, struct bw_err *err)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE)
		r = db_sql_err(db, err, "write");
	else if (changes != NULL)
		*changes = sqlite3_changes(db->h);
	sqlite3_finalize(st);
	return r;
}

int
db_step_int(struct bw_db *db, sqlite3_stmt *st, int64_t *out, const char *what, struct bw_err *err)
{
	int r = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		r = db_sql_err(db, err, what);	/* a failed step is an error, never a count of 0 */
	sqlite3_finalize(st);
	return r;
}

int
db_tx_open(struct bw_db *db, struct bw_err *err)
{
	char sql[48];
	int r;

	if (db->tx_depth == 0)
		r = db_exec(db, "BEGIN IMMEDIATE", err);
	else
		r = (snprintf(sql, sizeof sql, "SAVEPOINT tx%d", db->tx_depth), db_exec(db, sql, err));
	if (r == 0)
		db->tx_depth++;
	return r;
}

int
db_tx_close(struct bw_db *db, int rc, struct bw_err *err)
{
	char sql[64];
	int r;

	db->tx_depth--;
	if (db->tx_depth == 0) {
		if (rc != 0) {
			db_exec(db, "ROLLBACK", NULL);
			return rc;
		}
		if ((r = db_exec(db, "COMMIT", err)) != 0)
			db_exec(db, "ROLLBACK", NULL);
		return r;
	}
	if (rc != 0) {
		snprintf(sql, sizeof sql, "ROLLBACK TO tx%d; RELEASE tx%d", db->tx_depth, db->tx_depth);
		db_exec(db, sql, NULL);
		return rc;
	}
	snprintf(sql, sizeof sql, "RELEASE tx%d", db->tx_depth);
	return db_exec(db, sql, err);
}

int
db_tx_begin(struct bw_db *db, struct bw_err *err)
{
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_tx_end(struct bw_db *db, int rc, struct bw_err *err)
{
	int r = db_tx_close(db, rc, err);

	pthread_mutex_unlock(&db->mu);
	return r;
}

_Static_assert(sizeof main_migrations / sizeof main_migrations[0] == DB_SCHEMA_VERSION,
	       "DB_SCHEMA_VERSION is the number of migrations");

int
db_migrate(struct bw_db *db, const char *const *migrations, size_t nmigrations, int64_t upto, struct bw_err *err)
{
	int64_t v = 0;
	size_t i;
	int r;

	if ((r = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;", err)) != 0 ||
	    (r = db_schema_version(db, &v, err)) != 0)
		return r;
	if (v > (int64_t)nmigrations)
		return bw_err_set(err, BW_EINVAL, "database schema version %lld is newer than this bulwark (%zu)",
				  (long long)v, nmigrations);
	for (i = (size_t)v; i < (size_t)upto && i < nmigrations; i++) {
		char sql[128];
		if ((r = db_exec(db, "BEGIN IMMEDIATE", err)) != 0)
			return r;
		snprintf(sql, sizeof sql,
			 "INSERT INTO schema_migrations VALUES (%zu, CAST(strftime('%%s','now') AS INTEGER))",
			 i + 1);
		if ((r = db_exec(db, migrations[i], err)) != 0 || (r = db_exec(db, sql, err)) != 0) {
			db_exec(db, "ROLLBACK", NULL);
			return bw_err_prefix(err, "migration %zu", i + 1);
		}
		if ((r = db_exec(db, "COMMIT", err)) != 0)
			return r;
	}
	return 0;
}

int
db_schema_version(struct bw_db *db, int64_t *version, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = db_prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st, err)) != 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	else
		r = db_sql_err(db, err, "read schema version");
	sqlite3_finalize(st);
	return r;
}

int
db_open(const char *path, bool create, struct bw_db **out, struct bw_err *err)
{
	return db_open_at(path, create, DB_SCHEMA_VERSION, out, err);
}

int
db_open_at(const char *path, bool create, int64_t upto, struct bw_db **out, struct bw_err *err)
{
	return db_open_schema(path, create, main_migrations, sizeof main_migrations / sizeof main_migrations[0], upto, out,
			      err);
}

int
db_open_schema(const char *path, bool create, const char *const *migrations, size_t nmigrations, int64_t upto,
	       struct bw_db **out, struct bw_err *err)
{
	struct bw_db *db;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int r;

	*out = NULL;
	if ((db = calloc(1, sizeof *db)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	{
		pthread_mutexattr_t attr;
		pthread_mutexattr_init(&attr);
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&db->mu, &attr);
		pthread_mutexattr_destroy(&attr);
	}
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		r = bw_err_set(err, BW_EIO, "cannot open database %s: %s", path,
			       db->h ? sqlite3_errmsg(db->h) : "out of memory");
		db_close(db);
		return r;
	}
	if (create)
		chmod(path, 0600);	/* password hashes and sealed secrets */
	sqlite3_busy_timeout(db->h, 5000);
	if ((r = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		      err)) != 0 ||
	    (r = db_migrate(db, migrations, nmigrations, upto, err)) != 0) {
		db_close(db);
		return r;
	}
	*out = db;
	return 0;
}

void
db_close(struct bw_db *db)
{
	if (db == NULL)
		return;
	sqlite3_finalize(db->token_lookup);
	sqlite3_close(db->h);
	pthread_mutex_destroy(&db->mu);
	free(db);
}

/* ---- users ---------------------------------------------------------------- */

void
db_user_clear(struct db_user *u)
{
	if (u == NULL)
		return;
	free(u->username);
	free(u->password_hash);
	free(u->totp_sealed);
	memset(u, 0, sizeof *u);
}

void
db_users_free(struct db_user *u, size_t n)
{
	size_t i;

	for (i = 0; u != NULL && i < n; i++)
		db_user_clear(&u[i]);
	free(u);
}

/* (users.failed_count, last_failed_at and locked_until are unused since sign-in limits moved to login_failures.) */
#define USER_COLS "id, username, password_hash, totp_sealed, totp_last_step, disabled, roles, created_at"

static int
user_from_row(sqlite3_stmt *st, struct db_user *u)
{
	const void *blob;
	int n;

	memset(u, 0, sizeof *u);
	u->id = sqlite3_column_int64(st, 0);
	u->username = strdup((const char *)sqlite3_column_text(st, 1));
	u->password_hash = strdup((const char *)sqlite3_column_text(st, 2));
	if ((blob = sqlite3_column_blob(st, 3)) != NULL && (n = sqlite3_column_bytes(st, 3)) > 0) {
		if ((u->totp_sealed = malloc((size_t)n)) == NULL)
			return BW_ENOMEM;
		memcpy(u->totp_sealed, blob, (size_t)n);
		u->totp_sealed_len = (size_t)n;
	}
	u->totp_last_step = sqlite3_column_int64(st, 4);
	u->disabled = sqlite3_column_int64(st, 5) != 0;
	u->roles = (unsigned)sqlite3_column_int64(st, 6);
	u->created_at = sqlite3_column_int64(st, 7);
	return u->username && u->password_hash ? 0 : BW_ENOMEM;
}

int
db_user_insert(struct bw_db *db, const char *username, const char *password_hash,
	       const uint8_t *totp_sealed, size_t totp_len, unsigned roles, int64_t now, int64_t *id,
	       struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO users (username, password_hash, totp_sealed, roles, created_at)"
			     " VALUES (?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_TRANSIENT);
		if (totp_sealed != NULL)
			sqlite3_bind_blob(st, 3, totp_sealed, (int)totp_len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, roles);
		sqlite3_bind_int64(st, 5, now);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			bw_err_set(err, BW_EEXIST, "user '%s' already exists", username);
		else if (r == 0 && id != NULL)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static int
user_get(struct bw_db *db, const char *sql, const char *name, int64_t id, struct db_user *out,
	 struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, sql, &st, err)) == 0) {
		if (name != NULL)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (user_from_row(st, out) != 0)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
		} else if (rc == SQLITE_DONE) {
			r = bw_err_set(err, BW_ENOTFOUND, "no such user");
		} else {
			r = db_sql_err(db, err, "read user");
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0)
		db_user_clear(out);
	return r;
}

int
db_user_by_name(struct bw_db *db, const char *username, struct db_user *out, struct bw_err *err)
{
	return user_get(db, "SELECT " USER_COLS " FROM users WHERE username = ?", username, 0, out, err);
}

int
db_user_by_id(struct bw_db *db, int64_t id, struct db_user *out, struct bw_err *err)
{
	return user_get(db, "SELECT " USER_COLS " FROM users WHERE id = ?", NULL, id, out, err);
}

int
db_user_list(struct bw_db *db, struct db_user **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_user *v = NULL;
	size_t cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " USER_COLS " FROM users ORDER BY id", &st, err)) == 0) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*n == cap) {
				struct db_user *q = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
				if (q == NULL) {
					r = bw_err_set(err, BW_ENOMEM, "out of memory");
					break;
				}
				v = q;
			}
			if (user_from_row(st, &v[(*n)++]) != 0) {
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
				break;
			}
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = db_sql_err(db, err, "list users");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		db_users_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* Runs one UPDATE with nb int64 binds; the caller holds the lock. */
int
db_update(struct bw_db *db, const char *sql, int nb, const int64_t *binds, int *changes,
       struct bw_err *err)
{
	sqlite3_stmt *st;
	int i, r;

	if ((r = db_prepare(db, sql, &st, err)) != 0)
		return r;
	for (i = 0; i < nb; i++)
		sqlite3_bind_int64(st, i + 1, binds[i]);
	return db_step_done(db, st, changes, err);
}

/* db_update() taking the connection lock itself. */
int
db_update_locking(struct bw_db *db, const char *sql, int nb, const int64_t *binds, int *changes,
	      struct bw_err *err)
{
	int r;

	pthread_mutex_lock(&db->mu);
	r = db_update(db, sql, nb, binds, changes, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* Number of enabled users holding admin_mask other than id. Lock held. */
static int
other_admins(struct bw_db *db, int64_t id, unsigned admin_mask, int64_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	if ((r = db_prepare(db, "SELECT COUNT(*) FROM users WHERE disabled = 0 AND (roles & ?) != 0 AND id != ?",
			 &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, admin_mask);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		r = db_sql_err(db, err, "count admins");
	sqlite3_finalize(st);
	return r;
}

/* Checks that id exists; lock held. */
static int
user_exists(struct bw_db *db, int64_t id, unsigned *roles, bool *disabled, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = db_prepare(db, "SELECT roles, disabled FROM users WHERE id = ?", &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*roles = (unsigned)sqlite3_column_int64(st, 0);
		*disabled = sqlite3_column_int64(st, 1) != 0;
	} else {
		r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no such user") : db_sql_err(db, err, "read");
	}
	sqlite3_finalize(st);
	return r;
}

/* Would the change leave no enabled admin? Lock held. */
static int
guard_last_admin(struct bw_db *db, int64_t id, bool will_be_admin, unsigned admin_mask,
		 struct bw_err *err)
{
	unsigned roles = 0;
	bool disabled = false;
	int64_t others = 0;
	int r;

	if ((r = user_exists(db, id, &roles, &disabled, err)) != 0)
		return r;
	if (will_be_admin || disabled || !(roles & admin_mask))
		return 0;
	if ((r = other_admins(db, id, admin_mask, &others, err)) != 0)
		return r;
	if (others == 0)
		return bw_err_set(err, BW_EINVAL, "refused: this is the last enabled admin");
	return 0;
}

int
db_user_set_disabled(struct bw_db *db, int64_t id, bool disabled, unsigned admin_mask,
		     struct bw_err *err)
{
	int64_t b[2] = { disabled ? 1 : 0, id };
	unsigned roles;
	bool was;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) == 0) {
		if ((r = user_exists(db, id, &roles, &was, err)) == 0 &&
		    (!disabled || (r = guard_last_admin(db, id, false, admin_mask, err)) == 0) &&
		    (r = db_update(db, "UPDATE users SET disabled = ? WHERE id = ?", 2, b, NULL, err)) == 0 &&
		    disabled)
			r = db_update(db, "UPDATE tokens SET revoked = 1 WHERE user_id = ?", 1, &id, NULL, err);
		r = db_tx_close(db, r, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_set_roles(struct bw_db *db, int64_t id, unsigned roles, unsigned admin_mask,
		  struct bw_err *err)
{
	int64_t b[2] = { roles, id };
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) == 0) {
		if ((r = guard_last_admin(db, id, (roles & admin_mask) != 0, admin_mask, err)) == 0)
			r = db_update(db, "UPDATE users SET roles = ? WHERE id = ?", 2, b, NULL, err);
		r = db_tx_close(db, r, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_set_password(struct bw_db *db, int64_t id, const char *hash, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE users SET password_hash = ? WHERE id = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, id);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes == 0)
			r = bw_err_set(err, BW_ENOTFOUND, "no such user");
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_set_totp(struct bw_db *db, int64_t id, const uint8_t *sealed, size_t len, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE users SET totp_sealed = ?, totp_last_step = -1 WHERE id = ?", &st,
			 err)) == 0) {
		if (sealed != NULL)
			sqlite3_bind_blob(st, 1, sealed, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, id);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes == 0)
			r = bw_err_set(err, BW_ENOTFOUND, "no such user");
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_totp_accept(struct bw_db *db, int64_t id, int64_t step, struct bw_err *err)
{
	int64_t b[3] = { step, id, step };
	int r, changes = 0;

	r = db_update_locking(db, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", 3, b,
			  &changes, err);
	if (r == 0 && changes != 1)
		r = bw_err_set(err, BW_EVERIFY, "TOTP code already used (replay or older step)");
	return r;
}

/* The (name, client) row, or zeros when there is none. */
static int
attempts_get(struct bw_db *db, const char *name, const char *client, int64_t *failures, int64_t *last_at,
	     int64_t *locked_until, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	*failures = *last_at = *locked_until = 0;
	if ((r = db_prepare(db, "SELECT failures, last_at, locked_until FROM login_failures WHERE name = ? AND client = ?",
			    &st, err)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*failures = sqlite3_column_int64(st, 0);
		*last_at = sqlite3_column_int64(st, 1);
		*locked_until = sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		r = db_sql_err(db, err, "read sign-in failures");
	}
	sqlite3_finalize(st);
	return r;
}

int
db_login_attempt(struct bw_db *db, const struct db_login_policy *p, const char *name, const char *client, int64_t now,
		 struct db_login_attempt *out, struct bw_err *err)
{
	int64_t failures, last_at, locked_until;
	sqlite3_stmt *st;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto unlock;
	if ((r = attempts_get(db, name, client, &failures, &last_at, &locked_until, err)) != 0)
		goto done;
	/* Failures age out: a quiet period as long as the lock starts the count again. */
	if (failures > 0 && locked_until <= now && now - last_at >= p->lock_secs)
		failures = 0, locked_until = 0;
	if (locked_until > now) {
		out->retry_after = locked_until - now;
		out->locked = true;
		goto done;
	}
	if (failures > 0 && p->backoff_ms > 0) {
		int64_t wait_ms = p->backoff_ms << (failures - 1 > 10 ? 10 : failures - 1), since_ms = (now - last_at) * 1000;
		if (wait_ms > 30000)
			wait_ms = 30000;
		if (since_ms < wait_ms) {
			out->retry_after = (wait_ms - since_ms + 999) / 1000;
			goto done;
		}
	}
	/*
	 * Admitted: the attempt is counted now, before the password is checked,
	 * so parallel attempts from one client see it (db_login_ok forgets it).
	 */
	out->admitted = true;
	out->failures = failures + 1;
	out->locks = out->failures >= p->lock_after;
	if ((r = db_prepare(db, "INSERT INTO login_failures (name, client, failures, last_at, locked_until)"
			    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, client) DO UPDATE SET failures = excluded.failures,"
			    " last_at = excluded.last_at, locked_until = excluded.locked_until", &st, err)) != 0)
		goto done;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, out->failures);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, out->locks ? now + p->lock_secs : 0);
	r = db_step_done(db, st, NULL, err);
done:
	r = db_tx_close(db, r, err);
unlock:
	pthread_mutex_unlock(&db->mu);
	if (r != 0)
		memset(out, 0, sizeof *out);
	return r;
}

int
db_login_forget(struct bw_db *db, const char *name, const char *client, int *cleared, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, n = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, client != NULL ? "DELETE FROM login_failures WHERE name = ? AND client = ?"
					       : "DELETE FROM login_failures WHERE name = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (client != NULL)
			sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
		r = db_step_done(db, st, &n, err);
	}
	pthread_mutex_unlock(&db->mu);
	if (cleared != NULL)
		*cleared = n;
	return r;
}

int
db_login_ok(struct bw_db *db, const char *name, const char *client, struct bw_err *err)
{
	return db_login_forget(db, name, client, NULL, err);
}

int
db_login_locked_clients(struct bw_db *db, const char *name, int64_t now, int64_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COUNT(*) FROM login_failures WHERE name = ? AND locked_until > ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		r = db_step_int(db, st, n, "count locked clients", err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- recovery codes ------------------------------------------------------ */

int
db_recovery_replace(struct bw_db *db, int64_t user_id, const uint8_t (*hashes)[32], size_t n,
		    struct bw_err *err)
{
	sqlite3_stmt *st;
	size_t i;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) == 0) {
		r = db_update(db, "DELETE FROM recovery_codes WHERE user_id = ?", 1, &user_id, NULL, err);
		for (i = 0; r == 0 && i < n; i++) {
			if ((r = db_prepare(db, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", &st,
					 err)) != 0)
				break;
			sqlite3_bind_int64(st, 1, user_id);
			sqlite3_bind_blob(st, 2, hashes[i], 32, SQLITE_TRANSIENT);
			r = db_step_done(db, st, NULL, err);
		}
		r = db_tx_close(db, r, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_recovery_use(struct bw_db *db, int64_t user_id, const uint8_t hash[32], int64_t now,
		struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ?"
			     " AND used_at IS NULL", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, user_id);
		sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes != 1)
			r = bw_err_set(err, BW_EVERIFY, "recovery code unknown or already used");
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_recovery_remaining(struct bw_db *db, int64_t user_id, int64_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
			 &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, user_id);
		r = db_step_int(db, st, n, "count recovery codes", err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- tokens ------------------------------------------------------------------ */

void
db_token_clear(struct db_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	memset(t, 0, sizeof *t);
}

int
db_token_insert(struct bw_db *db, const uint8_t hash[32], int64_t user_id, int kind, const char *name,
		unsigned scopes, int64_t now, int64_t expires_at, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO tokens (token_hash, user_id, kind, name, scopes, created_at,"
			     " last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, user_id);
		sqlite3_bind_int64(st, 3, kind);
		if (name != NULL)
			sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, scopes);
		sqlite3_bind_int64(st, 6, now);
		sqlite3_bind_int64(st, 7, now);
		sqlite3_bind_int64(st, 8, expires_at);
		if ((r = db_step_done(db, st, NULL, err)) == 0 && id != NULL)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_token_lookup(struct bw_db *db, const uint8_t hash[32], int64_t now, int64_t idle_secs,
		struct db_token *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r = 0, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if (db->token_lookup == NULL &&
	    (r = db_prepare(db, "SELECT t.id, t.user_id, t.kind, t.name, t.scopes, t.created_at, t.last_seen,"
			     " t.expires_at, u.username, u.roles FROM tokens t JOIN users u ON u.id = t.user_id"
			     " WHERE t.token_hash = ? AND t.revoked = 0 AND u.disabled = 0 AND t.expires_at > ?"
			     " AND (t.kind = 1 OR t.last_seen + ? > ?)", &db->token_lookup, err)) != 0)
		goto out;
	st = db->token_lookup;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, idle_secs);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 3);
		out->id = sqlite3_column_int64(st, 0);
		out->user_id = sqlite3_column_int64(st, 1);
		out->kind = (int)sqlite3_column_int64(st, 2);
		out->name = name ? strdup((const char *)name) : NULL;
		out->scopes = (unsigned)sqlite3_column_int64(st, 4);
		out->created_at = sqlite3_column_int64(st, 5);
		out->last_seen = sqlite3_column_int64(st, 6);
		out->expires_at = sqlite3_column_int64(st, 7);
		snprintf(out->username, sizeof out->username, "%s", (const char *)sqlite3_column_text(st, 8));
		out->user_roles = (unsigned)sqlite3_column_int64(st, 9);
	} else {
		r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no live token")
				      : db_sql_err(db, err, "token lookup");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	/* Refresh last_seen at most once a minute: keeps writes off the hot path. */
	if (r == 0 && now - out->last_seen >= 60) {
		int64_t b[2] = { now, out->id };
		r = db_update(db, "UPDATE tokens SET last_seen = ? WHERE id = ?", 2, b, NULL, err);
	}
out:
	pthread_mutex_unlock(&db->mu);
	if (r != 0)
		db_token_clear(out);
	return r;
}

int
db_token_revoke_hash(struct bw_db *db, const uint8_t hash[32], struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE tokens SET revoked = 1 WHERE token_hash = ?", &st, err)) == 0) {
		sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_token_revoke_id(struct bw_db *db, int64_t id, int64_t user_id, struct bw_err *err)
{
	int64_t b[3] = { id, user_id, user_id };
	int r, changes = 0;

	r = db_update_locking(db, "UPDATE tokens SET revoked = 1 WHERE id = ? AND kind = 1 AND (? < 0 OR user_id = ?)",
			  3, b, &changes, err);
	if (r == 0 && changes == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no such API token");
	return r;
}

int
db_tokens_revoke_user(struct bw_db *db, int64_t user_id, struct bw_err *err)
{
	return db_update_locking(db, "UPDATE tokens SET revoked = 1 WHERE user_id = ?", 1, &user_id, NULL, err);
}

int
db_snapshot(const char *src, const char *dst, struct bw_err *err)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b;
	int rc, r = 0;

	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		r = bw_err_set(err, BW_EIO, "cannot open database %s: %s", src, from ? sqlite3_errmsg(from) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(from, 10000);
	if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = bw_err_set(err, BW_EIO, "cannot create %s: %s", dst, to ? sqlite3_errmsg(to) : "out of memory");
		goto out;
	}
	chmod(dst, 0600);
	if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
		r = bw_err_set(err, BW_EIO, "cannot back up %s: %s", src, sqlite3_errmsg(to));
		goto out;
	}
	/* One step over every page: one read transaction, so one consistent state, while writers go on (WAL). */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(50);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		r = bw_err_set(err, BW_EIO, "backing up %s: %s", src, sqlite3_errstr(rc));
	else if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		r = bw_err_set(err, BW_EIO, "%s: %s", dst, sqlite3_errmsg(to));
out:
	sqlite3_close(to);
	sqlite3_close(from);
	return r;
}

int
db_file_schema_version(const char *path, int64_t *version, struct bw_err *err)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int r = 0;

	*version = 0;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		r = bw_err_set(err, BW_EIO, "cannot open database %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		r = bw_err_set(err, BW_ECORRUPT, "%s: no schema version (%s)", path, sqlite3_errmsg(h));
	else
		*version = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}
