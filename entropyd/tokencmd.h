/* SPDX-License-Identifier: ISC */
/*
 * entropyd token add|revoke|list: the tokens file managed, not
 * hand-edited. Each entry is written as
 *
 *	# NAME added 2026-12-04T15:31:11Z
 *	NAME:SHA256HEX
 *
 * The comment is only for "token list"; entropyd ignores it.
 */
#ifndef ENTROPYD_TOKENCMD_H
#define ENTROPYD_TOKENCMD_H

#include <stddef.h>

/*
 * The tokens file image old (len bytes) with an entry for name added at
 * the end (a newline first if old lacks one). Pure. Returns a malloc'ed
 * NUL-terminated text, or NULL out of memory.
 */
char *tokens_text_add(const char *old, size_t len, const char *name,
    const char *hash_hex, const char *added);

/*
 * old without name's entry line and the "# NAME added" comment just
 * above it. Pure. Returns a malloc'ed text (NULL out of memory) and
 * sets *found to whether name had an entry.
 */
char *tokens_text_revoke(
    const char *old, size_t len, const char *name, int *found);

/*
 * Copies into when the time of the "# NAME added TIME" comment for name
 * in old, or "unknown". Pure.
 */
void tokens_text_added(
    const char *old, size_t len, const char *name, char *when, size_t size);

/*
 * The token subcommand, argv[0] being "token". conf_path names the
 * configuration whose tokens_file is managed. Returns an exit status:
 * 0, 1 (the name exists or does not, a running entropyd not reloaded),
 * 2 (usage or configuration).
 */
int token_main(const char *conf_path, int argc, char **argv);

#endif
