/*
 * Durable log tests: tile paths, bundles, create/append/commit/reopen,
 * proofs read from tiles for every older size (partial-tile fallback),
 * recovery after an interrupted batch, the writer lock, refusal of bad
 * entries, corruption detection at open, and tlog-proof files.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlog/tlog.h"

static char dir[64];

static int
make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/bw_store_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	strcat(dir, "/log");
	return bw_crypto_init(NULL);
}

static int
remove_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 4), dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_tile_paths(void **state)
{
	char p[TLOG_PATH_MAX];

	(void)state;
	tlog_tile_path(p, 0, 0, 256);
	assert_string_equal(p, "tile/0/000");
	tlog_tile_path(p, 0, 1234067, 256);
	assert_string_equal(p, "tile/0/x001/x234/067");
	tlog_tile_path(p, 3, 1234067, 5);
	assert_string_equal(p, "tile/3/x001/x234/067.p/5");
	tlog_tile_path(p, TLOG_TILE_ENTRIES, 1000, 255);
	assert_string_equal(p, "tile/entries/x001/000.p/255");
	tlog_tile_path(p, 1, 999, 0);
	assert_string_equal(p, "tile/1/999");
	assert_int_equal(tlog_tile_width(0, 0, 1000), 256);
	assert_int_equal(tlog_tile_width(0, 3, 1000), 232);
	assert_int_equal(tlog_tile_width(0, 4, 1000), 0);
	assert_int_equal(tlog_tile_width(1, 0, 1000), 3);
	assert_int_equal(tlog_tile_width(1, 0, 65536), 256);
	assert_int_equal(tlog_tile_width(2, 0, 65536), 1);
	assert_int_equal(tlog_tile_width(TLOG_TILE_ENTRIES, 3, 1000), 232);
}

static void
test_bundle_split(void **state)
{
	const uint8_t b[] = { 0, 1, 'a', 0, 2, 'b', 'c' };
	size_t offs[4], lens[4];
	struct bw_err err = { 0 };

	(void)state;
	assert_int_equal(tlog_bundle_split(b, sizeof b, 2, false, offs, lens, &err), 0);
	assert_int_equal(lens[1], 2);
	assert_int_equal(offs[1], 5);
	assert_int_equal(tlog_bundle_split(b, sizeof b, 1, true, offs, lens, &err), 0);
	assert_int_equal(tlog_bundle_split(b, sizeof b, 1, false, offs, lens, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "4 bytes after the last of 1 entries"));
	assert_int_equal(tlog_bundle_split(b, sizeof b, 3, false, offs, lens, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "entry 2"));
	assert_int_equal(tlog_bundle_split(b, 6, 2, false, offs, lens, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "inside the entry"));
	const uint8_t z[] = { 0, 0 };
	assert_int_equal(tlog_bundle_split(z, 2, 1, false, offs, lens, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "zero length"));
}

/* Appends n entries "e<i>" in batches of `batch`, mirroring them in a memstore. */
static void
append_n(struct tlog_store *s, uint64_t from, uint64_t n, uint64_t batch, struct tlog_memstore *m,
	 struct tlog_frontier *f, struct bw_sha256 *h)
{
	struct bw_err err = { 0 };
	uint64_t i, idx;

	for (i = from; i < from + n; i++) {
		char e[32];
		struct tlog_hash leaf;
		int len = snprintf(e, sizeof e, "e%llu", (unsigned long long)i);
		assert_int_equal(tlog_store_append(s, e, (size_t)len, &idx, &err), 0);
		assert_true(idx == i);
		tlog_hash_leaf(h, e, (size_t)len, &leaf);
		assert_int_equal(tlog_frontier_append(f, h, &leaf, tlog_memstore_put, m, &err), 0);
		if ((i + 1 - from) % batch == 0)
			assert_int_equal(tlog_store_commit(s, &err), 0);
	}
	assert_int_equal(tlog_store_commit(s, &err), 0);
	assert_true(tlog_store_size(s) == from + n);
	assert_true(tlog_store_pending(s) == 0);
}

