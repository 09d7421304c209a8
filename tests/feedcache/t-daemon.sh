#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon: readiness, SIGHUP reloads (an added feed starts, a removed
# one stops, an unchanged one keeps its schedule, a broken file keeps the
# running configuration), SIGTERM during a transfer (exit 0, no temporary
# file left); and bad configuration files, each refused with exit 2 and a
# message naming the file, the line and the key.
#
#	sh t-daemon.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
daemon_pid=
notify_pid=
pid_vars="daemon_pid $pid_vars notify_pid"
alive() { kill -0 "$daemon_pid" 2>/dev/null; }
logged() { grep -c -e "$1" "$tmp/daemon.err"; }

start_main_origin
for p in keep drop add; do
	ctl "set?path=/$p.xml&mode=normal"
done

# conf FEED...: a configuration with these feeds. keep is never due again
# within the test; drop and add come due every 2 s or so.
conf() {
	printf '[feedcache]\ncache_dir = %s/cache\n' "$tmp"
	for f in "$@"; do
		interval=2s
		[ $f = keep ] && interval=1h
		printf '\n[feed %s]\nurl = %s/%s.xml\ninterval = %s\ntimeout = 5s\nvalidate = xml\n' \
			$f "$B" $f $interval
	done
}
conf keep drop >"$tmp/feedcache.conf"

# A stand-in for systemd's notification socket.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
open(sys.argv[2], "wb").write(s.recv(4096))' "$tmp/notify" "$tmp/notified" &
# shellcheck disable=SC2034 # cleanup stops it: named in $pid_vars
notify_pid=$!
until_true 10 '[ -S "$tmp/notify" ]'

NOTIFY_SOCKET=$tmp/notify "$FC" -c "$tmp/feedcache.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
until_true 20 '[ -s "$tmp/notified" ]'
check "daemon tells systemd it is ready ($(cat "$tmp/notified" 2>/dev/null))" \
	'grep -q "READY=1" "$tmp/notified"'
until_true 20 '[ "$(count /keep.xml)" -ge 1 ] && [ "$(count /drop.xml)" -ge 1 ] && [ -s "$tmp/cache/keep" ] && [ -s "$tmp/cache/drop" ]'
check "daemon fetches both feeds at start" \
	'fc get keep | cmp -s - "$tmp/cache/keep" && [ -s "$tmp/cache/drop" ] && [ "$(count /keep.xml)" = 1 ]'
until_true 15 '[ "$(count /drop.xml)" -ge 2 ]'
check "a feed with interval 2s is fetched again ($(count /drop.xml) requests)" \
	'[ "$(count /drop.xml)" -ge 2 ]'

# --- reload: add one, remove one, leave one alone -------------------------------
conf keep add >"$tmp/feedcache.conf"
kill -HUP $daemon_pid
until_true 15 '[ "$(logged reloaded)" -ge 1 ]'
check "SIGHUP: the daemon reloads ($(grep reloaded "$tmp/daemon.err"))" \
	'[ "$(logged reloaded)" = 1 ] && alive'
dropped=$(count /drop.xml)
until_true 15 '[ "$(count /add.xml)" -ge 1 ] && [ -s "$tmp/cache/add" ]'
check "the added feed is fetched" 'fc get add | grep -q "/add.xml"'
# The removed feed was due every ~2 s: 5 s of silence says it stopped.
sleep 5
check "the removed feed gets no more requests ($dropped -> $(count /drop.xml))" \
	'[ "$(count /drop.xml)" = "$dropped" ]'
check "the unchanged feed keeps its schedule: no request caused by the reload ($(count /keep.xml))" \
	'[ "$(count /keep.xml)" = 1 ]'

# --- a broken file keeps the running configuration --------------------------------
cp "$tmp/feedcache.conf" "$tmp/good.conf"
{
	conf keep add
	printf 'colour = blue\n'
} >"$tmp/feedcache.conf"
bad_line=$(grep -n colour "$tmp/feedcache.conf" | cut -d: -f1)
kill -HUP $daemon_pid
until_true 15 '[ "$(logged "keeping the running configuration")" -ge 1 ]'
check "a broken reload is logged with file, line and key ($(grep keeping "$tmp/daemon.err"))" \
	'grep "keeping the running" "$tmp/daemon.err" | grep -q "feedcache.conf:$bad_line: colour"'
