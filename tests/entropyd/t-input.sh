#!/bin/sh
# SPDX-License-Identifier: ISC
# t-input: bad requests each get their 4xx and the daemon keeps serving
# (malformed challenges, bytes out of range, oversize bodies, garbage
# instead of HTTP, wrong methods and paths); bad configurations exit 2
# with the file, line and key named; a key others can read is refused.
#
# usage: sh t-input.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
make_server_cert
PORT=$(free_port)
APORT=$(free_port)
daemon_conf d "rate = 1000/s" "burst = 1000" "timeout = 2s"
start_daemon d
URL="https://127.0.0.1:$PORT"
hex() { head -c "$1" /dev/urandom | xxd -p | tr -d '\n' | head -c "$2"; }
CH=$(hex 16 32)
# req CURL-ARGS...: prints the status; the body is in $T/body.
req() {
	c=$(curl -s --cacert "$T/ca.pem" --capath /dev/null -o "$T/body" \
	    -w '%{http_code}' "$@")
	echo "${c:-000}"
}
# still_serving WHAT: a good request right after a bad one.
still_serving() {
	c=$(curl -s --cacert "$T/ca.pem" --capath /dev/null -o /dev/null \
	    -w '%{http_code}' "$URL/?challenge=$CH")
	[ "$c" = 200 ] || fail "after $1: a good request got ${c:-000}"
	kill -0 "$DPID" 2>/dev/null || fail "after $1: entropyd died"
}
# expect WANT WHAT CURL-ARGS...: the status; a refusal carries no seed
# and a 400 gives its reason in one line; then a good request.
expect() {
	want=$1
	what=$2
	shift 2
	got=$(req "$@")
	[ "$got" = "$want" ] ||
	    fail "$what: want $want, got $got: $(head -c 200 "$T/body")"
	if [ "$want" != 200 ] && grep -Eqi '[0-9a-f]{64}' "$T/body"; then
		fail "$what: the refusal carries seed-like hex"
	fi
	if [ "$want" = 400 ] && [ "$(wc -l <"$T/body")" -ne 1 ]; then
		fail "$what: not a one-line reason: $(cat "$T/body")"
	fi
	first=$(head -n 1 "$T/body" | cut -c1-60)
	still_serving "$what"
	pass "$what: $got $first"
}

# Challenges, by GET and by POST.
expect 400 "no challenge (GET)" "$URL/"
expect 400 "no challenge (POST)" -d "" "$URL/"
expect 400 "no challenge, other field" -d "bytes=64" "$URL/"
expect 400 "empty challenge" "$URL/?challenge="
expect 400 "31 hex digits" "$URL/?challenge=$(hex 16 31)"
expect 200 "32 hex digits" "$URL/?challenge=$(hex 16 32)"
expect 200 "256 hex digits" -d "challenge=$(hex 128 256)" "$URL/"
expect 400 "257 hex digits" -d "challenge=$(hex 129 257)" "$URL/"
expect 400 "257 hex digits (GET)" "$URL/?challenge=$(hex 129 257)"
expect 400 "not hex" -d "challenge=$(hex 16 31)g" "$URL/"
expect 400 "not hex (spaces)" -d "challenge=$(hex 8 15)+$(hex 8 16)" "$URL/"
expect 400 "challenge twice (POST)" -d "challenge=$CH&challenge=$CH" "$URL/"
expect 400 "challenge twice (GET)" "$URL/?challenge=$CH&challenge=$CH"
expect 400 "an escaped & (GET)" "$URL/?challenge=$CH%26bytes%3D16"
# bytes.
expect 400 "bytes=15" "$URL/?challenge=$CH&bytes=15"
expect 400 "bytes=1025" "$URL/?challenge=$CH&bytes=1025"
expect 400 "bytes=0" -d "challenge=$CH&bytes=0" "$URL/"
expect 400 "bytes=-1" -d "challenge=$CH&bytes=-1" "$URL/"
expect 400 "bytes=abc" -d "challenge=$CH&bytes=abc" "$URL/"
expect 400 "bytes empty" -d "challenge=$CH&bytes=" "$URL/"
expect 400 "bytes with junk" "$URL/?challenge=$CH&bytes=00000064junk"
expect 400 "bytes twice" "$URL/?challenge=$CH&bytes=16&bytes=16"
expect 400 "bytes=99999999999999999999" \
    "$URL/?challenge=$CH&bytes=99999999999999999999"
expect 200 "bytes=16" "$URL/?challenge=$CH&bytes=16"
[ "$(sed -n 2p "$T/body" | tr -d '\n' | wc -c)" -eq 32 ] ||
    fail "bytes=16: not 16 bytes: $(cat "$T/body")"
expect 200 "bytes=1024" -d "challenge=$CH&bytes=1024" "$URL/"
[ "$(sed -n 2p "$T/body" | tr -d '\n' | wc -c)" -eq 2048 ] ||
    fail "bytes=1024: not 1024 bytes"
# Sizes: the form is capped at 1 KiB.
pad() { head -c "$1" /dev/zero | tr '\0' a; }
expect 200 "a 1 KiB body" \
    -d "challenge=$CH&x=$(pad $((1024 - 45)))" "$URL/"
