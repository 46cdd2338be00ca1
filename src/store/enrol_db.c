/* store/enrol_db.c: one-time enrolment codes, host credentials, second-admin role grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static const char *const kind_names[] = { [DB_ENROL_USER] = "user", [DB_ENROL_HOST] = "host" };

void
db_enrolment_clear(struct db_enrolment *e)
{
	if (e == NULL)
		return;
	if (e->totp_sealed != NULL) {
		explicit_bzero(e->totp_sealed, e->totp_sealed_len);
		free(e->totp_sealed);
	}
	memset(e, 0, sizeof *e);
}

int
db_enrolment_issue(struct bw_db *db, int kind, int64_t subject_id, const uint8_t hash[32], const char *issued_by,
		   int64_t now, int64_t expires_at, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	if (kind != DB_ENROL_USER && kind != DB_ENROL_HOST)
		return bw_err_set(err, BW_EINVAL, "unknown enrolment kind");
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) == 0) {
		if ((r = db_prepare(db, "UPDATE enrolments SET cancelled = 1 WHERE kind = ? AND subject_id = ?"
					" AND used_at IS NULL", &st, err)) == 0) {
			sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, subject_id);
			r = db_step_done(db, st, NULL, err);
		}
		if (r == 0 && (r = db_prepare(db, "INSERT INTO enrolments (kind, subject_id, code_hash, issued_by,"
						  " issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)", &st, err)) == 0) {
			sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, subject_id);
			sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, issued_by, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 5, now);
			sqlite3_bind_int64(st, 6, expires_at);
			r = db_step_done(db, st, NULL, err);
		}
		r = db_tx_close(db, r, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_enrolment_by_hash(struct bw_db *db, const uint8_t hash[32], struct db_enrolment *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT e.id, e.kind, e.subject_id, COALESCE(u.username, h.name, ''), e.issued_by,"
				" e.issued_at, e.expires_at, COALESCE(e.used_at, 0), e.cancelled, e.totp_sealed"
				" FROM enrolments e"
				" LEFT JOIN users u ON e.kind = 'user' AND u.id = e.subject_id"
				" LEFT JOIN hosts h ON e.kind = 'host' AND h.id = e.subject_id"
				" WHERE e.code_hash = ?", &st, err)) == 0) {
		sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const void *blob = sqlite3_column_blob(st, 9);
			int blen = sqlite3_column_bytes(st, 9);
			const unsigned char *k = sqlite3_column_text(st, 1);
			out->id = sqlite3_column_int64(st, 0);
			out->kind = k != NULL && strcmp((const char *)k, "host") == 0 ? DB_ENROL_HOST : DB_ENROL_USER;
			out->subject_id = sqlite3_column_int64(st, 2);
			db_col_copy(st, 3, out->subject, sizeof out->subject);
			db_col_copy(st, 4, out->issued_by, sizeof out->issued_by);
			out->issued_at = sqlite3_column_int64(st, 5);
			out->expires_at = sqlite3_column_int64(st, 6);
			out->used_at = sqlite3_column_int64(st, 7);
			out->cancelled = sqlite3_column_int64(st, 8) != 0;
			if (blob != NULL && blen > 0) {
				if ((out->totp_sealed = malloc((size_t)blen)) == NULL)
					r = bw_err_set(err, BW_ENOMEM, "out of memory");
				else {
					memcpy(out->totp_sealed, blob, (size_t)blen);
					out->totp_sealed_len = (size_t)blen;
				}
			}
		} else {
			r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no such enrolment code")
					      : db_sql_err(db, err, "read enrolment");
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_enrolment_set_totp(struct bw_db *db, int64_t id, const uint8_t *sealed, size_t len, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE enrolments SET totp_sealed = ? WHERE id = ? AND used_at IS NULL", &st, err)) ==
	    0) {
		sqlite3_bind_blob(st, 1, sealed, (int)len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, id);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_enrolment_use(struct bw_db *db, int64_t id, int64_t now, const char *from, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE enrolments SET used_at = ?, used_from = ?, totp_sealed = NULL"
				" WHERE id = ? AND used_at IS NULL AND cancelled = 0", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_text(st, 2, from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, id);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes != 1)
			r = bw_err_set(err, BW_ECONFLICT, "the enrolment code was used or replaced meanwhile");
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_enrolment_outstanding(struct bw_db *db, int kind, int64_t subject_id, int64_t now, int64_t *expires_at,
			 struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*expires_at = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COALESCE(MAX(expires_at), 0) FROM enrolments WHERE kind = ? AND subject_id = ?"
				" AND used_at IS NULL AND cancelled = 0 AND expires_at > ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, kind_names[kind == DB_ENROL_HOST], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, subject_id);
		sqlite3_bind_int64(st, 3, now);
		r = db_step_int(db, st, expires_at, "read enrolment", err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

/* ---- host credentials ---- */

