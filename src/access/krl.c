/* access/krl.c: OpenSSH key revocation lists (PROTOCOL.krl): certificate serials of one CA. */
#include <stdlib.h>
#include <string.h>

#include "sshwire.h"

#define KRL_MAGIC 0x5353484b524c0a00ULL	/* "SSHKRL\n\0" */
#define KRL_FORMAT_VERSION 1
#define KRL_SECTION_CERTIFICATES 1
#define KRL_SECTION_CERT_SERIAL_LIST 0x20

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int
ssh_krl_build(const struct bw_ed25519 *const *cas, size_t ncas, const uint64_t *serials, size_t n, uint64_t version,
	      uint64_t now, uint8_t **out, size_t *len, struct bw_err *err)
{
	struct bw_buf k = { 0 }, sect = { 0 }, list = { 0 }, cakey = { 0 };
	uint64_t *sorted = NULL;
	size_t i, c;

	*out = NULL;
	if (n > 0 && (sorted = malloc(n * sizeof *sorted)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (n > 0)
		memcpy(sorted, serials, n * sizeof *sorted);
	if (n > 0)
		qsort(sorted, n, sizeof *sorted, cmp_u64);
	for (i = 0; i < n; i++)
		if ((i == 0 || sorted[i] != sorted[i - 1]) && ssh_put_u64(&list, sorted[i]) != 0)
			goto nomem;
	if (ssh_put_u64(&k, KRL_MAGIC) != 0 || ssh_put_u32(&k, KRL_FORMAT_VERSION) != 0 ||
	    ssh_put_u64(&k, version) != 0 || ssh_put_u64(&k, now) != 0 || ssh_put_u64(&k, 0) != 0 ||
	    ssh_put_string(&k, "", 0) != 0 || ssh_put_cstring(&k, "bulwark") != 0)
		goto nomem;
	for (c = 0; c < ncas; c++) {	/* the same serials under each CA: serials are request ids, unique across CAs */
		cakey.len = sect.len = 0;
		if (ssh_put_cstring(&cakey, "ssh-ed25519") != 0 || ssh_put_string(&cakey, cas[c]->pk, 32) != 0 ||
		    ssh_put_string(&sect, cakey.data, cakey.len) != 0 || ssh_put_string(&sect, "", 0) != 0)
			goto nomem;
		if (list.len > 0 && (bw_buf_append_byte(&sect, KRL_SECTION_CERT_SERIAL_LIST) != 0 ||
				     ssh_put_string(&sect, list.data, list.len) != 0))
			goto nomem;
		if (bw_buf_append_byte(&k, KRL_SECTION_CERTIFICATES) != 0 || ssh_put_string(&k, sect.data, sect.len) != 0)
			goto nomem;
	}
	*len = k.len;
	if ((*out = (uint8_t *)bw_buf_take(&k, NULL)) == NULL)
		goto nomem;
	free(sorted);
	bw_buf_free(&sect);
	bw_buf_free(&list);
	bw_buf_free(&cakey);
	return 0;
nomem:
	free(sorted);
	bw_buf_free(&k);
	bw_buf_free(&sect);
	bw_buf_free(&list);
	bw_buf_free(&cakey);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}
