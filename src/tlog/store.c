/*
 * tlog/store.c: creating, opening (crash recovery) and closing the durable
 * log writer. Appending and sequencing are in sequence.c, tiles and
 * checkpoints in integrate.c (their invariants are written there).
 *
 * On open, files past the checkpoint (an interrupted batch) are moved aside
 * to LOG/discarded/ (see discard_file), never deleted: they may be evidence
 * of a rolled-back checkpoint. The journal's segments are then replayed
 * into tiles and a new checkpoint before any new append is taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"

/* ---- small helpers ------------------------------------------------------ */

int
store_join(char *out, size_t cap, const char *dir, const char *rel, struct bw_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, rel) >= cap)
		return bw_err_set(err, BW_ERANGE, "path too long: %s/%s", dir, rel);
	return 0;
}

uint64_t
store_level_count(int level, uint64_t size)
{
	return level == TLOG_TILE_ENTRIES ? size : size >> (level * TLOG_TILE_HEIGHT);
}

static int replay_journal(struct tlog_store *s, struct bw_err *err);

/* ---- create / open / recover --------------------------------------------- */

static int
read_signer(const char *dir, struct note_signer **out, struct bw_err *err)
{
	char path[PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if ((r = store_join(path, sizeof path, dir, TLOG_KEY_FILE, err)) != 0 ||
	    (r = bw_file_read_secret(path, 4096, &data, &len, err)) != 0)
		return r;
	while (len > 0 && data[len - 1] == '\n')
		len--;
	r = note_signer_parse((const char *)data, len, out, err);
	bw_secure_free(data);	/* wiped */
	if (r != 0)
		bw_err_prefix(err, "%s", path);
	return r;
}

int
tlog_store_init(const char *dir, const struct note_signer *signer, struct bw_err *err)
{
	struct tlog_store s = { 0 };
	char path[PATH_MAX], *cp = NULL;
	size_t cplen;
	int r;

	if ((r = bw_mkdir_p(dir, 0755, err)) != 0 ||
	    (r = store_join(path, sizeof path, dir, TLOG_CHECKPOINT_FILE, err)) != 0)
		return r;
	if (access(path, F_OK) == 0)
		return bw_err_set(err, BW_EEXIST, "%s already holds a log", dir);
	if ((r = store_join(path, sizeof path, dir, "tile", err)) != 0 || (r = bw_mkdir_p(path, 0755, err)) != 0)
		return r;
	/* The checkpoint of the empty tree. */
	s.signer = (struct note_signer *)signer;	/* borrowed, not freed here */
	if ((r = bw_sha256_new(&s.h, err)) != 0)
		return r;
	tlog_frontier_init(&s.f);
	if ((r = store_sign_checkpoint(&s, NULL, &cp, &cplen, err)) == 0 &&
	    (r = store_join(path, sizeof path, dir, TLOG_CHECKPOINT_FILE, err)) == 0 &&
	    (r = bw_file_write_atomic(path, cp, cplen, 0644, err)) == 0)
		r = bw_fsync_dir(dir, true, err);
	bw_sha256_free(s.h);
	free(cp);
	return r;
}

int
store_write_vkey(const char *dir, const char *vkey, struct bw_err *err)
{
	char path[PATH_MAX], *line;
	int r;

	if ((r = store_join(path, sizeof path, dir, TLOG_VKEY_FILE, err)) != 0)
		return r;
	if ((line = malloc(strlen(vkey) + 2)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	sprintf(line, "%s\n", vkey);
	r = bw_file_write_atomic(path, line, strlen(line), 0644, err);
	free(line);
	return r;
}

int
tlog_store_create(const char *dir, const char *origin, char **vkey_out, struct bw_err *err)
{
	struct note_signer *signer = NULL;
	char path[PATH_MAX], *skey = NULL, *vkey = NULL;
	int r;

	if (vkey_out != NULL)
		*vkey_out = NULL;
	if ((r = bw_mkdir_p(dir, 0755, err)) != 0)
		return r;
	if ((r = store_join(path, sizeof path, dir, TLOG_CHECKPOINT_FILE, err)) != 0)
		return r;
	if (access(path, F_OK) == 0)
		return bw_err_set(err, BW_EEXIST, "%s already holds a log", dir);
	if ((r = note_key_generate(origin, &skey, &vkey, err)) != 0)
		return bw_err_prefix(err, "origin");
	if ((r = store_join(path, sizeof path, dir, TLOG_KEY_FILE, err)) != 0)
		goto out;
	{
		/* The signer key file: "<key>\n", created 0600, durable, never half-written. */
		size_t kl = strlen(skey);
		char *text = bw_secure_alloc(kl + 2);
		if (text == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of secure memory");
			goto out;
		}
		memcpy(text, skey, kl);
		text[kl] = '\n';
		r = bw_file_create_secret(path, text, kl + 1, err);
		bw_secure_free(text);
		if (r != 0)
			goto out;
	}
	if ((r = store_write_vkey(dir, vkey, err)) != 0 ||
	    (r = note_signer_parse(skey, strlen(skey), &signer, err)) != 0 ||
	    (r = tlog_store_init(dir, signer, err)) != 0)
		goto out;
	if (vkey_out != NULL) {
		*vkey_out = vkey;
		vkey = NULL; /* transferred */
	}
out:
	if (skey != NULL) {
		bw_memzero(skey, strlen(skey));
		free(skey);
	}
	note_signer_free(signer);
	free(vkey);
	return r;
}

/*
 * Files past the checkpoint are moved, not deleted, to
 * LOG/discarded/<time>-<pid>/ (names flattened): after a crash they are the
 * remains of an unacknowledged batch, but if someone rolled the checkpoint
 * back they are evidence, and recovery must never destroy evidence.
 */
struct discard {
	const char *dir;
	char qdir[PATH_MAX];
	size_t count;
};

static int
discard_file(struct discard *d, const char *path, struct bw_err *err)
{
	char target[PATH_MAX + 256], flat[256];
	const char *rel = path + strlen(d->dir) + 1;
	size_t i;

	if (access(path, F_OK) != 0)
		return 0;
	if (d->count == 0) {
		snprintf(d->qdir, sizeof d->qdir, "%s/discarded/%lld-%d", d->dir, (long long)time(NULL), (int)getpid());
		int r = bw_mkdir_p(d->qdir, 0755, err);	/* err may be NULL: use the returned code */
		if (r != 0)
			return r;
	}
	snprintf(flat, sizeof flat, "%s", rel);
	for (i = 0; flat[i]; i++)
		if (flat[i] == '/')
			flat[i] = '_';
	snprintf(target, sizeof target, "%s/%s", d->qdir, flat);
	if (rename(path, target) != 0 && errno != ENOENT)
		return bw_err_set(err, BW_EIO, "cannot move %s aside: %s", path, strerror(errno));
	d->count++;
	return 0;
}

/* Moves dir/rel aside when it exists. */
static int
discard_rel(struct discard *d, const char *rel, bool *found, struct bw_err *err)
{
	char path[PATH_MAX];
	size_t before = d->count;
	int r;

	if ((r = store_join(path, sizeof path, d->dir, rel, err)) != 0 || (r = discard_file(d, path, err)) != 0)
		return r;
	*found = d->count > before;
	return 0;
}

/*
 * Moves aside the partial files of tile (level, n) except width keep (0: all).
 * *seen reports whether the .p directory exists.
 */
static int
discard_partials(struct discard *dc, int level, uint64_t n, unsigned keep, bool *seen, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], pdir[PATH_MAX], path[PATH_MAX + 264];
	struct dirent *de;
	DIR *d;
	int r = 0;

	tlog_tile_path(rel, level, n, TLOG_TILE_WIDTH);
	if ((size_t)snprintf(pdir, sizeof pdir, "%s/%s.p", dc->dir, rel) >= sizeof pdir)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((d = opendir(pdir)) == NULL)
		return 0;
	*seen = true;
	while ((de = readdir(d)) != NULL) {
		uint64_t w;
		if (de->d_name[0] == '.')
			continue;
		if (bw_parse_u64(de->d_name, strlen(de->d_name), &w) == 0 && w == keep && keep > 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", pdir, de->d_name);
		if ((r = discard_file(dc, path, err)) != 0)
			break;
	}
	closedir(d);
	return r;
}

/*
 * After a crash, the checkpoint's own partial tiles always exist (old
 * partials are deleted only once a newer checkpoint is durable). When one is
 * missing, the checkpoint is older than the tiles: rolled back or replaced.
 * Refuse before touching anything.
 */
static int
check_edge_files(const char *dir, uint64_t size, struct bw_err *err)
{
	char rel[TLOG_PATH_MAX], path[PATH_MAX];
	int level, r;

	for (level = TLOG_TILE_ENTRIES; level < NLEVELS; level++) {
		uint64_t count = store_level_count(level, size);
		unsigned w = (unsigned)(count % TLOG_TILE_WIDTH);
		if (w == 0)
			continue;
		tlog_tile_path(rel, level, count / TLOG_TILE_WIDTH, w);
		if ((r = store_join(path, sizeof path, dir, rel, err)) != 0)
			return r;
		if (access(path, F_OK) != 0)
			return bw_err_set(err, BW_ECORRUPT,
					  "%s, which the checkpoint (size %llu) needs, is missing: the checkpoint is "
					  "older than the tiles (rolled back or replaced?); not recovering automatically "
					  "- run 'bulwark log audit' with a trusted checkpoint", rel,
					  (unsigned long long)size);
	}
	return 0;
}

/* Moves aside every tile and bundle file past a tree of size (an interrupted batch). */
static int
discard_past(struct discard *dc, uint64_t size, struct bw_err *err)
{
	int level, r;

	for (level = TLOG_TILE_ENTRIES; level < NLEVELS; level++) {
		uint64_t count = store_level_count(level, size), n = count / TLOG_TILE_WIDTH;
		unsigned w = (unsigned)(count % TLOG_TILE_WIDTH);
		char rel[TLOG_PATH_MAX];

		for (;; n++) {
			bool found = false, seen = false;
			bool current = n == count / TLOG_TILE_WIDTH;
			tlog_tile_path(rel, level, n, TLOG_TILE_WIDTH);
			if ((r = discard_rel(dc, rel, &found, err)) != 0 ||
			    (r = discard_partials(dc, level, n, current ? w : 0, &seen, err)) != 0)
				return r;
			if (!found && !seen && !current)
				break;
		}
	}
	return 0;
}

/* Loads the committed partial tiles and bundle and checks the bundle against tile 0. */
static int
load_edge(struct tlog_store *s, struct tlog_tiles *t, struct bw_err *err)
{
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH];
	uint8_t *bundle = NULL;
	uint64_t size = s->committed, n = size / TLOG_TILE_WIDTH;
	unsigned w, i;
	int level, r;

	for (level = 0; level < NLEVELS; level++) {
		uint64_t count = store_level_count(level, size);
		w = (unsigned)(count % TLOG_TILE_WIDTH);
		s->part_w[level] = s->part_w_disk[level] = w;
		if (w > 0 && (r = tlog_tiles_read_tile(t, level, count / TLOG_TILE_WIDTH, w, s->part[level],
						       err)) != 0)
			return r;
	}
	w = (unsigned)(size % TLOG_TILE_WIDTH);
	s->bundle_w = s->bundle_w_disk = w;
	if (w == 0)
		return 0;
	if ((r = tlog_tiles_read_bundle(t, n, w, &bundle, offs, lens, err)) != 0)
		return r;
	for (i = 0; i < w; i++) {
		struct tlog_hash leaf;
		uint8_t prefix[2] = { (uint8_t)(lens[i] >> 8), (uint8_t)lens[i] };
		tlog_hash_leaf(s->h, bundle + offs[i], lens[i], &leaf);
		if (memcmp(leaf.b, s->part[0] + (size_t)i * TLOG_HASH_SIZE, TLOG_HASH_SIZE) != 0) {
			char rel[TLOG_PATH_MAX];
			tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, w);
			free(bundle);
			return bw_err_set(err, BW_ECORRUPT,
					  "%s: entry %llu does not match its hash in tile/0 (hash %u)", rel,
					  (unsigned long long)(n * TLOG_TILE_WIDTH + i), i);
		}
		if (bw_buf_append(&s->bundle, prefix, 2) != 0 ||
		    bw_buf_append(&s->bundle, bundle + offs[i], lens[i]) != 0) {
			free(bundle);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	}
	free(bundle);
	return 0;
}

int
tlog_store_open(const char *dir, struct tlog_store **out, struct bw_err *err)
{
	struct note_signer *signer = NULL;
	int r;

	*out = NULL;
	if ((r = read_signer(dir, &signer, err)) != 0)
		return r;
	return tlog_store_open_signed(dir, signer, out, err);
}

int
tlog_store_open_signed(const char *dir, struct note_signer *signer, struct tlog_store **out,
		       struct bw_err *err)
{
	struct tlog_store *s = NULL;
	struct tlog_tiles *t = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_reader rd;
	struct tlog_hash root;
	struct note *n = NULL;
	char path[PATH_MAX];
	uint8_t *data = NULL;
	size_t len;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		note_signer_free(signer);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->queue_tail = &s->queue;
	s->signer = signer;
	signer = NULL; /* transferred */
	if ((r = store_join(path, sizeof path, dir, TLOG_LOCK_FILE, err)) != 0)
		goto out;
	if ((s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		int e = errno;	/* strerror() may change errno */
		r = bw_err_set(err, e == ENOENT ? BW_ENOTFOUND : BW_EIO, "cannot open %s: %s", path, strerror(e));
		goto out;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		r = bw_err_set(err, errno == EWOULDBLOCK ? BW_EBUSY : BW_EIO,
			       "%s: another writer holds the log lock", dir);
		goto out;
	}
	if ((r = note_signer_verifier(s->signer, &s->verifier, err)) != 0 ||
	    (r = bw_sha256_new(&s->h, err)) != 0)
		goto out;
	/* The checkpoint must be ours and well formed. */
	if ((r = store_join(path, sizeof path, dir, TLOG_CHECKPOINT_FILE, err)) != 0 ||
	    (r = bw_file_read(path, NOTE_MAX_SIZE, &data, &len, err)) != 0)
		goto out;
	if ((r = note_open(data, len, &s->verifier, 1, &n, err)) != 0 ||
	    (r = tlog_checkpoint_parse(n->text, n->text_len, &cp, err)) != 0) {
		bw_err_prefix(err, "%s", path);
		err->code = r = BW_ECORRUPT;
		goto out;
	}
	if (strcmp(cp.origin, s->signer->name) != 0) {
		r = bw_err_set(err, BW_ECORRUPT, "%s: origin '%s' is not this log's ('%s')", path, cp.origin,
			       s->signer->name);
		goto out;
	}
	if ((s->checkpoint = strndup((char *)data, len)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	atomic_store(&s->committed, cp.size);
	/* Move aside what an interrupted batch left past the checkpoint. */
	if ((r = check_edge_files(dir, cp.size, err)) != 0)
		goto out;
	{
		struct discard dc = { .dir = dir };
		snprintf(path, sizeof path, "%s/%s.tmp", dir, TLOG_CHECKPOINT_FILE);
		if ((r = discard_file(&dc, path, err)) != 0 || (r = discard_past(&dc, cp.size, err)) != 0)
			goto out;
		s->discarded = dc.count;
		if (dc.count > 0 && (s->discarded_dir = strdup(dc.qdir)) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* Rebuild the right edge from the tiles; it must give the signed root. */
	if ((r = tlog_tiles_open(dir, &t, err)) != 0)
		goto out;
	rd = tlog_tiles_reader(t, cp.size);
	if ((r = tlog_frontier_load(&s->f, &rd, cp.size, err)) != 0) {
		err->code = r = BW_ECORRUPT;
		bw_err_prefix(err, "rebuilding the tree of size %llu", (unsigned long long)cp.size);
		goto out;
	}
	tlog_frontier_root(&s->f, s->h, &root);
	if (!tlog_hash_equal(&root, &cp.root)) {
		r = bw_err_set(err, BW_ECORRUPT,
			       "the tiles give another root than the checkpoint at size %llu "
			       "(a tile on the right edge was altered; run 'bulwark log audit')",
			       (unsigned long long)cp.size);
		goto out;
	}
	if ((r = load_edge(s, t, err)) != 0) {
		err->code = r = BW_ECORRUPT;
		goto out;
	}
	/* Entries acknowledged in the journal but not integrated yet: integrate them now, then sequence anew. */
	if ((r = replay_journal(s, err)) != 0)
		goto out;
	s->next = s->f.size;
	atomic_store(&s->sequenced, s->f.size);
	if ((r = tlog_journal_open(dir, s->next, &s->j, err)) != 0)
		goto out;
	*out = s;
	s = NULL; /* transferred */
out:
	tlog_checkpoint_clear(&cp);
	note_free(n);
	free(data);
	tlog_tiles_free(t);
	tlog_store_close(s);
	return r;
}

static int
replay_one(void *ctx, uint64_t index, const void *entry, size_t len, struct bw_err *err)
{
	struct tlog_store *s = ctx;
	uint64_t idx;
	int r;

	if ((r = store_tree_append(s, entry, len, err)) != 0)
		return r;
	if ((idx = s->f.size - 1) != index)
		return bw_err_set(err, BW_ECORRUPT, "journal replay: entry %llu landed at %llu", (unsigned long long)index,
				  (unsigned long long)idx);
	return 0;
}

/* Replays the journal past the checkpoint into tiles and a new checkpoint; a torn tail is set aside. */
static int
replay_journal(struct tlog_store *s, struct bw_err *err)
{
	char tail[PATH_MAX], qdir[PATH_MAX];
	bool aside = false;
	int r;

	/* Beside whatever else this open set aside (one evidence directory per recovery). */
	if (s->discarded_dir != NULL)
		snprintf(qdir, sizeof qdir, "%s", s->discarded_dir);
	else
		snprintf(qdir, sizeof qdir, "%s/discarded/%lld-%d", s->dir, (long long)time(NULL), (int)getpid());
	if ((size_t)snprintf(tail, sizeof tail, "%s/journal-tail", qdir) >= sizeof tail)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((r = bw_mkdir_p(qdir, 0755, err)) != 0)
		return r;
	r = tlog_journal_replay(s->dir, atomic_load(&s->committed), replay_one, s, tail, &aside, err);
	if (r == 0 && aside) {
		s->discarded++;
		if (s->discarded_dir == NULL && (s->discarded_dir = strdup(qdir)) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if (!aside && s->discarded_dir == NULL)
		rmdir(qdir);	/* nothing set aside: no empty evidence directory */
	if (r != 0)
		return r;
	/* The replayed entries were durable already: integrate them. */
	return store_seal(s, err);
}

void
tlog_store_close(struct tlog_store *s)
{
	if (s == NULL)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	note_signer_free(s->signer);
	note_verifier_free(s->verifier);
	store_integrator_free(s);
	store_queue_free(s);
	tlog_journal_close(s->j);
	pthread_mutex_destroy(&s->mu);
	free(s->checkpoint);
	free(s->discarded_dir);
	free(s->dir);
	free(s);
}

size_t
tlog_store_discarded(const struct tlog_store *s, const char **where)
{
	if (where != NULL)
		*where = s->discarded_dir;
	return s->discarded;
}
