/*
 * Fuzzes the TUF client checks: hostile bytes offered as root, timestamp,
 * snapshot and targets metadata against a trusted set built from the same
 * input (so signatures, versions and meta entries can line up), then every
 * target looked up and turned into its download path. Nothing may crash, a
 * refusal must carry a message, and accepted metadata must become trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "patch/patch.h"

static void
check(int r, const struct bw_err *err, const json_t *trusted)
{
	if (r != 0 && err->msg[0] == '\0')
		abort();
	if (r == 0 && trusted == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *list, *e;
	struct patch_trust t = { 0 };
	struct bw_err err = { 0 };
	const char *name;
	int64_t when;
	int r;

	if (doc == NULL)
		return 0;
	t.root = json_incref(doc);
	t.timestamp = json_incref(doc);
	t.snapshot = json_incref(doc);
	r = patch_client_timestamp(&t, data, size, 1795408404, &err);
	check(r, &err, t.timestamp);
	bw_err_clear(&err);
	r = patch_client_snapshot(&t, data, size, 1795408404, &err);
	check(r, &err, t.snapshot);
	bw_err_clear(&err);
	r = patch_client_targets(&t, data, size, 1795408404, &err);
	check(r, &err, t.targets);
	bw_err_clear(&err);
	r = patch_client_root(&t, data, size, &err);
	check(r, &err, t.root);
	(void)patch_time_parse(json_string_value(json_object_get(json_object_get(doc, "signed"), "expires")), &when, NULL);
	list = json_object_get(json_object_get(doc, "signed"), "targets");
	if (json_is_object(list))
		json_object_foreach(list, name, e) {
			struct patch_target pt;
			char path[512];
			(void)e;
			if (patch_target_get(doc, name, &pt, NULL) == 0) {
				(void)patch_target_for_host(&pt, "web1", "default");
				(void)patch_target_url_path(&pt, path, sizeof path);
			}
		}
	patch_trust_clear(&t);
	json_decref(doc);
	return 0;
}
