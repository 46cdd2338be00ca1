/*
 * vba_tool: writes OLE2 files holding a VBA project, for the triage tests
 * (no Debian tool writes VBA): the OLE2 container with libgsf's
 * GsfOutfileMSOle, the project's dir stream and module streams per
 * MS-OVBA (records of 2.3.4.2, compressed per 2.4.1: literal tokens only).
 *   vba_tool bin OUT MODULE SOURCE    a vbaProject.bin (the VBA storage at the root, for OOXML)
 *   vba_tool xls OUT MODULE SOURCE    an Excel 97 workbook (Workbook stream, _VBA_PROJECT_CUR/VBA)
 *   vba_tool doc OUT MODULE SOURCE    a Word 97 document (WordDocument stream, Macros/VBA)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-stdio.h>
#include <gsf/gsf-utils.h>

struct buf {
	uint8_t d[65536];
	size_t n;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof b->d) {
		fprintf(stderr, "vba_tool: too large\n");
		exit(1);
	}
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void
u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	put(b, x, 2);
}

static void
u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(b, x, 4);
}

static void
rec(struct buf *b, uint16_t id, const void *p, uint32_t n)
{
	u16(b, id);
	u32(b, n);
	put(b, p, n);
}

static void
rec32(struct buf *b, uint16_t id, uint32_t v)
{
	u16(b, id);
	u32(b, 4);
	u32(b, v);
}

static void
rec_utf16(struct buf *b, uint16_t id, const char *ascii)
{
	uint8_t w[512];
	size_t i, n = strlen(ascii);

	for (i = 0; i < n && 2 * i + 1 < sizeof w; i++) {
		w[2 * i] = (uint8_t)ascii[i];
		w[2 * i + 1] = 0;
	}
	rec(b, id, w, (uint32_t)(2 * n));
}

/* MS-OVBA 2.4.1 compression with literal tokens only: one chunk per 3,640 bytes (each at most 4,098 bytes). */
static void
compress(struct buf *out, const uint8_t *in, size_t n)
{
	size_t off = 0;
	uint8_t sig = 1;

	put(out, &sig, 1);
	while (off < n) {
		size_t take = n - off > 3640 ? 3640 : n - off, i;
		struct buf chunk = { .n = 0 };
		for (i = 0; i < take; i += 8) {
			uint8_t flag = 0;
			put(&chunk, &flag, 1);
			put(&chunk, in + off + i, take - i < 8 ? take - i : 8);
		}
		u16(out, (uint16_t)(0x8000 | 0x3000 | (uint16_t)(chunk.n + 2 - 3)));
		put(out, chunk.d, chunk.n);
		off += take;
	}
}

static void
stream(GsfOutfile *dir, const char *name, const uint8_t *p, size_t n)
{
	GsfOutput *o = gsf_outfile_new_child(dir, name, FALSE);
	if (o == NULL || !gsf_output_write(o, n, p) || !gsf_output_close(o)) {
		fprintf(stderr, "vba_tool: cannot write %s\n", name);
		exit(1);
	}
	g_object_unref(o);
}

