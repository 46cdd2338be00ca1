/*
 * detect/enrich.c: what a Sigma rule cannot compute, added to bulwark's
 * own events before matching: the local hour and weekday of the event and
 * whether they fall in business hours (a configured calendar), and the
 * length of a maintenance window in hours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "detect_internal.h"

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int
day_index(const char *s, size_t n)
{
	int i;

	for (i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

static bool
hhmm(const char *s, unsigned *minutes)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return false;
	*minutes = (unsigned)((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (unsigned)((s[3] - '0') * 10 + (s[4] - '0'));
	return *minutes <= 24 * 60;
}

static void
set_range(struct detect_calendar *c, int day, unsigned from, unsigned to)
{
	unsigned m;

	for (m = from; m < to; m++)
		c->bits[(day * 1440 + (int)m) / 8] |= (uint8_t)(1u << ((day * 1440 + (int)m) % 8));
}

int
detect_calendar_parse(const char *spec, struct detect_calendar *out, struct bw_err *err)
{
	const char *p = spec;

	memset(out, 0, sizeof *out);
	if (strlen(spec) > 512)
		return bw_err_set(err, BW_EINVAL, "business hours: longer than 512 characters");
	for (;;) {
		int d0, d1, d;
		unsigned from, to;
		const char *dash;

		while (*p == ' ')
			p++;
		/* DAY or DAY-DAY */
		if ((d0 = day_index(p, 3)) < 0)
			goto bad;
		dash = p + 3;
		if (*dash == '-') {
			if ((d1 = day_index(dash + 1, 3)) < 0) {
				p = dash + 1;
				goto bad;
			}
			p = dash + 4;
		} else {
			d1 = d0;
			p = dash;
		}
		if (*p++ != ' ' || !hhmm(p, &from) || p[5] != '-' || !hhmm(p + 6, &to) || from >= to)
			goto bad;
		p += 11;
		for (d = d0;; d = (d + 1) % 7) {
			set_range(out, d, from, to);
			if (d == d1)
				break;
		}
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			goto bad;
	}
	out->set = true;
	return 0;
bad:
	return bw_err_set(err, BW_EINVAL,
			  "business hours must be DAY[-DAY] HH:MM-HH:MM[, ...] (e.g. 'mon-fri 08:00-18:00, sat "
			  "09:00-12:00'); wrong at character %zu",
			  (size_t)(p - spec) + 1);
}

void
detect_calendar_default(struct detect_calendar *out)
{
	struct bw_err err = { 0 };

	(void)detect_calendar_parse(DETECT_BUSINESS_HOURS_DEFAULT, out, &err);
}

/* Whole hours from a to b (rounded up), or -1. */
static long long
hours_between(long long a, long long b)
{
	return b > a ? (b - a + 3599) / 3600 : -1;
}

static bool
number(const struct detect_field *f, long long *out)
{
	uint64_t v;

	if (f == NULL || bw_parse_u64(f->value, f->len, &v) != 0 || v > (uint64_t)INT64_MAX)
		return false;
	*out = (long long)v;
	return true;
}

static const char *const first_time_actions[] = { "patch.publish", "access.approve", "access.request",
						    "role_grant.approve", "user.roles", "token.create", "rules.set" };

bool
detect_first_time_key(const struct detect_event *ev, char *key, size_t cap)
{
	const struct detect_field *action = detect_event_field(ev, "action"), *actor = detect_event_field(ev, "actor");
	size_t i;

	if (action == NULL || actor == NULL || action->len + actor->len + 2 > cap)
		return false;
	for (i = 0; i < sizeof first_time_actions / sizeof first_time_actions[0]; i++)
		if (strlen(first_time_actions[i]) == action->len &&
		    memcmp(first_time_actions[i], action->value, action->len) == 0) {
			snprintf(key, cap, "%.*s\x1f%.*s", (int)action->len, action->value, (int)actor->len, actor->value);
			return true;
		}
	return false;
}

struct detect_seen {
	uint64_t *slot;		/* hashes of the keys seen (0: empty) */
	size_t cap, n;
};

int
detect_seen_new(struct detect_seen **out, struct bw_err *err)
{
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

void
detect_seen_free(struct detect_seen *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s);
}

