/*
 * Fuzzes the sequencing journal's replay (the records a log directory's
 * newest segment holds after a crash, possibly damaged). Properties: no crash; replayed records
 * come in order from index 0 without gaps; whatever is not replayed is a
 * set-aside tail or a refusal naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlog/journal.h"

struct seen {
	uint64_t next;
};

static int
on_record(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err)
{
	struct seen *s = ctx;

	(void)entry;
	(void)err;
	if (index != s->next || len == 0 || len > TLOG_ENTRY_MAX)
		abort();
	s->next++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	char path[128], tail[128];
	struct bw_err err = { 0 };
	struct seen s = { 0 };
	bool aside = false;
	FILE *f;
	int r;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/fuzz_journal_XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	snprintf(path, sizeof path, "%s/journal-00000000000000000000", dir);
	snprintf(tail, sizeof tail, "%s/tail", dir);
	unlink(tail);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	r = tlog_journal_replay(dir, 0, on_record, &s, tail, &aside, &err);
	if (r != 0 && err.msg[0] == '\0')
		abort();
	return 0;
}
