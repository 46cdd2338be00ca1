/* tlog/tiles.c: the C2SP tlog-tiles layout: paths, bundles and cached tile reads. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog.h"

#define CACHE_SLOTS 128

struct tile_slot {
	int level;
	uint64_t n;
	unsigned width;		/* 0: empty slot */
	uint8_t hashes[TLOG_TILE_WIDTH * TLOG_HASH_SIZE];
};

struct tlog_tiles {
	char *dir;
	uint64_t size;		/* tree size used by the stored-hash reader */
	struct bw_sha256 *h;
	struct tile_slot *cache;	/* CACHE_SLOTS, direct-mapped */
};

void
tlog_tile_path(char *out, int level, uint64_t n, unsigned width)
{
	char groups[8][8];
	int ng = 0, i, off;

	do {
		snprintf(groups[ng++], sizeof groups[0], "%03u", (unsigned)(n % 1000));
		n /= 1000;
	} while (n > 0);
	if (level == TLOG_TILE_ENTRIES)
		off = snprintf(out, TLOG_PATH_MAX, "tile/entries/");
	else
		off = snprintf(out, TLOG_PATH_MAX, "tile/%d/", level);
	for (i = ng - 1; i >= 0; i--)
		off += snprintf(out + off, (size_t)(TLOG_PATH_MAX - off), "%s%s%s", i > 0 ? "x" : "",
				groups[i], i > 0 ? "/" : "");
	if (width > 0 && width < TLOG_TILE_WIDTH)
		snprintf(out + off, (size_t)(TLOG_PATH_MAX - off), ".p/%u", width);
}

unsigned
tlog_tile_width(int level, uint64_t n, uint64_t size)
{
	uint64_t count = level == TLOG_TILE_ENTRIES ? size
			 : (level * TLOG_TILE_HEIGHT >= 64 ? 0 : size >> (level * TLOG_TILE_HEIGHT));
	uint64_t full = count / TLOG_TILE_WIDTH;

	if (n < full)
		return TLOG_TILE_WIDTH;
	if (n == full)
		return (unsigned)(count % TLOG_TILE_WIDTH);
	return 0;
}

int
tlog_bundle_split(const uint8_t *data, size_t len, unsigned count, bool allow_more, size_t *offs,
		  size_t *lens, struct bw_err *err)
{
	size_t pos = 0;
	unsigned i;

	for (i = 0; i < count; i++) {
		size_t n;
		if (len - pos < 2)
			return bw_err_set(err, BW_ECORRUPT, "entry %u: bundle ends before its length prefix", i);
		n = (size_t)data[pos] << 8 | data[pos + 1];
		if (n == 0)
			return bw_err_set(err, BW_ECORRUPT, "entry %u: zero length", i);
		if (len - pos - 2 < n)
			return bw_err_set(err, BW_ECORRUPT, "entry %u: bundle ends inside the entry (%zu of %zu bytes)",
					  i, len - pos - 2, n);
		offs[i] = pos + 2;
		lens[i] = n;
		pos += 2 + n;
	}
	if (pos != len && !allow_more)
		return bw_err_set(err, BW_ECORRUPT, "%zu bytes after the last of %u entries", len - pos, count);
	return 0;
}

int
tlog_tiles_open(const char *dir, struct tlog_tiles **out, struct bw_err *err)
{
	struct tlog_tiles *t;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL || (t->dir = strdup(dir)) == NULL ||
	    (t->cache = calloc(CACHE_SLOTS, sizeof *t->cache)) == NULL) {
		tlog_tiles_free(t);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((r = bw_sha256_new(&t->h, err)) != 0) {
		tlog_tiles_free(t);
		return r;
	}
	*out = t;
	return 0;
}

void
tlog_tiles_free(struct tlog_tiles *t)
{
	if (t == NULL)
		return;
	free(t->dir);
	free(t->cache);
	bw_sha256_free(t->h);
	free(t);
}

/*
 * Reads dir/rel if it exists. Returns 0 (data read), BW_ENOTFOUND, or another
 * error. A tile file is at most 8 KiB; a bundle at most 256 * 65537 bytes.
 */
