#!/bin/sh
# SPDX-License-Identifier: ISC
# timeout means the whole transfer: an origin that takes 0.8 x timeout to
# send its first byte is cached, one that takes 1.2 x is not and the
# message names timeout; a transfer that starts and then stalls is cut by
# stall_timeout, counted from the first body byte, and says so.
#
#	sh t-timeout.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_main_origin
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed quick]
url = $B/quick.xml
timeout = 5s
validate = xml

[feed late]
url = $B/late.xml
timeout = 5s
validate = xml

[feed stall]
url = $B/stall.xml
timeout = 30s
stall_timeout = 2s

validate = xml
EOF
body='%3Crss%3E%3Cchannel%3E%3Ctitle%3Eslow%3C%2Ftitle%3E%3C%2Fchannel%3E%3C%2Frss%3E'
ctl "set?path=/quick.xml&mode=slow&delay=4&body=$body"
ctl "set?path=/late.xml&mode=slow&delay=6&body=$body"
# 600 bytes at 1 byte every 3 s: started, then under the stall rule.
long=$(python3 -c 'print("%3Crss%3E" + "x" * 600 + "%3C%2Frss%3E")')
ctl "set?path=/stall.xml&mode=drip&rate=1&interval=3&body=$long"

fc refresh --force quick 2>"$tmp/err.quick"
rc=$?
check "answer after 0.8 x timeout: refresh exits 0 ($rc: $(cat "$tmp/err.quick"))" '[ $rc = 0 ]'
check "answer after 0.8 x timeout: cached" 'fc get quick | grep -q slow'

fc refresh --force late 2>"$tmp/err.late"
rc=$?
check "answer after 1.2 x timeout: refresh exits 1 ($rc)" '[ $rc = 1 ]'
check "answer after 1.2 x timeout: no copy" '! [ -e "$tmp/cache/late" ]'
check "the message names timeout = 5s ($(cat "$tmp/err.late"))" \
	'grep -q "no answer within timeout = 5s" "$tmp/err.late"'
check "status names it too" 'fc status late | grep -q "no answer within timeout = 5s"'
check "and does not claim an old copy it does not have" \
	'grep -q "no copy yet, next try" "$tmp/err.late" && ! grep -q "keeping the old copy" "$tmp/err.late"'

t0=$(date +%s)
fc refresh --force stall 2>"$tmp/err.stall"
rc=$?
t1=$(date +%s)
check "a stalled transfer fails ($rc), before the timeout ($((t1 - t0)) s)" '[ $rc = 1 ] && [ $((t1 - t0)) -lt 30 ]'
check "the message names the stall ($(cat "$tmp/err.stall"))" \
	'grep -q "transfer stalled for 2s" "$tmp/err.stall"'
finish
