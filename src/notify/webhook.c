/* notify/webhook.c: signed HTTPS POSTs of alerts (libcurl). */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "crypto/crypto.h"
#include "notify.h"

void
notify_signature(const uint8_t *secret, size_t secret_len, int64_t timestamp, const char *delivery, const void *body,
		 size_t len, char out[68])
{
	char ts[24];
	uint8_t mac[BW_SHA256_SIZE];
	const void *parts[5];
	size_t lens[5], i;

	snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
	parts[0] = ts, lens[0] = strlen(ts);
	parts[1] = ".", lens[1] = 1;
	parts[2] = delivery, lens[2] = strlen(delivery);
	parts[3] = ".", lens[3] = 1;
	parts[4] = body, lens[4] = len;
	bw_hmac_sha256(secret, secret_len, parts, lens, 5, mac);
	memcpy(out, "v1=", 3);
	for (i = 0; i < sizeof mac; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", mac[i]);
}

/* The receiver's answer is read and dropped (bounded: a webhook answers briefly). */
static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	size_t *got = ctx;

	(void)p;
	*got += size * n;
	return *got > 65536 ? 0 : size * n;
}

int
notify_webhook_post(const struct notify_webhook *w, const char *delivery, int64_t timestamp, const char *body,
		    size_t len, long *status, struct bw_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "", h[3][160], sig[68];
	struct curl_slist *hdrs = NULL;
	size_t got = 0;
	CURLcode rc;
	CURL *c;
	int i;

	*status = 0;
	if (strncmp(w->url, "https://", 8) != 0)
		return bw_err_set(err, BW_EINVAL, "the webhook URL must start with https://");
	if ((c = curl_easy_init()) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	notify_signature(w->secret, w->secret_len, timestamp, delivery, body, len, sig);
	snprintf(h[0], sizeof h[0], "X-Bulwark-Delivery: %s", delivery);
	snprintf(h[1], sizeof h[1], "X-Bulwark-Timestamp: %lld", (long long)timestamp);
	snprintf(h[2], sizeof h[2], "X-Bulwark-Signature: %s", sig);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	for (i = 0; i < 3 && hdrs != NULL; i++)
		hdrs = curl_slist_append(hdrs, h[i]);
	if (hdrs == NULL) {
		curl_easy_cleanup(c);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, w->timeout_secs > 0 ? w->timeout_secs : 30L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	if (w->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, w->cacert);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && *status >= 200 && *status < 300))
		return bw_err_set(err, BW_EIO, "webhook: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (*status < 200 || *status >= 300)
		return bw_err_set(err, BW_EIO, "webhook: HTTP %ld", *status);
	return 0;
}
