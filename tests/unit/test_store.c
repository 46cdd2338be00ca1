/*
 * store tests (SQLite): schema version and migrations from every older
 * schema with data kept, a newer schema refused, users and the last-admin
 * guard, tokens, sign-in attempts per (name, client), transactions
 * spanning store calls (savepoints inside, rollback undoing them), comma
 * lists stored as given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>

#include <cmocka.h>

#include "instance/instance.h"
#include "store/db_internal.h"

static char dir[64];

static void
db_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/bwtest-store-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t
add_user(struct bw_db *db, const char *name, unsigned roles)
{
	struct bw_err err = { 0 };
	int64_t id = 0;

	assert_int_equal(db_user_insert(db, name, "$argon2id$fake", NULL, 0, roles, 1000, &id, &err), 0);
	return id;
}

static void
test_fresh_schema(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	int64_t v = 0;

	(void)state;
	db_path(path, sizeof path, "fresh.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	assert_int_equal(db_schema_version(db, &v, &err), 0);
	assert_int_equal(v, DB_SCHEMA_VERSION);
	db_close(db);
	/* Opening again applies nothing and keeps the version. */
	assert_int_equal(db_open(path, false, &db, &err), 0);
	assert_int_equal(db_schema_version(db, &v, &err), 0);
	assert_int_equal(v, DB_SCHEMA_VERSION);
	db_close(db);
}

/* A database made by every older bulwark migrates to the current schema with its rows intact. */
static void
test_migrations_from_older_schemas(void **state)
{
	int64_t from;

	(void)state;
	for (from = 1; from < DB_SCHEMA_VERSION; from++) {
		char path[128], name[32];
		struct bw_db *db = NULL;
		struct bw_err err = { 0 };
		struct db_user u = { 0 };
		struct db_patch_target t = { .length = 5, .targets_version = 2, .log_index = 9, .published_at = 1 };
		int64_t v = 0, hid = 0;

		snprintf(name, sizeof name, "v%lld.db", (long long)from);
		db_path(path, sizeof path, name);
		assert_int_equal(db_open_at(path, true, from, &db, &err), 0);
		assert_int_equal(db_schema_version(db, &v, &err), 0);
		assert_int_equal(v, from);
		add_user(db, "alice", 1);
		if (from >= 2)
			assert_int_equal(db_host_insert(db, "web1", "192.0.2.10", "default", "root,deploy", 1000, &hid, &err),
					 0);
		db_close(db);

		assert_int_equal(db_open(path, false, &db, &err), 0);
		assert_int_equal(db_schema_version(db, &v, &err), 0);
		assert_int_equal(v, DB_SCHEMA_VERSION);
		assert_int_equal(db_user_by_name(db, "alice", &u, &err), 0);
		assert_int_equal(u.roles, 1);
		db_user_clear(&u);
		if (from >= 2) {
			struct db_host h = { 0 };
			assert_int_equal(db_host_by_name(db, "web1", &h, &err), 0);
			assert_string_equal(h.accounts, "root,deploy");
			db_host_clear(&h);
		}
		/* The newer tables work. */
		snprintf(t.name, sizeof t.name, "fw.bin");
		memset(t.sha256, 'a', 64);
		snprintf(t.version, sizeof t.version, "1");
		assert_int_equal(db_patch_target_insert(db, &t, &err), 0);
		assert_int_equal(db_patch_target_insert(db, &t, &err), BW_EEXIST);
		db_close(db);
	}
}

