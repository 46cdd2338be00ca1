/* access/sshcert.c: OpenSSH public keys, user certificates (PROTOCOL.certkeys) and the CA key line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "sshwire.h"

#define SSH_CERT_TYPE_USER 1

void
ssh_pubkey_clear(struct ssh_pubkey *k)
{
	if (k == NULL)
		return;
	free(k->blob);
	memset(k, 0, sizeof *k);
}

/* Bits of a positive mpint (leading zero bytes ignored). */
static unsigned
mpint_bits(const uint8_t *p, size_t n)
{
	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	return (unsigned)(n - 1) * 8 + (unsigned)(32 - __builtin_clz((unsigned)*p));
}

static int
ecdsa_check(const char *curve, const uint8_t *q, size_t qlen, unsigned *bits, struct bw_err *err)
{
	int nid = strcmp(curve, "nistp256") == 0 ? NID_X9_62_prime256v1
		  : strcmp(curve, "nistp384") == 0 ? NID_secp384r1
		  : strcmp(curve, "nistp521") == 0 ? NID_secp521r1 : 0;
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	int r = 0;

	if (nid == 0)
		return bw_err_set(err, BW_EINVAL, "unsupported ECDSA curve '%s'", curve);
	*bits = nid == NID_X9_62_prime256v1 ? 256 : nid == NID_secp384r1 ? 384 : 521;
	if ((g = EC_GROUP_new_by_curve_name(nid)) == NULL || (pt = EC_POINT_new(g)) == NULL)
		r = bw_err_set(err, BW_ECRYPTO, "OpenSSL cannot handle curve %s", curve);
	else if (qlen == 0 || q[0] != 0x04 || EC_POINT_oct2point(g, pt, q, qlen, NULL) != 1 ||
		 EC_POINT_is_on_curve(g, pt, NULL) != 1 || EC_POINT_is_at_infinity(g, pt))
		r = bw_err_set(err, BW_EINVAL, "ECDSA public key is not a valid uncompressed point on %s", curve);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return r;
}

