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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "imagecheck.h"
#include "log.h"
#include "response.h"
#include "timeutil.h"

#define DEFAULT_CONF "/etc/entropy-seed.conf"
#define EXIT_USAGE 2
#define TOKEN_MAX 512

static _Noreturn void
usage(int status)
{
	fputs("usage: entropy-seed [-v] [-c FILE] [--server URL]... "
	      "[--dry-run] [--strict] [--no-credit]\n"
	      "       entropy-seed image-check [--fix] [ROOT]\n",
	    status == 0 ? stdout : stderr);
	exit(status);
}

/* The bearer token: the first line of the file, at most TOKEN_MAX. */
static int
read_token(const char *path, char *token, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, token, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	token[n] = '\0';
	token[strcspn(token, "\r\n")] = '\0';
	if (token[0] == '\0' || strlen(token) == size - 1)
		return -EINVAL;
	return 0;
}

static int
cmd_image_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fix", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *root;
	bool fix = false;
	FILE *devnull;
	int c, n;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f')
			usage(EXIT_USAGE);
		fix = true;
	}
	if (argc - optind > 1)
		usage(EXIT_USAGE);
	root = optind < argc ? argv[optind] : "/";
	n = image_check(root, fix, stdout);
	if (n < 0) {
		errno = -n;
		log_warn("image-check %s", root);
		return EXIT_USAGE;
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
		log_warn("image-check %s", root);
		return EXIT_USAGE;
	}
	if (n > 0) {
		log_warnx("image-check %s: %d finding%s could not be fixed",
		    root, n, n == 1 ? "" : "s");
		return 1;
	}
	return 0;
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
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONF, *servers[SERVERS_MAX], *how = "";
	bool dry_run = false, strict = false, credit = true, verified = false,
	     path_given = false, seeded = false;
	unsigned char seed[SEED_MAX];
	char token[TOKEN_MAX], why[300];
	struct seed_conf conf;
	struct conf_error err;
	unsigned nservers = 0;
	uint64_t start, left;
	int c, rc;

	log_init("entropy-seed", LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "image-check") == 0)
		return cmd_image_check(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 's':
			if (nservers == SERVERS_MAX)
				usage(EXIT_USAGE);
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
			usage(0);
		case 'V':
			printf("entropy-seed %s\n", TK_VERSION);
			return 0;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(EXIT_USAGE);
	/* The default file may be absent when --server names the servers. */
	rc = seed_conf_load(path, !path_given && nservers > 0, &conf, &err);
	if (rc < 0) {
		log_errorx("%s", err.msg);
		return EXIT_USAGE;
	}
	/* --server replaces the configured list. */
	if (nservers > 0) {
		for (unsigned i = 0; i < conf.nservers; i++)
			free(conf.servers[i]);
		conf.nservers = 0;
		for (unsigned i = 0; i < nservers; i++)
			if (seed_conf_add_server(
			        &conf, servers[i], why, sizeof(why)) < 0) {
				log_warnx("--server: %s", why);
				seed_conf_free(&conf);
				return EXIT_USAGE;
			}
	}
	if (conf.nservers == 0) {
		log_warnx("%s: servers: no seed server configured", path);
		seed_conf_free(&conf);
		return EXIT_USAGE;
	}
	if (conf.token_file != NULL &&
	    (rc = read_token(conf.token_file, token, sizeof(token))) < 0) {
		log_warnx("token_file %s: %s", conf.token_file,
		    rc == -EINVAL ? "empty or too long" : strerror(-rc));
		seed_conf_free(&conf);
		return EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("libcurl failed to initialise");

	start = time_mono_ns();
	for (unsigned i = 0; i < conf.nservers && !seeded; i++) {
		uint64_t spent = time_mono_ns() - start;

		if (spent >= conf.deadline_ns) {
			log_warnx("deadline of %.1f s reached before %s",
			    (double)conf.deadline_ns / NSEC_PER_SEC,
			    conf.servers[i]);
			break;
		}
		left = conf.deadline_ns - spent;
		log_debug("asking %s (%.1f s of the deadline left)",
		    conf.servers[i], (double)left / NSEC_PER_SEC);
		rc = seed_fetch(&conf, conf.servers[i],
		    conf.token_file ? token : NULL,
		    left < conf.timeout_ns ? left : conf.timeout_ns, seed,
		    conf.bytes, &verified, why, sizeof(why));
		if (rc < 0) {
			log_warnx("%s: %s", conf.servers[i], why);
			continue;
		}
		if (dry_run) {
			log_info("dry run: %u bytes from %s (%s), not mixed",
			    conf.bytes, conf.servers[i],
			    verified ? "TLS verified" : "not verified");
			seeded = true;
		} else if (seed_mix(seed, conf.bytes, credit && verified, &how,
		               why, sizeof(why)) < 0) {
			log_warnx("mixing the seed: %s", why);
		} else {
			log_info("seeded %u bytes from %s: %s", conf.bytes,
			    conf.servers[i], how);
			if (why[0] != '\0')
				log_warnx("%s", why);
			seeded = true;
		}
		explicit_bzero(seed, sizeof(seed));
	}
	explicit_bzero(token, sizeof(token));
	curl_global_cleanup();
	seed_conf_free(&conf);
	if (seeded)
		return 0;
	log_warnx("no seed from any server%s",
	    strict ? "" : "; carrying on (--strict makes this exit 1)");
	return strict ? 1 : 0;
}
