/* SPDX-License-Identifier: ISC */
/*
 * Checking a fetched body before it may replace a good copy.
 */
#ifndef FEEDCACHE_VALIDATE_H
#define FEEDCACHE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Checks body against kind (enum validate_kind). Returns 0, or -EINVAL
 * with a short reason in why ("not well-formed XML: line 3: ...").
 * body may be NULL when !validate_reads_body(kind): only len counts.
 */
int validate_body(
    int kind, const char *body, size_t len, char *why, size_t why_size);

/* Whether kind looks inside the body (else only at its length). */
bool validate_reads_body(int kind);

/* Sets up the parsers once per process (libxml2's globals). */
void validate_init(void);

#endif
