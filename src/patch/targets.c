/* patch/targets.c: TUF targets metadata (offline): adding a target file. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "patch.h"

bool
patch_target_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") != NULL || strstr(s, "//") != NULL)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-' || c == '+' || c == '/'))
			return false;
	}
	return true;
}

static bool
label_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

int
patch_targets_add(json_t **targets, const struct patch_target_info *t, const uint8_t sha256[32], uint64_t len,
		  int64_t now, int days, struct bw_err *err)
{
	char hex[65], expires[32];
	json_t *md = *targets, *sig, *tg, *custom, *ver;
	time_t when = (time_t)(now + (int64_t)days * 86400);
	struct tm tm;

	if (t->name == NULL || !patch_target_name_valid(t->name))
		return bw_err_set(err, BW_EINVAL, "target name must be 1..200 of A-Z a-z 0-9 . _ - + /, relative, no '..'");
	if (t->version == NULL || !label_valid(t->version, 64))
		return bw_err_set(err, BW_EINVAL, "version must be 1..64 printable characters without quotes");
	if ((t->hosts != NULL) && (t->group != NULL))
		return bw_err_set(err, BW_EINVAL, "give --hosts or --group, not both");
	if ((t->hosts && !label_valid(t->hosts, 1024)) || (t->group && !bw_simple_name_valid(t->group, 64)))
		return bw_err_set(err, BW_EINVAL, "bad --hosts or --group");
	if (len == 0)
		return bw_err_set(err, BW_EINVAL, "the target file is empty");
	if (days < 1 || days > 3650)
		return bw_err_set(err, BW_EINVAL, "expiry must be 1..3650 days");
	if (len > (uint64_t)INT64_MAX)
		return bw_err_set(err, BW_ERANGE, "the target file is too large");
	bw_hex_encode(hex, sha256, 32);
	gmtime_r(&when, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (md == NULL) {
		md = json_pack("{s:{s:s, s:s, s:i, s:s, s:{}}, s:[]}", "signed", "_type", "targets", "spec_version",
			       "1.0.31", "version", 0, "expires", expires, "targets", "signatures");
		if (md == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		*targets = md;
	}
	sig = json_object_get(md, "signed");
	if (!json_is_object(sig) || !json_is_string(json_object_get(sig, "_type")) ||
	    strcmp(json_string_value(json_object_get(sig, "_type")), "targets") != 0 ||
	    !json_is_object(tg = json_object_get(sig, "targets")) || !json_is_integer(ver = json_object_get(sig, "version")))
		return bw_err_set(err, BW_EINVAL, "not targets metadata (_type targets, version, targets object)");
	custom = json_pack("{s:s}", "version", t->version);
	if (t->hosts)
		json_object_set_new(custom, "hosts", json_string(t->hosts));
	if (t->group)
		json_object_set_new(custom, "group", json_string(t->group));
	json_object_set_new(tg, t->name, json_pack("{s:I, s:{s:s}, s:o}", "length", (json_int_t)len, "hashes", "sha256",
						  hex, "custom", custom));
	json_object_set_new(sig, "version", json_integer(json_integer_value(ver) + 1));
	json_object_set_new(sig, "expires", json_string(expires));
	json_object_set_new(md, "signatures", json_array());	/* the content changed: sign again */
	return 0;
}
