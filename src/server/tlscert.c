/*
 * server/tlscert.c: the server's TLS certificate, handed to GnuTLS per
 * handshake (libmicrohttpd's certificate callback) so that it can be
 * replaced without a restart: server_reload_tls reads the data
 * directory's tls/cert.pem and tls/key.pem again, checks that the key
 * signs for the certificate, and only then puts them in use; a file that
 * does not load leaves the one in use as it is. Earlier credentials stay
 * allocated until the server stops (a handshake may still hold them).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "http.h"
#include "instance/instance.h"

#define TLS_CHAIN_MAX 8

struct tls_cred {
	gnutls_pcert_st certs[TLS_CHAIN_MAX];
	unsigned n;
	gnutls_privkey_t key;
	struct tls_cred *older;		/* replaced ones, freed with the server */
};

struct tlscert {
	pthread_rwlock_t lock;
	struct tls_cred *cur;
};

static void
cred_free(struct tls_cred *c)
{
	unsigned i;

	while (c != NULL) {
		struct tls_cred *older = c->older;
		for (i = 0; i < c->n; i++)
			gnutls_pcert_deinit(&c->certs[i]);
		if (c->key != NULL)
			gnutls_privkey_deinit(c->key);
		free(c);
		c = older;
	}
}

/* A certificate chain and its key from PEM text, the key shown to sign for the certificate. */
static int
cred_load(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len, struct tls_cred **out,
	  struct bw_err *err)
{
	struct tls_cred *c = calloc(1, sizeof *c);
	gnutls_datum_t cd = { (unsigned char *)cert_pem, (unsigned)cert_len }, kd = { (unsigned char *)key_pem, (unsigned)key_len };
	gnutls_datum_t probe = { (unsigned char *)"bulwark tls key check", 21 }, sig = { NULL, 0 };
	gnutls_sign_algorithm_t algo;
	unsigned n = TLS_CHAIN_MAX;
	int g;

	*out = NULL;
	if (c == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((g = gnutls_pcert_list_import_x509_raw(c->certs, &n, &cd, GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
		free(c);
		return bw_err_set(err, BW_EINVAL, "the TLS certificate does not load: %s", gnutls_strerror(g));
	}
	c->n = n;
	if ((g = gnutls_privkey_init(&c->key)) < 0 ||
	    (g = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		cred_free(c);
		return bw_err_set(err, BW_EINVAL, "the TLS key does not load: %s", gnutls_strerror(g));
	}
	algo = gnutls_pk_to_sign(gnutls_privkey_get_pk_algorithm(c->key, NULL), GNUTLS_DIG_SHA256);
	if ((g = gnutls_privkey_sign_data2(c->key, algo, 0, &probe, &sig)) < 0 ||
	    (g = gnutls_pubkey_verify_data2(c->certs[0].pubkey, algo, 0, &probe, &sig)) < 0) {
		gnutls_free(sig.data);
		cred_free(c);
		return bw_err_set(err, BW_EINVAL, "the TLS key is not the certificate's: %s", gnutls_strerror(g));
	}
	gnutls_free(sig.data);
	*out = c;
	return 0;
}

/* GnuTLS asks for the certificate of a handshake: the server's current one, found through the connection. */
static int
on_certificate(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
	       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
	       unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct MHD_Connection *c = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci = c != NULL ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct server *s = ci != NULL ? conns_owner(ci->socket_context) : NULL;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (s == NULL || s->tls == NULL)
		return -1;	/* no connection entry (out of memory): no handshake */
	pthread_rwlock_rdlock(&s->tls->lock);
	*pcert = s->tls->cur->certs;
	*pcert_length = s->tls->cur->n;
	*privkey = s->tls->cur->key;
	pthread_rwlock_unlock(&s->tls->lock);
	return 0;
}

gnutls_certificate_retrieve_function2 *
tlscert_callback(void)
{
	return on_certificate;
}

int
tlscert_new(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len, struct tlscert **out,
	    struct bw_err *err)
{
	struct tlscert *t = calloc(1, sizeof *t);
	int r;

	*out = NULL;
	if (t == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = cred_load(cert_pem, cert_len, key_pem, key_len, &t->cur, err)) != 0) {
		free(t);
		return r;
	}
	pthread_rwlock_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void
tlscert_free(struct tlscert *t)
{
	if (t == NULL)
		return;
	cred_free(t->cur);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

int
server_reload_tls(struct server *s, struct bw_err *err)
{
	char cpath[4200], kpath[4200];
	uint8_t *cert = NULL, *key = NULL;
	size_t clen = 0, klen = 0;
	struct tls_cred *c = NULL;
	int r;

	snprintf(cpath, sizeof cpath, "%s/%s", s->in->data, INSTANCE_TLS_CERT);
	snprintf(kpath, sizeof kpath, "%s/%s", s->in->data, INSTANCE_TLS_KEY);
	if ((r = bw_file_read(cpath, 1 << 20, &cert, &clen, err)) == 0 &&
	    (r = bw_file_read(kpath, 1 << 20, &key, &klen, err)) == 0)
		r = cred_load((const char *)cert, clen, (const char *)key, klen, &c, err);
	if (key != NULL)
		bw_memzero(key, klen);
	free(cert);
	free(key);
	if (r != 0)
		return r;
	pthread_rwlock_wrlock(&s->tls->lock);
	c->older = s->tls->cur;
	s->tls->cur = c;
	pthread_rwlock_unlock(&s->tls->lock);
	return 0;
}