int
ssh_pubkey_parse(const char *line, size_t len, struct ssh_pubkey *out, struct bw_err *err)
{
	const char *sp, *b64, *end;
	struct ssh_reader rd;
	const uint8_t *t, *a, *b;
	size_t tn, an, bn, tl, maxdec;
	uint8_t digest[32];
	char fp[48];
	int r;

	memset(out, 0, sizeof *out);
	if (len > SSH_KEY_LINE_MAX)
		return bw_err_set(err, BW_ERANGE, "public key longer than %d bytes", SSH_KEY_LINE_MAX);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if ((sp = memchr(line, ' ', len)) == NULL)
		return bw_err_set(err, BW_EINVAL, "public key must be \"TYPE BASE64 [comment]\"");
	tl = (size_t)(sp - line);
	if (tl == 0 || tl >= sizeof out->type_name)
		return bw_err_set(err, BW_EINVAL, "public key: bad key type");
	memcpy(out->type_name, line, tl);
	b64 = sp + 1;
	end = memchr(b64, ' ', len - tl - 1);
	if (end == NULL)
		end = line + len;
	maxdec = (size_t)(end - b64) / 4 * 3 + 3;
	if ((out->blob = malloc(maxdec)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_base64_decode(b64, (size_t)(end - b64), out->blob, maxdec, &out->blob_len) != 0) {
		r = bw_err_set(err, BW_EINVAL, "public key: the key is not valid base64");
		goto fail;
	}
	rd = (struct ssh_reader){ out->blob, out->blob_len, 0 };
	if (ssh_get_string(&rd, &t, &tn) != 0 || tn != tl || memcmp(t, out->type_name, tl) != 0) {
		r = bw_err_set(err, BW_EINVAL, "public key: the blob's type does not match '%s'", out->type_name);
		goto fail;
	}
	if (strcmp(out->type_name, "ssh-ed25519") == 0) {
		out->type = SSH_KEY_ED25519;
		out->bits = 256;
		if (ssh_get_string(&rd, &a, &an) != 0 || an != 32) {
			r = bw_err_set(err, BW_EINVAL, "ssh-ed25519 key must hold 32 bytes");
			goto fail;
		}
	} else if (strncmp(out->type_name, "ecdsa-sha2-", 11) == 0) {
		char curve[16];
		out->type = SSH_KEY_ECDSA;
		if (ssh_get_string(&rd, &a, &an) != 0 || an == 0 || an >= sizeof curve ||
		    ssh_get_string(&rd, &b, &bn) != 0) {
			r = bw_err_set(err, BW_EINVAL, "ECDSA key blob is malformed");
			goto fail;
		}
		memcpy(curve, a, an);
		curve[an] = '\0';
		if (strcmp(out->type_name + 11, curve) != 0) {
			r = bw_err_set(err, BW_EINVAL, "ECDSA key type and curve differ");
			goto fail;
		}
		if ((r = ecdsa_check(curve, b, bn, &out->bits, err)) != 0)
			goto fail;
	} else if (strcmp(out->type_name, "ssh-rsa") == 0) {
		out->type = SSH_KEY_RSA;
		if (ssh_get_string(&rd, &a, &an) != 0 || ssh_get_string(&rd, &b, &bn) != 0 || an == 0 || bn == 0 ||
		    (a[0] & 0x80) || (b[0] & 0x80) || !(a[an - 1] & 1)) {
			r = bw_err_set(err, BW_EINVAL, "RSA key blob is malformed");
			goto fail;
		}
		out->bits = mpint_bits(b, bn);
		if (out->bits < SSH_RSA_MIN_BITS || out->bits > 16384) {
			r = bw_err_set(err, BW_EINVAL, "RSA keys must have 3072..16384 bits (this one has %u)",
				       out->bits);
			goto fail;
		}
	} else {
		r = bw_err_set(err, BW_EINVAL,
			       "key type '%s' not accepted (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa >= 3072 bits)",
			       out->type_name);
		goto fail;
	}
	if (rd.pos != rd.len) {
		r = bw_err_set(err, BW_EINVAL, "public key blob has trailing bytes");
		goto fail;
	}
	if ((r = bw_sha256_oneshot(out->blob, out->blob_len, digest)) != 0) {
		r = bw_err_set(err, r, "SHA-256 failed");
		goto fail;
	}
	bw_base64_encode(fp, digest, 32);
	fp[43] = '\0';	/* ssh-keygen prints it without the '=' padding */
	snprintf(out->fingerprint, sizeof out->fingerprint, "SHA256:%s", fp);
	return 0;
fail:
	ssh_pubkey_clear(out);
	return r;
}

/* string "ssh-ed25519" string pk */
static int
ca_blob(const struct bw_ed25519 *ca, struct bw_buf *b)
{
	return ssh_put_cstring(b, "ssh-ed25519") || ssh_put_string(b, ca->pk, 32) ? BW_ENOMEM : 0;
}

int
ssh_ca_pubkey_line(const struct bw_ed25519 *ca, const char *comment, char **out, struct bw_err *err)
{
	struct bw_buf blob = { 0 }, line = { 0 };
	char *b64 = NULL;

	*out = NULL;
	if (ca_blob(ca, &blob) != 0 || (b64 = malloc(bw_base64_len(blob.len) + 1)) == NULL)
		goto nomem;
	bw_base64_encode(b64, blob.data, blob.len);
	if (bw_buf_printf(&line, "ssh-ed25519 %s%s%s", b64, comment ? " " : "", comment ? comment : "") != 0 ||
	    (*out = bw_buf_take(&line, NULL)) == NULL)
		goto nomem;
	bw_buf_free(&blob);
	free(b64);
	return 0;
nomem:
	bw_buf_free(&blob);
	bw_buf_free(&line);
	free(b64);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}

/* Appends (string name, string data) pairs; data empty or a string value. */
static int
put_option(struct bw_buf *b, const char *name, const char *value)
{
	struct bw_buf d = { 0 };
	int r;

	if (value != NULL && ssh_put_cstring(&d, value) != 0) {
		bw_buf_free(&d);
		return BW_ENOMEM;
	}
	r = ssh_put_cstring(b, name) || ssh_put_string(b, d.data, d.len) ? BW_ENOMEM : 0;
	bw_buf_free(&d);
	return r;
}

static bool
principal_valid(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n > SSH_PRINCIPAL_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-' || c == '@'))
			return false;
	}
	return true;
}

