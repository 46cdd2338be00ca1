/*
 * triage/mail.c: a mail read with GMime: the sender against Reply-To and
 * Return-Path, display names that carry another address or the
 * organisation's name, look-alikes of the organisation's domains; the text
 * and HTML parts for URLs, job-offer lure wording (a weak signal, never a
 * verdict alone) and passwords given for an attached archive; every
 * attachment and attached message walked in turn.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "triage_internal.h"

struct mail_walk {
	struct walk *w;
	bool attachments;		/* the second pass: texts first (their passwords open the attachments) */
	const char *where;
	unsigned depth;
	unsigned lure_words;
	char lure_seen[8][24];
};

static const char *const lure_words[] = { "recruiter", "job offer", "job description", "salary", "assessment",
					  "skill test", "compensation package", "headhunter", "hiring manager",
					  "interview", "career opportunity", "relocation", NULL };
static const char *const password_words[] = { "password", "passwort", "passcode", "pwd:", "pw:", "kennwort",
					      "\xeb\xb9\x84\xeb\xb0\x80\xeb\xb2\x88\xed\x98\xb8" /* 비밀번호 */, NULL };

static const char *
domain_of(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* The first mailbox address of a list, or NULL. */
static const char *
first_addr(InternetAddressList *l, const char **name)
{
	InternetAddress *ia;

	if (name)
		*name = NULL;
	if (l == NULL || internet_address_list_length(l) < 1)
		return NULL;
	ia = internet_address_list_get_address(l, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return NULL;
	if (name)
		*name = internet_address_get_name(ia);
	return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
}

/* Levenshtein distance of a and b (short strings: domains), capped at 9. */
static unsigned
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[128], prev, tmp;

	if (la > 120 || lb > 120)
		return 9;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? prev
				 : 1 + (prev < row[j] ? (prev < row[j - 1] ? prev : row[j - 1]) : (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = tmp;
		}
	}
	return row[lb] > 9 ? 9 : row[lb];
}

/*
 * Does domain d look like the organisation's domain org without being it?
 * Within two edits (bulvvark.example), or holding org's name as a label or
 * a dash-separated part of one (bulwark-example.com, bulwark.example.co).
 */
static bool
lookalike(const char *d, const char *org)
{
	char name[128], tok[128];
	const char *p;
	size_t n = strcspn(org, ".");
	unsigned dist = distance(d, org);

	if (strlen(org) > 4 && dist > 0 && dist <= 2)
		return true;
	if (n < 3 || n >= sizeof name)
		return false;
	memcpy(name, org, n);
	name[n] = '\0';
	for (p = d; *p != '\0';) {
		size_t k = strcspn(p, ".-");
		if (k > 0 && k < sizeof tok) {
			memcpy(tok, p, k);
			tok[k] = '\0';
			if (strcasecmp(tok, name) == 0)
				return true;
		}
		p += k;
		if (*p != '\0')
			p++;
	}
	return false;
}

static void
sender_checks(struct walk *w, const char *where, GMimeMessage *msg)
{
	const char *name = NULL, *from = first_addr(g_mime_message_get_from(msg), &name);
	const char *reply = first_addr(g_mime_message_get_reply_to(msg), NULL);
	const char *rp = g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path");
	const char *fd = domain_of(from), *rd = domain_of(reply);
	char rpaddr[320] = "";
	size_t i;

	if (from == NULL)
		return;
	walk_indicator(w, "email", from);
	if (fd != NULL && rd != NULL && strcasecmp(fd, rd) != 0)
		walk_reason(w, 15, "reply_to_mismatch", where, "answers go to %.100s, not to the sender's domain %.100s", rd,
			    fd);
	if (rp != NULL) {
		const char *lt = strchr(rp, '<'), *gt = lt ? strchr(lt, '>') : NULL;
		if (lt != NULL && gt != NULL && (size_t)(gt - lt - 1) < sizeof rpaddr) {
			memcpy(rpaddr, lt + 1, (size_t)(gt - lt - 1));
			rpaddr[gt - lt - 1] = '\0';
		}
		if (domain_of(rpaddr) != NULL && fd != NULL && strcasecmp(domain_of(rpaddr), fd) != 0)
			walk_reason(w, 10, "return_path_mismatch", where, "bounces go to %.100s, not to the sender's domain %.100s",
				    domain_of(rpaddr), fd);
	}
	if (name != NULL && strchr(name, '@') != NULL && strcasestr(name, from) == NULL)
		walk_reason(w, 25, "display_name_spoof", where, "the sender's display name shows an address (%.120s) that "
			    "is not the sender's (%.120s)", name, from);
	for (i = 0; fd != NULL && i < w->t->o.norg; i++) {
		const char *org = w->t->o.org_domains[i];
		size_t lf = strlen(fd), lo = strlen(org);
		/* from the organisation itself or a subdomain of it (authentication is checked at intake) */
		if (strcasecmp(fd, org) == 0 || (lf > lo && fd[lf - lo - 1] == '.' && strcasecmp(fd + lf - lo, org) == 0))
			return;
	}
	for (i = 0; fd != NULL && i < w->t->o.norg; i++) {
		const char *org = w->t->o.org_domains[i];
		if (lookalike(fd, org)) {
			walk_reason(w, 40, "lookalike_domain", where, "the sender's domain %.100s looks like the organisation's "
				    "%.100s", fd, org);
			break;
		}
	}
	for (i = 0; fd != NULL && name != NULL && i < w->t->o.norg; i++)
		if (strcasestr(name, w->t->o.org_domains[i]) != NULL) {
			walk_reason(w, 25, "display_name_spoof", where, "the display name names the organisation's domain %.100s "
				    "but the mail comes from %.100s", w->t->o.org_domains[i], fd);
			break;
		}
}

/*
 * The password a lure gives after the word: "password: X", "password is X",
 * "Passwort - X", quoted or not; kept (up to 8) to try on its archives.
 */
static void
password_after(struct walk *w, const char *p, const char *end)
{
	static const char *const fillers[] = { "is", "ist", "=", ":", "-", "for", "the", "archive", "zip", "file", NULL };
	char word[64];
	int skipped = 0;

	while (p < end && skipped < 6) {
		size_t n = 0, i;
		bool filler = false;
		while (p < end && (isspace((unsigned char)*p) || *p == ':' || *p == '"' || *p == '\'' || *p == '='))
			p++;
		while (p < end && !isspace((unsigned char)*p) && *p != '"' && *p != '\'' && *p != '<' && n + 1 < sizeof word)
			word[n++] = *p++;
		while (n > 0 && strchr(".,;:)", word[n - 1]) != NULL)
			n--;
		word[n] = '\0';
		if (n == 0)
			return;
		for (i = 0; fillers[i] != NULL; i++)
			if (strcasecmp(word, fillers[i]) == 0)
				filler = true;
		if (!filler) {
			for (i = 0; i < w->npasswords; i++)
				if (strcmp(w->passwords[i], word) == 0)
					return;
			if (w->npasswords < sizeof w->passwords / sizeof w->passwords[0])
				memcpy(w->passwords[w->npasswords++], word, n + 1);
			return;
		}
		skipped++;
	}
}

static void
text_checks(struct mail_walk *m, const char *text, size_t len, bool html)
{
	size_t i, k;

	if (text == NULL || len == 0)
		return;
	urls_scan(m->w, m->where, text, len, html);
	for (i = 0; password_words[i] != NULL; i++) {
		const char *end = text + len, *p = triage_find_ci(text, end, password_words[i]);
		if (p != NULL) {
			m->w->password_hint = true;
			password_after(m->w, p + strlen(password_words[i]), end);
		}
	}
	for (i = 0; lure_words[i] != NULL; i++) {
		bool seen = false;
		for (k = 0; k < m->lure_words && k < 8; k++)
			if (strcmp(m->lure_seen[k], lure_words[i]) == 0)
				seen = true;
		if (!seen && triage_find_ci(text, text + len, lure_words[i]) != NULL) {
			if (m->lure_words < 8)
				snprintf(m->lure_seen[m->lure_words], sizeof m->lure_seen[0], "%s", lure_words[i]);
			m->lure_words++;
		}
	}
}

/* A leaf part's content, transfer encoding undone (caller unrefs the array). */
static GByteArray *
part_bytes(GMimePart *part, uint64_t max)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *out;
	GByteArray *arr;

	if (content == NULL)
		return NULL;
	out = g_mime_stream_mem_new();
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	g_mime_data_wrapper_write_to_stream(content, out);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	g_object_unref(out);
	if (arr != NULL && arr->len > max) {
		g_byte_array_unref(arr);
		return NULL;
	}
	return arr;
}

