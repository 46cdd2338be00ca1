/*
 * Fuzzes the auditd record reader (header checks, libauparse's grouping
 * and interpretation) and detect's views of the events it delivers.
 * The input is fed in two pieces split at its first byte's value, so
 * lines cut across feeds are exercised. Properties: no crash, no leak;
 * every refused line has a reason; every delivered event has records
 * whose type is set.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "hostev/hostev.h"

struct run {
	struct detect_host_mapper *m;
};

static void
on_view(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	size_t i;

	(void)ctx;
	if ((unsigned)src >= DETECT_SRC_COUNT)
		abort();
	for (i = 0; i < doc->nfields; i++)
		if (doc->fields[i].name == NULL || doc->fields[i].value == NULL)
			abort();
}

static void
on_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct run *r = ctx;
	struct bw_err err = { 0 };
	size_t i;

	for (i = 0; i < ev->nrecords; i++)
		if (ev->records[i].type == NULL || ev->records[i].type[0] == '\0')
			abort();
	if (detect_host_views(r->m, ev, on_view, NULL, &err) != 0 && err.code != BW_ENOMEM)
		abort();
}

static void
on_bad(void *ctx, uint64_t line, const char *reason)
{
	(void)ctx;
	if (line == 0 || reason == NULL || reason[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { NULL };
	struct hostev_audit_reader *rd = NULL;
	struct bw_err err = { 0 };
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;

	if (detect_host_mapper_new(&r.m, &err) != 0)
		return 0;
	if (hostev_audit_reader_new(on_event, on_bad, &r, &rd, &err) == 0) {
		(void)hostev_audit_reader_feed(rd, (const char *)data, cut, &err);
		(void)hostev_audit_reader_feed(rd, (const char *)data + cut, size - cut, &err);
		(void)hostev_audit_reader_finish(rd, &err);
	}
	hostev_audit_reader_free(rd);
	detect_host_mapper_free(r.m);
	return 0;
}
