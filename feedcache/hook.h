/* SPDX-License-Identifier: ISC */
/*
 * on_change hooks: a command run, without a shell, after a new body
 * replaced a feed's copy. Started without waiting; reaped, and killed
 * with its process group after hook_timeout, by whoever runs the loop.
 */
#ifndef FEEDCACHE_HOOK_H
#define FEEDCACHE_HOOK_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HOOK_ARGS_MAX 64

/*
 * Splits a command into argv in place (cmd is overwritten): words
 * separated by blanks; '...' keeps everything up to the next ' as is;
 * "..." too, where \" and \\ stand for " and \; no variables, globs,
 * redirections or pipes. The first word must be an absolute path.
 * Returns the word count, or -EINVAL with why. argv ends with NULL.
 */
int hook_split(
    char *cmd, char *argv[HOOK_ARGS_MAX + 1], char *why, size_t why_size);

struct hook_run {
	pid_t pid; /* 0: a free slot; also the process group */
	bool exited; /* pid has ended, processes of its group run on */
	uint64_t deadline; /* monotonic ns */
	char feed[65];
	char *cmd; /* for messages, owned */
};

struct hooks {
	struct hook_run *run;
	size_t n, cap;
};

/*
 * Starts cmd for feed with FEEDCACHE_FEED, FEEDCACHE_PATH and
 * FEEDCACHE_SHA256 in its environment, stdin on /dev/null, in a process
 * group of its own. Does not wait for it. A failure to start is logged
 * (naming the feed and the command) and returns -1.
 */
int hook_start(struct hooks *h, const char *feed, const char *cmd,
    const char *path, const char *sha256, uint64_t timeout_ns);

/*
 * Reaps hooks that ended and kills the process group of any past its
 * deadline, logging every failure. Returns how many still run.
 */
size_t hook_reap(struct hooks *h);

/* Waits (reaping, bounded by each hook's timeout) until none runs. */
void hook_wait_all(struct hooks *h);

/* hook_start, then waits for it (at most timeout_ns): one-shot runs. */
void hook_run_wait(const char *feed, const char *cmd, const char *path,
    const char *sha256, uint64_t timeout_ns);

/* Kills what still runs and frees. */
void hook_free(struct hooks *h);

#endif
