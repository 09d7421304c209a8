#!/bin/sh
# SPDX-License-Identifier: ISC
# t-access: who gets a seed. The allow list (IPv4 and IPv6), bearer
# tokens (reloaded on SIGHUP), client certificates, every configured rule
# at once, and the loopback-only default; no refusal carries seed bytes.
#
# usage: sh t-access.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tools sha256sum
make_server_cert
make_ca clientca
make_ca rogueca
make_cert alice clientca alice "$CLIENT_EXT"
# Same name, wrong issuer: only the CA may make the difference.
make_cert mallory rogueca alice "$CLIENT_EXT"

# write_conf NAME PORT EXTRA: a daemon on 127.0.0.1 and ::1.
write_conf() {
	cat >"$T/$1.conf" <<EOC
[entropyd]
listen = 127.0.0.1:$2, [::1]:$2
tls_cert = $T/server.pem
tls_key = $T/server.key
rate = 1000/s
burst = 1000
user = nobody
$3
EOC
	chmod 644 "$T/$1.conf"
}

CH=$(head -c 32 /dev/urandom | xxd -p -c 64)
# get PORT [CURL OPTIONS...]: prints the HTTP status of a seed request
# to 127.0.0.1:PORT (000 if there was no HTTP answer). The body is kept
# in $T/get.body; every non-200 body is checked for seed-like hex.
get() {
	port=$1
	shift
	rm -f "$T/get.body"
	code=$(curl -s -g --cacert "$T/ca.pem" --capath /dev/null \
	    -o "$T/get.body" -w '%{http_code}' "$@" \
	    "https://${HOST:-127.0.0.1}:$port/?challenge=$CH")
	[ -n "$code" ] || code=000
	if [ "$code" = 200 ]; then
		[ "$(sed -n 2p "$T/get.body" | tr -d '\n' | wc -c)" -eq 128 ] ||
		    fail "200 without a 64-byte seed: $(cat "$T/get.body")"
	elif [ -f "$T/get.body" ] &&
	    grep -Eqi '[0-9a-f]{32}' "$T/get.body"; then
		fail "refusal $code carries hex: $(cat "$T/get.body")"
	fi
	echo "$code"
}
# expect WHAT WANT GOT
expect() {
	[ "$3" = "$2" ] || fail "$1: want $2, got $3"
	pass "$1: $3"
}
# refused WHAT GOT: a 403, or no HTTP answer at all (TLS refused).
refused() {
	case $2 in
	403 | 000) pass "$1: refused ($2)" ;;
	*) fail "$1: want 403 or no answer, got $2" ;;
	esac
}

# 1. No rule: loopback only, with a warning; IPv4 and IPv6 listeners.
P1=$(free_port)
write_conf dflt "$P1" ''
start_daemon dflt
grep -q 'warning: no access rule' "$T/dflt.log" ||
    fail "no warning about the loopback-only default"
pass "default: warns that only loopback is served"
expect "default, 127.0.0.1" 200 "$(get "$P1")"
expect "default, 127.0.0.9" 200 "$(get "$P1" --interface 127.0.0.9)"
expect "default, ::1" 200 "$(HOST='[::1]' get "$P1")"

# 2. allow list, IPv4 and IPv6.
P2=$(free_port)
PP=$(free_port)
write_conf allow "$P2" "allow = 127.0.0.2/32, 127.0.1.0/24, ::1/128
plain_listen = 127.0.0.1:$PP"
start_daemon allow
ALLOWPID=$DPID
grep -q 'no access rule' "$T/allow.log" &&
    fail "allow: warned about a missing access rule"
expect "allow, 127.0.0.2 (listed)" 200 "$(get "$P2" --interface 127.0.0.2)"
expect "allow, 127.0.1.77 (in range)" 200 "$(get "$P2" --interface 127.0.1.77)"
expect "allow, ::1 (listed)" 200 "$(HOST='[::1]' get "$P2")"
# Outside allow: closed at accept, before any TLS work (no HTTP answer).
expect "allow, 127.0.0.3 (not listed)" 000 "$(get "$P2" --interface 127.0.0.3)"
expect "allow, 127.0.0.1 (not listed)" 000 "$(get "$P2")"
expect "allow, 127.0.2.1 (not listed)" 000 "$(get "$P2" --interface 127.0.2.1)"
# The plain-HTTP listener, off unless configured, applies the same rules.
# plain CURL-ARGS...: the status; the body is in $T/plain.body (a
# function run in $(...) cannot count in the caller's variables).
plain() {
	rm -f "$T/plain.body"
	code=$(curl -s -o "$T/plain.body" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$PP/?challenge=$CH")
	echo "${code:-000}"
}
expect "allow, plain HTTP, 127.0.0.2" 200 "$(plain --interface 127.0.0.2)"
expect "allow, plain HTTP, 127.0.0.3" 000 "$(plain --interface 127.0.0.3)"
[ -s "$T/plain.body" ] && fail "plain refusal at accept has a body"
expect "default: no plain-HTTP listener" 000 \
    "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$P1/?challenge=$CH")"
# SIGHUP reloads the allow list.
write_conf allow "$P2" "allow = 127.0.0.3/32
plain_listen = 127.0.0.1:$PP"
kill -HUP "$ALLOWPID"
wait_log "$T/allow.log" reloaded "allow: no reload after SIGHUP"
expect "after SIGHUP, allow 127.0.0.3 (added)" 200 \
    "$(get "$P2" --interface 127.0.0.3)"
expect "after SIGHUP, allow 127.0.0.2 (removed)" 000 \
    "$(get "$P2" --interface 127.0.0.2)"
expect "after SIGHUP, plain HTTP, 127.0.0.3" 200 \
    "$(plain --interface 127.0.0.3)"

