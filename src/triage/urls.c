/*
 * triage/urls.c: URLs in a mail's text and HTML, and in documents' links:
 * each an indicator with its host; a link whose visible text names another
 * host than it goes to, and a link to a bare IP address, are reasons.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "triage_internal.h"

#define URL_MAX 2048

bool
url_host(const char *url, char *host, size_t cap)
{
	const char *p = strstr(url, "://"), *e;
	const char *at;
	size_t n, i;

	if (p == NULL)
		return false;
	p += 3;
	e = p + strcspn(p, "/?#\\");
	/* user:password@host: the host is after the last '@' before the path */
	for (at = p; at < e; at++)
		if (*at == '@')
			p = at + 1;
	if (*p == '[')
		return false;	/* IPv6 literal: kept as a URL only */
	n = strcspn(p, ":/?#\\");
	if (n == 0 || n >= cap || p + n > e)
		return false;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	while (n > 0 && host[n - 1] == '.')
		host[--n] = '\0';
	return n > 0;
}

static bool
is_ipv4(const char *h)
{
	int dots = 0;

	for (; *h != '\0'; h++) {
		if (*h == '.')
			dots++;
		else if (!isdigit((unsigned char)*h))
			return false;
	}
	return dots == 3;
}

/* One URL found: indicators, and a reason for a bare address. */
static void
one_url(struct walk *w, const char *where, const char *url, bool *ip_reported)
{
	char host[256];

	walk_indicator(w, "url", url);
	if (!url_host(url, host, sizeof host))
		return;
	if (is_ipv4(host)) {
		if (!*ip_reported)
			walk_reason(w, 20, "ip_url", where, "a link to a bare IP address (%.60s)", host);
		*ip_reported = true;
	} else {
		walk_indicator(w, "domain", host);
	}
}

/* The URL at p (an http(s):// prefix), up to a delimiter, &amp; decoded, into out. */
static size_t
url_at(const char *p, const char *end, char *out, size_t cap)
{
	size_t o = 0;

	while (p < end && o + 1 < cap) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f || strchr("<>\"'`{}|^)]", c) != NULL)
			break;
		if (c == '&' && end - p >= 5 && strncmp(p, "&amp;", 5) == 0) {
			out[o++] = '&';
			p += 5;
			continue;
		}
		out[o++] = (char)c;
		p++;
	}
	while (o > 0 && strchr(".,;:!?", out[o - 1]) != NULL)
		o--;
	out[o] = '\0';
	return o;
}

const char *
triage_find_ci(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* <a href="X">TEXT</a> where TEXT names a host other than X's. */
static void
anchors(struct walk *w, const char *where, const char *text, const char *end)
{
	const char *p = text;
	bool reported = false;

	while ((p = triage_find_ci(p, end, "<a ")) != NULL) {
		const char *close = memchr(p, '>', (size_t)(end - p)), *href, *stop;
		char url[URL_MAX], shown[URL_MAX], h1[256], h2[256];
		size_t n = 0;
		if (close == NULL)
			return;
		href = triage_find_ci(p, close, "href=");
		p = close + 1;
		if (href == NULL)
			continue;
		href += 5;
		if (*href == '"' || *href == '\'')
			href++;
		url_at(href, close, url, sizeof url);
		if ((stop = triage_find_ci(p, end, "</a")) == NULL)
			return;
		/* the visible text, tags dropped */
		for (; p < stop && n + 1 < sizeof shown; p++) {
			if (*p == '<') {
				const char *gt = memchr(p, '>', (size_t)(stop - p));
				if (gt == NULL)
					break;
				p = gt;
				continue;
			}
			if (!isspace((unsigned char)*p))
				shown[n++] = *p;
		}
		shown[n] = '\0';
		if (!reported && url_host(url, h1, sizeof h1)) {
			char with_scheme[URL_MAX + 8];
			snprintf(with_scheme, sizeof with_scheme, "%s%s", strstr(shown, "://") ? "" : "http://", shown);
			if (strchr(shown, '.') != NULL && strchr(shown, ' ') == NULL &&
			    url_host(with_scheme, h2, sizeof h2) && strchr(h2, '.') != NULL && strcmp(h1, h2) != 0) {
				walk_reason(w, 25, "link_text_mismatch", where, "a link that shows %.100s but goes to %.100s", h2,
					    h1);
				reported = true;
			}
		}
	}
}

void
urls_scan(struct walk *w, const char *where, const char *text, size_t len, bool html)
{
	const char *p = text, *end;
	bool ip_reported = false;

	if (text == NULL || len == 0)
		return;
	end = text + len;
	while (p < end) {
		const char *h = triage_find_ci(p, end, "http");
		char url[URL_MAX];
		if (h == NULL)
			break;
		if ((end - h > 7 && strncasecmp(h, "http://", 7) == 0) || (end - h > 8 && strncasecmp(h, "https://", 8) == 0)) {
			size_t n = url_at(h, end, url, sizeof url);
			if (n > 8)
				one_url(w, where, url, &ip_reported);
			p = h + (n > 0 ? n : 4);
		} else {
			p = h + 4;
		}
	}
	if (html)
		anchors(w, where, text, end);
}