int
ssh_cert_sign(const struct bw_ed25519 *ca, const struct ssh_cert_req *q, const char *comment, char **out,
	      struct bw_err *err)
{
	struct bw_buf c = { 0 }, list = { 0 }, crit = { 0 }, ext = { 0 }, sigkey = { 0 }, sigblob = { 0 },
		      line = { 0 };
	struct ssh_reader rd;
	const uint8_t *t;
	size_t tn, i;
	uint8_t nonce[32], sig[BW_ED25519_SIG_SIZE];
	char certtype[64], *b64 = NULL;
	int r;

	*out = NULL;
	if (q->nprincipals == 0 || q->nprincipals > SSH_MAX_PRINCIPALS)
		return bw_err_set(err, BW_EINVAL, "a certificate needs 1..%d principals", SSH_MAX_PRINCIPALS);
	for (i = 0; i < q->nprincipals; i++)
		if (!principal_valid(q->principals[i]))
			return bw_err_set(err, BW_EINVAL, "invalid principal '%.64s'", q->principals[i]);
	if (q->valid_after >= q->valid_before)
		return bw_err_set(err, BW_EINVAL, "certificate window is empty or reversed");
	if (q->key_id == NULL || strlen(q->key_id) > 256)
		return bw_err_set(err, BW_EINVAL, "certificate key id missing or too long");
	snprintf(certtype, sizeof certtype, "%s-cert-v01@openssh.com", q->key->type_name);
	rd = (struct ssh_reader){ q->key->blob, q->key->blob_len, 0 };
	if (ssh_get_string(&rd, &t, &tn) != 0)
		return bw_err_set(err, BW_EINVAL, "malformed key blob");
	bw_random_bytes(nonce, sizeof nonce);
	/* Principals, critical options and extensions (each list sorted by name). */
	for (i = 0; i < q->nprincipals; i++)
		if (ssh_put_cstring(&list, q->principals[i]) != 0)
			goto nomem;
	if ((q->force_command && put_option(&crit, "force-command", q->force_command) != 0) ||
	    (q->source_address && put_option(&crit, "source-address", q->source_address) != 0))
		goto nomem;
	if ((q->permit_x11 && put_option(&ext, "permit-X11-forwarding", NULL) != 0) ||
	    (q->permit_agent && put_option(&ext, "permit-agent-forwarding", NULL) != 0) ||
	    (q->permit_port && put_option(&ext, "permit-port-forwarding", NULL) != 0) ||
	    (q->permit_pty && put_option(&ext, "permit-pty", NULL) != 0) ||
	    (q->permit_user_rc && put_option(&ext, "permit-user-rc", NULL) != 0))
		goto nomem;
	if (ca_blob(ca, &sigkey) != 0 || ssh_put_cstring(&c, certtype) != 0 ||
	    ssh_put_string(&c, nonce, sizeof nonce) != 0 ||
	    bw_buf_append(&c, q->key->blob + rd.pos, q->key->blob_len - rd.pos) != 0 ||
	    ssh_put_u64(&c, q->serial) != 0 || ssh_put_u32(&c, SSH_CERT_TYPE_USER) != 0 ||
	    ssh_put_cstring(&c, q->key_id) != 0 || ssh_put_string(&c, list.data, list.len) != 0 ||
	    ssh_put_u64(&c, q->valid_after) != 0 || ssh_put_u64(&c, q->valid_before) != 0 ||
	    ssh_put_string(&c, crit.data, crit.len) != 0 || ssh_put_string(&c, ext.data, ext.len) != 0 ||
	    ssh_put_string(&c, "", 0) != 0 || ssh_put_string(&c, sigkey.data, sigkey.len) != 0)
		goto nomem;
	if ((r = bw_ed25519_sign(ca, c.data, c.len, sig, err)) != 0)
		goto out;
	if (ssh_put_cstring(&sigblob, "ssh-ed25519") != 0 || ssh_put_string(&sigblob, sig, sizeof sig) != 0 ||
	    ssh_put_string(&c, sigblob.data, sigblob.len) != 0 ||
	    (b64 = malloc(bw_base64_len(c.len) + 1)) == NULL)
		goto nomem;
	bw_base64_encode(b64, c.data, c.len);
	if (bw_buf_printf(&line, "%s %s %s\n", certtype, b64, comment ? comment : q->key_id) != 0 ||
	    (*out = bw_buf_take(&line, NULL)) == NULL)
		goto nomem;
	r = 0;
	goto out;
nomem:
	r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	free(b64);
	bw_buf_free(&c);
	bw_buf_free(&list);
	bw_buf_free(&crit);
	bw_buf_free(&ext);
	bw_buf_free(&sigkey);
	bw_buf_free(&sigblob);
	bw_buf_free(&line);
	return r;
}

