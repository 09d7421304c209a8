#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""fleet.py: a fleet of entropy-seed instances booting against one
entropyd, each instance from the address it would have in a cloud
subnet, in network namespaces this script makes and removes.

    fleet.py ENTROPY_SEED ENTROPYD boot-storm CLIENTS ADDRESSES TOKENS SPREAD_S
    fleet.py ENTROPY_SEED ENTROPYD neighbours
    fleet.py ENTROPY_SEED ENTROPYD slowloris HALF_OPEN

One namespace holds entropyd on a bridge (10.215.0.1 and fd15::1); each
client address is a namespace of its own on that bridge: IPv4 addresses
10.215.1.N/16 and IPv6 /128s inside the one /64 fd15::/64, alternately.
Instances that share an address run in its namespace. entropyd runs with
the shipped defaults (only where to listen, what to trust and who may
ask are set), the clients with entropy-seed's (a 10 s deadline) and
--dry-run, so the kernel pool is not touched.

boot-storm: CLIENTS instances over ADDRESSES addresses and TOKENS group
tokens start within SPREAD_S seconds; prints "seeded N of M" and the
p50/p99 time to seed, exits 0 if all were seeded.

neighbours: on one address, 40 instances with one group token boot at
once while a neighbour there floods (no token: 403s; another token: 429s)
and a stranger outside allow connects in a loop; all 40 must be seeded.

slowloris: HALF_OPEN connections that never finish a handshake from the
honest client's own address, and as many from an address outside allow;
the honest client is still seeded, the connections from outside are
closed at accept, and the others are evicted or timed out.

