/*
 * triage/walk.c: the engine (libmagic's database, GMime) and the walk over
 * one sample: each blob hashed and typed, its name checked against its true
 * type, then handed to the reader of its kind (mail, archive, document);
 * findings summed into a verdict.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "triage_internal.h"

void
triage_limits_default(struct triage_limits *l)
{
	l->depth = 8;
	l->members = 5000;
	l->total = (uint64_t)512 << 20;
	l->member = (uint64_t)128 << 20;
	l->ratio = 100;
}

const char *
triage_verdict_name(enum triage_verdict v)
{
	switch (v) {
	case TRIAGE_CLEAN:
		return "clean";
	case TRIAGE_SPAM:
		return "spam";
	case TRIAGE_SUSPICIOUS:
		return "suspicious";
	case TRIAGE_THREAT:
		return "threat";
	}
	return "?";
}

int
triage_new(const struct triage_opts *o, struct triage **out, struct bw_err *err)
{
	struct triage *t = calloc(1, sizeof *t);
	size_t i;

	*out = NULL;
	if (t == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	t->o = *o;
	if (o->norg > 0 && (t->org = calloc(o->norg, sizeof *t->org)) == NULL)
		goto nomem;
	for (i = 0; i < o->norg; i++)
		if ((t->org[i] = strdup(o->org_domains[i])) == NULL)
			goto nomem;
	t->o.org_domains = (const char *const *)t->org;
	/* no decompression inside libmagic: archives are libarchive's, under the walk's bounds */
	t->mime = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ENCODING | MAGIC_ERROR);
	t->desc = magic_open(MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ENCODING | MAGIC_ERROR);
	if (t->mime == NULL || t->desc == NULL || magic_load(t->mime, NULL) != 0 || magic_load(t->desc, NULL) != 0) {
		bw_err_set(err, BW_EIO, "libmagic: %s", t->mime && magic_error(t->mime) ? magic_error(t->mime)
							: "cannot load its database");
		triage_free(t);
		return BW_EIO;
	}
	g_mime_init();
	if (o->yara_dir != NULL && (t->yara_dir = strdup(o->yara_dir)) == NULL) {
		triage_free(t);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	t->o.yara_dir = t->yara_dir;
	if (yara_load(t, err) != 0) {
		triage_free(t);
		return err->code;
	}
	*out = t;
	return 0;
nomem:
	triage_free(t);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}

void
triage_free(struct triage *t)
{
	size_t i;

	if (t == NULL)
		return;
	yara_unload(t);
	free(t->yara_dir);
	if (t->mime)
		magic_close(t->mime);
	if (t->desc)
		magic_close(t->desc);
	for (i = 0; t->org != NULL && i < t->o.norg; i++)
		free(t->org[i]);
	free(t->org);
	free(t);
}

void
walk_join(char out[TRIAGE_WHERE_MAX], const char *where, const char *name)
{
	size_t o = 0, i;
	const char *parts[2] = { where, name };
	int k;

	for (k = 0; k < 2; k++) {
		if (parts[k] == NULL || parts[k][0] == '\0')
			continue;
		if (o > 0 && o + 1 < TRIAGE_WHERE_MAX)
			out[o++] = '/';
		for (i = 0; parts[k][i] != '\0' && o + 1 < TRIAGE_WHERE_MAX; i++) {
			unsigned char c = (unsigned char)parts[k][i];
			out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;	/* UTF-8 kept; controls shown as ? */
		}
	}
	out[o] = '\0';
}

