#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode does not trust Redis for content: what a node publishes is
# signed (HMAC-SHA256 under fleet_key), and a record in Redis without a
# valid signature is never followed. Against a real redis-server on
# 127.0.0.1: two nodes with the same key share one fetch; a node with
# another key does not follow, nor does any node a record written by
# hand (unsigned, signed for other bytes, a body swapped under a signed
# record): each fetches from the origin and says why, once per feed; a
# key file rotated to "new, old" follows the old key's records. Key
# files that others may read, short keys, and fleet mode without a key
# are configuration errors.
#
#	sh t-fleet-key.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_redis
daemon_pid=
pid_vars="daemon_pid $pid_vars"
start_main_origin
start_redis || {
	echo "not ok - redis-server did not start: $(cat "$tmp/redis.log")"
	exit 1
}
R() { redis-cli -p "$RPORT" "$@"; }
sha() { printf %s "$1" | sha256sum | cut -c1-64; }
KA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
KB=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
key_file() { # key_file NAME LINE...: a key file only its owner reads
	f=$tmp/$1
	shift
	(umask 077 && printf '%s\n' "$@" >"$f")
}
key_file a.key "$KA"
key_file b.key "$KB"
key_file rotated.key "# new key first: it signs; the old one still verifies" "$KB" "$KA"
conf() { # conf N KEYFILE [INTERVAL]: node N's configuration
	mkdir -p "$tmp/n$1"
	printf '%s\n' '[feedcache]' "cache_dir = $tmp/n$1/cache" \
		"redis = redis://127.0.0.1:$RPORT/0" "node_name = node$1" \
		"fleet_key = $2" '' '[feed news]' "url = $B/news.xml" \
		"interval = ${3:-60s}" 'timeout = 2s' 'validate = xml' \
		>"$tmp/n$1/feedcache.conf"
}
node() { # node N ARGS...: a one-shot command of node N, its log in nN/err
	n=$1
	shift
	"$FC" -c "$tmp/n$n/feedcache.conf" "$@" 2>"$tmp/n$n/err"
}
copy() { cat "$tmp/n$1/cache/news" 2>/dev/null; }
conf 1 "$tmp/a.key"
conf 2 "$tmp/a.key"
conf 3 "$tmp/b.key"
conf 4 "$tmp/rotated.key"
conf 5 "$tmp/a.key"

# --- the same key: one fetch for two nodes ---------------------------------
ctl 'set?path=/news.xml&body=%3Crss%3Eone%3C%2Frss%3E'
node 1 refresh news
check "node 1 fetched and published a signed record" \
	'[ "$(count /news.xml)" = 1 ] &&
	 R hget "fc:{news}:meta" sig | grep -Eq "^[0-9a-f]{64}$"'
# A body taken from the fleet is a new body for on_change too.
printf '#!/bin/sh\necho "$FEEDCACHE_FEED $FEEDCACHE_SHA256" >>"%s/n2/hook.log"\n' "$tmp" >"$tmp/hook"
chmod 755 "$tmp/hook"
echo "on_change = $tmp/hook" >>"$tmp/n2/feedcache.conf"
node 2 -v refresh news
check "node 2, same key, follows it: still one origin request" \
	'[ "$(count /news.xml)" = 1 ] && [ "$(copy 2)" = "<rss>one</rss>" ] &&
	 grep -q "updated from the fleet" "$tmp/n2/err"'
check "and its on_change ran once, with the followed body's hash" \
	'[ "$(cat "$tmp/n2/hook.log")" = "news $(sha256sum <"$tmp/n2/cache/news" | cut -c1-64)" ]'

# --- another key: not followed ----------------------------------------------
ctl 'set?path=/news.xml&body=%3Crss%3Etwo%3C%2Frss%3E'
node 3 refresh news
check "node 3, another key, does not follow: it fetches the origin's bytes itself" \
	'[ "$(count /news.xml)" = 2 ] && [ "$(copy 3)" = "<rss>two</rss>" ] &&
	 grep -q "is not signed with fleet_key" "$tmp/n3/err"' ||
	sed 's/^/# /' "$tmp/n3/err"

# --- rotation: "new, old" still follows what the old key signed --------------
node 4 refresh news
check "node 4, key file \"new, old\", follows a record the old key signed" \
	'[ "$(count /news.xml)" = 2 ] && [ "$(copy 4)" = "<rss>one</rss>" ]' ||
	sed 's/^/# /' "$tmp/n4/err"

