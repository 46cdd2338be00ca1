/*
 * backup/restore.c: a backup file restored into an empty directory, checked
 * whole before the directory appears (backup.h says what is checked).
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

#include "backup_internal.h"
#include "crypto/crypto.h"
#include "instance/instance.h"
#include "note/note.h"
#include "tlog/tlog.h"

#define READ_BUF 65536

struct reader {
	struct bw_stream_reader *sr;
	struct bw_err cb_err;		/* a failure inside libarchive's read callback */
	uint8_t *buf;
};

static la_ssize_t
read_cb(struct archive *a, void *ctx, const void **out)
{
	struct reader *rd = ctx;
	size_t n = 0;

	(void)a;
	*out = rd->buf;
	if (bw_stream_reader_read(rd->sr, rd->buf, READ_BUF, &n, &rd->cb_err) != 0)
		return -1;
	return (la_ssize_t)n;
}

struct got {
	struct backup_manifest_file *v;
	size_t n, cap;
};

static int
archive_fail(struct archive *a, struct reader *rd, const char *what, struct bw_err *err)
{
	if (rd->cb_err.code != 0)
		return bw_err_set(err, rd->cb_err.code, "%s: %s", what, rd->cb_err.msg);
	return bw_err_set(err, BW_EINVAL, "%s: %s", what, archive_error_string(a));
}

/* Writes the current member to root/name (a new file; its parents made), hashing it. */
static int
extract(struct archive *a, struct reader *rd, const char *root, const char *name, struct bw_sha256 *h,
	struct got *got, struct bw_err *err)
{
	char path[4400], parent[4400], *slash;
	struct backup_manifest_file *f;
	uint64_t size = 0;
	int fd, r = 0;

