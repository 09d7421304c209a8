#!/bin/sh
# SPDX-License-Identifier: ISC
# Files are made with the rights the operator chose and no more, and text
# from an origin is shown as text:
#  - mode refuses setuid, setgid, sticky and world-writable bits;
#  - meta files get the feed's mode;
#  - get never follows a symbolic link out of the cache directory;
#  - a lock file and a temporary file root left behind do not shut the
#    service user (here: nobody) out;
#  - running as another user than the cache directory's owner is said
#    once, naming both;
#  - control characters an origin sends (a Retry-After) never reach the
#    log, status or JSON.
# Root only (it switches to nobody); skipped otherwise.
#
#	sh t-rights.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "# SKIP: needs root and setpriv, to act as the service user"
	exit 77
fi
start_main_origin
chmod 755 "$tmp"
chmod 777 "$tmp/san"
mkdir "$tmp/cache"
chown nobody "$tmp/cache"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
conf() { # conf [EXTRA LINES]
	printf '[feedcache]\ncache_dir = %s/cache\n\n[feed f]\nurl = %s/f.xml\nvalidate = xml\n%s\n' \
		"$tmp" "$B" "${1:-}" >"$tmp/feedcache.conf"
	chmod 644 "$tmp/feedcache.conf"
}
ctl 'set?path=/f.xml&body=%3Crss%3Eone%3C%2Frss%3E'

# --- mode ----------------------------------------------------------------
for m in 4755 2644 1644 0666; do
	conf "mode = $m"
	fc status >/dev/null 2>"$tmp/err"
	rc=$?
	check "mode = $m is refused (exit $rc: $(cat "$tmp/err"))" \
		'[ $rc = 2 ] && grep -q "feedcache.conf:7: mode: " "$tmp/err"'
done
conf "mode = 0640"
as_nobody "$FC" -c "$tmp/feedcache.conf" refresh --force f 2>"$tmp/err"
check "the meta file gets the feed's mode 0640 ($(stat -c %a "$tmp/cache/.f.meta" 2>&1))" \
	'[ "$(stat -c %a "$tmp/cache/f")" = 640 ] && [ "$(stat -c %a "$tmp/cache/.f.meta")" = 640 ]'

# --- root leaves a lock file and a temporary file -------------------------
conf
rm -f "$tmp/cache/.f.lock" "$tmp/cache/.f.meta"
fc refresh --force f 2>"$tmp/root.err"
check "root, refreshing nobody's cache, says so once, naming both ($(cat "$tmp/root.err" | head -n 1))" \
	'[ "$(grep -c "belongs to nobody (uid 65534), but feedcache runs as root" "$tmp/root.err")" = 1 ]'
check "nobody, refreshing its own cache, says nothing of the kind" \
	'! grep -q "belongs to" "$tmp/err"'
ctl 'set?path=/f.xml&body=%3Crss%3Etwo%3C%2Frss%3E'
: >"$tmp/cache/.f.tmp"
chmod 600 "$tmp/cache/.f.tmp"
ls -la "$tmp/cache" | sed 's/^/# /'
as_nobody "$FC" -c "$tmp/feedcache.conf" refresh --force f 2>"$tmp/err"
rc=$?
check "nobody refreshes after root left its lock file and a 0600 temporary file (exit $rc: $(cat "$tmp/err"))" \
	'[ $rc = 0 ] && grep -q two "$tmp/cache/f" && [ "$(stat -c %U "$tmp/cache/f")" = nobody ]'

# --- get and symbolic links ------------------------------------------------
printf 'root-only secret\n' >"$tmp/secret"
mv "$tmp/cache/f" "$tmp/cache/f.real"
ln -s "$tmp/secret" "$tmp/cache/f"
fc get f >"$tmp/out" 2>"$tmp/err"
rc=$?
check "get does not follow a symbolic link out of the cache (exit $rc: $(cat "$tmp/err"))" \
	'[ $rc = 1 ] && ! grep -q secret "$tmp/out" && grep -q "not following it" "$tmp/err"'
rm "$tmp/cache/f"
mkfifo "$tmp/cache/f"
timeout 10 "$FC" -c "$tmp/feedcache.conf" get f >"$tmp/out" 2>"$tmp/err"
rc=$?
check "get on a FIFO in the cache fails at once (exit $rc)" '[ $rc = 1 ]'
rm "$tmp/cache/f"
mv "$tmp/cache/f.real" "$tmp/cache/f"

# --- control characters from the origin ---------------------------------
esc=$(printf '\033')
ctl 'set?path=/f.xml&mode=status&code=503&retry_after=%1B%5B2J%1B%5D0%3Bowned%07soon'
fc refresh --force f 2>"$tmp/err"
fc status >"$tmp/status" 2>&1
fc status --json >"$tmp/status.json" 2>&1
check "an origin's escape sequences reach neither log nor status nor JSON ($(grep 503 "$tmp/err"))" \
	'grep -q "Retry-After: \[2J\]0;ownedsoon" "$tmp/err" &&
	 ! grep -q "$esc" "$tmp/err" "$tmp/status" "$tmp/cache/.f.meta" &&
	 ! grep -q -i -e "\\\\u001b" -e "\\\\u0007" "$tmp/status.json" &&
	 grep -q "ownedsoon" "$tmp/status"'
finish