static void
test_append_reopen_and_read_back(void **state)
{
	struct tlog_store *s = NULL;
	struct tlog_memstore *m;
	struct tlog_frontier f;
	struct bw_sha256 *h;
	struct tlog_tiles *t;
	struct bw_err err = { 0 };
	char *vkey = NULL;
	uint64_t size, i;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/store", &vkey, &err), 0);
	assert_non_null(strstr(vkey, "bulwark.test/store+"));
	assert_int_equal(tlog_store_create(dir, "bulwark.test/store", NULL, &err), BW_EEXIST);
	assert_int_equal(bw_sha256_new(&h, &err), 0);
	assert_int_equal(tlog_memstore_new(&m, &err), 0);
	tlog_frontier_init(&f);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 0);
	append_n(s, 0, 700, 37, m, &f, h);
	tlog_store_close(s);
	/* Reopen (recovery path) and keep going across tile boundaries. */
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 700);
	append_n(s, 700, 66000 - 700, 5000, m, &f, h);
	tlog_store_close(s);

	/* Every older size: the tiles (partials superseded, full or wider used) give the same roots and proofs. */
	assert_int_equal(tlog_tiles_open(dir, &t, &err), 0);
	for (size = 1; size <= 66000; size += (size < 1100 ? 1 : 997)) {
		struct tlog_reader rd = tlog_tiles_reader(t, size), mr = tlog_memstore_reader(m);
		struct tlog_hash a, b;
		struct tlog_proof p1, p2;
		uint64_t idx = (size * 7919) % size;
		assert_int_equal(tlog_tree_hash(h, &rd, size, &a, &err), 0);
		assert_int_equal(tlog_tree_hash(h, &mr, size, &b, &err), 0);
		assert_true(tlog_hash_equal(&a, &b));
		assert_int_equal(tlog_prove_inclusion(h, &rd, idx, size, &p1, &err), 0);
		assert_int_equal(tlog_prove_inclusion(h, &mr, idx, size, &p2, &err), 0);
		assert_int_equal(p1.n, p2.n);
		assert_memory_equal(p1.h, p2.h, p1.n * sizeof p1.h[0]);
	}
	/* Entries read back exactly. */
	for (i = 0; i < 66000; i += 311) {
		uint8_t *e;
		size_t len;
		char want[32];
		snprintf(want, sizeof want, "e%llu", (unsigned long long)i);
		assert_int_equal(tlog_tiles_read_entry(t, 66000, i, &e, &len, &err), 0);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(e, want, len);
		free(e);
	}
	assert_int_equal(tlog_tiles_read_entry(t, 66000, 66000, &(uint8_t *){ 0 }, &(size_t){ 0 }, &err),
			 BW_ENOTFOUND);
	/* Level-2 tile exists: 66000 >> 16 = 1 hash. */
	{
		char p[256];
		struct stat st;
		snprintf(p, sizeof p, "%s/tile/2/000.p/1", dir);
		assert_int_equal(stat(p, &st), 0);
		snprintf(p, sizeof p, "%s/tile/0/000.p", dir);	/* superseded partials were removed */
		assert_int_equal(stat(p, &st) == 0 ? 0 : 1, 0);
		snprintf(p, sizeof p, "%s/tile/0/000.p/37", dir);
		assert_int_not_equal(stat(p, &st), 0);
	}
	tlog_tiles_free(t);
	tlog_memstore_free(m);
	bw_sha256_free(h);
	free(vkey);
}

/* A snapshot's put: writes rel under the directory ctx, making its parents. */
static int
put_copy(void *ctx, const char *rel, const void *data, size_t len, struct bw_err *err)
{
	char path[512], cmd[600], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", (const char *)ctx, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
	*slash = '/';
	if (system(cmd) != 0 || (f = fopen(path, "wbx")) == NULL)
		return bw_err_set(err, BW_EIO, "%s: cannot create (twice?)", path);
	fwrite(data, 1, len, f);
	fclose(f);
	return 0;
}

/*
 * A snapshot of a log whose writer holds it open, with entries acknowledged (in the journal) and not yet
 * integrated: the copy holds the checkpoint's tree and those entries, audits, and opening it integrates them.
 */
