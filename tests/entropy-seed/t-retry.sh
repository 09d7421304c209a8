#!/bin/sh
# SPDX-License-Identifier: ISC
# t-retry: a server that says "later" is tried again, within the
# deadline: a 429 with Retry-After: 2 gets "rate limited, retrying in
# 2 s" and then the seed; a 503 likewise; a Retry-After that does not
# fit in the deadline moves on to the next server at once; a connection
# refused is retried, then the next server is asked.
#
# usage: sh t-retry.sh /abs/entropy-seed /abs/entropyd
NAME=retry
. "$(dirname "$0")/lib.sh"
SEED=$(head -c 64 /dev/urandom | xxd -p -c 64)

# 1. 429, Retry-After: 2, then good.
P1=$(free_port)
start_fake later "$P1" 429-2 "$SEED"
write_client later "servers = https://127.0.0.1:$P1/
ca_file = $T/ca.pem
deadline = 10s"
run_client later --dry-run
if [ $RC = 0 ] && has later "rate limited, retrying in 2 s" &&
    has later "dry run: 64 bytes from https://127.0.0.1:$P1/"; then
	pass "429 Retry-After 2: $(grep -o 'rate limited, retrying in [0-9]* s' "$T/later.out"), then seeded"
else
	fail "429 then good: exit $RC" "$T/later.out"
fi
[ "$(grep -c '^request' "$T/later.log")" = 2 ] ||
    fail "429 then good: want 2 requests" "$T/later.log"
[ "$MS" -ge 2000 ] && pass "waited the Retry-After (${MS} ms)" ||
    fail "did not wait the 2 s Retry-After (${MS} ms)" "$T/later.out"

# 2. 503, Retry-After: 1 (entropyd before the kernel RNG is ready).
P2=$(free_port)
start_fake busy "$P2" 503-1 "$SEED"
write_client busy "servers = https://127.0.0.1:$P2/
ca_file = $T/ca.pem"
run_client busy --dry-run
if [ $RC = 0 ] && has busy "server not ready (503), retrying in 1 s"; then
	pass "503 Retry-After 1: retried, seeded"
else
	fail "503 then good: exit $RC" "$T/busy.out"
fi

# 3. Retry-After: 60 does not fit in a 5 s deadline: the next server.
P3=$(free_port)
start_fake never "$P3" 429-60 "$SEED"
write_client never "servers = https://127.0.0.1:$P3/, https://127.0.0.1:$P1/
ca_file = $T/ca.pem
deadline = 5s"
run_client never --dry-run
if [ $RC = 0 ] && has never "no time left to wait: trying the next server" &&
    has never "dry run: 64 bytes from https://127.0.0.1:$P1/"; then
	pass "Retry-After beyond the deadline: next server at once"
else
	fail "Retry-After 60: exit $RC" "$T/never.out"
fi
[ "$(grep -c '^request' "$T/never.log")" = 1 ] ||
    fail "Retry-After 60: the server was asked again" "$T/never.log"

# 4. Refused connections: retried (jittered backoff), then the next.
P4=$(free_port) # nothing listens there
write_client refused "servers = https://127.0.0.1:$P4/, https://127.0.0.1:$P1/
ca_file = $T/ca.pem
deadline = 4s"
run_client refused --dry-run
n=$(grep -c "https://127.0.0.1:$P4/: connection refused, retrying in" \
    "$T/refused.out")
if [ $RC = 0 ] && [ "$n" -ge 1 ] &&
    has refused "dry run: 64 bytes from https://127.0.0.1:$P1/"; then
	pass "connection refused: retried $n times, then the next server"
else
	fail "refused then good: exit $RC" "$T/refused.out"
fi
finish