/* bulwark upgrade: an older database copied, then migrated; a newer one and a running server refused. */
static void
test_instance_upgrade(void **state)
{
	char idir[128], path[256], copy[300];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	struct instance_upgrade_result res;
	int64_t v = 0;
	int fd;

	(void)state;
	db_path(idir, sizeof idir, "upgrade");
	snprintf(path, sizeof path, "%s/log", idir);
	assert_int_equal(bw_mkdir_p(path, 0700, &err), 0);
	snprintf(path, sizeof path, "%s/bulwark.db", idir);
	assert_int_equal(db_open_at(path, true, DB_SCHEMA_VERSION - 2, &db, &err), 0);
	add_user(db, "alice", 1);
	db_close(db);
	/* a server holding the log's lock */
	snprintf(copy, sizeof copy, "%s/log/lock", idir);
	fd = open(copy, O_RDWR | O_CREAT, 0600);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(instance_upgrade(idir, &res, &err), BW_EBUSY);
	assert_non_null(strstr(err.msg, "stop it first"));
	close(fd);
	assert_int_equal(db_file_schema_version(path, &v, &err), 0);
	assert_int_equal(v, DB_SCHEMA_VERSION - 2);	/* untouched */
	/* copied, then migrated */
	assert_int_equal(instance_upgrade(idir, &res, &err), 0);
	assert_true(res.migrated && res.from == DB_SCHEMA_VERSION - 2 && res.to == DB_SCHEMA_VERSION);
	snprintf(copy, sizeof copy, "%s.before-schema-%d-to-%d", path, DB_SCHEMA_VERSION - 2, DB_SCHEMA_VERSION);
	assert_string_equal(res.copy, copy);
	assert_int_equal(db_file_schema_version(copy, &v, &err), 0);
	assert_int_equal(v, DB_SCHEMA_VERSION - 2);
	assert_int_equal(db_file_schema_version(path, &v, &err), 0);
	assert_int_equal(v, DB_SCHEMA_VERSION);
	assert_int_equal(instance_upgrade(idir, &res, &err), 0);	/* current: nothing to do */
	assert_false(res.migrated);
	/* a newer schema: a downgrade, refused */
	assert_int_equal(db_open(path, false, &db, &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", &err), 0);
	db_close(db);
	assert_int_equal(instance_upgrade(idir, &res, &err), BW_ECONFLICT);
	assert_non_null(strstr(err.msg, "database schema 999, newer than this bulwark's"));
	assert_non_null(strstr(err.msg, "downgrade is refused"));
	unlink(copy);
	unlink(path);
	snprintf(path, sizeof path, "%s/log/lock", idir);
	unlink(path);
	snprintf(path, sizeof path, "%s/log", idir);
	rmdir(path);
	rmdir(idir);
}

static void
test_newer_schema_refused(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };

	(void)state;
	db_path(path, sizeof path, "newer.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", &err), 0);
	db_close(db);
	assert_int_equal(db_open(path, false, &db, &err), BW_EINVAL);
	assert_null(db);
	assert_non_null(strstr(err.msg, "newer than this bulwark"));
}

