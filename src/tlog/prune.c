/*
 * tlog/prune.c: retention for an append-only log. The oldest full entry
 * bundles may be deleted; the hash tiles stay, so the tree, every
 * checkpoint and every proof still verify, and the file "pruned" says
 * below which index the entries themselves are gone (written durably
 * before any bundle is deleted: a crash in between leaves files that a
 * later prune deletes, never a bundle gone without the file saying so).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"


int
tlog_pruned(const char *dir, uint64_t *upto, struct bw_err *err)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	*upto = 0;
	snprintf(path, sizeof path, "%s/%s", dir, TLOG_PRUNED_FILE);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if ((r = bw_file_read(path, 32, &data, &len, err)) != 0)
		return r;
	if (len < 2 || data[len - 1] != '\n' || bw_parse_u64((const char *)data, len - 1, upto) != 0 ||
	    *upto % TLOG_TILE_WIDTH != 0) {
		free(data);
		*upto = 0;
		return bw_err_set(err, BW_ECORRUPT, "%s: not a count of pruned entries (a multiple of %d and a newline)",
				  path, TLOG_TILE_WIDTH);
	}
	free(data);
	return 0;
}

/* Deletes entry bundle n and any partial versions of it left behind. */
static int
delete_bundle(const char *dir, uint64_t n, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], path[4096];
	unsigned w;

	tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, TLOG_TILE_WIDTH);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if (unlink(path) != 0 && errno != ENOENT)
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	for (w = 1; w < TLOG_TILE_WIDTH; w++) {
		tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, w);
		snprintf(path, sizeof path, "%s/%s", dir, rel);
		(void)unlink(path);	/* superseded partials: normally gone already */
	}
	tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, TLOG_TILE_WIDTH);
	snprintf(path, sizeof path, "%s/%s.p", dir, rel);
	(void)rmdir(path);
	return 0;
}

int
tlog_store_prune(struct tlog_store *s, uint64_t upto, uint64_t *pruned_before, struct bw_err *err)
{
	uint64_t had, committed = atomic_load(&s->committed), n;
	char path[4096], text[32];
	int r, len;

	if ((r = tlog_pruned(s->dir, &had, err)) != 0)
		return r;
	if (pruned_before != NULL)
		*pruned_before = had;
	if (upto % TLOG_TILE_WIDTH != 0 || upto > committed - committed % TLOG_TILE_WIDTH)
		return bw_err_set(err, BW_EINVAL,
				  "entries can be pruned up to a multiple of %d within the integrated tree (size %" PRIu64
				  "), not %" PRIu64,
				  TLOG_TILE_WIDTH, committed, upto);
	if (upto < had)
		return bw_err_set(err, BW_EINVAL, "entries below %" PRIu64 " are pruned already; %" PRIu64 " is below that",
				  had, upto);
	if (upto > had) {
		snprintf(path, sizeof path, "%s/%s", s->dir, TLOG_PRUNED_FILE);
		len = snprintf(text, sizeof text, "%" PRIu64 "\n", upto);
		if ((r = bw_file_write_atomic(path, text, (size_t)len, 0644, err)) != 0)
			return r;
	}
	/*
	 * Bundles are deleted in ascending order, so what a crash left of an
	 * earlier prune is a run just below had: delete it downwards until a
	 * bundle is missing. Then the new range.
	 */
	for (n = had / TLOG_TILE_WIDTH; n-- > 0;) {
		char rel[TLOG_PATH_MAX], p[4096];
		tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, TLOG_TILE_WIDTH);
		snprintf(p, sizeof p, "%s/%s", s->dir, rel);
		if (access(p, F_OK) != 0)
			break;
		if ((r = delete_bundle(s->dir, n, err)) != 0)
			return r;
	}
	for (n = had / TLOG_TILE_WIDTH; n < upto / TLOG_TILE_WIDTH; n++)
		if ((r = delete_bundle(s->dir, n, err)) != 0)
			return r;
	return 0;
}
