/*
 * Sealed files (crypto/stream.c): a sample sealed as it streams in opens to
 * the same bytes whatever the pieces it came in; the final chunk binds it to
 * its ad, so a file moved under another ad, cut, reordered, edited or with
 * its final flag moved does not open; files of the first format (every chunk
 * bound to the ad) still open; an abandoned writer leaves nothing behind.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/crypto.h"

static char dir[] = "/tmp/bwstreamXXXXXX";

static void
path_of(const char *name, char out[256])
{
	snprintf(out, 256, "%s/%s", dir, name);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static void
write_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
}

static int
opens(const uint8_t key[32], const char *ad, const char *path, uint8_t **out, size_t *len)
{
	struct bw_err err = { 0 };

	return bw_stream_open_file(key, ad, strlen(ad), path, (size_t)8 << 20, out, len, &err);
}

/* Reads a prefixed sealed stream from path with the reader, in pieces of cap bytes. */
static int
read_stream(const uint8_t key[32], const char *path, size_t prefix, const char *ad, size_t cap, uint8_t *out,
	    size_t *outlen)
{
	struct bw_stream_reader *r = NULL;
	struct bw_err err = { 0 };
	int fd = open(path, O_RDONLY), rc;
	size_t n = 0;

	*outlen = 0;
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, (off_t)prefix, SEEK_SET), (off_t)prefix);
	if ((rc = bw_stream_reader_open(key, fd, ad, strlen(ad), &r, &err)) == 0) {
		while ((rc = bw_stream_reader_read(r, out + *outlen, cap, &n, &err)) == 0 && n > 0)
			*outlen += n;
		if (rc == 0)
			assert_true(bw_stream_reader_done(r));
	}
	bw_stream_reader_free(r);
	close(fd);
	return rc;
}

