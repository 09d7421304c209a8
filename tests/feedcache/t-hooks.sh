#!/bin/sh
# SPDX-License-Identifier: ISC
# on_change: a command run without a shell after a new body replaced the
# copy, never on an unchanged one, with FEEDCACHE_FEED, FEEDCACHE_PATH
# and FEEDCACHE_SHA256 and stdin on /dev/null. A failing hook is logged
# naming the feed and the command and leaves the copy alone; a slow one
# is killed with its process group after hook_timeout while the daemon's
# other feeds keep refreshing. Bad commands are configuration errors.
#
#	sh t-hooks.sh /abs/path/to/feedcache /abs/path/to/origin.py
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
daemon_pid=
pid_vars="daemon_pid $pid_vars"
start_main_origin
cat >"$tmp/hook" <<EOF
#!/bin/sh
# A hook that records what it was given.
printf '%s|%s|%s|%s|%s|%s\n' "\$FEEDCACHE_FEED" "\$FEEDCACHE_PATH" \
	"\$FEEDCACHE_SHA256" "\$1" "\$2" "\$(readlink /proc/self/fd/0)" >>"$tmp/hook.log"
EOF
cat >"$tmp/slow" <<EOF
#!/bin/sh
# A hook that never ends, with a child of its own.
sleep 300 &
echo \$! >"$tmp/slow.child"
echo started >"$tmp/slow.started"
wait
EOF
chmod 755 "$tmp/hook" "$tmp/slow"
conf() { # conf ON_CHANGE [more [feedcache] lines]
	printf '%s\n' '[feedcache]' "cache_dir = $tmp/cache" "$@" '' \
		'[feed news]' "url = $B/news.xml" 'validate = xml' \
		>"$tmp/feedcache.conf"
}
sha() { sha256sum <"$1" | cut -c1-64; }
lines() { wc -l <"$tmp/hook.log" 2>/dev/null || echo 0; }

ctl 'set?path=/news.xml&body=%3Crss%3Eone%3C%2Frss%3E'
conf "on_change = $tmp/hook 'one arg' \"two \\\"quoted\\\"\""
fc refresh news 2>"$tmp/err"
rc=$?
IFS='|' read -r feed path hash a1 a2 stdin <"$tmp/hook.log"
check "a new body runs the hook once, with the feed, the path and the hash (exit $rc)" \
	'[ $rc = 0 ] && [ "$(lines)" = 1 ] && [ "$feed" = news ] &&
	 [ "$path" = "$tmp/cache/news" ] && [ "$hash" = "$(sha "$tmp/cache/news")" ]'
check "its words split without a shell, quotes kept together ($a1 / $a2)" \
	'[ "$a1" = "one arg" ] && [ "$a2" = "two \"quoted\"" ]'
check "its stdin is /dev/null ($stdin)" '[ "$stdin" = /dev/null ]'
fc refresh --force news 2>"$tmp/err"
check "an unchanged body does not run it" '[ "$(lines)" = 1 ]'
ctl 'set?path=/news.xml&body=%3Crss%3Etwo%3C%2Frss%3E'
fc refresh --force news 2>"$tmp/err"
check "the next change runs it again" '[ "$(lines)" = 2 ] &&
	 [ "$(tail -n 1 "$tmp/hook.log" | cut -d"|" -f3)" = "$(sha "$tmp/cache/news")" ]'

# --- failures are logged and leave the copy alone ---------------------------
ctl 'set?path=/news.xml&body=%3Crss%3Ethree%3C%2Frss%3E'
conf "on_change = /bin/false"
fc refresh --force news 2>"$tmp/err"
rc=$?
check "a hook that fails is logged with the feed and the command; the copy is the new one (exit $rc)" \
	'[ $rc = 0 ] && grep -q "feed news: on_change /bin/false: exited with status 1; the copy is kept" "$tmp/err" &&
	 [ "$(cat "$tmp/cache/news")" = "<rss>three</rss>" ]' || sed 's/^/# /' "$tmp/err"
ctl 'set?path=/news.xml&body=%3Crss%3Efour%3C%2Frss%3E'
conf "on_change = $tmp/no-such-hook"
fc refresh --force news 2>"$tmp/err"
check "a hook that cannot be run is logged" \
	'grep -q "feed news: on_change $tmp/no-such-hook: cannot run it: No such file or directory" "$tmp/err" &&
	 [ "$(cat "$tmp/cache/news")" = "<rss>four</rss>" ]' || sed 's/^/# /' "$tmp/err"

# --- a slow hook is killed; the daemon's other feeds go on -------------------
ctl 'set?path=/news.xml&body=%3Crss%3Efive%3C%2Frss%3E'
ctl 'set?path=/other.xml&body=%3Crss%3Eother%3C%2Frss%3E'
conf 'hook_timeout = 3s'
printf '%s\n' "on_change = $tmp/slow" '' '[feed other]' "url = $B/other.xml" \
	'interval = 1s' 'validate = xml' >>"$tmp/feedcache.conf"
