#!/bin/sh
# Man pages generated from bulwark's own --help: bulwark(1), and bulwark-COMMAND(1) for every command
# `bulwark --help` lists, the help text kept as it is (no-fill), escaped for roff.
#   scripts/man.sh BULWARK OUTDIR
set -eu
BW=$1
OUT=$2
mkdir -p "$OUT"
VERSION=$("$BW" --version)
DATE=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# page NAME TITLE ONELINE < help text
page() {
	{
		printf '.TH %s 1 "%s" "%s" "User Commands"\n' "$2" "$DATE" "$VERSION"
		printf '.SH NAME\n%s \\- %s\n' "$1" "$(printf '%s' "$3" | sed 's/\\/\\e/g; s/-/\\-/g')"
		printf '.SH DESCRIPTION\n.nf\n'
		sed 's/\\/\\e/g; s/^\([.'"'"']\)/\\\&\1/'
		printf '.fi\n.SH SEE ALSO\n'
		if [ "$1" = bulwark ]; then printf 'bulwark\\-COMMAND(1) for each command above; /usr/share/doc/bulwark\n'
		else printf 'bulwark(1)\n'; fi
	} > "$OUT/$1.1"
}

"$BW" --help | page bulwark BULWARK "a self-hosted defensive platform: tamper-evident audit log, maintenance access, patches, detection, reports"
"$BW" --help | sed -n 's/^  \([a-z][a-z-]*\)  *\(.*\)/\1\t\2/p' | while IFS="$(printf '\t')" read -r cmd what; do
	[ "$cmd" = version ] && continue
	"$BW" "$cmd" --help 2>&1 | page "bulwark-$cmd" "BULWARK-$(echo "$cmd" | tr a-z A-Z)" "$what"
done
