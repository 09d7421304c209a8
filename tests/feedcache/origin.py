#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""feedcache test origin: a scriptable HTTP/1.1 server on 127.0.0.1 only.

Python 3 stdlib only (asyncio, hand-written HTTP/1.1 parser, keep-alive and
pipelining supported).  Used by the feedcache integration tests and benchmarks.

START
    python3 tests/feedcache/origin.py --port 0 [--port-file FILE]
        [--scale-feeds N] [--log-limit N | --no-log] [--idle-timeout S]
    Prints "PORT N" on stdout (flushed) once listening, writes N to FILE
    (atomically, via rename) when given, serves until SIGTERM/SIGINT, exits 0.
    It binds 127.0.0.1 only and never opens outgoing connections.

    --scale-feeds N   /feed/0 .. /feed/N-1 exist in normal mode with small
                      distinct RSS bodies (~400 bytes), created lazily.

CONTROL API (same port, under /_ctl/; never counted or logged)
    Parameters are URL query parameters (form-decoded: encode '&', '+', '%',
    spaces, e.g. with `curl -G --data-urlencode`).  Any method is accepted;
    POST is the convention for the ones that change state.  Replies are JSON
    (application/json) unless noted.

    POST /_ctl/set?path=P[&mode=M][&body=TEXT][&content_type=T][...]
        Define/replace the behaviour of resource path P (query string of client
        requests is ignored for matching; paths are percent-decoded).
        Content is the request body of the set call if non-empty (e.g.
        `curl --data-binary @file`), else the `body` parameter.  New content =
        new version: new strong ETag ("<sha256 prefix of body>") and a
        Last-Modified strictly newer than the previous version (versions start
        one hour in the past, so Last-Modified is normally <= Date).
        A path set without any content gets a small default RSS body.
        Content, content_type (default application/xml) persist across set
        calls; mode and all the mode parameters below are replaced each time
        (mode defaults to normal).  Extra parameters usable with any mode:
          etag=VALUE           send this ETag verbatim (e.g. W/"x"); "none"
                               or empty = send no ETag.  Reset by new content.
          last_modified=V      epoch seconds or an HTTP date; "none" = omit.
          header=Name:Value    extra response header, repeatable.
        Modes (GET and HEAD; other methods get 405):
          normal        200 + body, ETag, Last-Modified; 304 (no body) when
                        If-None-Match matches (weak comparison, "*" matches)
                        or, only when there is no If-None-Match,
                        If-Modified-Since >= Last-Modified (RFC 7232 s.6).
          no304         always 200 with the full body (same ETag/LM).
          slow          delay=SECONDS (float, default 1) then as normal.
          hang          read the request, never answer; the connection stays
                        open until release, client close, or shutdown.
          hold          count on arrival, answer (as normal) only after
                        /_ctl/release; later requests answer normally.
          drip          rate=BYTES (default 1) [interval=SECONDS, default 1]:
                        headers with the real Content-Length, then the body,
                        RATE bytes at a time, one chunk per interval (first
                        chunk right after the headers).  Honours 304.
          reset         headers (real Content-Length) + half the body, then
                        SO_LINGER 0 + close => TCP RST (curl exit 56).
          short         Content-Length = len(body) + missing (default 100),
                        send the body, close (curl exit 18).
          status        code=N (default 500) [retry_after=VERBATIM]: that
                        status, text/plain "N Reason\n", Retry-After if given.
          html          200 text/html malformed error page (unclosed <br>).
          big           size=BYTES (default 1048576): 200, Content-Length,
                        streamed XML-ish RSS filler of exactly SIZE bytes,
                        ETag "big-SIZE-vVERSION"; honours 304.
          big_chunked   same but Transfer-Encoding: chunked, no Content-Length.
          redirect      to=URL (sent verbatim as Location, e.g. file:///etc/
                        passwd) code=301|302|303|307|308 (default 302).
          dead          read the request head, then close without any reply
                        (curl exit 52).  For "close right after accept,
                        nothing read" see /_ctl/drop_next.
    GET  /_ctl/get?path=P      JSON state of P (mode, params, etag, ...).
    POST /_ctl/delete?path=P   forget P (requests get 404 again).
    POST /_ctl/touch?path=P    new content version (body + "<!-- touch N -->").
    POST /_ctl/touch?scale_every=K[&scale_offset=O]
                               new version for scale feeds i with i%K == O.
    POST /_ctl/release[?path=P]
                               wake held requests of P (all paths if none):
                               hold answers, hang closes; a path in mode
                               hold/hang becomes normal.  -> {"released": n}
    GET  /_ctl/count?path=P    text: the number of requests for P ("3\n"),
                               counted when the request head arrives, before
                               any delay/hold; unknown paths are counted too.
    GET  /_ctl/count           JSON object {path: count} of all paths.
    GET  /_ctl/wait?path=P&count=N[&timeout=S]
                               wait (default 5 s) until count(P) >= N;
                               -> {"ok": bool, "count": c}.
    GET  /_ctl/log[?path=P]    JSON list, one object per line, in arrival
                               order: seq, time (epoch float), method, path,
                               target, http_version, conn (connection id),
                               if_none_match, if_modified_since, user_agent
                               (null when absent), headers {lowercase name:
                               value}, and every header also flattened as a
                               top-level key (lowercase, '-' -> '_').
                               At most --log-limit entries per path (oldest
                               dropped, default 10000).
    POST /_ctl/reset           clear counts and logs (behaviours are kept).
    GET  /_ctl/stats           {"requests", "connections_total",
                               "connections_open"}.
    POST /_ctl/drop_next?count=N
                               the next N accepted connections are closed
                               immediately, before reading anything.
    GET  /_ctl/ping            text "ok".
