/*
 * Fuzzes the server's own request parsers: tile paths (must round-trip to
 * the canonical path and never contain ".."), patch target paths (must
 * round-trip through the agent's path builder), route patterns with {param}
 * segments (parameters bounded, no '/'), role lists, and JSON bodies as the
 * handlers read them (duplicate keys rejected, strict unpack).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "patch/patch.h"
#include "server/http.h"
#include "tlog/tlog.h"

static const char *const patterns[] = {
	"/api/v1/users/{name}/disable", "/api/v1/tokens/{id}", "/log/tile/*", "/api/v1/me", "/",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), canon[TLOG_PATH_MAX];
	struct request rq;
	unsigned w, mask;
	uint64_t n;
	int level;
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (server_parse_tile_path(s, &level, &n, &w)) {
		tlog_tile_path(canon, level, n, w);
		if (strcmp(canon, s) != 0 || strstr(s, "..") != NULL)
			abort();
	}
	{	/* target paths: a well-formed parse must round-trip through the client's path builder */
		char name[256], sha[65], back[512];
		struct patch_target t = { 0 };
		if (server_parse_target_path(s, name, sha)) {
			t.name = name;
			memcpy(t.sha256_hex, sha, 65);
			if (!patch_target_name_valid(name) || strstr(name, "..") != NULL ||
			    patch_target_url_path(&t, back, sizeof back) != 0 || strcmp(back, s) != 0)
				abort();
		}
	}
	for (i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		memset(&rq, 0, sizeof rq);
		if (server_route_match(patterns[i], s, &rq)) {
			int k;
			for (k = 0; k < HTTP_MAX_PARAMS; k++)
				if (rq.params[k] != NULL &&
				    (strchr(rq.params[k], '/') != NULL || rq.params[k][0] == '\0' ||
				     strlen(rq.params[k]) >= sizeof rq.param_buf[0]))
					abort();
		}
	}
	if (auth_roles_parse(s, &mask, NULL) == 0 && (mask == 0 || (mask & ~(unsigned)ROLE_ALL)))
		abort();
	{
		json_error_t jerr;
		json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
		const char *u, *p, *o;
		if (j != NULL && json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s, s:s}", "username", &u, "password",
						&p, "otp", &o) == 0) {
			if (u == NULL || p == NULL || o == NULL)
				abort();
		}
		json_decref(j);
	}
	free(s);
	return 0;
}
