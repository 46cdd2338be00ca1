/*
 * cli/api_client.c: the CLI as a client of the HTTPS JSON API (libcurl):
 * server from --server or BULWARK_SERVER, token from --token or
 * BULWARK_TOKEN, CA certificate from --cacert or BULWARK_CACERT. TLS is
 * verified (1.3 only); errors from the server are shown as it sent them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "cli.h"

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	struct bw_buf *b = ctx;
	if (b->len + size * n > (16u << 20) || bw_buf_append(b, p, size * n) != 0)
		return 0;	/* refuse replies over 16 MiB */
	return size * n;
}

int
cli_api_init(struct cli_api *api, struct cli_args *a)
{
	const char *server = NULL, *token = NULL, *cacert = NULL;

	memset(api, 0, sizeof *api);
	if (cli_opt(a, "--server", &server) || cli_opt(a, "--token", &token) || cli_opt(a, "--cacert", &cacert))
		return -1;
	api->server = server ? server : getenv("BULWARK_SERVER");
	api->token = token ? token : getenv("BULWARK_TOKEN");
	api->cacert = cacert ? cacert : getenv("BULWARK_CACERT");
	if (api->server == NULL)
		api->server = "https://127.0.0.1:8443";
	if (strncmp(api->server, "https://", 8) != 0) {
		cli_errorf("--server must be an https:// URL");
		return -1;
	}
	return 0;
}

/* One request with a JSON body, a streamed file body (upload), bytes, or none. */
static int
api_request(const struct cli_api *api, const char *method, const char *path, json_t *body, FILE *upload,
	    curl_off_t upload_len, const struct bw_buf *bytes, long *status, json_t **reply, struct bw_buf *raw)
{
	struct bw_buf out = { 0 }, url = { 0 };
	struct curl_slist *hdr = NULL;
	char auth[160], *text = NULL, errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	int r = -1;

	*status = 0;
	if (reply)
		*reply = NULL;
	if ((c = curl_easy_init()) == NULL || bw_buf_printf(&url, "%s%s", api->server, path) != 0) {
		cli_errorf("out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, (char *)url.data);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	if (upload == NULL)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	else {	/* large files: no total limit, but a stalled transfer ends */
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	if (api->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, api->cacert);
	if (api->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", api->token);
		hdr = curl_slist_append(hdr, auth);
	}
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	} else if (bytes != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
		hdr = curl_slist_append(hdr, "Expect:");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)bytes->data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bytes->len);
	} else if (upload != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
		hdr = curl_slist_append(hdr, "Expect:");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, upload_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		cli_errorf("%s %s: %s%s", method, (char *)url.data, errbuf[0] ? errbuf : curl_easy_strerror(rc),
			   rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
				   ? " (give the server's certificate with --cacert or BULWARK_CACERT, e.g. bulwark-data/tls/cert.pem)"
				   : "");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (raw != NULL) {
		*raw = out;
		out = (struct bw_buf){ 0 };
	} else if (reply != NULL && out.len > 0) {
		json_error_t jerr;
		*reply = json_loadb((char *)out.data, out.len, 0, &jerr);
	}
	r = 0;
out:
	if (text != NULL) {
		bw_memzero(text, strlen(text));	/* request bodies may hold passwords */
		free(text);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	bw_buf_free(&out);
	bw_buf_free(&url);
	return r;
}

int
cli_api_call(const struct cli_api *api, const char *method, const char *path, json_t *body, long *status,
	     json_t **reply, struct bw_buf *raw)
{
	return api_request(api, method, path, body, NULL, 0, NULL, status, reply, raw);
}

int
cli_api_post_bytes(const struct cli_api *api, const char *urlpath, const struct bw_buf *bytes, long *status,
		   json_t **reply)
{
	return api_request(api, "POST", urlpath, NULL, NULL, 0, bytes, status, reply, NULL);
}

int
cli_api_upload(const struct cli_api *api, const char *urlpath, const char *path, long *status, json_t **reply)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	int r;

	*status = 0;
	*reply = NULL;
	if (f == NULL || fstat(fileno(f), &sb) != 0) {
		cli_errorf("%s: cannot read", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	r = api_request(api, "PUT", urlpath, NULL, f, (curl_off_t)sb.st_size, NULL, status, reply, NULL);
	fclose(f);
	return r;
}

int
cli_api_expect(const char *what, long status, long want, json_t *reply)
{
	json_t *e;

	if (status == want)
		return 0;
	e = reply ? json_object_get(reply, "error") : NULL;
	cli_errorf("%s: HTTP %ld: %s%s", what, status, json_is_string(e) ? json_string_value(e) : "(no message)",
		   status == 401 && strcmp(what, "login") == 0
			   ? " (each TOTP code works once: if this code was just used, wait for the next one)"
		   : status == 401 ? " (sign in with 'bulwark login' and set BULWARK_TOKEN, or pass --token)"
				   : "");
	return -1;
}

void
cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s != NULL) {
		puts(s);
		free(s);
	}
}
