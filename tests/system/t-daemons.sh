# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Sourced by tests/system/run, in the booted first-boot container. Each
# daemon does its job under its unit's hardening: feedcache fetches from
# an origin in the container as the feedcache user and a PHP reader as
# www-data reads the copy, then does so in fleet mode with the
# container's Redis; entropyd serves a seed with its key handed in
# by LoadCredential=, as entropyd, with no capability left; stealstat
# records without packages we do not depend on.

# The test origin (tests/feedcache/origin.py), loopback only.
origin() { ct curl -s -X POST "http://127.0.0.1:8080/_ctl/$1"; }
ct systemd-run --quiet --unit=tk-origin -p DynamicUser=yes \
	/usr/local/bin/tk-origin --port 8080 --no-log >/dev/null 2>&1
wait_for 20 'ct curl -sf -o /dev/null http://127.0.0.1:8080/_ctl/count'
origin 'set?path=/news.xml&body=%3Crss%3Eone%3C%2Frss%3E' >/dev/null
feedcache_conf() { # the configuration these cases use, and $1 after it
	cat >"$run_dir/etc/feedcache.conf" <<-CONF
		[feedcache]
		cache_dir = /var/cache/feedcache
		group = feedcache-readers
		[feed news]
		url = http://127.0.0.1:8080/news.xml
		interval = 1s
		validate = xml
		${1:-}
	CONF
}
feedcache_conf
cached() { cat "$run_dir/var/cache/feedcache/$1" 2>/dev/null; }

ct systemctl enable --now feedcache.service >"$LOG/feedcache-start.txt" 2>&1
wait_for 20 '[ "$(cached news)" = "<rss>one</rss>" ]'
check "feedcache.service fetches a feed from the origin into /var/cache/feedcache" \
	'[ "$(cached news)" = "<rss>one</rss>" ]' ||
	journal feedcache.service | tail -20 | comment
owner=$(ct stat -c %U:%G /var/cache/feedcache/news 2>&1)
check "the copy is written by the feedcache user, for the readers' group ($owner)" \
	'[ "$owner" = feedcache:feedcache-readers ]'
# The README's way: the web server's user in the readers' group.
ct adduser --quiet www-data feedcache-readers
php_read=$(ct systemd-run --quiet --wait --pipe -p User=www-data \
	php -r 'echo file_get_contents("/var/cache/feedcache/news");' 2>&1 </dev/null)
check "a PHP reader running as www-data reads the copy ($php_read)" \
	'[ "$php_read" = "<rss>one</rss>" ]'

# Fleet mode as feedcache.conf(5) sets it up: Redis on this host, the key
# made and handed to the service user as SECURITY shows. The record in
# Redis is signed; a key only root can read stops the reload (ExecReload
# checks the file as the service user) and the daemon keeps running.
fleet_conf() {
	cat >"$run_dir/etc/feedcache.conf" <<-CONF
		[feedcache]
		cache_dir = /var/cache/feedcache
		group = feedcache-readers
		redis = redis://127.0.0.1:6379
		fleet_key = /etc/feedcache.key
		[feed news]
		url = http://127.0.0.1:8080/news.xml
		interval = 1s
		validate = xml
	CONF
}
wait_for 20 '[ "$(prop redis-server.service ActiveState)" = active ]'
ct sh -c '(umask 077; openssl rand -hex 32 >/etc/feedcache.key) &&
	chown feedcache: /etc/feedcache.key'
fleet_conf
ct systemctl restart feedcache.service >"$LOG/feedcache-fleet.txt" 2>&1
origin 'set?path=/news.xml&body=%3Crss%3Efleet%3C%2Frss%3E' >/dev/null
sig() { ct redis-cli --raw hget 'fc:{news}:meta' sig 2>/dev/null; }
wait_for 20 '[ "$(cached news)" = "<rss>fleet</rss>" ] && [ -n "$(sig)" ]'
check "fleet mode under the unit: connected to Redis, the feed fetched and its record signed ($(sig | cut -c1-16)...)" \
	'[ "$(cached news)" = "<rss>fleet</rss>" ] && [ -n "$(sig)" ] &&
	 journal feedcache.service | grep -q "fleet: .*connected as node"' ||
	journal feedcache.service | tail -10 | comment
ct chown root: /etc/feedcache.key
rc=0
ct systemctl reload feedcache.service >/dev/null 2>&1 || rc=$?
check "a key only root can read: reload refused (exit $rc), the daemon runs on" \
	'[ $rc != 0 ] && [ "$(prop feedcache.service ActiveState)" = active ] &&
	 journal feedcache.service | grep -q "/etc/feedcache.key.*Permission denied"' ||
	journal feedcache.service | tail -5 | comment
ct rm -f /etc/feedcache.key
feedcache_conf
ct systemctl restart feedcache.service >/dev/null 2>&1
origin 'set?path=/news.xml&body=%3Crss%3Eone%3C%2Frss%3E' >/dev/null
wait_for 20 '[ "$(cached news)" = "<rss>one</rss>" ]'

# entropyd, started at boot by t-firstboot's enable.
ed_pid=$(main_pid entropyd.service)
status_line() { ct awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status"; }
ed_uid=$(status_line "$ed_pid" Uid)
check "entropyd.service runs as the entropyd user (uid ${ed_uid:-?})" \
	'[ "$(prop entropyd.service ActiveState)" = active ] &&
	 [ "$ed_uid" = "$(ct id -u entropyd)" ]'
caps="Eff $(status_line "$ed_pid" CapEff) Prm $(status_line "$ed_pid" CapPrm) Amb $(status_line "$ed_pid" CapAmb)"
echo "# entropyd capabilities: $caps"
check "entropyd keeps no capability (listen port above 1024)" \
	'[ "$caps" = "Eff 0000000000000000 Prm 0000000000000000 Amb 0000000000000000" ]'
dry=$(ct entropy-seed --dry-run -c /etc/entropy-seed.conf 2>&1)
check "entropyd serves a seed with its key from LoadCredential= ($dry)" \
	'echo "$dry" | grep -q "dry run: 64 bytes from https://localhost:42443/ (TLS verified)" &&
	 ct test -s /run/credentials/entropyd.service/key.pem &&
	 [ "$(ct stat -c %U:%a /etc/entropyd/key.pem)" = root:600 ]'

# stealstat: whatever its unit records, in a system without
# prometheus-node-exporter (only suggested).
ct systemctl enable --now stealstat.service >"$LOG/stealstat-start.txt" 2>&1
stealstat_wrote() {
	ct sh -c 'ls /var/lib/private/stealstat/*' \
		>/dev/null 2>&1
}
wait_for 40 'stealstat_wrote || [ "$(prop stealstat.service ActiveState)" = failed ]'
check "stealstat.service runs and records without prometheus-node-exporter ($(prop stealstat.service ActiveState), $(prop stealstat.service Result))" \
	'! ct dpkg -s prometheus-node-exporter >/dev/null 2>&1 &&
	 [ "$(prop stealstat.service ActiveState)" = active ] && stealstat_wrote'
[ "$(prop stealstat.service ActiveState)" = active ] ||
	journal stealstat.service | tail -5 | comment
