/*
 * routes tests: the permission table and the route tables. Every route
 * names an operation; every operation a transport can call is reachable;
 * the table's decisions for each kind of caller; and README.md's route
 * table lists exactly the routes, in order, with the roles the permission
 * table gives their operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/ops.h"
#include "server/http.h"
#include "source_file.h"

#define tables server_route_tables

/* The roles column for op: "public", "any", "any (sessions only)" or role names in table order. */
static void
roles_text(enum op_id op, char *out, size_t cap)
{
	const struct op_def *d = ops_def(op);
	size_t o = 0;
	unsigned bit;

	if (d->roles == OPS_PUBLIC) {
		snprintf(out, cap, "public");
		return;
	}
	if (d->roles == OPS_ANY_ROLE) {
		snprintf(out, cap, "any%s", (d->flags & OPF_SESSION_ONLY) ? " (sessions only)" : "");
		return;
	}
	out[0] = '\0';
	for (bit = 1; bit <= ROLE_PARTNER; bit <<= 1)
		if (d->roles & bit & (ROLE_ALL | ROLE_HOST | ROLE_PARTNER))
			o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? ", " : "", auth_role_name(bit));
}


static void
test_readme_route_table(void **state)
{
	char *doc = read_source_file("README.md"), *line, *save = NULL, want[512], roles[128];
	char *rows[128];
	size_t nrows = 0, t, i, k = 0;
	bool ok = true;

	(void)state;
	assert_non_null(doc);
	for (line = strtok_r(doc, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "| GET | `", 9) == 0 || strncmp(line, "| POST | `", 10) == 0 ||
		    strncmp(line, "| PUT | `", 9) == 0 || strncmp(line, "| DELETE | `", 12) == 0) {
			assert_true(nrows < 128);
			rows[nrows++] = line;
		}
	}
	for (t = 0; tables[t] != NULL; t++) {
		for (i = 0; i < tables[t]->n; i++, k++) {
			const struct route *r = &tables[t]->routes[i];
			roles_text(r->op, roles, sizeof roles);
			snprintf(want, sizeof want, "| %s | `%s` | %s | ", r->method, r->pattern, roles);
			if (k >= nrows || strncmp(rows[k], want, strlen(want)) != 0) {
				print_error("README.md route row %zu: want \"%s...\", have \"%.120s\"\n", k + 1, want,
					    k < nrows ? rows[k] : "(none)");
				ok = false;
			}
		}
	}
	if (k != nrows) {
		print_error("README.md lists %zu routes, the route tables have %zu\n", nrows, k);
		ok = false;
	}
	free(doc);
	assert_true(ok);
}

static void
test_every_route_names_an_operation(void **state)
{
	bool reached[OP_COUNT] = { 0 };
	size_t t, i;
	int op;

	(void)state;
	for (t = 0; tables[t] != NULL; t++) {
		for (i = 0; i < tables[t]->n; i++) {
			const struct route *r = &tables[t]->routes[i];
			assert_true((unsigned)r->op < OP_COUNT);
			assert_non_null(r->fn);
			reached[r->op] = true;
			/* A route carries transport facts only; state changes are the operation's. */
			if (ops_def(r->op)->flags & OPF_STATE)
				assert_true(strcmp(r->method, "GET") != 0 || r->op == OP_ACCESS_CERTIFICATE);
		}
	}
	/* Every operation is reachable from a route, or is the server's own (sweeps). */
	for (op = 0; op < OP_COUNT; op++)
		if (!(ops_def((enum op_id)op)->flags & (OPF_SYSTEM_ONLY | OPF_LOCAL_ONLY)))
			assert_true(reached[op]);
}

