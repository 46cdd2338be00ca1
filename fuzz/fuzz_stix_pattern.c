/*
 * libFuzzer target: a partner's STIX pattern, as the feed puller reads it.
 * Properties: no crash, no leak; a pattern read gives 1..cap values of a
 * known type, each non-empty; a refusal has a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "share/share.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct share_observable o[8];
	struct bw_err err = { 0 };
	char *text = malloc(size + 1);
	size_t n = 0, i;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (share_stix_pattern_read(text, o, 8, &n, &err) == 0) {
		if (n == 0 || n > 8)
			abort();
		for (i = 0; i < n; i++)
			if (o[i].value[0] == '\0' || (strcmp(o[i].type, "sha256") && strcmp(o[i].type, "url") &&
						      strcmp(o[i].type, "domain") && strcmp(o[i].type, "email")))
				abort();
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
