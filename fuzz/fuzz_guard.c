/*
 * Fuzzes the session guard's registration parser ("begin DEADLINE\n").
 * Properties: no crash; an accepted request is exactly "begin " + the
 * deadline in canonical decimal + "\n", and the deadline fits int64_t.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t deadline;
	char back[64];

	if (agent_guard_parse_request((const char *)data, size, &deadline) == 0) {
		int n = snprintf(back, sizeof back, "begin %llu\n", (unsigned long long)deadline);
		if (deadline > INT64_MAX || (size_t)n != size || memcmp(back, data, size) != 0)
			abort();
	} else if (deadline != 0) {
		abort();
	}
	return 0;
}
