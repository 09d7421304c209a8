# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run, last: packaging in the booted system. The
# image's packages are purged; the tree's packages installed with dpkg -i
# start nothing; the daemons configured and enabled; an upgrade to the
# same tree with a bumped version restarts the enabled units, which keep
# serving; a purge then leaves nothing behind but the system users.
units="stealstat.service feedcache.service feedcache-refresh.service feedcache-refresh.timer entropyd.service entropy-seed.service"
for d in deb1 deb2; do
	mkdir -p "$run_dir/var/tmp/$d"
	cp "$WORK/$d.use/"*.deb "$run_dir/var/tmp/$d/"
done
ct systemctl disable --now stealstat.service >/dev/null 2>&1
ct systemctl reset-failed >/dev/null 2>&1
ct dpkg --purge $PKGS >"$LOG/purge0.txt" 2>&1 ||
	not_ok "dpkg --purge of the image's packages (exit $?)"

ct sh -c 'dpkg -i /var/tmp/deb1/*.deb' >"$LOG/install.txt" 2>&1
rc=$?
states=$(for u in $units; do printf ' %s' "$(prop $u ActiveState)"; done)
check "dpkg -i in a booted system (exit $rc) starts nothing:$states" \
	'[ $rc = 0 ] && [ "$states" = " inactive inactive inactive inactive inactive inactive" ]' ||
	tail -5 "$LOG/install.txt" | comment
ct systemctl --failed --no-legend >"$LOG/failed-install.txt" 2>&1
check "no failed unit after installing" '[ ! -s "$LOG/failed-install.txt" ]' ||
	comment <"$LOG/failed-install.txt"
enabled=$(ct systemctl is-enabled $units 2>&1 | sort -u | tr '\n' ' ')
check "nothing enabled ($enabled)" '[ "$enabled" = "disabled " ] || [ "$enabled" = "disabled static " ]'

# Configure and enable as an operator would.
seed_confs
feedcache_conf
ct systemctl enable --now entropyd.service feedcache.service >/dev/null 2>&1
origin 'set?path=/news.xml&body=%3Crss%3Ethree%3C%2Frss%3E' >/dev/null
wait_for 15 '[ "$(cached news)" = "<rss>three</rss>" ]'
inv_ed=$(prop entropyd.service InvocationID)
inv_fc=$(prop feedcache.service InvocationID)

ct sh -c 'dpkg -i /var/tmp/deb2/*.deb' >"$LOG/upgrade.txt" 2>&1
rc=$?
ver=$(ct dpkg-query -W -f='${Version}' feedcache)
check "upgrade to $ver with dpkg -i (exit $rc)" '[ $rc = 0 ] && [ "$ver" = "$v2" ]' ||
	tail -5 "$LOG/upgrade.txt" | comment
check "the enabled units were restarted by the upgrade and are still enabled" \
	'[ "$(prop entropyd.service InvocationID)" != "$inv_ed" ] &&
	 [ "$(prop feedcache.service InvocationID)" != "$inv_fc" ] &&
	 [ "$(prop entropyd.service ActiveState)" = active ] &&
	 [ "$(prop feedcache.service ActiveState)" = active ] &&
	 [ "$(ct systemctl is-enabled entropyd.service feedcache.service | sort -u)" = enabled ]'
origin 'set?path=/news.xml&body=%3Crss%3Efour%3C%2Frss%3E' >/dev/null
wait_for 15 '[ "$(cached news)" = "<rss>four</rss>" ]'
dry=$(ct entropy-seed --dry-run -c /etc/entropy-seed.conf 2>&1)
check "after the upgrade both still serve (a new feed body fetched, a seed served)" \
	'[ "$(cached news)" = "<rss>four</rss>" ] && echo "$dry" | grep -q "TLS verified"'

for p in $PKGS; do
	ct dpkg-query -L "$p" | grep -v '^/\.$' >"$LOG/files.$p"
done
ct dpkg --purge $PKGS >"$LOG/purge.txt" 2>&1
rc=$?
check "dpkg --purge (exit $rc)" '[ $rc = 0 ]' || tail -5 "$LOG/purge.txt" | comment
# What the test itself put there, as an operator would have, goes too.
rm -rf "$run_dir/etc/entropyd" "$run_dir/etc/systemd/system/entropy-seed.service.d"
left=
for p in $PKGS; do
	while read -r f; do
		[ -f "$run_dir$f" ] && left="$left $f"
	done <"$LOG/files.$p"
done
for f in /etc/feedcache.conf /etc/entropyd.conf /etc/entropy-seed.conf \
	/var/cache/feedcache /var/lib/stealstat /var/lib/private/stealstat \
	/var/lib/prometheus/node-exporter/stealstat.prom; do
	[ -e "$run_dir$f" ] && left="$left $f"
done
left="$left $(cd "$run_dir" && ls -d etc/systemd/system/*/stealstat* \
	etc/systemd/system/*/feedcache* etc/systemd/system/*/entropy* \
	var/lib/systemd/deb-systemd-helper-*/*/stealstat* \
	var/lib/systemd/deb-systemd-helper-*/*/feedcache* \
	var/lib/systemd/deb-systemd-helper-*/*/entropy* \
	var/lib/systemd/deb-systemd-helper-*/stealstat* \
	var/lib/systemd/deb-systemd-helper-*/feedcache* \
	var/lib/systemd/deb-systemd-helper-*/entropy* 2>/dev/null | tr '\n' ' ')"
left=$(echo $left)
check "purge leaves nothing behind${left:+ (left: $left)}" '[ -z "$left" ]'
running=$(ct sh -c 'cat /proc/[0-9]*/comm' 2>/dev/null |
	grep -xE 'feedcache|entropyd|stealstat' | tr '\n' ' ')
check "no daemon left running${running:+ ($running)}" '[ -z "$running" ]'
check "the system users stay (Debian practice)" \
	'ct getent passwd feedcache >/dev/null && ct getent passwd entropyd >/dev/null'
