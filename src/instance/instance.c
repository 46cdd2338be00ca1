/* server/instance.c: the data directory: KEK, sealed keys, database, log, TLS, first admin. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance_internal.h"
#include "tlog/tlog.h"

#define KEK_MAGIC "bulwark-kek-v1 "
#define KEK_ARGON_MAGIC "bulwark-kek-argon2id-v1"
#define SEALED_MAGIC "bulwark-sealed-v1 "
#define HOSTLOG_KEY_AD "bulwark host-event log signer"
#define WITNESS_KEY_AD "bulwark witness cosigner"
#define KEK_CHECK_AD "bulwark kek check"

int
path_in(char *out, size_t cap, const char *data, const char *rel, struct bw_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/%s", data, rel) >= cap)
		return bw_err_set(err, BW_ERANGE, "path too long: %s/%s", data, rel);
	return 0;
}

/* "bulwark-sealed-v1 <base64(nonce||ct||tag)>\n" under kek with ad. */
int
write_sealed(const char *path, const uint8_t *kek, const char *ad, const void *pt, size_t n,
	     struct bw_err *err)
{
	uint8_t *sealed = malloc(n + BW_AEAD_OVERHEAD);
	char *text = malloc(sizeof SEALED_MAGIC + bw_base64_len(n + BW_AEAD_OVERHEAD) + 2);
	int r;

	if (sealed == NULL || text == NULL) {
		free(sealed);
		free(text);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if ((r = bw_aead_seal(kek, ad, strlen(ad), pt, n, sealed, err)) == 0) {
		strcpy(text, SEALED_MAGIC);
		bw_base64_encode(text + strlen(SEALED_MAGIC), sealed, n + BW_AEAD_OVERHEAD);
		strcat(text, "\n");
		r = bw_file_create_secret(path, text, strlen(text), err);
	}
	free(sealed);
	free(text);
	return r;
}

/* Reads a sealed file into secure memory *out (caller: bw_secure_free) of *n bytes. */
int
read_sealed(const char *path, const uint8_t *kek, const char *ad, uint8_t **out, size_t *n,
	    struct bw_err *err)
{
	uint8_t *text = NULL, *raw = NULL;
	size_t len = 0, rawlen = 0, ml = strlen(SEALED_MAGIC);
	int r;

	*out = NULL;
	if ((r = bw_file_read(path, 65536, &text, &len, err)) != 0)
		return r;
	while (len > 0 && text[len - 1] == '\n')
		len--;
	if (len < ml || memcmp(text, SEALED_MAGIC, ml) != 0 || (raw = malloc(len)) == NULL ||
	    bw_base64_decode((char *)text + ml, len - ml, raw, len, &rawlen) != 0 ||
	    rawlen < BW_AEAD_OVERHEAD) {
		r = bw_err_set(err, BW_ECORRUPT, "%s: not a sealed key file", path);
		goto out;
	}
	*n = rawlen - BW_AEAD_OVERHEAD;
	if ((*out = bw_secure_alloc(*n + 1)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of secure memory");
		goto out;
	}
	if ((r = bw_aead_open(kek, ad, strlen(ad), raw, rawlen, *out, err)) != 0) {
		bw_err_prefix(err, "%s", path);
		bw_secure_free(*out);
		*out = NULL;
		goto out;
	}
	(*out)[*n] = 0;
out:
	free(text);
	free(raw);
	return r;
}

/* Creates the KEK: random in a 0600 file, or derived from a passphrase (salt + check stored). */
static int
kek_create(const char *data, const char *passphrase, const struct bw_pwhash_cost *cost, uint8_t *kek,
	   struct bw_err *err)
{
	char path[4096], line[512], b64[64], chk64[128];
	uint8_t salt[16], check[16 + BW_AEAD_OVERHEAD];
	int r;

