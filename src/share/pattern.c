/*
 * share/pattern.c: reading what a partner's STIX 2.1 indicator points at.
 * Only the patterns triage can match are taken: observation expressions
 * joined by OR, each a comparison or an OR of comparisons of the form
 * object-path = 'literal' on file:hashes.'SHA-256', url:value,
 * domain-name:value and email-addr:value. Anything else in the STIX
 * patterning grammar (AND, FOLLOWEDBY, qualifiers, other operators and
 * objects) is BW_ENOTSUP: the indicator means more than a single value and
 * is not reduced to one. Malformed text is BW_EINVAL with the offset named.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "share.h"

struct cursor {
	const char *s;
	size_t i, len;
};

static void
skip_ws(struct cursor *c)
{
	while (c->i < c->len && isspace((unsigned char)c->s[c->i]))
		c->i++;
}

static bool
take(struct cursor *c, const char *word)
{
	size_t n = strlen(word);

	skip_ws(c);
	if (c->len - c->i < n || strncmp(c->s + c->i, word, n) != 0)
		return false;
	/* a keyword ends where a name would not go on */
	if (isalpha((unsigned char)word[0]) && c->i + n < c->len &&
	    (isalnum((unsigned char)c->s[c->i + n]) || c->s[c->i + n] == '_'))
		return false;
	c->i += n;
	return true;
}

/* A quoted literal ('...', \\ and \' escaped) into out. */
static int
literal(struct cursor *c, char *out, size_t cap, struct bw_err *err)
{
	size_t o = 0;

	skip_ws(c);
	if (c->i >= c->len || c->s[c->i] != '\'')
		return bw_err_set(err, BW_ENOTSUP, "pattern: offset %zu: not a string literal", c->i);
	for (c->i++; c->i < c->len; c->i++) {
		char ch = c->s[c->i];
		if (ch == '\'') {
			c->i++;
			out[o] = '\0';
			return 0;
		}
		if (ch == '\\') {
			if (c->i + 1 >= c->len || (c->s[c->i + 1] != '\'' && c->s[c->i + 1] != '\\'))
				return bw_err_set(err, BW_EINVAL, "pattern: offset %zu: a backslash escapes only ' or \\", c->i);
			ch = c->s[++c->i];
		}
		if ((unsigned char)ch < 0x20)
			return bw_err_set(err, BW_EINVAL, "pattern: offset %zu: a control character in a literal", c->i);
		if (o + 1 >= cap)
			return bw_err_set(err, BW_ERANGE, "pattern: offset %zu: a literal longer than %zu bytes", c->i, cap - 1);
		out[o++] = ch;
	}
	return bw_err_set(err, BW_EINVAL, "pattern: a string literal is not closed");
}

/* An object path up to the operator: "file:hashes.'SHA-256'", as written (quotes kept). */
static int
object_path(struct cursor *c, char *out, size_t cap, struct bw_err *err)
{
	size_t start, n;
	bool quoted = false;

	skip_ws(c);
	start = c->i;
	while (c->i < c->len) {
		char ch = c->s[c->i];
		if (ch == '\'')
			quoted = !quoted;
		else if (!quoted && !isalnum((unsigned char)ch) && ch != '-' && ch != '_' && ch != ':' && ch != '.')
			break;
		c->i++;
	}
	if (quoted)
		return bw_err_set(err, BW_EINVAL, "pattern: offset %zu: a quoted path key is not closed", start);
	n = c->i - start;
	if (n == 0)
		return bw_err_set(err, c->i < c->len && c->s[c->i] == '[' ? BW_ENOTSUP : BW_EINVAL,
				  "pattern: offset %zu: an object path expected", start);
	if (memchr(c->s + start, ':', n) == NULL)
		return bw_err_set(err, BW_EINVAL, "pattern: offset %zu: an object path is type:property", start);
	if (n >= cap)
		return bw_err_set(err, BW_ENOTSUP, "pattern: offset %zu: an object path too long", start);
	memcpy(out, c->s + start, n);
	out[n] = '\0';
	return 0;
}

static bool
hex64(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!isxdigit((unsigned char)v[i]))
			return false;
	return i == 64;
}

