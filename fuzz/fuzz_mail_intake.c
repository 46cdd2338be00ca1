/*
 * libFuzzer target: a mail arriving at the report mailbox, read by
 * triage_mail_intake (sender, Authentication-Results, the forwarded
 * original, the comment). Properties: no crash, no leak; a verified sender
 * has an address; the original is non-empty; the comment is valid UTF-8
 * without control characters but tab and newline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "triage/triage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct triage_intake in;
	struct bw_err err = { 0 };
	uint8_t *copy = malloc(size ? size : 1);
	size_t i, n;
	uint32_t cp;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (triage_mail_intake(copy, size, (size & 1) ? "mx.example.org" : NULL, &in, &err) == 0) {
		if ((in.verified && in.from[0] == '\0') || in.original == NULL || (size > 0 && in.original_len == 0))
			abort();
		for (i = 0; in.comment[i] != '\0'; i += n) {
			if ((n = bw_utf8_decode((const uint8_t *)in.comment + i, strlen(in.comment + i), &cp)) == 0 ||
			    (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f)
				abort();
		}
	} else if (err.msg[0] == '\0') {
		abort();
	}
	triage_intake_clear(&in);
	free(copy);
	return 0;
}
