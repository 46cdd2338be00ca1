/*
 * triage/intake.c: a report that arrives by mail (a mailbox piped into
 * `bulwark report mail`). Report buttons and people forward the suspicious
 * mail as an attachment: the original is that attached message, and the
 * forwarding mail's own text is the reporter's comment. The sender of the
 * forwarding mail is the reporter; the receiving MTA's
 * Authentication-Results (RFC 8601) says whether that address can be
 * believed: a DKIM pass for its domain, an SPF pass for it, or a DMARC pass.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "triage_internal.h"

void
triage_intake_clear(struct triage_intake *in)
{
	if (in != NULL) {
		free(in->original);
		in->original = NULL;
	}
}

static bool
same_domain(const char *a, const char *b)
{
	return a != NULL && b != NULL && a[0] != '\0' && strcasecmp(a, b) == 0;
}

/* The value of prop (e.g. "header.d") in one resinfo clause, into out: the token after '='. */
static bool
prop(const char *clause, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), o = 0;
	const char *p = clause;

	while ((p = strcasestr(p, name)) != NULL) {
		if ((p == clause || isspace((unsigned char)p[-1])) && p[n] == '=') {
			p += n + 1;
			if (*p == '"')
				p++;
			while (*p != '\0' && !isspace((unsigned char)*p) && *p != ';' && *p != '"' && o + 1 < cap)
				out[o++] = *p++;
			out[o] = '\0';
			return o > 0;
		}
		p += n;
	}
	return false;
}

/* Checks one Authentication-Results value for a pass that vouches for domain. */
static bool
auth_passes(const char *value, const char *domain, char *why, size_t cap)
{
	char text[4096], *clause, *save = NULL;
	size_t o = 0, i, depth = 0;

	/* comments (in parentheses) dropped */
	for (i = 0; value[i] != '\0' && o + 1 < sizeof text; i++) {
		if (value[i] == '(')
			depth++;
		else if (value[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			text[o++] = value[i];
	}
	text[o] = '\0';
	clause = strtok_r(text, ";", &save);	/* the authserv-id */
	while ((clause = strtok_r(NULL, ";", &save)) != NULL) {
		char v[320], *at;
		while (isspace((unsigned char)*clause))
			clause++;
		if (strncasecmp(clause, "dkim=pass", 9) == 0 && prop(clause, "header.d", v, sizeof v) &&
		    same_domain(v, domain)) {
			snprintf(why, cap, "dkim=pass header.d=%.200s", v);
			return true;
		}
		if (strncasecmp(clause, "spf=pass", 8) == 0 && prop(clause, "smtp.mailfrom", v, sizeof v) &&
		    same_domain((at = strrchr(v, '@')) ? at + 1 : v, domain)) {
			snprintf(why, cap, "spf=pass smtp.mailfrom=%.200s", v);
			return true;
		}
		if (strncasecmp(clause, "dmarc=pass", 10) == 0 && prop(clause, "header.from", v, sizeof v) &&
		    same_domain(v, domain)) {
			snprintf(why, cap, "dmarc=pass header.from=%.200s", v);
			return true;
		}
	}
	return false;
}

/* The bytes of an attached message (decoded when sent base64 or quoted-printable). */
static GByteArray *
attached_bytes(GMimeObject *part)
{
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *arr;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, s);
	} else if (GMIME_IS_PART(part) && g_mime_part_get_content(GMIME_PART(part)) != NULL) {
		g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), s);
	}
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_object_unref(s);
	return arr;
}

struct scan {
	GMimeObject *attached;		/* the one attached message */
	size_t nattached;
	char comment[1025];
};

static void
each(GMimeObject *parent, GMimeObject *part, gpointer ctx)
{
	struct scan *s = ctx;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *fname = GMIME_IS_PART(part) ? g_mime_part_get_filename(GMIME_PART(part)) : NULL;
	size_t n;

	(void)parent;
	if (GMIME_IS_MESSAGE_PART(part) || (ct != NULL && g_mime_content_type_is_type(ct, "message", "rfc822")) ||
	    (fname != NULL && (n = strlen(fname)) > 4 && strcasecmp(fname + n - 4, ".eml") == 0)) {
		s->attached = part;
		s->nattached++;
		return;
	}
	if (s->comment[0] == '\0' && GMIME_IS_PART(part) && ct != NULL && g_mime_content_type_is_type(ct, "text", "plain") &&
	    !g_mime_part_is_attachment(GMIME_PART(part))) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
		GMimeStream *st = g_mime_stream_mem_new();
		GByteArray *arr;
		size_t i, o = 0;
		if (w != NULL)
			g_mime_data_wrapper_write_to_stream(w, st);
		arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
		for (i = 0; arr != NULL && i < arr->len && o + 1 < sizeof s->comment; i++) {
			unsigned char c = arr->data[i];
			if (c == '\r')
				continue;
			s->comment[o++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? ' ' : (char)c;
		}
		while (o > 0 && isspace((unsigned char)s->comment[o - 1]))
			o--;
		s->comment[o] = '\0';
		g_object_unref(st);
	}
}

int
triage_mail_intake(const uint8_t *data, size_t len, const char *authserv_id, struct triage_intake *out,
		   struct bw_err *err)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeHeaderList *hl;
	struct scan s = { 0 };
	InternetAddressList *from;
	const char *domain;
	int i, n, r = 0;

	memset(out, 0, sizeof *out);
	g_mime_init();
	stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		r = bw_err_set(err, BW_EINVAL, "not a mail message (RFC 5322) that can be read");
		goto done;
	}
	from = g_mime_message_get_from(msg);
	if (from != NULL && internet_address_list_length(from) == 1 &&
	    INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(from, 0)))
		snprintf(out->from, sizeof out->from, "%s",
			 internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(from, 0))));
	domain = strrchr(out->from, '@') ? strrchr(out->from, '@') + 1 : NULL;
	snprintf(out->auth, sizeof out->auth, "no Authentication-Results%s%s", authserv_id ? " from " : "",
		 authserv_id ? authserv_id : "");
	/* the topmost Authentication-Results (of authserv_id when given): what the receiving MTA added */
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *v = g_mime_header_get_value(h);
		size_t idl;
		if (strcasecmp(g_mime_header_get_name(h), "Authentication-Results") != 0 || v == NULL)
			continue;
		while (isspace((unsigned char)*v))
			v++;
		idl = strcspn(v, "; \t");
		if (authserv_id != NULL && (strlen(authserv_id) != idl || strncasecmp(v, authserv_id, idl) != 0))
			continue;
		if (domain != NULL && auth_passes(v, domain, out->auth, sizeof out->auth))
			out->verified = true;
		else
			snprintf(out->auth, sizeof out->auth, "no DKIM, SPF or DMARC pass for %.200s", domain ? domain : "(none)");
		break;
	}
	g_mime_message_foreach(msg, each, &s);
	if (s.nattached == 1) {
		GByteArray *arr = attached_bytes(s.attached);
		if (arr != NULL && arr->len > 0 && (out->original = malloc(arr->len)) != NULL) {
			memcpy(out->original, arr->data, arr->len);
			out->original_len = arr->len;
			out->forwarded = true;
			snprintf(out->comment, sizeof out->comment, "%s", s.comment);
			triage_utf8_fix(out->comment);
		}
		if (arr != NULL)
			g_byte_array_unref(arr);
	}
	if (out->original == NULL) {
		if ((out->original = malloc(len > 0 ? len : 1)) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto done;
		}
		memcpy(out->original, data, len);
		out->original_len = len;
	}
done:
	if (msg != NULL)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return r;
}