int
db_host_credential_set(struct bw_db *db, int64_t host_id, const uint8_t hash[32], int64_t now, const char *from,
		       struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT OR REPLACE INTO host_credentials (host_id, token_hash, issued_at, issued_from,"
				" last_seen) VALUES (?, ?, ?, ?, ?)", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, host_id);
		sqlite3_bind_blob(st, 2, hash, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_text(st, 4, from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static int
credential_read(struct bw_db *db, sqlite3_stmt *st, struct db_host_credential *out, struct bw_err *err)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc == SQLITE_ROW) {
		out->host_id = sqlite3_column_int64(st, 0);
		db_col_copy(st, 1, out->host, sizeof out->host);
		out->issued_at = sqlite3_column_int64(st, 2);
		db_col_copy(st, 3, out->issued_from, sizeof out->issued_from);
		out->last_seen = sqlite3_column_int64(st, 4);
	} else {
		r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no such host credential")
				      : db_sql_err(db, err, "read host credential");
	}
	sqlite3_finalize(st);
	return r;
}

#define CREDENTIAL_COLUMNS "SELECT c.host_id, h.name, c.issued_at, c.issued_from, c.last_seen" \
			   " FROM host_credentials c JOIN hosts h ON h.id = c.host_id"

int
db_host_credential_lookup(struct bw_db *db, const uint8_t hash[32], int64_t now, struct db_host_credential *out,
			  struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, CREDENTIAL_COLUMNS " WHERE c.token_hash = ?", &st, err)) == 0) {
		sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
		if ((r = credential_read(db, st, out, err)) == 0 && now - out->last_seen >= 60) {
			int64_t b[2] = { now, out->host_id };
			/* Last use, to the minute (a report is not a write storm). */
			r = db_update(db, "UPDATE host_credentials SET last_seen = ? WHERE host_id = ?", 2, b, NULL, err);
			out->last_seen = now;
		}
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_host_credential_revoke(struct bw_db *db, int64_t host_id, struct bw_err *err)
{
	int changes = 0, r;

	r = db_update_locking(db, "DELETE FROM host_credentials WHERE host_id = ?", 1, &host_id, &changes, err);
	if (r == 0 && changes == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "the host has no credential");
	return r;
}

/* ---- role grants ---- */

int
db_role_grant_insert(struct bw_db *db, const struct db_role_grant *g, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO role_grants (user_id, roles, requested_by_id, requested_by, requested_at,"
				" state) VALUES (?, ?, ?, ?, ?, 'pending')", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, g->user_id);
		sqlite3_bind_int64(st, 2, g->roles);
		sqlite3_bind_int64(st, 3, g->requested_by_id);
		sqlite3_bind_text(st, 4, g->requested_by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, g->requested_at);
		if ((r = db_step_done(db, st, NULL, err)) == 0 && id != NULL)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

#define GRANT_COLUMNS "SELECT g.id, g.user_id, u.username, g.roles, g.requested_by_id, g.requested_by," \
		      " g.requested_at, g.state, COALESCE(g.decided_by, ''), COALESCE(g.decided_at, 0)" \
		      " FROM role_grants g JOIN users u ON u.id = g.user_id"

static void
grant_fill(sqlite3_stmt *st, void *p)
{
	struct db_role_grant *g = p;

	g->id = sqlite3_column_int64(st, 0);
	g->user_id = sqlite3_column_int64(st, 1);
	db_col_copy(st, 2, g->username, sizeof g->username);
	g->roles = (unsigned)sqlite3_column_int64(st, 3);
	g->requested_by_id = sqlite3_column_int64(st, 4);
	db_col_copy(st, 5, g->requested_by, sizeof g->requested_by);
	g->requested_at = sqlite3_column_int64(st, 6);
	db_col_copy(st, 7, g->state, sizeof g->state);
	db_col_copy(st, 8, g->decided_by, sizeof g->decided_by);
	g->decided_at = sqlite3_column_int64(st, 9);
}

int
db_role_grant_get(struct bw_db *db, int64_t id, struct db_role_grant *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, GRANT_COLUMNS " WHERE g.id = ?", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			grant_fill(st, out);
		else
			r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no such role grant")
					      : db_sql_err(db, err, "read role grant");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_role_grant_list(struct bw_db *db, bool pending_only, size_t limit, struct db_role_grant **out, size_t *n,
		   struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, pending_only ? GRANT_COLUMNS " WHERE g.state = 'pending' ORDER BY g.id DESC LIMIT ?"
					     : GRANT_COLUMNS " ORDER BY g.id DESC LIMIT ?", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, (int64_t)limit);
		r = db_collect_rows(db, st, sizeof **out, grant_fill, (void **)out, n, "list role grants", err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_role_grant_decide(struct bw_db *db, int64_t id, const char *state, const char *by, int64_t now,
		     struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, changes = 0;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE role_grants SET state = ?, decided_by = ?, decided_at = ?"
				" WHERE id = ? AND state = 'pending'", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, id);
		if ((r = db_step_done(db, st, &changes, err)) == 0 && changes != 1)
			r = bw_err_set(err, BW_ECONFLICT, "the role grant is no longer pending");
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_role_grants_cancel_user(struct bw_db *db, int64_t user_id, const char *by, int64_t now, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "UPDATE role_grants SET state = 'cancelled', decided_by = ?, decided_at = ?"
				" WHERE user_id = ? AND state = 'pending'", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, user_id);
		r = db_step_done(db, st, NULL, err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_users_with_role_count(struct bw_db *db, unsigned mask, int64_t not1, int64_t not2, int64_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COUNT(*) FROM users WHERE disabled = 0 AND (roles & ?) != 0"
				" AND totp_sealed IS NOT NULL AND id != ? AND id != ?", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, mask);
		sqlite3_bind_int64(st, 2, not1);
		sqlite3_bind_int64(st, 3, not2);
		r = db_step_int(db, st, n, "count users", err);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