expect 413 "a 1 KiB + 1 body" \
    -d "challenge=$CH&x=$(pad $((1025 - 45)))" "$URL/"
pad 200000 >"$T/big"
expect 413 "a 200 KB body" --data-binary "@$T/big" "$URL/"
expect 413 "a 2 KB query" "$URL/?challenge=$CH&x=$(pad 2000)"
# big WHAT CURL-ARGS...: the status of a request past the daemon's
# connection memory. The daemon answers 4xx and closes with the rest of
# the request unread, so the kernel may reset the connection before curl
# reads the answer (000): ask again, up to 3 times, for the status.
big() {
	what=$1
	shift
	for _ in 1 2 3; do
		code=$(req "$@")
		[ "$code" = 000 ] || break
	done
	case $code in
	4??) ;;
	*) fail "$what: got $code" ;;
	esac
	still_serving "$what"
	pass "$what: $code"
}
big "a 40 KB URI" "$URL/?challenge=$CH&x=$(pad 40000)"
big "a 40 KB header" -H "X-Padding: $(pad 40000)" "$URL/?challenge=$CH"
# Methods and paths.
for m in PUT DELETE PATCH OPTIONS TRACE; do
	expect 405 "$m" -X $m "$URL/?challenge=$CH"
	grep -q . "$T/body" || fail "$m: empty 405"
done
code=$(curl -s --cacert "$T/ca.pem" --capath /dev/null -I -o "$T/head" \
    -w '%{http_code}' "$URL/?challenge=$CH")
[ "$code" = 405 ] || fail "HEAD: got $code"
grep -qi '^Allow: GET, POST' "$T/head" || fail "HEAD: no Allow header"
pass "HEAD: 405 with Allow: GET, POST"
expect 404 "path /seed" "$URL/seed?challenge=$CH"
expect 404 "path /index.html" -d "challenge=$CH" "$URL/index.html"
expect 404 "path //" "$URL//?challenge=$CH"

# Not HTTP at all: garbage inside TLS, and plain text on the TLS port.
# garbage.py MODE HEX-PAYLOAD prints the first line of an HTTP answer,
# "closed" if the server closed without one, or "not HTTP".
cat >"$T/garbage.py" <<'EOC'
import socket, ssl, sys
port, cafile, mode, payload = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    bytes.fromhex(sys.argv[4])
raw = socket.create_connection(("127.0.0.1", port), timeout=30)
if mode == "tls":
    ctx = ssl.create_default_context(cafile=cafile)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
else:
    s = raw
s.sendall(payload)
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except (ssl.SSLError, ConnectionResetError):
    pass
if not data:
    print("closed")
elif data.startswith(b"HTTP/"):
    print(data.split(b"\r\n")[0].decode("latin-1"))
else:
    print("not HTTP (%d bytes)" % len(data))
EOC
# garbage MODE WANT WHAT PAYLOAD: WANT is 4xx (an HTTP 4xx answer),
# closed (no answer at all) or nohttp (no HTTP answer: closed, or a TLS
# alert). PAYLOAD is a printf format.
garbage() {
	# shellcheck disable=SC2059
	out=$(python3 "$T/garbage.py" "$PORT" "$T/ca.pem" "$1" \
	    "$(printf "$4" | xxd -p | tr -d '\n')") ||
	    fail "$3: the client failed"
	case $2:$out in
	4xx:"HTTP/1.1 4"*) ;;
	closed:closed) ;;
	nohttp:closed | nohttp:"not HTTP"*) ;;
	*) fail "$3: got '$out', want $2" ;;
	esac
	still_serving "$3"
	pass "$3: $out"
}
garbage tls 4xx "TLS, then an unknown HTTP version" 'GET / FOO/9.9\r\n\r\n'
garbage tls 4xx "TLS, then no HTTP version" 'GET /\r\n\r\n'
garbage tls 4xx "TLS, then binary junk" '\026\003\001 junk \377\r\n\r\n'
garbage tls 4xx "TLS, then a broken header" \
    'GET / HTTP/1.1\r\nno colon here\r\n\r\n'
garbage tls closed "TLS, then a word" 'GARBAGE\r\n\r\n'
# timeout = 2s: a request line starting with NUL is only ever timed out.
garbage tls closed "TLS, then NUL bytes" '\000\001GARBAGE \377 NOT HTTP\r\n\r\n'
garbage plain nohttp "plain HTTP on the TLS port" \
    "GET /?challenge=$CH HTTP/1.1\r\nHost: x\r\n\r\n"
garbage plain nohttp "an SSLv2-style hello" '\200\056\001\000\002\000\025'

# /metrics counted each kind.
curl -s "http://127.0.0.1:$APORT/metrics" >"$T/metrics"
for kind in bad_request too_large bad_method not_found; do
	v=$(sed -n "s/^entropyd_requests_total{result=\"$kind\"} //p" \
	    "$T/metrics")
	[ "${v:-0}" -gt 0 ] || fail "/metrics: no $kind counted"
done
pass "/metrics counts bad_request, too_large, bad_method, not_found"

