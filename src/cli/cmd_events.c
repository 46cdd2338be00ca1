/* cli/cmd_events.c: `bulwark events`: the audit event vocabulary, for rule authors and auditors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events/events.h"

static const char events_usage[] =
    "usage: bulwark events\n"
    "\n"
    "Prints every audit event action with what it records and its detail fields, then\n"
    "every detail field with its type and meaning (markdown tables, as in docs/EVENTS.md).\n";

int
cmd_events(int argc, char **argv)
{
	char *md;

	if (argc > 0) {
		bool help = strcmp(argv[0], "--help") == 0;
		fputs(events_usage, help ? stdout : stderr);
		return help ? CLI_OK : CLI_USAGE;
	}
	if ((md = ev_vocabulary_markdown()) == NULL) {
		cli_errorf("events: out of memory");
		return CLI_FAIL;
	}
	fputs(md, stdout);
	free(md);
	return CLI_OK;
}
