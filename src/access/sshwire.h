/* access/sshwire.h: internal SSH wire-format helpers (not part of the module contract). */
#ifndef BW_ACCESS_SSHWIRE_H
#define BW_ACCESS_SSHWIRE_H

#include "access.h"

struct ssh_reader {
	const uint8_t *p;
	size_t len, pos;
};

/* Appends in SSH encoding; each returns 0 or BW_ENOMEM. */
int ssh_put_u32(struct bw_buf *b, uint32_t v);
int ssh_put_u64(struct bw_buf *b, uint64_t v);
int ssh_put_string(struct bw_buf *b, const void *p, size_t n);
int ssh_put_cstring(struct bw_buf *b, const char *s);
/* Reads; BW_EINVAL when the input ends early. */
int ssh_get_u32(struct ssh_reader *r, uint32_t *v);
int ssh_get_string(struct ssh_reader *r, const uint8_t **p, size_t *n);

#endif
