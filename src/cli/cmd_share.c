/* cli/cmd_share.c: `bulwark partner`, `bulwark taxii`, `bulwark feed`: sharing with partner organisations (API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "crypto/crypto.h"
#include "share/share.h"

static const char partner_usage[] =
    "usage: bulwark partner add NAME --org ORGANISATION\n"
    "       bulwark partner list [--json]\n"
    "       bulwark partner revoke NAME\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "A partner is another organisation that reads what is shared with it over TAXII 2.1: a\n"
    "principal of its own, never a staff account. add (admins, signed in) prints its token once:\n"
    "give it to the partner over a channel you trust; it reads only the collections granted to\n"
    "it (`bulwark taxii grant`). ORGANISATION is the name TLP:AMBER+STRICT shares are made for.\n"
    "revoke (admins) ends the token at once. list: admins, auditors, analysts.\n";

static const char taxii_usage[] =
    "usage: bulwark taxii collection add TITLE [--description TEXT]\n"
    "       bulwark taxii collection list [--json]\n"
    "       bulwark taxii grant COLLECTION PARTNER [--revoke]\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "Collections hold what is shared (`bulwark report share`) and are served over TAXII 2.1 at\n"
    "/taxii2/ to the partners granted them (read only). collection add and grant: admins;\n"
    "collection list (with the partners that read each): admins, analysts, auditors.\n";

static const char feed_usage[] =
    "usage: bulwark feed add NAME --url URL --token-file FILE [--partner-cacert PEM_FILE] [--interval-secs N]\n"
    "       bulwark feed list [--json]\n"
    "       bulwark feed pull NAME\n"
    "       bulwark feed read FILE|-\n"
    "       options: --server URL --token TOKEN --cacert PEM (or BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT)\n"
    "\n"
    "A feed is a partner's TAXII 2.1 collection that the server pulls every --interval-secs\n"
    "(default 3600, at least 10): URL is the collection's (https://HOST/taxii2/api/collections/ID/),\n"
    "FILE holds the token the partner gave (stored sealed under the server's KEK), PEM_FILE the\n"
    "path, on the server, of a CA certificate for the partner's TLS (default: the system's). The values of\n"
    "its indicators (SHA-256 hashes, URLs, domains, e-mail addresses) make a reported sample that\n"
    "carries one a threat. pull (admins) pulls now and prints what it gave. add: admins; list:\n"
    "admins, analysts, auditors. read (here, no server) prints what one page of a collection (a\n"
    "TAXII envelope, as a partner's server answers) gives, as the puller reads it: one line per\n"
    "value (type, value, indicator), then the counts; exit 1 when the page is refused.\n";

/* s escaped for a URL path segment (caller frees with free()); NULL when out of memory. */
static char *
curl_escape_path(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;

	if (e == NULL)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

static int
usage_of(const char *u, struct cli_args *a)
{
	(void)a;
	fputs(u, stderr);
	return CLI_USAGE;
}

/* GET path and print it: as JSON, or one line per element of key through line(). */
static int
list(struct cli_args *a, const char *u, const char *what, const char *path, const char *key,
     void (*line)(const json_t *))
{
	struct cli_api api;
	char *pos[1];
	size_t npos, i;
	json_t *reply = NULL, *it;
	long status;
	bool as_json;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a))
		return CLI_USAGE;
	as_json = cli_flag(a, "--json");
	if (cli_positional(a, pos, 0, &npos))
		return usage_of(u, a);
	if (cli_api_call(&api, "GET", path, NULL, &status, &reply, NULL) == 0 &&
	    cli_api_expect(what, status, 200, reply) == 0) {
		if (as_json)
			cli_print_json(reply);
		else
			json_array_foreach(json_object_get(reply, key), i, it)
				line(it);
		rc = CLI_OK;
	}
	json_decref(reply);
	return rc;
}

/* POST body to path, expecting want; *reply kept for the caller (decref) when reply is non-NULL. */
static int
post(struct cli_api *api, const char *what, const char *path, json_t *body, long want, json_t **reply)
{
	json_t *r = NULL;
	long status;
	int rc = CLI_FAIL;

	if (cli_api_call(api, "POST", path, body, &status, &r, NULL) == 0 && cli_api_expect(what, status, want, r) == 0)
		rc = CLI_OK;
	json_decref(body);
	if (reply != NULL && rc == CLI_OK)
		*reply = r;
	else
		json_decref(r);
	return rc;
}

static void
partner_line(const json_t *p)
{
	char b[3][200], t[BW_TIME_TEXT_MAX];

	printf("%s\t%s\t%s\n", cli_text(p, "name", b[0], sizeof b[0]), cli_text(p, "org", b[1], sizeof b[1]),
	       json_integer_value(json_object_get(p, "revoked_at")) ? (snprintf(b[2], sizeof b[2], "revoked %s",
										cli_time_text(p, "revoked_at", t)), b[2])
								    : "active");
}

