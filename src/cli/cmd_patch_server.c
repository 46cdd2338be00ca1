/*
 * cli/cmd_patch_server.c: the patch commands that talk to the server:
 * `patch keys` (the online keys and the log key, for root init and hosts)
 * and `patch publish` (upload target files, then the signed metadata).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patch/patch.h"

static const char keys_usage[] =
    "usage: bulwark patch keys --out DIR [--rotate | --next] [--server URL] [--token T] [--cacert PEM]\n"
    "  writes DIR/snapshot.pub and DIR/timestamp.pub (the server's online TUF keys, for\n"
    "  'patch root init --snapshot-key/--timestamp-key') and DIR/log.vkey (for hosts).\n"
    "  --rotate (admin) stages new online keys and writes those; --next writes the staged ones.\n"
    "  Staged keys sign once a new root naming them (version N+1, signed by the old and new\n"
    "  root thresholds) is published with 'patch publish --root'; the keys in use sign until\n"
    "  then (docs/OPERATIONS.md).\n";

static const char publish_usage[] =
    "usage: bulwark patch publish --targets TARGETS.json [--root ROOT.json] [FILE...]\n"
    "                             [--server URL] [--token T] [--cacert PEM]\n"
    "  uploads each FILE that a target lists (by sha256), then the offline-signed targets\n"
    "  (and a new root, when rotating or publishing the first time). The server verifies\n"
    "  the signatures, records every new target in the audit log, then signs snapshot and\n"
    "  timestamp with its online keys.\n";

static const char status_usage[] =
    "usage: bulwark patch status [--json] [--server URL] [--token T] [--cacert PEM]\n"
    "  published targets (with their audit-log index) and each host's latest report.\n";

int
cli_patch_status(struct cli_args *a)
{
	struct cli_api api;
	char *pos[1];
	size_t npos, i;
	long status;
	int as_json;
	json_t *reply = NULL, *e;

	if (cli_api_init(&api, a) || (as_json = cli_flag(a, "--json")) < 0 || cli_positional(a, pos, 0, &npos)) {
		fputs(status_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_api_call(&api, "GET", "/api/v1/patch/status", NULL, &status, &reply, NULL) != 0 ||
	    cli_api_expect("patch status", status, 200, reply) != 0) {
		json_decref(reply);
		return CLI_FAIL;
	}
	if (as_json) {
		cli_print_json(reply);
		json_decref(reply);
		return CLI_OK;
	}
	printf("%-40s %-12s %-10s %s\n", "TARGET", "VERSION", "LOG INDEX", "SHA-256");
	json_array_foreach(json_object_get(reply, "targets"), i, e)
		printf("%-40s %-12s %-10lld %s\n", json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "version")),
		       (long long)json_integer_value(json_object_get(e, "log_index")),
		       json_string_value(json_object_get(e, "sha256")));
	printf("\n%-20s %-40s %-12s %-10s %s\n", "HOST", "TARGET", "VERSION", "RESULT", "REASON");
	json_array_foreach(json_object_get(reply, "hosts"), i, e) {
		const char *v = json_string_value(json_object_get(e, "version")), *why = json_string_value(json_object_get(e, "reason"));
		printf("%-20s %-40s %-12s %-10s %.120s\n", json_string_value(json_object_get(e, "host")),
		       json_string_value(json_object_get(e, "target")), v ? v : "-",
		       json_string_value(json_object_get(e, "result")), why ? why : "");
	}
	json_decref(reply);
	return CLI_OK;
}

int
cli_patch_keys(struct cli_args *a)
{
	struct cli_api api;
	const char *dir = NULL;
	char *pos[1], path[4096];
	size_t npos, i;
	long status;
	json_t *reply = NULL;
	struct bw_err err = { 0 };
	const char *roles[] = { "snapshot", "timestamp" };
	int rc = CLI_FAIL;

	bool rotate = cli_flag(a, "--rotate"), next = cli_flag(a, "--next") || rotate;
	json_t *keys;

	if (cli_api_init(&api, a) || cli_opt(a, "--out", &dir) || cli_positional(a, pos, 0, &npos) || dir == NULL) {
		fputs(keys_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_api_call(&api, rotate ? "POST" : "GET", rotate ? "/api/v1/patch/keys/rotate" : "/api/v1/patch/keys", NULL,
			 &status, &reply, NULL) != 0 ||
	    cli_api_expect(rotate ? "patch keys --rotate" : "patch keys", status, 200, reply) != 0)
		goto out;
	keys = next ? json_object_get(reply, "next") : reply;
	if (keys == NULL) {
		cli_errorf("patch keys --next: no online keys are staged (bulwark patch keys --rotate stages them)");
		goto out;
	}
	if (bw_mkdir_p(dir, 0755, &err) != 0) {
		cli_fail("patch keys", &err);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		json_t *k = json_deep_copy(json_object_get(json_object_get(keys, roles[i]), "key"));
		uint8_t pk[32];
		char id[65], *text;
		if (k == NULL || patch_key_parse(k, pk, &err) != 0 || patch_key_id(k, id, &err) != 0) {
			json_decref(k);
			cli_errorf("patch keys: the server sent a bad %s key", roles[i]);
			goto out;
		}
		json_object_set_new(k, "keyid", json_string(id));
		text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(k);
		snprintf(path, sizeof path, "%s/%s.pub", dir, roles[i]);
		if (text == NULL || bw_file_write_atomic(path, text, strlen(text), 0644, &err) != 0) {
			free(text);
			cli_fail("patch keys", &err);
			goto out;
		}
		printf("%s%s key %s -> %s\n", next ? "staged " : "", roles[i], id, path);
		free(text);
	}
	{
		const char *v = json_string_value(json_object_get(reply, "log_vkey"));
		char line[512];
		snprintf(path, sizeof path, "%s/log.vkey", dir);
		snprintf(line, sizeof line, "%s\n", v ? v : "");
		if (v == NULL || bw_file_write_atomic(path, line, strlen(line), 0644, &err) != 0) {
			cli_errorf("patch keys: no log key written");
			goto out;
		}
		printf("log key %s -> %s\n", v, path);
	}
	rc = CLI_OK;
out:
	json_decref(reply);
	return rc;
}

/* Uploads path when its sha256 is one the targets list; *uploaded is set when it was. */
static int
upload_if_listed(const struct cli_api *api, const json_t *targets, const char *path)
{
	uint8_t sha[32];
	uint64_t len;
	char hex[65], url[128];
	const char *name;
	json_t *e, *reply = NULL;
	struct bw_err err = { 0 };
	bool listed = false;
	long status;
	int r;

	if (patch_file_sha256(path, sha, &len, &err) != 0)
		return cli_fail("publish", &err) ? -1 : -1;
	bw_hex_encode(hex, sha, 32);
	json_object_foreach(json_object_get(json_object_get((json_t *)targets, "signed"), "targets"), name, e) {
		const char *h = json_string_value(json_object_get(json_object_get(e, "hashes"), "sha256"));
		listed |= h != NULL && strcmp(h, hex) == 0;
	}
	if (!listed) {
		cli_errorf("publish: %s (sha256 %s) is not a target of the given metadata", path, hex);
		return -1;
	}
	snprintf(url, sizeof url, "/api/v1/patch/blobs/%s", hex);
	r = cli_api_upload(api, url, path, &status, &reply);
	if (r == 0 && cli_api_expect("upload", status, 201, reply) != 0)
		r = -1;
	if (r == 0)
		fprintf(stderr, "uploaded %s (%llu bytes, sha256 %s)\n", path, (unsigned long long)len, hex);
	json_decref(reply);
	return r;
}

