#!/bin/sh
# SPDX-License-Identifier: ISC
# What a configuration can get wrong is said at load time, naming the
# file, the line, the key and the value, with exit status 2: a url whose
# port or IPv6 literal libcurl would refuse. A url that only libcurl
# refuses, at fetch time, is a failed refresh with libcurl's reason,
# recorded in the feed's state (never "out of memory"). A cache_dir that
# is a file stops the daemon and refresh at once, exit 1, naming it.
#
#	sh t-config.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
conf() { # conf URL [more [feed news] lines], with an empty cache
	rm -rf "$tmp/cache"
	url=$1
	shift
	printf '%s\n' '[feedcache]' "cache_dir = $tmp/cache" '' \
		'[feed news]' "url = $url" "$@" >"$tmp/feedcache.conf"
}

# --- url: a port or an IPv6 literal libcurl refuses ------------------------
for u in 'http://127.0.0.1:70000/rss.xml|port' 'http://127.0.0.1:0/rss.xml|port' \
	'http://127.0.0.1:18431x/rss.xml|port' 'http://[::1/x|]'; do
	url=${u%|*} word=${u##*|}
	conf "$url"
	fc check-config >"$tmp/out" 2>&1
	rc=$?
	check "check-config refuses $url: exit 2, FILE:LINE: url: 'VALUE': naming the $word ($(cat "$tmp/out"))" \
		'[ $rc = 2 ] && grep -qF "feedcache.conf:5: url: '"'"'$url'"'"': " "$tmp/out" &&
		 grep "feedcache.conf:5: url:" "$tmp/out" | sed "s|.*'"'"': ||" | grep -qF "$word"'
	fc refresh --force news >"$tmp/out" 2>&1
	rc=$?
	check "refresh refuses it too, exit 2 ($(cat "$tmp/out"))" \
		'[ $rc = 2 ] && grep -q "feedcache.conf:5: url:" "$tmp/out"'
done

# --- a url libcurl refuses at fetch time ------------------------------------
conf 'http://a{b/rss.xml'
fc check-config >/dev/null 2>&1
fc refresh --force news >"$tmp/out" 2>&1
rc=$?
check "refresh of a url libcurl refuses exits 1, not out of memory ($(cat "$tmp/out"))" \
	'[ $rc = 1 ] && ! grep -qi "out of memory" "$tmp/out"'
fc status --json news >"$tmp/status"
check "the failure is recorded: a failure counted, libcurl's reason ($(cat "$tmp/status"))" \
	'[ "$(jfield failures <"$tmp/status")" = 1 ] &&
	 [ "$(jfield last_result <"$tmp/status")" != none ] &&
	 [ -n "$(jfield next_due <"$tmp/status")" ] &&
	 jfield last_error <"$tmp/status" | grep -qi -e url -e host'

# --- cache_dir that cannot be a directory -----------------------------------
conf 'http://127.0.0.1:9/rss.xml'
: >"$tmp/cache"
# A bound against a daemon that keeps running, not a threshold.
timeout -k 5 60 "$FC" -c "$tmp/feedcache.conf" daemon >"$tmp/out" 2>&1
rc=$?
check "the daemon exits 1 when cache_dir is a file, naming it and why ($rc: $(cat "$tmp/out"))" \
	'[ $rc = 1 ] && grep -q "error: cache_dir $tmp/cache: Not a directory" "$tmp/out"'
timeout -k 5 60 "$FC" -c "$tmp/feedcache.conf" refresh >"$tmp/out" 2>&1
rc=$?
check "so does refresh ($rc: $(cat "$tmp/out"))" \
	'[ $rc = 1 ] && grep -q "error: cache_dir $tmp/cache: Not a directory" "$tmp/out" &&
	 [ "$(grep -c . "$tmp/out")" = 1 ]'
rm -f "$tmp/cache"

finish