static void
test_snapshot_of_a_live_log(void **state)
{
	struct tlog_store *s = NULL, *c = NULL;
	struct tlog_memstore *m;
	struct tlog_frontier f;
	struct bw_sha256 *h;
	struct tlog_snapshot_info info;
	struct tlog_audit_result res;
	struct note_verifier *v = NULL;
	struct bw_err err = { 0 };
	char copy[128], cmd[400];
	uint64_t idx, n = 0;
	uint8_t *e;
	size_t len;

	(void)state;
	snprintf(copy, sizeof copy, "%.*s/copy", (int)(strlen(dir) - 4), dir);
	assert_int_equal(tlog_store_create(dir, "bulwark.test/snap", NULL, &err), 0);
	assert_int_equal(bw_sha256_new(&h, &err), 0);
	assert_int_equal(tlog_memstore_new(&m, &err), 0);
	tlog_frontier_init(&f);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	append_n(s, 0, 600, 100, m, &f, h);	/* full tiles and bundles, partial ones, a level-1 tile */
	for (int i = 0; i < 5; i++) {
		char ent[16];
		snprintf(ent, sizeof ent, "late%d", i);
		assert_int_equal(tlog_store_append(s, ent, strlen(ent), &idx, &err), 0);
	}
	assert_int_equal(tlog_store_sequence(s, &err), 0);	/* acknowledged, not integrated */
	assert_true(tlog_store_size(s) == 600 && tlog_store_durable(s) == 605);

	assert_int_equal(tlog_vkey_load(dir, &v, &err), 0);
	assert_int_equal(tlog_snapshot(dir, v, put_copy, copy, &info, &err), 0);
	assert_true(info.size == 600 && info.acknowledged == 5);
	assert_non_null(strstr(info.checkpoint, "bulwark.test/snap\n600\n"));
	tlog_store_close(s);	/* the writer stays untouched by the copy */

	assert_int_equal(tlog_journal_count(copy, 600, &n, &err), 0);
	assert_true(n == 5);
	{
		struct tlog_keychain kc;
		struct note_verifier *v2 = NULL;
		assert_int_equal(tlog_vkey_load(copy, &v2, &err), 0);
		tlog_keychain_init_key(&kc, v2);
		assert_int_equal(tlog_audit(copy, &kc, (const uint8_t *)info.checkpoint, info.checkpoint_len, NULL, NULL, &res, &err), 0);
		tlog_keychain_clear(&kc);
	}
	assert_true(res.size == 600 && res.checked == 600);
	/* with the signer (kept apart from a snapshot), opening the copy integrates the acknowledged entries */
	snprintf(cmd, sizeof cmd, "cp '%s/log.key' '%s/log.key'", dir, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(tlog_store_open(copy, &c, &err), 0);
	assert_true(tlog_store_size(c) == 605);
	tlog_store_close(c);
	{
		struct tlog_tiles *t;
		assert_int_equal(tlog_tiles_open(copy, &t, &err), 0);
		assert_int_equal(tlog_tiles_read_entry(t, 605, 603, &e, &len, &err), 0);
		assert_int_equal(len, 5);
		assert_memory_equal(e, "late3", 5);
		free(e);
		assert_int_equal(tlog_tiles_read_entry(t, 605, 599, &e, &len, &err), 0);
		assert_memory_equal(e, "e599", 4);
		free(e);
		tlog_tiles_free(t);
	}
	/* the original, reopened, holds the same */
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 605);
	tlog_store_close(s);
	tlog_snapshot_info_clear(&info);
	note_verifier_free(v);
	tlog_memstore_free(m);
	bw_sha256_free(h);
}

static void
test_lock_and_bad_entries(void **state)
{
	struct tlog_store *s = NULL, *s2 = NULL;
	struct bw_err err = { 0 };
	static uint8_t big[TLOG_ENTRY_MAX + 1];
	uint64_t idx;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/lock", NULL, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s2, &err), BW_EBUSY);
	assert_non_null(strstr(err.msg, "another writer"));
	assert_null(s2);
	assert_int_equal(tlog_store_append(s, "", 0, &idx, &err), BW_ERANGE);
	assert_int_equal(tlog_store_append(s, big, sizeof big, &idx, &err), BW_ERANGE);
	assert_non_null(strstr(err.msg, "65536 bytes"));
	assert_int_equal(tlog_store_append(s, big, TLOG_ENTRY_MAX, &idx, &err), 0);	/* max is fine */
	assert_int_equal(tlog_store_commit(s, &err), 0);
	assert_true(tlog_store_size(s) == 1);
	tlog_store_close(s);
	assert_int_equal(tlog_store_open(dir, &s2, &err), 0);	/* lock released on close */
	tlog_store_close(s2);
}

