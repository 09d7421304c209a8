/* SPDX-License-Identifier: ISC */
/*
 * stealstat: measures CPU steal per CPU and says whether it hurts.
 *
 * Modes: live (the default), record, replay, probe and check. Live mode
 * and replay run the same engine on the same snapshots, so a recording
 * replays to exactly what was shown live.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "cmdopts.h"
#include "engine.h"
#include "exporter.h"
#include "idlepoll.h"
#include "log.h"
#include "parse.h"
#include "probe.h"
#include "readfile.h"
#include "record.h"
#include "report.h"
#include "sample.h"
#include "stealstat.h"
#include "timeutil.h"

static volatile sig_atomic_t stop_requested;

enum mode { MODE_LIVE, MODE_RECORD, MODE_REPLAY, MODE_PROBE, MODE_CHECK };

static enum mode cli_mode = MODE_LIVE; /* for usage_error() */

struct options {
	enum mode mode;
	struct verdict_opts verdict;
	uint64_t interval_ns;
	uint64_t count; /* 0: until interrupted */
	const char *proc_root;
	const char *cgroup_stat;
	bool use_cgroup;
	bool speed; /* run the speed probe each interval (live, record) */
	bool summary;
	const char *file; /* record or replay */
	bool per_cpu, json, quiet;
	struct cpu_list cpus; /* with per_cpu: the CPUs that get a row */
	bool force; /* record: overwrite an existing file */
	const char *on_verdict; /* check: VERDICT=STATUS,... */
	bool wide; /* reasons stay on their row */
	const char *prom_path;
	struct probe_opts probe;
	double warn, crit; /* check mode, fractions; < 0 unset */
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	probe_stop = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the sleep must end so the summary can print. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The help of each mode; a mode's own --help prints only its part. */
static const char usage_live[] =
    "usage: stealstat [-jq] [-P [CPUS]] [options] [INTERVAL [COUNT]]\n"
    "       stealstat --replay FILE [-jq] [-P [CPUS]] [options]\n"
    "       stealstat record FILE [options] [INTERVAL [COUNT]]\n"
    "       stealstat probe [--seconds DURATION] [--idle-vs-busy] "
    "[--json]\n"
    "       stealstat check -w PCT -c PCT [--interval DURATION]\n"
    "       stealstat monitor [--history DIR] [--interval DURATION] "
    "[--listen ADDR:PORT]\n"
    "       stealstat report [--since 24h|TIME] [--until TIME] "
    "[-jP] [--svg FILE]\n";
static const char usage_record[] =
    "usage: stealstat record FILE [-jq] [-P [CPUS]] [options] "
    "[INTERVAL [COUNT]]\n"
    "As live mode, and every raw sample is written to FILE.\n"
    "      --force            overwrite an existing FILE\n";
static const char usage_probe[] =
    "usage: stealstat probe [--seconds DURATION] [--idle-vs-busy] "
    "[--json]\n"
    "Measures steal directly, with a pinned spinning thread per CPU.\n"
    "      --seconds DURATION  how long (default 5s)\n"
    "      --idle-vs-busy      idle and busy phases: do idle vCPUs "
    "accrue steal?\n"
    "  -j, --json              one JSON object\n"
    "      --proc DIR          read DIR instead of /proc\n"
    "  -h, --help, -V, --version\n";
static const char usage_check[] =
    "usage: stealstat check -w PCT -c PCT [--interval DURATION] "
    "[options]\n"
    "A Nagios/Icinga plugin: one status line; exit 0 OK, 1 WARNING,\n"
    "2 CRITICAL, 3 UNKNOWN.\n"
    "  -w, --warning PCT        WARNING at this steal of wanted time "
    "(or --warn)\n"
    "  -c, --critical PCT       CRITICAL at this steal of wanted time "
    "(or --crit)\n"
    "      --interval DURATION  how long to sample (default 5s)\n"
    "      --replay FILE        judge a recording, first sample to "
    "last\n"
    "      --on-verdict VERDICT=STATUS[,...]\n"
    "                           the status a verdict gives (stolen=warning)"
    "\n";
static const char usage_options[] =
    "options:\n"
    "  -P, --per-cpu[=CPUS]   a row per CPU as well as the total;\n"
    "                         -P ALL, or only CPUS: -P 0,2-3 (as mpstat)\n"
    "  -j, --json             one JSON object per row\n"
    "  -q, --quiet            no rows, only the summary\n"
    "      --no-summary       no summary at the end\n"
    "      --wide             reasons on their row, past column 100\n"
    "      --prometheus FILE  node_exporter textfile, each interval\n"
    "      --interval DURATION  the interval, when no INTERVAL is given\n"
    "      --no-speed         do not run the speed probe (%spd)\n";
static const char usage_verdict[] =
    "      --proc DIR         read DIR instead of /proc\n"
    "      --cgroup FILE      watch this cpu.stat for throttling\n"
    "      --no-cgroup        do not watch cgroup throttling\n"
    "      --busy PCT --steal PCT --sustain N --capped-util PCT\n"
    "      --capped-spread PCT --psi PCT --runq N --throttle PCT\n"
    "      --slow PCT\n"
    "                         verdict thresholds (see stealstat(1))\n"
    "  -h, --help, -V, --version\n";

static const char *const mode_name[] = {
    [MODE_LIVE] = NULL,
    [MODE_RECORD] = "record",
    [MODE_REPLAY] = NULL,
    [MODE_PROBE] = "probe",
    [MODE_CHECK] = "check",
};

static _Noreturn void
usage(enum mode mode)
{
	switch (mode) {
	case MODE_PROBE:
		fputs(usage_probe, stdout);
		break;
	case MODE_CHECK:
		fputs(usage_check, stdout);
		fputs(usage_verdict, stdout);
		break;
	case MODE_RECORD:
		fputs(usage_record, stdout);
		fputs(usage_options, stdout);
		fputs(usage_verdict, stdout);
		break;
	case MODE_LIVE:
	case MODE_REPLAY:
		fputs(usage_live, stdout);
		fputs(usage_options, stdout);
		fputs(usage_verdict, stdout);
		break;
	}
	exit(0);
}

/*
 * Reports a bad command line and exits: the reason and the pointer to
 * --help on stderr, status 2 (cmdopts_usage_error); for check mode also
 * the Nagios UNKNOWN status line on stdout and exit 3 (a monitoring
 * system reads 2 as CRITICAL).
 */
static _Noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static _Noreturn void
usage_error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli_mode == MODE_CHECK) {
		log_usage(mode_name[cli_mode], "%s", msg);
		printf("STEAL UNKNOWN - %s\n", msg);
		exit(NAGIOS_UNKNOWN);
	}
	cmdopts_usage_error(mode_name[cli_mode], "%s", msg);
}

