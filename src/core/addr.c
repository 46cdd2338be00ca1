/* core/addr.c: client address groups for per-client limits. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

void
bw_addr_group(const char *addr, char *out, size_t cap)
{
	uint8_t a6[16];
	struct in_addr a4;

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		snprintf(out, cap, "%s", addr);
		return;
	}
	if (inet_pton(AF_INET6, addr, a6) == 1) {
		/* An IPv4-mapped address is its IPv4 address; any other IPv6 client is its /64 (one site's hosts). */
		if (memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			snprintf(out, cap, "%u.%u.%u.%u", a6[12], a6[13], a6[14], a6[15]);
			return;
		}
		snprintf(out, cap, "%x:%x:%x:%x::/64", (unsigned)(a6[0] << 8 | a6[1]), (unsigned)(a6[2] << 8 | a6[3]),
			 (unsigned)(a6[4] << 8 | a6[5]), (unsigned)(a6[6] << 8 | a6[7]));
		return;
	}
	snprintf(out, cap, "?");	/* not an address: all such clients share one group */
}
