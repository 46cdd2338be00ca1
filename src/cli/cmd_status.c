/* cli/cmd_status.c: `bulwark status`: the server's metrics (GET /metrics) at a glance on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char status_usage[] =
    "usage: bulwark status [--raw]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "The server's state at a glance (admins, auditors): the audit log, requests and sign-in\n"
    "failures, maintenance windows, alerts, patches, reports, the live detection. --raw prints\n"
    "GET /metrics as it comes (the Prometheus text format; docs/OPERATIONS.md).\n";

/* The sum of the samples of name whose labels contain every "k=\"v\"" of want (NULL: any). */
static double
sum(const char *text, const char *name, const char *want1, const char *want2)
{
	size_t nl = strlen(name);
	double total = 0;
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && (p[nl] == ' ' || p[nl] == '{')) {
			char line[1024];
			snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
			const char *v = strrchr(line, ' ');
			if (v != NULL && (want1 == NULL || strstr(line, want1) != NULL) && (want2 == NULL || strstr(line, want2) != NULL))
				total += strtod(v + 1, NULL);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return total;
}

int
cmd_status(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	struct bw_buf raw = { 0 };
	char *pos[1], *text;
	size_t npos;
	long st;
	bool as_raw;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(status_usage, stdout);
		return CLI_OK;
	}
	as_raw = cli_flag(&a, "--raw");
	if (cli_api_init(&api, &a) || cli_positional(&a, pos, 0, &npos)) {
		fputs(status_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_api_call(&api, "GET", "/metrics", NULL, &st, NULL, &raw) != 0)
		goto out;
	if (bw_buf_append_byte(&raw, 0) != 0) {
		cli_errorf("out of memory");
		goto out;
	}
	text = (char *)raw.data;
	if (st != 200) {
		json_t *reply = json_loads(text, 0, NULL);
		cli_api_expect("status", st, 200, reply);
		json_decref(reply);
		goto out;
	}
	if (as_raw) {
		fputs(text, stdout);
		rc = CLI_OK;
		goto out;
	}
	printf("audit log      %.0f entries; %.0f commits since the start, %.2f ms each on average",
	       sum(text, "bulwark_audit_log_entries", NULL, NULL), sum(text, "bulwark_audit_commit_seconds_count", NULL, NULL),
	       sum(text, "bulwark_audit_commit_seconds_count", NULL, NULL) > 0
		       ? 1000 * sum(text, "bulwark_audit_commit_seconds_sum", NULL, NULL) /
				 sum(text, "bulwark_audit_commit_seconds_count", NULL, NULL)
		       : 0);
	if (sum(text, "bulwark_audit_log_key_transitions", NULL, NULL) > 0)
		printf("; its key rotated %.0f time%s", sum(text, "bulwark_audit_log_key_transitions", NULL, NULL),
		       sum(text, "bulwark_audit_log_key_transitions", NULL, NULL) > 1 ? "s" : "");
	printf("\n");
	printf("requests       %.0f answered, %.0f refused (4xx), %.0f failed (5xx); sign-in failures %.0f, names locked %.0f\n",
	       sum(text, "bulwark_http_requests_total", NULL, NULL), sum(text, "bulwark_http_requests_total", "code=\"4", NULL),
	       sum(text, "bulwark_http_requests_total", "code=\"5", NULL),
	       sum(text, "bulwark_http_requests_total", "route=\"/api/v1/login\"", "code=\"401\""),
	       sum(text, "bulwark_login_names_locked", NULL, NULL));
	printf("access         %.0f windows in force, %.0f requests waiting\n", sum(text, "bulwark_access_windows_active", NULL, NULL),
	       sum(text, "bulwark_access_requests_pending", NULL, NULL));
	printf("alerts open    %.0f critical, %.0f high, %.0f medium, %.0f low\n",
	       sum(text, "bulwark_alerts_open", "level=\"critical\"", NULL), sum(text, "bulwark_alerts_open", "level=\"high\"", NULL),
	       sum(text, "bulwark_alerts_open", "level=\"medium\"", NULL), sum(text, "bulwark_alerts_open", "level=\"low\"", NULL));
	printf("patches        %.0f installed, %.0f failed, %.0f refused (hosts' latest results)\n",
	       sum(text, "bulwark_patch_host_results", "result=\"installed\"", NULL),
	       sum(text, "bulwark_patch_host_results", "result=\"failed\"", NULL),
	       sum(text, "bulwark_patch_host_results", "result=\"refused\"", NULL));
	printf("reports        %.0f waiting for triage\n", sum(text, "bulwark_reports_pending", NULL, NULL));
	if (strstr(text, "\nbulwark_hosts{") != NULL)
		printf("hosts          %.0f reporting, %.0f silent; %.0f events logged; agents: %.0f read, %.0f sent, "
		       "%.0f spooled, %.0f lost\n",
		       sum(text, "bulwark_hosts", "state=\"reporting\"", NULL), sum(text, "bulwark_hosts", "state=\"silent\"", NULL),
		       sum(text, "bulwark_host_events_logged", NULL, NULL),
		       sum(text, "bulwark_host_agent_events", "counter=\"read\"", NULL),
		       sum(text, "bulwark_host_agent_events", "counter=\"sent\"", NULL),
		       sum(text, "bulwark_host_agent_events", "counter=\"spooled\"", NULL),
		       sum(text, "bulwark_host_agent_events", "counter=\"lost\"", NULL));
	printf("detection      %.0f rules, %.0f events, %.0f matches, %.0f alerts, %.0f dropped, %.0f queued\n",
	       sum(text, "bulwark_detection_rules", NULL, NULL), sum(text, "bulwark_detection_events_total", NULL, NULL),
	       sum(text, "bulwark_detection_matches_total", NULL, NULL), sum(text, "bulwark_detection_alerts_total", NULL, NULL),
	       sum(text, "bulwark_detection_dropped_total", NULL, NULL), sum(text, "bulwark_detection_queue_events", NULL, NULL));
	rc = CLI_OK;
out:
	bw_buf_free(&raw);
	return rc;
}
