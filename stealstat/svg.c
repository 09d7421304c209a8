/* SPDX-License-Identifier: ISC */
#include <errno.h>

#include "window.h"

int
window_svg(const struct window *w, const struct engine *e, const char *path,
    const char *title)
{
	(void)w;
	(void)e;
	(void)path;
	(void)title;
	return -ENOSYS;
}
