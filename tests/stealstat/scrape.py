#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Scrapes stealstat monitor's /metrics (or reads its textfile) and checks
it with the Prometheus client library's own text parser (Debian's
python3-prometheus-client).

    scrape.py URL|FILE NCPU [PREVIOUS.json]   prints the counters as JSON

Exits 1, saying why, if the text does not parse, a family is missing or
of the wrong type, a CPU is missing, the verdict gauge is not exactly
one 1, or a counter went down since PREVIOUS.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

src, ncpu = sys.argv[1], int(sys.argv[2])
if src.startswith("http"):
    with urllib.request.urlopen(src, timeout=10) as r:
        ctype = r.headers["Content-Type"]
        text = r.read().decode()
    if not ctype.startswith("text/plain; version=0.0.4"):
        sys.exit("Content-Type %s" % ctype)
else:
    with open(src) as f:
        text = f.read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
want = {"stealstat_steal_seconds": "counter",
        "stealstat_wanted_seconds": "counter",
        "stealstat_cpu_seconds": "counter",
        "stealstat_verdict_seconds": "counter",
        "stealstat_dropped_intervals": "counter",
        "stealstat_verdict": "gauge"}
for name, kind in want.items():
    if name not in fams:
        sys.exit("missing family %s in:\n%s" % (name, text))
    if fams[name].type != kind:
        sys.exit("%s is a %s, not a %s" % (name, fams[name].type, kind))
counters = {}
for name in ("stealstat_steal_seconds", "stealstat_wanted_seconds",
             "stealstat_cpu_seconds"):
    cpus = {s.labels["cpu"]: s.value for s in fams[name].samples}
    if len(cpus) != ncpu:
        sys.exit("%s has %d CPUs, expected %d" % (name, len(cpus), ncpu))
    for cpu, v in cpus.items():
        counters["%s{%s}" % (name, cpu)] = v
for s in fams["stealstat_verdict_seconds"].samples:
    counters["verdict_seconds{%s}" % s.labels["verdict"]] = s.value
ones = [s.labels["verdict"] for s in fams["stealstat_verdict"].samples
        if s.value == 1]
if len(ones) != 1:
    sys.exit("verdict gauge: %d verdicts at 1" % len(ones))
for cpu in range(ncpu):
    w = counters["stealstat_wanted_seconds{%d}" % cpu]
    t = counters["stealstat_cpu_seconds{%d}" % cpu]
    s = counters["stealstat_steal_seconds{%d}" % cpu]
    if not s <= w <= t:
        sys.exit("cpu%d: steal %g <= wanted %g <= total %g fails" %
                 (cpu, s, w, t))
if len(sys.argv) > 3:
    with open(sys.argv[3]) as f:
        before = json.load(f)
    for k, v in before.items():
        if counters.get(k, -1) < v:
            sys.exit("%s went down: %g to %g" % (k, v, counters.get(k)))
print(json.dumps(counters))
