/*
 * Fuzzes a whole rule file: several YAML documents, detection and
 * correlation rules, references resolved (or the file refused), the
 * per-source prefilter built, then a few events matched and fed to a
 * correlator with small limits. Properties: no crash, no leak; a refused
 * file has a reason and leaves no rule; the prefiltered answer equals
 * trying every rule of the source.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

struct hits {
	const struct detect_rule *r[64];
	size_t n;
};

static void
collect(void *ctx, const struct detect_rule *r)
{
	struct hits *h = ctx;

	if (h->n < 64)
		h->r[h->n++] = r;
}

static void
on_corr(void *ctx, const struct detect_corr_match *m)
{
	(void)ctx;
	if (m->rule == NULL || m->group == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct detect_field f[][4] = {
		{ { "type", "EXECVE", 6 }, { "a0", "nc", 2 }, { "action", "auth.login", 10 }, { "target", "user:a", 6 } },
		{ { "Image", "/usr/bin/nc", 11 }, { "CommandLine", "nc -e /bin/sh", 13 }, { "User", "root", 4 },
		  { "result", "denied", 6 } },
	};
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct detect_correlator *c = NULL;
	struct bw_err err = { 0 };
	size_t i, k, s;

	if (detect_ruleset_load_text("fuzz.yml", (const char *)data, size, &rs, &rep, &err) != 0)
		return 0;
	if (rep.n != 1)
		abort();
	if (rep.items[0].reason != NULL && (rep.items[0].reason[0] == '\0' || detect_ruleset_count(rs) != 0))
		abort();
	if (detect_correlator_new(rs, 4, 4096, &c, &err) == 0) {
		for (s = DETECT_SRC_AUDITD; s < DETECT_SRC_COUNT; s++)
			for (i = 0; i < 2; i++) {
				struct detect_event ev = { f[i], 4, "raw text", 8 };
				struct hits fast = { .n = 0 }, slow = { .n = 0 };
				detect_ruleset_match(rs, (enum detect_source)s, &ev, collect, &fast);
				for (k = 0; k < detect_ruleset_count(rs); k++) {
					const struct detect_rule *r = detect_ruleset_rule(rs, k);
					if (detect_rule_source(r) == (enum detect_source)s && detect_rule_match(r, &ev))
						collect(&slow, r);
				}
				if (fast.n != slow.n || memcmp(fast.r, slow.r, fast.n * sizeof fast.r[0]) != 0)
					abort();
				for (k = 0; k < fast.n; k++)
					detect_correlator_feed(c, fast.r[k], &ev, (int64_t)(s * 1000 + i), on_corr, NULL);
			}
		detect_correlator_free(c);
	}
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return 0;
}
