/* core/clock.c: wall-clock time. */
#include <time.h>

#include "core.h"

int64_t
bw_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
