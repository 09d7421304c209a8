#!/bin/sh
# SPDX-License-Identifier: ISC
# t-ratelimit: the per-client token bucket. Exactly burst quick requests
# are served, the next gets 429 with a Retry-After that matches the rate,
# service is back after waiting it out; SIGHUP changes rate and burst
# without dropping an open keep-alive connection; /metrics counts every
# 429; SIGTERM stops the daemon cleanly.
#
# usage: sh t-ratelimit.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
make_server_cert
PORT=$(free_port)
APORT=$(free_port)

# write_conf RATE BURST
write_conf() { daemon_conf d "rate = $1" "burst = $2"; }
# reload RATE BURST: rewrites the configuration, sends SIGHUP and waits
# until the daemon says it reloaded.
RELOADS=0
reload() {
	write_conf "$1" "$2"
	RELOADS=$((RELOADS + 1))
	kill -HUP "$DPID"
	i=0
	until [ "$(grep -c 'reloaded' "$T/d.log")" -ge $RELOADS ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "no reload after SIGHUP"
		sleep 0.1
	done
}

write_conf 60/min 2
start_daemon d
CH=$(head -c 32 /dev/urandom | xxd -p -c 64)
URL="https://127.0.0.1:$PORT/?challenge=$CH"
SEEN429=0
# burst FROM N: N requests on one keep-alive connection from address
# FROM; prints "CODE RETRY-AFTER NEW-CONNECTIONS" a line each.
burst() {
	from=$1
	n=$2
	urls=
	while [ "$n" -gt 0 ]; do
		urls="$urls -o /dev/null $URL"
		n=$((n - 1))
	done
	# shellcheck disable=SC2086
	curl -s --cacert "$T/ca.pem" --capath /dev/null --interface "$from" \
	    -w '%{http_code} %header{retry-after} %{num_connects}\n' $urls
}

# 1. rate = 60/min, burst = 2.
burst 127.0.0.2 3 >"$T/b1"
[ "$(sed -n 3p "$T/b1" | cut -d' ' -f3)" = 0 ] ||
    fail "curl did not reuse its connection: $(cat "$T/b1")"
codes=$(cut -d' ' -f1 "$T/b1" | tr '\n' ' ')
[ "$codes" = "200 200 429 " ] || fail "burst 2: got $codes"
SEEN429=$((SEEN429 + 1))
ra=$(sed -n 3p "$T/b1" | cut -d' ' -f2)
[ "$ra" = 1 ] || fail "60/min: Retry-After '$ra', want 1"
pass "60/min, burst 2: 200 200 429, Retry-After: 1"
curl -s --cacert "$T/ca.pem" --capath /dev/null --interface 127.0.0.2 \
    -D "$T/h429" -o "$T/b429" "$URL"
grep -q '^HTTP/1.1 429' "$T/h429" || fail "4th request not a 429"
SEEN429=$((SEEN429 + 1))
grep -Eqi '[0-9a-f]{32}' "$T/b429" && fail "429 body carries hex"
pass "429 carries no seed: $(cat "$T/b429")"
sleep "$ra"
code=$(burst 127.0.0.2 1 | cut -d' ' -f1)
[ "$code" = 200 ] || fail "after Retry-After: got $code"
pass "served again after waiting Retry-After"
code=$(burst 127.0.0.12 1 | cut -d' ' -f1)
[ "$code" = 200 ] || fail "another client while one is limited: got $code"
pass "another address has its own bucket"

# 2. SIGHUP on a live keep-alive connection: under rate = 1/h the
# client's bucket is empty for an hour; after a SIGHUP to 60/min, burst 4
# the same connection is served again within a second.
reload 1/h 2
cat >"$T/keepalive.py" <<'EOC'
import http.client, os, re, signal, ssl, sys, time
port, cafile, pid, log, conf, newconf, reloads = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx,
                                   source_address=("127.0.0.3", 0),
                                   timeout=30)
conn.connect()
conn.auto_open = 0  # a dropped connection must fail, not reconnect
local = conn.sock.getsockname()
path = "/?challenge=" + os.urandom(32).hex()
seen429 = 0
def get():
    global seen429
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if conn.sock is None or conn.sock.getsockname() != local:
        sys.exit("FAIL: the connection was not kept")
    if r.status == 429:
        seen429 += 1
        if re.search(rb"[0-9a-f]{32}", body):
            sys.exit("FAIL: a 429 carries hex")
    return r.status, r.getheader("Retry-After")
