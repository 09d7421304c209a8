#!/bin/sh
# SPDX-License-Identifier: ISC
# t-entropyd: entropy-seed against the real entropyd over real TLS on
# 127.0.0.1. Seeded with a private CA, with a pin alone, with a bearer
# token, with a client certificate; --dry-run names the server and the
# byte count; as root the ioctl path runs and credits (--no-credit does
# not). A server with a certificate from another CA, with another key
# than the pinned one, or with an expired certificate is refused and
# nothing is mixed; so is a 429 from the rate limit.
#
# usage: sh t-entropyd.sh /abs/entropy-seed /abs/entropyd
NAME=entropyd
. "$(dirname "$0")/lib.sh"

make_ca rogueca
make_cert rogue rogueca 127.0.0.1 "$SERVER_EXT"
make_expired_cert expired ca
make_ca clientca
make_cert alice clientca alice "$CLIENT_EXT"
openssl x509 -in "$T/expired.pem" -noout -checkend 0 >/dev/null 2>&1 &&
    fatal "the expired certificate is not expired"
TOKEN=$(head -c 32 /dev/urandom | xxd -p -c 64)
echo "$TOKEN" >"$T/token"
chmod 600 "$T/token"
printf 'boot:%s\n' "$(printf %s "$TOKEN" | sha256sum | cut -c 1-64)" \
    >"$T/tokens"
chmod 644 "$T/tokens" "$T/clientca.pem"
BASE='timeout = 3s
deadline = 5s'

# seeded WHAT CLIENT HOW ARGS...: a strict run of CLIENT succeeds and its
# log says "seeded 64 bytes from URL: HOW" (URL from CLIENT's server).
seeded() {
	what=$1 c=$2 how=$3
	shift 3
	run_client "$c" --strict "$@"
	url=$(sed -n 's/^servers = //p' "$T/$c.conf")
	if [ $RC = 0 ] && has "$c" "seeded 64 bytes from $url: $how"; then
		pass "$what: seeded ($how, ${MS} ms)"
	else
		fail "$what: exit $RC, want 'seeded ... $how'" "$T/$c.out"
	fi
}

# refused WHAT CLIENT REASON: a strict run of CLIENT exits 1 with a
# warning naming the server and REASON, and mixes nothing.
refused() {
	run_client "$2" --strict -v
	url=$(sed -n 's/^servers = //p' "$T/$2.conf")
	if [ $RC != 1 ]; then
		fail "$1: exit $RC, want 1" "$T/$2.out"
	elif ! grep -q "warning: $url: .*$3" "$T/$2.out"; then
		fail "$1: no warning '$url: ...$3'" "$T/$2.out"
	elif has "$2" seeded || has "$2" RNDADDENTROPY ||
	    has "$2" /dev/urandom; then
		fail "$1: something was mixed" "$T/$2.out"
	else
		pass "$1: refused ($(sed -n "s|.*warning: $url: ||p" \
		    "$T/$2.out" | head -n 1))"
	fi
}

# 1. A plain entropyd (loopback rule): private CA, pin, dry run, ioctl.
P=$(free_port)
start_entropyd plain "$P" server ""
U="https://127.0.0.1:$P/"
write_client ca "servers = $U
ca_file = $T/ca.pem
$BASE"
seeded "ca_file" ca "RNDADDENTROPY, credited"
seeded "ca_file, --no-credit" ca "RNDADDENTROPY, not credited" --no-credit
run_client ca --strict --dry-run
if [ $RC = 0 ] &&
    has ca "dry run: 64 bytes from $U (TLS verified), not mixed"; then
	pass "--dry-run: reports 64 bytes from $U"
else
	fail "--dry-run: exit $RC" "$T/ca.out"
fi
has ca seeded && fail "--dry-run: mixed" "$T/ca.out"
printf 'servers = %s\nca_file = %s\nbytes = 32\n%s\n' "$U" "$T/ca.pem" \
    "$BASE" | sed '1i [entropy-seed]' >"$T/ca32.conf"
run_client ca32 --strict --dry-run
[ $RC = 0 ] && has ca32 "dry run: 32 bytes from $U" &&
    pass "bytes = 32: a 32-byte seed" || fail "bytes = 32" "$T/ca32.out"
write_client pin "servers = $U
pin_sha256 = $(spki_pin server)
$BASE"
seeded "pin_sha256 only (no CA)" pin "RNDADDENTROPY, credited"
write_client pinsha "servers = $U
pin_sha256 = sha256//$(spki_pin server), $(spki_pin rogue)
$BASE"
seeded "pin_sha256 list with the sha256// prefix" pinsha \
    "RNDADDENTROPY, credited"
write_client badpin "servers = $U
pin_sha256 = $(spki_pin rogue)
$BASE"
refused "wrong pin" badpin "public key does not match pinned public key"
write_client badpinca "servers = $U
ca_file = $T/ca.pem
pin_sha256 = $(spki_pin rogue)
$BASE"
refused "right CA, wrong pin" badpinca "public key does not match"
write_client noca "servers = $U
$BASE"
refused "no ca_file: the system store does not know our CA" noca \
    "certificate"
write_client otherca "servers = $U
ca_file = $T/rogueca.pem
$BASE"
refused "ca_file of another CA" otherca "certificate"

# 2. Servers whose certificate must not be believed.
P=$(free_port)
start_entropyd rogue "$P" rogue ""
write_client wrongca "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
$BASE"
refused "server certificate from another CA" wrongca "certificate"
P=$(free_port)
start_entropyd expired "$P" expired ""
write_client expired "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
$BASE"
refused "expired server certificate" expired "expired"

# 3. Tokens: refused without, seeded with.
P=$(free_port)
start_entropyd tokens "$P" server "tokens_file = $T/tokens"
write_client notoken "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
$BASE"
refused "tokens_file server, no token" notoken "HTTP 403"
write_client token "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
token_file = $T/token
$BASE"
seeded "token_file" token "RNDADDENTROPY, credited"
echo "not-the-token" >"$T/badtoken"
write_client badtoken "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
token_file = $T/badtoken
$BASE"
refused "wrong token" badtoken "HTTP 403"

# 4. Client certificates: refused without, seeded with.
P=$(free_port)
start_entropyd clientcert "$P" server "client_ca = $T/clientca.pem"
write_client nocert "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
$BASE"
refused "client_ca server, no client certificate" nocert "HTTP 403"
write_client cert "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
cert = $T/alice.pem
key = $T/alice.key
$BASE"
seeded "client certificate" cert "RNDADDENTROPY, credited"

# 5. The rate limit: the second request in a minute gets 429.
P=$(free_port)
RATE=1/min
BURST=1
start_entropyd rate "$P" server "allow = 127.0.0.0/8"
unset RATE BURST
write_client rate "servers = https://127.0.0.1:$P/
ca_file = $T/ca.pem
$BASE"
seeded "rate limit: first request" rate "RNDADDENTROPY, credited"
refused "rate limit: second request" rate "HTTP 429"

# The bearer token never reaches the output either.
if grep -qF "$TOKEN" "$T"/*.out; then
	fail "the token appears in entropy-seed's output"
else
	pass "the token appears in no output"
fi
finish
