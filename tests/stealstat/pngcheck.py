#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks a PNG rendered from stealstat's SVG, with the standard library
only: its size, that it is not blank, and that it shows the colours the
picture promises (a shaded verdict period, the steal line).

    pngcheck.py FILE WIDTH HEIGHT [#rrggbb[:LEAST]...]

LEAST is how many pixels of that colour there must be (default 1).

Prints what it found; exits 1 if the image is not what it should be.
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG" % path)
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
    if depth != 8 or ctype not in (2, 6):
        sys.exit("%s: unexpected PNG type depth=%d colour=%d" %
                 (path, depth, ctype))
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    pixels = []
    for line in rows:
        for x in range(w):
            pixels.append(tuple(line[x * bpp:x * bpp + 3]))
    return w, h, pixels


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, pixels = read_png(path)
    fail = 0
    if (w, h) != (want_w, want_h):
        print("size %dx%d, expected %dx%d" % (w, h, want_w, want_h))
        fail = 1
    white = sum(1 for p in pixels if p == (255, 255, 255))
    inked = 1 - white / len(pixels)
    colours = len(set(pixels))
    print("%dx%d, %.1f%% of pixels not white, %d colours" %
          (w, h, 100 * inked, colours))
    if inked < 0.05 or colours < 8:
        print("the image is (nearly) blank")
        fail = 1
    for arg in sys.argv[4:]:
        hexcol, _, least = arg.partition(":")
        rgb = tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))
        n = sum(1 for p in pixels if p == rgb)
        print("%s: %d pixels" % (hexcol, n))
        if n < int(least or 1):
            print("%s is missing from the picture" % hexcol)
            fail = 1
    sys.exit(fail)


main()
