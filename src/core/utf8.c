/* core/utf8.c: strict UTF-8 decoding, JSON string literals, and the Unicode white-space set. */
#include <ctype.h>
#include <string.h>

#include "core.h"

size_t
bw_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool
bw_unicode_is_space(uint32_t cp)
{
	switch (cp) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680:
	case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

bool
bw_simple_name_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

int
bw_buf_append_json_string(struct bw_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s, *end = p + len;

	if (bw_buf_reserve(b, len + 2) != 0)
		return BW_ENOMEM;
	b->data[b->len++] = '"';
	while (p < end) {
		const uint8_t *run = p;
		/* the common case: printable ASCII other than '"' and '\\', copied in one go */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p > run && bw_buf_append(b, run, (size_t)(p - run)) != 0)
			return BW_ENOMEM;
		if (p == end)
			break;
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };
			if (bw_buf_append(b, e, 2) != 0)
				return BW_ENOMEM;
			p++;
		} else if (*p < 0x20 && *p != 0) {
			char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
			const char *short_form = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" : NULL;
			if ((short_form ? bw_buf_append(b, short_form, 2) : bw_buf_append(b, e, 6)) != 0)
				return BW_ENOMEM;
			p++;
		} else {
			uint32_t cp;
			size_t n = *p == 0 ? 0 : bw_utf8_decode(p, (size_t)(end - p), &cp);
			if (n == 0) {
				if (bw_buf_append(b, "\xef\xbf\xbd", 3) != 0)	/* U+FFFD */
					return BW_ENOMEM;
				p++;
			} else {
				if (bw_buf_append(b, p, n) != 0)
					return BW_ENOMEM;
				p += n;
			}
		}
	}
	return bw_buf_append_byte(b, '"');
}

bool
bw_email_valid(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t len = strlen(s), label = 0, labels = 0;

	if (at == NULL || strchr(at + 1, '@') != NULL || len > 254 || at == s || at - s > 64 || s[0] == '.' ||
	    at[-1] == '.')
		return false;
	for (p = s; p < at; p++)
		if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+/=?^_`{|}~-.", *p) != NULL) ||
		    (*p == '.' && p[1] == '.'))
			return false;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || (*p == '-' && label > 0)))
			return false;
		label++;
	}
	return labels >= 2;
}
