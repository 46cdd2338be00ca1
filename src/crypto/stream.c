/*
 * crypto/stream.c: files sealed in chunks with libsodium's
 * crypto_secretstream_xchacha20poly1305 (reported samples at rest), and
 * subkeys of a key for one purpose (crypto_kdf).
 *
 * A sealed file: "BWS1", the stream header (24 bytes), then chunks, each a
 * 4-byte big-endian length and that many bytes of sealed chunk (plaintext
 * of at most BW_STREAM_CHUNK bytes + 17), every chunk authenticated with
 * ad, the last tagged FINAL: a truncated, reordered or edited file, or one
 * moved under another ad, does not open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"

#define MAGIC "BWS1"
#define SEALED_MAX (BW_STREAM_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

_Static_assert(crypto_kdf_KEYBYTES == 32 && crypto_secretstream_xchacha20poly1305_KEYBYTES == 32, "32-byte keys");

void
bw_kdf_subkey(const uint8_t key[32], const char ctx[8], uint64_t id, uint8_t out[32])
{
	crypto_kdf_derive_from_key(out, 32, id, ctx, key);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
bw_stream_seal_file(const uint8_t key[32], const void *ad, size_t adlen, const void *data, size_t len, const char *path,
		    struct bw_err *err)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t head[4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES], *buf;
	const uint8_t *p = data;
	char tmp[4200];
	size_t off = 0;
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((buf = malloc(4 + SEALED_MAX)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		free(buf);
		return bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
	}
	memcpy(head, MAGIC, 4);
	crypto_secretstream_xchacha20poly1305_init_push(&st, head + 4, key);
	if (bw_write_all(fd, head, sizeof head) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
	do {
		size_t n = len - off > BW_STREAM_CHUNK ? BW_STREAM_CHUNK : len - off;
		unsigned long long clen = 0;
		uint8_t tag = off + n == len ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
		if (r != 0)
			break;
		crypto_secretstream_xchacha20poly1305_push(&st, buf + 4, &clen, p + off, n, ad, adlen, tag);
		put32(buf, (uint32_t)clen);
		if (bw_write_all(fd, buf, 4 + (size_t)clen) != 0)
			r = bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
		off += n;
	} while (off < len);
	if (r == 0 && fsync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", tmp, strerror(errno));
	close(fd);
	sodium_memzero(&st, sizeof st);
	free(buf);
	if (r == 0 && rename(tmp, path) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if (r == 0)
		r = bw_fsync_dir(path, false, err);
	if (r != 0)
		unlink(tmp);
	return r;
}

int
bw_stream_open_file(const uint8_t key[32], const void *ad, size_t adlen, const char *path, size_t max, uint8_t **out,
		    size_t *outlen, struct bw_err *err)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *file = NULL, *plain = NULL;
	size_t flen = 0, off, n = 0;
	bool final = false;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = bw_file_read(path, max + max / BW_STREAM_CHUNK * 21 + 4096, &file, &flen, err)) != 0)
		return r;
	if (flen < 4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES || memcmp(file, MAGIC, 4) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, file + 4, key) != 0) {
		free(file);
		return bw_err_set(err, BW_EVERIFY, "%s: not a sealed file", path);
	}
	if ((plain = malloc(flen > 0 ? flen : 1)) == NULL) {
		free(file);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	off = 4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES;
	while (r == 0 && off < flen) {
		uint32_t clen;
		unsigned long long mlen = 0;
		uint8_t tag = 0;
		if (final || flen - off < 4)
			r = bw_err_set(err, BW_EVERIFY, "%s: data after the final chunk, or a cut length", path);
		else if ((clen = (uint32_t)file[off] << 24 | (uint32_t)file[off + 1] << 16 | (uint32_t)file[off + 2] << 8 |
				 file[off + 3]) > SEALED_MAX || clen > flen - off - 4)
			r = bw_err_set(err, BW_EVERIFY, "%s: a chunk's length is wrong (truncated?)", path);
		else if (crypto_secretstream_xchacha20poly1305_pull(&st, plain + n, &mlen, &tag, file + off + 4, clen, ad,
								    adlen) != 0)
			r = bw_err_set(err, BW_EVERIFY, "%s: a chunk does not verify (edited, reordered, or another sample's)",
				       path);
		else if (n + mlen > max)
			r = bw_err_set(err, BW_ERANGE, "%s: more than %zu bytes", path, max);
		else {
			n += (size_t)mlen;
			off += 4 + clen;
			final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
		}
	}
	if (r == 0 && !final)
		r = bw_err_set(err, BW_EVERIFY, "%s: the final chunk is missing (truncated)", path);
	sodium_memzero(&st, sizeof st);
	free(file);
	if (r != 0) {
		free(plain);
		return r;
	}
	*out = plain;
	*outlen = n;
	return 0;
}
