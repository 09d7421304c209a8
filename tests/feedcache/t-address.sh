#!/bin/sh
# SPDX-License-Identifier: ISC
# Where bytes may come from: a feed is judged by the address it actually
# connected to. Inside a network namespace made here (nothing leaves it):
# a "public" origin on 203.0.113.10, a fake cloud metadata service on
# 169.254.169.254 and [fd00:ec2::254], a private origin on 10.1.2.3, a
# hosts file and a tiny DNS server. A public feed redirected to metadata
# (also spelled 2852039166, 0xa9fea9fe, [::ffff:169.254.169.254]), to a
# private address or to a name that resolves to one is refused, the old
# copy kept and the error naming the address and the rule; a name that
# answered public once and private later (DNS rebinding) is refused; a
# feed configured on a private address or name works; allow_private = yes
# opts in.
#
#	sh t-address.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
NS=tk13addr$$
ns_made=
pub_pid= meta_pid= meta6_pid= priv_pid= dns_pid=
pid_vars="pub_pid meta_pid meta6_pid priv_pid dns_pid $pid_vars"
cleanup_more() {
	[ -n "$ns_made" ] && ip netns delete "$NS" 2>/dev/null
}
if ! ip netns add "$NS" 2>"$tmp/netns.err"; then
	echo "# SKIP: cannot make a network namespace: $(cat "$tmp/netns.err")"
	exit 77
fi
ns_made=1
N() { ip netns exec "$NS" "$@"; }
N ip link set lo up
for a in 203.0.113.10/32 169.254.169.254/32 10.1.2.3/32; do
	N ip addr add "$a" dev lo
done
N ip -6 addr add fd00:ec2::254/128 dev lo nodad
# feedcache and its resolver see our hosts file and DNS server, in a
# mount namespace of their own: the machine's /etc is never touched.
printf '127.0.0.1 localhost\n10.1.2.3 internal.test\n' >"$tmp/hosts"
printf 'nameserver 127.0.0.1\noptions attempts:2 timeout:1\n' >"$tmp/resolv.conf"
echo 203.0.113.10 >"$tmp/dns.answer"
FCN() { # feedcache inside the namespace, with our hosts and resolv.conf
	N unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
		mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		sh "$tmp/hosts" "$tmp/resolv.conf" "$FC" -c "$tmp/feedcache.conf" "$@"
}

start_ns_origin() { # HOST NAME: an origin on HOST port 80; sets $started_pid
	pf=$tmp/$2.port
	ip netns exec "$NS" python3 "$ORIGIN" --netns --host "$1" --port 80 \
		--port-file "$pf" >"$tmp/$2.out" 2>"$tmp/$2.err" &
	started_pid=$!
	until_true 10 '[ -s "$pf" ]' || {
		kill "$started_pid"
		echo "not ok - origin $2 on $1 did not start: $(cat "$tmp/$2.err")"
		exit 1
	}
}
start_ns_origin 203.0.113.10 pub
pub_pid=$started_pid
start_ns_origin 169.254.169.254 meta
meta_pid=$started_pid
start_ns_origin fd00:ec2::254 meta6
meta6_pid=$started_pid
start_ns_origin 10.1.2.3 priv
priv_pid=$started_pid
ip netns exec "$NS" python3 "$(dirname "$ORIGIN")/dns.py" "$tmp/dns.answer" "$tmp/dns.port" \
	2>"$tmp/dns.err" &
dns_pid=$!
until_true 10 '[ -s "$tmp/dns.port" ]' || {
	echo "not ok - the DNS server did not start: $(cat "$tmp/dns.err")"
	exit 1
}
NC() { N curl -s --noproxy '*' --max-time 10 "$@"; }
PUB=http://203.0.113.10
META=http://169.254.169.254
PRIV=http://10.1.2.3
set_path() { # BASE 'path=...&mode=...'
	r=$(NC -o /dev/null -w '%{http_code}' -X POST "$1/_ctl/set?$2")
	[ "$r" = 200 ] || not_ok "origin control set $2 at $1 answered '$r'"
}
asked() { NC "$1/_ctl/count"; } # every path requested, as JSON
meta_untouched() { # no request ever reached either metadata service
	[ "$(asked $META)" = "{}" ] && [ "$(asked 'http://[fd00:ec2::254]')" = "{}" ]
}
set_path $META 'path=/latest/meta-data/iam&body=SECRET-CREDENTIALS'
set_path 'http://[fd00:ec2::254]' 'path=/latest/meta-data/iam&body=SECRET-CREDENTIALS'
set_path $PRIV 'path=/internal.xml&body=%3Crss%3Einternal%3C%2Frss%3E'
set_path $PRIV 'path=/to-meta&mode=redirect&to=http://169.254.169.254/latest/meta-data/iam'

