/*
 * access: remote-maintenance access: OpenSSH user certificates signed by
 * bulwark's Ed25519 user CA (PROTOCOL.certkeys) and key revocation lists
 * (PROTOCOL.krl), enforced by stock sshd (TrustedUserCAKeys, RevokedKeys).
 */
#ifndef BW_ACCESS_H
#define BW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "crypto/crypto.h"

#define SSH_KEY_LINE_MAX 16384
#define SSH_MAX_PRINCIPALS 64
#define SSH_PRINCIPAL_MAX 64
#define SSH_RSA_MIN_BITS 3072

enum ssh_key_type { SSH_KEY_ED25519 = 1, SSH_KEY_ECDSA = 2, SSH_KEY_RSA = 3 };

/* A public key from an authorized_keys line. */
struct ssh_pubkey {
	enum ssh_key_type type;
	char type_name[40];	/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" */
	uint8_t *blob;		/* the key blob as in authorized_keys (decoded) */
	size_t blob_len;
	unsigned bits;		/* RSA modulus bits, ECDSA curve bits, 256 for Ed25519 */
	char fingerprint[64];	/* "SHA256:<base64 without padding>" as ssh-keygen -l */
};

/*
 * Parses "TYPE BASE64 [comment]". Accepts ssh-ed25519, ecdsa-sha2-nistp256/
 * 384/521 (point checked on the curve) and ssh-rsa with >= 3072-bit modulus.
 * Errors name what is wrong. Clear with ssh_pubkey_clear().
 */
int ssh_pubkey_parse(const char *line, size_t len, struct ssh_pubkey *out, struct bw_err *err);
void ssh_pubkey_clear(struct ssh_pubkey *k);

/* What a certificate grants. */
struct ssh_cert_req {
	const struct ssh_pubkey *key;
	uint64_t serial;
	const char *key_id;
	const char *const *principals;	/* 1..SSH_MAX_PRINCIPALS names */
	size_t nprincipals;
	uint64_t valid_after, valid_before;	/* seconds since the epoch */
	const char *source_address;	/* "198.51.100.0/24,10.0.0.1" or NULL */
	const char *force_command;	/* or NULL */
	bool permit_pty, permit_agent, permit_port, permit_x11, permit_user_rc;
};

/*
 * Signs a user certificate with the CA (starting from "clear": only the
 * permit-* extensions requested). *out (caller frees) receives the
 * certificate line "TYPE-cert-v01@openssh.com BASE64 comment".
 */
int ssh_cert_sign(const struct bw_ed25519 *ca, const struct ssh_cert_req *req, const char *comment,
		  char **out, struct bw_err *err);

/* "ssh-ed25519 BASE64 comment" for the CA public key (for TrustedUserCAKeys). Caller frees. */
int ssh_ca_pubkey_line(const struct bw_ed25519 *ca, const char *comment, char **out, struct bw_err *err);

/*
 * An OpenSSH KRL revoking the given certificate serials of the CA. *out
 * (caller frees) holds the binary KRL for sshd's RevokedKeys.
 */
int ssh_krl_build(const struct bw_ed25519 *ca, const uint64_t *serials, size_t n, uint64_t version,
		  uint64_t now, uint8_t **out, size_t *len, struct bw_err *err);

#endif /* BW_ACCESS_H */
