#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode against a real redis-server on 127.0.0.1: five daemons, one
# origin request per feed per interval, converging copies, the lease
# holder killed mid-fetch, Redis stopped and restarted, a Retry-After
# that holds the whole fleet back, and bad Redis set-ups (wrong password,
# nothing listening, garbage under the fleet's keys).
#
#	sh t-fleet.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_redis
hole_pid=
d1= d2= d3= d4= d5=
pid_vars="d1 d2 d3 d4 d5 hole_pid $pid_vars"
NODES="1 2 3 4 5"
INTERVAL=3

start_main_origin
(umask 077 && openssl rand -hex 32 >"$tmp/fleet.key")
R() { redis-cli -p "$RPORT" --no-auth-warning "$@"; }
conf() { # conf N REDIS_URL: node N's configuration
	mkdir -p "$tmp/n$1"
	cat >"$tmp/n$1/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/n$1/cache
redis = $2
node_name = node$1
fleet_key = $tmp/fleet.key
metrics_file = $tmp/n$1/metrics.prom

[feed news]
url = $B/news.xml
interval = ${INTERVAL}s
timeout = 2s
validate = xml
max_backoff = 2s
EOF
}
start_node() { # start_node N
	"$FC" -v -c "$tmp/n$1/feedcache.conf" daemon 2>>"$tmp/n$1/err" &
	eval "d$1=\$!"
}
stop_node() { # stop_node N [SIGNAL]
	eval "p=\$d$1"
	kill -s "${2:-TERM}" "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	eval "d$1="
}
all_copies_have() { # all_copies_have TEXT
	for k in $NODES; do
		grep -q "$1" "$tmp/n$k/cache/news" || return 1
	done
}
all_logs_have() { # all_logs_have PATTERN MIN_COUNT
	for k in $NODES; do
		[ "$(grep -c "$1" "$tmp/n$k/err")" -ge "$2" ] || return 1
	done
}
all_running() {
	for k in $NODES; do
		eval "kill -0 \$d$k" 2>/dev/null || return 1
	done
}
all_held_back() { # every node's meta file has a Retry-After ahead
	now=$(date +%s)
	for k in $NODES; do
		[ "$(sed -n 's/^retry_after //p' "$tmp/n$k/cache/.news.meta")" -gt "$now" ] || return 1
	done
}
dump_fleet() { # after a failed check: what Redis and each node hold
	R hgetall 'fc:{news}:meta' | paste -sd' ' | sed 's/^/# redis meta: /'
	for k in $NODES; do
		printf '# n%s: %s | %s\n' "$k" "$(cat "$tmp/n$k/cache/news" 2>/dev/null)" \
			"$(grep -E '^(fetched|next_due|retry_after|hash) ' "$tmp/n$k/cache/.news.meta" 2>/dev/null | paste -sd' ')"
	done
	echo "# now $(date +%s)"
}
same_copies() { # all five copies exist and hold the same bytes as node 1
	for n in $NODES; do
		cmp -s "$tmp/n1/cache/news" "$tmp/n$n/cache/news" || return 1
	done
}
log_times() { # arrival times of origin requests for /news.xml
	C "$B/_ctl/log?path=/news.xml" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print("%.3f" % e["time"])'
}
min_gap() { # the smallest gap between successive origin requests, in s
	log_times | awk 'NR > 1 { g = $1 - p; if (m == "" || g < m) m = g } { p = $1 } END { print (m == "" ? 999 : m) }'
}

ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Eone%3C%2Frss%3E"
start_redis || {
	echo "not ok - redis-server did not start: $(cat "$tmp/redis.log")"
	exit 1
}
URL=redis://127.0.0.1:$RPORT/0
for n in $NODES; do
	conf "$n" "$URL"
	start_node "$n"
done

# --- one origin request per interval, whatever the fleet size ---------------
until_true 20 'same_copies'
check "all five nodes have a copy" 'same_copies && grep -q one "$tmp/n5/cache/news"'
sleep $((4 * INTERVAL))
requests=$(count /news.xml)
gap=$(min_gap)
# Four intervals and the first fetch: five requests, give or take the
# +-10% jitter of the holder's next due time; five independent daemons
# would have sent about 25.
check "one origin request per interval for five nodes ($requests in $((4 * INTERVAL)) s + start)" \
	'[ "$requests" -ge 4 ] && [ "$requests" -le 6 ]'
check "no two requests closer than half an interval (smallest gap ${gap}s)" \
	'awk -v g="$gap" -v i=$INTERVAL "BEGIN { exit !(g >= i / 2) }"'
