/* cli/cmd_report.c: `bulwark report`: reported mails and files (triage here; intake through the server later). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "triage/triage.h"

#define SAMPLE_MAX ((size_t)64 << 20)

static const char report_usage[] =
    "usage: bulwark report submit [--comment TEXT] [--name NAME] FILE|-\n"
    "       bulwark report mail [--authserv-id ID] [--token-file FILE]   (one message on stdin)\n"
    "       bulwark report mine [--json]\n"
    "       bulwark report list [--limit N] [--json]\n"
    "       bulwark report show ID [--json]\n"
    "       bulwark report update ID [--status in_review|resolved] [--verdict V] [--category C]\n"
    "                             [--assign USER] --reason TEXT\n"
    "       bulwark report comment ID --text TEXT\n"
    "       bulwark report download ID --out FILE.zip\n"
    "       bulwark report export ID [--tlp clear|green|amber|amber+strict|red] [--format stix|misp]\n"
    "       bulwark report share ID --collection COLLECTION [--tlp clear|green|amber|amber+strict]\n"
    "                            [--for-org ORGANISATION]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "       bulwark report triage [--name NAME] [--org-domain DOMAIN]... [--yara-dir DIR]\n"
    "                             [--timeout-secs S] [--json] [--no-isolation] FILE|-\n"
    "\n"
    "submit (anyone signed in) reports a suspicious mail (.eml) or file to the server, with an\n"
    "optional comment; prints the report's id at once. The server stores the sample sealed\n"
    "(encrypted) and triages it in an isolated worker; `mine` shows the outcome of your reports\n"
    "(status and verdict). FILE's base name is the sample's name unless --name gives one;\n"
    "standard input (-) without --name is a mail. list and show (analysts, admins, auditors):\n"
    "the inbox, and one report with its verdict, reasons, indicators and history. update and\n"
    "comment (analysts, admins): move a report (received -> in_review -> resolved), give your\n"
    "verdict (clean, spam, suspicious, threat: it overrides triage's) or category (phishing,\n"
    "malware, spam, scam, legitimate, test, other), assign it (\"\" : nobody), always with a\n"
    "reason; or comment. download (analysts, admins; audited) writes the sample as a ZIP\n"
    "encrypted with the password \"infected\" (AES-256) to a new file (mode 0600). export\n"
    "(analysts, admins; audited) prints a STIX 2.1 bundle of a resolved report's indicators (and\n"
    "its incident's) to share (or a MISP event with --format misp), marked TLP:AMBER unless --tlp\n"
    "says otherwise (docs/REPORTS.md). share (analysts, admins) puts that bundle into a TAXII\n"
    "collection for the partners that read it (TLP:AMBER unless --tlp says otherwise; never red;\n"
    "amber+strict only with --for-org, the one partner organisation it is served to).\n"
    "\n"
    "mail: for a report mailbox: a mail server pipes each message of the mailbox into it (a\n"
    "Postfix alias, docs/REPORTS.md). A mail forwarding one message as an attachment (report\n"
    "buttons do) reports that message, with the forwarding text as the comment; else the mail\n"
    "itself is reported. Its sender is matched to the user whose registered address it is\n"
    "(`bulwark user email`), and counts as verified only when the topmost\n"
    "Authentication-Results header (of --authserv-id, the receiving MTA's, when given) shows a\n"
    "DKIM, SPF or DMARC pass for the sender's domain. The token (--token-file, or --token /\n"
    "BULWARK_TOKEN) is a service account's with the analyst or admin role. Exit status for the\n"
    "MTA: 0 taken, 65 not a mail or refused, 75 the server cannot take it now (the MTA retries),\n"
    "77 the token was refused.\n"
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

/* A triage result's reasons (weight, code, text, where) and indicators; the indicators' heading even when none. */
static void
print_findings(const json_t *triage, bool heading_always)
{
	char b[3][1100];
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(triage, "reasons"), i, it)
		printf("  %+4lld  %-22s %s\n         in %s\n", (long long)json_integer_value(json_object_get(it, "weight")),
		       cli_text(it, "code", b[0], sizeof b[0]), cli_text(it, "text", b[1], sizeof b[1]),
		       cli_text(it, "where", b[2], sizeof b[2]));
	if (heading_always || json_array_size(json_object_get(triage, "indicators")) > 0)
		printf("indicators:\n");
	json_array_foreach(json_object_get(triage, "indicators"), i, it)
		printf("  %-7s %s\n", cli_text(it, "type", b[0], sizeof b[0]), cli_text(it, "value", b[1], sizeof b[1]));
}