/*
 * A message/rfc822 part sent base64 or quoted-printable (not allowed by RFC
 * 2046, but report buttons and forwarders do it): GMime parses the encoded
 * text as the message; decode it here so the original is walked.
 */
static void
decode_in_place(GMimeObject *part, GByteArray *arr)
{
	const char *cte = g_mime_object_get_header(part, "Content-Transfer-Encoding");
	GMimeContentEncoding ce = cte != NULL ? g_mime_content_encoding_from_string(cte) : GMIME_CONTENT_ENCODING_DEFAULT;
	GMimeEncoding enc;
	guint8 *out;
	size_t n;

	if (arr == NULL || (ce != GMIME_CONTENT_ENCODING_BASE64 && ce != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
		return;
	g_mime_encoding_init_decode(&enc, ce);
	if ((out = g_malloc(g_mime_encoding_outlen(&enc, arr->len) + 16)) == NULL)
		return;
	n = g_mime_encoding_step(&enc, (const char *)arr->data, arr->len, (char *)out);
	n += g_mime_encoding_flush(&enc, "", 0, (char *)out + n);
	g_byte_array_set_size(arr, 0);
	g_byte_array_append(arr, out, (guint)n);
	g_free(out);
}

static void
each_part(GMimeObject *parent, GMimeObject *part, gpointer ctx)
{
	struct mail_walk *m = ctx;
	char at[TRIAGE_WHERE_MAX];

	(void)parent;
	if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		GMimeStream *s;
		GByteArray *arr;
		if (inner == NULL || !m->attachments)
			return;
		s = g_mime_stream_mem_new();
		g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, s);
		arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
		decode_in_place(part, arr);
		walk_join(at, m->where, "(attached message)");
		if (m->depth + 1 > m->w->t->o.lim.depth) {
			if (!m->w->depth_reported)
				walk_reason(m->w, 30, "too_deep", at, "messages nested deeper than %u: not looked into",
					    m->w->t->o.lim.depth);
			m->w->depth_reported = true;
		} else if (arr != NULL) {
			m->w->members++;
			mail_walk(m->w, at, arr->data, arr->len, m->depth + 1);
		}
		g_object_unref(s);
		return;
	}
	if (GMIME_IS_PART(part)) {
		GMimeContentType *ct = g_mime_object_get_content_type(part);
		const char *fname = g_mime_part_get_filename(GMIME_PART(part));
		bool text = ct != NULL && g_mime_content_type_is_type(ct, "text", "*");
		bool html = ct != NULL && g_mime_content_type_is_type(ct, "text", "html");
		GByteArray *arr;
		if (++m->w->members > m->w->t->o.lim.members) {
			if (!m->w->members_reported)
				walk_reason(m->w, 30, "too_many_members", m->where, "more than %zu parts and members in all",
					    m->w->t->o.lim.members);
			m->w->members_reported = true;
			return;
		}
		if (m->attachments == (text && (fname == NULL || !g_mime_part_is_attachment(GMIME_PART(part))))) {
			m->w->members--;	/* the other pass's part */
			return;
		}
		if ((arr = part_bytes(GMIME_PART(part), m->w->t->o.lim.member)) == NULL) {
			walk_reason(m->w, 40, "archive_bomb", m->where, "a part larger than %llu MiB: not looked into",
				    (unsigned long long)(m->w->t->o.lim.member >> 20));
			return;
		}
		if (text && (fname == NULL || g_mime_part_is_attachment(GMIME_PART(part)) == FALSE))
			text_checks(m, (const char *)arr->data, arr->len, html);
		else if (ct != NULL && g_mime_content_type_is_type(ct, "message", "rfc822")) {
			/* an attached message that GMime kept as a leaf (sent base64): walked as a mail */
			walk_join(at, m->where, "(attached message)");
			walk_blob(m->w, at, fname != NULL ? fname : "", arr->data, arr->len, m->depth);
			if (m->depth + 1 <= m->w->t->o.lim.depth)
				mail_walk(m->w, at, arr->data, arr->len, m->depth + 1);
		} else {
			walk_join(at, m->where, fname != NULL ? fname : "(unnamed part)");
			walk_blob(m->w, at, fname != NULL ? fname : "", arr->data, arr->len, m->depth);
		}
		g_byte_array_unref(arr);
	}
}