Exit 77 (skip) with a reason when namespaces cannot be made. Every
namespace, process and file is removed on the way out, also on failure.
"""
import hashlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TAG = "tk%d" % (os.getpid() % 100000)
SRV = TAG + "s"
SRV4, SRV6 = "10.215.0.1", "fd15::1"
PORT, APORT = 42443, 9423
namespaces = []
procs = []
tmp = tempfile.mkdtemp(prefix="entropyd-fleet.")
os.chmod(tmp, 0o755)


def sh(*cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def cleanup():
    open(os.path.join(tmp, "stop"), "w").close()
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for ns in reversed(namespaces):
        sh("ip", "netns", "del", ns, check=False)
    subprocess.run(["rm", "-rf", tmp])


def skip(why):
    print("# SKIP: " + why)
    cleanup()
    sys.exit(77)


def client_addr(j):
    """The address of client namespace j: IPv4 or an IPv6 /128."""
    if j % 2 == 0:
        return "10.215.1.%d" % (j // 2 + 1), 4
    return "fd15::1:%x" % (j // 2 + 1), 6


def make_network(naddrs, outsiders=0):
    """The server namespace and naddrs client namespaces (plus outsiders
    whose addresses are outside allow: 10.216.0.N). Returns the list of
    (namespace, address) of clients, then of outsiders."""
    if sh("ip", "netns", "add", SRV, check=False).returncode != 0:
        skip("cannot make a network namespace (ip netns add)")
    namespaces.append(SRV)
    sh("ip", "-n", SRV, "link", "set", "lo", "up")
    sh("ip", "-n", SRV, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", SRV, "link", "set", "br0", "up")
    sh("ip", "-n", SRV, "addr", "add", SRV4 + "/16", "dev", "br0")
    sh("ip", "-n", SRV, "addr", "add", "10.216.255.254/16", "dev", "br0")
    sh("ip", "-n", SRV, "addr", "add", SRV6 + "/64", "dev", "br0", "nodad")
    out = []
    for j in range(naddrs + outsiders):
        ns = "%sc%d" % (TAG, j)
        sh("ip", "netns", "add", ns)
        namespaces.append(ns)
        a, b = "%sa%d" % (TAG, j), "%sb%d" % (TAG, j)
        sh("ip", "link", "add", a, "netns", ns, "type", "veth", "peer",
           "name", b, "netns", SRV)
        sh("ip", "-n", SRV, "link", "set", b, "master", "br0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", a, "name", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        if j < naddrs:
            addr, fam = client_addr(j)
        else:
            addr, fam = "10.216.0.%d" % (j - naddrs + 1), 4
        if fam == 4:
            sh("ip", "-n", ns, "addr", "add", addr + "/16", "dev", "eth0")
            if j >= naddrs:
                sh("ip", "-n", ns, "route", "add", SRV4, "dev", "eth0")
        else:
            sh("ip", "-n", ns, "addr", "add", addr + "/64", "dev", "eth0",
               "nodad")
        out.append((ns, addr, fam))
    # IPv6 on a fresh bridge needs its ports forwarding; wait until every
    # IPv6 client reaches the server (bounded).
    for ns, addr, fam in out:
        if fam != 6:
            continue
        for _ in range(50):
            if sh("ip", "netns", "exec", ns, "ping", "-6", "-c1", "-W1",
                  SRV6, check=False).returncode == 0:
                break
            time.sleep(0.1)
    return out


def openssl(*args):
    sh("openssl", *args)


def make_pki():
    ca, key = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "ca.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
            key)
    openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=fleet-ca",
            "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", ca)
    skey = os.path.join(tmp, "server.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
            skey)
    os.chmod(skey, 0o600)
    csr = os.path.join(tmp, "server.csr")
    openssl("req", "-new", "-key", skey, "-subj", "/CN=seed", "-out", csr)
    ext = os.path.join(tmp, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:%s,IP:%s\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n" % (SRV4, SRV6))
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key,
            "-set_serial", "7", "-days", "2", "-extfile", ext, "-out",
            os.path.join(tmp, "server.pem"))


def make_tokens(n):
    tokens = {}
    with open(os.path.join(tmp, "tokens"), "w") as f:
        for i in range(n):
            t = os.urandom(32).hex()
            name = "group-%d" % i
            tokens[name] = t
            f.write("%s:%s\n" % (name, hashlib.sha256(t.encode()).hexdigest()))
            with open(os.path.join(tmp, name + ".token"), "w") as g:
                g.write(t + "\n")
            os.chmod(os.path.join(tmp, name + ".token"), 0o600)
    os.chmod(os.path.join(tmp, "tokens"), 0o644)
    return tokens


def start_entropyd(entropyd):
    """entropyd with the shipped defaults for every limit."""
    conf = os.path.join(tmp, "entropyd.conf")
    with open(conf, "w") as f:
        f.write("[entropyd]\nlisten = %s:%d, [%s]:%d\n"
                "admin_listen = 127.0.0.1:%d\n"
                "tls_cert = %s/server.pem\ntls_key = %s/server.key\n"
                "allow = 10.215.0.0/16, fd15::/64\n"
                "tokens_file = %s/tokens\nuser = nobody\n"
                % (SRV4, PORT, SRV6, PORT, APORT, tmp, tmp, tmp))
    os.chmod(conf, 0o644)
    log = open(os.path.join(tmp, "entropyd.log"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", SRV, entropyd, "-c", conf],
                         stdout=log, stderr=log)
    procs.append(p)
    for _ in range(100):
        with open(os.path.join(tmp, "entropyd.log")) as f:
            if "serving seeds" in f.read():
                return p
        if p.poll() is not None:
            break
        time.sleep(0.1)
    with open(os.path.join(tmp, "entropyd.log")) as f:
        sys.exit("entropyd did not start: " + f.read())


# The clients' deadline: entropy-seed's default, 10 s. make check runs
# on shared machines and sanitizer builds, and gives it more with
# FLEET_DEADLINE: what it checks there is that no instance is shut out.
DEADLINE = os.environ.get("FLEET_DEADLINE", "10")
TIMEOUT = os.environ.get("FLEET_TIMEOUT", "3")


def client_conf(name, token_name, fam):
    conf = os.path.join(tmp, name + ".conf")
    host = SRV4 if fam == 4 else "[%s]" % SRV6
    with open(conf, "w") as f:
        f.write("[entropy-seed]\nservers = https://%s:%d/\n"
                "ca_file = %s/ca.pem\ndeadline = %ss\ntimeout = %ss\n"
                % (host, PORT, tmp, DEADLINE, TIMEOUT))
        if token_name:
            f.write("token_file = %s/%s.token\n" % (tmp, token_name))
    return conf


class Instance:
    def __init__(self, es, ns, conf, name):
        self.es, self.ns, self.conf, self.name = es, ns, conf, name
        self.out = os.path.join(tmp, name + ".out")
        self.p = None
        self.t0 = self.t1 = None

    def start(self):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.es, "--dry-run", "-c",
             self.conf], stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        procs.append(self.p)

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.t1 = time.monotonic()
        with open(self.out) as f:
            self.text = f.read()
        self.seeded = rc == 0 and "dry run: " in self.text
        return self.seeded


def run_instances(instances, spread_s):
    """Starts each at a random moment in spread_s and waits for all. Each
    has a waiter thread from its start, so its time to seed ends when it
    exits, not when this loop gets round to it (each is bounded by its
    own deadline; 30 s more here is a safety net)."""
    import random
    starts = sorted(((random.uniform(0, spread_s), i) for i in instances),
                    key=lambda x: x[0])
    end = time.monotonic() + spread_s + float(DEADLINE) + 30
    waiters = []
    t0 = time.monotonic()
    for at, inst in starts:
        delay = t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        inst.start()
        w = threading.Thread(
            target=inst.wait, args=(max(1, end - time.monotonic()),))
        w.start()
        waiters.append(w)
    for w in waiters:
        w.join()


def metric(name):
    r = sh("ip", "netns", "exec", SRV, "curl", "-s",
           "http://127.0.0.1:%d/metrics" % APORT, check=False)
    m = re.search("^%s (\\d+)$" % re.escape(name), r.stdout, re.M)
    return int(m.group(1)) if m else -1


def report(instances, what):
    seeded = [i for i in instances if i.seeded]
    times = sorted(i.t1 - i.t0 for i in seeded)
    retried = sum(1 for i in instances if "retrying in" in i.text)
    line = "%s: seeded %d of %d" % (what, len(seeded), len(instances))
    if times:
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        line += ", time to seed p50 %.2f s, p99 %.2f s" % (
            statistics.median(times), p99)
    line += ", %d retried at least once" % retried
    print(line)
    for i in instances:
        if not i.seeded:
            print("# not seeded: %s:\n# %s" % (i.name,
                  i.text.strip().replace("\n", "\n# ")))
            break
    return len(seeded) == len(instances)


def boot_storm(es, ed, clients, naddrs, ntokens, spread):
    net = make_network(naddrs)
    make_pki()
    tokens = make_tokens(ntokens)
    start_entropyd(ed)
    names = sorted(tokens)
    instances = []
    for k in range(clients):
        ns, addr, fam = net[k % naddrs]
        tok = names[k % ntokens]
        name = "i%d" % k
        instances.append(Instance(es, ns, client_conf(name, tok, fam), name))
    run_instances(instances, spread)
    ok = report(instances, "boot storm of %d instances from %d addresses "
                "with %d tokens in %g s" % (clients, naddrs, ntokens, spread))
    print("# refusals: too_many_connections %d, rate_limited %d" % (
        metric('entropyd_refusals_total{reason="too_many_connections"}'),
        metric('entropyd_refusals_total{reason="rate_limited"}')))
    return ok


FLOOD = r'''
import os, socket, ssl, sys, time
host, port, ca, token, stopfile = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)
hdr = "Authorization: Bearer %s\r\n" % token if token != "-" else ""
req = ("GET /?challenge=%s HTTP/1.1\r\nHost: seed\r\n%s\r\n"
       % ("ab" * 32, hdr)).encode()
counts = {}
end = time.monotonic() + 60
while not os.path.exists(stopfile) and time.monotonic() < end:
    try:
        raw = socket.create_connection((host, int(port)), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname=host)
        f = s.makefile("rb")
        for _ in range(200):
            s.sendall(req)
            status = f.readline().split()[1].decode()
            length = 0
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split()[1])
            f.read(length)
            counts[status] = counts.get(status, 0) + 1
            print(" ".join("%s=%d" % kv for kv in sorted(counts.items())),
                  flush=True)
            if status == "403" or os.path.exists(stopfile):
                break
        s.close()
    except (OSError, IndexError, ValueError):
        counts["closed"] = counts.get("closed", 0) + 1
        time.sleep(0.01)
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())), flush=True)
'''


def start_flood(ns, fam, token, name):
    """A neighbour asking as fast as it can over keep-alive; its counts
    by status go to name.out, one line per answer."""
    host = SRV4 if fam == 4 else SRV6
    out = open(os.path.join(tmp, name + ".out"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", FLOOD,
                          host, str(PORT), tmp + "/ca.pem", token or "-",
                          os.path.join(tmp, "stop")], stdout=out,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def flood_counts(name):
    with open(os.path.join(tmp, name + ".out")) as f:
        lines = f.read().splitlines()
    last = lines[-1] if lines else ""
    return dict(kv.split("=") for kv in last.split() if "=" in kv)


def neighbours(es, ed):
    net = make_network(1, outsiders=1)
    make_pki()
    tokens = make_tokens(2)
    start_entropyd(ed)
    (ns, addr, fam), (out_ns, _, _) = net
    floods = [start_flood(ns, fam, None, "anonymous"),
              start_flood(ns, fam, tokens["group-1"], "group-1"),
              start_flood(out_ns, 4, tokens["group-0"], "outsider")]
    # Until the neighbours have been refused, as they will be (bounded).
    for _ in range(300):
        if int(flood_counts("anonymous").get("403", 0)) >= 3 and \
                int(flood_counts("group-1").get("429", 0)) >= 1:
            break
        time.sleep(0.1)
    instances = [Instance(es, ns, client_conf("n%d" % k, "group-0", fam),
                          "n%d" % k) for k in range(40)]
    run_instances(instances, 0)
    open(os.path.join(tmp, "stop"), "w").close()
    for p in floods:
        p.wait(timeout=30)
    ok = report(instances, "40 instances on one address with one token, "
                "beside a flooding neighbour")
    counts = {n: flood_counts(n) for n in ("anonymous", "group-1",
                                           "outsider")}
    print("# neighbours: %s" % counts)
    print("# shunned at accept: %d" % metric(
        'entropyd_refusals_total{reason="shunned"}'))
    if int(counts["group-1"].get("429", 0)) == 0:
        print("# the token neighbour was never rate limited: no test")
        ok = False
    if int(counts["anonymous"].get("403", 0)) == 0:
        print("# the anonymous neighbour was never refused: no test")
        ok = False
    if int(counts["outsider"].get("200", 0)) > 0:
        print("# an address outside allow was served")
        ok = False
    return ok


def half_open(ns, fam, n, hold, report_to, key):
    """n TCP connections that send half a ClientHello and stop."""
    host = SRV4 if fam == 4 else SRV6
    code = r'''
import socket, sys, time
host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
socks, refused = [], 0
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        socks.append(s)
    except OSError:
        refused += 1
print("opened", len(socks), "refused", refused, flush=True)
end = time.monotonic() + hold
closed = 0
for s in socks:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        s.recv(1)  # an alert, or the end: the server closed it
        closed += 1
    except ConnectionResetError:
        closed += 1
    except OSError:
        pass
print("closed by the server", closed, "of", len(socks), flush=True)
'''
    r = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", code,
                        host, str(PORT), str(n), str(hold)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    report_to[key] = r.stdout.strip()


TRICKLE = r'''
import socket, ssl, sys, time
host, port, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5))
request = b"GET /?challenge=" + b"ab" * 200
end = time.monotonic() + hold
for b in request:
    if time.monotonic() > end:
        break
    try:
        s.send(bytes([b]))
        s.settimeout(0.5)
        s.recv(1)
        print("closed by the server", flush=True)
        sys.exit(0)
    except socket.timeout:
        pass
    except OSError:
        print("closed by the server", flush=True)
        sys.exit(0)
print("still open", flush=True)
'''


def trickle(ns, fam, hold, report_to):
    """One connection that finishes its handshake, then sends its
    request a byte every half second: an idle timeout would never end
    it; the absolute deadline must."""
    host = SRV4 if fam == 4 else SRV6
    r = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", TRICKLE,
                        host, str(PORT), str(hold)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    report_to["trickle"] = r.stdout.strip()


def slowloris(es, ed, n):
    net = make_network(2, outsiders=1)
    make_pki()
    make_tokens(1)
    start_entropyd(ed)
    (ns, addr, fam), (ns2, _, fam2), (out_ns, _, _) = net
    results = {}
    # Held longer than the 5 s timeout, so every one must be closed.
    attackers = [
        threading.Thread(target=half_open,
                         args=(ns, fam, n, 12, results, "same address")),
        threading.Thread(target=half_open,
                         args=(out_ns, 4, n, 12, results, "outside allow")),
        threading.Thread(target=trickle, args=(ns2, fam2, 12, results)),
    ]
    for t in attackers:
        t.start()
    time.sleep(2)  # the half-open connections are in, and over 1 s old
    held = metric("entropyd_connections")
    inst = Instance(es, ns, client_conf("honest", "group-0", fam), "honest")
    run_instances([inst], 0)
    for t in attackers:
        t.join()
    ok = report([inst], "honest client beside %d half-open connections "
                "from its own address and %d from outside allow" % (n, n))
    for k, v in sorted(results.items()):
        print("# %s: %s" % (k, v))
    refused_outside = metric(
        'entropyd_refusals_total{reason="not_in_allow"}')
    evicted = metric('entropyd_refusals_total{reason="evicted"}')
    deadline = metric('entropyd_refusals_total{reason="deadline"}')
    print("# open while held: %d; closed at accept (not in allow): %d; "
          "evicted: %d; past the deadline: %d" % (held, refused_outside,
                                                  evicted, deadline))
    if refused_outside < n:
        print("# connections from outside allow were not closed at accept")
        ok = False
    if held > 32 + 8:
        print("# more than max_per_ip (32) connections held")
        ok = False
    if evicted <= 0:
        print("# nothing evicted")
        ok = False
    if results.get("trickle") != "closed by the server" or deadline <= 0:
        print("# a trickling connection outlived the deadline")
        ok = False
    if not re.search(r"closed by the server (\d+) of \1$",
                     results.get("same address", ""), re.M):
        print("# half-open connections left open")
        ok = False
    return ok


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    es, ed, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        if mode == "boot-storm":
            ok = boot_storm(es, ed, int(sys.argv[4]), int(sys.argv[5]),
                            int(sys.argv[6]), float(sys.argv[7]))
        elif mode == "neighbours":
            ok = neighbours(es, ed)
        elif mode == "slowloris":
            ok = slowloris(es, ed, int(sys.argv[4]))
        else:
            sys.exit(__doc__)
        if not ok:
            with open(os.path.join(tmp, "entropyd.log")) as f:
                lines = f.read().splitlines()
            print("# entropyd log (last 15 lines):")
            for line in lines[-15:]:
                print("# " + line)
    finally:
        cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
