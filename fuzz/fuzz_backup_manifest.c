/*
 * libFuzzer target: a backup file's manifest and header, as restore reads
 * them (after the sealed stream verified, or before: the header is read
 * first). Properties: no crash, no leak; a manifest accepted names only
 * member names a backup may hold, at most two logs each with a checkpoint;
 * a header never yields a key without a passphrase or secret key; every
 * refusal has a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_manifest m;
	struct backup_key none = { 0 };
	struct bw_err err = { 0 };
	uint8_t key[BACKUP_KEY_SIZE];

	if (backup_manifest_parse(data, size, &m, &err) == 0) {
		if (m.nlogs > 2)
			abort();
		for (size_t i = 0; i < m.nfiles; i++)
			if (!backup_member_name_ok(m.files[i].path) || strcmp(m.files[i].path, BACKUP_MANIFEST) == 0)
				abort();
		for (size_t i = 0; i < m.nlogs; i++)
			if (m.logs[i].checkpoint == NULL)
				abort();
		backup_manifest_clear(&m);
	} else if (err.msg[0] == '\0')
		abort();
	memset(&err, 0, sizeof err);
	if (backup_header_key(data, size, &none, key, &err) == 0 || err.msg[0] == '\0')
		abort();
	return 0;
}