static int
read_rel(const struct tlog_tiles *t, const char *rel, size_t max, uint8_t **data, size_t *len,
	 struct bw_err *err)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", t->dir, rel) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "path too long");
	return bw_file_read(path, max, data, len, err);
}

/*
 * Finds the file for (level, n) holding at least width items: the exact
 * partial, the full tile, else the narrowest wider partial. Sets *found_w
 * and reads it.
 */
static int
read_tile_file(const struct tlog_tiles *t, int level, uint64_t n, unsigned width, size_t max,
	       uint8_t **data, size_t *len, unsigned *found_w, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], pdir[4096 + TLOG_PATH_MAX];
	unsigned best, w;
	DIR *d;
	struct dirent *de;
	int r, attempt;

	if (width < TLOG_TILE_WIDTH) {
		tlog_tile_path(rel, level, n, width);
		if ((r = read_rel(t, rel, max, data, len, err)) != BW_ENOTFOUND) {
			*found_w = width;
			return r;
		}
	}
	/*
	 * The exact partial was superseded by a writer. The writer keeps
	 * replacing partials (and deleting the older ones after each commit),
	 * so a wider partial found by the scan can vanish before it is read:
	 * then look again. Each pass sees a newer state; a few passes suffice.
	 */
	for (attempt = 0; attempt < 16; attempt++) {
		tlog_tile_path(rel, level, n, TLOG_TILE_WIDTH);
		if ((r = read_rel(t, rel, max, data, len, err)) != BW_ENOTFOUND || width == TLOG_TILE_WIDTH) {
			*found_w = TLOG_TILE_WIDTH;
			if (r == BW_ENOTFOUND)
				return bw_err_set(err, BW_ENOTFOUND, "%s: missing", rel);
			return r;
		}
		best = 0;
		snprintf(pdir, sizeof pdir, "%s/%s.p", t->dir, rel);
		if ((d = opendir(pdir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				uint64_t v;
				if (bw_parse_u64(de->d_name, strlen(de->d_name), &v) != 0)
					continue;
				w = (unsigned)v;
				if (v > width && v < TLOG_TILE_WIDTH && (best == 0 || w < best))
					best = w;
			}
			closedir(d);
		}
		if (best == 0) {
			tlog_tile_path(rel, level, n, width);
			return bw_err_set(err, BW_ENOTFOUND, "%s: missing (no full or wider tile either)", rel);
		}
		tlog_tile_path(rel, level, n, best);
		*found_w = best;
		if ((r = read_rel(t, rel, max, data, len, err)) != BW_ENOTFOUND)
			return r;
	}
	return r;
}

int
tlog_tiles_read_tile(struct tlog_tiles *t, int level, uint64_t n, unsigned width, uint8_t *out,
		     struct bw_err *err)
{
	struct tile_slot *slot;
	uint8_t *data = NULL;
	size_t len = 0;
	unsigned w = 0;
	char rel[TLOG_PATH_MAX];
	int r;

	if (level < 0 || level > TLOG_MAX_LEVEL / TLOG_TILE_HEIGHT || width == 0 ||
	    width > TLOG_TILE_WIDTH)
		return bw_err_set(err, BW_EINVAL, "bad tile request level %d width %u", level, width);
	slot = &t->cache[(n * 7 + (uint64_t)level) % CACHE_SLOTS];
	if (slot->width >= width && slot->level == level && slot->n == n) {
		memcpy(out, slot->hashes, (size_t)width * TLOG_HASH_SIZE);
		return 0;
	}
	if ((r = read_tile_file(t, level, n, width, TLOG_TILE_WIDTH * TLOG_HASH_SIZE, &data, &len, &w,
				err)) != 0) {
		if (r == BW_ERANGE) {
			tlog_tile_path(rel, level, n, width);
			r = bw_err_set(err, BW_ECORRUPT, "%s: larger than a full tile", rel);
		}
		return r;
	}
	if (len != (size_t)w * TLOG_HASH_SIZE) {
		free(data);
		tlog_tile_path(rel, level, n, w);
		return bw_err_set(err, BW_ECORRUPT, "%s: %zu bytes, expected %u hashes (%u bytes)", rel, len,
				  w, w * TLOG_HASH_SIZE);
	}
	memcpy(out, data, (size_t)width * TLOG_HASH_SIZE);
	slot->level = level;
	slot->n = n;
	slot->width = w;
	memcpy(slot->hashes, data, len);
	free(data);
	return 0;
}

