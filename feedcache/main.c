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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fetch.h"
#include "fleet.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "schedule.h"
#include "timeutil.h"
#include "validate.h"

#define DEFAULT_CONF "/etc/feedcache.conf"
#define DEFAULT_CACHE_DIR "/var/cache/feedcache"
#define EXIT_USAGE 2

static volatile sig_atomic_t stop_flag, reload_flag;
static int wake_pipe[2] = {-1, -1};

static _Noreturn void
usage(int status)
{
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
	      "options:\n"
	      "  -c, --config FILE  configuration (default " DEFAULT_CONF ")\n"
	      "  -C, --cache-dir DIR  get: read DIR, without the "
	      "configuration\n"
	      "  -v, --verbose      more log output\n"
	      "  -h, --help, -V, --version\n",
	    status == 0 ? stdout : stderr);
	exit(status);
}

static const struct feed *
conf_feed(const struct feedcache_conf *conf, const char *name)
{
	const struct feed *f = feedcache_conf_find(conf, name);

	if (f == NULL) {
		log_warnx("no feed '%s' in %s", name, conf->path);
		exit(EXIT_USAGE);
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

static void
ensure_cache_dir(const struct feedcache_conf *conf)
{
	struct stat st;

	if (stat(conf->cache_dir, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	if (mkdir(conf->cache_dir, 0755) < 0 && errno != EEXIST)
		fatal("cache_dir %s", conf->cache_dir);
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
		log_warn("scheduler");
		return 1;
	}
	return 0;
}

static int
cmd_refresh(struct feedcache_conf *conf, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct sched_opts o = {
	    .stop = &stop_flag, .reload = &reload_flag, .wake_fd = -1};
	bool all = false;
	int c, rc;

	optind = 0; /* 0, not 1: a full rescan, so options may follow NAME */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			o.force = true;
		else if (c == 'a')
			all = true;
		else
			usage(EXIT_USAGE);
	}
	if (all && optind < argc) {
		log_warnx("refresh: --all or names, not both");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		conf_feed(conf, argv[i]);
	if (optind < argc) {
		o.names = argv + optind;
		o.nnames = (size_t)(argc - optind);
	}
	ensure_cache_dir(conf);
	install_signals();
	o.wake_fd = wake_pipe[0];
	rc = sched_run(conf, &o);
	if (rc < 0) {
		errno = -rc;
		log_warn("refresh");
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
cmd_get(struct feedcache_conf *conf, bool reader, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"max-age", required_argument, NULL, 'm'},
	    {"meta", no_argument, NULL, 'M'},
	    {NULL, 0, NULL, 0},
	};
	const struct feed *f = NULL;
	const char *name;
	struct feed_meta m;
	char body[4096], meta[4096];
	uint64_t max_age_ns = 0;
	bool check_age = false, want_meta = false, have_meta, started = false;
	int64_t now = (int64_t)time(NULL);
	int c, fd, rc, open_errno;

	optind = 0; /* 0, not 1: a full rescan, so options may follow NAME */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'M') {
			want_meta = true;
			continue;
		}
		if (c != 'm')
			usage(EXIT_USAGE);
		if (parse_duration_ns(optarg, &max_age_ns) < 0) {
			log_warnx("--max-age: '%s' is not a duration (30s, 5m, "
			          "1h)",
			    optarg);
			return EXIT_USAGE;
		}
		check_age = true;
	}
	if (optind != argc - 1)
		usage(EXIT_USAGE);
	name = argv[optind];
	if (!reader)
		f = conf_feed(conf, name);
	else if (!feed_name_valid(name)) {
		log_warnx("'%s' is not a feed name", name);
		return EXIT_USAGE;
	}
	if (feed_body_path(conf, name, body, sizeof(body)) < 0 ||
	    feed_meta_path(conf, name, meta, sizeof(meta)) < 0) {
		log_warnx("feed %s: cache path too long", name);
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
			log_warnx("feed %s: no copy yet", name);
			return 1;
		}
		return print_meta(name, &m);
	}
	if (fd < 0) {
		errno = open_errno;
		if (errno == ENOENT && started)
			log_warnx("feed %s: no copy yet; a refresh has been "
			          "started, ask again shortly",
			    name);
		else if (errno == ENOENT && m.last_error[0] != '\0')
			log_warnx("feed %s: no copy yet; the last attempt "
			          "failed: %s",
			    name, m.last_error);
		else if (errno == ENOENT && reader)
			log_warnx("feed %s: no copy in %s (is the daemon "
			          "running, is the name right?)",
			    name, conf->cache_dir);
		else if (errno == ENOENT)
			log_warnx("feed %s: no copy has been fetched yet (try "
			          "feedcache refresh %s)",
			    name, name);
		else if (errno == ELOOP || errno == EINVAL)
			log_warnx("feed %s: %s is not a regular file (a "
			          "symbolic link?); not following it",
			    name, body);
		else
			log_warn("feed %s: %s", name, body);
		return 1;
	}
	rc = copy_out(fd);
	close(fd);
	if (rc < 0) {
		errno = -rc;
		log_warn("feed %s: writing the copy", name);
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
cmd_status(struct feedcache_conf *conf, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false, all_fresh = true, redis_said = false;
	int64_t now = (int64_t)time(NULL);
	struct fleet *fl = conf->redis ? fleet_new(conf) : NULL;
	int c;

	optind = 0; /* 0, not 1: a full rescan, so options may follow NAME */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			usage(EXIT_USAGE);
		json = true;
	}
	for (int i = optind; i < argc; i++)
		conf_feed(conf, argv[i]);
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
		bool have, wanted = optind == argc;

		for (int k = optind; k < argc; k++)
			wanted |= strcmp(argv[k], f->name) == 0;
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
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"cache-dir", required_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf_path = DEFAULT_CONF, *cache_dir = NULL;
	bool conf_given = false, reader = false;
	struct feedcache_conf conf;
	struct conf_error err;
	enum log_level level = LOG_LEVEL_INFO;
	const char *cmd;
	int c, rc;

	log_init("feedcache", level);
	while ((c = getopt_long(argc, argv, "+c:C:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_path = optarg;
			conf_given = true;
			break;
		case 'C':
			cache_dir = optarg;
			break;
		case 'v':
			level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("feedcache %s\n", TK_VERSION);
			return 0;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind >= argc)
		usage(EXIT_USAGE);
	log_set_level(level);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "daemon") != 0 && strcmp(cmd, "refresh") != 0 &&
	    strcmp(cmd, "get") != 0 && strcmp(cmd, "status") != 0 &&
	    strcmp(cmd, "check") != 0 && strcmp(cmd, "check-config") != 0) {
		log_warnx("unknown command '%s'", cmd);
		usage(EXIT_USAGE);
	}
	if (strcmp(cmd, "check-config") == 0) {
		if (argc != 1)
			usage(EXIT_USAGE);
		return cmd_check_config(conf_path);
	}
	if (cache_dir != NULL && strcmp(cmd, "get") != 0) {
		log_warnx("--cache-dir is for get only");
		usage(EXIT_USAGE);
	}
	/*
	 * A reader: get with --cache-dir, or as a user who may not read the
	 * configuration (it holds API keys). It needs only the cache.
	 */
	if (cache_dir == NULL &&
	    (rc = feedcache_conf_load(conf_path, &conf, &err)) < 0) {
		if (rc != -EACCES || conf_given || strcmp(cmd, "get") != 0) {
			/* A monitoring plugin says UNKNOWN, on stdout. */
			if (strcmp(cmd, "check") == 0) {
				printf("FEEDCACHE UNKNOWN - %s\n", err.msg);
				return CHECK_UNKNOWN;
			}
			log_errorx("%s", err.msg);
			return EXIT_USAGE;
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

	if (strcmp(cmd, "daemon") == 0)
		rc = argc == 1 ? cmd_daemon(&conf) : (usage(EXIT_USAGE), 2);
	else if (strcmp(cmd, "refresh") == 0)
		rc = cmd_refresh(&conf, argc, argv);
	else if (strcmp(cmd, "get") == 0)
		rc = cmd_get(&conf, reader, argc, argv);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(&conf, argc, argv);
	else {
		/* A report on stdout: the fleet's "connected" is noise. */
		if (level == LOG_LEVEL_INFO)
			log_set_level(LOG_LEVEL_WARNING);
		rc = cmd_status(&conf, argc, argv);
	}
	feedcache_conf_free(&conf);
	curl_global_cleanup();
	return rc;
}
