/* store/db_internal.h: what the store's .c files share (not part of the module contract). */
#ifndef BW_STORE_DB_INTERNAL_H
#define BW_STORE_DB_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include "store.h"

struct bw_db {
	sqlite3 *h;
	pthread_mutex_t mu;		/* serialises every use of h (recursive: a caller's transaction spans store calls) */
	int tx_depth;			/* open transactions (0: none; above 1: savepoints); under mu */
	sqlite3_stmt *token_lookup;	/* hot path: prepared once, reset after each use */
};

/* db_open migrating only up to schema version upto (tests build older databases with it). */
int db_open_at(const char *path, bool create, int64_t upto, struct bw_db **out, struct bw_err *err);

/* Opens a database with its own list of migrations (index i: version i to i+1), applied up to upto. */
int db_open_schema(const char *path, bool create, const char *const *migrations, size_t nmigrations, int64_t upto,
		   struct bw_db **out, struct bw_err *err);
int db_migrate(struct bw_db *db, const char *const *migrations, size_t nmigrations, int64_t upto, struct bw_err *err);

/* Maps the connection's last error to a BW_E* code with a message. */
int db_sql_err(struct bw_db *db, struct bw_err *err, const char *what);
int db_exec(struct bw_db *db, const char *sql, struct bw_err *err);
int db_prepare(struct bw_db *db, const char *sql, sqlite3_stmt **st, struct bw_err *err);
/* Steps a statement that returns no rows and finalizes it; *changes optional. */
int db_step_done(struct bw_db *db, sqlite3_stmt *st, int *changes, struct bw_err *err);
/* One statement with nb int64 binds; the caller holds db->mu. */
int db_update(struct bw_db *db, const char *sql, int nb, const int64_t *binds, int *changes,
	      struct bw_err *err);
/* db_update taking db->mu itself. */
int db_update_locking(struct bw_db *db, const char *sql, int nb, const int64_t *binds, int *changes,
		     struct bw_err *err);

/*
 * Opens a transaction, or a savepoint inside the caller's (the caller
 * holds db->mu). db_tx_close commits (rc == 0) or rolls back that level and
 * returns rc, or the commit's error.
 */
int db_tx_open(struct bw_db *db, struct bw_err *err);
int db_tx_close(struct bw_db *db, int rc, struct bw_err *err);

/* Steps a one-row, one-integer query into *out and finalizes it; a failed step or no row is an error. */
int db_step_int(struct bw_db *db, sqlite3_stmt *st, int64_t *out, const char *what, struct bw_err *err);

/* Binds s as text, or SQL NULL when s is NULL. */
void db_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);

/* Copies column i as text into out (cap bytes; "" for NULL). */
void db_col_copy(sqlite3_stmt *st, int i, char *out, size_t cap);
/* Steps st, growing *rows (elem bytes each, the caller frees) and filling each with fill(); the caller holds db->mu. */
int db_collect_rows(struct bw_db *db, sqlite3_stmt *st, size_t elem, void (*fill)(sqlite3_stmt *, void *), void **rows,
		    size_t *n, const char *what, struct bw_err *err);
/* Runs sql (no binds) under db->mu and returns every row through fill, in an array the caller frees. */
int db_list_rows(struct bw_db *db, const char *sql, size_t elem, void (*fill)(sqlite3_stmt *, void *), void **rows,
		 size_t *n, const char *what, struct bw_err *err);

#endif
