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

/* A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void share_uuid4(char *out, size_t cap);

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
 * domain-name:value, email-addr:value; valid_from the report's time), one
 * of pattern_type yara for each YARA indicator that carries its rule's text
 * ("rule"), and a report referring to them, every object marked with tlp. *out: the bundle
 * (caller decrefs). BW_EINVAL for an unknown tlp.
 */
int share_stix_bundle(const struct share_lure *l, const char *tlp, int64_t now, json_t **out, struct bw_err *err);

/*
 * A MISP event (the MISP core format): {"Event": {"uuid", "info", "date",
 * "timestamp", "published": false, "threat_level_id" (1 high: threat, 2
 * medium: suspicious), "analysis": "2" (complete), "distribution" (red 0,
 * amber 1, green 2, clear 3), "Orgc", "Tag": [tlp:...], "Attribute":
 * [{"uuid", "type" (sha256, url, domain, email-src, yara: the rule's text), "category", "value",
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

/* ---- TAXII 2.1 (taxii.c) ---- */

#define SHARE_TAXII_TIME_MAX 32
/* A date_added: RFC 3339 UTC with microseconds ("2026-11-28T17:20:00.123456Z"). */
void share_taxii_time(int64_t us, char out[SHARE_TAXII_TIME_MAX]);
/* Reads an RFC 3339 UTC time (Z, any fraction; microseconds kept); false when it is not one. */
bool share_taxii_time_parse(const char *s, int64_t *us);

#define SHARE_ENVELOPE_OBJECTS_MAX 10000
#define SHARE_ENVELOPE_VALUES_MAX 20000
/* A value one of a partner's indicators points at. */
struct share_feed_value {
	const char *type;		/* sha256, url, domain, email (static) */
	char value[2049];
	char stix_id[128];		/* the indicator's id */
};
/* What a page of a partner's collection gave. */
struct share_envelope {
	bool more;
	char next[256];
	struct share_feed_value *values;	/* nvalues of them (owned: share_envelope_clear) */
	size_t nvalues;
	size_t indicators;		/* indicators on the page */
	size_t skipped;			/* of which not matched: other pattern types or patterns (see share_stix_pattern_read) */
	size_t expired;			/* of which revoked or past valid_until */
};
/*
 * Reads a TAXII 2.1 envelope ({"more", "next", "objects"}): each current
 * indicator's values. The page is refused (BW_EINVAL, err naming what) when
 * it is not an envelope or an object has no type or an indicator no id or
 * pattern; an indicator triage cannot match is only counted. Clear *e
 * with share_envelope_clear() after success.
 */
int share_taxii_envelope_read(const char *body, size_t len, int64_t now_ms, struct share_envelope *e,
			      struct bw_err *err);
void share_envelope_clear(struct share_envelope *e);

#endif /* BW_SHARE_H */