static double
parse_pct_opt(const char *name, const char *arg)
{
	double v;

	if (parse_percent(arg, &v) < 0) {
		usage_error(
		    "--%s: '%s' is not a percentage (0-100)", name, arg);
	}
	return v;
}

/* what: "--seconds", "--interval" or "interval" (the operand). */
static uint64_t
parse_interval(const char *what, const char *arg)
{
	uint64_t ns;

	if (parse_duration_ns(arg, &ns) < 0 || ns < 10 * NSEC_PER_MSEC ||
	    ns > 86400 * NSEC_PER_SEC) {
		usage_error("%s '%s' is not a duration between 0.01 and "
		            "86400 seconds",
		    what, arg);
	}
	return ns;
}

static uint64_t
parse_count(const char *arg)
{
	uint64_t n;

	if (parse_u64(arg, 1, UINT64_MAX, &n) < 0) {
		usage_error("count '%s' is not a positive number", arg);
	}
	return n;
}

enum {
	OPT_NO_SUMMARY = 256,
	OPT_PROMETHEUS,
	OPT_PROC,
	OPT_CGROUP,
	OPT_NO_CGROUP,
	OPT_REPLAY,
	OPT_NO_SPEED,
	OPT_SECONDS,
	OPT_IDLE_VS_BUSY,
	OPT_INTERVAL,
	OPT_FORCE,
	OPT_WIDE,
	OPT_ON_VERDICT,
};

