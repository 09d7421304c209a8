/* SPDX-License-Identifier: ISC */
/*
 * feedcache: keeps local copies of remote resources fresh.
 *
 *	feedcache [-c FILE] [-v] daemon | refresh | get | status
 *
 * Every mode refreshes through fetch.c under the per-feed lock, so a
 * daemon, a cron job and any number of readers together send at most one
 * request per feed at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "fetch.h"
#include "fleet.h"
#include "hook.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "schedule.h"
#include "timeutil.h"
#include "validate.h"

#define DEFAULT_CONF "/etc/feedcache.conf"
#define DEFAULT_CACHE_DIR "/var/cache/feedcache"

static volatile sig_atomic_t stop_flag, reload_flag;
static int wake_pipe[2] = {-1, -1};

enum command {
	CMD_DAEMON,
	CMD_REFRESH,
	CMD_GET,
	CMD_STATUS,
	CMD_CHECK,
	CMD_CHECK_CONFIG,
	CMD_COUNT
};

/* Each command's help; the global options go after each. */
static const struct {
	const char *name;
	const char *help;
} commands[] = {
    [CMD_DAEMON] = {"daemon",
        "usage: feedcache daemon [-c FILE] [-v]\n"
        "Refreshes every feed on its schedule until SIGTERM; SIGHUP "
        "rereads\nthe configuration.\n"},
    [CMD_REFRESH] = {"refresh",
        "usage: feedcache refresh [--force] [--all | NAME...] [-c FILE] "
        "[-v]\n"
        "One pass over the feeds that are due, or the named ones.\n"
        "      --force  fetch even what is not due\n"
        "      --all    every feed\n"},
    [CMD_GET] = {"get",
        "usage: feedcache get NAME [--max-age DURATION] [--meta] "
        "[-c FILE | -C DIR] [-v]\n"
        "Prints the cached copy of feed NAME (or its metadata), never "
        "waiting.\n"
        "      --max-age DURATION  older than this: refresh it in the "
        "background\n"
        "      --meta              the copy's metadata, as JSON\n"
        "  -C, --cache-dir DIR     read DIR, without the configuration\n"},
    [CMD_STATUS] = {"status",
        "usage: feedcache status [--json] [NAME...] [-c FILE] [-v]\n"
        "The state of each feed, or of the named ones (exit 1 if one is "
        "stale).\n"
        "      --json  one JSON object per feed\n"},
    [CMD_CHECK] = {"check", NULL},
    [CMD_CHECK_CONFIG] = {"check-config",
        "usage: feedcache check-config [-c FILE]\n"
        "Reads the configuration and says what is wrong; exit 2 on an "
        "error.\n"},
};

static const char global_help[] =
    "options (before or after the command):\n"
    "  -c, --config FILE  configuration (default " DEFAULT_CONF ")\n"
    "  -v, --verbose      more log output\n"
    "  -h, --help, -V, --version\n";

/* --help: the whole program's usage, or one command's. */
static _Noreturn void
usage(const char *cmd)
{
	for (size_t i = 0; cmd != NULL && i < CMD_COUNT; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (i == CMD_CHECK) {
			check_usage(stdout);
			fputs(
			    "      --config FILE       configuration (default "
			    "" DEFAULT_CONF ")\n",
			    stdout);
			exit(0);
		}
		fputs(commands[i].help, stdout);
		fputs(global_help, stdout);
		exit(0);
	}
	fputs("usage: feedcache [-c FILE] [-v] COMMAND [ARGS]\n"
	      "commands:\n"
	      "  daemon                        refresh every feed on its "
	      "schedule\n"
	      "  refresh [--force] [--all | NAME...]\n"
	      "                                one pass over the due (or "
	      "named) feeds\n"
	      "  get NAME [--max-age DURATION] [--meta]\n"
	      "                                print the cached copy (or its "
	      "metadata),\n"
	      "                                never waiting\n"
	      "  status [--json] [NAME...]     the state of each feed (exit 1 "
	      "if one is\n"
	      "                                stale)\n"
	      "  check [-w AGE] [-c AGE] [--fail N] [NAME...]\n"
	      "                                a Nagios/Icinga plugin\n"
	      "  check-config                  check the configuration, "
	      "exit 2 on an error\n"
	      "'feedcache COMMAND --help' tells more of each.\n",
	    stdout);
	fputs(global_help, stdout);
	exit(0);
}

