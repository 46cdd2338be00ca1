/* core/clock.c: wall-clock time and its RFC 3339 UTC form. */
#include <stdio.h>
#include <time.h>

#include "core.h"

int64_t
bw_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
 * days_from_civil inverse): pure arithmetic, so no time-zone lock is taken
 * on the hot path (gmtime_r serialises threads on it).
 */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
bw_time_format_ms(int64_t ms, char out[BW_TIME_TEXT_MAX])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000, days, rem, y;
	unsigned mo, d;
	int msec = (int)(ms - secs * 1000);

	days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	rem = secs - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, BW_TIME_TEXT_MAX, "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out, BW_TIME_TEXT_MAX, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, mo, d, (int)(rem / 3600),
		 (int)(rem / 60 % 60), (int)(rem % 60), msec);
}
