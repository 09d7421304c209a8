/* SPDX-License-Identifier: ISC */
/*
 * What the clones of an image would share: a check before capturing it.
 */
#ifndef ENTROPY_SEED_IMAGECHECK_H
#define ENTROPY_SEED_IMAGECHECK_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Inspects the tree at root ("/" for this machine) and prints each
 * finding, with why it matters, to out. With fix, removes each finding
 * and says so. Returns the number of findings (fixed or not), or -errno
 * if root cannot be read.
 */
int image_check(const char *root, bool fix, FILE *out);

#endif
