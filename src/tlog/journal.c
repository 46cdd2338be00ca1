/*
 * tlog/journal.c: the sequencing journal. An append is acknowledged once its
 * record is durable here (one write and one fdatasync per group), long
 * before the tiles and checkpoint that integrate it. Each record is
 *
 *   index (8 bytes, big-endian) | length (2 bytes, big-endian) | entry | check (8 bytes)
 *
 * where check is the first 8 bytes of SHA-256("bulwark journal v1" ||
 * index || length || entry). The journal is emptied once a durable
 * checkpoint covers every record in it; opening the log replays what it
 * holds past the checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

#define JOURNAL_FILE "journal"
#define REC_HEAD 10
#define REC_CHECK 8
#define JOURNAL_MAX ((uint64_t)1 << 40)	/* refuse to replay a journal larger than this (corrupt) */

struct tlog_journal {
	int fd;
	char *path;
	struct bw_buf pending;		/* framed records not yet written */
	struct bw_sha256 *h;
};

static void
record_check(struct bw_sha256 *h, const uint8_t *head, const void *entry, size_t len, uint8_t out[REC_CHECK])
{
	static const char tag[] = "bulwark journal v1";
	uint8_t d[32];

	bw_sha256_init(h);
	bw_sha256_update(h, tag, sizeof tag - 1);
	bw_sha256_update(h, head, REC_HEAD);
	bw_sha256_update(h, entry, len);
	bw_sha256_final(h, d);
	memcpy(out, d, REC_CHECK);
}

