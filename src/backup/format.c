/*
 * backup/format.c: the backup file's header (how its key is had), the
 * recipient keys, member names and the manifest's reading.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "backup_internal.h"
#include "crypto/crypto.h"

#define OPS_MIN 2ull	/* Argon2id t bounds a header may ask for */
#define OPS_MAX 10ull
#define MEM_MAX ((size_t)1 << 30)
#define KEY_CHECK "bulwark backup key"	/* sealed in the header: a wrong key is named as such */

_Static_assert(crypto_box_PUBLICKEYBYTES == BACKUP_KEY_SIZE && crypto_box_SECRETKEYBYTES == BACKUP_KEY_SIZE,
	       "X25519 keys");

bool
backup_member_name_ok(const char *name)
{
	size_t n = strlen(name), start = 0;

	if (n == 0 || n > 255 || name[0] == '/')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || name[i] == '/') {
			size_t len = i - start;
			if (len == 0 || (len == 1 && name[start] == '.') ||
			    (len == 2 && name[start] == '.' && name[start + 1] == '.'))
				return false;
			start = i + 1;
		} else if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return false;
	}
	return true;
}

/* ---- keys ---------------------------------------------------------------------- */

int
backup_keygen(uint8_t pk[BACKUP_KEY_SIZE], uint8_t **sk, struct bw_err *err)
{
	if ((*sk = bw_secure_alloc(BACKUP_KEY_SIZE)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of secure memory");
	crypto_box_keypair(pk, *sk);
	return 0;
}

/* "PREFIX BASE64" with surrounding white space: the key's 32 bytes into out. */
static int
key_text_parse(const char *text, size_t len, const char *prefix, uint8_t *out, const char *what, struct bw_err *err)
{
	size_t pl = strlen(prefix), n = 0;

	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	if (len < pl || memcmp(text, prefix, pl) != 0 ||
	    bw_base64_decode(text + pl, len - pl, out, BACKUP_KEY_SIZE, &n) != 0 || n != BACKUP_KEY_SIZE)
		return bw_err_set(err, BW_EINVAL, "not a %s (expected \"%sBASE64\" of %d bytes)", what, prefix,
				  BACKUP_KEY_SIZE);
	return 0;
}

int
backup_public_key_parse(const char *text, size_t len, uint8_t pk[BACKUP_KEY_SIZE], struct bw_err *err)
{
	return key_text_parse(text, len, BACKUP_PUBLIC_PREFIX, pk, "backup public key", err);
}

int
backup_secret_key_read(const char *path, uint8_t **sk, struct bw_err *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	*sk = NULL;
	if ((r = bw_file_read_secret(path, 4096, &text, &len, err)) != 0)
		return r;
	if ((*sk = bw_secure_alloc(BACKUP_KEY_SIZE)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of secure memory");
	else if ((r = key_text_parse((char *)text, len, BACKUP_SECRET_PREFIX, *sk, "backup secret key file", err)) != 0)
		bw_err_set(err, r, "%s: not a backup secret key file (expected \"%sBASE64\")", path, BACKUP_SECRET_PREFIX);
	bw_secure_free(text);
	if (r != 0) {
		bw_secure_free(*sk);
		*sk = NULL;
	}
	return r;
}

/* ---- the header ---------------------------------------------------------------- */

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = malloc(bw_base64_len(n) + 1);

	if (s != NULL)
		bw_base64_encode(s, p, n);
	return s;
}

int
backup_header_make(const struct backup_key *k, char **json, uint8_t key[BACKUP_KEY_SIZE], struct bw_err *err)
{
	json_t *h = NULL;
	char *s1 = NULL, *s2 = NULL;
	int r = 0;

	*json = NULL;
	if (k->passphrase != NULL) {
		uint8_t salt[16];
		const struct bw_pwhash_cost *c = &bw_pwhash_default;
		if (strlen(k->passphrase) < 12)
			return bw_err_set(err, BW_EINVAL, "the backup passphrase is shorter than 12 characters");
		bw_random_bytes(salt, sizeof salt);
		if ((r = bw_kdf_passphrase(k->passphrase, strlen(k->passphrase), salt, c, key, err)) != 0)
			return r;
		s1 = b64(salt, sizeof salt);
		h = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?}", "format", BACKUP_FORMAT, "key", "passphrase", "kdf",
			      "argon2id", "opslimit", (json_int_t)c->opslimit, "memlimit", (json_int_t)c->memlimit,
			      "salt", s1);
	} else if (k->has_public) {
		uint8_t sealed[BACKUP_KEY_SIZE + crypto_box_SEALBYTES];
		bw_random_bytes(key, BACKUP_KEY_SIZE);
		if (crypto_box_seal(sealed, key, BACKUP_KEY_SIZE, k->public_key) != 0)
			return bw_err_set(err, BW_ECRYPTO, "cannot seal the file key to the recipient");
		s1 = b64(k->public_key, BACKUP_KEY_SIZE);
		s2 = b64(sealed, sizeof sealed);
		h = json_pack("{s:s, s:s, s:s?, s:s?}", "format", BACKUP_FORMAT, "key", "recipient", "recipient", s1,
			      "sealed_key", s2);
	} else
		return bw_err_set(err, BW_EINVAL, "a backup needs a passphrase or a recipient's public key");
	if (h != NULL && r == 0) {
		uint8_t check[sizeof KEY_CHECK - 1 + BW_AEAD_OVERHEAD];
		char *s3;
		if ((r = bw_aead_seal(key, BACKUP_FORMAT, strlen(BACKUP_FORMAT), KEY_CHECK, sizeof KEY_CHECK - 1, check,
				      err)) == 0 &&
		    ((s3 = b64(check, sizeof check)) == NULL || json_object_set_new(h, "key_check", json_string(s3)) != 0))
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
		else if (r == 0)
			free(s3);
	}
	if (r == 0 && (h == NULL || s1 == NULL || (k->has_public && k->passphrase == NULL && s2 == NULL) ||
	    (*json = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS)) == NULL))
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	json_decref(h);
	free(s1);
	free(s2);
	if (r != 0)
		bw_memzero(key, BACKUP_KEY_SIZE);
	return r;
}

