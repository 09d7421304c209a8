/* SPDX-License-Identifier: ISC */
/*
 * entropyd token: add, revoke and list the entries of the tokens file.
 *
 * Writers are serialized by flock(2) on the file's directory (the file
 * itself is replaced by rename, so a lock on it would be on a stale
 * inode), and each writes a whole new file atomically (lib/atomicfile),
 * with the old file's owner and mode: a reader, entropyd included,
 * sees the old file or the new one, never half of either, even when two
 * run at once. A running entropyd with the same configuration is then
 * sent SIGHUP.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cli.h"
#include "conf.h"
#include "hex.h"
#include "log.h"
#include "readfile.h"
#include "tokencmd.h"
#include "tokens.h"

#define TOKEN_BYTES 32
#define TOKENS_MAX_SIZE (16 << 20)
#define CMDLINE_MAX (2 << 20) /* ARG_MAX, as Linux sets it by default */

/* The next line of text at *pos: its start and length without '\n'. */
static bool
next_line(
    const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl != NULL);
	return true;
}

/* Is line (n bytes) the entry of name: "NAME:" after any blanks? */
static bool
is_entry_of(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	return n > k && memcmp(line, name, k) == 0 && line[k] == ':';
}

/* Is line "# NAME added ..."? Then *when points at the time. */
static bool
is_comment_of(const char *line, size_t n, const char *name, const char **when,
    size_t *when_len)
{
	size_t k = strlen(name);

	if (n < 2 + k + 7 || memcmp(line, "# ", 2) != 0 ||
	    memcmp(line + 2, name, k) != 0 ||
	    memcmp(line + 2 + k, " added ", 7) != 0)
		return false;
	*when = line + 2 + k + 7;
	*when_len = n - (2 + k + 7);
	return true;
}

char *
tokens_text_add(const char *old, size_t len, const char *name,
    const char *hash_hex, const char *added)
{
	size_t size =
	    len + strlen(name) * 2 + strlen(hash_hex) + strlen(added) + 32;
	char *out = malloc(size);
	int n;

	if (out == NULL)
		return NULL;
	memcpy(out, old, len);
	n = snprintf(out + len, size - len, "%s# %s added %s\n%s:%s\n",
	    len > 0 && old[len - 1] != '\n' ? "\n" : "", name, added, name,
	    hash_hex);
	if (n < 0 || (size_t)n >= size - len) {
		free(out);
		return NULL;
	}
	return out;
}

char *
tokens_text_revoke(const char *old, size_t len, const char *name, int *found)
{
	char *out = malloc(len + 1);
	size_t pos = 0, o = 0, n, prev_start = 0, wl;
	const char *line, *when;
	bool prev_is_comment = false;

	*found = 0;
	if (out == NULL)
		return NULL;
	while (next_line(old, len, &pos, &line, &n)) {
		size_t with_nl = (size_t)(old + pos - line);

		if (is_entry_of(line, n, name)) {
			*found = 1;
			if (prev_is_comment)
				o = prev_start; /* drop its comment too */
			prev_is_comment = false;
			continue;
		}
		prev_is_comment = is_comment_of(line, n, name, &when, &wl);
		prev_start = o;
		memcpy(out + o, line, with_nl);
		o += with_nl;
	}
	out[o] = '\0';
	return out;
}

void
tokens_text_added(
    const char *old, size_t len, const char *name, char *when, size_t size)
{
	size_t pos = 0, n, wl;
	const char *line, *w;

	snprintf(when, size, "unknown");
	while (next_line(old, len, &pos, &line, &n))
		if (is_comment_of(line, n, name, &w, &wl))
			snprintf(when, size, "%.*s", (int)wl, w);
}

/*
 * The configuration a process started as "entropyd ARGS" serves: its
 * -c/--config argument, or the default. args is its /proc cmdline, len
 * bytes of NUL-terminated arguments. NULL for "entropyd token ..." or
 * --check-config, which serve nothing.
 */