# Configuration errors: exit 2, naming file, line and key.
# bad_conf NAME "TEXT" WANT-IN-MESSAGE [--check-config]
bad_conf() {
	f="$T/$1.conf"
	printf '%s\n' "$2" >"$f"
	chmod 644 "$f"
	timeout 20 "$ENTROPYD" ${4:-} -c "$f" >"$T/$1.out" 2>&1
	rc=$?
	[ $rc = 2 ] || fail "$1: exit $rc, want 2: $(cat "$T/$1.out")"
	grep -qF "$3" "$T/$1.out" ||
	    fail "$1: message does not name '$3': $(cat "$T/$1.out")"
	pass "$1: exit 2: $(head -n 1 "$T/$1.out")"
}
GOOD="[entropyd]
listen = 127.0.0.1:$(free_port)
tls_cert = $T/server.pem
tls_key = $T/server.key
user = nobody"
bad_conf unknown-key "$GOOD
colour = blue" "unknown-key.conf:6: colour"
bad_conf unknown-key-start "$GOOD
colour = blue" "unknown-key-start.conf:6: colour" --check-config
bad_conf listen-no-port "[entropyd]
listen = 127.0.0.1
tls_cert = $T/server.pem
tls_key = $T/server.key" "listen-no-port.conf:2: listen" --check-config
bad_conf listen-hostname "[entropyd]
tls_cert = $T/server.pem
tls_key = $T/server.key
listen = localhost:443" "listen-hostname.conf:4: listen" --check-config
bad_conf listen-bad-v6 "[entropyd]
listen = 127.0.0.1:42443, ::1:443
tls_cert = $T/server.pem
tls_key = $T/server.key" "listen-bad-v6.conf:2: listen" --check-config
bad_conf listen-twice "$GOOD
listen = [::1]:443" "listen-twice.conf:6: listen" --check-config
bad_conf allow-host-bits "$GOOD
allow = 10.0.0.0/8, 192.168.1.1/24" "allow-host-bits.conf:6: allow" \
    --check-config
bad_conf allow-v6-host-bits "$GOOD
allow = fd00::1/8" "allow-v6-host-bits.conf:6: allow" --check-config
bad_conf allow-not-cidr "$GOOD
allow = everyone" "allow-not-cidr.conf:6: allow" --check-config
bad_conf rate-unit "$GOOD
rate = 6/fortnight" "rate-unit.conf:6: rate" --check-config
bad_conf rate-zero "$GOOD
rate = 0/s" "rate-zero.conf:6: rate" --check-config
bad_conf rate-junk "$GOOD
rate = fast" "rate-junk.conf:6: rate" --check-config
bad_conf burst-zero "$GOOD
burst = 0" "burst-zero.conf:6: burst" --check-config
bad_conf no-tls-cert "[entropyd]
tls_key = $T/server.key
user = nobody" "no-tls-cert.conf: tls_cert" --check-config
bad_conf no-tls-cert-start "[entropyd]
tls_key = $T/server.key
user = nobody" "no-tls-cert-start.conf: tls_cert"
bad_conf missing-cert-file "[entropyd]
tls_cert = $T/nonexistent.pem
tls_key = $T/server.key
user = nobody" "nonexistent.pem" --check-config
printf 'alice:%s\nbob\n' "$(hex 32 64)" >"$T/bad.tokens"
chmod 644 "$T/bad.tokens"
bad_conf bad-tokens "$GOOD
tokens_file = $T/bad.tokens" "bad.tokens:2" --check-config
bad_conf no-user "[entropyd]
listen = 127.0.0.1:$(free_port)
tls_cert = $T/server.pem
tls_key = $T/server.key
user = no-such-user-entropyd-test" "no-such-user-entropyd-test"
cp "$T/server.key" "$T/open.key"
chmod 644 "$T/open.key"
bad_conf key-0644 "[entropyd]
listen = 127.0.0.1:$(free_port)
tls_cert = $T/server.pem
tls_key = $T/open.key
user = nobody" "open.key"
chmod 640 "$T/open.key"
bad_conf key-0640 "[entropyd]
tls_cert = $T/server.pem
tls_key = $T/open.key
user = nobody" "open.key" --check-config
timeout 20 "$ENTROPYD" -c "$T/nonexistent.conf" >"$T/noconf.out" 2>&1
rc=$?
[ $rc = 2 ] || fail "a missing configuration file: exit $rc"
pass "a missing configuration file: exit 2"
timeout 20 "$ENTROPYD" --no-such-option >"$T/badopt.out" 2>&1
rc=$?
[ $rc = 2 ] || fail "an unknown option: exit $rc"
pass "an unknown option: exit 2"

# A good file: --check-config says ok and exits 0; the running daemon
# still serves.
printf '%s\n' "$GOOD" >"$T/good.conf"
out=$(timeout 20 "$ENTROPYD" --check-config -c "$T/good.conf" 2>&1) ||
    fail "--check-config on a good file: exit $?: $out"
echo "$out" | grep -q "good.conf: ok" || fail "--check-config said: $out"
pass "--check-config on a good file: $out"
still_serving "the configuration checks"
echo "PASS t-input"
