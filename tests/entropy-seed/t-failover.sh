#!/bin/sh
# SPDX-License-Identifier: ISC
# t-failover: servers in order of preference, each failing its own way
# (connection refused, hung after accepting, garbage over TLS), then a
# good entropyd: seeded from the fourth, each failure named, within the
# deadline. Every server hung: exit 0 (1 with --strict), and the run
# ends at the deadline (plus a generous margin), not at the sum of the
# per-server timeouts.
#
# usage: sh t-failover.sh /abs/entropy-seed /abs/entropyd
NAME=failover
. "$(dirname "$0")/lib.sh"

# 1. Refusing, hung, garbage, good.
P1=$(free_port) # nothing listens there
P2=$(free_port)
start_fake hung "$P2" hung
P3=$(free_port)
start_fake garbage "$P3" garbage
P4=$(free_port)
start_entropyd good "$P4" server ""
U1="https://127.0.0.1:$P1/" U2="https://127.0.0.1:$P2/"
U3="https://127.0.0.1:$P3/" U4="https://127.0.0.1:$P4/"
write_client four "servers = $U1, $U2, $U3, $U4
ca_file = $T/ca.pem
timeout = 2s
deadline = 10s"
run_client four --strict -v
if [ $RC = 0 ] && has four "seeded 64 bytes from $U4: RNDADDENTROPY, credited"
then
	pass "seeded from the fourth server (${MS} ms)"
else
	fail "four servers: exit $RC, want seeded from $U4" "$T/four.out"
fi
for u in "$U1" "$U2" "$U3"; do
	line=$(grep -F "warning: $u: " "$T/four.out" | head -n 1)
	if [ -n "$line" ]; then
		pass "failure named: ${line#*warning: }"
	else
		fail "no warning for $u" "$T/four.out"
	fi
done
grep -qi "refused\|couldn't connect\|failed to connect" "$T/four.out" ||
    fail "the refused connection is not called so" "$T/four.out"
grep -qi "timed out\|timeout" "$T/four.out" ||
    fail "the hung server is not said to time out" "$T/four.out"
# In order: each warning before the next server, the seed last. A
# server that refused or timed out may be tried again (within its share
# of the deadline) before the next: consecutive repeats count once.
order=$(grep -E 'warning: https://|seeded ' "$T/four.out" |
    sed -n 's|.*https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' | uniq |
    tr '\n' ' ')
[ "$order" = "$P1 $P2 $P3 $P4 " ] && pass "servers tried in order" ||
    fail "servers tried out of order: $order" "$T/four.out"
grep -q 'connection 1 held' "$T/hung.log" ||
    fail "the hung server was never connected to" "$T/hung.log"
grep -q 'connection 1: garbage sent' "$T/garbage.log" ||
    fail "the garbage server was never connected to" "$T/garbage.log"

# 2. Every server hung: the deadline (3 s) ends the run, with a warning.
H1=$(free_port)
start_fake hung1 "$H1" hung
H2=$(free_port)
start_fake hung2 "$H2" hung
H3=$(free_port)
start_fake hung3 "$H3" hung
write_client hung "servers = https://127.0.0.1:$H1/, https://127.0.0.1:$H2/, https://127.0.0.1:$H3/
ca_file = $T/ca.pem
timeout = 2s
deadline = 3s"
run_client hung -v
if [ $RC = 0 ] && has hung "no seed from any server"; then
	pass "all hung: exit 0 with a warning (${MS} ms)"
else
	fail "all hung: exit $RC, want 0" "$T/hung.out"
fi
# No clock in the test: the first server costs its 2 s timeout, the
# second is cut off by the 3 s deadline, the third is never tried.
grep -q 'connection 1 held' "$T/hung2.log" ||
    fail "all hung: gave up before trying the second server" "$T/hung.out"
grep -q '^connection' "$T/hung3.log" &&
    fail "all hung: the third server was tried past the deadline" \
        "$T/hung.out"
has hung "deadline of 3.0 s reached" &&
    pass "all hung: says the deadline was reached" ||
    fail "all hung: no word of the deadline" "$T/hung.out"
has hung seeded && fail "all hung: seeded?" "$T/hung.out"
run_client hung -v --strict
if [ $RC = 1 ] && has hung "no seed from any server"; then
	pass "all hung, --strict: exit 1 (${MS} ms)"
else
	fail "all hung, --strict: exit $RC, want 1" "$T/hung.out"
fi
finish
