#!/bin/sh
# SPDX-License-Identifier: ISC
# refresh is quiet on success, in fleet mode too, so that cron mails only
# failures: "connected as node" and "updated from the fleet" are said
# under -v only (the daemon logs them at info). A real redis-server on
# 127.0.0.1, two nodes with the same key.
#
#	sh t-fleet-quiet.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_redis
start_main_origin
start_redis || {
	echo "not ok - redis-server did not start: $(cat "$tmp/redis.log")"
	exit 1
}
(umask 077 && printf '%s\n' 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef >"$tmp/a.key")
conf() { # conf N: node N's configuration
	mkdir -p "$tmp/n$1"
	printf '%s\n' '[feedcache]' "cache_dir = $tmp/n$1/cache" \
		"redis = redis://127.0.0.1:$RPORT/0" "node_name = node$1" \
		"fleet_key = $tmp/a.key" '' '[feed news]' "url = $B/news.xml" \
		'interval = 60s' 'timeout = 5s' 'validate = xml' \
		>"$tmp/n$1/feedcache.conf"
}
node() { # node N ARGS...: a one-shot command of node N, its log in nN/err
	n=$1
	shift
	"$FC" -c "$tmp/n$n/feedcache.conf" "$@" 2>"$tmp/n$n/err"
}
conf 1
conf 2
conf 3
ctl 'set?path=/news.xml&body=%3Crss%3Eone%3C%2Frss%3E'
node 1 refresh
rc=$?
check "node 1 fetches from the origin, exit 0, says nothing ($rc: $(cat "$tmp/n1/err"))" \
	'[ $rc = 0 ] && [ "$(count /news.xml)" = 1 ] && [ ! -s "$tmp/n1/err" ]'
node 2 refresh
rc=$?
check "node 2 follows the fleet, exit 0, says nothing ($rc: $(cat "$tmp/n2/err"))" \
	'[ $rc = 0 ] && [ "$(count /news.xml)" = 1 ] &&
	 [ "$(cat "$tmp/n2/cache/news")" = "<rss>one</rss>" ] && [ ! -s "$tmp/n2/err" ]'
node 3 -v refresh
rc=$?
check "under -v a refresh says both ($rc: $(cat "$tmp/n3/err"))" \
	'[ $rc = 0 ] && grep -q "connected as node node3" "$tmp/n3/err" &&
	 grep -q "updated from the fleet" "$tmp/n3/err"'
finish
