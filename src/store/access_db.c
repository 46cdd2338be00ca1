/* store/access_db.c: hosts, access requests and their reviews. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}


/* ---- hosts ------------------------------------------------------------------ */

void
db_host_clear(struct db_host *h)
{
	if (h == NULL)
		return;
	free(h->name);
	free(h->address);
	free(h->grp);
	free(h->accounts);
	memset(h, 0, sizeof *h);
}

void
db_hosts_free(struct db_host *h, size_t n)
{
	size_t i;

	for (i = 0; h != NULL && i < n; i++)
		db_host_clear(&h[i]);
	free(h);
}

int
db_host_insert(struct bw_db *db, const char *name, const char *address, const char *grp, const char *accounts,
	       int64_t now, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO hosts (name, address, grp, accounts, created_at) VALUES (?, ?, ?, ?, ?)",
			    &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, address, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, grp, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, accounts, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
		if ((r = db_step_done(db, st, NULL, err)) == BW_EEXIST)
			bw_err_set(err, BW_EEXIST, "host '%s' already exists", name);
		else if (r == 0 && id != NULL)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

static int
host_from_row(sqlite3_stmt *st, struct db_host *h)
{
	h->id = sqlite3_column_int64(st, 0);
	h->name = col_dup(st, 1);
	h->address = col_dup(st, 2);
	h->grp = col_dup(st, 3);
	h->accounts = col_dup(st, 4);
	h->created_at = sqlite3_column_int64(st, 5);
	h->agent_enrolled_at = sqlite3_column_int64(st, 6);
	h->agent_last_seen = sqlite3_column_int64(st, 7);
	return h->name && h->address && h->grp && h->accounts ? 0 : BW_ENOMEM;
}

#define HOST_COLS "id, name, address, grp, accounts, created_at," \
		  " COALESCE((SELECT issued_at FROM host_credentials c WHERE c.host_id = hosts.id), 0)," \
		  " COALESCE((SELECT last_seen FROM host_credentials c WHERE c.host_id = hosts.id), 0)"

int
db_host_by_name(struct bw_db *db, const char *name, struct db_host *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", &st, err)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			r = host_from_row(st, out) ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
		else
			r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "unknown host '%.64s'", name)
					      : db_sql_err(db, err, "read host");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0)
		db_host_clear(out);
	return r;
}

int
db_host_list(struct bw_db *db, const char *grp, struct db_host **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_host *v = NULL;
	size_t cap = 0;
	int r, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, grp ? "SELECT " HOST_COLS " FROM hosts WHERE grp = ? ORDER BY name"
				    : "SELECT " HOST_COLS " FROM hosts ORDER BY name", &st, err)) == 0) {
		if (grp != NULL)
			sqlite3_bind_text(st, 1, grp, -1, SQLITE_TRANSIENT);
		while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*n == cap) {
				struct db_host *q = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
				if (q == NULL) {
					r = bw_err_set(err, BW_ENOMEM, "out of memory");
					break;
				}
				v = q;
			}
			memset(&v[*n], 0, sizeof v[*n]);
			if (host_from_row(st, &v[(*n)++]) != 0)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = db_sql_err(db, err, "list hosts");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		db_hosts_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* ---- access requests ---------------------------------------------------------- */

void
db_access_clear(struct db_access *a)
{
	if (a == NULL)
		return;
	free(a->hosts);
	free(a->accounts);
	free(a->principals);
	free(a->reason);
	free(a->ticket);
	free(a->pubkey);
	free(a->key_fp);
	free(a->source_address);
	free(a->force_command);
	free(a->certificate);
	free(a->approvers);
	memset(a, 0, sizeof *a);
}

void
db_access_free(struct db_access *a, size_t n)
{
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		db_access_clear(&a[i]);
	free(a);
}

