/*
 * libFuzzer target: a witness's answer to add-checkpoint, as the log that
 * asked reads it. The first byte picks the HTTP status, the rest is the
 * body, for a fixed checkpoint of size 7 and a fixed witness key (the seed
 * "cosigned" carries that key's real cosignature). Properties: no crash,
 * no leak; only a cosigned answer keeps lines, and each kept line verifies
 * with the witness key; every other answer has a printable reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "witness/witness.h"

static const char checkpoint[] = "example.com/log\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=\n\n"
				 "\xe2\x80\x94 example.com/log hDf0sqq1KEc7+h89kpoNmx7xXliBT1l9gt0K5K+11XIIK4ZRkk8Uf71y+kVI6v4b"
				 "rDoQOt/kFjSAFG9EJJ6ok0iMFgg=\n";
static const long statuses[] = { 0, 200, 400, 403, 404, 409, 422, 429, 500, 503, 302 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct note_verifier *key;
	struct witness_answer a;
	struct bw_buf cosigs = { 0 };
	struct bw_err err = { 0 };
	char *body;
	size_t i;

	if (key == NULL) {
		static const char vk[] = "w.example+475acc8c+BN3N3x9gYettT6a7L1zGYmXKSylxdmvfJ2UM+PreTc7F";
		if (bw_crypto_init(NULL) != 0 || note_verifier_parse(vk, strlen(vk), &key, &err) != 0)
			abort();
	}
	if (size == 0 || (body = malloc(size)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';	/* as a transfer gives it: NUL-terminated */
	witness_answer_read(statuses[data[0] % (sizeof statuses / sizeof statuses[0])], body, size - 1,
			    (const uint8_t *)checkpoint, sizeof checkpoint - 1, 7, key, &a, &cosigs);
	if ((a.kind == WITNESS_COSIGNED) != (cosigs.len > 0) || (a.kind == WITNESS_COSIGNED && a.cosigned == 0))
		abort();
	if (a.kind != WITNESS_COSIGNED) {
		if (a.why[0] == '\0')
			abort();
		for (i = 0; a.why[i] != '\0'; i++)
			if ((unsigned char)a.why[i] < 0x20 || (unsigned char)a.why[i] == 0x7f)
				abort();
	} else {
		struct bw_buf full = { 0 };
		struct note *n = NULL;
		bool ok = false;
		if (bw_buf_append(&full, checkpoint, sizeof checkpoint - 1) != 0 ||
		    bw_buf_append(&full, cosigs.data, cosigs.len) != 0 || note_parse(full.data, full.len, &n, &err) != 0 ||
		    note_verify(n, &key, 1, &ok, NULL, &err) != 0 || !ok)
			abort();
		note_free(n);
		bw_buf_free(&full);
	}
	bw_buf_free(&cosigs);
	free(body);
	return 0;
}
