#!/bin/sh
# SPDX-License-Identifier: ISC
# make deb's packages, as an operator meets them: built with
# dpkg-buildpackage from a copy of the source, lintian without errors,
# installed with dpkg -i (system users made, nothing enabled), each
# program run from the package, units verified, installed again over
# themselves, removed (configuration kept), then purged with nothing
# left behind. Needs root (dpkg -i): skipped (77) otherwise, and also
# when any of the packages is already installed: a test must not touch
# an operator's own installation.
#
#	sh t-deb.sh SOURCE_DIR BUILD_DIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
PKGS="stealstat feedcache entropyd entropy-seed"
if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: installing packages needs root"
	exit 77
fi
for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || {
		echo "# SKIP: $t missing (scripts/deps check installs it)"
		exit 77
	}
done
for p in $PKGS; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
		grep -qv '^not-installed$'; then
		echo "# SKIP: $p is installed on this machine; not touching it"
		exit 77
	fi
done
purge() { dpkg --purge $PKGS >"$tmp/purge.log" 2>&1; }
web=fcweb$$
cleanup_more() {
	userdel "$web" 2>/dev/null
	purge
}

"$SRC/scripts/deb" "$tmp/deb" >"$tmp/deb.out" 2>&1
rc=$?
check "make deb's script: dpkg-buildpackage -us -uc -b (exit $rc)" '[ $rc = 0 ]' ||
	sed 's/^/# /' "$tmp/deb.out"
debs=
for p in $PKGS; do
	debs="$debs $(ls "$tmp"/deb/${p}_*.deb 2>/dev/null)"
done
check "one package per program:$(for d in $debs; do printf ' %s' "${d##*/}"; done)" \
	'[ $(echo $debs | wc -w) = 4 ]'

lintian --fail-on error --tag-display-limit 0 $debs >"$tmp/lintian" 2>&1
rc=$?
sed 's/^/# lintian: /' "$tmp/lintian"
check "lintian reports no errors (exit $rc)" \
	'[ $rc = 0 ] && ! grep -q "^E: " "$tmp/lintian"'

dpkg -i $debs >"$tmp/install.log" 2>&1
rc=$?
check "dpkg -i (exit $rc)" '[ $rc = 0 ]' || tail -20 "$tmp/install.log" | sed 's/^/# /'
check "system users made for the services" \
	'getent passwd feedcache >/dev/null && getent passwd entropyd >/dev/null'
conffiles() {
	for p in feedcache entropyd entropy-seed; do
		dpkg-query -W -f='${Conffiles}' "$p" | grep -q " /etc/$p.conf " ||
			return 1
	done
}
check "the configurations are conffiles" conffiles
check "feedcache.conf (it may hold API keys) is root:feedcache 0640" \
	'[ "$(stat -c %U:%G:%a /etc/feedcache.conf)" = root:feedcache:640 ]'

check "nothing enabled" \
	'! ls /etc/systemd/system/*.wants/ 2>/dev/null | grep -qE "^(stealstat|feedcache|entropyd|entropy-seed)"'
exercise /usr/bin /usr/sbin

# A web application as packaged (feedcache(1), THE PACKAGED LAYOUT): a
# user in feedcache-readers runs "feedcache get" against the installed
# layout, filled by the installed binary as the feedcache user, and
# cannot read the configuration's API key.
check "the readers' group exists, feedcache is in it" \
	'getent group feedcache-readers | grep -q "[:,]feedcache\(,\|$\)"'
python3 "$SRC/tests/feedcache/origin.py" --port 0 --port-file "$tmp/port2" \
	>/dev/null 2>&1 &
origin_pid=$!
i=0
while [ ! -s "$tmp/port2" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
base=http://127.0.0.1:$(cat "$tmp/port2")
curl -s -o /dev/null -X POST "$base/_ctl/set?path=/pk.xml&body=%3Crss%3Epackaged%3C%2Frss%3E"
chmod 755 "$tmp"
printf '[feedcache]\ngroup = feedcache-readers\n[feed pk]\nurl = %s/pk.xml\nvalidate = xml\nheader = X-Api-Key: pk-secret\n' \
	"$base" >"$tmp/pk.conf"
chgrp feedcache "$tmp/pk.conf"
chmod 640 "$tmp/pk.conf"
install -d -o feedcache -g feedcache -m 755 /var/cache/feedcache
runuser -u feedcache -- /usr/bin/feedcache -c "$tmp/pk.conf" refresh 2>"$tmp/pk.err"
check "the service user fills the cache ($(cat "$tmp/pk.err"))" '[ -s /var/cache/feedcache/pk ]'
useradd -M -N -g feedcache-readers -d /nonexistent -s /usr/sbin/nologin "$web"
out=$(runuser -u "$web" -- /usr/bin/feedcache get pk --max-age 5m 2>&1)
check "a user in feedcache-readers: feedcache get pk ($out)" '[ "$out" = "<rss>packaged</rss>" ]'
out=$(runuser -u "$web" -- /usr/bin/feedcache get pk --meta 2>&1)
check "... and its metadata ($out)" 'echo "$out" | grep -q "\"checked\": *[0-9]"'
check "... but not the configuration" \
	'! runuser -u "$web" -- cat /etc/feedcache.conf "$tmp/pk.conf" >/dev/null 2>&1'
kill "$origin_pid"
wait "$origin_pid" 2>/dev/null
origin_pid=
rm -f /var/cache/feedcache/pk /var/cache/feedcache/.pk.*
for u in stealstat.service feedcache.service feedcache-refresh.service \
	feedcache-refresh.timer entropyd.service entropy-seed.service; do
	systemd-analyze verify "/lib/systemd/system/$u" >"$tmp/verify" 2>&1
	rc=$?
	check "systemd-analyze verify the installed $u" \
		'[ $rc = 0 ] && [ ! -s "$tmp/verify" ]' || sed 's/^/# /' "$tmp/verify"
done

echo "# my setting" >>/etc/feedcache.conf
dpkg -i $debs >"$tmp/reinstall.log" 2>&1
rc=$?
check "installed again over itself (exit $rc), the edited configuration kept" \
	'[ $rc = 0 ] && grep -q "^# my setting" /etc/feedcache.conf &&
	 [ "$(stat -c %G:%a /etc/feedcache.conf)" = feedcache:640 ]' ||
	tail -20 "$tmp/reinstall.log" | sed 's/^/# /'

for p in $PKGS; do
	dpkg-query -L "$p" | grep -v '^/\.$' >"$tmp/files.$p"
done
dpkg -r $PKGS >"$tmp/remove.log" 2>&1
rc=$?
check "dpkg -r (exit $rc): programs gone, configurations kept" \
	'[ $rc = 0 ] && [ ! -e /usr/bin/feedcache ] && [ -f /etc/feedcache.conf ]'
purge
rc=$?
check "dpkg --purge (exit $rc)" '[ $rc = 0 ]'
left=
for p in $PKGS; do
	while read -r f; do
		[ -f "$f" ] && left="$left $f"
	done <"$tmp/files.$p"
done
check "nothing left behind: files${left:+ (left:$left)}" '[ -z "$left" ]'
check "nothing left behind: configurations, the cache, the statoverride" \
	'[ ! -e /etc/feedcache.conf ] && [ ! -e /var/cache/feedcache ] &&
	 ! dpkg-statoverride --list /etc/feedcache.conf >/dev/null'
# The system users stay, as Debian's do: files an operator gave them
# (entropyd's tokens file) must not fall to a later user reusing the id.
check "the system users stay after purge (Debian practice)" \
	'getent passwd feedcache >/dev/null && getent passwd entropyd >/dev/null'
finish