int
db_access_insert(struct bw_db *db, const struct db_access *a, int64_t *id, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r;

	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "INSERT INTO access_requests (requester_id, hosts, accounts, principals, valid_after,"
			    " valid_before, reason, ticket, pubkey, key_fp, source_address, force_command, permits,"
			    " approvals_needed, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'pending',?)",
			    &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, a->requester_id);
		sqlite3_bind_text(st, 2, a->hosts, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, a->accounts, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, a->principals, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, a->valid_after);
		sqlite3_bind_int64(st, 6, a->valid_before);
		sqlite3_bind_text(st, 7, a->reason, -1, SQLITE_TRANSIENT);
		db_bind_text_or_null(st, 8, a->ticket);
		sqlite3_bind_text(st, 9, a->pubkey, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 10, a->key_fp, -1, SQLITE_TRANSIENT);
		db_bind_text_or_null(st, 11, a->source_address);
		db_bind_text_or_null(st, 12, a->force_command);
		sqlite3_bind_int64(st, 13, a->permits);
		sqlite3_bind_int64(st, 14, a->approvals_needed);
		sqlite3_bind_int64(st, 15, a->created_at);
		if ((r = db_step_done(db, st, NULL, err)) == 0 && id != NULL)
			*id = sqlite3_last_insert_rowid(db->h);
	}
	pthread_mutex_unlock(&db->mu);
	return r;
}

#define ACCESS_SELECT                                                                                     \
	"SELECT a.id, a.requester_id, u.username, a.hosts, a.accounts, a.principals, a.valid_after,"       \
	" a.valid_before, a.reason, a.ticket, a.pubkey, a.key_fp, a.source_address, a.force_command,"     \
	" a.permits, a.approvals_needed, a.state, a.certificate, a.downloaded_at, a.created_at,"          \
	" a.decided_at, a.revoked_at,"                                                                    \
	" (SELECT COUNT(*) FROM access_reviews r WHERE r.request_id = a.id AND r.decision = 'approve'),"  \
	" (SELECT group_concat(ru.username, ',') FROM access_reviews r JOIN users ru ON ru.id = r.reviewer_id" \
	"   WHERE r.request_id = a.id AND r.decision = 'approve')"                                        \
	" FROM access_requests a JOIN users u ON u.id = a.requester_id"

static int
access_from_row(sqlite3_stmt *st, struct db_access *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	a->requester_id = sqlite3_column_int64(st, 1);
	snprintf(a->requester, sizeof a->requester, "%s", (const char *)sqlite3_column_text(st, 2));
	a->hosts = col_dup(st, 3);
	a->accounts = col_dup(st, 4);
	a->principals = col_dup(st, 5);
	a->valid_after = sqlite3_column_int64(st, 6);
	a->valid_before = sqlite3_column_int64(st, 7);
	a->reason = col_dup(st, 8);
	a->ticket = col_dup(st, 9);
	a->pubkey = col_dup(st, 10);
	a->key_fp = col_dup(st, 11);
	a->source_address = col_dup(st, 12);
	a->force_command = col_dup(st, 13);
	a->permits = (unsigned)sqlite3_column_int64(st, 14);
	a->approvals_needed = sqlite3_column_int64(st, 15);
	snprintf(a->state, sizeof a->state, "%s", (const char *)sqlite3_column_text(st, 16));
	a->certificate = col_dup(st, 17);
	a->downloaded_at = sqlite3_column_int64(st, 18);
	a->created_at = sqlite3_column_int64(st, 19);
	a->decided_at = sqlite3_column_int64(st, 20);
	a->revoked_at = sqlite3_column_int64(st, 21);
	a->approvals = sqlite3_column_int64(st, 22);
	a->approvers = col_dup(st, 23);
	return a->hosts && a->accounts && a->principals && a->reason && a->pubkey && a->key_fp ? 0 : BW_ENOMEM;
}

