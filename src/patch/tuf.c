/* patch/tuf.c: TUF Ed25519 key objects, key IDs, metadata signatures and role thresholds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"

json_t *
patch_key_object(const uint8_t pk[BW_ED25519_PK_SIZE])
{
	char hex[2 * BW_ED25519_PK_SIZE + 1];

	bw_hex_encode(hex, pk, BW_ED25519_PK_SIZE);
	return json_pack("{s:s, s:{s:s}, s:s}", "keytype", "ed25519", "keyval", "public", hex, "scheme", "ed25519");
}

int
patch_key_id(const json_t *key, char id[65], struct bw_err *err)
{
	uint8_t h[32];
	char *c = NULL;
	size_t len;
	int r;

	if ((r = patch_cjson(key, &c, &len, err)) != 0)
		return r;
	r = bw_sha256_oneshot(c, len, h);
	free(c);
	if (r != 0)
		return bw_err_set(err, r, "SHA-256 failed");
	bw_hex_encode(id, h, 32);
	return 0;
}

int
patch_key_parse(const json_t *key, uint8_t pk[BW_ED25519_PK_SIZE], struct bw_err *err)
{
	const char *type, *scheme, *pub;
	json_error_t jerr;

	if (json_unpack_ex((json_t *)key, &jerr, JSON_STRICT, "{s:s, s:{s:s}, s:s}", "keytype", &type, "keyval",
			   "public", &pub, "scheme", &scheme) != 0)
		return bw_err_set(err, BW_EINVAL, "key object: %s", jerr.text);
	if (strcmp(type, "ed25519") != 0 || strcmp(scheme, "ed25519") != 0)
		return bw_err_set(err, BW_EINVAL, "key object: only keytype and scheme 'ed25519' are accepted");
	if (strlen(pub) != 64 || bw_hex_decode(pub, 64, pk, BW_ED25519_PK_SIZE) != 0)
		return bw_err_set(err, BW_EINVAL, "key object: keyval.public must be 64 hex digits");
	return 0;
}

int
patch_sign(json_t *metadata, const struct bw_ed25519 *key, struct bw_err *err)
{
	json_t *signed_part = json_object_get(metadata, "signed"), *sigs, *kobj, *s;
	uint8_t sig[BW_ED25519_SIG_SIZE];
	char keyid[65], hex[2 * BW_ED25519_SIG_SIZE + 1], *c = NULL;
	size_t len, i;
	int r;

	if (!json_is_object(signed_part))
		return bw_err_set(err, BW_EINVAL, "metadata has no \"signed\" object");
	if ((kobj = patch_key_object(key->pk)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = patch_key_id(kobj, keyid, err);
	json_decref(kobj);
	if (r != 0 || (r = patch_cjson(signed_part, &c, &len, err)) != 0)
		return r;
	r = bw_ed25519_sign(key, c, len, sig, err);
	free(c);
	if (r != 0)
		return r;
	bw_hex_encode(hex, sig, sizeof sig);
	sigs = json_object_get(metadata, "signatures");
	if (sigs == NULL) {
		sigs = json_array();
		json_object_set_new(metadata, "signatures", sigs);
	}
	if (!json_is_array(sigs))
		return bw_err_set(err, BW_EINVAL, "metadata \"signatures\" is not an array");
	json_array_foreach(sigs, i, s) {
		json_t *k = json_object_get(s, "keyid");
		if (json_is_string(k) && strcmp(json_string_value(k), keyid) == 0) {
			json_array_remove(sigs, i);
			break;
		}
	}
	if (json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", keyid, "sig", hex)) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

int
patch_verify_role(const json_t *metadata, const json_t *root_signed, const char *role, size_t *valid,
		  struct bw_err *err)
{
	json_t *signed_part = json_object_get(metadata, "signed"), *sigs = json_object_get(metadata, "signatures");
	json_t *keys = json_object_get(root_signed, "keys"), *roles = json_object_get(root_signed, "roles");
	json_t *rdef = roles ? json_object_get(roles, role) : NULL, *keyids, *thr, *s;
	char *c = NULL, **seen = NULL;
	size_t len, i, nseen = 0, count = 0;
	int r = 0;

	if (valid != NULL)
		*valid = 0;
	if (!json_is_object(signed_part) || !json_is_array(sigs))
		return bw_err_set(err, BW_EINVAL, "%s metadata needs \"signed\" and \"signatures\"", role);
	if (!json_is_object(keys) || !json_is_object(rdef) || !json_is_array(keyids = json_object_get(rdef, "keyids")) ||
	    !json_is_integer(thr = json_object_get(rdef, "threshold")) || json_integer_value(thr) < 1)
		return bw_err_set(err, BW_EINVAL, "root does not define role '%s' with keyids and a threshold >= 1", role);
	if ((r = patch_cjson(signed_part, &c, &len, err)) != 0)
		return r;
	if ((seen = calloc(json_array_size(sigs) + 1, sizeof *seen)) == NULL) {
		free(c);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	json_array_foreach(sigs, i, s) {
		const char *kid, *hex;
		json_t *kobj, *k;
		uint8_t pk[BW_ED25519_PK_SIZE], sig[BW_ED25519_SIG_SIZE];
		char computed[65];
		size_t j;
		bool listed = false, dup = false;

		if (json_unpack(s, "{s:s, s:s}", "keyid", &kid, "sig", &hex) != 0)
			continue;
		json_array_foreach(keyids, j, k)
			if (json_is_string(k) && strcmp(json_string_value(k), kid) == 0)
				listed = true;
		for (j = 0; j < nseen; j++)
			dup |= strcmp(seen[j], kid) == 0;
		if (!listed || dup || (kobj = json_object_get(keys, kid)) == NULL)
			continue;	/* not this role's key, or counted already */
		/* The keyid must be the hash of the key it names (no aliasing one key as two). */
		if (patch_key_id(kobj, computed, NULL) != 0 || strcmp(computed, kid) != 0 ||
		    patch_key_parse(kobj, pk, NULL) != 0)
			continue;
		if (strlen(hex) != 2 * BW_ED25519_SIG_SIZE || bw_hex_decode(hex, strlen(hex), sig, sizeof sig) != 0 ||
		    bw_ed25519_verify(pk, c, len, sig) != 0)
			continue;
		seen[nseen++] = (char *)kid;
		count++;
	}
	free(c);
	free(seen);
	if (valid != NULL)
		*valid = count;
	if ((json_int_t)count < json_integer_value(thr))
		return bw_err_set(err, BW_EVERIFY, "%s: %lld of %zu keys must sign, %zu valid signature(s)", role,
				  (long long)json_integer_value(thr), json_array_size(keyids), count);
	return 0;
}