static void
test_users_and_last_admin(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	struct db_user u = { 0 };
	struct db_token tok = { 0 };
	uint8_t h[32] = { 1 };
	int64_t a1, a2, tid = 0;

	(void)state;
	db_path(path, sizeof path, "users.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	a1 = add_user(db, "root1", 1);
	assert_int_equal(db_user_insert(db, "root1", "x", NULL, 0, 1, 0, &a2, &err), BW_EEXIST);
	assert_int_equal(db_user_by_name(db, "nobody", &u, &err), BW_ENOTFOUND);
	/* The only admin can be neither disabled nor stripped of admin. */
	assert_int_equal(db_user_set_disabled(db, a1, true, 1, &err), BW_EINVAL);
	assert_int_equal(db_user_set_roles(db, a1, 2, 1, &err), BW_EINVAL);
	a2 = add_user(db, "root2", 1);
	assert_int_equal(db_token_insert(db, h, a1, DB_TOKEN_SESSION, NULL, 0, 1000, 999999, &tid, &err), 0);
	assert_int_equal(db_token_lookup(db, h, 1001, 1800, &tok, &err), 0);
	db_token_clear(&tok);
	/* With a second admin, disabling works and revokes the first one's sessions. */
	assert_int_equal(db_user_set_disabled(db, a1, true, 1, &err), 0);
	assert_int_equal(db_token_lookup(db, h, 1002, 1800, &tok, &err), BW_ENOTFOUND);
	assert_int_equal(db_user_set_disabled(db, a2, true, 1, &err), BW_EINVAL);
	db_close(db);
}

/* Sign-in attempts per (name, client): counted before the check, locks only that pair, age out, back off. */
static void
test_login_attempts(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	struct db_login_policy pol = { .lock_after = 3, .lock_secs = 900, .backoff_ms = 0 };
	struct db_login_attempt at;
	int64_t n = 0;
	int i;

	(void)state;
	db_path(path, sizeof path, "login.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(db_login_attempt(db, &pol, "admin", "192.0.2.66", 1000, &at, &err), 0);
		assert_true(at.admitted);
		assert_int_equal(at.failures, i);
		assert_int_equal(at.locks, i == 3);
	}
	/* The guesser is locked out; the owner from another client is not; an unknown name behaves the same. */
	assert_int_equal(db_login_attempt(db, &pol, "admin", "192.0.2.66", 1001, &at, &err), 0);
	assert_false(at.admitted);
	assert_true(at.locked);
	assert_int_equal(at.retry_after, 899);
	assert_int_equal(db_login_attempt(db, &pol, "admin", "198.51.100.7", 1001, &at, &err), 0);
	assert_true(at.admitted);
	assert_int_equal(db_login_locked_clients(db, "admin", 1001, &n, &err), 0);
	assert_int_equal(n, 1);
	/* A success forgets the pair's failures. */
	assert_int_equal(db_login_ok(db, "admin", "198.51.100.7", &err), 0);
	assert_int_equal(db_login_attempt(db, &pol, "admin", "198.51.100.7", 1002, &at, &err), 0);
	assert_int_equal(at.failures, 1);
	/* The lock ends and the count starts again: failures age out. */
	assert_int_equal(db_login_attempt(db, &pol, "admin", "192.0.2.66", 1000 + 900, &at, &err), 0);
	assert_true(at.admitted);
	assert_int_equal(at.failures, 1);
	/* Back-off: the second attempt within base * 2^0 is refused, counted attempts are not lost. */
	pol.backoff_ms = 2000;
	assert_int_equal(db_login_attempt(db, &pol, "bob", "192.0.2.1", 5000, &at, &err), 0);
	assert_true(at.admitted);
	assert_int_equal(db_login_attempt(db, &pol, "bob", "192.0.2.1", 5001, &at, &err), 0);
	assert_false(at.admitted);
	assert_false(at.locked);
	assert_int_equal(at.retry_after, 1);
	assert_int_equal(db_login_attempt(db, &pol, "bob", "192.0.2.1", 5002, &at, &err), 0);
	assert_true(at.admitted);
	assert_int_equal(at.failures, 2);
	db_close(db);
}

/* An operation's transaction spans store calls: each becomes a savepoint; the outcome is all or nothing. */
static void
test_transactions(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	struct db_user u = { 0 };
	int64_t a1;

	(void)state;
	db_path(path, sizeof path, "tx.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	a1 = add_user(db, "only-admin", 1);

	/* Rolled back: the insert and the inner (committed) savepoint are both undone. */
	assert_int_equal(db_tx_begin(db, &err), 0);
	add_user(db, "ghost", 4);
	assert_int_equal(db_user_set_roles(db, a1, 1 | 4, 1, &err), 0);
	assert_int_equal(db_tx_end(db, BW_EIO, &err), BW_EIO);
	assert_int_equal(db_user_by_name(db, "ghost", &u, &err), BW_ENOTFOUND);
	assert_int_equal(db_user_by_name(db, "only-admin", &u, &err), 0);
	assert_int_equal(u.roles, 1);
	db_user_clear(&u);

	/* Committed: an inner refusal (savepoint rolled back) leaves the rest of the transaction intact. */
	assert_int_equal(db_tx_begin(db, &err), 0);
	add_user(db, "kept", 4);
	assert_int_equal(db_user_set_disabled(db, a1, true, 1, &err), BW_EINVAL);	/* last admin */
	assert_int_equal(db_tx_end(db, 0, &err), 0);
	assert_int_equal(db_user_by_name(db, "kept", &u, &err), 0);
	db_user_clear(&u);
	assert_int_equal(db_user_by_name(db, "only-admin", &u, &err), 0);
	assert_false(u.disabled);
	db_user_clear(&u);
	db_close(db);
}

/* A witness's memory: compare and swap of the size cosigned, durable across reopening, and evidence kept. */
static void
test_witness_state(void **state)
{
	char path[128], *cp = NULL;
	struct bw_witdb *w = NULL;
	struct bw_err err = { 0 };
	uint8_t r3[32], r7[32], got[32];
	uint64_t size, cur;
	int64_t n;

	(void)state;
	memset(r3, 3, sizeof r3);
	memset(r7, 7, sizeof r7);
	db_path(path, sizeof path, "witness.db");
	assert_int_equal(witdb_open(path, &w, &err), 0);
	assert_int_equal(witdb_seen(w, "example.com/log", &size, got, &cp, &err), BW_ENOTFOUND);
	assert_int_equal(witdb_advance(w, "example.com/log", 0, 3, r3, "cp3", 100, &cur, &err), 0);
	/* a second request from 0 lost the race: 409 with the size stored */
	assert_int_equal(witdb_advance(w, "example.com/log", 0, 5, r7, "cp5", 101, &cur, &err), BW_ECONFLICT);
	assert_true(cur == 3);
	assert_int_equal(witdb_advance(w, "example.com/log", 4, 7, r7, "cp7", 102, &cur, &err), BW_ECONFLICT);
	assert_true(cur == 3);
	assert_int_equal(witdb_advance(w, "example.com/log", 3, 7, r7, "cp7", 103, &cur, &err), 0);
	/* another log is apart */
	assert_int_equal(witdb_advance(w, "example.com/other", 0, 1, r3, "o1", 104, &cur, &err), 0);
	assert_int_equal(witdb_evidence_add(w, "example.com/log", "size 7 with another root", "cp7", "cp7x", 105, &err), 0);
	witdb_close(w);
	assert_int_equal(witdb_open(path, &w, &err), 0);
	assert_int_equal(witdb_seen(w, "example.com/log", &size, got, &cp, &err), 0);
	assert_true(size == 7);
	assert_memory_equal(got, r7, 32);
	assert_string_equal(cp, "cp7");
	free(cp);
	assert_int_equal(witdb_evidence_count(w, "example.com/log", &n, &err), 0);
	assert_true(n == 1);
	assert_int_equal(witdb_evidence_count(w, "example.com/other", &n, &err), 0);
	assert_true(n == 0);
	witdb_close(w);
}

/* First sightings (enrich.first_time): the first record of a key says so, later ones do not, across reopening. */
static void
test_first_seen(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	bool first;

	(void)state;
	db_path(path, sizeof path, "seen.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	assert_int_equal(db_first_seen(db, "patch.publish\x1fpat", 10, 1000, &first, &err), 0);
	assert_true(first);
	assert_int_equal(db_first_seen(db, "patch.publish\x1fpat", 11, 1001, &first, &err), 0);
	assert_false(first);
	assert_int_equal(db_first_seen(db, "patch.publish\x1fsam", 12, 1002, &first, &err), 0);
	assert_true(first);
	db_close(db);
	assert_int_equal(db_open(path, false, &db, &err), 0);
	assert_int_equal(db_first_seen(db, "patch.publish\x1fsam", 13, 1003, &first, &err), 0);
	assert_false(first);
	db_close(db);
}

/* One-time codes: a newer one cancels the older, each is used once; host credentials; role grants decided once. */
static void
test_enrolments_credentials_grants(void **state)
{
	char path[128];
	struct bw_db *db = NULL;
	struct bw_err err = { 0 };
	struct db_enrolment e = { 0 };
	struct db_host_credential c = { 0 };
	struct db_role_grant g = { 0 }, *gs = NULL;
	uint8_t h1[32] = { 1 }, h2[32] = { 2 }, ch[32] = { 3 }, ch2[32] = { 4 };
	uint8_t sealed[4] = { 9, 8, 7, 6 };
	int64_t u, host, exp, n, gid;
	size_t ng;

	(void)state;
	db_path(path, sizeof path, "enrol.db");
	assert_int_equal(db_open(path, true, &db, &err), 0);
	u = add_user(db, "newbie", 4);
	assert_int_equal(db_enrolment_issue(db, DB_ENROL_USER, u, h1, "admin", 1000, 2000, &err), 0);
	assert_int_equal(db_enrolment_outstanding(db, DB_ENROL_USER, u, 1500, &exp, &err), 0);
	assert_int_equal(exp, 2000);
	assert_int_equal(db_enrolment_outstanding(db, DB_ENROL_USER, u, 2000, &exp, &err), 0);
	assert_int_equal(exp, 0);	/* expired */
	assert_int_equal(db_enrolment_issue(db, DB_ENROL_USER, u, h2, "admin", 1100, 3000, &err), 0);
	assert_int_equal(db_enrolment_by_hash(db, h1, &e, &err), 0);
	assert_true(e.cancelled);
	assert_string_equal(e.subject, "newbie");
	assert_int_equal(db_enrolment_use(db, e.id, 1200, "192.0.2.1", &err), BW_ECONFLICT);	/* replaced */
	db_enrolment_clear(&e);
	assert_int_equal(db_enrolment_by_hash(db, h2, &e, &err), 0);
	assert_false(e.cancelled);
	assert_null(e.totp_sealed);
	assert_int_equal(db_enrolment_set_totp(db, e.id, sealed, sizeof sealed, &err), 0);
	db_enrolment_clear(&e);
	assert_int_equal(db_enrolment_by_hash(db, h2, &e, &err), 0);
	assert_int_equal(e.totp_sealed_len, sizeof sealed);
	assert_memory_equal(e.totp_sealed, sealed, sizeof sealed);
	assert_int_equal(db_enrolment_use(db, e.id, 1200, "192.0.2.1", &err), 0);
	assert_int_equal(db_enrolment_use(db, e.id, 1201, "192.0.2.2", &err), BW_ECONFLICT);	/* once */
	db_enrolment_clear(&e);
	assert_int_equal(db_enrolment_by_hash(db, h2, &e, &err), 0);
	assert_int_equal(e.used_at, 1200);
	assert_null(e.totp_sealed);	/* the offered secret is not kept once used */
	db_enrolment_clear(&e);
	assert_int_equal(db_enrolment_by_hash(db, ch, &e, &err), BW_ENOTFOUND);

	/* A host's credential: found by its hash, replaced by a newer one, revoked. */
	assert_int_equal(db_host_insert(db, "web1", "127.0.0.1", "default", "root", 1000, &host, &err), 0);
	assert_int_equal(db_host_credential_lookup(db, ch, 1000, &c, &err), BW_ENOTFOUND);
	assert_int_equal(db_host_credential_set(db, host, ch, 1000, "192.0.2.7", &err), 0);
	assert_int_equal(db_host_credential_lookup(db, ch, 1100, &c, &err), 0);
	assert_string_equal(c.host, "web1");
	assert_int_equal(c.last_seen, 1100);
	assert_int_equal(db_host_credential_set(db, host, ch2, 1200, "192.0.2.8", &err), 0);
	assert_int_equal(db_host_credential_lookup(db, ch, 1300, &c, &err), BW_ENOTFOUND);
	assert_int_equal(db_host_credential_lookup(db, ch2, 1300, &c, &err), 0);
	assert_int_equal(db_host_credential_revoke(db, host, &err), 0);
	assert_int_equal(db_host_credential_lookup(db, ch2, 1400, &c, &err), BW_ENOTFOUND);
	assert_int_equal(db_host_credential_revoke(db, host, &err), BW_ENOTFOUND);

	/* Role grants: decided once; cancelled with the user; admins counted only when enabled and enrolled. */
	g.user_id = u;
	g.roles = 2;
	g.requested_by_id = 1;
	snprintf(g.requested_by, sizeof g.requested_by, "admin");
	g.requested_at = 1000;
	assert_int_equal(db_role_grant_insert(db, &g, &gid, &err), 0);
	assert_int_equal(db_role_grant_decide(db, gid, "approved", "admin2", 1100, &err), 0);
	assert_int_equal(db_role_grant_decide(db, gid, "denied", "admin2", 1100, &err), BW_ECONFLICT);
	assert_int_equal(db_role_grant_get(db, gid, &g, &err), 0);
	assert_string_equal(g.state, "approved");
	assert_string_equal(g.username, "newbie");
	assert_int_equal(db_role_grant_insert(db, &g, &gid, &err), 0);
	assert_int_equal(db_role_grants_cancel_user(db, u, "admin", 1200, &err), 0);
	assert_int_equal(db_role_grant_list(db, true, 10, &gs, &ng, &err), 0);
	assert_int_equal(ng, 0);
	free(gs);
	assert_int_equal(db_role_grant_list(db, false, 10, &gs, &ng, &err), 0);
	assert_int_equal(ng, 2);
	assert_string_equal(gs[0].state, "cancelled");
	free(gs);
	assert_int_equal(db_users_with_role_count(db, 4, 0, 0, &n, &err), 0);
	assert_int_equal(n, 0);	/* newbie has no TOTP secret: not enrolled */
	assert_int_equal(db_user_set_totp(db, u, sealed, sizeof sealed, &err), 0);
	assert_int_equal(db_users_with_role_count(db, 4, 0, 0, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_users_with_role_count(db, 4, u, 0, &n, &err), 0);
	assert_int_equal(n, 0);
	db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_schema),
		cmocka_unit_test(test_first_seen),
		cmocka_unit_test(test_witness_state),
		cmocka_unit_test(test_migrations_from_older_schemas),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_instance_upgrade),
		cmocka_unit_test(test_users_and_last_admin),
		cmocka_unit_test(test_login_attempts),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_enrolments_credentials_grants),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
