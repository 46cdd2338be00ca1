/*
 * tlog/integrate.c: the integrator. It turns sequenced entries into the
 * tlog-tiles files and signs a checkpoint covering them:
 *  - every file a batch writes (full tiles, new partial tiles, bundles)
 *    has a name no committed checkpoint refers to, so writing it can never
 *    damage committed data; the checkpoint rename is the commit point;
 *  - before the checkpoint is replaced, every file of the batch is durable:
 *    each fdatasync'ed and each directory that gained a name fsync'ed, or,
 *    when the batch wrote more than MAX_SYNC_FILES files, one syncfs of the
 *    log's filesystem (one device flush instead of one per file);
 *  - superseded partial tiles are deleted only after the new checkpoint is
 *    durable; readers holding an older checkpoint fall back to the full or
 *    a wider partial tile, whose prefix is identical (the tree only grows);
 *  - journal segments are released only once a durable checkpoint covers
 *    them.
 * It runs on its own thread beside the sequencer (sequence.c): it takes
 * the queued groups under the store's mutex and works without it.
 */
#define _GNU_SOURCE	/* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* ---- small helpers ------------------------------------------------------ */

static int
path_set_add(struct path_set *ps, const char *p, bool dedupe)
{
	size_t i;

	if (dedupe)
		for (i = 0; i < ps->n; i++)
			if (strcmp(ps->p[i], p) == 0)
				return 0;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		char **q = realloc(ps->p, cap * sizeof *q);
		if (q == NULL)
			return BW_ENOMEM;
		ps->p = q;
		ps->cap = cap;
	}
	if ((ps->p[ps->n] = strdup(p)) == NULL)
		return BW_ENOMEM;
	ps->n++;
	return 0;
}

static void
path_set_clear(struct path_set *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->p[i]);
	ps->n = 0;
}

static void
path_set_free(struct path_set *ps)
{
	path_set_clear(ps);
	free(ps->p);
	ps->p = NULL;
	ps->cap = 0;
}

/* Keeps a written file open for the batch's fdatasync, or closes it once the batch is to be synced with syncfs. */
static void
keep_for_sync(struct tlog_store *s, int fd)
{
	if (!s->sync_fs && s->nopen == MAX_SYNC_FILES) {
		while (s->nopen > 0)
			close(s->open_fds[--s->nopen]);
		s->sync_fs = true;
	}
	if (s->sync_fs)
		close(fd);
	else
		s->open_fds[s->nopen++] = fd;
}

/* mkdir -p of the parent of path; each directory that gains an entry is queued for fsync. */
static int
make_parents(struct tlog_store *s, const char *path, struct bw_err *err)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(path), start = strlen(s->dir) + 1;

	if (n >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "path too long");
	memcpy(tmp, path, n + 1);
	for (i = start; i < n; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) == 0) {
			char parent[PATH_MAX];
			memcpy(parent, tmp, i + 1);
			if (path_set_add(&s->dirs, dirname(parent), true) != 0)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
		} else if (errno != EEXIST) {
			return bw_err_set(err, BW_EIO, "cannot create directory %s: %s", tmp, strerror(errno));
		}
		tmp[i] = '/';
	}
	return 0;
}

/*
 * Writes a tile file and keeps it open for the commit's fdatasync (or
 * closes it when the batch is synced with syncfs); queues its directory for
 * fsync. Partial
 * files are written under a temporary name and renamed, so a reader that
 * falls back to a wider partial never sees one half-written.
 */
