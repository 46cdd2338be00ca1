/*
 * libFuzzer target: a tlog-witness add-checkpoint request, parsed and then
 * checked against one known log (the research vector's key: its seed
 * carries a real signature). Properties: no crash, no leak; a refusal of
 * the body has a message; a parsed body's checkpoint lies within it; every
 * decision is one of the spec's status codes, and only a 200 has no reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "witness/witness.h"

static int
seen_zero(void *ctx, size_t log, struct witness_seen *out, struct bw_err *err)
{
	(void)ctx;
	(void)log;
	(void)err;
	memset(out, 0, sizeof *out);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct note_verifier *key;
	struct witness_request q;
	struct witness_decision d;
	struct witness_log log;
	struct bw_err err = { 0 };
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);	/* exactly size bytes: a read past them is caught */
	if (key == NULL) {
		static const char vk[] = "example.com/behind-the-sofa+d6dafaf3+AZU2viD/T/fLVm7FunZaztjdixFRCvPoq1CwqzK0lvCc";
		if (bw_crypto_init(NULL) != 0 || note_verifier_parse(vk, strlen(vk), &key, &err) != 0)
			abort();
	}
	if (witness_request_parse(copy, size, &q, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
	} else {
		if (q.note < copy || q.note + q.note_len != copy + size || q.proof.n > WITNESS_PROOF_MAX)
			abort();
		log = (struct witness_log){ "example.com/behind-the-sofa", key };
		if (witness_check(&q, &log, 1, seen_zero, NULL, &d, &err) != 0 ||
		    (d.status != 200 && d.status != 400 && d.status != 403 && d.status != 404 && d.status != 409 &&
		     d.status != 422) ||
		    (d.status == 200) != (d.reason[0] == '\0'))
			abort();
		witness_decision_clear(&d);
	}
	free(copy);
	return 0;
}