	snprintf(path, sizeof path, "%s/%s", root, name);
	snprintf(parent, sizeof parent, "%s", path);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if ((r = bw_mkdir_p(parent, 0700, err)) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return bw_err_set(err, errno == EEXIST ? BW_EINVAL : BW_EIO, "%s: %s", name,
				  errno == EEXIST ? "the archive holds it twice" : strerror(errno));
	bw_sha256_init(h);
	for (;;) {
		la_ssize_t k = archive_read_data(a, rd->buf + READ_BUF, READ_BUF);
		if (k == 0)
			break;
		if (k < 0) {
			r = archive_fail(a, rd, name, err);
			break;
		}
		bw_sha256_update(h, rd->buf + READ_BUF, (size_t)k);
		if (bw_write_all(fd, rd->buf + READ_BUF, (size_t)k) != 0) {
			r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		size += (uint64_t)k;
	}
	if (r == 0 && fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	close(fd);
	if (r != 0)
		return r;
	if (got->n == got->cap) {
		struct backup_manifest_file *q = realloc(got->v, (got->cap = got->cap ? got->cap * 2 : 64) * sizeof *q);
		if (q == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		got->v = q;
	}
	f = &got->v[got->n];
	if ((f->path = strdup(name)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	f->size = size;
	bw_sha256_final(h, f->sha256);
	got->n++;
	return 0;
}

/* Reads the manifest member into memory (at most BACKUP_MANIFEST_MAX bytes). */
static int
read_manifest(struct archive *a, struct reader *rd, struct bw_buf *out, struct bw_err *err)
{
	for (;;) {
		la_ssize_t k = archive_read_data(a, rd->buf + READ_BUF, READ_BUF);
		if (k == 0)
			return 0;
		if (k < 0)
			return archive_fail(a, rd, BACKUP_MANIFEST, err);
		if (out->len + (size_t)k > BACKUP_MANIFEST_MAX)
			return bw_err_set(err, BW_ERANGE, "%s: larger than %zu bytes", BACKUP_MANIFEST, BACKUP_MANIFEST_MAX);
		if (bw_buf_append(out, rd->buf + READ_BUF, (size_t)k) != 0)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
}

/* Every member, extracted under root; the manifest last (into *manifest). */
static int
extract_all(struct archive *a, struct reader *rd, const char *root, struct got *got, struct bw_buf *manifest,
	    struct bw_err *err)
{
	struct bw_sha256 *h = NULL;
	struct archive_entry *e;
	bool seen_manifest = false;
	int rc, r;

	if ((r = bw_sha256_new(&h, err)) != 0)
		return r;
	while (r == 0 && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (seen_manifest)
			r = bw_err_set(err, BW_EINVAL, "a member follows %s (the manifest must come last)", BACKUP_MANIFEST);
		else if (name == NULL || !backup_member_name_ok(name))
			r = bw_err_set(err, BW_EINVAL, "a member's name is not one a backup holds");
		else if (archive_entry_filetype(e) != AE_IFREG)
			r = bw_err_set(err, BW_EINVAL, "%s: not a regular file", name);
		else if (strcmp(name, BACKUP_MANIFEST) == 0) {
			seen_manifest = true;
			r = read_manifest(a, rd, manifest, err);
		} else
			r = extract(a, rd, root, name, h, got, err);
	}
	if (r == 0 && rc != ARCHIVE_EOF)
		r = archive_fail(a, rd, "the archive", err);
	if (r == 0 && !seen_manifest)
		r = bw_err_set(err, BW_EINVAL, "the archive ends without %s (partial?)", BACKUP_MANIFEST);
	bw_sha256_free(h);
	return r;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct backup_manifest_file *)a)->path, ((const struct backup_manifest_file *)b)->path);
}

/* The members extracted are exactly the manifest's, with its sizes and hashes. */
static int
match_manifest(struct got *got, struct backup_manifest *m, struct bw_err *err)
{
	size_t i = 0, j = 0;

	qsort(got->v, got->n, sizeof *got->v, file_cmp);
	qsort(m->files, m->nfiles, sizeof *m->files, file_cmp);
	while (i < got->n || j < m->nfiles) {
		int c = i == got->n ? 1 : j == m->nfiles ? -1 : strcmp(got->v[i].path, m->files[j].path);
		if (c < 0)
			return bw_err_set(err, BW_EVERIFY, "%s is in the archive but not in its manifest", got->v[i].path);
		if (c > 0)
			return bw_err_set(err, BW_EVERIFY, "%s is in the manifest but missing from the archive (partial?)",
					  m->files[j].path);
		if (j + 1 < m->nfiles && strcmp(m->files[j].path, m->files[j + 1].path) == 0)
			return bw_err_set(err, BW_EVERIFY, "the manifest names %s twice", m->files[j].path);
		if (got->v[i].size != m->files[j].size || bw_memcmp_ct(got->v[i].sha256, m->files[j].sha256, 32) != 0)
			return bw_err_set(err, BW_EVERIFY, "%s: its size or SHA-256 differs from the manifest's", got->v[i].path);
		i++;
		j++;
	}
	return 0;
}

/* Audits each log against the checkpoint the manifest names, and counts its journal's entries. */
static int
check_logs(const char *root, const struct backup_manifest *m, struct restore_result *res, struct bw_err *err)
{
	for (size_t i = 0; i < m->nlogs; i++) {
		struct tlog_audit_result ar;
		struct note_verifier *v = NULL;
		struct tlog_keychain keys;
		char dir[4400];
		uint64_t acked = 0;
		int r;
		snprintf(dir, sizeof dir, "%s/%s", root, m->logs[i].dir);
		if ((r = tlog_vkey_load(dir, &v, err)) != 0)
			return r;
		tlog_keychain_init_key(&keys, v);	/* the key that signs now: the manifest's checkpoint is its */
		r = tlog_audit(dir, &keys, (const uint8_t *)m->logs[i].checkpoint, strlen(m->logs[i].checkpoint), NULL, NULL,
			       &ar, err);
		tlog_keychain_clear(&keys);
		if (r == BW_EVERIFY)
			return bw_err_set(err, BW_EVERIFY, "%s: the log does not verify: %s", m->logs[i].dir,
					  ar.nfindings > 0 ? ar.findings[0] : "(no finding recorded)");
		if (r != 0)
			return r;
		if (ar.size != m->logs[i].size)
			return bw_err_set(err, BW_EVERIFY, "%s: its checkpoint is of size %llu, the manifest's of %llu",
					  m->logs[i].dir, (unsigned long long)ar.size, (unsigned long long)m->logs[i].size);
		if ((r = tlog_journal_count(dir, ar.size, &acked, err)) != 0)
			return r;
		if (acked != m->logs[i].acknowledged)
			return bw_err_set(err, BW_EVERIFY, "%s: %llu acknowledged entries past the checkpoint, the manifest "
					  "says %llu", m->logs[i].dir, (unsigned long long)acked,
					  (unsigned long long)m->logs[i].acknowledged);
		res->logs[res->nlogs] = (struct backup_log_info){ .size = ar.size, .acknowledged = acked };
		snprintf(res->logs[res->nlogs].dir, sizeof res->logs[res->nlogs].dir, "%s", m->logs[i].dir);
		res->nlogs++;
	}
	return 0;
}

/* Puts o->kek in place when given, then opens the sealed keys when a KEK (or the instance passphrase) is at hand. */
static int
check_keys(const struct restore_opts *o, const char *root, const struct backup_manifest *m, struct restore_result *res,
	   struct bw_err *err)
{
	char path[4400];
	struct instance in;
	int r;

	snprintf(path, sizeof path, "%s/%s", root, INSTANCE_KEK);
	if (o->kek != NULL) {
		uint8_t *text = NULL;
		size_t len = 0;
		if (m->kek_included)
			return bw_err_set(err, BW_EINVAL, "--kek: the backup holds its key-encryption key already");
		if ((r = bw_file_read_secret(o->kek, 4096, &text, &len, err)) != 0)
			return r;
		r = bw_file_create_secret(path, text, len, err);
		bw_secure_free(text);
		if (r != 0)
			return r;
	}
	res->kek_present = access(path, F_OK) == 0;
	if (!res->kek_present && (!instance_needs_passphrase(root) || o->instance_passphrase == NULL))
		return 0;	/* nothing to open them with: the server will, when the KEK is put back */
	if ((r = instance_open(root, o->instance_passphrase, &bw_pwhash_default, &in, err)) != 0)
		return bw_err_prefix(err, "the sealed keys do not open");
	instance_close(&in);
	res->keys_checked = true;
	return 0;
}

/* o->data must not exist, or be an empty directory. */
static int
target_ok(const char *data, bool *exists, struct bw_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	*exists = false;
	if (lstat(data, &st) != 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "%s: %s", data, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return bw_err_set(err, BW_EEXIST, "%s exists and is not a directory", data);
	if ((d = opendir(data)) == NULL)
		return bw_err_set(err, BW_EIO, "%s: %s", data, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			return bw_err_set(err, BW_EEXIST, "%s is not empty (a restore only goes into an empty directory)",
					  data);
		}
	closedir(d);
	*exists = true;
	return 0;
}

/* Reads the file's prefix and opens its sealed stream with the key the header yields. */
static int
open_stream(const struct restore_opts *o, int fd, struct reader *rd, struct bw_err *err)
{
	uint8_t head[12], key[BACKUP_KEY_SIZE];
	struct bw_buf prefix = { 0 };
	char *json = NULL;
	uint32_t n;
	int r;

	if (bw_read_all(fd, head, sizeof head) != 0 || memcmp(head, BACKUP_MAGIC, 8) != 0)
		return bw_err_set(err, BW_EINVAL, "%s: not a bulwark backup file", o->in);
	n = (uint32_t)head[8] << 24 | (uint32_t)head[9] << 16 | (uint32_t)head[10] << 8 | head[11];
	if (n == 0 || n > BACKUP_HEADER_MAX)
		return bw_err_set(err, BW_EINVAL, "%s: the header's length is wrong", o->in);
	if ((json = calloc(1, n + 1)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_read_all(fd, json, n) != 0)
		r = bw_err_set(err, BW_EINVAL, "%s: cut short inside its header", o->in);
	else if ((r = backup_header_key(json, n, &o->key, key, err)) == 0) {
		if (backup_prefix(json, &prefix) != 0 || prefix.len != sizeof head + n)
			r = bw_err_set(err, BW_EINVAL, "%s: the header holds a NUL", o->in);
		else
			r = bw_stream_reader_open(key, fd, prefix.data, prefix.len, &rd->sr, err);
		if (r == BW_EVERIFY)
			r = bw_err_prefix(err, "%s", o->in);
	}
	bw_memzero(key, sizeof key);
	bw_buf_free(&prefix);
	free(json);
	return r;
}

int
backup_restore(const struct restore_opts *o, struct restore_result *res, struct bw_err *err)
{
	struct reader rd = { 0 };
	struct got got = { 0 };
	struct bw_buf mtext = { 0 };
	struct backup_manifest m = { 0 };
	struct archive *a = NULL;
	char root[4200], data[4096];
	size_t dl;
	bool exists = false;
	int fd = -1, r;

	memset(res, 0, sizeof *res);
	root[0] = '\0';
	snprintf(data, sizeof data, "%s", o->data);
	while ((dl = strlen(data)) > 1 && data[dl - 1] == '/')
		data[dl - 1] = '\0';
	if ((r = target_ok(data, &exists, err)) != 0)
		return r;
	if ((fd = open(o->in, O_RDONLY | O_CLOEXEC)) < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", o->in, strerror(errno));
	if ((rd.buf = malloc(2 * READ_BUF)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = open_stream(o, fd, &rd, err)) != 0)
		goto out;
	snprintf(root, sizeof root, "%s.restore-XXXXXX", data);
	if (mkdtemp(root) == NULL) {
		r = bw_err_set(err, BW_EIO, "%s: %s", root, strerror(errno));
		root[0] = '\0';
		goto out;
	}
	if ((a = archive_read_new()) == NULL || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, &rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
		r = a == NULL ? bw_err_set(err, BW_ENOMEM, "out of memory") : archive_fail(a, &rd, o->in, err);
		goto out;
	}
	if ((r = extract_all(a, &rd, root, &got, &mtext, err)) != 0)
		goto out;
	/* The rest of the sealed stream must verify to its final chunk (a cut file fails here at the latest). */
	for (;;) {
		size_t n = 0;
		if ((r = bw_stream_reader_read(rd.sr, rd.buf, READ_BUF, &n, err)) != 0)
			goto out;
		if (n == 0)
			break;	/* what libarchive left unread (the compressed stream's end) was authenticated too */
	}
	if (!bw_stream_reader_done(rd.sr)) {
		r = bw_err_set(err, BW_EVERIFY, "%s: the sealed stream did not end where it should", o->in);
		goto out;
	}
	if ((r = backup_manifest_parse(mtext.data, mtext.len, &m, err)) != 0 || (r = match_manifest(&got, &m, err)) != 0 ||
	    (r = check_logs(root, &m, res, err)) != 0 || (r = check_keys(o, root, &m, res, err)) != 0)
		goto out;
	if (exists && rmdir(data) != 0) {
		r = bw_err_set(err, BW_EIO, "%s: %s", data, strerror(errno));
		goto out;
	}
	if (rename(root, data) != 0) {
		r = bw_err_set(err, BW_EIO, "%s -> %s: %s", root, data, strerror(errno));
		goto out;
	}
	root[0] = '\0';
	r = bw_fsync_dir(data, false, err);
	for (size_t i = 0; i < got.n; i++)
		res->bytes += got.v[i].size;
	res->files = got.n;
out:
	if (a != NULL)
		archive_read_free(a);
	if (root[0] != '\0')
		backup_remove_tree(root);
	bw_stream_reader_free(rd.sr);
	for (size_t i = 0; i < got.n; i++)
		free(got.v[i].path);
	free(got.v);
	backup_manifest_clear(&m);
	bw_buf_free(&mtext);
	free(rd.buf);
	close(fd);
	return r;
}

void
backup_remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char sub[4400];
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < sizeof sub)
				backup_remove_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}