/* Lock held. */
static int
access_get_locked(struct bw_db *db, int64_t id, struct db_access *out, struct bw_err *err)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof *out);
	if ((r = db_prepare(db, ACCESS_SELECT " WHERE a.id = ?", &st, err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = access_from_row(st, out) ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	else
		r = rc == SQLITE_DONE ? bw_err_set(err, BW_ENOTFOUND, "no such access request")
				      : db_sql_err(db, err, "read access request");
	sqlite3_finalize(st);
	if (r != 0)
		db_access_clear(out);
	return r;
}

int
db_access_get(struct bw_db *db, int64_t id, struct db_access *out, struct bw_err *err)
{
	int r;

	pthread_mutex_lock(&db->mu);
	r = access_get_locked(db, id, out, err);
	pthread_mutex_unlock(&db->mu);
	return r;
}

int
db_access_list(struct bw_db *db, int64_t requester_id, size_t limit, struct db_access **out, size_t *n,
	       struct bw_err *err)
{
	sqlite3_stmt *st;
	struct db_access *v = NULL;
	int r, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if (limit == 0 || (v = calloc(limit, sizeof *v)) == NULL)
		return limit == 0 ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, requester_id > 0 ? ACCESS_SELECT " WHERE a.requester_id = ? ORDER BY a.id DESC LIMIT ?"
						 : ACCESS_SELECT " WHERE ? = ? ORDER BY a.id DESC LIMIT ?", &st, err)) == 0) {
		int k = 1;
		if (requester_id > 0) {
			sqlite3_bind_int64(st, k++, requester_id);
		} else {
			sqlite3_bind_int64(st, k++, 0);
			sqlite3_bind_int64(st, k++, 0);
		}
		sqlite3_bind_int64(st, k, (int64_t)limit);
		while (r == 0 && *n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
			if (access_from_row(st, &v[(*n)++]) != 0)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
		if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
			r = db_sql_err(db, err, "list access requests");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		db_access_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

int
db_access_review(struct bw_db *db, int64_t id, int64_t reviewer_id, bool approve, const char *reason,
		 const char *certificate, int64_t now, bool *issued, struct bw_err *err)
{
	struct db_access a = { 0 };
	sqlite3_stmt *st;
	int r;

	*issued = false;
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto unlock;
	if ((r = access_get_locked(db, id, &a, err)) != 0)
		goto done;
	if (strcmp(a.state, "pending") != 0) {
		r = bw_err_set(err, BW_EINVAL, "request %lld is %s, not pending", (long long)id, a.state);
		goto done;
	}
	if (now >= a.valid_before) {
		r = bw_err_set(err, BW_EINVAL, "request %lld has expired (its window ended)", (long long)id);
		goto done;
	}
	if ((r = db_prepare(db, "INSERT INTO access_reviews (request_id, reviewer_id, decision, reason, at)"
			    " VALUES (?, ?, ?, ?, ?)", &st, err)) != 0)
		goto done;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, reviewer_id);
	sqlite3_bind_text(st, 3, approve ? "approve" : "deny", -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 4, reason);
	sqlite3_bind_int64(st, 5, now);
	if ((r = db_step_done(db, st, NULL, err)) != 0) {
		if (r == BW_EEXIST)
			r = bw_err_set(err, BW_EINVAL, "you already reviewed request %lld", (long long)id);
		goto done;
	}
	if (!approve) {
		int64_t b[2] = { now, id };
		r = db_update(db, "UPDATE access_requests SET state = 'denied', decided_at = ? WHERE id = ?", 2, b,
			      NULL, err);
	} else if (a.approvals + 1 >= a.approvals_needed) {
		if (certificate == NULL) {
			r = bw_err_set(err, BW_EINVAL, "internal: final approval without a certificate");
			goto done;
		}
		if ((r = db_prepare(db, "UPDATE access_requests SET state = 'issued', certificate = ?, decided_at = ?"
				    " WHERE id = ?", &st, err)) != 0)
			goto done;
		sqlite3_bind_text(st, 1, certificate, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, id);
		if ((r = db_step_done(db, st, NULL, err)) == 0)
			*issued = true;
	}
done:
	r = db_tx_close(db, r, err);
unlock:
	pthread_mutex_unlock(&db->mu);
	db_access_clear(&a);
	return r;
}

int
db_access_downloaded(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err)
{
	int64_t b[2] = { now, id };
	return db_update_locking(db, "UPDATE access_requests SET downloaded_at = ? WHERE id = ? AND downloaded_at IS NULL",
				2, b, NULL, err);
}

int
db_access_revoke(struct bw_db *db, int64_t id, int64_t now, struct bw_err *err)
{
	int64_t b[2] = { now, id };
	int r, changes = 0;

	r = db_update_locking(db, "UPDATE access_requests SET state = 'revoked', revoked_at = ?"
				 " WHERE id = ? AND state IN ('pending', 'issued')", 2, b, &changes, err);
	if (r == 0 && changes == 0)
		r = bw_err_set(err, BW_EINVAL, "request %lld does not exist or is already denied or revoked",
			       (long long)id);
	return r;
}

int
db_access_revoked(struct bw_db *db, uint64_t **out, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	uint64_t *v = NULL;
	size_t cap = 0;
	int r, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT id FROM access_requests WHERE state = 'revoked' AND certificate IS NOT NULL"
			    " ORDER BY id", &st, err)) == 0) {
		while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*n == cap) {
				uint64_t *q = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
				if (q == NULL) {
					r = bw_err_set(err, BW_ENOMEM, "out of memory");
					break;
				}
				v = q;
			}
			v[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = db_sql_err(db, err, "list revoked");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

int
db_access_expire(struct bw_db *db, int64_t now, int64_t **ids, size_t *n, struct bw_err *err)
{
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t cap = 0;
	int r, rc = SQLITE_DONE;

	*ids = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_tx_open(db, err)) != 0)
		goto unlock;
	if ((r = db_prepare(db, "SELECT id FROM access_requests WHERE state = 'issued' AND valid_before <= ?"
			    " AND expired_at IS NULL ORDER BY id", &st, err)) != 0)
		goto done;
	sqlite3_bind_int64(st, 1, now);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *q = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
			if (q == NULL) {
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
				break;
			}
			v = q;
		}
		v[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_sql_err(db, err, "find expired");
	sqlite3_finalize(st);
	if (r == 0 && *n > 0) {
		int64_t b[2] = { now, now };
		r = db_update(db, "UPDATE access_requests SET expired_at = ? WHERE state = 'issued' AND valid_before <= ?"
				  " AND expired_at IS NULL", 2, b, NULL, err);
	}
done:
	r = db_tx_close(db, r, err);
unlock:
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		free(v);
		*n = 0;
		return r;
	}
	*ids = v;
	return 0;
}

void
db_certs_free(struct db_cert *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].certificate);
	free(c);
}

int
db_access_certs_in_force(struct bw_db *db, int64_t now, struct db_cert **out, size_t *n, struct bw_err *err)
{
	struct db_cert *v = NULL;
	sqlite3_stmt *st;
	size_t cap = 0;
	int r, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&db->mu);
	if ((r = db_prepare(db, "SELECT certificate, valid_before FROM access_requests WHERE state IN ('issued', 'revoked')"
			    " AND certificate IS NOT NULL AND valid_before > ? ORDER BY id", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, now);
		while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*n == cap) {
				struct db_cert *q = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
				if (q == NULL) {
					r = bw_err_set(err, BW_ENOMEM, "out of memory");
					break;
				}
				v = q;
			}
			v[*n].valid_before = sqlite3_column_int64(st, 1);
			if ((v[*n].certificate = col_dup(st, 0)) == NULL)
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
			else
				(*n)++;
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = db_sql_err(db, err, "list certificates in force");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->mu);
	if (r != 0) {
		db_certs_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}
