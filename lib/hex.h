/* SPDX-License-Identifier: ISC */
/*
 * Lowercase hexadecimal, the form every hash, challenge and seed takes
 * on the wire and on disk here.
 */
#ifndef TK_HEX_H
#define TK_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* Writes n bytes as 2n lowercase digits, no NUL; returns out + 2n. */
char *hex_encode(char *out, const unsigned char *in, size_t n);

/* The value of digit c, or -1; A-F count only when upper is true. */
int hex_digit(char c, bool upper);

#endif
