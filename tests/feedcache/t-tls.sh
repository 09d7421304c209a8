#!/bin/sh
# SPDX-License-Identifier: ISC
# feedcache over real TLS (an HTTPS test origin on 127.0.0.1 with a
# certificate from a CA made here): verification is always on, so an
# unknown CA fails and keeps the copy; ca_file adds our CA and the same
# feed works; a certificate for another name fails even with ca_file.
set -u
fc=$1
origin=$2
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	fail=1
}

cd "$tmp" || exit 1
# A CA, and a server certificate for 127.0.0.1 (and one for another name).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=tenantkit test CA" \
	2>/dev/null
for who in good:IP:127.0.0.1 wrong:DNS:elsewhere.invalid; do
	name=${who%%:*}
	san=${who#*:}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
	printf 'subjectAltName=%s\n' "$san" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -out "$name.pem" -days 2 -extfile "$name.ext" \
		2>/dev/null
done
[ -s good.pem ] && [ -s wrong.pem ] || {
	echo "not ok - openssl could not make the test certificates"
	exit 1
}

start_origin() { # NAME: starts an HTTPS origin with NAME.pem, sets $port
	python3 "$origin" --port-file "$1.port" --tls-cert "$1.pem" \
		--tls-key "$1.key" >/dev/null 2>&1 &
	pids="$pids $!"
	for _ in $(seq 100); do
		[ -s "$1.port" ] && break
		sleep 0.1
	done
	port=$(cat "$1.port")
	curl -s -o /dev/null --cacert ca.pem -X POST \
		"https://127.0.0.1:$port/_ctl/set?path=/feed.xml&body=%3Crss%2F%3E"
}

start_origin good
good_port=$port
start_origin wrong
wrong_port=$port

mkdir cache
conf() { # FILE URL [ca_file line]
	printf '[feedcache]\ncache_dir = %s/cache\n[feed f]\nurl = %s\n%s\n' \
		"$tmp" "$2" "${3:-}" >"$1"
}
conf system.conf "https://127.0.0.1:$good_port/feed.xml"
conf ca.conf "https://127.0.0.1:$good_port/feed.xml" "ca_file = $tmp/ca.pem"
conf wrong.conf "https://127.0.0.1:$wrong_port/feed.xml" "ca_file = $tmp/ca.pem"

if "$fc" -c system.conf refresh --force f >out 2>&1; then
	not_ok "an unknown CA was accepted"
elif [ -e cache/f ]; then
	not_ok "a body from an unverified server was kept"
elif grep -q 'SSL certificate problem' out; then
	ok "unknown CA: refused ($(grep -o 'SSL[^;]*' out | head -n 1))"
else
	not_ok "unknown CA: failed, but not on the certificate: $(cat out)"
fi
rm -f cache/.f.meta
if "$fc" -c ca.conf refresh --force f >out 2>&1 && [ "$(cat cache/f)" = "<rss/>" ]; then
	ok "ca_file adds the CA: fetched over TLS"
else
	not_ok "with ca_file: $(cat out)"
fi
if "$fc" -c wrong.conf refresh --force f >out 2>&1; then
	not_ok "a certificate for another name was accepted"
elif [ "$(cat cache/f)" = "<rss/>" ] && grep -q 'subject name' out &&
	"$fc" -c wrong.conf status --json f | grep -q '"last_result":"network"'; then
	ok "name mismatch: refused ($(grep -o 'SSL[^;]*' out | head -n 1)), the good copy kept"
else
	not_ok "name mismatch: $(cat out)"
fi
exit $fail
