#!/bin/sh
# SPDX-License-Identifier: ISC
# t-bad: every bad answer of a seed server is refused, named in a warning
# and never mixed (wrong challenge echo, short seed, non-hex seed, a body
# over 4 KiB, 403, 429, 500); and no byte of the seed a server sent, good
# or bad, ever appears in entropy-seed's output at -v.
#
# usage: sh t-bad.sh /abs/entropy-seed /abs/entropyd
NAME=bad
. "$(dirname "$0")/lib.sh"

SEED=$(head -c 64 /dev/urandom | xxd -p -c 64)

# seed_in FILE: FILE holds an 8-byte run of SEED, in hex (either case)
# or raw.
seed_in() {
	python3 - "$SEED" "$1" <<'EOPY'
import sys
seed = bytes.fromhex(sys.argv[1])
out = open(sys.argv[2], "rb").read()
for i in range(len(seed) - 7):
    w = seed[i:i + 8]
    if w in out or w.hex().encode() in out.lower():
        sys.exit(0)
sys.exit(1)
EOPY
}
# no_leak WHAT FILE
no_leak() {
	! seed_in "$2" || fail "$1: the seed appears in the output" "$2"
}

# One fake server per mode; the client asks it once, strictly, at -v,
# without --dry-run: a refused answer must not reach the kernel.
for case in \
    'echo|first line is not the SHA-512 of our challenge' \
    'short|second line is not 128 hex characters' \
    'nonhex|second line is not lowercase hex' \
    'oversize|answer over 4096 bytes' \
    '403|HTTP 403' \
    '429|HTTP 429' \
    '500|HTTP 500'; do
	mode=${case%%|*}
	reason=${case#*|}
	port=$(free_port)
	start_fake "fake-$mode" "$port" "$mode" "$SEED"
	url="https://127.0.0.1:$port/"
	write_client "c-$mode" "servers = $url
ca_file = $T/ca.pem
timeout = 3s
deadline = 5s"
	run_client "c-$mode" -v --strict
	if [ $RC != 1 ]; then
		fail "$mode: --strict exits $RC, want 1" "$T/c-$mode.out"
	elif ! has "c-$mode" "$url: $reason"; then
		fail "$mode: no warning '$url: $reason'" "$T/c-$mode.out"
	elif has "c-$mode" "seeded" || has "c-$mode" "RNDADDENTROPY" ||
	    has "c-$mode" "/dev/urandom"; then
		fail "$mode: something was mixed" "$T/c-$mode.out"
	elif ! grep -q '^request 1$' "$T/fake-$mode.log"; then
		fail "$mode: the request never reached the server" \
		    "$T/fake-$mode.log"
	else
		pass "$mode: refused ($reason), nothing mixed"
	fi
	no_leak "$mode" "$T/c-$mode.out"
	# Without --strict a boot carries on: exit 0, with the warning.
	run_client "c-$mode" -v
	if [ $RC = 0 ] && has "c-$mode" "no seed from any server" &&
	    ! has "c-$mode" "seeded"; then
		pass "$mode: without --strict, exit 0 and a warning"
	else
		fail "$mode: without --strict: exit $RC" "$T/c-$mode.out"
	fi
	no_leak "$mode" "$T/c-$mode.out"
	stop $FPID
done

# The good answer, dry run and real (as root: the ioctl), at -v.
port=$(free_port)
start_fake fake-good "$port" good "$SEED"
write_client good "servers = https://127.0.0.1:$port/
ca_file = $T/ca.pem
timeout = 3s
deadline = 5s"
run_client good -v --strict --dry-run
if [ $RC = 0 ] && has good "dry run: 64 bytes from https://127.0.0.1:$port/"
then
	pass "good answer: accepted (dry run)"
else
	fail "good answer, dry run: exit $RC" "$T/good.out"
fi
no_leak "good answer, dry run" "$T/good.out"
cp "$T/good.out" "$T/good-dry.out"
run_client good -v --strict
if [ $RC = 0 ] && has good "seeded 64 bytes from https://127.0.0.1:$port/"
then
	pass "good answer: accepted and mixed"
else
	fail "good answer: exit $RC" "$T/good.out"
fi
no_leak "good answer, mixed" "$T/good.out"
# The check itself must be able to fail: a planted fragment is found,
# in lowercase hex, uppercase hex and raw.
for form in lower upper raw; do
	cp "$T/good.out" "$T/leak.out"
	case $form in
	lower) echo "$SEED" | cut -c 31-50 ;;
	upper) echo "$SEED" | cut -c 31-50 | tr a-f A-F ;;
	raw) echo "$SEED" | cut -c 31-50 | xxd -r -p ;;
	esac >>"$T/leak.out"
	if seed_in "$T/leak.out"; then
		pass "the leak check finds a planted seed fragment ($form)"
	else
		fail "the leak check misses a planted seed fragment ($form)"
	fi
done
finish