static int
write_tile_file(struct tlog_store *s, int level, uint64_t n, unsigned width, const void *data,
		size_t len, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX];
	bool partial = width < TLOG_TILE_WIDTH;
	const char *target;
	int fd, r;

	tlog_tile_path(rel, level, n, width);
	if ((r = store_join(path, sizeof path, s->dir, rel, err)) != 0)
		return r;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	target = partial ? tmp : path;
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		if ((r = make_parents(s, path, err)) != 0)
			return r;
		fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return bw_err_set(err, BW_EIO, "cannot create %s: %s", target, strerror(errno));
	if (bw_write_all(fd, data, len) != 0) {
		close(fd);
		return bw_err_set(err, BW_EIO, "cannot write %s: %s", target, strerror(errno));
	}
	keep_for_sync(s, fd);
	if (partial && rename(tmp, path) != 0)
		return bw_err_set(err, BW_EIO, "cannot rename %s: %s", tmp, strerror(errno));
	strcpy(dir, path);
	if (path_set_add(&s->dirs, dirname(dir), true) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

static int
queue_obsolete(struct tlog_store *s, int level, uint64_t n, unsigned width, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], path[PATH_MAX];
	int r;

	tlog_tile_path(rel, level, n, width);
	if ((r = store_join(path, sizeof path, s->dir, rel, err)) != 0)
		return r;
	if (path_set_add(&s->obsolete, path, true) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

/* ---- the tree ------------------------------------------------------------ */

/* tlog_node_cb: collects tile-level hashes into the partial tiles. */
static int
store_node(void *ctx, const struct tlog_node *node, const struct tlog_hash *hash, struct bw_err *err)
{
	struct tlog_store *s = ctx;
	int level, r;
	unsigned pos;

	if (node->level % TLOG_TILE_HEIGHT != 0)
		return 0;
	level = node->level / TLOG_TILE_HEIGHT;
	pos = (unsigned)(node->index % TLOG_TILE_WIDTH);
	if (level >= NLEVELS || pos != s->part_w[level])
		return bw_err_set(err, BW_ECORRUPT, "internal: tile hash out of order at level %d", level);
	memcpy(s->part[level] + (size_t)pos * TLOG_HASH_SIZE, hash->b, TLOG_HASH_SIZE);
	if (++s->part_w[level] < TLOG_TILE_WIDTH)
		return 0;
	/* The tile is complete: write it now, sync it at commit. */
	if ((r = write_tile_file(s, level, node->index / TLOG_TILE_WIDTH, TLOG_TILE_WIDTH, s->part[level],
				 sizeof s->part[level], err)) != 0)
		return r;
	if (s->part_w_disk[level] > 0 &&
	    (r = queue_obsolete(s, level, node->index / TLOG_TILE_WIDTH, s->part_w_disk[level], err)) != 0)
		return r;
	s->part_w[level] = 0;
	s->part_w_disk[level] = 0;
	return 0;
}

int
store_tree_append(struct tlog_store *s, const void *entry, size_t len, struct bw_err *err)
{
	struct tlog_hash leaf;
	uint8_t prefix[2];
	uint64_t idx = s->f.size;
	int r;

	prefix[0] = (uint8_t)(len >> 8);
	prefix[1] = (uint8_t)len;
	if (bw_buf_append(&s->bundle, prefix, 2) != 0 || bw_buf_append(&s->bundle, entry, len) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	tlog_hash_leaf(s->h, entry, len, &leaf);
	if ((r = tlog_frontier_append(&s->f, s->h, &leaf, store_node, s, err)) != 0)
		return r;
	if (++s->bundle_w == TLOG_TILE_WIDTH) {
		uint64_t n = idx / TLOG_TILE_WIDTH;
		if ((r = write_tile_file(s, TLOG_TILE_ENTRIES, n, TLOG_TILE_WIDTH, s->bundle.data, s->bundle.len,
					 err)) != 0 ||
		    (s->bundle_w_disk > 0 && (r = queue_obsolete(s, TLOG_TILE_ENTRIES, n, s->bundle_w_disk, err)) != 0))
			return r;
		s->bundle.len = 0;
		s->bundle_w = 0;
		s->bundle_w_disk = 0;
	}
	return 0;
}

/* ---- sealing: the batch durable, then the checkpoint ---------------------- */

int
store_sign_checkpoint(struct tlog_store *s, struct note_signer *also, char **out, size_t *outlen,
		      struct bw_err *err)
{
	struct note_signer *signers[2] = { s->signer, also };
	struct tlog_checkpoint cp = { 0 };
	char *body = NULL;
	size_t blen;
	int r;

	cp.origin = s->signer->name;
	cp.size = s->f.size;
	tlog_frontier_root(&s->f, s->h, &cp.root);
	if (bw_sha256_failed(s->h))
		return bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	if ((r = tlog_checkpoint_format(&cp, &body, &blen, err)) != 0)
		return r;
	r = note_sign(body, blen, signers, also != NULL ? 2 : 1, out, outlen, err);
	free(body);
	return r;
}


/* Makes every file of the batch durable: each fdatasync'ed and its directory fsync'ed, or one syncfs. */
static int
sync_batch(struct tlog_store *s, struct bw_err *err)
{
	size_t i;
	int r = 0;

	while (s->nopen > 0) {
		int fd = s->open_fds[--s->nopen];
		if (r == 0 && !s->sync_fs && fdatasync(fd) != 0)
			r = bw_err_set(err, BW_EIO, "fdatasync of a tile file: %s", strerror(errno));
		if (close(fd) != 0 && r == 0)
			r = bw_err_set(err, BW_EIO, "close of a tile file: %s", strerror(errno));
	}
	if (r != 0)
		return r;
	if (s->sync_fs) {
		/* Data and names of every file written (and anything else dirty on this filesystem). */
		if (syncfs(s->lock_fd) != 0)
			return bw_err_set(err, BW_EIO, "syncfs of the log's filesystem: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < s->dirs.n; i++)
		if ((r = bw_fsync_dir(s->dirs.p[i], true, err)) != 0)
			return r;
	return 0;
}

int
store_seal(struct tlog_store *s, struct bw_err *err)
{
	char path[PATH_MAX], *cp = NULL, *old;
	size_t cplen, i;
	int level, r;

	if (s->f.size == atomic_load(&s->committed))
		return 0;
	/* New partial tiles and bundle for the new right edge. */
	for (level = 0; level < NLEVELS; level++) {
		uint64_t n = store_level_count(level, s->f.size) / TLOG_TILE_WIDTH;
		if (s->part_w[level] == 0 || s->part_w[level] == s->part_w_disk[level])
			continue;
		if ((r = write_tile_file(s, level, n, s->part_w[level], s->part[level],
					 (size_t)s->part_w[level] * TLOG_HASH_SIZE, err)) != 0 ||
		    (s->part_w_disk[level] > 0 && (r = queue_obsolete(s, level, n, s->part_w_disk[level], err)) != 0))
			goto fail;
	}
	if (s->bundle_w > 0 && s->bundle_w != s->bundle_w_disk) {
		uint64_t n = s->f.size / TLOG_TILE_WIDTH;
		if ((r = write_tile_file(s, TLOG_TILE_ENTRIES, n, s->bundle_w, s->bundle.data, s->bundle.len, err)) != 0 ||
		    (s->bundle_w_disk > 0 &&
		     (r = queue_obsolete(s, TLOG_TILE_ENTRIES, n, s->bundle_w_disk, err)) != 0))
			goto fail;
	}
	if ((r = sync_batch(s, err)) != 0 || (r = store_sign_checkpoint(s, NULL, &cp, &cplen, err)) != 0 ||
	    (r = store_join(path, sizeof path, s->dir, TLOG_CHECKPOINT_FILE, err)) != 0 ||
	    (r = bw_file_write_atomic(path, cp, cplen, 0644, err)) != 0)
		goto fail;
	/* Durable. */
	pthread_mutex_lock(&s->mu);
	old = s->checkpoint;
	s->checkpoint = cp;
	pthread_mutex_unlock(&s->mu);
	free(old);
	atomic_store(&s->committed, s->f.size);
	for (level = 0; level < NLEVELS; level++)
		s->part_w_disk[level] = s->part_w[level];
	s->bundle_w_disk = s->bundle_w;
	for (i = 0; i < s->obsolete.n; i++)
		unlink(s->obsolete.p[i]);	/* best effort: stale partials are harmless */
	path_set_clear(&s->obsolete);
	path_set_clear(&s->dirs);
	s->sync_fs = false;
	return 0;
fail:
	free(cp);
	return r;
}

/* ---- integrating what the sequencer handed over --------------------------- */

/* Adds one sequenced record to the tree; records must continue it exactly. */
static int
integrate_record(void *ctx, uint64_t index, const void *entry, size_t len)
{
	struct tlog_store *s = ctx;

	if (index != s->f.size)
		return BW_ECORRUPT;
	return store_tree_append(s, entry, len, s->integrate_err);
}

/* Adds a batch's records to the tree. */
static int
integrate_batch(struct tlog_store *s, const struct bw_buf *records, struct bw_err *err)
{
	int r;

	s->integrate_err = err;
	r = store_records_foreach(records, integrate_record, s);
	if (r == BW_ECORRUPT && err->code != BW_ECORRUPT)
		return bw_err_set(err, BW_ECORRUPT, "internal: a sequenced record out of order (tree at %llu)",
				  (unsigned long long)s->f.size);
	return r;
}

int
tlog_store_integrate(struct tlog_store *s, struct bw_err *err)
{
	struct tlog_seq_batch *b, *next;
	uint64_t bytes = 0;
	int r = 0;

	if (atomic_load(&s->failed))
		return bw_err_set(err, BW_EIO, "the log store failed earlier; reopen it to recover");
	pthread_mutex_lock(&s->mu);
	b = s->queue;
	s->queue = NULL;
	s->queue_tail = &s->queue;
	pthread_mutex_unlock(&s->mu);
	for (; b != NULL; b = next) {
		next = b->next;
		if (r == 0)
			r = integrate_batch(s, &b->records, err);
		bytes += b->records.len;
		bw_buf_free(&b->records);
		free(b);
	}
	if (r == 0)
		r = store_seal(s, err);
	if (r != 0) {
		atomic_store(&s->failed, 1);
		return r;
	}
	atomic_fetch_sub(&s->backlog_bytes, bytes);
	tlog_journal_release(s->j, atomic_load(&s->committed));
	return 0;
}

int
tlog_store_commit(struct tlog_store *s, struct bw_err *err)
{
	int r = tlog_store_sequence(s, err);

	return r != 0 ? r : tlog_store_integrate(s, err);
}

uint64_t
tlog_store_size(const struct tlog_store *s)
{
	return atomic_load(&s->committed);
}

char *
tlog_store_checkpoint_dup(struct tlog_store *s)
{
	char *cp;

	pthread_mutex_lock(&s->mu);
	cp = strdup(s->checkpoint);
	pthread_mutex_unlock(&s->mu);
	return cp;
}

void
store_integrator_free(struct tlog_store *s)
{
	while (s->nopen > 0)
		close(s->open_fds[--s->nopen]);
	bw_buf_free(&s->bundle);
	path_set_free(&s->dirs);
	path_set_free(&s->obsolete);
	bw_sha256_free(s->h);
}
