#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat monitor's history and stealstat report over it. The test
# makes its histories from recordings (mkhist.py) with monitor --replay,
# then compares reports with the golden files in history/: a day with a
# night of steal, a crash that tears the last record, rotation by size
# and by age, a clock step and a hotplug. GOLDEN_UPDATE=1 rewrites them.
. "$(dirname "$0")/lib.sh"
export TZ=UTC

python3 "$here/mkhist.py" "$tmp" || exit 1
import() { # import NAME REC [monitor options]
	name=$1 rec=$2
	shift 2
	"$bin" monitor --history "$tmp/$name" --replay "$tmp/$rec.rec" "$@" \
		>"$tmp/$name.log" 2>&1 || {
		not_ok "monitor --replay $rec: $(cat "$tmp/$name.log")"
		return 1
	}
}
# golden NAME report-args...: the report (stdout, stderr, status) vs history/NAME.ok
golden() {
	name=$1
	shift
	{
		"$bin" report "$@" 2>&1
		echo "exit $?"
	} | sed "s|$tmp/|TMP/|g" >"$tmp/$name.out"
	# before-speed.ok is an older stealstat's output: never rewritten.
	if [ "${GOLDEN_UPDATE:-0}" = 1 ] && [ "$name" != before-speed ]; then
		cp "$tmp/$name.out" "$here/history/$name.ok"
	fi
	if diff -u "$here/history/$name.ok" "$tmp/$name.out"; then
		ok "report $name"
	else
		not_ok "report $name differs from history/$name.ok"
	fi
}
intervals() { sed -n 's/^summary: \([0-9]*\) intervals\{0,1\} .*/\1/p'; }

day="--until 2026-11-26T08:00:00Z --since 24h"
import night night
golden night --from "$tmp/night" $day
golden night-json --from "$tmp/night" --json --since 2026-11-26T02:00Z \
	--until 2026-11-26T03:00Z
golden night-cpu --from "$tmp/night" -P --since 2026-11-26T02:00Z \
	--until 2026-11-26T02:30Z
# Verdicts never contradict their numbers: a row or summary that says
# steal is below the threshold has less than that much steal.
"$bin" report --from "$tmp/night" --json --since 2026-11-26T02:00Z \
	--until 2026-11-26T03:00Z 2>/dev/null | python3 -c '
import json, re, sys
bad = []
for line in sys.stdin:
    o = json.loads(line)
    for r in [o] + [v for v in o.values() if isinstance(v, dict)]:
        m = re.search(r"below the (\d+)% threshold", str(r.get("reason", "")))
        if m and r.get("wanted_steal", 0) >= float(m.group(1)):
            bad.append("%s: %s" % (r.get("start"), r["reason"]))
bad and print("\n".join(bad))
sys.exit(1 if bad else 0)' >"$tmp/contradict" 2>&1
check "no period says its steal is below the threshold it is over ($(head -2 "$tmp/contradict" | tr '\n' ';'))" \
	'[ ! -s "$tmp/contradict" ]'
full=$("$bin" report --from "$tmp/night" $day 2>/dev/null | intervals)

