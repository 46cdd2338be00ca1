/*
 * libFuzzer target: a trust policy (c2sp.org/tlog-policy) parsed from any
 * bytes. Properties: no crash, no leak; a refusal has a message; an
 * accepted policy can be evaluated against a signed checkpoint without
 * crashing, and a note no policy key signed never meets it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "witness/witness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char note_text[] =
		"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
		"\xe2\x80\x94 other.example/key AAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
	struct witness_policy *p = NULL;
	struct note *n = NULL;
	struct bw_err err = { 0 };
	char *copy = malloc(size ? size : 1), why[300];

	if (copy == NULL)
		return 0;
	if (bw_crypto_init(NULL) != 0)
		abort();
	memcpy(copy, data, size);	/* exactly size bytes */
	if (witness_policy_parse(copy, size, &p, &err) != 0) {
		if (err.msg[0] == '\0' || p != NULL)
			abort();
	} else {
		if (note_parse((const uint8_t *)note_text, sizeof note_text - 1, &n, &err) != 0)
			abort();
		if (witness_policy_check(p, n, "example.com/behind-the-sofa", why, sizeof why) == 0)
			abort();	/* no key of any policy signed it: never enough */
		note_free(n);
		witness_policy_free(p);
	}
	free(copy);
	return 0;
}
