/*
 * triage/office.c: VBA macros in OLE2 documents (.doc, .xls, .ppt) and in
 * OOXML ones (vbaProject.bin), read with libgsf: the VBA project found and
 * each module's source decompressed (MS-OVBA). A module is weighed with
 * MacroRaptor's rule: automatic execution AND (writing to disk OR
 * running something) is suspicious; downloads weigh too. The source is
 * scanned with YARA.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile-msvba.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>

#include "triage_internal.h"

/* MacroRaptor's keywords (case-insensitive, as whole words where it matters). */
static const char *const autoexec[] = { "AutoOpen", "Auto_Open", "AutoExec", "AutoClose", "Auto_Close", "AutoNew",
					"Document_Open", "Document_Close", "Document_New", "DocumentOpen",
					"Workbook_Open", "Workbook_Activate", "Workbook_Close", "Presentation_Open",
					"Document_ContentControlOnEnter", "_Painted", "_GotFocus", "_Layout", NULL };
static const char *const writes[] = { "Open", "FileCopy", "SaveToFile", "CreateTextFile", "ADODB.Stream", "Put",
				      "Print #", "Write #", "MkDir", "Kill", "SaveAs", NULL };
static const char *const runs[] = { "Shell", "WScript.Shell", "ShellExecute", "vbNormalFocus", "vbHide",
				    "CreateObject", "GetObject", "CallByName", "MacScript", "Lib", "ExecuteExcel4Macro",
				    "Run", "Exec", NULL };
static const char *const downloads[] = { "URLDownloadToFile", "XMLHTTP", "WinHttp", "Msxml2", "InternetExplorer",
					 NULL };

static bool
word_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Is one of the words in text (a whole word; for "Open", only in a file-opening statement)? */
static const char *
has_word(const char *text, const char *const *words)
{
	size_t i;

	for (i = 0; words[i] != NULL; i++) {
		const char *p = text;
		size_t n = strlen(words[i]);
		while ((p = strcasestr(p, words[i])) != NULL) {
			bool start = p == text || !word_char((unsigned char)p[-1]);
			bool end = !word_char((unsigned char)p[n]) || !word_char((unsigned char)words[i][n - 1]);
			if (start && end) {
				/* "Open path For Output|Append|Binary": writing a file; "Open" alone is anything */
				if (strcmp(words[i], "Open") == 0) {
					const char *line_end = strchr(p, '\n');
					const char *f = strcasestr(p, " For ");
					if (f != NULL && (line_end == NULL || f < line_end) &&
					    (strncasecmp(f + 5, "Output", 6) == 0 || strncasecmp(f + 5, "Append", 6) == 0 ||
					     strncasecmp(f + 5, "Binary", 6) == 0))
						return words[i];
				} else {
					return words[i];
				}
			}
			p += n;
		}
	}
	return NULL;
}

