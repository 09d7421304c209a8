#!/bin/sh
# SPDX-License-Identifier: ISC
# Web applications read the cache: the PHP, Python 3 and Node.js readers of
# tests/feedcache/readers/ (the snippets of feedcache(1) EXAMPLES) run as
# an unprivileged user in the configured readers' group (group =), who may
# not read the configuration, against a daemon and a real origin on
# 127.0.0.1: while the origin is up, while it hangs and while it is down,
# each prints the copy and its "as of" time, at once. A reader's stale
# copy makes the daemon refresh (through CACHE_DIR/.requests); the reader
# reads neither the API key nor the URL's password anywhere.
# Also, with no daemon: the first reader of a feed with no copy starts its
# fetch (exit 1 at once), the next one gets the copy.
# Root only (it creates a throwaway user and group), else skipped.
#
#	sh t-readers.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
readers=$(cd "$(dirname "$0")/readers" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: needs root to create a throwaway user and group"
	exit 77
fi
for t in php node /usr/bin/python3 runuser useradd groupadd; do
	command -v $t >/dev/null || {
		echo "# SKIP: $t missing (scripts/deps check installs it)"
		exit 77
	}
done
user=fcr$$
group=fcrg$$
daemon_pid=
pid_vars="$pid_vars daemon_pid"
cleanup_more() {
	userdel "$user" 2>/dev/null
	groupdel "$group" 2>/dev/null
}
groupadd "$group" && useradd -M -N -g "$group" -d /nonexistent \
	-s /usr/sbin/nologin "$user" || {
	echo "not ok - cannot create the throwaway user $user"
	exit 1
}
# The user needs to reach the binary, the readers and $tmp; sanitizer
# logs of its processes go to $tmp/san too.
chmod 755 "$tmp"
# The readers' user may not be able to reach the source or build tree (a
# clone under /root, mode 0700): it gets copies of the snippets and binary.
cp -R "$readers" "$tmp/readers"
chmod -R a+rX "$tmp/readers"
readers=$tmp/readers
mkdir "$tmp/bin"
cp "$FC" "$tmp/bin/feedcache.bin"
chmod 755 "$tmp/bin/feedcache.bin"
FC_BIN=$tmp/bin/feedcache.bin
chmod 1777 "$tmp/san"
as_reader() { runuser -u "$user" -- env -i PATH="$tmp/bin:/usr/bin:/bin" \
	ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" "$@"; }

start_main_origin
P=$(cat "$tmp/port")
cat >"$tmp/feedcache.conf" <<EOF
[feedcache]
cache_dir = $tmp/cache
group = $group

[feed news]
url = http://reader:pw-in-url@127.0.0.1:$P/news.xml
interval = 1h
timeout = 3s
validate = xml
header = X-Api-Key: key-in-header
EOF
chmod 600 "$tmp/feedcache.conf"
# The documented way, with the test's cache directory: "feedcache" on
# PATH is the build, told where the cache is.
printf '#!/bin/sh\nexec %s --cache-dir %s/cache "$@"\n' "$FC_BIN" "$tmp" >"$tmp/bin/feedcache"
chmod 755 "$tmp/bin/feedcache"

printf '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>first news</title></channel></rss>\n' >"$tmp/A"
C -o /dev/null -X POST --data-binary @"$tmp/A" "$B/_ctl/set?path=/news.xml&mode=normal"

check "the reader may not read the configuration" \
	'! as_reader cat "$tmp/feedcache.conf" >/dev/null 2>&1'
"$FC" -c "$tmp/feedcache.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
until_true 30 '[ -s "$tmp/cache/news" ] && [ -p "$tmp/cache/.requests" ]'
check "the daemon fetched the copy" 'cmp -s "$tmp/cache/news" "$tmp/A"'
g=$(stat -c %G "$tmp/cache/.news.meta" "$tmp/cache/.requests" | sort -u)
check "the meta file and the request FIFO belong to the readers' group ($g)" \
	'[ "$g" = "$group" ]'

# as_of: what the readers must print, from the meta file.
as_of() {
	t=$(sed -n 's/^checked //p' "$tmp/cache/.news.meta")
	echo "as of $(date -u -d "@$t" '+%Y-%m-%d %H:%M:%S') UTC"
}
# run_readers PHASE: each reader exits 0 with the copy and its "as of".
run_readers() {
	want=$(as_of)
	for r in php:reader.php node:reader.js /usr/bin/python3:reader.py; do
		lang=${r%%:*}
		file=${r#*:}
		as_reader "$lang" "$readers/$file" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		head -n -1 "$tmp/out" >"$tmp/body"
		check "$1: ${lang##*/} reader served (rc $rc, $(tail -n 1 "$tmp/out"); $(head -c 200 "$tmp/err"))" \
			'[ $rc = 0 ] && cmp -s "$tmp/body" "$tmp/A" && [ "$(tail -n 1 "$tmp/out")" = "$want" ]'
	done
}
run_readers "origin up"

# Hanging: the copy is made an hour old (as if the readers came back
# later); the readers still get it at once, and ask the daemon, whose
# request hangs.
ctl 'set?path=/news.xml&mode=hang'
sed -i "s/^checked .*/checked $(($(date +%s) - 3600))/" "$tmp/cache/.news.meta"
n0=$(count /news.xml)
run_readers "origin hanging"
check "a stale copy: the readers asked, the daemon sent one request" \
	'until_true 20 "[ \$(count /news.xml) -gt $n0 ]"'

# Down: nothing listens on the port any more.
kill "$origin_pid"
wait "$origin_pid" 2>/dev/null
origin_pid=
run_readers "origin down"

# Secrets stay with the daemon: nothing the reader can read holds them.
as_reader sh -c "cat '$tmp'/cache/.news.meta '$tmp'/cache/news; feedcache get news --meta" >"$tmp/seen" 2>&1
check "the reader sees neither the header's key nor the URL's password" \
	'! grep -q -e key-in-header -e pw-in-url "$tmp/seen"'
kill "$daemon_pid"
wait "$daemon_pid"
daemon_pid=

# --- readers bootstrap: no daemon, no timer, no copy --------------------------
rm -f "$tmp/port"
start_main_origin
cat >"$tmp/boot.conf" <<EOF
[feedcache]
cache_dir = $tmp/boot

[feed first]
url = $B/first.xml
validate = xml
EOF
C -o /dev/null -X POST --data-binary @"$tmp/A" "$B/_ctl/set?path=/first.xml&mode=normal"
"$FC" -c "$tmp/boot.conf" get first --max-age 5m >"$tmp/out" 2>"$tmp/err"
rc=$?
check "the first reader, no copy yet: exit 1 with a message ($(cat "$tmp/err"))" \
	'[ $rc = 1 ] && [ ! -s "$tmp/out" ] && grep -q "refresh has been started" "$tmp/err"'
check "... and the copy arrives without a daemon" \
	'until_true 20 "cmp -s \"$tmp/boot/first\" \"$tmp/A\""'
"$FC" -c "$tmp/boot.conf" get first --max-age 5m >"$tmp/out" 2>"$tmp/err"
check "the next reader gets it; one request in all ($(count /first.xml))" \
	'cmp -s "$tmp/out" "$tmp/A" && [ "$(count /first.xml)" = 1 ]'
finish
