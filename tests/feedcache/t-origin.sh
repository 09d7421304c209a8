#!/bin/sh
# SPDX-License-Identifier: ISC
# Self-test of the feedcache test origin (tests/feedcache/origin.py): start
# it on a free loopback port, drive every mode with curl, check the control
# API, stop it.  Prints TAP-ish "ok - " / "not ok - " lines; exit 0 only if
# all pass.  Every curl is bounded by --max-time; the trap leaves nothing
# running.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
pid2=
bg=
cleanup() {
	for p in $bg $pid $pid2; do
		kill "$p" 2>/dev/null
	done
	for p in $bg $pid $pid2; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	fail=1
}
check() { # check DESCRIPTION 'SHELL CONDITION' (evaluated here)
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# start_origin PORTFILE [ARGS...]: starts, sets $started_pid, waits for file.
start_origin() {
	pf=$1
	shift
	python3 "$here/origin.py" --port 0 --port-file "$pf" "$@" \
		>"$pf.out" 2>"$pf.err" &
	started_pid=$!
	i=0
	while [ ! -s "$pf" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$pf" ]
}

if ! start_origin "$tmp/port"; then
	echo "not ok - origin did not start: $(cat "$tmp/port.err")"
	exit 1
fi
pid=$started_pid
port=$(cat "$tmp/port")
B=http://127.0.0.1:$port
ok "origin started on port $port"
grep -qx "PORT $port" "$tmp/port.out" && ok "prints PORT N" ||
	not_ok "stdout: $(cat "$tmp/port.out")"

C() { curl -s --noproxy '*' --max-time 5 "$@"; }
ctl() { # ctl ENDPOINT?QUERY [curl args] (POST)
	e=$1
	shift
	C -o /dev/null -w '%{http_code}' -X POST "$@" "$B/_ctl/$e" | grep -qx 200 ||
		not_ok "control call $e failed"
}
count() { C "$B/_ctl/count?path=$1"; }
# get URL [curl args]: body -> $tmp/b, headers -> $tmp/h, prints status code
get() {
	u=$1
	shift
	rm -f "$tmp/b" "$tmp/h"
	: >"$tmp/b"
	C -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' "$@" "$B$u"
}
at_least() { # at_least "CODE SECONDS" MIN: code 200 and SECONDS >= MIN
	awk -v r="$1" -v m="$2" 'BEGIN { split(r, a, " "); exit !(a[1] == 200 && a[2] >= m) }'
}
hdr() { # hdr NAME: value of response header NAME from $tmp/h
	awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
		'tolower($1) == n { sub(/\r$/, "", $2); print $2 }' "$tmp/h"
}

# --- normal, ETag, 304 ------------------------------------------------------
ctl 'set?path=/news.xml&mode=normal&body=%3Crss%3Ehello%3C%2Frss%3E'
code=$(get /news.xml)
etag=$(hdr ETag)
lm=$(hdr Last-Modified)
if [ "$code" = 200 ] && [ "$(cat "$tmp/b")" = "<rss>hello</rss>" ] &&
	[ -n "$etag" ] && [ -n "$lm" ] && [ "$(hdr Content-Type)" = application/xml ]; then
	ok "normal: 200 with body, ETag $etag, Last-Modified"
else
	not_ok "normal: code=$code etag=$etag body=$(cat "$tmp/b")"
fi
code=$(get /news.xml -H "If-None-Match: $etag")
check "normal: If-None-Match -> 304, empty body" '[ "$code" = 304 ] && [ ! -s "$tmp/b" ] && [ "$(hdr ETag)" = "$etag" ]'
code=$(get /news.xml -H "If-None-Match: \"x\", W/$etag")
check "normal: weak comparison in an If-None-Match list -> 304" '[ "$code" = 304 ]'
code=$(get /news.xml -H "If-None-Match: *")
check "normal: If-None-Match: * -> 304" '[ "$code" = 304 ]'
code=$(get /news.xml -H "If-Modified-Since: $lm")
check "normal: If-Modified-Since = Last-Modified -> 304" '[ "$code" = 304 ]'
code=$(get /news.xml -H 'If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT')
check "normal: older If-Modified-Since -> 200" '[ "$code" = 200 ]'
code=$(get /news.xml -H 'If-None-Match: "other"' -H "If-Modified-Since: $lm")
check "normal: If-None-Match takes precedence over If-Modified-Since" '[ "$code" = 200 ]'
n=$(count /news.xml)
check "count: 7 requests counted for /news.xml (got $n)" '[ "$n" = 7 ]'
C "$B/_ctl/log?path=/news.xml" >"$tmp/log"
check "log: one line per request, records If-None-Match and User-Agent" \
	'[ "$(grep -c "\"method\": \"GET\"" "$tmp/log")" = 7 ] && grep -q "\"if_none_match\": \"\\\\\"other" "$tmp/log" && grep -q "\"user_agent\": \"curl/" "$tmp/log"'
get /news.xml -H 'X-Probe: 42' >/dev/null
C "$B/_ctl/log?path=/news.xml" -o "$tmp/log"
check "log: custom request headers are recorded" 'grep -q "\"x-probe\": \"42\"" "$tmp/log"'

# change content: new ETag, newer Last-Modified, old ETag no longer matches
printf '<rss>changed</rss>' >"$tmp/new"
ctl 'set?path=/news.xml' --data-binary @"$tmp/new"
code=$(get /news.xml -H "If-None-Match: $etag")
etag2=$(hdr ETag)
lm2=$(hdr Last-Modified)
t1=$(date -d "$lm" +%s)
t2=$(date -d "$lm2" +%s)
check "change content: 200, new body, new ETag, newer Last-Modified" '[ "$code" = 200 ] && [ "$(cat "$tmp/b")" = "<rss>changed</rss>" ] && [ "$etag2" != "$etag" ] && [ "$t2" -gt "$t1" ]'

ctl 'reset'
check "reset clears counts" '[ "$(count /news.xml)" = 0 ]'
check "reset keeps behaviours" '[ "$(get /news.xml)" = 200 ]'

# --- keep-alive ---------------------------------------------------------------
n=$(C -o /dev/null -o /dev/null -w '%{num_connects} ' "$B/news.xml" "$B/news.xml")
check "keep-alive: second request reuses the connection ($n)" '[ "$n" = "1 0 " ]'

# --- no304 ------------------------------------------------------------------
ctl 'set?path=/news.xml&mode=no304'
code=$(get /news.xml -H "If-None-Match: $etag2")
check "no304: conditional request still gets 200 + same ETag" '[ "$code" = 200 ] && [ "$(hdr ETag)" = "$etag2" ] && [ -s "$tmp/b" ]'

# --- status -----------------------------------------------------------------
ctl 'set?path=/s&mode=status&code=503&retry_after=120'
code=$(get /s)
check "status 503 with Retry-After: 120" '[ "$code" = 503 ] && [ "$(hdr Retry-After)" = 120 ]'
ctl 'set?path=/s&mode=status&code=429&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT'
code=$(get /s)
check "status 429 with an HTTP-date Retry-After passed verbatim" '[ "$code" = 429 ] && [ "$(hdr Retry-After)" = "Wed, 21 Oct 2015 07:28:00 GMT" ]'
check "unknown path -> 404" '[ "$(get /nope)" = 404 ]'
check "unknown path is counted" '[ "$(count /nope)" = 1 ]'

# --- html -------------------------------------------------------------------
ctl 'set?path=/h&mode=html'
code=$(get /h)
check "html: 200 text/html error page" '[ "$code" = 200 ] && [ "$(hdr Content-Type)" = text/html ] && grep -q "<br>" "$tmp/b"'

# --- big / big_chunked ----------------------------------------------------------
ctl 'set?path=/big&mode=big&size=3000001'
r=$(C -o "$tmp/b" -D "$tmp/h" -w '%{http_code} %{size_download}' "$B/big")
check "big: 200 with exactly 3000001 bytes and Content-Length" \
	'[ "$r" = "200 3000001" ] && [ "$(hdr Content-Length)" = 3000001 ] && tail -c 17 "$tmp/b" | grep -q "</channel></rss>"'
ctl 'set?path=/bigc&mode=big_chunked&size=200000'
r=$(C -o "$tmp/b" -D "$tmp/h" -w '%{http_code} %{size_download}' "$B/bigc")
check "big_chunked: 200 chunked, 200000 bytes, no Content-Length" '[ "$r" = "200 200000" ] && [ "$(hdr Transfer-Encoding)" = chunked ] && [ -z "$(hdr Content-Length)" ]'

# --- redirects --------------------------------------------------------------
ctl 'set?path=/a&mode=redirect&to=/b&code=301'
ctl 'set?path=/b&mode=redirect&to=/a&code=302'
ctl 'set?path=/self&mode=redirect&to=/self&code=307'
ctl 'set?path=/passwd&mode=redirect&to=file:///etc/passwd'
C -L --max-redirs 5 -o /dev/null "$B/a"
rc=$?
check "redirect loop a<->b: curl -L --max-redirs 5 fails with 47 (got $rc)" '[ $rc = 47 ]'
check "redirect loop counted on both paths" '[ "$(count /a)" = 3 ] && [ "$(count /b)" = 3 ]'
C -L --max-redirs 5 -o /dev/null "$B/self"
rc=$?
check "redirect to itself: curl fails with 47 (got $rc)" '[ $rc = 47 ]'
code=$(get /passwd)
check "redirect to file:///etc/passwd sent verbatim" '[ "$code" = 302 ] && [ "$(hdr Location)" = file:///etc/passwd ]'

# --- broken transfers -----------------------------------------------------------
ctl 'set?path=/reset&mode=reset&body=0123456789abcdefghij0123456789abcdefghij'
C -o /dev/null "$B/reset"
rc=$?
check "reset: curl fails with 56 (got $rc)" '[ $rc = 56 ]'
ctl 'set?path=/short&mode=short&body=0123456789'
C -o /dev/null "$B/short"
rc=$?
check "short: curl fails with 18 (got $rc)" '[ $rc = 18 ]'
ctl 'set?path=/dead&mode=dead'
C -o /dev/null "$B/dead"
rc=$?
check "dead: curl fails with 52 empty reply (got $rc)" '[ $rc = 52 ]'
ctl 'drop_next?count=1'
C -o /dev/null "$B/news.xml"
rc=$?
check "drop_next: next connection closed on accept (curl rc $rc)" '[ $rc = 52 ] || [ $rc = 56 ]'
check "server still fine after drop_next" '[ "$(get /news.xml)" = 200 ]'

# --- slow / drip / hang ---------------------------------------------------------
ctl 'set?path=/slow&mode=slow&delay=2'
C --max-time 0.5 -o /dev/null "$B/slow"
rc=$?
check "slow delay=2: curl --max-time 0.5 times out (28, got $rc)" '[ $rc = 28 ]'
ctl 'set?path=/slow&mode=slow&delay=0.3'
r=$(C -o /dev/null -w '%{http_code} %{time_starttransfer}' "$B/slow")
check "slow delay=0.3: 200 after >= 0.3s ($r)" 'at_least "$r" 0.3'
ctl 'set?path=/drip&mode=drip&rate=5&body=0123456789'
r=$(C -o "$tmp/b" -w '%{http_code} %{time_total}' "$B/drip")
check "drip rate=5: 10 bytes complete after ~1s ($r)" 'at_least "$r" 0.9 && [ "$(cat "$tmp/b")" = 0123456789 ]'
ctl 'set?path=/hang&mode=hang'
C --max-time 1 -o /dev/null "$B/hang"
rc=$?
check "hang: curl --max-time 1 times out with 28 (got $rc)" '[ $rc = 28 ]'
check "hang: request was counted" '[ "$(count /hang)" = 1 ]'

# --- hold + release ---------------------------------------------------------------
ctl 'set?path=/held&mode=hold&body=held-body'
C --max-time 10 -o "$tmp/held1" -w '%{http_code}' "$B/held" >"$tmp/held1.code" &
b1=$!
C --max-time 10 -o "$tmp/held2" -w '%{http_code}' "$B/held" >"$tmp/held2.code" &
b2=$!
bg="$b1 $b2"
w=$(C "$B/_ctl/wait?path=/held&count=2&timeout=5")
check "hold: both requests counted on arrival ($w)" '[ "$w" = "{\"count\": 2, \"ok\": true}" ]'
sleep 0.3
check "hold: nothing answered before release" '[ ! -s "$tmp/held1.code" ] && [ ! -s "$tmp/held2.code" ]'
r=$(C -X POST "$B/_ctl/release?path=/held")
wait $b1 $b2
bg=
check "hold: release wakes both ($r), both get 200 + body" '[ "$(cat "$tmp/held1.code")" = 200 ] && [ "$(cat "$tmp/held2.code")" = 200 ] && [ "$(cat "$tmp/held1")" = held-body ]'
r=$(C --max-time 2 -o /dev/null -w '%{http_code}' "$B/held")
check "hold: after release, later requests answer normally" '[ "$r" = 200 ]'

# --- scale mode (second instance) -----------------------------------------------
if start_origin "$tmp/port2" --scale-feeds 50; then
	pid2=$started_pid
	B2=http://127.0.0.1:$(cat "$tmp/port2")
	a=$(C -w ' %{http_code}' "$B2/feed/7")
	b=$(C -w ' %{http_code}' "$B2/feed/8")
	c=$(C -o /dev/null -w '%{http_code}' "$B2/feed/50")
	check "scale: /feed/7 and /feed/8 exist with distinct bodies, /feed/50 is 404" '[ "${a##* }" = 200 ] && [ "${b##* }" = 200 ] && [ "$a" != "$b" ] && [ "$c" = 404 ]'
	kill -TERM "$pid2"
	wait "$pid2"
	rc=$?
	pid2=
	check "SIGTERM: origin exits 0 (got $rc)" '[ $rc = 0 ]'
else
	not_ok "scale: second origin did not start"
fi

# a hung client must not keep the origin from stopping
C --max-time 10 -o /dev/null "$B/hang" &
bg=$!
C "$B/_ctl/wait?path=/hang&count=2&timeout=5" >/dev/null
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
wait "$bg"
bg=
check "SIGTERM with a hung client: origin exits 0 promptly (got $rc)" '[ $rc = 0 ]'

if [ $fail = 0 ]; then echo "# all passed"; else echo "# FAILED"; fi
exit $fail