/* Maps a comparison onto triage's indicator types; the value checked and normalised. */
static int
observable(const char *path, char *value, struct share_observable *o, struct bw_err *err)
{
	size_t i;

	if (strcmp(path, "file:hashes.'SHA-256'") == 0 || strcmp(path, "file:hashes.SHA256") == 0 ||
	    strcmp(path, "file:hashes.'SHA256'") == 0) {
		if (!hex64(value))
			return bw_err_set(err, BW_EINVAL, "pattern: a SHA-256 of 64 hexadecimal digits expected");
		for (i = 0; value[i] != '\0'; i++)
			value[i] = (char)tolower((unsigned char)value[i]);
		o->type = "sha256";
	} else if (strcmp(path, "url:value") == 0) {
		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
			return bw_err_set(err, BW_ENOTSUP, "pattern: only http and https URLs are matched");
		o->type = "url";
	} else if (strcmp(path, "domain-name:value") == 0) {
		for (i = 0; value[i] != '\0'; i++) {
			if (!isalnum((unsigned char)value[i]) && value[i] != '-' && value[i] != '.')
				return bw_err_set(err, BW_EINVAL, "pattern: a domain name of letters, digits, '-' and '.' expected");
			value[i] = (char)tolower((unsigned char)value[i]);
		}
		if (i == 0)
			return bw_err_set(err, BW_EINVAL, "pattern: an empty domain name");
		o->type = "domain";
	} else if (strcmp(path, "email-addr:value") == 0) {
		const char *at = strrchr(value, '@');
		if (at == NULL || at == value || at[1] == '\0' || strpbrk(value, " <>\"") != NULL)
			return bw_err_set(err, BW_EINVAL, "pattern: an e-mail address expected");
		o->type = "email";
	} else {
		return bw_err_set(err, BW_ENOTSUP, "pattern: %.80s is not matched by triage", path);
	}
	if (value[0] == '\0')
		return bw_err_set(err, BW_EINVAL, "pattern: an empty value");
	if (strlen(value) >= sizeof o->value)
		return bw_err_set(err, BW_ERANGE, "pattern: a value longer than %zu bytes", sizeof o->value - 1);
	memcpy(o->value, value, strlen(value) + 1);
	return 0;
}

int
share_stix_pattern_read(const char *pattern, struct share_observable *out, size_t cap, size_t *n, struct bw_err *err)
{
	struct cursor c = { pattern, 0, pattern != NULL ? strlen(pattern) : 0 };
	char path[128], value[sizeof out->value];
	int r;

	*n = 0;
	if (pattern == NULL || c.len == 0)
		return bw_err_set(err, BW_EINVAL, "pattern: empty");
	if (c.len > SHARE_PATTERN_MAX)
		return bw_err_set(err, BW_ERANGE, "pattern: longer than %d bytes", SHARE_PATTERN_MAX);
	do {
		if (!take(&c, "["))
			return bw_err_set(err, take(&c, "(") ? BW_ENOTSUP : BW_EINVAL,
					  "pattern: offset %zu: an observation expression starts with '['", c.i);
		do {
			if ((r = object_path(&c, path, sizeof path, err)) != 0)
				return r;
			if (!take(&c, "=")) {
				skip_ws(&c);
				return bw_err_set(err, BW_ENOTSUP, "pattern: offset %zu: only '=' comparisons are matched", c.i);
			}
			if ((r = literal(&c, value, sizeof value, err)) != 0)
				return r;
			if (*n == cap)
				return bw_err_set(err, BW_ERANGE, "pattern: more than %zu values", cap);
			if ((r = observable(path, value, &out[*n], err)) != 0)
				return r;
			(*n)++;
		} while (take(&c, "OR"));
		if (!take(&c, "]")) {
			skip_ws(&c);
			return bw_err_set(err, take(&c, "AND") ? BW_ENOTSUP : BW_EINVAL,
					  "pattern: offset %zu: ']' or OR expected", c.i);
		}
	} while (take(&c, "OR"));
	skip_ws(&c);
	if (c.i != c.len) {
		size_t at = c.i;
		bool grammar = take(&c, "AND") || take(&c, "FOLLOWEDBY") || take(&c, "WITHIN") || take(&c, "REPEATS") ||
			       take(&c, "START");
		return bw_err_set(err, grammar ? BW_ENOTSUP : BW_EINVAL,
				  grammar ? "pattern: offset %zu: only observation expressions joined by OR are matched"
					  : "pattern: offset %zu: text after the last observation expression", at);
	}
	return 0;
}
