/* SPDX-License-Identifier: ISC */
/*
 * Idle polling. KVM and Xen charge steal only to a vCPU that is runnable
 * on the host; a halted vCPU sleeps there. Two guest settings make an
 * idle vCPU run instead: the cpuidle-haltpoll driver, which polls up to
 * guest_halt_poll_ns before halting (Documentation/virt/guest-halt-
 * polling.rst), and idle=poll on the kernel command line, which never
 * halts. Under either, steal can accrue on an idle vCPU.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "idlepoll.h"
#include "parse.h"

/*
 * Is word a whole blank-separated kernel parameter? Words after " -- "
 * belong to init, not to the kernel.
 */
static bool
has_param(const char *cmdline, const char *word)
{
	const char *init_args = strstr(cmdline, " -- ");
	size_t n = strlen(word);

	for (const char *p = cmdline; (p = strstr(p, word)) != NULL; p += n) {
		if (init_args != NULL && p > init_args)
			break;
		if ((p == cmdline || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	}
	return false;
}

bool
idle_poll_describe(const char *driver, const char *poll_ns, const char *cmdline,
    char *buf, size_t size)
{
	char num[32];
	uint64_t ns;
	size_t n;

	if (cmdline != NULL && has_param(cmdline, "idle=poll")) {
		snprintf(buf, size, "idle=poll");
		return true;
	}
	if (driver == NULL || strncmp(driver, "haltpoll", 8) != 0 ||
	    (driver[8] != '\0' && driver[8] != '\n'))
		return false;
	if (poll_ns == NULL) {
		snprintf(buf, size, "cpuidle haltpoll");
		return true;
	}
	n = strcspn(poll_ns, "\n");
	if (n >= sizeof(num))
		return false;
	memcpy(num, poll_ns, n);
	num[n] = '\0';
	/* guest_halt_poll_ns=0 turns polling off: the driver just halts. */
	if (parse_u64(num, 0, UINT64_MAX, &ns) < 0 || ns == 0)
		return false;
	snprintf(buf, size, "cpuidle haltpoll, up to %llu us",
	    (unsigned long long)(ns / 1000));
	return true;
}

/* Reads a small file into buf; returns buf, or NULL when unreadable. */
static const char *
read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

bool
idle_poll_detect(const char *proc_root, char *buf, size_t size)
{
	char path[4096], driver[64], poll_ns[32], cmdline[4096];
	const char *d = NULL, *p = NULL, *c;
	bool live = strcmp(proc_root, "/proc") == 0;

	if (live) {
		d = read_small("/sys/devices/system/cpu/cpuidle/current_driver",
		    driver, sizeof(driver));
		p = read_small("/sys/module/haltpoll/parameters/"
		               "guest_halt_poll_ns",
		    poll_ns, sizeof(poll_ns));
	}
	snprintf(path, sizeof(path), "%s/cmdline", proc_root);
	c = read_small(path, cmdline, sizeof(cmdline));
	return idle_poll_describe(d, p, c, buf, size);
}
