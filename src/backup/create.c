/*
 * backup/create.c: a data directory copied, while its server runs, into one
 * encrypted backup file (backup.h gives the format).
 *
 * Order matters for consistency: the databases are copied first (each one
 * state, SQLite's online backup), then each log as of a checkpoint read
 * after them with every entry acknowledged past it, so the log holds every
 * event the databases' state was recorded with. Files written by rename
 * (sealed keys, samples, patch metadata) are copied as they are.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "backup_internal.h"
#include "crypto/crypto.h"
#include "instance/instance.h"
#include "note/note.h"
#include "store/store.h"
#include "tlog/tlog.h"

#define COPY_BUF 65536
#define SNAPSHOT_DIR_PREFIX ".backup-"	/* DATA/.backup-XXXXXX: the databases' copies while a backup runs */
#define WALK_DEPTH 16

struct writer {
	struct archive *a;
	struct bw_stream_writer *w;
	struct bw_sha256 *h;
	json_t *files;			/* the manifest's */
	const char *prefix;		/* of the members a log snapshot puts ("log/") */
	struct bw_err cb_err;		/* a failure inside libarchive's write callback */
	uint64_t nfiles, bytes;
	uint8_t *buf;
};

static la_ssize_t
write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct writer *wr = ctx;

	(void)a;
	if (bw_stream_writer_add(wr->w, buf, n, &wr->cb_err) != 0)
		return -1;
	return (la_ssize_t)n;
}

static int
archive_fail(struct writer *wr, const char *what, struct bw_err *err)
{
	if (wr->cb_err.code != 0)
		return bw_err_set(err, wr->cb_err.code, "%s: %s", what, wr->cb_err.msg);
	return bw_err_set(err, BW_EIO, "%s: %s", what, archive_error_string(wr->a));
}

