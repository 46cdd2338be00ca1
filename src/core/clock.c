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


struct timespec
bw_deadline_ms(int64_t ms)
{
	int64_t at = bw_now_ms() + ms;

	return (struct timespec){ .tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000L };
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

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits_at(const char *s, size_t n, unsigned *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

bool
bw_time_parse_ms(const char *s, size_t len, int64_t *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, frac = 0;
	size_t i = 19, fd = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    !digits_at(s, 4, &y) || !digits_at(s + 5, 2, &mo) || !digits_at(s + 8, 2, &d) ||
	    !digits_at(s + 11, 2, &h) || !digits_at(s + 14, 2, &mi) || !digits_at(s + 17, 2, &se))
		return false;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, fd++)
			if (fd < 3)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		if (fd == 0)
			return false;
		for (; fd < 3; fd++)
			frac *= 10;
	}
	if (i + 1 != len || (s[i] != 'Z' && s[i] != 'z'))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) || h > 23 || mi > 59 || se > 60)
		return false;
	*out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + frac;
	return true;
}
