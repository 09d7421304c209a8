#!/bin/sh
# SPDX-License-Identifier: ISC
# t-check: entropy-seed checks its configuration for real. --dry-run
# exits 1 when no server answered; a missing ca_file, cert or key is a
# configuration error (exit 2) naming the file; a token_file others can
# read gets a warning; a 403 from a plain-http entropyd with tokens says
# the token was not sent over plain http; image-check --fix needs an
# explicit root and refuses the running system without
# --yes-this-is-the-running-system.
#
# usage: sh t-check.sh /abs/entropy-seed /abs/entropyd
NAME=check
. "$(dirname "$0")/lib.sh"
SEED=$(head -c 64 /dev/urandom | xxd -p -c 64)
P1=$(free_port)
start_fake good "$P1" good "$SEED"
PDEAD=$(free_port) # nothing listens there

# 1. --dry-run is the configuration check: no answer is a failure.
write_client dead "servers = https://127.0.0.1:$PDEAD/
ca_file = $T/ca.pem
deadline = 1s"
run_client dead --dry-run
[ $RC = 1 ] && has dead "no server answered" &&
    pass "--dry-run, no server answered: exit 1" ||
    fail "--dry-run, no server: exit $RC, want 1" "$T/dead.out"
run_client dead
[ $RC = 0 ] && pass "without --dry-run (boot): no server is exit 0" ||
    fail "boot without a server: exit $RC, want 0" "$T/dead.out"

# 2. Files the configuration names must be there.
for key in ca_file cert key; do
	case $key in
	ca_file) lines="ca_file = $T/nonexistent.pem" ;;
	cert) lines="ca_file = $T/ca.pem
cert = $T/nonexistent.pem
key = $T/server.key" ;;
	key) lines="ca_file = $T/ca.pem
cert = $T/server.pem
key = $T/nonexistent.key" ;;
	esac
	write_client "miss-$key" "servers = https://127.0.0.1:$P1/
$lines"
	run_client "miss-$key" --dry-run
	if [ $RC = 2 ] && has "miss-$key" "$key $T/nonexistent"; then
		pass "missing $key: exit 2, named: $(grep error "$T/miss-$key.out")"
	else
		fail "missing $key: exit $RC, want 2" "$T/miss-$key.out"
	fi
done

# 3. A token others can read: a warning (the run goes on).
echo "sometoken" >"$T/token"
chmod 644 "$T/token"
write_client tokmode "servers = https://127.0.0.1:$P1/
ca_file = $T/ca.pem
token_file = $T/token"
run_client tokmode --dry-run
[ $RC = 0 ] && has tokmode "readable by group or others (mode 0644)" &&
    pass "token_file mode 0644: warned" ||
    fail "token_file mode 0644: no warning (exit $RC)" "$T/tokmode.out"
chmod 600 "$T/token"
run_client tokmode --dry-run
has tokmode "readable by group" &&
    fail "token_file mode 0600: warned" "$T/tokmode.out" ||
    pass "token_file mode 0600: no warning"

# 4. Plain http to an entropyd that wants tokens: the 403 says why.
PP=$(free_port)
PT=$(free_port)
printf 'web:%s\n' "$(printf %s sometoken | sha256sum | cut -d' ' -f1)" \
    >"$T/tokens"
chmod 644 "$T/tokens"
start_entropyd plain "$PT" server "plain_listen = 127.0.0.1:$PP
tokens_file = $T/tokens"
write_client plain "servers = http://127.0.0.1:$PP/
allow_plain_http = yes
token_file = $T/token"
run_client plain --dry-run
if [ $RC = 1 ] && has plain "HTTP 403" &&
    has plain "token not sent over plain http"; then
	pass "403 over plain http: $(grep -o 'HTTP 403.*' "$T/plain.out")"
else
	fail "403 over plain http: exit $RC" "$T/plain.out"
fi

# 5. image-check --fix: an explicit root, never / by default.
"$ES" image-check --fix >"$T/fix.out" 2>&1
[ $? = 2 ] && grep -q "needs the image's root" "$T/fix.out" &&
    pass "image-check --fix without a root: exit 2" ||
    fail "image-check --fix without a root" "$T/fix.out"
"$ES" image-check --fix / >"$T/fixroot.out" 2>&1
[ $? = 2 ] && grep -q "yes-this-is-the-running-system" "$T/fixroot.out" &&
    pass "image-check --fix /: refused, says how" ||
    fail "image-check --fix / was not refused" "$T/fixroot.out"
mkdir -p "$T/img/etc"
echo 0123456789abcdef0123456789abcdef >"$T/img/etc/machine-id"
ln -s / "$T/rootlink"
"$ES" image-check --fix "$T/rootlink" >"$T/fixlink.out" 2>&1
[ $? = 2 ] && pass "image-check --fix via a link to /: refused" ||
    fail "image-check --fix via a link to / was not refused" \
        "$T/fixlink.out"
"$ES" image-check --fix "$T/img" >"$T/fiximg.out" 2>&1
[ $? = 0 ] && [ ! -s "$T/img/etc/machine-id" ] &&
    pass "image-check --fix IMAGE: fixed" ||
    fail "image-check --fix IMAGE" "$T/fiximg.out"
finish
