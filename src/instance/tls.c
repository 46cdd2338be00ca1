/* server/tls.c: a self-signed TLS certificate (OpenSSL) for the default set-up. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "instance.h"

static int
add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok;
}

/* Writes the private key (0600) or the certificate (0644) as PEM to a new file. */
static int
write_pem(const char *path, EVP_PKEY *key, X509 *cert, struct bw_err *err)
{
	BIO *mem = BIO_new(BIO_s_secmem());
	char *data = NULL;
	long len;
	int r;

	if (mem == NULL || (key != NULL && !PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL)) ||
	    (cert != NULL && !PEM_write_bio_X509(mem, cert)) || (len = BIO_get_mem_data(mem, &data)) <= 0) {
		BIO_free(mem);
		return bw_err_set(err, BW_ECRYPTO, "cannot encode %s (OpenSSL)", path);
	}
	r = key != NULL ? bw_file_create_secret(path, data, (size_t)len, err)
			: bw_file_create_new(path, data, (size_t)len, 0644, err);
	BIO_free(mem);	/* a secure-heap BIO: cleared when freed */
	return r;
}

int
tls_self_signed(const char *cert_path, const char *key_path, struct bw_err *err)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int r = BW_ECRYPTO;

	if ((pkey = EVP_EC_gen("P-256")) == NULL || (cert = X509_new()) == NULL)
		goto out;
	bw_random_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) || !X509_set_version(cert, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 825L * 86400) || !X509_set_pubkey(cert, pkey))
		goto out;
	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"bulwark", -1, -1, 0) ||
	    !X509_set_issuer_name(cert, name) ||
	    !add_ext(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
	    !add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(cert, NID_ext_key_usage, "serverAuth") || !X509_sign(cert, pkey, EVP_sha256()))
		goto out;
	/* PEM in memory, then each file created whole and durable (the key 0600). */
	if ((r = write_pem(key_path, pkey, NULL, err)) != 0 || (r = write_pem(cert_path, NULL, cert, err)) != 0)
		goto out;
	r = 0;
out:
	if (r == BW_ECRYPTO)
		bw_err_set(err, r, "cannot generate the self-signed TLS certificate (OpenSSL)");
	BN_free(bn);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return r;
}
