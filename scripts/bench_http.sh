#!/bin/sh
# HTTPS benchmark: wrk against bulwark (GET /log/checkpoint, authenticated GET /api/v1/me,
# and the login path) beside nginx serving the same bytes over TLS 1.3 with the same
# certificate, in the same run.   bench_http.sh BUILD [BENCH_DIR]
set -eu
BUILD=$1
DIR=${2:-${BENCH_DIR:-/tmp/bulwark-bench-http}}
DUR=${BENCH_SECONDS:-10}
CONN=${BENCH_CONNECTIONS:-32}
PORT=18643 NPORT=18644
rm -rf "$DIR" && mkdir -p "$DIR"
BW="$BUILD/bulwark"
export BULWARK_ADMIN_PASSWORD='bench password 123'
"$BW" init --data "$DIR/data" > "$DIR/init.out"
SECRET=$(grep -o 'secret=[A-Z2-7]*' "$DIR/init.out" | head -1 | cut -d= -f2)
"$BW" serve --data "$DIR/data" --listen 127.0.0.1:$PORT --threads 8 --login-backoff-ms 0 \
	--lock-after 1000000 2> "$DIR/serve.err" &
SPID=$!
trap 'kill $SPID 2>/dev/null; [ -f "$DIR/nginx.pid" ] && kill $(cat "$DIR/nginx.pid") 2>/dev/null; true' EXIT
sleep 1
TOKEN=$(curl -s --cacert "$DIR/data/tls/cert.pem" -X POST https://127.0.0.1:$PORT/api/v1/login \
	-H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$BULWARK_ADMIN_PASSWORD\",\"otp\":\"$(oathtool --totp -b "$SECRET")\"}" \
	| sed 's/.*"token":"\([^"]*\)".*/\1/')

# nginx: same certificate, TLS 1.3 only, a static copy of the checkpoint.
mkdir -p "$DIR/nginx/html" "$DIR/nginx/logs"
cp "$DIR/data/log/checkpoint" "$DIR/nginx/html/checkpoint"
cat > "$DIR/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $DIR/nginx.pid;
error_log $DIR/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NPORT ssl;
    ssl_certificate $DIR/data/tls/cert.pem;
    ssl_certificate_key $DIR/data/tls/key.pem;
    ssl_protocols TLSv1.3;
    root $DIR/nginx/html;
    location / { default_type text/plain; }
  }
}
CONF
nginx -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -g 'daemon on;'
sleep 0.5

wrk_rate() { wrk -t2 -c$CONN -d${DUR}s "$@" 2>&1 | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non2xx=" $4 > "/dev/stderr"}'; }
cat > "$DIR/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"admin","password":"bench password 123","otp":"000000"}'
LUA

echo "== machine: $(nproc) cores; wrk -t2 -c$CONN -d${DUR}s; TLS 1.3 both"
echo "nginx  GET /checkpoint (static file)        $(wrk_rate https://127.0.0.1:$NPORT/checkpoint) req/s"
echo "bulwark GET /log/checkpoint                 $(wrk_rate https://127.0.0.1:$PORT/log/checkpoint) req/s"
echo "bulwark GET /api/v1/me (Bearer session)     $(wrk_rate -H "Authorization: Bearer $TOKEN" https://127.0.0.1:$PORT/api/v1/me) req/s"
echo "bulwark POST /api/v1/login (Argon2id m=64MiB t=3, audited, wrong code -> 401)"
echo "                                            $(wrk -t2 -c4 -d${DUR}s -s "$DIR/login.lua" https://127.0.0.1:$PORT/api/v1/login 2>&1 | awk '/Requests\/sec/ {print $2}') logins/s (4 connections)"
