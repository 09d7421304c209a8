#!/bin/sh
# SPDX-License-Identifier: ISC
# t-pollinate: Debian's pollinate client, unmodified, gets a seed from
# entropyd over HTTPS with the test CA pinned (its own challenge check
# passes); TLS 1.0 and 1.1 are refused, 1.2 and 1.3 accepted.
#
# usage: sh t-pollinate.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tools pollinate
make_server_cert
PORT=$(free_port)
CPORT=$(free_port)
APORT=$(free_port)
[ -n "$PORT" ] && [ -n "$CPORT" ] && [ -n "$APORT" ] || fail "no free port"

cat >"$T/d.conf" <<EOF
[entropyd]
listen = 127.0.0.1:$PORT, [::1]:$PORT
admin_listen = 127.0.0.1:$APORT
tls_cert = $T/server.pem
tls_key = $T/server.key
rate = 100/s
burst = 100
user = nobody
EOF
chmod 644 "$T/d.conf"
start_daemon d

CURL="curl -s --cacert $T/ca.pem --capath /dev/null"
seeds_served() {
	curl -s "http://127.0.0.1:$APORT/metrics" |
	    sed -n 's/^entropyd_requests_total{result="seed"} //p'
}

# pollinate as shipped: --testing writes the hashed response to stdout
# (binary, per /etc/default/pollinate, or hex without it); --strict makes
# a failed exchange or challenge check exit non-zero. It logs through
# logger(1), which copes without a syslog daemon.
mkdir -p "$T/home"
before=$(seeds_served)
HOME="$T/home" TMPDIR="$T" pollinate --testing --strict \
    -s "https://127.0.0.1:$PORT/" \
    -c "--cacert $T/ca.pem --capath /dev/null" \
    >"$T/pollinate.out" 2>"$T/pollinate.err" ||
    fail "pollinate exit $?: $(cat "$T/pollinate.err")"
size=$(wc -c <"$T/pollinate.out")
if [ "$size" -eq 64 ]; then
	hex=$(xxd -p -c 64 "$T/pollinate.out")
else
	hex=$(cat "$T/pollinate.out")
fi
echo "$hex" | grep -Eqx '[0-9a-f]{128}' ||
    fail "pollinate printed no seed: $(xxd "$T/pollinate.out" | head -3)"
after=$(seeds_served)
[ "$after" -eq $((before + 1)) ] ||
    fail "entropyd served $before then $after seeds: pollinate not served"
pass "pollinate --strict seeded from entropyd ($hex)"

# Control: pollinate's challenge check is live. A 404 body fails it.
if HOME="$T/home" TMPDIR="$T" pollinate --testing --strict \
    -s "https://127.0.0.1:$PORT/nowhere" \
    -c "--cacert $T/ca.pem --capath /dev/null" \
    >"$T/pollinate2.out" 2>"$T/pollinate2.err"; then
	fail "pollinate accepted a response without a challenge answer"
fi
pass "pollinate --strict rejects a bad answer (its check is live)"

# Control: pollinate refuses an entropyd whose CA is not pinned.
make_ca otherca
if HOME="$T/home" TMPDIR="$T" pollinate --testing --strict \
    -s "https://127.0.0.1:$PORT/" \
    -c "--cacert $T/otherca.pem --capath /dev/null" \
    >"$T/pollinate3.out" 2>"$T/pollinate3.err"; then
	fail "pollinate trusted a certificate from another CA"
fi
pass "pollinate refuses a server its pinned CA did not sign"

# TLS versions. OpenSSL 3 clients refuse TLS 1.0/1.1 themselves at the
# default security level, so lower it; a control server that speaks
# TLS 1.0 shows that these clients really offer it.
openssl s_server -accept "127.0.0.1:$CPORT" -cert "$T/server.pem" \
    -key "$T/server.key" -cipher 'DEFAULT@SECLEVEL=0' -tls1 -www -quiet \
    >"$T/control.out" 2>&1 </dev/null &
CTL=$!
PIDS="$PIDS $CTL"
i=0
until echo | openssl s_client -tls1 -cipher 'DEFAULT@SECLEVEL=0' \
    -connect "127.0.0.1:$CPORT" -CAfile "$T/ca.pem" \
    >"$T/control.s_client" 2>&1; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "control: openssl s_client -tls1 cannot speak TLS 1.0"
	sleep 0.1
done
grep -q 'New, TLSv1.0, Cipher is' "$T/control.s_client" ||
    fail "control: no TLS 1.0 session: $(cat "$T/control.s_client")"
code=$($CURL --tlsv1.0 --tls-max 1.0 --ciphers 'DEFAULT@SECLEVEL=0' \
    -o /dev/null -w '%{http_code}' "https://127.0.0.1:$CPORT/") ||
    fail "control: curl --tls-max 1.0 cannot speak TLS 1.0"
[ "$code" = 200 ] || fail "control: curl TLS 1.0 got $code"
kill "$CTL"
pass "control: these clients do speak TLS 1.0 when a server accepts it"

