/* SPDX-License-Identifier: ISC */
/*
 * `feedcache check`, a monitoring plugin in the Nagios tradition: one
 * status line, perfdata per feed (age, failures, size), exit 0 OK, 1
 * WARNING, 2 CRITICAL, 3 UNKNOWN. And `check-config`, which ExecReload=
 * runs before the daemon is told to reload.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check.h"
#include "fetch.h"
#include "hook.h"
#include "parse.h"
#include "timeutil.h"

int64_t
feed_stale_after_s(const struct feed *f)
{
	uint64_t ns = f->interval_ns + f->interval_ns / 10 + f->max_backoff_ns;

	return (int64_t)((ns + NSEC_PER_SEC - 1) / NSEC_PER_SEC);
}

bool
feed_is_stale(
    const struct feed *f, const struct feed_meta *m, bool have, int64_t now)
{
	if (!have || m->hash[0] == '\0' || m->checked <= 0)
		return true;
	return now - m->checked > feed_stale_after_s(f);
}

static const char *const state_names[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN"};

void
check_usage(FILE *to)
{
	fputs("usage: feedcache check [-w AGE] [-c AGE | --max-age AGE] "
	      "[--fail N] [NAME...]\n"
	      "  -w, --warning AGE   WARNING past this age (default: the "
	      "feed's\n"
	      "                      interval + 10% + max_backoff)\n"
	      "  -c, --critical AGE, --max-age AGE\n"
	      "                      CRITICAL past this age (default: none)\n"
	      "      --fail N        CRITICAL after N failed refreshes in a "
	      "row\n"
	      "                      (default 3)\n"
	      "exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n",
	    to);
}

/* Appends to a fixed buffer, cutting what does not fit. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

void
check_args_default(struct check_args *a)
{
	*a = (struct check_args){.max_fail = 3};
}

int
cmd_check(const struct feedcache_conf *conf, const struct check_args *a,
    char **names, int nnames)
{
	uint64_t warn_ns = a->warn_ns, crit_ns = a->crit_ns;
	uint32_t max_fail = a->max_fail;
	int64_t now = (int64_t)time(NULL);
	enum check_state worst = CHECK_OK;
	char problems[2048] = "", perf[4096] = "";
	size_t shown = 0;

	for (int k = 0; k < nnames; k++) {
		if (feedcache_conf_find(conf, names[k]) == NULL) {
			printf("FEEDCACHE UNKNOWN - no feed '%s' in %s\n",
			    names[k], conf->path);
			return CHECK_UNKNOWN;
		}
	}
	for (size_t i = 0; i < conf->nfeeds; i++) {
		const struct feed *f = conf->feeds[i];
		enum check_state st = CHECK_OK;
		struct feed_meta m;
		char path[4096], why[512] = "", crit[24] = "";
		int64_t age, warn_s, crit_s;
		bool have, wanted = nnames == 0;

		for (int k = 0; k < nnames; k++)
			wanted |= strcmp(names[k], f->name) == 0;
		if (!wanted)
			continue;
		shown++;
		have = feed_meta_path(conf, f->name, path, sizeof(path)) == 0 &&
		       meta_load(path, &m) == 0;
		if (!have)
			memset(&m, 0, sizeof(m));
		age = m.checked > 0 ? now - m.checked : -1;
		warn_s = warn_ns > 0 ? (int64_t)(warn_ns / NSEC_PER_SEC)
		                     : feed_stale_after_s(f);
		crit_s = (int64_t)(crit_ns / NSEC_PER_SEC);
		if (m.hash[0] == '\0') {
			st = CHECK_CRITICAL;
			snprintf(why, sizeof(why), "%s: no copy%s%s", f->name,
			    m.last_error[0] ? " (" : "", m.last_error);
			if (m.last_error[0])
				append(why, sizeof(why), ")");
		} else if (crit_ns > 0 && age > crit_s) {
			st = CHECK_CRITICAL;
			snprintf(why, sizeof(why),
			    "%s: %llds old (critical at "
			    "%llds)",
			    f->name, (long long)age, (long long)crit_s);
		} else if (m.failures >= max_fail) {
			st = CHECK_CRITICAL;
			snprintf(why, sizeof(why),
			    "%s: %u failures in a row "
			    "(%.80s)",
			    f->name, m.failures, m.last_error);
		} else if (age < 0 || age > warn_s) {
			st = CHECK_WARNING;
			snprintf(why, sizeof(why),
			    "%s: %llds old (warning at "
			    "%llds)%s%.80s",
			    f->name, (long long)age, (long long)warn_s,
			    m.last_error[0] ? ": " : "", m.last_error);
		}
		if (st > worst)
			worst = st;
		if (st != CHECK_OK)
			append(problems, sizeof(problems), "%s%s",
			    problems[0] ? "; " : "", why);
		/* 'label'=value[UOM];warn;crit;min;max */
		if (crit_ns > 0)
			snprintf(crit, sizeof(crit), "%lld", (long long)crit_s);
		append(perf, sizeof(perf), "'%s_age'=%llds;%lld;%s;0; ",
		    f->name, (long long)(age < 0 ? 0 : age), (long long)warn_s,
		    crit);
		append(perf, sizeof(perf), "'%s_failures'=%u;;%u;0; ", f->name,
		    m.failures, max_fail);
		append(perf, sizeof(perf), "'%s_size'=%lluB;;;0; ", f->name,
		    (unsigned long long)m.size);
	}
	if (perf[0] != '\0')
		perf[strlen(perf) - 1] = '\0';
	if (shown == 0) {
		printf("FEEDCACHE UNKNOWN - no feeds in %s\n", conf->path);
		return CHECK_UNKNOWN;
	}
	if (worst == CHECK_OK)
		printf("FEEDCACHE OK - %zu feed%s fresh | %s\n", shown,
		    shown == 1 ? "" : "s", perf);
	else
		printf("FEEDCACHE %s - %s | %s\n", state_names[worst], problems,
		    perf);
	return worst;
}