/* The VBA storage: dir, _VBA_PROJECT, and the module's stream. */
static void
vba_storage(GsfOutfile *vba, const char *module, const uint8_t *src, size_t srclen)
{
	static const uint8_t vba_project[7] = { 0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00 };
	struct buf dir = { .n = 0 }, cdir = { .n = 0 }, csrc = { .n = 0 };

	rec32(&dir, 0x0001, 1);			/* PROJECTSYSKIND: Win32 */
	rec32(&dir, 0x0002, 0x409);		/* PROJECTLCID */
	rec32(&dir, 0x0014, 0x409);		/* PROJECTLCIDINVOKE */
	u16(&dir, 0x0003);			/* PROJECTCODEPAGE */
	u32(&dir, 2);
	u16(&dir, 1252);
	rec(&dir, 0x0004, "VBAProject", 10);	/* PROJECTNAME */
	rec(&dir, 0x0005, "", 0);		/* PROJECTDOCSTRING */
	rec(&dir, 0x0040, "", 0);
	rec(&dir, 0x0006, "", 0);		/* PROJECTHELPFILEPATH */
	rec(&dir, 0x003D, "", 0);
	rec32(&dir, 0x0007, 0);			/* PROJECTHELPCONTEXT */
	rec32(&dir, 0x0008, 0);			/* PROJECTLIBFLAGS */
	u16(&dir, 0x0009);			/* PROJECTVERSION: reserved 4, major, minor */
	u32(&dir, 4);
	u32(&dir, 1);
	u16(&dir, 0);
	rec(&dir, 0x000C, "", 0);		/* PROJECTCONSTANTS */
	rec(&dir, 0x003C, "", 0);
	u16(&dir, 0x000F);			/* PROJECTMODULES: one */
	u32(&dir, 2);
	u16(&dir, 1);
	u16(&dir, 0x0013);			/* PROJECTCOOKIE */
	u32(&dir, 2);
	u16(&dir, 0xFFFF);
	rec(&dir, 0x0019, module, (uint32_t)strlen(module));	/* MODULENAME */
	rec_utf16(&dir, 0x0047, module);			/* MODULENAMEUNICODE */
	rec(&dir, 0x001A, module, (uint32_t)strlen(module));	/* MODULESTREAMNAME */
	rec_utf16(&dir, 0x0032, module);
	rec(&dir, 0x001C, "", 0);		/* MODULEDOCSTRING */
	rec(&dir, 0x0048, "", 0);
	rec32(&dir, 0x0031, 0);			/* MODULEOFFSET: the source starts the stream */
	rec32(&dir, 0x001E, 0);			/* MODULEHELPCONTEXT */
	u16(&dir, 0x002C);			/* MODULECOOKIE */
	u32(&dir, 2);
	u16(&dir, 0xFFFF);
	rec(&dir, 0x0021, "", 0);		/* MODULETYPE: procedural */
	rec(&dir, 0x002B, "", 0);		/* module terminator */
	rec(&dir, 0x0010, "", 0);		/* dir terminator */
	compress(&cdir, dir.d, dir.n);
	compress(&csrc, src, srclen);
	stream(vba, "dir", cdir.d, cdir.n);
	stream(vba, "_VBA_PROJECT", vba_project, sizeof vba_project);
	stream(vba, module, csrc.d, csrc.n);
}

int
main(int argc, char **argv)
{
	static uint8_t src[60000];
	static const char project[] = "ID=\"{00000000-0000-0000-0000-000000000000}\"\r\nModule=Module1\r\n"
				      "Name=\"VBAProject\"\r\nHelpContextID=\"0\"\r\nVersionCompatible32=\"393222000\"\r\n";
	GsfOutput *sink;
	GsfOutfile *ole, *vba, *parent = NULL;
	GError *err = NULL;
	FILE *f;
	size_t n;

	if (argc != 5 || (strcmp(argv[1], "bin") && strcmp(argv[1], "xls") && strcmp(argv[1], "doc"))) {
		fprintf(stderr, "usage: vba_tool bin|xls|doc OUT MODULE SOURCE\n");
		return 2;
	}
	if ((f = fopen(argv[4], "rb")) == NULL || (n = fread(src, 1, sizeof src, f)) == 0) {
		fprintf(stderr, "vba_tool: cannot read %s\n", argv[4]);
		return 1;
	}
	fclose(f);
	gsf_init();
	if ((sink = gsf_output_stdio_new(argv[2], &err)) == NULL) {
		fprintf(stderr, "vba_tool: %s\n", err->message);
		return 1;
	}
	ole = gsf_outfile_msole_new(sink);
	if (strcmp(argv[1], "xls") == 0) {
		static const uint8_t bof[] = { 0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00, 0xBB, 0x0D, 0xCC, 0x07,
					       0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00 };
		stream(ole, "Workbook", bof, sizeof bof);
		parent = GSF_OUTFILE(gsf_outfile_new_child(ole, "_VBA_PROJECT_CUR", TRUE));
	} else if (strcmp(argv[1], "doc") == 0) {
		static const uint8_t fib[32] = { 0xEC, 0xA5, 0xC1, 0x00 };
		stream(ole, "WordDocument", fib, sizeof fib);
		parent = GSF_OUTFILE(gsf_outfile_new_child(ole, "Macros", TRUE));
	}
	vba = GSF_OUTFILE(gsf_outfile_new_child(parent != NULL ? parent : ole, "VBA", TRUE));
	vba_storage(vba, argv[3], src, n);
	gsf_output_close(GSF_OUTPUT(vba));
	g_object_unref(vba);
	stream(parent != NULL ? parent : ole, "PROJECT", (const uint8_t *)project, strlen(project));
	if (parent != NULL) {
		gsf_output_close(GSF_OUTPUT(parent));
		g_object_unref(parent);
	}
	gsf_output_close(GSF_OUTPUT(ole));
	g_object_unref(ole);
	g_object_unref(sink);	/* closed with the OLE file */
	return 0;
}
