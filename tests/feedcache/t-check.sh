#!/bin/sh
# SPDX-License-Identifier: ISC
# Monitoring: `feedcache check` (a Nagios/Icinga plugin) against fresh,
# stale, failing and missing feeds: exit codes 0/1/2/3, one status line,
# perfdata per feed; `status` exits 0 only when every shown feed is
# fresh; the metrics file has feedcache_feed_age_seconds and
# feedcache_feed_stale; `check-config` exits 2 naming file, line and key.
#
#	sh t-check.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_main_origin
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache
metrics_file = $tmp/metrics.prom

[feed fresh]
url = $B/fresh
interval = 1h

[feed stale]
url = $B/stale
interval = 1m
max_backoff = 1m

[feed failing]
url = $B/failing
interval = 1h

[feed missing]
url = $B/missing
interval = 1h
EOF
for p in fresh stale failing; do
	ctl "set?path=/$p&mode=normal&body=%3Crss%3E$p%3C%2Frss%3E"
done
ctl 'set?path=/missing&mode=status&code=404'
fc refresh 2>/dev/null
# stale: last confirmed an hour ago (interval 1m + 10% + max_backoff 1m
# make it stale after 126 s).
sed -i "s/^checked .*/checked $(($(date +%s) - 3600))/" "$tmp/cache/.stale.meta"
ctl 'set?path=/failing&mode=status&code=500'
for i in 1 2 3; do fc refresh --force failing 2>/dev/null; done

# run_check NAME... : sets $out and $rc
run_check() {
	out=$(fc check "$@")
	rc=$?
}
run_check fresh
check "fresh: OK, exit 0 ($rc: $out)" '[ $rc = 0 ] && echo "$out" | grep -q "^FEEDCACHE OK - 1 feed fresh |"'
check "fresh: perfdata age, failures, size" \
	'echo "$out" | grep -Eq "'"'"'fresh_age'"'"'=[0-9]+s;7560;;0; '"'"'fresh_failures'"'"'=0;;3;0; '"'"'fresh_size'"'"'=16B;;;0;$"'
run_check stale
check "stale: WARNING, exit 1 ($rc: $out)" '[ $rc = 1 ] && echo "$out" | grep -q "^FEEDCACHE WARNING - stale: 36[0-9][0-9]s old (warning at 126s)"'
check "stale: one line" '[ "$(echo "$out" | wc -l)" = 1 ]'
run_check --max-age 30m stale
check "stale past --max-age: CRITICAL, exit 2 ($rc: $out)" '[ $rc = 2 ] && echo "$out" | grep -q "critical at 1800s" && echo "$out" | grep -q "stale_age.*;126;1800;0;"'
run_check failing
check "failing 3 times: CRITICAL, exit 2 ($rc: $out)" '[ $rc = 2 ] && echo "$out" | grep -q "failing: 3 failures in a row (HTTP 500)" && echo "$out" | grep -q "failing_failures.=3;;3;0;"'
run_check --fail 4 failing
check "failing 3 times, --fail 4: OK ($rc: $out)" '[ $rc = 0 ]'
run_check missing
check "missing: CRITICAL, exit 2 ($rc: $out)" '[ $rc = 2 ] && echo "$out" | grep -q "missing: no copy (HTTP 404)"'
run_check
check "all: the worst wins, every problem named ($rc: $out)" \
	'[ $rc = 2 ] && echo "$out" | grep -q "^FEEDCACHE CRITICAL - .*stale.*failing.*missing"'
run_check -w 1s fresh nosuchfeed
check "an unknown feed: UNKNOWN, exit 3 ($rc: $out)" '[ $rc = 3 ] && echo "$out" | grep -q "^FEEDCACHE UNKNOWN"'
run_check -w soon fresh
check "a bad option value: UNKNOWN, exit 3 ($rc)" '[ $rc = 3 ]'
# A bad value names the option as the user typed it.
for o in -w --warning -c --critical --max-age; do
	run_check "$o" 5x fresh 2>/dev/null
	check "$o 5x: UNKNOWN naming $o ($rc: $out)" \
		'[ $rc = 3 ] && [ "$out" = "FEEDCACHE UNKNOWN - $o: '"'"'5x'"'"' is not a duration (30s, 5m, 1h)" ]'
done
out=$("$FC" -c "$tmp/nonexistent.conf" check)
rc=$?
check "no configuration: UNKNOWN, exit 3 ($rc: $out)" '[ $rc = 3 ] && echo "$out" | grep -q "^FEEDCACHE UNKNOWN"'

fc status fresh >/dev/null
rc=$?
check "status of a fresh feed: exit 0 ($rc)" '[ $rc = 0 ]'
fc status >/dev/null
rc=$?
check "status with a stale feed among them: exit 1 ($rc)" '[ $rc = 1 ]'
sed -i "s/^next_due .*/next_due $(($(date +%s) - 10))/" "$tmp/cache/.stale.meta"
check "status: next in says 'now' for a feed that is due" \
	'fc status stale | grep -Eq "^stale .* now +- "'

check "metrics: feedcache_feed_age_seconds" 'grep -q "^feedcache_feed_age_seconds{feed=\"fresh\"} [0-9]" "$tmp/metrics.prom"'
check "metrics: feedcache_feed_stale 0 for fresh, 1 for missing" \
	'grep -q "^feedcache_feed_stale{feed=\"fresh\"} 0$" "$tmp/metrics.prom" && grep -q "^feedcache_feed_stale{feed=\"missing\"} 1$" "$tmp/metrics.prom"'

# --- check-config -------------------------------------------------------------
fc check-config >"$tmp/out" 2>"$tmp/err"
rc=$?
check "check-config on a good file: exit 0 ($rc: $(cat "$tmp/out"))" '[ $rc = 0 ] && grep -q "4 feeds" "$tmp/out"'
printf '[feedcache]\ncache_dir = /tmp\n\n[feed x]\nurl = http://127.0.0.1/\ninterval = often\n' >"$tmp/bad.conf"
"$FC" -c "$tmp/bad.conf" check-config >/dev/null 2>"$tmp/err"
rc=$?
check "check-config on a bad file: exit 2 naming file:line and key ($rc: $(cat "$tmp/err"))" \
	'[ $rc = 2 ] && grep -q "bad.conf:6" "$tmp/err" && grep -q interval "$tmp/err"'
printf '[feedcache]\ncache_dir = /tmp\n' >"$tmp/empty.conf"
"$FC" -c "$tmp/empty.conf" check-config >/dev/null 2>"$tmp/err"
rc=$?
check "check-config with no feeds: a warning, exit 0 ($rc: $(cat "$tmp/err"))" '[ $rc = 0 ] && grep -q "warning: .*no \[feed NAME\]" "$tmp/err"'
finish
