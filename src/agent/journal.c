/*
 * agent/journal.c: the systemd journal through libsystemd's sd-journal API:
 * the entries of the watched programs (hostev_syslog_watched: sshd, sudo,
 * su, PAM, account tools, package managers), from a persisted cursor on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "agent_internal.h"
#include "hostev/hostev.h"

struct journal_src {
	sd_journal *j;
	char *cursor;			/* of the last entry handed out (NULL: none yet) */
};

int
journal_src_open(const char *dir, const char *cursor, struct journal_src **out, struct bw_err *err)
{
	struct journal_src *js = calloc(1, sizeof *js);
	char match[96];
	size_t i;
	int r;

	*out = NULL;
	if (js == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = dir != NULL ? sd_journal_open_directory(&js->j, dir, 0) : sd_journal_open(&js->j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		free(js);
		return bw_err_set(err, BW_EIO, "journal %s: %s", dir ? dir : "(system)", strerror(-r));
	}
	for (i = 0; hostev_syslog_watched_name(i) != NULL; i++) {
		snprintf(match, sizeof match, "SYSLOG_IDENTIFIER=%s", hostev_syslog_watched_name(i));
		if ((r = sd_journal_add_match(js->j, match, 0)) < 0) {
			journal_src_close(js);
			return bw_err_set(err, BW_EIO, "journal: %s", strerror(-r));
		}
	}
	sd_journal_get_fd(js->j);	/* follows new files and entries from now on (inotify) */
	if (cursor != NULL && cursor[0]) {
		if ((r = sd_journal_seek_cursor(js->j, cursor)) < 0) {
			journal_src_close(js);
			return bw_err_set(err, BW_EIO, "journal: the saved cursor: %s", strerror(-r));
		}
		/* The cursor's own entry was read before: step onto it and past it. */
		if (sd_journal_next(js->j) > 0 && sd_journal_test_cursor(js->j, cursor) <= 0)
			sd_journal_previous(js->j);
		js->cursor = strdup(cursor);
	} else {
		sd_journal_seek_head(js->j);
	}
	*out = js;
	return 0;
}

void
journal_src_close(struct journal_src *js)
{
	if (js == NULL)
		return;
	sd_journal_close(js->j);
	free(js->cursor);
	free(js);
}

const char *
journal_src_cursor(const struct journal_src *js)
{
	return js->cursor;
}

/* FIELD's value of the current entry, NUL-terminated into out (cut to cap); false when absent. */
static bool
field(sd_journal *j, const char *name, char *out, size_t cap)
{
	const void *data;
	size_t len, nl = strlen(name);

	if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= nl)
		return false;
	len -= nl + 1;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, (const char *)data + nl + 1, len);
	out[len] = '\0';
	return true;
}

int
journal_src_read(struct journal_src *js, size_t max, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx,
		 size_t *n, struct bw_err *err)
{
	static char msg[HOSTEV_RAW_MAX];
	char ident[64], pid[24];
	int r;

	*n = 0;
	sd_journal_process(js->j);
	while (*n < max) {
		struct hostev_event ev;
		uint64_t usec = 0;
		char *cur = NULL;
		if ((r = sd_journal_next(js->j)) < 0)
			return bw_err_set(err, BW_EIO, "journal: %s", strerror(-r));
		if (r == 0)
			break;
		if (sd_journal_get_cursor(js->j, &cur) < 0)
			return bw_err_set(err, BW_EIO, "journal: an entry without a cursor");
		free(js->cursor);
		js->cursor = cur;
		if (!field(js->j, "SYSLOG_IDENTIFIER", ident, sizeof ident) || !hostev_syslog_watched(ident) ||
		    !field(js->j, "MESSAGE", msg, sizeof msg))
			continue;
		if (!field(js->j, "_PID", pid, sizeof pid) && !field(js->j, "SYSLOG_PID", pid, sizeof pid))
			pid[0] = '\0';
		sd_journal_get_realtime_usec(js->j, &usec);
		if ((r = hostev_syslog_normalise(ident, strtoull(pid, NULL, 10), msg, (int64_t)(usec / 1000), "journal",
						 &ev, err)) != 0)
			return r;
		if ((r = fn(ctx, &ev)) != 0)
			return r;
		(*n)++;
	}
	return 0;
}
