/*
 * tlog/snapshot.c: a consistent copy of a live log, read beside its writer
 * (which keeps its lock): the signed checkpoint, exactly the tiles and entry
 * bundles its tree needs, and the journal's acknowledged entries past it,
 * re-framed as one journal segment. Opening the copy as a log integrates
 * those entries as a crash recovery would.
 *
 * The writer never changes a file the copy reads: tiles and bundles are
 * written once (a wider partial tile replaces none the copy asks for: the
 * reader falls back to the full or a wider one and truncates), the
 * checkpoint is replaced by rename, and journal segments are removed only
 * once a newer checkpoint covers them. So the only race is a segment
 * released between reading the checkpoint and reading the journal; the
 * checkpoint is read again afterwards and the whole read repeated when it
 * moved past what the journal gave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "tlog.h"

#define SNAPSHOT_TRIES 8
#define CHECKPOINT_MAX 65536

struct collect {
	struct bw_sha256 *h;
	struct bw_buf framed;
	uint64_t count;
};

static int
collect_record(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err)
{
	struct collect *c = ctx;

	if (tlog_journal_frame(c->h, index, entry, len, &c->framed) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	c->count++;
	return 0;
}

static int
read_checkpoint(const char *dir, struct note_verifier *vkey, uint8_t **note, size_t *len, uint64_t *size,
		struct bw_err *err)
{
	struct tlog_checkpoint cp = { 0 };
	int r = tlog_checkpoint_load(dir, &vkey, 1, note, len, &cp, err);

	if (r == 0)
		*size = cp.size;
	tlog_checkpoint_clear(&cp);
	return r;
}

/* Emits the hash tiles and the entry bundles of the tree of size (bundles below pruned are gone). */
static int
put_tiles(struct tlog_tiles *t, uint64_t size, uint64_t pruned, tlog_file_fn put, void *ctx, uint64_t *files,
	  struct bw_err *err)
{
	uint8_t *buf = malloc(TLOG_TILE_WIDTH * TLOG_HASH_SIZE);
	char path[TLOG_PATH_MAX];
	unsigned w;
	int level, r = 0;

	if (buf == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (level = 0; r == 0 && level * TLOG_TILE_HEIGHT < 64 && (size >> (level * TLOG_TILE_HEIGHT)) > 0; level++)
		for (uint64_t n = 0; r == 0 && (w = tlog_tile_width(level, n, size)) > 0; n++) {
			tlog_tile_path(path, level, n, w);
			if ((r = tlog_tiles_read_tile(t, level, n, w, buf, err)) == 0 &&
			    (r = put(ctx, path, buf, (size_t)w * TLOG_HASH_SIZE, err)) == 0)
				(*files)++;
		}
	free(buf);
	for (uint64_t n = pruned / TLOG_TILE_WIDTH; r == 0 && (w = tlog_tile_width(TLOG_TILE_ENTRIES, n, size)) > 0;
	     n++) {
		uint8_t *data = NULL;
		size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH];
		tlog_tile_path(path, TLOG_TILE_ENTRIES, n, w);
		if ((r = tlog_tiles_read_bundle(t, n, w, &data, offs, lens, err)) == 0 &&
		    (r = put(ctx, path, data, offs[w - 1] + lens[w - 1], err)) == 0)
			(*files)++;
		free(data);
	}
	return r;
}

/* Emits dir's file name if it exists. */
static int
put_optional(const char *dir, const char *name, tlog_file_fn put, void *ctx, uint64_t *files, struct bw_err *err)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "%s: path too long", dir);
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if ((r = bw_file_read(path, CHECKPOINT_MAX, &data, &len, err)) == 0 && (r = put(ctx, name, data, len, err)) == 0)
		(*files)++;
	free(data);
	return r;
}

