#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode does not trust Redis for time or memory: against a scripted
# fake Redis, a reply dripped a byte at a time is cut off by
# redis_timeout as a whole (not per read), so it holds up neither a
# refresh nor SIGTERM; a reply that claims a gigabyte is not read into
# memory. In both cases the node fetches for itself.
#
#	sh t-redis-limits.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fake_pid= daemon_pid=
pid_vars="fake_pid daemon_pid $pid_vars"
start_main_origin
ctl 'set?path=/news.xml&body=%3Crss%3Enews%3C%2Frss%3E'
(umask 077 && openssl rand -hex 32 >"$tmp/fleet.key")
start_fake() { # MODE: a fake Redis in $tmp/MODE
	mkdir -p "$tmp/$1"
	python3 "$(dirname "$ORIGIN")/fake-redis.py" "$1" "$tmp/$1" &
	fake_pid=$!
	until_true 10 '[ -s "$tmp/$1/port" ]'
	printf '[feedcache]\ncache_dir = %s/cache\nredis = redis://127.0.0.1:%s/0\nnode_name = n1\nredis_timeout = 500ms\nfleet_key = %s\n\n[feed news]\nurl = %s/news.xml\nvalidate = xml\n' \
		"$tmp" "$(cat "$tmp/$1/port")" "$tmp/fleet.key" "$B" >"$tmp/feedcache.conf"
}
stop_fake() {
	kill "$fake_pid" 2>/dev/null
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}

# --- a reply dripped a byte every 0.25 s (10 s in all) -----------------------
start_fake drip
fc refresh --force news 2>"$tmp/err"
rc=$?
check "a dripping Redis: the refresh ends before the drip does, single-node (exit $rc: $(grep fleet "$tmp/err"))" \
	'[ $rc = 0 ] && [ ! -e "$tmp/drip/finished" ] &&
	 grep -q "no complete reply within 500 ms" "$tmp/err" &&
	 [ "$(cat "$tmp/cache/news")" = "<rss>news</rss>" ]'
stop_fake
rm -rf "$tmp/drip" "$tmp/cache"
start_fake drip
"$FC" -c "$tmp/feedcache.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
until_true 20 '[ -e "$tmp/drip/asked" ]'
kill -TERM "$daemon_pid"
until_true 20 '! kill -0 "$daemon_pid" 2>/dev/null'
wait "$daemon_pid"
rc=$?
daemon_pid=
check "SIGTERM while Redis drips: the daemon is gone before the drip ends (exit $rc)" \
	'[ $rc = 0 ] && [ ! -e "$tmp/drip/finished" ]'
stop_fake

# --- a reply that claims a gigabyte -----------------------------------------
start_fake huge
fc refresh --force news 2>"$tmp/err"
rc=$?
sleep 1
sent=$(cat "$tmp/huge/sent" 2>/dev/null)
check "a gigabyte reply: not read, cut off after $sent bytes of 64 MiB offered (exit $rc: $(grep fleet "$tmp/err"))" \
	'[ $rc = 0 ] && [ -n "$sent" ] && [ "$sent" -lt $((16 << 20)) ] &&
	 grep -q "a reply larger than" "$tmp/err"'
stop_fake
finish
