/* auth/totp.c: RFC 6238 TOTP through liboath, otpauth URIs, tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>

#include "auth.h"

int
auth_totp_code(const uint8_t *secret, size_t len, int64_t step, char out[7], struct bw_err *err)
{
	/* oath_totp_generate takes a time: step * 30 is the start of the step. */
	if (oath_totp_generate((const char *)secret, len, (time_t)(step * AUTH_TOTP_STEP), AUTH_TOTP_STEP, 0,
			       AUTH_TOTP_DIGITS, out) != OATH_OK)
		return bw_err_set(err, BW_ECRYPTO, "TOTP generation failed");
	return 0;
}

int
auth_totp_match(const uint8_t *secret, size_t len, const char *code, int64_t unix_now, int64_t *step)
{
	int64_t now = unix_now / AUTH_TOTP_STEP, s;
	int found = 0;
	size_t i;

	if (strlen(code) != AUTH_TOTP_DIGITS)
		return BW_EVERIFY;
	for (i = 0; i < AUTH_TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return BW_EVERIFY;
	/* Check all three steps, always, comparing in constant time. */
	for (s = now - 1; s <= now + 1; s++) {
		char want[7];
		if (auth_totp_code(secret, len, s, want, NULL) != 0)
			return BW_EVERIFY;
		if (bw_memcmp_ct(want, code, AUTH_TOTP_DIGITS) == 0 && !found) {
			*step = s;
			found = 1;
		}
		bw_memzero(want, sizeof want);
	}
	return found ? 0 : BW_EVERIFY;
}

/* Percent-encodes s for a URI path or query component. */
static int
uri_escape(struct bw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			if (bw_buf_append_byte(b, c) != 0)
				return BW_ENOMEM;
		} else if (bw_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]) != 0) {
			return BW_ENOMEM;
		}
	}
	return 0;
}

int
auth_totp_uri(const char *issuer, const char *user, const uint8_t *secret, size_t len, char **out,
	      struct bw_err *err)
{
	struct bw_buf b = { 0 };
	char b32[64];

	*out = NULL;
	if (len > 32)
		return bw_err_set(err, BW_EINVAL, "TOTP secret too long");
	bw_base32_encode(b32, secret, len);
	if (bw_buf_append_str(&b, "otpauth://totp/") != 0 || uri_escape(&b, issuer) != 0 ||
	    bw_buf_append_str(&b, ":") != 0 || uri_escape(&b, user) != 0 ||
	    bw_buf_printf(&b, "?secret=%s&issuer=", b32) != 0 || uri_escape(&b, issuer) != 0 ||
	    bw_buf_printf(&b, "&algorithm=SHA1&digits=%d&period=%d", AUTH_TOTP_DIGITS, AUTH_TOTP_STEP) != 0 ||
	    (*out = bw_buf_take(&b, NULL)) == NULL) {
		bw_memzero(b32, sizeof b32);
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	bw_memzero(b32, sizeof b32);
	return 0;
}

void
auth_token_new(const char *prefix, char out[AUTH_TOKEN_TEXT_MAX], uint8_t hash[32])
{
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t raw[33];
	size_t i, o;

	bw_random_bytes(raw, 32);
	raw[32] = 0;
	o = (size_t)snprintf(out, AUTH_TOKEN_TEXT_MAX, "%s_", prefix);
	for (i = 0; i < 32; i += 3) {	/* base64url, no padding: 43 characters */
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | (i + 2 < 33 ? raw[i + 2] : 0);
		out[o++] = url[v >> 18];
		out[o++] = url[(v >> 12) & 63];
		if (i + 1 < 32)
			out[o++] = url[(v >> 6) & 63];
		if (i + 2 < 32)
			out[o++] = url[v & 63];
	}
	out[o] = '\0';
	bw_memzero(raw, sizeof raw);
	auth_token_hash(out, hash);
}

int
auth_token_hash(const char *text, uint8_t hash[32])
{
	return bw_sha256_oneshot(text, strlen(text), hash);
}
