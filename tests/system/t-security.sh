# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run with the daemons running. The hardening as
# systemd applies it: systemd-analyze security on the loaded units at or
# under 2.0, and, inside each daemon's own mount namespace, no write
# outside the paths its unit allows (even as root there).
for u in feedcache entropyd stealstat entropy-seed; do
	ct systemd-analyze security --no-pager $u.service >"$LOG/security-$u.txt" 2>&1
	score=$(grep -o "exposure level for $u.service: [0-9.]*" "$LOG/security-$u.txt" |
		awk '{ print $NF }')
	echo "# systemd-analyze security $u.service ($(prop $u.service ActiveState)): ${score:-?}"
	check "$u.service: exposure ${score:-?}, at most 2.0" \
		'[ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }"' ||
		grep '^✗' "$LOG/security-$u.txt" | comment
done

# writes_in PID PATH...: the paths PID's mount namespace lets root write.
writes_in() {
	p=$1
	shift
	ct nsenter -t "$p" -m -- sh -c '
		for d; do
			if touch "$d/tk-probe" 2>/dev/null; then
				rm -f "$d/tk-probe"
				echo "$d"
			fi
		done' sh "$@"
}
outside="/etc /usr/lib /var/lib /var/log /root /srv /opt"
for u in feedcache entropyd stealstat; do
	pid=$(main_pid $u.service)
	if [ "${pid:-0}" = 0 ]; then
		not_ok "$u.service: not running, no namespace to look into"
		continue
	fi
	wrote=$(writes_in "$pid" $outside)
	check "$u.service: root in its namespace cannot write to $outside${wrote:+ (wrote: $(echo $wrote))}" \
		'[ -z "$wrote" ]'
done
pid=$(main_pid feedcache.service)
check "feedcache.service: its namespace does write its cache directory" \
	'[ "$(writes_in "$pid" /var/cache/feedcache)" = /var/cache/feedcache ]'