# 3. Bearer tokens: the file holds only name:sha256(token).
ALICE_TOKEN=$(head -c 24 /dev/urandom | xxd -p -c 64)
BOB_TOKEN=$(head -c 24 /dev/urandom | xxd -p -c 64)
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
{
	echo "# test tokens"
	echo "alice:$(hash "$ALICE_TOKEN")"
	echo "bob:$(hash "$BOB_TOKEN")"
} >"$T/tokens"
chmod 644 "$T/tokens"
P3=$(free_port)
write_conf tok "$P3" "tokens_file = $T/tokens"
start_daemon tok
TOKPID=$DPID
expect "token alice" 200 \
    "$(get "$P3" -H "Authorization: Bearer $ALICE_TOKEN")"
expect "token bob, scheme in lower case" 200 \
    "$(get "$P3" -H "Authorization: bearer $BOB_TOKEN")"
expect "token wrong" 403 \
    "$(get "$P3" -H "Authorization: Bearer x$ALICE_TOKEN")"
expect "token: the stored hash itself" 403 \
    "$(get "$P3" -H "Authorization: Bearer $(hash "$ALICE_TOKEN")")"
expect "token missing" 403 "$(get "$P3")"
expect "token as Basic" 403 \
    "$(get "$P3" -H "Authorization: Basic $ALICE_TOKEN")"
expect "token empty" 403 "$(get "$P3" -H "Authorization: Bearer ")"
# SIGHUP reloads the tokens: bob goes, carol comes.
CAROL_TOKEN=$(head -c 24 /dev/urandom | xxd -p -c 64)
{
	echo "alice:$(hash "$ALICE_TOKEN")"
	echo "carol:$(hash "$CAROL_TOKEN")"
} >"$T/tokens"
kill -HUP "$TOKPID"
wait_log "$T/tok.log" reloaded "tokens: no reload after SIGHUP"
expect "after SIGHUP, token bob (removed)" 403 \
    "$(get "$P3" -H "Authorization: Bearer $BOB_TOKEN")"
expect "after SIGHUP, token carol (added)" 200 \
    "$(get "$P3" -H "Authorization: Bearer $CAROL_TOKEN")"
expect "after SIGHUP, token alice (kept)" 200 \
    "$(get "$P3" -H "Authorization: Bearer $ALICE_TOKEN")"
# A broken tokens file on SIGHUP keeps the running set.
echo "not a token line" >"$T/tokens"
kill -HUP "$TOKPID"
wait_log "$T/tok.log" 'reload:.*keeping' \
    "tokens: a broken file was not reported"
expect "after a bad SIGHUP, token carol (kept)" 200 \
    "$(get "$P3" -H "Authorization: Bearer $CAROL_TOKEN")"
kill -0 "$TOKPID" || fail "tokens: entropyd died on a bad reload"

# 4. Client certificates verified against client_ca.
P4=$(free_port)
write_conf cert "$P4" "client_ca = $T/clientca.pem"
start_daemon cert
expect "client cert from client_ca" 200 \
    "$(get "$P4" --cert "$T/alice.pem" --key "$T/alice.key")"
expect "client cert from client_ca, over ::1" 200 \
    "$(HOST='[::1]' get "$P4" --cert "$T/alice.pem" --key "$T/alice.key")"
refused "client cert from another CA, same name" \
    "$(get "$P4" --cert "$T/mallory.pem" --key "$T/mallory.key")"
refused "no client cert" "$(get "$P4")"

# 5. Every configured rule must pass.
P5=$(free_port)
write_conf all "$P5" "allow = 127.0.0.2/32
tokens_file = $T/tokens.all
client_ca = $T/clientca.pem"
echo "alice:$(hash "$ALICE_TOKEN")" >"$T/tokens.all"
chmod 644 "$T/tokens.all"
start_daemon all
AUTH="Authorization: Bearer $ALICE_TOKEN"
CERT="--cert $T/alice.pem --key $T/alice.key"
expect "all rules met" 200 \
    "$(get "$P5" --interface 127.0.0.2 -H "$AUTH" $CERT)"
refused "all but the address" "$(get "$P5" -H "$AUTH" $CERT)"
refused "all but the token" "$(get "$P5" --interface 127.0.0.2 $CERT)"
refused "all but the certificate" \
    "$(get "$P5" --interface 127.0.0.2 -H "$AUTH")"
refused "all but the right CA" "$(get "$P5" --interface 127.0.0.2 \
    -H "$AUTH" --cert "$T/mallory.pem" --key "$T/mallory.key")"

# A refused POST carries no seed either, and denials are logged with
# their reason.
N=$((N + 1))
code=$(curl -s --cacert "$T/ca.pem" --capath /dev/null -o "$T/get.body" \
    -w '%{http_code}' -d "challenge=$CH" "https://127.0.0.1:$P4/")
expect "POST without a client certificate" 403 "$code"
grep -Eqi '[0-9a-f]{32}' "$T/get.body" && fail "POST refusal carries hex"
grep -q 'forbidden: no client certificate' "$T/get.body" ||
    fail "403 body without its reason: $(cat "$T/get.body")"
grep -q 'refused: not in allow' "$T/allow.log" ||
    fail "allow: denial not logged"
grep -q 'refused: unknown token' "$T/tok.log" ||
    fail "tok: denial not logged"
grep -q 'refused: certificate not from client_ca' "$T/cert.log" ||
    fail "cert: denial not logged"
pass "denials are logged with their reasons"

for name in dflt allow tok cert all; do
	grep -Eqi '[0-9a-f]{64}' "$T/$name.log" &&
	    fail "$name: the log holds something seed-like"
done
pass "no seed-like hex in any log"
echo "PASS t-access"
