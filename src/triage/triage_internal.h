/* triage/triage_internal.h: the walk over a sample, shared by the files of the triage module. */
#ifndef BW_TRIAGE_INTERNAL_H
#define BW_TRIAGE_INTERNAL_H

#include <magic.h>

#include "crypto/crypto.h"
#include "triage.h"

#define TRIAGE_WHERE_MAX 1024		/* a member path, bounded */
#define TRIAGE_INDICATORS_MAX 2000
#define TRIAGE_REASONS_MAX 500

struct triage {
	struct triage_opts o;
	char **org;			/* o.org_domains, owned copies */
	char *yara_dir;			/* o.yara_dir, owned */
	magic_t mime, desc;
	struct YR_RULES *rules;		/* compiled YARA rules (yara.c) */
	bool yara_initialized;
};

/* One sample's walk: the findings so far. */
struct walk {
	struct triage *t;
	json_t *reasons, *indicators;
	int score;
	size_t members;
	uint64_t unpacked;
	bool bulk;			/* mail with List-Unsubscribe / Precedence: bulk */
	bool password_hint;		/* a mail's text gives a password */
	char passwords[8][64];		/* ... the words after it: tried on encrypted archives */
	size_t npasswords;
	bool encrypted_seen;		/* an encrypted archive member */
	bool bounded;			/* a bound was hit (reported once per kind) */
	bool depth_reported, members_reported, total_reported;
	struct bw_sha256 *h;
};

/* A finding: weight points towards the verdict, a stable code, where it was found, and why. */
void walk_reason(struct walk *w, int weight, const char *code, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* An indicator for sharing (deduplicated; bounded). */
void walk_indicator(struct walk *w, const char *type, const char *value);
/* A sample or member: its hash, true type against its name, then what is inside. */
void walk_blob(struct walk *w, const char *where, const char *name, const uint8_t *data, size_t len, unsigned depth);
/* Makes s valid UTF-8 in place: each byte that does not start a valid sequence becomes '?'. */
void triage_utf8_fix(char *s);
/* Next occurrence of needle in [p, end), ignoring case; NULL when none. */
const char *triage_find_ci(const char *p, const char *end, const char *needle);
/* where + "/" + name, bounded and made printable, into out. */
void walk_join(char out[TRIAGE_WHERE_MAX], const char *where, const char *name);

/* names.c: the name against the true type (double extensions, bidi controls, executables, scripts, images). */
void names_check(struct walk *w, const char *where, const char *name, const char *mime, const char *desc);
/* archive.c: the members of an archive or disk image, under the walk's bounds. */
void archive_walk(struct walk *w, const char *where, const uint8_t *data, size_t len, unsigned depth, bool ooxml);
/* mail.c: headers, text (URLs, lure wording, passwords), attachments and attached messages. */
void mail_walk(struct walk *w, const char *where, const uint8_t *data, size_t len, unsigned depth);
/* content.c: PDF actions, RTF templates and objects, OOXML relationships. */
void pdf_check(struct walk *w, const char *where, const uint8_t *data, size_t len);
void rtf_check(struct walk *w, const char *where, const uint8_t *data, size_t len);
void ooxml_part_check(struct walk *w, const char *where, const char *part, const uint8_t *data, size_t len,
		      unsigned depth);
/* yara.c: compile bulwark's rules and o.yara_dir's into t->rules; free them; scan one blob. */
int yara_load(struct triage *t, struct bw_err *err);
void yara_unload(struct triage *t);
void yara_scan(struct walk *w, const char *where, const uint8_t *data, size_t len);
/* office.c: VBA projects (OLE2, or an OOXML vbaProject.bin) read with libgsf, weighed by MacroRaptor's rule. */
void vba_check(struct walk *w, const char *where, const uint8_t *data, size_t len);
/* urls.c: URLs in text or HTML (href targets against the link text), as indicators and reasons. */
void urls_scan(struct walk *w, const char *where, const char *text, size_t len, bool html);
/* Lower-case host of an http(s) URL into host (cap bytes); false when there is none. */
bool url_host(const char *url, char *host, size_t cap);

#endif