int
detect_seen_first(struct detect_seen *s, const char *key)
{
	uint64_t h = detect_fnv64(DETECT_FNV64_INIT, key, strlen(key)) | 1;	/* 0 marks an empty slot */
	size_t i;

	if (s->n * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024, k;
		uint64_t *n;
		if (cap > DETECT_SEEN_MAX * 2 || (n = calloc(cap, sizeof *n)) == NULL)
			return -1;	/* full: not known */
		for (k = 0; k < s->cap; k++)
			if (s->slot[k] != 0) {
				size_t j = s->slot[k] & (cap - 1);
				while (n[j] != 0)
					j = (j + 1) & (cap - 1);
				n[j] = s->slot[k];
			}
		free(s->slot);
		s->slot = n;
		s->cap = cap;
	}
	for (i = h & (s->cap - 1); s->slot[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == h)
			return 0;
	s->slot[i] = h;
	s->n++;
	return 1;
}

const struct detect_event *
detect_enrich(struct detect_enriched *e, const struct detect_calendar *cal, const struct detect_event *in,
	      int64_t time_ms, int first_time, const struct detect_grant *grant)
{
	time_t secs = (time_t)(time_ms / 1000);
	struct tm tm;
	size_t n = in->nfields;
	long long a, b, h = -1;

	if (n + DETECT_ENRICH_FIELDS > e->cap) {
		size_t cap = n + DETECT_ENRICH_FIELDS + 64;
		struct detect_field *f = realloc(e->fields, cap * sizeof *f);
		if (f == NULL)
			return in;	/* out of memory: the event as it is */
		e->fields = f;
		e->cap = cap;
	}
	memcpy(e->fields, in->fields, n * sizeof *e->fields);
	if (localtime_r(&secs, &tm) != NULL) {
		int minute = tm.tm_wday * 1440 + tm.tm_hour * 60 + tm.tm_min;
		bool open = cal->set && (cal->bits[minute / 8] >> (minute % 8) & 1);
		snprintf(e->hour, sizeof e->hour, "%d", tm.tm_hour);
		e->fields[n++] = (struct detect_field){ "enrich.hour", e->hour, strlen(e->hour) };
		e->fields[n++] = (struct detect_field){ "enrich.weekday", day_names[tm.tm_wday], 3 };
		e->fields[n++] = (struct detect_field){ "enrich.business_hours", open ? "true" : "false", open ? 4 : 5 };
	}
	/* a maintenance window: access.issued's valid_after/valid_before, or access.request's window [a, b] */
	if (number(detect_event_field(in, "details.valid_after"), &a) &&
	    number(detect_event_field(in, "details.valid_before"), &b))
		h = hours_between(a, b);
	else {
		size_t i, k = 0;
		long long w[2];
		for (i = 0; i < in->nfields && k < 2; i++)
			if (strcmp(in->fields[i].name, "details.window") == 0 && number(&in->fields[i], &w[k]))
				k++;
		if (k == 2)
			h = hours_between(w[0], w[1]);
	}
	if (h >= 0) {
		snprintf(e->window, sizeof e->window, "%lld", h);
		e->fields[n++] = (struct detect_field){ "enrich.window_hours", e->window, strlen(e->window) };
	}
	if (first_time >= 0)
		e->fields[n++] = (struct detect_field){ "enrich.first_time", first_time ? "true" : "false",
							 first_time ? 4 : 5 };
	if (grant != NULL) {
		e->fields[n++] = (struct detect_field){ "enrich.grant", grant->state, strlen(grant->state) };
		if (grant->request > 0) {
			snprintf(e->request, sizeof e->request, "%lld", (long long)grant->request);
			e->fields[n++] = (struct detect_field){ "enrich.grant_request", e->request, strlen(e->request) };
		}
		e->fields[n++] = (struct detect_field){ "enrich.grant_host", grant->host_ok ? "true" : "false",
							 grant->host_ok ? 4 : 5 };
		e->fields[n++] = (struct detect_field){ "enrich.grant_account", grant->account_ok ? "true" : "false",
							 grant->account_ok ? 4 : 5 };
	}
	e->ev = (struct detect_event){ e->fields, n, in->raw, in->raw_len };
	return &e->ev;
}

void
detect_enriched_clear(struct detect_enriched *e)
{
	free(e->fields);
	memset(e, 0, sizeof *e);
}
