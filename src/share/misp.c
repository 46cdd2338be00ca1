/*
 * share/misp.c: MISP events of a reported lure (the MISP core format,
 * draft-dulaunoy-misp-core-format): attributes with to_ids, the threat
 * level and analysis, the TLP as a tag of MISP's tlp taxonomy and the
 * distribution it implies. The same exclusions as STIX (share.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "share.h"
#include "share_internal.h"

int
share_misp_event(const struct share_lure *l, const char *tlp, int64_t now, json_t **out, struct bw_err *err)
{
	char uuid[40], ts[24], date[16], info[300], value[2200];
	json_t *attrs = json_array(), *it;
	const char *distribution;
	struct tm tm;
	time_t t = (time_t)l->created;
	size_t i;

	*out = NULL;
	if (!share_tlp_valid(tlp)) {
		json_decref(attrs);
		return bw_err_set(err, BW_EINVAL, "tlp must be clear, green, amber, amber+strict or red");
	}
	/* TLP to MISP distribution: red your organisation only, amber this community, green connected ones, clear all */
	distribution = strcmp(tlp, "red") == 0 ? "0" : strncmp(tlp, "amber", 5) == 0 ? "1" : strcmp(tlp, "green") == 0 ? "2" : "3";
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	json_array_foreach(l->indicators, i, it) {
		const char *ty = json_string_value(json_object_get(it, "type"));
		const char *v = json_string_value(json_object_get(it, "value"));
		const char *rule = json_string_value(json_object_get(it, "rule"));
		const char *mtype, *category;
		if (ty != NULL && strcmp(ty, "yara") == 0 && rule != NULL) {
			share_uuid4(uuid, sizeof uuid);
			json_array_append_new(attrs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "uuid", uuid, "type",
							       "yara", "category", "Payload installation", "value", rule,
							       "to_ids", 1, "timestamp", ts, "distribution", "5", "comment",
							       v != NULL ? v : ""));
			continue;
		}
		if (ty == NULL || v == NULL || !share_indicator_ok(l, ty, v, value, sizeof value))
			continue;
		if (strcmp(ty, "sha256") == 0)
			mtype = "sha256", category = "Payload delivery";
		else if (strcmp(ty, "url") == 0)
			mtype = "url", category = "Network activity";
		else if (strcmp(ty, "domain") == 0)
			mtype = "domain", category = "Network activity";
		else if (strcmp(ty, "email") == 0)
			mtype = "email-src", category = "Payload delivery";
		else
			continue;
		share_uuid4(uuid, sizeof uuid);
		json_array_append_new(attrs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "uuid", uuid, "type", mtype,
						       "category", category, "value", value, "to_ids", 1, "timestamp", ts,
						       "distribution", "5", "comment", ""));
	}
	share_uuid4(uuid, sizeof uuid);
	snprintf(info, sizeof info, "Reported lure %lld: %s%s%s", (long long)l->report_id, l->verdict,
		 l->category[0] ? ", " : "", l->category);
	*out = json_pack("{s:{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:s}, s:[{s:s}], s:o}}", "Event", "uuid", uuid,
			 "info", info, "date", date, "timestamp", ts, "published", 0, "threat_level_id",
			 strcmp(l->verdict, "threat") == 0 ? "1" : "2", "analysis", "2", "distribution", distribution,
			 "Orgc", "name", l->producer, "Tag", "name", tlp_tag(tlp), "Attribute", attrs);
	return *out != NULL ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}
