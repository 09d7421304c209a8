#!/bin/sh
# SPDX-License-Identifier: ISC
# stealstat monitor --listen and --prometheus: /metrics scraped and parsed
# by the Prometheus client library's parser, counters that only grow,
# bounded connections with a deadline, and a textfile directory that
# cannot be written failing at start.
. "$(dirname "$0")/lib.sh"
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port/metrics

"$bin" monitor --no-history --interval 0.2 --listen "127.0.0.1:$port" \
	--prometheus "$tmp/stealstat.prom" 2>"$tmp/log" &
pid=$!
# Ready once a scrape shows every CPU (after the first interval).
for _ in $(seq 100); do
	/usr/bin/python3 "$here/scrape.py" "$url" "$ncpu" >"$tmp/s1" 2>/dev/null && break
	sleep 0.1
done
if /usr/bin/python3 "$here/scrape.py" "$url" "$ncpu" >"$tmp/s1" 2>"$tmp/err"; then
	ok "/metrics parses with prometheus_client: every family, $ncpu CPUs, one verdict"
else
	not_ok "/metrics: $(cat "$tmp/err")"
fi
sleep 0.5
if /usr/bin/python3 "$here/scrape.py" "$url" "$ncpu" "$tmp/s1" >"$tmp/s2" 2>"$tmp/err"; then
	ok "a later scrape: no counter went down"
else
	not_ok "second scrape: $(cat "$tmp/err")"
fi
if /usr/bin/python3 - "$tmp/s1" "$tmp/s2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if b["stealstat_cpu_seconds{0}"] > a["stealstat_cpu_seconds{0}"] else 1)
PY
then
	ok "stealstat_cpu_seconds_total grows between scrapes"
else
	not_ok "cpu seconds did not grow: $(cat "$tmp/s1") then $(cat "$tmp/s2")"
fi
if /usr/bin/python3 "$here/scrape.py" "$tmp/stealstat.prom" "$ncpu" >/dev/null 2>"$tmp/err"; then
	ok "the textfile holds the same metrics"
else
	not_ok "textfile: $(cat "$tmp/err")"
fi
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
c404=$(code "http://127.0.0.1:$port/nope")
c405=$(code -X POST "$url")
if [ "$c404" = 404 ] && [ "$c405" = 405 ]; then
	ok "other paths get 404, other methods 405"
else
	not_ok "/nope gave $c404, POST gave $c405"
fi
# Eight silent clients fill every slot: a ninth is closed at once; the
# silent ones are cut off by the deadline, and scrapes work again.
if python3 - "$port" <<'PY'; then
import socket, sys, time
port = int(sys.argv[1])
silent = [socket.create_connection(("127.0.0.1", port), timeout=30)
          for _ in range(8)]
time.sleep(0.5)
extra = socket.create_connection(("127.0.0.1", port), timeout=30)
if extra.recv(100) != b"":
    sys.exit("a ninth connection was served while eight were open")
for s in silent:
    s.settimeout(30)
    try:
        if s.recv(100) != b"":
            sys.exit("a silent client got data")
    except socket.timeout:
        sys.exit("a silent client was never cut off")
PY
	ok "a ninth client is refused; silent clients are cut off by the deadline"
else
	not_ok "connection bounds"
fi
if /usr/bin/python3 "$here/scrape.py" "$url" "$ncpu" >/dev/null 2>"$tmp/err"; then
	ok "scrapes work after the silent clients are gone"
else
	not_ok "scrape after silent clients: $(cat "$tmp/err")"
fi
# An address in use is a runtime failure (status 1), found before the
# history directory gets an empty segment.
"$bin" monitor --history "$tmp/inuse" --listen "127.0.0.1:$port" \
	--count 1 >"$tmp/inuse.log" 2>&1
st=$?
segs=$(ls "$tmp/inuse" 2>/dev/null | grep -c '\.sth$')
if [ "$st" -eq 1 ] && grep -q "127.0.0.1:$port.*in use" "$tmp/inuse.log" &&
	[ "$segs" -eq 0 ]; then
	ok "a --listen address in use fails at start, no segment: $(cat "$tmp/inuse.log")"
else
	not_ok "--listen in use: status $st, $segs segments: $(cat "$tmp/inuse.log")"
fi
kill "$pid"
wait "$pid"
st=$?
pid=
if [ "$st" -eq 0 ]; then
	ok "SIGTERM stops the monitor with status 0"
else
	not_ok "monitor exit status $st on SIGTERM: $(cat "$tmp/log")"
fi

# A textfile directory that cannot take the file fails at start.
for mode in monitor live; do
	if [ $mode = monitor ]; then
		"$bin" monitor --no-history --count 1 --interval 0.1 \
			--prometheus "$tmp/missing/x.prom" >"$tmp/tf" 2>&1
	else
		"$bin" --prometheus "$tmp/missing/x.prom" 0.1 1 >"$tmp/tf" 2>&1
	fi
	st=$?
	if [ "$st" -eq 1 ] && grep -q "missing/x.prom.*No such file or directory" "$tmp/tf" &&
		! grep -q '^[0-9:]\{8\} ' "$tmp/tf"; then
		ok "$mode: an unwritable textfile directory fails at start: $(cat "$tmp/tf")"
	else
		not_ok "$mode --prometheus into a missing directory: status $st: $(cat "$tmp/tf")"
	fi
done
# A listen address that is not one is a usage error (status 2, the
# Try line), found before the history directory is touched.
for bad in localhost:x 127.0.0.1:99999 localhost:1 127.0.0.1 '[::1]:0x'; do
	"$bin" monitor --history "$tmp/bad-hist" --listen "$bad" --count 1 \
		>"$tmp/bad" 2>&1
	st=$?
	if [ "$st" -eq 2 ] && grep -q "^stealstat: error: --listen '.*' is not ADDR:PORT" "$tmp/bad" &&
		grep -qx "Try 'stealstat monitor --help'." "$tmp/bad" &&
		! [ -e "$tmp/bad-hist" ]; then
		ok "--listen $bad is a usage error: $(head -n 1 "$tmp/bad")"
	else
		not_ok "--listen $bad: status $st, history: $(ls "$tmp/bad-hist" 2>&1): $(cat "$tmp/bad")"
	fi
	rm -rf "$tmp/bad-hist"
done
exit $fail
