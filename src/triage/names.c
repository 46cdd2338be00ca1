/*
 * triage/names.c: a member's name against its true type (libmagic): what
 * runs (executables, shortcuts, scripts), what hides (a document extension
 * before the real one, bidi controls that reverse how the name reads, a
 * name that claims one type for another), and disk images, the container
 * that carries such files past "mark of the web" checks.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "triage_internal.h"

static const char *const runs[] = { "exe", "scr", "pif", "com", "cpl", "msi", "msp", "dll", "lnk", "js", "jse", "vbs",
				    "vbe", "wsf", "wsh", "hta", "ps1", "psm1", "bat", "cmd", "reg", "msc", "jar", "sct",
				    "chm", "appref-ms", "url", "library-ms", "search-ms", "xll", "iqy", "slk", NULL };
static const char *const scripts[] = { "js", "jse", "vbs", "vbe", "wsf", "wsh", "hta", "ps1", "psm1", "bat", "cmd",
				       "sct", "reg", NULL };
static const char *const looks_harmless[] = { "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "jpg",
					      "jpeg", "png", "gif", "csv", "odt", "htm", "html", "zip", NULL };
static const char *const images[] = { "iso", "img", "vhd", "vhdx", NULL };

static bool
in(const char *ext, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(ext, list[i]) == 0)
			return true;
	return false;
}

/* The extension before the last '.' of name at or before end, lower case (trailing spaces and dots skipped). */
static size_t
ext_before(const char *name, size_t end, char *ext, size_t cap)
{
	size_t e = end, dot, i, n;

	while (e > 0 && (name[e - 1] == ' ' || name[e - 1] == '.'))
		e--;
	for (dot = e; dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/'; dot--)
		;
	ext[0] = '\0';
	if (dot == 0 || name[dot - 1] != '.' || e - dot == 0 || e - dot >= cap)
		return 0;
	n = e - dot;
	for (i = 0; i < n; i++)
		ext[i] = (char)tolower((unsigned char)name[dot + i]);
	ext[n] = '\0';
	return dot - 1;		/* where the '.' is */
}

/* A bidi control (U+200E, U+200F, U+061C, U+202A..U+202E, U+2066..U+2069) in name, as UTF-8. */
static bool
has_bidi(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	for (; *p != '\0'; p++) {
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae)))
			return true;
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
			return true;
		if (p[0] == 0xd8 && p[1] == 0x9c)
			return true;
	}
	return false;
}

static bool
is_executable(const char *mime, const char *desc)
{
	return strcmp(mime, "application/x-dosexec") == 0 || strcmp(mime, "application/x-msdownload") == 0 ||
	       strcmp(mime, "application/vnd.microsoft.portable-executable") == 0 ||
	       strcmp(mime, "application/x-executable") == 0 || strcmp(mime, "application/x-pie-executable") == 0 ||
	       strcmp(mime, "application/x-sharedlib") == 0 || strcmp(mime, "application/x-mach-binary") == 0 ||
	       strcmp(mime, "application/x-msi") == 0 || strncmp(desc, "PE32", 4) == 0 ||
	       strncmp(desc, "MS-DOS executable", 17) == 0 || strncmp(desc, "ELF ", 4) == 0;
}

void
names_check(struct walk *w, const char *where, const char *name, const char *mime, const char *desc)
{
	char last[24], prev[24];
	size_t dot = 0;
	bool exe = is_executable(mime, desc);
	bool lnk = strcmp(mime, "application/x-ms-shortcut") == 0 || strncmp(desc, "MS Windows shortcut", 19) == 0;
	bool iso = strcmp(mime, "application/x-iso9660-image") == 0;

	if (name == NULL)
		name = "";
	if (name[0] != '\0')
		dot = ext_before(name, strlen(name), last, sizeof last);
	else
		last[0] = '\0';
	prev[0] = '\0';
	if (dot > 0)
		ext_before(name, dot, prev, sizeof prev);
	if (has_bidi(name))
		walk_reason(w, 70, "bidi_name", where,
			    "the name holds a bidirectional-text control character: it reads other than it is");
	if (exe)
		walk_reason(w, 60, "executable", where, "an executable program (%.120s)", desc);
	if (lnk)
		walk_reason(w, 60, "shortcut", where,
			    "a Windows shortcut (.lnk): it runs a command when opened (the Dream Job lures' favourite)");
	if (!exe && !lnk && last[0] != '\0' && in(last, scripts))
		walk_reason(w, 50, "script", where, "a script file (.%s) that Windows runs when it is opened", last);
	if (iso || in(last, images))
		walk_reason(w, 30, "disk_image", where,
			    "a disk image (%s): files inside it escape the mark-of-the-web checks", iso ? "ISO 9660" : last);
	if (prev[0] != '\0' && in(prev, looks_harmless) && in(last, runs))
		walk_reason(w, 70, "double_extension", where, "named .%s.%s: a harmless-looking extension before the one "
			    "that counts", prev, last);
	else if (last[0] != '\0' && in(last, looks_harmless) && (exe || lnk))
		walk_reason(w, 70, "type_mismatch", where, "named .%s but it is %s", last,
			    exe ? "an executable program" : "a Windows shortcut");
	else if (strcmp(last, "pdf") == 0 && strcmp(mime, "application/pdf") != 0)
		walk_reason(w, 20, "type_mismatch", where, "named .pdf but it is %.100s", mime);
}
