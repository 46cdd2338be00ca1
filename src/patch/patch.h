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

/* Target names: 1..200 of [A-Za-z0-9._+-/], relative, no "..", no "//". */
bool patch_target_name_valid(const char *name);

/* What a target entry says besides its bytes. */
struct patch_target_info {
	const char *name;	/* target path: 1..200 of [A-Za-z0-9._+-/], no "..", no leading '/' */
	const char *version;	/* the patch's version string (custom.version) */
	const char *hosts;	/* comma-separated host names, or NULL */
	const char *group;	/* a host group, or NULL */
};

/*
 * Adds (or replaces) a target in targets metadata (created when *targets is
 * NULL): length and sha256 of the file, custom {version, hosts/group}; bumps the
 * version and sets expires to now + days. Existing signatures are dropped
 * (the content changed). Errors name the bad field.
 */
int patch_targets_add(json_t **targets, const struct patch_target_info *t, const uint8_t sha256[32], uint64_t len,
		      int64_t now, int days, struct bw_err *err);

/*
 * Snapshot metadata (online role) listing targets.json at the version of
 * targets_md, expiring lifetime seconds after now. Caller json_decref()s
 * *out (unsigned: sign with the snapshot key).
 */
int patch_snapshot_make(const json_t *targets_md, int64_t version, int64_t now, int64_t lifetime, json_t **out,
			struct bw_err *err);

/*
 * Timestamp metadata (online role) naming snapshot.json by version, length
 * and sha256 of its exact bytes as served. Caller json_decref()s *out.
 */
int patch_timestamp_make(const uint8_t *snapshot_bytes, size_t len, int64_t version, int64_t now, int64_t lifetime,
			 json_t **out, struct bw_err *err);

/* ---- the client workflow (TUF specification §5; client.c) ---- */

/* What a client trusts: full metadata objects ({"signed", "signatures"}), owned. */
struct patch_trust {
	json_t *root, *timestamp, *snapshot, *targets;
};

void patch_trust_clear(struct patch_trust *t);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" strictly into seconds since the epoch. */
int patch_time_parse(const char *s, int64_t *out, struct bw_err *err);
/* BW_EVERIFY "<role> metadata expired at ..." when md's expires is not after now. */
int patch_check_expiry(const json_t *md, const char *role, int64_t now, struct bw_err *err);
/* The signed.meta entry naming file ("snapshot.json", "targets.json") in md, or NULL. */
const json_t *patch_meta_entry(const json_t *md, const char *file);
/* signed.version of md (0 when absent). */
json_int_t patch_meta_version(const json_t *md);

/*
 * §5.3: bytes are root version N+1. Must be signed by thresholds of the
 * trusted and its own root keys; becomes the trusted root. When it rotates
 * the timestamp or snapshot keys, the trusted timestamp and snapshot are
 * dropped (recovery from a fast-forward attack). The caller checks the
 * final root's expiry after the last rotation.
 */
int patch_client_root(struct patch_trust *t, const uint8_t *bytes, size_t len, struct bw_err *err);
/* §5.4: threshold of timestamp keys, no rollback of it or its snapshot version, not expired. */
int patch_client_timestamp(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now,
			   struct bw_err *err);
/* §5.5: length/hash from the timestamp, snapshot keys, version the timestamp names, no rollback, not expired. */
int patch_client_snapshot(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now,
			  struct bw_err *err);
/* §5.6: length/hash from the snapshot, targets keys, version the snapshot names, not expired. */
int patch_client_targets(struct patch_trust *t, const uint8_t *bytes, size_t len, int64_t now,
			 struct bw_err *err);

/* A target as the trusted targets metadata lists it (strings point into that metadata). */
struct patch_target {
	const char *name;
	uint64_t length;
	uint8_t sha256[32];
	char sha256_hex[65];
	const char *version, *hosts, *group;	/* custom fields, NULL when absent */
};

/* Looks name up in targets metadata (BW_ENOTFOUND when absent). */
int patch_target_get(const json_t *targets_md, const char *name, struct patch_target *out, struct bw_err *err);
/* True when t applies to host (custom.hosts lists it, custom.group is its group, or neither is set). */
bool patch_target_for_host(const struct patch_target *t, const char *host, const char *group);
/* Consistent-snapshot path of t: "[dir/]<sha256>.<basename>". -1 when cap is too small. */
int patch_target_url_path(const struct patch_target *t, char *out, size_t cap);

