/*
 * instance/tuf_keys.c: the TUF online keys' rotation. Staged keys live in
 * keys/tuf_{snapshot,timestamp}.next.sealed, sealed for their role like the
 * keys in use, so promoting one is a rename; a crash between the two
 * roles' renames leaves each role with a key the published root names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "instance_internal.h"

struct role_files {
	const char *role, *cur, *next, *ad;
};

static const struct role_files roles[] = {
	{ "snapshot", INSTANCE_TUF_SNAPSHOT, INSTANCE_TUF_SNAPSHOT_NEXT, TUF_SNAPSHOT_AD },
	{ "timestamp", INSTANCE_TUF_TIMESTAMP, INSTANCE_TUF_TIMESTAMP_NEXT, TUF_TIMESTAMP_AD },
};

static struct bw_ed25519 *
key_of(struct instance *in, int i, bool next)
{
	if (i == 0)
		return next ? &in->tuf_snapshot_next : &in->tuf_snapshot;
	return next ? &in->tuf_timestamp_next : &in->tuf_timestamp;
}

int
instance_tuf_load_staged(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err)
{
	for (int i = 0; i < 2; i++) {
		char path[4200];
		int r;
		if ((r = path_in(path, sizeof path, data, roles[i].next, err)) != 0)
			return r;
		if (access(path, F_OK) != 0)
			continue;
		if ((r = sealed_ed25519_load(data, kek, roles[i].next, roles[i].ad, key_of(in, i, true), err)) != 0)
			return r;
	}
	return 0;
}

int
instance_tuf_stage(struct instance *in, struct bw_err *err)
{
	for (int i = 0; i < 2; i++) {
		int r;
		if (key_of(in, i, true)->sk != NULL)
			continue;	/* staged already: the same pair until a root names it */
		if ((r = sealed_ed25519_load(in->data, in->kek, roles[i].next, roles[i].ad, key_of(in, i, true), err)) != 0)
			return r;
	}
	return 0;
}

int
instance_tuf_promote(struct instance *in, const char *role, struct bw_err *err)
{
	for (int i = 0; i < 2; i++) {
		char from[4200], to[4200];
		struct bw_ed25519 *cur = key_of(in, i, false), *next = key_of(in, i, true);
		int r;
		if (strcmp(role, roles[i].role) != 0)
			continue;
		if (next->sk == NULL)
			return bw_err_set(err, BW_ECONFLICT, "no %s key is staged", role);
		if ((r = path_in(from, sizeof from, in->data, roles[i].next, err)) != 0 ||
		    (r = path_in(to, sizeof to, in->data, roles[i].cur, err)) != 0)
			return r;
		if (rename(from, to) != 0)
			return bw_err_set(err, BW_EIO, "%s -> %s: %s", from, to, strerror(errno));
		if ((r = bw_fsync_dir(to, false, err)) != 0)
			return r;
		bw_ed25519_free(cur);
		*cur = *next;
		memset(next, 0, sizeof *next);
		return 0;
	}
	return bw_err_set(err, BW_EINVAL, "no online role %s", role);
}
