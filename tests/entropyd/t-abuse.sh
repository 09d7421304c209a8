#!/bin/sh
# SPDX-License-Identifier: ISC
# t-abuse: a slowloris of hundreds of half-open connections and clients
# hammering at full speed do not stop an allowed client from being
# served, and the half-open connections are timed out; a flood of
# thousands of distinct source addresses leaves the rate-limit table
# bounded and the daemon serving.
#
# usage: sh t-abuse.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
make_server_cert
PORT=$(free_port)
APORT=$(free_port)
SLOW=400 # half-open connections, each from its own address
ONEADDR=40 # more from a single address, over max_per_ip
daemon_conf d "timeout = 3s" "max_per_ip = 16" "rate = 6/min" "burst = 3"
start_daemon d
CH=$(head -c 32 /dev/urandom | xxd -p -c 64)
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" | sed -n "s/^$1 //p"
}
# wait_for FILE PATTERN WHAT
wait_for() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "$3: $(cat "$1" 2>/dev/null)"
		sleep 0.1
	done
}

# The slowloris: connections that never finish a TLS handshake, half of
# them silent, half stopping inside a ClientHello. It holds them until
# told to stop, then waits (bounded) for the server to close each one.
cat >"$T/slowloris.py" <<'EOC'
import os, select, socket, sys, time
port, n, oneaddr, stopfile = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.%d.%d" % (10 + i // 200, 1 + i % 200), 0))
    s.connect(("127.0.0.1", int(port)))
    if i % 2:
        s.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    socks.append(s)
crowd = []
for i in range(oneaddr):
    s = socket.socket()
    s.bind(("127.0.20.1", 0))
    s.connect(("127.0.0.1", int(port)))
    crowd.append(s)
print("held %d + %d" % (n, oneaddr), flush=True)
for _ in range(600):
    if os.path.exists(stopfile):
        break
    time.sleep(0.1)
open_ = set(socks)
deadline = time.monotonic() + 60
while open_ and time.monotonic() < deadline:
    ready, _, _ = select.select(list(open_), [], [], 1)
    for s in ready:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            open_.discard(s)
print("closed by the server: %d of %d" % (n - len(open_), n), flush=True)
EOC

# A hammer: pipelined keep-alive requests at full speed, or a fresh TLS
# handshake per request; counts answers by status until told to stop.
cat >"$T/hammer.py" <<'EOC'
import os, socket, ssl, sys, time, collections
port, cafile, source, mode, stopfile = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=cafile)
req = ("GET /?challenge=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
       % os.urandom(32).hex()).encode()
counts = collections.Counter()
def connect():
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=30,
                                   source_address=(source, 0))
    # No Nagle: a small request must not wait for an ACK.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")
def exchange(s, batch):
    s.sendall(req * batch)
    buf = b""
    got = 0
    while got < batch:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            data = s.recv(1 << 16)
            if not data:
                raise EOFError
            buf += data
            continue
        head = buf[:end + 2]
        i = head.find(b"Content-Length: ")
        length = int(head[i + 16:head.index(b"\r\n", i)])
        while len(buf) < end + 4 + length:
            buf += s.recv(1 << 16)
        counts[head[9:12].decode()] += 1
        buf = buf[end + 4 + length:]
        got += 1
s = connect() if mode == "keepalive" else None
reported = 0
deadline = time.monotonic() + 60
while not os.path.exists(stopfile) and time.monotonic() < deadline:
    try:
        if mode == "keepalive":
            exchange(s, 50)
        else:
            c = connect()
            exchange(c, 1)
            c.close()
    except (EOFError, OSError):
        counts["closed"] += 1
        if mode == "keepalive":
            s = connect()
    total = sum(counts.values())
    if total >= reported + 200:
        reported = total
        print("progress %d" % total, flush=True)
print("done", " ".join("%s=%d" % kv for kv in sorted(counts.items())),
      flush=True)
EOC

python3 "$T/slowloris.py" "$PORT" $SLOW $ONEADDR "$T/stop" \
    >"$T/slowloris.out" 2>&1 &
SLP=$!
PIDS="$PIDS $SLP"
wait_for "$T/slowloris.out" '^held' "slowloris did not connect"
python3 "$T/hammer.py" "$PORT" "$T/ca.pem" 127.0.30.1 keepalive \
    "$T/stop" >"$T/hammer1.out" 2>&1 &
H1=$!
python3 "$T/hammer.py" "$PORT" "$T/ca.pem" 127.0.30.2 handshake \
    "$T/stop" >"$T/hammer2.out" 2>&1 &
H2=$!
PIDS="$PIDS $H1 $H2"
wait_for "$T/hammer1.out" '^progress' "keep-alive hammer made no progress"
wait_for "$T/hammer2.out" '^progress' "handshake hammer made no progress"
pass "$(cat "$T/slowloris.out") half-open connections; two hammers running"

