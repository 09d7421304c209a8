#!/bin/sh
# SPDX-License-Identifier: ISC
# t-cli: every program and every subcommand speaks the one command-line
# language of docs/HACKING.md: --help on stdout with exit 0, --version,
# and a bad option or an extra operand named on stderr after
# "PROG: error:", then one line "Try 'PROG [SUBCOMMAND] --help'.", exit 2
# (a Nagios check: 3, with an UNKNOWN line on stdout). Then the habits
# people bring (global options after the subcommand, -w/-c, -P ALL).
#
# Cheap on purpose (it runs under the sanitizers on a shared machine):
# one process per check, nothing sleeps, nothing samples for long.
#
# usage: sh t-cli.sh STEALSTAT FEEDCACHE ENTROPYD ENTROPY_SEED
set -u
. "$(dirname "$0")/../lib/tap.sh"

STEALSTAT=${1:?usage: t-cli.sh STEALSTAT FEEDCACHE ENTROPYD ENTROPY_SEED}
FEEDCACHE=${2:?}
ENTROPYD=${3:?}
ENTROPY_SEED=${4:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The programs that speak the convention (all four when the work is done).
progs=" stealstat feedcache entropyd entropy-seed "
has() { case $progs in *" $1 "*) return 0 ;; esac; return 1; }

# Run from elsewhere, by full path: a message must not carry the path.
cd "$T" || exit 1

bin() {
	case $1 in
	stealstat) echo "$STEALSTAT" ;;
	feedcache) echo "$FEEDCACHE" ;;
	entropyd) echo "$ENTROPYD" ;;
	entropy-seed) echo "$ENTROPY_SEED" ;;
	esac
}

# run PROG ARGS...: stdout in $T/out, stderr in $T/err, status in $rc.
run() {
	p=$1
	shift
	"$(bin "$p")" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	cat "$T/err" >>"$T/all-stderr"
}

# A configuration each program reads without complaint, so that a row
# reaches its command line checks wherever it looks for one.
mkdir -p "$T/cache"
cat >"$T/fc.conf" <<EOF
[feedcache]
cache_dir = $T/cache
[feed news]
url = http://127.0.0.1:9/news
EOF

# The table: program, subcommand ("-": none; "_" for a space), the
# operands it accepts (so one more is extra; "*": any number, not
# tested; "_" for a space), the exit status of a usage error.
table='
stealstat - 1_1 2
stealstat record rec.out_1_1 2
stealstat probe - 2
stealstat check - 3
stealstat monitor - 2
stealstat report - 2
feedcache - * 2
feedcache daemon - 2
feedcache refresh * 2
feedcache get news 2
feedcache status * 2
feedcache check * 3
feedcache check-config - 2
entropyd - - 2
entropyd token list 2
entropyd token_add name 2
entropyd token_revoke name 2
entropy-seed - - 2
entropy-seed image-check / 2
'

# usage_error WHAT CMD STATUS BAD: the last run was a usage error of
# CMD ("feedcache status") naming BAD.
usage_error() {
	what=$1 cmd=$2 want=$3 bad=$4
	p=${cmd%% *}
	# "entropyd token add": the help is "entropyd token --help".
	try=$(echo "$cmd" | cut -d ' ' -f 1-2)
	first=$(head -n 1 "$T/err")
	if [ "$rc" -ne "$want" ]; then
		not_ok "$cmd $what: exit $rc, wanted $want ($first)"
		return
	fi
	case $first in
	"$p: error: "*"'$bad'"*) ;;
	*)
		not_ok "$cmd $what: stderr starts '$first', wanted '$p: error: ...'$bad'...'"
		return
		;;
	esac
	if ! grep -qxF "Try '$try --help'." "$T/err"; then
		not_ok "$cmd $what: no line \"Try '$try --help'.\""
		return
	fi
	if [ "$(wc -l <"$T/err")" -ne 2 ]; then
		not_ok "$cmd $what: $(wc -l <"$T/err") lines on stderr, wanted 2"
		return
	fi
	if grep -qF "$(dirname "$(bin "$p")")" "$T/err"; then
		not_ok "$cmd $what: the binary's path is in the message"
		return
	fi
	if [ "$want" -eq 3 ] && ! grep -q '^[A-Z]* UNKNOWN - ' "$T/out"; then
		not_ok "$cmd $what: no Nagios UNKNOWN line on stdout"
		return
	fi
	ok "$cmd $what: $first"
}

