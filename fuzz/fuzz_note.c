/*
 * Fuzzes the signed-note parser and verifier. Properties: no crash or
 * out-of-bounds read; a note that parses formats back to exactly the
 * input bytes (parsing is strict, so there is one encoding); a note that
 * verifies under the spec example key carries a valid signature by it.
 */
#include <stdlib.h>
#include <string.h>

#include "note/note.h"

static const char spec_vkey[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct note_verifier *v;
	struct note *n = NULL;
	struct bw_err err = { 0 };
	char *back = NULL;
	size_t backlen;

	if (v == NULL && (bw_crypto_init(NULL) != 0 ||
			  note_verifier_parse(spec_vkey, strlen(spec_vkey), &v, &err) != 0))
		abort();
	if (note_parse(data, size, &n, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();	/* every rejection names its reason */
		return 0;
	}
	if (note_format(n, &back, &backlen, &err) != 0)
		abort();
	if (backlen != size || memcmp(back, data, size) != 0)
		abort();
	if (note_verify(n, &v, 1, NULL, NULL, &err) == 0) {
		/* Accepted: the text must be the spec example's. */
		if (strcmp(n->text, "This is an example message.\n") != 0)
			abort();
	}
	free(back);
	note_free(n);
	return 0;
}
