#!/bin/sh
# Installs every build and test dependency of bulwark (Debian 12).
# Idempotent: does nothing when all packages are present; runs
# `apt-get update` first only when something must be installed.
set -eu

PKGS="build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
libssl-dev libsodium-dev libcmocka-dev
libyaml-dev libpcre2-dev libauparse-dev libsystemd-dev
libgmime-3.0-dev libmagic-dev libarchive-dev libseccomp-dev libarchive-tools libgsf-1-dev libgsf-bin libyara-dev yara
libsqlite3-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev liboath-dev libqrencode-dev libcurl4-openssl-dev zlib1g-dev
oathtool curl openssl time wrk nginx-light openssh-client openssh-server valgrind python3-aiosmtpd auditd systemd systemd-journal-remote
golang-go golang-golang-x-mod-dev
debhelper dpkg-dev fakeroot lintian
nodejs chromium zbar-tools prometheus groff-base bash-completion
python3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# npm comes with some builds of nodejs (NodeSource's) and as its own package with Debian's
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "deps.sh: need root (or sudo) to install:$missing" >&2; exit 1
	fi
fi
echo "deps.sh: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
