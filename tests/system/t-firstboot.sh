# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run. The first boot of an image with no SSH
# host keys, entropyd serving in the same container: entropy-seed fetches
# a seed over verified TLS, credits the pool, and only then does
# ssh.service make the host keys. The container stays up for the cases
# run sources after this one.
mkdir -p "$run_dir/etc/entropyd"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$run_dir/etc/entropyd/key.pem" -out "$run_dir/etc/entropyd/cert.pem" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
	2>"$LOG/openssl.txt"
chmod 600 "$run_dir/etc/entropyd/key.pem"
# The seed server of this test, as entropyd.service's comment says, and
# its client (t-upgrade.sh writes them again after a purge).
seed_confs() {
	cat >"$run_dir/etc/entropyd.conf" <<-'CONF'
		[entropyd]
		listen = 127.0.0.1:42443
		tls_cert = /etc/entropyd/cert.pem
		tls_key = /run/credentials/entropyd.service/key.pem
		allow = 127.0.0.0/8
		rate = 100/s
		burst = 100
	CONF
	cat >"$run_dir/etc/entropy-seed.conf" <<-'CONF'
		[entropy-seed]
		servers = https://localhost:42443/
		ca_file = /etc/entropyd/cert.pem
	CONF
}
seed_confs
# The server is on this machine: start it first (on a real fleet it is
# elsewhere and already up).
mkdir -p "$run_dir/etc/systemd/system/entropy-seed.service.d"
cat >"$run_dir/etc/systemd/system/entropy-seed.service.d/server-here.conf" <<'UNIT'
[Unit]
Wants=entropyd.service
After=entropyd.service
UNIT
ct_systemctl_offline enable entropyd.service entropy-seed.service

if booted firstboot; then
	journal entropy-seed.service >"$LOG/firstboot-seed.txt"
	comment <"$LOG/firstboot-seed.txt"
	check "first boot: entropy-seed seeds from entropyd and credits the pool" \
		'[ "$(prop entropy-seed.service Result)" = success ] &&
		 grep -q "seeded 64 bytes from https://localhost:42443/: RNDADDENTROPY, credited" \
			"$LOG/firstboot-seed.txt"'
	ct systemd-analyze critical-chain ssh.service >"$LOG/critical-chain.txt" 2>&1
	comment <"$LOG/critical-chain.txt"
	check "first boot: entropy-seed.service is on ssh.service's critical chain" \
		'grep -q "entropy-seed.service" "$LOG/critical-chain.txt"'
	# The journal's own clock: the seed line before ssh-keygen's.
	ct journalctl -b -q -o short-monotonic -u entropy-seed.service -u ssh.service \
		>"$LOG/firstboot-order.txt"
	seeded=$(awk -F'[][]' '/seeded 64 bytes/ { print $2 + 0; exit }' "$LOG/firstboot-order.txt")
	keygen=$(awk -F'[][]' '/generating new host keys/ { print $2 + 0; exit }' "$LOG/firstboot-order.txt")
	echo "# first boot: seeded at ${seeded:-?} s, host keys made at ${keygen:-?} s (journal, monotonic)"
	check "first boot: host keys made after the pool was seeded, and ssh runs" \
		'[ -n "$seeded" ] && [ -n "$keygen" ] &&
		 awk "BEGIN { exit !($seeded < $keygen) }" &&
		 [ "$(prop ssh.service ActiveState)" = active ] &&
		 [ -s "$run_dir/etc/ssh/ssh_host_ed25519_key" ]'
fi