for v in tls1 tls1_1; do
	if echo | openssl s_client -$v -cipher 'DEFAULT@SECLEVEL=0' \
	    -connect "127.0.0.1:$PORT" -CAfile "$T/ca.pem" \
	    >"$T/s_client.$v" 2>&1; then
		fail "openssl s_client -$v: handshake accepted"
	fi
	grep -q 'New, TLSv' "$T/s_client.$v" &&
	    fail "openssl s_client -$v: a session was made"
	pass "openssl s_client -$v refused"
done
for v in 1.0 1.1; do
	if $CURL --tlsv$v --tls-max $v --ciphers 'DEFAULT@SECLEVEL=0' \
	    -o "$T/curl.body" "https://127.0.0.1:$PORT/?challenge=$hex"; then
		fail "curl --tls-max $v: served"
	fi
	pass "curl --tls-max $v refused"
done
for v in 1.2 1.3; do
	s=$(echo "$v" | tr . _)
	echo | openssl s_client -tls$s -connect "127.0.0.1:$PORT" \
	    -CAfile "$T/ca.pem" -verify_return_error >"$T/s_client.$s" 2>&1 ||
	    fail "openssl s_client -tls$s: refused: $(tail -5 "$T/s_client.$s")"
	grep -q "New, TLSv$v, Cipher is" "$T/s_client.$s" ||
	    fail "openssl s_client -tls$s: no TLS $v session"
	code=$($CURL --tlsv$v --tls-max $v -o "$T/curl.body" \
	    -w '%{http_code}' "https://127.0.0.1:$PORT/?challenge=$hex")
	[ "$code" = 200 ] || fail "curl TLS $v: got $code"
	pass "TLS $v accepted (openssl s_client and curl)"
done

# Started as root with user = nobody: serving as nobody.
if [ "$(id -u)" = 0 ]; then
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$DPID/status")
	want=$(id -u nobody)
	[ "$uid" = "$want $want $want $want" ] ||
	    fail "privileges not dropped: Uid $uid"
	pass "privileges dropped to nobody (Uid $uid)"
fi
# The admin listener.
code=$(curl -s -o "$T/healthz" -w '%{http_code}' \
    "http://127.0.0.1:$APORT/healthz")
[ "$code" = 200 ] && grep -qx ok "$T/healthz" ||
    fail "/healthz: $code $(cat "$T/healthz")"
curl -s "http://127.0.0.1:$APORT/metrics" |
    grep -q '^entropyd_rng_ready 1$' ||
    fail "/metrics: kernel RNG not reported ready"
code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$APORT/nothing")
[ "$code" = 404 ] || fail "admin /nothing: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -d x=1 \
    "http://127.0.0.1:$APORT/metrics")
[ "$code" = 405 ] || fail "admin POST /metrics: $code"
pass "admin listener: /healthz ok, rng_ready 1, 404 and 405 elsewhere"

kill -0 "$DPID" 2>/dev/null || fail "entropyd died"

# pollinate with a token, as entropyd(8)'s EXAMPLES say: pollinate
# splits -c at blanks, so the header goes in a curl config file.
TPORT=$(free_port)
cat >"$T/tok.conf" <<EOF2
[entropyd]
listen = 127.0.0.1:$TPORT
tls_cert = $T/server.pem
tls_key = $T/server.key
tokens_file = $T/tokens
user = nobody
EOF2
chmod 644 "$T/tok.conf"
"$ENTROPYD" -c "$T/tok.conf" token add pollinate >"$T/token" 2>"$T/add.err" ||
    fail "token add: $(cat "$T/add.err")"
chmod 644 "$T/tokens"
start_daemon tok
(umask 077; printf 'header = "Authorization: Bearer %s"\n' \
    "$(cat "$T/token")" >"$T/curlrc")
HOME="$T/home" TMPDIR="$T" pollinate --testing --strict \
    -s "https://127.0.0.1:$TPORT/" \
    -c "--config $T/curlrc --cacert $T/ca.pem --capath /dev/null" \
    >"$T/pollinate-tok.out" 2>"$T/pollinate-tok.err" ||
    fail "pollinate with a token: $(cat "$T/pollinate-tok.err")"
[ -s "$T/pollinate-tok.out" ] || fail "pollinate with a token: no seed"
# A client's first refusal is always logged: pollinate's requests got none.
grep -q "refused" "$T/tok.log" &&
    fail "pollinate's token refused: $(cat "$T/tok.log")"
pass "pollinate with a token in a curl config file: seeded"
if HOME="$T/home" TMPDIR="$T" pollinate --testing --strict \
    -s "https://127.0.0.1:$TPORT/" \
    -c "--cacert $T/ca.pem --capath /dev/null" \
    >"$T/pollinate-notok.out" 2>"$T/pollinate-notok.err"; then
	fail "pollinate without the token was served"
fi
grep -q "refused: no Authorization header" "$T/tok.log" ||
    fail "no refusal logged for pollinate without a token"
pass "control: pollinate without the curl config file is refused"
echo "PASS t-pollinate"