static int
report_triage(struct cli_args *a)
{
	const char *name = NULL, *timeout_s = NULL, *orgs[16], *yara_dir = NULL;
	char *pos[1];
	size_t npos, norg = 0, len = 0;
	uint8_t *data = NULL;
	struct triage_opts o = { 0 };
	struct triage_sandbox sb = { 0 };
	struct triage *t = NULL;
	json_t *res = NULL;
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
		printf("verdict: %s (score %lld)\n", verdict, (long long)json_integer_value(json_object_get(res, "score")));
		print_findings(res, true);
	}
	rc = strcmp(verdict, "threat") == 0 ? 4 : strcmp(verdict, "suspicious") == 0 ? 3
	     : strcmp(verdict, "failed") == 0 ? CLI_FAIL : CLI_OK;
out:
	json_decref(res);
	triage_free(t);
	free(data);
	return rc;
}

static int
report_submit(struct cli_args *a)
{
	struct cli_api api;
	const char *comment = NULL, *name = NULL;
	char *pos[1], *en = NULL, *ec = NULL;
	size_t npos;
	struct bw_buf data = { 0 }, url = { 0 };
	struct bw_err err = { 0 };
	json_t *reply = NULL;
	long status;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--comment", &comment) || cli_opt(a, "--name", &name) ||
	    cli_positional(a, pos, 1, &npos) || npos != 1) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	if (name == NULL && strcmp(pos[0], "-") != 0)
		name = strrchr(pos[0], '/') ? strrchr(pos[0], '/') + 1 : pos[0];
	if (cli_read_input(pos[0], SAMPLE_MAX, &data.data, &data.len, &err) != 0) {
		cli_fail("report submit", &err);
		return CLI_FAIL;
	}
	if ((en = curl_easy_escape(NULL, name ? name : "", 0)) == NULL ||
	    (ec = curl_easy_escape(NULL, comment ? comment : "", 0)) == NULL ||
	    bw_buf_printf(&url, "/api/v1/reports?name=%s&comment=%s", en, ec) != 0) {
		cli_errorf("out of memory");
		goto out;
	}
	if (cli_api_post_bytes(&api, (const char *)url.data, &data, &status, &reply) != 0 ||
	    cli_api_expect("report submit", status, 201, reply) != 0)
		goto out;
	printf("report %lld received: triage follows (bulwark report mine)\n",
	       (long long)json_integer_value(json_object_get(reply, "id")));
	rc = CLI_OK;
out:
	curl_free(en);
	curl_free(ec);
	json_decref(reply);
	bw_buf_free(&data);
	bw_buf_free(&url);
	return rc;
}

#define EX_DATAERR 65
#define EX_TEMPFAIL 75
#define EX_NOPERM 77