/* A stream written after a file's own header, read back chunk by chunk; edits, cuts and trailing bytes refused. */
static void
test_stream_reader(void **state)
{
	uint8_t key[32], *data, *got, *file;
	size_t len = 2 * BW_STREAM_CHUNK + 99, glen = 0, flen;
	const char prefix[] = "HEADER12";
	char tmp[256], path[256], bad[256];
	struct bw_stream_writer *w;
	struct bw_err err = { 0 };
	FILE *f;

	(void)state;
	randombytes_buf(key, sizeof key);
	data = malloc(len);
	got = malloc(len + BW_STREAM_CHUNK);
	randombytes_buf(data, len);
	path_of("r.tmp", tmp);
	path_of("r.sealed", path);
	path_of("r.bad", bad);
	assert_int_equal(bw_stream_writer_open_after(key, tmp, prefix, 8, &w, &err), 0);
	assert_int_equal(bw_stream_writer_add(w, data, len, &err), 0);
	assert_int_equal(bw_stream_writer_finish(w, prefix, 8, path, &err), 0);
	file = read_file(path, &flen);
	assert_memory_equal(file, prefix, 8);
	assert_int_equal(read_stream(key, path, 8, prefix, 1000, got, &glen), 0);
	assert_int_equal(glen, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(read_stream(key, path, 8, "HEADER13", 1000, got, &glen), BW_EVERIFY);	/* another header */
	/* one byte changed in the second chunk */
	file[8 + 28 + 4 + BW_STREAM_CHUNK + 17 + 100] ^= 1;
	f = fopen(bad, "wb");
	fwrite(file, 1, flen, f);
	fclose(f);
	assert_int_equal(read_stream(key, bad, 8, prefix, 1000, got, &glen), BW_EVERIFY);
	assert_true(glen <= BW_STREAM_CHUNK);	/* nothing of the edited chunk was handed out */
	file[8 + 28 + 4 + BW_STREAM_CHUNK + 17 + 100] ^= 1;
	/* cut short, and with a byte after the final chunk */
	f = fopen(bad, "wb");
	fwrite(file, 1, flen - 1, f);
	fclose(f);
	assert_int_equal(read_stream(key, bad, 8, prefix, 1000, got, &glen), BW_EVERIFY);
	f = fopen(bad, "wb");
	fwrite(file, 1, flen, f);
	fputc(0, f);
	fclose(f);
	assert_int_equal(read_stream(key, bad, 8, prefix, 1000, got, &glen), BW_EVERIFY);
	unlink(bad);
	unlink(path);
	free(file);
	free(got);
	free(data);
}

static void
test_streamed(void **state)
{
	uint8_t key[32], other[32], *data, *got = NULL, *file, *copy;
	size_t len = 3 * BW_STREAM_CHUNK + 1234, glen = 0, flen, off, pieces[] = { 1, 7, 65535, 65536, 70000, 2 }, i;
	char tmp[256], path[256], moved[256];
	struct bw_stream_writer *w;
	struct bw_err err = { 0 };

	(void)state;
	randombytes_buf(key, sizeof key);
	randombytes_buf(other, sizeof other);
	data = malloc(len);
	randombytes_buf(data, len);
	path_of("s.tmp", tmp);
	path_of("s.sealed", path);
	path_of("moved.sealed", moved);
	/* streamed in uneven pieces */
	assert_int_equal(bw_stream_writer_open(key, tmp, &w, &err), 0);
	for (off = 0, i = 0; off < len; i++) {
		size_t n = pieces[i % 6] < len - off ? pieces[i % 6] : len - off;
		assert_int_equal(bw_stream_writer_add(w, data + off, n, &err), 0);
		off += n;
	}
	assert_int_equal(bw_stream_writer_finish(w, "report 1 abc", 12, path, &err), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(opens(key, "report 1 abc", path, &got, &glen), 0);
	assert_int_equal(glen, len);
	assert_memory_equal(got, data, len);
	free(got);
	assert_int_equal(opens(key, "report 2 abc", path, &got, &glen), BW_EVERIFY);	/* another report's */
	assert_int_equal(opens(other, "report 1 abc", path, &got, &glen), BW_EVERIFY);	/* another key */
	/* the same bytes sealed at once open the same */
	assert_int_equal(bw_stream_seal_file(key, "x", 1, data, len, moved, &err), 0);
	assert_int_equal(opens(key, "x", moved, &got, &glen), 0);
	assert_memory_equal(got, data, len);
	free(got);
	file = read_file(path, &flen);
	assert_memory_equal(file, "BWS2", 4);
	copy = malloc(flen);
	/* cut before the final chunk: its flag word says where it starts */
	{
		size_t last = 28, k;
		for (k = 0; k < 3; k++)
			last += 4 + ((size_t)file[last] << 24 | (size_t)file[last + 1] << 16 | (size_t)file[last + 2] << 8 |
				     file[last + 3]);
		assert_true(file[last] & 0x80);	/* the fourth chunk is the final one */
		write_file(moved, file, last);
		assert_int_equal(opens(key, "report 1 abc", moved, &got, &glen), BW_EVERIFY);
		/* the final flag moved to an earlier chunk */
		memcpy(copy, file, flen);
		copy[28] |= 0x80;
		write_file(moved, copy, flen);
		assert_int_equal(opens(key, "report 1 abc", moved, &got, &glen), BW_EVERIFY);
		/* the final flag taken off */
		memcpy(copy, file, flen);
		copy[last] &= 0x7f;
		write_file(moved, copy, flen);
		assert_int_equal(opens(key, "report 1 abc", moved, &got, &glen), BW_EVERIFY);
	}
	/* one bit of the body flipped */
	memcpy(copy, file, flen);
	copy[flen / 2] ^= 1;
	write_file(moved, copy, flen);
	assert_int_equal(opens(key, "report 1 abc", moved, &got, &glen), BW_EVERIFY);
	/* two chunks swapped (the first two are full chunks of the same size) */
	{
		size_t c = 4 + BW_STREAM_CHUNK + 17;
		memcpy(copy, file, flen);
		memcpy(copy + 28, file + 28 + c, c);
		memcpy(copy + 28 + c, file + 28, c);
		write_file(moved, copy, flen);
		assert_int_equal(opens(key, "report 1 abc", moved, &got, &glen), BW_EVERIFY);
	}
	free(copy);
	free(file);
	/* an empty sample: one final chunk of nothing */
	assert_int_equal(bw_stream_seal_file(key, "e", 1, "", 0, moved, &err), 0);
	assert_int_equal(opens(key, "e", moved, &got, &glen), 0);
	assert_int_equal(glen, 0);
	free(got);
	/* an abandoned writer leaves nothing; a temporary path already there is not taken over */
	assert_int_equal(bw_stream_writer_open(key, tmp, &w, &err), 0);
	assert_int_equal(bw_stream_writer_add(w, data, 100, &err), 0);
	bw_stream_writer_abort(w);
	assert_int_equal(access(tmp, F_OK), -1);
	write_file(tmp, (const uint8_t *)"someone's", 9);
	assert_int_equal(bw_stream_writer_open(key, tmp, &w, &err), BW_EIO);
	assert_int_equal(access(tmp, F_OK), 0);	/* still there: not ours to remove */
	unlink(tmp);
	unlink(path);
	unlink(moved);
	free(data);
}

/* A file of the first format, written here from its description: every chunk bound to the ad. */
static void
test_first_format(void **state)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t key[32], buf[4 + 24 + 2 * (4 + 5 + 17)], *got = NULL;
	unsigned long long clen;
	size_t o = 28, glen = 0;
	char path[256];

	(void)state;
	randombytes_buf(key, sizeof key);
	memcpy(buf, "BWS1", 4);
	crypto_secretstream_xchacha20poly1305_init_push(&st, buf + 4, key);
	crypto_secretstream_xchacha20poly1305_push(&st, buf + o + 4, &clen, (const uint8_t *)"hello", 5,
						   (const uint8_t *)"ad", 2, 0);
	buf[o] = buf[o + 1] = buf[o + 2] = 0;
	buf[o + 3] = (uint8_t)clen;
	o += 4 + clen;
	crypto_secretstream_xchacha20poly1305_push(&st, buf + o + 4, &clen, (const uint8_t *)"world", 5,
						   (const uint8_t *)"ad", 2, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	buf[o] = buf[o + 1] = buf[o + 2] = 0;
	buf[o + 3] = (uint8_t)clen;
	o += 4 + clen;
	path_of("v1.sealed", path);
	write_file(path, buf, o);
	assert_int_equal(opens(key, "ad", path, &got, &glen), 0);
	assert_int_equal(glen, 10);
	assert_memory_equal(got, "helloworld", 10);
	free(got);
	assert_int_equal(opens(key, "da", path, &got, &glen), BW_EVERIFY);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streamed),
		cmocka_unit_test(test_stream_reader),
		cmocka_unit_test(test_first_format),
	};
	int r;

	if (bw_crypto_init(NULL) != 0 || mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return r;
}
