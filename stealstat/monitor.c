/* SPDX-License-Identifier: ISC */
/*
 * `stealstat monitor`: the long-running recorder. Samples every
 * --interval, appends each sample to the history, runs the same engine
 * as live mode for the exporter's counters and verdict, and serves
 * /metrics (--listen) and/or writes a node_exporter textfile.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cli.h"
#include "cmdopts.h"
#include "engine.h"
#include "exporter.h"
#include "history.h"
#include "idlepoll.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "readfile.h"
#include "record.h"
#include "sample.h"
#include "stealstat.h"
#include "timeutil.h"

static volatile int monitor_stop;

static void
on_signal(int sig)
{
	(void)sig;
	monitor_stop = 1;
}

struct monitor_opts {
	const char *history; /* NULL: none */
	struct history_limits lim;
	uint64_t interval_ns;
	uint64_t count; /* 0: until stopped */
	const char *listen;
	const char *prom_path;
	const char *proc_root;
	const char *cgroup_stat;
	bool use_cgroup;
	bool speed; /* run the speed probe each sample */
	const char *replay;
	struct verdict_opts verdict;
};

static const char monitor_usage[] =
    "usage: stealstat monitor [--history DIR] [--interval DURATION] "
    "[--listen ADDR:PORT]\n"
    "                         [--keep DURATION] [--max-size SIZE] "
    "[--prometheus FILE]\n"
    "Samples every interval (default 10s) into a rotating history "
    "(default\n"
    "$STATE_DIRECTORY or /var/lib/stealstat) and exports counters.\n"
    "      --history DIR        where the history goes; --no-history: "
    "none\n"
    "      --keep DURATION      delete history older than this (31d)\n"
    "      --max-size SIZE      and keep the history under this (64M)\n"
    "      --listen ADDR:PORT   serve /metrics (e.g. 127.0.0.1:9133)\n"
    "      --prometheus FILE    write the same metrics to a textfile\n"
    "      --count N            stop after N samples\n"
    "      --replay FILE        take samples from a recording (stealstat "
    "record)\n"
    "      --no-speed           do not run the speed probe\n"
    "      --proc DIR, --cgroup FILE, --no-cgroup, and the verdict "
    "thresholds\n"
    "      (--busy, --steal, --sustain, ...) as in live mode\n"
    "  -h, --help, -V, --version\n";

enum {
	MOPT_HISTORY = 256,
	MOPT_NO_HISTORY,
	MOPT_INTERVAL,
	MOPT_LISTEN,
	MOPT_KEEP,
	MOPT_MAX_SIZE,
	MOPT_PROMETHEUS,
	MOPT_COUNT,
	MOPT_PROC,
	MOPT_CGROUP,
	MOPT_NO_CGROUP,
	MOPT_REPLAY,
	MOPT_NO_SPEED,
};

