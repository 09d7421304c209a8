#!/bin/sh
# SPDX-License-Identifier: ISC
# The metrics file's writers take turns under a lock of their own, one
# no feed's lock can be: a feed may be called "metrics" (a valid name)
# and a slow refresh of it must not hold up the metrics file, so another
# feed's refresh (which writes the metrics file when done) completes
# while the "metrics" feed's answer is still held by its origin.
#
#	sh t-metrics-lock.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
held_pid=
pid_vars="held_pid $pid_vars"
start_main_origin
ctl 'set?path=/m.xml&body=%3Crss%3Em%3C%2Frss%3E&mode=hold'
ctl 'set?path=/o.xml&body=%3Crss%3Eo%3C%2Frss%3E'
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache
metrics_file = $tmp/metrics.prom

[feed metrics]
url = $B/m.xml
validate = xml
timeout = 1h

[feed other]
url = $B/o.xml
validate = xml
EOF
fc refresh --force metrics 2>"$tmp/held.err" &
held_pid=$!
until_true 30 '[ "$(count /m.xml)" = 1 ]'
check "the metrics feed's request reached the origin, which holds it" \
	'[ "$(count /m.xml)" = 1 ]'
# A bound against a hang, not a threshold: the refresh needs no time.
timeout -k 5 60 "$FC" -c "$tmp/feedcache.conf" refresh --force other 2>"$tmp/other.err"
rc=$?
check "refresh --force other completes, exit 0 ($rc: $(cat "$tmp/other.err"))" \
	'[ $rc = 0 ] && [ "$(cat "$tmp/cache/other")" = "<rss>o</rss>" ]'
check "the metrics file was written, with the other feed in it" \
	'grep -q "feed=\"other\"" "$tmp/metrics.prom"'
check "while the metrics feed's request is still pending" \
	'kill -0 $held_pid 2>/dev/null && [ ! -e "$tmp/cache/metrics" ]'
ctl release
wait $held_pid
rc=$?
held_pid=
check "once released, the metrics feed is refreshed too ($rc: $(cat "$tmp/held.err"))" \
	'[ $rc = 0 ] && [ "$(cat "$tmp/cache/metrics")" = "<rss>m</rss>" ]'
finish
