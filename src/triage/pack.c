/* triage/pack.c: a sample packed for an analyst: a password-protected ZIP (libarchive's writer, AES-256). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "triage_internal.h"

int
triage_zip_sample(const char *name, const uint8_t *data, size_t len, const char *passphrase, uint8_t **out,
		  size_t *outlen, struct bw_err *err)
{
	size_t cap = len + len / 8 + 65536, used = 0;
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	uint8_t *buf = malloc(cap);
	int r = 0;

	*out = NULL;
	*outlen = 0;
	if (a == NULL || e == NULL || buf == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "zip:encryption=aes256") != ARCHIVE_OK ||
	    archive_write_set_passphrase(a, passphrase) != ARCHIVE_OK ||
	    archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK) {
		r = bw_err_set(err, BW_EIO, "zip: %s", archive_error_string(a) ? archive_error_string(a) : "cannot write");
		goto out;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, data, len) != (la_ssize_t)len ||
	    archive_write_close(a) != ARCHIVE_OK)
		r = bw_err_set(err, BW_EIO, "zip: %s", archive_error_string(a) ? archive_error_string(a) : "cannot write");
out:
	if (e != NULL)
		archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	if (r != 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*outlen = used;
	return 0;
}
