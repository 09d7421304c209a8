#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGHUP never waits for the slowest transfer: with three transfers held
# by the origin, a reload applies at once; the unchanged feed's transfer
# runs on and its answer is kept, the removed feed's is abandoned (its
# answer never lands), the changed feed's starts again, and a new feed
# is fetched while the others are still held.
#
#	sh t-reload.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
daemon_pid=
o2= o3= o4=
pid_vars="daemon_pid o2 o3 o4 $pid_vars"
logged() { grep -c -e "$1" "$tmp/daemon.err"; }
start_main_origin
# One origin per feed: feedcache runs one transfer per origin at a time.
for k in 2 3 4; do
	start_origin "$tmp/port$k" || exit 1
	eval "o$k=\$started_pid"
done
base() { # the origin of feed NAME
	case $1 in
	same) echo "$B" ;;
	gone) echo "http://127.0.0.1:$(cat "$tmp/port2")" ;;
	changed) echo "http://127.0.0.1:$(cat "$tmp/port3")" ;;
	new) echo "http://127.0.0.1:$(cat "$tmp/port4")" ;;
	esac
}
n() { C "$(base "$1")/_ctl/count?path=/$1.xml"; } # requests for feed NAME
for p in same gone changed; do
	C -o /dev/null -X POST "$(base $p)/_ctl/set?path=/$p.xml&mode=hold&body=%3Crss%3E$p%3C%2Frss%3E"
done
C -o /dev/null -X POST "$(base new)/_ctl/set?path=/new.xml&body=%3Crss%3Enew%3C%2Frss%3E"
feed() { # NAME [TIMEOUT]
	printf '\n[feed %s]\nurl = %s/%s.xml\ninterval = 1h\ntimeout = %s\nvalidate = xml\n' \
		"$1" "$(base "$1")" "$1" "${2:-120s}"
}
{
	printf '[feedcache]\ncache_dir = %s/cache\n' "$tmp"
	feed same
	feed gone
	feed changed
} >"$tmp/feedcache.conf"
"$FC" -c "$tmp/feedcache.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
until_true 30 '[ "$(n same)" = 1 ] && [ "$(n gone)" = 1 ] && [ "$(n changed)" = 1 ]'
check "three transfers held by the origin" \
	'[ "$(n same)$(n gone)$(n changed)" = 111 ]'
{
	printf '[feedcache]\ncache_dir = %s/cache\n' "$tmp"
	feed same
	feed changed 119s
	feed new
} >"$tmp/feedcache.conf"
kill -HUP "$daemon_pid"
until_true 20 '[ "$(logged reloaded)" -ge 1 ] && [ -s "$tmp/cache/new" ]'
check "the reload applies while the transfers are held ($(grep reloaded "$tmp/daemon.err"))" \
	'[ "$(logged "reloaded.*1 transfers running on, 2 abandoned")" = 1 ]'
check "the new feed is fetched while the others are still held" \
	'[ "$(cat "$tmp/cache/new")" = "<rss>new</rss>" ] && [ "$(n same)" = 1 ]'
until_true 20 '[ "$(n changed)" = 2 ]'
check "the changed feed starts again ($(n changed) requests), the unchanged one does not ($(n same))" \
	'[ "$(n changed)" = 2 ] && [ "$(n same)" = 1 ] && [ "$(n gone)" = 1 ]'
for p in same gone changed; do
	C -o /dev/null -X POST "$(base $p)/_ctl/release"
done
until_true 20 '[ -s "$tmp/cache/same" ] && [ -s "$tmp/cache/changed" ]'
sleep 1
check "the unchanged feed's transfer ran on: its answer is kept" \
	'[ "$(cat "$tmp/cache/same")" = "<rss>same</rss>" ] && [ "$(n same)" = 1 ]'
check "the changed feed's new transfer is kept, the removed feed's answer never lands" \
	'[ "$(cat "$tmp/cache/changed")" = "<rss>changed</rss>" ] && [ ! -e "$tmp/cache/gone" ]'
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
check "the daemon stops cleanly (exit $rc)" '[ $rc = 0 ]'
finish
