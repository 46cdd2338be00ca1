/* cli/cmd_upgrade.c: bulwark upgrade: the database brought to this program's schema (a package's postinst runs it). */
#include <stdio.h>

#include "cli.h"
#include "instance/instance.h"

static const char upgrade_usage[] =
    "usage: bulwark upgrade --data DIR\n"
    "\n"
    "Brings DIR's database to this bulwark's schema after an upgrade of the program, with\n"
    "the server stopped: copies it first (SQLite's backup, to DIR/bulwark.db.before-schema-\n"
    "FROM-to-TO) and then migrates it. A database written by a newer bulwark (a downgrade) is\n"
    "refused, and so is a data directory a running server holds. Nothing to do (exit 0) when\n"
    "the schema is current. The Debian package's postinst runs it on /var/lib/bulwark.\n";

int
cmd_upgrade(int argc, char **argv)
{
	struct cli_args a;
	struct instance_upgrade_result res;
	struct bw_err err = { 0 };
	const char *data = NULL;
	char *pos[1];
	size_t npos;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(upgrade_usage, stdout);
		return CLI_OK;
	}
	if (cli_opt(&a, "--data", &data) || cli_positional(&a, pos, 0, &npos) || data == NULL) {
		fputs(upgrade_usage, stderr);
		return CLI_USAGE;
	}
	if (instance_upgrade(data, &res, &err) != 0)
		return cli_fail("upgrade", &err);
	if (res.migrated)
		printf("database schema %lld -> %lld (a copy of the old database: %s)\n", (long long)res.from,
		       (long long)res.to, res.copy);
	else
		printf("database schema %lld: current\n", (long long)res.from);
	return CLI_OK;
}
