#!/bin/sh
# SPDX-License-Identifier: ISC
# A secret never leaves the origin it was written for: configured header
# lines go to the configured origin (scheme, host and port) only, on
# every hop that stays there, and to no other origin a redirect names;
# an https feed is never followed to http, so its body only ever comes
# over https. Two test origins on 127.0.0.1 (another port is another
# origin) and an HTTPS one with a CA made here. A configuration error
# names a bad url or header without the password or the header's value.
#
#	sh t-secrets.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
other_pid= tls_pid=
pid_vars="other_pid tls_pid $pid_vars"
start_main_origin
start_origin "$tmp/other.port" || exit 1
other_pid=$started_pid
O=http://127.0.0.1:$(cat "$tmp/other.port")
logged_headers() { # BASE PATH: the header names each request carried
	C "$1/_ctl/log?path=$2" | python3 -c 'import json, sys
for e in json.load(sys.stdin):
    print(" ".join(sorted(e["headers"])))'
}
ctl 'set?path=/feed.xml&mode=redirect&to=/moved.xml'
ctl 'set?path=/moved.xml&mode=redirect&to='"$O"'/elsewhere.xml'
C -o /dev/null -X POST "$O/_ctl/set?path=/elsewhere.xml&body=%3Crss%3Eelsewhere%3C%2Frss%3E"
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache

[feed f]
url = $B/feed.xml
header = X-Api-Key: s3cret-key
header = Authorization: Bearer s3cret-token
validate = xml
EOF
fc refresh --force f 2>"$tmp/err"
check "the feed is fetched through two redirects ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/f")" = "<rss>elsewhere</rss>" ]'
check "both hops on the configured origin carried the configured headers" \
	'[ "$(logged_headers "$B" /feed.xml | grep -c "authorization.*x-api-key")" = 1 ] &&
	 [ "$(logged_headers "$B" /moved.xml | grep -c "authorization.*x-api-key")" = 1 ]'
check "the other origin got neither ($(logged_headers "$O" /elsewhere.xml))" \
	'[ "$(logged_headers "$O" /elsewhere.xml | wc -l)" = 1 ] &&
	 ! logged_headers "$O" /elsewhere.xml | grep -q -e x-api-key -e authorization &&
	 ! C "$O/_ctl/log" | grep -q s3cret'

# Credentials in the URL are the origin's too: an absolute redirect on
# the same origin keeps them (Basic auth), another origin gets none.
B_HOSTPORT=${B#http://}
ctl 'set?path=/auth.xml&mode=redirect&to='"$B"'/auth2.xml'
ctl 'set?path=/auth2.xml&mode=redirect&to='"$O"'/auth3.xml'
ctl 'set?path=/auth4.xml&mode=redirect&to=/auth2.xml'
C -o /dev/null -X POST "$O/_ctl/set?path=/auth3.xml&body=%3Crss%3Eauth%3C%2Frss%3E"
printf '%s\n' '[feedcache]' "cache_dir = $tmp/cache" '[feed a]' \
	"url = http://reader:pw@$B_HOSTPORT/auth.xml" 'validate = xml' \
	'[feed r]' "url = http://reader:pw@$B_HOSTPORT/auth4.xml" \
	'validate = xml' >"$tmp/auth.conf"
"$FC" -c "$tmp/auth.conf" refresh --force a r 2>"$tmp/err"
check "URL credentials: fetched through a same-origin and a foreign redirect ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/a")" = "<rss>auth</rss>" ] && [ "$(cat "$tmp/cache/r")" = "<rss>auth</rss>" ]'
check "the same origin's absolute and relative hops carried them ($(logged_headers "$B" /auth2.xml | tr '\n' ';'))" \
	'[ "$(logged_headers "$B" /auth2.xml | grep -c authorization)" = 2 ]'
check "the other origin got none ($(logged_headers "$O" /auth3.xml | tr '\n' ';'))" \
	'! logged_headers "$O" /auth3.xml | grep -q authorization'

# --- https is never followed to http ---------------------------------------
cd "$tmp" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 2 -subj "/CN=tenantkit test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout tls.key -out tls.csr -subj "/CN=tls" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >tls.ext
openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out tls.pem -days 2 -extfile tls.ext 2>/dev/null
python3 "$ORIGIN" --port-file "$tmp/tls.port" --tls-cert tls.pem \
	--tls-key tls.key >/dev/null 2>&1 &
tls_pid=$!
until_true 10 '[ -s "$tmp/tls.port" ]'
T=https://127.0.0.1:$(cat "$tmp/tls.port")
TC() { C --cacert "$tmp/ca.pem" "$@"; }
TC -o /dev/null -X POST "$T/_ctl/set?path=/s.xml&body=%3Crss%3Eover-tls%3C%2Frss%3E"
C -o /dev/null -X POST "$O/_ctl/set?path=/plain.xml&body=%3Crss%3Eplain%3C%2Frss%3E"
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache
ca_file = $tmp/ca.pem

[feed s]
url = $T/s.xml
header = X-Api-Key: s3cret-key
validate = xml
EOF
fc refresh --force s 2>"$tmp/err"
check "the https feed is fetched ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/s")" = "<rss>over-tls</rss>" ]'
TC -o /dev/null -X POST "$T/_ctl/set?path=/s.xml&mode=redirect&to=$O/plain.xml"
C -o /dev/null -X POST "$O/_ctl/reset"
fc refresh --force s 2>"$tmp/err"
rc=$?
check "an https feed redirected to http: refused, copy kept ($(cat "$tmp/err"))" \
	'[ $rc = 1 ] && grep -q "never followed to http" "$tmp/err" &&
	 [ "$(cat "$tmp/cache/s")" = "<rss>over-tls</rss>" ] &&
	 [ "$(C "$O/_ctl/count?path=/plain.xml")" = 0 ]'
fc status --json s >"$tmp/json"
check "status says redirect ($(jfield last_result <"$tmp/json"))" \
	'[ "$(jfield last_result <"$tmp/json")" = redirect ]'

# --- configuration errors do not print the secret they are about ------------
bad_conf() { # bad_conf LINE...: check-config's exit and message for a feed
	printf '%s\n' '[feedcache]' "cache_dir = $tmp/cache" '[feed bad]' "$@" \
		>"$tmp/bad.conf"
	"$FC" -c "$tmp/bad.conf" check-config >/dev/null 2>"$tmp/err"
	echo "exit $?: $(cat "$tmp/err")"
}
msg=$(bad_conf 'url = ftp://reader:Pa55word@127.0.0.1/feed.xml')
check "a bad url is named with its password masked ($msg)" \
	'case $msg in "exit 2: "*"url: '"'ftp://reader:***@127.0.0.1/feed.xml'"': only http"*) ;; *) false ;; esac &&
	 ! echo "$msg" | grep -q Pa55word'
msg=$(bad_conf "url = $B/x" 'header = X-Api-Key Pa55word')
check "a header without its colon: named, its value not shown ($msg)" \
	'case $msg in "exit 2: "*"header: '"'X-Api-Key ***'"': expected"*) ;; *) false ;; esac &&
	 ! echo "$msg" | grep -q Pa55word'
msg=$(bad_conf "url = $B/x" "$(printf 'header = X-Api-Key: Pa55\001word')")
check "a header with a control character: its name, not its value ($msg)" \
	'case $msg in "exit 2: "*"header: '"'X-Api-Key: ***'"': control character"*) ;; *) false ;; esac &&
	 ! echo "$msg" | grep -q Pa55'
finish
