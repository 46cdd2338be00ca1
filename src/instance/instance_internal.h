/* instance/instance_internal.h: what the instance module's files share. */
#ifndef BW_INSTANCE_INTERNAL_H
#define BW_INSTANCE_INTERNAL_H

#include "instance.h"

/* out = data/rel; BW_ERANGE when it does not fit. */
int path_in(char *out, size_t cap, const char *data, const char *rel, struct bw_err *err);
/* A new sealed file at path: pt (n bytes) under kek, bound to ad ("bulwark-sealed-v1 BASE64"). */
int write_sealed(const char *path, const uint8_t *kek, const char *ad, const void *pt, size_t n, struct bw_err *err);
/* A sealed file's plaintext into secure memory *out (caller bw_secure_free()s), *n bytes. */
int read_sealed(const char *path, const uint8_t *kek, const char *ad, uint8_t **out, size_t *n, struct bw_err *err);
/* A signer key sealed under the KEK at path (*signer), and its verifier key text (*vkey, when not NULL); caller frees. */
int sealed_signer_load(const char *path, const uint8_t *kek, const char *ad, struct note_signer **signer, char **vkey,
		       struct bw_err *err);
/* A sealed Ed25519 key (data/rel, bound to ad), created when there is none yet. */
int sealed_ed25519_load(const char *data, const uint8_t *kek, const char *rel, const char *ad, struct bw_ed25519 *key,
			struct bw_err *err);

/* ssh_ca.c: the SSH user CA(s) of in, by the rotation file when there is one (created on first use). */
#define LOG_KEY_AD "bulwark log signer"
/* Frees the log keys a rotation replaced (instance_close). */
void instance_log_retired_free(struct instance *in);
/* Overwrites path's bytes with zeros (durably), then unlinks it: a secret's best-effort erasure. */
int erase_file(const char *path, struct bw_err *err);

int instance_ca_load(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err);
void instance_ca_clear(struct instance *in);

#define TUF_SNAPSHOT_AD "bulwark tuf snapshot key"
#define TUF_TIMESTAMP_AD "bulwark tuf timestamp key"
/* tuf_keys.c: the staged TUF online keys, when there are. */
int instance_tuf_load_staged(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err);

#endif