int
cmd_partner(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1], path[200], b[200];
	const char *org = NULL;
	size_t npos;
	json_t *reply = NULL;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(partner_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return list(&a, partner_usage, "partner list", "/api/v1/partners", "partners", partner_line);
	if (cli_api_init(&api, &a))
		return CLI_USAGE;
	if (strcmp(argv[0], "add") == 0) {
		if (cli_opt(&a, "--org", &org) || cli_positional(&a, pos, 1, &npos) || npos != 1 || org == NULL)
			return usage_of(partner_usage, &a);
		rc = post(&api, "partner add", "/api/v1/partners", json_pack("{s:s, s:s}", "name", pos[0], "org", org), 201,
			  &reply);
		if (rc == CLI_OK) {
			printf("partner %s (%s) added; its TAXII token (shown once):\n%s\n", cli_text(reply, "name", b, 100),
			       cli_text(reply, "org", path, sizeof path), json_string_value(json_object_get(reply, "token")));
			json_decref(reply);
		}
		return rc;
	}
	if (strcmp(argv[0], "revoke") == 0) {
		char *e;
		if (cli_positional(&a, pos, 1, &npos) || npos != 1 || (e = curl_escape_path(pos[0])) == NULL)
			return usage_of(partner_usage, &a);
		snprintf(path, sizeof path, "/api/v1/partners/%.120s/revoke", e);
		free(e);
		rc = post(&api, "partner revoke", path, NULL, 200, NULL);
		if (rc == CLI_OK)
			printf("partner %s revoked\n", cli_safe_text(pos[0], b, sizeof b));
		return rc;
	}
	return usage_of(partner_usage, &a);
}

static void
collection_line(const json_t *c)
{
	char b[4][600];

	printf("%s\t%s\treaders: %s\n", cli_text(c, "id", b[0], 64), cli_text(c, "title", b[1], sizeof b[1]),
	       cli_list_text(c, "readers", b[2], sizeof b[2]));
}

int
cmd_taxii(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[2], path[200], b[2][200];
	const char *description = NULL;
	size_t npos;
	json_t *reply = NULL;
	bool revoke;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(taxii_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "collection") == 0 && argc >= 2 && strcmp(argv[1], "list") == 0) {
		cli_args_init(&a, argc - 2, argv + 2);
		return list(&a, taxii_usage, "taxii collection list", "/api/v1/taxii/collections", "collections",
			    collection_line);
	}
	if (strcmp(argv[0], "collection") == 0 && argc >= 2 && strcmp(argv[1], "add") == 0) {
		cli_args_init(&a, argc - 2, argv + 2);
		if (cli_api_init(&api, &a) || cli_opt(&a, "--description", &description) ||
		    cli_positional(&a, pos, 1, &npos) || npos != 1)
			return usage_of(taxii_usage, &a);
		rc = post(&api, "taxii collection add", "/api/v1/taxii/collections",
			  json_pack("{s:s, s:s}", "title", pos[0], "description", description ? description : ""), 201,
			  &reply);
		if (rc == CLI_OK) {
			printf("%s\n", cli_text(reply, "id", b[0], 64));
			json_decref(reply);
		}
		return rc;
	}
	if (strcmp(argv[0], "grant") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		revoke = cli_flag(&a, "--revoke");
		if (cli_api_init(&api, &a) || cli_positional(&a, pos, 2, &npos) || npos != 2 || strlen(pos[0]) != 36 ||
		    strspn(pos[0], "0123456789abcdef-") != 36)
			return usage_of(taxii_usage, &a);
		snprintf(path, sizeof path, "/api/v1/taxii/collections/%s/readers", pos[0]);
		rc = post(&api, "taxii grant", path, json_pack("{s:s, s:b}", "partner", pos[1], "can_read", !revoke), 200,
			  NULL);
		if (rc == CLI_OK)
			printf("partner %s %s collection %s\n", cli_safe_text(pos[1], b[0], sizeof b[0]),
			       revoke ? "may no longer read" : "may read", pos[0]);
		return rc;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	return usage_of(taxii_usage, &a);
}

static void
feed_line(const json_t *f)
{
	char b[4][1100], t[BW_TIME_TEXT_MAX];

	printf("%s\t%s\tevery %llds\tlast pull %s\t%lld values%s%s\n", cli_text(f, "name", b[0], 100),
	       cli_text(f, "url", b[1], sizeof b[1]), (long long)json_integer_value(json_object_get(f, "interval_secs")),
	       cli_time_text(f, "last_pull_at", t), (long long)json_integer_value(json_object_get(f, "values")),
	       json_string_value(json_object_get(f, "last_error"))[0] ? "\terror: " : "",
	       cli_text(f, "last_error", b[2], sizeof b[2]));
}

