/*
 * crypto/stream.c: files sealed in chunks with libsodium's
 * crypto_secretstream_xchacha20poly1305 (reported samples at rest), and
 * subkeys of a key for one purpose (crypto_kdf).
 *
 * A sealed file: "BWS2", the stream header (24 bytes), then chunks, each a
 * 4-byte big-endian length (its top bit set on the final chunk) and that
 * many bytes of sealed chunk (plaintext of at most BW_STREAM_CHUNK bytes +
 * 17). The chunks are sealed as they come (a sample streamed to disk as it
 * is uploaded); the final one, tagged FINAL, is authenticated with ad,
 * known only at the end (what the sample is bound to: its report and its
 * hash). Each chunk depends on every one before it, so a truncated,
 * reordered or edited file, or one moved under another ad, does not open.
 * Files of the first format ("BWS1": every chunk authenticated with ad)
 * still open.
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

#define MAGIC "BWS1"		/* every chunk bound to the ad (files sealed before streaming) */
#define MAGIC2 "BWS2"	/* streamed: the final chunk, flagged in its length word, bound to the ad */
#define FINAL_BIT 0x80000000u
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

struct bw_stream_writer {
	crypto_secretstream_xchacha20poly1305_state st;
	int fd;
	char tmp[4200];
	uint8_t *buf;			/* the plaintext of the chunk being filled (BW_STREAM_CHUNK) */
	size_t fill;
	uint8_t *out;			/* a sealed chunk with its length (4 + SEALED_MAX) */
	bool failed;
};

int
bw_stream_writer_open(const uint8_t key[32], const char *tmp_path, struct bw_stream_writer **out, struct bw_err *err)
{
	return bw_stream_writer_open_after(key, tmp_path, NULL, 0, out, err);
}

int
bw_stream_writer_open_after(const uint8_t key[32], const char *tmp_path, const void *prefix, size_t prefix_len,
			    struct bw_stream_writer **out, struct bw_err *err)
{
	struct bw_stream_writer *w = calloc(1, sizeof *w);
	uint8_t head[4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES];