/* ---- the server's repository (repo.c) ---- */

/* Lifetimes (seconds) of the online roles' metadata; re-signed at half-life. */
struct patch_lifetimes {
	int64_t snapshot, timestamp;
};

/*
 * Loads the published state of the repository in dir: the newest root of
 * the chain metadata/1.root.json, 2.root.json, ..., then timestamp.json and
 * the snapshot and targets it names. Missing files leave members NULL (a
 * fresh repository). Clear *st with patch_trust_clear().
 */
int patch_repo_load(const char *dir, struct patch_trust *st, struct bw_err *err);
/*
 * Writes md to dir/metadata/file atomically (compact, sorted keys). When
 * bytes is non-NULL it receives the exact bytes written (caller frees).
 */
int patch_repo_write(const char *dir, const char *file, const json_t *md, char **bytes, size_t *len,
		     struct bw_err *err);
/*
 * Issues online metadata for st->targets: a new snapshot (version + 1)
 * when new_snapshot (or none exists), then a new timestamp naming it,
 * signed with the online keys; timestamp.json is written last. Updates st.
 */
int patch_repo_issue(const char *dir, struct patch_trust *st, const struct bw_ed25519 *snapshot_key,
		     const struct bw_ed25519 *timestamp_key, const struct patch_lifetimes *life, bool new_snapshot,
		     int64_t now, struct bw_err *err);
/* Which online metadata is past half its lifetime (or expired) and should be re-signed now. */
void patch_repo_due(const struct patch_trust *st, const struct patch_lifetimes *life, int64_t now, bool *snapshot,
		    bool *timestamp);
/* SHA-256 (lower-case hex) of md's canonical JSON: the identity of a metadata document. */
int patch_meta_digest(const json_t *md, char hex[65], struct bw_err *err);

/* What the server last published: versions and digests (0 and "": not known yet). */
struct patch_pins {
	int64_t root_version, targets_version;
	char root_digest[65], targets_digest[65];
};

/*
 * Before the online keys sign anything over st: the targets must verify
 * under the root's targets threshold, and root and targets must be exactly
 * the published ones (pins). BW_EVERIFY names what differs: the sweeper
 * never re-signs over a file someone changed or rolled back on disk.
 */
int patch_repo_check(const struct patch_trust *st, const struct patch_pins *pins, struct bw_err *err);

/* True when s is a SHA-256 as TUF writes it: 64 lower-case hex digits. */
bool patch_sha256_hex_valid(const char *s);
/* dir/blobs/<sha256_hex>; -1 unless sha256_hex is 64 lower-case hex digits. */
int patch_repo_blob_path(const char *dir, const char *sha256_hex, char *out, size_t cap);

/* ---- publishing (publish.c) ---- */

#define PATCH_PUBLISH_MAX_TARGETS 100000

/* One publication: offline-signed targets (and optionally a new root) for the repository in dir. */
/* True when root (signed metadata) lists key's TUF key id for role. */
bool patch_root_delegates(const json_t *root, const char *role, const struct bw_ed25519 *key);

struct patch_publish {
	const char *dir;
	const json_t *root;		/* NULL: keep the published root */
	const json_t *targets;
	const struct bw_ed25519 *snapshot_key, *timestamp_key;	/* the server's online keys */
	const struct patch_lifetimes *life;
	int64_t now;
	/* Called for every listed target after all checks pass and before anything is written; non-zero stops. */
	int (*log_target)(void *arg, const struct patch_target *t, struct bw_err *err);
	void *log_arg;
};

/*
 * Checks and publishes q into st (the loaded repository state; updated):
 * BW_EINVAL names what is wrong with the metadata or files, BW_ECONFLICT a
 * targets version that is not newer. The caller serialises publications.
 */
int patch_publish_run(const struct patch_publish *q, struct patch_trust *st, struct bw_err *err);

/* SHA-256 and length of a file, read in 1 MiB blocks (no size limit). */
int patch_file_sha256(const char *path, uint8_t out[32], uint64_t *len, struct bw_err *err);

#endif /* BW_PATCH_H */
