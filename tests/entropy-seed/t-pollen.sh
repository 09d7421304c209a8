#!/bin/sh
# SPDX-License-Identifier: ISC
# t-pollen: entropy-seed against the real pollen (Debian package pollen),
# the server pollinate was written for: seeded over verified TLS.
#
# pollen listens on every address and has no option to bind one, so it
# runs in a network namespace of its own with only loopback up, and
# entropy-seed runs in the same namespace. pollen will not start without
# syslog: where /dev/log is missing, a throwaway datagram socket is bound
# there for the run (drained) and removed afterwards. Skipped, with a
# reason, where pollen or namespaces are not available.
#
# usage: sh t-pollen.sh /abs/entropy-seed /abs/entropyd
NAME=pollen
. "$(dirname "$0")/lib.sh"

# skip WHY: ctest reports the test as skipped, not passed.
skip() {
	echo "skipped: $*"
	exit 77
}
for tool in pollen ip runuser; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done
getent passwd pollen >/dev/null || skip "no user pollen"
[ "$(id -u)" = 0 ] || skip "network namespaces need root"

NS="tk-es-pollen-$$"
NS_MADE=
pollen_cleanup() {
	[ -z "$NS_MADE" ] || ip netns del "$NS" 2>/dev/null
}
CLEANUP_HOOK=pollen_cleanup
# Root is not enough: a container may withhold CAP_SYS_ADMIN (no
# namespace at all) or CAP_NET_ADMIN (a namespace whose loopback cannot
# be brought up: systemd-nspawn sharing the host's network). Either is
# the machine, not the code: skip, saying which.
ip netns add "$NS" 2>"$T/netns.err" ||
    skip "cannot create a network namespace: $(cat "$T/netns.err")"
NS_MADE=1
ip netns exec "$NS" ip link set lo up 2>"$T/netns.err" ||
    skip "cannot bring loopback up in a network namespace" \
	"(no CAP_NET_ADMIN?): $(cat "$T/netns.err")"
inns() { ip netns exec "$NS" "$@"; }

# A throwaway /dev/log, only if there is none; the drainer removes it on
# SIGTERM, and only if the socket there is still its own.
if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
	python3 - >"$T/devlog.log" 2>&1 <<'EOPY' &
import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)  # pollen logs as the user pollen
ino = os.stat("/dev/log").st_ino
def bye(*_):
    try:
        if os.stat("/dev/log").st_ino == ino:
            os.unlink("/dev/log")
    except OSError:
        pass
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
print("bound", flush=True)
while True:
    s.recv(65536)
EOPY
	LOGPID=$!
	PIDS="$LOGPID $PIDS"
	wait_for "$T/devlog.log" bound $LOGPID "the /dev/log drainer"
	pass "bound a throwaway /dev/log for the run"
fi

# pollen reads its key as the user pollen.
chown pollen "$T/server.key" "$T/server.pem" || fatal "chown"
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
# Not through inns: $! must be the pid that becomes runuser.
ip netns exec "$NS" runuser -u pollen -- pollen -http-port="$HTTP_PORT" \
    -https-port="$HTTPS_PORT" -device=/dev/urandom \
    -cert="$T/server.pem" -key="$T/server.key" >"$T/pollen.log" 2>&1 &
RUNPID=$!
# runuser forks pollen: stop pollen itself first, then runuser.
PIDS="$RUNPID $PIDS"
i=0
until inns python3 -c "
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(s.connect_ex(('127.0.0.1', $HTTPS_PORT)))
" 2>/dev/null; do
	kill -0 $RUNPID 2>/dev/null || fatal "pollen exited" "$T/pollen.log"
	i=$((i + 1))
	[ $i -le 100 ] || fatal "pollen did not listen" "$T/pollen.log"
	sleep 0.1
done
POLLEN=$(tr -d ' \n' <"/proc/$RUNPID/task/$RUNPID/children" 2>/dev/null)
[ -n "$POLLEN" ] && PIDS="$POLLEN $PIDS"
[ "$(cat "/proc/$RUNPID/comm" 2>/dev/null)" = runuser ] &&
    [ -n "$POLLEN" ] && [ "$(cat "/proc/$POLLEN/comm")" = pollen ] ||
    fatal "pollen is not runuser's child ($RUNPID: $POLLEN)"
pass "pollen listens on 127.0.0.1:$HTTPS_PORT in namespace $NS"

U="https://127.0.0.1:$HTTPS_PORT/"
write_client pollen "servers = $U
ca_file = $T/ca.pem
timeout = 3s
deadline = 10s"
t0=$(date +%s%N)
inns "$ES" -c "$T/pollen.conf" --strict --dry-run >"$T/dry.out" 2>&1
RC=$?
if [ $RC = 0 ] && grep -qF "dry run: 64 bytes from $U (TLS verified)" \
    "$T/dry.out"; then
	pass "pollen: answer checked (dry run)"
else
	fail "pollen, dry run: exit $RC" "$T/dry.out" "$T/pollen.log"
fi
inns "$ES" -c "$T/pollen.conf" --strict -v >"$T/real.out" 2>&1
RC=$?
MS=$((($(date +%s%N) - t0) / 1000000))
if [ $RC = 0 ] && grep -qF "seeded 64 bytes from $U: RNDADDENTROPY, credited" \
    "$T/real.out"; then
	pass "pollen: seeded ($(sed -n 's/.*: RNDADDENTROPY/RNDADDENTROPY/p' \
	    "$T/real.out"), two runs in ${MS} ms)"
else
	fail "pollen: exit $RC" "$T/real.out" "$T/pollen.log"
fi
# And pollen with a certificate from another CA is refused.
write_client otherca "servers = $U
ca_file = $T/otherca.pem
timeout = 3s
deadline = 10s"
make_ca otherca
inns "$ES" -c "$T/otherca.conf" --strict >"$T/otherca.out" 2>&1
RC=$?
if [ $RC = 1 ] && ! grep -q seeded "$T/otherca.out"; then
	pass "pollen behind a certificate of another CA: refused"
else
	fail "pollen, other CA: exit $RC" "$T/otherca.out"
fi
finish
