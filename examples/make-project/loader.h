/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the loaders share: how they report a kernel that will not run their
 * program. A kernel that refuses to load or attach it (EPERM: e.g. trampolines
 * locked down; ENOTSUPP/EOPNOTSUPP: not built in) is not a failure of the
 * program: the loader prints "skip: <reason>" and exits with 77, the status
 * test harnesses read as "skipped".
 */
#ifndef MAKE_PROJECT_LOADER_H
#define MAKE_PROJECT_LOADER_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define EXIT_SKIP 77
#define ENOTSUPP_KERNEL 524 /* the kernel's ENOTSUPP, not in <errno.h> */

/* The exit status for a failed step `what` of `prog`, with errno value err. */
static inline int refused(const char *prog, const char *what, int err)
{
	if (err < 0)
		err = -err;
	if (err == EPERM || err == EOPNOTSUPP || err == ENOTSUPP_KERNEL) {
		printf("skip: the kernel refused to %s: %s (errno %d)\n", what,
		       err == ENOTSUPP_KERNEL ? "not supported" : strerror(err), err);
		return EXIT_SKIP;
	}
	fprintf(stderr, "%s: cannot %s: %s\n", prog, what, strerror(err));
	return 1;
}

#endif