/* In every mode but probe: what the verdicts are judged on. */
#define VERDICT_OPTIONS                                                        \
	{"proc", required_argument, NULL, OPT_PROC},                           \
	    {"cgroup", required_argument, NULL, OPT_CGROUP},                   \
	    {"no-cgroup", no_argument, NULL, OPT_NO_CGROUP},                   \
	    {"interval", required_argument, NULL, OPT_INTERVAL},               \
	    {"replay", required_argument, NULL, OPT_REPLAY},                   \
	    CMDOPTS_VERDICT_LONG, CLI_HELP_VERSION

/* Live mode, record and replay. */
static const struct option live_options[] = {
    {"per-cpu", optional_argument, NULL, 'P'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"no-summary", no_argument, NULL, OPT_NO_SUMMARY},
    {"prometheus", required_argument, NULL, OPT_PROMETHEUS},
    {"no-speed", no_argument, NULL, OPT_NO_SPEED},
    {"force", no_argument, NULL, OPT_FORCE},
    {"wide", no_argument, NULL, OPT_WIDE},
    VERDICT_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* The Nagios plugin guidelines' -w/-c; --warn/--crit stay as aliases. */
static const struct option check_options[] = {
    {"warning", required_argument, NULL, 'w'},
    {"critical", required_argument, NULL, 'c'},
    {"warn", required_argument, NULL, 'w'},
    {"crit", required_argument, NULL, 'c'},
    {"on-verdict", required_argument, NULL, OPT_ON_VERDICT},
    VERDICT_OPTIONS,
    {NULL, 0, NULL, 0},
};

static const struct option probe_options[] = {
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"idle-vs-busy", no_argument, NULL, OPT_IDLE_VS_BUSY},
    {"json", no_argument, NULL, 'j'},
    {"proc", required_argument, NULL, OPT_PROC},
    CLI_HELP_VERSION,
    {NULL, 0, NULL, 0},
};

/* Before a subcommand: only what every mode takes. */
static const struct option global_options[] = {
    {"proc", required_argument, NULL, OPT_PROC},
    CLI_HELP_VERSION,
    {NULL, 0, NULL, 0},
};

enum { SUB_NONE, SUB_MODE, SUB_MONITOR, SUB_REPORT };

/*
 * The subcommand: the first operand, when only global options come
 * before it and it names one. Moves it to argv[1] (so that "stealstat
 * --proc DIR check -w 5 -c 20" is parsed as "check --proc DIR -w 5 -c
 * 20", in one scan of the subcommand's table, which holds the global
 * options too). Returns SUB_MODE with *mode set for record, probe and
 * check, SUB_MONITOR or SUB_REPORT for the subcommands with their own
 * parser, SUB_NONE (live mode) for anything else.
 */
static int
find_subcommand(int argc, char **argv, enum mode *mode)
{
	static const struct {
		const char *name;
		enum mode mode;
		int sub;
	} cmds[] = {{"record", MODE_RECORD, SUB_MODE},
	    {"probe", MODE_PROBE, SUB_MODE}, {"check", MODE_CHECK, SUB_MODE},
	    {"monitor", MODE_LIVE, SUB_MONITOR},
	    {"report", MODE_LIVE, SUB_REPORT}};
	struct cli c;
	int ch;

	*mode = MODE_LIVE;
	cli_start(&c, "+hV", global_options);
	while ((ch = cli_next(&c, argc, argv)) != -1)
		if (ch == '?') /* a live mode option, or a mistake */
			return SUB_NONE;
	for (size_t i = 0; optind < argc && i < sizeof(cmds) / sizeof(cmds[0]);
	     i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		char *cmd = argv[optind];

		for (int k = optind; k > 1; k--)
			argv[k] = argv[k - 1];
		argv[1] = cmd;
		*mode = cmds[i].mode;
		return cmds[i].sub;
	}
	return SUB_NONE;
}

