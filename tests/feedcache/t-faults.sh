#!/bin/sh
# SPDX-License-Identifier: ISC
# feedcache against a misbehaving origin: after a good fetch, every fault
# (slow, hang, drip, reset, short body, 500, 503 + Retry-After, 429, an
# HTML page where XML is expected, a body over max_size with and without
# Content-Length, a redirect loop, a redirect to file://, an empty reply,
# a closed port) makes `refresh --force` exit 1, leaves `get` returning the
# last good copy byte for byte, and is named by `status` (text and JSON).
# Also: a change is picked up, a 304 and an identical 200 leave the body
# file alone, configured headers and the validators reach the origin,
# validate=json rejects broken JSON, XML external entities are not fetched.
#
#	sh t-faults.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
origin2_pid=
pid_vars="$pid_vars origin2_pid"
inode_mtime() { stat -c '%i %y' "$1"; }

start_main_origin
start_origin "$tmp/port2" || {
	echo "not ok - second origin did not start"
	exit 1
}
origin2_pid=$started_pid
B2=http://127.0.0.1:$(cat "$tmp/port2")
ok "origins listening on $B and $B2"

fault_feeds="slow hang drip reset short e500 e503 e429 html big bigchunked
	loop tofile empty deadport"
other_feeds="change same same200 hdr json xxe"
cat >"$tmp/feedcache.conf" <<EOF
# feedcache fault tests
[feedcache]
cache_dir = $tmp/cache
user_agent = fc-faults-test/1 (+http://127.0.0.1/)
metrics_file = $tmp/metrics.prom
EOF
for name in $fault_feeds $other_feeds never; do
	timeout=2s validate=xml url=$B/$name
	case $name in
	drip) timeout=6s ;; # the stall rule (3 s) stops it, or the timeout
	json) validate=json ;;
	deadport) url=$B2/$name ;;
	esac
	cat >>"$tmp/feedcache.conf" <<EOF

[feed $name]
url = $url
interval = 1h
timeout = $timeout
max_size = 64K
validate = $validate
EOF
	[ "$name" = hdr ] && cat >>"$tmp/feedcache.conf" <<EOF
header = X-Tenant: acme
header = Accept: application/rss+xml
mode = 0600
EOF
done

# --- a good first copy of every feed ----------------------------------------
for name in $fault_feeds $other_feeds; do
	case $name in
	json) printf '{"feed": "%s", "items": [1, 2, 3]}\n' $name ;;
	*) printf '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>%s good</title></channel></rss>\n' $name ;;
	esac >"$tmp/good.$name"
	o=$B
	[ $name = deadport ] && o=$B2
	r=$(C -o /dev/null -w '%{http_code}' -X POST --data-binary @"$tmp/good.$name" \
		"$o/_ctl/set?path=/$name&mode=normal")
	[ "$r" = 200 ] || not_ok "origin set /$name: $r"
done
ctl 'set?path=/never&mode=status&code=404'

fc get never >"$tmp/out" 2>"$tmp/err"
rc=$?
check "get before any fetch: exit 1 with a message ($(cat "$tmp/err"))" \
	'[ $rc = 1 ] && [ ! -s "$tmp/out" ] && grep -q "never" "$tmp/err"'
fc refresh --force --all 2>"$tmp/err"
rc=$?
check "first refresh --all: exit 1 (one feed is a 404) (got $rc)" '[ $rc = 1 ]'
good=0
for name in $fault_feeds $other_feeds; do
	if fc get $name | cmp -s - "$tmp/good.$name"; then
		good=$((good + 1))
	else
		not_ok "first fetch of $name: get differs from what the origin served"
		sed 's/^/# /' "$tmp/err"
	fi
done
check "first refresh: all $good feeds fetched byte for byte" \
	'[ $good = $(echo $fault_feeds $other_feeds | wc -w) ]'
fc get never >/dev/null 2>&1
rc=$?
check "get of a feed whose only fetch failed (404): exit 1 (got $rc)" '[ $rc = 1 ]'
fc status --json never | jfield last_result >"$tmp/out"
check "status of the 404 feed: http_error" '[ "$(cat "$tmp/out")" = http_error ]'
perm=$(stat -c %a "$tmp/cache/hdr")
check "mode = 0600 applies to the cached file (got $perm)" '[ "$perm" = 600 ]'
check "metrics file written, names the feeds" \
	'[ -s "$tmp/metrics.prom" ] && grep -q "feed=\"hdr\"" "$tmp/metrics.prom"'

