# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the entropyd integration tests share; each t-NAME.sh sources it
# first thing (it is not a test: CTest runs t-*.sh only):
#
#	. "$(dirname "$0")/lib.sh"
#
# It checks the argument (ENTROPYD) and the tools every test uses (a
# script names its own others with need_tools), makes $T
# (/tmp/entropyd-NAME.XXXXXX), and on exit stops the processes the script
# started and removes $T. Those processes: the pids in $PIDS, a list
# rather than variable names since one script may run several daemons
# under $DPID in turn. start_daemon adds each daemon it starts; a script
# adds the other processes it starts, and may empty PIDS once it has
# waited for them all. They get SIGTERM, then are waited for.
set -u
ENTROPYD=${1:?usage: ${0##*/} ENTROPYD}
[ -x "$ENTROPYD" ] || { echo "FAIL: $ENTROPYD: not executable" >&2; exit 1; }
# need_tools TOOL...: the test ends unless each is on the PATH.
need_tools() {
	for tool; do
		command -v "$tool" >/dev/null ||
		    { echo "FAIL: $tool missing" >&2; exit 1; }
	done
}
need_tools openssl curl python3 xxd
test_name=${0##*/}
test_name=${test_name%.sh}
# /tmp, not $TMPDIR: the daemon drops to nobody and must reach its files.
T=$(mktemp -d "/tmp/entropyd-${test_name#t-}.XXXXXX") || exit 1
chmod 755 "$T"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# fail MESSAGE: says what failed, shows the end of every log, and ends
# the test.
fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
pass() { echo "ok - $*"; }

# fatal: the shared helpers' name for fail, which ends the test here.
fatal() { fail "$@"; }
# shellcheck source=../lib/tls.sh
. "$(dirname "$0")/../lib/tls.sh"

# make_server_cert: the test CA (ca.key, ca.pem) and the daemon's
# certificate for 127.0.0.1 and ::1 (server.key, server.pem) signed by it.
make_server_cert() {
	make_ca ca
	make_cert server ca 127.0.0.1 "$SERVER_EXT"
}

# daemon_conf NAME [LINE...]: NAME.conf for an entropyd serving seeds
# over TLS on 127.0.0.1:$PORT and its admin listener on
# 127.0.0.1:$APORT, with the server certificate, as nobody, then the
# [entropyd] LINEs given. Written whole and renamed into place, so a
# daemon reloading it never reads half of it.
daemon_conf() {
	conf_file=$T/$1.conf
	shift
	{
		printf '[entropyd]\nlisten = 127.0.0.1:%s\n' "$PORT"
		printf 'admin_listen = 127.0.0.1:%s\n' "$APORT"
		printf 'tls_cert = %s\ntls_key = %s\n' \
		    "$T/server.pem" "$T/server.key"
		echo "user = nobody"
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$conf_file.new"
	chmod 644 "$conf_file.new"
	mv "$conf_file.new" "$conf_file"
}

# wait_log FILE PATTERN WHAT [TENTHS]: until FILE has a line matching
# PATTERN, looked for every tenth of a second, TENTHS (100) times at
# most; after that the test fails with WHAT.
wait_log() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le "${4:-100}" ] || fail "$3"
		sleep 0.1
	done
}

# start_daemon NAME [OPTION...]: runs entropyd OPTION... -c NAME.conf,
# log in NAME.log, until it says it serves. Sets DPID.
start_daemon() {
	daemon_name=$1
	shift
	"$ENTROPYD" "$@" -c "$T/$daemon_name.conf" >"$T/$daemon_name.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	i=0
	until grep -q 'serving seeds' "$T/$daemon_name.log"; do
		kill -0 "$DPID" 2>/dev/null || fail "$daemon_name: entropyd exited"
		i=$((i + 1))
		[ $i -le 200 ] || fail "$daemon_name: entropyd did not start"
		sleep 0.1
	done
}