static void
test_permission_table(void **state)
{
	struct ops_caller anon, sys, local, staff, admin_token, admin;
	struct auth_identity id = { .user_id = 7, .username = "u", .roles = ROLE_STAFF, .kind = DB_TOKEN_SESSION };

	(void)state;
	ops_caller_anonymous(&anon, "192.0.2.1", NULL);
	ops_caller_system(&sys);
	ops_caller_local(&local);
	ops_caller_signed_in(&staff, &id, "192.0.2.1", NULL);
	id.roles = ROLE_ADMIN;
	ops_caller_signed_in(&admin, &id, "192.0.2.1", NULL);
	id.kind = DB_TOKEN_API;
	ops_caller_signed_in(&admin_token, &id, "192.0.2.1", NULL);

	/* A host's credential: its own reports, nothing a user may do; users cannot report for hosts. */
	{
		struct ops_caller host;
		struct auth_identity hid = { .host_id = 3, .username = "web1", .roles = ROLE_HOST, .kind = AUTH_KIND_HOST };
		ops_caller_signed_in(&host, &hid, "192.0.2.9", NULL);
		assert_int_equal(host.via, OPS_VIA_HOST);
		assert_string_equal(host.name, "host web1");
		assert_int_equal(ops_authorize(OP_PATCH_REPORT, &host), OPS_ALLOW);
		assert_true(ops_caller_is_host(&host, "web1"));
		assert_false(ops_caller_is_host(&host, "web2"));
		assert_false(ops_caller_is_host(&admin, "web1"));
		assert_int_equal(ops_authorize(OP_AUTH_ME, &host), OPS_FORBIDDEN);
		assert_int_equal(ops_authorize(OP_HOST_LIST, &host), OPS_FORBIDDEN);
		assert_int_equal(ops_authorize(OP_PATCH_REPORT, &admin), OPS_FORBIDDEN);
	}
	/* The first admin: only `bulwark init` (local). */
	assert_int_equal(ops_authorize(OP_USER_BOOTSTRAP, &local), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_USER_BOOTSTRAP, &admin), OPS_FORBIDDEN);
	/* Approving a role grant needs a signed-in session, not a token. */
	assert_int_equal(ops_authorize(OP_GRANT_APPROVE, &admin), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_GRANT_APPROVE, &admin_token), OPS_FORBIDDEN);
	assert_int_equal(ops_authorize(OP_AUTH_LOGIN, &anon), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_USER_ADD, &anon), OPS_UNAUTHENTICATED);
	assert_int_equal(ops_authorize(OP_USER_ADD, &staff), OPS_FORBIDDEN);
	assert_int_equal(ops_authorize(OP_USER_ADD, &admin), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_USER_ADD, &local), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_ACCESS_APPROVE, &admin), OPS_FORBIDDEN);
	/* Tokens cannot mint tokens. */
	assert_int_equal(ops_authorize(OP_TOKEN_CREATE, &admin), OPS_ALLOW);
	assert_int_equal(ops_authorize(OP_TOKEN_CREATE, &admin_token), OPS_FORBIDDEN);
	/* The sweeps are the server's alone. */
	assert_int_equal(ops_authorize(OP_ACCESS_EXPIRE, &admin), OPS_FORBIDDEN);
	assert_int_equal(ops_authorize(OP_PATCH_RESIGN, &local), OPS_FORBIDDEN);
	assert_int_equal(ops_authorize(OP_ACCESS_EXPIRE, &sys), OPS_ALLOW);
	/* The system caller is nobody signed in. */
	assert_int_equal(ops_authorize(OP_USER_LIST, &sys), OPS_UNAUTHENTICATED);
	/* An unknown operation is refused (fail closed). */
	assert_int_equal(ops_authorize(OP_COUNT, &admin), OPS_FORBIDDEN);
	/* Object rules beside the table. */
	assert_true(ops_sees_all_access(&admin));
	assert_false(ops_sees_all_access(&staff));
	assert_int_equal(ops_token_revoke_owner(&admin), -1);
	assert_int_equal(ops_token_revoke_owner(&staff), 7);
	/* The local actor is the OS user, never a fixed word. */
	assert_string_not_equal(local.name, "cli");
	assert_non_null(strstr(local.name, "uid "));
	assert_string_equal(local.source, "local");
	/* Each operation records an event of the vocabulary. */
	for (int op = 0; op < OP_COUNT; op++)
		assert_true((unsigned)ops_def((enum op_id)op)->event < EV_ACTION_COUNT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_route_table),
		cmocka_unit_test(test_every_route_names_an_operation),
		cmocka_unit_test(test_permission_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
