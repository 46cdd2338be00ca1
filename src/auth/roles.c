/* auth/roles.c: role names, masks, user-name and password policy. */
#include <stdio.h>
#include <string.h>

#include "auth.h"

static const char *const role_names[] = { "admin", "approver", "operator", "vendor", "auditor", "staff", "analyst" };

const char *
auth_role_name(unsigned bit)
{
	size_t i;

	if (bit == ROLE_HOST)
		return "host";
	if (bit == ROLE_PARTNER)
		return "partner";
	for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
		if (bit == 1u << i)
			return role_names[i];
	return NULL;
}

int
auth_roles_parse(const char *text, unsigned *mask, struct bw_err *err)
{
	const char *p = text;

	*mask = 0;
	if (*text == '\0')
		return bw_err_set(err, BW_EINVAL, "no roles given");
	while (*p) {
		size_t n = strcspn(p, ","), i;
		unsigned bit = 0;
		for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
			if (strlen(role_names[i]) == n && strncmp(p, role_names[i], n) == 0)
				bit = 1u << i;
		if (bit == 0)
			return bw_err_set(err, BW_EINVAL,
					  "unknown role '%.*s' (roles: admin, approver, operator, vendor, auditor, staff, analyst)",
					  (int)(n > 32 ? 32 : n), p);
		if (*mask & bit)
			return bw_err_set(err, BW_EINVAL, "role '%s' given twice", role_names[__builtin_ctz(bit)]);
		*mask |= bit;
		p += n;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return bw_err_set(err, BW_EINVAL, "empty role after ','");
		}
	}
	return 0;
}

void
auth_roles_format(unsigned mask, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
		if (mask & (1u << i))
			o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", role_names[i]);
}

bool
auth_username_valid(const char *name)
{
	return bw_simple_name_valid(name, AUTH_USERNAME_MAX);
}

int
auth_password_check(const char *pw, struct bw_err *err)
{
	size_t n = strlen(pw), i = 0, points = 0;

	if (n > AUTH_PASSWORD_MAX)
		return bw_err_set(err, BW_EINVAL, "password longer than %d bytes", AUTH_PASSWORD_MAX);
	while (i < n) {
		uint32_t cp;
		size_t k = bw_utf8_decode((const uint8_t *)pw + i, n - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f)
			return bw_err_set(err, BW_EINVAL, "password is not valid UTF-8 text");
		i += k;
		points++;
	}
	if (points < AUTH_PASSWORD_MIN)
		return bw_err_set(err, BW_EINVAL, "password shorter than %d characters", AUTH_PASSWORD_MIN);
	return 0;
}
