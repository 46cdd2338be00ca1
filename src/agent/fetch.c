/* agent/fetch.c: HTTPS GET/POST for the agent, with hard size limits (no endless data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent.h"
#include "crypto/crypto.h"

struct sink {
	uint64_t max, len;
	bool over;
	struct bw_buf *buf;		/* either into memory */
	int fd;				/* or into a file, hashed */
	struct bw_sha256 *h;
	bool io_failed;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t k = size * n;

	if (s->len + k > s->max) {
		s->over = true;
		return 0;	/* aborts the transfer */
	}
	s->len += k;
	if (s->buf != NULL) {
		if (bw_buf_append(s->buf, p, k) != 0)
			return 0;
	} else {
		if (bw_write_all(s->fd, p, k) != 0) {
			s->io_failed = true;
			return 0;
		}
		bw_sha256_update(s->h, p, k);
	}
	return k;
}

static CURL *
easy_new(const struct agent_http *h, const char *path, struct bw_buf *url, char *errbuf)
{
	CURL *c;

	if (strncmp(h->base, "https://", 8) != 0 || bw_buf_printf(url, "%s%s", h->base, path) != 0 ||
	    (c = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, (char *)url->data);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);	/* a stalled or trickling server is dropped */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (h->ca_pem != NULL) {
		struct curl_blob blob = { (void *)(uintptr_t)h->ca_pem, h->ca_pem_len, CURL_BLOB_COPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	} else if (h->cacert != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	}
	return c;
}

static int
perform(CURL *c, const char *path, struct sink *s, struct bw_err *err, const char *errbuf)
{
	CURLcode rc;
	long status = 0;

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	if (s->max < (uint64_t)INT64_MAX)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404)
		return bw_err_set(err, BW_ENOTFOUND, "%s: not found (HTTP 404)", path);
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return bw_err_set(err, BW_ERANGE, "%s: more than the %llu bytes allowed (endless data)", path,
				  (unsigned long long)s->max);
	if (s->io_failed)
		return bw_err_set(err, BW_EIO, "%s: cannot write the download", path);
	if (rc != CURLE_OK)
		return bw_err_set(err, BW_EIO, "%s: %s", path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (status != 200)
		return bw_err_set(err, BW_EIO, "%s: HTTP %ld", path, status);
	return 0;
}

int
agent_http_get(const struct agent_http *h, const char *path, uint64_t max, struct bw_buf *out, struct bw_err *err)
{
	struct bw_buf url = { 0 };
	struct sink s = { .max = max, .buf = out };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = easy_new(h, path, &url, errbuf);
	int r;

	if (c == NULL) {
		bw_buf_free(&url);
		return bw_err_set(err, BW_EINVAL, "the server URL must start with https://");
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);	/* metadata and proofs are small: bounded in time too */
	r = perform(c, path, &s, err, errbuf);
	curl_easy_cleanup(c);
	bw_buf_free(&url);
	if (r != 0)
		bw_buf_free(out);
	return r;
}

int
agent_http_get_file(const struct agent_http *h, const char *path, uint64_t max, int fd, uint8_t sha256[32],
		    uint64_t *len, struct bw_err *err)
{
	struct bw_buf url = { 0 };
	struct sink s = { .max = max, .fd = fd };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	int r;

	*len = 0;
	if ((r = bw_sha256_new(&s.h, err)) != 0)
		return r;
	bw_sha256_init(s.h);
	if ((c = easy_new(h, path, &url, errbuf)) == NULL) {
		r = bw_err_set(err, BW_EINVAL, "the server URL must start with https://");
	} else {
		r = perform(c, path, &s, err, errbuf);
		curl_easy_cleanup(c);
	}
	if (r == 0) {
		bw_sha256_final(s.h, sha256);
		*len = s.len;
	}
	bw_sha256_free(s.h);
	bw_buf_free(&url);
	return r;
}

int
agent_http_post_json(const struct agent_http *h, const char *path, const json_t *body, long *status,
		     struct bw_buf *reply, struct bw_err *err)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int r;

	if (text == NULL) {
		*status = 0;
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	r = agent_http_post_text(h, path, text, strlen(text), status, reply, err);
	free(text);
	return r;
}

int
agent_http_post_text(const struct agent_http *h, const char *path, const char *text, size_t len, long *status,
		     struct bw_buf *reply, struct bw_err *err)
{
	return agent_http_post(h, path, text, len, false, status, reply, err);
}

int
agent_http_post(const struct agent_http *h, const char *path, const char *text, size_t len, bool gzip, long *status,
		struct bw_buf *reply, struct bw_err *err)
{
	struct bw_buf url = { 0 }, out = { 0 };
	struct sink s = { .max = 1 << 20, .buf = &out };
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", auth[200];
	CURL *c = easy_new(h, path, &url, errbuf);
	CURLcode rc;
	int r = 0;

	*status = 0;
	if (c == NULL) {
		r = bw_err_set(err, BW_EINVAL, "the report server URL must start with https://");
		goto out;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (gzip)
		hdr = curl_slist_append(hdr, "Content-Encoding: gzip");
	if (h->token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->token);
		hdr = curl_slist_append(hdr, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		r = bw_err_set(err, BW_EIO, "%s: %s", path, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (r == 0 && reply != NULL) {
		*reply = out;	/* handed over */
		memset(&out, 0, sizeof out);
	}
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	bw_buf_free(&url);
	bw_buf_free(&out);
	return r;
}
