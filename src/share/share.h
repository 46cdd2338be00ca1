/*
 * share: what bulwark tells peer organisations about a lure, in their
 * formats: STIX 2.1 bundles (indicators with STIX patterns, a report, TLP
 * 2.0 markings). Only indicators of the lure itself leave: never the
 * reporter, never the organisation's own addresses, domains or URLs, and
 * no recipient tokens in URLs.
 */
#ifndef BW_SHARE_H
#define BW_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

/* TLP 2.0 levels as STIX names them (tlp_2_0): clear, green, amber, amber+strict, red. */
bool share_tlp_valid(const char *tlp);

struct share_lure {
	int64_t report_id;		/* the report (or the first of an incident) */
	int64_t created;		/* when it was reported (seconds) */
	const char *verdict;		/* the verdict that counts */
	const char *category;		/* "" none */
	const json_t *indicators;	/* the triage's [{"type", "value"}] */
	const char *const *org_domains;	/* the organisation's domains: their addresses and URLs stay home */
	size_t norg;
	const char *producer;		/* the organisation's name in the bundle's identity */
};

/*
 * A STIX 2.1 bundle: the TLP marking definition (OASIS's fixed TLP 2.0
 * object), an identity for the producer, one indicator per shareable
 * indicator (pattern_type stix: file:hashes.'SHA-256', url:value,
 * domain-name:value, email-addr:value; valid_from the report's time), and a
 * report referring to them, every object marked with tlp. *out: the bundle
 * (caller decrefs). BW_EINVAL for an unknown tlp.
 */
int share_stix_bundle(const struct share_lure *l, const char *tlp, int64_t now, json_t **out, struct bw_err *err);

/*
 * A MISP event (the MISP core format): {"Event": {"uuid", "info", "date",
 * "timestamp", "published": false, "threat_level_id" (1 high: threat, 2
 * medium: suspicious), "analysis": "2" (complete), "distribution" (red 0,
 * amber 1, green 2, clear 3), "Orgc", "Tag": [tlp:...], "Attribute":
 * [{"uuid", "type" (sha256, url, domain, email-src), "category", "value",
 * "to_ids": true, ...}]}}. Caller decrefs *out.
 */
int share_misp_event(const struct share_lure *l, const char *tlp, int64_t now, json_t **out, struct bw_err *err);

/* A STIX pattern string literal: value with \ and ' escaped, into out. False when it does not fit. */
bool share_stix_quote(const char *value, char *out, size_t cap);

/* ---- reading partners' indicators (pattern.c) ---- */

#define SHARE_PATTERN_MAX 8192	/* longest STIX pattern read */
/* One value an indicator points at, in triage's indicator types. */
struct share_observable {
	const char *type;		/* "sha256", "url", "domain", "email" (static) */
	char value[2049];
};
/*
 * The values a STIX 2.1 pattern matches when it is observation expressions
 * joined by OR of '=' comparisons on file:hashes.'SHA-256', url:value,
 * domain-name:value or email-addr:value (hashes and domains lower-cased),
 * at most cap of them into out. BW_ENOTSUP for any other pattern (it means
 * more than one value: AND, FOLLOWEDBY, qualifiers, other operators or
 * objects); BW_EINVAL for malformed text, err naming the offset.
 */
int share_stix_pattern_read(const char *pattern, struct share_observable *out, size_t cap, size_t *n,
			    struct bw_err *err);

#endif /* BW_SHARE_H */
