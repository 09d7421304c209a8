# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the ship tests share; each t-NAME.sh sources it first thing:
#
#	. "$(dirname "$0")/lib.sh"
#
# Checks the arguments (SRC, the source tree; BUILD, a configured build
# directory), makes $tmp, removes it on exit after cleanup_more.
set -u
SRC=${1:?usage: ${0##*/} SOURCE_DIR BUILD_DIR}
BUILD=${2:?usage: ${0##*/} SOURCE_DIR BUILD_DIR}
test_name=${0##*/}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ship-${test_name%.sh}.XXXXXX") || exit 1
chmod 755 "$tmp"
origin_pid=
cleanup_more() { :; }
cleanup() {
	[ -n "$origin_pid" ] && kill "$origin_pid" 2>/dev/null
	cleanup_more
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
finish() {
	if [ $fail = 0 ]; then echo "# all passed"; else echo "# FAILED"; fi
	exit $fail
}

# exercise BINDIR SBINDIR: each installed program, --version and one real
# command (a steal sample, a feed fetched from a local origin, a
# configuration with a real certificate checked, an image root checked).
exercise() {
	bin=$1
	sbin=$2
	for p in "$bin/stealstat" "$bin/feedcache" "$sbin/entropyd" "$sbin/entropy-seed"; do
		v=$("$p" --version 2>&1 || "$p" -V 2>&1)
		check "${p##*/} --version: $v" 'echo "$v" | grep -q "^${p##*/} [0-9]"'
	done

	"$bin/stealstat" -q 1 1 >"$tmp/stealstat.out" 2>&1
	check "stealstat takes a real sample: $(grep '^verdict' "$tmp/stealstat.out")" \
		'grep -q "^verdict: " "$tmp/stealstat.out"'

	python3 "$SRC/tests/feedcache/origin.py" --port 0 --port-file "$tmp/port" \
		>/dev/null 2>&1 &
	origin_pid=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	base=http://127.0.0.1:$(cat "$tmp/port")
	curl -s -o /dev/null -X POST "$base/_ctl/set?path=/news.xml&body=%3Crss%3Eshipped%3C%2Frss%3E"
	mkdir -p "$tmp/fc"
	printf '[feedcache]\ncache_dir = %s/fc\n[feed news]\nurl = %s/news.xml\nvalidate = xml\n' \
		"$tmp" "$base" >"$tmp/fc.conf"
	"$bin/feedcache" -c "$tmp/fc.conf" refresh 2>"$tmp/fc.err"
	check "feedcache fetches a feed from a local origin: $(cat "$tmp/fc.err")" \
		'grep -q shipped "$tmp/fc/news"'
	kill "$origin_pid"
	wait "$origin_pid" 2>/dev/null
	origin_pid=

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
		-subj /CN=localhost 2>/dev/null
	chmod 600 "$tmp/key.pem"
	printf '[entropyd]\nlisten = 127.0.0.1:1\ntls_cert = %s\ntls_key = %s\nuser = nobody\n' \
		"$tmp/cert.pem" "$tmp/key.pem" >"$tmp/ed.conf"
	"$sbin/entropyd" -c "$tmp/ed.conf" --check-config >"$tmp/ed.out" 2>&1
	rc=$?
	check "entropyd checks a configuration with a real key and certificate (exit $rc)" \
		'[ $rc = 0 ]'

	mkdir -p "$tmp/img/etc/ssh" "$tmp/img/var/lib/systemd"
	echo key >"$tmp/img/etc/ssh/ssh_host_ed25519_key"
	"$sbin/entropy-seed" image-check "$tmp/img" >"$tmp/img.out" 2>&1
	rc=$?
	check "entropy-seed image-check finds a host key in an image root (exit $rc)" \
		'[ $rc = 1 ] && grep -q ssh_host_ed25519_key "$tmp/img.out"'
}