	if (passphrase == NULL) {
		bw_random_bytes(kek, BW_AEAD_KEY_SIZE);
		bw_base64_encode(b64, kek, BW_AEAD_KEY_SIZE);
		snprintf(line, sizeof line, KEK_MAGIC "%s\n", b64);
		bw_memzero(b64, sizeof b64);
		r = path_in(path, sizeof path, data, INSTANCE_KEK, err);
		if (r == 0)
			r = bw_file_create_secret(path, line, strlen(line), err);
		bw_memzero(line, sizeof line);
		return r;
	}
	if (strlen(passphrase) < 12)
		return bw_err_set(err, BW_EINVAL, "passphrase shorter than 12 characters");
	bw_random_bytes(salt, sizeof salt);
	if ((r = bw_kdf_passphrase(passphrase, strlen(passphrase), salt, cost, kek, err)) != 0 ||
	    (r = bw_aead_seal(kek, KEK_CHECK_AD, strlen(KEK_CHECK_AD), "bulwark kek ok!!", 16, check, err)) != 0)
		return r;
	bw_base64_encode(b64, salt, sizeof salt);
	bw_base64_encode(chk64, check, sizeof check);
	snprintf(line, sizeof line, KEK_ARGON_MAGIC " %llu %zu %s %s\n", cost->opslimit, cost->memlimit, b64,
		 chk64);
	if ((r = path_in(path, sizeof path, data, INSTANCE_KEK_ARGON, err)) != 0)
		return r;
	return bw_file_create_secret(path, line, strlen(line), err);
}

bool
instance_needs_passphrase(const char *data)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", data, INSTANCE_KEK_ARGON);
	return access(path, F_OK) == 0;
}

static int
kek_load(const char *data, const char *passphrase, uint8_t *kek, struct bw_err *err)
{
	char path[4096], salt64[64], chk64[128];
	uint8_t *text = NULL, salt[16], check[64], plain[16];
	size_t len, n1, n2;
	struct bw_pwhash_cost cost;
	int r;

	if (!instance_needs_passphrase(data)) {
		size_t ml = strlen(KEK_MAGIC);
		if ((r = path_in(path, sizeof path, data, INSTANCE_KEK, err)) != 0 ||
		    (r = bw_file_read_secret(path, 4096, &text, &len, err)) != 0)
			return r;
		while (len > 0 && text[len - 1] == '\n')
			len--;
		if (len < ml || memcmp(text, KEK_MAGIC, ml) != 0 ||
		    bw_base64_decode((char *)text + ml, len - ml, kek, BW_AEAD_KEY_SIZE, &n1) != 0 ||
		    n1 != BW_AEAD_KEY_SIZE)
			r = bw_err_set(err, BW_ECORRUPT, "%s: not a key-encryption key file", path);
		bw_secure_free(text);	/* wiped */
		return r;
	}
	if (passphrase == NULL)
		return bw_err_set(err, BW_EINVAL, "this data directory is sealed with a passphrase "
				  "(set BULWARK_PASSPHRASE or enter it at the prompt)");
	if ((r = path_in(path, sizeof path, data, INSTANCE_KEK_ARGON, err)) != 0 ||
	    (r = bw_file_read(path, 4096, &text, &len, err)) != 0)
		return r;
	if (sscanf((char *)text, KEK_ARGON_MAGIC " %llu %zu %63s %127s", &cost.opslimit, &cost.memlimit, salt64,
		   chk64) != 4 ||
	    bw_base64_decode(salt64, strlen(salt64), salt, sizeof salt, &n1) != 0 || n1 != sizeof salt ||
	    bw_base64_decode(chk64, strlen(chk64), check, sizeof check, &n2) != 0 ||
	    n2 != 16 + BW_AEAD_OVERHEAD) {
		free(text);
		return bw_err_set(err, BW_ECORRUPT, "%s: malformed", path);
	}
	free(text);
	if ((r = bw_kdf_passphrase(passphrase, strlen(passphrase), salt, &cost, kek, err)) != 0)
		return r;
	if (bw_aead_open(kek, KEK_CHECK_AD, strlen(KEK_CHECK_AD), check, n2, plain, NULL) != 0) {
		bw_memzero(kek, BW_AEAD_KEY_SIZE);
		return bw_err_set(err, BW_EVERIFY, "wrong passphrase");
	}
	return 0;
}

/* Loads a sealed Ed25519 key (rel, bound to ad), creating it when this data directory has none yet. */
int
sealed_ed25519_load(const char *data, const uint8_t *kek, const char *rel, const char *ad, struct bw_ed25519 *key,
		    struct bw_err *err)
{
	char path[4096];
	uint8_t *seed = NULL, fresh[BW_ED25519_SEED_SIZE];
	size_t n = 0;
	int r;

