/*
 * share/stix.c: STIX 2.1 bundles of a reported lure (OASIS STIX 2.1; TLP 2.0
 * marking definitions from OASIS's cti-stix-common-objects, used verbatim).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "share.h"
#include "share_internal.h"

#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

static const struct {
	const char *tlp, *id, *name;
} tlps[] = {
	{ "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR" },
	{ "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN" },
	{ "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER" },
	{ "amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT" },
	{ "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED" },
};

bool
share_tlp_valid(const char *tlp)
{
	size_t i;

	for (i = 0; tlp != NULL && i < sizeof tlps / sizeof tlps[0]; i++)
		if (strcmp(tlp, tlps[i].tlp) == 0)
			return true;
	return false;
}

void
share_uuid4(char *out, size_t cap)
{
	uint8_t u[16];

	bw_random_bytes(u, sizeof u);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
		 u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

const char *
tlp_tag(const char *tlp)
{
	static const char *const tags[][2] = { { "clear", "tlp:clear" }, { "green", "tlp:green" }, { "amber", "tlp:amber" },
					       { "amber+strict", "tlp:amber+strict" }, { "red", "tlp:red" } };
	size_t i;

	for (i = 0; i < sizeof tags / sizeof tags[0]; i++)
		if (strcmp(tlp, tags[i][0]) == 0)
			return tags[i][1];
	return "tlp:amber";
}

/* "type--" and a random (version 4) UUID. */
static void
new_id(const char *type, char *out, size_t cap)
{
	char u[40];

	share_uuid4(u, sizeof u);
	snprintf(out, cap, "%s--%s", type, u);
}

/* RFC 3339 UTC with milliseconds, as STIX timestamps are. */
static void
stamp(int64_t secs, char out[32])
{
	bw_time_format_ms(secs * 1000, out);
}

bool
share_stix_quote(const char *value, char *out, size_t cap)
{
	size_t o = 0;

	for (; *value != '\0'; value++) {
		if ((*value == '\\' || *value == '\'') && o + 1 < cap)
			out[o++] = '\\';
		if (o + 1 >= cap)
			return false;
		out[o++] = *value;
	}
	out[o] = '\0';
	return true;
}

static bool
org_host(const char *host, const struct share_lure *l)
{
	size_t i, lh = strlen(host);

	for (i = 0; i < l->norg; i++) {
		size_t lo = strlen(l->org_domains[i]);
		if (strcasecmp(host, l->org_domains[i]) == 0 ||
		    (lh > lo && host[lh - lo - 1] == '.' && strcasecmp(host + lh - lo, l->org_domains[i]) == 0))
			return true;
	}
	return false;
}

