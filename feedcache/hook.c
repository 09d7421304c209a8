/* SPDX-License-Identifier: ISC */
/*
 * hook.c: on_change commands, run without a shell and never waited for
 * on the daemon's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "timeutil.h"

/* Descriptors to mark close-on-exec where close_range is missing. */
#define FD_GUESS_MAX 1024

extern char **environ;

int
hook_split(char *cmd, char *argv[HOOK_ARGS_MAX + 1], char *why, size_t why_size)
{
	char *in = cmd, *out = cmd;
	int n = 0;

	for (;;) {
		while (*in == ' ' || *in == '\t')
			in++;
		if (*in == '\0')
			break;
		if (n == HOOK_ARGS_MAX) {
			snprintf(
			    why, why_size, "more than %d words", HOOK_ARGS_MAX);
			return -EINVAL;
		}
		argv[n++] = out;
		while (*in != '\0' && *in != ' ' && *in != '\t') {
			char q = *in;

			if (q != '\'' && q != '"') {
				*out++ = *in++;
				continue;
			}
			for (in++; *in != q; in++) {
				if (*in == '\0') {
					snprintf(why, why_size,
					    "unclosed %c quote", q);
					return -EINVAL;
				}
				if (q == '"' && *in == '\\' &&
				    (in[1] == '"' || in[1] == '\\'))
					in++;
				*out++ = *in;
			}
			in++;
		}
		if (*in != '\0')
			in++;
		*out++ = '\0';
	}
	argv[n] = NULL;
	if (n == 0) {
		snprintf(why, why_size, "an empty command");
		return -EINVAL;
	}
	if (argv[0][0] != '/') {
		snprintf(why, why_size,
		    "the program must be an absolute path (no shell, no "
		    "PATH search), e.g. /usr/local/bin/purge-news");
		return -EINVAL;
	}
	return n;
}

/* A free slot, or NULL without memory. */
static struct hook_run *
slot(struct hooks *h)
{
	struct hook_run *grown;

	for (size_t i = 0; i < h->n; i++)
		if (h->run[i].pid == 0)
			return &h->run[i];
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 8;

		if ((grown = realloc(h->run, cap * sizeof(*grown))) == NULL)
			return NULL;
		h->run = grown;
		h->cap = cap;
	}
	memset(&h->run[h->n], 0, sizeof(h->run[0]));
	return &h->run[h->n++];
}

/*
 * feedcache's environment without any FEEDCACHE_ variable, then the
 * three given ones: made before the fork, since between fork and exec
 * only async-signal-safe calls are allowed (libcurl may run threads).
 * Returns a malloc'ed array (strings in vars), or NULL.
 */
static char **
hook_env(char *vars[3])
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 4, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "FEEDCACHE_", 10) != 0)
			env[k++] = environ[i];
	for (int i = 0; i < 3; i++)
		env[k++] = vars[i];
	env[k] = NULL;
	return env;
}