static void
monitor_args(int argc, char **argv, struct monitor_opts *o)
{
	static const struct option longopts[] = {
	    {"history", required_argument, NULL, MOPT_HISTORY},
	    {"no-history", no_argument, NULL, MOPT_NO_HISTORY},
	    {"interval", required_argument, NULL, MOPT_INTERVAL},
	    {"listen", required_argument, NULL, MOPT_LISTEN},
	    {"keep", required_argument, NULL, MOPT_KEEP},
	    {"max-size", required_argument, NULL, MOPT_MAX_SIZE},
	    {"prometheus", required_argument, NULL, MOPT_PROMETHEUS},
	    {"count", required_argument, NULL, MOPT_COUNT},
	    {"proc", required_argument, NULL, MOPT_PROC},
	    {"cgroup", required_argument, NULL, MOPT_CGROUP},
	    {"no-cgroup", no_argument, NULL, MOPT_NO_CGROUP},
	    {"no-speed", no_argument, NULL, MOPT_NO_SPEED},
	    {"replay", required_argument, NULL, MOPT_REPLAY},
	    CLI_HELP_VERSION,
	    CMDOPTS_VERDICT_LONG,
	    {NULL, 0, NULL, 0},
	};
	const char *state = getenv("STATE_DIRECTORY");
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct cli cli;
	char why[160];
	int c;

	*o = (struct monitor_opts){
	    .history = state != NULL && *state != '\0' && !strchr(state, ':')
	                   ? state
	                   : "/var/lib/stealstat",
	    .lim = {.keep_ns = 31 * 86400 * NSEC_PER_SEC,
	        .max_size = 64u << 20},
	    .interval_ns = 10 * NSEC_PER_SEC,
	    .proc_root = "/proc",
	    .use_cgroup = true,
	    .speed = true};
	verdict_opts_default(&o->verdict);
	cli_start(&cli, "hV", longopts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		int rc =
		    cmdopts_verdict(c, optarg, &o->verdict, why, sizeof(why));

		if (rc < 0)
			cmdopts_usage_error("monitor", "%s", why);
		if (rc > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(monitor_usage, stdout);
			exit(0);
		case 'V':
			printf("stealstat %s\n", TK_VERSION);
			exit(0);
		case MOPT_HISTORY:
			o->history = optarg;
			break;
		case MOPT_NO_HISTORY:
			o->history = NULL;
			break;
		case MOPT_INTERVAL:
			if (parse_duration_ns(optarg, &o->interval_ns) < 0 ||
			    o->interval_ns < 10 * NSEC_PER_MSEC ||
			    o->interval_ns > 86400 * NSEC_PER_SEC)
				cmdopts_usage_error("monitor",
				    "--interval '%s' is not a "
				    "duration from 10ms to 1d",
				    optarg);
			break;
		case MOPT_LISTEN:
			/* Judged here, before the history directory is
			 * touched; exporter_listen() binds it later. */
			if (parse_sockaddr(optarg, &ss, &sslen) < 0)
				cmdopts_usage_error("monitor",
				    "--listen '%s' is not ADDR:PORT (an IP "
				    "address, not a name: 127.0.0.1:9133, "
				    "[::1]:9133)",
				    optarg);
			o->listen = optarg;
			break;
		case MOPT_KEEP:
			if (parse_duration_ns(optarg, &o->lim.keep_ns) < 0 ||
			    o->lim.keep_ns < NSEC_PER_SEC)
				cmdopts_usage_error("monitor",
				    "--keep '%s' is not a duration (31d)",
				    optarg);
			break;
		case MOPT_MAX_SIZE:
			if (parse_size(optarg, &o->lim.max_size) < 0 ||
			    o->lim.max_size < 16384)
				cmdopts_usage_error("monitor",
				    "--max-size '%s' is not a "
				    "size of at least 16K (64M)",
				    optarg);
			break;
		case MOPT_PROMETHEUS:
			o->prom_path = optarg;
			break;
		case MOPT_COUNT:
			if (parse_u64(optarg, 1, UINT64_MAX, &o->count) < 0)
				cmdopts_usage_error("monitor",
				    "--count '%s' is not a positive number",
				    optarg);
			break;
		case MOPT_PROC:
			o->proc_root = optarg;
			break;
		case MOPT_CGROUP:
			o->cgroup_stat = optarg;
			break;
		case MOPT_NO_CGROUP:
			o->use_cgroup = false;
			break;
		case MOPT_NO_SPEED:
			o->speed = false;
			break;
		case MOPT_REPLAY:
			o->replay = optarg;
			break;
		default:
			cmdopts_usage_error("monitor", "%s", cli.why);
		}
	}
	if (cli_too_many(&cli, argc, argv, 0))
		cmdopts_usage_error("monitor", "%s", cli.why);
}

struct monitor {
	const struct monitor_opts *o;
	struct engine engine;
	struct exporter_totals totals;
	struct exporter exporter;
	bool listening;
	struct history_writer hist;
	bool have_hist;
	int last_hist_error;
	int last_prom_error;
	enum verdict logged;
	bool have_logged;
	uint64_t samples;
};

/* Writes the textfile; a failure is logged once per new error. */
static void
monitor_textfile(struct monitor *m)
{
	char *text;
	long n = exporter_render(&m->totals, &text);
	int rc;

	if (n < 0) {
		rc = (int)n;
	} else {
		rc = atomic_replace_sync(
		    m->o->prom_path, text, (size_t)n, 0644, ATOMIC_SYNC_NONE);
		free(text);
	}
	if (rc < 0 && rc != m->last_prom_error)
		log_warnx("%s: %s", m->o->prom_path, strerror(-rc));
	m->last_prom_error = rc;
}

static bool
actionable(enum verdict v)
{
	return v != VERDICT_OK && v != VERDICT_IDLE_STEAL &&
	       v != VERDICT_GLITCH;
}