static int
entry_begin(struct writer *wr, const char *name, uint64_t size, struct bw_err *err)
{
	struct archive_entry *e = archive_entry_new();
	int rc;

	if (e == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (!backup_member_name_ok(name)) {
		archive_entry_free(e);
		return bw_err_set(err, BW_EINVAL, "%s: a file name a backup cannot hold (letters, digits, . _ - only)",
				  name);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, (time_t)(bw_now_ms() / 1000), 0);
	rc = archive_write_header(wr->a, e);
	archive_entry_free(e);
	bw_sha256_init(wr->h);
	return rc == ARCHIVE_OK ? 0 : archive_fail(wr, name, err);
}

static int
entry_data(struct writer *wr, const char *name, const void *p, size_t n, struct bw_err *err)
{
	const uint8_t *q = p;

	bw_sha256_update(wr->h, p, n);
	while (n > 0) {
		la_ssize_t k = archive_write_data(wr->a, q, n);
		if (k <= 0)
			return archive_fail(wr, name, err);
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
entry_end(struct writer *wr, const char *name, uint64_t size, struct bw_err *err)
{
	uint8_t sum[32];
	char hex[65];

	bw_sha256_final(wr->h, sum);
	if (bw_sha256_failed(wr->h))
		return bw_err_set(err, BW_ECRYPTO, "%s: SHA-256 failed", name);
	bw_hex_encode(hex, sum, sizeof sum);
	if (json_array_append_new(wr->files, json_pack("{s:s, s:I, s:s}", "path", name, "size", (json_int_t)size,
						       "sha256", hex)) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	wr->nfiles++;
	wr->bytes += size;
	return 0;
}

static int
add_bytes(struct writer *wr, const char *name, const void *p, size_t n, struct bw_err *err)
{
	int r;

	if ((r = entry_begin(wr, name, n, err)) != 0 || (r = entry_data(wr, name, p, n, err)) != 0)
		return r;
	return entry_end(wr, name, n, err);
}

/* Adds the regular file at path as member name: exactly the size it had when opened. */
static int
add_file(struct writer *wr, const char *name, const char *path, struct bw_err *err)
{
	struct stat st;
	uint64_t left;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bw_err_set(err, BW_EINVAL, "%s: not a regular file", path);
	}
	left = (uint64_t)st.st_size;
	r = entry_begin(wr, name, left, err);
	while (r == 0 && left > 0) {
		ssize_t got = read(fd, wr->buf, left < COPY_BUF ? (size_t)left : COPY_BUF);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			r = bw_err_set(err, BW_EIO, "%s: %s", path,
				       got == 0 ? "shrank while it was copied (written in place by something?)" : strerror(errno));
		else {
			r = entry_data(wr, name, wr->buf, (size_t)got, err);
			left -= (uint64_t)got;
		}
	}
	close(fd);
	return r == 0 ? entry_end(wr, name, (uint64_t)st.st_size, err) : r;
}

/* ---- what is copied ------------------------------------------------------------- */

static const char *const databases[] = { INSTANCE_DB, INSTANCE_HOSTDB, INSTANCE_WITNESS_DB };
static const char *const log_dirs[] = { INSTANCE_LOG_DIR, INSTANCE_HOSTLOG_DIR };

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Files the walk leaves out: copied their own way, or not worth a restore (temporaries, locks). */
static bool
skipped(const char *rel, const char *name)
{
	bool top = strchr(rel, '/') == NULL;

	if (top) {
		for (size_t i = 0; i < sizeof databases / sizeof *databases; i++) {
			size_t k = strlen(databases[i]);
			if (strncmp(name, databases[i], k) == 0 &&
			    (name[k] == '\0' || strcmp(name + k, "-wal") == 0 || strcmp(name + k, "-shm") == 0 ||
			     strcmp(name + k, "-journal") == 0))
				return true;
		}
		for (size_t i = 0; i < sizeof log_dirs / sizeof *log_dirs; i++)
			if (strcmp(name, log_dirs[i]) == 0)
				return true;
		if (strcmp(name, INSTANCE_KEK) == 0 || strncmp(name, SNAPSHOT_DIR_PREFIX, strlen(SNAPSHOT_DIR_PREFIX)) == 0)
			return true;
	}
	return strncmp(name, ".upload-", 8) == 0 || has_suffix(name, ".tmp") || strcmp(name, TLOG_LOCK_FILE) == 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every file under data/rel ("" for data itself), in name order, but the skipped ones. */
static int
walk(struct writer *wr, const char *data, const char *rel, int depth, struct bw_err *err)
{
	char dir[4096], **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > WALK_DEPTH)
		return bw_err_set(err, BW_EINVAL, "%s/%s: directories nested deeper than %d", data, rel, WALK_DEPTH);
	snprintf(dir, sizeof dir, "%s%s%s", data, *rel ? "/" : "", rel);
	if ((d = opendir(dir)) == NULL)
		return bw_err_set(err, BW_EIO, "%s: %s", dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **q = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof *q);
			if (q == NULL) {
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
				break;
			}
			names = q;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char sub[4096], path[4096];
		struct stat st;
		if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= sizeof sub ||
		    (size_t)snprintf(path, sizeof path, "%s/%s", data, sub) >= sizeof path) {
			r = bw_err_set(err, BW_ERANGE, "%s/%s: path too long", dir, names[i]);
			break;
		}
		if (skipped(sub, names[i]))
			continue;
		if (lstat(path, &st) != 0) {
			if (errno != ENOENT)	/* gone meanwhile (a temporary renamed away): nothing to copy */
				r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode))
			r = walk(wr, data, sub, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			r = add_file(wr, sub, path, err);
		else
			r = bw_err_set(err, BW_EINVAL, "%s: not a regular file or directory (a backup holds no links or "
					"devices)", path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int
add_databases(struct writer *wr, const char *data, const char *tmpdir, struct bw_err *err)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof databases / sizeof *databases; i++) {
		char src[4096], dst[4096];
		snprintf(src, sizeof src, "%s/%s", data, databases[i]);
		snprintf(dst, sizeof dst, "%s/%s", tmpdir, databases[i]);
		if (access(src, F_OK) != 0)
			continue;	/* witness.db and hostevents.db come with their first use */
		if ((r = db_snapshot(src, dst, err)) == 0)
			r = add_file(wr, databases[i], dst, err);
		unlink(dst);
	}
	return r;
}

static int
put_log_file(void *ctx, const char *rel, const void *data, size_t len, struct bw_err *err)
{
	struct writer *wr = ctx;
	char name[4096];

	snprintf(name, sizeof name, "%s/%s", wr->prefix, rel);
	return add_bytes(wr, name, data, len, err);
}

static int
add_log(struct writer *wr, const char *data, const char *dirname, struct backup_log_info *li, json_t *logs,
	struct bw_err *err)
{
	struct tlog_snapshot_info info = { 0 };
	struct note_verifier *v = NULL;
	char dir[4096], path[4200];
	int r;

	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", data, dirname) >= sizeof dir)
		return bw_err_set(err, BW_ERANGE, "%s: path too long", data);
	if ((r = tlog_vkey_load(dir, &v, err)) != 0)
		goto out;
	wr->prefix = dirname;
	if ((r = tlog_snapshot(dir, v, put_log_file, wr, &info, err)) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/discarded", dir);
	if (access(path, F_OK) == 0) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/discarded", dirname);
		if ((r = walk(wr, data, rel, 1, err)) != 0)
			goto out;
	}
	snprintf(li->dir, sizeof li->dir, "%s", dirname);
	li->size = info.size;
	li->acknowledged = info.acknowledged;
	if (json_array_append_new(logs, json_pack("{s:s, s:I, s:I, s:s%}", "dir", dirname, "size", (json_int_t)info.size,
						  "acknowledged", (json_int_t)info.acknowledged, "checkpoint",
						  info.checkpoint, info.checkpoint_len)) != 0)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	tlog_snapshot_info_clear(&info);
	note_verifier_free(v);
	return r;
}

static int
add_manifest(struct writer *wr, json_t *logs, bool kek, struct bw_err *err)
{
	char created[BW_TIME_TEXT_MAX], *text;
	json_t *m;
	int r;

	bw_time_format_ms(bw_now_ms(), created);
	m = json_pack("{s:s, s:s, s:b, s:O, s:O}", "format", BACKUP_FORMAT, "created", created, "kek_included", kek,
		      "logs", logs, "files", wr->files);
	if (m == NULL || (text = json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL) {
		json_decref(m);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	json_decref(m);
	r = entry_begin(wr, BACKUP_MANIFEST, strlen(text), err);
	if (r == 0)
		r = entry_data(wr, BACKUP_MANIFEST, text, strlen(text), err);
	free(text);
	return r;
}

/* Everything but the manifest, in the order that keeps it consistent. */
static int
add_all(struct writer *wr, const struct backup_opts *o, const char *tmpdir, struct backup_result *res, json_t *logs,
	struct bw_err *err)
{
	int r;

	if ((r = add_databases(wr, o->data, tmpdir, err)) != 0)
		return r;
	for (size_t i = 0; i < sizeof log_dirs / sizeof *log_dirs; i++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", o->data, log_dirs[i]);
		if (access(dir, F_OK) != 0)
			continue;
		if ((r = add_log(wr, o->data, log_dirs[i], &res->logs[res->nlogs], logs, err)) != 0)
			return r;
		res->nlogs++;
	}
	if ((r = walk(wr, o->data, "", 0, err)) != 0)
		return r;
	if (o->include_kek) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", o->data, INSTANCE_KEK);
		if (instance_needs_passphrase(o->data))
			return bw_err_set(err, BW_EINVAL, "--include-kek: this data directory's key-encryption key is "
					  "derived from its passphrase; there is no key file to include");
		if ((r = add_file(wr, INSTANCE_KEK, path, err)) != 0)
			return r;
		res->kek_included = true;
	}
	return 0;
}

int
backup_prefix(const char *json, struct bw_buf *out)
{
	size_t n = strlen(json);
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	if (bw_buf_append(out, BACKUP_MAGIC, strlen(BACKUP_MAGIC)) != 0 || bw_buf_append(out, len, 4) != 0 ||
	    bw_buf_append(out, json, n) != 0)
		return BW_ENOMEM;
	return 0;
}

int
backup_create(const struct backup_opts *o, struct backup_result *res, struct bw_err *err)
{
	struct writer wr = { 0 };
	struct bw_buf prefix = { 0 };
	char db[4096], tmp[4200], tmpdir[4200], *json = NULL;
	uint8_t *key = NULL;
	json_t *logs = json_array();
	struct stat st;
	int r;

	memset(res, 0, sizeof *res);
	tmpdir[0] = '\0';
	snprintf(db, sizeof db, "%s/%s", o->data, INSTANCE_DB);
	/* The databases' copies are plaintext: they wait beside the databases, never where the backup goes. */
	snprintf(tmpdir, sizeof tmpdir, "%s/" SNAPSHOT_DIR_PREFIX "XXXXXX", o->data);
	snprintf(tmp, sizeof tmp, "%s.partial", o->out);
	if (access(db, F_OK) != 0) {
		r = bw_err_set(err, BW_ENOTFOUND, "%s holds no bulwark instance", o->data);
		tmpdir[0] = '\0';
		goto out;
	}
	if (lstat(o->out, &st) == 0) {
		r = bw_err_set(err, BW_EEXIST, "%s exists already (a backup never overwrites a file)", o->out);
		tmpdir[0] = '\0';
		goto out;
	}
	if (mkdtemp(tmpdir) == NULL) {
		r = bw_err_set(err, BW_EIO, "%s: %s", tmpdir, strerror(errno));
		tmpdir[0] = '\0';
		goto out;
	}
	if (logs == NULL || (wr.files = json_array()) == NULL || (wr.buf = malloc(COPY_BUF)) == NULL ||
	    (key = bw_secure_alloc(BACKUP_KEY_SIZE)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = bw_sha256_new(&wr.h, err)) != 0 || (r = backup_header_make(&o->key, &json, key, err)) != 0)
		goto out;
	if (backup_prefix(json, &prefix) != 0) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = bw_stream_writer_open_after(key, tmp, prefix.data, prefix.len, &wr.w, err)) != 0)
		goto out;
	if ((wr.a = archive_write_new()) == NULL || archive_write_set_format_pax_restricted(wr.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(wr.a) != ARCHIVE_OK ||
	    archive_write_open2(wr.a, &wr, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
		r = wr.a == NULL ? bw_err_set(err, BW_ENOMEM, "out of memory") : archive_fail(&wr, "backup", err);
		goto out;
	}
	if ((r = add_all(&wr, o, tmpdir, res, logs, err)) != 0 || (r = add_manifest(&wr, logs, res->kek_included, err)) != 0)
		goto out;
	if (archive_write_close(wr.a) != ARCHIVE_OK) {
		r = archive_fail(&wr, "backup", err);
		goto out;
	}
	r = bw_stream_writer_finish(wr.w, prefix.data, prefix.len, o->out, err);
	wr.w = NULL;
	if (r == 0 && stat(o->out, &st) == 0)
		res->out_bytes = (uint64_t)st.st_size;
	res->files = wr.nfiles;
	res->bytes = wr.bytes;
out:
	if (wr.a != NULL)
		archive_write_free(wr.a);
	bw_stream_writer_abort(wr.w);	/* the partial file goes */
	if (tmpdir[0] != '\0')
		backup_remove_tree(tmpdir);
	if (key != NULL)
		bw_secure_free(key);
	bw_sha256_free(wr.h);
	json_decref(wr.files);
	json_decref(logs);
	bw_buf_free(&prefix);
	free(json);
	free(wr.buf);
	return r;
}
