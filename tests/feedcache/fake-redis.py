#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A Redis that misbehaves, for the fleet tests: 127.0.0.1 only.

    python3 fake-redis.py MODE DIR

Listens on 127.0.0.1 (a free port, written to DIR/port), reads one
command per connection, and answers it as MODE says:

    drip   a 40-byte bulk string, one byte every 0.25 s (10 s in all);
           DIR/finished is written if the whole reply went out.
    huge   a bulk string that says it is 1 GB long, then as many bytes
           as the peer will take, up to 64 MiB; DIR/sent holds the count.

DIR/asked is written when a command has arrived. Serves connections one
after another for at most 120 s, then exits.
"""
import os
import socket
import sys
import time


def read_command(conn):
    conn.settimeout(10)
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    return True


def mark(path, text="1"):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)


def serve(conn, mode, d):
    if not read_command(conn):
        return
    mark(os.path.join(d, "asked"))
    if mode == "drip":
        reply = b"$40\r\n" + b"x" * 40 + b"\r\n"
        for i in range(len(reply)):
            conn.sendall(reply[i:i + 1])
            time.sleep(0.25)
        mark(os.path.join(d, "finished"))
    elif mode == "huge":
        conn.sendall(b"$1000000000\r\n")
        sent = 0
        block = b"y" * 65536
        conn.settimeout(5)
        try:
            while sent < 64 << 20:
                conn.sendall(block)
                sent += len(block)
                mark(os.path.join(d, "sent"), str(sent))
        except OSError:
            pass
        mark(os.path.join(d, "sent"), str(sent))


def main():
    mode, d = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    mark(os.path.join(d, "port"), str(s.getsockname()[1]))
    end = time.monotonic() + 120
    s.settimeout(1)
    while time.monotonic() < end:
        try:
            conn, _ = s.accept()
        except OSError:
            continue
        try:
            serve(conn, mode, d)
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
