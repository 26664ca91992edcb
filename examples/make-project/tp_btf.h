/* SPDX-License-Identifier: GPL-2.0 */
/* What tp_btf.bpf.c counts and tp_btf.c prints: the same struct on both sides. */
#ifndef MAKE_PROJECT_TP_BTF_H
#define MAKE_PROJECT_TP_BTF_H

struct fork_counts {
	unsigned long long by_main;    /* new processes forked by the main thread */
	unsigned long long threads;    /* new threads */
	unsigned long long by_threads; /* new processes forked by other threads */
};

#endif