	*out = NULL;
	if (w == NULL || (w->buf = malloc(BW_STREAM_CHUNK)) == NULL || (w->out = malloc(4 + SEALED_MAX)) == NULL) {
		if (w != NULL)
			free(w->buf);
		free(w);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((size_t)snprintf(w->tmp, sizeof w->tmp, "%s", tmp_path) >= sizeof w->tmp) {
		w->fd = -1;
		bw_stream_writer_abort(w);
		return bw_err_set(err, BW_ERANGE, "path too long");
	}
	if ((w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		int e = errno;
		w->tmp[0] = '\0';	/* not ours: never removed */
		bw_stream_writer_abort(w);
		return bw_err_set(err, BW_EIO, "%s: %s", tmp_path, strerror(e));
	}
	memcpy(head, MAGIC2, 4);
	crypto_secretstream_xchacha20poly1305_init_push(&w->st, head + 4, key);
	if ((prefix_len > 0 && bw_write_all(w->fd, prefix, prefix_len) != 0) || bw_write_all(w->fd, head, sizeof head) != 0) {
		int e = errno;
		bw_stream_writer_abort(w);
		return bw_err_set(err, BW_EIO, "%s: %s", tmp_path, strerror(e));
	}
	*out = w;
	return 0;
}

/* Seals w's buffered plaintext as one chunk (final: bound to ad, flagged in its length word). */
static int
push(struct bw_stream_writer *w, bool final, const void *ad, size_t adlen, struct bw_err *err)
{
	unsigned long long clen = 0;

	crypto_secretstream_xchacha20poly1305_push(&w->st, w->out + 4, &clen, w->buf, w->fill, final ? ad : NULL,
						   final ? adlen : 0,
						   final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	put32(w->out, (uint32_t)clen | (final ? FINAL_BIT : 0));
	w->fill = 0;
	if (bw_write_all(w->fd, w->out, 4 + (size_t)clen) != 0) {
		w->failed = true;
		return bw_err_set(err, BW_EIO, "%s: %s", w->tmp, strerror(errno));
	}
	return 0;
}

int
bw_stream_writer_add(struct bw_stream_writer *w, const void *data, size_t n, struct bw_err *err)
{
	const uint8_t *p = data;

	if (w->failed)
		return bw_err_set(err, BW_EIO, "%s: an earlier write failed", w->tmp);
	while (n > 0) {
		size_t k = BW_STREAM_CHUNK - w->fill < n ? BW_STREAM_CHUNK - w->fill : n;
		memcpy(w->buf + w->fill, p, k);
		w->fill += k;
		p += k;
		n -= k;
		if (w->fill == BW_STREAM_CHUNK && push(w, false, NULL, 0, err) != 0)
			return BW_EIO;
	}
	return 0;
}

void
bw_stream_writer_abort(struct bw_stream_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp[0] != '\0')
		unlink(w->tmp);
	sodium_memzero(&w->st, sizeof w->st);
	if (w->buf != NULL)
		sodium_memzero(w->buf, BW_STREAM_CHUNK);
	free(w->buf);
	free(w->out);
	free(w);
}

int
bw_stream_writer_finish(struct bw_stream_writer *w, const void *ad, size_t adlen, const char *path, struct bw_err *err)
{
	int r = 0;

	if (w->failed)
		r = bw_err_set(err, BW_EIO, "%s: an earlier write failed", w->tmp);
	if (r == 0)
		r = push(w, true, ad, adlen, err);
	if (r == 0 && fsync(w->fd) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", w->tmp, strerror(errno));
	if (r == 0 && rename(w->tmp, path) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if (r == 0) {
		w->tmp[0] = '\0';	/* renamed: nothing to remove */
		r = bw_fsync_dir(path, false, err);
	}
	bw_stream_writer_abort(w);
	return r;
}

int
bw_stream_seal_file(const uint8_t key[32], const void *ad, size_t adlen, const void *data, size_t len, const char *path,
		    struct bw_err *err)
{
	struct bw_stream_writer *w;
	char tmp[4200];
	int r;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return bw_err_set(err, BW_ERANGE, "path too long");
	unlink(tmp);	/* a leftover of a crash */
	if ((r = bw_stream_writer_open(key, tmp, &w, err)) != 0)
		return r;
	if ((r = bw_stream_writer_add(w, data, len, err)) != 0) {
		bw_stream_writer_abort(w);
		return r;
	}
	return bw_stream_writer_finish(w, ad, adlen, path, err);
}

int
bw_stream_open_file(const uint8_t key[32], const void *ad, size_t adlen, const char *path, size_t max, uint8_t **out,
		    size_t *outlen, struct bw_err *err)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *file = NULL, *plain = NULL;
	size_t flen = 0, off, n = 0;
	bool final = false, v2;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = bw_file_read(path, max + max / BW_STREAM_CHUNK * 21 + 4096, &file, &flen, err)) != 0)
		return r;
	v2 = flen >= 4 && memcmp(file, MAGIC2, 4) == 0;
	if (flen < 4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES || (memcmp(file, MAGIC, 4) != 0 && !v2) ||
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
		uint32_t clen = 0;
		unsigned long long mlen = 0;
		uint8_t tag = 0;
		bool last = false;
		if (!final && flen - off >= 4) {
			clen = (uint32_t)file[off] << 24 | (uint32_t)file[off + 1] << 16 | (uint32_t)file[off + 2] << 8 | file[off + 3];
			last = v2 && (clen & FINAL_BIT) != 0;	/* streamed: only the final chunk carries the ad */
			if (v2)
				clen &= ~FINAL_BIT;
		}
		if (final || flen - off < 4)
			r = bw_err_set(err, BW_EVERIFY, "%s: data after the final chunk, or a cut length", path);
		else if (clen > SEALED_MAX || clen > flen - off - 4)
			r = bw_err_set(err, BW_EVERIFY, "%s: a chunk's length is wrong (truncated?)", path);
		else if (crypto_secretstream_xchacha20poly1305_pull(&st, plain + n, &mlen, &tag, file + off + 4, clen,
								    !v2 || last ? ad : NULL, !v2 || last ? adlen : 0) != 0)
			r = bw_err_set(err, BW_EVERIFY, "%s: a chunk does not verify (edited, reordered, or another sample's)",
				       path);
		else if (v2 && last != (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL))
			r = bw_err_set(err, BW_EVERIFY, "%s: a chunk's final flag does not match its tag", path);
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

/* ---- reading a sealed stream chunk by chunk ---------------------------------- */

struct bw_stream_reader {
	crypto_secretstream_xchacha20poly1305_state st;
	int fd;
	uint8_t *in;			/* one sealed chunk (SEALED_MAX) */
	uint8_t *plain;			/* its plaintext (BW_STREAM_CHUNK) */
	size_t have, at;		/* plaintext bytes in plain, and how many were handed out */
	bool final, failed;
	uint8_t *ad;
	size_t adlen;
};

int
bw_stream_reader_open(const uint8_t key[32], int fd, const void *ad, size_t adlen, struct bw_stream_reader **out,
		      struct bw_err *err)
{
	struct bw_stream_reader *r = calloc(1, sizeof *r);
	uint8_t head[4 + crypto_secretstream_xchacha20poly1305_HEADERBYTES];

	*out = NULL;
	if (r == NULL || (r->in = malloc(SEALED_MAX)) == NULL || (r->plain = malloc(BW_STREAM_CHUNK)) == NULL ||
	    (r->ad = malloc(adlen > 0 ? adlen : 1)) == NULL) {
		bw_stream_reader_free(r);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	memcpy(r->ad, ad, adlen);
	r->adlen = adlen;
	r->fd = fd;
	if (bw_read_all(fd, head, sizeof head) != 0 || memcmp(head, MAGIC2, 4) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&r->st, head + 4, key) != 0) {
		bw_stream_reader_free(r);
		return bw_err_set(err, BW_EVERIFY, "not a sealed stream (or cut short before its header)");
	}
	*out = r;
	return 0;
}

/* Reads and opens the next chunk into r->plain. */
static int
pull_chunk(struct bw_stream_reader *r, struct bw_err *err)
{
	uint8_t len4[4], tag = 0;
	uint32_t clen;
	unsigned long long mlen = 0;
	bool last;
	ssize_t got = read(r->fd, len4, 1);

	if (got == 0)
		return bw_err_set(err, BW_EVERIFY, "the sealed stream ends before its final chunk (truncated)");
	if (got < 0 || bw_read_all(r->fd, len4 + 1, 3) != 0)
		return bw_err_set(err, BW_EVERIFY, "the sealed stream is cut inside a chunk's length");
	clen = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 | (uint32_t)len4[2] << 8 | len4[3];
	last = (clen & FINAL_BIT) != 0;
	clen &= ~FINAL_BIT;
	if (clen < crypto_secretstream_xchacha20poly1305_ABYTES || clen > SEALED_MAX)
		return bw_err_set(err, BW_EVERIFY, "a chunk's length is wrong");
	if (bw_read_all(r->fd, r->in, clen) != 0)
		return bw_err_set(err, BW_EVERIFY, "the sealed stream is cut inside a chunk (truncated)");
	if (crypto_secretstream_xchacha20poly1305_pull(&r->st, r->plain, &mlen, &tag, r->in, clen, last ? r->ad : NULL,
						       last ? r->adlen : 0) != 0)
		return bw_err_set(err, BW_EVERIFY, "a chunk does not verify (edited, reordered, or another key's)");
	if (last != (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL))
		return bw_err_set(err, BW_EVERIFY, "a chunk's final flag does not match its tag");
	r->have = (size_t)mlen;
	r->at = 0;
	r->final = last;
	if (last && read(r->fd, len4, 1) != 0)
		return bw_err_set(err, BW_EVERIFY, "data after the final chunk");
	return 0;
}

int
bw_stream_reader_read(struct bw_stream_reader *r, void *buf, size_t cap, size_t *n, struct bw_err *err)
{
	*n = 0;
	if (r->failed)
		return bw_err_set(err, BW_EVERIFY, "the sealed stream failed to verify earlier");
	while (r->at == r->have && !r->final) {
		if (pull_chunk(r, err) != 0) {
			r->failed = true;
			return BW_EVERIFY;
		}
	}
	*n = r->have - r->at < cap ? r->have - r->at : cap;
	memcpy(buf, r->plain + r->at, *n);
	r->at += *n;
	return 0;
}

bool
bw_stream_reader_done(const struct bw_stream_reader *r)
{
	return !r->failed && r->final && r->at == r->have;
}

void
bw_stream_reader_free(struct bw_stream_reader *r)
{
	if (r == NULL)
		return;
	sodium_memzero(&r->st, sizeof r->st);
	if (r->plain != NULL)
		sodium_memzero(r->plain, BW_STREAM_CHUNK);
	free(r->plain);
	free(r->in);
	free(r->ad);
	free(r);
}
