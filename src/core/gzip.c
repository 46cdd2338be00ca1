/*
 * core/gzip.c: gzip (RFC 1952) through zlib, for request bodies: the
 * agent compresses its batches, the server inflates them under a bound
 * (a small body that would inflate past it is refused, not inflated).
 */
#include <string.h>

#include <zlib.h>

#include "core.h"

int
bw_gzip(const void *in, size_t len, struct bw_buf *out, struct bw_err *err)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof z);
	out->len = 0;
	if (len > UINT32_MAX)
		return bw_err_set(err, BW_ERANGE, "too large to compress in one piece");
	/* windowBits 15 + 16: a gzip wrapper; level 1: the batches are text, speed matters more than the last bytes */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_buf_reserve(out, deflateBound(&z, (uLong)len)) != 0) {
		deflateEnd(&z);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out->data;
	z.avail_out = (uInt)out->cap;
	zr = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END)
		return bw_err_set(err, BW_EIO, "gzip failed (%d)", zr);
	return 0;
}

int
bw_gunzip(const void *in, size_t len, size_t max, struct bw_buf *out, struct bw_err *err)
{
	z_stream z;
	uint8_t chunk[16384];
	int zr = Z_OK, r = 0;

	memset(&z, 0, sizeof z);
	out->len = 0;
	if (len > UINT32_MAX)
		return bw_err_set(err, BW_ERANGE, "compressed body too large");
	if (inflateInit2(&z, 15 + 16) != Z_OK)	/* gzip only */
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			r = bw_err_set(err, BW_EINVAL, "not gzip data, or damaged: %s",
				       z.msg != NULL ? z.msg : zr == Z_BUF_ERROR ? "it ends too early" : "zlib error");
			break;
		}
		if (out->len + (sizeof chunk - z.avail_out) > max) {
			r = bw_err_set(err, BW_ERANGE, "decompressed body larger than %zu bytes", max);
			break;
		}
		if (bw_buf_append(out, chunk, sizeof chunk - z.avail_out) != 0) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			r = bw_err_set(err, BW_EINVAL, "not gzip data, or damaged: it ends too early");
			break;
		}
	}
	if (r == 0 && z.avail_in != 0)
		r = bw_err_set(err, BW_EINVAL, "bytes after the end of the gzip data");
	inflateEnd(&z);
	if (r != 0)
		out->len = 0;
	return r;
}
