/*
 * libFuzzer target: a page of a partner's TAXII 2.1 collection, as the feed
 * puller reads it. Properties: no crash, no leak; a page read has its values
 * counted within its indicators, each value of a known type and non-empty;
 * a refused page has a message and no values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "share/share.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct share_envelope e;
	struct bw_err err = { 0 };
	size_t i;

	if (share_taxii_envelope_read((const char *)data, size, 1795859000000, &e, &err) == 0) {
		if (e.skipped + e.expired > e.indicators || (e.nvalues > 0 && e.indicators == 0))
			abort();
		for (i = 0; i < e.nvalues; i++)
			if (e.values[i].value[0] == '\0' || strncmp(e.values[i].stix_id, "indicator--", 11) != 0 ||
			    (strcmp(e.values[i].type, "sha256") && strcmp(e.values[i].type, "url") &&
			     strcmp(e.values[i].type, "domain") && strcmp(e.values[i].type, "email")))
				abort();
		share_envelope_clear(&e);
	} else if (err.msg[0] == '\0' || e.values != NULL || e.nvalues != 0) {
		abort();
	}
	return 0;
}