/* The host of an http(s) URL, lower case. */
static bool
host_of(const char *url, char *host, size_t cap)
{
	const char *p = strstr(url, "://"), *at;
	size_t n, i;

	if (p == NULL)
		return false;
	p += 3;
	n = strcspn(p, "/?#");
	for (at = p; at < p + n; at++)
		if (*at == '@') {
			n -= (size_t)(at + 1 - p);
			p = at + 1;
			at = p;
		}
	n = strcspn(p, ":/?#");
	if (n == 0 || n >= cap)
		return false;
	for (i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	return true;
}

/* A query value that names the recipient or looks like a per-recipient token. */
static bool
token_like(const char *v, size_t n)
{
	size_t i, word = 0;

	if (memchr(v, '@', n) != NULL || (n >= 3 && (memmem(v, n, "%40", 3) != NULL)))
		return true;
	for (i = 0; i < n; i++)
		word = isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_' ? word + 1 : 0;
	return n >= 16 && word == n;
}

/* url without the query parameters that carry the recipient or a token, into out. */
static void
strip_tokens(const char *url, char *out, size_t cap)
{
	const char *q = strchr(url, '?'), *p;
	size_t o = 0;
	bool first = true;

	if (q == NULL) {
		snprintf(out, cap, "%s", url);
		return;
	}
	snprintf(out, cap, "%.*s", (int)(q - url), url);
	o = strlen(out);
	for (p = q + 1; *p != '\0' && *p != '#';) {
		size_t n = strcspn(p, "&#"), eq = strcspn(p, "=");
		const char *v = eq < n ? p + eq + 1 : p + n;
		size_t vn = eq < n ? n - eq - 1 : 0;
		if (!token_like(v, vn) && o + n + 2 < cap) {
			out[o++] = first ? '?' : '&';
			memcpy(out + o, p, n);
			o += n;
			first = false;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	out[o] = '\0';
}

bool
share_indicator_ok(const struct share_lure *l, const char *type, const char *value, char *out, size_t cap)
{
	char host[256];

	if (strcmp(type, "sha256") == 0 && strlen(value) == 64) {
		snprintf(out, cap, "%s", value);
		return true;
	}
	if (strcmp(type, "url") == 0 && host_of(value, host, sizeof host) && !org_host(host, l)) {
		strip_tokens(value, out, cap);
		return true;
	}
	if (strcmp(type, "domain") == 0 && !org_host(value, l)) {
		snprintf(out, cap, "%s", value);
		return true;
	}
	if (strcmp(type, "email") == 0 && strrchr(value, '@') != NULL && !org_host(strrchr(value, '@') + 1, l)) {
		snprintf(out, cap, "%s", value);
		return true;
	}
	return false;
}

int
share_stix_bundle(const struct share_lure *l, const char *tlp, int64_t now, json_t **out, struct bw_err *err)
{
	const char *marking = NULL, *mname = NULL;
	char bundle_id[64], identity_id[64], report_id[64], ts[32], created[32], pattern[4600], q[4500], v[2200];
	json_t *objects, *refs, *it, *marks;
	size_t i;

	*out = NULL;
	for (i = 0; tlp != NULL && i < sizeof tlps / sizeof tlps[0]; i++)
		if (strcmp(tlp, tlps[i].tlp) == 0) {
			marking = tlps[i].id;
			mname = tlps[i].name;
		}
	if (marking == NULL)
		return bw_err_set(err, BW_EINVAL, "tlp must be clear, green, amber, amber+strict or red");
	new_id("bundle", bundle_id, sizeof bundle_id);
	new_id("identity", identity_id, sizeof identity_id);
	new_id("report", report_id, sizeof report_id);
	stamp(now, ts);
	stamp(l->created, created);
	objects = json_array();
	refs = json_array();
	/* OASIS's TLP 2.0 object, verbatim */
	json_array_append_new(objects, json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type", "marking-definition",
						 "spec_version", "2.1", "id", marking, "created", "2022-10-01T00:00:00.000Z",
						 "name", mname, "extensions", TLP2_EXTENSION, "extension_type",
						 "property-extension", "tlp_2_0", tlp));
	marks = json_pack("[s]", marking);
	json_array_append_new(objects, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "type", "identity",
						 "spec_version", "2.1", "id", identity_id, "created", ts, "modified", ts,
						 "name", l->producer, "identity_class", "organization",
						 "object_marking_refs", marks));
	json_array_foreach(l->indicators, i, it) {
		const char *t = json_string_value(json_object_get(it, "type"));
		const char *val = json_string_value(json_object_get(it, "value"));
		const char *rule = json_string_value(json_object_get(it, "rule"));
		char id[64];
		if (t == NULL || val == NULL)
			continue;
		if (strcmp(t, "yara") == 0 && rule != NULL) {
			/* the rule itself (STIX 2.1 pattern_type yara): what matched, for the partner to run */
			snprintf(v, sizeof v, "YARA rule %s", val);
			new_id("indicator", id, sizeof id);
			json_array_append_new(objects, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O}",
								 "type", "indicator", "spec_version", "2.1", "id", id,
								 "created_by_ref", identity_id, "created", ts, "modified", ts,
								 "name", v, "pattern", rule, "pattern_type", "yara", "valid_from",
								 created, "indicator_types",
								 strcmp(l->verdict, "threat") == 0 ? "malicious-activity"
												   : "anomalous-activity",
								 "object_marking_refs", marks));
			json_array_append_new(refs, json_string(id));
			continue;
		}
		pattern[0] = '\0';
		if (!share_indicator_ok(l, t, val, v, sizeof v) || !share_stix_quote(v, q, sizeof q))
			continue;	/* not shared: the organisation's own */
		if (strcmp(t, "sha256") == 0)
			snprintf(pattern, sizeof pattern, "[file:hashes.'SHA-256' = '%s']", q);
		else if (strcmp(t, "url") == 0)
			snprintf(pattern, sizeof pattern, "[url:value = '%s']", q);
		else if (strcmp(t, "domain") == 0)
			snprintf(pattern, sizeof pattern, "[domain-name:value = '%s']", q);
		else if (strcmp(t, "email") == 0)
			snprintf(pattern, sizeof pattern, "[email-addr:value = '%s']", q);
		if (pattern[0] == '\0')
			continue;	/* not shared: the organisation's own, or no STIX pattern for it */
		new_id("indicator", id, sizeof id);
		json_array_append_new(objects, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O}",
							 "type", "indicator", "spec_version", "2.1", "id", id,
							 "created_by_ref", identity_id, "created", ts, "modified", ts,
							 "pattern", pattern, "pattern_type", "stix", "pattern_version", "2.1",
							 "valid_from", created, "indicator_types",
							 strcmp(l->verdict, "threat") == 0 ? "malicious-activity"
											   : "anomalous-activity",
							 "object_marking_refs", marks));
		json_array_append_new(refs, json_string(id));
	}
	if (json_array_size(refs) == 0)
		json_array_append_new(refs, json_string(identity_id));	/* a report refers to at least one object */
	snprintf(v, sizeof v, "Reported lure %lld: %s%s%s", (long long)l->report_id, l->verdict, l->category[0] ? ", " : "",
		 l->category);
	json_array_append_new(objects, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:O, s:O}", "type", "report",
						 "spec_version", "2.1", "id", report_id, "created_by_ref", identity_id,
						 "created", ts, "modified", ts, "name", v, "report_types", "threat-report",
						 "published", ts, "object_refs", refs, "object_marking_refs", marks));
	json_decref(refs);
	json_decref(marks);
	*out = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bundle_id, "objects", objects);
	return *out != NULL ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}
