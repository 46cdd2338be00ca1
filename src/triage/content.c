/*
 * triage/content.c: what lures put inside documents. PDF: JavaScript,
 * actions that run on opening, launching programs, embedded files (names
 * read with their #xx escapes undone, as readers do). RTF: a \*\template
 * fetched from elsewhere, embedded objects. OOXML: relationships to
 * external targets, above all a remote attachedTemplate (the template
 * injection of the Dream Job documents), macro projects, embedded files.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triage_internal.h"

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The PDF name starting after the '/' at p: regular characters with #xx decoded, into out (cap bytes). */
static size_t
pdf_name(const uint8_t *p, const uint8_t *end, char *out, size_t cap)
{
	size_t o = 0;

	while (p < end && o + 1 < cap) {
		int c = *p;
		if (c <= ' ' || strchr("/()<>[]{}%", c) != NULL || c >= 0x7f)
			break;
		if (c == '#' && p + 2 < end && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			c = hexval(p[1]) * 16 + hexval(p[2]);
			p += 2;
		}
		out[o++] = (char)c;
		p++;
	}
	out[o] = '\0';
	return o;
}

void
pdf_check(struct walk *w, const char *where, const uint8_t *data, size_t len)
{
	const uint8_t *p = data, *end = data + len;
	bool js = false, launch = false, embedded = false, open = false, obfuscated = false;

	while ((p = memchr(p, '/', (size_t)(end - p))) != NULL) {
		char name[64];
		size_t n = pdf_name(++p, end, name, sizeof name);
		bool escaped = memchr(p, '#', n) != NULL;
		if (strcmp(name, "JavaScript") == 0 || strcmp(name, "JS") == 0)
			js = true, obfuscated |= escaped;
		else if (strcmp(name, "Launch") == 0)
			launch = true, obfuscated |= escaped;
		else if (strcmp(name, "EmbeddedFile") == 0 || strcmp(name, "EmbeddedFiles") == 0)
			embedded = true;
		else if (strcmp(name, "OpenAction") == 0 || strcmp(name, "AA") == 0)
			open = true, obfuscated |= escaped;
		else if (strcmp(name, "URI") == 0) {
			/* /URI (http://...) : the link as an indicator and a URL to check */
			const uint8_t *q = p + n;
			while (q < end && (*q == ' ' || *q == '\r' || *q == '\n'))
				q++;
			if (q < end && *q == '(') {
				const uint8_t *c = memchr(q, ')', (size_t)(end - q) < 2048 ? (size_t)(end - q) : 2048);
				if (c != NULL)
					urls_scan(w, where, (const char *)q + 1, (size_t)(c - q - 1), false);
			}
		}
		p += n;
	}
	if (js)
		walk_reason(w, 40, "pdf_javascript", where, "the PDF carries JavaScript");
	if (js && open)
		walk_reason(w, 20, "pdf_open_action", where, "... run when the document opens (OpenAction / AA)");
	if (launch)
		walk_reason(w, 60, "pdf_launch", where, "the PDF has a Launch action: it starts a program");
	if (embedded)
		walk_reason(w, 30, "pdf_embedded_file", where, "the PDF carries embedded files");
	if (obfuscated)
		walk_reason(w, 20, "pdf_obfuscated", where, "action names are written with #xx escapes to hide them");
}

/* triage_find_ci over bytes. */
static const uint8_t *
find_ci(const uint8_t *p, const uint8_t *end, const char *needle)
{
	return (const uint8_t *)triage_find_ci((const char *)p, (const char *)end, needle);
}

void
rtf_check(struct walk *w, const char *where, const uint8_t *data, size_t len)
{
	const uint8_t *end = data + len, *t;

	if ((t = find_ci(data, end, "\\*\\template")) != NULL) {
		char target[512];
		size_t o = 0;
		t += 11;
		while (t < end && (*t == ' ' || *t == '\r' || *t == '\n'))
			t++;
		while (t < end && *t != '}' && *t != '\\' && o + 1 < sizeof target)
			target[o++] = (char)*t++;
		while (o > 0 && isspace((unsigned char)target[o - 1]))
			o--;
		target[o] = '\0';
		if (strstr(target, "://") != NULL || strncmp(target, "\\\\", 2) == 0) {
			walk_reason(w, 60, "rtf_remote_template", where, "the RTF loads its template from %.300s", target);
			urls_scan(w, where, target, o, false);
		} else {
			walk_reason(w, 10, "rtf_template", where, "the RTF names a template (%.300s)", target);
		}
	}
	if (find_ci(data, end, "\\objdata") != NULL)
		walk_reason(w, 40, "rtf_object", where, "the RTF embeds an object (\\objdata): the carrier of many exploits");
}

/* The value of attribute name="..." inside the tag [p, end), into out. */
static bool
attr(const char *p, const char *end, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), o = 0;

	for (; p + n + 2 <= end; p++) {
		if (strncmp(p, name, n) == 0 && p[n] == '=' && (p[n + 1] == '"' || p[n + 1] == '\'') &&
		    (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r')) {
			char q = p[n + 1];
			p += n + 2;
			while (p < end && *p != q && o + 1 < cap)
				out[o++] = *p++;
			out[o] = '\0';
			return true;
		}
	}
	return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Relationships (a .rels part): external targets, a remote template above all. */
static void
rels_check(struct walk *w, const char *where, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *close = memchr(p, '>', (size_t)(end - p));
		char mode[32] = "", type[300] = "", target[1024] = "";
		if (close == NULL)
			break;
		if ((size_t)(close - p) > 13 && strncmp(p, "<Relationship", 13) == 0 &&
		    attr(p, close, "TargetMode", mode, sizeof mode) && strcmp(mode, "External") == 0) {
			attr(p, close, "Type", type, sizeof type);
			attr(p, close, "Target", target, sizeof target);
			if (ends_with(type, "/attachedTemplate")) {
				walk_reason(w, 70, "remote_template", where,
					    "the document loads its template from %.300s (template injection)", target);
				urls_scan(w, where, target, strlen(target), false);
			} else if (ends_with(type, "/oleObject") || ends_with(type, "/frame") ||
				   ends_with(type, "/subDocument")) {
				walk_reason(w, 50, "remote_object", where, "the document loads an %s from %.300s",
					    strrchr(type, '/') + 1, target);
				urls_scan(w, where, target, strlen(target), false);
			} else if (!ends_with(type, "/hyperlink")) {
				walk_reason(w, 15, "external_link", where, "an external relationship (%.80s) to %.300s",
					    strrchr(type, '/') ? strrchr(type, '/') + 1 : type, target);
			} else {
				urls_scan(w, where, target, strlen(target), false);
			}
		}
		p = close + 1;
	}
}

void
ooxml_part_check(struct walk *w, const char *where, const char *part, const uint8_t *data, size_t len, unsigned depth)
{
	const char *base = strrchr(part, '/') ? strrchr(part, '/') + 1 : part;

	yara_scan(w, where, data, len);
	if (ends_with(part, ".rels"))
		rels_check(w, where, (const char *)data, len);
	else if (strcasecmp(base, "vbaProject.bin") == 0)
		vba_check(w, where, data, len);
	else if (strstr(part, "/embeddings/") != NULL || strncmp(part, "embeddings/", 11) == 0)
		walk_blob(w, where, base, data, len, depth);
}
