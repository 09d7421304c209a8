/* SPDX-License-Identifier: ISC */
/*
 * entropy-seed: at every boot, a one-time seed from one of the
 * operator's entropyd servers, over verified TLS, into the kernel pool.
 *
 * It must never hold a boot up for long (a deadline over all servers),
 * never mix in bytes from a server it could not verify (checked answer;
 * credit only for verified TLS) and never print a seed.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "conf.h"
#include "imagecheck.h"
#include "log.h"
#include "response.h"
#include "timeutil.h"

#define DEFAULT_CONF "/etc/entropy-seed.conf"
#define TOKEN_MAX 512
/* Tries of one server that asked to be tried again (bounds the loop). */
#define RETRIES_MAX 32
/* Time a retry needs at least: no wait is taken that leaves less. */
#define RETRY_ROOM_NS (200 * NSEC_PER_MSEC)
#define BACKOFF_FIRST_NS (250 * NSEC_PER_MSEC)
#define BACKOFF_MAX_NS (2 * NSEC_PER_SEC)

static const char usage_image_check[] =
    "usage: entropy-seed image-check [ROOT]\n"
    "       entropy-seed image-check --fix ROOT\n"
    "       entropy-seed image-check --fix "
    "--yes-this-is-the-running-system /\n"
    "Lists what clones of the image under ROOT (default /) would share.\n"
    "      --fix      remove it, so that each clone makes its own\n"
    "      --yes-this-is-the-running-system\n"
    "                 --fix / on the running machine (it loses its SSH\n"
    "                 host keys and machine ID)\n"
    "  -v, --verbose  more log output\n"
    "  -h, --help, -V, --version\n";

/* --help: the usage of the seed client, or of image-check. */
static _Noreturn void
usage(bool image_check)
{
	if (image_check) {
		fputs(usage_image_check, stdout);
		exit(0);
	}
	fputs("usage: entropy-seed [-v] [-c FILE] [--server URL]... "
	      "[--dry-run] [--strict] [--no-credit]\n"
	      "       entropy-seed image-check [--fix] [ROOT]\n"
	      "Mixes a one-time seed from an entropyd server into the kernel "
	      "pool.\n"
	      "  -c, --config FILE  configuration (default " DEFAULT_CONF ")\n"
	      "      --server URL   ask this server (repeatable; replaces "
	      "servers =)\n"
	      "      --dry-run      fetch and check a seed, do not mix it\n"
	      "      --strict       exit 1 when no server gave a seed\n"
	      "      --no-credit    mix the seed without crediting entropy\n"
	      "  -v, --verbose      more log output\n"
	      "  -h, --help, -V, --version\n",
	    stdout);
	exit(0);
}

/* A bad command line: the reason, where the help is, exit 2. */
static _Noreturn void
usage_error(const char *cmd, const char *why)
{
	log_usage(cmd, "%s", why);
	exit(CLI_EXIT_USAGE);
}

/*
 * The bearer token: the first line of the file, at most TOKEN_MAX. *mode
 * gets the file's permission bits.
 */
static int
read_token(const char *path, char *token, size_t size, mode_t *mode)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	*mode = fstat(fd, &st) == 0 ? st.st_mode & 07777 : 0;
	n = read(fd, token, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	token[n] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	if (token[0] == '\0')
		return -ENODATA;
	if (strlen(token) == size - 1)
		return -E2BIG;
	return 0;
}

