/* SPDX-License-Identifier: ISC */
/*
 * The /proc parsers and cgroup discovery, on real layouts from several
 * kernel generations and on damaged input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup.h"
#include "procstat.h"

#define S(text) text, sizeof(text) - 1

static struct procstat_cpu cpus[8];
static struct procstat ps;

static int
setup(void **state)
{
	(void)state;
	memset(cpus, 0, sizeof(cpus));
	ps = (struct procstat){.cpu = cpus, .cpu_cap = 8, .cpu_detail = true};
	return 0;
}

static void
test_modern_kernel(void **state)
{
	(void)state;
	assert_int_equal(procstat_parse(S("cpu  727 1 654 6236 56 0 10 7 3 0\n"
	                                  "cpu0 207 0 271 3362 1 0 2 1 0 0\n"
	                                  "cpu1 519 1 383 2873 55 0 8 6 3 0\n"
	                                  "intr 62578 0 0 0 1\n"
	                                  "ctxt 152157\n"
	                                  "btime 1764134100\n"
	                                  "processes 1872\n"
	                                  "procs_running 2\n"
	                                  "procs_blocked 1\n"
	                                  "softirq 1 2 3\n"),
	                     &ps),
	    2);
	assert_int_equal(ps.ncols, 10);
	assert_int_equal(ps.total.col[COL_STEAL], 7);
	assert_int_equal(ps.total.col[COL_GUEST], 3);
	assert_int_equal(ps.cpu[1].id, 1);
	assert_int_equal(ps.cpu[1].t.col[COL_IOWAIT], 55);
	assert_int_equal(ps.intr, 62578);
	assert_int_equal(ps.ctxt, 152157);
	assert_int_equal(ps.procs_running, 2);
	assert_int_equal(ps.procs_blocked, 1);
	assert_int_equal(ps.have, PROCSTAT_HAVE_INTR | PROCSTAT_HAVE_CTXT |
	                              PROCSTAT_HAVE_RUNNING |
	                              PROCSTAT_HAVE_BLOCKED);
}

static void
test_old_kernels(void **state)
{
	(void)state;
	/* 2.6.10: no steal column. */
	assert_int_equal(procstat_parse(S("cpu  1 2 3 4 5 6 7\n"
	                                  "cpu0 1 2 3 4 5 6 7\n"),
	                     &ps),
	    1);
	assert_int_equal(ps.ncols, 7);
	assert_int_equal(ps.total.col[COL_STEAL], 0);
	assert_int_equal(ps.have, 0);
	/* 2.4: four columns. */
	assert_int_equal(
	    procstat_parse(S("cpu  1 2 3 4\ncpu0 1 2 3 4\n"), &ps), 1);
	assert_int_equal(ps.ncols, 4);
	/* Fewer than four is not /proc/stat. */
	assert_int_equal(procstat_parse(S("cpu  1 2 3\n"), &ps), -EINVAL);
}

static void
test_offline_cpus_and_future_columns(void **state)
{
	(void)state;
	/* cpu1 offline: ids need not be contiguous. */
	assert_int_equal(procstat_parse(S("cpu  1 2 3 4 5 6 7 8 9 10 11\n"
	                                  "cpu0 1 2 3 4 5 6 7 8 9 10 11\n"
	                                  "cpu2 1 2 3 4 5 6 7 8 9 10 11\n"),
	                     &ps),
	    2);
	assert_int_equal(ps.cpu[1].id, 2);
	assert_int_equal(ps.ncols, COL_MAX);
}

static void
test_rejects_damage(void **state)
{
	(void)state;
	assert_int_equal(procstat_parse(S(""), &ps), -EINVAL);
	assert_int_equal(
	    procstat_parse(S("intr 1\ncpu  1 2 3 4\n"), &ps), -EINVAL);
	assert_int_equal(procstat_parse(S("cpu  1 2 x 4\n"), &ps), -EINVAL);
	assert_int_equal(procstat_parse(S("cpu  1 2 -3 4\n"), &ps), -EINVAL);
	assert_int_equal(
	    procstat_parse(S("cpu  18446744073709551616 0 0 0\n"), &ps),
	    -EINVAL);
	/* A per-CPU line with a different column count. */
	assert_int_equal(
	    procstat_parse(S("cpu  1 2 3 4 5\ncpu0 1 2 3 4\n"), &ps), -EINVAL);
	/* CPU ids out of order or repeated. */
	assert_int_equal(procstat_parse(S("cpu  1 2 3 4\ncpu1 1 2 3 4\n"
	                                  "cpu0 1 2 3 4\n"),
	                     &ps),
	    -EINVAL);
	assert_int_equal(
	    procstat_parse(S("cpu  1 2 3 4\nprocs_running x\n"), &ps), -EINVAL);
	/* A file cut in the middle of a line still parses what is whole. */
	assert_int_equal(
	    procstat_parse(S("cpu  1 2 3 4\ncpu0 1 2 3 4\ncp"), &ps), 1);
}

