/*
 * store/witness_db.c: a witness's memory (a database of its own): per log,
 * the size and root it cosigned last and that signed checkpoint; and the
 * evidence of forks, each a pair of checkpoints the log's key signed that
 * cannot both be its history. The old size is checked and the new one
 * stored in one statement (compare and swap), durably (synchronous FULL),
 * before the witness answers.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_internal.h"
#include "store.h"

static const char *const witdb_migrations[] = {
	/* 1 */
	"CREATE TABLE seen ("
	"  origin TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  root BLOB NOT NULL,"
	"  checkpoint TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE evidence ("
	"  id INTEGER PRIMARY KEY,"
	"  origin TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  cosigned TEXT NOT NULL,"
	"  offered TEXT NOT NULL"
	") STRICT;",
};

struct bw_witdb {
	struct bw_db *db;
};

int
witdb_open(const char *path, struct bw_witdb **out, struct bw_err *err)
{
	struct bw_witdb *w;
	int r;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = db_open_schema(path, true, witdb_migrations, sizeof witdb_migrations / sizeof witdb_migrations[0],
				INT64_MAX, &w->db, err)) != 0) {
		free(w);
		return bw_err_prefix(err, "witness state");
	}
	chmod(path, 0600);
	/* what the witness cosigned must survive a power loss: it promises never to cosign a rollback */
	if ((r = db_exec(w->db, "PRAGMA synchronous=FULL;", err)) != 0) {
		witdb_close(w);
		return r;
	}
	*out = w;
	return 0;
}

void
witdb_close(struct bw_witdb *w)
{
	if (w == NULL)
		return;
	db_close(w->db);
	free(w);
}

int
witdb_seen(struct bw_witdb *w, const char *origin, uint64_t *size, uint8_t root[32], char **checkpoint,
	   struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	*size = 0;
	if (checkpoint != NULL)
		*checkpoint = NULL;
	pthread_mutex_lock(&w->db->mu);
	if ((r = db_prepare(w->db, "SELECT size, root, checkpoint FROM seen WHERE origin = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
			*size = (uint64_t)sqlite3_column_int64(st, 0);
			memcpy(root, sqlite3_column_blob(st, 1), 32);
			if (checkpoint != NULL &&
			    (*checkpoint = strdup((const char *)sqlite3_column_text(st, 2))) == NULL)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
		} else if (rc == SQLITE_ROW) {
			r = bw_err_set(err, BW_ECORRUPT, "witness state of %s: a root that is not 32 bytes", origin);
		} else if (rc == SQLITE_DONE) {
			r = bw_err_set(err, BW_ENOTFOUND, "nothing cosigned for %s yet", origin);
		} else {
			r = db_sql_err(w->db, err, "read the witness state");
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&w->db->mu);
	return r;
}

int
witdb_advance(struct bw_witdb *w, const char *origin, uint64_t old, uint64_t size, const uint8_t root[32],
	      const char *checkpoint, int64_t now, uint64_t *current, struct bw_err *err)
{
	sqlite3_stmt *st = NULL;
	int changes = 0, r;

	*current = old;
	pthread_mutex_lock(&w->db->mu);
	/* old 0 and never seen: the first row; else only from exactly the size stored */
	r = db_prepare(w->db,
		       old == 0 ? "INSERT INTO seen VALUES (?1, ?3, ?4, ?5, ?6) ON CONFLICT(origin) DO UPDATE SET "
				  "size = ?3, root = ?4, checkpoint = ?5, updated_at = ?6 WHERE size = ?2"
				: "UPDATE seen SET size = ?3, root = ?4, checkpoint = ?5, updated_at = ?6 "
				  "WHERE origin = ?1 AND size = ?2",
		       &st, err);
	if (r == 0) {
		sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)old);
		sqlite3_bind_int64(st, 3, (int64_t)size);
		sqlite3_bind_blob(st, 4, root, 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, checkpoint, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		r = db_step_done(w->db, st, &changes, err);
	}
	pthread_mutex_unlock(&w->db->mu);
	if (r == 0 && changes == 0) {
		/* another request moved it first: the caller answers 409 with the size stored now */
		uint8_t cur_root[32];
		int rs = witdb_seen(w, origin, current, cur_root, NULL, err);
		if (rs != 0 && rs != BW_ENOTFOUND)
			return rs;
		bw_err_clear(err);
		return bw_err_set(err, BW_ECONFLICT, "the size stored for %s is %llu now", origin,
				  (unsigned long long)*current);
	}
	return r;
}

int
witdb_evidence_add(struct bw_witdb *w, const char *origin, const char *reason, const char *cosigned,
		   const char *offered, int64_t now, struct bw_err *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&w->db->mu);
	if ((r = db_prepare(w->db, "INSERT INTO evidence(origin, at, reason, cosigned, offered) VALUES (?, ?, ?, ?, ?)",
			    &st, err)) == 0) {
		sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, cosigned, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, offered, -1, SQLITE_STATIC);
		r = db_step_done(w->db, st, NULL, err);
	}
	pthread_mutex_unlock(&w->db->mu);
	return r;
}

int
witdb_evidence_count(struct bw_witdb *w, const char *origin, int64_t *n, struct bw_err *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&w->db->mu);
	if ((r = db_prepare(w->db, "SELECT count(*) FROM evidence WHERE origin = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
		r = db_step_int(w->db, st, n, "count the evidence", err);
	}
	pthread_mutex_unlock(&w->db->mu);
	return r;
}

static void
fill_witlog(sqlite3_stmt *st, void *row)
{
	struct witdb_log *l = row;

	db_col_copy(st, 0, l->origin, sizeof l->origin);
	l->size = (uint64_t)sqlite3_column_int64(st, 1);
	l->updated_at = sqlite3_column_int64(st, 2);
	l->forks = sqlite3_column_int64(st, 3);
}

int
witdb_logs(struct bw_witdb *w, struct witdb_log **out, size_t *n, struct bw_err *err)
{
	return db_list_rows(w->db,
			    "SELECT origin, size, updated_at, (SELECT count(*) FROM evidence e WHERE e.origin = s.origin) "
			    "FROM seen s ORDER BY origin",
			    sizeof **out, fill_witlog, (void **)out, n, "list the witnessed logs", err);
}
