/* patch/cjson.c: OLPC canonical JSON (the byte string TUF signs). */
#include <stdlib.h>
#include <string.h>

#include "patch.h"

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
put_string(struct bw_buf *b, const char *s, size_t n)
{
	size_t i;

	if (bw_buf_append_byte(b, '"') != 0)
		return BW_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\\') && bw_buf_append_byte(b, '\\') != 0)
			return BW_ENOMEM;
		if (bw_buf_append_byte(b, (uint8_t)s[i]) != 0)
			return BW_ENOMEM;
	}
	return bw_buf_append_byte(b, '"');
}

static int
emit(struct bw_buf *b, const json_t *v, int depth, struct bw_err *err)
{
	size_t i, n;
	int r;

	if (depth > 64)
		return bw_err_set(err, BW_ERANGE, "canonical JSON: nested deeper than 64");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char **keys;
		const char *k;
		json_t *x;
		n = json_object_size(v);
		if ((keys = malloc((n ? n : 1) * sizeof *keys)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		i = 0;
		json_object_foreach((json_t *)v, k, x)
			keys[i++] = k;
		qsort(keys, n, sizeof *keys, cmp_keys);
		r = bw_buf_append_byte(b, '{');
		for (i = 0; r == 0 && i < n; i++) {
			if ((i && bw_buf_append_byte(b, ',')) || put_string(b, keys[i], strlen(keys[i])) ||
			    bw_buf_append_byte(b, ':')) {
				r = BW_ENOMEM;
				break;
			}
			r = emit(b, json_object_get(v, keys[i]), depth + 1, err);
		}
		free(keys);
		if (r != 0)
			return r == BW_ENOMEM ? bw_err_set(err, r, "out of memory") : r;
		return bw_buf_append_byte(b, '}') ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	}
	case JSON_ARRAY:
		if (bw_buf_append_byte(b, '['))
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		for (i = 0; i < json_array_size(v); i++) {
			if (i && bw_buf_append_byte(b, ','))
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			if ((r = emit(b, json_array_get(v, i), depth + 1, err)) != 0)
				return r;
		}
		return bw_buf_append_byte(b, ']') ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v))
			       ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	case JSON_INTEGER:
		return bw_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v))
			       ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	case JSON_REAL:
		return bw_err_set(err, BW_EINVAL, "canonical JSON has no floating-point numbers");
	case JSON_TRUE:
		return bw_buf_append_str(b, "true") ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	case JSON_FALSE:
		return bw_buf_append_str(b, "false") ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	case JSON_NULL:
		return bw_buf_append_str(b, "null") ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
	}
	return bw_err_set(err, BW_EINVAL, "canonical JSON: unknown value type");
}

int
patch_cjson(const json_t *v, char **out, size_t *len, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	int r;

	*out = NULL;
	if ((r = emit(&b, v, 0, err)) != 0) {
		bw_buf_free(&b);
		return r;
	}
	if ((*out = bw_buf_take(&b, len)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}
