/* store/rows.c: reading result rows into arrays (shared by the store's files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* Copies column i as text into out (cap bytes; "" for NULL). */
void
db_col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* Steps st, growing *rows (elem bytes each) and filling each with fill(); the caller holds db->mu (see db_internal.h). */
int
db_collect_rows(struct bw_db *db, sqlite3_stmt *st, size_t elem, void (*fill)(sqlite3_stmt *, void *), void **rows,
	     size_t *n, const char *what, struct bw_err *err)
{
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			void *grown = realloc(*rows, (cap = cap ? cap * 2 : 16) * elem);
			if (grown == NULL) {
				free(*rows);
				*rows = NULL;
				*n = 0;
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			}
			*rows = grown;
		}
		memset((char *)*rows + *n * elem, 0, elem);
		fill(st, (char *)*rows + *n * elem);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return db_sql_err(db, err, what);
	}
	return 0;
}

/* Runs sql (no binds) and returns every row through fill, in an array the caller frees. */
int
db_list_rows(struct bw_db *db, const char *sql, size_t elem, void (*fill)(sqlite3_stmt *, void *), void **rows, size_t *n,
	  const char *what, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	*rows = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, sql, &st, err)) == 0) {
		r = db_collect_rows(db, st, elem, fill, rows, n, what, err);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}