# A crash mid-append: every cut into the last record loses that sample
# and nothing before it.
last=$(ls "$tmp/night"/*.sth | tail -n 1)
size=$(stat -c %s "$last")
cp -r "$tmp/night" "$tmp/crash"
lost_more=0
for cut in 1 2 3 5 8 13 21 34; do
	crashed=$tmp/crash/$(basename "$last")
	head -c $((size - cut)) "$last" >"$crashed"
	n=$("$bin" report --from "$tmp/crash" $day 2>/dev/null | intervals)
	[ "$n" = $((full - 1)) ] || lost_more="$lost_more cut=$cut:$n"
done
if [ "$lost_more" = 0 ]; then
	ok "a torn last record costs exactly one sample ($full intervals before)"
else
	not_ok "torn tail lost more than one sample:$lost_more (of $full)"
fi
head -c $((size - 5)) "$last" >"$tmp/crash/$(basename "$last")"
golden crash --from "$tmp/crash" --since 2026-11-26T07:00Z --until 2026-11-26T08:00Z

# After the crash the monitor starts again: a new segment, never an
# append after the torn record, and the report shows the gap.
import crash hotplug 2>/dev/null
n=$(ls "$tmp/crash"/*.sth | wc -l)
if [ "$n" -eq 3 ]; then
	ok "a restarted monitor writes a new segment"
else
	not_ok "after a restart: $n segments: $(ls "$tmp/crash")"
fi

# Rotation by size: the directory stays under --max-size, the oldest
# segments go first, and what is left still reads.
# Where the size cut falls depends on each segment header's length, which
# holds the host name: import under a fixed one (a UTS namespace).
fixed_host=
if unshare --uts true 2>/dev/null; then
	fixed_host=1
	mkdir -p "$tmp/small"
	unshare --uts sh -c 'hostname tk && exec "$@"' sh \
		"$bin" monitor --history "$tmp/small" --replay "$tmp/night.rec" \
		--max-size 16K >"$tmp/small.log" 2>&1 ||
		not_ok "monitor --replay night: $(cat "$tmp/small.log")"
else
	import small night --max-size 16K
fi
total=$(cat "$tmp/small"/*.sth | wc -c)
if [ "$total" -le 16384 ] && [ "$(ls "$tmp/small" | wc -l)" -gt 1 ]; then
	ok "--max-size 16K keeps the history at $total bytes"
else
	not_ok "--max-size 16K: $total bytes in $(ls "$tmp/small" | wc -l) segments"
fi
if [ -n "$fixed_host" ]; then
	golden rotated-size --from "$tmp/small" $day
else
	ok "report rotated-size # SKIP no UTS namespace here to fix the host name the cut depends on"
fi
# Rotation by age: with --keep 6h, nothing older than 6 h and a segment.
import aged night --keep 6h
golden rotated-age --from "$tmp/aged" $day

import clockstep clockstep
golden clockstep --from "$tmp/clockstep" --since 2026-11-25T07:00Z \
	--until 2026-11-25T10:00Z
import hotplug hotplug
golden hotplug --from "$tmp/hotplug" --since 2026-11-25T08:00Z \
	--until 2026-11-25T09:00Z

# The speed probe in the history: the report's %spd, each CPU's speed
# over the window and the slowed stretch, in text and JSON.
import speed speed
golden speed --from "$tmp/speed" --since 2026-11-27T00:00Z \
	--until 2026-11-27T04:00Z
golden speed-cpu-json --from "$tmp/speed" -P --json \
	--since 2026-11-27T01:00Z --until 2026-11-27T01:10Z
# A window of one period counts in the singular: "1 interval", "1 probe".
"$bin" report --from "$tmp/speed" --since 2026-11-27T01:00Z \
	--until 2026-11-27T01:01Z --sustain 1 >"$tmp/one.out" 2>&1
if grep -q '^summary: 1 interval over' "$tmp/one.out" &&
	grep -q '(1 probe)$' "$tmp/one.out" &&
	! grep -q '[^0-9]1 \(intervals\|probes\)' "$tmp/one.out"; then
	ok "one period: 1 interval, 1 probe"
else
	not_ok "one period, plurals: $(cat "$tmp/one.out")"
fi
# A history written before the speed probe was in the format: the
# segment in history/before-speed was made by stealstat 3f39385 (monitor
# --replay of mkhist.py's speed.rec, host name tk), and before-speed.ok is
# that stealstat's report over it. This one must read it the same.
golden before-speed --from "$here/history/before-speed" -P \
	--since 2026-11-27T00:00Z --until 2026-11-27T04:00Z

# One monitor per history directory.
"$bin" monitor --history "$tmp/locked" --interval 0.05 --count 100 \
	>/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [ -n "$(ls "$tmp/locked" 2>/dev/null)" ] && break; sleep 0.1; done
if "$bin" monitor --history "$tmp/locked" --count 1 >"$tmp/lock.out" 2>&1; then
	not_ok "a second monitor on the same history ran"
elif grep -q 'another stealstat monitor is writing it' "$tmp/lock.out"; then
	ok "a second monitor on the same history is refused"
else
	not_ok "second monitor: $(cat "$tmp/lock.out")"
fi
kill "$pid" 2>/dev/null
wait "$pid"
pid=

# Live: a recorded history reports over --since.
"$bin" monitor --history "$tmp/live" --interval 0.1 --count 5 2>/dev/null
if "$bin" report --from "$tmp/live" --since 1h >"$tmp/live.out" 2>&1 &&
	[ "$(intervals <"$tmp/live.out")" -eq 4 ] &&
	grep -q '^verdict: ' "$tmp/live.out" && grep -q '^advice: ' "$tmp/live.out"; then
	ok "report --since 1h over a live history: 4 intervals and a verdict"
else
	not_ok "live history report: $(cat "$tmp/live.out")"
fi
# The live monitor ran the speed probe: its speed is in the history, and
# its best times are kept beside it for the next start.
if head -n 1 "$tmp/live.out" | grep -q '%spd' &&
	grep -q '^  speed: cpu [0-9]* median' "$tmp/live.out" &&
	[ -s "$tmp/live/speed-best" ]; then
	ok "a live history has the probe's speed, and its bests beside it"
else
	not_ok "live history report: $(cat "$tmp/live.out")"
fi
if "$bin" report --from "$tmp/nonexistent" >"$tmp/none.out" 2>&1; then
	not_ok "report on a missing history succeeded"
else
	ok "report on a missing history fails: $(cat "$tmp/none.out")"
fi
exit $fail
