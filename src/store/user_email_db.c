/* store/user_email_db.c: users' registered e-mail addresses (one each, unique, compared without case). */
#include <stdio.h>
#include <string.h>

#include "db_internal.h"

int
db_user_email_set(struct bw_db *db, const char *username, const char *email, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t uid = 0;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT COALESCE((SELECT id FROM users WHERE username = ?1), 0)", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
		r = db_step_int(db, st, &uid, "user", err);
	}
	if (r == 0 && uid == 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no user %.64s", username);
	if (r == 0 && email[0] == '\0' &&
	    (r = db_prepare(db, "DELETE FROM user_emails WHERE user_id = ?1", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, uid);
		r = db_step_done(db, st, NULL, err);
	} else if (r == 0 && email[0] != '\0' &&
		   (r = db_prepare(db, "INSERT INTO user_emails (user_id, email) VALUES (?1, ?2) "
				       "ON CONFLICT (user_id) DO UPDATE SET email = excluded.email", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST || (r != 0 && strstr(err->msg, "UNIQUE") != NULL))
			r = bw_err_set(err, BW_EEXIST, "another user has the address %.254s", email);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_email_get(struct bw_db *db, const char *username, char out[DB_EMAIL_MAX + 1], struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	out[0] = '\0';
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT e.email FROM user_emails e JOIN users u ON u.id = e.user_id WHERE u.username = ?1",
			    &st, err)) == 0) {
		sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
		if ((r = sqlite3_step(st)) == SQLITE_ROW)
			db_col_copy(st, 0, out, DB_EMAIL_MAX + 1);
		r = r == SQLITE_ROW || r == SQLITE_DONE ? 0 : db_sql_err(db, err, "user e-mail");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_user_by_email(struct bw_db *db, const char *email, char username[72], struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	username[0] = '\0';
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT u.username FROM user_emails e JOIN users u ON u.id = e.user_id "
				"WHERE e.email = ?1 AND u.disabled = 0", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
		if ((r = sqlite3_step(st)) == SQLITE_ROW)
			db_col_copy(st, 0, username, 72);
		r = r == SQLITE_ROW || r == SQLITE_DONE ? 0 : db_sql_err(db, err, "user by e-mail");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