void
triage_utf8_fix(char *s)
{
	size_t len = strlen(s), i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = bw_utf8_decode((const uint8_t *)s + i, len - i, &cp)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

void
walk_reason(struct walk *w, int weight, const char *code, const char *where, const char *fmt, ...)
{
	char text[512], at[TRIAGE_WHERE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(at, sizeof at, "%s", where != NULL ? where : "");
	triage_utf8_fix(text);	/* texts and paths carry names from the sample */
	triage_utf8_fix(at);
	w->score += weight;
	if (json_array_size(w->reasons) < TRIAGE_REASONS_MAX)
		json_array_append_new(w->reasons, json_pack("{s:s, s:s, s:s, s:i}", "code", code, "text", text, "where",
							     at, "weight", weight));
}

void
walk_indicator(struct walk *w, const char *type, const char *value)
{
	size_t i;
	json_t *it;

	if (value == NULL || value[0] == '\0' || strlen(value) > 2048 || json_array_size(w->indicators) >= TRIAGE_INDICATORS_MAX)
		return;
	json_array_foreach(w->indicators, i, it)
		if (strcmp(json_string_value(json_object_get(it, "type")), type) == 0 &&
		    strcmp(json_string_value(json_object_get(it, "value")), value) == 0)
			return;
	it = json_pack("{s:s, s:s}", "type", type, "value", value);	/* NULL when value is not UTF-8: dropped */
	if (it != NULL)
		json_array_append_new(w->indicators, it);
}

static bool
has_prefix(const char *s, const char *p)
{
	return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

static bool
is_mail(const char *mime, const char *name, unsigned depth)
{
	return strcmp(mime, "message/rfc822") == 0 || (depth == 0 && (name == NULL || name[0] == '\0'));
}

static bool
is_archive(const char *mime)
{
	static const char *const kinds[] = { "application/zip", "application/x-7z-compressed", "application/x-rar",
					     "application/x-rar-compressed", "application/vnd.rar",
					     "application/x-iso9660-image", "application/vnd.ms-cab-compressed",
					     "application/x-tar", "application/gzip", "application/x-xz", "application/x-bzip2",
					     "application/zstd", "application/x-cpio", NULL };
	size_t i;

	for (i = 0; kinds[i] != NULL; i++)
		if (strcmp(mime, kinds[i]) == 0)
			return true;
	return false;
}

enum container { CONTAINER_MAIL, CONTAINER_ARCHIVE, CONTAINER_OOXML };

/* Opens a container one level deeper, unless that passes the depth bound (then a finding, once). */
static void
open_container(struct walk *w, const char *where, const uint8_t *data, size_t len, unsigned depth, enum container kind)
{
	if (depth + 1 > w->t->o.lim.depth) {
		if (!w->depth_reported)
			walk_reason(w, 30, "too_deep", where, "containers nested deeper than %u: not opened",
				    w->t->o.lim.depth);
		w->depth_reported = true;
		return;
	}
	if (kind == CONTAINER_MAIL)
		mail_walk(w, where, data, len, depth + 1);
	else
		archive_walk(w, where, data, len, depth + 1, kind == CONTAINER_OOXML);
}

void
walk_blob(struct walk *w, const char *where, const char *name, const uint8_t *data, size_t len, unsigned depth)
{
	char mime[128] = "", desc[256] = "", hex[65];
	const char *m, *d;
	uint8_t sum[32];
	size_t i;
	static const uint8_t empty[1];

	if (data == NULL || len == 0) {
		data = empty;	/* an empty part: no NULL handed to the libraries */
		len = 0;
	}
	bw_sha256_digest(w->h, data, len, sum);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	if (len > 0)
		walk_indicator(w, "sha256", hex);
	m = magic_buffer(w->t->mime, data, len);
	d = magic_buffer(w->t->desc, data, len);
	snprintf(mime, sizeof mime, "%s", m ? m : "application/octet-stream");
	snprintf(desc, sizeof desc, "%s", d ? d : "data");
	names_check(w, where, name, mime, desc);
	yara_scan(w, where, data, len);
	if (is_mail(mime, name, depth))
		open_container(w, where, data, len, depth, CONTAINER_MAIL);
	else if (strcmp(mime, "application/pdf") == 0)
		pdf_check(w, where, data, len);
	else if (strcmp(mime, "text/rtf") == 0 || (len > 5 && memcmp(data, "{\\rtf", 5) == 0))
		rtf_check(w, where, data, len);
	else if (has_prefix(mime, "application/vnd.openxmlformats-officedocument.") ||
		 has_prefix(mime, "application/vnd.ms-word.") || has_prefix(mime, "application/vnd.ms-excel.") ||
		 has_prefix(mime, "application/vnd.ms-powerpoint."))
		open_container(w, where, data, len, depth, CONTAINER_OOXML);
	else if (is_archive(mime))
		open_container(w, where, data, len, depth, CONTAINER_ARCHIVE);
	else if (strcmp(mime, "application/x-ole-storage") == 0 || strcmp(mime, "application/msword") == 0 ||
		 strcmp(mime, "application/vnd.ms-excel") == 0 || strcmp(mime, "application/vnd.ms-powerpoint") == 0 ||
		 strcmp(mime, "application/vnd.ms-office") == 0 || strncmp(desc, "Composite Document File", 23) == 0)
		vba_check(w, where, data, len);
}

int
triage_scan(struct triage *t, const char *name, const uint8_t *data, size_t len, json_t **result, struct bw_err *err)
{
	struct walk w = { .t = t };
	char top[TRIAGE_WHERE_MAX];
	enum triage_verdict v;
	int r;

	*result = NULL;
	if ((r = bw_sha256_new(&w.h, err)) != 0)
		return r;
	w.reasons = json_array();
	w.indicators = json_array();
	if (w.reasons == NULL || w.indicators == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	walk_join(top, name != NULL && name[0] ? name : "(mail)", NULL);
	walk_blob(&w, top, name, data, len, 0);
	if (w.encrypted_seen && w.password_hint)
		walk_reason(&w, 30, "password_in_mail", top,
			    "an encrypted archive with its password in the mail's text: a classic lure that keeps the "
			    "content from scanners");
	v = w.score >= TRIAGE_THREAT_AT ? TRIAGE_THREAT : w.score >= TRIAGE_SUSPICIOUS_AT ? TRIAGE_SUSPICIOUS
	    : w.bulk ? TRIAGE_SPAM : TRIAGE_CLEAN;
	*result = json_pack("{s:s, s:i, s:O, s:O, s:I}", "verdict", triage_verdict_name(v), "score",
			    w.score > 100 ? 100 : w.score, "reasons", w.reasons, "indicators", w.indicators, "members",
			    (json_int_t)w.members);
	if (*result == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	json_decref(w.reasons);
	json_decref(w.indicators);
	bw_sha256_free(w.h);
	return r;
}
