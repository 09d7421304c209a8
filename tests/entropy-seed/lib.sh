# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Shared by tests/entropy-seed/t-*.sh (sourced, not run): arguments,
# a private temporary directory, cleanup of exactly the processes the
# test started, an ECDSA P-256 CA and certificates, free ports, entropyd
# and the fake seed server.
#
# A test sets NAME and sources this file with "$@" still set to
# ENTROPY_SEED ENTROPYD.
set -u
ES=${1:?usage: t-$NAME.sh ENTROPY_SEED ENTROPYD}
ED=${2:?usage: t-$NAME.sh ENTROPY_SEED ENTROPYD}
HERE=$(cd "$(dirname "$0")" && pwd)
FAKE="$HERE/fakeseed.py"
for f in "$ES" "$ED"; do
	[ -x "$f" ] || { echo "not ok - $f: not executable"; exit 1; }
done
for tool in openssl python3 xxd sha256sum base64; do
	command -v $tool >/dev/null ||
	    { echo "not ok - $tool missing"; exit 1; }
done
# /tmp, not $TMPDIR: entropyd drops to nobody and must reach its files.
T=$(mktemp -d "/tmp/entropy-seed-$NAME.XXXXXX") || exit 1
chmod 755 "$T"
PIDS=
# Extra cleanup a test needs (a namespace, a socket): a function name.
CLEANUP_HOOK=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -z "$CLEANUP_HOOK" ] || $CLEANUP_HOOK
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

FAILED=0
pass() { echo "ok - $*"; }
# fail WHAT [FILE...]: a not-ok line and the tail of each file; the test
# goes on, and exits 1 at the end (finish).
fail() {
	what=$1
	shift
	echo "not ok - $what"
	for f in "$@"; do
		[ -f "$f" ] && { echo "# --- $f"; tail -n 15 "$f" | sed 's/^/# /'; }
	done
	FAILED=1
}
# fatal WHAT [FILE...]: the test cannot go on.
fatal() {
	fail "$@"
	exit 1
}
finish() {
	[ $FAILED = 0 ] || { echo "# $NAME: FAILED"; exit 1; }
	echo "# $NAME: all passed"
	exit 0
}

# shellcheck source=../lib/tls.sh
. "$HERE/../lib/tls.sh"

# make_expired_cert NAME CA: a server certificate signed by CA that was
# valid for one day in 2020. OpenSSL 3.0's x509 cannot set past dates;
# "openssl ca" can.
make_expired_cert() {
	mkdir -p "$T/ca-db" && : >"$T/ca-db/index.txt" &&
	    echo 01 >"$T/ca-db/serial" || fatal "ca-db"
	cat >"$T/ca.cnf" <<EOC
[ca]
default_ca = tk
[tk]
database = $T/ca-db/index.txt
new_certs_dir = $T/ca-db
serial = $T/ca-db/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOC
	printf '%s\n' "$SERVER_EXT" >"$T/$1.ext"
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/$1.key" &&
	openssl req -new -key "$T/$1.key" -subj "/CN=127.0.0.1" \
	    -out "$T/$1.csr" &&
	openssl ca -batch -config "$T/ca.cnf" -cert "$T/$2.pem" \
	    -keyfile "$T/$2.key" -in "$T/$1.csr" -out "$T/$1.pem" \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extfile "$T/$1.ext" >/dev/null 2>&1 ||
	    fatal "make_expired_cert $1"
	chmod 600 "$T/$1.key"
}

# spki_pin NAME: the base64 SHA-256 of NAME.key's SubjectPublicKeyInfo.
spki_pin() {
	openssl pkey -in "$T/$1.key" -pubout -outform DER 2>/dev/null |
	    openssl dgst -sha256 -binary | base64
}

# wait_for FILE TEXT PID WHAT: until FILE says TEXT (10 s at most).
wait_for() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || fatal "$4 exited" "$1"
		i=$((i + 1))
		[ $i -le 100 ] || fatal "$4 did not start" "$1"
		sleep 0.1
	done
}

# entropyd_conf NAME PORT CERT EXTRA: NAME.conf for an entropyd on
# 127.0.0.1:PORT with CERT.pem and CERT.key, configuration lines EXTRA.
entropyd_conf() {
	cat >"$T/$1.conf" <<EOC
[entropyd]
listen = 127.0.0.1:$2
tls_cert = $T/$3.pem
tls_key = $T/$3.key
rate = ${RATE:-1000/s}
burst = ${BURST:-1000}
user = nobody
$4
EOC
	chmod 644 "$T/$1.conf"
}

# start_entropyd NAME PORT CERT EXTRA: entropyd_conf, and entropyd on it,
# log NAME.log.
start_entropyd() {
	entropyd_conf "$@"
	"$ED" -c "$T/$1.conf" >"$T/$1.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_for "$T/$1.log" 'serving seeds' $DPID "entropyd $1"
}

# start_fake NAME PORT MODE [SEEDHEX]: fakeseed.py on 127.0.0.1:PORT with
# server.pem (see fakeseed.py for the modes), log NAME.log.
start_fake() {
	python3 "$FAKE" --port "$2" --cert "$T/server.pem" \
	    --key "$T/server.key" --mode "$3" --seed "${4:-}" \
	    >"$T/$1.log" 2>&1 &
	FPID=$!
	PIDS="$PIDS $FPID"
	wait_for "$T/$1.log" 'listening' $FPID "fake server $1"
}

# stop PID: stops one process this test started.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# write_client NAME LINES: an entropy-seed configuration NAME.conf.
write_client() {
	printf '[entropy-seed]\n%s\n' "$2" >"$T/$1.conf"
}

# run_client NAME ARGS...: entropy-seed -c NAME.conf ARGS..., stdout and
# stderr together in NAME.out; sets RC and MS (wall time, milliseconds).
# A test that sets CLIENT_WRAP (words: "timeout 60 ip netns exec NS")
# has entropy-seed run under it.
CLIENT_WRAP=
run_client() {
	n=$1
	shift
	t0=$(date +%s%N)
	# shellcheck disable=SC2086 # CLIENT_WRAP is words
	$CLIENT_WRAP "$ES" -c "$T/$n.conf" "$@" >"$T/$n.out" 2>&1
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# has NAME TEXT: NAME.out contains TEXT (fixed string).
has() { grep -qF -- "$2" "$T/$1.out"; }

make_ca ca
make_cert server ca 127.0.0.1 "$SERVER_EXT"
