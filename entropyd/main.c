/* SPDX-License-Identifier: ISC */
/*
 * entropyd: hands each of the operator's own instances a one-time seed.
 *
 * Privileged work happens first and only once: bind the listeners, read
 * the TLS key (refused if others could read it), then drop to the
 * unprivileged user before a single request is accepted. Under systemd
 * it can instead start unprivileged, with the key from LoadCredential=.
 */
#include <errno.h>
#include <malloc.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "notify.h"
#include "seed.h"
#include "server.h"
#include "tokencmd.h"

#define DEFAULT_CONF "/etc/entropyd.conf"
static _Noreturn void
usage(void)
{
	fputs("usage: entropyd [-v] [-c FILE] [--check-config]\n"
	      "       entropyd [-c FILE] token add|revoke|list [NAME]\n"
	      "  -c, --config FILE  configuration (default " DEFAULT_CONF ")\n"
	      "      --check-config read everything, report, and exit\n"
	      "  -v, --verbose      more log output (every refusal)\n"
	      "  -h, --help, -V, --version\n",
	    stdout);
	exit(0);
}

/*
 * Drops to user for good: supplementary groups, group, user, in that
 * order, and checks that root cannot be regained.
 */
static void
drop_privileges(const struct passwd *pw)
{
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		fatal("dropping privileges to %s", pw->pw_name);
	if (pw->pw_uid != 0 && setuid(0) == 0)
		fatalx("could regain root after dropping privileges");
}

static bool
str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

static bool
listen_differs(const struct listen_addrs *a, const struct listen_addrs *b)
{
	return a->count != b->count ||
	       memcmp(a->addr, b->addr, a->count * sizeof(a->addr[0])) != 0;
}

/*
 * SIGHUP applies access rules and rates. Sockets, TLS files, the user
 * and the connection limits were set up once, with privileges: say which
 * of them changed and need a restart, rather than ignore them silently.
 * The client CA is one of them: libmicrohttpd loaded it at start.
 */
