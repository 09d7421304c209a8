# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the feedcache integration tests share; each t-NAME.sh sources it
# first thing (it is not a test: CTest runs t-*.sh only):
#
#	. "$(dirname "$0")/lib.sh"
#
# It checks the arguments (FC, ORIGIN), makes $tmp (fc-NAME.XXXXXX), sends
# the sanitizers' reports to files in $tmp/san, and on exit stops the
# processes the script started and removes $tmp. Those processes: the ones
# whose pids stand in the variables named in $pid_vars (origin_pid, and
# those a script adds; a script empties such a variable once it has waited
# for the process). They get $kill_signal (TERM unless a script says
# otherwise), then cleanup_more runs: a no-op a script may redefine.
set -u
FC=${1:?usage: ${0##*/} FEEDCACHE ORIGIN_PY}
ORIGIN=${2:?usage: ${0##*/} FEEDCACHE ORIGIN_PY}
test_name=${0##*/}
test_name=${test_name%.sh}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fc-${test_name#t-}.XXXXXX") || exit 1
origin_pid=
pid_vars=origin_pid
kill_signal=TERM
cleanup_more() { :; }
cleanup() {
	live=
	for v in $pid_vars; do
		eval "live=\"\$live \${$v:-}\""
	done
	for p in $live; do
		kill -s "$kill_signal" "$p" 2>/dev/null
	done
	for p in $live; do
		wait "$p" 2>/dev/null
	done
	cleanup_more
	# TK_KEEP_TMP=DIR keeps a failed test's files there, for a post-mortem.
	if [ "$fail" != 0 ] && [ -n "${TK_KEEP_TMP:-}" ]; then
		rm -rf "$TK_KEEP_TMP" && cp -r "$tmp" "$TK_KEEP_TMP"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
# Sanitizer reports go to files, whoever's stderr was redirected where.
mkdir "$tmp/san"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$tmp/san/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$tmp/san/ubsan"
# GCC's UBSan, next to ASan, writes to stderr whatever log_path says: the
# files a script sent stderr to are searched too.
sanitizer_check() {
	stray=$(grep -rl -e 'runtime error:' -e 'ERROR: AddressSanitizer' \
		-e 'ERROR: LeakSanitizer' "$tmp" --exclude-dir=san 2>/dev/null)
	if [ -n "$(ls "$tmp/san")" ] || [ -n "$stray" ]; then
		not_ok "sanitizer reports:"
		cat "$tmp/san"/* $stray | sed 's/^/# /' | head -60
	else
		ok "no sanitizer reports"
	fi
}
# finish: the sanitizer check, the verdict, and the exit status.
finish() {
	sanitizer_check
	if [ $fail = 0 ]; then echo "# all passed"; else echo "# FAILED"; fi
	exit $fail
}

# start_origin PORTFILE: sets $started_pid once the port file exists.
start_origin() {
	python3 "$ORIGIN" --port 0 --port-file "$1" >"$1.out" 2>"$1.err" &
	started_pid=$!
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$1" ]
}
# start_main_origin: the origin on $B (pid $origin_pid), or the test ends.
start_main_origin() {
	start_origin "$tmp/port"
	origin_ok=$?
	# shellcheck disable=SC2034 # cleanup reads it, named in $pid_vars
	origin_pid=$started_pid
	[ $origin_ok = 0 ] || {
		echo "not ok - origin did not start: $(cat "$tmp/port.err")"
		exit 1
	}
	B=http://127.0.0.1:$(cat "$tmp/port")
}
C() { curl -s --noproxy '*' --max-time 10 "$@"; }
ctl() { # ctl 'endpoint?query' [curl args]
	e=$1
	shift
	r=$(C -o /dev/null -w '%{http_code}' -X POST "$@" "$B/_ctl/$e")
	[ "$r" = 200 ] || not_ok "origin control $e answered '$r'"
}
count() { C "$B/_ctl/count?path=$1"; }
fc() { "$FC" -c "$tmp/feedcache.conf" "$@"; }
jfield() { # jfield KEY < json line: the value (strings unquoted, floats as integers)
	python3 -c 'import json, sys
v = json.loads(sys.stdin.readline())[sys.argv[1]]
print("" if v is None else (int(v) if isinstance(v, float) else v))' "$1"
}
# until_true BOUND_S 'CONDITION': polls every 0.1 s; false on timeout.
until_true() {
	i=0
	while ! eval "$2"; do
		[ $i -ge $(($1 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# need_redis: skips the test (77) without redis-server; else picks a free
# port, RPORT, for start_redis.
need_redis() {
	command -v redis-server >/dev/null || {
		echo "# SKIP: redis-server not installed (scripts/deps check)"
		exit 77
	}
	RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis_pid=
	pid_vars="redis_pid $pid_vars"
}
# start_redis [OPTION...]: a throwaway redis-server on 127.0.0.1:$RPORT,
# nothing saved, its log in $tmp/redis.log; waits (10 s at most) until it
# answers, with $REDIS_AUTH if set. False if it did not.
start_redis() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
		--appendonly no "$@" >"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	until_true 10 'redis-cli -p "$RPORT" ${REDIS_AUTH:+-a "$REDIS_AUTH"} --no-auth-warning ping 2>/dev/null | grep -q PONG'
}
stop_redis() {
	kill "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=
}
