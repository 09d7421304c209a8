#!/bin/sh
# SPDX-License-Identifier: ISC
# Crash safety: `feedcache refresh --force` SIGKILLed at 120 random moments (CRASH_ITERATIONS=N for more)
# (before, during and after a 512 KiB transfer that replaces version A with
# B or B with A) never leaves the cache file partial, missing or mixed: it
# is always exactly A or B. Temporary files do not pile up (at most
# .c.tmp and ..c.meta.tmp, reused by the next refresh), and an
# unkilled refresh afterwards brings the copy in line with the origin.
#
#	sh t-crash.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
ITERATIONS=${CRASH_ITERATIONS:-120}
refresh_pid=
pid_vars="refresh_pid $pid_vars"
kill_signal=KILL
# serve VERSION: the origin drips VERSION (A or B), 32 KiB every 10 ms.
serve() {
	r=$(C -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/$1" \
		"$B/_ctl/set?path=/c.xml&mode=drip&rate=32768&interval=0.01")
	[ "$r" = 200 ] || not_ok "origin set: $r"
}
# cached: which version the cache holds (A, B, or what is wrong with it).
cached() {
	if [ ! -e "$tmp/cache/c" ]; then
		echo missing
	elif cmp -s "$tmp/cache/c" "$tmp/A"; then
		echo A
	elif cmp -s "$tmp/cache/c" "$tmp/B"; then
		echo B
	else
		echo "mixed or partial ($(wc -c <"$tmp/cache/c") bytes)"
	fi
}
meta() { sed -n "s/^$1 //p" "$tmp/cache/.c.meta"; }
vouches() { # does the meta file claim to describe the body on disk?
	[ -n "$(meta hash)" ] || return 1
	[ -z "$(meta body_ino)" ] && return 0
	set -- $(stat -c '%i %s %.9Y' "$tmp/cache/c")
	[ "$1" = "$(meta body_ino)" ] && [ "$2" = "$(meta size)" ] &&
		[ "${3%.*}${3#*.}" = "$(meta body_mtime_ns)" ]
}
strays() { # files in the cache other than the feed's own
	ls -A "$tmp/cache" | grep -v -x -e c -e .c.meta -e .c.lock -e .c.tmp -e ..c.meta.tmp
}

start_main_origin
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed c]
url = $B/c.xml
interval = 1h
timeout = 30s
max_size = 4M
validate = xml
EOF
for v in A B; do
	python3 -c 'import sys
print("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>%s</title>" % sys.argv[1])
for i in range(13000):
    print("<item><title>version %s, item %d</title></item>" % (sys.argv[1], i))
print("</channel></rss>")' $v >"$tmp/$v"
done
cmp -s "$tmp/A" "$tmp/B" && not_ok "A and B must differ"

# Two clean refreshes, timed: the kills land anywhere in 0 .. 1.3 x that.
serve A
fc refresh --force c 2>"$tmp/err" || not_ok "first refresh: $(cat "$tmp/err")"
serve B
t0=$(date +%s%N)
fc refresh --force c 2>"$tmp/err" || not_ok "second refresh: $(cat "$tmp/err")"
t1=$(date +%s%N)
span_ms=$(((t1 - t0) / 1000000 * 13 / 10 + 20))
check "clean refreshes install A then B (one takes $(((t1 - t0) / 1000000)) ms)" \
	'[ "$(cached)" = B ]'
awk -v n="$ITERATIONS" -v span="$span_ms" -v seed="$t1" 'BEGIN {
	srand(seed % 2147483647)
	for (i = 0; i < n; i++)
		printf "%.3f\n", rand() * span / 1000
}' >"$tmp/delays"

bad=0 replaced=0 kept=0 piled=0 mismatch=0 i=0
while read -r delay; do
	i=$((i + 1))
	have=$(cached)
	if [ "$have" = A ]; then want=B; else want=A; fi
	serve $want
	# (No leak check: a SIGKILL during one only makes LeakSanitizer noise.)
	ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
		"$FC" -c "$tmp/feedcache.conf" refresh --force c 2>/dev/null &
	refresh_pid=$!
	sleep "$delay"
	kill -9 $refresh_pid 2>/dev/null
	wait $refresh_pid 2>/dev/null
	refresh_pid=
	now=$(cached)
	case $now in
	"$want") replaced=$((replaced + 1)) ;;
	"$have") kept=$((kept + 1)) ;;
	*)
		bad=$((bad + 1))
		not_ok "iteration $i (kill after $delay s): cache is $now"
		;;
	esac
	# The meta file never vouches for a body it does not describe (else
	# a 304 could pin the wrong copy): if it names this very file (inode,
	# size, mtime) or names none, its hash is empty or the body's.
	if vouches && [ "$(meta hash)" != "$(sha256sum <"$tmp/cache/c" | cut -d' ' -f1)" ]; then
		mismatch=$((mismatch + 1))
		not_ok "iteration $i (kill after $delay s): meta hash is not the body's"
	fi
	if [ -n "$(strays)" ]; then
		piled=$((piled + 1))
		[ $piled -le 3 ] &&
			not_ok "iteration $i (kill after $delay s): stray files: $(strays | tr '\n' ' ')"
	fi
done <"$tmp/delays"
check "$i SIGKILLed refreshes: the cache was always exactly A or B ($kept kept, $replaced replaced, $bad bad)" \
	'[ $i -ge "$ITERATIONS" ] && [ $bad = 0 ]'
check "kills landed both before and after the replacement (else the test proves nothing)" \
	'[ $kept -gt 0 ] && [ $replaced -gt 0 ]'
check "no temporary files piled up (iterations with strays: $piled)" '[ $piled = 0 ]'
check "the meta file always described the body on disk (mismatches: $mismatch)" '[ $mismatch = 0 ]'
fc status --json c >"$tmp/json" 2>"$tmp/err"
check "the meta file is still readable" \
	'grep -q "\"feed\":\"c\"" "$tmp/json" && ! grep -qi "meta" "$tmp/err"'

# An unkilled refresh: the copy must follow the origin whatever the kills
# left (validators saved for the version on disk, not for another).
for v in A B A; do
	serve $v
	fc refresh --force c 2>"$tmp/err"
	rc=$?
	check "clean refresh after the kills: exit 0, cache = $v ($(cached))" \
		'[ $rc = 0 ] && [ "$(cached)" = $v ]'
done
check "no temporary files after clean refreshes ($(strays | tr '\n' ' '))" \
	'[ -z "$(strays | grep -v -x .c.tmp)" ] && [ ! -e "$tmp/cache/.c.tmp" ]'
finish
