/* patch/hashfile.c: streaming SHA-256 of a file (targets may be many GiB). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patch.h"

#define BLOCK ((size_t)1 << 20)

int
patch_file_sha256(const char *path, uint8_t out[32], uint64_t *len, struct bw_err *err)
{
	struct bw_sha256 *h = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if ((r = bw_sha256_new(&h, err)) != 0)
		goto out;
	if ((buf = malloc(BLOCK)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	bw_sha256_init(h);
	while ((n = read(fd, buf, BLOCK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		bw_sha256_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	bw_sha256_final(h, out);
	if (bw_sha256_failed(h))
		r = bw_err_set(err, BW_ECRYPTO, "SHA-256 failed");
	*len = total;
out:
	free(buf);
	bw_sha256_free(h);
	close(fd);
	return r;
}
