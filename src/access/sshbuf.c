/* access/sshbuf.c: the SSH wire encoding (RFC 4251 §5) used by keys, certificates and KRLs. */
#include <string.h>

#include "sshwire.h"

int
ssh_put_u32(struct bw_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return bw_buf_append(b, x, 4);
}

int
ssh_put_u64(struct bw_buf *b, uint64_t v)
{
	return ssh_put_u32(b, (uint32_t)(v >> 32)) || ssh_put_u32(b, (uint32_t)v) ? BW_ENOMEM : 0;
}

int
ssh_put_string(struct bw_buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		return BW_ERANGE;
	return ssh_put_u32(b, (uint32_t)n) || bw_buf_append(b, p, n) ? BW_ENOMEM : 0;
}

int
ssh_put_cstring(struct bw_buf *b, const char *s)
{
	return ssh_put_string(b, s, strlen(s));
}

int
ssh_get_u32(struct ssh_reader *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return BW_EINVAL;
	*v = (uint32_t)r->p[r->pos] << 24 | (uint32_t)r->p[r->pos + 1] << 16 |
	     (uint32_t)r->p[r->pos + 2] << 8 | r->p[r->pos + 3];
	r->pos += 4;
	return 0;
}

int
ssh_get_string(struct ssh_reader *r, const uint8_t **p, size_t *n)
{
	uint32_t len;

	if (ssh_get_u32(r, &len) != 0 || r->len - r->pos < len)
		return BW_EINVAL;
	*p = r->p + r->pos;
	*n = len;
	r->pos += len;
	return 0;
}
