/*
 * tlog/audit.c: full audit of a log directory: checkpoint signature, every
 * entry re-hashed, every tile hash compared, the root compared, and growth
 * from a trusted checkpoint proven (same root at its size, never smaller).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog.h"

#define NLEVELS 8

struct audit {
	struct tlog_tiles *t;
	struct tlog_audit_result *res;
	struct bw_sha256 *h;
	uint64_t size;
	uint64_t bad_tile[NLEVELS];	/* last tile reported per level, +1 (0: none) */
	uint8_t tile[TLOG_TILE_WIDTH * TLOG_HASH_SIZE];
};

static void
finding(struct tlog_audit_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
finding(struct tlog_audit_result *res, const char *fmt, ...)
{
	va_list ap;

	if (res->nfindings == TLOG_AUDIT_MAX_FINDINGS) {
		res->more_findings++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(res->findings[res->nfindings++], sizeof res->findings[0], fmt, ap);
	va_end(ap);
}

/* tlog_node_cb: compares each tile-level hash the entries produce with the stored tile. */
static int
audit_node(void *ctx, const struct tlog_node *node, const struct tlog_hash *hash, struct bw_err *err)
{
	struct audit *a = ctx;
	struct bw_err terr = { 0 };
	char rel[TLOG_PATH_MAX];
	int level;
	uint64_t n;
	unsigned i, w;

	(void)err;
	if (node->level % TLOG_TILE_HEIGHT != 0)
		return 0;
	level = node->level / TLOG_TILE_HEIGHT;
	n = node->index / TLOG_TILE_WIDTH;
	i = (unsigned)(node->index % TLOG_TILE_WIDTH);
	w = tlog_tile_width(level, n, a->size);
	if (level >= NLEVELS || w == 0 || a->bad_tile[level] == n + 1)
		return 0;
	tlog_tile_path(rel, level, n, w);
	if (tlog_tiles_read_tile(a->t, level, n, w, a->tile, &terr) != 0) {
		finding(a->res, "%s", terr.msg);
		a->bad_tile[level] = n + 1;
		a->res->tiles_ok = false;
		return 0;
	}
	if (memcmp(a->tile + (size_t)i * TLOG_HASH_SIZE, hash->b, TLOG_HASH_SIZE) != 0) {
		uint64_t span = (uint64_t)1 << node->level;
		finding(a->res, "%s: hash %u (entries %llu..%llu) does not match the entries", rel, i,
			(unsigned long long)(node->index * span),
			(unsigned long long)((node->index + 1) * span - 1));
		a->bad_tile[level] = n + 1;
		a->res->tiles_ok = false;
	}
	return 0;
}

/* At the trusted checkpoint's size: does the tree so far have its root? */
static void
check_trusted(struct audit *a, const struct tlog_frontier *f, const struct tlog_checkpoint *tcp)
{
	struct tlog_hash root;

	if (f->size != tcp->size)
		return;
	tlog_frontier_root(f, a->h, &root);
	if (!tlog_hash_equal(&root, &tcp->root))
		finding(a->res, "fork: the entries give another root at the trusted size %llu",
			(unsigned long long)tcp->size);
	else
		a->res->trusted_ok = true;
}

/* Reads and checks the log's checkpoint; on a bad signature still returns its body. */
static int
audit_checkpoint(const char *dir, const struct tlog_keychain *keys, struct tlog_checkpoint *cp,
		 struct tlog_audit_result *res, struct bw_err *err)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	struct note *n = NULL;
	int r;

	snprintf(path, sizeof path, "%s/%s", dir, TLOG_CHECKPOINT_FILE);
	if ((r = bw_file_read(path, NOTE_MAX_SIZE, &data, &len, err)) != 0)
		return r;
	if (tlog_keychain_open(keys, data, len, cp, err) == 0) {
		res->signature_ok = true;
		free(data);
		return 0;
	}
	finding(res, "checkpoint: %s", err->msg);
	bw_err_clear(err);
	/* Keep auditing the entries against the unverified body. */
	if ((r = note_parse(data, len, &n, err)) != 0 ||
	    (r = tlog_checkpoint_parse(n->text, n->text_len, cp, err)) != 0) {
		bw_err_prefix(err, "%s", path);
		r = BW_ECORRUPT;
	}
	note_free(n);
	free(data);
	return r;
}

int
tlog_audit(const char *dir, const struct tlog_keychain *keys, const uint8_t *trusted, size_t trusted_len,
	   tlog_progress_cb progress, void *progress_ctx, struct tlog_audit_result *res,
	   struct bw_err *err)
{
	struct audit a = { 0 };
	struct tlog_checkpoint cp = { 0 }, tcp = { 0 };
	struct tlog_frontier f;
	struct tlog_hash leaf, root;
	size_t offs[TLOG_TILE_WIDTH], lens[TLOG_TILE_WIDTH];
	bool have_trusted = false;
	uint64_t n, nb;
	int r;

	memset(res, 0, sizeof *res);
	res->tiles_ok = true;
	if ((r = audit_checkpoint(dir, keys, &cp, res, err)) != 0)
		return r;
	res->size = cp.size;
	if (trusted != NULL) {
		if (tlog_keychain_open(keys, trusted, trusted_len, &tcp, err) != 0) {
			finding(res, "trusted checkpoint: %s", err->msg);
			bw_err_clear(err);
		} else if (strcmp(tcp.origin, cp.origin) != 0) {
			finding(res, "trusted checkpoint is for origin '%s', the log is '%s'", tcp.origin,
				cp.origin);
		} else {
			have_trusted = true;
			res->trusted_size = tcp.size;
			if (tcp.size > cp.size)
				finding(res,
					"the log (size %llu) is smaller than the trusted checkpoint (size %llu): "
					"entries were removed or the log was rolled back",
					(unsigned long long)cp.size, (unsigned long long)tcp.size);
		}
	}
	if ((r = tlog_tiles_open(dir, &a.t, err)) != 0 || (r = bw_sha256_new(&a.h, err)) != 0)
		goto out;
	a.res = res;
	a.size = cp.size;
	tlog_frontier_init(&f);
	nb = (cp.size + TLOG_TILE_WIDTH - 1) / TLOG_TILE_WIDTH;
	if ((r = tlog_pruned(dir, &res->pruned, err)) != 0)
		goto out;
	if (res->pruned > cp.size - cp.size % TLOG_TILE_WIDTH) {
		finding(res, "the log says entries below %llu were pruned, past its full bundles (size %llu)",
			(unsigned long long)res->pruned, (unsigned long long)cp.size);
		res->pruned = cp.size - cp.size % TLOG_TILE_WIDTH;
	}
	for (n = 0; n < nb; n++) {
		unsigned w = tlog_tile_width(TLOG_TILE_ENTRIES, n, cp.size), i;
		uint8_t *bundle = NULL;
		struct bw_err berr = { 0 };

		if (n < res->pruned / TLOG_TILE_WIDTH) {
			/* a pruned bundle: its leaf hashes from the level-0 tile; the levels above check them */
			if (tlog_tiles_read_tile(a.t, 0, n, TLOG_TILE_WIDTH, a.tile, &berr) != 0) {
				finding(res, "%s", berr.msg);
				break;
			}
			for (i = 0; i < TLOG_TILE_WIDTH; i++) {
				if (have_trusted)
					check_trusted(&a, &f, &tcp);
				memcpy(leaf.b, a.tile + (size_t)i * TLOG_HASH_SIZE, TLOG_HASH_SIZE);
				if ((r = tlog_frontier_append(&f, a.h, &leaf, audit_node, &a, err)) != 0)
					goto out;
			}
			res->checked = f.size;
			continue;
		}
		if (tlog_tiles_read_bundle(a.t, n, w, &bundle, offs, lens, &berr) != 0) {
			finding(res, "%s", berr.msg);
			break;
		}
		for (i = 0; i < w; i++) {
			if (have_trusted)
				check_trusted(&a, &f, &tcp);
			tlog_hash_leaf(a.h, bundle + offs[i], lens[i], &leaf);
			if ((r = tlog_frontier_append(&f, a.h, &leaf, audit_node, &a, err)) != 0) {
				free(bundle);
				goto out;
			}
		}
		free(bundle);
		res->checked = f.size;
		if (progress != NULL && (n % 256 == 255 || n + 1 == nb))
			progress(progress_ctx, f.size, cp.size);
	}
	if (bw_sha256_failed(a.h)) {
		r = bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
		goto out;
	}
	if (res->checked == cp.size) {
		tlog_frontier_root(&f, a.h, &root);
		res->root_ok = tlog_hash_equal(&root, &cp.root);
		if (!res->root_ok)
			finding(res, "the entries give another root than the checkpoint at size %llu",
				(unsigned long long)cp.size);
		if (have_trusted && f.size == tcp.size) {
			if (!tlog_hash_equal(&root, &tcp.root))
				finding(res, "fork: the log has the trusted checkpoint's size %llu but another root",
					(unsigned long long)tcp.size);
			else
				res->trusted_ok = true;
		}
	} else {
		finding(res, "only entries 0..%llu of %llu could be read",
			(unsigned long long)(res->checked ? res->checked - 1 : 0),
			(unsigned long long)cp.size);
	}
	if (have_trusted && !res->trusted_ok && tcp.size <= res->checked && res->nfindings == 0)
		finding(res, "the trusted checkpoint could not be matched");
	r = res->nfindings > 0 || res->more_findings > 0 ? BW_EVERIFY : 0;
	if (r != 0)
		bw_err_set(err, r, "audit found %zu problem(s)", res->nfindings + res->more_findings);
out:
	tlog_checkpoint_clear(&cp);
	tlog_checkpoint_clear(&tcp);
	tlog_tiles_free(a.t);
	bw_sha256_free(a.h);
	return r;
}
