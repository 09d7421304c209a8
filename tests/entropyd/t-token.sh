#!/bin/sh
# SPDX-License-Identifier: ISC
# t-token: tokens managed, not hand-edited. "entropyd token add" prints a
# token once and appends NAME:sha256 (never the token) to tokens_file,
# keeping its owner and mode; a running entropyd with that configuration
# is reloaded and serves the token at once; "token list" shows names and
# times, never hashes; "token revoke" removes one and the running daemon
# refuses it at once. Twenty adds at once leave twenty whole entries. An
# entry made with "echo TOKEN | sha256sum" is recognised and named.
#
# usage: sh t-token.sh /abs/path/entropyd
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_tools sha256sum
make_server_cert
PORT=$(free_port)
APORT=$(free_port)
daemon_conf d "tokens_file = $T/tokens"
CH=$(head -c 32 /dev/urandom | xxd -p -c 64)
# seed TOKEN: the HTTP status of a seed request with that token.
seed() {
	curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" \
	    --capath /dev/null -H "Authorization: Bearer $1" \
	    "https://127.0.0.1:$PORT/?challenge=$CH"
}

# 1. No tokens file yet: add makes it; an empty one is refused at start.
: >"$T/tokens"
chmod 644 "$T/tokens"
"$ENTROPYD" -c "$T/d.conf" --check-config >"$T/empty.log" 2>&1
[ $? = 2 ] && grep -q "no tokens in it" "$T/empty.log" &&
    pass "--check-config: an empty tokens_file is an error (exit 2)" ||
    fail "empty tokens_file: $(cat "$T/empty.log")"
rm -f "$T/tokens"
"$ENTROPYD" -c "$T/d.conf" token add web >"$T/web.token" 2>"$T/add.log" ||
    fail "token add web: $(cat "$T/add.log")"
WEB=$(cat "$T/web.token")
echo "$WEB" | grep -Eqx '[0-9a-f]{64}' || fail "token add printed '$WEB'"
grep -q "shown only once" "$T/add.log" || fail "add: $(cat "$T/add.log")"
grep -q "$WEB" "$T/tokens" && fail "the token itself is in tokens_file"
grep -qx "web:$(printf %s "$WEB" | sha256sum | cut -d' ' -f1)" "$T/tokens" ||
    fail "tokens_file lacks web's hash: $(cat "$T/tokens")"
pass "token add web: printed once, only its hash stored"
chgrp "$(id -gn nobody)" "$T/tokens" # the daemon's user reads it by group
chmod 640 "$T/tokens"
"$ENTROPYD" -c "$T/d.conf" token add db >"$T/db.token" 2>"$T/add.log" ||
    fail "token add db: $(cat "$T/add.log")"
DB=$(cat "$T/db.token")
[ "$(stat -c %a "$T/tokens")" = 640 ] && pass "the file keeps its mode" ||
    fail "mode after add: $(stat -c %a "$T/tokens")"
chmod 644 "$T/tokens"
"$ENTROPYD" -c "$T/d.conf" token add web >/dev/null 2>"$T/dup.log"
[ $? = 1 ] && grep -q "exists" "$T/dup.log" &&
    pass "token add of an existing name: exit 1" ||
    fail "second add web: $(cat "$T/dup.log")"
"$ENTROPYD" -c "$T/d.conf" token add 'we b' >/dev/null 2>"$T/bad.log"
[ $? = 2 ] && pass "token add of a bad name: exit 2" ||
    fail "bad name: $(cat "$T/bad.log")"

# 2. list: names and times, no hashes.
"$ENTROPYD" -c "$T/d.conf" token list >"$T/list.out" 2>&1 ||
    fail "token list: $(cat "$T/list.out")"
grep -Eq '^web +20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$T/list.out" &&
    grep -q '^db ' "$T/list.out" &&
    ! grep -Eq '[0-9a-f]{32}' "$T/list.out" &&
    pass "token list: $(tr '\n' ';' <"$T/list.out")" ||
    fail "token list: $(cat "$T/list.out")"