static int
exists(const char *rel)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return stat(p, &st) == 0;
}

/* Writes dir/rel with text. */
static void
put_file(const char *rel, const char *text)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
test_recovery_discards_uncommitted(void **state)
{
	struct tlog_store *s = NULL;
	struct bw_err err = { 0 };
	uint64_t i, idx;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/recover", NULL, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	for (i = 0; i < 300; i++)
		assert_int_equal(tlog_store_append(s, "committed", 9, &idx, &err), 0);
	assert_int_equal(tlog_store_commit(s, &err), 0);
	/* Appended, never sequenced: lost with the process. */
	for (i = 0; i < 600; i++)
		assert_int_equal(tlog_store_append(s, "lost", 4, &idx, &err), 0);
	tlog_store_close(s);
	/*
	 * Leftovers an integration cut short could leave: full tiles past the
	 * checkpoint, a wider partial and a checkpoint temp file.
	 */
	{
		char p[256];
		put_file("tile/entries/001", "an entry bundle never committed");
		put_file("tile/0/002", "a tile never committed");
		snprintf(p, sizeof p, "%s/tile/0/003.p", dir);
		assert_int_equal(mkdir(p, 0755), 0);
		put_file("tile/0/003.p/9", "junk");
		put_file("checkpoint.tmp", "");
	}
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 300);
	assert_false(exists("tile/entries/001"));
	assert_false(exists("tile/0/002"));
	assert_false(exists("tile/0/003.p/9"));
	assert_false(exists("checkpoint.tmp"));
	/* Moved aside, not destroyed: evidence if the checkpoint had been rolled back. */
	{
		const char *where = NULL;
		char p[512];
		struct stat st;
		assert_true(tlog_store_discarded(s, &where) >= 4);
		assert_non_null(strstr(where, "/discarded/"));
		snprintf(p, sizeof p, "%s/tile_entries_001", where);
		assert_int_equal(stat(p, &st), 0);
		snprintf(p, sizeof p, "%s/tile_0_003.p_9", where);
		assert_int_equal(stat(p, &st), 0);
	}
	assert_true(exists("tile/entries/000"));
	assert_true(exists("tile/entries/001.p/44"));
	/* The log continues where the checkpoint left it. */
	assert_int_equal(tlog_store_append(s, "next", 4, &idx, &err), 0);
	assert_true(idx == 300);
	assert_int_equal(tlog_store_commit(s, &err), 0);
	tlog_store_close(s);
	{
		struct note_verifier *v = NULL;
		struct tlog_audit_result res;
		char p[256], *vk;
		uint8_t *data;
		size_t len;
		snprintf(p, sizeof p, "%s/log.vkey", dir);
		assert_int_equal(bw_file_read(p, 4096, &data, &len, &err), 0);
		vk = (char *)data;
		assert_int_equal(note_verifier_parse(vk, len - 1, &v, &err), 0);
		struct tlog_keychain kc;
		tlog_keychain_init_key(&kc, v);
		assert_int_equal(tlog_audit(dir, &kc, NULL, 0, NULL, NULL, &res, &err), 0);
		assert_true(res.checked == 301 && res.root_ok && res.tiles_ok && res.signature_ok);
		tlog_keychain_clear(&kc);
		free(data);
	}
}

