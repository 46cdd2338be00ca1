/*
 * Fuzzes the OpenSSH public key parser and the source-address checker.
 * Properties: no crash; rejections name a reason; an accepted key has a
 * known type, a fingerprint, and (RSA) at least 3072 bits.
 */
#include <stdlib.h>
#include <string.h>

#include "access/access.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_pubkey k;
	struct bw_err err = { 0 };
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ssh_pubkey_parse(s, size, &k, &err) == 0) {
		if (k.type < SSH_KEY_ED25519 || k.type > SSH_KEY_RSA || strncmp(k.fingerprint, "SHA256:", 7) != 0 ||
		    (k.type == SSH_KEY_RSA && k.bits < SSH_RSA_MIN_BITS))
			abort();
		ssh_pubkey_clear(&k);
	} else if (err.msg[0] == '\0' || k.blob != NULL) {
		abort();
	}
	bw_err_clear(&err);
	if (access_source_check(s, &err) != 0 && err.msg[0] == '\0')
		abort();
	free(s);
	return 0;
}
