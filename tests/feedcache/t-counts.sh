#!/bin/sh
# SPDX-License-Identifier: ISC
# Exact numbers of origin requests: one per due refresh (however many
# `refresh` runs race for it), none when not due, none before a Retry-After
# deadline whatever the mode (--force, get --max-age, the daemon), and the
# backoff schedule against a failing origin and a closed port.
#
#	sh t-counts.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
dead_pid=
daemon_pid=
pid_vars="daemon_pid $pid_vars dead_pid"
meta() { # meta NAME KEY: a value from the meta file
	sed -n "s/^$2 //p" "$tmp/cache/.$1.meta"
}

start_main_origin
# A port nobody listens on: an origin's, once it has stopped.
start_origin "$tmp/deadport" || exit 1
dead_pid=$started_pid
DEAD=http://127.0.0.1:$(cat "$tmp/deadport")
kill "$dead_pid"
wait "$dead_pid"
dead_pid=

cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed due]
url = $B/due
interval = 30s
timeout = 5s

[feed idle]
url = $B/idle
interval = 1h

[feed ra]
url = $B/ra
interval = 1h
max_backoff = 1s

[feed radate]
url = $B/radate
interval = 1h

[feed rabig]
url = $B/rabig
interval = 1h

EOF
for p in due idle ra radate rabig; do
	ctl "set?path=/$p&mode=normal&body=%3Crss%3E$p%3C%2Frss%3E"
done

# --- one request per due refresh ---------------------------------------------
fc refresh 2>"$tmp/err"
check "first refresh: every feed never fetched is due, one request each" \
	'[ "$(count /due)" = 1 ] && [ "$(count /idle)" = 1 ] && [ "$(count /ra)" = 1 ]'
for i in 1 2 3; do
	fc refresh 2>/dev/null
	fc refresh due 2>/dev/null
	fc refresh --all 2>/dev/null
done
check "refresh when nothing is due: zero requests ($(count /due) $(count /idle))" \
	'[ "$(count /due)" = 1 ] && [ "$(count /idle)" = 1 ]'
fc refresh due 2>"$tmp/err"
check "refresh NAME when not due says so" 'grep -q "not due" "$tmp/err"'
fc get idle --max-age 1h >/dev/null
check "get --max-age on a fresh copy: zero requests" '[ "$(count /idle)" = 1 ]'

# Five refreshes race for a due feed (the origin takes 1 s to answer).
ctl 'set?path=/due&mode=slow&delay=1'
for round in 1 2; do
	due=$(meta due next_due)
	until_true 40 '[ "$(date +%s)" -ge "$due" ]' ||
		not_ok "round $round: the feed never came due ($due)"
	before=$(count /due)
	pids=
	for i in 1 2 3 4 5; do
		fc refresh 2>/dev/null &
		pids="$pids $!"
	done
	wait $pids
	n=$(count /due)
	check "round $round: 5 concurrent refreshes of a due feed, exactly 1 request ($before -> $n)" \
		'[ "$n" = $((before + 1)) ]'
	fc refresh 2>/dev/null
	check "round $round: and none right after" '[ "$(count /due)" = "$n" ]'
done
fc refresh --force due 2>/dev/null
check "refresh --force: one request even when not due" '[ "$(count /due)" = $((n + 1)) ]'

# --- Retry-After ------------------------------------------------------------------
ctl 'set?path=/ra&mode=status&code=503&retry_after=120'
fc refresh --force ra 2>/dev/null
rc=$?
check "503 Retry-After: 120: refresh --force fails, one request (rc $rc)" \
	'[ $rc = 1 ] && [ "$(count /ra)" = 2 ]'
now=$(date +%s)
ra=$(fc status --json ra | jfield retry_after)
check "status --json shows the Retry-After deadline ($ra, now $now)" \
	'[ -n "$ra" ] && [ "$ra" -ge $((now + 110)) ] && [ "$ra" -le $((now + 121)) ]'
col=$(fc status ra | awk '$1 == "ra" { print $6 }')
check "status shows the time left before the deadline ($col)" \
	'echo "$col" | grep -Eq "^(1[01][0-9]s|2m)$"'
