/* tlog/checkpoint.c: c2sp.org/tlog-checkpoint bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note/note.h"
#include "tlog.h"

void
tlog_checkpoint_clear(struct tlog_checkpoint *cp)
{
	if (cp == NULL)
		return;
	free(cp->origin);
	free(cp->extensions);
	memset(cp, 0, sizeof *cp);
}

/* Returns the length of the line at s (without '\n'); s[len] is '\n'. */
static size_t
line_len(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	return nl ? (size_t)(nl - s) : (size_t)(end - s);
}

int
tlog_checkpoint_parse(const char *text, size_t len, struct tlog_checkpoint *out,
		      struct bw_err *err)
{
	const char *s = text, *end = text + len;
	size_t n, rootlen, lineno;
	uint64_t size;
	int r;

	memset(out, 0, sizeof *out);
	if ((r = note_text_check(text, len, err)) != 0)
		return bw_err_prefix(err, "checkpoint");
	/* line 1: origin */
	n = line_len(s, end);
	if (n == 0)
		return bw_err_set(err, BW_EINVAL, "checkpoint line 1: empty origin");
	if (n > TLOG_ORIGIN_MAX)
		return bw_err_set(err, BW_ERANGE, "checkpoint line 1: origin longer than %d bytes",
				  TLOG_ORIGIN_MAX);
	if ((out->origin = strndup(s, n)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	s += n + 1;
	/* line 2: tree size */
	if (s >= end) {
		r = bw_err_set(err, BW_EINVAL, "checkpoint line 2: missing tree size");
		goto fail;
	}
	n = line_len(s, end);
	if ((r = bw_parse_u64(s, n, &size)) != 0 || size > (uint64_t)INT64_MAX) {
		r = bw_err_set(err, r == BW_ERANGE || r == 0 ? BW_ERANGE : BW_EINVAL,
			       "checkpoint line 2: tree size must be decimal without leading zeros, "
			       "at most 2^63-1");
		goto fail;
	}
	out->size = size;
	s += n + 1;
	/* line 3: root hash */
	if (s >= end) {
		r = bw_err_set(err, BW_EINVAL, "checkpoint line 3: missing root hash");
		goto fail;
	}
	n = line_len(s, end);
	if (bw_base64_decode(s, n, out->root.b, sizeof out->root.b, &rootlen) != 0 ||
	    rootlen != TLOG_HASH_SIZE) {
		r = bw_err_set(err, BW_EINVAL, "checkpoint line 3: root must be base64 of 32 bytes");
		goto fail;
	}
	s += n + 1;
	/* extension lines: each non-empty */
	for (lineno = 4; s < end; lineno++) {
		n = line_len(s, end);
		if (n == 0) {
			r = bw_err_set(err, BW_EINVAL, "checkpoint line %zu: empty extension line", lineno);
			goto fail;
		}
		s += n + 1;
	}
	{
		const char *ext = text;
		int k;
		for (k = 0; k < 3; k++)
			ext += line_len(ext, end) + 1;
		if ((out->extensions = strndup(ext, (size_t)(end - ext))) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	tlog_checkpoint_clear(out);
	return r;
}

int
tlog_checkpoint_format(const struct tlog_checkpoint *cp, char **out, size_t *outlen,
		       struct bw_err *err)
{
	char root[TLOG_HASH_SIZE * 2];
	struct bw_buf b = { 0 };
	struct tlog_checkpoint check;
	size_t len = 0;
	int r;

	*out = NULL;
	bw_base64_encode(root, cp->root.b, TLOG_HASH_SIZE);
	if (bw_buf_printf(&b, "%s\n%llu\n%s\n%s", cp->origin, (unsigned long long)cp->size, root,
			  cp->extensions ? cp->extensions : "") != 0 ||
	    (*out = bw_buf_take(&b, &len)) == NULL) {
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	/* Never emit a body this module would not accept. */
	if ((r = tlog_checkpoint_parse(*out, len, &check, err)) != 0) {
		free(*out);
		*out = NULL;
		return r;
	}
	tlog_checkpoint_clear(&check);
	if (outlen != NULL)
		*outlen = len;
	return 0;
}
