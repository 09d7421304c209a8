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
cleanup_more() { purge; }

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