static int
report_mail(struct cli_args *a)
{
	struct cli_api api;
	const char *authserv = NULL, *token_file = NULL;
	char *pos[1], *ef = NULL, *ec = NULL;
	uint8_t *msg = NULL, *tok = NULL;
	size_t npos, len = 0, tlen = 0;
	struct triage_intake in = { 0 };
	struct bw_buf url = { 0 }, body = { 0 };
	struct bw_err err = { 0 };
	json_t *reply = NULL;
	long status = 0;
	int rc = EX_TEMPFAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--authserv-id", &authserv) || cli_opt(a, "--token-file", &token_file) ||
	    cli_positional(a, pos, 0, &npos)) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	if (token_file != NULL) {
		if (bw_file_read_secret(token_file, 4096, &tok, &tlen, &err) != 0) {
			cli_fail("report mail: --token-file", &err);
			return EX_TEMPFAIL;
		}
		while (tlen > 0 && (tok[tlen - 1] == '\n' || tok[tlen - 1] == '\r'))
			tok[--tlen] = '\0';
		api.token = (const char *)tok;
	}
	if (cli_read_input("-", SAMPLE_MAX, &msg, &len, &err) != 0) {
		cli_fail("report mail", &err);
		rc = EX_DATAERR;
		goto out;
	}
	if (triage_mail_intake(msg, len, authserv, &in, &err) != 0 || in.from[0] == '\0') {
		cli_errorf("report mail: %s", err.msg[0] ? err.msg : "the mail has no single sender address");
		rc = EX_DATAERR;
		goto out;
	}
	if ((ef = curl_easy_escape(NULL, in.from, 0)) == NULL || (ec = curl_easy_escape(NULL, in.comment, 0)) == NULL ||
	    bw_buf_printf(&url, "/api/v1/reports/mail?from=%s&verified=%d&comment=%s", ef, in.verified ? 1 : 0, ec) != 0) {
		cli_errorf("out of memory");
		goto out;
	}
	body.data = in.original;
	body.len = in.original_len;
	if (cli_api_post_bytes(&api, (const char *)url.data, &body, &status, &reply) != 0)
		goto out;	/* not reached: the MTA keeps the message and retries */
	if (status == 201) {
		char who[100];
		printf("report %lld received from %s (%s%s; %s)\n", (long long)json_integer_value(json_object_get(reply, "id")),
		       in.from, cli_text(reply, "reporter", who, sizeof who)[0] ? "user " : "no registered user",
		       who, in.verified ? in.auth : "reporter unverified");
		rc = CLI_OK;
	} else {
		cli_api_expect("report mail", status, 201, reply);
		rc = status == 401 || status == 403 ? EX_NOPERM : status >= 500 || status == 429 ? EX_TEMPFAIL : EX_DATAERR;
	}
out:
	curl_free(ef);
	curl_free(ec);
	json_decref(reply);
	triage_intake_clear(&in);
	bw_buf_free(&url);
	free(msg);
	bw_secure_free(tok);
	return rc;
}

static void
print_report_row(const json_t *r, bool with_reporter)
{
	char b[3][300], t[BW_TIME_TEXT_MAX];

	bw_time_format_ms(json_integer_value(json_object_get(r, "created_at")) * 1000, t);
	printf("%-6lld %-24s %-10s %-11s %3lld  %-24s %s%s%s\n", (long long)json_integer_value(json_object_get(r, "id")), t,
	       cli_text(r, "status", b[0], sizeof b[0]), cli_text(r, "verdict", b[1], sizeof b[1]),
	       (long long)json_integer_value(json_object_get(r, "score")),
	       with_reporter ? cli_text(r, "reporter", b[2], sizeof b[2]) : "",
	       json_string_value(json_object_get(r, "file_name"))[0] ? json_string_value(json_object_get(r, "file_name"))
								     : "(mail)",
	       with_reporter && !json_is_true(json_object_get(r, "reporter_verified")) ? " [reporter unverified]" : "", "");
}

/* mine | list: a table of reports. */
static int
report_rows(struct cli_args *a, bool mine)
{
	struct cli_api api;
	const char *limit = NULL;
	char *pos[1], path[80];
	size_t npos, i;
	json_t *reply = NULL, *r;
	long status;
	bool as_json;
	uint64_t v;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || (!mine && cli_opt(a, "--limit", &limit)))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos)) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	if (limit != NULL && cli_parse_range("--limit", limit, 1, 500, &v))
		return CLI_USAGE;
	snprintf(path, sizeof path, "%s", mine ? "/api/v1/reports/mine" : "/api/v1/reports");
	if (limit != NULL)
		snprintf(path, sizeof path, "/api/v1/reports?limit=%llu", (unsigned long long)v);
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect(mine ? "report mine" : "report list", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		cli_print_json(reply);
	} else {
		printf("%-6s %-24s %-10s %-11s %5s %-24s %s\n", "ID", "REPORTED", "STATUS", "VERDICT", "SCORE",
		       mine ? "" : "REPORTER", "FILE");
		json_array_foreach(json_object_get(reply, "reports"), i, r)
			print_report_row(r, !mine);
	}
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