static const char *
served_conf(const char *args, size_t len)
{
	const char *cfg = "/etc/entropyd.conf";

	for (size_t i = 0; i < len; i += strlen(args + i) + 1) {
		const char *a = args + i, *next = NULL;

		if (i + strlen(a) + 1 < len)
			next = a + strlen(a) + 1;
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) &&
		    next != NULL)
			cfg = next;
		else if (strncmp(a, "--config=", 9) == 0)
			cfg = a + 9;
		else if (strncmp(a, "-c", 2) == 0 && a[2] != '\0')
			cfg = a + 2;
		else if (strcmp(a, "token") == 0 ||
		         strcmp(a, "--check-config") == 0)
			return NULL;
	}
	return cfg;
}

/*
 * Whether process pid is an entropyd serving the configuration whose
 * real path is want (its /proc entries read; false if they cannot be).
 */
static bool
serves(long pid, const char *want)
{
	char path[64], exe[PATH_MAX], dir[PATH_MAX], joined[PATH_MAX * 2],
	    have[PATH_MAX], *base, *args;
	const char *cfg;
	size_t alen;
	ssize_t n;
	bool yes;

	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return false;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base != NULL ? base + 1 : exe;
	if (strncmp(base, "entropyd", 8) != 0 ||
	    (base[8] != '\0' && base[8] != ' '))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if (read_file_max(path, CMDLINE_MAX, &args, &alen, NULL) < 0)
		return false;
	cfg = alen > 0 ? served_conf(args, alen) : NULL;
	/* A relative -c is relative to that process's directory. */
	if (cfg != NULL && cfg[0] != '/') {
		snprintf(path, sizeof(path), "/proc/%ld/cwd", pid);
		if ((n = readlink(path, dir, sizeof(dir) - 1)) > 0) {
			dir[n] = '\0';
			snprintf(joined, sizeof(joined), "%s/%s", dir, cfg);
			cfg = joined;
		} else
			cfg = NULL;
	}
	yes = cfg != NULL && realpath(cfg, have) != NULL &&
	      strcmp(have, want) == 0;
	free(args);
	return yes;
}

/*
 * Sends SIGHUP to every running entropyd whose configuration is
 * conf_path (its -c/--config argument, or the default), found in /proc.
 * Returns how many, or -errno.
 */
static int
reload_running(const char *conf_path)
{
	char want[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	if (realpath(conf_path, want) == NULL)
		return -errno;
	if ((d = opendir("/proc")) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    !serves(pid, want))
			continue;
		if (kill((pid_t)pid, SIGHUP) == 0) {
			log_info("told entropyd (pid %ld) to reload; it logs "
			         "what it could not read",
			    pid);
			count++;
		}
	}
	closedir(d);
	return count;
}

/*
 * Whether the user entropyd drops to can read tokens_file, by its mode
 * bits: a reload reads it as that user, with its own group only (the
 * daemon drops supplementary groups). Says why not.
 */
static bool
daemon_may_read(const struct entropyd_conf *conf)
{
	const struct passwd *pw = getpwnam(conf->user);
	struct stat st;
	bool may;

	if (pw == NULL || pw->pw_uid == 0 || stat(conf->tokens_file, &st) < 0)
		return true; /* entropyd itself says what is wrong */
	if (st.st_uid == pw->pw_uid)
		may = st.st_mode & S_IRUSR;
	else if (st.st_gid == pw->pw_gid)
		may = st.st_mode & S_IRGRP;
	else
		may = st.st_mode & S_IROTH;
	if (!may)
		log_errorx("tokens_file %s: entropyd runs as user %s, which "
		           "cannot read it (mode %04o, owner uid %ld gid %ld): "
		           "a reload keeps the old tokens; make it readable by "
		           "%s (the hashes are not secrets)",
		    conf->tokens_file, pw->pw_name,
		    (unsigned)(st.st_mode & 07777), (long)st.st_uid,
		    (long)st.st_gid, pw->pw_name);
	return may;
}