# --- records written into Redis by hand ---------------------------------------
ORIGIN_BODY='<rss>origin</rss>'
ctl 'set?path=/news.xml&body=%3Crss%3Eorigin%3C%2Frss%3E'
hostile() { # hostile BODY [SIG]: a record newer than any copy, fresh for 30 s
	now=$(date +%s)
	R del 'fc:{news}:meta' >/dev/null
	R hset 'fc:{news}:meta' version 100 hash "$(sha "$1")" size "${#1}" \
		fetched $((now + 5)) next_due $((now + 30)) url "$B/news.xml" \
		etag '' last_modified '' ${2:+sig "$2"} >/dev/null
	R set 'fc:{news}:body' "$1" >/dev/null
}
fresh_node5() { rm -rf "$tmp/n5/cache"; }
before=$(count /news.xml)
hostile '<rss>hostile</rss>'
fresh_node5
node 5 refresh news
check "an unsigned record is not followed: the copy is the origin's ($(copy 5))" \
	'[ "$(copy 5)" = "$ORIGIN_BODY" ] && [ "$(count /news.xml)" = $((before + 1)) ]' ||
	sed 's/^/# /' "$tmp/n5/err"
check "and the node says why" 'grep -q "has no signature; not following it" "$tmp/n5/err"'

# A signature made for other bytes: node 1's, over the origin's body.
node 1 refresh --force news
good_sig=$(R hget 'fc:{news}:meta' sig)
hostile '<rss>hostile</rss>' "$good_sig"
fresh_node5
before=$(count /news.xml)
node 5 refresh news
check "a record whose body and hash were replaced under a valid signature is not followed" \
	'[ "$(copy 5)" = "$ORIGIN_BODY" ] && [ "$(count /news.xml)" = $((before + 1)) ] &&
	 grep -q "is not signed with fleet_key" "$tmp/n5/err"'
# A field changed under a valid signature.
node 1 refresh --force news
R hset 'fc:{news}:meta' etag '"forged"' >/dev/null
fresh_node5
node 5 refresh news
check "a validator changed under a valid signature: not followed" \
	'[ "$(copy 5)" = "$ORIGIN_BODY" ] && grep -q "is not signed with fleet_key" "$tmp/n5/err"'
# The body swapped (same length), the signed record left as it was.
node 1 refresh --force news
R set 'fc:{news}:body' '<rss>forged</rss>' >/dev/null
fresh_node5
before=$(count /news.xml)
node 5 refresh news
check "a body swapped under a signed record is not taken: the copy is the origin's" \
	'[ "$(copy 5)" = "$ORIGIN_BODY" ] && [ "$(count /news.xml)" = $((before + 1)) ] &&
	 grep -q "does not match its hash; not following it" "$tmp/n5/err"' ||
	sed 's/^/# /' "$tmp/n5/err"

