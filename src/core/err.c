/* core/err.c: error codes and messages. */
#include <stdio.h>
#include <string.h>

#include "core.h"

int
bw_err_set(struct bw_err *err, int code, const char *fmt, ...)
{
	char msg[BW_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return code;
	/* Formatted aside first: an argument may be err->msg itself (a message wrapped in a new one). */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err->code = code;
	memcpy(err->msg, msg, sizeof err->msg);
	return code;
}

int
bw_err_prefix(struct bw_err *err, const char *fmt, ...)
{
	char prefix[BW_ERR_MSG_MAX], old[BW_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return BW_EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* Truncation of over-long messages is acceptable; build it by hand. */
	size_t n = strnlen(prefix, sizeof err->msg - 1);
	memcpy(err->msg, prefix, n);
	if (n + 2 < sizeof err->msg) {
		err->msg[n++] = ':';
		err->msg[n++] = ' ';
	}
	size_t m = strnlen(old, sizeof old);
	if (m > sizeof err->msg - 1 - n)
		m = sizeof err->msg - 1 - n;
	memcpy(err->msg + n, old, m);
	err->msg[n + m] = '\0';
	return err->code;
}

void
bw_err_clear(struct bw_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *
bw_strerror(int code)
{
	switch (code) {
	case BW_OK: return "ok";
	case BW_EINVAL: return "invalid input";
	case BW_ENOMEM: return "out of memory";
	case BW_EIO: return "I/O error";
	case BW_EVERIFY: return "verification failed";
	case BW_ENOTFOUND: return "not found";
	case BW_ERANGE: return "out of range";
	case BW_ECRYPTO: return "crypto library failure";
	case BW_EEXIST: return "already exists";
	case BW_ECORRUPT: return "corrupt state";
	case BW_EBUSY: return "busy";
	case BW_EDENIED: return "not permitted";
	case BW_ECONFLICT: return "conflict";
	case BW_EGONE: return "gone";
	default: return "unknown error";
	}
}