static void
parse_args(int argc, char **argv, struct options *o)
{
	const struct option *table = live_options;
	const char *shortopts = "jP::qhV";
	const char *warn_arg = NULL, *crit_arg = NULL;
	bool sustain_given = false;
	struct cli cli;
	char why[256];
	int c;

	*o = (struct options){.mode = MODE_LIVE,
	    .interval_ns = NSEC_PER_SEC,
	    .proc_root = "/proc",
	    .use_cgroup = true,
	    .speed = true,
	    .summary = true,
	    .warn = -1,
	    .crit = -1};
	o->cpus.all = true;
	verdict_opts_default(&o->verdict);
	o->probe =
	    (struct probe_opts){.duration_ns = 5 * NSEC_PER_SEC, .phases = 3};

	if (find_subcommand(argc, argv, &o->mode) != SUB_NONE) {
		argv++; /* argv[0] is now the subcommand's name */
		argc--;
	}
	cli_mode = o->mode;
	if (o->mode == MODE_CHECK) {
		o->interval_ns = 5 * NSEC_PER_SEC;
		table = check_options;
		shortopts = "w:c:hV";
	} else if (o->mode == MODE_PROBE) {
		table = probe_options;
		shortopts = "jhV";
	}

	cli_start(&cli, shortopts, table);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		int rc =
		    cmdopts_verdict(c, optarg, &o->verdict, why, sizeof(why));

		if (rc < 0)
			usage_error("%s", why);
		if (rc > 0) {
			sustain_given |= c == CMDOPT_SUSTAIN;
			continue;
		}
		switch (c) {
		case 'P':
			o->per_cpu = true;
			/* mpstat's -P ALL, -P 0,2: the list is the next word.
			 */
			if (optarg == NULL && optind < argc &&
			    cpu_list_looks_like(argv[optind]))
				optarg = argv[optind++];
			if (optarg != NULL &&
			    cpu_list_parse(optarg, &o->cpus) < 0)
				usage_error("-P '%s': not ALL or a list of "
				            "CPUs (0,2-3)",
				    optarg);
			break;
		case 'j':
			o->json = o->probe.json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(o->mode);
		case 'V':
			printf("stealstat %s\n", TK_VERSION);
			exit(0);
		case OPT_NO_SUMMARY:
			o->summary = false;
			break;
		case OPT_PROMETHEUS:
			o->prom_path = optarg;
			break;
		case OPT_PROC:
			o->proc_root = o->probe.proc_root = optarg;
			break;
		case OPT_CGROUP:
			o->cgroup_stat = optarg;
			break;
		case OPT_NO_CGROUP:
			o->use_cgroup = false;
			break;
		case OPT_REPLAY:
			o->file = optarg;
			/* check --replay judges a recording, first sample
			 * to last, as one interval. */
			if (o->mode != MODE_CHECK)
				o->mode = MODE_REPLAY;
			break;
		case OPT_NO_SPEED:
			o->speed = false;
			break;
		case OPT_SECONDS:
			o->probe.duration_ns =
			    parse_interval("--seconds", optarg);
			break;
		case OPT_IDLE_VS_BUSY:
			o->probe.idle_vs_busy = true;
			break;
		case 'w':
			o->warn = parse_pct_opt("warning", optarg);
			warn_arg = optarg;
			break;
		case 'c':
			o->crit = parse_pct_opt("critical", optarg);
			crit_arg = optarg;
			break;
		case OPT_INTERVAL:
			o->interval_ns = parse_interval("--interval", optarg);
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_WIDE:
			o->wide = true;
			break;
		case OPT_ON_VERDICT:
			o->on_verdict = optarg;
			break;
		default:
			usage_error("%s", cli.why);
		}
	}

	if (o->mode == MODE_RECORD) {
		if (optind >= argc)
			usage_error("record needs a FILE to write");
		o->file = argv[optind++];
	}
	if (o->mode == MODE_LIVE || o->mode == MODE_RECORD) {
		if (cli_too_many(&cli, argc, argv, 2))
			usage_error("%s", cli.why);
		if (optind < argc)
			o->interval_ns =
			    parse_interval("interval", argv[optind]);
		if (optind + 1 < argc)
			o->count = parse_count(argv[optind + 1]);
	} else if (cli_too_many(&cli, argc, argv, 0)) {
		usage_error("%s", cli.why);
	}
	/* A check is one interval: judge steal on it alone. */
	if (o->mode == MODE_CHECK && !sustain_given)
		o->verdict.sustain = 1;
	if (o->mode == MODE_CHECK && o->on_verdict != NULL) {
		struct check_opts co;

		check_opts_default(&co);
		if (check_on_verdict(o->on_verdict, &co) < 0)
			usage_error("--on-verdict '%s' is not "
			            "VERDICT=ok|warning|critical[,...]",
			    o->on_verdict);
	}
	if (o->mode == MODE_CHECK && (o->warn < 0 || o->crit < 0))
		usage_error("check needs -w PCT and -c PCT (--warning, "
		            "--critical)");
	if (o->mode == MODE_CHECK && o->warn > o->crit)
		usage_error("-w '%s' is above -c '%s': WARNING comes before "
		            "CRITICAL",
		    warn_arg, crit_arg);
}