# --- the faults ---------------------------------------------------------------
# fault NAME 'ctl set query or empty' RESULT ERROR_PATTERN (grep -Ei)
fault() {
	name=$1 want=$3 pat=$4
	[ -n "$2" ] && ctl "set?path=/$name&$2"
	before=$(inode_mtime "$tmp/cache/$name")
	fc refresh --force "$name" 2>"$tmp/err"
	rc=$?
	check "$name: refresh --force exits 1 (got $rc)" '[ $rc = 1 ]'
	fc get "$name" >"$tmp/out" 2>>"$tmp/err"
	rc=$?
	check "$name: get exits 0 with the last good copy byte for byte" \
		'[ $rc = 0 ] && cmp -s "$tmp/out" "$tmp/good.$name"'
	check "$name: the cached file was not touched" \
		'[ "$(inode_mtime "$tmp/cache/$name")" = "$before" ]'
	fc status --json "$name" >"$tmp/json"
	res=$(jfield last_result <"$tmp/json")
	msg=$(jfield last_error <"$tmp/json")
	fails=$(jfield failures <"$tmp/json")
	check "$name: status --json says $want ($res: $msg)" \
		'[ "$res" = "$want" ] && echo "$msg" | grep -Eqi "$pat" && [ "$fails" -ge 1 ]'
	check "$name: status names $want" \
		'fc status "$name" | grep -Eq "^$name +[^ ]+ +$want "'
	ls -A "$tmp/cache" | grep -v -e '^\.[a-z0-9]*\.meta$' -e '^\.[a-z0-9]*\.lock$' \
		-e '^[a-z0-9]*$' -e '^\.metrics\.file\.lock$' >"$tmp/stray"
	check "$name: no stray files in the cache ($(cat "$tmp/stray"))" '[ ! -s "$tmp/stray" ]'
}

fault slow 'mode=slow&delay=5' timeout 'timeout|timed out'
fault hang 'mode=hang' timeout 'timeout|timed out'
printf '<rss><channel><title>dripping, never complete</title></channel></rss>\n' >"$tmp/new"
C -o /dev/null -X POST --data-binary @"$tmp/new" "$B/_ctl/set?path=/drip&mode=drip&rate=1"
fault drip '' timeout 'stalled|timeout'
fault reset 'mode=reset' network 'reset|recv|receiv'
fault short 'mode=short&missing=100' network '100 bytes|remaining|closed'
fault e500 'mode=status&code=500' http_error 'HTTP 500'
fault e503 'mode=status&code=503&retry_after=600' rate_limited '503.*Retry-After'
fault e429 'mode=status&code=429' rate_limited '429'
fault html 'mode=html' invalid 'rejected'
fault big 'mode=big&size=300000' too_large 'max_size'
fault bigchunked 'mode=big_chunked&size=300000' too_large 'max_size'
ctl 'set?path=/loop2&mode=redirect&to=/loop&code=302'
fault loop 'mode=redirect&to=/loop2&code=301' redirect 'redirects'
fault tofile 'mode=redirect&to=file:///etc/passwd' redirect 'scheme|file|protocol'
fault empty 'mode=dead' network 'empty|nothing'
kill "$origin2_pid"
wait "$origin2_pid"
origin2_pid=
fault deadport '' network 'connect'

n=$(count /loop)
check "redirect loop: at most 6 requests to /loop (got $n)" '[ "$n" -ge 1 ] && [ "$n" -le 6 ]'
fc status --json e503 >"$tmp/json"
ra=$(jfield retry_after <"$tmp/json")
now=$(date +%s)
check "503 Retry-After: 600 is in status ($ra, now $now)" \
	'[ -n "$ra" ] && [ "${ra%.*}" -gt "$now" ] && [ "${ra%.*}" -le $((now + 601)) ]'
before=$(count /e503)
fc refresh --force e503 2>/dev/null
n=$(count /e503)
check "503 Retry-After: refresh --force sends nothing before the deadline ($before -> $n)" \
	'[ "$n" = "$before" ]'
fc refresh --force e500 2>/dev/null
fails=$(fc status --json e500 | jfield failures)
check "consecutive failures counted (e500: $fails)" '[ "$fails" = 2 ]'

