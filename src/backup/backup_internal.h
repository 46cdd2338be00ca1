/* backup/backup_internal.h: what the backup module's files share. */
#ifndef BW_BACKUP_INTERNAL_H
#define BW_BACKUP_INTERNAL_H

#include "backup.h"

/*
 * The header JSON for k (caller frees *json) and the file key it yields:
 * a passphrase's Argon2id key under a fresh salt, or a random key sealed
 * to the recipient.
 */
int backup_header_make(const struct backup_key *k, char **json, uint8_t key[BACKUP_KEY_SIZE], struct bw_err *err);

/* The whole prefix of a backup file (magic, length, header): the sealed stream's final chunk is bound to it. */
int backup_prefix(const char *json, struct bw_buf *out);

/* Removes path and everything under it (not following links). */
void backup_remove_tree(const char *path);

#endif
