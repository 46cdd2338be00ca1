/*
 * Fuzzes TUF metadata handling: canonical JSON of any parsed document must
 * be a fixed point (canonicalizing its own output gives the same bytes), and
 * role verification and key parsing must never crash on hostile metadata
 * (the document is used as both root and the signed metadata).
 */
#include <stdlib.h>
#include <string.h>

#include "patch/patch.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr), *k, *v;
	char *c1 = NULL, *c2 = NULL;
	size_t l1, l2;
	struct bw_err err = { 0 };
	const char *key;
	uint8_t pk[32];

	if (j == NULL)
		return 0;
	if (patch_cjson(j, &c1, &l1, &err) == 0) {
		json_t *again = json_loadb(c1, l1, JSON_DECODE_ANY, &jerr);
		/* Canonical output containing raw control bytes is not strict JSON; skip those. */
		if (again != NULL) {
			if (patch_cjson(again, &c2, &l2, &err) != 0 || l1 != l2 || memcmp(c1, c2, l1) != 0)
				abort();
			json_decref(again);
		}
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(c1);
	free(c2);
	(void)patch_verify_role(j, json_object_get(j, "signed"), "root", NULL, &err);
	if ((k = json_object_get(json_object_get(j, "signed"), "keys")) != NULL)
		json_object_foreach(k, key, v)
			(void)patch_key_parse(v, pk, &err);
	json_decref(j);
	return 0;
}