/* Holds an exclusive lock on the directory of path until closed. */
static int
lock_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Writes text over path atomically, keeping st's owner and mode. */
static int
replace_tokens(const char *path, const char *text, const struct stat *st)
{
	struct atomic_file af;
	mode_t mode = st != NULL ? st->st_mode & 07777 : 0644;
	int rc = atomic_file_open(&af, path, mode);

	if (rc < 0)
		return rc;
	if (st != NULL && geteuid() == 0 &&
	    fchown(af.fd, st->st_uid, st->st_gid) < 0) {
		rc = -errno;
		atomic_file_abort(&af);
		return rc;
	}
	if ((rc = atomic_file_write(&af, text, strlen(text))) < 0) {
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

static bool
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!token_name_char(name[i]))
			return false;
	return true;
}

static void
token_usage(FILE *f)
{
	fputs("usage: entropyd token add NAME [-c FILE]\n"
	      "       entropyd token revoke NAME [-c FILE]\n"
	      "       entropyd token list [-c FILE]\n"
	      "  add     make a token, print it once, add its hash to "
	      "tokens_file\n"
	      "  revoke  remove NAME's entry\n"
	      "  list    names and when they were added (never hashes)\n"
	      "A running entropyd with the same configuration is reloaded.\n",
	    f);
}

/* After a change: reload, and say so either way. */
static int
after_change(const char *conf_path)
{
	int n = reload_running(conf_path);

	if (n == 0)
		log_info("no running entropyd uses %s: the change applies "
		         "when it starts",
		    conf_path);
	else if (n < 0) {
		log_warnx("could not look for a running entropyd: %s; "
		          "reload it (systemctl reload entropyd)",
		    strerror(-n));
		return 1;
	}
	return 0;
}