echo "$table" | while read -r p s operands status; do
	[ -n "$p" ] || continue
	has "$p" || continue
	s=$(echo "$s" | tr _ ' ')
	# shellcheck disable=SC2086
	set -- $([ "$s" = - ] || echo "$s")
	cmd=$p
	[ "$s" = - ] || cmd="$p $s"
	conf=
	case $p in
	feedcache) conf="-c $T/fc.conf" ;;
	esac

	run "$p" "$@" --help
	if [ "$rc" -eq 0 ] && [ ! -s "$T/err" ] &&
		grep -qE "^(usage: |       )$cmd( |$)" "$T/out"; then
		ok "$cmd --help: usage on stdout, exit 0"
	else
		not_ok "$cmd --help: exit $rc, stdout '$(head -n 1 "$T/out")', stderr '$(head -n 1 "$T/err")'"
	fi

	run "$p" "$@" --version
	if [ "$rc" -eq 0 ] && grep -q "^$p [0-9]" "$T/out"; then
		ok "$cmd --version: $(cat "$T/out")"
	else
		not_ok "$cmd --version: exit $rc, '$(head -n 1 "$T/out")'"
	fi

	# shellcheck disable=SC2086
	run "$p" "$@" --no-such-option $conf
	usage_error "--no-such-option" "$cmd" "$status" --no-such-option
	if [ "$s" = - ]; then
		run "$p" -Z
		usage_error "-Z" "$cmd" "$status" -Z
	fi

	case $operands in
	\*) ;;
	-)
		# shellcheck disable=SC2086
		run "$p" "$@" extra-operand $conf
		usage_error "extra-operand" "$cmd" "$status" extra-operand
		;;
	*)
		ops=$(echo "$operands" | tr _ ' ')
		# shellcheck disable=SC2086
		run "$p" "$@" $ops extra-operand $conf
		usage_error "$ops extra-operand" "$cmd" "$status" extra-operand
		;;
	esac
done >"$T/tap"
cat "$T/tap"
grep -q '^not ok' "$T/tap" && fail=1