int
cli_patch_publish(struct cli_args *a)
{
	struct cli_api api;
	const char *tfile = NULL, *rfile = NULL;
	char *pos[256];
	size_t npos, i;
	long status;
	json_t *targets = NULL, *root = NULL, *body = NULL, *reply = NULL;
	json_error_t jerr;
	int rc = CLI_FAIL;

	if (cli_api_init(&api, a) || cli_opt(a, "--targets", &tfile) || cli_opt(a, "--root", &rfile) ||
	    cli_positional(a, pos, 256, &npos) || tfile == NULL) {
		fputs(publish_usage, stderr);
		return CLI_USAGE;
	}
	if ((targets = json_load_file(tfile, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    (rfile != NULL && (root = json_load_file(rfile, JSON_REJECT_DUPLICATES, &jerr)) == NULL)) {
		cli_errorf("publish: %s (line %d)", jerr.text, jerr.line);
		goto out;
	}
	for (i = 0; i < npos; i++)
		if (upload_if_listed(&api, targets, pos[i]) != 0)
			goto out;
	body = json_pack("{s:O}", "targets", targets);
	if (root != NULL)
		json_object_set(body, "root", root);
	if (cli_api_call(&api, "POST", "/api/v1/patch/publish", body, &status, &reply, NULL) != 0 ||
	    cli_api_expect("publish", status, 200, reply) != 0)
		goto out;
	cli_print_json(reply);
	rc = CLI_OK;
out:
	json_decref(targets);
	json_decref(root);
	json_decref(body);
	json_decref(reply);
	return rc;
}