int
tlog_tiles_read_bundle(struct tlog_tiles *t, uint64_t n, unsigned width, uint8_t **data,
		       size_t *offs, size_t *lens, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX];
	size_t len = 0;
	unsigned w = 0;
	int r;

	*data = NULL;
	if (width == 0 || width > TLOG_TILE_WIDTH)
		return bw_err_set(err, BW_EINVAL, "bad bundle width %u", width);
	r = read_tile_file(t, TLOG_TILE_ENTRIES, n, width, (size_t)TLOG_TILE_WIDTH * (TLOG_ENTRY_MAX + 2),
			   data, &len, &w, err);
	if (r != 0)
		return r;
	if ((r = tlog_bundle_split(*data, len, w, false, offs, lens, err)) != 0) {
		free(*data);
		*data = NULL;
		tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, w);
		return bw_err_prefix(err, "%s (entries from %llu)", rel,
				     (unsigned long long)(n * TLOG_TILE_WIDTH));
	}
	return 0;
}

int
tlog_tiles_read_entry(struct tlog_tiles *t, uint64_t size, uint64_t index, uint8_t **data,
		      size_t *len, struct bw_err *err)
{
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH];
	uint8_t *bundle = NULL;
	uint64_t n = index / TLOG_TILE_WIDTH;
	unsigned i = (unsigned)(index % TLOG_TILE_WIDTH);
	int r;

	*data = NULL;
	if (index >= size)
		return bw_err_set(err, BW_ENOTFOUND, "index %llu is not below the log size %llu",
				  (unsigned long long)index, (unsigned long long)size);
	if ((r = tlog_tiles_read_bundle(t, n, tlog_tile_width(TLOG_TILE_ENTRIES, n, size), &bundle,
					offs, lens, err)) != 0)
		return r;
	if ((*data = malloc(lens[i] + 1)) == NULL) {
		free(bundle);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	memcpy(*data, bundle + offs[i], lens[i]);
	(*data)[lens[i]] = '\0';
	*len = lens[i];
	free(bundle);
	return 0;
}

static int
tiles_read_hashes(void *ctx, const struct tlog_node *nodes, size_t count, struct tlog_hash *out,
		  struct bw_err *err)
{
	struct tlog_tiles *t = ctx;
	uint8_t buf[TLOG_TILE_WIDTH * TLOG_HASH_SIZE];
	size_t i;
	int r;

	for (i = 0; i < count; i++) {
		int level = nodes[i].level / TLOG_TILE_HEIGHT;
		unsigned sub = nodes[i].level % TLOG_TILE_HEIGHT;
		uint64_t first, n;
		unsigned off, cnt, width, k, m;
		struct tlog_hash *hs = (struct tlog_hash *)buf;

		if (nodes[i].index > (UINT64_MAX >> sub))
			return bw_err_set(err, BW_EINVAL, "node index out of range");
		first = nodes[i].index << sub;
		n = first / TLOG_TILE_WIDTH;
		off = (unsigned)(first % TLOG_TILE_WIDTH);
		cnt = 1u << sub;
		width = tlog_tile_width(level, n, t->size);
		if (width < off + cnt)
			return bw_err_set(err, BW_ENOTFOUND, "node (%u, %llu) is not in the tree of size %llu",
					  nodes[i].level, (unsigned long long)nodes[i].index,
					  (unsigned long long)t->size);
		if ((r = tlog_tiles_read_tile(t, level, n, width, buf, err)) != 0)
			return r;
		/* Fold the 2^sub tile hashes at [off, off+cnt) into one subtree hash. */
		for (m = cnt; m > 1; m /= 2)
			for (k = 0; k < m / 2; k++)
				tlog_hash_node(t->h, &hs[off + 2 * k], &hs[off + 2 * k + 1], &hs[off + k]);
		out[i] = hs[off];
	}
	if (bw_sha256_failed(t->h))
		return bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	return 0;
}

struct tlog_reader
tlog_tiles_reader(struct tlog_tiles *t, uint64_t size)
{
	struct tlog_reader rd = { tiles_read_hashes, t };
	t->size = size;
	return rd;
}