/*
 * -P names CPUs this machine has: none of them is a usage error (exit
 * 2), some of them a warning naming the others; rows come for those
 * present (and for the others if they come online).
 */
static void
check_cpus(const struct options *o, const struct procstat *st)
{
	unsigned n = st->ncpu < st->cpu_cap ? st->ncpu : st->cpu_cap;
	unsigned *ids = calloc(n + 1, sizeof(*ids));
	char missing[200];
	unsigned nmissing;
	bool some;

	if (ids == NULL)
		fatalx("out of memory");
	for (unsigned i = 0; i < n; i++)
		ids[i] = st->cpu[i].id;
	nmissing =
	    cpu_list_missing(&o->cpus, ids, n, missing, sizeof(missing), &some);
	free(ids);
	if (nmissing > 0) {
		if (!some)
			usage_error("-P: no CPU %s on this machine (%u online)",
			    missing, st->ncpu);
		log_warnx("-P: no CPU %s on this machine (%u online): no rows "
		          "for it unless it comes online",
		    missing, st->ncpu);
	}
}

static unsigned
cpu_capacity(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 && n < 65536 ? (unsigned)n : 64;
}

/*
 * Per-CPU columns are parsed only when something shows them: the
 * aggregate view then costs one line of numbers per sample, not one per
 * CPU. Ids are always read, so hotplug is still caught.
 */
static bool
wants_cpu_detail(const struct options *o)
{
	return o->per_cpu || o->prom_path != NULL;
}

static void
setup_report(struct report *r, const struct options *o)
{
	report_init(r, STDOUT_FILENO);
	r->per_cpu = o->per_cpu;
	r->cpus = &o->cpus;
	r->json = o->json;
	r->quiet = o->quiet;
	r->prom_path = o->prom_path;
	r->wide = o->wide;
}

/* One step of live mode or replay: the engine, then the outputs. */
static void
show_interval(struct report *r, struct engine *e, const struct snapshot *prev,
    const struct snapshot *cur)
{
	const struct interval *iv = engine_step(e, prev, cur);
	int rc;

	if (iv == NULL)
		fatalx("out of memory");
	if ((rc = report_interval(r, e, iv)) < 0) {
		errno = -rc;
		fatal("writing the report");
	}
	rc = report_prometheus(r, e, iv);
	if (rc < 0)
		log_warnx("%s: %s", r->prom_path, strerror(-rc));
}

