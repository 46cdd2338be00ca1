/*
 * patch: secure patch management with The Update Framework (TUF 1.0.x).
 * This part: OLPC canonical JSON (what TUF signs), Ed25519 keys as TUF key
 * objects (keyid = hex SHA-256 of the canonical key), signing metadata,
 * and checking a role's signature threshold.
 */
#ifndef BW_PATCH_H
#define BW_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "crypto/crypto.h"

/*
 * OLPC canonical JSON of v: keys sorted by their UTF-8 bytes, no white
 * space, strings with only '"' and '\\' escaped, integers only (reals are
 * refused, as canonical JSON has none). Caller frees *out.
 */
int patch_cjson(const json_t *v, char **out, size_t *len, struct bw_err *err);

/* {"keytype":"ed25519","keyval":{"public":"<hex>"},"scheme":"ed25519"} (new reference). */
json_t *patch_key_object(const uint8_t pk[BW_ED25519_PK_SIZE]);

/* keyid: lower-case hex SHA-256 of the canonical key object (65 bytes with NUL). */
int patch_key_id(const json_t *key, char id[65], struct bw_err *err);

/*
 * Parses a TUF ed25519 key object strictly (keytype and scheme "ed25519",
 * keyval.public 64 hex digits, nothing else). Fills pk.
 */
int patch_key_parse(const json_t *key, uint8_t pk[BW_ED25519_PK_SIZE], struct bw_err *err);

/*
 * Signs metadata ({"signed": ..., "signatures": [...]}) with key: the
 * signature over the canonical form of "signed" replaces any earlier one
 * by the same keyid.
 */
int patch_sign(json_t *metadata, const struct bw_ed25519 *key, struct bw_err *err);

/*
 * Counts valid signatures on metadata by the keys that root_signed (the
 * "signed" part of a root) delegates `role` to, each keyid at most once,
 * and checks the role's threshold. Returns 0 when met, BW_EVERIFY with a
 * reason ("2 of 3 needed, 1 valid") otherwise. Unknown keyids are ignored;
 * a listed key whose signature fails does not count.
 */
int patch_verify_role(const json_t *metadata, const json_t *root_signed, const char *role, size_t *valid,
		      struct bw_err *err);

/*
 * Root rotation (TUF spec §5.3): new_root must be _type "root", version
 * old.version + 1, and signed by a threshold of the OLD root's root keys and
 * by a threshold of its OWN root keys. Errors say which check failed.
 */
int patch_verify_root_rotation(const json_t *old_root, const json_t *new_root, struct bw_err *err);

/* What a target entry says besides its bytes. */
struct patch_target_info {
	const char *name;	/* target path: 1..200 of [A-Za-z0-9._+-/], no "..", no leading '/' */
	const char *version;	/* the patch's version string (custom.version) */
	const char *hosts;	/* comma-separated host names, or NULL */
	const char *group;	/* a host group, or NULL */
};

/*
 * Adds (or replaces) a target in targets metadata (created when *targets is
 * NULL): length, sha256 of data, custom {version, hosts/group}; bumps the
 * version and sets expires to now + days. Existing signatures are dropped
 * (the content changed). Errors name the bad field.
 */
int patch_targets_add(json_t **targets, const struct patch_target_info *t, const uint8_t *data, size_t len,
		      int64_t now, int days, struct bw_err *err);

/*
 * Snapshot metadata (online role) listing targets.json at the version of
 * targets_md. Caller json_decref()s *out (unsigned: sign with the snapshot key).
 */
int patch_snapshot_make(const json_t *targets_md, int64_t version, int64_t now, int days, json_t **out,
			struct bw_err *err);

/*
 * Timestamp metadata (online role) naming snapshot.json by version, length
 * and sha256 of its exact bytes as served. Caller json_decref()s *out.
 */
int patch_timestamp_make(const uint8_t *snapshot_bytes, size_t len, int64_t version, int64_t now, int days,
			 json_t **out, struct bw_err *err);

#endif /* BW_PATCH_H */