static int
report_show(struct cli_args *a)
{
	struct cli_api api;
	char *pos[1], path[80], b[4][1100];
	size_t npos, i;
	json_t *reply = NULL, *it, *tri;
	long status;
	bool as_json;
	uint64_t id;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 1, &npos) || npos != 1 || bw_parse_u64(pos[0], strlen(pos[0]), &id) != 0) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/reports/%llu", (unsigned long long)id);
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("report show", status, 200, reply) != 0)
		goto out;
	if (as_json) {
		cli_print_json(reply);
		rc = CLI_OK;
		goto out;
	}
	printf("report %llu: %s, verdict %s (score %lld)\n", (unsigned long long)id, cli_text(reply, "status", b[0], 100),
	       cli_text(reply, "verdict", b[1], 100), (long long)json_integer_value(json_object_get(reply, "score")));
	printf("reported by %s%s via %s; file %s, %lld bytes, sha256 %s\n", cli_text(reply, "reporter", b[0], 100),
	       json_is_true(json_object_get(reply, "reporter_verified")) ? "" : " (unverified)",
	       cli_text(reply, "channel", b[1], 100),
	       json_string_value(json_object_get(reply, "file_name"))[0] ? cli_text(reply, "file_name", b[2], sizeof b[2])
									  : "(mail)",
	       (long long)json_integer_value(json_object_get(reply, "size")), cli_text(reply, "sha256", b[3], 100));
	if (json_string_value(json_object_get(reply, "comment"))[0])
		printf("comment: %s\n", cli_text(reply, "comment", b[0], sizeof b[0]));
	if (json_string_value(json_object_get(reply, "analyst_verdict"))[0])
		printf("analyst's verdict %s (triage: %s)\n", cli_text(reply, "analyst_verdict", b[0], 100),
		       cli_text(reply, "triage_verdict", b[1], 100));
	if (json_string_value(json_object_get(reply, "category"))[0] || json_string_value(json_object_get(reply, "assignee"))[0])
		printf("category %s, assigned to %s\n", cli_text(reply, "category", b[0], 100)[0] ? b[0] : "-",
		       cli_text(reply, "assignee", b[1], 100)[0] ? b[1] : "nobody");
	if (json_integer_value(json_object_get(reply, "incident")) != 0) {
		json_t *idv;
		size_t k;
		printf("incident %lld: reports", (long long)json_integer_value(json_object_get(reply, "incident")));
		json_array_foreach(json_object_get(reply, "incident_reports"), k, idv)
			printf(" %lld", (long long)json_integer_value(idv));
		printf(" (the same attachment, sender or link)\n");
	}
	tri = json_object_get(reply, "triage");
	if (json_is_object(tri) && json_string_value(json_object_get(tri, "failed")) != NULL)
		printf("triage failed: %s\n", cli_text(tri, "failed", b[0], sizeof b[0]));
	print_findings(tri, false);
	if (json_array_size(json_object_get(reply, "history")) > 0)
		printf("history:\n");
	json_array_foreach(json_object_get(reply, "history"), i, it) {
		char t[BW_TIME_TEXT_MAX];
		bw_time_format_ms(json_integer_value(json_object_get(it, "at")) * 1000, t);
		printf("  %s %s %s%s%s: %s\n", t, cli_text(it, "actor", b[0], 100), cli_text(it, "kind", b[1], 100),
		       json_string_value(json_object_get(it, "value"))[0] ? " " : "", cli_text(it, "value", b[2], 100),
		       cli_text(it, "text", b[3], sizeof b[3]));
	}
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

