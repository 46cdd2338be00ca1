/* Unit tests for the access module's policy that needs no database: a login against its grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "access/access.h"

static void
test_login_against_grant(void **state)
{
	struct db_access a = { 0 };
	struct access_login_check lc;
	char hosts[] = "web1,web2", principals[] = "root@web1,root@web2,maint@web2";

	(void)state;
	a.hosts = hosts;
	a.principals = principals;
	a.valid_after = 1000;
	a.valid_before = 2000;
	strcpy(a.state, "issued");
	access_login_check(&a, "web1", "root", 1000, &lc);
	assert_string_equal(lc.state, "active");
	assert_true(lc.host_ok && lc.account_ok);
	access_login_check(&a, "web1", "root", 999, &lc);
	assert_string_equal(lc.state, "not_yet");
	access_login_check(&a, "web1", "root", 2000, &lc);	/* valid_before is the first second outside */
	assert_string_equal(lc.state, "expired");
	access_login_check(&a, "web1", "maint", 1500, &lc);	/* maint only on web2 */
	assert_true(lc.host_ok);
	assert_false(lc.account_ok);
	access_login_check(&a, "db1", "root", 1500, &lc);
	assert_false(lc.host_ok || lc.account_ok);
	access_login_check(&a, "web", "root", 1500, &lc);	/* a prefix of a name is not the name */
	assert_false(lc.host_ok || lc.account_ok);
	access_login_check(&a, "web2", "root@web1,root", 1500, &lc);
	assert_false(lc.account_ok);

	strcpy(a.state, "revoked");
	a.revoked_at = 1500;
	access_login_check(&a, "web1", "root", 1499, &lc);	/* before the revocation: the grant held */
	assert_string_equal(lc.state, "active");
	access_login_check(&a, "web1", "root", 1500, &lc);
	assert_string_equal(lc.state, "revoked");
	access_login_check(&a, "web1", "root", 5000, &lc);
	assert_string_equal(lc.state, "revoked");
	strcpy(a.state, "pending");
	access_login_check(&a, "web1", "root", 1500, &lc);
	assert_string_equal(lc.state, "not_issued");
	strcpy(a.state, "denied");
	access_login_check(&a, "web1", "root", 1500, &lc);
	assert_string_equal(lc.state, "not_issued");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_against_grant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
