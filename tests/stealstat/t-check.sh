#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat check on the golden records (check --replay judges a
# recording, first sample to last, as one interval): the Nagios status
# follows steal of wanted time against -w/-c and the verdict through
# --on-verdict; perfdata carries steal of wanted time only when the CPUs
# wanted a meaningful share.
. "$(dirname "$0")/lib.sh"
cd "$here" || exit 1
# expect STATUS REC [check options]
expect() {
	want=$1 rec=$2
	shift 2
	out=$("$bin" check --replay "$rec.rec" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$rec $*: exit $rc: ${out%% |*}"
	else
		not_ok "$rec $*: exit $rc, expected $want: $out"
	fi
}
expect 1 busy-stolen --warn 20 --crit 40
expect 2 busy-stolen --warn 10 --crit 25
# Under both thresholds, the capped verdict alone is a WARNING...
expect 1 busy-stolen --warn 50 --crit 60
# ...unless --on-verdict says otherwise.
expect 0 busy-stolen --warn 50 --crit 60 --on-verdict capped=ok,stolen=ok
expect 2 busy-stolen --warn 50 --crit 60 --on-verdict capped=critical
expect 2 capped --warn 20 --crit 40
expect 0 saturated --warn 20 --crit 40
expect 0 throttled-v2 --warn 20 --crit 40
expect 1 throttled-v2 --warn 20 --crit 40 --on-verdict throttled=warning
expect 3 suspend-jump --warn 20 --crit 40
expect 3 busy-stolen --warn 20 --crit 40 --on-verdict stolen=bogus
expect 3 not-a-record --warn 20 --crit 40

# Perfdata: wanted_steal with its thresholds when judged...
out=$("$bin" check --replay busy-stolen.rec --warn 20 --crit 40)
case "$out" in
*"| wanted_steal=27.95%;20;40;0;100 steal=27.25%;;;0;100 "*) ok "perfdata has wanted_steal with -w/-c" ;;
*) not_ok "perfdata: $out" ;;
esac
# ...and none on a host whose CPUs wanted almost nothing: a few ticks of
# steal would make a spike of a ratio.
out=$("$bin" check --replay idle-host.rec --warn 20 --crit 40)
rc=$?
case "$out" in
*"wanted_steal="*) not_ok "idle host: steal of wanted time in perfdata: $out" ;;
"STEAL OK - steal of wanted time not judged: the CPUs wanted 4.0% of one CPU"*)
	[ $rc -eq 0 ] && ok "idle host (4% of one CPU wanted, half of it stolen): OK, not judged, no wanted_steal" ||
		not_ok "idle host: exit $rc: $out" ;;
*) not_ok "idle host: exit $rc: $out" ;;
esac
# A bad --on-verdict is a usage error like any other: UNKNOWN on stdout,
# the reason and the Try line on stderr, status 3.
for args in "--on-verdict ok=bogus -w 20 -c 40" "-w 20 -c 40 --on-verdict stolen" \
	"--replay busy-stolen.rec -w 20 -c 40 --on-verdict nosuch=ok"; do
	# shellcheck disable=SC2086 # the words are the arguments
	"$bin" check $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 3 ] && grep -q "^STEAL UNKNOWN - --on-verdict '.*' is not" "$tmp/out" &&
		grep -q "^stealstat: error: --on-verdict '.*' is not VERDICT=" "$tmp/err" &&
		grep -qx "Try 'stealstat check --help'." "$tmp/err"; then
		ok "check $args: a usage error: $(head -n 1 "$tmp/err")"
	else
		not_ok "check $args: exit $rc: $(cat "$tmp/out" "$tmp/err")"
	fi
done
exit $fail
