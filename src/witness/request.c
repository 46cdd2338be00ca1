/* witness/request.c: the add-checkpoint request body (c2sp.org/tlog-witness), parsed strictly. */
#include <string.h>

#include "witness.h"

int
witness_request_parse(const uint8_t *body, size_t len, struct witness_request *out, struct bw_err *err)
{
	const uint8_t *nl, *p, *blank = NULL;
	size_t i;
	int r;

	out->old = 0;
	out->proof.n = 0;
	out->note = NULL;
	out->note_len = 0;
	if (len == 0)
		return bw_err_set(err, BW_EINVAL, "empty request");
	if (len > WITNESS_BODY_MAX)
		return bw_err_set(err, BW_ERANGE, "request larger than %u bytes", (unsigned)WITNESS_BODY_MAX);
	/* line 1: "old N" */
	if ((nl = memchr(body, '\n', len)) == NULL || nl - body < 5 || memcmp(body, "old ", 4) != 0)
		return bw_err_set(err, BW_EINVAL, "line 1: want \"old SIZE\"");
	if ((body[4] == '0' && nl - body > 5) || bw_parse_u64((const char *)body + 4, (size_t)(nl - body) - 4, &out->old) != 0)
		return bw_err_set(err, BW_EINVAL, "line 1: the old size must be a decimal number without leading zeros");
	/* then proof lines up to the first empty line */
	p = nl + 1;
	for (i = 0; p < body + len; i++) {
		const uint8_t *e = memchr(p, '\n', (size_t)(body + len - p));
		if (e == NULL)
			return bw_err_set(err, BW_EINVAL, "line %zu: no empty line before the checkpoint", i + 2);
		if (e == p) {
			blank = p;
			break;
		}
		if (i == WITNESS_PROOF_MAX)
			return bw_err_set(err, BW_EINVAL, "line %zu: more than %d proof lines", i + 2, WITNESS_PROOF_MAX);
		p = e + 1;
	}
	if (blank == NULL)
		return bw_err_set(err, BW_EINVAL, "no empty line before the checkpoint");
	if ((r = tlog_proof_lines_parse(nl + 1, (size_t)(blank - (nl + 1)), &out->proof, err)) != 0) {
		bw_err_prefix(err, "proof (from line 2)");
		return r;
	}
	out->note = blank + 1;
	out->note_len = (size_t)(body + len - out->note);
	if (out->note_len == 0)
		return bw_err_set(err, BW_EINVAL, "no checkpoint after the empty line");
	return 0;
}