/* The base64 field name of h, decoded to exactly n bytes. */
static int
b64_field(json_t *h, const char *name, uint8_t *out, size_t n, struct bw_err *err)
{
	const char *s = json_string_value(json_object_get(h, name));
	size_t got = 0;

	if (s == NULL || bw_base64_decode(s, strlen(s), out, n, &got) != 0 || got != n)
		return bw_err_set(err, BW_EINVAL, "backup header: \"%s\" is missing or not base64 of %zu bytes", name, n);
	return 0;
}

int
backup_header_key(const void *json, size_t len, const struct backup_key *k, uint8_t key[BACKUP_KEY_SIZE],
		  struct bw_err *err)
{
	json_error_t je;
	json_t *h = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	const char *fmt, *kind;
	int r = 0;

	if (h == NULL || !json_is_object(h)) {
		json_decref(h);
		return bw_err_set(err, BW_EINVAL, "backup header: not a JSON object");
	}
	fmt = json_string_value(json_object_get(h, "format"));
	kind = json_string_value(json_object_get(h, "key"));
	if (fmt == NULL || strcmp(fmt, BACKUP_FORMAT) != 0)
		r = bw_err_set(err, BW_EINVAL, "backup header: format is not \"%s\"", BACKUP_FORMAT);
	else if (kind == NULL)
		r = bw_err_set(err, BW_EINVAL, "backup header: \"key\" is missing");
	else if (strcmp(kind, "passphrase") == 0) {
		uint8_t salt[16];
		json_t *ops = json_object_get(h, "opslimit"), *mem = json_object_get(h, "memlimit");
		const char *kdf = json_string_value(json_object_get(h, "kdf"));
		struct bw_pwhash_cost c;
		if (kdf == NULL || strcmp(kdf, "argon2id") != 0)
			r = bw_err_set(err, BW_EINVAL, "backup header: kdf is not argon2id");
		else if (!json_is_integer(ops) || !json_is_integer(mem) || json_integer_value(ops) < (json_int_t)OPS_MIN ||
			 json_integer_value(ops) > (json_int_t)OPS_MAX ||
			 json_integer_value(mem) < (json_int_t)bw_pwhash_minimum.memlimit ||
			 json_integer_value(mem) > (json_int_t)MEM_MAX)
			r = bw_err_set(err, BW_EINVAL, "backup header: opslimit or memlimit missing or out of bounds");
		else if ((r = b64_field(h, "salt", salt, sizeof salt, err)) == 0) {
			if (k->passphrase == NULL)
				r = bw_err_set(err, BW_EINVAL, "this backup is encrypted to a passphrase");
			else {
				c.opslimit = (unsigned long long)json_integer_value(ops);
				c.memlimit = (size_t)json_integer_value(mem);
				r = bw_kdf_passphrase(k->passphrase, strlen(k->passphrase), salt, &c, key, err);
			}
		}
	} else if (strcmp(kind, "recipient") == 0) {
		uint8_t pk[BACKUP_KEY_SIZE], mine[BACKUP_KEY_SIZE], sealed[BACKUP_KEY_SIZE + crypto_box_SEALBYTES];
		if ((r = b64_field(h, "recipient", pk, sizeof pk, err)) == 0 &&
		    (r = b64_field(h, "sealed_key", sealed, sizeof sealed, err)) == 0) {
			if (k->secret_key == NULL)
				r = bw_err_set(err, BW_EINVAL, "this backup is encrypted to a recipient key (give its secret key)");
			else if (crypto_scalarmult_base(mine, k->secret_key) != 0 || sodium_memcmp(mine, pk, sizeof pk) != 0)
				r = bw_err_set(err, BW_EVERIFY, "this backup is encrypted to another recipient key");
			else if (crypto_box_seal_open(key, sealed, sizeof sealed, pk, k->secret_key) != 0)
				r = bw_err_set(err, BW_EVERIFY, "the backup's file key does not open with this secret key");
		}
	} else
		r = bw_err_set(err, BW_EINVAL, "backup header: unknown key kind");
	if (r == 0) {
		uint8_t check[sizeof KEY_CHECK - 1 + BW_AEAD_OVERHEAD], plain[sizeof KEY_CHECK - 1];
		if ((r = b64_field(h, "key_check", check, sizeof check, err)) == 0 &&
		    bw_aead_open(key, BACKUP_FORMAT, strlen(BACKUP_FORMAT), check, sizeof check, plain, NULL) != 0)
			r = bw_err_set(err, BW_EVERIFY, "wrong %s for this backup",
				       strcmp(kind, "passphrase") == 0 ? "passphrase" : "secret key");
	}
	json_decref(h);
	if (r != 0)
		bw_memzero(key, BACKUP_KEY_SIZE);
	return r;
}