# The allowed client, from its own address, while all that runs.
codes=$(curl -s --cacert "$T/ca.pem" --capath /dev/null \
    --interface 127.0.40.1 -w '%{http_code} ' \
    -o /dev/null "https://127.0.0.1:$PORT/?challenge=$CH" \
    -o /dev/null "https://127.0.0.1:$PORT/?challenge=$CH" \
    -o /dev/null "https://127.0.0.1:$PORT/?challenge=$CH")
[ "$codes" = "200 200 200 " ] ||
    fail "allowed client under attack: got '$codes'"
pass "allowed client served its burst under attack: $codes"
code=$(curl -s --cacert "$T/ca.pem" --capath /dev/null \
    --interface 127.0.40.2 -o /dev/null -w '%{http_code}' \
    -d "challenge=$CH" "https://127.0.0.1:$PORT/")
[ "$code" = 200 ] || fail "second allowed client under attack: got $code"
pass "another allowed client (POST) served under attack"
conns=$(metric entropyd_connections)
[ "$conns" -le $((SLOW + 16 + 8)) ] ||
    fail "$conns connections open: max_per_ip did not hold"
pass "$conns connections open (at most $SLOW + 16 per address + a few)"

touch "$T/stop"
wait "$H1" || fail "hammer: $(cat "$T/hammer1.out")"
wait "$H2" || fail "hammer: $(cat "$T/hammer2.out")"
for h in hammer1 hammer2; do
	line=$(grep '^done' "$T/$h.out")
	ok=$(echo "$line" | sed -n 's/.* 200=\([0-9]*\).*/\1/p')
	limited=$(echo "$line" | sed -n 's/.* 429=\([0-9]*\).*/\1/p')
	[ "${limited:-0}" -gt 0 ] || fail "$h: never rate limited: $line"
	# burst 3, then 6 a minute: a hammer running under a minute gets
	# fewer than 3 + 6 + 1 seeds.
	[ "${ok:-0}" -le 10 ] || fail "$h: $ok seeds: rate limit not held"
	pass "$h: $line"
done
wait "$SLP"
grep -q "closed by the server: $SLOW of $SLOW" "$T/slowloris.out" ||
    fail "half-open connections left open: $(cat "$T/slowloris.out")"
pass "every half-open connection timed out by the server"

# The bounded client table: thousands of distinct source addresses.
kill "$DPID"
wait "$DPID"
FLOOD=3000
cat >>"$T/d.conf" <<EOC
clients = 1000
EOC
start_daemon d
cat >"$T/flood.py" <<'EOC'
import os, socket, ssl, sys
port, cafile, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4])
ctx = ssl.create_default_context(cafile=cafile)
req = ("GET /?challenge=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
       "Connection: close\r\n\r\n" % os.urandom(32).hex()).encode()
ok = 0
for i in range(first, first + n):
    source = "127.1.%d.%d" % (i // 250, 1 + i % 250)
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=30,
                                   source_address=(source, 0))
    # No Nagle: a small request must not wait for an ACK.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(req)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    if data.startswith(b"HTTP/1.1 200 "):
        ok += 1
print(ok)
EOC
FPIDS=
k=0
while [ $k -lt 3 ]; do
	python3 "$T/flood.py" "$PORT" "$T/ca.pem" $((k * FLOOD / 3)) \
	    $((FLOOD / 3)) >"$T/flood.$k.out" 2>&1 &
	FPIDS="$FPIDS $!"
	k=$((k + 1))
done
PIDS="$PIDS $FPIDS"
# Sample the table while the flood runs: it must never pass its bound.
most=0
i=0
while [ $i -lt 600 ] && [ "$(cat "$T"/flood.*.out | wc -l)" -lt 3 ]; do
	n=$(metric entropyd_rate_limit_clients)
	[ "${n:-0}" -gt $most ] && most=$n
	i=$((i + 1))
	sleep 0.1
done
for p in $FPIDS; do
	wait "$p" || fail "flood: $(cat "$T"/flood.*.out)"
done
[ $most -le 1000 ] || fail "rate-limit table reached $most clients"
pass "during the flood the table held at most $most clients"
served=$(cat "$T"/flood.*.out | awk '{ s += $1 } END { print s }')
[ "$served" -eq $FLOOD ] ||
    fail "flood: $served of $FLOOD new addresses served"
clients=$(metric entropyd_rate_limit_clients)
evicted=$(metric entropyd_rate_limit_evictions_total)
[ -n "$clients" ] && [ "$clients" -le 1000 ] ||
    fail "rate-limit table holds $clients clients, bound 1000"
[ -n "$evicted" ] && [ "$evicted" -ge $((FLOOD - 1000)) ] ||
    fail "only $evicted evictions after $FLOOD new clients"
pass "$FLOOD addresses: table holds $clients (bound 1000), $evicted evicted"
code=$(curl -s --cacert "$T/ca.pem" --capath /dev/null \
    --interface 127.0.40.3 -o /dev/null -w '%{http_code}' \
    "https://127.0.0.1:$PORT/?challenge=$CH")
[ "$code" = 200 ] || fail "after the flood: got $code"
pass "still serving after the flood"
echo "PASS t-abuse"
