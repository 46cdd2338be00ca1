/* notify/email.c: alert notifications by e-mail through an SMTP relay (libcurl, STARTTLS required). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "notify.h"

#define SUBJECT_MAX 200

struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *ctx)
{
	struct reader *r = ctx;
	size_t k = size * n < r->left ? size * n : r->left;

	memcpy(buf, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

/* s with every control character (CR and LF too) as '?', cut at max bytes. */
static void
one_line(const char *s, char *out, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < max; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

/* An address for the envelope and headers: no spaces, controls, angle brackets or commas. */
static bool
address_ok(const char *a)
{
	size_t i, n = strlen(a);

	if (n < 3 || n > 254 || strchr(a, '@') == NULL)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] <= 0x20 || a[i] == 0x7f || strchr("<>,;\"()[]\\", a[i]) != NULL)
			return false;
	return true;
}

int
notify_email_send(const struct notify_email *m, const char *message_id, const char *subject, const char *text,
		  struct bw_err *err)
{
	char subj[SUBJECT_MAX + 1], date[64], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL;
	struct bw_buf msg = { 0 };
	struct reader rd;
	time_t now = time(NULL);
	struct tm tm;
	CURLcode rc;
	CURL *c;
	size_t i;
	int r = 0;

	if (strncmp(m->url, "smtp://", 7) != 0 && strncmp(m->url, "smtps://", 8) != 0)
		return bw_err_set(err, BW_EINVAL, "the SMTP relay URL must start with smtp:// or smtps://");
	if (!address_ok(m->from) || m->nto == 0)
		return bw_err_set(err, BW_EINVAL, "e-mail needs a sender and at least one recipient");
	for (i = 0; i < m->nto; i++)
		if (!address_ok(m->to[i]))
			return bw_err_set(err, BW_EINVAL, "not an e-mail address: recipient %zu", i + 1);
	one_line(subject, subj, sizeof subj);
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (bw_buf_printf(&msg, "Date: %s\r\nFrom: %s\r\nTo: ", date, m->from) != 0)
		r = BW_ENOMEM;
	for (i = 0; r == 0 && i < m->nto; i++)
		if (bw_buf_printf(&msg, "%s%s", i ? ", " : "", m->to[i]) != 0)
			r = BW_ENOMEM;
	if (r == 0 && bw_buf_printf(&msg, "\r\nSubject: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
				    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
				    "Auto-Submitted: auto-generated\r\n\r\n", subj, message_id) != 0)
		r = BW_ENOMEM;
	/* The body: each line ends in CRLF; a line that is only "." cannot end the message early (curl dot-stuffs). */
	for (i = 0; r == 0 && text[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n')
			r = bw_buf_append(&msg, "\r\n", 2);
		else if (ch != '\r')
			r = bw_buf_append(&msg, ch < 0x20 && ch != '\t' ? "?" : &text[i], 1);
	}
	if (r == 0)
		r = bw_buf_append(&msg, "\r\n", 2);
	if (r != 0) {
		bw_buf_free(&msg);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((c = curl_easy_init()) == NULL) {
		bw_buf_free(&msg);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	for (i = 0; i < m->nto; i++)
		rcpt = curl_slist_append(rcpt, m->to[i]);
	rd.p = (const char *)msg.data;
	rd.left = msg.len;
	curl_easy_setopt(c, CURLOPT_URL, m->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);	/* no STARTTLS, no mail */
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, m->from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, m->timeout_secs > 0 ? m->timeout_secs : 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (m->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, m->cacert);
	rc = curl_easy_perform(c);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	bw_buf_free(&msg);
	if (rc != CURLE_OK)
		return bw_err_set(err, BW_EIO, "e-mail: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return 0;
}