/* ---- the manifest --------------------------------------------------------------- */

void
backup_manifest_clear(struct backup_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	for (size_t i = 0; i < m->nlogs; i++)
		free(m->logs[i].checkpoint);
	memset(m, 0, sizeof *m);
}

static bool
u64_field(json_t *o, const char *name, uint64_t *out)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static int
manifest_files(json_t *files, struct backup_manifest *m, struct bw_err *err)
{
	size_t i;
	json_t *f;

	if (!json_is_array(files))
		return bw_err_set(err, BW_EINVAL, "manifest: \"files\" is not an array");
	if ((m->files = calloc(json_array_size(files) + 1, sizeof *m->files)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *sum = json_string_value(json_object_get(f, "sha256"));
		struct backup_manifest_file *mf = &m->files[m->nfiles];
		if (path == NULL || !backup_member_name_ok(path) || strcmp(path, BACKUP_MANIFEST) == 0)
			return bw_err_set(err, BW_EINVAL, "manifest: file %zu: path missing or not allowed", i);
		if (!u64_field(f, "size", &mf->size))
			return bw_err_set(err, BW_EINVAL, "manifest: file %zu: size missing", i);
		if (sum == NULL || strlen(sum) != 64 || bw_hex_decode(sum, 64, mf->sha256, 32) != 0)
			return bw_err_set(err, BW_EINVAL, "manifest: file %zu: sha256 is not 64 hex digits", i);
		if ((mf->path = strdup(path)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		m->nfiles++;
	}
	return 0;
}

static int
manifest_logs(json_t *logs, struct backup_manifest *m, struct bw_err *err)
{
	size_t i;
	json_t *l;

	if (!json_is_array(logs) || json_array_size(logs) > 2)
		return bw_err_set(err, BW_EINVAL, "manifest: \"logs\" is not an array of at most 2");
	json_array_foreach(logs, i, l) {
		const char *dir = json_string_value(json_object_get(l, "dir"));
		const char *cp = json_string_value(json_object_get(l, "checkpoint"));
		if (dir == NULL || (strcmp(dir, "log") != 0 && strcmp(dir, "hostlog") != 0) ||
		    (i == 1 && strcmp(dir, m->logs[0].dir) == 0))
			return bw_err_set(err, BW_EINVAL, "manifest: log %zu: dir is not \"log\" or \"hostlog\" (once)", i);
		if (!u64_field(l, "size", &m->logs[i].size) || !u64_field(l, "acknowledged", &m->logs[i].acknowledged))
			return bw_err_set(err, BW_EINVAL, "manifest: log %zu: size or acknowledged missing", i);
		if (cp == NULL || (m->logs[i].checkpoint = strdup(cp)) == NULL)
			return bw_err_set(err, cp == NULL ? BW_EINVAL : BW_ENOMEM, "manifest: log %zu: checkpoint missing", i);
		snprintf(m->logs[i].dir, sizeof m->logs[i].dir, "%s", dir);
		m->nlogs++;
	}
	return 0;
}

int
backup_manifest_parse(const void *data, size_t len, struct backup_manifest *m, struct bw_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je), *kek;
	const char *fmt;
	int r;

	memset(m, 0, sizeof *m);
	if (j == NULL || !json_is_object(j)) {
		r = bw_err_set(err, BW_EINVAL, "manifest: not a JSON object (%s)", j == NULL ? je.text : "another type");
		json_decref(j);
		return r;
	}
	fmt = json_string_value(json_object_get(j, "format"));
	kek = json_object_get(j, "kek_included");
	if (fmt == NULL || strcmp(fmt, BACKUP_FORMAT) != 0)
		r = bw_err_set(err, BW_EINVAL, "manifest: format is not \"%s\"", BACKUP_FORMAT);
	else if (!json_is_boolean(kek))
		r = bw_err_set(err, BW_EINVAL, "manifest: kek_included is not true or false");
	else if ((r = manifest_files(json_object_get(j, "files"), m, err)) == 0)
		r = manifest_logs(json_object_get(j, "logs"), m, err);
	if (r == 0)
		m->kek_included = json_is_true(kek);
	json_decref(j);
	if (r != 0)
		backup_manifest_clear(m);
	return r;
}
