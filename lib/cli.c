/* SPDX-License-Identifier: ISC */
/* cli.c: getopt_long with our own words for a bad command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* How much of what the user typed is quoted back. */
#define CLI_QUOTE_MAX 60

int
cli_start(struct cli *c, const char *shortopts, const struct option *longopts)
{
	const char *mode = "";
	int n;

	if (shortopts[0] == '+' || shortopts[0] == '-') {
		mode = shortopts[0] == '+' ? "+" : "-";
		shortopts++;
	}
	/* ':' after the mode: a missing value returns ':', not '?'. */
	n = snprintf(
	    c->shortopts, sizeof(c->shortopts), "%s:%s", mode, shortopts);
	if (n < 0 || (size_t)n >= sizeof(c->shortopts))
		return -EINVAL;
	c->longopts = longopts;
	c->why[0] = '\0';
	opterr = 0;
	optind = 0; /* glibc: start again, from argv[1] */
	return 0;
}

/* The long option text names by prefix, with val, or NULL. */
static const struct option *
cli_long_match(
    const struct option *longopts, const char *name, size_t len, int val)
{
	for (const struct option *o = longopts; o && o->name != NULL; o++)
		if (strncmp(o->name, name, len) == 0 && o->val == val &&
		    o->flag == NULL)
			return o;
	return NULL;
}

/* Lists the long options name abbreviates into out: "--config, --count". */
static void
cli_long_candidates(const struct option *longopts, const char *name, size_t len,
    char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (const struct option *o = longopts; o && o->name != NULL; o++) {
		int w;

		if (strncmp(o->name, name, len) != 0)
			continue;
		w = snprintf(out + used, size - used, "%s--%s",
		    used > 0 ? ", " : "", o->name);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

int
cli_next(struct cli *c, int argc, char **argv)
{
	const char *arg, *name;
	char names[80];
	size_t len;
	int ch;

	ch = getopt_long(argc, argv, c->shortopts, c->longopts, NULL);
	if (ch != '?' && ch != ':')
		return ch;

	/*
	 * A long option always moves optind past itself, so it is
	 * argv[optind - 1]; a short one may sit inside a group ("-jx")
	 * and is known only by optopt.
	 */
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	name = strncmp(arg, "--", 2) == 0 && arg[2] != '\0' ? arg + 2 : NULL;
	len = name != NULL ? strcspn(name, "=") : 0;
	if (name != NULL && optopt == 0) {
		cli_long_candidates(
		    c->longopts, name, len, names, sizeof(names));
		if (strchr(names, ',') != NULL)
			snprintf(c->why, sizeof(c->why),
			    "option '--%.*s' is ambiguous (%s)", (int)len, name,
			    names);
		else
			snprintf(c->why, sizeof(c->why),
			    "unknown option '--%.*s'",
			    (int)(len < CLI_QUOTE_MAX ? len : CLI_QUOTE_MAX),
			    name);
	} else if (name != NULL &&
	           cli_long_match(c->longopts, name, len, optopt) != NULL) {
		snprintf(c->why, sizeof(c->why),
		    ch == ':' ? "option '--%.*s' needs a value"
		              : "option '--%.*s' takes no value",
		    (int)len, name);
	} else if (ch == ':') {
		snprintf(c->why, sizeof(c->why), "option '-%c' needs a value",
		    optopt);
	} else if (optopt > 0x20 && optopt < 0x7f) {
		snprintf(
		    c->why, sizeof(c->why), "unknown option '-%c'", optopt);
	} else {
		snprintf(c->why, sizeof(c->why), "unknown option '%.*s'",
		    CLI_QUOTE_MAX, arg);
	}
	return '?';
}

bool
cli_too_many(struct cli *c, int argc, char **argv, int max)
{
	if (argc - optind <= max)
		return false;
	snprintf(c->why, sizeof(c->why), "extra operand '%.*s'", CLI_QUOTE_MAX,
	    argv[optind + max]);
	return true;
}
