/* auth/auth_internal.h: what the auth module's files share (not part of its contract). */
#ifndef BW_AUTH_INTERNAL_H
#define BW_AUTH_INTERNAL_H

#include "auth.h"

/* The associated data a user's sealed TOTP secret is bound to. */
void auth_totp_ad(int64_t id, char *ad, size_t cap);
/* A new TOTP secret for user id, sealed into sealed, and its otpauth URI (*uri: caller frees). */
int auth_totp_secret_new(struct auth *a, int64_t id, const char *username, uint8_t sealed[AUTH_TOTP_SEALED_SIZE],
			 char **uri, struct bw_err *err);
/* Unseals user id's TOTP secret; BW_ECRYPTO when it does not open. */
int auth_totp_unseal(struct auth *a, int64_t id, const uint8_t *sealed, size_t len,
		     uint8_t secret[AUTH_TOTP_SECRET_SIZE]);
/* New recovery codes for user id into e->recovery, replacing the stored ones. */
int auth_recovery_new(struct auth *a, int64_t id, struct auth_enrolment *e, struct bw_err *err);

#endif