# A missing value, a value given to a flag, an unknown subcommand.
if has stealstat; then
	run stealstat check --interval
	usage_error "--interval" "stealstat check" 3 --interval
	run stealstat --json=yes 1 1
	usage_error "--json=yes" stealstat 2 --json
	run stealstat -P 3-1 1 1
	usage_error "-P 3-1" stealstat 2 3-1
	# A word that is a CPU list gone wrong is judged as one, not as
	# an interval.
	for bad in ALL,1 all-3 2,x; do
		run stealstat -P "$bad" 1 1
		usage_error "-P $bad" stealstat 2 "$bad"
		check "stealstat -P $bad: judged as a CPU list" \
			"grep -q \"^stealstat: error: -P '\$bad': \" \"\$T/err\""
	done
	run stealstat check -w 20 -c 10
	usage_error "-w 20 -c 10 (warning above critical)" "stealstat check" 3 20
	run stealstat check -w 20
	check "stealstat check -w 20: says -c is needed, UNKNOWN" \
		'[ $rc -eq 3 ] && grep -q "^stealstat: error: .*-c PCT" "$T/err" &&
		grep -q "^STEAL UNKNOWN - " "$T/out"'
	run stealstat report --since
	usage_error "--since" "stealstat report" 2 --since

	# The Nagios plugin habits: -w/--warning, -c/--critical (and the
	# old --warn/--crit), judged here on a recording, not by sampling.
	rec=$(dirname "$0")/../stealstat/busy-stolen.rec
	for args in "-w 20 -c 40" "--warning 20 --critical 40" \
		"--warn=20 --crit=40"; do
		# shellcheck disable=SC2086
		run stealstat check $args --replay "$rec"
		check "stealstat check $args: a verdict, not UNKNOWN" \
			'[ $rc -eq 1 ] && grep -q "^STEAL WARNING - " "$T/out"'
	done

	# mpstat's -P ALL and -P N[,M]; -P alone still means every CPU
	# (on a recording of 2 CPUs: rows of the aggregate and of each).
	rec=$(dirname "$0")/../stealstat/cpu-list.rec
	rows() { grep -c "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  *$1 " "$T/out"; }
	for args in "-P ALL" "-P" "--per-cpu=all" "-P 0,1" "-P 0-1"; do
		# shellcheck disable=SC2086
		run stealstat --replay "$rec" --no-summary $args
		check "stealstat $args: a row for each CPU" \
			'[ $rc -eq 0 ] && [ "$(rows 0)" -gt 0 ] && [ "$(rows 0)" -eq "$(rows 1)" ]'
	done
	run stealstat --replay "$rec" --no-summary -P 1
	check "stealstat -P 1: CPU 1 only" \
		'[ $rc -eq 0 ] && [ "$(rows 0)" -eq 0 ] && [ "$(rows 1)" -gt 0 ]'
fi

if has feedcache; then
	run feedcache -c
	usage_error "-c" feedcache 2 -c
	run feedcache status --config
	usage_error "--config" "feedcache status" 2 --config
	run feedcache frobnicate
	usage_error "frobnicate" feedcache 2 frobnicate
	run feedcache
	check "feedcache (no command): an error, exit 2" \
		'[ $rc -eq 2 ] && grep -q "^feedcache: error: " "$T/err"'

	# Global options before or after the subcommand mean the same.
	for args in "-c $T/fc.conf status" "status -c $T/fc.conf" \
		"status --config=$T/fc.conf news" \
		"--config $T/fc.conf status news" \
		"check --config $T/fc.conf news"; do
		# shellcheck disable=SC2086
		run feedcache $args
		check "feedcache $args: reads that file" \
			'grep -q "news" "$T/out" && ! grep -q "error" "$T/err"'
	done
	for sub in status get check daemon; do
		run feedcache "$sub" --help -c /nonexistent
		check "feedcache $sub --help: needs no configuration file" \
			'[ $rc -eq 0 ] && [ ! -s "$T/err" ]'
	done
fi

if has entropyd; then
	printf '[entropyd]\nallow = 10.0.0.0/33\n' >"$T/ed.conf"
	run entropyd -c "$T/ed.conf" --check-config
	check "entropyd allow 10.0.0.0/33: the prefix length is the reason" \
		'[ $rc -eq 2 ] && grep -q "10.0.0.0/33.: the prefix length is more than 32" "$T/err" &&
		[ "$(grep -o "10.0.0.0/33" "$T/err" | wc -l)" -eq 1 ]'
fi

# entropy-seed --help lists its options.
if has entropy-seed; then
	run entropy-seed --help
	for opt in --config --server --dry-run --strict --no-credit --verbose; do
		check "entropy-seed --help lists $opt" 'grep -q -e "$opt" "$T/out"'
	done
fi

# No message above has doubled punctuation ("].;", "..", ".:").
if grep -E '[.;:][.;:]( |$)' "$T/all-stderr" >"$T/doubled"; then
	not_ok "doubled punctuation: $(head -n 1 "$T/doubled")"
else
	ok "no doubled punctuation in $(wc -l <"$T/all-stderr") lines"
fi

exit $fail