void
mail_walk(struct walk *w, const char *where, const uint8_t *data, size_t len, unsigned depth)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	struct mail_walk m = { .w = w, .where = where, .depth = depth };
	const char *subject;

	if (msg == NULL) {
		walk_reason(w, 0, "not_a_mail", where, "not a mail GMime can read");
		goto out;
	}
	sender_checks(w, where, msg);
	if (g_mime_object_get_header(GMIME_OBJECT(msg), "List-Unsubscribe") != NULL ||
	    (g_mime_object_get_header(GMIME_OBJECT(msg), "Precedence") != NULL &&
	     strcasecmp(g_mime_object_get_header(GMIME_OBJECT(msg), "Precedence"), "bulk") == 0))
		w->bulk = true;
	if ((subject = g_mime_message_get_subject(msg)) != NULL)
		text_checks(&m, subject, strlen(subject), false);
	g_mime_message_foreach(msg, each_part, &m);
	m.attachments = true;
	g_mime_message_foreach(msg, each_part, &m);
	if (m.lure_words >= 2)
		walk_reason(w, 10, "job_lure_wording", where, "job-offer wording (%s, %s%s): a weak signal alone",
			    m.lure_seen[0], m.lure_seen[1], m.lure_words > 2 ? ", ..." : "");
out:
	if (msg != NULL)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
}