int
patch_verify_root_rotation(const json_t *old_root, const json_t *new_root, struct bw_err *err)
{
	const json_t *os = json_object_get(old_root, "signed"), *ns = json_object_get(new_root, "signed");
	json_t *ot, *nt, *ov, *nv;
	int r;

	if (!json_is_object(os) || !json_is_object(ns))
		return bw_err_set(err, BW_EINVAL, "root metadata needs a \"signed\" object");
	ot = json_object_get(os, "_type");
	nt = json_object_get(ns, "_type");
	if (!json_is_string(ot) || !json_is_string(nt) || strcmp(json_string_value(ot), "root") != 0 ||
	    strcmp(json_string_value(nt), "root") != 0)
		return bw_err_set(err, BW_EINVAL, "both files must be root metadata (_type \"root\")");
	ov = json_object_get(os, "version");
	nv = json_object_get(ns, "version");
	if (!json_is_integer(ov) || !json_is_integer(nv) || json_integer_value(ov) < 1)
		return bw_err_set(err, BW_EINVAL, "root versions must be integers >= 1");
	if (json_integer_value(nv) != json_integer_value(ov) + 1)
		return bw_err_set(err, BW_EVERIFY, "new root version %lld does not follow %lld (rollback or skip)",
				  (long long)json_integer_value(nv), (long long)json_integer_value(ov));
	if ((r = patch_verify_role(new_root, os, "root", NULL, err)) != 0)
		return bw_err_prefix(err, "signed by the old root's keys"), r;
	if ((r = patch_verify_role(new_root, ns, "root", NULL, err)) != 0)
		return bw_err_prefix(err, "signed by the new root's keys"), r;
	return 0;
}