static void
warn_restart_keys(
    const struct entropyd_conf *run, const struct entropyd_conf *fresh)
{
	static const char *const names[] = {"listen", "plain_listen",
	    "admin_listen", "tls_cert", "tls_key", "client_ca", "user",
	    "max_connections", "max_per_ip", "timeout", "clients", "threads",
	    "ipv6_prefix"};
	bool changed[] = {
	    listen_differs(&run->listen, &fresh->listen),
	    listen_differs(&run->plain_listen, &fresh->plain_listen),
	    listen_differs(&run->admin_listen, &fresh->admin_listen),
	    str_differs(run->tls_cert, fresh->tls_cert),
	    str_differs(run->tls_key, fresh->tls_key),
	    str_differs(run->client_ca, fresh->client_ca),
	    str_differs(run->user, fresh->user),
	    run->max_connections != fresh->max_connections,
	    run->max_per_ip != fresh->max_per_ip,
	    run->timeout_ns != fresh->timeout_ns,
	    run->clients != fresh->clients,
	    run->threads != fresh->threads,
	    run->ipv6_prefix != fresh->ipv6_prefix,
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (changed[i])
			log_warnx("reload: %s changed: it takes effect at the "
			          "next restart",
			    names[i]);
}

static void
reload(struct server *s, const char *path, const struct entropyd_conf *run)
{
	struct entropyd_conf conf;
	struct conf_error err;
	struct policy policy;
	char why[300];
	int rc;

	notify_systemd("RELOADING=1");
	rc = entropyd_conf_load(path, &conf, &err);
	if (rc < 0) {
		log_warnx(
		    "reload: keeping the running configuration: %s", err.msg);
	} else if (policy_load(&conf, run->client_ca != NULL, &policy, why,
	               sizeof(why)) < 0) {
		log_warnx("reload: keeping the running configuration: %s", why);
		entropyd_conf_free(&conf);
	} else {
		if (conf.tokens_file != NULL && policy.tokens.count == 0)
			log_warnx("reload: tokens_file %s has no tokens left: "
			          "every client is refused",
			    conf.tokens_file);
		warn_restart_keys(run, &conf);
		server_reload(s, &conf, &policy);
		log_info("reloaded %s: access rules and rates", path);
		entropyd_conf_free(&conf);
	}
	notify_systemd("READY=1");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},
	    CLI_HELP_VERSION,
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONF;
	struct cli cli;
	struct entropyd_conf conf;
	struct conf_error err;
	struct server_files files;
	struct policy policy;
	struct server server;
	struct passwd *pw = NULL;
	int fds[3 * LISTEN_MAX + 1], c, sig;
	bool check_only = false;
	int status = 0;
	unsigned char probe;
	char why[300], listeners[3 * LISTEN_MAX * 80];
	sigset_t sigs;

	log_init("entropyd", LOG_LEVEL_INFO);
	/* One malloc arena for all threads: a seed server needs little
	 * memory, and per-thread arenas would multiply its peak. */
	mallopt(M_ARENA_MAX, 1);
	cli_start(&cli, "+c:vhV", opts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage();
		case 'V':
			printf("entropyd %s\n", TK_VERSION);
			return 0;
		default:
			log_usage(NULL, "%s", cli.why);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "token") == 0)
		return token_main(path, argc - optind, argv + optind);
	if (cli_too_many(&cli, argc, argv, 0)) {
		log_usage(NULL, "%s", cli.why);
		return CLI_EXIT_USAGE;
	}

	/* Every configuration error found here exits 2: the unit does not
	 * restart on it (RestartPreventExitStatus=2). */
	if (entropyd_conf_load(path, &conf, &err) < 0) {
		log_errorx("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	memset(&files, 0, sizeof(files));
	memset(&policy, 0, sizeof(policy));
	if (policy_load(
	        &conf, conf.client_ca != NULL, &policy, why, sizeof(why)) < 0 ||
	    server_files_load(&conf, &files, why, sizeof(why)) < 0) {
		log_errorx("%s", why);
		status = CLI_EXIT_USAGE;
	} else if (conf.tokens_file != NULL && policy.tokens.count == 0) {
		log_errorx("tokens_file %s: no tokens in it: every client "
		           "would be refused (add one with: entropyd token add "
		           "NAME)",
		    conf.tokens_file);
		status = CLI_EXIT_USAGE;
	} else if (geteuid() == 0 && (pw = getpwnam(conf.user)) != NULL &&
	           pw->pw_uid == 0) {
		log_errorx("%s: user: '%s' is root: name an unprivileged user",
		    path, conf.user);
		status = CLI_EXIT_USAGE;
	} else if (geteuid() == 0 && pw == NULL) {
		log_errorx("%s: user: no user '%s' to run as (create it, or "
		           "set user =)",
		    path, conf.user);
		status = CLI_EXIT_USAGE;
	} else if (check_only) {
		printf("%s: ok\n", path);
	}
	if (status != 0 || check_only) {
		server_files_free(&files);
		policy_free(&policy);
		entropyd_conf_free(&conf);
		return status;
	}
	if (policy_loopback_only(&policy))
		log_warnx("no access rule (allow, tokens_file, client_ca) is "
		          "configured: serving loopback clients only");

	/* Signals are taken by sigwait below, in this thread only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (server_bind(&conf, fds, why, sizeof(why)) < 0)
		fatalx("%s", why);
	/* Everything privileged is done: sockets bound, key in memory. */
	if (pw != NULL)
		drop_privileges(pw);
	if (server_init(&server, &conf, &policy) < 0)
		fatalx("out of memory");
	if (server_start(&server, &conf, &files, fds, why, sizeof(why)) < 0) {
		log_errorx("%s", why);
		return CLI_EXIT_USAGE;
	}
	server_files_free(&files);
	if (seed_random(&probe, 1) == -EAGAIN)
		log_warnx("the kernel RNG is not initialized yet: answering "
		          "503 until it is");
	else
		atomic_store(&server.rng_ready, true);
	server_describe(&conf, listeners, sizeof(listeners));
	log_info("serving seeds as %s on %s",
	    pw != NULL ? pw->pw_name : "the invoking user", listeners);
	notify_systemd("READY=1");

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&server, path, &conf);
			continue;
		}
		break;
	}
	notify_systemd("STOPPING=1");
	log_info("stopping");
	server_stop(&server);
	entropyd_conf_free(&conf);
	return 0;
}