conf() { # conf NAME URL [EXTRA LINE]: one feed
	printf '[feedcache]\ncache_dir = %s/cache\n\n[feed %s]\nurl = %s\ntimeout = 5s\nvalidate = none\n%s\n' \
		"$tmp" "$1" "$2" "${3:-}" >"$tmp/feedcache.conf"
}
# refused NAME TO DESC PATTERN: the public feed NAME had a good copy;
# its origin now redirects to TO: the fetch is refused, the error names
# PATTERN, the copy stays, the metadata services saw no connection.
refused() {
	pat=$4 name=$1
	set_path $PUB "path=/$1&body=%3Crss%3Egood%3C%2Frss%3E"
	conf "$1" "$PUB/$1"
	FCN refresh --force "$1" 2>"$tmp/err"
	set_path $PUB "path=/$1&mode=redirect&to=$2"
	FCN refresh --force "$1" 2>"$tmp/err"
	rc=$?
	msg=$(grep "feed $1:" "$tmp/err")
	FCN status --json "$1" >"$tmp/status.json"
	check "public feed redirected to $3: refused ($msg)" \
		'[ $rc = 1 ] && echo "$msg" | grep -q "refused to connect to $pat" &&
		 [ "$(jfield last_result <"$tmp/status.json")" = refused ] &&
		 [ "$(cat "$tmp/cache/$name")" = "<rss>good</rss>" ] && meta_untouched'
}
refused meta "$META/latest/meta-data/iam" "169.254.169.254" '169\.254\.169\.254 port 80: a link-local address, and this feed.s origin is public'
refused dec "http://2852039166/latest/meta-data/iam" "http://2852039166/" '169\.254\.169\.254 port 80: a link-local'
refused hex "http://0xa9fea9fe/latest/meta-data/iam" "http://0xa9fea9fe/" '169\.254\.169\.254 port 80: a link-local'
refused mapped "http://[::ffff:169.254.169.254]/latest/meta-data/iam" "[::ffff:169.254.169.254]" '::ffff:169\.254\.169\.254 port 80: a link-local'
refused ula "http://[fd00:ec2::254]/latest/meta-data/iam" "[fd00:ec2::254]" 'fd00:ec2::254 port 80: a private'
refused private "$PRIV/internal.xml" "a private address" '10\.1\.2\.3 port 80: a private'
refused name "http://internal.test/internal.xml" "a name that resolves to a private address" '10\.1\.2\.3 port 80: a private'
refused zero "http://0.0.0.0/x" "0.0.0.0" '0\.0\.0\.0 port 80: an unspecified'
check "the private origin was never asked on a public feed's behalf" \
	'[ "$(NC "$PRIV/_ctl/count?path=/internal.xml")" = 0 ]'

# allow_private = yes: the operator's explicit opt-in.
conf private "$PUB/private" "allow_private = yes"
FCN refresh --force private 2>"$tmp/err"
check "allow_private = yes follows the redirect to 10.1.2.3 ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/private")" = "<rss>internal</rss>" ]'

# Feeds configured on a private address or name keep working, but reach
# no other class of private address.
conf internal "$PRIV/internal.xml"
FCN refresh --force internal 2>"$tmp/err"
check "a feed configured on 10.1.2.3 works ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/internal")" = "<rss>internal</rss>" ]'
conf byname "http://internal.test/internal.xml"
FCN refresh --force byname 2>"$tmp/err"
check "a feed configured on a name in /etc/hosts for 10.1.2.3 works ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/byname")" = "<rss>internal</rss>" ] &&
	 grep -q "^origin_class private" "$tmp/cache/.byname.meta"'
conf tometa "$PRIV/to-meta"
FCN refresh --force tometa 2>"$tmp/err"
check "a private feed redirected to link-local metadata is refused ($(grep tometa "$tmp/err"))" \
	'grep -q "169.254.169.254 port 80: a link-local address, and this feed.s origin is private" "$tmp/err" &&
	 [ ! -e "$tmp/cache/tometa" ] && meta_untouched'

# DNS rebinding: the configured name answers public first, private later.
set_path $PUB 'path=/rebind.xml&body=%3Crss%3Epublic%3C%2Frss%3E'
set_path $PRIV 'path=/rebind.xml&body=%3Crss%3Eprivate%3C%2Frss%3E'
conf rebind "http://rebind.test/rebind.xml"
FCN refresh --force rebind 2>"$tmp/err"
check "a name that answers 203.0.113.10: fetched, its origin public ($(cat "$tmp/err"))" \
	'[ "$(cat "$tmp/cache/rebind")" = "<rss>public</rss>" ] &&
	 grep -q "^origin_class public" "$tmp/cache/.rebind.meta"'
echo 10.1.2.3 >"$tmp/dns.answer"
FCN refresh --force rebind 2>"$tmp/err"
check "the same name answering 10.1.2.3 next time: refused, copy kept ($(grep rebind "$tmp/err"))" \
	'grep -q "refused to connect to 10.1.2.3 port 80: a private address, and this feed.s origin is public" "$tmp/err" &&
	 [ "$(cat "$tmp/cache/rebind")" = "<rss>public</rss>" ] &&
	 [ "$(NC "$PRIV/_ctl/count?path=/rebind.xml")" = 0 ]'
echo 169.254.169.254 >"$tmp/dns.answer"
FCN refresh --force rebind 2>"$tmp/err"
check "and answering 169.254.169.254: refused, metadata untouched" \
	'grep -q "refused to connect to 169.254.169.254" "$tmp/err" && meta_untouched'

finish