rm -rf "$tmp/cache"
"$FC" -v -c "$tmp/feedcache.conf" daemon 2>"$tmp/daemon.err" &
daemon_pid=$!
until_true 30 '[ -e "$tmp/slow.started" ]'
during=$(count /other.xml)
until_true 30 'grep -q "still running after hook_timeout" "$tmp/daemon.err"'
after=$(count /other.xml)
check "the slow hook is killed after hook_timeout, naming feed and command" \
	'grep -q "feed news: on_change $tmp/slow: still running after hook_timeout, killed; the copy is kept" "$tmp/daemon.err"'
check "meanwhile the other feed kept refreshing ($during then $after requests)" \
	'[ "$after" -gt "$during" ]'
child=$(cat "$tmp/slow.child" 2>/dev/null)
check "its process group went with it (child $child)" \
	'[ -n "$child" ] && until_true 5 "! kill -0 $child 2>/dev/null"'
check "the copy is the new one" '[ "$(cat "$tmp/cache/news")" = "<rss>five</rss>" ]'
kill "$daemon_pid"
wait "$daemon_pid"
daemon_pid=

# --- a hook that exits leaving a child: the child is bounded too ----------
cat >"$tmp/leaver" <<EOF
#!/bin/sh
# Exits at once, leaving a child in its process group; lists what its
# open descriptors are.
for f in /proc/\$\$/fd/*; do readlink "\$f"; done >"$tmp/leaver.fds"
sleep 300 >/dev/null 2>&1 &
echo \$! >"$tmp/leaver.child"
EOF
chmod 755 "$tmp/leaver"
ctl 'set?path=/news.xml&body=%3Crss%3Esix%3C%2Frss%3E'
conf 'hook_timeout = 1s' "on_change = $tmp/leaver"
fc refresh --force news 2>"$tmp/err"
child=$(cat "$tmp/leaver.child" 2>/dev/null)
check "a child the hook left behind is killed at hook_timeout, and said ($(cat "$tmp/err"))" \
	'[ -n "$child" ] && until_true 5 "! kill -0 $child 2>/dev/null" &&
	 grep -q "feed news: on_change $tmp/leaver: left processes running after hook_timeout, killed" "$tmp/err"'
check "the hook inherits no socket of feedcache's ($(tr '\n' ' ' <"$tmp/leaver.fds"))" \
	'! grep -q "^socket:" "$tmp/leaver.fds"'

# --- configuration errors -------------------------------------------------
conf_msg() { # conf_msg ON_CHANGE_LINE: check-config's exit and message
	conf "$1"
	"$FC" -c "$tmp/feedcache.conf" check-config >/dev/null 2>"$tmp/err"
	echo "exit $?: $(cat "$tmp/err")"
}
msg=$(conf_msg 'on_change = purge-news --all')
check "a relative program is refused ($msg)" \
	'case $msg in "exit 2: "*"feedcache.conf:3: on_change: "*"must be an absolute path"*) ;; *) false ;; esac'
msg=$(conf_msg 'on_change = /bin/echo "unclosed')
check "an unclosed quote is refused ($msg)" \
	'case $msg in "exit 2: "*"on_change: "*"unclosed \" quote"*) ;; *) false ;; esac'
msg=$(conf_msg 'on_change =')
check "an empty command is refused ($msg)" \
	'case $msg in "exit 2: "*"feedcache.conf:3: on_change"*) ;; *) false ;; esac'
msg=$(conf_msg "on_change = '' x")
check "an empty program name is refused ($msg)" \
	'case $msg in "exit 2: "*"must be an absolute path"*) ;; *) false ;; esac'
# A program check-config cannot find or run is worth a warning, not an
# error: the daemon may see another file system (ExecReload runs
# check-config in the unit's namespace, where it does not).
msg=$(conf_msg "on_change = $tmp/missing-hook --x")
check "a missing program: check-config warns, naming it, and passes ($msg)" \
	'case $msg in "exit 0: "*"warning: "*"on_change: '"'$tmp/missing-hook'"': No such file"*) ;; *) false ;; esac'
printf '#!/bin/sh\n' >"$tmp/not-exec"
chmod 644 "$tmp/not-exec"
msg=$(conf_msg "on_change = $tmp/not-exec")
check "a program nobody may run: a warning that says so ($msg)" \
	'case $msg in "exit 0: "*"warning: "*"not-exec'"'"': not executable"*) ;; *) false ;; esac'
msg=$(conf_msg "on_change = $tmp/hook")
check "a runnable program: no warning ($msg)" '[ "$msg" = "exit 0: " ]'
finish