check "leases were won and bodies followed (metrics)" \
	'cat "$tmp"/n*/metrics.prom | awk "/^feedcache_fleet_leases_won_total/ { w += \$2 } END { exit !(w >= 4) }" &&
	 grep -q "^feedcache_fleet_redis_up 1" "$tmp/n3/metrics.prom"'

ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Etwo%3C%2Frss%3E"
until_true 30 'same_copies && grep -q two "$tmp/n1/cache/news"'
check "after a content change all five copies converge to the same bytes" \
	'same_copies && grep -q two "$tmp/n4/cache/news"' || dump_fleet
"$FC" -c "$tmp/n2/feedcache.conf" status >"$tmp/status" 2>&1
check "status shows the fleet version and that this node is current" \
	'grep -q "fleet version [1-9][0-9]*, this node current" "$tmp/status"'
"$FC" -c "$tmp/n2/feedcache.conf" status --json >"$tmp/status.json"
check "status --json has the fleet object" \
	'python3 -c "import json,sys; f = json.load(open(sys.argv[1]))[\"fleet\"]; sys.exit(not (f[\"current\"] and f[\"version\"] >= 1))" "$tmp/status.json"'

# A reload in fleet mode keeps the node in the fleet.
kill -HUP "$d1"
ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Etwo%20and%20a%20half%3C%2Frss%3E"
until_true 30 'same_copies && grep -q half "$tmp/n1/cache/news"'
check "after SIGHUP node 1 reloads and still follows the fleet" \
	'grep -q "reloaded" "$tmp/n1/err" && same_copies && grep -q half "$tmp/n1/cache/news"'

