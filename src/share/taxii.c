/*
 * share/taxii.c: TAXII 2.1 as both sides see it: the date_added timestamps
 * (microseconds, so "added_after" pages exactly) and the reading of a
 * partner's envelope into the values triage matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share.h"

void
share_taxii_time(int64_t us, char out[SHARE_TAXII_TIME_MAX])
{
	char ms[BW_TIME_TEXT_MAX];
	int64_t frac = us % 1000000;

	if (frac < 0)
		frac += 1000000;
	bw_time_format_ms((us - frac) / 1000, ms);	/* "YYYY-MM-DDTHH:MM:SS.000Z" */
	snprintf(out, SHARE_TAXII_TIME_MAX, "%.19s.%06lldZ", ms, (long long)frac);
}

bool
share_taxii_time_parse(const char *s, int64_t *us)
{
	size_t len = s != NULL ? strlen(s) : 0, i, digits = 0;
	int64_t secs_ms, frac = 0;

	if (len < 20 || len > 40 || s[len - 1] != 'Z' || !bw_time_parse_ms(s, len, &secs_ms))
		return false;
	if (s[19] == '.') {
		for (i = 20; i < len - 1; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			if (digits < 6) {
				frac = frac * 10 + (s[i] - '0');
				digits++;
			}
		}
		if (i == 20)
			return false;
	}
	for (; digits < 6; digits++)
		frac *= 10;
	*us = (secs_ms - secs_ms % 1000) * 1000 + frac;
	return true;
}

void
share_envelope_clear(struct share_envelope *e)
{
	free(e->values);
	memset(e, 0, sizeof *e);
}

/* One indicator's values appended to e (skipped counted when it cannot be matched). */
static int
indicator(const json_t *o, int64_t now_ms, struct share_envelope *e, struct bw_err *err)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *pattern = json_string_value(json_object_get(o, "pattern"));
	const char *ptype = json_string_value(json_object_get(o, "pattern_type"));
	const char *until = json_string_value(json_object_get(o, "valid_until"));
	struct share_observable obs[16];
	struct bw_err perr = { 0 };
	int64_t until_ms;
	size_t n, i;

	if (id == NULL || strncmp(id, "indicator--", 11) != 0 || strlen(id) >= sizeof e->values->stix_id)
		return bw_err_set(err, BW_EINVAL, "envelope: an indicator without a valid id");
	if (pattern == NULL || ptype == NULL)
		return bw_err_set(err, BW_EINVAL, "envelope: %.80s: an indicator needs pattern and pattern_type", id);
	e->indicators++;
	if (json_is_true(json_object_get(o, "revoked")) ||
	    (until != NULL && bw_time_parse_ms(until, strlen(until), &until_ms) && until_ms <= now_ms)) {
		e->expired++;
		return 0;
	}
	if (strcmp(ptype, "stix") != 0 || share_stix_pattern_read(pattern, obs, 16, &n, &perr) != 0) {
		e->skipped++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct share_feed_value *v;
		if (e->nvalues == SHARE_ENVELOPE_VALUES_MAX)
			return bw_err_set(err, BW_ERANGE, "envelope: more than %d values", SHARE_ENVELOPE_VALUES_MAX);
		if (e->nvalues % 64 == 0) {
			v = realloc(e->values, (e->nvalues + 64) * sizeof *v);
			if (v == NULL)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			e->values = v;
		}
		v = &e->values[e->nvalues++];
		v->type = obs[i].type;
		snprintf(v->value, sizeof v->value, "%s", obs[i].value);
		snprintf(v->stix_id, sizeof v->stix_id, "%s", id);
	}
	return 0;
}

int
share_taxii_envelope_read(const char *body, size_t len, int64_t now_ms, struct share_envelope *e, struct bw_err *err)
{
	json_error_t je;
	json_t *root, *objects, *more, *next, *o;
	size_t i;
	int r = 0;

	memset(e, 0, sizeof *e);
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return bw_err_set(err, BW_EINVAL, "envelope: not JSON: %.120s (line %d)", je.text, je.line);
	objects = json_object_get(root, "objects");
	more = json_object_get(root, "more");
	next = json_object_get(root, "next");
	if (!json_is_object(root))
		r = bw_err_set(err, BW_EINVAL, "envelope: not a JSON object");
	else if (objects != NULL && !json_is_array(objects))
		r = bw_err_set(err, BW_EINVAL, "envelope: objects is not an array");
	else if (json_array_size(objects) > SHARE_ENVELOPE_OBJECTS_MAX)
		r = bw_err_set(err, BW_ERANGE, "envelope: more than %d objects", SHARE_ENVELOPE_OBJECTS_MAX);
	else if (more != NULL && !json_is_boolean(more))
		r = bw_err_set(err, BW_EINVAL, "envelope: more is not true or false");
	else if (next != NULL && (!json_is_string(next) || json_string_length(next) == 0 ||
				  json_string_length(next) >= sizeof e->next))
		r = bw_err_set(err, BW_EINVAL, "envelope: next is not a string of 1..%zu bytes", sizeof e->next - 1);
	if (r == 0) {
		e->more = json_is_true(more);
		if (next != NULL)
			snprintf(e->next, sizeof e->next, "%s", json_string_value(next));
		if (e->more && e->next[0] == '\0')
			r = bw_err_set(err, BW_EINVAL, "envelope: more without next");
	}
	json_array_foreach(objects, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		if (r != 0)
			break;
		if (!json_is_object(o) || type == NULL)
			r = bw_err_set(err, BW_EINVAL, "envelope: objects[%zu] is not a STIX object with a type", i);
		else if (strcmp(type, "indicator") == 0)
			r = indicator(o, now_ms, e, err);
	}
	json_decref(root);
	if (r != 0)
		share_envelope_clear(e);
	return r;
}
