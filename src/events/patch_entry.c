/*
 * events/patch_entry.c: the public entries other programs parse: patch.target
 * (the server builds it when a target is published; the agent parses it out
 * of the target's tlog-proof) and log.key_transition (verifiers follow the
 * log's key through it). One definition for both sides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

void
ev_patch_target_build(struct event *ev, const struct ev_patch_target *t, const char *request_id)
{
	/* Public (it rides in the tlog-proof): no actor or address; the request id links it to patch.publish. */
	struct ev_origin o = { .actor = "-", .source = "-", .request_id = request_id };

	ev_init(ev, EV_PATCH_TARGET, &o);
	ev_target(ev, "%s", t->name);
	ev_str(ev, EVF_SHA256, t->sha256);
	ev_int(ev, EVF_LENGTH, (int64_t)t->length);
	ev_str(ev, EVF_VERSION, t->version);
	ev_int(ev, EVF_TARGETS_VERSION, t->targets_version);
}

/* Copies the string member key of o into dst (cap bytes); false when absent, not a string or too long. */
static bool
get_str(const json_t *o, const char *key, char *dst, size_t cap)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return true;
}

int
ev_patch_target_parse(const uint8_t *entry, size_t len, struct ev_patch_target *out, struct bw_err *err)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)entry, len, JSON_REJECT_DUPLICATES, &jerr), *d;
	char action[32];
	int r = 0;

	memset(out, 0, sizeof *out);
	if (o == NULL)
		return bw_err_set(err, BW_EVERIFY, "logged entry is not JSON: %s", jerr.text);
	d = json_object_get(o, "details");
	if (!get_str(o, "action", action, sizeof action) || strcmp(action, "patch.target") != 0) {
		r = bw_err_set(err, BW_EVERIFY, "logged entry is not a patch.target event");
	} else if (!get_str(o, "target", out->name, sizeof out->name) ||
		   !get_str(d, "sha256", out->sha256, sizeof out->sha256) ||
		   !get_str(d, "version", out->version, sizeof out->version) ||
		   !json_is_integer(json_object_get(d, "length")) || json_integer_value(json_object_get(d, "length")) < 0 ||
		   !json_is_integer(json_object_get(d, "targets_version"))) {
		r = bw_err_set(err, BW_EVERIFY, "patch.target entry lacks name, sha256, length, version or targets_version");
	} else {
		out->length = (uint64_t)json_integer_value(json_object_get(d, "length"));
		out->targets_version = (int64_t)json_integer_value(json_object_get(d, "targets_version"));
	}
	json_decref(o);
	return r;
}

int
ev_log_key_transition_keys(const uint8_t *entry, size_t len, char **vkey, char **previous, struct bw_err *err)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)entry, len, JSON_REJECT_DUPLICATES, &jerr);
	char action[32], key[1200], prev[1200];	/* a verifier key: name (at most 1024 bytes), "+", key id, "+", base64 */
	int r = 0;

	*vkey = NULL;
	if (previous != NULL)
		*previous = NULL;
	if (o == NULL)
		return bw_err_set(err, BW_EVERIFY, "logged entry is not JSON: %s", jerr.text);
	if (!get_str(o, "action", action, sizeof action) || strcmp(action, "log.key_transition") != 0)
		r = bw_err_set(err, BW_EVERIFY, "logged entry is not a log.key_transition event");
	else if (!get_str(json_object_get(o, "details"), "log_key", key, sizeof key))
		r = bw_err_set(err, BW_EVERIFY, "log.key_transition entry lacks log_key");
	else if (previous != NULL && !get_str(json_object_get(o, "details"), "log_previous_key", prev, sizeof prev))
		r = bw_err_set(err, BW_EVERIFY, "log.key_transition entry lacks log_previous_key");
	else if ((*vkey = strdup(key)) == NULL || (previous != NULL && (*previous = strdup(prev)) == NULL))
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r != 0) {
		free(*vkey);
		*vkey = NULL;
	}
	json_decref(o);
	return r;
}

int
ev_log_key_transition_key(void *ctx, const uint8_t *entry, size_t len, char **vkey, struct bw_err *err)
{
	(void)ctx;
	return ev_log_key_transition_keys(entry, len, vkey, NULL, err);
}