int
ssh_cert_signer(const char *line, uint8_t ca_pk[32], struct bw_err *err)
{
	const char *sp = strchr(line, ' '), *end;
	const uint8_t *p, *t;
	uint8_t *blob = NULL;
	size_t n = 0, len, tl;
	uint32_t u;
	struct ssh_reader r;
	int i, rc = 0;

	if (sp == NULL || strncmp(line, "ssh-ed25519-cert-v01@openssh.com ", 33) != 0)
		return bw_err_set(err, BW_EINVAL, "not an Ed25519 OpenSSH certificate");
	sp++;
	end = strchr(sp, ' ');
	len = end != NULL ? (size_t)(end - sp) : strlen(sp);
	if ((blob = malloc(len)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_base64_decode(sp, len, blob, len, &n) != 0) {
		free(blob);
		return bw_err_set(err, BW_EINVAL, "the certificate is not base64");
	}
	r = (struct ssh_reader){ blob, n, 0 };
	/* type, nonce, pk, serial (u64), type (u32), key id, principals, valid after, valid before (u64s),
	   critical options, extensions, reserved, then the signature key */
	rc |= ssh_get_string(&r, &p, &len) | ssh_get_string(&r, &p, &len) | ssh_get_string(&r, &p, &len);
	rc |= ssh_get_u32(&r, &u) | ssh_get_u32(&r, &u) | ssh_get_u32(&r, &u);
	rc |= ssh_get_string(&r, &p, &len) | ssh_get_string(&r, &p, &len);
	for (i = 0; i < 4; i++)
		rc |= ssh_get_u32(&r, &u);
	rc |= ssh_get_string(&r, &p, &len) | ssh_get_string(&r, &p, &len) | ssh_get_string(&r, &p, &len);
	if (rc == 0 && ssh_get_string(&r, &p, &len) == 0) {
		struct ssh_reader k = { p, len, 0 };
		if (ssh_get_string(&k, &t, &tl) == 0 && tl == 11 && memcmp(t, "ssh-ed25519", 11) == 0 &&
		    ssh_get_string(&k, &t, &tl) == 0 && tl == 32 && k.pos == k.len) {
			memcpy(ca_pk, t, 32);
			free(blob);
			return 0;
		}
	}
	free(blob);
	return bw_err_set(err, BW_EINVAL, "the certificate's signature key cannot be read (not an Ed25519 CA's)");
}
