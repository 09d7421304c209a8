#!/bin/sh
# SPDX-License-Identifier: ISC
# t-config: the configuration is checked for real and the operator sees
# why. --check-config loads the certificate and key as the server will
# (a mismatch names both files) and the client CA; a configuration error
# at start exits 2. TLS 1.2 offers only ECDHE with AEAD. The start-up
# line names each listener and its kind. Each refusal is logged with its
# reason (once a minute per client and reason; every one under -v) and
# counted by reason in /metrics; repeated 403s from one address are shunned at
# accept; the admin listener has a per-address limit; and the refusal
# log has a global limit, summed up once a minute.
#
# usage: sh t-config.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tools sha256sum
make_server_cert
make_cert other ca 127.0.0.1 "$SERVER_EXT"
PORT=$(free_port)
APORT=$(free_port)
PPORT=$(free_port)
TOKEN=$(head -c 32 /dev/urandom | xxd -p -c 64)
printf 'web:%s\n' "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" \
    >"$T/tokens"
chmod 644 "$T/tokens"
# conf NAME EXTRA
conf() {
	daemon_conf "$1" "plain_listen = 127.0.0.1:$PPORT" \
	    "allow = 127.0.0.0/16" "tokens_file = $T/tokens" "$2"
}

# 1. A key that is not the certificate's: both files named, exit 2.
conf bad "tls_key = $T/other.key"
sed -i "/^tls_key = .*server.key/d" "$T/bad.conf"
"$ENTROPYD" -c "$T/bad.conf" --check-config >"$T/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "other.key is not the key of tls_cert .*server.pem" \
    "$T/bad.out" && pass "key mismatch: $(cat "$T/bad.out")" ||
    fail "key mismatch: exit $rc: $(cat "$T/bad.out")"
"$ENTROPYD" -c "$T/bad.conf" >"$T/bad-start.out" 2>&1
[ $? = 2 ] && pass "key mismatch at start: exit 2 (no restart loop)" ||
    fail "key mismatch at start: $(cat "$T/bad-start.out")"
# damaged KEY FILE OTHER: KEY (tls_cert or tls_key) set to a copy of
# FILE with its first base64 line spoiled; --check-config names that
# copy alone, not OTHER, the pair's other file.
damaged() {
	sed '2s/^.../!!!/' "$T/$2" >"$T/damaged-$2"
	chmod 600 "$T/damaged-$2"
	conf "dmg-$1" "$1 = $T/damaged-$2"
	sed -i "\\|^$1 = $T/$2$|d" "$T/dmg-$1.conf"
	"$ENTROPYD" -c "$T/dmg-$1.conf" --check-config >"$T/dmg-$1.out" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q "$1 .*damaged-$2: " "$T/dmg-$1.out" &&
	    ! grep -q "$3" "$T/dmg-$1.out" &&
	    pass "a damaged $1 is named alone: $(cat "$T/dmg-$1.out")" ||
	    fail "damaged $1: exit $rc: $(cat "$T/dmg-$1.out")"
}
damaged tls_cert server.pem server.key
damaged tls_key server.key server.pem
echo "not a certificate" >"$T/junk.pem"
conf ca "client_ca = $T/junk.pem"
"$ENTROPYD" -c "$T/ca.conf" --check-config >"$T/ca.out" 2>&1
[ $? = 2 ] && grep -q "client_ca $T/junk.pem" "$T/ca.out" &&
    pass "client_ca without a certificate: $(cat "$T/ca.out")" ||
    fail "junk client_ca: $(cat "$T/ca.out")"
conf typo "rate = fast"
"$ENTROPYD" -c "$T/typo.conf" >"$T/typo.out" 2>&1
[ $? = 2 ] && pass "a bad value at start: exit 2" ||
    fail "bad value at start: $(cat "$T/typo.out")"

# 2. The start-up line names every listener and its kind.
conf d ""
start_daemon d
grep -q "serving seeds as nobody on 127.0.0.1:$PORT (seeds over TLS), 127.0.0.1:$PPORT (seeds over plain HTTP), 127.0.0.1:$APORT (admin: /metrics, /healthz)" \
    "$T/d.log" && pass "$(grep 'serving seeds' "$T/d.log")" ||
    fail "start-up line"

# 3. TLS 1.2: ECDHE and AEAD only; TLS 1.3 as it is.
tls() {
	echo | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/ca.pem" \
	    "$@" >"$T/tls.out" 2>&1
}
tls -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 &&
    pass "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 accepted" ||
    fail "TLS 1.2 with ECDHE and GCM refused: $(tail -5 "$T/tls.out")"
tls -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 &&
    pass "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 accepted" ||
    fail "TLS 1.2 with ChaCha20 refused"
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 \
    ECDHE-ECDSA-AES128-SHA256 AES128-GCM-SHA256 AES128-SHA; do
	tls -tls1_2 -cipher "$c" && fail "TLS 1.2 $c accepted"
done
pass "TLS 1.2 CBC, SHA-1 MAC and static RSA suites refused"
tls -tls1_3 && pass "TLS 1.3 accepted" || fail "TLS 1.3 refused"

# 4. Refusals: each reason in the log and in /metrics.
CH=$(head -c 32 /dev/urandom | xxd -p -c 64)
# get SOURCE [CURL OPTIONS]: HTTP status (000: closed before any).
get() {
	src=$1
	shift
	code=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" \
	    --capath /dev/null --interface "$src" "$@" \
	    "https://127.0.0.1:$PORT/?challenge=$CH")
	echo "${code:-000}"
}
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" |
	    sed -n "s/^entropyd_refusals_total{reason=\"$1\"} //p"
}
[ "$(get 127.0.1.1)" = 403 ] || fail "no token: not 403"
grep -q "forbidden: no Authorization header" "$T/body" ||
    fail "403 body: $(cat "$T/body")"