static bool
bundle_exists(uint64_t n)
{
	char rel[TLOG_PATH_MAX], p[256];

	tlog_tile_path(rel, TLOG_TILE_ENTRIES, n, TLOG_TILE_WIDTH);
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static void
audit_pruned(uint64_t want_pruned, bool want_ok)
{
	struct note_verifier *v = NULL;
	struct tlog_audit_result res;
	struct bw_err err = { 0 };
	char p[256];
	uint8_t *data;
	size_t len;

	snprintf(p, sizeof p, "%s/log.vkey", dir);
	assert_int_equal(bw_file_read(p, 4096, &data, &len, &err), 0);
	assert_int_equal(note_verifier_parse((char *)data, len - 1, &v, &err), 0);
	struct tlog_keychain kc;
	tlog_keychain_init_key(&kc, v);
	assert_int_equal(tlog_audit(dir, &kc, NULL, 0, NULL, NULL, &res, &err), want_ok ? 0 : BW_EVERIFY);
	assert_true(res.pruned == want_pruned);
	if (want_ok)
		assert_true(res.checked == 700 && res.root_ok && res.tiles_ok);
	tlog_keychain_clear(&kc);
	free(data);
}

/* Retention: whole bundles from the start, the marker first, the tree still audited from the hash tiles. */
static void
test_prune(void **state)
{
	struct tlog_store *s = NULL;
	struct tlog_memstore *m;
	struct tlog_frontier f;
	struct bw_sha256 *h;
	struct bw_err err = { 0 };
	uint64_t had = 99, upto;
	uint8_t *data;
	size_t len;
	char p[256], rel[TLOG_PATH_MAX];
	FILE *fp;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/prune", NULL, &err), 0);
	assert_int_equal(bw_sha256_new(&h, &err), 0);
	assert_int_equal(tlog_memstore_new(&m, &err), 0);
	tlog_frontier_init(&f);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	append_n(s, 0, 700, 100, m, &f, h);
	assert_int_equal(tlog_pruned(dir, &upto, &err), 0);
	assert_true(upto == 0);
	/* not a bundle boundary, past the full bundles, past the tree */
	assert_int_equal(tlog_store_prune(s, 300, NULL, &err), BW_EINVAL);
	assert_int_equal(tlog_store_prune(s, 768, NULL, &err), BW_EINVAL);
	assert_int_equal(tlog_store_prune(s, 256, &had, &err), 0);
	assert_true(had == 0);
	assert_false(bundle_exists(0));
	assert_true(bundle_exists(1));
	tlog_tile_path(rel, 0, 0, TLOG_TILE_WIDTH);
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(access(p, F_OK), 0);	/* the hash tile stays */
	audit_pruned(256, true);
	assert_int_equal(tlog_store_prune(s, 0, NULL, &err), BW_EINVAL);	/* below what is pruned */
	/* a crash after the marker, before the deletion: the same bound again finishes it */
	snprintf(p, sizeof p, "%s/pruned", dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs("512\n", fp);
	fclose(fp);
	assert_true(bundle_exists(1));
	assert_int_equal(tlog_store_prune(s, 512, &had, &err), 0);
	assert_true(had == 512);
	assert_false(bundle_exists(1));
	audit_pruned(512, true);
	/* the log goes on growing after a prune, and reopens */
	append_n(s, 700, 10, 5, m, &f, h);
	tlog_store_close(s);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 710);
	tlog_store_close(s);
	/* a marker that is not a count is refused with its path, one past the log is an audit finding */
	assert_non_null(fp = fopen(p, "w"));
	fputs("12x\n", fp);
	fclose(fp);
	assert_int_equal(tlog_pruned(dir, &upto, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "not a count of pruned entries"));
	assert_int_equal(bw_file_read(p, 64, &data, &len, &err), 0);
	free(data);
	tlog_memstore_free(m);
	bw_sha256_free(h);
}

/* Reads entry index of the integrated log into buf (NUL-terminated). */
static void
read_entry(uint64_t index, char *buf, size_t cap)
{
	struct tlog_tiles *t = NULL;
	struct bw_err err = { 0 };
	struct tlog_checkpoint cp = { 0 };
	uint8_t *data = NULL, *note = NULL;
	size_t len = 0, nlen;
	char p[256];
	struct note_verifier *v = NULL;
	uint8_t *vk;
	size_t vlen;

	snprintf(p, sizeof p, "%s/log.vkey", dir);
	assert_int_equal(bw_file_read(p, 4096, &vk, &vlen, &err), 0);
	assert_int_equal(note_verifier_parse((char *)vk, vlen - 1, &v, &err), 0);
	assert_int_equal(tlog_checkpoint_load(dir, &v, 1, &note, &nlen, &cp, &err), 0);
	assert_int_equal(tlog_tiles_open(dir, &t, &err), 0);
	assert_int_equal(tlog_tiles_read_entry(t, cp.size, index, &data, &len, &err), 0);
	snprintf(buf, cap, "%.*s", (int)len, (char *)data);
	free(data);
	free(note);
	free(vk);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	note_verifier_free(v);
}

/* The path of the log's only journal segment (fails unless there is exactly one). */
static void
journal_segment(char *out, size_t cap)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "journal-", 8) == 0) {
			snprintf(out, cap, "%s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	assert_int_equal(n, 1);
}

/*
 * The sequencing journal: a sequenced entry is acknowledged (durable) before
 * any tile is written; a crash (close without commit) loses nothing
 * acknowledged, opening integrates it; a torn tail is set aside, never
 * replayed; a journal that does not join the checkpoint is refused.
 */
static void
test_journal_sequencing_and_replay(void **state)
{
	struct tlog_store *s = NULL;
	struct bw_err err = { 0 };
	char buf[64], p[512];
	uint64_t i, idx;
	struct stat st;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/journal", NULL, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "integrated %llu", (unsigned long long)i);
		assert_int_equal(tlog_store_append(s, buf, strlen(buf), &idx, &err), 0);
	}
	assert_int_equal(tlog_store_commit(s, &err), 0);
	journal_segment(p, sizeof p);
	assert_non_null(strstr(p, "/journal-00000000000000000000"));	/* named by its first index */
	for (i = 100; i < 400; i++) {
		snprintf(buf, sizeof buf, "sequenced %llu", (unsigned long long)i);
		assert_int_equal(tlog_store_append(s, buf, strlen(buf), &idx, &err), 0);
	}
	assert_true(tlog_store_pending(s) == 300 && tlog_store_durable(s) == 100);
	assert_int_equal(tlog_store_sequence(s, &err), 0);
	assert_true(tlog_store_pending(s) == 0 && tlog_store_durable(s) == 400 && tlog_store_size(s) == 100);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 400 * 18);
	/* Appended, never sequenced: not acknowledged, lost with the process. */
	assert_int_equal(tlog_store_append(s, "unsequenced", 11, &idx, &err), 0);
	tlog_store_close(s);	/* the process dies: no commit */
	/* A torn record after the acknowledged ones (a write the crash cut short). */
	{
		FILE *fp = fopen(p, "a");
		assert_non_null(fp);
		fwrite("\0\0\0\0\0\0\1\x90\0\x20torn", 1, 14, fp);
		fclose(fp);
	}
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 400 && tlog_store_durable(s) == 400);
	{
		const char *where = NULL;
		char tail[600];
		assert_true(tlog_store_discarded(s, &where) >= 1);
		snprintf(tail, sizeof tail, "%s/journal-tail", where);
		assert_int_equal(stat(tail, &st), 0);
		assert_int_equal(st.st_size, 14);	/* the torn bytes, kept as evidence */
	}
	/* Integrated at open: the old segment is gone, sequencing starts a new one at 400. */
	assert_int_equal(stat(p, &st), -1);
	journal_segment(p, sizeof p);
	assert_non_null(strstr(p, "/journal-00000000000000000400"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	tlog_store_close(s);
	read_entry(99, buf, sizeof buf);
	assert_string_equal(buf, "integrated 99");
	read_entry(100, buf, sizeof buf);
	assert_string_equal(buf, "sequenced 100");
	read_entry(399, buf, sizeof buf);
	assert_string_equal(buf, "sequenced 399");

	/* A journal whose records do not start at the checkpoint's end: entries are missing, refuse. */
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_int_equal(tlog_store_append(s, "a", 1, &idx, &err), 0);
	assert_int_equal(tlog_store_append(s, "b", 1, &idx, &err), 0);
	assert_int_equal(tlog_store_sequence(s, &err), 0);
	tlog_store_close(s);
	{
		/* Drop the first record (index 400: 10 + 1 + 8 bytes), keeping index 401. */
		uint8_t *data;
		size_t len;
		assert_int_equal(bw_file_read(p, 4096, &data, &len, &err), 0);
		assert_int_equal(len, 38);
		assert_int_equal(bw_file_write_atomic(p, data + 19, 19, 0644, &err), 0);
		free(data);
	}
	assert_int_equal(tlog_store_open(dir, &s, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "entries are missing"));
}


static int
count_segments(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "journal-", 8) == 0;
	closedir(d);
	return n;
}

