# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run after t-daemons.sh (feedcache, entropyd and
# the origin running). The failure paths an operator meets: a reload with
# a broken configuration, a start with one, a stop during a transfer, a
# daemon killed.

# reload_broken UNIT CONF: the reload must fail, say why, and leave the
# running daemon (same process) serving.
reload_broken() {
	unit=$1
	cp "$run_dir/etc/$2" "$LOG/$2.good"
	echo "bogus_key = 1" >>"$run_dir/etc/$2"
	pid_before=$(main_pid "$unit")
	since=$(ct date '+%Y-%m-%d %H:%M:%S')
	ct systemctl reload "$unit" >"$LOG/reload-$unit.txt" 2>&1
	rc=$?
	sleep 1
	ct journalctl -q -o cat -u "$unit" --since "$since" >>"$LOG/reload-$unit.txt"
	comment <"$LOG/reload-$unit.txt"
	check "$unit: reload with a broken configuration fails (exit $rc) and says why" \
		'[ $rc != 0 ] && grep -q bogus_key "$LOG/reload-$unit.txt"'
	check "$unit: the running daemon is kept" \
		'[ "$(prop "$unit" ActiveState)" = active ] && [ "$(main_pid "$unit")" = "$pid_before" ]'
	cat "$LOG/$2.good" >"$run_dir/etc/$2"
}

reload_broken entropyd.service entropyd.conf
dry=$(ct entropy-seed --dry-run -c /etc/entropy-seed.conf 2>&1)
check "entropyd: the old configuration keeps serving seeds" \
	'echo "$dry" | grep -q "TLS verified"'
ct systemctl reload entropyd.service >/dev/null 2>&1
rc=$?
check "entropyd: reload with the good configuration succeeds (exit $rc)" '[ $rc = 0 ]'

reload_broken feedcache.service feedcache.conf
origin 'set?path=/news.xml&body=%3Crss%3Etwo%3C%2Frss%3E' >/dev/null
wait_for 15 '[ "$(cached news)" = "<rss>two</rss>" ]'
check "feedcache: the old configuration keeps fetching (the feed's new body arrives)" \
	'[ "$(cached news)" = "<rss>two</rss>" ]'
ct systemctl reload feedcache.service >/dev/null 2>&1
rc=$?
check "feedcache: reload with the good configuration succeeds (exit $rc)" '[ $rc = 0 ]'

# A broken configuration at start: exit 2, failed once, never restarted.
for u in entropyd feedcache; do
	ct systemctl stop $u.service
	cp "$run_dir/etc/$u.conf" "$LOG/$u.conf.good"
	echo "bogus_key = 1" >>"$run_dir/etc/$u.conf"
	ct systemctl start $u.service >/dev/null 2>&1
	eval "start_rc_$u=$?"
done
# Past RestartSec=5s: a restart loop would have begun.
sleep 7
for u in entropyd feedcache; do
	eval "rc=\$start_rc_$u"
	st="$(prop $u.service ActiveState) $(prop $u.service ExecMainStatus) $(prop $u.service NRestarts)"
	check "$u: a broken configuration at start: systemctl start fails (exit $rc), the daemon exits 2, no restart (state, status, restarts: $st)" \
		'[ $rc != 0 ] && [ "$st" = "failed 2 0" ]' ||
		journal $u.service | tail -5 | comment
	cat "$LOG/$u.conf.good" >"$run_dir/etc/$u.conf"
	ct systemctl reset-failed $u.service
	ct systemctl start $u.service
done

# Stop during a transfer the origin never finishes.
origin 'set?path=/slow.xml&mode=hang' >/dev/null
feedcache_conf '[feed slow]
url = http://127.0.0.1:8080/slow.xml
interval = 1s
timeout = 60s'
ct systemctl restart feedcache.service
in_flight() { [ "$(ct curl -s 'http://127.0.0.1:8080/_ctl/count?path=/slow.xml')" -ge 1 ] 2>/dev/null; }
wait_for 15 in_flight
t0=$(date +%s%N)
ct systemctl stop feedcache.service
took=$((($(date +%s%N) - t0) / 1000000))
echo "# feedcache: stopped in $took ms with a transfer in flight"
check "feedcache: stop with a transfer in flight ends by itself, not by systemd's timeout ($(prop feedcache.service Result))" \
	'in_flight && [ "$(prop feedcache.service Result)" = success ] &&
	 [ "$(prop feedcache.service ExecMainStatus)" = 0 ]'
origin 'release' >/dev/null
feedcache_conf
ct systemctl start feedcache.service
wait_for 15 '[ "$(cached news)" = "<rss>two</rss>" ]'

# Killed: restarted, nothing lost.
for u in feedcache entropyd; do
	n0=$(prop $u.service NRestarts)
	before=$(cached news | sha256sum)
	ct systemctl kill -s KILL $u.service
	wait_for 20 '[ "$(prop $u.service NRestarts)" -gt "$n0" ] &&
		[ "$(prop $u.service ActiveState)" = active ]'
	check "$u: killed with SIGKILL, restarted ($(prop $u.service NRestarts) restart)" \
		'[ "$(prop $u.service NRestarts)" = $((n0 + 1)) ] &&
		 [ "$(prop $u.service ActiveState)" = active ]'
	[ $u = feedcache ] && check "feedcache: the cached copy is intact after the kill" \
		'[ "$(cached news | sha256sum)" = "$before" ] &&
		 [ "$(ct feedcache -c /etc/feedcache.conf get news)" = "<rss>two</rss>" ]'
done
dry=$(ct entropy-seed --dry-run -c /etc/entropy-seed.conf 2>&1)
check "entropyd: serving again after the restart" 'echo "$dry" | grep -q "TLS verified"'