static void
test_ids_only(void **state)
{
	(void)state;
	/* The aggregate view reads the ids (for hotplug), not the columns. */
	ps.cpu_detail = false;
	assert_int_equal(procstat_parse(S("cpu  1 2 3 4 5 6 7 8\n"
	                                  "cpu0 1 2 3 4 5 6 7 8\n"
	                                  "cpu3 1 2 3 4 5 6 7 8\n"),
	                     &ps),
	    2);
	assert_int_equal(ps.cpu[1].id, 3);
	assert_int_equal(ps.cpu[1].t.col[COL_USER], 0);
	assert_int_equal(ps.total.col[COL_STEAL], 8);
}

static void
test_too_many_cpus(void **state)
{
	char buf[4096];
	size_t len = 0;

	(void)state;
	len += (size_t)snprintf(buf, sizeof(buf), "cpu  1 2 3 4\n");
	for (int i = 0; i < 12; i++)
		len += (size_t)snprintf(
		    buf + len, sizeof(buf) - len, "cpu%d 1 2 3 4\n", i);
	assert_int_equal(procstat_parse(buf, len, &ps), -ENOSPC);
	assert_true(ps.ncpu > ps.cpu_cap);
}

static void
test_psi(void **state)
{
	struct psi_cpu psi;

	(void)state;
	assert_int_equal(
	    psi_parse(S("some avg10=3.31 avg60=2.12 avg300=0.56 total=1948867\n"
	                "full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n"),
	        &psi),
	    0);
	assert_int_equal(psi.some_total_us, 1948867);
	/* Before 5.13 the cpu file had no "full" line. */
	assert_int_equal(
	    psi_parse(
	        S("some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"), &psi),
	    0);
	assert_int_equal(
	    psi_parse(S("some avg10=0.00 total=\n"), &psi), -EINVAL);
	assert_int_equal(psi_parse(S("full total=5\n"), &psi), -EINVAL);
}

static void
test_cgroup_stat(void **state)
{
	struct cgroup_cpu cg;

	(void)state;
	assert_int_equal(cgroup_cpu_parse(S("nr_periods 10\nnr_throttled 3\n"
	                                    "throttled_time 500000000\n"
	                                    "nr_bursts 0\nburst_time 0\n"),
	                     &cg),
	    0);
	assert_int_equal(cg.nr_throttled, 3);
	assert_int_equal(cg.throttled_ns, 500000000);
	assert_int_equal(cgroup_cpu_parse(S("usage_usec 9\nnr_periods 10\n"
	                                    "nr_throttled 4\n"
	                                    "throttled_usec 250\n"),
	                     &cg),
	    0);
	assert_int_equal(cg.throttled_ns, 250000);
	/* The v2 root cgroup: usage only, no throttling fields. */
	assert_int_equal(
	    cgroup_cpu_parse(S("usage_usec 9\nuser_usec 5\n"), &cg), -EINVAL);
}

static void
test_cgroup_discovery(void **state)
{
	char path[256];

	(void)state;
	/* Hybrid (v1 cpu controller plus the unified tree): v1 wins. */
	assert_int_equal(
	    cgroup_cpu_stat_path(S("4:memory:/x\n2:cpu,cpuacct:/app\n0::/\n"),
	        S("25 1 0:22 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 "
	          "rw\n"
	          "26 1 0:23 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - "
	          "cgroup cgroup rw,cpu,cpuacct\n"),
	        path, sizeof(path)),
	    0);
	assert_string_equal(path, "/sys/fs/cgroup/cpu,cpuacct/app/cpu.stat");
	/* Pure v2. */
	assert_int_equal(cgroup_cpu_stat_path(S("0::/system.slice/a.service\n"),
	                     S("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 "
	                       "cgroup2 rw,nsdelegate\n"),
	                     path, sizeof(path)),
	    0);
	assert_string_equal(
	    path, "/sys/fs/cgroup/system.slice/a.service/cpu.stat");
	/* In a container's cgroup namespace the root is our own group. */
	assert_int_equal(cgroup_cpu_stat_path(S("0::/\n"),
	                     S("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 "
	                       "cgroup2 rw\n"),
	                     path, sizeof(path)),
	    0);
	assert_string_equal(path, "/sys/fs/cgroup/cpu.stat");
	/* No cgroup file system mounted. */
	assert_int_equal(
	    cgroup_cpu_stat_path(S("0::/\n"),
	        S("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"), path, sizeof(path)),
	    -ENOENT);
	/* A hostile path may not climb out of the hierarchy. */
	assert_int_equal(cgroup_cpu_stat_path(S("0::/../../etc\n"),
	                     S("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 "
	                       "cgroup2 rw\n"),
	                     path, sizeof(path)),
	    -EINVAL);
	assert_int_equal(cgroup_cpu_stat_path(S("0::/a\n"),
	                     S("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 "
	                       "cgroup2 rw\n"),
	                     path, 10),
	    -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_modern_kernel, setup),
	    cmocka_unit_test_setup(test_old_kernels, setup),
	    cmocka_unit_test_setup(test_offline_cpus_and_future_columns, setup),
	    cmocka_unit_test_setup(test_rejects_damage, setup),
	    cmocka_unit_test_setup(test_ids_only, setup),
	    cmocka_unit_test_setup(test_too_many_cpus, setup),
	    cmocka_unit_test(test_psi),
	    cmocka_unit_test(test_cgroup_stat),
	    cmocka_unit_test(test_cgroup_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