/*
 * A hook program that cannot be run here is worth a warning, not an
 * error: the daemon may see another file system. Each program once.
 */
static void
warn_hook(const struct feedcache_conf *conf, size_t i)
{
	const char *cmd = conf->feeds[i]->on_change, *problem = NULL;
	char *copy, *argv[HOOK_ARGS_MAX + 1], why[128];
	struct stat st;

	if (cmd == NULL)
		return;
	for (size_t j = 0; j < i; j++) /* said for an earlier feed? */
		if (conf->feeds[j]->on_change != NULL &&
		    strcmp(conf->feeds[j]->on_change, cmd) == 0)
			return;
	if ((copy = strdup(cmd)) == NULL)
		return;
	if (hook_split(copy, argv, why, sizeof(why)) < 1)
		goto out;
	if (stat(argv[0], &st) < 0)
		problem = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		problem = "not a regular file";
	else if ((st.st_mode & 0111) == 0 || access(argv[0], X_OK) < 0)
		problem = "not executable";
	if (problem != NULL)
		fprintf(stderr,
		    "feedcache: warning: feed %s: on_change: '%s': %s; "
		    "the hook will fail when the feed changes\n",
		    conf->feeds[i]->name, argv[0], problem);
out:
	free(copy);
}

int
cmd_check_config(const char *path)
{
	struct feedcache_conf conf;
	struct conf_error err;

	if (feedcache_conf_load(path, &conf, &err) < 0) {
		fprintf(stderr, "feedcache: error: %s\n", err.msg);
		return 2;
	}
	if (conf.nfeeds == 0)
		fprintf(stderr,
		    "feedcache: warning: %s: no [feed NAME] "
		    "sections; nothing to keep fresh\n",
		    path);
	for (size_t i = 0; i < conf.nfeeds; i++)
		warn_hook(&conf, i);
	printf("%s: ok, %zu feed%s\n", path, conf.nfeeds,
	    conf.nfeeds == 1 ? "" : "s");
	feedcache_conf_free(&conf);
	return 0;
}
