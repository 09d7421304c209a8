#!/bin/sh
# SPDX-License-Identifier: ISC
# The stampede: 200 concurrent `feedcache get NAME --max-age 1s` on an
# expired copy while the origin holds its answer. All of them must print
# the stale copy and exit before the origin is released, and the origin must
# see exactly one request; after the release the detached refresh installs
# the new copy, still with that one request.
#
#	sh t-stampede.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
READERS=200
# Readers and the refresh they start end once the origin is gone.
cleanup_more() { wait; }
# readers N TAG MAX_AGE: starts N readers; each leaves TAG.out.I, TAG.rc.I.
readers() {
	i=0
	while [ $i -lt "$1" ]; do
		(
			fc get s --max-age "$3" >"$tmp/$2.out.$i" 2>"$tmp/$2.err.$i"
			echo $? >"$tmp/$2.rc.$i.new"
			mv "$tmp/$2.rc.$i.new" "$tmp/$2.rc.$i"
		) &
		i=$((i + 1))
	done
}
finished() { ls "$tmp" | grep -c "^$1\.rc\.[0-9]*$"; }
# served TAG FILE: how many readers exited 0 with exactly FILE.
served() {
	n=0
	for r in "$tmp/$1".rc.*; do
		i=${r##*.}
		[ "$(cat "$r")" = 0 ] && cmp -s "$tmp/$1.out.$i" "$2" && n=$((n + 1))
	done
	echo $n
}

start_main_origin
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed s]
url = $B/s.xml
interval = 1h
timeout = 1h
validate = xml
EOF

python3 -c 'import sys
print("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>%s</title>" % sys.argv[1])
for i in range(300):
    print("<item><title>%s item %d</title></item>" % (sys.argv[1], i))
print("</channel></rss>")' A >"$tmp/A"
sed 's/A item/B item/' "$tmp/A" >"$tmp/B"
C -o /dev/null -X POST --data-binary @"$tmp/A" "$B/_ctl/set?path=/s.xml&mode=normal"
fc refresh --force s 2>"$tmp/err"
check "first copy fetched" 'fc get s | cmp -s - "$tmp/A"'
# --max-age 1s: the copy is expired once it was checked 2 s ago.
checked=$(fc status --json s | jfield checked)
until_true 10 '[ $(($(date +%s) - ${checked%.*})) -ge 3 ]'

# New content, held until we say so.
C -o /dev/null -X POST --data-binary @"$tmp/B" "$B/_ctl/set?path=/s.xml&mode=hold"
C -o /dev/null -X POST "$B/_ctl/reset"
readers $READERS wave1 1s
until_true 60 '[ $(finished wave1) -ge $READERS ]'
done=$(finished wave1)
n=$(served wave1 "$tmp/A")
check "all $READERS readers exited before the release ($done)" '[ "$done" = $READERS ]'
check "all $READERS printed the stale copy byte for byte ($n)" '[ "$n" = $READERS ]'
C "$B/_ctl/wait?path=/s.xml&count=1&timeout=10" >/dev/null
n=$(count /s.xml)
check "the origin saw exactly one request ($n)" '[ "$n" = 1 ]'

# A second wave while the one refresh still waits on the origin.
readers 50 wave2 1s
until_true 60 '[ $(finished wave2) -ge 50 ]'
n=$(served wave2 "$tmp/A")
check "50 more readers during the refresh: stale copy, no new request ($n, $(count /s.xml))" \
	'[ "$n" = 50 ] && [ "$(count /s.xml)" = 1 ]'
res=$(fc status --json s | jfield last_result)
check "status still shows the old result while the refresh waits ($res)" '[ "$res" = updated ]'

released=$(C -X POST "$B/_ctl/release?path=/s.xml")
check "the origin released the held request ($released)" \
	'echo "$released" | grep -q "\"released\": 1"'
until_true 30 'fc get s | cmp -s - "$tmp/B"'
check "after the release the detached refresh installed the new copy" \
	'fc get s | cmp -s - "$tmp/B"'
until_true 10 '[ "$(fc status --json s | jfield failures)" = 0 ] && [ ! -e "$tmp/cache/.s.tmp" ]'
fc status --json s >"$tmp/json"
check "status: updated, $(wc -c <"$tmp/B") bytes" \
	'[ "$(jfield last_result <"$tmp/json")" = updated ] && [ "$(jfield size <"$tmp/json")" = "$(wc -c <"$tmp/B")" ]'
check "still exactly one request ($(count /s.xml))" '[ "$(count /s.xml)" = 1 ]'
check "no temporary file left" '[ -z "$(ls -A "$tmp/cache" | grep -v -e "^s$" -e "^\.s\.meta$" -e "^\.s\.lock$")" ]'

# A fresh copy: readers never ask.
readers 20 wave3 1h
until_true 30 '[ $(finished wave3) -ge 20 ]'
n=$(served wave3 "$tmp/B")
check "20 readers of a fresh copy: new copy, no request ($n, $(count /s.xml))" \
	'[ "$n" = 20 ] && [ "$(count /s.xml)" = 1 ]'

finish
