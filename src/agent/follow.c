/*
 * agent/follow.c: following a log file across rotation. The file is read
 * through the descriptor opened first; when the path names another file
 * (renamed away and recreated) the rest of the old one is read to its end
 * before the new one is opened, so a rotation while the agent runs loses
 * nothing. Across a restart the saved (device, inode, offset) is looked up
 * at the path and, when rotated meanwhile, at PATH.1; data rotated further
 * away unread, and data cut by a truncation, are counted as lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_internal.h"

void
follow_init(struct follow *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	snprintf(f->path, sizeof f->path, "%s", path);
}

void
follow_close(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static int
fs_stat(const struct follow *f, const char *path, struct stat *st)
{
	return f->fs != NULL ? f->fs->stat(f->fs->ctx, path, st) : stat(path, st);
}

static int
open_at(struct follow *f, const char *path, uint64_t offset, struct bw_err *err)
{
	struct stat st;
	int fd = f->fs != NULL ? f->fs->open(f->fs->ctx, path) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return bw_err_set(err, errno == ENOENT ? BW_ENOTFOUND : BW_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bw_err_set(err, BW_EIO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size < offset) {
		/* Truncated below where we were (copytruncate): what was between is gone. */
		f->lost_gaps++;
		offset = 0;
	}
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	}
	follow_close(f);
	f->fd = fd;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	f->offset = offset;
	return 0;
}

int
follow_open(struct follow *f, uint64_t dev, uint64_t ino, uint64_t offset, struct bw_err *err)
{
	struct stat st;
	char rotated[sizeof f->path + 8];

	if (ino == 0)	/* never read: from the start */
		return open_at(f, f->path, 0, err);
	if (fs_stat(f, f->path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino)
		return open_at(f, f->path, offset, err);
	/* Rotated while we were away: the rest of the old file first, when it is still there. */
	snprintf(rotated, sizeof rotated, "%s.1", f->path);
	if (fs_stat(f, rotated, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino) {
		int r = open_at(f, rotated, offset, err);
		f->draining = r == 0;
		return r;
	}
	f->lost_gaps++;	/* rotated further away than PATH.1 unread */
	return open_at(f, f->path, 0, err);
}

/*
 * After the descriptor reached its end: does the path now name another
 * file (or a shorter one)? Then switch to it (from its start); *switched
 * tells the caller to end the reader of the old file first.
 */
static int
check_rotation(struct follow *f, bool *switched, struct bw_err *err)
{
	struct stat st, cur;

	*switched = false;
	if (fs_stat(f, f->path, &st) != 0)
		return 0;	/* between a rename and the new file's creation: wait */
	if (!f->draining && (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino) {
		if (fstat(f->fd, &cur) == 0 && (uint64_t)cur.st_size < f->offset) {
			/* Truncated in place: read it again from the start. */
			f->lost_gaps++;
			if (lseek(f->fd, 0, SEEK_SET) == 0)
				f->offset = 0;
			*switched = true;
		}
		return 0;
	}
	/* Give the old file one more poll for lines written just before the writer reopened. */
	if (!f->switch_pending) {
		f->switch_pending = true;
		return 0;
	}
	f->switch_pending = false;
	*switched = true;
	f->draining = false;
	return open_at(f, f->path, 0, err);
}

int
follow_read(struct follow *f, void *buf, size_t cap, size_t *n, bool *switched, struct bw_err *err)
{
	ssize_t got;

	*n = 0;
	*switched = false;
	if (f->fd < 0)
		return bw_err_set(err, BW_EIO, "%s: not open", f->path);
	do
		got = read(f->fd, buf, cap);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", f->path, strerror(errno));
	if (got > 0) {
		f->switch_pending = false;
		*n = (size_t)got;
		f->offset += (uint64_t)got;
		return 0;
	}
	return check_rotation(f, switched, err);
}