static int
report_update(struct cli_args *a, bool comment)
{
	struct cli_api api;
	const char *status = NULL, *verdict = NULL, *category = NULL, *assign = NULL, *reason = NULL, *text = NULL;
	char *pos[1], path[96];
	size_t npos;
	json_t *body, *reply = NULL;
	long status_code;
	uint64_t id;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--status", &status) || cli_opt(a, "--verdict", &verdict) ||
	    cli_opt(a, "--category", &category) || cli_opt(a, "--assign", &assign) || cli_opt(a, "--reason", &reason) ||
	    cli_opt(a, "--text", &text) || cli_positional(a, pos, 1, &npos) || npos != 1 ||
	    bw_parse_u64(pos[0], strlen(pos[0]), &id) != 0 || (comment ? text == NULL : reason == NULL)) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/reports/%llu/%s", (unsigned long long)id, comment ? "comments" : "update");
	if (comment) {
		body = json_pack("{s:s}", "text", text);
	} else {
		body = json_pack("{s:s}", "reason", reason);
		if (status)
			json_object_set_new(body, "status", json_string(status));
		if (verdict)
			json_object_set_new(body, "verdict", json_string(verdict));
		if (category)
			json_object_set_new(body, "category", json_string(category));
		if (assign)
			json_object_set_new(body, "assignee", json_string(assign));
	}
	if (body == NULL || cli_api_call(&api, "POST", path, body, &status_code, &reply, NULL) != 0 ||
	    cli_api_expect(comment ? "report comment" : "report update", status_code, comment ? 201 : 200, reply) != 0)
		goto out;
	if (comment) {
		printf("report %llu: comment added\n", (unsigned long long)id);
	} else {
		char b[3][100];
		printf("report %llu: %s, verdict %s%s%s\n", (unsigned long long)id, cli_text(reply, "status", b[0], 100),
		       cli_text(reply, "verdict", b[1], 100),
		       json_string_value(json_object_get(reply, "assignee"))[0] ? ", assigned to " : "",
		       cli_text(reply, "assignee", b[2], 100));
	}
	rc = CLI_OK;
out:
	json_decref(body);
	json_decref(reply);
	return rc;
}

static int
report_download(struct cli_args *a)
{
	struct cli_api api;
	const char *out = NULL;
	char *pos[1], path[96];
	size_t npos;
	struct bw_buf raw = { 0 };
	struct bw_err err = { 0 };
	long status;
	uint64_t id;
	int fd, rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--out", &out) || cli_positional(a, pos, 1, &npos) || npos != 1 ||
	    out == NULL || bw_parse_u64(pos[0], strlen(pos[0]), &id) != 0) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/reports/%llu/sample", (unsigned long long)id);
	if (cli_api_call(&api, "GET", path, NULL, &status, NULL, &raw) != 0)
		goto done;
	if (status != 200) {
		json_t *reply = json_loadb((const char *)raw.data, raw.len, 0, NULL);
		cli_api_expect("report download", status, 200, reply);
		json_decref(reply);
		goto done;
	}
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    bw_write_all(fd, raw.data, raw.len) != 0 || fsync(fd) != 0) {
		bw_err_set(&err, BW_EIO, "%s: %s", out, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(out);
		}
		cli_fail("report download", &err);
		goto done;
	}
	close(fd);
	printf("report %llu: sample written to %s (zip, password \"infected\")\n", (unsigned long long)id, out);
	rc = CLI_OK;
done:
	bw_buf_free(&raw);
	return rc;
}

static int
report_export(struct cli_args *a)
{
	struct cli_api api;
	const char *tlp = NULL, *format = NULL;
	char *pos[1], path[120];
	size_t npos;
	struct bw_buf raw = { 0 };
	long status;
	uint64_t id;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--tlp", &tlp) || cli_opt(a, "--format", &format) ||
	    cli_positional(a, pos, 1, &npos) || npos != 1 || bw_parse_u64(pos[0], strlen(pos[0]), &id) != 0 ||
	    (tlp != NULL && strlen(tlp) > 16) || (format != NULL && strcmp(format, "stix") && strcmp(format, "misp"))) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/api/v1/reports/%llu/%s?tlp=%s", (unsigned long long)id, format ? format : "stix",
		 tlp == NULL ? "amber" : strcmp(tlp, "amber+strict") == 0 ? "amber%2Bstrict" : tlp);
	if (cli_api_call(&api, "GET", path, NULL, &status, NULL, &raw) != 0)
		goto done;
	if (status != 200) {
		json_t *reply = json_loadb((const char *)raw.data, raw.len, 0, NULL);
		cli_api_expect("report export", status, 200, reply);
		json_decref(reply);
		goto done;
	}
	fwrite(raw.data, 1, raw.len, stdout);
	fputc('\n', stdout);
	rc = CLI_OK;
done:
	bw_buf_free(&raw);
	return rc;
}