/* Appends n entries of 1000 bytes in groups of 1000, each group sequenced (acknowledged). */
static void
sequence_many(struct tlog_store *s, uint64_t n)
{
	struct bw_err err = { 0 };
	char e[1000];
	uint64_t i, idx;

	for (i = 0; i < n; i++) {
		memset(e, 'a' + (int)(i % 26), sizeof e);
		snprintf(e, 32, "%llu", (unsigned long long)tlog_store_durable(s) + tlog_store_pending(s));
		assert_int_equal(tlog_store_append(s, e, sizeof e, &idx, &err), 0);
		if ((i + 1) % 1000 == 0)
			assert_int_equal(tlog_store_sequence(s, &err), 0);
	}
	assert_int_equal(tlog_store_sequence(s, &err), 0);
}

/*
 * Journal segments: a new one starts once the current holds 8 MiB; the
 * integrator removes those a durable checkpoint covers; damage in an older
 * segment (whose records were all acknowledged) refuses the open instead of
 * cutting acknowledged entries off; the single-file journal of older logs
 * is replayed.
 */
static void
test_journal_segments(void **state)
{
	struct tlog_store *s = NULL;
	struct bw_err err = { 0 };
	uint64_t entries, bytes;
	char first[600], buf[64];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	int c;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/segments", NULL, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	sequence_many(s, 20000);	/* ~20 MiB of records */
	assert_int_equal(count_segments(), 3);
	tlog_store_backlog(s, &entries, &bytes);
	assert_true(entries == 20000 && bytes > 20000 * 1000);
	assert_int_equal(tlog_store_integrate(s, &err), 0);
	assert_true(tlog_store_size(s) == 20000);
	tlog_store_backlog(s, &entries, &bytes);
	assert_true(entries == 0 && bytes == 0);
	assert_int_equal(count_segments(), 1);	/* the two covered ones are gone; the current one stays */
	sequence_many(s, 10000);
	tlog_store_close(s);	/* a crash: 10,000 acknowledged, not integrated, over two segments */
	assert_int_equal(count_segments(), 2);

	/* Damage a record in the older segment. */
	first[0] = '\0';
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "journal-", 8) == 0 &&
		    (first[0] == '\0' || strcmp(de->d_name, strrchr(first, '/') + 1) < 0))
			snprintf(first, sizeof first, "%s/%s", dir, de->d_name);
	closedir(d);
	assert_non_null(fp = fopen(first, "r+b"));
	assert_int_equal(fseek(fp, 5000, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, 5000, SEEK_SET), 0);
	fputc(c ^ 0x55, fp);
	fclose(fp);
	assert_int_equal(tlog_store_open(dir, &s, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "a newer segment follows"));
	assert_null(s);
	assert_non_null(fp = fopen(first, "r+b"));
	assert_int_equal(fseek(fp, 5000, SEEK_SET), 0);
	fputc(c, fp);
	fclose(fp);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 30000);

	/* A journal from before segments: LOG/journal. */
	sequence_many(s, 5);
	tlog_store_close(s);
	{
		char seg[600], legacy[600];
		journal_segment(seg, sizeof seg);
		snprintf(legacy, sizeof legacy, "%s/journal", dir);
		assert_int_equal(rename(seg, legacy), 0);
	}
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	assert_true(tlog_store_size(s) == 30005);
	tlog_store_close(s);
	assert_false(exists("journal"));
	read_entry(30004, buf, sizeof buf);
	assert_string_equal(buf, "30004");
}

