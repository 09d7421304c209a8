#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat against the real kernel: live rows, JSON, the Prometheus file,
# record + replay giving back exactly what live mode printed, check mode's
# Nagios contract, and clear errors for a broken /proc.
. "$(dirname "$0")/lib.sh"

# Live: a header, COUNT rows, a summary with a verdict and advice.
if "$bin" 0.2 3 >"$tmp/live" 2>"$tmp/err"; then
	rows=$(grep -c '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] ' "$tmp/live")
	if [ "$rows" -eq 3 ] && grep -q '^time ' "$tmp/live" &&
		grep -q '^verdict: ' "$tmp/live" && grep -q '^advice: ' "$tmp/live"; then
		ok "live mode prints 3 rows and a verdict"
	else
		not_ok "live mode output:"
		cat "$tmp/live"
	fi
else
	not_ok "live mode failed: $(cat "$tmp/err")"
fi

# Per CPU: one row per online CPU plus the total, per interval.
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
"$bin" -P 0.2 2 >"$tmp/percpu" 2>&1
rows=$(grep -c '^[0-9:]\{8\} \+[0-9]\+ ' "$tmp/percpu")
if [ "$rows" -eq $((2 * ncpu)) ] && [ "$(grep -c '^[0-9:]\{8\} \+all ' "$tmp/percpu")" -eq 2 ]; then
	ok "-P prints a row per CPU ($ncpu CPUs)"
else
	not_ok "-P output:"
	cat "$tmp/percpu"
fi

# JSON: one object per line, the summary last.
"$bin" --json 0.2 2 >"$tmp/json" 2>&1
if [ "$(grep -c '^[{]"time":.*"verdict":"[a-z-]*","reason":".*"}$' "$tmp/json")" -eq 2 ] &&
	tail -n 1 "$tmp/json" | grep -q '^[{]"summary":true,.*"advice":".*"}$'; then
	ok "--json prints objects with verdicts and a summary"
else
	not_ok "--json output:"
	cat "$tmp/json"
fi

# Prometheus textfile, replaced atomically, no temporary left behind.
"$bin" -q --prometheus "$tmp/steal.prom" 0.2 2 >/dev/null 2>&1
if grep -q '^stealstat_steal_ratio{cpu="all"} ' "$tmp/steal.prom" &&
	grep -q '^stealstat_verdict{cpu="all",verdict="glitch"} 0$' "$tmp/steal.prom" &&
	[ "$(stat -c %a "$tmp/steal.prom")" = 644 ] &&
	[ "$(ls -A "$tmp" | grep -c '^\.steal\.prom')" -eq 0 ]; then
	ok "--prometheus writes the textfile"
else
	not_ok "--prometheus file:"
	cat "$tmp/steal.prom"
fi

# Record, then replay: exactly what live mode printed.
TZ=UTC "$bin" record "$tmp/run.rec" -P 0.2 4 >"$tmp/rec.out" 2>&1
TZ=UTC "$bin" --replay "$tmp/run.rec" -P >"$tmp/replay.out" 2>&1
if cmp -s "$tmp/rec.out" "$tmp/replay.out" && head -n 1 "$tmp/run.rec" | grep -q '^stealstat-record 1$'; then
	ok "replay of a recording prints what live mode printed"
else
	not_ok "record/replay differ:"
	diff "$tmp/rec.out" "$tmp/replay.out"
fi
# A recording is not overwritten by a repeated command, only with --force.
cp "$tmp/run.rec" "$tmp/run.keep"
"$bin" record "$tmp/run.rec" 0.1 1 >"$tmp/again" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'exists; --force overwrites it' "$tmp/again" &&
	cmp -s "$tmp/run.rec" "$tmp/run.keep"; then
	ok "record refuses an existing file: $(cat "$tmp/again")"
else
	not_ok "record over an existing file: exit $rc: $(cat "$tmp/again")"
fi
if "$bin" record "$tmp/run.rec" --force -q 0.1 1 >/dev/null 2>&1 &&
	! cmp -s "$tmp/run.rec" "$tmp/run.keep"; then
	ok "record --force overwrites it"
else
	not_ok "record --force did not overwrite"
fi

# check: Nagios status line with perfdata; exit 0 with thresholds at 100
# and no verdict mapped to a problem.
out=$("$bin" check --warn 100 --crit 100 --interval 0.3 --on-verdict stolen=ok,capped=ok)
rc=$?
case "$out" in
"STEAL OK - "*" | "*"steal="*"%;;;0;100 busy="*) [ $rc -eq 0 ] && ok "check mode: OK line with perfdata" || not_ok "check rc $rc: $out" ;;
*) not_ok "check output: $out (rc $rc)" ;;
esac
# A warning threshold of 0 is reached whenever steal of wanted time is
# judged: WARNING, exit 1; on a nearly idle machine it is not judged,
# and the line says so.
out=$("$bin" check --warn 0 --crit 100 --interval 0.3)
rc=$?
if [ $rc -eq 1 ] || { [ $rc -eq 0 ] && echo "$out" | grep -q 'not judged'; }; then
	ok "check mode: --warn 0 is WARNING (exit $rc) or says why it was not judged"
else
	not_ok "check --warn 0 exit $rc: $out"
fi
"$bin" check --warn 20 --crit 10 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q '^STEAL UNKNOWN' "$tmp/out" && ok "check mode: bad thresholds are UNKNOWN" ||
	not_ok "check with warn > crit: exit $rc"

# A broken /proc: a clear error naming the file, exit 1, no crash.
mkdir -p "$tmp/proc"
printf 'cpu  1 2 x 4\n' >"$tmp/proc/stat"
"$bin" --proc "$tmp/proc" 0.1 1 >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "$tmp/proc/stat" "$tmp/out"; then
	ok "garbled /proc/stat: clear error, exit 1"
else
	not_ok "garbled /proc/stat: exit $rc: $(cat "$tmp/out")"
fi
"$bin" --proc "$tmp/nonexistent" 1 1 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'No such file' "$tmp/out" && ok "missing /proc: clear error" ||
	not_ok "missing /proc: exit $rc: $(cat "$tmp/out")"

# Usage errors are exit 2 and name the bad value.
"$bin" 0.5x >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "0.5x" "$tmp/out" && ok "bad interval: exit 2" || not_ok "bad interval: exit $rc"
"$bin" --steal 150 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "150" "$tmp/out" && ok "bad threshold: exit 2" || not_ok "bad threshold: exit $rc"

# SIGINT ends a run with no COUNT and still prints the summary.
"$bin" 0.1 >"$tmp/int" 2>&1 &
pid=$!
# Signal only once it runs (its first row is out), however slow the host.
for _ in $(seq 100); do
	grep -q '^[0-9][0-9]:' "$tmp/int" && break
	sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
pid=
[ $rc -eq 0 ] && grep -q '^verdict: ' "$tmp/int" && ok "SIGINT prints the summary" ||
	not_ok "SIGINT: exit $rc: $(cat "$tmp/int")"

exit $fail
