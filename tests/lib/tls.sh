# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Ports and certificates for the tests that talk TLS on loopback
# (tests/entropyd, tests/entropy-seed). Sourced by their lib.sh after
# $T (the test's directory) and fatal (report and end the test) exist.

# A port free on both 127.0.0.1 and ::1.
free_port() {
	python3 -c '
import socket
for _ in range(100):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6)
        s6.bind(("::1", port))
    except OSError:
        continue
    print(port)
    break
'
}

# make_ca NAME: a self-signed ECDSA P-256 CA in NAME.key, NAME.pem.
make_ca() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/$1.key" &&
	openssl req -x509 -new -key "$T/$1.key" -subj "/CN=$1" -days 2 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$T/$1.pem" 2>/dev/null || fatal "make_ca $1"
	chmod 600 "$T/$1.key"
}

# Extensions for make_cert: a server on 127.0.0.1 and ::1, a client.
SERVER_EXT='subjectAltName=IP:127.0.0.1,IP:::1
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth'
CLIENT_EXT='basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth'

# make_cert NAME CA CN EXTENSIONS: NAME.key, NAME.pem signed by CA.
make_cert() {
	printf '%s\n' "$4" >"$T/$1.ext"
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/$1.key" &&
	openssl req -new -key "$T/$1.key" -subj "/CN=$3" -out "$T/$1.csr" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" \
	    -set_serial "0x$(head -c 8 /dev/urandom | xxd -p)" -days 2 \
	    -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null ||
	    fatal "make_cert $1"
	chmod 600 "$T/$1.key"
}
