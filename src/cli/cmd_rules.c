/* cli/cmd_rules.c: `bulwark rules ...`: Sigma detection rules. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "detect/detect.h"

static const char rules_usage[] =
    "usage: bulwark rules <command> [options]\n"
    "\n"
    "  check [--verbose] DIR\n"
    "      Load every *.yml and *.yaml rule below DIR as the server would and\n"
    "      print how many loaded, how many were refused (each with the file, the\n"
    "      line and the reason) and how many loaded but can never fire because\n"
    "      bulwark collects no events of their log source (each with the reason).\n"
    "      --verbose also lists every loaded rule with its level and title.\n"
    "      Exit 0 when every file loaded, 1 when any was refused.\n";

static int
rules_check(int argc, char **argv)
{
	struct cli_args a;
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };
	char *pos[2], buf[1024], buf2[1024];
	size_t npos, i;
	bool verbose;

	cli_args_init(&a, argc, argv);
	verbose = cli_flag(&a, "--verbose");
	if (cli_positional(&a, pos, 2, &npos) != 0)
		return CLI_USAGE;
	if (npos != 1) {
		cli_errorf("rules check needs one directory");
		return CLI_USAGE;
	}
	if (detect_ruleset_load(pos[0], &rs, &rep, &err) != 0)
		return cli_fail("rules check", &err);
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].reason != NULL)
			printf("refused: %s\n", cli_safe_text(rep.items[i].reason, buf, sizeof buf));
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].never != NULL)
			printf("never fires: %s: %s\n", cli_safe_text(rep.items[i].path, buf, sizeof buf),
			       cli_safe_text(rep.items[i].never, buf2, sizeof buf2));
	if (verbose)
		for (i = 0; i < detect_ruleset_count(rs); i++) {
			const struct detect_rule *r = detect_ruleset_rule(rs, i);
			printf("loaded: %-13s %s\n", detect_level_name(detect_rule_level(r)),
			       cli_safe_text(detect_rule_title(r), buf, sizeof buf));
		}
	printf("%zu rule files: %zu loaded (%zu of them can never fire: no such events collected), %zu refused\n",
	       rep.n, rep.loaded, rep.never_fire, rep.refused);
	i = rep.refused;
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return i == 0 ? CLI_OK : CLI_FAIL;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		fputs(rules_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "check") == 0)
		return rules_check(argc - 1, argv + 1);
	cli_errorf("rules: unknown command '%s'", argv[0]);
	fputs(rules_usage, stderr);
	return CLI_USAGE;
}
