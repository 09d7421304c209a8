#!/bin/sh
# SPDX-License-Identifier: ISC
# make install's tree: installed into a DESTDIR, every file where an
# operator looks for it, each program run from there, an existing
# configuration never overwritten, every unit verified by systemd and the
# long-running services' exposure scores at most 2.0, the completions
# working.
#
#	sh t-install.sh SOURCE_DIR BUILD_DIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
root=$tmp/root
# Not the configured prefix: the units get theirs at install time.
prefix=/opt/tenantkit
rel=${prefix#/}
install_tree() {
	DESTDIR=$root cmake --install "$BUILD" --prefix "$prefix" \
		>"$tmp/install.log" 2>&1
}
install_tree
rc=$?
check "cmake --install into a DESTDIR (exit $rc)" '[ $rc = 0 ]'
missing=
for f in $rel/bin/stealstat $rel/bin/feedcache $rel/sbin/entropyd \
	$rel/sbin/entropy-seed $rel/share/man/man1/stealstat.1 \
	$rel/share/man/man1/feedcache.1 $rel/share/man/man5/feedcache.conf.5 \
	$rel/share/man/man8/entropyd.8 $rel/share/man/man5/entropyd.conf.5 \
	$rel/share/man/man8/entropy-seed.8 $rel/share/man/man5/entropy-seed.conf.5 \
	etc/feedcache.conf etc/entropyd.conf etc/entropy-seed.conf \
	$rel/lib/systemd/system/stealstat.service \
	$rel/lib/systemd/system/feedcache.service \
	$rel/lib/systemd/system/feedcache-refresh.service \
	$rel/lib/systemd/system/feedcache-refresh.timer \
	$rel/lib/systemd/system/entropyd.service \
	$rel/lib/systemd/system/entropy-seed.service \
	$rel/lib/sysusers.d/feedcache.conf $rel/lib/sysusers.d/entropyd.conf \
	$rel/share/bash-completion/completions/stealstat \
	$rel/share/bash-completion/completions/feedcache \
	$rel/share/bash-completion/completions/entropyd \
	$rel/share/bash-completion/completions/entropy-seed; do
	[ -f "$root/$f" ] || missing="$missing $f"
done
check "binaries, man pages, configurations, units, sysusers, completions${missing:+ (missing:$missing)}" \
	'[ -z "$missing" ]'
check "the units name the programs under the prefix given at install" \
	'grep -qx "ExecStart=$prefix/bin/feedcache -c /etc/feedcache.conf daemon" "$root/$rel/lib/systemd/system/feedcache.service" &&
	 grep -q "^ExecStart=$prefix/sbin/entropyd " "$root/$rel/lib/systemd/system/entropyd.service"'

check "feedcache.conf (it may hold API keys) is installed mode 0640, as packaged" \
	'[ "$(stat -c %a "$root/etc/feedcache.conf")" = 640 ]'
echo "# my own setting" >>"$root/etc/feedcache.conf"
cp "$root/etc/feedcache.conf" "$tmp/mine"
install_tree
check "installing again keeps an existing configuration" \
	'cmp -s "$tmp/mine" "$root/etc/feedcache.conf" && grep -q "Keeping: .*/etc/feedcache.conf" "$tmp/install.log"'

exercise "$root/$rel/bin" "$root/$rel/sbin"

# systemd-analyze verify wants the programs where the units say: a copy
# of each unit pointing into the DESTDIR, and man(1) looking there too.
mkdir "$tmp/units"
for u in "$root/$rel"/lib/systemd/system/*; do
	sed "s|=$prefix/|=$root$prefix/|" "$u" >"$tmp/units/${u##*/}"
done
for u in "$tmp"/units/*; do
	MANPATH=$root/$rel/share/man systemd-analyze verify "$u" >"$tmp/verify" 2>&1
	rc=$?
	check "systemd-analyze verify ${u##*/} (exit $rc)" \
		'[ $rc = 0 ] && [ ! -s "$tmp/verify" ]' ||
		sed 's/^/# /' "$tmp/verify"
done
for s in feedcache entropyd stealstat entropy-seed; do
	score=$(systemd-analyze security --offline=yes \
		"$root/$rel/lib/systemd/system/$s.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# $s.service exposure: ${score:-?}"
	case $s in
	feedcache | entropyd)
		check "$s.service exposure ${score:-?} is at most 2.0" \
			'[ -n "$score" ] && awk -v s="$score" "BEGIN { exit !(s <= 2.0) }"'
		;;
	esac
done

# The completions, through bash-completion as a shell would load them.
comp=/usr/share/bash-completion/bash_completion
if [ -r "$comp" ]; then
	printf '[feed news]\nurl = http://x/\n[feed weather]\nurl = http://y/\n' >"$tmp/c.conf"
	out=$(bash -c '. "$1"
		complete_line() { # complete_line FUNCTION WORDS...: what TAB offers
			f=$1
			shift
			COMP_WORDS=("$@")
			COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"
			COMP_POINT=${#COMP_LINE}
			COMPREPLY=()
			$f
			echo "${COMPREPLY[*]}"
		}
		for p in feedcache stealstat entropy-seed; do
			. "$2/share/bash-completion/completions/$p"
		done
		complete_line _feedcache feedcache -c "$3" get ""
		complete_line _feedcache feedcache --config="$3" status w
		complete_line _stealstat stealstat pro
		complete_line _entropy_seed entropy-seed --dry
		complete_line _entropy_seed entropy-seed -v image-check --f' sh "$comp" "$root/$rel" "$tmp/c.conf" 2>&1)
	check "completions: feed names, subcommands, options ($(echo $out))" \
		'echo "$out" | grep -q "news weather" && echo "$out" | grep -qx weather &&
	 echo "$out" | grep -qx probe && echo "$out" | grep -qx -- --dry-run &&
	 echo "$out" | grep -qx -- --fix'
else
	not_ok "bash-completion is not installed (scripts/deps check installs it)"
fi
finish