/* One sample: into the history, through the engine, out to exporters. */
static void
monitor_sample(
    struct monitor *m, const struct snapshot *prev, const struct snapshot *cur)
{
	const struct interval *iv;
	char why[REASON_MAX];
	int rc;

	m->samples++;
	if (m->have_hist) {
		rc = history_append(&m->hist, cur);
		if (rc < 0 && rc != m->last_hist_error) {
			errno = -rc;
			log_warn("history %s", m->o->history);
		} else if (rc == 0 && m->last_hist_error != 0) {
			log_info("history %s: writing again", m->o->history);
		}
		m->last_hist_error = rc;
		m->totals.history_bytes = history_size(&m->hist);
		m->totals.have_history = true;
	}
	if (prev == NULL)
		return;
	if ((iv = engine_step(&m->engine, prev, cur)) == NULL ||
	    exporter_add(&m->totals, iv) < 0)
		fatalx("out of memory");
	/* A verdict that asks for action is logged when it starts and
	 * ends; the engine's sustain keeps it from flapping. ok and
	 * idle-steal ask for nothing and alternate freely. */
	if (!iv->glitch && m->o->replay == NULL &&
	    actionable(iv->total.verdict) != actionable(m->logged)) {
		if (m->have_logged || actionable(iv->total.verdict))
			log_info("verdict %s: %s",
			    verdict_name(iv->total.verdict),
			    engine_reason(
			        &m->engine, iv, &iv->total, why, sizeof(why)));
		m->logged = iv->total.verdict;
		m->have_logged = true;
	}
	if (m->o->prom_path != NULL)
		monitor_textfile(m);
}

static void
swap(struct snapshot **a, struct snapshot **b)
{
	struct snapshot *t = *a;

	*a = *b;
	*b = t;
}

static int
monitor_replay(struct monitor *m, const char *file)
{
	struct record_reader rr;
	struct raw_snapshot raw;
	struct snapshot snaps[2], *prev = &snaps[0], *cur = &snaps[1];
	const char *what;
	bool have_prev = false;
	size_t len;
	char *buf;
	int rc;

	if ((rc = read_file_max(file, RECORD_MAX_BYTES, &buf, &len, NULL)) <
	    0) {
		errno = -rc;
		log_error("replay: %s", file);
		return 1;
	}
	if (record_open(&rr, file, buf, len) < 0) {
		log_errorx("%s", rr.error);
		free(buf);
		return 1;
	}
	if (snapshot_init(prev, 64, true) < 0 ||
	    snapshot_init(cur, 64, true) < 0)
		fatalx("out of memory");
	m->engine.hz = m->totals.hz = m->hist.hz = rr.hz;
	m->hist.sync = false; /* an import: the recording is the backup */
	snprintf(
	    m->hist.idle_poll, sizeof(m->hist.idle_poll), "%s", rr.idle_poll);
	while (!monitor_stop && (rc = record_next(&rr, &raw)) != 0) {
		if (rc < 0) {
			log_warnx("%s", rr.error);
			break;
		}
		if (snapshot_parse(&raw, cur, &what) < 0) {
			log_warnx("%s:%u: snapshot skipped: its %s is not "
			          "readable",
			    file, rr.line, what);
			continue;
		}
		monitor_sample(m, have_prev ? prev : NULL, cur);
		swap(&prev, &cur);
		have_prev = true;
		if (m->o->count > 0 && m->samples >= m->o->count)
			break;
	}
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	free(buf);
	return 0;
}

