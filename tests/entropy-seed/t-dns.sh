#!/bin/sh
# SPDX-License-Identifier: ISC
# t-dns: the deadline holds whatever DNS does. In a network namespace
# whose resolv.conf (/etc/netns/NAME/resolv.conf) names a server that
# never answers: a name that cannot resolve costs at most its share of
# the deadline and the next server (an address) is still asked; with
# only that name, the run ends by itself soon after its deadline (the
# resolver thread is left behind, CURLOPT_QUICK_EXIT, not waited for).
# Skips (77) where namespaces cannot be made.
#
# usage: sh t-dns.sh /abs/entropy-seed /abs/entropyd
NAME=dns
. "$(dirname "$0")/lib.sh"
NS="tkdns$$"
NS_MADE=
drop_ns() {
	[ -z "$NS_MADE" ] || ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS"
}
CLEANUP_HOOK=drop_ns
if ! ip netns add "$NS" 2>"$T/netns.err"; then
	echo "# SKIP: cannot make a network namespace: $(cat "$T/netns.err")"
	exit 77
fi
NS_MADE=1
ip -n "$NS" link set lo up || fatal "lo up"
mkdir -p "/etc/netns/$NS" || fatal "/etc/netns/$NS"
echo "nameserver 127.0.0.53" >"/etc/netns/$NS/resolv.conf"
# The name server: reads every query, answers none.
cat >"$T/mute.py" <<'EOC'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
print("listening", flush=True)
n = 0
while True:
    s.recvfrom(4096)
    n += 1
    print("query", n, flush=True)
EOC
ip netns exec "$NS" python3 "$T/mute.py" >"$T/mute.log" 2>&1 &
MPID=$!
PIDS="$PIDS $MPID"
wait_for "$T/mute.log" listening $MPID "mute name server"

# entropyd in the namespace, on its loopback.
P=$(free_port)
entropyd_conf d "$P" server ""
ip netns exec "$NS" "$ED" -c "$T/d.conf" >"$T/d.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_for "$T/d.log" 'serving seeds' $DPID entropyd
# Every entropy-seed run below is in the namespace, 60 s at most.
CLIENT_WRAP="timeout 60 ip netns exec $NS"

# 1. The unresolvable name first, then the address.
write_client two "servers = https://seed.tenantkit.test:$P/, https://127.0.0.1:$P/
ca_file = $T/ca.pem
timeout = 3s
deadline = 8s"
run_client two --dry-run
grep -q query "$T/mute.log" || fail "the name server was never asked" \
    "$T/mute.log"
if [ $RC = 0 ] && has two "dry run: 64 bytes from https://127.0.0.1:$P/"
then
	pass "a name server that never answers: the next server seeded (${MS} ms)"
else
	fail "mute DNS, then an address: exit $RC" "$T/two.out"
fi
has two "seed.tenantkit.test" && pass "the name's failure is named: $(grep -o 'warning: https://seed[^ ]* .*' "$T/two.out" | head -n 1)" ||
    fail "no warning for the unresolvable name" "$T/two.out"

# 2. Only the name, a 2 s deadline: the run ends by itself, exit 1
# (--dry-run), not at the resolver's own timeouts (5 s per try, twice).
write_client one "servers = https://seed.tenantkit.test:$P/
ca_file = $T/ca.pem
deadline = 2s"
run_client one --dry-run
[ $RC = 1 ] && pass "only the unresolvable name: ended by itself, exit 1 (${MS} ms)" ||
    fail "only the unresolvable name: exit $RC (124: did not end)" \
        "$T/one.out"
finish