# --- the holder dies mid-fetch ---------------------------------------------
version_before=$(R hget 'fc:{news}:meta' version)
body_before=$(R get 'fc:{news}:body')
ctl "set?path=/news.xml&mode=hold&body=%3Crss%3Ethree%3C%2Frss%3E"
ctl reset
until_true 20 '[ "$(count /news.xml)" -ge 1 ]'
holder=$(R get 'fc:{news}:lease')
holder=${holder%%:*} # node:token
n=${holder#node}
check "a node holds the lease while the origin holds its answer ($holder)" \
	'[ -n "$holder" ] && [ "$n" -ge 1 ] && [ "$n" -le 5 ]'
[ -n "$n" ] && [ "$n" -ge 1 ] 2>/dev/null && stop_node "$n" KILL
# Its connection closed, the origin answers the next request at once.
ctl "release?path=/news.xml"
# The lease lasts timeout (2 s) + 3 s; another node takes over after it.
until_true 30 '[ "$(R hget "fc:{news}:meta" version)" -gt "$version_before" ]'
winner=$(R hget 'fc:{news}:meta' node)
check "another node fetched after the lease expired ($winner, version $(R hget 'fc:{news}:meta' version))" \
	'[ "$winner" != "$holder" ] && R get "fc:{news}:body" | grep -q three'
check "exactly one new version, whole: the fleet's hash is its body's, nothing of the dead holder's" \
	'[ "$(R hget "fc:{news}:meta" version)" = $((version_before + 1)) ] &&
	 [ "$(R get "fc:{news}:body" | tr -d "\n" | sha256sum | cut -c1-64)" = "$(R hget "fc:{news}:meta" hash)" ] &&
	 [ "$body_before" != "$(R get "fc:{news}:body")" ]'
[ -n "$n" ] && [ "$n" -ge 1 ] 2>/dev/null && start_node "$n"

# --- Retry-After holds the whole fleet back -------------------------------
ctl "set?path=/news.xml&mode=status&code=503&retry_after=12"
ctl reset
until_true 20 '[ "$(count /news.xml)" -ge 1 ]'
sleep 8
check "one 503 with Retry-After: 12 and no node asked again ($(count /news.xml) requests in 8 s)" \
	'[ "$(count /news.xml)" = 1 ]'
check "the fleet's deadline is in every node's meta file" \
	all_held_back
ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Efour%3C%2Frss%3E"
until_true 30 'same_copies && grep -q four "$tmp/n3/cache/news"'
check "after the deadline the fleet fetches again and converges" \
	'same_copies && grep -q four "$tmp/n1/cache/news"' || dump_fleet

# --- Redis stopped, then back ---------------------------------------------
for k in $NODES; do
	wc -l <"$tmp/n$k/err" >"$tmp/n$k/mark"
done
since_mark() { # since_mark N: node N's log since the mark
	tail -n +$(($(cat "$tmp/n$1/mark") + 1)) "$tmp/n$1/err"
}
count_since() { # count_since PATTERN MIN MAX: on every node
	for k in $NODES; do
		c=$(since_mark "$k" | grep -c "$1")
		[ "$c" -ge "$2" ] && [ "$c" -le "$3" ] || return 1
	done
}
stop_redis
ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Efive%3C%2Frss%3E"
until_true 30 'all_copies_have five'
check "with Redis down every node refreshes its own copy" \
	'all_copies_have five'
check "each node said once, and only once, that it runs single-node" \
	'count_since "running single-node" 1 1'
check "every daemon is still running" \
	all_running
start_redis
until_true 40 'count_since "connected as node" 1 1'
check "every node back in fleet mode once Redis returns" \
	'count_since "connected as node" 1 1'
ctl reset
sleep $((3 * INTERVAL))
requests=$(count /news.xml)
check "the fleet coordinates again ($requests requests in $((3 * INTERVAL)) s)" \
	'[ "$requests" -ge 2 ] && [ "$requests" -le 5 ]'
# Redis still had "four", older than what each node fetched meanwhile.
check "no node rolled its newer copy back to the fleet's older one" \
	'all_copies_have five && count_since "updated from the fleet" 0 0'
for n in $NODES; do stop_node "$n"; done

# Readers in fleet mode: a read older than its --max-age on every node
# starts a refresh on each, and the fleet turns them into one origin
# request: the first fetches, the others find a copy the fleet checked
# within their max-age and take it.
sleep 6
ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Eread%3C%2Frss%3E"
ctl reset
for k in $NODES; do
	"$FC" -c "$tmp/n$k/feedcache.conf" get news --max-age 5s >/dev/null 2>&1
	until_true 10 '! pgrep -f "n$k/feedcache.conf get" >/dev/null'
done
until_true 20 'all_copies_have read'
check "stale reads on five nodes: $(count /news.xml) origin request, every copy new" \
	'[ "$(count /news.xml)" = 1 ] && all_copies_have read'

# A long interval and a short max_backoff: the holder's next due time
# (interval + up to 10% jitter) is still the fleet's, not "implausible".
for k in 1 2; do
	printf '[feedcache]\ncache_dir = %s\nredis = %s\nnode_name = node%s\nfleet_key = %s\n' \
		"$tmp/n$k/cache" "$URL" "$k" "$tmp/fleet.key" >"$tmp/n$k/long.conf"
	for j in 1 2 3 4 5 6; do
		printf '[feed long%s]\nurl = %s/long.xml\ninterval = 30s\nmax_backoff = 1s\n' \
			"$j" "$B" >>"$tmp/n$k/long.conf"
	done
done
ctl "set?path=/long.xml&mode=normal"
"$FC" -c "$tmp/n1/long.conf" refresh --all 2>/dev/null
"$FC" -c "$tmp/n2/long.conf" refresh --all 2>/dev/null
check "six long-interval feeds, two nodes: $(count /long.xml) origin requests (one each)" \
	'[ "$(count /long.xml)" = 6 ]'

# --- bad Redis set-ups ------------------------------------------------------
# Garbage under the fleet's keys never reaches a node's copy: that stays
# the origin's, and the next holder's publish repairs the fleet's record.
ctl "set?path=/news.xml&mode=normal&body=%3Crss%3Esix%3C%2Frss%3E"
n1() { "$FC" -c "$tmp/n1/feedcache.conf" "$@" 2>"$tmp/err"; }
origin_copy() { [ "$(cat "$tmp/n1/cache/news")" = "<rss>six</rss>" ]; }
sha() { printf %s "$1" | sha256sum | cut -c1-64; }
R del 'fc:{news}:meta' >/dev/null
R set 'fc:{news}:meta' garbage >/dev/null
n1 refresh --force news
check "a wrong-typed meta key: a clear error naming it, then single-node" \
	'grep -q "fc:{news}:meta: WRONGTYPE" "$tmp/err" && grep -q "fetching single-node" "$tmp/err" && origin_copy'
R del 'fc:{news}:meta' >/dev/null
R hset 'fc:{news}:meta' version 99 hash "$(printf x%.0s $(seq 64))" size 3 >/dev/null
n1 refresh --force news
check "a garbage hash: named, not followed, and repaired by this node's publish" \
	'grep -q "field hash holds" "$tmp/err" && origin_copy &&
	 [ "$(R hget "fc:{news}:meta" hash)" = "$(sha "<rss>six</rss>")" ]'
bad_body() { # bad_body BODY HASH: the fleet's record, newer than any copy
	R del 'fc:{news}:meta' >/dev/null
	R hset 'fc:{news}:meta' version 100 hash "$2" size "${#1}" \
		fetched $(($(date +%s) + 5)) url "$B/news.xml" >/dev/null
	R set 'fc:{news}:body' "$1" >/dev/null
}
# Records without a signature (t-fleet-key has the signed cases).
bad_body '<rss>bad!</rss>' "$(printf 'a%.0s' $(seq 64))"
n1 refresh --force news
check "a body that does not match its hash is not taken" \
	'grep -q "has no signature; not following it" "$tmp/err" && origin_copy'
bad_body '<rss>bad' "$(sha '<rss>bad')"
n1 refresh --force news
check "a body with the right hash that fails validation is not taken" \
	'grep -q "has no signature; not following it" "$tmp/err" && origin_copy'
# Values that would silence the fleet: a lease without a TTL, a next due
# time centuries ahead, a Retry-After for ever. None stops a refresh.
ctl reset
R hset 'fc:{news}:meta' next_due 99999999999 retry_after 99999999999 >/dev/null
R set 'fc:{news}:lease' ghost >/dev/null
sleep $((INTERVAL + 1)) # due by this node's own meta file: no --force
n1 refresh --all
check "a lease without TTL and deadlines far ahead do not stop the fleet ($(count /news.xml) request)" \
	'[ "$(count /news.xml)" = 1 ] && [ "$(R hget "fc:{news}:meta" node)" = node1 ]'
stop_redis

# Wrong password.
REDIS_AUTH=sesame start_redis --requirepass sesame
conf 1 "redis://:wrong-pass@127.0.0.1:$RPORT/0"
"$FC" -c "$tmp/n1/feedcache.conf" refresh --force news 2>"$tmp/err"
rc=$?
check "a wrong password: a clear error, single-node refresh still works (exit $rc)" \
	'[ $rc = 0 ] && grep -q "AUTH refused" "$tmp/err" && grep -q "running single-node" "$tmp/err"'
check "the password never appears in the log" '! grep -q wrong-pass "$tmp/err"'
conf 1 "redis://:sesame@127.0.0.1:$RPORT/0"
"$FC" -c "$tmp/n1/feedcache.conf" refresh --force news 2>"$tmp/err"
check "the right password: the fleet has the feed" \
	'[ "$(redis-cli -p "$RPORT" -a sesame --no-auth-warning hget "fc:{news}:meta" node)" = node1 ]'
stop_redis

# Nothing listening at start.
conf 1 "$URL"
"$FC" -c "$tmp/n1/feedcache.conf" refresh --force news 2>"$tmp/err"
rc=$?
check "Redis unreachable at start: single-node, exit 0 ($rc)" \
	'[ $rc = 0 ] && grep -q "cannot connect" "$tmp/err"'
# A Redis that accepts connections and never answers: the command
# timeout (redis_timeout, 500 ms by default) ends the wait.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
end = time.monotonic() + 60
while time.monotonic() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except OSError:
        pass' >"$tmp/hole.port" &
hole_pid=$!
until_true 10 '[ -s "$tmp/hole.port" ]'
conf 1 "redis://127.0.0.1:$(cat "$tmp/hole.port")/0"
# -v: refresh says what a feed came to only when asked.
timeout 20 "$FC" -v -c "$tmp/n1/feedcache.conf" refresh --force news 2>"$tmp/err"
rc=$?
check "a Redis that never answers: timed out, single-node, exit 0 ($rc)" \
	'[ $rc = 0 ] && grep -q "no complete reply within 500 ms; running single-node" "$tmp/err" &&
	 grep -q "feed news: " "$tmp/err"'
kill "$hole_pid" 2>/dev/null
wait "$hole_pid" 2>/dev/null
hole_pid=
printf '[feedcache]\nredis = redis://:hunter2@127.0.0.1:99999/\n' >"$tmp/pw.conf"
"$FC" -c "$tmp/pw.conf" status >/dev/null 2>"$tmp/err"
check "a bad redis URL with a password: an error that does not show it" \
	'grep -q "pw.conf:2: redis: port" "$tmp/err" && ! grep -q hunter2 "$tmp/err"'
printf '[feedcache]\nredis = http://127.0.0.1/\n' >"$tmp/bad.conf"
"$FC" -c "$tmp/bad.conf" status >/dev/null 2>"$tmp/err"
check "a bad redis URL is a configuration error naming the line (exit $?)" \
	'grep -q "bad.conf:2" "$tmp/err" && grep -q "redis://" "$tmp/err"'
finish