static void
test_open_detects_corruption(void **state)
{
	struct tlog_store *s = NULL;
	struct bw_err err = { 0 };
	char p[256];
	uint8_t *data;
	size_t len;
	uint64_t i, idx;

	(void)state;
	assert_int_equal(tlog_store_create(dir, "bulwark.test/corrupt", NULL, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	for (i = 0; i < 270; i++)
		assert_int_equal(tlog_store_append(s, "x", 1, &idx, &err), 0);
	assert_int_equal(tlog_store_commit(s, &err), 0);
	tlog_store_close(s);
	/* Alter the last (partial) entry bundle: open must refuse and name it. */
	snprintf(p, sizeof p, "%s/tile/entries/001.p/14", dir);
	assert_int_equal(bw_file_read(p, 1 << 20, &data, &len, &err), 0);
	data[len - 1] = 'y';
	assert_int_equal(bw_file_write_atomic(p, data, len, 0644, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "tile/entries/001.p/14: entry 269"));
	data[len - 1] = 'x';
	assert_int_equal(bw_file_write_atomic(p, data, len, 0644, &err), 0);
	free(data);
	/* Alter a tile on the right edge: the root no longer matches. */
	snprintf(p, sizeof p, "%s/tile/0/001.p/14", dir);
	assert_int_equal(bw_file_read(p, 1 << 20, &data, &len, &err), 0);
	data[0] ^= 1;
	assert_int_equal(bw_file_write_atomic(p, data, len, 0644, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "another root"));
	data[0] ^= 1;
	assert_int_equal(bw_file_write_atomic(p, data, len, 0644, &err), 0);
	free(data);
	/* A checkpoint not signed by the log's key. */
	snprintf(p, sizeof p, "%s/checkpoint", dir);
	assert_int_equal(bw_file_read(p, 1 << 20, &data, &len, &err), 0);
	data[len - 5] = data[len - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(bw_file_write_atomic(p, data, len, 0644, &err), 0);
	assert_int_equal(tlog_store_open(dir, &s, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "checkpoint"));
	free(data);
}

static void
test_proof_file_round_trip(void **state)
{
	struct tlog_proof_file pf = { 0 }, back;
	struct bw_err err = { 0 };
	char *out;
	size_t len;

	(void)state;
	pf.index = 5;
	pf.proof.n = 2;
	memset(pf.proof.h[0].b, 1, 32);
	memset(pf.proof.h[1].b, 2, 32);
	pf.extra = (uint8_t *)strdup("extra information");
	pf.extra_len = 17;
	pf.checkpoint = strdup("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\xe2\x80\x94 o AAAAAAAA\n");
	pf.checkpoint_len = strlen(pf.checkpoint);
	assert_int_equal(tlog_proof_file_format(&pf, &out, &len, &err), 0);
	assert_memory_equal(out, "c2sp.org/tlog-proof@v1\nextra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 5\nAQEB", 60);
	assert_int_equal(tlog_proof_file_parse((uint8_t *)out, len, &back, &err), 0);
	assert_true(back.index == 5 && back.proof.n == 2 && back.extra_len == 17);
	assert_string_equal(back.checkpoint, pf.checkpoint);
	tlog_proof_file_clear(&back);
	free(out);
	tlog_proof_file_clear(&pf);
}

static void
test_proof_file_malformed(void **state)
{
	static const struct { const char *t, *want; } cases[] = {
		{ "", "line 1" },
		{ "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n", "line 1" },
		{ "c2sp.org/tlog-proof@v1\n", "line 2: missing index" },
		{ "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", "line 2: expected \"index N\"" },
		{ "c2sp.org/tlog-proof@v1\nindex -1\n\nx\n", "line 2" },
		{ "c2sp.org/tlog-proof@v1\nindex\n\nx\n", "line 2" },
		{ "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\nx\n", "line 2: extra" },
		{ "c2sp.org/tlog-proof@v1\nextra !!!!\nindex 0\n\nx\n", "line 2: extra" },
		{ "c2sp.org/tlog-proof@v1\nextra AAAA\n", "line 3: missing index" },
		{ "c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\nx\n", "line 3: proof hash" },
		{ "c2sp.org/tlog-proof@v1\nindex 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 4: missing blank" },
		{ "c2sp.org/tlog-proof@v1\nindex 0\n\n", "line 4: missing checkpoint" },
	};
	struct tlog_proof_file pf;
	struct bw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&err, 0, sizeof err);
		if (tlog_proof_file_parse((const uint8_t *)cases[i].t, strlen(cases[i].t), &pf, &err) == 0) {
			tlog_proof_file_clear(&pf);
			fail_msg("case %zu accepted", i);
		}
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tile_paths),
		cmocka_unit_test(test_bundle_split),
		cmocka_unit_test_setup_teardown(test_append_reopen_and_read_back, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_lock_and_bad_entries, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_recovery_discards_uncommitted, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_open_detects_corruption, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_journal_sequencing_and_replay, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_journal_segments, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_prune, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_snapshot_of_a_live_log, make_dir, remove_dir),
		cmocka_unit_test(test_proof_file_round_trip),
		cmocka_unit_test(test_proof_file_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