# 3. A running daemon is reloaded by add and revoke.
start_daemon d
[ "$(seed "$WEB")" = 200 ] && [ "$(seed "$DB")" = 200 ] &&
    pass "both tokens served" || fail "tokens not served"
"$ENTROPYD" -c "$T/d.conf" token add late >"$T/late.token" 2>"$T/late.log" ||
    fail "token add late: $(cat "$T/late.log")"
grep -q "told entropyd (pid $DPID) to reload" "$T/late.log" ||
    fail "add did not reload: $(cat "$T/late.log")"
i=0
until [ "$(seed "$(cat "$T/late.token")")" = 200 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "the added token is not served after reload"
	sleep 0.1
done
pass "token add reloads the running entropyd: new token served"
"$ENTROPYD" -c "$T/d.conf" token revoke db 2>"$T/revoke.log" ||
    fail "token revoke db: $(cat "$T/revoke.log")"
grep -q "told entropyd (pid [0-9]*) to reload" "$T/revoke.log" ||
    fail "revoke did not reload: $(cat "$T/revoke.log")"
i=0
until [ "$(seed "$DB")" = 403 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "the revoked token is still served"
	sleep 0.1
done
[ "$(seed "$WEB")" = 200 ] || fail "revoking db refused web"
grep -q '^db:\|# db added' "$T/tokens" && fail "db still in tokens_file"
pass "token revoke: refused at once, web still served"
"$ENTROPYD" -c "$T/d.conf" token revoke db 2>/dev/null
[ $? = 1 ] && pass "revoking a name not there: exit 1" ||
    fail "revoke of a missing name did not exit 1"
# A tokens file the daemon's user (nobody) cannot read: a reload would
# keep the old tokens, so add says so and exits 1 rather than claim it.
chmod 600 "$T/tokens"
"$ENTROPYD" -c "$T/d.conf" token add unread >/dev/null 2>"$T/unread.log"
rc=$?
chmod 644 "$T/tokens"
[ $rc = 1 ] && grep -q "user nobody, which cannot read it (mode 0600" "$T/unread.log" &&
    pass "token add to a file the daemon's user cannot read: exit 1, named" ||
    fail "unreadable tokens_file: exit $rc: $(cat "$T/unread.log")"

# 4. Twenty adds at once: twenty whole entries, nothing lost or torn.
k=0
APIDS=
while [ $k -lt 20 ]; do
	"$ENTROPYD" -c "$T/d.conf" token add "many$k" >"$T/many$k.token" \
	    2>"$T/many$k.log" &
	APIDS="$APIDS $!"
	k=$((k + 1))
done
for p in $APIDS; do wait "$p" || fail "a concurrent add failed"; done
n=$(grep -c '^many[0-9]*:[0-9a-f]\{64\}$' "$T/tokens")
[ "$n" = 20 ] && pass "20 concurrent adds: 20 entries" ||
    fail "20 concurrent adds left $n entries: $(cat "$T/tokens")"
"$ENTROPYD" -c "$T/d.conf" --check-config >"$T/check.log" 2>&1 ||
    fail "tokens_file after concurrent adds: $(cat "$T/check.log")"
[ "$(seed "$(cat "$T/many7.token")")" = 200 ] &&
    pass "a token from the concurrent adds is served" ||
    fail "many7 not served"

# 5. An entry made with echo | sha256sum (a newline in the hash).
ECHO_TOKEN=$(head -c 32 /dev/urandom | xxd -p -c 64)
echo "echoed:$(echo "$ECHO_TOKEN" | sha256sum | cut -d' ' -f1)" \
    >>"$T/tokens"
kill -HUP "$DPID"
i=0
until grep -q "reloaded" "$T/d.log" && [ "$(seed "$ECHO_TOKEN")" = 200 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "the echo-hashed token is not recognised"
	sleep 0.1
done
grep -q "the entry of echoed is the SHA-256 of its token and a newline" \
    "$T/d.log" && pass "an entry hashed with a newline: recognised, named" ||
    fail "echo | sha256sum entry not named in the log"
grep -Eqi '[0-9a-f]{64}' "$T/d.log" && fail "a hash or token in the log"
echo "PASS t-token"
