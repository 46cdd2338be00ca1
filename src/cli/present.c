/*
 * cli/present.c: what the API commands print for people: tables and
 * key/value blocks (--json gives the server's JSON instead). Everything
 * from the server is made safe for a terminal first: it holds whatever
 * clients sent, so control characters (C0, DEL, C1) become '?' and cannot
 * move the cursor, clear the screen or fake lines.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* s into buf (cap bytes) with control characters as '?'; returns the length written. */
static size_t
safe_copy(const char *s, char *buf, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
			buf[n++] = '?';
			i++;
		} else {
			buf[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	buf[n] = '\0';
	return n;
}

const char *
cli_safe_text(const char *s, char *buf, size_t cap)
{
	safe_copy(s, buf, cap);
	return buf;
}

const char *
cli_text(const json_t *o, const char *key, char *buf, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		return "-";
	safe_copy(s, buf, cap);
	return buf;
}

const char *
cli_list_text(const json_t *o, const char *key, char *buf, size_t cap)
{
	const json_t *v;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(o, key), i, v) {
		if (!json_is_string(v) || n + 2 >= cap)
			continue;
		if (n > 0)
			buf[n++] = ',';
		n += safe_copy(json_string_value(v), buf + n, cap - n);
	}
	return n ? buf : "-";
}

const char *
cli_time_secs(int64_t t, char buf[BW_TIME_TEXT_MAX])
{
	if (t <= 0)
		return "-";
	bw_time_format_ms(t * 1000, buf);
	buf[19] = buf[10] == 'T' ? 'Z' : buf[19];	/* to the second: 2026-11-28T01:02:03Z */
	buf[20] = '\0';
	return buf;
}

const char *
cli_time_text(const json_t *o, const char *key, char buf[BW_TIME_TEXT_MAX])
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? cli_time_secs((int64_t)json_integer_value(v), buf) : "-";
}

/* ---- access requests ---- */

static const char req_header[] = "ID     STATE     REQUESTER        HOSTS                ACCOUNTS     "
				 "FROM                 UNTIL                APPROVALS\n";

static void
request_row(const json_t *r)
{
	char b[5][256], t1[BW_TIME_TEXT_MAX], t2[BW_TIME_TEXT_MAX];

	printf("%-6lld %-9s %-16.16s %-20.20s %-12.12s %-20s %-20s %lld/%lld\n",
	       (long long)json_integer_value(json_object_get(r, "id")), cli_text(r, "state", b[0], sizeof b[0]),
	       cli_text(r, "requester", b[1], sizeof b[1]), cli_list_text(r, "hosts", b[2], sizeof b[2]),
	       cli_list_text(r, "accounts", b[3], sizeof b[3]), cli_time_text(r, "valid_after", t1),
	       cli_time_text(r, "valid_before", t2), (long long)json_integer_value(json_object_get(r, "approvals")),
	       (long long)json_integer_value(json_object_get(r, "approvals_needed")));
}

void
cli_print_requests(const json_t *arr)
{
	const json_t *r;
	size_t i;

	fputs(req_header, stdout);
	json_array_foreach(arr, i, r)
		request_row(r);
	if (json_array_size(arr) == 0)
		printf("(none)\n");
}

void
cli_print_request(const json_t *r)
{
	char b[1100], t[BW_TIME_TEXT_MAX];

	printf("request      %lld\n", (long long)json_integer_value(json_object_get(r, "id")));
	printf("state        %s\n", cli_text(r, "state", b, sizeof b));
	printf("requester    %s\n", cli_text(r, "requester", b, sizeof b));
	printf("hosts        %s\n", cli_list_text(r, "hosts", b, sizeof b));
	printf("accounts     %s\n", cli_list_text(r, "accounts", b, sizeof b));
	printf("principals   %s\n", cli_list_text(r, "principals", b, sizeof b));
	printf("from         %s\n", cli_time_text(r, "valid_after", t));
	printf("until        %s\n", cli_time_text(r, "valid_before", t));
	printf("reason       %s\n", cli_text(r, "reason", b, sizeof b));
	if (json_object_get(r, "ticket") != NULL)
		printf("ticket       %s\n", cli_text(r, "ticket", b, sizeof b));
	printf("key          %s\n", cli_text(r, "key_fingerprint", b, sizeof b));
	printf("permits      %s\n", cli_list_text(r, "permits", b, sizeof b));
	if (json_object_get(r, "source_address") != NULL)
		printf("from address %s\n", cli_text(r, "source_address", b, sizeof b));
	if (json_object_get(r, "force_command") != NULL)
		printf("command      %s\n", cli_text(r, "force_command", b, sizeof b));
	printf("approvals    %lld of %lld (%s)\n", (long long)json_integer_value(json_object_get(r, "approvals")),
	       (long long)json_integer_value(json_object_get(r, "approvals_needed")),
	       cli_list_text(r, "approvers", b, sizeof b));
	printf("downloaded   %s\n", json_is_true(json_object_get(r, "downloaded")) ? "yes" : "no");
}

void
cli_print_review(const json_t *rv)
{
	static const char *const sections[][2] = {
		{ "active_windows", "active windows" }, { "future_windows", "future windows" },
		{ "approved_unused", "approved, certificate not downloaded" }, { "pending", "pending requests" },
	};
	char b[2048], t[BW_TIME_TEXT_MAX];
	const json_t *u;
	size_t i, k;

	printf("permission review of %s\n", cli_time_text(rv, "generated_at", t));
	for (k = 0; k < sizeof sections / sizeof sections[0]; k++) {
		printf("\n%s:\n", sections[k][1]);
		cli_print_requests(json_object_get(rv, sections[k][0]));
	}
	printf("\napprovers: %s\n", cli_list_text(rv, "approvers", b, sizeof b));
	printf("\nstanding privileged users (admin, operator):\n");
	json_array_foreach(json_object_get(rv, "standing_privileged_users"), i, u) {
		char name[128];
		printf("  %-24s %s\n", cli_text(u, "username", name, sizeof name), cli_list_text(u, "roles", b, sizeof b));
	}
}

/* ---- hosts ---- */

void
cli_print_hosts(const json_t *arr)
{
	char b[4][256], t[BW_TIME_TEXT_MAX], t2[BW_TIME_TEXT_MAX];
	const json_t *h;
	size_t i;

	printf("%-20s %-24s %-12s %-24s %s\n", "NAME", "ADDRESS", "GROUP", "ACCOUNTS", "AGENT");
	json_array_foreach(arr, i, h) {
		const json_t *ag = json_object_get(h, "agent");
		char agent[128];
		if (ag == NULL)
			snprintf(agent, sizeof agent, "-");
		else if (json_is_null(ag))
			snprintf(agent, sizeof agent, "not enrolled");
		else
			snprintf(agent, sizeof agent, "enrolled %s, seen %s", cli_time_text(ag, "enrolled_at", t),
				 cli_time_text(ag, "last_seen", t2));
		printf("%-20s %-24s %-12s %-24s %s\n", cli_text(h, "name", b[0], sizeof b[0]),
		       cli_text(h, "address", b[1], sizeof b[1]), cli_text(h, "group", b[2], sizeof b[2]),
		       cli_list_text(h, "accounts", b[3], sizeof b[3]), agent);
	}
}

void
cli_print_enrol_code(const char *what, const json_t *reply)
{
	char code[128], t[BW_TIME_TEXT_MAX];

	printf("%s; one-time enrolment code for its agent (hand it over out of band; it works once, until %s):\n"
	       "  %s\n", what, cli_time_text(reply, "code_expires", t), cli_text(reply, "enrolment_code", code, sizeof code));
}