# --- the faults end: the feed recovers ------------------------------------------
printf '<rss><channel><title>recovered</title></channel></rss>\n' >"$tmp/new"
C -o /dev/null -X POST --data-binary @"$tmp/new" "$B/_ctl/set?path=/e500&mode=normal"
fc refresh --force e500 2>/dev/null
rc=$?
res=$(fc status --json e500 | jfield last_result)
fails=$(fc status --json e500 | jfield failures)
check "recovery: exit 0, updated, failures reset ($rc $res $fails)" \
	'[ $rc = 0 ] && [ "$res" = updated ] && [ "$fails" = 0 ] && fc get e500 | cmp -s - "$tmp/new"'

# --- content change, 304, identical 200 ------------------------------------------
before=$(inode_mtime "$tmp/cache/change")
printf '<rss><channel><title>change v2</title></channel></rss>\n' >"$tmp/new"
C -o /dev/null -X POST --data-binary @"$tmp/new" "$B/_ctl/set?path=/change"
fc refresh --force change 2>/dev/null
rc=$?
res=$(fc status --json change | jfield last_result)
check "content change: exit 0, updated, get returns the new copy ($rc $res)" \
	'[ $rc = 0 ] && [ "$res" = updated ] && fc get change | cmp -s - "$tmp/new"'
check "content change: the file was replaced (new inode)" \
	'[ "$(inode_mtime "$tmp/cache/change")" != "$before" ]'

before=$(inode_mtime "$tmp/cache/same")
ctl 'reset'
fc refresh --force same 2>/dev/null
rc=$?
res=$(fc status --json same | jfield last_result)
C "$B/_ctl/log?path=/same" >"$tmp/log"
check "304: exit 0, not_modified, one request ($rc $res $(count /same))" \
	'[ $rc = 0 ] && [ "$res" = not_modified ] && [ "$(count /same)" = 1 ]'
check "304: body file untouched (inode and mtime)" \
	'[ "$(inode_mtime "$tmp/cache/same")" = "$before" ] && fc get same | cmp -s - "$tmp/good.same"'

ctl 'set?path=/same200&mode=no304'
before=$(inode_mtime "$tmp/cache/same200")
fc refresh --force same200 2>/dev/null
rc=$?
res=$(fc status --json same200 | jfield last_result)
check "identical 200: exit 0, reported unchanged ($rc $res)" '[ $rc = 0 ] && [ "$res" = unchanged ]'
check "identical 200: body file untouched (inode and mtime)" \
	'[ "$(inode_mtime "$tmp/cache/same200")" = "$before" ] && fc get same200 | cmp -s - "$tmp/good.same200"'

# --- what reaches the origin ------------------------------------------------------
C "$B/_ctl/get?path=/hdr" >"$tmp/state"
etag=$(jfield etag <"$tmp/state")
lm=$(jfield last_modified <"$tmp/state")
ctl 'reset'
fc refresh --force hdr 2>/dev/null
C "$B/_ctl/log?path=/hdr" | sed -n '2p' | sed 's/,$//' >"$tmp/req"
inm=$(jfield if_none_match <"$tmp/req")
ims=$(jfield if_modified_since <"$tmp/req")
check "validators sent: If-None-Match $inm" '[ -n "$etag" ] && [ "$inm" = "$etag" ]'
check "validators sent: If-Modified-Since $ims" '[ -n "$lm" ] && [ "$ims" = "$lm" ]'
check "configured header X-Tenant reaches the origin" \
	'[ "$(jfield x_tenant <"$tmp/req")" = acme ]'
check "configured header Accept replaces the default" \
	'[ "$(jfield accept <"$tmp/req")" = application/rss+xml ]'
check "user_agent reaches the origin" \
	'[ "$(jfield user_agent <"$tmp/req")" = "fc-faults-test/1 (+http://127.0.0.1/)" ]'
check "304 with validators: hdr not_modified" \
	'[ "$(fc status --json hdr | jfield last_result)" = not_modified ]'

# --- validation -------------------------------------------------------------------
printf '{"feed": "json", "items": [1, 2\n' >"$tmp/bad"
C -o /dev/null -X POST --data-binary @"$tmp/bad" "$B/_ctl/set?path=/json&mode=normal"
fault json '' invalid 'rejected'
printf '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e SYSTEM "%s/xxe-target">]>\n<r>&e;</r>\n' "$B" >"$tmp/xxe"
C -o /dev/null -X POST --data-binary @"$tmp/xxe" "$B/_ctl/set?path=/xxe&mode=normal"
fc refresh --force xxe 2>/dev/null
n=$(count /xxe-target)
check "validate=xml never fetches an external entity (requests: $n)" '[ "$n" = 0 ]'

finish