[ "$(get 127.0.1.2 -H 'Authorization: Bearer nottherighttoken')" = 403 ] ||
    fail "wrong token: not 403"
[ "$(get 127.0.1.3 -H 'Authorization: Basic Zm9vOmJhcg==')" = 403 ] ||
    fail "Basic: not 403"
[ "$(get 127.1.0.1 -H "Authorization: Bearer $TOKEN")" = 000 ] ||
    fail "outside allow: not closed at accept"
code=$(curl -s -o "$T/body" -w '%{http_code}' \
    "http://127.0.0.1:$PPORT/?challenge=$CH")
[ "$code" = 403 ] && grep -q "token not sent over plain http" "$T/body" &&
    pass "plain http without a token: $(cat "$T/body")" ||
    fail "plain http 403: $code $(cat "$T/body")"
for r in "127.0.1.1:.*refused: no Authorization header" \
    "127.0.1.2:.*refused: unknown token" \
    "127.0.1.3:.*refused: Authorization header is not Bearer TOKEN" \
    "127.1.0.1:.*refused: not in allow"; do
	grep -q "$r" "$T/d.log" || fail "not in the log: $r"
done
pass "every refusal logged with its reason"
[ "$(metric no_authorization)" -ge 1 ] && [ "$(metric unknown_token)" = 1 ] &&
    [ "$(metric bad_authorization)" = 1 ] && [ "$(metric not_in_allow)" = 1 ] &&
    pass "refusals counted by reason in /metrics" ||
    fail "/metrics: $(curl -s "http://127.0.0.1:$APORT/metrics" | grep refusals)"

# 5. Repeated 403s: the address is shunned at accept; once a minute in
# the log; the token holder on another address is still served.
codes=
for i in 1 2 3 4 5; do codes="$codes$(get 127.0.2.1) "; done
case $codes in
"403 403 403 000 000 ") pass "repeated 403s shunned at accept: $codes" ;;
*) fail "repeated 403s: $codes" ;;
esac
[ "$(metric shunned)" -ge 2 ] || fail "shunned not counted"
curl -s "http://127.0.0.1:$APORT/metrics" |
    grep -qx "entropyd_shunned_connections_total $(metric shunned)" ||
    fail "entropyd_shunned_connections_total is not the shunned refusals"
n=$(grep -c '127.0.2.1:.*refused: no Authorization' "$T/d.log")
[ "$n" = 1 ] && grep -q '127.0.2.1:.*refused: shunned' "$T/d.log" &&
    pass "a client's refusals logged once a minute per reason" ||
    fail "127.0.2.1: no Authorization header logged $n times"
[ "$(get 127.0.2.2 -H "Authorization: Bearer $TOKEN")" = 200 ] &&
    pass "the token holder next door still served" || fail "token refused"

# 6. The admin listener: a per-address limit, and the deadline.
cat >"$T/admin.py" <<'EOC'
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    socks.append(s)
time.sleep(0.5)
closed = 0
for s in socks:
    s.settimeout(0.2)
    try:
        if s.recv(1) == b"":
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print("closed at once", closed, flush=True)
# Another address still gets /metrics meanwhile.
c = socket.create_connection(("127.0.0.1", port), timeout=5,
                             source_address=("127.0.0.9", 0))
c.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
print("other address", c.recv(12).decode(), flush=True)
EOC
python3 "$T/admin.py" "$APORT" >"$T/admin.out" 2>&1
grep -q "closed at once 6" "$T/admin.out" &&
    grep -q "other address HTTP/1.1 200" "$T/admin.out" &&
    pass "admin listener: 4 connections an address; others still served" ||
    fail "admin: $(cat "$T/admin.out")"

# 7. -v: every refusal, not once a minute.
kill "$DPID"
wait "$DPID"
PIDS=
cp "$T/d.conf" "$T/v.conf"
start_daemon v -v
get 127.0.3.1 >/dev/null
get 127.0.3.1 >/dev/null
[ "$(grep -c '127.0.3.1:.*refused: no Authorization header' "$T/v.log")" = 2 ] &&
    pass "-v: every refusal logged" || fail "-v: $(cat "$T/v.log")"

# 8. The global limit: 200 strangers refused at accept in a burst (a
# TCP connect each, no TLS: far faster than the limit refills), far
# fewer lines, then a summary within the minute.
kill "$DPID"
wait "$DPID"
conf d ""
start_daemon d
python3 - "$PORT" <<'EOC' || fail "could not connect from 127.1.x.y"
import socket, sys
for i in range(200):
    s = socket.socket()
    s.bind(("127.1.%d.%d" % (i // 100, 1 + i % 100), 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.close()
EOC
i=0
until [ "$(metric not_in_allow)" = 200 ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "200 strangers: $(metric not_in_allow) refused"
	sleep 0.1
done
n=$(grep -c '127.1.*refused: not in allow' "$T/d.log")
[ "$n" -lt 200 ] &&
    pass "refusal log limited across clients: $n lines for 200 refusals" ||
    fail "200 refusals, $n lines"
wait_log "$T/d.log" "suppressed [0-9,]* refusals in the last minute" \
    "no summary of suppressed refusals" 800
pass "$(grep -o 'suppressed [0-9,]* refusals in the last minute' "$T/d.log")"
echo "PASS t-config"