before=$(count /add.xml)
until_true 15 '[ "$(count /add.xml)" -gt "$before" ]'
check "after it the daemon runs on with the old configuration ($before -> $(count /add.xml))" \
	'alive && [ "$(count /add.xml)" -gt "$before" ] && [ "$(count /drop.xml)" = "$dropped" ]'
cp "$tmp/good.conf" "$tmp/feedcache.conf"

# --- SIGTERM in the middle of a transfer ----------------------------------------------
ctl 'set?path=/add.xml&mode=drip&rate=1&body=%3Crss%3Enew%20content%20dripping%3C%2Frss%3E'
before=$(count /add.xml)
until_true 15 '[ "$(count /add.xml)" -gt "$before" ]'
sleep 0.5 # the headers, and a byte or two, have arrived
kill -TERM $daemon_pid
until_true 15 '! alive'
wait $daemon_pid
rc=$?
daemon_pid=
check "SIGTERM during a transfer: the daemon exits 0 (got $rc)" '[ $rc = 0 ]'
left=$(ls -A "$tmp/cache" | grep -v -x -e keep -e drop -e add -e '\.[a-z]*\.meta' -e '\.[a-z]*\.lock' -e .requests)
check "no temporary files left ($left)" '[ -z "$left" ]'
check "the copy is the last complete one" 'fc get add | grep -q "/add.xml"'

# --- bad configuration files ------------------------------------------------------------
# bad NAME KEY_PATTERN TEXT: the file NAME.conf holds TEXT (printf format);
# feedcache must exit 2 naming NAME.conf, the number of the line marked
# '#!', and KEY_PATTERN.
bad() {
	name=$1 pat=$2
	printf "$3" | sed 's/ *#!$//' >"$tmp/$name.conf"
	line=$(printf "$3" | grep -n '#!$' | cut -d: -f1)
	for cmd in status daemon; do
		timeout 20 "$FC" -c "$tmp/$name.conf" $cmd >/dev/null 2>"$tmp/err"
		rc=$?
		msg=$(cat "$tmp/err")
		check "bad config, $name ($cmd): exit 2, '$msg'" \
			'[ $rc = 2 ] && echo "$msg" | grep -q "/$name.conf:$line: " && echo "$msg" | grep -Eq "$pat"'
	done
}
H="[feedcache]\ncache_dir = $tmp/cache\n"
U="url = $B/x.xml\n"
bad unknown-key 'colour' "$H\n[feed a]\n$U""colour = blue #!\n"
bad unknown-section '\[nosuch\]' "$H\n[nosuch] #!\n$U"
bad duplicate-key 'interval.*twice' "$H\n[feed a]\n$U""interval = 5m\ninterval = 6m #!\n"
bad duplicate-feed '\[feed a\].*twice' "$H\n[feed a]\n$U\n[feed a] #!\n$U"
bad bad-interval "interval.*'soon'" "$H\n[feed a]\n$U""interval = soon #!\n"
bad zero-interval "interval.*'0s'" "$H\n[feed a]\n$U""interval = 0s #!\n"
bad ftp-url "url.*ftp://" "$H\n[feed a]\nurl = ftp://127.0.0.1/x #!\n"
bad bad-name '\.\./x' "$H\n[feed ../x] #!\n$U"
bad missing-url 'url.*missing' "$H\n[feed a] #!\ninterval = 5m\n"
bad bad-validate "validate.*'yaml'" "$H\n[feed a]\n$U""validate = yaml #!\n"
bad bad-header 'header' "$H\n[feed a]\n$U""header = no colon here #!\n"
bad relative-cache-dir 'cache_dir' "[feedcache]\ncache_dir = cache #!\n"
bad no-section 'section' "cache_dir = $tmp/cache #!\n"
"$FC" -c "$tmp/missing.conf" status >/dev/null 2>"$tmp/err"
rc=$?
check "a missing configuration file: exit 2, '$(cat "$tmp/err")'" \
	'[ $rc = 2 ] && grep -q "missing.conf" "$tmp/err"'
check "no temporary file was left by the refused configurations" \
	'[ -z "$(ls -A "$tmp/cache" | grep -v -x -e keep -e drop -e add -e "\.[a-z]*\.meta" -e "\.[a-z]*\.lock" -e .requests)" ]'

finish