/* One module's source (size bytes): weighed, scanned. */
static void
one_module(struct walk *w, const char *where, const char *name, const char *src, size_t size)
{
	const char *a, *wr, *ru, *dl;
	char at[TRIAGE_WHERE_MAX], mod[200];

	snprintf(mod, sizeof mod, "(VBA %.150s)", name);
	walk_join(at, where, mod);
	yara_scan(w, at, (const uint8_t *)src, size);
	urls_scan(w, at, src, size, false);
	a = has_word(src, autoexec);
	wr = has_word(src, writes);
	ru = has_word(src, runs);
	dl = has_word(src, downloads);
	if (a != NULL && (wr != NULL || ru != NULL))
		walk_reason(w, 70, "vba_macroraptor", at,
			    "a macro that runs by itself (%s) and %s (%s): suspicious by MacroRaptor's rule", a,
			    ru != NULL ? "runs programs" : "writes files", ru != NULL ? ru : wr);
	else if (a != NULL)
		walk_reason(w, 20, "vba_autoexec", at, "a macro that runs by itself when the document opens (%s)", a);
	if (dl != NULL)
		walk_reason(w, 30, "vba_download", at, "the macro downloads (%s)", dl);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The project's dir stream (MS-OVBA 2.3.4.2, decompressed), records of
 * id (2 bytes), size (4), data: each module's stream name (0x001A) and
 * source offset (0x0031), ended by 0x002B; the source read from that
 * stream at that offset and decompressed (libgsf's gsf_vba_inflate).
 * Returns how many modules were read.
 */
static size_t
modules(struct walk *w, const char *where, GsfInfile *vba, const uint8_t *dir, size_t len)
{
	char stream[256] = "", name[256] = "";
	uint32_t offset = 0;
	size_t p = 0, n = 0;
	bool have_offset = false;

	while (p + 6 <= len && n < 256) {
		uint16_t id = (uint16_t)(dir[p] | dir[p + 1] << 8);
		uint32_t size = le32(dir + p + 2);
		if (id == 0x0009)	/* PROJECTVERSION: its size field says 4, its data is 6 bytes */
			size = 6;
		if (size > len - p - 6)
			break;	/* a record past the end: the rest is not read */
		if (id == 0x0019 || id == 0x001A) {
			char *dst = id == 0x0019 ? name : stream;
			size_t k = size < 255 ? size : 255, i;
			for (i = 0; i < k; i++)
				dst[i] = dir[p + 6 + i] >= 0x20 && dir[p + 6 + i] < 0x7f ? (char)dir[p + 6 + i] : '_';
			dst[k] = '\0';
		} else if (id == 0x0031 && size == 4) {
			offset = le32(dir + p + 6);
			have_offset = true;
		} else if (id == 0x002B) {	/* end of a module */
			GsfInput *in = stream[0] ? gsf_infile_child_by_name(vba, stream) : NULL;
			if (in != NULL && have_offset && (gsf_off_t)offset < gsf_input_size(in)) {
				int size_out = 0;
				guint8 *src = gsf_vba_inflate(in, (gsf_off_t)offset, &size_out, TRUE);
				if (src != NULL && size_out > 0) {
					one_module(w, where, name[0] ? name : stream, (const char *)src, (size_t)size_out);
					n++;
				}
				g_free(src);
			}
			if (in != NULL)
				g_object_unref(in);
			stream[0] = name[0] = '\0';
			have_offset = false;
		} else if (id == 0x0010) {
			break;
		}
		p += 6 + size;
	}
	return n;
}

void
vba_check(struct walk *w, const char *where, const uint8_t *data, size_t len)
{
	static const char *const places[][3] = { { "VBA", NULL, NULL },			/* vbaProject.bin (OOXML) */
						 { "_VBA_PROJECT_CUR", "VBA", NULL },	/* Excel 97 */
						 { "Macros", "VBA", NULL },		/* Word 97 */
						 { "_VBA_PROJECT", "VBA", NULL } };
	GsfInput *in, *dirin = NULL;
	GsfInfile *ole = NULL, *vba = NULL;
	GError *gerr = NULL;
	guint8 *dir;
	int dirlen = 0;
	size_t n = 0, i;

	gsf_init();
	if ((in = gsf_input_memory_new(data, (gsf_off_t)len, FALSE)) == NULL)
		return;
	ole = gsf_infile_msole_new(in, &gerr);
	if (gerr != NULL)
		g_error_free(gerr);
	for (i = 0; ole != NULL && vba == NULL && i < sizeof places / sizeof places[0]; i++) {
		GsfInput *c = places[i][1] == NULL ? gsf_infile_child_by_vname(ole, places[i][0], NULL)
						   : gsf_infile_child_by_vname(ole, places[i][0], places[i][1], NULL);
		if (c != NULL && GSF_IS_INFILE(c) && gsf_infile_num_children(GSF_INFILE(c)) >= 0)
			vba = GSF_INFILE(c);
		else if (c != NULL)
			g_object_unref(c);
	}
	if (vba != NULL && (dirin = gsf_infile_child_by_name(vba, "dir")) != NULL) {
		if ((dir = gsf_vba_inflate(dirin, 0, &dirlen, FALSE)) != NULL && dirlen > 0)
			n = modules(w, where, vba, dir, (size_t)dirlen);
		g_free(dir);
		g_object_unref(dirin);
	}
	if (vba != NULL && n == 0)
		walk_reason(w, 20, "vba_macro", where, "the document carries a VBA project whose modules could not be read");
	else if (n > 0)
		walk_reason(w, 20, "vba_macro", where, "the document carries %zu VBA module%s", n, n == 1 ? "" : "s");
	if (vba != NULL)
		g_object_unref(vba);
	if (ole != NULL)
		g_object_unref(ole);
	g_object_unref(in);
}
