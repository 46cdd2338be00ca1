/*
 * agent/spool.c: batches waiting for the server, one file per batch
 * (NNNNNNNNNNNNNNNNNNNN.batch: a line of meta JSON, then the batch),
 * written atomically and durably before the sources move on, removed only
 * once the server has acknowledged them. Bounded: when full, the caller
 * stops reading its sources (they are the buffer then) instead of dropping.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_internal.h"

#define SPOOL_FILE_MAX ((size_t)80 << 20)	/* a batch file longer than this is not ours */

struct spool_item {
	uint64_t seq;
	uint64_t bytes;
};

struct spool {
	char dir[1024];
	uint64_t max_bytes, bytes;
	struct spool_item *items;	/* by seq, ascending */
	size_t n, cap;
};

static void
item_path(const struct spool *s, uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%020llu.batch", s->dir, (unsigned long long)seq);
}

static int
cmp_item(const void *a, const void *b)
{
	const struct spool_item *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
add_item(struct spool *s, uint64_t seq, uint64_t bytes)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct spool_item *n = realloc(s->items, cap * sizeof *n);
		if (n == NULL)
			return -1;
		s->items = n;
		s->cap = cap;
	}
	s->items[s->n++] = (struct spool_item){ seq, bytes };
	s->bytes += bytes;
	return 0;
}

int
spool_open(const char *dir, uint64_t max_bytes, struct spool **out, struct bw_err *err)
{
	struct spool *s = calloc(1, sizeof *s);
	struct dirent *de;
	DIR *d;
	int r;

	*out = NULL;
	if (s == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->max_bytes = max_bytes;
	if ((r = bw_mkdir_p(dir, 0700, err)) != 0) {
		free(s);
		return r;
	}
	if ((d = opendir(dir)) == NULL) {
		free(s);
		return bw_err_set(err, BW_EIO, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		char path[1100], *end;
		unsigned long long seq;
		struct stat st;
		size_t len = strlen(de->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			unlink(path);	/* a batch whose write a crash interrupted: its events are read again */
			continue;
		}
		if (len != 26 || strcmp(de->d_name + 20, ".batch") != 0)
			continue;
		seq = strtoull(de->d_name, &end, 10);
		if (end != de->d_name + 20 || seq == 0 || stat(path, &st) != 0)
			continue;
		if (add_item(s, seq, (uint64_t)st.st_size) != 0) {
			closedir(d);
			spool_close(s);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	}
	closedir(d);
	if (s->n > 1)
		qsort(s->items, s->n, sizeof *s->items, cmp_item);
	*out = s;
	return 0;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	free(s->items);
	free(s);
}

uint64_t
spool_bytes(const struct spool *s)
{
	return s->bytes;
}

size_t
spool_count(const struct spool *s)
{
	return s->n;
}

uint64_t
spool_last_seq(const struct spool *s)
{
	return s->n > 0 ? s->items[s->n - 1].seq : 0;
}

bool
spool_full(const struct spool *s)
{
	return s->bytes >= s->max_bytes;
}

int
spool_put(struct spool *s, uint64_t seq, const char *meta, const char *body, size_t len, struct bw_err *err)
{
	char path[1100];
	struct bw_buf b = { 0 };
	int r;

	if (s->n > 0 && seq <= s->items[s->n - 1].seq)
		return bw_err_set(err, BW_EINVAL, "spool: batch %llu is not after %llu", (unsigned long long)seq,
				  (unsigned long long)s->items[s->n - 1].seq);
	if (strchr(meta, '\n') != NULL)
		return bw_err_set(err, BW_EINVAL, "spool: the meta line holds a newline");
	if (bw_buf_append_str(&b, meta) != 0 || bw_buf_append_byte(&b, '\n') != 0 || bw_buf_append(&b, body, len) != 0) {
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	item_path(s, seq, path, sizeof path);
	r = bw_file_write_atomic(path, b.data, b.len, 0600, err);
	if (r == 0 && add_item(s, seq, b.len) != 0)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	bw_buf_free(&b);
	return r;
}

static int
read_item(struct spool *s, uint64_t seq, char **meta, char **body, size_t *len, struct bw_err *err)
{
	char path[1100], *nl;
	uint8_t *data = NULL;
	size_t n = 0;
	int r;

	item_path(s, seq, path, sizeof path);
	if ((r = bw_file_read(path, SPOOL_FILE_MAX, &data, &n, err)) != 0)
		return r;
	if ((nl = memchr(data, '\n', n)) == NULL) {
		free(data);
		return bw_err_set(err, BW_ECORRUPT, "%s: no meta line", path);
	}
	*nl = '\0';
	*meta = (char *)data;
	if (body != NULL) {
		*len = n - (size_t)(nl + 1 - (char *)data);
		if ((*body = malloc(*len + 1)) == NULL) {
			free(data);
			*meta = NULL;
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		memcpy(*body, nl + 1, *len);
		(*body)[*len] = '\0';
	}
	return 0;
}

int
spool_oldest(struct spool *s, uint64_t *seq, char **meta, char **body, size_t *len, struct bw_err *err)
{
	*meta = *body = NULL;
	if (s->n == 0)
		return bw_err_set(err, BW_ENOTFOUND, "the spool is empty");
	*seq = s->items[0].seq;
	return read_item(s, *seq, meta, body, len, err);
}

int
spool_newest_meta(struct spool *s, uint64_t *seq, char **meta, struct bw_err *err)
{
	*meta = NULL;
	if (s->n == 0)
		return bw_err_set(err, BW_ENOTFOUND, "the spool is empty");
	*seq = s->items[s->n - 1].seq;
	return read_item(s, *seq, meta, NULL, NULL, err);
}

static int
drop(struct spool *s, uint64_t seq, bool keep, struct bw_err *err)
{
	char path[1100], to[1200];
	size_t i;

	for (i = 0; i < s->n && s->items[i].seq != seq; i++)
		;
	if (i == s->n)
		return bw_err_set(err, BW_ENOTFOUND, "spool: no batch %llu", (unsigned long long)seq);
	item_path(s, seq, path, sizeof path);
	if (keep) {
		snprintf(to, sizeof to, "%s/rejected", s->dir);
		if (mkdir(to, 0700) != 0 && errno != EEXIST)
			return bw_err_set(err, BW_EIO, "%s: %s", to, strerror(errno));
		snprintf(to, sizeof to, "%s/rejected/%020llu.batch", s->dir, (unsigned long long)seq);
		if (rename(path, to) != 0)
			return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	} else if (unlink(path) != 0 && errno != ENOENT) {
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	}
	s->bytes -= s->items[i].bytes;
	memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof *s->items);
	s->n--;
	return 0;
}

int
spool_remove(struct spool *s, uint64_t seq, struct bw_err *err)
{
	return drop(s, seq, false, err);
}

int
spool_reject(struct spool *s, uint64_t seq, struct bw_err *err)
{
	return drop(s, seq, true, err);
}
