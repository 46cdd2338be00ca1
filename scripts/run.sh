#!/bin/sh
# `make run`: the server on the embedded default (SQLite, data in ./bulwark-data).
# First run: creates the data directory and prints the admin's password, TOTP
# enrolment (QR code for an authenticator app) and recovery codes.
set -eu
BW=$1
DATA=${BULWARK_DATA:-./bulwark-data}
LISTEN=${BULWARK_LISTEN:-127.0.0.1:8443}
if [ ! -f "$DATA/bulwark.db" ]; then
	"$BW" init --data "$DATA" --origin "${BULWARK_ORIGIN:-bulwark.local/audit}" < /dev/null
	echo
fi
cat <<MSG
== bulwark is starting on https://$LISTEN/ (TLS 1.3, self-signed certificate in $DATA/tls/cert.pem)

Sign in: open https://$LISTEN/ in a browser (accept the certificate), enter 'admin',
the password printed at the first start, and the 6-digit code from your authenticator
app. Or with curl:

  curl --cacert $DATA/tls/cert.pem -X POST https://$LISTEN/api/v1/login \\
       -H 'Content-Type: application/json' \\
       -d '{"username":"admin","password":"PASSWORD","otp":"123456"}'

The audit log's public checkpoint: curl --cacert $DATA/tls/cert.pem https://$LISTEN/log/checkpoint
Stop with Ctrl-C (SIGINT) or SIGTERM.
MSG
exec "$BW" serve --data "$DATA" --listen "$LISTEN"