int
token_main(const char *conf_path, int argc, char **argv)
{
	struct entropyd_conf conf;
	struct conf_error err;
	struct tokens parsed = {0};
	struct stat st;
	char *text = NULL, *fresh = NULL, why[128], when[64], hash_hex[65];
	unsigned char raw[TOKEN_BYTES], digest[32];
	char token[2 * TOKEN_BYTES + 1];
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    CLI_HELP_VERSION,
	    {NULL, 0, NULL, 0},
	};
	const char *verb, *name = NULL;
	struct cli cli;
	int c;
	unsigned bad_line = 0;
	size_t len = 0;
	int lock = -1, rc, status = 0, found = 0;
	bool exists;

	/* argv[0] is "token"; -c FILE may come after it too. */
	cli_start(&cli, "c:hV", opts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		switch (c) {
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			token_usage(stdout);
			return 0;
		case 'V':
			printf("entropyd %s\n", TK_VERSION);
			return 0;
		default:
			log_usage("token", "%s", cli.why);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		log_usage("token", "token needs add NAME, revoke NAME or list");
		return CLI_EXIT_USAGE;
	}
	verb = argv[optind];
	if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0 &&
	    strcmp(verb, "revoke") != 0) {
		log_usage("token", "unknown token command '%.80s'", verb);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(verb, "list") != 0 && optind + 1 >= argc) {
		log_usage("token", "token %s needs a NAME", verb);
		return CLI_EXIT_USAGE;
	}
	if (cli_too_many(&cli, argc, argv, strcmp(verb, "list") ? 2 : 1)) {
		log_usage("token", "%s", cli.why);
		return CLI_EXIT_USAGE;
	}
	name = strcmp(verb, "list") != 0 ? argv[optind + 1] : NULL;
	if (name != NULL && !name_ok(name)) {
		log_errorx("token: '%.80s' is not a name (1 to %d of A-Z a-z "
		           "0-9 _ . -)",
		    name, TOKEN_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	if (entropyd_conf_load(conf_path, &conf, &err) < 0) {
		log_errorx("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (conf.tokens_file == NULL) {
		log_errorx("%s: tokens_file is not set: set it (for example "
		           "tokens_file = /etc/entropyd/tokens) first",
		    conf_path);
		entropyd_conf_free(&conf);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(verb, "list") != 0 &&
	    (lock = lock_dir_of(conf.tokens_file)) < 0) {
		log_errorx("tokens_file %s: lock: %s", conf.tokens_file,
		    strerror(-lock));
		entropyd_conf_free(&conf);
		return 1;
	}
	rc = read_file_max(conf.tokens_file, TOKENS_MAX_SIZE, &text, &len, &st);
	exists = rc == 0;
	if (rc == -ENOENT && strcmp(verb, "add") == 0) {
		free(text);
		text = strdup("");
		len = 0;
		rc = text != NULL ? 0 : -ENOMEM;
	}
	if (rc < 0) {
		log_errorx(
		    "tokens_file %s: %s", conf.tokens_file, strerror(-rc));
		status = rc == -ENOENT ? CLI_EXIT_USAGE : 1;
		goto out;
	}
	if (tokens_parse(text, len, &parsed, &bad_line, why, sizeof(why)) < 0) {
		log_errorx("%s:%u: %s", conf.tokens_file, bad_line, why);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		for (size_t i = 0; i < parsed.count; i++) {
			tokens_text_added(text, len, parsed.entries[i].name,
			    when, sizeof(when));
			printf("%-24s %s\n", parsed.entries[i].name, when);
		}
		if (parsed.count == 0)
			log_info("no tokens in %s (add one with: entropyd "
			         "token add NAME)",
			    conf.tokens_file);
		goto out;
	}
	for (size_t i = 0; i < parsed.count; i++)
		if (strcmp(parsed.entries[i].name, name) == 0)
			found = 1;
	if (strcmp(verb, "add") == 0) {
		time_t now = time(NULL);
		struct tm tm;

		if (found) {
			log_errorx("token %s exists in %s: revoke it first to "
			           "replace it",
			    name, conf.tokens_file);
			status = 1;
			goto out;
		}
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			log_errorx("getrandom: %s", strerror(errno));
			status = 1;
			goto out;
		}
		*hex_encode(token, raw, sizeof(raw)) = '\0';
		explicit_bzero(raw, sizeof(raw));
		if (gnutls_hash_fast(
		        GNUTLS_DIG_SHA256, token, strlen(token), digest) < 0) {
			log_errorx("SHA-256 failed");
			status = 1;
			goto out;
		}
		*hex_encode(hash_hex, digest, sizeof(digest)) = '\0';
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fresh = tokens_text_add(text, len, name, hash_hex, when);
	} else {
		if (!found) {
			log_errorx(
			    "no token named %s in %s", name, conf.tokens_file);
			status = 1;
			goto out;
		}
		fresh = tokens_text_revoke(text, len, name, &found);
	}
	if (fresh == NULL) {
		log_errorx("out of memory");
		status = 1;
		goto out;
	}
	if ((rc = replace_tokens(
	         conf.tokens_file, fresh, exists ? &st : NULL)) < 0) {
		log_errorx(
		    "tokens_file %s: %s", conf.tokens_file, strerror(-rc));
		status = 1;
		goto out;
	}
	/* The lock is held until the file is in place, not during reload. */
	close(lock);
	lock = -1;
	if (strcmp(verb, "add") == 0) {
		printf("%s\n", token);
		fflush(stdout);
		log_info("token %s added to %s; the token above is shown "
		         "only once: put it in /etc/entropy-seed/token (mode "
		         "0600) on the instances",
		    name, conf.tokens_file);
	} else {
		log_info("token %s revoked from %s", name, conf.tokens_file);
	}
	status = after_change(conf_path);
	if (!daemon_may_read(&conf))
		status = 1;
out:
	explicit_bzero(token, sizeof(token));
	if (lock >= 0)
		close(lock);
	tokens_free(&parsed);
	free(text);
	free(fresh);
	entropyd_conf_free(&conf);
	return status;
}
