/*
 * triage/archive.c: the members of archives and disk images (zip, 7z, rar,
 * cab, tar, cpio, ISO 9660, each possibly compressed) read with libarchive
 * from memory, each walked in turn, under the walk's bounds: nesting depth,
 * members in all, bytes in all and per member, and the ratio of unpacked to
 * packed bytes. A bound hit is a finding (a zip bomb is a finding, not an
 * outage) and the rest of that archive is not read. Encrypted members
 * cannot be read: that is a finding too. OOXML documents (zip) go through
 * here with their parts checked as parts (content.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "triage_internal.h"

#define MIB ((uint64_t)1 << 20)

/* Reads the current member's data (at most the per-member bound) into *out; false when a bound was hit. */
static bool
read_member(struct walk *w, struct archive *a, const char *where, bool encrypted, uint64_t packed,
	    uint64_t *archive_total, uint8_t **out, size_t *outlen, bool *unreadable)
{
	const struct triage_limits *lim = &w->t->o.lim;
	uint8_t *buf = NULL, *grown;
	size_t len = 0, cap = 0;
	char chunk[65536];
	la_ssize_t n;

	*out = NULL;
	*outlen = 0;
	*unreadable = false;
	while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
		if (len + (size_t)n > lim->member) {
			walk_reason(w, 40, "archive_bomb", where, "a member larger than %llu MiB: not unpacked further",
				    (unsigned long long)(lim->member / MIB));
			free(buf);
			return false;
		}
		*archive_total += (uint64_t)n;
		w->unpacked += (uint64_t)n;
		if (w->unpacked > lim->total) {
			if (!w->total_reported)
				walk_reason(w, 40, "archive_bomb", where,
					    "more than %llu MiB unpacked in all: the rest is not unpacked",
					    (unsigned long long)(lim->total / MIB));
			w->total_reported = true;
			free(buf);
			return false;
		}
		if (*archive_total > MIB && packed > 0 && *archive_total / packed > lim->ratio) {
			walk_reason(w, 40, "archive_bomb", where,
				    "unpacks to more than %u times its size (a compression bomb): not unpacked further",
				    lim->ratio);
			free(buf);
			return false;
		}
		if (len + (size_t)n > cap) {
			size_t ncap = cap == 0 ? 65536 : cap;
			while (ncap < len + (size_t)n)
				ncap *= 2;
			if ((grown = realloc(buf, ncap)) == NULL) {
				free(buf);
				return false;
			}
			buf = grown;
			cap = ncap;
		}
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	if (n < 0) {
		*unreadable = true;
		if (!encrypted)	/* an encrypted one no password fitted: the caller looks at its name */
			walk_reason(w, 10, "unreadable_member", where, "could not be unpacked: %.200s",
				    archive_error_string(a) ? archive_error_string(a) : "error");
	}
	*out = buf;
	*outlen = len;
	return true;
}

void
archive_walk(struct walk *w, const char *where, const uint8_t *data, size_t len, unsigned depth, bool ooxml)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t archive_total = 0;
	bool encrypted_reported = false;
	int r;

	if (a == NULL)
		return;
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_read_support_format_raw(a);	/* a single compressed file (.gz, .xz) */
	for (size_t i = 0; i < w->npasswords; i++)	/* the passwords a mail gave: lures send them along */
		archive_read_add_passphrase(a, w->passwords[i]);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		walk_reason(w, 10, "unreadable_archive", where, "looks like an archive but does not open: %.200s",
			    archive_error_string(a) ? archive_error_string(a) : "error");
		archive_read_free(a);
		return;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(e);
		char at[TRIAGE_WHERE_MAX];
		uint8_t *m = NULL;
		size_t mlen = 0;
		bool unreadable;

		if (name == NULL)
			name = archive_entry_pathname(e);
		if (name == NULL)
			name = "(no name)";
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (++w->members > w->t->o.lim.members) {
			if (!w->members_reported)
				walk_reason(w, 30, "too_many_members", where,
					    "more than %zu members in all: the rest is not looked at", w->t->o.lim.members);
			w->members_reported = true;
			break;
		}
		walk_join(at, where, name);
		if (archive_entry_is_encrypted(e)) {
			w->encrypted_seen = true;
			if (!encrypted_reported)
				walk_reason(w, 25, "encrypted_archive", where, "password-protected members (e.g. %.200s)%s", name,
					    w->npasswords > 0 ? "" : ": their content cannot be checked");
			encrypted_reported = true;
		}
		if (!read_member(w, a, at, archive_entry_is_encrypted(e), len, &archive_total, &m, &mlen, &unreadable))
			break;
		if (unreadable && archive_entry_is_encrypted(e))	/* no password fitted: the name still tells */
			names_check(w, at, name, "application/octet-stream", "data");
		if (!unreadable) {
			if (ooxml)
				ooxml_part_check(w, at, name, m, mlen, depth);
			else
				walk_blob(w, at, name, m, mlen, depth);
		}
		free(m);
	}
	if (r == ARCHIVE_FATAL)
		walk_reason(w, 10, "unreadable_archive", where, "the archive is damaged: %.200s",
			    archive_error_string(a) ? archive_error_string(a) : "error");
	archive_read_free(a);
}