for i in 1 2 3; do
	fc refresh --force ra 2>"$tmp/err"
	fc refresh ra 2>/dev/null
	fc refresh --all --force 2>/dev/null
	fc get ra --max-age 1s >/dev/null
done
check "refresh --force, refresh, get --max-age before the deadline: zero requests ($(count /ra))" \
	'[ "$(count /ra)" = 2 ]'
check "refresh --force says why it did not ask" 'grep -q "Retry-After" "$tmp/err"'

future=$(python3 -c 'import email.utils, time; print(email.utils.formatdate(time.time() + 600, usegmt=True))')
q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$future")
ctl "set?path=/radate&mode=status&code=429&retry_after=$q"
ctl 'set?path=/rabig&mode=status&code=503&retry_after=31536000'
fc refresh --force radate rabig 2>/dev/null
now=$(date +%s)
ra=$(fc status --json radate | jfield retry_after)
check "429 with an HTTP-date Retry-After: deadline honoured ($ra, now $now)" \
	'[ -n "$ra" ] && [ "$ra" -ge $((now + 590)) ] && [ "$ra" -le $((now + 601)) ]'
ra=$(fc status --json rabig | jfield retry_after)
check "Retry-After of a year is clamped to 24 h ($ra, now $now)" \
	'[ -n "$ra" ] && [ "$ra" -ge $((now + 86390)) ] && [ "$ra" -le $((now + 86400)) ]'
before="$(count /radate) $(count /rabig)"
fc refresh --force radate rabig 2>/dev/null
after="$(count /radate) $(count /rabig)"
check "and no request before those deadlines ($before -> $after)" '[ "$before" = "$after" ]'

# --- the daemon: backoff, and Retry-After again ------------------------------------
ctl 'set?path=/e500&mode=status&code=500'
ctl 'set?path=/capped&mode=status&code=500'
ctl 'reset'
# The daemon's configuration: the Retry-After feeds, and three new ones.
sed -n '/^\[feed ra\]/,$p' "$tmp/feedcache.conf" >"$tmp/ra.conf"
cat - "$tmp/ra.conf" >"$tmp/daemon.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed e500]
url = $B/e500
interval = 10s
max_backoff = 1h

[feed closed]
url = $DEAD/closed
interval = 10s
timeout = 2s

[feed capped]
url = $B/capped
interval = 10s
max_backoff = 2s
EOF
"$FC" -c "$tmp/daemon.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
C "$B/_ctl/wait?path=/e500&count=1&timeout=10" >/dev/null
# Full jitter after the first failure: retry k waits 1 s to
# min(interval, 10 s) * 2^(k-1) = 10, 20, 40 ... s. In 13 s that makes at
# least 2 attempts (the first retry is due within 10 s); 7 or more would need
# six retries within 13 s, a chance far below one in a million.
sleep 13
kill -TERM $daemon_pid
wait $daemon_pid
rc=$?
daemon_pid=
n=$(count /e500)
check "daemon vs HTTP 500 for 13 s: 2 to 6 requests (got $n)" '[ "$n" -ge 2 ] && [ "$n" -le 6 ]'
f=$(meta e500 failures)
check "the meta file counts the same failures ($f)" '[ "$f" = "$n" ]'
n=$(meta closed requests.network)
check "daemon vs a closed port for 13 s: 2 to 6 attempts (got $n)" '[ "$n" -ge 2 ] && [ "$n" -le 6 ]'
n=$(count /capped)
check "max_backoff = 2s caps the backoff: at least 4 requests in 13 s (got $n)" \
	'[ "$n" -ge 4 ] && [ "$n" -le 15 ]'
check "daemon vs Retry-After deadlines: zero requests ($(count /ra) $(count /radate) $(count /rabig))" \
	'[ "$(count /ra)" = 0 ] && [ "$(count /radate)" = 0 ] && [ "$(count /rabig)" = 0 ]'
check "daemon exits 0 on SIGTERM (got $rc)" '[ $rc = 0 ]'

finish
