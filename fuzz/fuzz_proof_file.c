/*
 * Fuzzes the tlog-proof file parser, the proof-hash lines parser and the
 * entry-bundle splitter. Properties: no crash; rejections carry a message;
 * an accepted proof file or block of hash lines formats back to exactly the
 * input (one encoding per proof).
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlog_proof_file pf;
	struct bw_err err = { 0 };
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH], len;
	char *back = NULL;
	unsigned i;

	if (tlog_proof_file_parse(data, size, &pf, &err) == 0) {
		if (tlog_proof_file_format(&pf, &back, &len, &err) != 0)
			abort();
		if (len != size || memcmp(back, data, size) != 0)
			abort();
		free(back);
		tlog_proof_file_clear(&pf);
	} else if (err.msg[0] == '\0' || pf.checkpoint != NULL) {
		abort();
	}
	/* The same bytes as proof-hash lines (what /log/consistency serves). */
	{
		struct tlog_proof p;
		struct bw_buf b = { 0 };
		bw_err_clear(&err);
		if (tlog_proof_lines_parse(data, size, &p, &err) == 0) {
			if (tlog_proof_lines_format(&p, &b) != 0 || b.len != size || (size && memcmp(b.data, data, size) != 0))
				abort();
		} else if (err.msg[0] == '\0') {
			abort();
		}
		bw_buf_free(&b);
	}
	/* The same bytes as an entry bundle of up to 256 entries. */
	for (i = 1; i <= TLOG_TILE_WIDTH; i *= 4) {
		bw_err_clear(&err);
		if (tlog_bundle_split(data, size, i, true, offs, lens, &err) == 0) {
			unsigned k;
			for (k = 0; k < i; k++)
				if (lens[k] == 0 || offs[k] + lens[k] > size)
					abort();
		} else if (err.msg[0] == '\0') {
			abort();
		}
	}
	return 0;
}