static int
monitor_live(struct monitor *m)
{
	const struct monitor_opts *o = m->o;
	struct sampler sampler;
	struct snapshot snaps[2], *prev = &snaps[0], *cur = &snaps[1];
	struct raw_snapshot raw;
	struct speed_prober prober;
	bool have_prev = false, speed_on = false;
	char best[PATH_MAX];
	const char *what;
	uint64_t start = time_mono_ns();
	int rc;

	rc =
	    sampler_open(&sampler, o->proc_root, o->cgroup_stat, o->use_cgroup);
	if (rc < 0) {
		errno = -rc;
		log_error("%s/stat", o->proc_root);
		return 1;
	}
	if (snapshot_init(prev, 64, true) < 0 ||
	    snapshot_init(cur, 64, true) < 0)
		fatalx("out of memory");
	/* The speed probe's bests live in the history directory, so they
	 * survive restarts; without a history, only in memory. */
	if (o->speed) {
		if (o->history != NULL)
			snprintf(best, sizeof(best), "%s/" SPEED_BEST_NAME,
			    o->history);
		rc = speed_prober_init(&prober, o->proc_root, NULL,
		    o->history != NULL ? best : NULL,
		    speed_budget_ns(o->interval_ns));
		if (rc < 0) {
			errno = -rc;
			log_warn("speed probe: off");
		} else {
			speed_on = true;
			if (prober.best_load_rc < 0) {
				errno = -prober.best_load_rc;
				log_warn("%s: best speeds not loaded, "
				         "learning afresh",
				    best);
			}
		}
	}
	notify_systemd("READY=1");
	for (uint64_t k = 0; !monitor_stop; k++) {
		uint64_t deadline = start + k * o->interval_ns;

		/* After a stall (SIGSTOP, suspend) skip missed ticks. */
		if (deadline + o->interval_ns < time_mono_ns()) {
			k = (time_mono_ns() - start) / o->interval_ns + 1;
			deadline = start + k * o->interval_ns;
		}
		if ((rc = exporter_wait(m->listening ? &m->exporter : NULL,
		         deadline, &m->totals, &monitor_stop)) < 0) {
			errno = -rc;
			log_warn("poll");
		}
		if (monitor_stop)
			break;
		if ((rc = sampler_read(&sampler, &raw)) < 0) {
			errno = -rc;
			log_warn("%s", sampler.stat_path);
			continue;
		}
		if (speed_on)
			speed_attach(&prober, &raw);
		if (snapshot_parse(&raw, cur, &what) < 0) {
			log_warnx("%s/%s: unreadable sample skipped",
			    o->proc_root, what);
			continue;
		}
		monitor_sample(m, have_prev ? prev : NULL, cur);
		swap(&prev, &cur);
		have_prev = true;
		if (o->count > 0 && m->samples >= o->count)
			break;
	}
	notify_systemd("STOPPING=1");
	if (speed_on)
		speed_prober_free(&prober); /* saves new bests */
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	sampler_close(&sampler);
	return 0;
}

int
monitor_main(int argc, char **argv)
{
	struct monitor_opts o;
	struct monitor m = {.o = &o};
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned hz = stealstat_user_hz();
	char why[256], idle_poll[64] = "";
	int rc, status;

	monitor_args(argc, argv, &o);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (engine_init(&m.engine, &o.verdict, hz) < 0)
		fatalx("out of memory");
	m.totals.hz = hz;
	if (o.replay == NULL)
		idle_poll_detect(o.proc_root, idle_poll, sizeof(idle_poll));
	snprintf(
	    m.engine.idle_poll, sizeof(m.engine.idle_poll), "%s", idle_poll);
	/* Everything that can fail at start does so before the first
	 * sample, with a message: the unit then fails visibly. */
	if (o.prom_path != NULL && (rc = textfile_check(o.prom_path)) < 0) {
		log_errorx("--prometheus %s: cannot write a file there: %s",
		    o.prom_path, strerror(-rc));
		return 1;
	}
	/* The listener before the history: an address in use must not
	 * leave an empty segment behind. */
	if (o.listen != NULL) {
		if (exporter_listen(&m.exporter, o.listen, why, sizeof(why)) <
		    0) {
			log_errorx("%s", why);
			return 1;
		}
		m.listening = true;
	}
	if (o.history != NULL) {
		if (history_open(&m.hist, o.history, &o.lim, hz, idle_poll, why,
		        sizeof(why)) < 0) {
			log_errorx("%s", why);
			if (m.listening)
				exporter_close(&m.exporter);
			return 1;
		}
		m.have_hist = true;
	}
	if (o.replay == NULL)
		log_info("monitor: a sample every %.3g s%s%s%s%s",
		    (double)o.interval_ns / NSEC_PER_SEC,
		    o.history != NULL ? ", history in " : "",
		    o.history != NULL ? o.history : "",
		    o.listen != NULL ? ", /metrics on " : "",
		    o.listen != NULL ? o.listen : "");
	status =
	    o.replay != NULL ? monitor_replay(&m, o.replay) : monitor_live(&m);
	if (m.listening)
		exporter_close(&m.exporter);
	if (m.have_hist)
		history_close(&m.hist);
	exporter_totals_free(&m.totals);
	engine_free(&m.engine);
	return status;
}
