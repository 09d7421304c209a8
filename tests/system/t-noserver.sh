# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run. A first boot (no SSH host keys) where no
# seed server answers: every server accepts the connection and then says
# nothing (a socket unit whose service never accepts). entropy-seed gives
# up at its deadline, exits 0, and ssh starts after it and makes its keys.
cat >"$run_dir/etc/entropy-seed.conf" <<'CONF'
[entropy-seed]
servers = https://127.0.0.1:42441/, https://127.0.0.1:42442/, https://127.0.0.1:42444/
timeout = 2s
deadline = 3s
CONF
cat >"$run_dir/etc/systemd/system/tk-mute.socket" <<'UNIT'
[Unit]
Description=system-check: seed servers that never answer
[Socket]
ListenStream=127.0.0.1:42441
ListenStream=127.0.0.1:42442
ListenStream=127.0.0.1:42444
[Install]
WantedBy=sockets.target
UNIT
cat >"$run_dir/etc/systemd/system/tk-mute.service" <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity
UNIT
ct_systemctl_offline enable entropy-seed.service tk-mute.socket

if booted noserver; then
	res=$(prop entropy-seed.service Result):$(prop entropy-seed.service ExecMainStatus)
	journal entropy-seed.service >"$LOG/noserver-seed.txt"
	comment <"$LOG/noserver-seed.txt"
	check "no server: entropy-seed gives up at its deadline and succeeds ($res)" \
		'[ "$res" = success:0 ] &&
		 grep -q "deadline of 3.0 s reached" "$LOG/noserver-seed.txt" &&
		 grep -q "no seed from any server" "$LOG/noserver-seed.txt"'
	t0=$(prop entropy-seed.service ExecMainStartTimestampMonotonic)
	t1=$(prop entropy-seed.service ExecMainExitTimestampMonotonic)
	limit=$(prop entropy-seed.service TimeoutStartUSec)
	took=$(((t1 - t0) / 1000))
	echo "# no server: entropy-seed held the boot for $took ms (deadline 3 s, unit timeout $limit)"
	check "no server: the boot waited for the deadline and no longer than the unit allows" \
		'[ $took -ge 3000 ] && [ $took -lt 30000 ]'
	ssh_start=$(prop ssh.service InactiveExitTimestampMonotonic)
	seed_end=$(prop entropy-seed.service InactiveEnterTimestampMonotonic)
	check "no server: ssh still starts, after entropy-seed ($(prop ssh.service ActiveState))" \
		'[ "$(prop ssh.service ActiveState)" = active ] && [ "$ssh_start" -ge "$seed_end" ] &&
		 ls "$run_dir"/etc/ssh/ssh_host_ed25519_key >/dev/null'
fi
