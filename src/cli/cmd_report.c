/* cli/cmd_report.c: `bulwark report`: reported mails and files (triage here; intake through the server later). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "triage/triage.h"

#define SAMPLE_MAX ((size_t)64 << 20)

static const char report_usage[] =
    "usage: bulwark report triage [--name NAME] [--org-domain DOMAIN]... [--yara-dir DIR]\n"
    "                             [--timeout-secs S] [--json] [--no-isolation] FILE|-\n"
    "\n"
    "triage: what a suspicious mail (.eml, RFC 5322) or file is, with the reasons: the sample is\n"
    "walked as deep as it goes (a mail's parts and attachments, archives and disk images under\n"
    "bounds, each member's true type against its name, office documents, RTF and PDF) in a\n"
    "separate worker process under rlimits and a seccomp filter (as nobody when run as root),\n"
    "stopped after --timeout-secs (default 60). Prints the verdict (clean, spam, suspicious,\n"
    "threat; or failed, with why), the score, each reason with the member path it was found in,\n"
    "and the indicators (hashes, URLs, domains, sender addresses); --json prints the result as\n"
    "JSON. FILE's base name is the sample's name unless --name gives one; standard input (-)\n"
    "without --name is read as a mail. --org-domain names the organisation's mail domains\n"
    "(look-alike sender domains are a reason). Every blob and member is scanned with YARA:\n"
    "bulwark's rules for lures (rules/yara) and the *.yar / *.yara files of --yara-dir (a rule\n"
    "that does not compile stops the command, naming file and line; meta weight, default 50,\n"
    "and description make the reason). Nothing from a sample is ever run. Exit 0 for\n"
    "clean and spam, 3 for suspicious, 4 for threat, 1 when triage failed.\n"
    "--no-isolation walks the sample in this process instead (to debug a parser, e.g. under\n"
    "valgrind, which cannot follow the worker into its seccomp filter): never for samples you\n"
    "did not make yourself.\n";

static int
report_triage(struct cli_args *a)
{
	const char *name = NULL, *timeout_s = NULL, *orgs[16], *yara_dir = NULL;
	char *pos[1];
	size_t npos, norg = 0, len = 0, i;
	uint8_t *data = NULL;
	struct triage_opts o = { 0 };
	struct triage_sandbox sb = { 0 };
	struct triage *t = NULL;
	json_t *res = NULL, *it;
	struct bw_err err = { 0 };
	bool as_json = cli_flag(a, "--json"), in_process = cli_flag(a, "--no-isolation");
	const char *verdict;
	uint64_t v;
	int rc = CLI_FAIL;

	if (cli_opt(a, "--name", &name) || cli_opt_all(a, "--org-domain", orgs, 16, &norg) ||
	    cli_opt(a, "--timeout-secs", &timeout_s) || cli_opt(a, "--yara-dir", &yara_dir) || cli_positional(a, pos, 1, &npos) || npos != 1) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	if (timeout_s != NULL) {
		if (cli_parse_range("--timeout-secs", timeout_s, 1, 3600, &v))
			return CLI_USAGE;
		sb.timeout_ms = (unsigned)v * 1000;
	}
	if (name == NULL && strcmp(pos[0], "-") != 0)
		name = strrchr(pos[0], '/') ? strrchr(pos[0], '/') + 1 : pos[0];
	triage_limits_default(&o.lim);
	o.org_domains = orgs;
	o.norg = norg;
	o.yara_dir = yara_dir;
	if (cli_read_input(pos[0], SAMPLE_MAX, &data, &len, &err) != 0 || triage_new(&o, &t, &err) != 0 ||
	    (in_process ? triage_scan(t, name != NULL ? name : "", data, len, &res, &err)
			: triage_scan_isolated(t, &sb, name != NULL ? name : "", data, len, &res, &err)) != 0) {
		cli_fail("report triage", &err);
		goto out;
	}
	verdict = json_string_value(json_object_get(res, "verdict"));
	if (as_json) {
		cli_print_json(res);
	} else if (strcmp(verdict, "failed") == 0) {
		printf("verdict: failed: %s\n", json_string_value(json_object_get(res, "failed")));
	} else {
		char b[3][1100];
		printf("verdict: %s (score %lld)\n", verdict, (long long)json_integer_value(json_object_get(res, "score")));
		json_array_foreach(json_object_get(res, "reasons"), i, it)
			printf("  %+4lld  %-22s %s\n         in %s\n", (long long)json_integer_value(json_object_get(it, "weight")),
			       cli_text(it, "code", b[0], sizeof b[0]), cli_text(it, "text", b[1], sizeof b[1]),
			       cli_text(it, "where", b[2], sizeof b[2]));
		printf("indicators:\n");
		json_array_foreach(json_object_get(res, "indicators"), i, it)
			printf("  %-7s %s\n", cli_text(it, "type", b[0], sizeof b[0]), cli_text(it, "value", b[1], sizeof b[1]));
	}
	rc = strcmp(verdict, "threat") == 0 ? 4 : strcmp(verdict, "suspicious") == 0 ? 3
	     : strcmp(verdict, "failed") == 0 ? CLI_FAIL : CLI_OK;
out:
	json_decref(res);
	triage_free(t);
	free(data);
	return rc;
}

int
cmd_report(int argc, char **argv)
{
	struct cli_args a;

	if (argc > 0 && strcmp(argv[0], "triage") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_triage(&a);
	}
	if (argc > 0 && strcmp(argv[0], "--help") == 0) {
		fputs(report_usage, stdout);
		return CLI_OK;
	}
	fputs(report_usage, stderr);
	return CLI_USAGE;
}