Unknown paths: 404.
"""

import argparse
import asyncio
import collections
import email.utils
import functools
import hashlib
import http
import json
import os
import re
import resource as rlimit
import signal
import socket
import struct
import sys
import time
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"
SERVER = "tenantkit-origin"
REASONS = {s.value: s.phrase for s in http.HTTPStatus}
MODES = {"normal", "no304", "slow", "hang", "hold", "drip", "reset", "short",
         "status", "html", "big", "big_chunked", "redirect", "dead"}
GATED = ("hold", "hang")
MAX_HEAD = 64 * 1024
MAX_BODY = 256 * 1024 * 1024

ETAG_RE = re.compile(r'(?:W/)?"([^"]*)"')

HTML_PAGE = (
    b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    b"<h1>Bad Gateway<br>\n<p>The proxy server received an invalid response"
    b" from an upstream server.<br>\n<hr><address>Apache Server at "
    b"127.0.0.1</address>\n</body>\n"
)

BIG_HEAD = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            b"<channel><title>big</title>\n")
BIG_TAIL = b"</channel></rss>\n"
BIG_UNIT = (b"<item><title>filler</title><description>lorem ipsum dolor sit "
            b"amet consectetur adipiscing elit</description></item>\n")
BIG_BLOCK = BIG_UNIT * (65536 // len(BIG_UNIT))


def big_chunks(size):
    """Yield exactly `size` bytes of well-formed RSS-ish filler."""
    if size <= len(BIG_HEAD) + len(BIG_TAIL):
        yield (BIG_HEAD + BIG_TAIL)[:size]
        return
    yield BIG_HEAD
    n = size - len(BIG_HEAD) - len(BIG_TAIL)
    full = n - n % len(BIG_UNIT)
    while full > 0:
        c = BIG_BLOCK if full >= len(BIG_BLOCK) else BIG_BLOCK[:full]
        yield c
        full -= len(c)
    if n % len(BIG_UNIT):
        yield b" " * (n % len(BIG_UNIT) - 1) + b"\n"
    yield BIG_TAIL


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


@functools.lru_cache(maxsize=4096)
def parse_http_date(s):
    try:
        tup = email.utils.parsedate_tz(s)
        if tup is None:
            return None
        return email.utils.mktime_tz(tup)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def opaque(etag):
    m = ETAG_RE.fullmatch(etag.strip())
    return m.group(1) if m else etag


class Resource:
    __slots__ = ("path", "body", "version", "etag", "lm", "ctype", "mode",
                 "params", "extra", "gate", "touches", "scale_index",
                 "_fixed200", "_fixed304")

    def __init__(self, path, body, lm, ctype="application/xml"):
        self.path = path
        self.mode = "normal"
        self.params = {}
        self.extra = []
        self.gate = None
        self.touches = 0
        self.scale_index = None
        self.ctype = ctype
        self.version = 0
        self.lm = None
        self.set_body(body, lm)

    def set_body(self, body, lm):
        self.body = body
        self.version += 1
        self.etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
        self.lm = lm
        self.invalidate()

    def invalidate(self):
        self._fixed200 = None
        self._fixed304 = None

    def validators(self):
        h = []
        if self.etag is not None:
            h.append("ETag: %s\r\n" % self.etag)
        if self.lm is not None:
            h.append("Last-Modified: %s\r\n" % http_date(self.lm))
        for k, v in self.extra:
            h.append("%s: %s\r\n" % (k, v))
        return "".join(h)

    def fixed200(self):
        if self._fixed200 is None:
            self._fixed200 = ("Content-Type: %s\r\n%sContent-Length: %d\r\n" % (
                self.ctype, self.validators(), len(self.body))).encode()
        return self._fixed200

    def fixed304(self):
        if self._fixed304 is None:
            self._fixed304 = self.validators().encode()
        return self._fixed304

    def not_modified(self, hd, etag=None):
        """RFC 7232 section 6 evaluation for GET/HEAD."""
        etag = self.etag if etag is None else etag
        inm = hd.get("if-none-match")
        if inm is not None:
            if inm.strip() == "*":
                return True
            if not etag:
                return False
            mine = opaque(etag)
            return any(t == mine for t in ETAG_RE.findall(inm))
        ims = hd.get("if-modified-since")
        if ims is not None and self.lm is not None:
            t = parse_http_date(ims)
            if t is not None and self.lm <= t:
                return True
        return False

    def state(self):
        return {"path": self.path, "mode": self.mode, "params": self.params,
                "version": self.version, "etag": self.etag,
                "last_modified": http_date(self.lm) if self.lm is not None
                else None, "last_modified_epoch": self.lm,
                "content_type": self.ctype, "body_len": len(self.body),
                "extra_headers": ["%s: %s" % kv for kv in self.extra],
                "waiting": self.gate is not None and not self.gate.is_set()}


class BadRequest(Exception):
    pass


class Origin:
    def __init__(self, args):
        self.args = args
        self.start = int(time.time())
        self.resources = {}
        self.counts = {}
        self.logs = {}
        self.seq = 0
        self.conn_total = 0
        self.writers = set()
        self.drop_next = 0
        self.scale_n = args.scale_feeds
        self.scale_ver = [0] * self.scale_n if self.scale_n else []
        self.log_limit = args.log_limit
        self.no_log = args.no_log
        self.idle = args.idle_timeout
        self._date_sec = -1
        self._date_line = b""

    # ---- helpers ---------------------------------------------------------

    def date_line(self):
        now = int(time.time())
        if now != self._date_sec:
            self._date_sec = now
            self._date_line = ("Date: %s\r\nServer: %s\r\n" % (
                http_date(now), SERVER)).encode()
        return self._date_line

    def next_lm(self, prev):
        base = int(time.time()) - 3600
        return base if prev is None else max(prev + 1, base)

    def scale_body(self, i, v):
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            "<channel><title>Feed %d</title><link>http://127.0.0.1/feed/%d"
            "</link><description>Scale feed %d version %d</description>\n"
            "<item><title>Item %d.%d</title><guid>feed-%d-v%d</guid>"
            "<description>Lorem ipsum dolor sit amet, consectetur adipiscing"
            " elit, sed do eiusmod tempor incididunt ut labore.</description>"
            "</item>\n</channel></rss>\n" % (i, i, i, v, i, v, i, v)).encode()

    def lookup(self, path):
        res = self.resources.get(path)
        if res is None and self.scale_n and path.startswith("/feed/"):
            s = path[6:]
            if s.isdigit() and (s == "0" or s[0] != "0") and int(s) < self.scale_n:
                i = int(s)
                v = self.scale_ver[i]
                res = Resource(path, self.scale_body(i, v),
                               self.start - 3600 + v)
                res.scale_index = i
                self.resources[path] = res
        return res

    def head(self, code, hdrs=b"", keep=True, http10=False, reason=None):
        if reason is None:
            reason = REASONS.get(code, "Unknown")
        conn = b""
        if not keep:
            conn = b"Connection: close\r\n"
        elif http10:
            conn = b"Connection: keep-alive\r\n"
        return b"".join((b"HTTP/1.1 %d %s\r\n" % (code, reason.encode()),
                         self.date_line(), hdrs, conn, b"\r\n"))

    def simple(self, code, body, ctype="text/plain", keep=True, http10=False,
               extra=b"", head_only=False):
        hdrs = b"Content-Type: %s\r\nContent-Length: %d\r\n%s" % (
            ctype.encode(), len(body), extra)
        out = self.head(code, hdrs, keep, http10)
        return out if head_only else out + body

    # ---- connection handling --------------------------------------------

    async def handle(self, reader, writer):
        self.conn_total += 1
        cid = self.conn_total
        if self.drop_next > 0:
            self.drop_next -= 1
            writer.close()
            return
        self.writers.add(writer)
        loop = asyncio.get_running_loop()
        transport = writer.transport
        try:
            while True:
                timer = loop.call_later(self.idle, transport.abort)
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    writer.write(self.simple(431, b"request head too large\n",
                                             keep=False))
                    await writer.drain()
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                finally:
                    timer.cancel()
                try:
                    keep = await self.request(cid, head, reader, writer)
                except BadRequest as e:
                    writer.write(self.simple(400, ("%s\n" % e).encode(),
                                             keep=False))
                    await writer.drain()
                    break
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self.writers.discard(writer)
            if not transport.is_closing():
                transport.close()

    async def read_body(self, hd, reader, writer):
        te = hd.get("transfer-encoding")
        if te is not None:
            if te.lower().split(",")[-1].strip() != "chunked":
                raise BadRequest("unsupported transfer-encoding")
            if hd.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            parts, total = [], 0
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest("bad chunk size")
                if n == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    return b"".join(parts)
                total += n
                if total > MAX_BODY:
                    raise BadRequest("body too large")
                parts.append(await reader.readexactly(n))
                if await reader.readexactly(2) != b"\r\n":
                    raise BadRequest("bad chunk")
        cl = hd.get("content-length")
        if cl is None:
            return b""
        try:
            n = int(cl)
        except ValueError:
            raise BadRequest("bad content-length")
        if n < 0 or n > MAX_BODY:
            raise BadRequest("bad content-length")
        if n == 0:
            return b""
        if hd.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return await reader.readexactly(n)

    async def request(self, cid, head, reader, writer):
        head = head.lstrip(b"\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest("bad request line")
        method, target, version = parts
        http10 = version == "HTTP/1.0"
        hlist = []
        hd = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(b":")
            if not sep or not name or name[-1:] in (b" ", b"\t"):
                raise BadRequest("bad header line")
            name = name.decode("latin-1")
            value = value.decode("latin-1").strip(" \t")
            hlist.append((name, value))
            low = name.lower()
            hd[low] = hd[low] + ", " + value if low in hd else value
        ctok = hd.get("connection", "").lower()
        keep = ("keep-alive" in ctok) if http10 else ("close" not in ctok)

        if target.startswith("/"):
            raw, _, query = target.partition("?")
        elif "://" in target:
            u = urlsplit(target)
            raw, query = u.path or "/", u.query
        else:
            raw, query = target, ""
        path = unquote(raw) if "%" in raw else raw

        if path.startswith("/_ctl/"):
            body = await self.read_body(hd, reader, writer)
            code, ctype, payload = await self.control(
                path[6:], query, body, reader)
            writer.write(self.simple(code, payload, ctype, keep, http10,
                                     head_only=method == "HEAD"))
            await writer.drain()
            return keep

        # Count and log on arrival, before anything else can delay us.
        self.seq += 1
        self.counts[path] = self.counts.get(path, 0) + 1
        if not self.no_log:
            lg = self.logs.get(path)
            if lg is None:
                lg = self.logs[path] = collections.deque(maxlen=self.log_limit)
            lg.append((self.seq, time.time(), method, path, target, version,
                       cid, hlist))

        res = self.lookup(path)
        if res is not None and res.mode == "dead":
            return False
        await self.read_body(hd, reader, writer)
        head_only = method == "HEAD"
        if res is None:
            writer.write(self.simple(404, b"404 Not Found\n", keep=keep,
                                     http10=http10, head_only=head_only))
            await writer.drain()
            return keep
        if method not in ("GET", "HEAD"):
            writer.write(self.simple(405, b"405 Method Not Allowed\n",
                                     keep=keep, http10=http10,
                                     extra=b"Allow: GET, HEAD\r\n",
                                     head_only=head_only))
            await writer.drain()
            return keep
        return await self.respond(res, hd, keep, http10, head_only,
                                  reader, writer)

    async def wait_gate(self, res, reader, writer):
        """Wait for release; False if the client went away first."""
        gate = res.gate
        if gate is None or gate.is_set():
            return True
        t = asyncio.ensure_future(gate.wait())
        try:
            while not t.done():
                if (reader.at_eof() or reader.exception() is not None
                        or writer.transport.is_closing()):
                    return False
                await asyncio.wait((t,), timeout=0.05)
            return True
        finally:
            t.cancel()

    async def respond(self, res, hd, keep, http10, head_only, reader, writer):
        mode = res.mode
        p = res.params
        if mode == "hang":
            await self.wait_gate(res, reader, writer)
            return False
        if mode == "hold":
            if not await self.wait_gate(res, reader, writer):
                return False
        elif mode == "slow":
            await asyncio.sleep(p["delay"])

        if mode in ("normal", "hold", "slow", "no304"):
            if mode != "no304" and res.not_modified(hd):
                writer.write(self.head(304, res.fixed304(), keep, http10))
            else:
                out = self.head(200, res.fixed200(), keep, http10)
                writer.write(out if head_only else out + res.body)
            await writer.drain()
            return keep

        if mode == "drip":
            if res.not_modified(hd):
                writer.write(self.head(304, res.fixed304(), keep, http10))
                await writer.drain()
                return keep
            writer.write(self.head(200, res.fixed200(), keep, http10))
            await writer.drain()
            if not head_only:
                rate, iv, body = p["rate"], p["interval"], res.body
                for off in range(0, len(body), rate):
                    if off:
                        await asyncio.sleep(iv)
                    writer.write(body[off:off + rate])
                    await writer.drain()
            return keep

        if mode == "reset":
            writer.write(self.head(200, res.fixed200(), True, http10))
            if not head_only:
                writer.write(res.body[:len(res.body) // 2])
            await writer.drain()
            await asyncio.sleep(0.1)
            sock = writer.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False

        if mode == "short":
            hdrs = ("Content-Type: %s\r\n%sContent-Length: %d\r\n" % (
                res.ctype, res.validators(),
                len(res.body) + p["missing"])).encode()
            writer.write(self.head(200, hdrs, True, http10))
            if not head_only:
                writer.write(res.body)
            await writer.drain()
            return False

        if mode == "status":
            code = p["code"]
            extra = res.validators().encode()
            if p.get("retry_after") is not None:
                extra += ("Retry-After: %s\r\n" % p["retry_after"]).encode()
            text = ("%d %s\n" % (code, REASONS.get(code, "Unknown"))).encode()
            writer.write(self.simple(code, text, "text/plain", keep, http10,
                                     extra, head_only))
            await writer.drain()
            return keep

        if mode == "html":
            extra = "".join("%s: %s\r\n" % kv for kv in res.extra).encode()
            writer.write(self.simple(200, HTML_PAGE, "text/html", keep,
                                     http10, extra, head_only))
            await writer.drain()
            return keep

        if mode == "redirect":
            extra = ("Location: %s\r\n" % p["to"]).encode()
            extra += "".join("%s: %s\r\n" % kv for kv in res.extra).encode()
            code = p["code"]
            text = ("<html><body>%d: <a href=\"%s\">moved</a></body></html>\n"
                    % (code, p["to"])).encode()
            writer.write(self.simple(code, text, "text/html", keep, http10,
                                     extra, head_only))
            await writer.drain()
            return keep

        if mode in ("big", "big_chunked"):
            size = p["size"]
            etag = '"big-%d-v%d"' % (size, res.version)
            if res.not_modified(hd, etag):
                writer.write(self.head(304, ("ETag: %s\r\n" % etag).encode() +
                                       res.fixed304(), keep, http10))
                await writer.drain()
                return keep
            hdrs = "Content-Type: %s\r\nETag: %s\r\n" % (res.ctype, etag)
            if res.lm is not None:
                hdrs += "Last-Modified: %s\r\n" % http_date(res.lm)
            hdrs += "".join("%s: %s\r\n" % kv for kv in res.extra)
            chunked = mode == "big_chunked"
            if chunked:
                hdrs += "Transfer-Encoding: chunked\r\n"
            else:
                hdrs += "Content-Length: %d\r\n" % size
            writer.write(self.head(200, hdrs.encode(), keep, http10))
            if not head_only:
                for c in big_chunks(size):
                    if chunked:
                        writer.write(b"%x\r\n%s\r\n" % (len(c), c))
                    else:
                        writer.write(c)
                    await writer.drain()
                if chunked:
                    writer.write(b"0\r\n\r\n")
            await writer.drain()
            return keep

        raise BadRequest("internal: unknown mode %s" % mode)

    # ---- control API -----------------------------------------------------

    async def control(self, name, query, body, reader):
        q = parse_qs(query, keep_blank_values=True)

        def one(key, default=None):
            v = q.get(key)
            return v[0] if v else default

        def js(obj, code=200):
            return code, "application/json", (json.dumps(obj, sort_keys=True)
                                              + "\n").encode()

        def err(msg, code=400):
            return js({"error": msg}, code)

        path = one("path")
        try:
            if name == "ping":
                return 200, "text/plain", b"ok\n"
            if name == "set":
                if not path or not path.startswith("/") or path.startswith("/_ctl/"):
                    return err("set needs path=/something (not under /_ctl/)")
                return self.ctl_set(path, q, one, body, js, err)
            if name == "get":
                res = self.lookup(path) if path else None
                if res is None:
                    return err("no such path", 404)
                return js(res.state())
            if name == "delete":
                res = self.resources.pop(path, None) if path else None
                if res is not None and res.gate is not None:
                    res.gate.set()
                return js({"deleted": res is not None})
            if name == "touch":
                return self.ctl_touch(path, one, js, err)
            if name == "release":
                n = 0
                targets = [self.resources.get(path)] if path else list(
                    self.resources.values())
                for res in targets:
                    if res is None:
                        continue
                    if res.gate is not None and not res.gate.is_set():
                        res.gate.set()
                        n += 1
                    if res.mode in GATED:
                        res.mode = "normal"
                        res.params = {}
                return js({"released": n})
            if name == "count":
                if path is None:
                    return js(self.counts)
                return 200, "text/plain", b"%d\n" % self.counts.get(path, 0)
            if name == "wait":
                want = int(one("count", "1"))
                deadline = time.monotonic() + min(float(one("timeout", "5")), 120)
                while self.counts.get(path, 0) < want and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                c = self.counts.get(path, 0)
                return js({"ok": c >= want, "count": c})
            if name == "log":
                return 200, "application/json", self.ctl_log(path)
            if name == "reset":
                self.counts.clear()
                self.logs.clear()
                return js({"reset": True})
            if name == "stats":
                return js({"requests": self.seq,
                           "connections_total": self.conn_total,
                           "connections_open": len(self.writers)})
            if name == "drop_next":
                self.drop_next = int(one("count", "1"))
                return js({"drop_next": self.drop_next})
        except ValueError as e:
            return err("bad parameter: %s" % e)
        return err("unknown control endpoint %r" % name, 404)

    def ctl_set(self, path, q, one, body, js, err):
        mode = one("mode", "normal")
        if mode not in MODES:
            return err("unknown mode %r (known: %s)" % (mode, " ".join(sorted(MODES))))
        params = {}
        if mode == "slow":
            params["delay"] = float(one("delay", "1"))
        elif mode == "drip":
            params["rate"] = max(1, int(one("rate", "1")))
            params["interval"] = float(one("interval", "1"))
        elif mode == "short":
            params["missing"] = max(1, int(one("missing", "100")))
        elif mode == "status":
            params["code"] = int(one("code", "500"))
            if not 100 <= params["code"] <= 999:
                return err("code out of range")
            params["retry_after"] = one("retry_after")
        elif mode in ("big", "big_chunked"):
            params["size"] = int(one("size", "1048576"))
            if params["size"] < 0:
                return err("size must be >= 0")
        elif mode == "redirect":
            if one("to") is None:
                return err("redirect needs to=URL")
            params["to"] = one("to")
            params["code"] = int(one("code", "302"))
        extra = []
        for h in q.get("header", []):
            k, sep, v = h.partition(":")
            if not sep or not k.strip():
                return err("header must be Name:Value")
            extra.append((k.strip(), v.strip()))

        content = body if body else (one("body").encode() if one("body") is not None else None)
        res = self.lookup(path)
        if res is None:
            if content is None:
                content = ('<?xml version="1.0" encoding="utf-8"?>\n<rss '
                           'version="2.0"><channel><title>%s</title></channel>'
                           '</rss>\n' % path).encode()
            res = Resource(path, content, self.next_lm(None))
            self.resources[path] = res
        elif content is not None:
            res.set_body(content, self.next_lm(res.lm))
        if one("content_type"):
            res.ctype = one("content_type")
        et = one("etag")
        if et is not None:
            res.etag = None if et in ("", "none") else et
        lm = one("last_modified")
        if lm is not None:
            if lm in ("", "none"):
                res.lm = None
            elif lm.isdigit():
                res.lm = int(lm)
            else:
                t = parse_http_date(lm)
                if t is None:
                    return err("bad last_modified")
                res.lm = t
        # Leaving a gated mode (or re-setting it) wakes whoever was waiting.
        if res.gate is not None and not res.gate.is_set():
            if mode not in GATED or mode != res.mode:
                res.gate.set()
        if mode in GATED and (res.gate is None or res.gate.is_set()):
            res.gate = asyncio.Event()
        res.mode = mode
        res.params = params
        res.extra = extra
        res.invalidate()
        return js(res.state())

    def ctl_touch(self, path, one, js, err):
        if path:
            res = self.lookup(path)
            if res is None:
                return err("no such path", 404)
            res.touches += 1
            if res.scale_index is not None:
                i = res.scale_index
                self.scale_ver[i] += 1
                body = self.scale_body(i, self.scale_ver[i])
            else:
                body = res.body + b"<!-- touch %d -->\n" % res.touches
            res.set_body(body, self.next_lm(res.lm))
            return js(res.state())
        every = one("scale_every")
        if every is None:
            return err("touch needs path= or scale_every=")
        every = int(every)
        off = int(one("scale_offset", "0"))
        if every < 1:
            return err("scale_every must be >= 1")
        n = 0
        for i in range(off % every, self.scale_n, every):
            self.scale_ver[i] += 1
            n += 1
            res = self.resources.get("/feed/%d" % i)
            if res is not None and res.scale_index == i:
                res.set_body(self.scale_body(i, self.scale_ver[i]),
                             max(res.lm + 1, self.start - 3600 + self.scale_ver[i]))
        return js({"touched": n})

    def ctl_log(self, path):
        if path is not None:
            entries = list(self.logs.get(path, ()))
        else:
            entries = sorted((e for lg in self.logs.values() for e in lg),
                             key=lambda e: e[0])
        out = []
        for seq, t, method, p, target, version, cid, hlist in entries:
            hdict = {}
            for k, v in hlist:
                k = k.lower()
                hdict[k] = hdict[k] + ", " + v if k in hdict else v
            d = {}
            for k, v in hdict.items():
                d[k.replace("-", "_")] = v
            d.update({"seq": seq, "time": t, "method": method, "path": p,
                      "target": target, "http_version": version, "conn": cid,
                      "if_none_match": hdict.get("if-none-match"),
                      "if_modified_since": hdict.get("if-modified-since"),
                      "user_agent": hdict.get("user-agent"),
                      "headers": hdict})
            out.append(json.dumps(d, sort_keys=True))
        if not out:
            return b"[]\n"
        return ("[\n" + ",\n".join(out) + "\n]\n").encode()


async def amain(args):
    origin = Origin(args)
    tls = None
    if args.tls_cert:
        import ssl
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(
        origin.handle, HOST, args.port, limit=MAX_HEAD, backlog=4096,
        reuse_address=True, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    try:
        print("PORT %d" % port, flush=True)
    except (BrokenPipeError, OSError):
        pass
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for w in list(origin.writers):
        w.transport.abort()
    for res in origin.resources.values():
        if res.gate is not None:
            res.gate.set()
    await asyncio.sleep(0)


def main():
    ap = argparse.ArgumentParser(description="feedcache test origin "
                                 "(127.0.0.1 only); see the module docstring")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate "
                    "chain (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    ap.add_argument("--host", default="127.0.0.1",
                    help="a loopback address to bind (127.x.y.z only)")
    ap.add_argument("--netns", action="store_true",
                    help="--host may be any address: allowed only in a "
                    "network namespace with no interface but lo (one a test "
                    "made), so nothing can leave the machine")
    ap.add_argument("--port-file")
    ap.add_argument("--scale-feeds", type=int, default=0, metavar="N")
    ap.add_argument("--log-limit", type=int, default=10000, metavar="N",
                    help="max log entries kept per path (default 10000)")
    ap.add_argument("--no-log", action="store_true",
                    help="keep counts only, no request log (benchmarks)")
    ap.add_argument("--idle-timeout", type=float, default=300.0,
                    help="close idle keep-alive connections after S seconds")
    args = ap.parse_args()
    global HOST
    if args.netns:
        # Only where nothing can leave: a network namespace whose only
        # interface is loopback (the one a test made).
        with open("/proc/net/dev") as f:
            ifaces = [l.split(":")[0].strip() for l in f.readlines()[2:]]
        if ifaces != ["lo"]:
            ap.error("--netns: this network namespace has interfaces "
                     "other than lo (%s)" % " ".join(ifaces))
    elif not args.host.startswith("127."):
        ap.error("--host must be a loopback address (127.x.y.z)")
    HOST = args.host
    try:
        soft, hard = rlimit.getrlimit(rlimit.RLIMIT_NOFILE)
        if soft < hard:
            rlimit.setrlimit(rlimit.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    try:
        asyncio.run(amain(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
