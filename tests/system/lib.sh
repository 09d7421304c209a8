# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# What the system tests share: a Debian 12 container booted with systemd
# as PID 1 (systemd-nspawn -b, loopback-only network), driven from the
# host with nsenter. tests/system/run sources it; the t-*.sh cases are
# sourced by run in turn and use:
#
#	boot DIR NAME [NSPAWN-OPTION...]  boot the root DIR; sets pid1
#	ct CMD...                         run CMD inside, as root
#	poweroff                          shut it down, wait for nspawn
#	wait_for SECONDS 'CONDITION'      poll a shell condition, bounded
#	prop UNIT PROPERTY                systemctl show -P inside
#
# Everything a case writes into the container goes through $ct_root, the
# directory nspawn booted: the container sees the same files.
set -u
# shellcheck source=../lib/tap.sh
. "$SRC/tests/lib/tap.sh"

comment() { sed 's/^/# /'; }

boot_pid=
boot_name=
pid1=
ct_root=

# boot DIR NAME [NSPAWN-OPTION...]: boots DIR in the background, its
# console in $LOG/boot-NAME.log, and waits (60 s at most) until systemd
# inside listens on its private socket. Returns 1 if it did not.
boot() {
	ct_root=$1
	boot_name=$2
	shift 2
	systemd-nspawn -b -D "$ct_root" -M "$boot_name" --register=no \
		--keep-unit --console=read-only --private-network "$@" \
		</dev/null >"$LOG/boot-$boot_name.log" 2>&1 &
	boot_pid=$!
	pid1=
	i=0
	while [ $i -lt 600 ]; do
		kill -0 "$boot_pid" 2>/dev/null || return 1
		[ -n "$pid1" ] || pid1=$(ps -o pid=,comm= --ppid "$boot_pid" |
			awk '$2 == "systemd" { print $1; exit }')
		[ -n "$pid1" ] && [ -S "/proc/$pid1/root/run/systemd/private" ] &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ct() {
	nsenter -t "$pid1" -m -u -i -n -p -C -- env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb "$@"
}

prop() { ct systemctl show -P "$2" "$1"; }

wait_for() { # wait_for SECONDS 'CONDITION'
	n=$(($1 * 5))
	while [ "$n" -gt 0 ]; do
		eval "$2" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	eval "$2"
}

# poweroff: a clean shutdown from inside; after 60 s nspawn is told to
# stop (SIGTERM, which it passes on as a shutdown request), then killed.
poweroff() {
	[ -n "$boot_pid" ] || return 0
	ct systemctl poweroff >/dev/null 2>&1
	wait_for 60 '! kill -0 "$boot_pid" 2>/dev/null' || {
		kill "$boot_pid" 2>/dev/null
		wait_for 20 '! kill -0 "$boot_pid" 2>/dev/null' ||
			kill -9 "$boot_pid" 2>/dev/null
	}
	wait "$boot_pid" 2>/dev/null
	boot_pid=
	rm -rf "/run/systemd/nspawn/propagate/$boot_name"
}

# A unit's main process as the container sees it.
main_pid() { prop "$1" MainPID; }

# The journal of this boot for UNIT, without the clock, for greps.
journal() { ct journalctl -b -q -o cat -u "$1"; }