/*
 * A bad command line: the reason, where the help is, exit 2; for check,
 * also the Nagios UNKNOWN line on stdout and exit 3 (a monitoring
 * system reads 2 as CRITICAL).
 */
static _Noreturn void usage_error(enum command cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static _Noreturn void
usage_error(enum command cmd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_usage(cmd < CMD_COUNT ? commands[cmd].name : NULL, "%s", msg);
	if (cmd == CMD_CHECK) {
		printf("FEEDCACHE UNKNOWN - %s\n", msg);
		exit(CHECK_UNKNOWN);
	}
	exit(CLI_EXIT_USAGE);
}

/* The command line, read whole before the configuration is. */
struct args {
	const char *conf_path, *cache_dir;
	bool conf_given;
	enum log_level level;
	enum command cmd;
	bool force, all, json, check_age, meta;
	uint64_t max_age_ns;
	struct check_args check;
	char **names; /* operands after the command */
	int nnames;
};

enum {
	OPT_FORCE = 256,
	OPT_ALL,
	OPT_MAX_AGE,
	OPT_META,
	OPT_JSON,
	OPT_CONFIG,
	OPT_FAIL,
	OPT_WARNING,
	OPT_CRITICAL,
	OPT_CHECK_MAX_AGE
};

/* The global options, in every table: before or after the command. */
#define GLOBAL_OPTIONS                                                         \
	{"config", required_argument, NULL, OPT_CONFIG},                       \
	    {"cache-dir", required_argument, NULL, 'C'},                       \
	    {"verbose", no_argument, NULL, 'v'}, CLI_HELP_VERSION

/* check's age options, as the user typed them (-c is --critical there). */
static const char *
duration_option(int c)
{
	switch (c) {
	case 'w':
		return "-w";
	case 'k':
		return "-c";
	case OPT_WARNING:
		return "--warning";
	case OPT_CRITICAL:
		return "--critical";
	default:
		return "--max-age";
	}
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option global_opts[] = {
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct option refresh_opts[] = {
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"all", no_argument, NULL, OPT_ALL},
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct option get_opts[] = {
	    {"max-age", required_argument, NULL, OPT_MAX_AGE},
	    {"meta", no_argument, NULL, OPT_META},
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct option status_opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	/* The Nagios plugin guidelines' -w/-c: here -c is --critical, so
	 * the configuration is --config only. */
	static const struct option check_opts[] = {
	    {"warning", required_argument, NULL, OPT_WARNING},
	    {"critical", required_argument, NULL, OPT_CRITICAL},
	    {"max-age", required_argument, NULL, OPT_CHECK_MAX_AGE},
	    {"fail", required_argument, NULL, OPT_FAIL},
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct option *const command_opts[] = {
	    [CMD_DAEMON] = global_opts,
	    [CMD_REFRESH] = refresh_opts,
	    [CMD_GET] = get_opts,
	    [CMD_STATUS] = status_opts,
	    [CMD_CHECK] = check_opts,
	    [CMD_CHECK_CONFIG] = global_opts};
	const char *cmd = NULL;
	struct cli cli;
	int c, max_names = -1;

	*a = (struct args){.conf_path = DEFAULT_CONF,
	    .level = LOG_LEVEL_INFO,
	    .cmd = CMD_COUNT};
	check_args_default(&a->check);
	/* Twice: the options before the command, then its arguments. */
	for (int pass = 0; pass < 2; pass++) {
		const char *shortopts = pass == 0             ? "+c:C:vhV"
		                        : a->cmd == CMD_CHECK ? "w:c:C:vhV"
		                                              : "c:C:vhV";

		cli_start(&cli, shortopts,
		    pass == 0 ? global_opts : command_opts[a->cmd]);
		while ((c = cli_next(&cli, argc, argv)) != -1) {
			if (c == 'c' && a->cmd == CMD_CHECK)
				c = 'k';
			switch (c) {
			case 'c':
			case OPT_CONFIG:
				a->conf_path = optarg;
				a->conf_given = true;
				break;
			case 'C':
				a->cache_dir = optarg;
				break;
			case 'v':
				a->level = LOG_LEVEL_DEBUG;
				break;
			case 'h':
				usage(cmd);
			case 'V':
				printf("feedcache %s\n", TK_VERSION);
				exit(0);
			case OPT_FORCE:
				a->force = true;
				break;
			case OPT_ALL:
				a->all = true;
				break;
			case OPT_JSON:
				a->json = true;
				break;
			case OPT_META:
				a->meta = true;
				break;
			case OPT_MAX_AGE:
				if (parse_duration_ns(optarg, &a->max_age_ns) <
				    0)
					usage_error(a->cmd,
					    "--max-age: '%s' is not a duration "
					    "(30s, 5m, 1h)",
					    optarg);
				a->check_age = true;
				break;
			case 'w':
			case 'k':
			case OPT_WARNING:
			case OPT_CRITICAL:
			case OPT_CHECK_MAX_AGE:
				if (parse_duration_ns(
				        optarg, c == 'w' || c == OPT_WARNING
				                    ? &a->check.warn_ns
				                    : &a->check.crit_ns) < 0)
					usage_error(a->cmd,
					    "%s: '%s' is not a duration (30s, "
					    "5m, 1h)",
					    duration_option(c), optarg);
				break;
			case OPT_FAIL:
				if (parse_u32(optarg, 1, 1000000,
				        &a->check.max_fail) < 0)
					usage_error(a->cmd,
					    "--fail: '%s' is not a count from "
					    "1",
					    optarg);
				break;
			default:
				usage_error(a->cmd, "%s", cli.why);
			}
		}
		if (pass == 1)
			break;
		if (optind >= argc)
			usage_error(CMD_COUNT,
			    "which command? daemon, refresh, "
			    "get, status, check or "
			    "check-config");
		cmd = argv[optind];
		for (a->cmd = 0; a->cmd < CMD_COUNT; a->cmd++)
			if (strcmp(cmd, commands[a->cmd].name) == 0)
				break;
		if (a->cmd == CMD_COUNT)
			usage_error(CMD_COUNT, "unknown command '%s'", cmd);
		argc -= optind;
		argv += optind;
	}
	a->names = argv + optind;
	a->nnames = argc - optind;
	switch (a->cmd) {
	case CMD_DAEMON:
	case CMD_CHECK_CONFIG:
		max_names = 0;
		break;
	case CMD_REFRESH:
		if (a->all && a->nnames > 0)
			usage_error(a->cmd, "--all or feed names, not both");
		break;
	case CMD_GET:
		if (a->nnames == 0)
			usage_error(a->cmd, "get needs the NAME of a feed");
		max_names = 1;
		break;
	default:
		break;
	}
	if (max_names >= 0 && cli_too_many(&cli, argc, argv, max_names))
		usage_error(a->cmd, "%s", cli.why);
	if (a->cache_dir != NULL && a->cmd != CMD_GET)
		usage_error(a->cmd, "--cache-dir is for get only");
}

static const struct feed *
conf_feed(const struct feedcache_conf *conf, const char *name)
{
	const struct feed *f = feedcache_conf_find(conf, name);

	if (f == NULL) {
		log_errorx("no feed '%s' in %s", name, conf->path);
		exit(CLI_EXIT_USAGE);
	}
	return f;
}

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
	if (wake_pipe[1] >= 0)
		(void)!write(wake_pipe[1], "x", 1);
	errno = saved;
}

static void
install_signals(void)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
notify_ready(void)
{
	notify_systemd("READY=1");
}

/*
 * The daemon and refresh keep every feed in cache_dir: one that is not a
 * directory, and cannot be made one, is fatal (exit 1) now, naming it,
 * rather than a lock error per feed on every try.
 */
static void
ensure_cache_dir(const struct feedcache_conf *conf)
{
	struct stat st;

	if (stat(conf->cache_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	if (mkdir(conf->cache_dir, 0755) < 0 && errno != EEXIST)
		fatal("cache_dir %s", conf->cache_dir);
	if (stat(conf->cache_dir, &st) < 0)
		fatal("cache_dir %s", conf->cache_dir);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		fatal("cache_dir %s", conf->cache_dir);
	}
}

static int
cmd_daemon(struct feedcache_conf *conf)
{
	struct sched_opts o = {.daemon = true,
	    .stop = &stop_flag,
	    .reload = &reload_flag,
	    .on_ready = notify_ready};
	int rc;

	ensure_cache_dir(conf);
	install_signals();
	o.wake_fd = wake_pipe[0];
	if (conf->nfeeds == 0)
		log_warnx("%s has no [feed NAME] sections: nothing to keep "
		          "fresh",
		    conf->path);
	log_info("%zu feeds, cache %s", conf->nfeeds, conf->cache_dir);
	rc = sched_run(conf, &o);
	notify_systemd("STOPPING=1");
	if (rc < 0) {
		errno = -rc;
		log_error("scheduler");
		return 1;
	}
	return 0;
}

static int
cmd_refresh(struct feedcache_conf *conf, const struct args *a)
{
	struct sched_opts o = {.stop = &stop_flag,
	    .reload = &reload_flag,
	    .wake_fd = -1,
	    .force = a->force};
	int rc;

	for (int i = 0; i < a->nnames; i++)
		conf_feed(conf, a->names[i]);
	if (a->nnames > 0) {
		o.names = a->names;
		o.nnames = (size_t)a->nnames;
	}
	ensure_cache_dir(conf);
	install_signals();
	o.wake_fd = wake_pipe[0];
	rc = sched_run(conf, &o);
	if (rc < 0) {
		errno = -rc;
		log_error("refresh");
		return 1;
	}
	return rc;
}

/* fd must be a regular file (else EINVAL); then it is made blocking. */
static int
cache_file_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

/* Copies fd to stdout. Returns 0 or -errno. */
static int
copy_out(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w =
			    write(STDOUT_FILENO, buf + off, (size_t)(n - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			off += w;
		}
	}
	return 0;
}

/*
 * May a reader that found the copy too old ask the origin now? Not
 * before a Retry-After deadline, and not while backing off after a
 * failure: a thousand impatient readers must not undo the backoff.
 */
static bool
may_refresh(const struct feed_meta *m, int64_t now)
{
	return m->retry_after <= now &&
	       (m->failures == 0 || m->next_due <= now);
}

/*
 * The refresh a stale `get` starts: detached (double fork, new session,
 * standard streams on /dev/null so no reader waits on it), holding the
 * lock its parent won, through the same fetch.c path as everything else.
 * In fleet mode it asks the fleet first: a copy the fleet checked within
 * max_age_s is followed, not fetched again.
 */
static void
background_refresh(const struct feedcache_conf *conf, const struct feed *f,
    int lock_fd, int64_t max_age_s)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("fork");
		return;
	}
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);

	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct fleet *fl = conf->redis ? fleet_new(conf) : NULL;
	struct fleet_lease lease = {0};
	struct fetch fx;
	struct fetch_outcome out;
	char why[300];
	int64_t now = (int64_t)time(NULL), due;
	CURLcode code;

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	/* In fleet mode a reader's refresh asks the fleet first, like the
	 * daemon: it may find a newer copy there, or another node at it. */
	if (fleet_claim(fl, f, max_age_s > 0 ? max_age_s : 1, now, &due,
	        &lease) == FLEET_WAIT)
		_exit(0);
	if (fetch_start(&fx, conf, f, lock_fd, why, sizeof(why)) < 0) {
		fleet_release(fl, f, now, &lease);
		_exit(1);
	}
	/* Checked again under the lock, where the meta file is current. */
	if (!may_refresh(&fx.meta, (int64_t)time(NULL))) {
		fetch_abandon(&fx);
		fleet_release(fl, f, now, &lease);
		_exit(0);
	}
	do
		code = curl_easy_perform(fx.easy);
	while (fetch_next_hop(&fx, code));
	fetch_finish(&fx, code, (int64_t)time(NULL), &out);
	fleet_publish(fl, f, &fx.meta, (int64_t)time(NULL), &lease);
	fleet_free(fl);
	if (out.result == RESULT_UPDATED && f->on_change != NULL) {
		char path[PATH_MAX];

		if (feed_body_path(conf, f->name, path, sizeof(path)) == 0)
			hook_run_wait(f->name, f->on_change, path, fx.meta.hash,
			    conf->hook_timeout_ns);
	}
	_exit(fetch_result_ok(out.result) ? 0 : 1);
}

/*
 * A reader that may not read the configuration (the packaged web server
 * user) cannot refresh a feed itself: it asks the daemon, through the
 * FIFO the daemon keeps in the cache directory for the readers' group.
 * Returns 0, or -ENXIO when no daemon listens (a timer setup: the feed
 * is refreshed on its interval), or -errno.
 */
static int
ask_daemon(const char *cache_dir, const char *name)
{
	char path[4096], line[FEED_NAME_MAX + 2];
	int fd, n = snprintf(line, sizeof(line), "%s\n", name);

	if (snprintf(path, sizeof(path), "%s/.requests", cache_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* One write under PIPE_BUF: the daemon reads it whole. */
	if (write(fd, line, (size_t)n) != n) {
		n = -errno;
		close(fd);
		return n == 0 ? -EIO : n;
	}
	close(fd);
	return 0;
}

/*
 * Starts a refresh of a feed that is too old (or has no copy yet),
 * without waiting: by this process when it has the configuration, or by
 * the daemon when it is a reader with only the cache directory. Whoever
 * wins the lock refreshes; everyone else just reads.
 */
static bool
start_refresh(const struct feedcache_conf *conf, const struct feed *f,
    const char *name, int64_t max_age_s)
{
	int lock, rc;

	/* The first reader of a new cache makes its directory. */
	if (f != NULL && mkdir(conf->cache_dir, 0755) < 0 && errno != EEXIST)
		log_warn("cache_dir %s", conf->cache_dir);
	if ((lock = feed_lock(conf, name)) < 0)
		return lock == -EWOULDBLOCK; /* someone is at it */
	if (f != NULL) {
		fflush(stdout);
		background_refresh(conf, f, lock, max_age_s);
		rc = 0;
	} else if ((rc = ask_daemon(conf->cache_dir, name)) < 0) {
		errno = -rc;
		log_debug("feed %s: asking the daemon for a refresh", name);
	}
	close(lock);
	return rc == 0;
}

/* get --meta: what an application shows ("as of") and serves with. */
static int
print_meta(const char *name, const struct feed_meta *m)
{
	struct json_writer w;
	char text[4096];

	json_init(&w, text, sizeof(text));
	json_object_begin(&w);
	json_kv_string(&w, "feed", name);
	json_kv_string(&w, "content_type", m->content_type);
	json_key(&w, "fetched");
	m->fetched > 0 ? json_i64(&w, m->fetched) : json_null(&w);
	json_key(&w, "checked");
	m->checked > 0 ? json_i64(&w, m->checked) : json_null(&w);
	json_kv_string(&w, "etag", m->etag);
	json_kv_string(&w, "sha256", m->hash);
	json_kv_u64(&w, "size", m->size);
	json_kv_string(&w, "last_result", fetch_result_name(m->last_result));
	json_kv_u64(&w, "failures", m->failures);
	json_object_end(&w);
	if (json_finish(&w) < 0)
		return 1;
	printf("%s\n", text);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * get NAME [--max-age D] [--meta]. conf may be a reader's: only its
 * cache_dir is set, and no feed (reader mode, see ask_daemon).
 */
static int
cmd_get(struct feedcache_conf *conf, bool reader, const struct args *a)
{
	const struct feed *f = NULL;
	const char *name = a->names[0];
	struct feed_meta m;
	char body[4096], meta[4096];
	uint64_t max_age_ns = a->max_age_ns;
	bool check_age = a->check_age, want_meta = a->meta, have_meta,
	     started = false;
	int64_t now = (int64_t)time(NULL);
	int fd, rc, open_errno;

	if (!reader)
		f = conf_feed(conf, name);
	else if (!feed_name_valid(name)) {
		log_errorx("'%s' is not a feed name", name);
		return CLI_EXIT_USAGE;
	}
	if (feed_body_path(conf, name, body, sizeof(body)) < 0 ||
	    feed_meta_path(conf, name, meta, sizeof(meta)) < 0) {
		log_errorx("feed %s: cache path too long", name);
		return 1;
	}
	/* Opened first: whatever a refresh does next, this is what we print.
	 * Never through a symbolic link (it could point anywhere) and only
	 * a regular file (a FIFO would hang the reader). */
	fd = want_meta
	         ? -1
	         : open(body, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0 && cache_file_check(fd) < 0) {
		int e = errno;

		close(fd);
		fd = -1;
		errno = e;
	}
	open_errno = want_meta ? 0 : errno;
	have_meta = meta_load(meta, &m) == 0;
	if (!have_meta)
		memset(&m, 0, sizeof(m));
	/* A missing copy is the oldest of all: readers bootstrap the cache. */
	if (check_age && (fd >= 0 || open_errno == ENOENT) &&
	    now - m.checked > (int64_t)(max_age_ns / NSEC_PER_SEC) &&
	    may_refresh(&m, now))
		started = start_refresh(
		    conf, f, name, (int64_t)(max_age_ns / NSEC_PER_SEC));
	if (want_meta) {
		if (!have_meta || m.hash[0] == '\0') {
			log_errorx("feed %s: no copy yet", name);
			return 1;
		}
		return print_meta(name, &m);
	}
	if (fd < 0) {
		errno = open_errno;
		if (errno == ENOENT && started)
			log_errorx("feed %s: no copy yet; a refresh has been "
			           "started, ask again shortly",
			    name);
		else if (errno == ENOENT && m.last_error[0] != '\0')
			log_errorx("feed %s: no copy yet; the last attempt "
			           "failed: %s",
			    name, m.last_error);
		else if (errno == ENOENT && reader)
			log_errorx("feed %s: no copy in %s (is the daemon "
			           "running, is the name right?)",
			    name, conf->cache_dir);
		else if (errno == ENOENT)
			log_errorx("feed %s: no copy has been fetched yet (try "
			           "feedcache refresh %s)",
			    name, name);
		else if (errno == ELOOP || errno == EINVAL)
			log_errorx("feed %s: %s is not a regular file (a "
			           "symbolic link?); not following it",
			    name, body);
		else
			log_error("feed %s: %s", name, body);
		return 1;
	}
	rc = copy_out(fd);
	close(fd);
	if (rc < 0) {
		errno = -rc;
		log_error("feed %s: writing the copy", name);
		return 1;
	}
	return 0;
}

static void
format_age(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 120)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

/* The fleet's view of f, or NULL outside fleet mode or without Redis. */
static const struct fleet_view *
fleet_of(struct fleet *fl, const struct feed *f, struct fleet_view *v)
{
	return fl != NULL && fleet_view(fl, f->name, v) == 0 ? v : NULL;
}

static void
status_json(const struct feed *f, const struct feed_meta *m, bool have,
    const struct fleet_view *fv, int64_t now)
{
	struct json_writer w;
	char text[4096], url[2048];
	int n;

	json_init(&w, text, sizeof(text));
	json_object_begin(&w);
	json_kv_string(&w, "feed", f->name);
	feed_url_masked(f->url, url, sizeof(url));
	json_kv_string(&w, "url", url);
	json_key(&w, "copy");
	json_bool(&w, have && m->hash[0] != '\0');
	json_kv_double_or_null(
	    &w, "age_s", have && m->checked > 0, (double)(now - m->checked), 0);
	json_kv_u64(&w, "size", have ? m->size : 0);
	json_kv_string(&w, "last_result",
	    fetch_result_name(have ? m->last_result : RESULT_NONE));
	json_kv_string(&w, "last_error", have ? m->last_error : "");
	json_kv_u64(&w, "failures", have ? m->failures : 0);
	json_kv_double_or_null(&w, "next_due", have, (double)m->next_due, 0);
	json_kv_double_or_null(&w, "retry_after", have && m->retry_after > now,
	    (double)m->retry_after, 0);
	json_kv_double_or_null(
	    &w, "fetched", have && m->fetched > 0, (double)m->fetched, 0);
	json_kv_double_or_null(
	    &w, "checked", have && m->checked > 0, (double)m->checked, 0);
	json_key(&w, "fleet");
	if (fv == NULL) {
		json_null(&w);
	} else {
		json_object_begin(&w);
		json_kv_string(&w, "holder", fv->holder);
		json_kv_u64(&w, "version", fv->version);
		json_key(&w, "current");
		json_bool(&w, have && strcmp(fv->hash, m->hash) == 0);
		json_object_end(&w);
	}
	json_object_end(&w);
	if ((n = json_finish(&w)) > 0)
		printf("%s\n", text);
}

static int
cmd_status(struct feedcache_conf *conf, const struct args *a)
{
	bool json = a->json, all_fresh = true, redis_said = false;
	int64_t now = (int64_t)time(NULL);
	struct fleet *fl = conf->redis ? fleet_new(conf) : NULL;

	for (int i = 0; i < a->nnames; i++)
		conf_feed(conf, a->names[i]);
	if (!json)
		printf("%-20s %6s %-13s %4s %8s %11s %9s  %s\n", "feed", "age",
		    "last result", "fail", "next in", "retry-after", "size",
		    "last error");
	for (size_t i = 0; i < conf->nfeeds; i++) {
		const struct feed *f = conf->feeds[i];
		struct feed_meta m;
		char path[4096], age[32], next[32], retry[32], size[24];
		struct fleet_view view;
		const struct fleet_view *fv;
		bool have, wanted = a->nnames == 0;

		for (int k = 0; k < a->nnames; k++)
			wanted |= strcmp(a->names[k], f->name) == 0;
		if (!wanted)
			continue;
		have = feed_meta_path(conf, f->name, path, sizeof(path)) == 0 &&
		       meta_load(path, &m) == 0;
		if (!have)
			memset(&m, 0, sizeof(m));
		text_strip_controls(m.last_error);
		fv = fleet_of(fl, f, &view);
		all_fresh &= !feed_is_stale(f, &m, have, now);
		if (fl != NULL && fv == NULL && !redis_said && !json) {
			fprintf(stderr,
			    "feedcache: warning: Redis unreachable (fleet "
			    "mode): showing this node's copies only\n");
			redis_said = true;
		}
		if (json) {
			status_json(f, &m, have, fv, now);
			continue;
		}
		format_age(have && m.checked > 0 ? now - m.checked : -1, age,
		    sizeof(age));
		if (!have)
			snprintf(next, sizeof(next), "-");
		else if (m.next_due <= now)
			snprintf(next, sizeof(next), "now");
		else
			format_age(m.next_due - now, next, sizeof(next));
		format_age(m.retry_after > now ? m.retry_after - now : -1,
		    retry, sizeof(retry));
		snprintf(
		    size, sizeof(size), "%llu", (unsigned long long)m.size);
		printf("%-20s %6s %-13s %4u %8s %11s %9s  %s\n", f->name, age,
		    m.last_result == RESULT_NONE && m.hash[0] != '\0'
		        ? "followed"
		        : fetch_result_name(m.last_result),
		    m.failures, next, retry, m.hash[0] ? size : "-",
		    m.last_error);
		if (fv != NULL)
			printf("%-20s fleet version %llu, %s, lease %s\n", "",
			    (unsigned long long)fv->version,
			    have && strcmp(fv->hash, m.hash) == 0
			        ? "this node current"
			        : "this node behind",
			    fv->holder[0] ? fv->holder : "free");
	}
	fleet_free(fl);
	return all_fresh ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *conf_path, *cache_dir;
	bool reader = false;
	struct feedcache_conf conf;
	struct conf_error err;
	struct args a;
	int rc;

	log_init("feedcache", LOG_LEVEL_INFO);
	parse_args(argc, argv, &a);
	log_set_level(a.level);
	conf_path = a.conf_path;
	cache_dir = a.cache_dir;
	if (a.cmd == CMD_CHECK_CONFIG)
		return cmd_check_config(conf_path);
	/*
	 * A reader: get with --cache-dir, or as a user who may not read the
	 * configuration (it holds API keys). It needs only the cache.
	 */
	if (cache_dir == NULL &&
	    (rc = feedcache_conf_load(conf_path, &conf, &err)) < 0) {
		if (rc != -EACCES || a.conf_given || a.cmd != CMD_GET) {
			/* A monitoring plugin says UNKNOWN, on stdout. */
			if (a.cmd == CMD_CHECK) {
				printf("FEEDCACHE UNKNOWN - %s\n", err.msg);
				return CHECK_UNKNOWN;
			}
			log_errorx("%s", err.msg);
			return CLI_EXIT_USAGE;
		}
		cache_dir = DEFAULT_CACHE_DIR;
	}
	if (cache_dir != NULL) {
		reader = true;
		memset(&conf, 0, sizeof(conf));
		conf.gid = (gid_t)-1;
		if ((conf.cache_dir = strdup(cache_dir)) == NULL)
			fatalx("out of memory");
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("libcurl failed to initialise");
	validate_init();

	switch (a.cmd) {
	case CMD_DAEMON:
		rc = cmd_daemon(&conf);
		break;
	case CMD_REFRESH:
		rc = cmd_refresh(&conf, &a);
		break;
	case CMD_GET:
		rc = cmd_get(&conf, reader, &a);
		break;
	case CMD_CHECK:
		rc = cmd_check(&conf, &a.check, a.names, a.nnames);
		break;
	default:
		/* A report on stdout: the fleet's "connected" is noise. */
		if (a.level == LOG_LEVEL_INFO)
			log_set_level(LOG_LEVEL_WARNING);
		rc = cmd_status(&conf, &a);
		break;
	}
	feedcache_conf_free(&conf);
	curl_global_cleanup();
	return rc;
}
