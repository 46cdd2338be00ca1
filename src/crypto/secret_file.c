/* crypto/secret_file.c: reading key files into secure memory. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

int
bw_file_read_secret(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r = 0, e;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		e = errno;
		return bw_err_set(err, e == ENOENT ? BW_ENOTFOUND : BW_EIO, "cannot open %s: %s", path, strerror(e));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		r = bw_err_set(err, BW_EIO, "%s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		r = bw_err_set(err, BW_ERANGE, "%s is larger than the limit of %zu bytes", path, max);
		goto out;
	}
	if ((buf = bw_secure_alloc((size_t)sb.st_size + 1)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of secure memory reading %s", path);
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = bw_err_set(err, BW_EIO, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;	/* transferred */
out:
	bw_secure_free(buf);
	close(fd);
	return r;
}
