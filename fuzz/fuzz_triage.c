/*
 * libFuzzer target: triage of a hostile sample, in-process (the walk that
 * the worker runs): the first byte picks the name it arrives under (a mail
 * piped in, an archive, a document, a double extension), the rest is the
 * sample. Properties: no crash, no leak; a result with one of the four
 * verdicts, a score of 0..100, and only valid UTF-8 in it (json_dumps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "triage/triage.h"

static const char *const names[] = { "", "a.zip", "JD.docx", "offer.pdf", "cv.rtf", "resume.pdf.exe", "x.iso",
				     "mail.eml", "notes.txt", "photo\xe2\x80\xaegpj.exe" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct triage *t;
	struct bw_err err = { 0 };
	json_t *res = NULL;
	const char *v;
	char *text;
	uint8_t *copy;

	if (t == NULL) {
		struct triage_opts o = { 0 };
		triage_limits_default(&o.lim);
		o.lim.member = 8 << 20;		/* fuzzing speed; the bounds' logic is the same */
		o.lim.total = 32 << 20;
		o.lim.members = 200;
		o.org_domains = (const char *const[]){ "bulwark.example" };
		o.norg = 1;
		if (bw_crypto_init(NULL) != 0 || triage_new(&o, &t, &err) != 0)
			abort();
	}
	if (size == 0)
		return 0;
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);	/* exactly the sample's bytes: a read past them is caught */
	if (triage_scan(t, names[data[0] % (sizeof names / sizeof names[0])], copy, size - 1, &res, &err) != 0)
		abort();
	v = json_string_value(json_object_get(res, "verdict"));
	if (v == NULL || (strcmp(v, "clean") && strcmp(v, "spam") && strcmp(v, "suspicious") && strcmp(v, "threat")) ||
	    json_integer_value(json_object_get(res, "score")) < 0 || json_integer_value(json_object_get(res, "score")) > 100 ||
	    (text = json_dumps(res, 0)) == NULL)
		abort();
	free(text);
	json_decref(res);
	free(copy);
	return 0;
}
