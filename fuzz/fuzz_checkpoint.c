/*
 * Fuzzes the tlog-checkpoint parser. Properties: no crash; every rejection
 * carries a message; an accepted body formats back to the exact input.
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlog_checkpoint cp;
	struct bw_err err = { 0 };
	char *back = NULL;
	size_t len;

	if (tlog_checkpoint_parse((const char *)data, size, &cp, &err) != 0) {
		if (err.msg[0] == '\0' || cp.origin != NULL)
			abort();
		return 0;
	}
	if (tlog_checkpoint_format(&cp, &back, &len, &err) != 0)
		abort();
	if (len != size || memcmp(back, data, size) != 0)
		abort();
	free(back);
	tlog_checkpoint_clear(&cp);
	return 0;
}