/* Is root this running system's own "/" (whatever its spelling)? */
static bool
is_running_root(const char *root)
{
	struct stat a, b;

	return stat(root, &a) == 0 && stat("/", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
cmd_image_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fix", no_argument, NULL, 'f'},
	    {"yes-this-is-the-running-system", no_argument, NULL, 'y'},
	    {"verbose", no_argument, NULL, 'v'},
	    CLI_HELP_VERSION,
	    {NULL, 0, NULL, 0},
	};
	const char *root;
	bool fix = false, running_ok = false;
	FILE *devnull;
	struct cli cli;
	int c, n;

	/* argv[0] is "image-check". */
	cli_start(&cli, "vhV", opts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'f':
			fix = true;
			break;
		case 'y':
			running_ok = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(true);
		case 'V':
			printf("entropy-seed %s\n", TK_VERSION);
			return 0;
		default:
			usage_error("image-check", cli.why);
		}
	}
	if (cli_too_many(&cli, argc, argv, 1))
		usage_error("image-check", cli.why);
	/*
	 * --fix deletes host keys and the machine ID: meant for an image
	 * mounted somewhere, never by default for the running machine.
	 */
	if (fix && optind == argc)
		usage_error("image-check",
		    "--fix needs the image's root "
		    "directory (for example /mnt/image)");
	root = optind < argc ? argv[optind] : "/";
	if (fix && is_running_root(root) && !running_ok) {
		log_errorx("image-check --fix %s: that is the running system: "
		           "it would lose its SSH host keys and machine ID; "
		           "add --yes-this-is-the-running-system if that is "
		           "what you mean",
		    root);
		return CLI_EXIT_USAGE;
	}
	n = image_check(root, fix, stdout);
	if (n < 0) {
		errno = -n;
		log_error("image-check %s", root);
		return CLI_EXIT_USAGE;
	}
	if (n == 0)
		printf("nothing that clones would share\n");
	if (n == 0 || !fix)
		return n > 0 ? 1 : 0;
	/* Each failed fix was named above; the tree as left decides. */
	fflush(stdout);
	if ((devnull = fopen("/dev/null", "we")) == NULL)
		fatal("/dev/null");
	n = image_check(root, false, devnull);
	fclose(devnull);
	if (n < 0) {
		errno = -n;
		log_error("image-check %s", root);
		return CLI_EXIT_USAGE;
	}
	if (n > 0) {
		log_errorx("image-check %s: %d finding%s could not be fixed",
		    root, n, n == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

/*
 * Mixes (or, in a dry run, only reports) a seed that checked out.
 * Returns whether this run is now seeded.
 */
static bool
use_seed(const struct seed_conf *conf, const char *server,
    const unsigned char *seed, bool verified, bool dry_run, bool credit)
{
	const char *how = "";
	char why[300];

	if (dry_run) {
		log_info("dry run: %u bytes from %s (%s), not mixed",
		    conf->bytes, server,
		    verified ? "TLS verified" : "not verified");
		return true;
	}
	if (seed_mix(seed, conf->bytes, credit && verified, &how, why,
	        sizeof(why)) < 0) {
		log_warnx("mixing the seed: %s", why);
		return false;
	}
	log_info("seeded %u bytes from %s: %s", conf->bytes, server, how);
	if (why[0] != '\0')
		log_warnx("%s", why);
	return true;
}

/* A file a key names must be there and readable: else exit 2. */
static int
check_readable(const char *key, const char *path)
{
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_errorx("%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* A uniformly random duration in [0, max_ns). */
static uint64_t
jitter_ns(uint64_t max_ns)
{
	uint64_t r = 0;

	if (max_ns == 0)
		return 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = time_mono_ns() * 6364136223846793005ULL;
	return r % max_ns;
}

/* "2 s" or "300 ms": a wait as the warning says it. */
static void
format_wait(uint64_t ns, char *buf, size_t size)
{
	if (ns >= NSEC_PER_SEC)
		snprintf(buf, size, "%llu s",
		    (unsigned long long)(ns / NSEC_PER_SEC));
	else
		snprintf(buf, size, "%llu ms",
		    (unsigned long long)(ns / NSEC_PER_MSEC));
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = {
	    (time_t)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * How long to wait before trying a server again, jittered so a fleet
 * that was turned away together does not come back together: a
 * Retry-After plus up to a quarter of it (a second at most); our own
 * backoff for a connection closed at accept, from 250 ms doubling to 2
 * s, times 0.5 to 1.5.
 */
static uint64_t
retry_wait(const struct seed_retry *r, unsigned attempt)
{
	uint64_t base = BACKOFF_FIRST_NS, spread;

	if (r->server_said) {
		spread = r->after_ns / 4;
		if (spread > NSEC_PER_SEC)
			spread = NSEC_PER_SEC;
		return r->after_ns + jitter_ns(spread + 1);
	}
	for (unsigned i = 1; i < attempt && base < BACKOFF_MAX_NS; i++)
		base *= 2;
	if (base > BACKOFF_MAX_NS)
		base = BACKOFF_MAX_NS;
	return base / 2 + jitter_ns(base + 1);
}

enum asked {
	ASKED_SEEDED, /* this run is seeded */
	ASKED_NEXT, /* no seed from this server: try the next one */
	ASKED_DEADLINE, /* the deadline passed: try no other server */
};

/*
 * Asks server i of conf for a seed and uses it, trying the server again
 * while it asks to be (a Retry-After, or a connection closed at accept),
 * at most RETRIES_MAX times. Retries end at the server's fair share of
 * what is left of the deadline, counted from start (all of it for the
 * last server): one that keeps refusing must not leave nothing for the
 * others. token may be NULL.
 */
static enum asked
ask_server(const struct seed_conf *conf, unsigned i, const char *token,
    uint64_t start, bool dry_run, bool credit)
{
	const char *server = conf->servers[i];
	unsigned char seed[SEED_MAX];
	char why[300], wait_text[32];
	struct seed_retry retry;
	uint64_t server_end = time_mono_ns() - start, spent, left, wait;
	bool verified = false, seeded;
	unsigned attempt = 0;

	if (server_end < conf->deadline_ns)
		server_end +=
		    (conf->deadline_ns - server_end) / (conf->nservers - i);
	for (;;) {
		spent = time_mono_ns() - start;
		if (spent >= conf->deadline_ns) {
			log_warnx("deadline of %.1f s reached before %s",
			    (double)conf->deadline_ns / NSEC_PER_SEC, server);
			return ASKED_DEADLINE;
		}
		left = conf->deadline_ns - spent;
		/* A retry gets what is left of this server's share. */
		if (attempt > 0 && server_end - spent < left)
			left = server_end - spent;
		log_debug("asking %s (%.1f s of the deadline left)", server,
		    (double)left / NSEC_PER_SEC);
		if (seed_fetch(conf, server, token,
		        left < conf->timeout_ns ? left : conf->timeout_ns, seed,
		        conf->bytes, &verified, &retry, why,
		        sizeof(why)) == 0) {
			seeded = use_seed(
			    conf, server, seed, verified, dry_run, credit);
			explicit_bzero(seed, sizeof(seed));
			return seeded ? ASKED_SEEDED : ASKED_NEXT;
		}
		if (retry.after_ns == 0 || ++attempt > RETRIES_MAX) {
			log_warnx("%s: %s", server, why);
			return ASKED_NEXT;
		}
		wait = retry_wait(&retry, attempt);
		spent = time_mono_ns() - start;
		if (spent + wait + RETRY_ROOM_NS >= server_end) {
			log_warnx("%s: %s; %s, no time left to wait%s", server,
			    why, retry.what,
			    i + 1 < conf->nservers ? ": trying the next server"
			                           : " within the deadline");
			return ASKED_NEXT;
		}
		format_wait(wait, wait_text, sizeof(wait_text));
		log_warnx(
		    "%s: %s, retrying in %s", server, retry.what, wait_text);
		log_debug("%s: %s", server, why);
		sleep_ns(wait);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"server", required_argument, NULL, 's'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"strict", no_argument, NULL, 'S'},
	    {"no-credit", no_argument, NULL, 'N'},
	    {"verbose", no_argument, NULL, 'v'},
	    CLI_HELP_VERSION,
	    {NULL, 0, NULL, 0},
	};
	static const struct option global_opts[] = {
	    {"verbose", no_argument, NULL, 'v'},
	    CLI_HELP_VERSION,
	    {NULL, 0, NULL, 0},
	};
	struct cli cli;
	const char *path = DEFAULT_CONF, *servers[SERVERS_MAX];
	bool dry_run = false, strict = false, credit = true, path_given = false,
	     seeded = false;
	char token[TOKEN_MAX], why[300];
	struct seed_conf conf;
	struct conf_error err;
	unsigned nservers = 0;
	uint64_t start;
	mode_t mode = 0;
	int c, rc;

	log_init("entropy-seed", LOG_LEVEL_INFO);
	/* "entropy-seed -v image-check": only -v may come before it. */
	cli_start(&cli, "+vhV", global_opts);
	while ((c = cli_next(&cli, argc, argv)) != -1)
		if (c == 'v')
			log_set_level(LOG_LEVEL_DEBUG);
		else if (c != 'h' && c != 'V')
			break;
	if (optind < argc && strcmp(argv[optind], "image-check") == 0)
		return cmd_image_check(argc - optind, argv + optind);
	cli_start(&cli, "c:vhV", opts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 's':
			if (nservers == SERVERS_MAX)
				usage_error(NULL, "more than 16 --server "
				                  "options");
			servers[nservers++] = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'S':
			strict = true;
			break;
		case 'N':
			credit = false;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(false);
		case 'V':
			printf("entropy-seed %s\n", TK_VERSION);
			return 0;
		default:
			usage_error(NULL, cli.why);
		}
	}
	if (cli_too_many(&cli, argc, argv, 0))
		usage_error(NULL, cli.why);
	/* The default file may be absent when --server names the servers. */
	rc = seed_conf_load(path, !path_given && nservers > 0, &conf, &err);
	if (rc < 0) {
		log_errorx("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	/* --server replaces the configured list. */
	if (nservers > 0) {
		for (unsigned i = 0; i < conf.nservers; i++)
			free(conf.servers[i]);
		conf.nservers = 0;
		for (unsigned i = 0; i < nservers; i++)
			if (seed_conf_add_server(
			        &conf, servers[i], why, sizeof(why)) < 0) {
				log_usage(NULL, "--server: '%s': %s",
				    servers[i], why);
				seed_conf_free(&conf);
				return CLI_EXIT_USAGE;
			}
	}
	if (conf.nservers == 0) {
		log_errorx("%s: servers: no seed server configured (set "
		           "servers =, or give --server URL)",
		    path);
		seed_conf_free(&conf);
		return CLI_EXIT_USAGE;
	}
	if (conf.token_file != NULL && (rc = read_token(conf.token_file, token,
	                                    sizeof(token), &mode)) < 0) {
		log_errorx("token_file %s: %s", conf.token_file,
		    rc == -ENODATA ? "empty: no token on its first line"
		    : rc == -E2BIG ? "its first line is too long for a token"
		                   : strerror(-rc));
		seed_conf_free(&conf);
		return CLI_EXIT_USAGE;
	}
	if (conf.token_file != NULL && (mode & (S_IRWXG | S_IRWXO)) != 0)
		log_warnx("token_file %s: readable by group or others (mode "
		          "%04o): anyone who can read it can take this "
		          "instance's seeds; chmod 600 it",
		    conf.token_file, (unsigned)mode);
	/* Files libcurl would only find missing in the middle of a boot. */
	if (check_readable("ca_file", conf.ca_file) < 0 ||
	    check_readable("cert", conf.cert) < 0 ||
	    check_readable("key", conf.key) < 0) {
		explicit_bzero(token, sizeof(token));
		seed_conf_free(&conf);
		return CLI_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("libcurl failed to initialise");

	start = time_mono_ns();
	for (unsigned i = 0; i < conf.nservers && !seeded; i++) {
		enum asked asked = ask_server(&conf, i,
		    conf.token_file ? token : NULL, start, dry_run, credit);

		if (asked == ASKED_DEADLINE)
			break;
		seeded = asked == ASKED_SEEDED;
	}
	explicit_bzero(token, sizeof(token));
	curl_global_cleanup();
	seed_conf_free(&conf);
	if (seeded)
		return 0;
	if (dry_run) {
		/* The documented check of a configuration: it failed. */
		log_errorx("dry run: no server answered with a good seed");
		return 1;
	}
	if (strict) {
		log_errorx("no seed from any server");
		return 1;
	}
	log_warnx("no seed from any server; carrying on (--strict makes "
	          "this exit 1)");
	return 0;
}
