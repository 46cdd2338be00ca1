/* events/log.c: the structured logger: one escaped JSON line per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"

static const char *
level_name(enum ev_log_level l)
{
	return l == EVLOG_ERROR ? "error" : l == EVLOG_WARN ? "warn" : "info";
}

void
ev_log_fd(int fd, enum ev_log_level level, const char *msg, const struct ev_kv *kv, size_t n)
{
	struct timespec t;
	struct tm tm;
	char when[96], *line;
	json_t *o;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t.tv_nsec / 1000000);
	o = json_pack("{s:s, s:s, s:o}", "time", when, "level", level_name(level), "msg", ev_text(msg, EV_TEXT_MAX));
	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		/* Keys are the program's own; the reserved ones cannot be overwritten. */
		if (kv[i].key == NULL || json_object_get(o, kv[i].key) != NULL)
			continue;
		json_object_set_new(o, kv[i].key,
				    kv[i].s != NULL ? ev_text(kv[i].s, EV_TEXT_MAX) : json_integer((json_int_t)kv[i].i));
	}
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL)
		return;
	{
		/* One write(2) per line, so lines from several threads never interleave. */
		size_t len = strlen(line);
		char *withnl = realloc(line, len + 2);
		if (withnl != NULL) {
			line = withnl;
			line[len] = '\n';
			(void)bw_write_all(fd, line, len + 1);
		}
	}
	free(line);
}
