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
/* The Ed25519 CA key that signed a certificate line ("ssh-ed25519-cert-v01@openssh.com BASE64 ..."), unverified. */
int ssh_cert_signer(const char *line, uint8_t ca_pk[32], struct bw_err *err);

/*
 * An OpenSSH KRL revoking the given certificate serials under each of the
 * ncas CAs (one certificate section each: during a rotation the old and the
 * new CA). *out (caller frees) holds the binary KRL for sshd's RevokedKeys.
 */
int ssh_krl_build(const struct bw_ed25519 *const *cas, size_t ncas, const uint64_t *serials, size_t n, uint64_t version,
		  uint64_t now, uint8_t **out, size_t *len, struct bw_err *err);

/* ---- the remote-maintenance workflow ---- */

#include "store/store.h"

enum {
	ACCESS_PERMIT_PTY = 1u << 0,
	ACCESS_PERMIT_AGENT = 1u << 1,
	ACCESS_PERMIT_PORT = 1u << 2,
	ACCESS_PERMIT_X11 = 1u << 3,
	ACCESS_PERMIT_USER_RC = 1u << 4,
};

#define ACCESS_MAX_WINDOW_DEFAULT (8 * 3600)
#define ACCESS_CRITICAL_GROUP "critical"
#define ACCESS_PAST_TOLERANCE 300	/* a window may start up to 5 min ago */

/* "pty,agent" -> mask; names: pty, agent-forwarding, port-forwarding, x11-forwarding, user-rc. */
int access_permits_parse(const char *const *names, size_t n, unsigned *mask, struct bw_err *err);
/* Names of the bits in mask, comma-separated, into out. */
void access_permits_format(unsigned mask, char *out, size_t cap);

/* Free text (reasons, tickets): 1..max bytes, no control characters. */
bool access_text_valid(const char *s, size_t max);
#define ACCESS_REASON_MAX 500

/* Host names, account names: 1..64 of [a-z0-9._-], starting with a letter or digit. */
bool access_name_valid(const char *s);
/* "10.0.0.0/8,2001:db8::/32": up to 16 addresses with optional prefix lengths. */
int access_source_check(const char *s, struct bw_err *err);

struct access_new {
	int64_t requester_id;
	const char *const *hosts;	/* host names, or NULL with group */
	size_t nhosts;
	const char *group;		/* all hosts of a group, or NULL */
	const char *const *accounts;
	size_t naccounts;
	int64_t valid_after, valid_before;
	const char *reason;		/* required */
	const char *ticket;		/* optional */
	const char *public_key;		/* authorized_keys line */
	const char *source_address;	/* optional */
	const char *force_command;	/* optional */
	unsigned permits;
};

/*
 * Validates a request against the hosts and policy (window within max_window,
 * not in the past, accounts allowed on every host) and stores it pending.
 * Principals are "account@host" for each host and account. Errors name the field.
 */
int access_request_create(struct bw_db *db, const struct access_new *q, int64_t max_window, int64_t now,
			  int64_t *id, struct bw_err *err);

/*
 * A review by reviewer (the caller, ops_access_review, has checked that
 * they may review: never the requester). A final approval
 * signs the certificate with ca (serial = request id, key id
 * "req-<id>:<requester>:approvers=<names>", force-command through the
 * session wrapper unless wrapper is NULL) and stores it atomically.
 */
int access_review(struct bw_db *db, const struct bw_ed25519 *ca, const char *wrapper, int64_t id,
		  int64_t reviewer_id, const char *reviewer, bool approve, const char *reason, int64_t now,
		  bool *issued, struct bw_err *err);

/* The session wrapper script hosts install (POSIX sh). */
extern const char access_session_wrapper[];
#define ACCESS_WRAPPER_DEFAULT "/usr/local/lib/bulwark/ssh-session"

/*
 * The certificate force-command: "WRAPPER DEADLINE [BASE64(command)]", or
 * just command (or nothing) when wrapper is NULL. Caller frees *out (NULL if none).
 */
int access_force_command(const char *wrapper, int64_t deadline, const char *command, char **out,
			 struct bw_err *err);

/* The state as shown: pending, issued, denied, revoked, or expired (issued, window over). */
const char *access_state(const struct db_access *a, int64_t now);

/*
 * How a login with a request's certificate on host as account at time at
 * (seconds) stands against the grant: state "active" (issued, within its
 * window, not revoked by then), "not_yet", "expired", "revoked" (revoked at
 * or before at) or "not_issued" (pending or denied: no certificate was
 * handed out); host_ok when the grant names host, account_ok when
 * account@host is one of its principals.
 */
struct access_login_check {
	const char *state;	/* static */
	bool host_ok, account_ok;
};
void access_login_check(const struct db_access *a, const char *host, const char *account, int64_t at,
			struct access_login_check *out);

/* The KRL of every revoked certificate. Caller frees *out. */
int access_krl(struct bw_db *db, const struct bw_ed25519 *const *cas, size_t ncas, int64_t now, uint8_t **out, size_t *len,
	       struct bw_err *err);

/* "host", "host:port" or "[v6]:port" into host and port (0: none given). */
void access_address_split(const char *address, char *host, size_t cap, unsigned *port);

/*
 * The snippet's placeholder for the private key, "# IdentityFile: the
 * private key of SHA256:...": the server never sees the key's path; the CLI
 * (bulwark access ssh-config) replaces it with the matching key in ~/.ssh.
 */
#define ACCESS_IDENTITY_LINE "# IdentityFile: the private key of"

/* The ssh client snippet for an issued request. Caller frees. */
int access_ssh_config(struct bw_db *db, const struct db_access *a, char **out, struct bw_err *err);
/* The sshd snippet and principals files for a host. Caller frees. */
int access_sshd_config(const struct db_host *h, const char *server_url, char **out, struct bw_err *err);

#endif /* BW_ACCESS_H */
