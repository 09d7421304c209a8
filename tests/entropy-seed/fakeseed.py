#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A fake seed server for the entropy-seed tests, on 127.0.0.1 only.

    fakeseed.py --port P --cert PEM --key KEY --mode MODE [--seed HEX]

It knows the seed it sends (--seed, hex), so a test can search the
client's output for it. Modes:

  good       the right answer: SHA512(challenge) and the seed
  echo       the seed, but the first line is the SHA-512 of another string
  short      the right echo and a seed one byte short
  nonhex     the right echo and a seed whose last digit is 'g'
  oversize   the right answer followed by 5000 more bytes of seed hex
  403 429 500  that status, with the right answer as the body (a server
             that leaks a seed in an error must still not be believed)
  429-2      the first request 429 with Retry-After: 2, then good
  429-60     every request 429 with Retry-After: 60
  503-1      the first request 503 with Retry-After: 1, then good
  garbage    TLS, then bytes that are not HTTP, then close
  hung       accepts TCP connections and never reads or writes

Each request is logged as "request N" (never the seed or challenge).
"""
import argparse
import hashlib
import socket
import ssl
import sys
import threading

STATUS_TEXT = {200: "OK", 403: "Forbidden", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}


def log(msg):
    print(msg, flush=True)


def read_request(conn):
    """Returns the form body of one HTTP request, or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return body.decode("latin-1")


def answer(mode, form, seed, n=1):
    """(status, body, retry_after) for mode and the request form (the
    n-th request)."""
    status, body = answer_body(mode, form, seed, n)
    if mode == "429-2" and n == 1:
        return 429, "rate limited\n", "2"
    if mode == "429-60":
        return 429, "rate limited\n", "60"
    if mode == "503-1" and n == 1:
        return 503, "no seed available yet\n", "1"
    return status, body, None


def answer_body(mode, form, seed, n):
    challenge = ""
    for field in form.split("&"):
        name, _, value = field.partition("=")
        if name == "challenge":
            challenge = value
    echo = hashlib.sha512(challenge.encode()).hexdigest()
    right = echo + "\n" + seed + "\n"
    if mode in ("good", "429-2", "429-60", "503-1"):
        return 200, right
    if mode == "echo":
        return 200, hashlib.sha512(b"not " + challenge.encode()).hexdigest() \
            + "\n" + seed + "\n"
    if mode == "short":
        return 200, echo + "\n" + seed[:-2] + "\n"
    if mode == "nonhex":
        return 200, echo + "\n" + seed[:-1] + "g\n"
    if mode == "oversize":
        return 200, right + (seed * 40)[:5000]
    if mode in ("403", "429", "500"):
        return int(mode), right
    raise ValueError(mode)


def serve_one(conn, mode, seed, n):
    try:
        if mode == "garbage":
            conn.recv(4096)
            conn.sendall(b"\x00\x01garbage, not HTTP at all\r\n\r\n\xff")
            log("connection %d: garbage sent" % n)
            return
        form = read_request(conn)
        if form is None:
            return
        log("request %d" % n)
        status, body, retry_after = answer(mode, form, seed, n)
        raw = body.encode()
        head = ("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                "Content-Length: %d\r\nConnection: close\r\n%s\r\n"
                % (status, STATUS_TEXT[status], len(raw),
                   "Retry-After: %s\r\n" % retry_after
                   if retry_after else ""))
        conn.sendall(head.encode() + raw)
    except (OSError, ssl.SSLError) as e:
        log("connection %d: %s" % (n, e))
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--seed", default="")
    a = ap.parse_args()
    if a.mode not in ("hung", "garbage") and len(a.seed) != 128:
        sys.exit("fakeseed: --seed must be 64 bytes in hex")

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", a.port))
    sock.listen(64)
    held = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    log("listening on 127.0.0.1:%d (%s)" % (a.port, a.mode))
    n = 0
    while True:
        conn, _ = sock.accept()
        n += 1
        if a.mode == "hung":
            # Accepted, and then nothing: not even a TLS handshake.
            log("connection %d held" % n)
            held.append(conn)
            continue
        conn.settimeout(10)

        def handshake_and_serve(conn=conn, n=n):
            try:
                tls = ctx.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError) as e:
                log("handshake %d: %s" % (n, e))
                conn.close()
                return
            serve_one(tls, a.mode, a.seed, n)

        threading.Thread(target=handshake_and_serve, daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
