// SPDX-License-Identifier: GPL-2.0
/*
 * Loads the sys_enter raw tracepoint through its libbpf skeleton, follows this
 * process only while it makes a known number of system calls, and prints the
 * program's own counts:
 *
 *     sys_enter_loader [N_GETPPID [N_GETUID [N_GETGID]]]
 *
 * The process id is written to the program's .bss after attaching and cleared
 * before detaching, so exactly the calls of the loop are followed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys_enter.skel.h"

int main(int argc, char **argv)
{
	static const long calls[] = {SYS_getppid, SYS_getuid, SYS_getgid};
	long times[3] = {3, 2, 1};
	struct sys_enter *skel;
	int i, n;

	for (i = 0; i < 3 && i + 1 < argc; i++)
		times[i] = atol(argv[i + 1]);

	skel = sys_enter__open_and_load();
	if (!skel) {
		fprintf(stderr, "sys_enter_loader: cannot load: %s\n", strerror(errno));
		return 1;
	}
	if (sys_enter__attach(skel)) {
		fprintf(stderr, "sys_enter_loader: cannot attach: %s\n", strerror(errno));
		sys_enter__destroy(skel);
		return 1;
	}
	for (i = 0; i < 3; i++)
		skel->bss->watched[i] = calls[i];
	__atomic_store_n(&skel->bss->target_pid, (unsigned)getpid(), __ATOMIC_SEQ_CST);
	for (i = 0; i < 3; i++)
		for (n = 0; n < times[i]; n++)
			syscall(calls[i]);
	__atomic_store_n(&skel->bss->target_pid, 0, __ATOMIC_SEQ_CST);

	printf("getppid %llu getuid %llu getgid %llu other %llu\n",
	       skel->bss->counts[0], skel->bss->counts[1], skel->bss->counts[2],
	       skel->bss->counts[3]);
	sys_enter__destroy(skel);
	return 0;
}
