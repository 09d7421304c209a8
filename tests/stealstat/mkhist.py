#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes the recordings the history tests turn into histories.

    mkhist.py DIR      writes DIR/night.rec, DIR/clockstep.rec,
                       DIR/hotplug.rec, DIR/speed.rec

night: a 4-vCPU guest sampled every 60 s for a day, mostly light load
with a little idle steal, and from 02:10 to 02:40 UTC busy with a third
of the time it wanted stolen. clockstep: an hour in which the wall clock
is stepped forward 30 minutes and later back 10. hotplug: a CPU comes
online. speed: four hours of a 2-vCPU guest whose speed probe ran, with
a half hour in which CPU 1 is slowed (steal low, the other CPU idle), a
stretch of steal that also slows the probe, a slowdown while the guest's
own other CPU is busy, a new best, a round that probed one CPU and one
that probed none. Deterministic: no randomness, so the reports are golden.
"""
import sys

HZ = 100
WALL0 = 1_795_593_600  # 2026-11-25T08:00:00Z


class Rec:
    def __init__(self, ncpu, wall0=WALL0):
        self.counters = [[1000 * (c + 1) + 7 * i for c in range(10)]
                         for i in range(ncpu)]
        self.ids = list(range(ncpu))
        self.intr = 50_000
        self.psi = 1_000_000
        self.mono = 1_000_000_000_000
        self.wall = wall0 * 10**9
        self.running = 1
        self.speed = None  # [(cpu, unit_ns, best_ns, lost_ns, flags)]
        self.out = ["stealstat-record 1", "hz %d" % HZ]
        self.snapshot()

    def snapshot(self):
        total = [sum(c[k] for c in self.counters) for k in range(10)]
        lines = ["cpu  " + " ".join(map(str, total))]
        for i, c in zip(self.ids, self.counters):
            lines.append("cpu%d " % i + " ".join(map(str, c)))
        lines += ["intr %d 0 0" % self.intr, "ctxt 1", "btime 1795500000",
                  "procs_running %d" % self.running, "procs_blocked 0"]
        stat = "\n".join(lines) + "\n"
        psi = ("some avg10=0.00 avg60=0.00 avg300=0.00 total=%d\n"
               "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" % self.psi)
        self.out.append("snapshot %d %d" % (self.mono, self.wall))
        blobs = [("stat", stat), ("psi", psi)]
        if self.speed is not None:
            blobs.append(("speed", "".join("cpu%d %d %d %d %d\n" % p
                                            for p in self.speed)))
        for name, text in blobs:
            self.out.append("%s %d" % (name, len(text)))
            self.out.append(text.rstrip("\n"))
        self.out.append("end")

    def step(self, cpus, seconds=60, wall_step=0, running=1, psi_us=0,
             speed=None):
        for c, d in zip(self.counters, cpus):
            for k in range(10):
                c[k] += d[k]
        self.intr += 100 * seconds
        self.running = running
        self.psi += psi_us
        self.mono += seconds * 10**9
        self.wall += (seconds + wall_step) * 10**9
        self.speed = speed
        self.snapshot()

    def write(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.out) + "\n")


def cpu(user=0, system=0, idle=0, iowait=0, steal=0):
    return [user, 0, system, idle, iowait, 0, 0, steal, 0, 0]


def ticks(busy, steal, iowait=0, seconds=60):
    """A CPU's deltas: busy and steal as shares of the interval."""
    n = HZ * seconds
    b, s, w = int(n * busy), int(n * steal), int(n * iowait)
    return cpu(user=b * 4 // 5, system=b - b * 4 // 5, steal=s, iowait=w,
               idle=n - b - s - w)


def night(d):
    r = Rec(4)
    for i in range(24 * 60):
        minute = (8 * 60 + i + 1) % (24 * 60)  # UTC minute of day
        if 2 * 60 + 10 < minute <= 2 * 60 + 40:
            wave = (i % 3) * 0.02
            cpus = [ticks(0.62 - wave, 0.36 + wave) for _ in range(4)]
            r.step(cpus, running=6, psi_us=20_000_000)
        else:
            busy = 0.08 + 0.04 * (i % 5) + (0.2 if 9 * 60 <= minute
                                             < 18 * 60 else 0)
            cpus = [ticks(busy, 0.002 * (i % 2), iowait=0.01)
                    for _ in range(4)]
            r.step(cpus, psi_us=300_000)
    r.write(d + "/night.rec")


def clockstep(d):
    r = Rec(2)
    for i in range(60):
        step = 1800 if i == 20 else (-600 if i == 40 else 0)
        r.step([ticks(0.3, 0.01), ticks(0.2, 0.0)], wall_step=step)
    r.write(d + "/clockstep.rec")


def hotplug(d):
    r = Rec(2)
    for i in range(20):
        r.step([ticks(0.5, 0.02)] * 2)
    r.counters.append([500] * 10)
    r.ids.append(2)
    for i in range(20):
        r.step([ticks(0.5, 0.02)] * 3)
    r.write(d + "/hotplug.rec")


def speed(d):
    r = Rec(2, wall0=WALL0 + 40 * 3600)  # 2026-11-27T00:00:00Z
    best = [400_000, 410_000]
    for i in range(4 * 60):
        minute = i + 1
        busy, steal, units = [0.3, 0.2], 0.0, [404_000, 418_000]
        lost, flags = [4_000, 6_000], [0, 0]
        if 60 < minute <= 90:  # CPU 1 slowed: half its best speed
            units[1] = 820_000
        elif 150 < minute <= 170:  # steal, and the probe slower with it
            busy, steal = [0.6, 0.6], 0.3
            units = [600_000, 615_000]
            lost = [150_000, 160_000]
        elif 195 < minute <= 205:  # slowed while the guest is busy
            busy = [0.9, 0.2]
            units[1] = 820_000
            flags[1] = 1
        if minute == 120:  # a new best on CPU 0
            best[0] = 396_000
        if minute > 120:
            units[0] = max(units[0] - 8_000, best[0])
        probed = [0, 1]
        if minute == 45:
            probed = [0]  # its turn came for one CPU only
        points = [(c, max(units[c], best[c]), best[c], lost[c], flags[c])
                  for c in probed]
        if minute == 100:
            points = None  # the probe could not run this round
        r.step([ticks(b, steal) for b in busy], running=1, psi_us=200_000,
               speed=points)
    r.write(d + "/speed.rec")


if __name__ == "__main__":
    night(sys.argv[1])
    clockstep(sys.argv[1])
    hotplug(sys.argv[1])
    speed(sys.argv[1])
