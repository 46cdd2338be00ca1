/* core/file.c: whole-file reads and crash-safe (atomic, durable) writes. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

int
bw_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return BW_EIO;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
bw_send_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return BW_EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
bw_read_all(int fd, void *p, size_t n)
{
	uint8_t *c = p;

	while (n > 0) {
		ssize_t k = read(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return BW_EIO;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int
bw_file_read(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	uint8_t chunk[65536];
	int fd, r = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;	/* strerror() may change errno: decide on a copy */
		return bw_err_set(err, e == ENOENT ? BW_ENOTFOUND : BW_EIO, "cannot open %s: %s", path,
				  strerror(e));
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = bw_err_set(err, BW_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			r = bw_err_set(err, BW_ERANGE, "%s is larger than the limit of %zu bytes",
				       path, max);
			goto out;
		}
		if (bw_buf_append(&b, chunk, (size_t)n) != 0) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory reading %s", path);
			goto out;
		}
	}
	if ((*out = (uint8_t *)bw_buf_take(&b, len)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory reading %s", path);
out:
	bw_buf_free(&b);
	close(fd);
	return r;
}

int
bw_fsync_dir(const char *path, bool is_dir, struct bw_err *err)
{
	char tmp[PATH_MAX];
	const char *dir = path;
	int fd, r = 0;

	if (!is_dir) {
		if (strlen(path) >= sizeof tmp)
			return bw_err_set(err, BW_ERANGE, "path too long: %s", path);
		strcpy(tmp, path);
		dir = dirname(tmp);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bw_err_set(err, BW_EIO, "cannot open directory %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "cannot fsync directory %s: %s", dir, strerror(errno));
	close(fd);
	return r;
}

int
bw_file_create_new(const char *path, const void *data, size_t len, unsigned mode, struct bw_err *err)
{
	int fd, r = 0, e;

	/* O_EXCL: never overwrite; O_NOFOLLOW: never write through a planted symlink. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode)) < 0) {
		e = errno;	/* strerror() may change errno */
		return bw_err_set(err, e == EEXIST ? BW_EEXIST : BW_EIO, "cannot create %s: %s", path, strerror(e));
	}
	if (fchmod(fd, (mode_t)mode) != 0 || bw_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		r = bw_err_set(err, BW_EIO, "cannot write %s: %s", path, strerror(e));
	}
	if (close(fd) != 0 && r == 0) {
		e = errno;
		r = bw_err_set(err, BW_EIO, "cannot close %s: %s", path, strerror(e));
	}
	if (r == 0)
		r = bw_fsync_dir(path, false, err);
	if (r != 0)
		unlink(path);	/* no partial or unsynced file is left behind */
	return r;
}

int
bw_file_create_secret(const char *path, const void *data, size_t len, struct bw_err *err)
{
	return bw_file_create_new(path, data, len, 0600, err);
}

int
bw_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode,
		     struct bw_err *err)
{
	char tmp[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return bw_err_set(err, BW_EIO, "cannot create %s: %s", tmp, strerror(errno));
	if (bw_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		r = bw_err_set(err, BW_EIO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return r;
	}
	if (close(fd) != 0) {
		r = bw_err_set(err, BW_EIO, "cannot close %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) != 0) {
		r = bw_err_set(err, BW_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return r;
	}
	return bw_fsync_dir(path, false, err);
}

int
bw_mkdir_p(const char *dir, unsigned mode, struct bw_err *err)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "bad directory path '%s'", dir);
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return bw_err_set(err, BW_EIO, "cannot create directory %s: %s", tmp,
					  strerror(errno));
		tmp[i] = c;
	}
	return 0;
}