static int
report_share(struct cli_args *a)
{
	struct cli_api api;
	const char *tlp = NULL, *collection = NULL, *for_org = NULL;
	char *pos[1], path[80], b[64];
	size_t npos;
	json_t *body, *reply = NULL;
	long status;
	uint64_t id;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--tlp", &tlp) || cli_opt(a, "--collection", &collection) ||
	    cli_opt(a, "--for-org", &for_org) || cli_positional(a, pos, 1, &npos) || npos != 1 || collection == NULL ||
	    bw_parse_u64(pos[0], strlen(pos[0]), &id) != 0) {
		fputs(report_usage, stderr);
		return CLI_USAGE;
	}
	if (tlp == NULL)
		tlp = "amber";
	snprintf(path, sizeof path, "/api/v1/reports/%llu/share", (unsigned long long)id);
	body = json_pack("{s:s, s:s}", "collection", collection, "tlp", tlp);
	if (for_org != NULL)
		json_object_set_new(body, "for_org", json_string(for_org));
	if (cli_api_call(&api, "POST", path, body, &status, &reply, NULL) == 0 &&
	    cli_api_expect("report share", status, 200, reply) == 0) {
		printf("report %llu shared in collection %s as TLP:%s: %lld objects added\n", (unsigned long long)id,
		       cli_text(reply, "collection", b, sizeof b), tlp,
		       (long long)json_integer_value(json_object_get(reply, "added")));
		rc = CLI_OK;
	}
	json_decref(body);
	json_decref(reply);
	return rc;
}

/*
 * `bulwark triage-zygote`: the program the server starts when its triage
 * zygote died (triage/zygote.c): the engine loaded from these options, the
 * zygote's loop on fd 3. Not for people: the server runs it.
 */
int
cmd_triage_zygote(int argc, char **argv)
{
	struct cli_args a;
	const char *orgs[16], *yara_dir = NULL, *timeout = NULL;
	struct triage_opts o = { 0 };
	struct triage_sandbox sb = { 0 };
	struct triage *t = NULL;
	struct bw_err err = { 0 };
	char *pos[1];
	size_t norg = 0, npos;
	uint64_t ms = 0;

	cli_args_init(&a, argc, argv);
	if (cli_opt_all(&a, "--org-domain", orgs, 16, &norg) || cli_opt(&a, "--yara-dir", &yara_dir) ||
	    cli_opt(&a, "--timeout-ms", &timeout) || cli_positional(&a, pos, 0, &npos) ||
	    (timeout != NULL && cli_parse_range("--timeout-ms", timeout, 0, 3600000, &ms)))
		return CLI_USAGE;
	triage_limits_default(&o.lim);
	o.org_domains = orgs;
	o.norg = norg;
	o.yara_dir = yara_dir;
	sb.timeout_ms = (unsigned)ms;
	if (triage_new(&o, &t, &err) != 0)
		return cli_fail("triage-zygote", &err);
	triage_zygote_main(t, &sb, 3);
}

int
cmd_report(int argc, char **argv)
{
	struct cli_args a;

	if (argc > 0 && strcmp(argv[0], "triage") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_triage(&a);
	}
	if (argc > 0 && strcmp(argv[0], "mail") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_mail(&a);
	}
	if (argc > 0 && strcmp(argv[0], "submit") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_submit(&a);
	}
	if (argc > 0 && (strcmp(argv[0], "mine") == 0 || strcmp(argv[0], "list") == 0)) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_rows(&a, strcmp(argv[0], "mine") == 0);
	}
	if (argc > 0 && (strcmp(argv[0], "update") == 0 || strcmp(argv[0], "comment") == 0)) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_update(&a, strcmp(argv[0], "comment") == 0);
	}
	if (argc > 0 && strcmp(argv[0], "share") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_share(&a);
	}
	if (argc > 0 && strcmp(argv[0], "export") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_export(&a);
	}
	if (argc > 0 && strcmp(argv[0], "download") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_download(&a);
	}
	if (argc > 0 && strcmp(argv[0], "show") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return report_show(&a);
	}
	if (argc > 0 && strcmp(argv[0], "--help") == 0) {
		fputs(report_usage, stdout);
		return CLI_OK;
	}
	fputs(report_usage, stderr);
	return CLI_USAGE;
}
