#!/bin/sh
# SPDX-License-Identifier: ISC
# t-unique: at least 200,000 seeds over real TLS, no 64-byte seed ever
# repeated, and ent(1) finds about 8 bits of entropy per byte in them.
#
# usage: sh t-unique.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tools ent sort uniq
make_server_cert
PORT=$(free_port)
APORT=$(free_port)
daemon_conf d "rate = 1000000/s" "burst = 1000"
start_daemon d

WANT=200000
CLIENTS=4
# One keep-alive TLS connection per client, requests pipelined in
# batches; every answer's first line is checked against the SHA-512 of
# the challenge (as pollinate does), the seed lines are written out.
cat >"$T/collect.py" <<'EOC'
import hashlib, os, socket, ssl, sys, time
port, cafile, source, count, out = sys.argv[1:6]
count = int(count)
ctx = ssl.create_default_context(cafile=cafile)
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=30,
                               source_address=(source, 0))
# No Nagle: a small request must not wait for an ACK.
raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
challenge = os.urandom(32).hex()
want_hash = hashlib.sha512(challenge.encode()).hexdigest().encode()
req = ("GET /?challenge=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
       % challenge).encode()
BATCH = 100
seeds = []
buf = b""
deadline = time.monotonic() + 150
while len(seeds) < count and time.monotonic() < deadline:
    s.sendall(req * BATCH)
    got = 0
    while got < BATCH:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            data = s.recv(1 << 16)
            if not data:
                sys.exit("FAIL: connection closed after %d" % len(seeds))
            buf += data
            continue
        head = buf[:end + 2]
        if not head.startswith(b"HTTP/1.1 200 "):
            sys.exit("FAIL: %r" % head[:200])
        i = head.find(b"Content-Length: ")
        length = int(head[i + 16:head.index(b"\r\n", i)])
        while len(buf) < end + 4 + length:
            data = s.recv(1 << 16)
            if not data:
                sys.exit("FAIL: connection closed mid-answer")
            buf += data
        body = buf[end + 4:end + 4 + length]
        buf = buf[end + 4 + length:]
        lines = body.split(b"\n")
        if lines[0] != want_hash:
            sys.exit("FAIL: wrong challenge answer %r" % lines[0])
        seeds.append(lines[1])
        got += 1
with open(out, "wb") as f:
    f.write(b"\n".join(seeds) + b"\n")
print(len(seeds))
EOC
start=$(date +%s)
per=$(((WANT + CLIENTS - 1) / CLIENTS))
CPIDS=
c=1
while [ $c -le $CLIENTS ]; do
	python3 "$T/collect.py" "$PORT" "$T/ca.pem" "127.0.0.$((10 + c))" \
	    "$per" "$T/seeds.$c" >"$T/collect.$c.out" 2>&1 &
	CPIDS="$CPIDS $!"
	c=$((c + 1))
done
PIDS="$PIDS $CPIDS"
for p in $CPIDS; do
	wait "$p" || fail "collector: $(cat "$T"/collect.*.out)"
done
secs=$(($(date +%s) - start))

cat "$T"/seeds.* >"$T/seeds"
total=$(wc -l <"$T/seeds")
[ "$total" -ge $WANT ] || fail "collected $total seeds, want $WANT"
pass "collected $total seeds in ${secs}s over $CLIENTS keep-alive connections"
bad=$(grep -Evc '^[0-9a-f]{128}$' "$T/seeds")
[ "$bad" -eq 0 ] || fail "$bad answers are not 64 bytes of lowercase hex"
pass "every seed is 64 bytes of lowercase hex"
dups=$(sort "$T/seeds" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups seeds were handed out more than once"
pass "no seed repeated among $total"
served=$(curl -s "http://127.0.0.1:$APORT/metrics" |
    sed -n 's/^entropyd_requests_total{result="seed"} //p')
[ "$served" -ge "$total" ] || fail "/metrics counts $served seeds"
pass "/metrics counts $served seeds"

# ent on 4 MiB of seed bytes (65,536 seeds).
head -n 65536 "$T/seeds" | xxd -r -p >"$T/seeds.bin"
[ "$(wc -c <"$T/seeds.bin")" -eq 4194304 ] || fail "xxd made no 4 MiB"
ent "$T/seeds.bin" >"$T/ent.out"
entropy=$(sed -n 's/^Entropy = \([0-9.]*\) bits per byte.*/\1/p' "$T/ent.out")
[ -n "$entropy" ] || fail "no entropy from ent: $(cat "$T/ent.out")"
awk -v e="$entropy" 'BEGIN { exit !(e > 7.9) }' ||
    fail "ent: $entropy bits per byte"
# Control: ent tells a patterned file from a random one.
head -c 4194304 /dev/zero | tr '\0' 'A' >"$T/control.bin"
ctl=$(ent "$T/control.bin" |
    sed -n 's/^Entropy = \([0-9.]*\) bits per byte.*/\1/p')
awk -v e="$ctl" 'BEGIN { exit !(e < 1) }' || fail "ent control: $ctl"
pass "ent: $entropy bits per byte (control: $ctl)"
kill -0 "$DPID" || fail "entropyd died"
echo "PASS t-unique"