int
tlog_journal_open(const char *dir, struct tlog_journal **out, struct bw_err *err)
{
	struct tlog_journal *j = calloc(1, sizeof *j);
	size_t n = strlen(dir) + sizeof JOURNAL_FILE + 1;
	int r;

	*out = NULL;
	if (j == NULL || (j->path = malloc(n)) == NULL) {
		free(j);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	snprintf(j->path, n, "%s/%s", dir, JOURNAL_FILE);
	if ((r = bw_sha256_new(&j->h, err)) != 0) {
		free(j->path);
		free(j);
		return r;
	}
	if ((j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		r = bw_err_set(err, BW_EIO, "cannot open %s: %s", j->path, strerror(errno));
		tlog_journal_close(j);
		return r;
	}
	*out = j;
	return 0;
}

void
tlog_journal_close(struct tlog_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	bw_buf_free(&j->pending);
	bw_sha256_free(j->h);
	free(j->path);
	free(j);
}

int
tlog_journal_add(struct tlog_journal *j, uint64_t index, const void *entry, size_t len)
{
	uint8_t head[REC_HEAD], check[REC_CHECK];
	int i;

	for (i = 0; i < 8; i++)
		head[i] = (uint8_t)(index >> (56 - 8 * i));
	head[8] = (uint8_t)(len >> 8);
	head[9] = (uint8_t)len;
	record_check(j->h, head, entry, len, check);
	if (bw_buf_append(&j->pending, head, sizeof head) != 0 || bw_buf_append(&j->pending, entry, len) != 0 ||
	    bw_buf_append(&j->pending, check, sizeof check) != 0)
		return BW_ENOMEM;
	return 0;
}

void
tlog_journal_take(struct tlog_journal *j, struct bw_buf *out)
{
	*out = j->pending;
	memset(&j->pending, 0, sizeof j->pending);
}

int
tlog_journal_write(struct tlog_journal *j, const struct bw_buf *group, struct bw_err *err)
{
	if (group->len == 0)
		return 0;
	if (bw_write_all(j->fd, group->data, group->len) != 0 || fdatasync(j->fd) != 0)
		return bw_err_set(err, BW_EIO, "journal %s: %s", j->path, strerror(errno));
	return 0;
}

void
tlog_journal_drop_pending(struct tlog_journal *j)
{
	j->pending.len = 0;
}

int
tlog_journal_reset(struct tlog_journal *j, struct bw_err *err)
{
	/* Every record is covered by a durable checkpoint now; a crash before this lands is harmless (replay skips them). */
	if (ftruncate(j->fd, 0) != 0)
		return bw_err_set(err, BW_EIO, "journal %s: cannot empty it: %s", j->path, strerror(errno));
	return 0;
}

/* Copies the journal's bytes from off to its end into path (the evidence of a torn or damaged tail). */
static int
save_tail(struct tlog_journal *j, uint64_t off, uint64_t size, const char *path, struct bw_err *err)
{
	uint8_t buf[65536];
	uint64_t at = off;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), r = 0;

	if (fd < 0)
		return bw_err_set(err, BW_EIO, "cannot create %s: %s", path, strerror(errno));
	while (r == 0 && at < size) {
		size_t want = size - at < sizeof buf ? (size_t)(size - at) : sizeof buf;
		ssize_t got = pread(j->fd, buf, want, (off_t)at);
		if (got <= 0 || bw_write_all(fd, buf, (size_t)got) != 0)
			r = bw_err_set(err, BW_EIO, "cannot copy the journal tail to %s", path);
		at += got > 0 ? (uint64_t)got : 0;
	}
	if (r == 0 && fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

int
tlog_journal_replay(struct tlog_journal *j, uint64_t from, tlog_journal_fn fn, void *ctx, const char *tail_path,
		    bool *tail_set_aside, struct bw_err *err)
{
	off_t end = lseek(j->fd, 0, SEEK_END);
	uint64_t size, off = 0, expect = from;
	uint8_t head[REC_HEAD], check[REC_CHECK], want[REC_CHECK], *entry = NULL;
	bool first = true;
	int r = 0;

	*tail_set_aside = false;
	if (end < 0)
		return bw_err_set(err, BW_EIO, "journal %s: %s", j->path, strerror(errno));
	size = (uint64_t)end;
	if (size > JOURNAL_MAX)
		return bw_err_set(err, BW_ECORRUPT, "journal %s is larger than any real journal", j->path);
	if ((entry = malloc(TLOG_ENTRY_MAX)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	while (off < size) {
		uint64_t index = 0;
		size_t len;
		int i;
		if (size - off < REC_HEAD || pread(j->fd, head, REC_HEAD, (off_t)off) != REC_HEAD)
			break;	/* torn */
		for (i = 0; i < 8; i++)
			index = index << 8 | head[i];
		len = (size_t)head[8] << 8 | head[9];
		if (len == 0 || size - off < REC_HEAD + len + REC_CHECK ||
		    pread(j->fd, entry, len, (off_t)(off + REC_HEAD)) != (ssize_t)len ||
		    pread(j->fd, check, REC_CHECK, (off_t)(off + REC_HEAD + len)) != REC_CHECK)
			break;	/* torn */
		record_check(j->h, head, entry, len, want);
		if (memcmp(check, want, REC_CHECK) != 0)
			break;	/* damaged: everything from here is set aside */
		/* Records older than the checkpoint were integrated before the journal was emptied. */
		if (first && index > expect) {
			r = bw_err_set(err, BW_ECORRUPT, "journal %s starts at entry %llu but the checkpoint ends at %llu: "
				       "entries are missing", j->path, (unsigned long long)index, (unsigned long long)expect);
			goto out;
		}
		first = false;
		if (index >= expect) {
			if (index != expect) {
				r = bw_err_set(err, BW_ECORRUPT, "journal %s: entry %llu follows %llu", j->path,
					       (unsigned long long)index, (unsigned long long)expect - 1);
				goto out;
			}
			if ((r = fn(ctx, index, entry, len, err)) != 0)
				goto out;
			expect++;
		}
		off += REC_HEAD + len + REC_CHECK;
	}
	if (off < size) {
		/* A torn or damaged tail: never acknowledged (each group is synced before its acknowledgement). Kept aside. */
		if ((r = save_tail(j, off, size, tail_path, err)) != 0)
			goto out;
		if (ftruncate(j->fd, (off_t)off) != 0 || fdatasync(j->fd) != 0) {
			r = bw_err_set(err, BW_EIO, "journal %s: cannot cut the torn tail: %s", j->path, strerror(errno));
			goto out;
		}
		*tail_set_aside = true;
	}
out:
	free(entry);
	return r;
}
