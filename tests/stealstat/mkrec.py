#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes the synthetic stealstat records used as golden test inputs.

Each scenario is a list of intervals; each interval gives, per CPU, the
tick deltas of the /proc/stat columns (user nice system idle iowait irq
softirq steal guest guest_nice) at USER_HZ=100 and 1 s per interval, plus
optional PSI, cgroup and procs_running values. Run it from this directory
after changing a scenario, then review the diff of the .rec files; the
.ok files are made by `run-golden` with GOLDEN_UPDATE=1 and must be read
line by line before they are committed.

Hand-edited records (truncated, garbled, bad header) are not made here.
"""

HZ = 100
MONO0 = 1_000_000_000_000
WALL0 = 1_795_674_926_000_000_000
COLS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq",
        "steal", "guest", "guest_nice"]


def cpu(user=0, system=0, idle=0, iowait=0, steal=0, nice=0, irq=0,
        softirq=0):
    return [user, nice, system, idle, iowait, irq, softirq, steal, 0, 0]


class Rec:
    def __init__(self, ncpu, ncols=10, psi=True, cgroup=None, idle_poll=None):
        self.ncpu = ncpu
        self.ncols = ncols
        self.counters = [[1000 * (c + 1) + 7 * i for c in range(10)]
                         for i in range(ncpu)]
        self.ids = list(range(ncpu))
        self.intr = 50_000
        self.ctxt = 90_000
        self.psi_some = 1_000_000
        self.psi_full = 0
        self.psi = psi
        self.cgroup = cgroup  # None, "v1" or "v2"
        self.nr_periods = 100
        self.nr_throttled = 0
        self.throttled_ns = 0
        self.mono = MONO0
        self.wall = WALL0
        self.running = 1
        self.out = ["stealstat-record 1", "hz %d" % HZ]
        if idle_poll:
            self.out.append("idle-poll " + idle_poll)
        self.snapshot()

    def stat_text(self):
        lines = []
        total = [sum(c[k] for c in self.counters) for k in range(10)]
        lines.append("cpu  " + " ".join(str(v) for v in
                                          total[:self.ncols]))
        for i, c in zip(self.ids, self.counters):
            lines.append("cpu%d " % i + " ".join(str(v) for v in
                                                 c[:self.ncols]))
        lines.append("intr %d 0 0 0 0 12 0 0 0" % self.intr)
        lines.append("ctxt %d" % self.ctxt)
        lines.append("btime 1795670000")
        lines.append("processes 4242")
        lines.append("procs_running %d" % self.running)
        lines.append("procs_blocked 0")
        lines.append("softirq 1 0 0 0 0 0 0 0 0 0 0")
        return "\n".join(lines) + "\n"

    def blob(self, name, text):
        self.out.append("%s %d" % (name, len(text.encode())))
        self.out.append(text.rstrip("\n"))

    def snapshot(self, stat=None):
        self.out.append("snapshot %d %d" % (self.mono, self.wall))
        self.blob("stat", stat if stat is not None else self.stat_text())
        if self.psi:
            self.blob("psi", "some avg10=0.00 avg60=0.00 avg300=0.00 "
                      "total=%d\nfull avg10=0.00 avg60=0.00 avg300=0.00 "
                      "total=%d\n" % (self.psi_some, self.psi_full))
        if self.cgroup == "v1":
            self.blob("cgroup", "nr_periods %d\nnr_throttled %d\n"
                      "throttled_time %d\nnr_bursts 0\nburst_time 0\n" %
                      (self.nr_periods, self.nr_throttled,
                       self.throttled_ns))
        elif self.cgroup == "v2":
            self.blob("cgroup", "usage_usec 123456\nuser_usec 100000\n"
                      "system_usec 23456\nnr_periods %d\nnr_throttled %d\n"
                      "throttled_usec %d\nnr_bursts 0\nburst_usec 0\n" %
                      (self.nr_periods, self.nr_throttled,
                       self.throttled_ns // 1000))
        self.out.append("end")

    def step(self, cpus, seconds=1.0, intr=1000, running=1, psi_us=0,
             throttled_ns=0, nr_throttled=0):
        for c, d in zip(self.counters, cpus):
            for k in range(10):
                c[k] += d[k]
        self.intr += intr
        self.ctxt += 2 * intr
        self.running = running
        self.psi_some += psi_us
        self.nr_periods += 10
        self.nr_throttled += nr_throttled
        self.throttled_ns += throttled_ns
        self.mono += int(seconds * 1e9)
        self.wall += int(seconds * 1e9)
        self.snapshot()

    def write(self, name):
        with open(name + ".rec", "w") as f:
            f.write("\n".join(self.out) + "\n")


def idle_steal(name="idle-steal", idle_poll=None):
    r = Rec(2, idle_poll=idle_poll)
    for i in range(8):
        r.step([cpu(user=2, system=1, idle=96, steal=1),
                cpu(user=1, system=1, idle=97 + (i % 2), steal=1 - (i % 2))],
               intr=400, psi_us=2000)
    r.write(name)


def busy_stolen():
    r = Rec(2)
    steal = [22, 30, 18, 35, 25, 28, 40, 20]
    for s in steal:
        r.step([cpu(user=95 - s, system=5, steal=s),
                cpu(user=90 - s, system=5, idle=5, steal=s)],
               intr=3000, running=3, psi_us=50_000)
    r.write("busy-stolen")


def capped():
    r = Rec(2)
    for i in range(8):
        r.step([cpu(user=19 + (i % 2), system=1, steal=80 - (i % 2)),
                cpu(user=20, system=0, steal=80)],
               intr=2000, running=4, psi_us=100_000)
    r.write("capped")


def saturated():
    r = Rec(2)
    for i in range(6):
        r.step([cpu(user=88, system=12), cpu(user=85, system=14, steal=1)],
               intr=5000, running=7, psi_us=450_000)
    r.write("saturated")


def throttled(version):
    r = Rec(2, cgroup=version)
    for i in range(6):
        r.step([cpu(user=30, system=5, idle=65), cpu(user=28, system=4,
                                                     idle=68)],
               intr=1500, running=1, psi_us=30_000,
               throttled_ns=350_000_000, nr_throttled=4)
    r.write("throttled-" + version)


def backwards():
    r = Rec(2)
    for i in range(3):
        r.step([cpu(user=10, idle=89, steal=1), cpu(user=5, idle=95)])
    # The steal counter of cpu1 goes back (a buggy hypervisor clock or a
    # migration to a host whose counter started lower).
    r.counters[1][7] -= 50
    r.step([cpu(user=10, idle=89, steal=1), cpu(user=5, idle=95)])
    for i in range(3):
        r.step([cpu(user=10, idle=89, steal=1), cpu(user=5, idle=95)])
    r.write("backwards")


def suspend_jump():
    r = Rec(2)
    for i in range(3):
        r.step([cpu(user=10, idle=90), cpu(user=5, idle=95)])
    # Host suspend: 30 s of steal appears in a 1 s interval.
    r.step([cpu(user=10, idle=90, steal=3000), cpu(user=5, idle=95,
                                                   steal=3000)])
    for i in range(3):
        r.step([cpu(user=10, idle=90), cpu(user=5, idle=95)])
    r.write("suspend-jump")


def iowait_back():
    r = Rec(2)
    for i in range(3):
        r.step([cpu(user=40, idle=50, iowait=10), cpu(user=40, idle=60)])
    # proc(5): iowait may decrease. Time moves from iowait to idle; the
    # sum goes on, so the interval counts.
    r.step([cpu(user=40, idle=80, iowait=-20), cpu(user=40, idle=60)])
    # And the other way: idle steps back, iowait forward.
    r.step([cpu(user=40, idle=-10, iowait=70), cpu(user=40, idle=60)])
    for i in range(2):
        r.step([cpu(user=40, idle=50, iowait=10), cpu(user=40, idle=60)])
    r.write("iowait-back")


def idle_host():
    r = Rec(2)
    # Nearly idle: 1 tick busy and 1 of steal per CPU and second, so
    # "half the wanted time stolen" on 4% of one CPU.
    for i in range(4):
        r.step([cpu(user=1, idle=98, steal=1), cpu(user=1, idle=98,
                                                  steal=1)], intr=300)
    r.write("idle-host")


def hotplug():
    r = Rec(2)
    for i in range(3):
        r.step([cpu(user=50, idle=50), cpu(user=50, idle=50)])
    r.counters.append([500] * 10)
    r.ids.append(2)
    r.step([cpu(user=50, idle=50), cpu(user=50, idle=50)])
    for i in range(3):
        r.step([cpu(user=50, idle=50)] * 3)
    r.write("hotplug")


def old_kernel():
    r = Rec(2, ncols=7, psi=False)
    for i in range(4):
        r.step([cpu(user=60, system=5, idle=35), cpu(user=40, idle=60)])
    r.write("old-kernel")


def one_cpu_stolen():
    r = Rec(2)
    for s in [30, 32, 31, 33, 29]:
        r.step([cpu(user=60, system=5, idle=35), cpu(user=100 - s, steal=s)],
               intr=2500, running=2)
    r.write("one-cpu-stolen")


idle_steal()
# The same on a guest whose idle vCPUs poll (cpuidle-haltpoll).
idle_steal("idle-steal-haltpoll", "cpuidle haltpoll, up to 200 us")
busy_stolen()
capped()
saturated()
throttled("v1")
throttled("v2")
backwards()
suspend_jump()
hotplug()
iowait_back()
idle_host()
old_kernel()
one_cpu_stolen()
