#!/bin/sh
# SPDX-License-Identifier: ISC
# t-deadline: every connection that has not finished a request within
# timeout is closed by the server, and each one is counted under
# entropyd_refusals_total{reason="deadline"} and logged with that
# reason: a TLS connection that goes quiet after its handshake, a TCP
# connection that never starts one, and a request whose headers never
# end. (libmicrohttpd's own idle timeout would close the quiet ones
# first, silently.)
#
# usage: sh t-deadline.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
make_server_cert
PORT=$(free_port)
APORT=$(free_port)
daemon_conf d "timeout = 3s"
start_daemon d
metric() {
	curl -s "http://127.0.0.1:$APORT/metrics" | sed -n "s/^$1 //p"
}

# Three clients, each holding its connection open until the server
# closes it (at most 20 s), then saying how it ended.
cat >"$T/quiet.py" <<'EOC'
import socket, ssl, sys, time
port, kind, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
if kind in ("tls", "partial"):
    ctx = ssl.create_default_context(cafile=ca)
    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    if kind == "partial":
        s.sendall(b"GET /seed HTTP/1.1\r\nHost: x\r\n")
s.settimeout(20)
start = time.monotonic()
closed = False
try:  # whatever the server sends first (a TLS alert), then its close
    while not closed and time.monotonic() - start < 20:
        closed = s.recv(64) == b""
except (ssl.SSLError, ConnectionError):
    closed = True
except socket.timeout:
    pass
print("%s %s %.1f" % (kind, "closed" if closed else "open", time.monotonic() - start))
EOC
for kind in tls tcp partial; do
	python3 "$T/quiet.py" "$PORT" $kind "$T/ca.pem" >"$T/$kind.out" 2>&1 &
	PIDS="$PIDS $!"
done
for kind in tls tcp partial; do
	i=0
	until [ -s "$T/$kind.out" ]; do
		i=$((i + 1))
		[ $i -le 250 ] || fail "$kind: still waiting after 25 s"
		sleep 0.1
	done
	case $(cat "$T/$kind.out") in
	"$kind closed "*) pass "the server closed the $kind connection ($(cat "$T/$kind.out"))" ;;
	*) fail "$kind: $(cat "$T/$kind.out")" ;;
	esac
done
n=$(metric 'entropyd_refusals_total{reason="deadline"}')
[ "$n" = 3 ] ||
	fail "refusals{reason=\"deadline\"} is '$n', not 3: $(curl -s "http://127.0.0.1:$APORT/metrics" | grep refusals_total)"
pass "each of the three is counted under reason=\"deadline\""
grep -q 'refused: timeout: handshake and request not done in time' "$T/d.log" ||
	fail "no refusal line with the deadline reason in the log"
pass "and the log names the reason"
