/*
 * events/log.c: the structured logger: one JSON line per call, written with
 * one write(2). Values are encoded here (on the request hot path a jansson
 * object per line cost ~25 allocations): every string is cut at EV_TEXT_MAX
 * bytes and written as ASCII with \", \\, control characters and every
 * non-ASCII character escaped (invalid UTF-8 becomes \ufffd), so nothing a
 * client sends can end a string, add a field or start a line. The unit
 * tests and fuzz_events parse the lines back with jansson.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"

static const char *
level_name(enum ev_log_level l)
{
	return l == EVLOG_ERROR ? "error" : l == EVLOG_WARN ? "warn" : "info";
}

static int
put_u16(struct bw_buf *b, uint32_t u)
{
	return bw_buf_printf(b, "\\u%04x", (unsigned)u);
}

/* Appends s (at most max bytes of it) as a JSON string. */
static int
put_string(struct bw_buf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max), i = 0;
	int r = bw_buf_append_byte(b, '"');

	while (r == 0 && i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t k;
		if (c >= 0x20 && c < 0x7f) {
			if (c == '"' || c == '\\')
				r = bw_buf_append_byte(b, '\\');
			if (r == 0)
				r = bw_buf_append_byte(b, c);
			i++;
			continue;
		}
		if (c < 0x80) {	/* control characters and DEL */
			r = c == '\n' ? bw_buf_append(b, "\\n", 2) : c == '\t' ? bw_buf_append(b, "\\t", 2) : put_u16(b, c);
			i++;
			continue;
		}
		if ((k = bw_utf8_decode((const uint8_t *)s + i, n - i, &cp)) == 0) {
			r = put_u16(b, 0xfffd);	/* invalid UTF-8 */
			i++;
			continue;
		}
		if (cp >= 0x10000) {	/* UTF-16 surrogate pair */
			cp -= 0x10000;
			r = put_u16(b, 0xd800 + (cp >> 10));
			if (r == 0)
				r = put_u16(b, 0xdc00 + (cp & 0x3ff));
		} else {
			r = put_u16(b, cp);
		}
		i += k;
	}
	return r != 0 ? r : bw_buf_append_byte(b, '"');
}

static bool
reserved(const char *key)
{
	return strcmp(key, "time") == 0 || strcmp(key, "level") == 0 || strcmp(key, "msg") == 0;
}

void
ev_log_fd(int fd, enum ev_log_level level, const char *msg, const struct ev_kv *kv, size_t n)
{
	struct bw_buf b = { 0 };
	char when[BW_TIME_TEXT_MAX];
	size_t i, j;
	int r;

	bw_time_format_ms(bw_now_ms(), when);
	r = bw_buf_reserve(&b, 512);
	if (r == 0)
		r = bw_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when, level_name(level));
	if (r == 0)
		r = put_string(&b, msg != NULL ? msg : "", EV_TEXT_MAX);
	for (i = 0; r == 0 && i < n; i++) {
		bool dup = kv[i].key == NULL || reserved(kv[i].key);
		/* Keys are the program's own; a reserved or repeated one is dropped, never written twice. */
		for (j = 0; !dup && j < i; j++)
			dup = kv[j].key != NULL && strcmp(kv[j].key, kv[i].key) == 0;
		if (dup)
			continue;
		if ((r = bw_buf_append_byte(&b, ',')) == 0 && (r = put_string(&b, kv[i].key, 64)) == 0 &&
		    (r = bw_buf_append_byte(&b, ':')) == 0)
			r = kv[i].s != NULL ? put_string(&b, kv[i].s, EV_TEXT_MAX) : bw_buf_printf(&b, "%lld", kv[i].i);
	}
	if (r == 0)
		r = bw_buf_append(&b, "}\n", 2);
	if (r == 0)
		(void)bw_write_all(fd, b.data, b.len);	/* one write: lines from several threads never interleave */
	bw_buf_free(&b);
}