	if ((r = path_in(path, sizeof path, data, rel, err)) != 0)
		return r;
	if (access(path, F_OK) != 0) {
		struct bw_ed25519 k = { 0 };
		if ((r = bw_ed25519_generate(&k, err)) != 0)
			return r;
		bw_ed25519_seed(&k, fresh);
		bw_ed25519_free(&k);
		r = write_sealed(path, kek, ad, fresh, sizeof fresh, err);
		bw_memzero(fresh, sizeof fresh);
		if (r != 0)
			return r;
	}
	if ((r = read_sealed(path, kek, ad, &seed, &n, err)) != 0)
		return r;
	if (n != BW_ED25519_SEED_SIZE)
		r = bw_err_set(err, BW_ECORRUPT, "%s: not an Ed25519 seed", path);
	else
		r = bw_ed25519_from_seed(key, seed, err);
	bw_secure_free(seed);
	return r;
}

/* The SSH user CA and the TUF online keys (snapshot, timestamp), created on first use. */
static int
online_keys_load(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err)
{
	int r;

	if ((r = instance_ca_load(data, kek, in, err)) != 0 ||
	    (r = sealed_ed25519_load(data, kek, INSTANCE_TUF_SNAPSHOT, TUF_SNAPSHOT_AD, &in->tuf_snapshot, err)) != 0 ||
	    (r = sealed_ed25519_load(data, kek, INSTANCE_TUF_TIMESTAMP, TUF_TIMESTAMP_AD, &in->tuf_timestamp, err)) != 0 ||
	    (r = instance_tuf_load_staged(data, kek, in, err)) != 0)
		return r;
	return 0;
}

void
instance_init_result_clear(struct instance_init_result *res)
{
	free(res->log_vkey);
	memset(res, 0, sizeof *res);
}

static int
copy_file(const char *from, const char *to, unsigned mode, struct bw_err *err)
{
	uint8_t *data = NULL;
	size_t len;
	int r;

	if ((r = bw_file_read(from, 1 << 20, &data, &len, err)) != 0)
		return r;
	r = bw_file_create_new(to, data, len, mode, err);
	bw_memzero(data, len);
	free(data);
	return r;
}

int
instance_init(const struct instance_init_opts *o, struct instance_init_result *res, struct bw_err *err)
{
	char path[4096], path2[4096], *skey = NULL;
	uint8_t *kek = NULL;
	struct note_signer *signer = NULL;
	struct bw_db *db = NULL;
	int r;

	memset(res, 0, sizeof *res);
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return bw_err_set(err, BW_EINVAL, "give both --tls-cert and --tls-key, or neither");
	if ((r = bw_mkdir_p(o->data, 0700, err)) != 0)
		return r;
	if ((r = path_in(path, sizeof path, o->data, INSTANCE_DB, err)) != 0)
		return r;
	if (access(path, F_OK) == 0)
		return bw_err_set(err, BW_EEXIST, "%s already holds a bulwark instance", o->data);
	chmod(o->data, 0700);
	if ((kek = bw_secure_alloc(BW_AEAD_KEY_SIZE)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of secure memory");
	if ((r = kek_create(o->data, o->passphrase, o->cost, kek, err)) != 0)
		goto out;
	/* The log key, sealed. */
	if ((r = note_key_generate(o->origin, &skey, &res->log_vkey, err)) != 0) {
		bw_err_prefix(err, "--origin");
		goto out;
	}
	if ((r = path_in(path, sizeof path, o->data, "keys", err)) != 0 || (r = bw_mkdir_p(path, 0700, err)) != 0 ||
	    (r = path_in(path, sizeof path, o->data, INSTANCE_LOG_KEY, err)) != 0 ||
	    (r = write_sealed(path, kek, LOG_KEY_AD, skey, strlen(skey), err)) != 0 ||
	    (r = note_signer_parse(skey, strlen(skey), &signer, err)) != 0 ||
	    (r = path_in(path, sizeof path, o->data, INSTANCE_LOG_DIR, err)) != 0 ||
	    (r = tlog_store_init(path, signer, err)) != 0)
		goto out;
	if ((r = path_in(path2, sizeof path2, path, TLOG_VKEY_FILE, err)) != 0)
		goto out;
	{
		char line[512];
		snprintf(line, sizeof line, "%s\n", res->log_vkey);
		if ((r = bw_file_create_new(path2, line, strlen(line), 0644, err)) != 0)
			goto out;
	}
	/* The SSH user CA and the TUF online keys, sealed like the log key. */
	{
		struct instance keys = { 0 };
		r = online_keys_load(o->data, kek, &keys, err);
		instance_ca_clear(&keys);
		bw_ed25519_free(&keys.tuf_snapshot);
		bw_ed25519_free(&keys.tuf_timestamp);
		bw_ed25519_free(&keys.tuf_snapshot_next);
		bw_ed25519_free(&keys.tuf_timestamp_next);
		if (r != 0)
			goto out;
	}
	/* TLS */
	if ((r = path_in(path, sizeof path, o->data, "tls", err)) != 0 || (r = bw_mkdir_p(path, 0700, err)) != 0 ||
	    (r = path_in(path, sizeof path, o->data, INSTANCE_TLS_CERT, err)) != 0 ||
	    (r = path_in(path2, sizeof path2, o->data, INSTANCE_TLS_KEY, err)) != 0)
		goto out;
	if (o->tls_cert != NULL) {
		if ((r = copy_file(o->tls_cert, path, 0644, err)) != 0 ||
		    (r = copy_file(o->tls_key, path2, 0600, err)) != 0)
			goto out;
	} else if ((r = tls_self_signed(path, path2, err)) != 0) {
		goto out;
	}
	/* The database, last: its presence marks a complete data directory. */
	if ((r = path_in(path, sizeof path, o->data, INSTANCE_DB, err)) != 0 || (r = db_open(path, true, &db, err)) != 0)
		goto out;
out:
	if (skey != NULL) {
		bw_memzero(skey, strlen(skey));
		free(skey);
	}
	bw_secure_free(kek);	/* wiped */
	note_signer_free(signer);
	db_close(db);
	if (r != 0)
		instance_init_result_clear(res);
	return r;
}

/*
 * The host-event log: its own key (sealed) and directory, named after the
 * audit log ("<origin>/hosts"); created on first open, so a data directory
 * made before host events existed gains one.
 */
int
sealed_signer_load(const char *path, const uint8_t *kek, const char *ad, struct note_signer **signer, char **vkey,
		   struct bw_err *err)
{
	uint8_t *skey = NULL;
	size_t n = 0;
	int r;

	if ((r = read_sealed(path, kek, ad, &skey, &n, err)) != 0)
		return r;
	r = note_signer_parse((char *)skey, n, signer, err);
	bw_secure_free(skey);
	if (r == 0 && vkey != NULL)
		r = note_signer_vkey(*signer, vkey, err);
	return r;
}

/* This server's witness key (cosignature/v1), made sealed on the first open; the witness state's path. */
static int
witness_load(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err)
{
	char path[4096];
	int r;

	if ((r = path_in(path, sizeof path, data, INSTANCE_WITNESS_KEY, err)) != 0)
		return r;
	if (access(path, F_OK) != 0) {
		char name[TLOG_ORIGIN_MAX + 16], *sk = NULL, *vk = NULL;
		snprintf(name, sizeof name, "%s/witness", in->log_signer->name);
		if ((r = note_key_generate_alg(name, NOTE_ALG_COSIGNATURE_V1, &sk, &vk, err)) != 0)
			return bw_err_prefix(err, "witness key");
		r = write_sealed(path, kek, WITNESS_KEY_AD, sk, strlen(sk), err);
		bw_memzero(sk, strlen(sk));
		free(sk);
		free(vk);
		if (r != 0)
			return r;
	}
	r = sealed_signer_load(path, kek, WITNESS_KEY_AD, &in->witness_signer, &in->witness_vkey, err);
	if (r == 0 && ((r = path_in(path, sizeof path, data, INSTANCE_WITNESS_DB, err)) != 0 ||
		       (in->witness_db_path = strdup(path)) == NULL))
		r = r ? r : bw_err_set(err, BW_ENOMEM, "out of memory");
	return r;
}

static int
hostlog_load(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err)
{
	char path[4096], dir[4096], vpath[4096];
	int r;

	if ((r = path_in(path, sizeof path, data, INSTANCE_HOSTLOG_KEY, err)) != 0 ||
	    (r = path_in(dir, sizeof dir, data, INSTANCE_HOSTLOG_DIR, err)) != 0 ||
	    (r = path_in(vpath, sizeof vpath, dir, TLOG_VKEY_FILE, err)) != 0)
		return r;
	if (access(path, F_OK) != 0) {
		char origin[TLOG_ORIGIN_MAX + 8], *sk = NULL, *vk = NULL;
		struct note_signer *signer = NULL;
		snprintf(origin, sizeof origin, "%s/hosts", in->log_signer->name);
		if ((r = note_key_generate(origin, &sk, &vk, err)) != 0)
			return bw_err_prefix(err, "host-event log key");
		r = write_sealed(path, kek, HOSTLOG_KEY_AD, sk, strlen(sk), err);
		if (r == 0 && (r = note_signer_parse(sk, strlen(sk), &signer, err)) == 0 &&
		    (r = tlog_store_init(dir, signer, err)) == 0) {
			char line[512];
			snprintf(line, sizeof line, "%s\n", vk);
			r = bw_file_create_new(vpath, line, strlen(line), 0644, err);
		}
		note_signer_free(signer);
		bw_memzero(sk, strlen(sk));
		free(sk);
		free(vk);
		if (r != 0)
			return r;
	}
	if ((r = sealed_signer_load(path, kek, HOSTLOG_KEY_AD, &in->hostlog_signer, &in->hostlog_vkey, err)) != 0)
		return r;
	if ((in->hostlog_dir = strdup(dir)) == NULL ||
	    (r = path_in(path, sizeof path, data, INSTANCE_HOSTDB, err)) != 0 || (in->hostdb_path = strdup(path)) == NULL)
		return r ? r : bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

int
instance_open(const char *data, const char *passphrase, const struct bw_pwhash_cost *cost,
	      struct instance *in, struct bw_err *err)
{
	char path[4096];
	uint8_t *skey = NULL;
	size_t n = 0;
	int r;

	memset(in, 0, sizeof *in);
	if (pthread_mutex_init(&in->log_key_mu, NULL) != 0)
		return bw_err_set(err, BW_EIO, "cannot create a lock");
	in->log_key_mu_ready = true;
	if ((in->data = strdup(data)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = path_in(path, sizeof path, data, INSTANCE_DB, err)) != 0)
		goto fail;
	if (access(path, F_OK) != 0) {
		r = bw_err_set(err, BW_ENOTFOUND, "%s holds no bulwark instance (run 'bulwark init --data %s')",
			       data, data);
		goto fail;
	}
	/* The one copy of the KEK: secure memory owned by the instance (auth borrows it). */
	if ((in->kek = bw_secure_alloc(BW_AEAD_KEY_SIZE)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of secure memory");
		goto fail;
	}
	if ((r = kek_load(data, passphrase, in->kek, err)) != 0 ||
	    (r = path_in(path, sizeof path, data, INSTANCE_LOG_KEY, err)) != 0)
		goto fail;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		/* a log key rotation stopped between erasing the old key and renaming the next one over it */
		char next[4096];
		if ((r = path_in(next, sizeof next, data, INSTANCE_LOG_KEY_NEXT, err)) != 0)
			goto fail;
		if (access(next, F_OK) == 0 && (rename(next, path) != 0 || bw_fsync_dir(path, false, err) != 0)) {
			r = bw_err_set(err, BW_EIO, "cannot finish the log key's rotation (%s to %s): %s", next, path,
				       strerror(errno));
			goto fail;
		}
	}
	if (
	    (r = read_sealed(path, in->kek, LOG_KEY_AD, &skey, &n, err)) != 0)
		goto fail;
	r = note_signer_parse((char *)skey, n, &in->log_signer, err);
	bw_secure_free(skey);
	if (r != 0 || (r = online_keys_load(data, in->kek, in, err)) != 0)
		goto fail;
	if ((r = path_in(path, sizeof path, data, INSTANCE_DB, err)) != 0 ||
	    (r = db_open(path, false, &in->db, err)) != 0 ||
	    (r = auth_init(&in->auth, in->db, in->kek, cost, err)) != 0)
		goto fail;
	if ((r = path_in(path, sizeof path, data, INSTANCE_LOG_DIR, err)) != 0 ||
	    (in->log_dir = strdup(path)) == NULL) {
		r = r ? r : bw_err_set(err, BW_ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = note_signer_verifier(in->log_signer, &in->log_verifier, err)) != 0 ||
	    (r = note_verifier_format(in->log_verifier, &in->log_vkey, err)) != 0 ||
	    (r = hostlog_load(data, in->kek, in, err)) != 0 || (r = witness_load(data, in->kek, in, err)) != 0)
		goto fail;
	return 0;
fail:
	instance_close(in);
	return r;
}

void
instance_close(struct instance *in)
{
	auth_clear(&in->auth);
	db_close(in->db);
	note_signer_free(in->log_signer);
	note_verifier_free(in->log_verifier);
	instance_log_retired_free(in);
	if (in->log_key_mu_ready)
		pthread_mutex_destroy(&in->log_key_mu);
	instance_ca_clear(in);
	bw_ed25519_free(&in->tuf_snapshot);
	bw_ed25519_free(&in->tuf_timestamp);
	bw_ed25519_free(&in->tuf_snapshot_next);
	bw_ed25519_free(&in->tuf_timestamp_next);
	bw_secure_free(in->kek);	/* wiped */
	free(in->data);
	free(in->log_dir);
	free(in->log_vkey);
	note_signer_free(in->witness_signer);
	free(in->witness_vkey);
	free(in->witness_db_path);
	note_signer_free(in->hostlog_signer);
	free(in->hostlog_dir);
	free(in->hostlog_vkey);
	free(in->hostdb_path);
	memset(in, 0, sizeof *in);
}