# Signed with the key, yet a body this node's validate = xml refuses: the
# key (held by a node configured otherwise, or stolen) does not skip the
# checks a fetched body gets. The signature as feedcache.conf(5) says:
# HMAC-SHA256 over "feedcache fleet record 1", a NUL, then each of name,
# url, hash, size, fetched, etag, last_modified as "LENGTH:BYTES".
sign() { # sign KEY FIELD...: the record's signature
	python3 -c 'import hashlib, hmac, sys
msg = b"feedcache fleet record 1\0" + b"".join(
    b"%d:%s" % (len(f), f) for f in (a.encode() for a in sys.argv[2:]))
print(hmac.new(sys.argv[1].encode(), msg, hashlib.sha256).hexdigest())' "$@"
}
bad='<rss>not xml'
t=$(($(date +%s) + 5))
hostile "$bad" "$(sign "$KA" news "$B/news.xml" "$(sha "$bad")" "${#bad}" $t '' '')"
R hset 'fc:{news}:meta' fetched $t >/dev/null
fresh_node5
node 5 refresh news
check "a signed record whose body fails validation is not taken: the copy is the origin's" \
	'[ "$(copy 5)" = "$ORIGIN_BODY" ] && grep -q "its body is rejected" "$tmp/n5/err" &&
	 ! grep -q "not signed" "$tmp/n5/err"' || sed 's/^/# /' "$tmp/n5/err"

# --- a daemon says it once per feed, not once per cycle ----------------------
conf 6 "$tmp/a.key" 1s
hostile '<rss>hostile</rss>'
# A lease held elsewhere: with a trusted record, node 6 would wait for it.
R set 'fc:{news}:lease' 'ghost:1' px 60000 >/dev/null
before=$(count /news.xml)
"$FC" -v -c "$tmp/n6/feedcache.conf" daemon 2>"$tmp/n6/err" &
daemon_pid=$!
until_true 30 '[ "$(count /news.xml)" -ge $((before + 4)) ]'
check "the daemon fetches for itself cycle after cycle ($(($(count /news.xml) - before)) requests), its copy the origin's" \
	'[ "$(count /news.xml)" -ge $((before + 4)) ] && [ "$(copy 6)" = "$ORIGIN_BODY" ]'
check "and said why once ($(grep -c "has no signature" "$tmp/n6/err") times)" \
	'[ "$(grep -c "has no signature" "$tmp/n6/err")" = 1 ]'
# The lease freed, the daemon wins it and its publish repairs the record.
R del 'fc:{news}:lease' >/dev/null
until_true 30 'grep -q "signed with fleet_key again" "$tmp/n6/err"'
check "once a holder signs the record again, the daemon says so and follows it" \
	'grep -q "signed with fleet_key again; following it" "$tmp/n6/err" &&
	 R hget "fc:{news}:meta" sig | grep -Eq "^[0-9a-f]{64}$"'
kill "$daemon_pid"
wait "$daemon_pid"
daemon_pid=

# --- configuration errors -------------------------------------------------
conf_error() { # conf_error KEYFILE-CONTENT|- MODE: check-config's message
	rm -f "$tmp/bad.key"
	[ "$1" = - ] || (umask 077 && printf '%s\n' "$1" >"$tmp/bad.key")
	[ -e "$tmp/bad.key" ] && chmod "$2" "$tmp/bad.key"
	conf 7 "$tmp/bad.key"
	"$FC" -c "$tmp/n7/feedcache.conf" check-config >/dev/null 2>"$tmp/err"
	echo "exit $?: $(cat "$tmp/err")"
}
msg=$(conf_error "$KA" 640)
check "a key file the group may read is refused, naming line, file and mode ($msg)" \
	'case $msg in "exit 2: "*"feedcache.conf:5: fleet_key: '"'$tmp/bad.key'"': group or others may read it (mode 0640)"*) ;; *) false ;; esac'
msg=$(conf_error "$KA" 602)
check "a key file others may write is refused ($msg)" \
	'case $msg in "exit 2: "*"others may write it (mode 0602)"*) ;; *) false ;; esac'
msg=$(conf_error "short-key" 600)
check "a short key is refused ($msg)" \
	'case $msg in "exit 2: "*"bad.key'"'"': line 1: the key is 9 characters, it must be 32 to 256"*) ;; *) false ;; esac'
msg=$(conf_error "$(printf '%s\n%s\n%s' "$KA" "$KB" "$KA")" 600)
check "three keys are refused ($msg)" \
	'case $msg in "exit 2: "*"line 3: a third key"*) ;; *) false ;; esac'
msg=$(conf_error - 600)
check "a missing key file is named ($msg)" \
	'case $msg in "exit 2: "*"bad.key'"'"': No such file or directory"*) ;; *) false ;; esac'
# The packaged daemon reads the key as its own user: a key file only root
# may read (mode 0600, owned by root) passes check-config run by root and
# fails the service. Its message says whose read failed and what to do.
if [ "$(id -u)" = 0 ]; then
	pub=$(mktemp -d)
	chmod 755 "$pub"
	(umask 077 && printf '%s\n' "$KA" >"$pub/root.key")
	sed "s|^fleet_key = .*|fleet_key = $pub/root.key|" "$tmp/n1/feedcache.conf" >"$pub/feedcache.conf"
	chmod 644 "$pub/feedcache.conf"
	msg=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$FC" -c "$pub/feedcache.conf" check-config 2>&1 >/dev/null)
	rc=$?
	rm -rf "$pub"
	check "a key only root may read, checked as another user: whose read failed and the fix (exit $rc: $msg)" \
		'[ $rc = 2 ] && case $msg in *"root.key'"'"': Permission denied: user "*" cannot read it; chown it to the user feedcache runs as"*) ;; *) false ;; esac'
fi
grep -v '^fleet_key' "$tmp/n1/feedcache.conf" >"$tmp/nokey.conf"
"$FC" -c "$tmp/nokey.conf" check-config >/dev/null 2>"$tmp/err"
rc=$?
check "fleet mode without fleet_key is refused (exit $rc: $(cat "$tmp/err"))" \
	'[ $rc = 2 ] && grep -q "nokey.conf: fleet_key: fleet mode (redis =) needs fleet_key = PATH" "$tmp/err"'
finish
