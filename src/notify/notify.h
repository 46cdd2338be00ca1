/*
 * notify: delivering alert notifications to the outside. A webhook is an
 * HTTPS POST of the alert's JSON with a delivery id (the idempotency key:
 * the same alert always has the same id, so a receiver that saw it drops a
 * repeat), a timestamp and an HMAC-SHA256 signature over both and the
 * body:
 *
 *   X-Bulwark-Delivery: alert-42
 *   X-Bulwark-Timestamp: 1795839720
 *   X-Bulwark-Signature: v1=hex(HMAC-SHA256(secret, timestamp "." delivery "." body))
 */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct notify_webhook {
	const char *url;		/* https:// only */
	const uint8_t *secret;		/* HMAC key */
	size_t secret_len;
	const char *cacert;		/* PEM to verify the receiver, NULL: the system's */
	long timeout_secs;
};

/* "v1=<64 hex>" for timestamp, delivery and body into out (68 bytes with the NUL). */
void notify_signature(const uint8_t *secret, size_t secret_len, int64_t timestamp, const char *delivery,
		      const void *body, size_t len, char out[68]);

/*
 * POSTs body (JSON) to the webhook with the delivery headers. 0 when the
 * receiver answered 2xx; BW_EIO with the reason otherwise (*status: the
 * HTTP status, 0 when none came).
 */
int notify_webhook_post(const struct notify_webhook *w, const char *delivery, int64_t timestamp, const char *body,
			size_t len, long *status, struct bw_err *err);

/* An SMTP relay (libcurl): STARTTLS always required on smtp://, TLS from the start on smtps://. */
struct notify_email {
	const char *url;		/* smtp://host:port or smtps://host:port */
	const char *from;		/* envelope and header sender */
	const char *const *to;		/* recipients */
	size_t nto;
	const char *cacert;		/* PEM to verify the relay, NULL: the system's */
	long timeout_secs;
};

/*
 * Sends one plain-text message: subject and text are made safe first
 * (header lines cannot be injected; control characters become '?').
 * message_id ("alert-42@bulwark") is the same for every attempt, so a
 * repeat is recognisable. 0 when the relay accepted it, else BW_EIO.
 */
int notify_email_send(const struct notify_email *m, const char *message_id, const char *subject, const char *text,
		      struct bw_err *err);

#endif