static void
swap_snapshots(struct snapshot **a, struct snapshot **b)
{
	struct snapshot *t = *a;

	*a = *b;
	*b = t;
}

static int
run_live(const struct options *o)
{
	struct sampler sampler;
	struct snapshot snaps[2], *prev = &snaps[0], *cur = &snaps[1];
	struct raw_snapshot raw;
	struct report report;
	struct engine engine;
	struct speed_prober prober;
	bool speed_on = false;
	const char *what;
	uint64_t start, deadline;
	int rc, record_fd = -1;

	rc =
	    sampler_open(&sampler, o->proc_root, o->cgroup_stat, o->use_cgroup);
	if (rc < 0) {
		errno = -rc;
		log_error("%s/stat", o->proc_root);
		return 1;
	}
	if (snapshot_init(prev, cpu_capacity(), wants_cpu_detail(o)) < 0 ||
	    snapshot_init(cur, cpu_capacity(), wants_cpu_detail(o)) < 0 ||
	    engine_init(&engine, &o->verdict, stealstat_user_hz()) < 0)
		fatalx("out of memory");
	idle_poll_detect(
	    o->proc_root, engine.idle_poll, sizeof(engine.idle_poll));
	setup_report(&report, o);
	/* The speed probe: bests from the monitor's history if there are
	 * any (read, never written: that file is the monitor's). */
	if (o->speed) {
		speed_on = speed_prober_init(&prober, o->proc_root, NULL,
		               SPEED_BEST_DEFAULT,
		               speed_budget_ns(o->interval_ns)) == 0;
		prober.best_readonly = true;
	}

	if (o->mode == MODE_RECORD) {
		/* A recording is evidence: never lost to a repeated command
		 * line. */
		record_fd = open(o->file,
		    O_WRONLY | O_CREAT | O_CLOEXEC |
		        (o->force ? O_TRUNC : O_EXCL),
		    0644);
		if (record_fd < 0 && errno == EEXIST)
			fatalx("record: %s exists; --force overwrites it",
			    o->file);
		if (record_fd < 0)
			fatal("record: %s", o->file);
		if ((rc = record_write_header(record_fd, stealstat_user_hz(),
		         engine.idle_poll)) < 0) {
			errno = -rc;
			fatal("record: %s", o->file);
		}
	}

	if ((rc = sampler_read(&sampler, &raw)) < 0) {
		errno = -rc;
		fatal("%s", sampler.stat_path);
	}
	if (speed_on)
		speed_attach(&prober, &raw);
	if (record_fd >= 0 &&
	    (rc = record_write_snapshot(record_fd, &raw)) < 0) {
		errno = -rc;
		fatal("record: %s", o->file);
	}
	if (snapshot_parse(&raw, prev, &what) < 0)
		fatalx("%s/%s: not in the format this kernel interface should "
		       "have",
		    o->proc_root, what);
	if (o->per_cpu)
		check_cpus(o, &prev->stat);
	if (o->cgroup_stat != NULL && sampler.cgroup_path[0] == '\0')
		log_warnx("--cgroup %s: %s; %%thr stays '-'", o->cgroup_stat,
		    sampler.cgroup_error != 0 ? strerror(-sampler.cgroup_error)
		                              : "no throttling counters in it");

	start = raw.mono_ns;
	for (uint64_t k = 1; o->count == 0 || k <= o->count; k++) {
		deadline = start + k * o->interval_ns;
		/* After a stall (SIGSTOP, suspend) skip missed ticks. */
		if (deadline < time_mono_ns()) {
			uint64_t behind = time_mono_ns() - start;

			k = behind / o->interval_ns + 1;
			deadline = start + k * o->interval_ns;
		}
		while (
		    !stop_requested && time_sleep_until_ns(deadline) == -EINTR)
			;
		if (stop_requested)
			break;
		if ((rc = sampler_read(&sampler, &raw)) < 0) {
			errno = -rc;
			log_warn("%s", sampler.stat_path);
			continue;
		}
		if (speed_on)
			speed_attach(&prober, &raw);
		if (record_fd >= 0 &&
		    (rc = record_write_snapshot(record_fd, &raw)) < 0) {
			errno = -rc;
			fatal("record: %s", o->file);
		}
		if (snapshot_parse(&raw, cur, &what) < 0) {
			log_warnx("%s/%s: unreadable sample skipped",
			    o->proc_root, what);
			continue;
		}
		show_interval(&report, &engine, prev, cur);
		swap_snapshots(&prev, &cur);
	}

	if (o->summary)
		report_summary(&report, &engine);
	if (record_fd >= 0 && close(record_fd) < 0)
		fatal("record: %s", o->file);
	engine_free(&engine);
	if (speed_on)
		speed_prober_free(&prober);
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	sampler_close(&sampler);
	return 0;
}

