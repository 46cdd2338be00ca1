/* cli/cmd_log.c: `bulwark log ...` (filled in by the durable log). */
#include <stdio.h>

#include "cli.h"

int
cmd_log(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_errorf("log: not available yet");
	return CLI_USAGE;
}