int
hook_start(struct hooks *h, const char *feed, const char *cmd, const char *path,
    const char *sha256, uint64_t timeout_ns)
{
	char *copy = strdup(cmd), *argv[HOOK_ARGS_MAX + 1], why[160];
	char *vars[3] = {NULL, NULL, NULL}, **env = NULL;
	struct hook_run *r = slot(h);
	int gate[2], err = 0, rc = -1;
	ssize_t got;
	pid_t pid;

	if (asprintf(&vars[0], "FEEDCACHE_FEED=%s", feed) < 0)
		vars[0] = NULL;
	if (asprintf(&vars[1], "FEEDCACHE_PATH=%s", path) < 0)
		vars[1] = NULL;
	if (asprintf(&vars[2], "FEEDCACHE_SHA256=%s", sha256) < 0)
		vars[2] = NULL;
	if (vars[0] != NULL && vars[1] != NULL && vars[2] != NULL)
		env = hook_env(vars);
	if (copy == NULL || r == NULL || env == NULL) {
		log_warnx("feed %s: on_change %s: out of memory", feed, cmd);
		goto out;
	}
	/* The configuration checked it; a split cannot fail here. */
	errno = 0;
	if (hook_split(copy, argv, why, sizeof(why)) < 0 ||
	    pipe2(gate, O_CLOEXEC) < 0) {
		log_warnx("feed %s: on_change %s: %s", feed, cmd,
		    errno ? strerror(errno) : why);
		goto out;
	}
	if ((pid = fork()) < 0) {
		log_warn("feed %s: on_change %s: fork", feed, cmd);
		close(gate[0]);
		close(gate[1]);
		goto out;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to the exec. */
		int null = open("/dev/null", O_RDONLY);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		/* Nothing of ours beyond stdin, stdout and stderr: the
		 * exec closes the rest (gate[1] is already close-on-exec). */
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
			for (int fd = 3; fd < FD_GUESS_MAX; fd++)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		execve(argv[0], argv, env);
		err = errno;
		(void)!write(gate[1], &err, sizeof(err));
		_exit(127);
	}
	setpgid(pid, pid); /* either side may win the race */
	close(gate[1]);
	/* Closed by the exec: the command runs; or the reason it did not. */
	do
		got = read(gate[0], &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	close(gate[0]);
	if (got == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		log_warnx("feed %s: on_change %s: cannot run it: %s", feed, cmd,
		    strerror(err));
		goto out;
	}
	r->pid = pid;
	r->deadline = time_mono_ns() + timeout_ns;
	snprintf(r->feed, sizeof(r->feed), "%s", feed);
	r->cmd = strdup(cmd); /* NULL: messages say "?" */
	log_debug(
	    "feed %s: on_change %s started (pid %ld)", feed, cmd, (long)pid);
	rc = 0;
out:
	free(copy);
	free(env);
	for (int i = 0; i < 3; i++)
		free(vars[i]);
	return rc;
}

/* Says how the hook ended, if that is news. */
static void
ended(const struct hook_run *r, int status)
{
	const char *cmd = r->cmd ? r->cmd : "?";

	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("feed %s: on_change %s: exited with status %d; "
		          "the copy is kept",
		    r->feed, cmd, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("feed %s: on_change %s: killed by signal %d; the "
		          "copy is kept",
		    r->feed, cmd, WTERMSIG(status));
}

static void
release(struct hook_run *r)
{
	free(r->cmd);
	memset(r, 0, sizeof(*r));
}

size_t
hook_reap(struct hooks *h)
{
	uint64_t now = time_mono_ns();
	size_t running = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct hook_run *r = &h->run[i];
		int status;
		pid_t p;

		if (r->pid == 0)
			continue;
		if (r->exited) {
			/* What the hook left in its group is bounded too. */
			if (kill(-r->pid, 0) < 0) {
				release(r);
				continue;
			}
			if (now >= r->deadline) {
				kill(-r->pid, SIGKILL);
				log_warnx(
				    "feed %s: on_change %s: left processes "
				    "running after hook_timeout, killed",
				    r->feed, r->cmd ? r->cmd : "?");
				release(r);
				continue;
			}
			running++;
			continue;
		}
		do
			p = waitpid(r->pid, &status, WNOHANG);
		while (p < 0 && errno == EINTR);
		if (p == r->pid || p < 0) {
			ended(r, p < 0 ? 0 : status);
			r->exited = true;
			if (kill(-r->pid, 0) < 0)
				release(r);
			else
				running++;
			continue;
		}
		if (now >= r->deadline) {
			/* The whole group: a script's children go too. */
			kill(-r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
			log_warnx("feed %s: on_change %s: still running after "
			          "hook_timeout, killed; the copy is kept",
			    r->feed, r->cmd ? r->cmd : "?");
			release(r);
			continue;
		}
		running++;
	}
	return running;
}

void
hook_wait_all(struct hooks *h)
{
	struct timespec tick = {0, 20 * 1000 * 1000};

	while (hook_reap(h) > 0)
		nanosleep(&tick, NULL);
}

void
hook_free(struct hooks *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->run[i].pid != 0) {
			kill(-h->run[i].pid, SIGKILL);
			if (!h->run[i].exited)
				waitpid(h->run[i].pid, NULL, 0);
		}
		free(h->run[i].cmd);
	}
	free(h->run);
	memset(h, 0, sizeof(*h));
}

void
hook_run_wait(const char *feed, const char *cmd, const char *path,
    const char *sha256, uint64_t timeout_ns)
{
	struct hooks h = {0};

	if (hook_start(&h, feed, cmd, path, sha256, timeout_ns) == 0)
		hook_wait_all(&h);
	hook_free(&h);
}