/* Emits the log key's transitions (a rotation runs only with the writer stopped: none is being written). */
static int
put_transitions(const char *dir, tlog_file_fn put, void *ctx, uint64_t *files, struct bw_err *err)
{
	uint64_t *sizes = NULL;
	size_t n = 0, i;
	int r;

	if ((r = tlog_transitions_list(dir, &sizes, &n, err)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		char rel[96], path[4200];
		uint8_t *data = NULL;
		size_t len = 0;
		snprintf(rel, sizeof rel, "%s/%llu.tlog-proof", TLOG_TRANSITIONS_DIR, (unsigned long long)sizes[i]);
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
			r = bw_err_set(err, BW_ERANGE, "%s: path too long", dir);
		else if ((r = bw_file_read(path, TLOG_PROOF_FILE_MAX, &data, &len, err)) == 0 &&
			 (r = put(ctx, rel, data, len, err)) == 0)
			(*files)++;
		free(data);
	}
	free(sizes);
	return r;
}

/* Emits the cosigned checkpoint when there is one no larger than size (the restored log's own may not be past it). */
static int
put_cosigned(const char *dir, struct note_verifier *vkey, uint64_t size, tlog_file_fn put, void *ctx, uint64_t *files,
	     struct bw_err *err)
{
	struct tlog_checkpoint cp = { 0 };
	uint8_t *note = NULL;
	size_t len = 0;
	int r = tlog_cosigned_load(dir, &vkey, 1, &note, &len, &cp, err);

	if (r == BW_ENOTFOUND)
		r = 0;
	else if (r == 0 && cp.size <= size && (r = put(ctx, TLOG_COSIGNED_FILE, note, len, err)) == 0)
		(*files)++;
	tlog_checkpoint_clear(&cp);
	free(note);
	return r;
}

void
tlog_snapshot_info_clear(struct tlog_snapshot_info *info)
{
	free(info->checkpoint);
	memset(info, 0, sizeof *info);
}

int
tlog_snapshot(const char *dir, struct note_verifier *vkey, tlog_file_fn put, void *ctx, struct tlog_snapshot_info *info,
	      struct bw_err *err)
{
	struct collect c = { 0 };
	struct tlog_tiles *t = NULL;
	uint8_t *note = NULL;
	size_t len = 0;
	uint64_t size = 0, pruned = 0;
	int r, tries;

	memset(info, 0, sizeof *info);
	if ((r = bw_sha256_new(&c.h, err)) != 0)
		return r;
	for (tries = 0;; tries++) {
		uint8_t *again = NULL;
		size_t alen = 0;
		uint64_t asize = 0;
		bool aside = false;
		free(note);
		note = NULL;
		bw_buf_free(&c.framed);
		c.count = 0;
		if ((r = read_checkpoint(dir, vkey, &note, &len, &size, err)) != 0)
			goto out;
		r = tlog_journal_replay(dir, size, collect_record, &c, NULL, &aside, err);
		if (read_checkpoint(dir, vkey, &again, &alen, &asize, err) != 0) {
			r = BW_EIO;
			goto out;
		}
		free(again);
		if (asize <= size + c.count && r == 0)
			break;	/* whatever the journal lost meanwhile was integrated under the checkpoint read first */
		if (asize == size || tries + 1 == SNAPSHOT_TRIES) {
			if (r == 0)
				r = bw_err_set(err, BW_EBUSY, "%s: the log kept moving; no consistent copy after %d tries",
					       dir, SNAPSHOT_TRIES);
			goto out;	/* the checkpoint stood still: the journal's error is real */
		}
	}
	if ((r = tlog_pruned(dir, &pruned, err)) != 0 || (r = tlog_tiles_open(dir, &t, err)) != 0)
		goto out;
	if ((r = put_optional(dir, TLOG_VKEY_FILE, put, ctx, &info->files, err)) != 0 ||
	    (r = put_optional(dir, TLOG_PRUNED_FILE, put, ctx, &info->files, err)) != 0 ||
	    (r = put_tiles(t, size, pruned, put, ctx, &info->files, err)) != 0 ||
	    (r = put_cosigned(dir, vkey, size, put, ctx, &info->files, err)) != 0 ||
	    (r = put_transitions(dir, put, ctx, &info->files, err)) != 0)
		goto out;
	if (c.count > 0) {
		char name[64];
		snprintf(name, sizeof name, "journal-%020llu", (unsigned long long)size);
		if ((r = put(ctx, name, c.framed.data, c.framed.len, err)) != 0)
			goto out;
		info->files++;
	}
	if ((r = put(ctx, TLOG_CHECKPOINT_FILE, note, len, err)) != 0)
		goto out;
	info->files++;
	info->size = size;
	info->acknowledged = c.count;
	info->checkpoint = (char *)note;
	info->checkpoint_len = len;
	note = NULL;
out:
	tlog_tiles_free(t);
	free(note);
	bw_buf_free(&c.framed);
	bw_sha256_free(c.h);
	return r;
}

static int
count_record(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err)
{
	(void)index, (void)entry, (void)len, (void)err;
	(*(uint64_t *)ctx)++;
	return 0;
}

int
tlog_journal_count(const char *dir, uint64_t from, uint64_t *count, struct bw_err *err)
{
	bool aside = false;

	*count = 0;
	return tlog_journal_replay(dir, from, count_record, count, NULL, &aside, err);
}

int
tlog_vkey_load(const char *dir, struct note_verifier **out, struct bw_err *err)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, TLOG_VKEY_FILE) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "%s: path too long", dir);
	if ((r = bw_file_read(path, 4096, &text, &len, err)) != 0)
		return r;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if ((r = note_verifier_parse((char *)text, len, out, err)) != 0)
		bw_err_prefix(err, "%s", path);
	free(text);
	return r;
}
