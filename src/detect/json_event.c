/*
 * detect/json_event.c: a JSON object (jansson) as an event for rules.
 * Nested objects become dotted names, arrays repeat their field, numbers
 * and booleans match as their JSON text, null as an empty value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "detect_internal.h"

#define JSON_DEPTH_MAX 16
#define JSON_FIELDS_MAX 4096
#define NAME_MAX_LEN 256

struct detect_json_event {
	json_t *root;
	struct detect_field *fields;
	size_t n, cap;
	struct bw_buf text;	/* names and number texts; fields point in once complete */
	size_t *name_off, *value_off;	/* offsets into text (SIZE_MAX: value points into root) */
	size_t offcap;
	struct detect_event ev;
};

int
detect_json_event_new(struct detect_json_event **out, struct bw_err *err)
{
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

void
detect_json_event_free(struct detect_json_event *je)
{
	if (je == NULL)
		return;
	json_decref(je->root);
	free(je->fields);
	free(je->name_off);
	free(je->value_off);
	bw_buf_free(&je->text);
	free(je);
}

const struct detect_event *
detect_json_event_get(const struct detect_json_event *je)
{
	return &je->ev;
}

/* Adds a field: its name (stored in text) and its value (in root, or in text when owned). */
static int
add_field(struct detect_json_event *je, const char *name, size_t nlen, const char *value, size_t vlen, bool own,
	  struct bw_err *err)
{
	if (je->n == JSON_FIELDS_MAX)
		return bw_err_set(err, BW_ERANGE, "more than %d fields", JSON_FIELDS_MAX);
	if (je->n == je->cap) {
		size_t cap = je->cap ? je->cap * 2 : 32;
		struct detect_field *f = realloc(je->fields, cap * sizeof *f);
		size_t *a, *b;
		if (f == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		je->fields = f;
		if ((a = realloc(je->name_off, cap * sizeof *a)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		je->name_off = a;
		if ((b = realloc(je->value_off, cap * sizeof *b)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		je->value_off = b;
		je->cap = cap;
	}
	je->name_off[je->n] = je->text.len;
	if (bw_buf_append(&je->text, name, nlen) != 0 || bw_buf_append(&je->text, "", 1) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (own) {
		je->value_off[je->n] = je->text.len;
		if (bw_buf_append(&je->text, value, vlen) != 0)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		je->fields[je->n].value = NULL;
	} else {
		je->value_off[je->n] = SIZE_MAX;
		je->fields[je->n].value = value;
	}
	je->fields[je->n].len = vlen;
	je->n++;
	return 0;
}

static int
walk(struct detect_json_event *je, const char *name, size_t nlen, json_t *v, int depth, struct bw_err *err)
{
	char buf[64];
	int r, k;

	if (depth > JSON_DEPTH_MAX)
		return bw_err_set(err, BW_EINVAL, "nested deeper than %d levels", JSON_DEPTH_MAX);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *sub;
		json_object_foreach(v, key, sub) {
			char full[NAME_MAX_LEN + 1];
			size_t kl = strlen(key);
			if (nlen + 1 + kl > NAME_MAX_LEN)
				return bw_err_set(err, BW_ERANGE, "a field name longer than %d characters", NAME_MAX_LEN);
			memcpy(full, name, nlen);
			if (nlen > 0)
				full[nlen] = '.';
			memcpy(full + nlen + (nlen > 0), key, kl);
			if ((r = walk(je, full, nlen + (nlen > 0) + kl, sub, depth + 1, err)) != 0)
				return r;
		}
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *sub;
		json_array_foreach(v, i, sub)
			if ((r = walk(je, name, nlen, sub, depth + 1, err)) != 0)
				return r;
		return 0;
	}
	case JSON_STRING:
		return add_field(je, name, nlen, json_string_value(v), json_string_length(v), false, err);
	case JSON_INTEGER:
		k = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return add_field(je, name, nlen, buf, (size_t)k, true, err);
	case JSON_REAL:
		k = snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
		return add_field(je, name, nlen, buf, (size_t)k, true, err);
	case JSON_TRUE:
		return add_field(je, name, nlen, "true", 4, true, err);
	case JSON_FALSE:
		return add_field(je, name, nlen, "false", 5, true, err);
	case JSON_NULL:
		return add_field(je, name, nlen, "", 0, true, err);
	}
	return 0;
}

int
detect_json_event_parse(struct detect_json_event *je, const char *text, size_t len, struct bw_err *err)
{
	json_error_t jerr;
	size_t i;
	int r;

	json_decref(je->root);
	je->root = NULL;
	je->n = 0;
	je->text.len = 0;
	memset(&je->ev, 0, sizeof je->ev);
	if ((je->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_EINVAL, "not JSON: %s (character %d)", jerr.text, jerr.position);
	if (!json_is_object(je->root))
		return bw_err_set(err, BW_EINVAL, "not a JSON object");
	if ((r = walk(je, "", 0, je->root, 0, err)) != 0)
		return r;
	/* The text buffer is complete: point the names and owned values into it. */
	for (i = 0; i < je->n; i++) {
		je->fields[i].name = (const char *)je->text.data + je->name_off[i];
		if (je->value_off[i] != SIZE_MAX)
			je->fields[i].value = (const char *)je->text.data + je->value_off[i];
	}
	je->ev.fields = je->fields;
	je->ev.nfields = je->n;
	je->ev.raw = text;
	je->ev.raw_len = len;
	return 0;
}

const struct detect_field *
detect_event_field(const struct detect_event *ev, const char *name)
{
	size_t i;

	for (i = 0; i < ev->nfields; i++)
		if (strcmp(ev->fields[i].name, name) == 0)
			return &ev->fields[i];
	return NULL;
}

bool
detect_event_time(const struct detect_event *ev, int64_t *ms)
{
	const struct detect_field *f = detect_event_field(ev, "time");

	return f != NULL && bw_time_parse_ms(f->value, f->len, ms);
}

bool
detect_exceptions_match(const char *exceptions, const struct detect_event *ev)
{
	json_t *a, *e;
	size_t i, k;
	bool hit = false;

	if (exceptions == NULL || (a = json_loads(exceptions, 0, NULL)) == NULL)
		return false;
	json_array_foreach(a, i, e) {
		const char *f = json_string_value(json_object_get(e, "field"));
		const char *v = json_string_value(json_object_get(e, "value"));
		size_t vl = v != NULL ? strlen(v) : 0;
		for (k = 0; f != NULL && v != NULL && k < ev->nfields && !hit; k++)
			hit = strcmp(ev->fields[k].name, f) == 0 && ev->fields[k].len == vl &&
			      strncasecmp(ev->fields[k].value, v, vl) == 0;
		if (hit)
			break;
	}
	json_decref(a);
	return hit;
}