got = [get() for _ in range(3)]
if [s for s, _ in got] != [200, 200, 429]:
    sys.exit("FAIL: 1/h, burst 2: got %r" % got)
ra = int(got[2][1])
if not 3500 < ra <= 3600:
    sys.exit("FAIL: 1/h: Retry-After %d, want about 3600" % ra)
print("ok - 1/h, burst 2 on one connection: 200 200 429, Retry-After: %d"
      % ra)
with open(conf + ".new", "w") as f:
    f.write(newconf)
os.chmod(conf + ".new", 0o644)
os.rename(conf + ".new", conf)
os.kill(int(pid), signal.SIGHUP)
for _ in range(100):
    if open(log).read().count("reloaded") >= int(reloads):
        break
    time.sleep(0.1)
else:
    sys.exit("FAIL: no reload after SIGHUP")
status, ra = get()
if status == 429:
    # A bucket refilling at one token a second: back within a second.
    if ra != "1":
        sys.exit("FAIL: after SIGHUP to 60/min: Retry-After %s" % ra)
    time.sleep(int(ra))
    status, ra = get()
if status != 200:
    sys.exit("FAIL: after SIGHUP and Retry-After: got %d" % status)
print("ok - SIGHUP to 60/min: served again on the same connection %s:%d"
      % local)
conn.close()
print("SEEN429 %d" % seen429)
EOC
newconf=$(sed 's|^rate = .*|rate = 60/min|; s|^burst = .*|burst = 4|' \
    "$T/d.conf")
RELOADS=$((RELOADS + 1))
python3 "$T/keepalive.py" "$PORT" "$T/ca.pem" "$DPID" "$T/d.log" \
    "$T/d.conf" "$newconf
" "$RELOADS" >"$T/keepalive.out" 2>&1 ||
    fail "keep-alive: $(cat "$T/keepalive.out")"
grep '^ok' "$T/keepalive.out"
n=$(sed -n 's/^SEEN429 //p' "$T/keepalive.out")
SEEN429=$((SEEN429 + n))

# 3. The new burst holds for a new client.
burst 127.0.0.4 5 >"$T/b3"
codes=$(cut -d' ' -f1 "$T/b3" | tr '\n' ' ')
[ "$codes" = "200 200 200 200 429 " ] || fail "burst 4: got $codes"
SEEN429=$((SEEN429 + 1))
ra=$(sed -n 5p "$T/b3" | cut -d' ' -f2)
[ "$ra" = 1 ] || fail "60/min after SIGHUP: Retry-After '$ra', want 1"
pass "after SIGHUP, burst 4: 200 200 200 200 429, Retry-After: 1"

# 4. A slower rate gives a longer Retry-After.
reload 6/min 1
burst 127.0.0.5 2 >"$T/b4"
codes=$(cut -d' ' -f1 "$T/b4" | tr '\n' ' ')
[ "$codes" = "200 429 " ] || fail "6/min, burst 1: got $codes"
SEEN429=$((SEEN429 + 1))
ra=$(sed -n 2p "$T/b4" | cut -d' ' -f2)
[ "$ra" = 10 ] || fail "6/min: Retry-After '$ra', want 10"
pass "6/min, burst 1: 200 429, Retry-After: 10"

# 5. /metrics counts every 429.
curl -s "http://127.0.0.1:$APORT/metrics" >"$T/metrics" ||
    fail "no /metrics"
m=$(sed -n 's/^entropyd_requests_total{result="rate_limited"} //p' \
    "$T/metrics")
[ "$m" = "$SEEN429" ] || fail "/metrics says $m rate-limited, clients saw $SEEN429"
pass "/metrics counts the $m 429s"
grep -q 'rate limited' "$T/d.log" || fail "rate limiting not logged"
[ "$(grep -c 'rate limited' "$T/d.log")" -lt "$SEEN429" ] ||
    fail "every 429 was logged: the log can be flooded"
pass "rate limiting logged, at most once a minute per client"

# 6. SIGTERM stops cleanly.
kill -TERM "$DPID"
wait "$DPID"
rc=$?
PIDS=
[ $rc = 0 ] || fail "SIGTERM: exit status $rc"
grep -q 'stopping' "$T/d.log" || fail "SIGTERM: no 'stopping' in the log"
pass "SIGTERM: stopped, exit status 0"
echo "PASS t-ratelimit"
