/*
 * backup: a data directory copied while its server runs, into one encrypted
 * file, and restored from it into an empty directory (docs/OPERATIONS.md).
 *
 * A backup file is
 *
 *   "BWBACKUP" | header length (4 bytes, big-endian) | header (JSON) | sealed stream
 *
 * The header says how the file key comes: from a passphrase (Argon2id, its
 * salt and cost) or sealed to a recipient's X25519 public key
 * (crypto_box_seal). The sealed stream (crypto/stream.c, the final chunk
 * bound to everything before it) holds a gzip'd tar: the databases (SQLite's
 * online backup), each log as of a checkpoint with the entries acknowledged
 * past it, the sealed keys, the TLS material, samples and patch repository,
 * and last MANIFEST.json: every other member's size and SHA-256 and each
 * log's checkpoint. The key-encryption key is left out unless asked for.
 */
#ifndef BW_BACKUP_H
#define BW_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

#define BACKUP_MAGIC "BWBACKUP"
#define BACKUP_FORMAT "bulwark-backup/1"
#define BACKUP_MANIFEST "MANIFEST.json"
#define BACKUP_HEADER_MAX 4096
#define BACKUP_MANIFEST_MAX ((size_t)64 << 20)
#define BACKUP_PUBLIC_PREFIX "bulwark-backup-key "
#define BACKUP_SECRET_PREFIX "bulwark-backup-secret-key "
#define BACKUP_KEY_SIZE 32

/* How the file key is had: a passphrase, or a recipient's key pair. */
struct backup_key {
	const char *passphrase;				/* or NULL */
	bool has_public;
	uint8_t public_key[BACKUP_KEY_SIZE];		/* X25519: to encrypt to */
	const uint8_t *secret_key;			/* BACKUP_KEY_SIZE bytes (secure memory): to decrypt with */
};

struct backup_opts {
	const char *data;		/* the data directory (its server may be running) */
	const char *out;		/* the backup file to create (must not exist) */
	struct backup_key key;		/* passphrase or public_key */
	bool include_kek;		/* put the key-encryption key file in too */
};

struct backup_log_info {
	char dir[16];			/* "log", "hostlog" */
	uint64_t size;			/* its checkpoint's */
	uint64_t acknowledged;		/* entries past it, in the journal copied */
};

struct backup_result {
	uint64_t files;			/* members, the manifest not counted */
	uint64_t bytes;			/* their plaintext bytes */
	uint64_t out_bytes;		/* the backup file's size */
	struct backup_log_info logs[2];
	size_t nlogs;
	bool kek_included;
};

/* Writes a backup of o->data to o->out (atomically: a partial file is removed). */
int backup_create(const struct backup_opts *o, struct backup_result *res, struct bw_err *err);

struct restore_opts {
	const char *in;			/* the backup file */
	const char *data;		/* where to restore: must not exist, or be an empty directory */
	struct backup_key key;		/* passphrase or secret_key */
	const char *kek;		/* optional: a key-encryption key file to put in place */
	const char *instance_passphrase;	/* optional: the data directory's own passphrase, to check the keys open */
};

struct restore_result {
	uint64_t files, bytes;
	struct backup_log_info logs[2];
	size_t nlogs;
	bool kek_present;		/* the restored directory holds a KEK (from the backup or o->kek) */
	bool keys_checked;		/* the KEK (or instance passphrase) opened every sealed key */
};

/*
 * Restores o->in into o->data: decrypts and checks every chunk, extracts into
 * a new sibling directory, checks every member against the manifest (none
 * missing, none extra, sizes and SHA-256), audits each log against the
 * checkpoint the manifest names (signature, every tile and entry, the
 * journal's acknowledged entries all there), opens the sealed keys when a
 * KEK is at hand, and only then renames it to o->data. On any failure
 * nothing is left behind and o->data is untouched.
 */
int backup_restore(const struct restore_opts *o, struct restore_result *res, struct bw_err *err);

/* A new recipient key pair: pk, and sk into secure memory (BACKUP_KEY_SIZE bytes; caller bw_secure_free()s). */
int backup_keygen(uint8_t pk[BACKUP_KEY_SIZE], uint8_t **sk, struct bw_err *err);
/* Parses "bulwark-backup-key BASE64" (a line; surrounding space ignored). */
int backup_public_key_parse(const char *text, size_t len, uint8_t pk[BACKUP_KEY_SIZE], struct bw_err *err);
/* Reads a secret key file ("bulwark-backup-secret-key BASE64") into secure memory (caller bw_secure_free()s). */
int backup_secret_key_read(const char *path, uint8_t **sk, struct bw_err *err);

/* ---- the format's parts, exposed for the fuzz targets and tests ---- */

/* A member name the archive may hold: relative, components of [A-Za-z0-9._-] not "." or "..", at most 255 bytes. */
bool backup_member_name_ok(const char *name);

struct backup_manifest_file {
	char *path;
	uint64_t size;
	uint8_t sha256[32];
};
struct backup_manifest {
	struct backup_manifest_file *files;
	size_t nfiles;
	struct {
		char dir[16];
		uint64_t size, acknowledged;
		char *checkpoint;
	} logs[2];
	size_t nlogs;
	bool kek_included;
};
/* Parses MANIFEST.json; errors name the field. Clear with backup_manifest_clear(). */
int backup_manifest_parse(const void *data, size_t len, struct backup_manifest *m, struct bw_err *err);
void backup_manifest_clear(struct backup_manifest *m);

/*
 * Parses a backup file's header (the JSON after the magic and length) and
 * derives the file key from k (passphrase or secret key) into key.
 * Refuses an unknown format or key kind, and a KDF cost out of bounds.
 */
int backup_header_key(const void *json, size_t len, const struct backup_key *k, uint8_t key[BACKUP_KEY_SIZE],
		      struct bw_err *err);

#endif /* BW_BACKUP_H */