static int
run_replay(const struct options *o)
{
	struct record_reader rr;
	struct raw_snapshot raw;
	struct snapshot snaps[2], *prev = &snaps[0], *cur = &snaps[1];
	struct report report;
	struct engine engine;
	const char *what;
	bool have_prev = false;
	size_t len;
	char *buf;
	int rc, status = 0;

	if ((rc = read_file_max(o->file, RECORD_MAX_BYTES, &buf, &len, NULL)) <
	    0) {
		errno = -rc;
		log_error("replay: %s", o->file);
		return 1;
	}
	if (record_open(&rr, o->file, buf, len) < 0) {
		log_errorx("%s", rr.error);
		free(buf);
		return 1;
	}
	if (snapshot_init(prev, 64, wants_cpu_detail(o)) < 0 ||
	    snapshot_init(cur, 64, wants_cpu_detail(o)) < 0 ||
	    engine_init(&engine, &o->verdict, rr.hz) < 0)
		fatalx("out of memory");
	snprintf(
	    engine.idle_poll, sizeof(engine.idle_poll), "%s", rr.idle_poll);
	setup_report(&report, o);

	while (!stop_requested && (rc = record_next(&rr, &raw)) != 0) {
		if (rc < 0) {
			log_errorx("%s", rr.error);
			status = 1;
			break;
		}
		if (snapshot_parse(&raw, have_prev ? cur : prev, &what) < 0) {
			log_warnx("%s:%u: snapshot skipped: its %s is not "
			          "readable",
			    o->file, rr.line, what);
			continue;
		}
		if (have_prev) {
			show_interval(&report, &engine, prev, cur);
			swap_snapshots(&prev, &cur);
		}
		have_prev = true;
	}
	if (o->summary)
		report_summary(&report, &engine);
	engine_free(&engine);
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	free(buf);
	return status;
}

/*
 * The two snapshots a check judges: live, two samples an interval apart;
 * from a recording (check --replay), its first and last readable ones.
 * Returns 0 or a message in why.
 */
