/* SPDX-License-Identifier: ISC */
/*
 * The command line every tenantkit program speaks: a thin layer over
 * getopt_long that reports a bad option in our words instead of getopt's.
 *
 * getopt's own messages are turned off (they name argv[0], a full path
 * when run as /usr/bin/feedcache). A bad option, a missing value, a value
 * given to a flag, an ambiguous abbreviation and an extra operand are
 * described in cli.why, naming what the user typed; the program logs it
 * with log_usage() (lib/log), which adds the pointer to --help, and exits
 * CLI_EXIT_USAGE. Nothing here prints or exits.
 *
 * Global options before or after a subcommand: the program parses the
 * global table with a "+" short-option string (stop at the subcommand),
 * then the subcommand's arguments with a table that holds the
 * subcommand's options and the global ones again (CLI_HELP_VERSION and
 * the program's own), so that "feedcache status -c FILE" and
 * "feedcache -c FILE status" mean the same.
 *
 *	struct cli c;
 *	int ch;
 *
 *	cli_start(&c, "+c:vhV", opts);
 *	while ((ch = cli_next(&c, argc, argv)) != -1) {
 *		switch (ch) {
 *		...
 *		case '?':
 *			usage_error(NULL, "%s", c.why);
 *		}
 *	}
 */
#ifndef TK_CLI_H
#define TK_CLI_H

#include <getopt.h>
#include <stdbool.h>

/* Exit status for a bad command line or a bad configuration file. */
#define CLI_EXIT_USAGE 2

/* The two long options every program and subcommand takes. */
#define CLI_HELP_VERSION                                                       \
	{"help", no_argument, NULL, 'h'},                                      \
	{                                                                      \
		"version", no_argument, NULL, 'V'                              \
	}

struct cli {
	char shortopts[96]; /* ":" (and "+") then the caller's string */
	const struct option *longopts;
	char why[160]; /* after '?': "unknown option '--bogus'" */
};

/*
 * Starts a scan of argv from argv[1] (getopt is reset, so argv may be a
 * subcommand's slice whose argv[0] is the subcommand's name). shortopts
 * is getopt's string; a leading '+' stops at the first operand, as for
 * the global options before a subcommand. Returns 0, or -EINVAL when
 * shortopts is too long.
 */
int cli_start(
    struct cli *c, const char *shortopts, const struct option *longopts);

/*
 * Like getopt_long: the next option's value (optarg set for an option
 * that takes one), -1 at the first operand (with "+") or at the end. A
 * bad option returns '?' with c->why naming it as typed: "unknown option
 * '-x'", "option '--config' needs a value", "option '--json' takes no
 * value", "option '--co' is ambiguous (--config, --count)".
 */
int cli_next(struct cli *c, int argc, char **argv);

/*
 * After the options: true when argv[optind..argc) holds more than max
 * operands, with c->why naming the first extra one: "extra operand
 * 'foo'".
 */
bool cli_too_many(struct cli *c, int argc, char **argv, int max);

#endif
