/*
 * agent/lines.c: a followed text file (across rotation, follow.c) read as
 * whole lines: each line goes to the caller once, and `done` is the file
 * offset after the last whole line taken, the position to save. A line
 * longer than HOSTEV_RAW_MAX is dropped up to its end and counted.
 */
#include <stdio.h>
#include <string.h>

#include "agent_internal.h"
#include "hostev/hostev.h"

void
lines_init(struct lines *ls, const char *path)
{
	memset(ls, 0, sizeof *ls);
	follow_init(&ls->f, path != NULL ? path : "");
}

int
lines_open(struct lines *ls, uint64_t dev, uint64_t ino, uint64_t offset, uint64_t *lost, struct bw_err *err)
{
	uint64_t gaps = ls->f.lost_gaps;
	int r = follow_open(&ls->f, dev, ino, offset, err);

	if (r != 0) {
		snprintf(ls->state, sizeof ls->state, "waiting");
		snprintf(ls->error, sizeof ls->error, "%.250s", err->msg);
		return r;
	}
	ls->open = true;
	ls->done = ls->f.offset;
	*lost += ls->f.lost_gaps - gaps;
	return 0;
}

/* The line gathered so far, to fn; the buffer starts over. */
static int
line_done(struct lines *ls, lines_fn fn, void *ctx, struct bw_err *err)
{
	int rc = 0;

	if (ls->line.len > 0 && bw_buf_append_byte(&ls->line, 0) == 0) {
		ls->line.len--;
		rc = fn(ctx, (const char *)ls->line.data, ls->line.len, err);
	}
	ls->line.len = 0;
	return rc;
}

static int
take(struct lines *ls, const char *data, size_t n, lines_fn fn, void *ctx, uint64_t *errors, struct bw_err *err)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl != NULL ? (size_t)(nl - data) : n;
		int rc;
		if (ls->line.len + part > HOSTEV_RAW_MAX) {
			(*errors)++;	/* an endless line: dropped up to its end, counted */
			ls->line.len = 0;
			ls->skipping = true;
		} else if (!ls->skipping && bw_buf_append(&ls->line, data, part) != 0) {
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		if (nl == NULL)
			break;
		ls->done = ls->f.offset - (n - part - 1);
		if (ls->skipping) {
			ls->skipping = false;
			ls->line.len = 0;
		} else if ((rc = line_done(ls, fn, ctx, err)) != 0) {
			return rc;
		}
		data = nl + 1;
		n -= part + 1;
	}
	return 0;
}

int
lines_read(struct lines *ls, char *buf, size_t cap, size_t *got, lines_fn fn, void *ctx, uint64_t *lost,
	   uint64_t *errors, struct bw_err *err)
{
	size_t n = 0;
	bool switched = false;
	uint64_t gaps = ls->f.lost_gaps;
	struct bw_err ferr = { 0 };

	*got = 0;
	if (!ls->open && lines_open(ls, 0, 0, 0, lost, &ferr) != 0)
		return 0;
	snprintf(ls->state, sizeof ls->state, "ok");
	if (follow_read(&ls->f, buf, cap, &n, &switched, &ferr) != 0) {
		(*errors)++;
		snprintf(ls->state, sizeof ls->state, "error");
		snprintf(ls->error, sizeof ls->error, "%.250s", ferr.msg);
		return 0;
	}
	*lost += ls->f.lost_gaps - gaps;
	if (switched) {
		/* the old file's last line, if it had no newline, is whole now */
		int rc = ls->skipping ? 0 : line_done(ls, fn, ctx, err);
		ls->line.len = 0;
		ls->skipping = false;
		ls->done = ls->f.offset;
		return rc;
	}
	*got = n;
	return take(ls, buf, n, fn, ctx, errors, err);
}

void
lines_close(struct lines *ls)
{
	follow_close(&ls->f);
	bw_buf_free(&ls->line);
	ls->open = false;
}