static int
check_snapshots(const struct options *o, struct snapshot *a, struct snapshot *b,
    unsigned *hz, char *why, size_t why_size)
{
	struct raw_snapshot raw;
	const char *what;
	int rc;

	*hz = stealstat_user_hz();
	if (o->file != NULL) {
		struct record_reader rr;
		unsigned n = 0;
		size_t len;
		char *buf;

		if ((rc = read_file_max(
		         o->file, RECORD_MAX_BYTES, &buf, &len, NULL)) < 0) {
			snprintf(
			    why, why_size, "%s: %s", o->file, strerror(-rc));
			return -1;
		}
		if (record_open(&rr, o->file, buf, len) < 0) {
			snprintf(why, why_size, "%s", rr.error);
			free(buf);
			return -1;
		}
		*hz = rr.hz;
		while ((rc = record_next(&rr, &raw)) > 0)
			if (snapshot_parse(&raw, n == 0 ? a : b, &what) == 0)
				n++;
		if (rc < 0)
			snprintf(why, why_size, "%s", rr.error);
		else if (n < 2)
			snprintf(why, why_size, "%s: fewer than two samples",
			    o->file);
		free(buf);
		return rc < 0 || n < 2 ? -1 : 0;
	}
	struct sampler sampler;

	rc =
	    sampler_open(&sampler, o->proc_root, o->cgroup_stat, o->use_cgroup);
	if (rc < 0) {
		snprintf(
		    why, why_size, "%s/stat: %s", o->proc_root, strerror(-rc));
		return -1;
	}
	if (sampler_read(&sampler, &raw) < 0 ||
	    snapshot_parse(&raw, a, &what) < 0 ||
	    time_sleep_until_ns(raw.mono_ns + o->interval_ns) < 0 ||
	    sampler_read(&sampler, &raw) < 0 ||
	    snapshot_parse(&raw, b, &what) < 0) {
		snprintf(
		    why, why_size, "could not sample %s/stat", o->proc_root);
		sampler_close(&sampler);
		return -1;
	}
	sampler_close(&sampler);
	return 0;
}

static int
run_check(const struct options *o)
{
	struct snapshot a = {0}, b = {0};
	struct engine engine = {0};
	struct check_opts co;
	const struct interval *iv;
	char why[320];
	unsigned hz;
	enum nagios status = NAGIOS_UNKNOWN;

	check_opts_default(&co);
	co.warn = o->warn;
	co.crit = o->crit;
	if (o->on_verdict != NULL && check_on_verdict(o->on_verdict, &co) < 0) {
		printf("STEAL UNKNOWN - --on-verdict '%s' is not "
		       "VERDICT=ok|warning|critical[,...]\n",
		    o->on_verdict);
		return NAGIOS_UNKNOWN;
	}
	if (snapshot_init(&a, cpu_capacity(), true) < 0 ||
	    snapshot_init(&b, cpu_capacity(), true) < 0) {
		printf("STEAL UNKNOWN - out of memory\n");
		goto out;
	}
	if (check_snapshots(o, &a, &b, &hz, why, sizeof(why)) < 0) {
		printf("STEAL UNKNOWN - %s\n", why);
		goto out;
	}
	if (engine_init(&engine, &o->verdict, hz) < 0 ||
	    (iv = engine_step(&engine, &a, &b)) == NULL) {
		printf("STEAL UNKNOWN - out of memory\n");
		goto out;
	}
	if (iv->glitch) {
		printf("STEAL UNKNOWN - interval dropped: %s\n",
		    iv->glitch_reason);
		goto out;
	}
	status = check_judge(&engine, iv, &co, stdout);
out:
	engine_free(&engine);
	snapshot_free(&a);
	snapshot_free(&b);
	return status;
}

int
main(int argc, char **argv)
{
	struct options o;
	int rc;

	log_init("stealstat", LOG_LEVEL_INFO);
	switch (find_subcommand(argc, argv, &o.mode)) {
	case SUB_MONITOR:
		return monitor_main(argc - 1, argv + 1);
	case SUB_REPORT:
		return window_main(argc - 1, argv + 1);
	default:
		break;
	}
	parse_args(argc, argv, &o);
	install_signals();

	switch (o.mode) {
	case MODE_PROBE:
		rc = probe_run(&o.probe, stdout);
		if (rc < 0) {
			errno = -rc;
			log_error("probe");
			return 1;
		}
		return 0;
	case MODE_CHECK:
		return run_check(&o);
	case MODE_REPLAY:
		return run_replay(&o);
	case MODE_LIVE:
	case MODE_RECORD:
		break;
	}
	/* A textfile that can never be written fails now, not silently
	 * at every interval. */
	if (o.prom_path != NULL && (rc = textfile_check(o.prom_path)) < 0) {
		log_errorx("--prometheus %s: cannot write a file there: %s",
		    o.prom_path, strerror(-rc));
		return 1;
	}
	return run_live(&o);
}
