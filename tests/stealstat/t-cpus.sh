#!/bin/sh
# SPDX-License-Identifier: ISC
# -P names CPUs that must exist: none of them is an error (status 2), some
# of them a warning naming the missing ones, live and in report over a
# history; --cgroup FILE that cannot be watched is named with the reason.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
last=$(sed -n 's/^cpu\([0-9][0-9]*\) .*/\1/p' /proc/stat | tail -n 1)
absent=$((last + 5))

"$bin" -P "$absent" 0.1 1 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 2 ] && grep -q "^stealstat: error: .*CPU $absent\b" "$tmp/err"; then
	ok "-P $absent (no such CPU): an error: $(head -n 1 "$tmp/err")"
else
	not_ok "-P $absent: status $st: $(cat "$tmp/err" "$tmp/out")"
fi
"$bin" -P "0,$absent" 0.1 1 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 0 ] && grep -q "^stealstat: warning: .*CPU $absent\b" "$tmp/err" &&
	grep -q '^[0-9:]*  *0  ' "$tmp/out"; then
	ok "-P 0,$absent: CPU 0's rows and a warning: $(head -n 1 "$tmp/err")"
else
	not_ok "-P 0,$absent: status $st: $(cat "$tmp/err" "$tmp/out")"
fi
"$bin" --cgroup "$tmp/nonexistent" 0.1 1 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 0 ] && grep -q "warning: .*$tmp/nonexistent: No such file or directory" "$tmp/err"; then
	ok "--cgroup with a missing file: named: $(head -n 1 "$tmp/err")"
else
	not_ok "--cgroup missing: status $st: $(cat "$tmp/err")"
fi

# report over a history of 4 CPUs (0-3).
python3 "$here/mkhist.py" "$tmp" >/dev/null || exit 1
"$bin" monitor --history "$tmp/h" --replay "$tmp/night.rec" 2>/dev/null || exit 1
win="--since 2026-11-26T02:00Z --until 2026-11-26T02:10Z"
# shellcheck disable=SC2086 # $win is two options
"$bin" report --from "$tmp/h" $win -P 7 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 2 ] && grep -q "^stealstat: error: .*CPU 7\b" "$tmp/err"; then
	ok "report -P 7 (not in the history): an error: $(head -n 1 "$tmp/err")"
else
	not_ok "report -P 7: status $st: $(cat "$tmp/err" "$tmp/out")"
fi
# shellcheck disable=SC2086
"$bin" report --from "$tmp/h" $win -P 1,7 >"$tmp/out" 2>"$tmp/err"
st=$?
if [ $st -eq 0 ] && grep -q "^stealstat: warning: .*CPU 7\b" "$tmp/err" &&
	grep -q '^[0-9:]*  *1  ' "$tmp/out"; then
	ok "report -P 1,7: CPU 1's rows and a warning: $(head -n 1 "$tmp/err")"
else
	not_ok "report -P 1,7: status $st: $(cat "$tmp/err" "$tmp/out")"
fi
exit $fail