/* `feed read`: one envelope read offline, as the puller reads it. */
static int
feed_read(struct cli_args *a)
{
	struct share_envelope e;
	struct bw_err err = { 0 };
	uint8_t *page = NULL;
	char *pos[1], b[2][2100];
	size_t npos, len = 0, i;

	if (cli_positional(a, pos, 1, &npos) || npos != 1)
		return usage_of(feed_usage, a);
	if (cli_read_input(pos[0], (size_t)32 << 20, &page, &len, &err) != 0)
		return cli_fail("feed read", &err);
	if (share_taxii_envelope_read((const char *)page, len, bw_now_ms(), &e, &err) != 0) {
		free(page);
		return cli_fail("feed read", &err);
	}
	free(page);
	for (i = 0; i < e.nvalues; i++)
		printf("%s\t%s\t%s\n", e.values[i].type, cli_safe_text(e.values[i].value, b[0], sizeof b[0]),
		       cli_safe_text(e.values[i].stix_id, b[1], sizeof b[1]));
	printf("%zu indicators: %zu values, %zu skipped (patterns triage does not match), %zu revoked or expired%s\n",
	       e.indicators, e.nvalues, e.skipped, e.expired, e.more ? "; more pages follow" : "");
	share_envelope_clear(&e);
	return CLI_OK;
}

int
cmd_feed(int argc, char **argv)
{
	struct cli_args a;
	struct cli_api api;
	char *pos[1], path[200], b[3][600];
	const char *url = NULL, *token_file = NULL, *cacert = NULL, *interval = NULL;
	uint8_t *tok = NULL;
	size_t npos, tlen = 0;
	struct bw_err err = { 0 };
	uint64_t secs = 3600;
	json_t *reply = NULL;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		fputs(feed_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	cli_args_init(&a, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return list(&a, feed_usage, "feed list", "/api/v1/feeds", "feeds", feed_line);
	if (strcmp(argv[0], "read") == 0)
		return feed_read(&a);
	if (cli_api_init(&api, &a))
		return CLI_USAGE;
	if (strcmp(argv[0], "add") == 0) {
		if (cli_opt(&a, "--url", &url) || cli_opt(&a, "--token-file", &token_file) || cli_opt(&a, "--partner-cacert", &cacert) ||
		    cli_opt(&a, "--interval-secs", &interval) || cli_positional(&a, pos, 1, &npos) || npos != 1 ||
		    url == NULL || token_file == NULL || (interval != NULL && cli_parse_u64("--interval-secs", interval, &secs)))
			return usage_of(feed_usage, &a);
		if (bw_file_read_secret(token_file, 4096, &tok, &tlen, &err) != 0)
			return cli_fail("feed add: --token-file", &err);
		while (tlen > 0 && (tok[tlen - 1] == '\n' || tok[tlen - 1] == '\r'))
			tok[--tlen] = '\0';
		rc = post(&api, "feed add", "/api/v1/feeds",
			  json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", pos[0], "url", url, "token", (const char *)tok,
				    "cacert", cacert ? cacert : "", "interval_secs", (json_int_t)secs), 201, NULL);
		bw_secure_free(tok);
		if (rc == CLI_OK)
			printf("feed %s added: pulled every %llu s\n", cli_safe_text(pos[0], b[0], sizeof b[0]),
			       (unsigned long long)secs);
		return rc;
	}
	if (strcmp(argv[0], "pull") == 0) {
		char *e;
		if (cli_positional(&a, pos, 1, &npos) || npos != 1 || (e = curl_escape_path(pos[0])) == NULL)
			return usage_of(feed_usage, &a);
		snprintf(path, sizeof path, "/api/v1/feeds/%.120s/pull", e);
		free(e);
		rc = post(&api, "feed pull", path, NULL, 200, &reply);
		if (rc != CLI_OK)
			return rc;
		printf("feed %s: %lld indicators read, %lld values known to triage, %lld skipped\n",
		       cli_text(reply, "name", b[0], 100), (long long)json_integer_value(json_object_get(reply, "indicators")),
		       (long long)json_integer_value(json_object_get(reply, "values")),
		       (long long)json_integer_value(json_object_get(reply, "skipped")));
		if (json_string_value(json_object_get(reply, "error"))[0] != '\0') {
			printf("the pull stopped: %s\n", cli_text(reply, "error", b[1], sizeof b[1]));
			rc = CLI_FAIL;
		}
		json_decref(reply);
		return rc;
	}
	return usage_of(feed_usage, &a);
}
