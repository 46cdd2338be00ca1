/*
 * tlog/journal.c: the sequencing journal. An append is acknowledged once its
 * record is durable here (one write and one fdatasync per group), long
 * before the tiles and checkpoint that integrate it. Each record is
 *
 *   index (8 bytes, big-endian) | length (2 bytes, big-endian) | entry | check (8 bytes)
 *
 * where check is the first 8 bytes of SHA-256("bulwark journal v1" ||
 * index || length || entry). Records live in segment files
 * LOG/journal-<index of the first record, 20 digits>; a new segment starts
 * (at a group boundary) once the current one holds JOURNAL_SEGMENT bytes,
 * and a segment is removed once a durable checkpoint covers all of its
 * records. A log written before segments existed has one file, LOG/journal,
 * replayed first. Opening the log replays what the segments hold past the
 * checkpoint.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define LEGACY_FILE "journal"
#define SEGMENT_PREFIX "journal-"
#define REC_HEAD 10
#define REC_CHECK 8
#define JOURNAL_SEGMENT ((uint64_t)8 << 20)	/* start a new segment past this many bytes */
#define JOURNAL_MAX ((uint64_t)1 << 40)	/* refuse to replay a segment larger than this (corrupt) */
#define REPLAY_BUF (1u << 20)

struct tlog_journal {
	char *dir;
	int fd;				/* the current segment (sequencer's) */
	uint64_t seg_bytes;		/* bytes written to it (sequencer's) */
	struct bw_buf pending;		/* framed records not yet written (sequencer's) */
	struct bw_sha256 *h;
	pthread_mutex_t mu;		/* guards what follows: the sequencer seals, the integrator releases */
	uint64_t seg_first;		/* first index of the current segment */
	uint64_t *sealed;		/* first index of each older segment, oldest first */
	size_t nsealed, capsealed;
	uint64_t disk_bytes;		/* in all segment files */
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

static int
segment_path(char *out, size_t cap, const char *dir, uint64_t first)
{
	return (size_t)snprintf(out, cap, "%s/" SEGMENT_PREFIX "%020llu", dir, (unsigned long long)first) >= cap
		       ? BW_ERANGE
		       : 0;
}

/* ---- finding the segments -------------------------------------------------- */

struct seg_name {
	uint64_t first;
	bool legacy;
};

static int
seg_cmp(const void *a, const void *b)
{
	const struct seg_name *x = a, *y = b;

	if (x->legacy != y->legacy)
		return x->legacy ? -1 : 1;	/* the single-file journal predates every segment */
	return x->first < y->first ? -1 : x->first > y->first;
}

/* "journal-" and 20 decimal digits (leading zeros included): the first index. */
static bool
parse_segment_name(const char *name, uint64_t *first)
{
	size_t pl = sizeof SEGMENT_PREFIX - 1, i;
	uint64_t v = 0;

	if (strncmp(name, SEGMENT_PREFIX, pl) != 0 || strlen(name) != pl + 20)
		return false;
	for (i = pl; i < pl + 20; i++) {
		unsigned d = (unsigned)(name[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*first = v;
	return true;
}

/* Lists dir's journal files, oldest first. Caller frees *out. */
static int
list_segments(const char *dir, struct seg_name **out, size_t *n, struct bw_err *err)
{
	struct seg_name *v = NULL;
	size_t cap = 0, k = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return bw_err_set(err, BW_EIO, "cannot list %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct seg_name s = { 0 };
		if (strcmp(de->d_name, LEGACY_FILE) == 0)
			s.legacy = true;
		else if (!parse_segment_name(de->d_name, &s.first))
			continue;
		if (k == cap) {
			struct seg_name *q = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *q);
			if (q == NULL) {
				free(v);
				closedir(d);
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			}
			v = q;
		}
		v[k++] = s;
	}
	closedir(d);
	if (k > 1)
		qsort(v, k, sizeof *v, seg_cmp);
	*out = v;
	*n = k;
	return 0;
}

static void
seg_file(char *out, size_t cap, const char *dir, const struct seg_name *s)
{
	if (s->legacy)
		snprintf(out, cap, "%s/" LEGACY_FILE, dir);
	else
		segment_path(out, cap, dir, s->first);
}

/* ---- replay ------------------------------------------------------------------- */

/* Copies fd's bytes from off to its end into path (the evidence of a torn or damaged tail). */
static int
save_tail(int src, uint64_t off, uint64_t size, const char *path, struct bw_err *err)
{
	uint8_t buf[65536];
	uint64_t at = off;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), r = 0;

	if (fd < 0)
		return bw_err_set(err, BW_EIO, "cannot create %s: %s", path, strerror(errno));
	while (r == 0 && at < size) {
		size_t want = size - at < sizeof buf ? (size_t)(size - at) : sizeof buf;
		ssize_t got = pread(src, buf, want, (off_t)at);
		if (got <= 0 || bw_write_all(fd, buf, (size_t)got) != 0)
			r = bw_err_set(err, BW_EIO, "cannot copy the journal tail to %s", path);
		at += got > 0 ? (uint64_t)got : 0;
	}
	if (r == 0 && fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "cannot sync %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

size_t
tlog_journal_record(const uint8_t *p, size_t n, uint64_t *index, const uint8_t **entry, size_t *len)
{
	uint64_t idx = 0;
	size_t l;
	int i;

	if (n < REC_HEAD)
		return 0;
	for (i = 0; i < 8; i++)
		idx = idx << 8 | p[i];
	l = (size_t)p[8] << 8 | p[9];
	if (l == 0 || n < REC_HEAD + l + REC_CHECK)
		return 0;
	*index = idx;
	*entry = p + REC_HEAD;
	*len = l;
	return REC_HEAD + l + REC_CHECK;
}

struct replay {
	const char *path;
	struct bw_sha256 *h;
	uint64_t expect;	/* next index to deliver */
	bool started;		/* a record at or past expect was seen */
	tlog_journal_fn fn;
	void *ctx;
	uint8_t *buf;
};

/*
 * Replays one segment file; *good receives the offset after its last
 * intact record (== its size when it is whole).
 */
static int
replay_file(struct replay *rp, int fd, uint64_t size, uint64_t *good, struct bw_err *err)
{
	uint64_t off = 0;	/* file offset of buf[0] */
	size_t have = 0, at = 0;

	*good = 0;
	for (;;) {
		uint64_t index;
		const uint8_t *entry;
		uint8_t want[REC_CHECK];
		size_t len, n;

		n = tlog_journal_record(rp->buf + at, have - at, &index, &entry, &len);
		if (n == 0) {
			/* Need more bytes: keep the partial record, refill. */
			ssize_t got;
			if (off + have >= size)
				break;	/* end of file (what is left is torn) */
			memmove(rp->buf, rp->buf + at, have - at);
			off += at;
			have -= at;
			at = 0;
			got = pread(fd, rp->buf + have, REPLAY_BUF - have, (off_t)(off + have));
			if (got < 0)
				return bw_err_set(err, BW_EIO, "journal %s: %s", rp->path, strerror(errno));
			if (got == 0)
				break;
			have += (size_t)got;
			continue;
		}
		record_check(rp->h, rp->buf + at, entry, len, want);
		if (memcmp(rp->buf + at + n - REC_CHECK, want, REC_CHECK) != 0)
			break;	/* damaged: everything from here is suspect */
		if (index >= rp->expect) {
			if (index != rp->expect) {
				if (!rp->started)
					return bw_err_set(err, BW_ECORRUPT,
							  "journal %s starts at entry %llu but the checkpoint ends at %llu: "
							  "entries are missing", rp->path, (unsigned long long)index,
							  (unsigned long long)rp->expect);
				return bw_err_set(err, BW_ECORRUPT, "journal %s: entry %llu follows %llu", rp->path,
						  (unsigned long long)index, (unsigned long long)rp->expect - 1);
			}
			int r = rp->fn(rp->ctx, index, entry, len, err);
			if (r != 0)
				return r;
			rp->expect++;
			rp->started = true;
		}
		at += n;
		*good = off + at;
	}
	return 0;
}

int
tlog_journal_replay(const char *dir, uint64_t from, tlog_journal_fn fn, void *ctx, const char *tail_path,
		    bool *tail_set_aside, struct bw_err *err)
{
	struct replay rp = { .expect = from, .fn = fn, .ctx = ctx };
	struct seg_name *segs = NULL;
	char path[4096];
	size_t nsegs = 0, k;
	int fd = -1, r;

	*tail_set_aside = false;
	if ((r = list_segments(dir, &segs, &nsegs, err)) != 0)
		return r;
	if ((r = bw_sha256_new(&rp.h, err)) != 0)
		goto out;
	if ((rp.buf = malloc(REPLAY_BUF)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < nsegs; k++) {
		struct stat st;
		uint64_t good;
		seg_file(path, sizeof path, dir, &segs[k]);
		rp.path = path;
		if ((fd = open(path, (tail_path != NULL ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
			r = bw_err_set(err, BW_EIO, "journal %s: %s", path, strerror(errno));
			goto out;
		}
		if ((uint64_t)st.st_size > JOURNAL_MAX) {
			r = bw_err_set(err, BW_ECORRUPT, "journal %s is larger than any real journal", path);
			goto out;
		}
		if ((r = replay_file(&rp, fd, (uint64_t)st.st_size, &good, err)) != 0)
			goto out;
		if (good < (uint64_t)st.st_size) {
			if (k + 1 < nsegs) {
				/* Sequencing moves to a new segment only after a whole group landed in the old one. */
				r = bw_err_set(err, BW_ECORRUPT,
					       "journal %s: damaged record at byte %llu, but a newer segment follows "
					       "(acknowledged entries are damaged; not recovering automatically)",
					       path, (unsigned long long)good);
				goto out;
			}
			/* A torn or damaged tail: never acknowledged (each group is synced before its acknowledgement). Kept aside. */
			if (tail_path == NULL)
				break;	/* read-only (a live log's): a group being written; nothing past it is read */
			if ((r = save_tail(fd, good, (uint64_t)st.st_size, tail_path, err)) != 0)
				goto out;
			if (ftruncate(fd, (off_t)good) != 0 || fdatasync(fd) != 0) {
				r = bw_err_set(err, BW_EIO, "journal %s: cannot cut the torn tail: %s", path,
					       strerror(errno));
				goto out;
			}
			*tail_set_aside = true;
		}
		close(fd);
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	free(rp.buf);
	bw_sha256_free(rp.h);
	free(segs);
	return r;
}

/* ---- sequencing ------------------------------------------------------------- */

int
tlog_journal_open(const char *dir, uint64_t next, struct tlog_journal **out, struct bw_err *err)
{
	struct tlog_journal *j = calloc(1, sizeof *j);
	struct seg_name *segs = NULL;
	char path[4096];
	size_t nsegs = 0, k;
	int r;

	*out = NULL;
	if (j == NULL || (j->dir = strdup(dir)) == NULL) {
		free(j);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	j->fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	if ((r = bw_sha256_new(&j->h, err)) != 0 || (r = list_segments(dir, &segs, &nsegs, err)) != 0)
		goto fail;
	/* Every record in them is covered by the checkpoint now (the caller integrated them). */
	for (k = 0; k < nsegs; k++) {
		seg_file(path, sizeof path, dir, &segs[k]);
		if (unlink(path) != 0 && errno != ENOENT) {
			r = bw_err_set(err, BW_EIO, "cannot remove %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if ((r = segment_path(path, sizeof path, dir, next)) != 0) {
		r = bw_err_set(err, r, "path too long");
		goto fail;
	}
	if ((j->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		r = bw_err_set(err, BW_EIO, "cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	/* The segment's name must survive a crash before any record in it is acknowledged. */
	if ((r = bw_fsync_dir(dir, true, err)) != 0)
		goto fail;
	j->seg_first = next;
	free(segs);
	*out = j;
	return 0;
fail:
	free(segs);
	tlog_journal_close(j);
	return r;
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
	pthread_mutex_destroy(&j->mu);
	free(j->sealed);
	free(j->dir);
	free(j);
}

int
tlog_journal_frame(struct bw_sha256 *h, uint64_t index, const void *entry, size_t len, struct bw_buf *out)
{
	uint8_t head[REC_HEAD], check[REC_CHECK];
	int i;

	for (i = 0; i < 8; i++)
		head[i] = (uint8_t)(index >> (56 - 8 * i));
	head[8] = (uint8_t)(len >> 8);
	head[9] = (uint8_t)len;
	record_check(h, head, entry, len, check);
	if (bw_buf_append(out, head, sizeof head) != 0 || bw_buf_append(out, entry, len) != 0 ||
	    bw_buf_append(out, check, sizeof check) != 0)
		return BW_ENOMEM;
	return 0;
}

int
tlog_journal_add(struct tlog_journal *j, uint64_t index, const void *entry, size_t len)
{
	return tlog_journal_frame(j->h, index, entry, len, &j->pending);
}

void
tlog_journal_take(struct tlog_journal *j, struct bw_buf *out)
{
	*out = j->pending;
	memset(&j->pending, 0, sizeof j->pending);
}

/* Starts a new segment at index first (the current one is full). */
static int
rotate(struct tlog_journal *j, uint64_t first, struct bw_err *err)
{
	char path[4096];
	int fd;

	if (segment_path(path, sizeof path, j->dir, first) != 0)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return bw_err_set(err, BW_EIO, "cannot create %s: %s", path, strerror(errno));
	if (bw_fsync_dir(j->dir, true, err) != 0) {
		close(fd);
		return BW_EIO;
	}
	pthread_mutex_lock(&j->mu);
	if (j->nsealed == j->capsealed) {
		size_t cap = j->capsealed ? j->capsealed * 2 : 16;
		uint64_t *q = realloc(j->sealed, cap * sizeof *q);
		if (q == NULL) {
			pthread_mutex_unlock(&j->mu);
			close(fd);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		j->sealed = q;
		j->capsealed = cap;
	}
	j->sealed[j->nsealed++] = j->seg_first;
	j->seg_first = first;
	pthread_mutex_unlock(&j->mu);
	close(j->fd);
	j->fd = fd;
	j->seg_bytes = 0;
	return 0;
}

int
tlog_journal_write(struct tlog_journal *j, const struct bw_buf *group, uint64_t first, struct bw_err *err)
{
	int r;

	if (group->len == 0)
		return 0;
	if (j->seg_bytes >= JOURNAL_SEGMENT && (r = rotate(j, first, err)) != 0)
		return r;
	if (bw_write_all(j->fd, group->data, group->len) != 0 || fdatasync(j->fd) != 0)
		return bw_err_set(err, BW_EIO, "journal in %s: %s", j->dir, strerror(errno));
	j->seg_bytes += group->len;
	pthread_mutex_lock(&j->mu);
	j->disk_bytes += group->len;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

void
tlog_journal_release(struct tlog_journal *j, uint64_t covered)
{
	char path[4096];
	size_t done = 0, k;

	pthread_mutex_lock(&j->mu);
	/* Sealed segment k ends where the next one (or the current one) starts. */
	while (done < j->nsealed && (done + 1 < j->nsealed ? j->sealed[done + 1] : j->seg_first) <= covered)
		done++;
	for (k = 0; k < done; k++) {
		struct stat st;
		if (segment_path(path, sizeof path, j->dir, j->sealed[k]) != 0)
			continue;
		if (stat(path, &st) == 0 && (uint64_t)st.st_size <= j->disk_bytes)
			j->disk_bytes -= (uint64_t)st.st_size;
		unlink(path);	/* best effort: a covered segment left behind is skipped by replay */
	}
	if (done > 0) {
		memmove(j->sealed, j->sealed + done, (j->nsealed - done) * sizeof *j->sealed);
		j->nsealed -= done;
	}
	pthread_mutex_unlock(&j->mu);
}

uint64_t
tlog_journal_disk_bytes(struct tlog_journal *j)
{
	uint64_t n;

	pthread_mutex_lock(&j->mu);
	n = j->disk_bytes;
	pthread_mutex_unlock(&j->mu);
	return n;
}
